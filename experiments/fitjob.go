package experiments

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"gonum.org/v1/gonum/mat"
)

// Cross-validation, grid search, validation and learning curves all come
// down to independent fits: one candidate model fitted on one fold's
// training rows and scored on its test rows. Locally they run on
// goroutines. A FitExecutor installed with SetFitExecutor runs them
// elsewhere instead, such as on the workers of a distributed pipeline:
// FitJob.Encode gives everything the fits need (candidates, data, folds,
// metrics) as bytes, DecodeFitJob rebuilds the job in another process,
// and FitJob.Run computes one fit there, to the same bits as locally.

// FitTask is one fit of a model selection: candidate Model (an index into
// the candidates, in grid order; 0 for a cross-validation) on fold Fold.
type FitTask struct {
	Model int // index into the job's candidates
	Fold  int // index into the job's folds
}

// FitScores is what one FitTask computed: test (and, when asked for,
// training) scores by metric name, and the fit and score times in
// seconds.
type FitScores struct {
	Test      map[string]float64 // metric → score on the fold's test rows
	Train     map[string]float64 // metric → score on its training rows; nil unless asked for
	FitTime   float64            // seconds in Fit
	ScoreTime float64            // seconds predicting and scoring the test rows (not the training rows)
}

// FitJob is the work of one cross-validation, grid search, validation
// curve or learning-curve size: every (candidate, fold) pair.
type FitJob struct {
	// Op names the operation: "cross validate", "grid search",
	// "validation curve" or "learning curve".
	Op string
	// Tasks are the fits, candidate-major: Model i, Fold k is
	// Tasks[i*Folds+k].
	Tasks []FitTask
	// Models and Folds count the candidates and the folds.
	Models, Folds int
	// Workers is the caller's CVOptions.Workers (0: every core).
	Workers int

	models      []Model
	data        cvData
	folds       []Fold
	specs       []metricSpec
	trainScores bool
}

// FitExecutor runs the tasks of a FitJob and returns their scores in
// task order. An executor must give each task the scores job.Run gives
// it (in this process or in one that decoded job.Encode()): the results
// of the model selection are assembled from them as they are.
type FitExecutor interface {
	RunFits(job *FitJob) ([]FitScores, error)
}

// FitExecutorFunc adapts a function to FitExecutor.
type FitExecutorFunc func(job *FitJob) ([]FitScores, error)

// RunFits calls f(job).
func (f FitExecutorFunc) RunFits(job *FitJob) ([]FitScores, error) { return f(job) }

type executorBox struct{ e FitExecutor }

var fitExecutor atomic.Pointer[executorBox]

// SetFitExecutor makes e run the fits of every later cross-validation,
// grid search, validation and learning curve of the process, and returns
// the executor it replaces. nil restores the default: goroutines in this
// process, CVOptions.Workers at a time. A compiled job sets it once
// before its cells run; a notebook has no reason to.
func SetFitExecutor(e FitExecutor) (prev FitExecutor) {
	var box *executorBox
	if e != nil {
		box = &executorBox{e}
	}
	if old := fitExecutor.Swap(box); old != nil {
		return old.e
	}
	return nil
}

func currentFitExecutor() FitExecutor {
	if b := fitExecutor.Load(); b != nil {
		return b.e
	}
	return nil
}

// newFitJob describes the fits of every model on every fold.
func newFitJob(op string, models []Model, data cvData, folds []Fold, specs []metricSpec, opts CVOptions) *FitJob {
	j := &FitJob{Op: op, Models: len(models), Folds: len(folds), Workers: opts.Workers,
		models: models, data: data, folds: folds, specs: specs, trainScores: opts.TrainScores}
	j.Tasks = make([]FitTask, 0, len(models)*len(folds))
	for mi := range models {
		for fi := range folds {
			j.Tasks = append(j.Tasks, FitTask{Model: mi, Fold: fi})
		}
	}
	return j
}

// Run fits an unfitted copy of candidate t.Model on fold t.Fold's
// training rows and scores it.
func (j *FitJob) Run(t FitTask) (FitScores, error) {
	op, fi := j.Op, t.Fold
	if t.Model < 0 || t.Model >= len(j.models) || fi < 0 || fi >= len(j.folds) {
		return FitScores{}, fmt.Errorf("experiments: %s: no task %+v in a job of %d candidates and %d folds", op, t, len(j.models), len(j.folds))
	}
	needProba := false
	for _, s := range j.specs {
		needProba = needProba || s.proba
	}
	m := j.models[t.Model]
	var err error
	if copyable(m) {
		if m, err = cloneModel(m); err != nil {
			return FitScores{}, err
		}
	} // else fitted in turn (see runFits)
	// Errors name the fold, and the candidate when there are several.
	where := fmt.Sprintf("fold %d", fi)
	if len(j.models) > 1 {
		where = fmt.Sprintf("candidate %d, fold %d", t.Model, fi)
	}
	wrap := func(err error) error {
		return fmt.Errorf("experiments: %s: %s: %w", op, where, unwrapPrefix(err))
	}
	// A panic in the model (user code, often) is an error of this fit.
	recovered := func(call string, f func() error) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = panicError(call, r)
			}
		}()
		return f()
	}
	f := j.folds[fi]
	t0 := time.Now()
	if err := recovered("fit", func() error { return j.data.fit(m, f.Train) }); err != nil {
		return FitScores{}, wrap(err)
	}
	t1 := time.Now()
	y := j.data.labels()
	score := func(idx []int) (map[string]float64, error) {
		var pred []float64
		var pr *mat.Dense
		err := recovered("predict", func() (err error) {
			pred, pr, err = j.data.predict(m, idx, needProba)
			return err
		})
		if err != nil {
			return nil, wrap(err)
		}
		var classes []float64
		if c, ok := m.(Classifier); ok && needProba {
			classes = c.Classes()
		}
		yt := takeVals(y, idx)
		out := make(map[string]float64, len(j.specs))
		for _, s := range j.specs {
			v, err := s.fn(yt, pred, pr, classes)
			if err != nil {
				return nil, wrap(err)
			}
			out[s.name] = v
		}
		return out, nil
	}
	var res FitScores
	if res.Test, err = score(f.Test); err != nil {
		return FitScores{}, err
	}
	res.FitTime = t1.Sub(t0).Seconds()
	res.ScoreTime = time.Since(t1).Seconds()
	if j.trainScores {
		if res.Train, err = score(f.Train); err != nil {
			return FitScores{}, err
		}
	}
	return res, nil
}

// runFits runs the job's tasks, with the installed FitExecutor or on
// goroutines, calling done once per task (concurrently on goroutines).
func runFits(j *FitJob, done func(t FitTask, s FitScores)) error {
	workers, shared := j.Workers, false
	for _, m := range j.models {
		if !copyable(m) {
			// One value for every fold: fitted and scored in turn, here.
			workers, shared = 1, true
		}
	}
	if e := currentFitExecutor(); e != nil && !shared {
		scores, err := e.RunFits(j)
		if err != nil {
			return err
		}
		if len(scores) != len(j.Tasks) {
			return fmt.Errorf("experiments: %s: the fit executor returned %d results for %d fits", j.Op, len(scores), len(j.Tasks))
		}
		for i, t := range j.Tasks {
			if err := j.checkScores(scores[i]); err != nil {
				return fmt.Errorf("experiments: %s: fit executor: candidate %d, fold %d: %w", j.Op, t.Model, t.Fold, err)
			}
			done(t, scores[i])
		}
		return nil
	}
	return parallel(len(j.Tasks), workers, func(i int) error {
		if err := interrupted(); err != nil {
			return fmt.Errorf("experiments: %s: %w", j.Op, err)
		}
		s, err := j.Run(j.Tasks[i])
		if err != nil {
			return err
		}
		done(j.Tasks[i], s)
		return nil
	})
}

// checkScores reports scores that lack a metric the job computes.
func (j *FitJob) checkScores(s FitScores) error {
	for _, sp := range j.specs {
		if _, ok := s.Test[sp.name]; !ok {
			return fmt.Errorf("no test score %s", sp.name)
		}
		if _, ok := s.Train[sp.name]; j.trainScores && !ok {
			return fmt.Errorf("no training score %s", sp.name)
		}
	}
	return nil
}

// fitJobFormat identifies encoded fit jobs.
const fitJobFormat = "gopherlab/experiments.FitJob/v1"

// wireFitJob is a FitJob as Encode writes it (fitjob_wire.go).
type wireFitJob struct {
	Format      string
	Op          string
	Workers     int
	Models      []wireModel
	Folds       []Fold
	Metrics     []string
	TrainScores bool
	// Matrix data (Dataset false): X row-major, Rows × Cols, and Y.
	Rows, Cols int
	X, Y       []float64
	// Dataset data: its columns, rows and the target column.
	Dataset     bool
	Columns     []wireColumn
	DatasetRows int
	Target      string
}

// wireModel is an unfitted candidate: what Clone copies, its steps'
// exported parameter fields.
type wireModel struct {
	Pipeline bool // else a bare estimator, Steps[0]
	Steps    []wireStep
}

type wireStep struct {
	Name, Type string
	Params     []byte // the estimator's exported fields
}

type wireColumn struct {
	Name     string
	Kind     Kind
	Nums     []float64
	Codes    []int32
	Levels   []string
	Numbered bool // how the levels were read (column.numbered)
}

// Encode returns everything the job's fits need, for DecodeFitJob in
// another process: the unfitted candidates (this package's estimators and
// pipelines of them), the data, the folds and the metrics.
func (j *FitJob) Encode() ([]byte, error) {
	w := wireFitJob{Format: fitJobFormat, Op: j.Op, Workers: j.Workers, Folds: j.folds, TrainScores: j.trainScores}
	for _, s := range j.specs {
		w.Metrics = append(w.Metrics, s.name)
	}
	for i, m := range j.models {
		wm, err := encodeModel(m)
		if err != nil {
			return nil, fmt.Errorf("experiments: %s: encode candidate %d: %w", j.Op, i, err)
		}
		w.Models = append(w.Models, wm)
	}
	switch d := j.data.(type) {
	case matrixData:
		r, c := d.X.Dims()
		w.Rows, w.Cols, w.Y = r, c, d.y
		w.X = make([]float64, 0, r*c)
		for i := range r {
			w.X = append(w.X, d.X.RawRowView(i)...)
		}
	case datasetData:
		w.Dataset, w.DatasetRows, w.Target = true, d.ds.rows, d.target
		for _, c := range d.ds.cols {
			w.Columns = append(w.Columns, wireColumn{Name: c.name, Kind: c.kind, Nums: c.nums, Codes: c.codes, Levels: c.levels, Numbered: c.numbered})
		}
	default:
		return nil, fmt.Errorf("experiments: %s: cannot encode data of type %T", j.Op, j.data)
	}
	b, err := wireMarshal(&w)
	if err != nil {
		return nil, fmt.Errorf("experiments: %s: encode: %w", j.Op, err)
	}
	return b, nil
}

// DecodeFitJob rebuilds a FitJob from FitJob.Encode's bytes; its Run
// computes what the original's does.
func DecodeFitJob(b []byte) (*FitJob, error) {
	var w wireFitJob
	if err := wireUnmarshal(b, &w); err != nil || w.Format != fitJobFormat {
		if !strings.HasPrefix(string(b[min(len(b), 1):]), fitJobFormat) {
			return nil, fmt.Errorf("experiments: decode fit job: not an encoded fit job (format %q)", fitJobFormat)
		}
		return nil, fmt.Errorf("experiments: decode fit job: %v", err)
	}
	if w.Format != fitJobFormat {
		return nil, fmt.Errorf("experiments: decode fit job: format %q, want %q", w.Format, fitJobFormat)
	}
	op := w.Op
	var models []Model
	for i, wm := range w.Models {
		m, err := decodeModel(wm)
		if err != nil {
			return nil, fmt.Errorf("experiments: %s: decode candidate %d: %w", op, i, err)
		}
		models = append(models, m)
	}
	var data cvData
	if w.Dataset {
		ds := &Dataset{rows: w.DatasetRows}
		for _, c := range w.Columns {
			col := &column{name: c.Name, kind: c.Kind, nums: c.Nums, codes: c.Codes, levels: c.Levels, numbered: c.Numbered}
			if col.len() != ds.rows {
				return nil, fmt.Errorf("experiments: %s: decode: column %q has %d rows, the dataset %d", op, c.Name, col.len(), ds.rows)
			}
			ds.cols = append(ds.cols, col)
		}
		d, err := newDatasetData(op, ds, w.Target)
		if err != nil {
			return nil, err
		}
		data = d
	} else {
		if w.Rows*w.Cols != len(w.X) || len(w.Y) != w.Rows || w.Rows == 0 || w.Cols == 0 {
			return nil, fmt.Errorf("experiments: %s: decode: X is %d values for %d×%d, y %d", op, len(w.X), w.Rows, w.Cols, len(w.Y))
		}
		data = matrixData{X: mat.NewDense(w.Rows, w.Cols, w.X), y: w.Y}
	}
	var specs []metricSpec
	for _, n := range w.Metrics {
		s, err := lookupMetric(n)
		if err != nil {
			return nil, fmt.Errorf("experiments: %s: decode: %w", op, unwrapPrefix(err))
		}
		specs = append(specs, s)
	}
	n := data.n()
	for i, f := range w.Folds {
		for _, idx := range [][]int{f.Train, f.Test} {
			for _, r := range idx {
				if r < 0 || r >= n {
					return nil, fmt.Errorf("experiments: %s: decode: fold %d has row %d out of range [0,%d)", op, i, r, n)
				}
			}
		}
	}
	return newFitJob(op, models, data, w.Folds, specs, CVOptions{Workers: w.Workers, TrainScores: w.TrainScores}), nil
}

func encodeModel(m Model) (wireModel, error) {
	var wm wireModel
	steps := []Step{{Name: "model", Estimator: m}}
	if p, ok := m.(*Pipeline); ok {
		wm.Pipeline, steps = true, p.Steps
	}
	for _, s := range steps {
		e, ok := s.Estimator.(stateful)
		ws := wireStep{Name: s.Name}
		if ok {
			ws.Type = reflect.TypeOf(e).Elem().Name()
			mk, known := estimatorTypes[ws.Type]
			ok = known && reflect.TypeOf(mk()) == reflect.TypeOf(e)
		}
		if !ok {
			return wm, fmt.Errorf("step %q: %T cannot be sent to another process (only this package's estimators can)", s.Name, s.Estimator)
		}
		var err error
		if ws.Params, err = wireMarshal(e); err != nil {
			return wm, fmt.Errorf("step %q: %w", s.Name, err)
		}
		wm.Steps = append(wm.Steps, ws)
	}
	return wm, nil
}

func decodeModel(wm wireModel) (Model, error) {
	var steps []Step
	for _, s := range wm.Steps {
		mk, ok := estimatorTypes[s.Type]
		if !ok {
			return nil, fmt.Errorf("step %q has unknown type %q", s.Name, s.Type)
		}
		e := mk()
		if err := wireUnmarshal(s.Params, e); err != nil {
			return nil, fmt.Errorf("step %q: %w", s.Name, err)
		}
		steps = append(steps, Step{Name: s.Name, Estimator: e})
	}
	if wm.Pipeline {
		return &Pipeline{Steps: steps}, nil
	}
	if len(steps) != 1 {
		return nil, errors.New("a bare estimator with other than one step")
	}
	m, ok := steps[0].Estimator.(Model)
	if !ok {
		return nil, fmt.Errorf("%T is not a model", steps[0].Estimator)
	}
	return m, nil
}
