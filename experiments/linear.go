package experiments

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// ftol is scipy's default relative function tolerance for L-BFGS-B.
const ftol = 2.220446049250313e-09

// linearState is the fitted state of the linear regressors.
type linearState struct {
	Coef      []float64
	Intercept float64
}

// LinearRegression is ordinary least squares: y ≈ X·Coef + Intercept.
// It solves the normal equations by Cholesky (falling back to a
// minimum-norm eigen solution when X is rank deficient).
type LinearRegression struct {
	NoIntercept bool // fit without an intercept term
	Workers     int  // goroutines; 0 uses every core

	st linearState
}

func (m *LinearRegression) state() any { return &m.st }

// Fit learns the coefficients.
func (m *LinearRegression) Fit(X *mat.Dense, y []float64) error { return trackFit(m, X, y, m.fitRaw) }

func (m *LinearRegression) fitRaw(X *mat.Dense, y []float64) error {
	coef, b, err := fitLinear("fit linear regression", X, y, 0, !m.NoIntercept, m.Workers)
	if err != nil {
		return err
	}
	m.st = linearState{Coef: coef, Intercept: b}
	return nil
}

// Predict returns X·Coef + Intercept.
func (m *LinearRegression) Predict(X *mat.Dense) (pred []float64, err error) {
	defer func() {
		if err == nil {
			notePredict(m, X, pred) // for metrics computed on it (autolog)
		}
	}()
	return predictLinear("predict linear regression", X, m.st)
}

// Coef returns the fitted coefficients, one per column.
func (m *LinearRegression) Coef() []float64 { return slices.Clone(m.st.Coef) }

// Intercept returns the fitted intercept.
func (m *LinearRegression) Intercept() float64 { return m.st.Intercept }

// Ridge is least squares with an L2 penalty Alpha·‖Coef‖² (the intercept
// is not penalized). Alpha 0 means scikit-learn's default 1.0; for no
// penalty use LinearRegression.
type Ridge struct {
	Alpha       float64 // L2 penalty strength; 0 means 1, as in scikit-learn's Ridge
	NoIntercept bool    // fit without an intercept term
	Workers     int     // goroutines; 0 uses every core

	st linearState
}

func (m *Ridge) state() any { return &m.st }

// Fit learns the coefficients.
func (m *Ridge) Fit(X *mat.Dense, y []float64) error { return trackFit(m, X, y, m.fitRaw) }

func (m *Ridge) fitRaw(X *mat.Dense, y []float64) error {
	alpha := m.Alpha
	if alpha == 0 {
		alpha = 1
	}
	if alpha < 0 {
		return fmt.Errorf("experiments: fit ridge: Alpha %v must not be negative", m.Alpha)
	}
	coef, b, err := fitLinear("fit ridge", X, y, alpha, !m.NoIntercept, m.Workers)
	if err != nil {
		return err
	}
	m.st = linearState{Coef: coef, Intercept: b}
	return nil
}

// Predict returns X·Coef + Intercept.
func (m *Ridge) Predict(X *mat.Dense) (pred []float64, err error) {
	defer func() {
		if err == nil {
			notePredict(m, X, pred) // for metrics computed on it (autolog)
		}
	}()
	return predictLinear("predict ridge", X, m.st)
}

// Coef returns the fitted coefficients.
func (m *Ridge) Coef() []float64 { return slices.Clone(m.st.Coef) }

// Intercept returns the fitted intercept.
func (m *Ridge) Intercept() float64 { return m.st.Intercept }

func predictLinear(op string, X *mat.Dense, st linearState) ([]float64, error) {
	if err := checkPredict(op, X, len(st.Coef)); err != nil {
		return nil, err
	}
	r, _ := X.Dims()
	out := make([]float64, r)
	for i := range out {
		out[i] = floats.Dot(X.RawRowView(i), st.Coef) + st.Intercept
	}
	return out, nil
}

// fixedChunks splits [0,n) into ranges of size rows (the last shorter).
// Parallel sums over fixed ranges, added in range order, give the same
// result on any number of workers; ranges sized by the worker count would
// not.
func fixedChunks(n, size int) [][2]int { return chunks(n, (n+size-1)/size, size) }

// logisticChunkRows is the rows per partial loss and gradient.
const logisticChunkRows = 256

// gramChunkRows is the number of rows of one partial Gram matrix. It is
// fixed, not derived from the worker count, so the partial sums (added
// in chunk order) and hence the coefficients are the same on any number
// of cores.
const gramChunkRows = 4096

// fitLinear solves (XcᵀXc + αI)·w = Xcᵀyc on centered data (when
// intercept). One pass over X builds the Gram matrix of [X−s, y−t, 1]
// (s, t: means of the first rows, a shift that keeps the centering
// correction below from cancelling), which holds XᵀX, Xᵀy and the column
// sums at once; non-finite input shows up there and is then located by
// checkFit.
func fitLinear(op string, X *mat.Dense, y []float64, alpha float64, intercept bool, nw int) ([]float64, float64, error) {
	if err := checkXY(op, X, y); err != nil {
		return nil, 0, err
	}
	n, p := X.Dims()
	xs := make([]float64, p)
	var ys float64
	if intercept {
		m := min(n, 256)
		for i := 0; i < m; i++ {
			floats.Add(xs, X.RawRowView(i))
			ys += y[i]
		}
		floats.Scale(1/float64(m), xs)
		ys /= float64(m)
	}
	d := p + 2 // features, target, ones
	strips := (d + kernMR - 1) / kernMR
	// Strip s (rows 4s..4s+3 of the Gram matrix) needs columns 4s..d-1:
	// panels starting at column 4s, the buffer padded to hold the widest.
	panels := func(s int) int { return (d - s*kernMR + kernNR - 1) / kernNR }
	wd := 0
	for st := 0; st < strips; st++ {
		wd = max(wd, st*kernMR+panels(st)*kernNR)
	}
	parts := fixedChunks(n, gramChunkRows)
	grams := make([][]float64, len(parts))
	err := parallel(len(parts), nw, func(c int) error {
		gram := make([]float64, strips*kernMR*wd)
		const block = 128
		buf := make([]float64, block*wd)
		for lo := parts[c][0]; lo < parts[c][1]; lo += block {
			hi := min(lo+block, parts[c][1])
			for i := lo; i < hi; i++ {
				row := buf[(i-lo)*wd : (i-lo+1)*wd]
				floats.SubTo(row[:p], X.RawRowView(i), xs)
				row[p] = y[i] - ys
				row[p+1] = 1
			}
			// Upper triangle by strips of kernMR rows, from the diagonal.
			for st := 0; st < strips; st++ {
				c0 := st * kernMR
				kernStrip(hi-lo, buf[c0:], wd, buf[c0:], wd, kernNR, panels(st), gram[c0*wd+c0:], wd, true)
			}
		}
		grams[c] = gram
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	G := grams[0]
	for c := 1; c < len(parts); c++ {
		floats.Add(G, grams[c])
	}
	at := func(i, j int) float64 { return G[min(i, j)*wd+max(i, j)] }
	for j := 0; j < d; j++ {
		if v := at(j, j); math.IsNaN(v) || math.IsInf(v, 0) {
			if err := checkFit(op, X, y); err != nil {
				return nil, 0, err
			}
			return nil, 0, fmt.Errorf("experiments: %s: values too large (sums of squares overflow)", op)
		}
	}
	// Centered (or raw, without intercept) normal equations.
	nf := float64(n)
	mx := make([]float64, p) // mean of X − s
	var my float64
	if intercept {
		for j := range mx {
			mx[j] = at(j, p+1) / nf
		}
		my = at(p, p+1) / nf
	}
	gram := make([]float64, p*p)
	xty := make([]float64, p)
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			gram[i*p+j] = at(i, j) - nf*mx[i]*mx[j]
		}
		xty[i] = at(i, p) - nf*mx[i]*my
	}
	xm := make([]float64, p)
	floats.AddTo(xm, xs, mx)
	ym := ys + my
	for j := 0; j < p; j++ {
		gram[j*p+j] += alpha
	}
	A := mat.NewSymDense(p, gram) // upper triangle is used
	b := mat.NewVecDense(p, xty)
	w := mat.NewVecDense(p, nil)
	var chol mat.Cholesky
	solved := false
	if chol.Factorize(A) {
		if err := chol.SolveVecTo(w, b); err == nil {
			solved = true
		}
	}
	if !solved {
		// Rank deficient: minimum-norm solution from the eigen
		// decomposition, dropping eigenvalues below p·ε·λmax (like lstsq).
		var eig mat.EigenSym
		if !eig.Factorize(A, true) {
			return nil, 0, fmt.Errorf("experiments: %s: eigen decomposition failed", op)
		}
		vals := eig.Values(nil)
		var V mat.Dense
		eig.VectorsTo(&V)
		tol := float64(p) * eps * slices.Max(vals)
		var vtb mat.VecDense
		vtb.MulVec(V.T(), b)
		for j, l := range vals {
			if l > tol {
				vtb.SetVec(j, vtb.AtVec(j)/l)
			} else {
				vtb.SetVec(j, 0)
			}
		}
		w.MulVec(&V, &vtb)
	}
	coef := make([]float64, p)
	copy(coef, w.RawVector().Data)
	intc := 0.0
	if intercept {
		intc = ym - floats.Dot(xm, coef)
	}
	return coef, intc, nil
}

// LogisticRegression is a linear classifier fitted by L-BFGS
// (gonum/optimize), minimizing C·Σ log-loss + ½‖w‖² as scikit-learn does
// (no penalty with Penalty "none"). Two classes use one weight vector;
// more use the multinomial (softmax) model.
type LogisticRegression struct {
	C           float64 // inverse regularization strength; 0 means 1
	MaxIter     int     // 0 means 100
	Tol         float64 // gradient tolerance; 0 means 1e-4
	Penalty     string  // "l2" (default) or "none"
	NoIntercept bool    // fit without an intercept term
	Workers     int     // goroutines; 0 uses every core

	st logisticState
	// history, when non-nil, receives the weights after each iteration
	// (for IterationCurve).
	history *[][]float64
}

// iterRecorder stops the optimizer when the cell running it is
// interrupted, and keeps a copy of the point after each major iteration
// when out is set.
type iterRecorder struct{ out *[][]float64 }

func (r iterRecorder) Init() error { return nil }
func (r iterRecorder) Record(loc *optimize.Location, op optimize.Operation, _ *optimize.Stats) error {
	if err := interrupted(); err != nil {
		return err
	}
	if op == optimize.MajorIteration && r.out != nil {
		*r.out = append(*r.out, slices.Clone(loc.X))
	}
	return nil
}

type logisticState struct {
	Classes   []float64
	NFeatures int
	Coef      []float64 // K×p row-major; K = 1 for two classes
	Intercept []float64 // K
	NIter     int
	Converged bool
}

func (m *LogisticRegression) state() any { return &m.st }

// Fit learns the weights.
func (m *LogisticRegression) Fit(X *mat.Dense, y []float64) error { return trackFit(m, X, y, m.fitRaw) }

func (m *LogisticRegression) fitRaw(X *mat.Dense, y []float64) error {
	const op = "fit logistic regression"
	// X is checked for NaN and infinities by the first evaluation below
	// (at w = 0 any such value makes the loss NaN), saving a pass.
	if err := checkXY(op, X, y); err != nil {
		return err
	}
	if err := checkLabels(op, "target", y); err != nil {
		return err
	}
	C, maxIter, tol := m.C, m.MaxIter, m.Tol
	if C == 0 {
		C = 1
	}
	if maxIter == 0 {
		maxIter = 100
	}
	if tol == 0 {
		tol = 1e-4
	}
	if C < 0 || maxIter < 0 || tol < 0 {
		return fmt.Errorf("experiments: %s: C, MaxIter and Tol must not be negative", op)
	}
	lambda := 1 / C
	switch m.Penalty {
	case "", "l2":
	case "none":
		lambda = 0
	default:
		return fmt.Errorf("experiments: %s: unknown Penalty %q (want l2 or none)", op, m.Penalty)
	}
	classes, yi := labelCodes(y)
	if len(classes) < 2 {
		return fmt.Errorf("experiments: %s: y has a single class %v; need at least 2", op, classes)
	}
	n, p := X.Dims()
	K := len(classes)
	if K == 2 {
		K = 1
	}
	obj := &logObjective{X: X, y: yi, n: n, p: p, K: K, lambda: lambda, intercept: !m.NoIntercept}
	obj.parts = fixedChunks(n, logisticChunkRows)
	obj.nw = m.Workers
	dim := K * (p + 1)
	x0 := make([]float64, dim)
	if obj.eval(x0); obj.err != nil {
		return obj.err
	}
	if math.IsNaN(obj.lastF) || math.IsInf(obj.lastF, 0) {
		if err := checkFit(op, X, y); err != nil {
			return err
		}
	}
	prob := optimize.Problem{Func: obj.fun, Grad: obj.grad}
	settings := &optimize.Settings{
		GradientThreshold: tol,
		MajorIterations:   maxIter,
		// scipy's L-BFGS-B default ftol, which scikit-learn keeps: stop
		// when an iteration improves the loss by less than 2.2e-9
		// relative.
		Converger: &optimize.FunctionConverge{Relative: ftol, Absolute: ftol, Iterations: 1},
		Recorder:  iterRecorder{m.history},
	}
	var res *optimize.Result
	err := safe(op, func() error {
		var err error
		res, err = optimize.Minimize(prob, x0, settings, &optimize.LBFGS{Store: 10})
		return err
	})
	if obj.err != nil {
		return obj.err
	}
	if res == nil {
		return fmt.Errorf("experiments: %s: %w", op, err)
	}
	// A line search that cannot improve further ends L-BFGS with an error
	// at (numerically) the optimum; scikit-learn accepts that point too.
	if err != nil && !errors.Is(err, optimize.ErrLinesearcherFailure) && !isNoProgress(err) {
		return fmt.Errorf("experiments: %s: %w", op, err)
	}
	m.st = unpackLogistic(res.X, classes, K, p)
	m.st.NIter = res.Stats.MajorIterations
	m.st.Converged = res.Status == optimize.GradientThreshold || res.Status == optimize.FunctionConvergence
	if res.Status == optimize.IterationLimit {
		advice := "scale the features (StandardScaler) or raise MaxIter"
		if looksScaled(X) {
			// Scaled already: a large C (weak regularization) needs more
			// iterations, as scikit-learn's lbfgs does.
			advice = "the features look scaled: raise MaxIter (a large C, weak regularization, takes more iterations)"
		}
		warn(fmt.Sprintf("logistic regression: L-BFGS stopped at MaxIter=%d before converging: %s (NIter tells, after each fit)", maxIter, advice))
	}
	return nil
}

// unpackLogistic turns the optimizer's vector (K rows of p weights and an
// intercept) into a fitted state.
func unpackLogistic(w, classes []float64, K, p int) logisticState {
	st := logisticState{Classes: classes, NFeatures: p, Coef: make([]float64, K*p), Intercept: make([]float64, K)}
	for k := 0; k < K; k++ {
		copy(st.Coef[k*p:(k+1)*p], w[k*(p+1):k*(p+1)+p])
		st.Intercept[k] = w[k*(p+1)+p]
	}
	return st
}

func isNoProgress(err error) bool {
	return errors.Is(err, optimize.ErrNoProgress) || strings.HasPrefix(err.Error(), "linesearch:")
}

// logObjective evaluates the penalized log-loss and its gradient, caching
// the last point because L-BFGS asks for both at the same x.
type logObjective struct {
	X         *mat.Dense
	y         []int
	n, p, K   int
	lambda    float64
	intercept bool
	parts     [][2]int
	nw        int
	lastX     []float64
	lastF     float64
	lastG     []float64
	err       error
	// Multinomial only (softmaxPrep): X in kernel panels, and padded
	// row-major to pw columns.
	xpack, xpad []float64
	pw          int
	// scratch holds each part's buffers from one evaluation to the next
	// (a fit evaluates the loss a hundred times or more; allocating them
	// afresh made a digits fit allocate 77 MB and collect it), and
	// gsum the summed gradient.
	scratch []chunkScratch
	gsum    []float64
}

// chunkScratch is one part's buffers: its gradient, and for the
// multinomial loss the packed weights, scores, derivatives and weight
// gradient.
type chunkScratch struct {
	g, wp, Z, D, Gc []float64
	a, e            []float64 // a block's rows' max score less each score, and its exponential
}

// buf returns b resized to n, reallocated only when it is too small.
// The caller overwrites or clears what it reads.
func buf[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

func (o *logObjective) fun(x []float64) float64 {
	o.eval(x)
	return o.lastF
}

func (o *logObjective) grad(g, x []float64) {
	o.eval(x)
	copy(g, o.lastG)
}

func (o *logObjective) eval(x []float64) {
	if o.lastX != nil && slices.Equal(o.lastX, x) {
		return
	}
	p, K := o.p, o.K
	dim := K * (p + 1)
	if K > 1 {
		if err := o.softmaxPrep(); err != nil {
			if o.err == nil {
				o.err = err
			}
			return
		}
	}
	losses := make([]float64, len(o.parts))
	if len(o.scratch) != len(o.parts) {
		o.scratch = make([]chunkScratch, len(o.parts))
	}
	done := make([]bool, len(o.parts))
	err := parallel(len(o.parts), o.nw, func(c int) error {
		s := &o.scratch[c]
		s.g = buf(s.g, dim)
		clear(s.g)
		lo, hi := o.parts[c][0], o.parts[c][1]
		if K == 1 {
			losses[c] = o.binaryChunk(x, s.g, lo, hi)
		} else {
			losses[c] = o.softmaxChunk(x, s, lo, hi)
		}
		done[c] = true
		return nil
	})
	if err != nil && o.err == nil {
		o.err = err
	}
	f := 0.0
	// lastG is handed out by copy only (grad), so its buffer is reused.
	g := buf(o.gsum, dim)
	clear(g)
	o.gsum = g
	for c := range o.parts {
		f += losses[c]
		if done[c] {
			floats.Add(g, o.scratch[c].g)
		}
	}
	for k := 0; k < K; k++ {
		w := x[k*(p+1) : k*(p+1)+p]
		f += 0.5 * o.lambda * floats.Dot(w, w)
		floats.AddScaled(g[k*(p+1):k*(p+1)+p], o.lambda, w)
		if !o.intercept {
			g[k*(p+1)+p] = 0
		}
	}
	o.lastX = append(o.lastX[:0], x...)
	o.lastF, o.lastG = f, g
}

func (o *logObjective) binaryChunk(x, g []float64, lo, hi int) float64 {
	p := o.p
	w, b := x[:p], x[p]
	gw := g[:p]
	raw := o.X.RawMatrix()
	var loss, gb float64
	// A block of rows at a time, while they are in cache: their scores,
	// eight rows per pass over w; the loss terms of all of them in one call
	// (their long chains of dependent operations overlap); then their
	// gradient terms, four rows per pass over gw. Sums run four rows at a
	// time in row order, whatever the block.
	const block = 64
	var z, sg, d, l [block]float64
	i := lo
	for ; i+4 <= hi; i += block {
		m := min(block, (hi-i)&^3)
		r := 0
		for ; r+8 <= m; r += 8 {
			dotRows8(raw.Data[(i+r)*raw.Stride:], raw.Stride, w, (*[8]float64)(z[r:r+8]))
		}
		if r < m {
			dotRows4(raw.Data[(i+r)*raw.Stride:], raw.Stride, w, (*[4]float64)(z[r:r+4]))
		}
		for r := 0; r < m; r++ {
			z[r] += b
			sg[r] = float64(1 - 2*o.y[i+r])
		}
		logTermsRows(z[:m], sg[:m], d[:m], l[:m])
		for r := 0; r < m; r += 4 {
			loss += ((l[r] + l[r+1]) + l[r+2]) + l[r+3]
			gb += ((d[r] + d[r+1]) + d[r+2]) + d[r+3]
			axpyRows4(raw.Data[(i+r)*raw.Stride:], raw.Stride, (*[4]float64)(d[r:r+4]), gw)
		}
		if m < block {
			i += m
			break
		}
	}
	for ; i < hi; i++ {
		row := o.X.RawRowView(i)
		l, dv := logisticTerm(floats.Dot(row, w)+b, float64(1-2*o.y[i]))
		loss += l
		gb += dv
		floats.AddScaled(gw, dv, row)
	}
	g[p] = gb
	return loss
}

// logisticTerm returns the log-loss of score z for a row with sign s (+1
// for class 0, -1 for class 1) and its derivative with respect to z.
// With t = s·z the loss is softplus(t) and the derivative s·σ(t); one exp
// serves both, and nothing branches on the data (see fastmath.go).
func logisticTerm(z, s float64) (loss, d float64) {
	t := s * z
	a := math.Abs(t)
	e := expNeg(a)
	inv := 1 / (1 + e)
	// σ(t) is 1/(1+e) for t ≥ 0 and e/(1+e) below: choose the numerator
	// by the sign bit.
	neg := uint64(int64(math.Float64bits(t)) >> 63)
	num := math.Float64frombits(math.Float64bits(1)&^neg | math.Float64bits(e)&neg)
	return (t+a)/2 + log1pUnit(e), s * num * inv
}

// softmaxPrep packs what the multinomial loss multiplies by, once per
// fit: the rows of X in kernel panels (for the scores, XWᵀ) and a
// row-major copy padded to whole panels of features (for the gradient,
// DᵀX).
func (o *logObjective) softmaxPrep() error {
	if o.xpack != nil {
		return nil
	}
	raw := o.X.RawMatrix()
	packed, _, err := packPanels(raw.Data, raw.Stride, o.n, o.p, o.nw)
	if err != nil {
		return err
	}
	pw := (o.p + kernNR - 1) / kernNR * kernNR
	pad := make([]float64, o.n*pw)
	for i := 0; i < o.n; i++ {
		copy(pad[i*pw:], o.X.RawRowView(i))
	}
	o.xpack, o.xpad, o.pw = packed, pad, pw
	return nil
}

// softmaxChunk adds the multinomial loss and gradient of rows [lo,hi),
// with the two products by the kernel: scores for whole panels of rows
// (16 at a time), then the gradient of the chunk's rows.
func (o *logObjective) softmaxChunk(x []float64, s *chunkScratch, lo, hi int) float64 {
	p, K, pw := o.p, o.K, o.pw
	g := s.g
	nr := kernNR
	ks := (K + kernMR - 1) / kernMR // strips of classes
	kp := ks * kernMR
	// W (K rows of p weights and an intercept) packed k-major by strips.
	s.wp = buf(s.wp, ks*p*kernMR)
	wp := s.wp
	packStrips(wp, K, p, func(c int) []float64 { return x[c*(p+1) : c*(p+1)+p] })
	const blockPanels = 16
	ldc := blockPanels * nr
	s.Z = buf(s.Z, kp*ldc)
	Z := s.Z
	// Per row, the derivative per class. Every row's first K are written
	// below; the padding classes' must read zero.
	s.D = buf(s.D, (hi-lo)*kp)
	D := s.D
	if kp > K {
		clear(D)
	}
	var loss float64
	for q0 := lo / nr; q0*nr < hi; q0 += blockPanels {
		np := min(blockPanels, (hi+nr-1)/nr-q0)
		for st := 0; st < ks; st++ {
			kernStrip(p, wp[st*p*kernMR:], kernMR, o.xpack[q0*p*nr:], nr, p*nr, np, Z[st*kernMR*ldc:], ldc, false)
		}
		r0, r1 := max(lo, q0*nr), min(hi, (q0+np)*nr)
		// Per row, a = max score - score ≥ 0 for each class; then the
		// exponentials of the whole block at once, four lanes at a time.
		na := ((r1-r0)*K + 3) &^ 3
		s.a, s.e = buf(s.a, na), buf(s.e, na)
		a, e := s.a[:na], s.e[:na]
		for r := r0; r < r1; r++ {
			j := r - q0*nr
			ar := a[(r-r0)*K : (r-r0+1)*K]
			mx := math.Inf(-1)
			for c := range ar {
				ar[c] = Z[c*ldc+j] + x[c*(p+1)+p]
				mx = max(mx, ar[c])
			}
			for c, v := range ar {
				ar[c] = mx - v
			}
		}
		clear(a[(r1-r0)*K:])
		expNegRows(a, e)
		for r := r0; r < r1; r++ {
			er := e[(r-r0)*K : (r-r0+1)*K]
			yk := o.y[r]
			var sum float64
			for _, v := range er {
				sum += v
			}
			// -log softmax of the label: log Σ e^(z-max) + (max - z_y).
			loss += math.Log(sum) + a[(r-r0)*K+yk]
			inv := 1 / sum
			d := D[(r-lo)*kp : (r-lo)*kp+K]
			for c, v := range er {
				dv := v * inv
				if c == yk {
					dv--
				}
				d[c] = dv
				g[c*(p+1)+p] += dv
			}
		}
	}
	// Gradient of the weights: DᵀX for the chunk's rows, by strips of
	// classes over the padded rows.
	s.Gc = buf(s.Gc, kp*pw)
	Gc := s.Gc
	for st := 0; st < ks; st++ {
		kernStrip(hi-lo, D[st*kernMR:], kp, o.xpad[lo*pw:], pw, nr, pw/nr, Gc[st*kernMR*pw:], pw, false)
	}
	for c := 0; c < K; c++ {
		floats.Add(g[c*(p+1):c*(p+1)+p], Gc[c*pw:c*pw+p])
	}
	return loss
}

func (m *LogisticRegression) scores(op string, X *mat.Dense) (*mat.Dense, error) {
	if err := checkPredict(op, X, m.st.NFeatures); err != nil {
		return nil, err
	}
	n, p := X.Dims()
	K := len(m.st.Intercept)
	out := mat.NewDense(n, K, nil)
	for i := 0; i < n; i++ {
		row := X.RawRowView(i)
		for k := 0; k < K; k++ {
			out.Set(i, k, floats.Dot(row, m.st.Coef[k*p:(k+1)*p])+m.st.Intercept[k])
		}
	}
	return out, nil
}

// DecisionFunction returns the linear scores: one column for two classes
// (positive means Classes()[1]), else one per class.
func (m *LogisticRegression) DecisionFunction(X *mat.Dense) (*mat.Dense, error) {
	return m.scores("logistic regression decision function", X)
}

// PredictProba returns the probability of each class (columns in
// Classes() order).
func (m *LogisticRegression) PredictProba(X *mat.Dense) (proba *mat.Dense, err error) {
	defer func() {
		if err == nil {
			notePredictProba(m, X, proba) // for metrics computed on it (autolog)
		}
	}()
	z, err := m.scores("predict logistic regression", X)
	if err != nil {
		return nil, err
	}
	n, K := z.Dims()
	if K == 1 {
		out := mat.NewDense(n, 2, nil)
		for i := 0; i < n; i++ {
			p1 := 1 / (1 + math.Exp(-z.At(i, 0)))
			out.Set(i, 0, 1-p1)
			out.Set(i, 1, p1)
		}
		return out, nil
	}
	for i := 0; i < n; i++ {
		softmaxInPlace(z.RawRowView(i))
	}
	return z, nil
}

func softmaxInPlace(z []float64) {
	mx := slices.Max(z)
	var s float64
	for k := range z {
		z[k] = math.Exp(z[k] - mx)
		s += z[k]
	}
	floats.Scale(1/s, z)
}

// Predict returns the most probable class of each row.
func (m *LogisticRegression) Predict(X *mat.Dense) (pred []float64, err error) {
	defer func() {
		if err == nil {
			notePredict(m, X, pred) // for metrics computed on it (autolog)
		}
	}()
	z, err := m.scores("predict logistic regression", X)
	if err != nil {
		return nil, err
	}
	return argmaxClasses(z, m.st.Classes), nil
}

// argmaxClasses maps each row of scores to a class: for one column, the
// sign picks classes[1] or classes[0].
func argmaxClasses(z *mat.Dense, classes []float64) []float64 {
	n, K := z.Dims()
	out := make([]float64, n)
	for i := 0; i < n; i++ {
		row := z.RawRowView(i)
		if K == 1 && len(classes) == 2 {
			if row[0] > 0 {
				out[i] = classes[1]
			} else {
				out[i] = classes[0]
			}
			continue
		}
		out[i] = classes[floats.MaxIdx(row)]
	}
	return out
}

// Classes returns the class labels, sorted.
func (m *LogisticRegression) Classes() []float64 { return slices.Clone(m.st.Classes) }

// Coef returns the weights: one row for two classes, else one per class.
func (m *LogisticRegression) Coef() *mat.Dense {
	if len(m.st.Intercept) == 0 {
		return &mat.Dense{}
	}
	return mat.NewDense(len(m.st.Intercept), m.st.NFeatures, slices.Clone(m.st.Coef))
}

// Intercept returns the intercepts (one, or one per class).
func (m *LogisticRegression) Intercept() []float64 { return slices.Clone(m.st.Intercept) }

// NIter returns the number of L-BFGS iterations the last Fit took, and
// whether it converged within MaxIter.
func (m *LogisticRegression) NIter() (int, bool) { return m.st.NIter, m.st.Converged }

// looksScaled reports whether every column of X has a mean within one
// standard deviation of 0 and a standard deviation between 0.1 and 10,
// as after StandardScaler (or MinMaxScaler on data without outliers).
func looksScaled(X *mat.Dense) bool {
	r, c := X.Dims()
	if r < 2 {
		return false
	}
	sum := make([]float64, c)
	sq := make([]float64, c)
	for i := 0; i < r; i++ {
		row := X.RawRowView(i)
		floats.Add(sum, row)
		for j, v := range row {
			sq[j] += v * v
		}
	}
	for j := range sum {
		mean := sum[j] / float64(r)
		sd := math.Sqrt(math.Max(sq[j]/float64(r)-mean*mean, 0))
		if sd < 0.1 || sd > 10 || math.Abs(mean) > sd {
			return false
		}
	}
	return true
}
