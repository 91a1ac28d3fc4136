package experiments

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"gonum.org/v1/gonum/mat"
)

// Tracker receives an event after each Fit of a model or Pipeline, each
// CrossValidate and each GridSearch started from outside this package
// (the fits CrossValidate and GridSearch make internally are part of
// their own event). Track is called synchronously, after the work is
// done, and its time adds to the caller's: a tracker that writes
// anything slow should take what it needs (ev.CopyData, the bytes
// ev.Save writes) and write in the background, and may start taking the
// data before the work by being a Preparer too. It must not keep ev.Data
// or ev.Estimator beyond the call: the first may be the caller's matrix,
// the second may be fitted again. The tracking package's Autologger is
// one; SetTracker installs it.
type Tracker interface {
	Track(ev *TrackEvent)
}

// A Preparer is a Tracker that is shown the data of a fit, a
// cross-validation or a grid search before the work starts, so that
// copying or comparing it, which a tracker keeping the data must do
// before the caller may change it, overlaps the work instead of adding
// to it. Prepare gets the event with Kind, Start, Name, Data, Columns and
// Levels set. The same event, completed, then goes to Track, whether the
// work succeeds, fails or panics (Err says so). Until then the data does
// not change: the work only reads its input, and the caller's goroutine
// runs nothing else. Prepare must return at once; the tracker reads the
// data in a goroutine of its own, and Track waits for that reading.
type Preparer interface {
	Tracker
	Prepare(ev *TrackEvent)
}

// Event kinds.
const (
	KindFit           = "fit"
	KindCrossValidate = "cross_validate"
	KindGridSearch    = "grid_search"
)

// TrackEvent describes one finished (or failed) fit, cross-validation or
// grid search.
type TrackEvent struct {
	Kind string // KindFit, KindCrossValidate, KindGridSearch or KindEvaluate
	// Estimator is the fitted model or *Pipeline (fit), the model that
	// was cross-validated (its unfitted template), or the best model
	// refitted on all the data (grid search; nil with NoRefit or on
	// error).
	Estimator any
	// Name names the estimator: "pipeline", "logisticregression", ...
	Name string
	// Params are the estimator's parameters (see EstimatorParams), with
	// the search or cross-validation settings under "cv.", "search.".
	Params map[string]any
	// Metrics are summary numbers: fit_time_s (the fit's own time, from
	// its start to its return, without making this event); mean_<metric>
	// and std_<metric> (cross-validation); best_<metric> (grid search).
	Metrics map[string]float64
	// Folds holds the test (and train_) scores of each fold, in order
	// (cross-validation).
	Folds []map[string]float64
	// Trials holds each grid-search candidate.
	Trials []TrackTrial
	// Confusion, for an evaluation by a label metric (accuracy,
	// precision, recall, F1), is the confusion matrix of the predictions
	// it was computed on, classes named by the estimator's target levels
	// when it has them.
	Confusion *Confusion
	// Data is the training data, features then the target column
	// (categorical columns as level codes, missing as NaN); Columns
	// names its columns. It is a view of the caller's data, valid
	// during Track only. Nil when the input was empty.
	Data mat.Matrix
	// Columns: the dataset's names for a dataset; for a matrix, "c0",
	// "c1"..., "y", or, for a matrix Dataset.XY returned (or SplitXY
	// split from one), the dataset's names (NamedMatrix). The list may
	// be shared with other events: read it, never change it.
	Columns []string
	// NamedMatrix says that Data is a matrix and its y, not a dataset,
	// though Columns are a dataset's names (see Columns): features then
	// target, categorical columns as the codes XY gave them.
	NamedMatrix bool
	// Levels[j] lists the levels of column j when it is categorical
	// (its codes in Data index this list, which includes levels no row
	// uses), nil for a numeric column. Levels is nil when every column
	// is numeric. The lists are the dataset's own: do not modify them.
	Levels [][]string
	// Seed is the random seed used, when HasSeed.
	Seed    int64
	HasSeed bool // the estimator (or a pipeline step) has a Seed field, or the folds were shuffled
	// Save, set after a successful fit or grid search, writes the fitted
	// estimator (the refitted best one for a grid search) as a pipeline
	// that Load reads; a bare model is saved as a one-step pipeline. It
	// writes the estimator as it was when the event was made, and may be
	// called after Track returns, from any goroutine, while the
	// estimator is fitted again: it holds a copy of the estimator's
	// parameters and shares the fitted state, which Fit replaces
	// instead of changing.
	Save func(w io.Writer) error
	// Err is the error the fit returned, if any.
	Err      error
	Start    time.Time     // when the work began
	Duration time.Duration // from Start until the event was sent
}

// CopyData copies Data, features then target, row-major, into dst
// (grown as needed; nil is fine) and returns it with its shape; the copy
// stays valid after Track returns. A tracker that keeps the data for
// later calls it during Track. It copies whole rows at a time, so it
// costs about what moving the memory does: a tenth of a millisecond for
// a megabyte.
func (ev *TrackEvent) CopyData(dst []float64) (rows, cols int, data []float64) {
	if ev.Data == nil {
		return 0, 0, dst[:0]
	}
	rows, cols = ev.Data.Dims()
	n := rows * cols
	if cap(dst) < n {
		dst = make([]float64, n)
	}
	dst = dst[:n]
	copyMatrix(dst, ev.Data)
	return rows, cols, dst
}

// copyMatrix copies m into dst, row-major.
func copyMatrix(dst []float64, m mat.Matrix) {
	r, c := m.Dims()
	switch v := m.(type) {
	case xyView:
		raw := v.X.RawMatrix()
		for i := 0; i < r; i++ {
			row := dst[i*c : (i+1)*c]
			copy(row, raw.Data[i*raw.Stride:i*raw.Stride+raw.Cols])
			row[c-1] = v.y[i]
		}
	case columnsView:
		v.rowMajor(dst, false)
	case *mat.Dense:
		raw := v.RawMatrix()
		for i := 0; i < r; i++ {
			copy(dst[i*c:(i+1)*c], raw.Data[i*raw.Stride:i*raw.Stride+raw.Cols])
		}
	default:
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				dst[i*c+j] = m.At(i, j)
			}
		}
	}
}

// DataEqual reports whether data holds exactly what CopyData would write
// into it, bit for bit: a tracker that keeps recent copies compares
// instead of copying again (reading memory, not writing it, and
// allocating nothing).
func (ev *TrackEvent) DataEqual(data []float64) bool {
	if ev.Data == nil {
		return len(data) == 0
	}
	r, c := ev.Data.Dims()
	if len(data) != r*c {
		return false
	}
	switch v := ev.Data.(type) {
	case xyView:
		raw := v.X.RawMatrix()
		for i := 0; i < r; i++ {
			row := data[i*c : (i+1)*c]
			if !sameBits(row[:c-1], raw.Data[i*raw.Stride:i*raw.Stride+raw.Cols]) || math.Float64bits(row[c-1]) != math.Float64bits(v.y[i]) {
				return false
			}
		}
		return true
	case *mat.Dense:
		raw := v.RawMatrix()
		for i := 0; i < r; i++ {
			if !sameBits(data[i*c:(i+1)*c], raw.Data[i*raw.Stride:i*raw.Stride+raw.Cols]) {
				return false
			}
		}
		return true
	case columnsView:
		return v.rowMajor(data, true)
	}
	// Other views element by element.
	at := ev.Data.At
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if math.Float64bits(data[i*c+j]) != math.Float64bits(at(i, j)) {
				return false
			}
		}
	}
	return true
}

// FrozenData returns Data read through headers of its own: the same
// memory, but no longer following the caller's later changes to its
// matrix's shape or backing array (SetRawMatrix, Reset, ReuseAs), only
// writes to that memory. A tracker that reads the memory after Track
// returns (to watch it for writes, as the tracking package's
// Autologger does) keeps this instead of Data, which it must not keep.
// Views of other kinds are returned as they are.
func (ev *TrackEvent) FrozenData() mat.Matrix {
	switch v := ev.Data.(type) {
	case xyView:
		r, _ := v.X.Dims()
		return xyView{frozenDense(v.X), v.y[:r:r]}
	case *mat.Dense:
		return frozenDense(v)
	case columnsView:
		cols := make([]*column, len(v.cols))
		for j, c := range v.cols {
			f := *c // the column's slice headers, as they are now
			cols[j] = &f
		}
		return columnsView{rows: v.rows, cols: cols}
	}
	return ev.Data
}

// frozenDense is a Dense with m's header, sharing its backing array.
func frozenDense(m *mat.Dense) *mat.Dense {
	var f mat.Dense
	f.SetRawMatrix(m.RawMatrix())
	return &f
}

// DataMemory returns the memory Data's values are read from, as byte
// views of it, or nil when Data is a view of another kind. Data's values
// are a function of this memory's contents and of the event's shape
// (Dims, Columns, Levels) alone, so a tracker that compared Data with a
// copy and knows that none of this memory was written since need not
// compare again. The views are of the caller's data: read them, never
// write them, and keep them no longer than the data itself.
func (ev *TrackEvent) DataMemory() [][]byte {
	if ev.Data == nil {
		return nil
	}
	r, _ := ev.Data.Dims()
	switch v := ev.Data.(type) {
	case xyView:
		return [][]byte{denseMemory(v.X), floatBytes(v.y[:r])}
	case *mat.Dense:
		return [][]byte{denseMemory(v)}
	case columnsView:
		mem := make([][]byte, len(v.cols))
		for j, col := range v.cols {
			if col.kind == Numeric {
				mem[j] = floatBytes(col.nums[:v.rows])
			} else {
				mem[j] = int32Bytes(col.codes[:v.rows])
			}
		}
		return mem
	}
	return nil
}

// DataMemoryOf returns the bytes DataMemory()[i] holds when Data's
// values are data (a row-major copy, as CopyData writes), or nil when
// they do not follow from the values alone (the gaps between the rows of
// a strided matrix). When the memory holds these bytes, Data's values
// are data: a tracker compares a small region with them instead of
// reading the values through Data.
func (ev *TrackEvent) DataMemoryOf(data []float64, i int) []byte {
	if ev.Data == nil || i < 0 {
		return nil
	}
	r, c := ev.Data.Dims()
	if len(data) != r*c {
		return nil
	}
	column := func(j int) []float64 {
		col := make([]float64, r)
		for k := range col {
			col[k] = data[k*c+j]
		}
		return col
	}
	switch v := ev.Data.(type) {
	case xyView:
		switch {
		case i == 1:
			return floatBytes(column(c - 1))
		case i == 0 && (r == 1 || v.X.RawMatrix().Stride == c-1):
			x := make([]float64, 0, r*(c-1))
			for k := 0; k < r; k++ {
				x = append(x, data[k*c:k*c+c-1]...)
			}
			return floatBytes(x)
		}
	case *mat.Dense:
		if i == 0 && (r == 1 || v.RawMatrix().Stride == c) {
			return floatBytes(slices.Clone(data))
		}
	case columnsView:
		if i >= len(v.cols) {
			return nil
		}
		col := column(i)
		if v.cols[i].kind == Numeric {
			return floatBytes(col)
		}
		codes := make([]int32, r)
		for k, x := range col {
			codes[k] = -1
			if x == x {
				codes[k] = int32(x)
			}
		}
		return int32Bytes(codes)
	}
	return nil
}

// denseMemory is the span of m's backing array that holds its elements.
func denseMemory(m *mat.Dense) []byte {
	raw := m.RawMatrix()
	if raw.Rows == 0 || raw.Cols == 0 {
		return nil
	}
	return floatBytes(raw.Data[:(raw.Rows-1)*raw.Stride+raw.Cols])
}

// sameBits reports whether a and b hold the same float64 bit patterns.
func sameBits(a, b []float64) bool {
	return len(a) == len(b) && bytes.Equal(floatBytes(a), floatBytes(b))
}

func floatBytes(v []float64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 8*len(v))
}

func int32Bytes(v []int32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
}

// TrackTrial is one grid-search candidate.
type TrackTrial struct {
	Params   map[string]any     // the candidate's grid values
	Metrics  map[string]float64 // mean_<metric>, std_<metric>, rank
	Scores   []float64          // per fold
	Duration time.Duration      // its fits and scoring, over every fold
}

var tracker atomic.Pointer[trackerBox]

// trackerBox lets an interface value sit in an atomic.Pointer.
type trackerBox struct{ t Tracker }

// SetTracker installs t as the tracker (nil turns tracking off) and
// returns the previous one. With no tracker, fits cost one atomic load
// more than without this hook.
func SetTracker(t Tracker) Tracker {
	var nb *trackerBox
	if t != nil {
		nb = &trackerBox{t}
	}
	old := tracker.Swap(nb)
	if old == nil {
		return nil
	}
	return old.t
}

// CurrentTracker returns the installed tracker, or nil.
func CurrentTracker() Tracker {
	if b := tracker.Load(); b != nil {
		return b.t
	}
	return nil
}

// emit hands ev to t; a panicking tracker must not break the caller's
// fit, so the panic is dropped.
func emit(t Tracker, ev *TrackEvent) {
	defer func() { _ = recover() }()
	ev.Duration = time.Since(ev.Start)
	if ev.Metrics == nil {
		ev.Metrics = map[string]float64{}
	}
	if _, ok := ev.Metrics["fit_time_s"]; !ok && ev.Kind == KindFit {
		ev.Metrics["fit_time_s"] = ev.Duration.Seconds()
	}
	if ev.Err == nil && (ev.Kind == KindFit || ev.Kind == KindGridSearch) {
		noteFitted(ev.Estimator) // its predictions' metrics are tracked
	}
	t.Track(ev)
}

// rawFitter is implemented by this package's models: fitRaw fits without
// emitting an event, for fits made inside a Pipeline, CrossValidate or
// GridSearch.
type rawFitter interface {
	fitRaw(X *mat.Dense, y []float64) error
}

// fitModel fits m without emitting an event when m is one of ours. A
// type of another package that embeds one of ours has fitRaw too, by
// promotion, but its own Fit must run.
func fitModel(m Model, X *mat.Dense, y []float64) error {
	if r, ok := m.(rawFitter); ok && ownType(m) {
		return r.fitRaw(X, y)
	}
	return m.Fit(X, y)
}

var pkgPath = reflect.TypeOf(Pipeline{}).PkgPath()

// ownType reports whether v's type (or the type it points to) is
// declared in this package.
func ownType(v any) bool {
	t := reflect.TypeOf(v)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && t.PkgPath() == pkgPath
}

// tracked is a piece of work being tracked: its event is made, with the
// data, before the work starts, so that a Preparer sees the data first.
type tracked struct {
	t    Tracker
	ev   *TrackEvent // &event
	sent bool
	work time.Duration // a fit's own time, without making its event
	// event is ev's storage: one allocation for both.
	event TrackEvent
}

// inTracked counts the tracked pieces of work in progress. A fit made
// while one runs is part of it and is not tracked on its own: a model of
// another package whose Fit calls one of ours, cross-validated, would
// otherwise log a run per fold. (A fit on another goroutine at the same
// time, unrelated, goes untracked too: cells run one at a time.)
var inTracked atomic.Int32

// errPanicked is the Err of the event of work that panicked.
var errPanicked = errors.New("experiments: the work panicked")

// startTracking makes the event of work of the given kind on data (nil:
// none) and shows it to t if t is a Preparer. The caller defers
// abandon and calls send when the work is done.
func startTracking(t Tracker, kind, name string, data cvData) *tracked {
	tr := &tracked{t: t, event: TrackEvent{Kind: kind, Name: name, Start: time.Now()}}
	tr.ev = &tr.event
	inTracked.Add(1)
	if md, ok := data.(matrixData); ok {
		tr.ev.Data, tr.ev.Columns, tr.ev.NamedMatrix = md.namedTable()
	} else if data != nil {
		tr.ev.Data, tr.ev.Columns, tr.ev.Levels = data.table()
	}
	if p, ok := t.(Preparer); ok && tr.ev.Data != nil {
		func() {
			defer func() { _ = recover() }()
			p.Prepare(tr.ev)
		}()
	}
	return tr
}

// send hands the completed event to the tracker.
func (tr *tracked) send() {
	if tr.sent {
		return
	}
	tr.sent = true
	inTracked.Add(-1)
	if tr.work > 0 && tr.ev.Kind == KindFit {
		if tr.ev.Metrics == nil {
			tr.ev.Metrics = make(map[string]float64, 1)
		}
		tr.ev.Metrics["fit_time_s"] = tr.work.Seconds()
	}
	emit(tr.t, tr.ev)
}

// abandon sends the event of work that panicked, as failed, so that a
// Preparer is not left holding what it took; the panic goes on.
func (tr *tracked) abandon() {
	if !tr.sent {
		tr.ev.Err = errPanicked
		tr.send()
	}
}

// trackFit runs fit and reports it to the tracker, if one is set.
func trackFit(m Model, X *mat.Dense, y []float64, fit func(*mat.Dense, []float64) error) error {
	t := CurrentTracker()
	if t == nil || inTracked.Load() > 0 {
		return fit(X, y)
	}
	tr := startTracking(t, KindFit, modelName(m), matrixData{X, y})
	defer tr.abandon()
	t0 := time.Now()
	err := fit(X, y)
	tr.work = time.Since(t0)
	ev := tr.ev
	ev.Estimator, ev.Err = m, err
	if err == nil && X != nil {
		_, c := X.Dims()
		ev.Save = saver(m, c)
	}
	ev.Params = EstimatorParams(m)
	ev.Seed, ev.HasSeed = seedOf(m)
	tr.send()
	return err
}

func trackFitDataset(p *Pipeline, ds *Dataset, target string) error {
	t := CurrentTracker()
	if t == nil || inTracked.Load() > 0 {
		return p.fitDatasetRaw(ds, target)
	}
	tr := startTracking(t, KindFit, modelName(p), datasetData{ds: ds, target: target})
	defer tr.abandon()
	t0 := time.Now()
	err := p.fitDatasetRaw(ds, target)
	tr.work = time.Since(t0)
	ev := tr.ev
	ev.Estimator, ev.Err = p, err
	if err == nil {
		ev.Save = saver(p, 0)
	}
	ev.Params = EstimatorParams(p)
	ev.Seed, ev.HasSeed = seedOf(p)
	tr.send()
	return err
}

// trackCV reports a cross-validation (tr is from startTracking).
func trackCV(tr *tracked, model Model, opts CVOptions, res *CVResult, err error) {
	ev := tr.ev
	ev.Estimator, ev.Err = model, err
	ev.Params = EstimatorParams(model)
	addCVParams(ev.Params, opts)
	ev.Seed, ev.HasSeed = seedOf(model)
	if opts.Shuffle && opts.Folds == nil {
		ev.Seed, ev.HasSeed = opts.Seed, true
	}
	if res != nil {
		ev.Metrics = map[string]float64{}
		for _, m := range res.Metrics {
			ev.Metrics["mean_"+m] = res.Mean(m)
			ev.Metrics["std_"+m] = res.Std(m)
		}
		ev.Folds = make([]map[string]float64, len(res.FitTime))
		for i := range ev.Folds {
			f := map[string]float64{"fit_time_s": res.FitTime[i], "score_time_s": res.ScoreTime[i]}
			for _, m := range res.Metrics {
				f[m] = res.Test[m][i]
				if res.Train != nil {
					f["train_"+m] = res.Train[m][i]
				}
			}
			ev.Folds[i] = f
		}
	}
	tr.send()
}

// gridName names a grid search's event.
func (g *GridSearch) gridName() string {
	if g.Model == nil {
		return "gridsearch"
	}
	return "gridsearch(" + modelName(g.Model) + ")"
}

// track reports a grid search (tr is from startTracking).
func (g *GridSearch) track(tr *tracked, data cvData, err error) {
	ev := tr.ev
	ev.Err = err
	ev.Params = map[string]any{}
	if g.Model != nil {
		ev.Params = EstimatorParams(g.Model)
		ev.Seed, ev.HasSeed = seedOf(g.Model)
	}
	addCVParams(ev.Params, g.CV)
	keys := make([]string, 0, len(g.Grid))
	for k := range g.Grid {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ev.Params["search.grid."+k] = fmt.Sprint(g.Grid[k])
		delete(ev.Params, k) // the swept value is the trials' business
	}
	ev.Params["search.metric"] = g.st.metric
	ev.Params["search.refit"] = !g.NoRefit
	if g.CV.Shuffle && g.CV.Folds == nil {
		ev.Seed, ev.HasSeed = g.CV.Seed, true
	}
	if err == nil && len(g.st.results) > 0 {
		ev.Estimator = g.st.model
		if g.st.model != nil {
			nc := 0
			if md, ok := data.(matrixData); ok && md.X != nil {
				_, nc = md.X.Dims()
			}
			ev.Save = saver(g.st.model, nc)
		}
		best := g.st.results[g.st.best]
		ev.Metrics = map[string]float64{"best_" + g.st.metric: best.Mean, "best_std_" + g.st.metric: best.Std}
		for k, v := range best.Params {
			ev.Params["best."+k] = v
		}
		for _, r := range g.st.results {
			// The event's own copies: the results' maps and slices are
			// the ones Results hands the caller.
			ev.Trials = append(ev.Trials, TrackTrial{
				Params:   maps.Clone(r.Params),
				Metrics:  map[string]float64{"mean_" + g.st.metric: r.Mean, "std_" + g.st.metric: r.Std, "rank": float64(r.Rank)},
				Scores:   slices.Clone(r.Scores),
				Duration: time.Duration(float64(len(r.Scores)) * (r.FitTime + r.ScoreTime) * float64(time.Second)),
			})
		}
	}
	tr.send()
}

// saver returns a function saving a fitted model (fitted on nFeatures
// matrix columns) as a pipeline, or nil if it cannot be saved. It saves
// a snapshot taken now (see TrackEvent.Save), so that encoding, the
// slow part, can happen after the fit has returned.
func saver(m any, nFeatures int) func(io.Writer) error {
	if p, ok := m.(*Pipeline); ok {
		cp := &Pipeline{Steps: make([]Step, len(p.Steps)), st: p.st}
		for i, s := range p.Steps {
			cp.Steps[i] = Step{Name: s.Name, Estimator: shallowCopy(s.Estimator)}
		}
		return cp.Save
	}
	if _, ok := m.(stateful); !ok {
		return nil
	}
	est := shallowCopy(m)
	return func(w io.Writer) error {
		// The pipeline around the snapshot is made when it is saved, not
		// in the fit that the snapshot is taken in.
		p := &Pipeline{Steps: []Step{{Name: modelName(est), Estimator: est}}, st: pipelineState{Fitted: true}}
		p.st.Schema = make([]SchemaColumn, nFeatures)
		for j := range p.st.Schema {
			p.st.Schema[j] = SchemaColumn{Name: "c" + strconv.Itoa(j), Kind: Numeric}
		}
		return p.Save(w)
	}
}

// shallowCopy copies the struct e points to: its parameters, and its
// fitted state's slices, which every Fit of this package replaces
// wholesale (m.st = newState) and never writes into, so the copy keeps
// this fit's state for good.
func shallowCopy(e any) any {
	v := reflect.ValueOf(e)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return e
	}
	c := reflect.New(v.Elem().Type())
	c.Elem().Set(v.Elem())
	return c.Interface()
}

func addCVParams(p map[string]any, o CVOptions) {
	switch {
	case o.Folds != nil:
		p["cv.folds"] = len(o.Folds)
	case o.K == 0:
		p["cv.k"] = 5
	default:
		p["cv.k"] = o.K
	}
	if o.Folds == nil {
		p["cv.shuffle"] = o.Shuffle
		if o.Shuffle {
			p["cv.seed"] = o.Seed
		}
	}
}

// EstimatorParams returns an estimator's parameters by reflection: every
// exported field of a number, bool or string type (slices of them are
// formatted with fmt), zero values (defaults) included. A Pipeline gives
// "steps" (the step names) and each step's fields as "step.Field".
func EstimatorParams(estimator any) map[string]any {
	out := make(map[string]any, 8)
	if p, ok := estimator.(*Pipeline); ok {
		names := p.stepNames()
		out["steps"] = "[" + strings.Join(names, " ") + "]" // fmt.Sprint's form, without its reflection
		for _, s := range p.Steps {
			structParams(out, s.Name+".", s.Estimator)
		}
		return out
	}
	structParams(out, "", estimator)
	return out
}

func structParams(out map[string]any, prefix string, estimator any) {
	if d, ok := estimator.(withDefaults); ok {
		estimator = d.withDefaults()
	}
	v := reflect.ValueOf(estimator)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	for _, f := range paramFieldsOf(v.Type()) {
		fv := v.Field(f.index)
		if f.list {
			out[prefix+f.name] = fmt.Sprint(fv.Interface())
		} else {
			out[prefix+f.name] = fv.Interface()
		}
	}
}

// paramField is an exported field EstimatorParams records: a number,
// bool or string, or a list of them (recorded as its fmt.Sprint form).
type paramField struct {
	index int
	name  string
	list  bool
}

// paramFields caches each estimator type's paramFields: a fit's event
// records its parameters, and looking a type's fields over again each
// time costs a small fit more than the rest of its event.
var paramFields sync.Map // reflect.Type → []paramField

func paramFieldsOf(t reflect.Type) []paramField {
	if fs, ok := paramFields.Load(t); ok {
		return fs.([]paramField)
	}
	var fs []paramField
	scalar := func(k reflect.Kind) bool {
		return k == reflect.Bool || k == reflect.String || (k >= reflect.Int && k <= reflect.Float64)
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		switch k := f.Type.Kind(); {
		case scalar(k):
			fs = append(fs, paramField{index: i, name: f.Name})
		case (k == reflect.Slice || k == reflect.Array) && scalar(f.Type.Elem().Kind()):
			fs = append(fs, paramField{index: i, name: f.Name, list: true})
		}
	}
	paramFields.Store(t, fs)
	return fs
}

// seedFields caches each estimator type's Seed field index (nil: none).
var seedFields sync.Map // reflect.Type → []int

// seedOf finds a Seed field in the estimator (the last one in a
// Pipeline's steps).
func seedOf(estimator any) (int64, bool) {
	if p, ok := estimator.(*Pipeline); ok {
		for i := len(p.Steps) - 1; i >= 0; i-- {
			if s, ok := seedOf(p.Steps[i].Estimator); ok {
				return s, true
			}
		}
		return 0, false
	}
	v := reflect.ValueOf(estimator)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return 0, false
	}
	idx, ok := seedFields.Load(v.Elem().Type())
	if !ok {
		sf, found := v.Elem().Type().FieldByName("Seed")
		if !found {
			sf.Index = nil
		}
		idx = sf.Index
		seedFields.Store(v.Elem().Type(), idx)
	}
	if idx.([]int) == nil {
		return 0, false
	}
	f := v.Elem().FieldByIndex(idx.([]int))
	switch {
	case f.CanInt():
		return f.Int(), true
	case f.CanUint():
		return int64(f.Uint()), true
	}
	return 0, false
}

// table returns X with y appended as column "y", as a view: a tracker
// that stores nothing costs no copy.
func (d matrixData) table() (mat.Matrix, []string, [][]string) {
	m, names, _ := d.namedTable()
	return m, names, nil
}

// namedTable is table, and whether the names are a dataset's (a matrix
// Dataset.XY made). The names are shared between events (tableNames):
// no tracker may change them.
func (d matrixData) namedTable() (_ mat.Matrix, _ []string, named bool) {
	if d.X == nil || d.X.IsEmpty() {
		return nil, nil, false
	}
	r, c := d.X.Dims()
	features, t := matrixNamesOf(d.X, d.y)
	if t == "" {
		t = "y"
	}
	names := tableNames(features, c, t)
	if len(d.y) != r {
		return d.X, names[:c:c], features != nil
	}
	return xyView{d.X, d.y}, names, features != nil
}

// tableNames returns the names of a matrix's c columns (features, or c0,
// c1, ... when nil) followed by the target's (made unique among them),
// from a cache: every tracked fit names its data, and the names of the
// matrices fitted lately are the same lists each time.
func tableNames(features []string, c int, target string) []string {
	key := tableNamesKey{c: c, target: target}
	if features != nil {
		key.first = unsafe.SliceData(features)
	}
	if v, ok := tableNamesCache.Load(key); ok {
		return v.([]string)
	}
	names := make([]string, c, c+1)
	if features != nil {
		copy(names, features)
	} else {
		for j := range names {
			names[j] = "c" + itoa(j)
		}
	}
	for slices.Contains(names, target) {
		target += "_"
	}
	names = append(names, target)
	if tableNamesLen.Add(1) > maxTableNames {
		// A session naming many matrices: start over.
		tableNamesCache.Clear()
		tableNamesLen.Store(1)
	}
	tableNamesCache.Store(key, names)
	return names
}

// tableNamesKey is a list of names: a dataset's features list (which
// nobody changes once XY has made it) and its length, or c0..c(c-1),
// and the target.
type tableNamesKey struct {
	first  *string
	c      int
	target string
}

var (
	tableNamesCache sync.Map // tableNamesKey → []string
	tableNamesLen   atomic.Int32
)

const maxTableNames = 64

// xyView is X with y as one more column.
type xyView struct {
	X *mat.Dense
	y []float64
}

func (v xyView) Dims() (int, int) { r, c := v.X.Dims(); return r, c + 1 }
func (v xyView) T() mat.Matrix    { return mat.Transpose{Matrix: v} }
func (v xyView) At(i, j int) float64 {
	if _, c := v.X.Dims(); j == c {
		if i < 0 || i >= len(v.y) {
			panic(mat.ErrRowAccess)
		}
		return v.y[i]
	}
	return v.X.At(i, j)
}

// table returns the dataset's columns, features then the target, with
// categorical columns as level codes, as a view, and the levels of its
// categorical columns.
func (d datasetData) table() (mat.Matrix, []string, [][]string) {
	ds := d.ds
	if ds == nil || ds.rows == 0 || len(ds.cols) == 0 {
		return nil, nil, nil
	}
	v := columnsView{rows: ds.rows, cols: make([]*column, 0, len(ds.cols))}
	var tcol *column
	for _, c := range ds.cols {
		if c.name == d.target {
			tcol = c
			continue
		}
		v.cols = append(v.cols, c)
	}
	if tcol != nil {
		v.cols = append(v.cols, tcol)
	}
	names := make([]string, len(v.cols))
	var levels [][]string
	for j, c := range v.cols {
		names[j] = c.name
		if c.kind == Categorical {
			if levels == nil {
				levels = make([][]string, len(v.cols))
			}
			levels[j] = c.levels
			if levels[j] == nil {
				levels[j] = []string{} // categorical, though no row has a value
			}
		}
	}
	return v, names, levels
}

// columnsView shows dataset columns as a matrix.
type columnsView struct {
	cols []*column
	rows int
}

func (v columnsView) Dims() (int, int) { return v.rows, len(v.cols) }
func (v columnsView) T() mat.Matrix    { return mat.Transpose{Matrix: v} }

// rowMajor writes the view into data, row-major, each value as At gives
// it but with a single bit pattern (math.NaN()) for a missing one, or,
// with compare, reports whether data holds those values already. It goes
// column by column, in a typed loop over the column's slice.
func (v columnsView) rowMajor(data []float64, compare bool) bool {
	c := len(v.cols)
	nan := math.NaN()
	for j, col := range v.cols {
		d := data[j:]
		var diff uint64 // the bits in which data differs, when comparing
		if col.kind == Numeric {
			for i, x := range col.nums[:v.rows] {
				if x != x {
					x = nan
				}
				if compare {
					diff |= math.Float64bits(d[i*c]) ^ math.Float64bits(x)
				} else {
					d[i*c] = x
				}
			}
		} else {
			for i, code := range col.codes[:v.rows] {
				x := nan
				if code >= 0 {
					x = float64(code)
				}
				if compare {
					diff |= math.Float64bits(d[i*c]) ^ math.Float64bits(x)
				} else {
					d[i*c] = x
				}
			}
		}
		if diff != 0 {
			return false
		}
	}
	return true
}

func (v columnsView) At(i, j int) float64 {
	if i < 0 || i >= v.rows {
		panic(mat.ErrRowAccess)
	}
	c := v.cols[j]
	switch {
	case c.missing(i):
		return math.NaN()
	case c.kind == Numeric:
		return c.nums[i]
	}
	return float64(c.codes[i])
}
