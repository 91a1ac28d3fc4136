package experiments

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/gopherlab/gopherlab/display"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// Progress receives progress reports: Add(n) after n more units of work
// (fits) finished. *display.Progress satisfies it, so a notebook can pass
// display.NewProgress(0, "grid search") to show a live bar.
type Progress interface {
	Add(n int)
}

// CVOptions controls cross-validation. The zero value is 5 folds,
// stratified for classifiers, scored with accuracy (classifiers) or R²
// (regressors), folds run in parallel on every core.
type CVOptions struct {
	// Folds, if set, are the exact splits to use (K, Shuffle and Seed are
	// then ignored).
	Folds []Fold
	// K is the number of folds; 0 means 5.
	K       int
	Shuffle bool  // shuffle rows before splitting (KFold, StratifiedKFold)
	Seed    int64 // seeds Shuffle, and LearningCurve's draw of training rows
	// Metrics names the scores to compute: accuracy, precision, recall,
	// f1 (binary, the label 1 being the positive class, as in
	// scikit-learn; add _macro, _weighted or _micro for more classes),
	// roc_auc (binary), roc_auc_ovr, roc_auc_ovr_weighted, log_loss for
	// classifiers; r2, rmse, mse, mae for regressors.
	Metrics []string
	// TrainScores also scores each fold's training rows.
	TrainScores bool
	// Workers is the number of fits run at once; 0 uses every core.
	Workers int
	// Progress, if set, gets Add(1) after each fit.
	Progress Progress
	// OnProgress, if set, is called with the number of fits done and the
	// total after each fit (one call at a time).
	OnProgress func(done, total int)
	// ShowProgress displays a progress bar (display.NewProgress).
	ShowProgress bool
}

// metricSpec describes one score.
type metricSpec struct {
	name     string
	greater  bool // greater is better
	proba    bool // needs class probabilities
	fn       func(y, pred []float64, pr *mat.Dense, classes []float64) (float64, error)
	classify bool // scores a classifier's labels (else a regressor's values)
}

func lookupMetric(name string) (metricSpec, error) {
	pred := func(f func(y, p []float64) (float64, error)) func(y, pred []float64, pr *mat.Dense, classes []float64) (float64, error) {
		return func(y, p []float64, _ *mat.Dense, _ []float64) (float64, error) { return f(y, p) }
	}
	avg := func(f func(y, p []float64, a string) (float64, error), a string) func(y, pred []float64, pr *mat.Dense, classes []float64) (float64, error) {
		return func(y, p []float64, _ *mat.Dense, _ []float64) (float64, error) { return f(y, p, a) }
	}
	switch name {
	case "accuracy":
		return metricSpec{name, true, false, pred(Accuracy), true}, nil
	case "r2":
		return metricSpec{name, true, false, pred(R2), false}, nil
	case "rmse":
		return metricSpec{name, false, false, pred(RMSE), false}, nil
	case "mse":
		return metricSpec{name, false, false, pred(MSE), false}, nil
	case "mae":
		return metricSpec{name, false, false, pred(MAE), false}, nil
	case "log_loss":
		return metricSpec{name, false, true, func(y, _ []float64, pr *mat.Dense, classes []float64) (float64, error) {
			return LogLoss(y, pr, classes)
		}, true}, nil
	case "roc_auc":
		return metricSpec{name, true, true, func(y, _ []float64, pr *mat.Dense, classes []float64) (float64, error) {
			if len(classes) != 2 {
				return 0, fmt.Errorf("experiments: roc_auc: needs 2 classes, model has %d (use roc_auc_ovr or roc_auc_ovr_weighted)", len(classes))
			}
			return AUC(y, mat.Col(nil, 1, pr))
		}, true}, nil
	case "roc_auc_ovr", "roc_auc_ovr_weighted":
		average := strings.TrimPrefix(strings.TrimPrefix(name, "roc_auc_ovr"), "_")
		return metricSpec{name, true, true, func(y, _ []float64, pr *mat.Dense, classes []float64) (float64, error) {
			return AUCOvR(y, pr, classes, average)
		}, true}, nil
	}
	for _, base := range []struct {
		name string
		f    func(y, p []float64, a string) (float64, error)
	}{{"precision", Precision}, {"recall", Recall}, {"f1", F1}} {
		if name == base.name {
			// The binary score, as scikit-learn's scoring names: a
			// default that changed with the labels a fold happens to
			// hold would mix averages across folds.
			f := base.f
			return metricSpec{name, true, false, func(y, p []float64, _ *mat.Dense, _ []float64) (float64, error) {
				v, err := f(y, p, "binary")
				if err != nil && strings.Contains(err.Error(), "needs two classes") {
					return 0, fmt.Errorf("experiments: metric %s is the binary score (the label 1 positive); with more classes use %[1]s_macro, %[1]s_weighted or %[1]s_micro", name)
				}
				return v, err
			}, true}, nil
		}
		if rest, ok := strings.CutPrefix(name, base.name+"_"); ok {
			switch rest {
			case "macro", "weighted", "micro", "binary":
				return metricSpec{name, true, false, avg(base.f, rest), true}, nil
			}
		}
	}
	return metricSpec{}, fmt.Errorf("experiments: unknown metric %q (want accuracy, precision, recall, f1 (_macro, _weighted, _micro), roc_auc, roc_auc_ovr, roc_auc_ovr_weighted, log_loss, r2, rmse, mse or mae)", name)
}

// cvData is what cross-validation fits on: a matrix with targets, or a
// dataset with a target column (for pipelines with dataset steps).
type cvData interface {
	n() int
	labels() []float64
	fit(m Model, idx []int) error
	predict(m Model, idx []int, proba bool) ([]float64, *mat.Dense, error)
	// table is the data for a Tracker (see TrackEvent.Data).
	table() (mat.Matrix, []string, [][]string)
}

type matrixData struct {
	X *mat.Dense
	y []float64
}

func (d matrixData) n() int            { return len(d.y) }
func (d matrixData) labels() []float64 { return d.y }
func (d matrixData) fit(m Model, idx []int) error {
	return fitModel(m, takeRows(d.X, idx), takeVals(d.y, idx))
}
func (d matrixData) predict(m Model, idx []int, proba bool) ([]float64, *mat.Dense, error) {
	X := takeRows(d.X, idx)
	pred, err := m.Predict(X)
	if err != nil || !proba {
		return pred, nil, err
	}
	c, ok := m.(Classifier)
	if !ok {
		return nil, nil, fmt.Errorf("experiments: %T has no class probabilities", m)
	}
	pr, err := c.PredictProba(X)
	return pred, pr, err
}

type datasetData struct {
	ds     *Dataset
	target string
	y      []float64
}

func (d datasetData) n() int            { return d.ds.rows }
func (d datasetData) labels() []float64 { return d.y }
func (d datasetData) fit(m Model, idx []int) error {
	return m.(*Pipeline).fitDatasetRaw(d.ds.take(idx), d.target)
}
func (d datasetData) predict(m Model, idx []int, proba bool) ([]float64, *mat.Dense, error) {
	p := m.(*Pipeline)
	sub := d.ds.take(idx)
	pred, err := p.PredictDataset(sub)
	if err != nil || !proba {
		return pred, nil, err
	}
	pr, err := p.PredictProbaDataset(sub)
	return pred, pr, err
}

func newDatasetData(op string, ds *Dataset, target string) (datasetData, error) {
	if ds == nil {
		return datasetData{}, fmt.Errorf("experiments: %s: nil dataset", op)
	}
	t, err := ds.col(target)
	if err != nil {
		return datasetData{}, fmt.Errorf("experiments: %s: target: %w", op, unwrapPrefix(err))
	}
	y := make([]float64, ds.rows)
	for i := range y {
		if t.missing(i) {
			return datasetData{}, fmt.Errorf("experiments: %s: target %q is missing at row %d", op, target, i)
		}
		if t.kind == Numeric {
			y[i] = t.nums[i]
		} else {
			y[i] = float64(t.codes[i])
		}
	}
	return datasetData{ds: ds, target: target, y: y}, nil
}

// CVResult holds cross-validation scores per fold.
type CVResult struct {
	Metrics   []string             // metric names, as in CVOptions.Metrics (default accuracy or r2)
	Test      map[string][]float64 // metric → score per fold
	Train     map[string][]float64 // with TrainScores
	FitTime   []float64            // seconds per fold
	ScoreTime []float64            // seconds per fold predicting and scoring the test rows
}

// Mean returns the mean test score of a metric over the folds.
func (r *CVResult) Mean(metric string) float64 {
	if r == nil {
		return math.NaN() // no result: a failed CrossValidate returns nil
	}
	return meanOf(r.Test[metric])
}

// Std returns the standard deviation (population, as numpy) of a
// metric's test scores.
func (r *CVResult) Std(metric string) float64 {
	if r == nil {
		return math.NaN()
	}
	return stdOf(r.Test[metric])
}

func meanOf(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func stdOf(v []float64) float64 {
	m := meanOf(v)
	var s float64
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(v)))
}

// Table returns the per-fold scores with mean and std rows.
func (r *CVResult) Table() *display.Table {
	if r == nil {
		r = &CVResult{}
	}
	cols := []string{"fold", "fit_time", "score_time"}
	for _, m := range r.Metrics {
		cols = append(cols, "test_"+m)
		if r.Train != nil {
			cols = append(cols, "train_"+m)
		}
	}
	row := func(label any, f func([]float64) float64, i int) []any {
		pick := func(v []float64) any {
			if f != nil {
				return f(v)
			}
			return v[i]
		}
		out := []any{label, pick(r.FitTime), pick(r.ScoreTime)}
		for _, m := range r.Metrics {
			out = append(out, pick(r.Test[m]))
			if r.Train != nil {
				out = append(out, pick(r.Train[m]))
			}
		}
		return out
	}
	var rows [][]any
	for i := range r.FitTime {
		rows = append(rows, row(i, nil, i))
	}
	rows = append(rows, row("mean", meanOf, 0), row("std", stdOf, 0))
	t := display.NewTable(cols, rows)
	t.NoIndex, t.MaxRows = true, -1
	return t
}

// HTML returns the results as an HTML table.
func (r *CVResult) HTML() string { return r.Table().HTML() }

// String returns the results as text.
func (r *CVResult) String() string { return r.Table().String() }

// Render shows the results as a table.
func (r *CVResult) Render() display.Bundle { return r.Table().Render() }

// resolveCV returns the folds and metrics for options.
func resolveCV(op string, opts CVOptions, model any, y []float64) ([]Fold, []metricSpec, error) {
	if isClusterer(model) {
		return nil, nil, fmt.Errorf("experiments: %s: %s assigns clusters, with no targets to score its predictions against (Score gives its -inertia on rows, as scikit-learn's KMeans.score)", op, modelName(model))
	}
	classify := isClassifier(model)
	if classify && ownEstimator(model) {
		// Name the row of y, not of a fold's training part.
		if err := checkLabels(op, "y", y); err != nil {
			return nil, nil, err
		}
	}
	folds := opts.Folds
	if folds == nil {
		var err error
		if classify {
			folds, err = StratifiedKFold{K: opts.K, Shuffle: opts.Shuffle, Seed: opts.Seed}.Split(y)
		} else {
			folds, err = KFold{K: opts.K, Shuffle: opts.Shuffle, Seed: opts.Seed}.Split(len(y))
		}
		if err != nil {
			return nil, nil, fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
		}
	}
	for i, f := range folds {
		for _, idx := range [][]int{f.Train, f.Test} {
			for _, j := range idx {
				if j < 0 || j >= len(y) {
					return nil, nil, fmt.Errorf("experiments: %s: fold %d has row %d out of range [0,%d)", op, i, j, len(y))
				}
			}
		}
		if len(f.Train) == 0 || len(f.Test) == 0 {
			return nil, nil, fmt.Errorf("experiments: %s: fold %d has an empty train or test part", op, i)
		}
	}
	names := opts.Metrics
	if len(names) == 0 {
		names = []string{"r2"}
		if classify {
			names = []string{"accuracy"}
		}
	}
	var specs []metricSpec
	for _, n := range names {
		s, err := lookupMetric(n)
		if err != nil {
			return nil, nil, fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
		}
		switch {
		case s.classify && !classify && ownEstimator(model):
			// Another package's model that is no Classifier may still
			// predict labels.
			return nil, nil, fmt.Errorf("experiments: %s: metric %s scores a classifier's labels, and %s is a regressor (use r2, rmse, mse or mae)", op, n, modelName(model))
		case !s.classify && classify:
			return nil, nil, fmt.Errorf("experiments: %s: metric %s scores a regressor's values, and %s is a classifier (use accuracy, precision, recall, f1, roc_auc or log_loss)", op, n, modelName(model))
		}
		specs = append(specs, s)
	}
	return folds, specs, nil
}

// runCV fits every model on every fold, all (model, fold) pairs in
// parallel, and scores them.
func runCV(op string, models []Model, data cvData, folds []Fold, specs []metricSpec, opts CVOptions, label string) ([]*CVResult, error) {
	prog := opts.Progress
	total := len(models) * len(folds)
	var bar *display.Progress
	if opts.ShowProgress {
		bar = display.NewProgress(total, label)
		defer bar.Done()
		if prog == nil {
			prog = bar
		}
	}
	results := make([]*CVResult, len(models))
	for i := range results {
		r := &CVResult{Test: map[string][]float64{}, FitTime: make([]float64, len(folds)), ScoreTime: make([]float64, len(folds))}
		for _, s := range specs {
			r.Metrics = append(r.Metrics, s.name)
			r.Test[s.name] = make([]float64, len(folds))
		}
		if opts.TrainScores {
			r.Train = map[string][]float64{}
			for _, s := range specs {
				r.Train[s.name] = make([]float64, len(folds))
			}
		}
		results[i] = r
	}
	var progMu sync.Mutex
	done := 0
	// The fits run on goroutines, or where a FitExecutor sends them
	// (fitjob.go); each writes only its own fold's entries.
	err := runFits(newFitJob(op, models, data, folds, specs, opts), func(t FitTask, s FitScores) {
		r := results[t.Model]
		for _, sp := range specs {
			r.Test[sp.name][t.Fold] = s.Test[sp.name]
			if r.Train != nil {
				r.Train[sp.name][t.Fold] = s.Train[sp.name]
			}
		}
		r.FitTime[t.Fold], r.ScoreTime[t.Fold] = s.FitTime, s.ScoreTime
		progMu.Lock()
		done++
		if prog != nil {
			prog.Add(1)
		}
		if opts.OnProgress != nil {
			opts.OnProgress(done, total)
		}
		progMu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// CrossValidate fits an unfitted copy of model (see Clone) on each fold's
// training rows and scores it on the fold's test rows, folds in parallel.
func CrossValidate(model Model, X *mat.Dense, y []float64, opts CVOptions) (*CVResult, error) {
	t := CurrentTracker()
	if t == nil {
		return crossValidate(model, X, y, opts)
	}
	tr := startTracking(t, KindCrossValidate, modelName(model), matrixData{X, y})
	defer tr.abandon()
	res, err := crossValidate(model, X, y, opts)
	trackCV(tr, model, opts, res, err)
	return res, err
}

func crossValidate(model Model, X *mat.Dense, y []float64, opts CVOptions) (*CVResult, error) {
	const op = "cross validate"
	if model == nil {
		return nil, fmt.Errorf("experiments: %s: nil model", op)
	}
	if err := checkXY(op, X, y); err != nil {
		return nil, err
	}
	folds, specs, err := resolveCV(op, opts, model, y)
	if err != nil {
		return nil, err
	}
	res, err := runCV(op, []Model{model}, matrixData{X, y}, folds, specs, opts, "cross-validation")
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// CrossValidateDataset cross-validates a pipeline on a dataset (for
// pipelines with dataset steps such as OneHotEncoder).
func CrossValidateDataset(p *Pipeline, ds *Dataset, target string, opts CVOptions) (*CVResult, error) {
	t := CurrentTracker()
	if t == nil || p == nil {
		return crossValidateDataset(p, ds, target, opts)
	}
	tr := startTracking(t, KindCrossValidate, modelName(p), datasetData{ds: ds, target: target})
	defer tr.abandon()
	res, err := crossValidateDataset(p, ds, target, opts)
	trackCV(tr, p, opts, res, err)
	return res, err
}

func crossValidateDataset(p *Pipeline, ds *Dataset, target string, opts CVOptions) (*CVResult, error) {
	const op = "cross validate"
	if p == nil {
		return nil, fmt.Errorf("experiments: %s: nil pipeline", op)
	}
	data, err := newDatasetData(op, ds, target)
	if err != nil {
		return nil, err
	}
	folds, specs, err := resolveCV(op, opts, p, data.y)
	if err != nil {
		return nil, err
	}
	res, err := runCV(op, []Model{p}, data, folds, specs, opts, "cross-validation")
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// GridSearch tries every combination of parameter values by
// cross-validation and refits the best on all the data, like
// scikit-learn's GridSearchCV. Grid maps parameter names (fields of Model;
// "step.Field" in a Pipeline) to the values to try.
type GridSearch struct {
	Model Model            // the estimator to tune; it is cloned, never fitted itself (see BestModel)
	Grid  map[string][]any // parameter name → values to try; every combination is a candidate
	// Metric selects the best candidate; "" means accuracy or r2. Losses
	// (rmse, mse, mae, log_loss) are minimized.
	Metric string
	// CV sets the folds, workers and progress; its Metrics are ignored.
	CV CVOptions
	// NoRefit skips refitting the best candidate on all the data.
	NoRefit bool

	st gridState
}

// GridResult is one candidate of a grid search.
type GridResult struct {
	// Params holds the candidate's value of each Grid parameter.
	Params map[string]any
	Mean   float64   // mean test score over the folds
	Std    float64   // standard deviation of the test scores (population, as numpy's)
	Scores []float64 // per fold
	Rank   int       // 1 is best; equal means share the best rank among them, as scikit-learn
	// FitTime and ScoreTime are the mean seconds per fold spent fitting
	// and scoring (scikit-learn's mean_fit_time and mean_score_time).
	FitTime, ScoreTime float64
}

type gridState struct {
	keys    []string
	results []GridResult
	best    int
	model   Model
	metric  string
}

// candidates expands the grid into parameter sets, keys sorted.
func (g *GridSearch) candidates() ([]string, []map[string]any, error) {
	if len(g.Grid) == 0 {
		return nil, nil, fmt.Errorf("experiments: grid search: empty Grid")
	}
	keys := make([]string, 0, len(g.Grid))
	for k, v := range g.Grid {
		if len(v) == 0 {
			return nil, nil, fmt.Errorf("experiments: grid search: no values for %q", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cands := []map[string]any{{}}
	for _, k := range keys {
		var next []map[string]any
		for _, c := range cands {
			for _, v := range g.Grid[k] {
				m := make(map[string]any, len(c)+1)
				for kk, vv := range c {
					m[kk] = vv
				}
				m[k] = v
				next = append(next, m)
			}
		}
		cands = next
	}
	return keys, cands, nil
}

// Fit runs the search on a feature matrix.
func (g *GridSearch) Fit(X *mat.Dense, y []float64) error {
	t := CurrentTracker()
	if t == nil {
		return g.fitRaw(X, y)
	}
	data := matrixData{X, y}
	tr := startTracking(t, KindGridSearch, g.gridName(), data)
	defer tr.abandon()
	err := g.fitRaw(X, y)
	g.track(tr, data, err)
	return err
}

func (g *GridSearch) fitRaw(X *mat.Dense, y []float64) error {
	if err := checkXY("grid search", X, y); err != nil {
		return err
	}
	return g.fit(matrixData{X, y}, func(m Model) error { return fitModel(m, X, y) })
}

// FitDataset runs the search on a dataset; Model must be a *Pipeline.
func (g *GridSearch) FitDataset(ds *Dataset, target string) error {
	t := CurrentTracker()
	if t == nil {
		return g.fitDatasetRaw(ds, target)
	}
	data := datasetData{ds: ds, target: target}
	tr := startTracking(t, KindGridSearch, g.gridName(), data)
	defer tr.abandon()
	err := g.fitDatasetRaw(ds, target)
	g.track(tr, data, err)
	return err
}

func (g *GridSearch) fitDatasetRaw(ds *Dataset, target string) error {
	if _, ok := g.Model.(*Pipeline); !ok {
		return fmt.Errorf("experiments: grid search: FitDataset needs a *Pipeline model, have %T", g.Model)
	}
	data, err := newDatasetData("grid search", ds, target)
	if err != nil {
		return err
	}
	return g.fit(data, func(m Model) error { return m.(*Pipeline).fitDatasetRaw(ds, target) })
}

func (g *GridSearch) fit(data cvData, refit func(Model) error) error {
	const op = "grid search"
	if g.Model == nil {
		return fmt.Errorf("experiments: %s: nil Model", op)
	}
	keys, cands, err := g.candidates()
	if err != nil {
		return err
	}
	metric := g.Metric
	classify := isClassifier(g.Model)
	if metric == "" {
		metric = "r2"
		if classify {
			metric = "accuracy"
		}
	}
	opts := g.CV
	opts.Metrics = []string{metric}
	folds, specs, err := resolveCV(op, opts, g.Model, data.labels())
	if err != nil {
		return err
	}
	models := make([]Model, len(cands))
	for i, c := range cands {
		m, err := cloneModel(g.Model)
		if err != nil {
			return fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
		}
		for _, k := range keys {
			if err := SetParam(m, k, c[k]); err != nil {
				return fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
			}
		}
		models[i] = m
	}
	res, err := runCV(op, models, data, folds, specs, opts, "grid search")
	if err != nil {
		return err
	}
	st := gridState{keys: keys, metric: metric}
	for i, r := range res {
		st.results = append(st.results, GridResult{Params: cands[i], Mean: r.Mean(metric), Std: r.Std(metric), Scores: r.Test[metric],
			FitTime: stat.Mean(r.FitTime, nil), ScoreTime: stat.Mean(r.ScoreTime, nil)})
	}
	// As scikit-learn (rankdata method "min"): a candidate's rank is one
	// more than the number of candidates with a better mean, so equal
	// means share the best rank among them; NaN ranks below every number.
	// The best is the first of rank 1.
	better := func(a, b float64) bool {
		switch {
		case math.IsNaN(a):
			return false
		case math.IsNaN(b):
			return true
		case specs[0].greater:
			return a > b
		}
		return a < b
	}
	st.best = -1
	for i := range st.results {
		rank := 1
		for k := range st.results {
			if better(st.results[k].Mean, st.results[i].Mean) {
				rank++
			}
		}
		st.results[i].Rank = rank
		if rank == 1 && st.best < 0 {
			st.best = i
		}
	}
	if !g.NoRefit {
		m := models[st.best]
		if err := safe(op, func() error { return refit(m) }); err != nil {
			return fmt.Errorf("experiments: %s: refit best: %w", op, unwrapPrefix(err))
		}
		st.model = m
	}
	g.st = st
	return nil
}

// BestParams returns the best parameter set.
func (g *GridSearch) BestParams() map[string]any {
	if len(g.st.results) == 0 {
		return nil
	}
	out := map[string]any{}
	for k, v := range g.st.results[g.st.best].Params {
		out[k] = v
	}
	return out
}

// BestScore returns the best mean cross-validated score.
func (g *GridSearch) BestScore() float64 {
	if len(g.st.results) == 0 {
		return math.NaN()
	}
	return g.st.results[g.st.best].Mean
}

// BestModel returns the best candidate refitted on all the data (nil with
// NoRefit).
func (g *GridSearch) BestModel() Model { return g.st.model }

// Results returns every candidate's scores, in grid order.
func (g *GridSearch) Results() []GridResult { return slices.Clone(g.st.results) }

// Predict predicts with the refitted best model.
func (g *GridSearch) Predict(X *mat.Dense) ([]float64, error) {
	if g.st.model == nil {
		return nil, fmt.Errorf("experiments: grid search: no refitted model (call Fit without NoRefit)")
	}
	return g.st.model.Predict(X)
}

// PredictDataset predicts ds's rows with the refitted best model, a
// Pipeline the search was given (FitDataset), as Pipeline.PredictDataset.
func (g *GridSearch) PredictDataset(ds *Dataset) ([]float64, error) {
	p, err := g.bestPipeline("predict dataset")
	if err != nil {
		return nil, err
	}
	return p.PredictDataset(ds)
}

// PredictLabels predicts ds's rows as the target's levels, as
// Pipeline.PredictLabels.
func (g *GridSearch) PredictLabels(ds *Dataset) ([]string, error) {
	p, err := g.bestPipeline("predict labels")
	if err != nil {
		return nil, err
	}
	return p.PredictLabels(ds)
}

func (g *GridSearch) bestPipeline(op string) (*Pipeline, error) {
	switch m := g.st.model.(type) {
	case nil:
		return nil, fmt.Errorf("experiments: grid search: %s: no refitted model (call FitDataset without NoRefit)", op)
	case *Pipeline:
		return m, nil
	default:
		return nil, fmt.Errorf("experiments: grid search: %s: the best model is a %T, which predicts from a matrix: use Predict", op, m)
	}
}

// Table returns one row per candidate: parameters, mean and std score,
// rank.
func (g *GridSearch) Table() *display.Table {
	cols := append(slices.Clone(g.st.keys), "mean_"+g.st.metric, "std_"+g.st.metric, "rank")
	var rows [][]any
	for _, r := range g.st.results {
		row := []any{}
		for _, k := range g.st.keys {
			row = append(row, r.Params[k])
		}
		rows = append(rows, append(row, r.Mean, r.Std, r.Rank))
	}
	t := display.NewTable(cols, rows)
	t.NoIndex = true
	t.MaxRows = 50
	return t
}

// HTML returns the results table as HTML.
func (g *GridSearch) HTML() string { return g.Table().HTML() }

// String returns the results table as text.
func (g *GridSearch) String() string { return g.Table().String() }

// Render shows the results table.
func (g *GridSearch) Render() display.Bundle { return g.Table().Render() }

// Curve is a score curve: train and validation scores (mean and std over
// folds) against a parameter value, a training size or an iteration.
type Curve struct {
	XLabel    string    // what X is: the parameter's name, "training rows", "trees" or "iterations"
	Metric    string    // the score's metric name
	X         []float64 // parameter value (index when non-numeric), training rows in every fold, or iteration from 1
	XNames    []string  // labels of non-numeric parameter values
	LogX      bool      // plot x on a log scale (parameter grids spanning decades)
	TrainMean []float64 // mean score on the training rows, per point
	TrainStd  []float64 // its standard deviation over folds (0 for an IterationCurve)
	TestMean  []float64 // mean score on the validation rows, per point
	TestStd   []float64 // its standard deviation over folds (0 for an IterationCurve)
}

// Table returns the curve's points.
func (c *Curve) Table() *display.Table {
	var rows [][]any
	for i, x := range c.X {
		var xv any = x
		if c.XNames != nil {
			xv = c.XNames[i]
		}
		rows = append(rows, []any{xv, c.TrainMean[i], c.TrainStd[i], c.TestMean[i], c.TestStd[i]})
	}
	t := display.NewTable([]string{c.XLabel, "train_" + c.Metric, "train_std", "validation_" + c.Metric, "validation_std"}, rows)
	t.NoIndex, t.MaxRows = true, -1
	return t
}

// String returns the curve's points as text.
func (c *Curve) String() string { return c.Table().String() }

// ValidationCurve cross-validates model for each value of one parameter
// and returns train and validation scores against the value.
func ValidationCurve(model Model, X *mat.Dense, y []float64, param string, values []any, opts CVOptions) (*Curve, error) {
	const op = "validation curve"
	if model == nil {
		return nil, fmt.Errorf("experiments: %s: nil model", op)
	}
	if err := checkXY(op, X, y); err != nil {
		return nil, err
	}
	return validationCurve(op, model, matrixData{X, y}, y, param, values, opts)
}

// ValidationCurveDataset is ValidationCurve for a pipeline on a dataset
// with target column target, as CrossValidateDataset is CrossValidate's:
// the pipeline's transforms (one-hot encoding, imputing) are fitted on
// each fold's training rows.
func ValidationCurveDataset(p *Pipeline, ds *Dataset, target, param string, values []any, opts CVOptions) (*Curve, error) {
	const op = "validation curve"
	if p == nil {
		return nil, fmt.Errorf("experiments: %s: nil pipeline", op)
	}
	data, err := newDatasetData(op, ds, target)
	if err != nil {
		return nil, err
	}
	return validationCurve(op, p, data, data.y, param, values, opts)
}

func validationCurve(op string, model Model, data cvData, y []float64, param string, values []any, opts CVOptions) (*Curve, error) {
	if len(values) == 0 {
		return nil, fmt.Errorf("experiments: %s: no values for %q", op, param)
	}
	opts.TrainScores = true
	if len(opts.Metrics) > 1 {
		opts.Metrics = opts.Metrics[:1]
	}
	folds, specs, err := resolveCV(op, opts, model, y)
	if err != nil {
		return nil, err
	}
	models := make([]Model, len(values))
	c := &Curve{XLabel: param, Metric: specs[0].name}
	numeric := true
	for i, v := range values {
		m, err := cloneModel(model)
		if err != nil {
			return nil, err
		}
		if err := SetParam(m, param, v); err != nil {
			return nil, fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
		}
		models[i] = m
		rv := reflect.ValueOf(v)
		switch {
		case rv.CanFloat():
			c.X = append(c.X, rv.Float())
		case rv.CanInt():
			c.X = append(c.X, float64(rv.Int()))
		case rv.CanUint():
			c.X = append(c.X, float64(rv.Uint()))
		default:
			numeric = false
			c.X = append(c.X, float64(i))
		}
		c.XNames = append(c.XNames, fmt.Sprint(v))
	}
	if numeric {
		c.XNames = nil
		c.LogX = logSpaced(c.X)
	}
	res, err := runCV(op, models, data, folds, specs, opts, "validation curve")
	if err != nil {
		return nil, err
	}
	for _, r := range res {
		c.TrainMean = append(c.TrainMean, meanOf(r.Train[c.Metric]))
		c.TrainStd = append(c.TrainStd, stdOf(r.Train[c.Metric]))
		c.TestMean = append(c.TestMean, r.Mean(c.Metric))
		c.TestStd = append(c.TestStd, r.Std(c.Metric))
	}
	return c, nil
}

// LearningCurve cross-validates model on growing numbers of training rows
// (sizes: fractions in (0,1] of the smallest fold's training rows,
// default 0.1, 0.325, 0.55, 0.775, 1; the same number in every fold, as
// scikit-learn's learning_curve) and returns train and validation scores
// against the number of training rows. Each fold's training rows are
// shuffled (with opts.Seed) before taking them, so small sizes still see
// every class.
func LearningCurve(model Model, X *mat.Dense, y []float64, sizes []float64, opts CVOptions) (*Curve, error) {
	const op = "learning curve"
	if model == nil {
		return nil, fmt.Errorf("experiments: %s: nil model", op)
	}
	if err := checkXY(op, X, y); err != nil {
		return nil, err
	}
	return learningCurve(op, model, matrixData{X, y}, y, sizes, opts)
}

// LearningCurveDataset is LearningCurve for a pipeline on a dataset with
// target column target: the pipeline's transforms are fitted on each
// fold's training rows.
func LearningCurveDataset(p *Pipeline, ds *Dataset, target string, sizes []float64, opts CVOptions) (*Curve, error) {
	const op = "learning curve"
	if p == nil {
		return nil, fmt.Errorf("experiments: %s: nil pipeline", op)
	}
	data, err := newDatasetData(op, ds, target)
	if err != nil {
		return nil, err
	}
	return learningCurve(op, p, data, data.y, sizes, opts)
}

func learningCurve(op string, model Model, data cvData, y []float64, sizes []float64, opts CVOptions) (*Curve, error) {
	if sizes == nil {
		sizes = []float64{0.1, 0.325, 0.55, 0.775, 1}
	}
	for _, s := range sizes {
		if !(s > 0 && s <= 1) {
			return nil, fmt.Errorf("experiments: %s: size %v must be in (0,1]", op, s)
		}
	}
	opts.TrainScores = true
	if len(opts.Metrics) > 1 {
		opts.Metrics = opts.Metrics[:1]
	}
	folds, specs, err := resolveCV(op, opts, model, y)
	if err != nil {
		return nil, err
	}
	c := &Curve{XLabel: "training rows", Metric: specs[0].name}
	rng := newRand(opts.Seed)
	shuffled := make([][]int, len(folds))
	for i, f := range folds {
		shuffled[i] = slices.Clone(f.Train)
		rng.Shuffle(len(shuffled[i]), func(a, b int) { shuffled[i][a], shuffled[i][b] = shuffled[i][b], shuffled[i][a] })
	}
	// One CV run per size, each with the folds cut to that many rows: a
	// fraction of the smallest fold's training rows, the same number in
	// every fold, as scikit-learn's train_sizes_abs.
	most := len(folds[0].Train)
	for _, f := range folds {
		most = min(most, len(f.Train))
	}
	for _, s := range sizes {
		k := max(1, int(math.Round(s*float64(most))))
		sub := make([]Fold, len(folds))
		for i, f := range folds {
			sub[i] = Fold{Train: shuffled[i][:k], Test: f.Test}
		}
		o := opts
		o.Folds = sub
		res, err := runCV(op, []Model{model}, data, sub, specs, o, "learning curve")
		if err != nil {
			return nil, err
		}
		r := res[0]
		c.X = append(c.X, float64(k))
		c.TrainMean = append(c.TrainMean, meanOf(r.Train[c.Metric]))
		c.TrainStd = append(c.TrainStd, stdOf(r.Train[c.Metric]))
		c.TestMean = append(c.TestMean, r.Mean(c.Metric))
		c.TestStd = append(c.TestStd, r.Std(c.Metric))
	}
	return c, nil
}
