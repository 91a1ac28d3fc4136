// Package serving is the HTTP server of the serving bundles `gopherlab
// export` generates: it loads a fitted pipeline saved by the training job
// (refusing a file whose SHA-256 differs from its manifest) and serves
// predictions over KServe's Open Inference Protocol (v2) and a simple JSON
// /predict with named features, with Prometheus metrics, a bounded cache
// of recent results, a request body limit and graceful shutdown. The
// exporter copies this package into each bundle's module.
package serving

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

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
	index   map[string]int
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
	for i, c := range m.schema {
		m.index[c.Name] = i
	}
	return m, nil
}

// Columns returns the model's input columns.
func (m *Model) Columns() []experiments.SchemaColumn { return m.schema }

// Result is the prediction for one row.
type Result struct {
	Value float64
	Label string    // the target level, when the target was categorical
	Proba []float64 // class probabilities, for classifiers (Classes order)
}

// batch is a table of input rows, column by column in schema order.
type batch struct {
	n    int
	nums [][]float64 // numeric columns (nil for categorical)
	strs [][]string  // categorical columns (nil for numeric)
}

func (m *Model) newBatch(n int) *batch {
	b := &batch{n: n, nums: make([][]float64, len(m.schema)), strs: make([][]string, len(m.schema))}
	for i, c := range m.schema {
		if c.Kind == experiments.Numeric {
			b.nums[i] = make([]float64, n)
		} else {
			b.strs[i] = make([]string, n)
		}
	}
	return b
}

// key is the cache key of row r: the column values, exactly.
func (b *batch) key(r int) string {
	var s strings.Builder
	for i := range b.nums {
		if b.nums[i] != nil {
			s.WriteString(strconv.FormatUint(math.Float64bits(b.nums[i][r]), 16))
			s.WriteByte(',')
		} else {
			v := b.strs[i][r]
			s.WriteString(strconv.Itoa(len(v)))
			s.WriteByte(':')
			s.WriteString(v)
		}
	}
	return s.String()
}

// rows returns a batch of the given rows of b.
func (b *batch) rows(idx []int) *batch {
	out := &batch{n: len(idx), nums: make([][]float64, len(b.nums)), strs: make([][]string, len(b.strs))}
	for i := range b.nums {
		if b.nums[i] != nil {
			col := make([]float64, len(idx))
			for k, r := range idx {
				col[k] = b.nums[i][r]
			}
			out.nums[i] = col
		} else {
			col := make([]string, len(idx))
			for k, r := range idx {
				col[k] = b.strs[i][r]
			}
			out.strs[i] = col
		}
	}
	return out
}

// predict runs the pipeline on a batch.
func (m *Model) predict(b *batch) ([]Result, error) {
	names := make([]string, len(m.schema))
	cols := make([]any, len(m.schema))
	for i, c := range m.schema {
		names[i] = c.Name
		if b.nums[i] != nil {
			cols[i] = b.nums[i]
		} else {
			cols[i] = b.strs[i]
		}
	}
	ds, err := experiments.FromColumns(names, cols...)
	if err != nil {
		return nil, err
	}
	pred, err := m.Pipeline.PredictDataset(ds)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(pred))
	for i, v := range pred {
		out[i].Value = v
		if k := int(v); m.levels != nil && float64(k) == v && k >= 0 && k < len(m.levels) {
			out[i].Label = m.levels[k]
		}
	}
	if m.proba {
		pr, err := m.Pipeline.PredictProbaDataset(ds)
		if err != nil {
			return nil, err
		}
		_, c := pr.Dims()
		for i := range out {
			out[i].Proba = append([]float64(nil), pr.RawRowView(i)[:c]...)
		}
	}
	return out, nil
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
