package experiments

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// eps is the float64 machine epsilon.
const eps = 2.220446049250313e-16

// checkTransform validates input for a fitted transformer.
func checkTransform(op string, X *mat.Dense, nFeatures int) error {
	if nFeatures == 0 {
		return fmt.Errorf("experiments: %s: not fitted (call Fit first)", op)
	}
	if X == nil || X.IsEmpty() {
		return fmt.Errorf("experiments: %s: X is empty", op)
	}
	if _, c := X.Dims(); c != nFeatures {
		return fmt.Errorf("experiments: %s: X has %d columns, fitted on %d", op, c, nFeatures)
	}
	return nil
}

// mapColumns returns a copy of X with f applied to every value of each
// column j.
func mapColumns(X *mat.Dense, f func(j int, v float64) float64) *mat.Dense {
	r, c := X.Dims()
	out := mat.NewDense(r, c, nil)
	raw := out.RawMatrix().Data
	forRows(r, c, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			src := X.RawRowView(i)
			dst := raw[i*c : (i+1)*c]
			for j, v := range src {
				dst[j] = f(j, v)
			}
		}
	})
	return out
}

// forRows runs f over ranges of r rows (of c columns each), in parallel
// when the matrix is large enough for it to pay.
func forRows(r, c int, f func(lo, hi int)) {
	parts := chunks(r, workers(0), max(1<<16/max(c, 1), 1))
	parallel(len(parts), 0, func(k int) error {
		f(parts[k][0], parts[k][1])
		return nil
	})
}

// SimpleImputer replaces missing values (NaN) with a per-column statistic
// learned in Fit: "mean" (default), "median", "most_frequent" or
// "constant" (FillValue).
type SimpleImputer struct {
	Strategy  string  // "mean", "median", "most_frequent" or "constant"; "" means "mean"
	FillValue float64 // for Strategy "constant"

	st imputerState
}

type imputerState struct{ Stats []float64 }

func (m *SimpleImputer) state() any { return &m.st }

// Fit learns the fill value of each column.
func (m *SimpleImputer) Fit(X *mat.Dense) error {
	if X == nil || X.IsEmpty() {
		return fmt.Errorf("experiments: fit simple imputer: X is empty")
	}
	switch m.Strategy {
	case "", "mean", "median", "most_frequent", "constant":
	default:
		return fmt.Errorf("experiments: fit simple imputer: unknown strategy %q (want mean, median, most_frequent or constant)", m.Strategy)
	}
	_, c := X.Dims()
	stats := make([]float64, c)
	col := make([]float64, X.RawMatrix().Rows)
	for j := range stats {
		if m.Strategy == "constant" {
			stats[j] = m.FillValue
			continue
		}
		mat.Col(col, j, X)
		v, ok := fillValue(col, m.Strategy)
		if !ok {
			return fmt.Errorf("experiments: fit simple imputer: column %q has no values (all NaN)", "c"+itoa(j))
		}
		stats[j] = v
	}
	m.st.Stats = stats
	return nil
}

// Transform returns a copy of X with NaN replaced.
func (m *SimpleImputer) Transform(X *mat.Dense) (*mat.Dense, error) {
	if err := checkTransform("simple imputer", X, len(m.st.Stats)); err != nil {
		return nil, err
	}
	s := m.st.Stats
	return mapColumns(X, func(j int, v float64) float64 {
		if math.IsNaN(v) {
			return s[j]
		}
		return v
	}), nil
}

// FitTransform fits and transforms X.
func (m *SimpleImputer) FitTransform(X *mat.Dense) (*mat.Dense, error) {
	if err := m.Fit(X); err != nil {
		return nil, err
	}
	return m.Transform(X)
}

// Statistics returns the learned fill value of each column.
func (m *SimpleImputer) Statistics() []float64 { return slices.Clone(m.st.Stats) }

// StandardScaler centers each column on its mean and scales it to unit
// variance (population standard deviation, as scikit-learn). A constant
// column, one whose variance is within the rounding error of computing
// it as scikit-learn judges, is only centered. NaN values are ignored in
// Fit and kept.
type StandardScaler struct {
	WithoutMean bool // do not center
	WithoutStd  bool // do not scale

	st scalerState
}

type scalerState struct{ Mean, Scale []float64 }

func (m *StandardScaler) state() any { return &m.st }

// Fit learns each column's mean and standard deviation.
func (m *StandardScaler) Fit(X *mat.Dense) error {
	if X == nil || X.IsEmpty() {
		return fmt.Errorf("experiments: fit standard scaler: X is empty")
	}
	r, c := X.Dims()
	// Each fixed range of rows (a cache's worth) gets its count, mean and
	// sum of squared deviations by the corrected two-pass algorithm, as
	// scikit-learn computes them, while it is in cache; the ranges are
	// then merged in range order (Chan, Golub and LeVeque), so X is read
	// from memory once and the result is the same on any number of
	// cores. A range is summed without looking for NaN; only when its sum
	// shows one are NaN skipped, value by value.
	parts := fixedChunks(r, max(1<<16/max(c, 1), 1))
	type partial struct{ n, sum, mean, m2 []float64 }
	ps := make([]partial, len(parts))
	parallel(len(parts), smallWork(r*c), func(k int) error {
		lo, hi := parts[k][0], parts[k][1]
		n, mean, m2 := make([]float64, c), make([]float64, c), make([]float64, c)
		for i := lo; i < hi; i++ {
			floats.Add(mean, X.RawRowView(i))
		}
		nan := floats.HasNaN(mean)
		if nan {
			clear(mean)
			for i := lo; i < hi; i++ {
				for j, v := range X.RawRowView(i) {
					if !math.IsNaN(v) {
						mean[j] += v
						n[j]++
					}
				}
			}
		} else {
			for j := range n {
				n[j] = float64(hi - lo)
			}
		}
		sum := slices.Clone(mean)
		for j := range mean {
			if n[j] > 0 {
				mean[j] /= n[j]
			}
		}
		dev := make([]float64, c)
		mean, dev, m2 = mean[:c], dev[:c], m2[:c]
		for i := lo; i < hi; i++ {
			row := X.RawRowView(i)[:c]
			if nan {
				for j, v := range row {
					if !math.IsNaN(v) {
						d := v - mean[j]
						dev[j] += d
						m2[j] += d * d
					}
				}
				continue
			}
			for j, v := range row {
				d := v - mean[j]
				dev[j] += d
				m2[j] += d * d
			}
		}
		for j := range m2 {
			if n[j] > 0 {
				m2[j] -= dev[j] * dev[j] / n[j]
			}
		}
		ps[k] = partial{n, sum, mean, m2}
		return nil
	})
	cnt, mean, m2 := make([]float64, c), make([]float64, c), make([]float64, c)
	for _, pt := range ps {
		for j := range mean {
			mean[j] += pt.sum[j]
			cnt[j] += pt.n[j]
		}
	}
	for j := range mean {
		if cnt[j] > 0 {
			mean[j] /= cnt[j]
		}
	}
	for _, pt := range ps {
		for j := range m2 {
			if pt.n[j] > 0 {
				d := pt.mean[j] - mean[j]
				m2[j] += pt.m2[j] + pt.n[j]*d*d
			}
		}
	}
	scale := make([]float64, c)
	for j := range scale {
		scale[j] = 1
		if cnt[j] > 0 && !m.WithoutStd {
			n := cnt[j]
			v := m2[j] / n
			// A variance within the rounding error of computing it is
			// that of a constant column (scikit-learn's
			// _is_constant_feature): scaling it would blow the noise up
			// to unit size.
			if bound := n*eps*v + (n*mean[j]*eps)*(n*mean[j]*eps); v > bound {
				scale[j] = math.Sqrt(v)
			}
		}
		if m.WithoutMean {
			mean[j] = 0
		}
	}
	m.st = scalerState{Mean: mean, Scale: scale}
	return nil
}

// Transform returns (X - mean) / std.
func (m *StandardScaler) Transform(X *mat.Dense) (*mat.Dense, error) {
	if err := checkTransform("standard scaler", X, len(m.st.Mean)); err != nil {
		return nil, err
	}
	mean, scale := m.st.Mean, m.st.Scale
	inv := make([]float64, len(scale))
	for j, s := range scale {
		inv[j] = 1 / s
	}
	r, c := X.Dims()
	out := mat.NewDense(r, c, nil)
	raw := out.RawMatrix().Data
	forRows(r, c, func(lo, hi int) {
		// Slices of one length the compiler can see: no bounds checks
		// in the loop.
		mean, inv := mean[:c], inv[:c]
		for i := lo; i < hi; i++ {
			dst, row := raw[i*c:][:c], X.RawRowView(i)[:c]
			for j := range dst {
				dst[j] = (row[j] - mean[j]) * inv[j]
			}
		}
	})
	return out, nil
}

// FitTransform fits and transforms X.
func (m *StandardScaler) FitTransform(X *mat.Dense) (*mat.Dense, error) {
	if err := m.Fit(X); err != nil {
		return nil, err
	}
	return m.Transform(X)
}

// Mean returns the learned column means.
func (m *StandardScaler) Mean() []float64 { return slices.Clone(m.st.Mean) }

// Scale returns the learned column standard deviations (1 for constant
// columns).
func (m *StandardScaler) Scale() []float64 { return slices.Clone(m.st.Scale) }

// MinMaxScaler scales each column linearly to [Min, Max], [0, 1] by
// default (Min and Max both zero). A column whose range is below ten
// machine epsilons is constant, as in scikit-learn: it is only shifted,
// its minimum to Min. NaN values are ignored in Fit and kept.
type MinMaxScaler struct {
	Min, Max float64 // the target range; both 0 means [0, 1], and Min must be below Max

	st minMaxState
}

type minMaxState struct{ DataMin, DataMax, Scale, Offset []float64 }

func (m *MinMaxScaler) state() any { return &m.st }

// Fit learns each column's range.
func (m *MinMaxScaler) Fit(X *mat.Dense) error {
	if X == nil || X.IsEmpty() {
		return fmt.Errorf("experiments: fit min-max scaler: X is empty")
	}
	lo, hi := m.Min, m.Max
	if lo == 0 && hi == 0 {
		hi = 1
	}
	if !(lo < hi) {
		return fmt.Errorf("experiments: fit min-max scaler: Min %v must be less than Max %v", m.Min, m.Max)
	}
	r, c := X.Dims()
	dmin, dmax := make([]float64, c), make([]float64, c)
	for j := range dmin {
		dmin[j], dmax[j] = math.Inf(1), math.Inf(-1)
	}
	for i := 0; i < r; i++ {
		for j, v := range X.RawRowView(i) {
			if !math.IsNaN(v) {
				dmin[j], dmax[j] = min(dmin[j], v), max(dmax[j], v)
			}
		}
	}
	scale, off := make([]float64, c), make([]float64, c)
	for j := range scale {
		if math.IsInf(dmin[j], 1) {
			return fmt.Errorf("experiments: fit min-max scaler: column %q has no values (all NaN)", "c"+itoa(j))
		}
		// As scikit-learn, a range within rounding error of zero is a
		// constant column's: dividing by it would turn noise into [0, 1].
		rng := dmax[j] - dmin[j]
		if rng < 10*eps {
			rng = 1
		}
		scale[j] = (hi - lo) / rng
		off[j] = lo // (v - DataMin)·Scale + lo maps DataMin exactly to lo
	}
	m.st = minMaxState{DataMin: dmin, DataMax: dmax, Scale: scale, Offset: off}
	return nil
}

// Transform returns X scaled to the range.
func (m *MinMaxScaler) Transform(X *mat.Dense) (*mat.Dense, error) {
	if err := checkTransform("min-max scaler", X, len(m.st.Scale)); err != nil {
		return nil, err
	}
	s, lo, dmin := m.st.Scale, m.st.Offset, m.st.DataMin
	return mapColumns(X, func(j int, v float64) float64 { return (v-dmin[j])*s[j] + lo[j] }), nil
}

// FitTransform fits and transforms X.
func (m *MinMaxScaler) FitTransform(X *mat.Dense) (*mat.Dense, error) {
	if err := m.Fit(X); err != nil {
		return nil, err
	}
	return m.Transform(X)
}

// OneHotEncoder replaces categorical dataset columns by one 0/1 column per
// level learned in Fit, named "column=level". Numeric columns pass through.
// A level not seen in Fit (or a missing value) encodes as all zeros, or is
// an error with ErrorOnUnknown.
type OneHotEncoder struct {
	// Columns lists the columns to encode; nil means every categorical
	// column.
	Columns []string
	// ErrorOnUnknown makes an unseen level an error at transform time.
	ErrorOnUnknown bool

	st oneHotState
}

type oneHotState struct {
	Fitted  bool
	Encoded []string   // encoded columns
	Levels  [][]string // their levels
}

func (m *OneHotEncoder) state() any { return &m.st }

// FitDataset learns the levels of the columns to encode.
func (m *OneHotEncoder) FitDataset(ds *Dataset) error {
	if ds == nil {
		return fmt.Errorf("experiments: fit one-hot encoder: nil dataset")
	}
	st := oneHotState{Fitted: true}
	names := m.Columns
	if names == nil {
		for _, c := range ds.cols {
			if c.kind == Categorical {
				names = append(names, c.name)
			}
		}
	}
	for _, n := range names {
		c, err := ds.col(n)
		if err != nil {
			return fmt.Errorf("experiments: fit one-hot encoder: %w", unwrapPrefix(err))
		}
		var levels []string
		if c.kind == Categorical {
			used := make([]bool, len(c.levels))
			for _, k := range c.codes {
				if k >= 0 {
					used[k] = true
				}
			}
			for l, u := range used {
				if u {
					levels = append(levels, c.levels[l])
				}
			}
		} else {
			// A numeric column named in Columns: its distinct values are
			// the levels.
			s, _ := ds.Strings(n)
			levels = categorical(n, s).levels
		}
		st.Encoded = append(st.Encoded, n)
		st.Levels = append(st.Levels, levels)
	}
	m.st = st
	return nil
}

// TransformDataset returns the dataset with the encoded columns replaced
// by their indicator columns, in place of the original column.
func (m *OneHotEncoder) TransformDataset(ds *Dataset) (*Dataset, error) {
	if !m.st.Fitted {
		return nil, fmt.Errorf("experiments: one-hot encoder: not fitted (call FitDataset first)")
	}
	if ds == nil {
		return nil, fmt.Errorf("experiments: one-hot encoder: nil dataset")
	}
	enc := map[string]int{}
	for i, n := range m.st.Encoded {
		if ds.index(n) < 0 {
			return nil, fmt.Errorf("experiments: one-hot encoder: column %q is missing", n)
		}
		enc[n] = i
	}
	out := &Dataset{rows: ds.rows}
	for _, c := range ds.cols {
		e, ok := enc[c.name]
		if !ok {
			out.cols = append(out.cols, c.clone())
			continue
		}
		levels := m.st.Levels[e]
		pos := make(map[string]int, len(levels))
		for l, s := range levels {
			pos[s] = l
		}
		var vals []string
		if c.kind == Numeric {
			vals, _ = ds.Strings(c.name)
		}
		// Map the column's own level codes to output columns once.
		var codeTo []int
		if c.kind == Categorical {
			codeTo = make([]int, len(c.levels))
			for k, s := range c.levels {
				if l, ok := pos[s]; ok {
					codeTo[k] = l
				} else {
					codeTo[k] = -1
				}
			}
		}
		ind := make([][]float64, len(levels))
		for l := range ind {
			ind[l] = make([]float64, ds.rows)
		}
		for i := 0; i < ds.rows; i++ {
			l := -1
			var unknown string
			if c.kind == Categorical {
				if k := c.codes[i]; k >= 0 {
					if l = codeTo[k]; l < 0 {
						unknown = c.levels[k]
					}
				}
			} else if vals[i] != "" {
				var ok bool
				if l, ok = pos[vals[i]]; !ok {
					l, unknown = -1, vals[i]
				}
			}
			if l < 0 && unknown != "" && m.ErrorOnUnknown {
				return nil, fmt.Errorf("experiments: one-hot encoder: column %q has level %q at row %d, not seen in fit (known: %v)", c.name, unknown, i, levels)
			}
			if l >= 0 {
				ind[l][i] = 1
			}
		}
		for l, s := range levels {
			out.cols = append(out.cols, &column{name: c.name + "=" + s, kind: Numeric, nums: ind[l]})
		}
	}
	return out, nil
}

// FitTransformDataset fits and transforms ds.
func (m *OneHotEncoder) FitTransformDataset(ds *Dataset) (*Dataset, error) {
	if err := m.FitDataset(ds); err != nil {
		return nil, err
	}
	return m.TransformDataset(ds)
}

// Categories returns the learned levels of each encoded column.
func (m *OneHotEncoder) Categories() map[string][]string {
	out := map[string][]string{}
	for i, n := range m.st.Encoded {
		out[n] = slices.Clone(m.st.Levels[i])
	}
	return out
}
