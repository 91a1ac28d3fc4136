// Package serving is the HTTP server of the serving bundles `gopherlab
// export` generates: it loads a fitted pipeline saved by the training job
// (refusing a file whose SHA-256 differs from its manifest) and serves
// predictions over KServe's Open Inference Protocol (v2) and a simple JSON
// /predict with named features, with Prometheus metrics, a bounded cache
// of recent results, a request body limit and graceful shutdown. It reads
// categorical values as experiments.ReadCSV read the training data (see
// levelNorm), so that it predicts as the notebook does; a prediction that
// is not finite gets 422. The exporter copies this package into each
// bundle's module.
package serving

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/export/jobrt"
)

// Model is a loaded, verified model.
type Model struct {
	Manifest jobrt.ModelManifest
	Pipeline *experiments.Pipeline
	Name     string
	Version  string // the first 12 hex digits of the model file's SHA-256

	schema  []experiments.SchemaColumn
	classes []float64
	levels  []string
	proba   bool // the final step is a classifier
	numeric bool // every input column is numeric
	index   map[string]int
	// takesMissing[c] is true when the pipeline was seen to accept a
	// missing value (null) in column c; needsValue (nil when no column
	// was seen to refuse one) is true for the columns it refuses, so a
	// request's null there is answered before the pipeline is run.
	takesMissing []bool
	needsValue   []bool
	// norms[c] reads categorical column c's values as the notebook read
	// its training data (see levelNorm); nil for the other columns.
	norms []*levelNorm
}

// Load reads dir/model.json, checks the SHA-256 of the model file it
// names, and loads the pipeline.
func Load(dir string) (*Model, error) {
	b, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		return nil, fmt.Errorf("serving: model manifest: %w (run the training job first: it writes model.gob and model.json)", err)
	}
	var mm jobrt.ModelManifest
	if err := json.Unmarshal(b, &mm); err != nil {
		return nil, fmt.Errorf("serving: model manifest %s: %w", filepath.Join(dir, "model.json"), err)
	}
	if mm.Format != jobrt.ModelFormat {
		return nil, fmt.Errorf("serving: model manifest format %q, want %q", mm.Format, jobrt.ModelFormat)
	}
	if mm.File == "" || strings.Contains(mm.File, "..") || filepath.IsAbs(mm.File) {
		return nil, fmt.Errorf("serving: model manifest names file %q: want a file beside it", mm.File)
	}
	path := filepath.Join(dir, mm.File)
	sum, _, err := jobrt.FileSHA256(path)
	if err != nil {
		return nil, fmt.Errorf("serving: model: %w", err)
	}
	if sum != mm.SHA256 {
		return nil, fmt.Errorf("serving: refusing model %s: its SHA-256 is %s, the manifest says %s (the file changed after the job wrote it)", path, sum, mm.SHA256)
	}
	p, err := experiments.LoadFile(path)
	if err != nil {
		return nil, fmt.Errorf("serving: %w", err)
	}
	m := &Model{Manifest: mm, Pipeline: p, Name: mm.Name, Version: sum[:12], schema: p.Schema(),
		classes: p.Classes(), levels: p.TargetLevels(), index: map[string]int{}}
	m.proba = m.classes != nil
	m.numeric = true
	for i, c := range m.schema {
		m.index[c.Name] = i
		if c.Kind != experiments.Numeric {
			m.numeric = false
		}
	}
	m.norms = levelNorms(p, m.schema)
	m.probeMissing()
	return m, nil
}

// probeMissing finds which columns take a missing value by asking the
// pipeline: the model file does not say, and whether a NaN gets through
// depends on every step (an imputer fills it in, a scaler keeps it, a
// model refuses it). A row of plain values (0, and "" for categorical
// columns: a one-hot encoder takes it as all zeros) with one column
// missing at a time answers for that column; a pipeline that refuses the
// plain row leaves every column unknown: no null is suggested, none is
// refused before the pipeline sees it.
func (m *Model) probeMissing() {
	f := len(m.schema)
	m.takesMissing = make([]bool, f)
	var b batch
	var res results
	row := func(missing int) error {
		b.reset(m, 1) // clears the strings, not the numbers
		for c, sc := range m.schema {
			b.nums[c] = 0
			if sc.Kind == experiments.Numeric && (missing < 0 || c == missing) {
				b.nums[c] = math.NaN()
			}
		}
		return m.predict(&b, &res)
	}
	if row(-1) == nil { // every column missing at once: an imputer
		for c := range m.takesMissing {
			m.takesMissing[c] = true
		}
		return
	}
	if row(f) != nil {
		return
	}
	needs := make([]bool, f)
	for c := range m.schema {
		m.takesMissing[c] = row(c) == nil
		needs[c] = !m.takesMissing[c]
	}
	if slices.Contains(needs, true) {
		m.needsValue = needs
	}
}

// needs reports whether column c was seen to refuse a missing value.
func (m *Model) needs(c int) bool { return m.needsValue != nil && m.needsValue[c] }

// Columns returns the model's input columns.
func (m *Model) Columns() []experiments.SchemaColumn { return m.schema }

// Result is the prediction for one row.
type Result struct {
	Value float64
	Label string    // the target level, when the target was categorical
	Proba []float64 // class probabilities, for classifiers (Classes order)
}

// batch is a table of input rows, row-major in schema order: nums holds
// the numeric columns' values, strs (nil when every column is numeric)
// the categorical ones'. A batch is reused from request to request.
type batch struct {
	n, f int
	nums []float64 // n×f
	strs []string  // n×f, or nil
}

// reset makes b a batch of n rows for m, reusing its memory.
func (b *batch) reset(m *Model, n int) {
	b.n, b.f = n, len(m.schema)
	b.nums = grow(b.nums, n*b.f)
	if m.numeric {
		b.strs = nil
		return
	}
	if cap(b.strs) < n*b.f || b.strs == nil {
		b.strs = make([]string, n*b.f, max(n*b.f, b.f))
	}
	b.strs = b.strs[:n*b.f]
	clear(b.strs)
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// addRow adds a row to b (zeros, and empty strings) and returns its
// index.
func (b *batch) addRow() int {
	r := b.n
	b.n++
	b.nums = slices.Grow(b.nums, b.f)[:b.n*b.f]
	clear(b.nums[r*b.f:])
	if b.strs != nil {
		b.strs = slices.Grow(b.strs, b.f)[:b.n*b.f]
		clear(b.strs[r*b.f:])
	}
	return r
}

// key appends the cache key of row r (the column values, exactly) to dst.
func (b *batch) key(dst []byte, m *Model, r int) []byte {
	for c := 0; c < b.f; c++ {
		if m.schema[c].Kind == experiments.Numeric {
			dst = strconv.AppendUint(dst, math.Float64bits(b.nums[r*b.f+c]), 16)
			dst = append(dst, ',')
		} else {
			v := b.strs[r*b.f+c]
			dst = strconv.AppendInt(dst, int64(len(v)), 10)
			dst = append(dst, ':')
			dst = append(dst, v...)
		}
	}
	return dst
}

// rows copies the given rows of b into out.
func (b *batch) rows(m *Model, idx []int, out *batch) {
	out.reset(m, len(idx))
	for k, r := range idx {
		copy(out.nums[k*b.f:(k+1)*b.f], b.nums[r*b.f:(r+1)*b.f])
		if len(b.strs) > 0 {
			copy(out.strs[k*b.f:(k+1)*b.f], b.strs[r*b.f:(r+1)*b.f])
		}
	}
}

// results are the predictions of a batch: values, and for classifiers
// the class probabilities, row-major (n×k). They are reused.
type results struct {
	n      int
	values []float64
	proba  []float64
}

// nonFinite describes the first NaN or infinity of res: the row (from
// 0), the value and what it is ("prediction", or "probability of class
// C"); ok is false when every value is finite.
func (res *results) nonFinite(classes []string) (row int, v float64, what string, ok bool) {
	for r, v := range res.values[:res.n] {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return r, v, "prediction", true
		}
	}
	if k := len(classes); k > 0 {
		for i, v := range res.proba[:res.n*k] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return i / k, v, "probability of class " + classes[i%k], true
			}
		}
	}
	return 0, 0, "", false
}

func (res *results) reset(m *Model, n int) {
	res.n = n
	res.values = grow(res.values, n)
	res.proba = grow(res.proba, n*len(m.classes))
}

// label returns the index of the target level a prediction stands for;
// false when the target was numeric.
func (m *Model) label(v float64) (int, bool) {
	if k := int(v); m.levels != nil && float64(k) == v && k >= 0 && k < len(m.levels) {
		return k, true
	}
	return 0, false
}

// predict runs the pipeline on a batch, writing into res. A batch of
// numeric columns goes to the pipeline as a matrix over the batch's own
// memory; categorical columns need a dataset.
func (m *Model) predict(b *batch, res *results) error {
	res.reset(m, b.n)
	var pred []float64
	var pr *mat.Dense
	var err error
	if m.numeric {
		X := mat.NewDense(b.n, b.f, b.nums)
		if pred, err = m.Pipeline.Predict(X); err != nil {
			return err
		}
		if m.proba {
			if pr, err = m.Pipeline.PredictProba(X); err != nil {
				return err
			}
		}
	} else {
		names := make([]string, b.f)
		cols := make([]any, b.f)
		for c, sc := range m.schema {
			names[c] = sc.Name
			if sc.Kind == experiments.Numeric {
				col := make([]float64, b.n)
				for r := range col {
					col[r] = b.nums[r*b.f+c]
				}
				cols[c] = col
			} else {
				col := make([]string, b.n)
				for r := range col {
					col[r] = m.norms[c].level(b.strs[r*b.f+c])
				}
				cols[c] = col
			}
		}
		ds, err := experiments.FromColumns(names, cols...)
		if err != nil {
			return err
		}
		if pred, err = m.Pipeline.PredictDataset(ds); err != nil {
			return err
		}
		if m.proba {
			if pr, err = m.Pipeline.PredictProbaDataset(ds); err != nil {
				return err
			}
		}
	}
	if len(pred) != b.n {
		return fmt.Errorf("serving: the model predicted %d rows of %d", len(pred), b.n)
	}
	copy(res.values, pred)
	if pr != nil {
		k := len(m.classes)
		if r, c := pr.Dims(); r != b.n || c != k {
			return fmt.Errorf("serving: the model's probabilities are %d×%d, want %d×%d", r, c, b.n, k)
		}
		for i := 0; i < b.n; i++ {
			copy(res.proba[i*k:(i+1)*k], pr.RawRowView(i))
		}
	}
	return nil
}

// classNames are the names of the classes in probability order: target
// levels when the target was categorical, else the class values.
func (m *Model) classNames() []string {
	out := make([]string, len(m.classes))
	for i, c := range m.classes {
		if k := int(c); m.levels != nil && float64(k) == c && k >= 0 && k < len(m.levels) {
			out[i] = m.levels[k]
		} else {
			out[i] = strconv.FormatFloat(c, 'g', -1, 64)
		}
	}
	return out
}
