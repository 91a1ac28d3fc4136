package tracking

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gopherlab/gopherlab/experiments"
	"gonum.org/v1/gonum/mat"
)

// Reproduction is the result of Store.Reproduce: a run's metrics as they
// were logged beside the same metrics recomputed from its data snapshot,
// parameters and seed. In a notebook it shows as an HTML table; String
// gives text.
type Reproduction struct {
	RunID      string // full id of the reproduced run
	Name       string // the run's display name
	Experiment string // the run's experiment
	Kind       string // experiments.KindFit, KindCrossValidate or KindGridSearch
	// Estimator describes the rebuilt estimator, as Pipeline.String does.
	Estimator string
	// Data is the restored training data (role "train").
	Data    DatasetInput
	Seed    int64 // the run's recorded seed; valid if HasSeed
	HasSeed bool  // whether the run recorded a seed
	// Checks holds one line per compared value, in a stable order.
	Checks []MetricCheck
	// Skipped names the logged metrics that are not compared, each with
	// why in parentheses: timings differ from one run to the next, and a
	// fit's metrics scored on other data after it are stood for by the
	// refit's identical predictions.
	Skipped []string
	// Match is true when every check matched bit for bit.
	Match bool
	// Model is the refitted estimator: the *experiments.Pipeline or model
	// of a fit, the cross-validated template, or the *experiments.GridSearch.
	Model any
	// Duration is how long the refit took.
	Duration time.Duration
}

// MetricCheck compares one logged value with its recomputed value.
type MetricCheck struct {
	// Metric names the value: a metric key of the run ("mean_accuracy",
	// "fold_accuracy"), prefixed by the child run's name for values of a
	// fold or trial ("trial 2/mean_accuracy").
	Metric string
	Step   int // step of the logged point; 0 for "model.gob" values
	// Source is where the logged value comes from: "metric" (the run's
	// metrics) or "model.gob" (computed with the run's model artifact, for
	// fits, whose own metric is a timing).
	Source     string
	Logged     float64 // value as logged (or computed with the model artifact)
	Reproduced float64 // value recomputed from the data snapshot
	// Match is true when both values have the same bits (any NaN matches
	// NaN).
	Match bool
}

// sameBits reports whether a and b are the same float64, bit for bit.
func sameBits(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Float64bits(a) == math.Float64bits(b)
}

// IsTiming reports whether a metric measures time, which no rerun
// repeats: those autologging writes (fit_time_s, duration_s) and
// hand-written ones (epoch_duration_s). Reproduce, the report and the
// exported job's comparison with its tracked run leave them out.
func IsTiming(key string) bool {
	return strings.HasSuffix(key, "time_s") || strings.HasSuffix(key, "duration_s")
}

// Reproduce re-runs an autologged fit, cross-validation or grid search
// and checks that it gives exactly the logged results. id is a run id or
// a unique prefix of one.
//
// It restores the run's training data from its snapshot (checked against
// its SHA-256), rebuilds the estimator from the run's model artifact (for
// the pipeline's steps and their types) and its logged parameters
// (including any seed), refits it the way the run was made, recomputes
// every logged metric but timings, and compares each with the logged
// value bit for bit. For a fit, whose own metric is its duration (the
// scores a cell computed on its predictions later, such as test_accuracy,
// are listed as not compared: the same predictions give the same scores),
// the refitted model is compared with the logged model artifact: its
// training score and its predictions on every training row.
//
// While it refits, Reproduce removes the experiments tracker (and puts it
// back after), so the reproduction is not recorded as a new run.
//
// Runs that cannot be reproduced give an error saying why: a run that was
// not autologged (its metrics came from code Reproduce cannot see), a run
// that did not finish, a run without a data snapshot (too large, see
// Autologger.MaxDatasetCells), a cross-validation on explicit folds
// (folds are not recorded), or a run with categorical columns logged
// before stores kept their levels (schema version 4): its snapshot holds
// level codes. Categorical columns are restored with their levels,
// including levels no row used, so encoders and class labels come out
// the same.
func (s *Store) Reproduce(id string) (*Reproduction, error) {
	s.catchUp()
	full, err := s.ResolveRunID(id)
	if err != nil {
		return nil, fmt.Errorf("tracking: reproduce: %w", err)
	}
	ri, err := s.GetRun(full)
	if err != nil {
		return nil, fmt.Errorf("tracking: reproduce: %w", err)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("tracking: reproduce run %s (%s): %s", ri.ShortID(), ri.Name, fmt.Sprintf(format, args...))
	}
	kind := ri.Tags["autolog"]
	switch kind {
	case experiments.KindFit, experiments.KindCrossValidate, experiments.KindGridSearch:
	case "":
		if ri.ParentID != "" {
			return nil, fail("it is a fold or trial of run %s: reproduce that run", ShortID(ri.ParentID))
		}
		return nil, fail("it was not recorded by the autologger, so how its metrics were computed is not known; only autologged fits, cross-validations and grid searches can be reproduced")
	default:
		return nil, fail("autologged kind %q cannot be reproduced (known: %s, %s, %s)", kind,
			experiments.KindFit, experiments.KindCrossValidate, experiments.KindGridSearch)
	}
	if ri.Status != StatusFinished {
		return nil, fail("its status is %s: only finished runs have results to reproduce", ri.Status)
	}
	rep := &Reproduction{RunID: ri.ID, Name: ri.Name, Experiment: ri.Experiment, Kind: kind, Seed: ri.Seed, HasSeed: ri.HasSeed}

	// The data snapshot.
	inputs, err := s.Inputs(ri.ID)
	if err != nil {
		return nil, fmt.Errorf("tracking: reproduce: %w", err)
	}
	var train *DatasetInput
	for i := range inputs {
		if inputs[i].Role == RoleTrain {
			train = &inputs[i]
			break
		}
	}
	if train == nil {
		why := "it has no training data snapshot"
		if t := ri.Tags["autolog.dataset"]; t != "" {
			why += " (" + t + ")"
		}
		return nil, fail("%s", why)
	}
	rep.Data = *train
	snap, err := s.Dataset(train.SHA256)
	if err != nil {
		return nil, fmt.Errorf("tracking: reproduce: %w", err)
	}
	table, err := readSnapshot(snap, train.Levels)
	if err != nil {
		return nil, fmt.Errorf("tracking: reproduce: %w", err)
	}
	if table.rows == 0 || len(table.cols) == 0 {
		return nil, fail("its data snapshot %s is empty", ShortID(snap.SHA256))
	}

	// The estimator: structure from the artifact when there is one,
	// parameters from the run.
	var logged *experiments.Pipeline
	if b, err := s.ReadArtifact(ri.ID, "model.gob"); err == nil {
		if logged, err = experiments.Load(bytes.NewReader(b)); err != nil {
			return nil, fail("model artifact: %v", err)
		}
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("tracking: reproduce: %w", err)
	}
	if kind == experiments.KindFit && logged == nil {
		return nil, fail("it has no model artifact model.gob to compare the refitted model with")
	}
	est, err := rebuildEstimator(ri, logged)
	if err != nil {
		return nil, fail("%v", err)
	}
	rep.Estimator = describeEstimator(est)

	data, err := restoreData(table, est, logged, kind, ri.Tags[TagNamedMatrix] == "true")
	if err != nil {
		return nil, fail("%v", err)
	}

	// Refit without a tracker, so the reproduction is not logged.
	prev := experiments.SetTracker(nil)
	defer func() {
		if prev != nil && experiments.CurrentTracker() == nil {
			experiments.SetTracker(prev)
		}
	}()
	start := time.Now()
	switch kind {
	case experiments.KindFit:
		err = s.reproduceFit(rep, est, logged, data)
	case experiments.KindCrossValidate:
		err = s.reproduceCV(rep, ri, est, data)
	case experiments.KindGridSearch:
		err = s.reproduceGrid(rep, ri, est, data)
	}
	rep.Duration = time.Since(start)
	if err != nil {
		return nil, fail("%v", err)
	}
	rep.Match = len(rep.Checks) > 0
	for _, c := range rep.Checks {
		rep.Match = rep.Match && c.Match
	}
	return rep, nil
}

// estimatorFactories builds unfitted estimators by the lower-case type
// name autolog records (the "estimator" tag, the default step names).
var estimatorFactories = map[string]func() any{
	"simpleimputer":          func() any { return &experiments.SimpleImputer{} },
	"standardscaler":         func() any { return &experiments.StandardScaler{} },
	"minmaxscaler":           func() any { return &experiments.MinMaxScaler{} },
	"onehotencoder":          func() any { return &experiments.OneHotEncoder{} },
	"linearregression":       func() any { return &experiments.LinearRegression{} },
	"ridge":                  func() any { return &experiments.Ridge{} },
	"logisticregression":     func() any { return &experiments.LogisticRegression{} },
	"kneighborsclassifier":   func() any { return &experiments.KNeighborsClassifier{} },
	"kneighborsregressor":    func() any { return &experiments.KNeighborsRegressor{} },
	"gaussiannb":             func() any { return &experiments.GaussianNB{} },
	"decisiontreeclassifier": func() any { return &experiments.DecisionTreeClassifier{} },
	"decisiontreeregressor":  func() any { return &experiments.DecisionTreeRegressor{} },
	"randomforestclassifier": func() any { return &experiments.RandomForestClassifier{} },
	"randomforestregressor":  func() any { return &experiments.RandomForestRegressor{} },
	"kmeans":                 func() any { return &experiments.KMeans{} },
}

// rebuildEstimator returns an unfitted estimator with the run's
// parameters. The artifact, when there is one, gives the steps and their
// types (step names may be the user's own); otherwise the recorded names
// must be type names.
func rebuildEstimator(ri *RunInfo, logged *experiments.Pipeline) (any, error) {
	name := ri.Tags["estimator"]
	if n, ok := strings.CutPrefix(name, "gridsearch("); ok {
		name = strings.TrimSuffix(n, ")")
	}
	var est any
	switch {
	case logged != nil && name == "pipeline":
		c, err := experiments.Clone(logged)
		if err != nil {
			return nil, err
		}
		est = c
	case logged != nil && len(logged.Steps) == 1:
		// A bare model is saved as a one-step pipeline.
		c, err := experiments.Clone(logged.Steps[0].Estimator)
		if err != nil {
			return nil, err
		}
		est = c
	case name == "pipeline":
		steps := loggedSteps(ri.Params["steps"])
		if len(steps) == 0 {
			return nil, fmt.Errorf("its pipeline steps are not recorded (param steps)")
		}
		var parts []any
		for _, st := range steps {
			mk, ok := estimatorFactories[st]
			if !ok {
				return nil, fmt.Errorf("pipeline step %q is not a type name and the run has no model artifact to tell its type", st)
			}
			parts = append(parts, mk())
		}
		est = experiments.NewPipeline(parts...)
	default:
		mk, ok := estimatorFactories[name]
		if !ok {
			return nil, fmt.Errorf("estimator %q is not one of the experiments package's", name)
		}
		est = mk()
	}
	keys := make([]string, 0, len(ri.Params))
	for k := range ri.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "steps" || strings.HasPrefix(k, "data.") || strings.HasPrefix(k, "cv.") || strings.HasPrefix(k, NotebookParamPrefix) ||
			strings.HasPrefix(k, "search.") || strings.HasPrefix(k, "best.") {
			continue
		}
		if err := setParamText(est, k, ri.Params[k]); err != nil {
			return nil, err
		}
	}
	return est, nil
}

// setParamText sets a parameter from its logged text, parsed as the
// field's type.
func setParamText(est any, name, text string) error {
	v, err := parseParam(est, name, text)
	if err != nil {
		return fmt.Errorf("param %s = %q: %v", name, text, err)
	}
	if err := experiments.SetParam(est, name, v); err != nil {
		return fmt.Errorf("param %s: %v", name, err)
	}
	return nil
}

// paramField finds the field a parameter name sets, as SetParam does
// ("step.Field" or "step__Field" in a pipeline, any case).
func paramField(est any, name string) (reflect.Type, bool) {
	if p, ok := est.(*experiments.Pipeline); ok {
		step, field, found := strings.Cut(name, ".")
		if !found {
			step, field, found = strings.Cut(name, "__")
		}
		if !found {
			return nil, false
		}
		for _, st := range p.Steps {
			if st.Name == step {
				return paramField(st.Estimator, field)
			}
		}
		return nil, false
	}
	v := reflect.ValueOf(est)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	f, ok := v.Elem().Type().FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, name) })
	if !ok {
		return nil, false
	}
	return f.Type, true
}

// parseParam turns logged text back into a value of the parameter's
// type. Names that are not fields are parsed as a bool, a number or a
// string, for SetParam to report.
func parseParam(est any, name, text string) (any, error) {
	t, ok := paramField(est, name)
	if !ok {
		if b, err := strconv.ParseBool(text); err == nil {
			return b, nil
		}
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return f, nil
		}
		return text, nil
	}
	if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		inner := strings.TrimSpace(text)
		if !strings.HasPrefix(inner, "[") || !strings.HasSuffix(inner, "]") {
			return nil, fmt.Errorf("want [values]")
		}
		fields := strings.Fields(inner[1 : len(inner)-1])
		if t.Kind() == reflect.Slice && len(fields) == 0 {
			return reflect.Zero(t).Interface(), nil
		}
		out := reflect.New(t).Elem()
		if t.Kind() == reflect.Slice {
			out = reflect.MakeSlice(t, len(fields), len(fields))
		} else if t.Len() != len(fields) {
			return nil, fmt.Errorf("want %d values", t.Len())
		}
		for i, f := range fields {
			e, err := parseScalar(t.Elem(), f)
			if err != nil {
				return nil, err
			}
			out.Index(i).Set(reflect.ValueOf(e).Convert(t.Elem()))
		}
		return out.Interface(), nil
	}
	v, err := parseScalar(t, text)
	if err != nil {
		return nil, err
	}
	return reflect.ValueOf(v).Convert(t).Interface(), nil
}

func parseScalar(t reflect.Type, text string) (any, error) {
	switch k := t.Kind(); {
	case k == reflect.Bool:
		return strconv.ParseBool(text)
	case k == reflect.String:
		return text, nil
	case k >= reflect.Int && k <= reflect.Int64:
		return strconv.ParseInt(text, 10, 64)
	case k >= reflect.Uint && k <= reflect.Uintptr:
		return strconv.ParseUint(text, 10, 64)
	case k == reflect.Float32 || k == reflect.Float64:
		return strconv.ParseFloat(text, 64)
	}
	return nil, fmt.Errorf("cannot parse a %s", t)
}

// describeEstimator names an estimator and its non-default parameters,
// as Pipeline.String does ("randomforestclassifier{NTrees: 200}").
func describeEstimator(est any) string {
	if p, ok := est.(*experiments.Pipeline); ok {
		return p.String()
	}
	s := experiments.NewPipeline(est).String()
	if inner, ok := strings.CutPrefix(s, "Pipeline("); ok {
		return strings.TrimSuffix(inner, ")")
	}
	return s
}

// trainData is a restored snapshot in the form the run was fitted on: a
// matrix and target, or (for pipelines fitted on datasets) a dataset and
// the target column.
type trainData struct {
	X      *mat.Dense
	y      []float64 // nil without a target
	ds     *experiments.Dataset
	target string
}

// snapshotTable is a data snapshot parsed: numeric columns as numbers,
// categorical ones as their text.
type snapshotTable struct {
	cols   []string
	levels [][]string // as DatasetInput.Levels
	rows   int
	nums   *mat.Dense // numeric columns; 0 in categorical ones
	text   [][]string // text[j]: column j's values when categorical
}

// readSnapshot parses a data snapshot logged by the autologger: CSV with
// a header, numbers in shortest exact form, categorical columns (levels
// not nil) as level text with "" for missing.
func readSnapshot(snap *Dataset, levels [][]string) (*snapshotTable, error) {
	if snap.Format != "csv" {
		return nil, fmt.Errorf("data snapshot %s is %q, not csv", ShortID(snap.SHA256), snap.Format)
	}
	r := csv.NewReader(bytes.NewReader(snap.Content))
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return &snapshotTable{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("data snapshot %s: %w", ShortID(snap.SHA256), err)
	}
	nc := len(header)
	if levels != nil && len(levels) != nc {
		return nil, fmt.Errorf("data snapshot %s has %d columns, its levels describe %d", ShortID(snap.SHA256), nc, len(levels))
	}
	t := &snapshotTable{cols: slices.Clone(header), levels: levels, text: make([][]string, nc)}
	var nums []float64
	for i := 1; ; i++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("data snapshot %s: %w", ShortID(snap.SHA256), err)
		}
		for j, f := range rec {
			if levels != nil && levels[j] != nil {
				t.text[j] = append(t.text[j], f)
				nums = append(nums, 0)
				continue
			}
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return nil, fmt.Errorf("data snapshot %s: row %d column %q: %q is not a number", ShortID(snap.SHA256), i, header[j], f)
			}
			nums = append(nums, v)
		}
		t.rows++
	}
	if t.rows > 0 {
		t.nums = mat.NewDense(t.rows, nc, nums)
	}
	return t, nil
}

// restoreData rebuilds what the run was fitted on. Matrix fits record
// columns c0, c1, ..., y, or the names of the dataset Dataset.XY made the
// matrix from (namedMatrix, the run's TagNamedMatrix); dataset fits
// record the dataset's names, with the target last, and the levels of
// its categorical columns.
func restoreData(t *snapshotTable, est any, logged *experiments.Pipeline, kind string, namedMatrix bool) (*trainData, error) {
	nr, nc, cols := t.rows, len(t.cols), t.cols
	// Which columns are features: a fit's artifact knows; otherwise the
	// target is the last column (cross-validation and search need one).
	nFeat := nc - 1
	if logged != nil && kind == experiments.KindFit {
		nFeat = len(logged.Schema())
		if nFeat != nc && nFeat != nc-1 {
			return nil, fmt.Errorf("the model expects %d input columns, the data snapshot has %d", nFeat, nc)
		}
	}
	if nFeat < 1 {
		return nil, fmt.Errorf("the data snapshot has no feature column")
	}
	matrix := t.levels == nil
	for j := 0; j < nFeat; j++ {
		matrix = matrix && cols[j] == "c"+strconv.Itoa(j)
	}
	if nFeat < nc {
		matrix = matrix && cols[nc-1] == "y"
	}
	matrix = matrix || namedMatrix
	d := &trainData{}
	if matrix {
		d.X = mat.DenseCopyOf(t.nums.Slice(0, nr, 0, nFeat))
		if nFeat < nc {
			d.y = mat.Col(nil, nFeat, t.nums)
		}
		return d, nil
	}
	p, ok := est.(*experiments.Pipeline)
	if !ok {
		return nil, fmt.Errorf("the data snapshot has named columns but the estimator is not a pipeline")
	}
	// Runs logged before level snapshots (schema version 4) hold level
	// codes: a pipeline that one-hot encoded them would see numbers.
	if t.levels == nil {
		const old = "runs logged before gopherlab kept the levels of categorical columns hold level codes, not levels, so the pipeline cannot be refitted the same way"
		if logged != nil {
			for _, c := range logged.Schema() {
				if c.Kind == experiments.Categorical {
					return nil, fmt.Errorf("input column %q was categorical: %s", c.Name, old)
				}
			}
		} else {
			for _, st := range p.Steps {
				if _, ok := st.Estimator.(*experiments.OneHotEncoder); ok {
					return nil, fmt.Errorf("the pipeline one-hot encodes categorical columns: %s", old)
				}
			}
		}
	}
	ds := &experiments.Dataset{}
	for j, name := range cols {
		var err error
		if t.levels != nil && t.levels[j] != nil {
			err = ds.AddLevels(name, t.text[j], t.levels[j])
		} else {
			err = ds.AddFloats(name, mat.Col(nil, j, t.nums))
		}
		if err != nil {
			return nil, fmt.Errorf("data snapshot column %q: %v", name, err)
		}
	}
	d.ds = ds
	if nFeat < nc {
		d.target = cols[nc-1]
	}
	return d, nil
}

// check appends a comparison.
func (r *Reproduction) check(metric string, step int, source string, logged, got float64) {
	r.Checks = append(r.Checks, MetricCheck{Metric: metric, Step: step, Source: source,
		Logged: logged, Reproduced: got, Match: sameBits(logged, got)})
}

// compareMetrics compares every metric of a run (all steps) with want,
// which returns the recomputed value of key at step (ok false when it
// has none). prefix names child runs.
func (s *Store) compareMetrics(r *Reproduction, runID, prefix string, want func(key string, step int) (float64, bool)) error {
	keys, err := s.MetricKeys(runID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if IsTiming(k) {
			r.Skipped = append(r.Skipped, prefix+k+" (a timing)")
			continue
		}
		h, err := s.MetricHistory(runID, k)
		if err != nil {
			return err
		}
		for i := 0; i < h.Len(); i++ {
			got, ok := want(k, h.Steps[i])
			if !ok {
				return fmt.Errorf("metric %s%s at step %d: not recomputed", prefix, k, h.Steps[i])
			}
			r.check(prefix+k, h.Steps[i], "metric", h.Values[i], got)
		}
	}
	return nil
}

func (s *Store) reproduceFit(r *Reproduction, est any, logged *experiments.Pipeline, d *trainData) error {
	predict := func(m any) ([]float64, error) {
		if d.ds != nil {
			return m.(*experiments.Pipeline).PredictDataset(d.ds)
		}
		return m.(experiments.Model).Predict(d.X)
	}
	var err error
	if d.ds != nil {
		err = est.(*experiments.Pipeline).FitDataset(d.ds, d.target)
	} else {
		m, ok := est.(experiments.Model)
		if !ok {
			return fmt.Errorf("%T is not a model", est)
		}
		err = m.Fit(d.X, d.y)
	}
	if err != nil {
		return fmt.Errorf("refit: %v", err)
	}
	r.Model = est
	want, err := predict(logged)
	if err != nil {
		return fmt.Errorf("logged model: %v", err)
	}
	got, err := predict(est)
	if err != nil {
		return fmt.Errorf("refitted model: %v", err)
	}
	if len(got) != len(want) {
		return fmt.Errorf("refitted model predicts %d rows, logged model %d", len(got), len(want))
	}
	y := d.y
	if d.ds != nil && d.target != "" {
		// Predictions are level indexes when the target is categorical.
		if k, _ := d.ds.Kind(d.target); k == experiments.Categorical {
			y, err = d.ds.Codes(d.target, est.(*experiments.Pipeline).TargetLevels())
		} else {
			y, err = d.ds.Floats(d.target)
		}
		if err != nil {
			return err
		}
	}
	if y != nil {
		name, score := "train_r2", experiments.R2
		if isClassifier(est) {
			name, score = "train_accuracy", experiments.Accuracy
		}
		lw, err1 := score(y, want)
		lg, err2 := score(y, got)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		r.check(name, 0, "model.gob", lw, lg)
	}
	same := 0
	for i := range got {
		if sameBits(got[i], want[i]) {
			same++
		}
	}
	r.check("identical_predictions", 0, "model.gob", float64(len(want)), float64(same))
	keys, err := s.MetricKeys(r.RunID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		switch {
		case IsTiming(k):
			r.Skipped = append(r.Skipped, k+" (a timing)")
		case k != "identical_predictions":
			// Logged when the model's predictions were scored, on
			// other data than the training data restored here: the
			// refit's predictions, compared above, stand for it.
			r.Skipped = append(r.Skipped, k+" (scored after the fit, on other data: the refit's identical_predictions stand for it)")
		}
	}
	return nil
}

func isClassifier(est any) bool {
	if p, ok := est.(*experiments.Pipeline); ok {
		return p.Classes() != nil
	}
	_, ok := est.(experiments.Classifier)
	return ok
}

// cvOptions rebuilds the cross-validation settings from the run's cv.
// params.
func cvOptions(ri *RunInfo) (experiments.CVOptions, error) {
	var o experiments.CVOptions
	if n := ri.Params["cv.folds"]; n != "" {
		return o, fmt.Errorf("it used %s explicit folds (CVOptions.Folds), which are not recorded", n)
	}
	k, err := strconv.Atoi(ri.Params["cv.k"])
	if err != nil {
		return o, fmt.Errorf("param cv.k = %q: %v", ri.Params["cv.k"], err)
	}
	o.K = k
	if sh := ri.Params["cv.shuffle"]; sh != "" {
		if o.Shuffle, err = strconv.ParseBool(sh); err != nil {
			return o, fmt.Errorf("param cv.shuffle = %q: %v", sh, err)
		}
	}
	if o.Shuffle {
		if o.Seed, err = strconv.ParseInt(ri.Params["cv.seed"], 10, 64); err != nil {
			return o, fmt.Errorf("param cv.seed = %q: %v", ri.Params["cv.seed"], err)
		}
	}
	return o, nil
}

func (s *Store) reproduceCV(r *Reproduction, ri *RunInfo, est any, d *trainData) error {
	opts, err := cvOptions(ri)
	if err != nil {
		return err
	}
	keys, err := s.MetricKeys(ri.ID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if m, ok := strings.CutPrefix(k, "mean_"); ok {
			opts.Metrics = append(opts.Metrics, m)
		}
		if strings.HasPrefix(k, "fold_train_") {
			opts.TrainScores = true
		}
	}
	if len(opts.Metrics) == 0 {
		return fmt.Errorf("it logged no mean_ metric to reproduce")
	}
	var res *experiments.CVResult
	if d.ds != nil {
		res, err = experiments.CrossValidateDataset(est.(*experiments.Pipeline), d.ds, d.target, opts)
	} else {
		m, ok := est.(experiments.Model)
		if !ok {
			return fmt.Errorf("%T is not a model", est)
		}
		res, err = experiments.CrossValidate(m, d.X, d.y, opts)
	}
	if err != nil {
		return fmt.Errorf("cross-validate: %v", err)
	}
	r.Model = est
	at := func(xs []float64, i int) (float64, bool) {
		if i < 0 || i >= len(xs) {
			return 0, false
		}
		return xs[i], true
	}
	return s.compareMetrics(r, ri.ID, "", func(key string, step int) (float64, bool) {
		switch {
		case strings.HasPrefix(key, "mean_"):
			return res.Mean(key[5:]), step == 0 && res.Test[key[5:]] != nil
		case strings.HasPrefix(key, "std_"):
			return res.Std(key[4:]), step == 0 && res.Test[key[4:]] != nil
		case strings.HasPrefix(key, "fold_train_"):
			return at(res.Train[key[11:]], step)
		case strings.HasPrefix(key, "fold_"):
			return at(res.Test[key[5:]], step)
		}
		return 0, false
	})
}

func (s *Store) reproduceGrid(r *Reproduction, ri *RunInfo, est any, d *trainData) error {
	opts, err := cvOptions(ri)
	if err != nil {
		return err
	}
	model, ok := est.(experiments.Model)
	if !ok {
		return fmt.Errorf("%T is not a model", est)
	}
	metric := ri.Params["search.metric"]
	g := &experiments.GridSearch{Model: model, Metric: metric, CV: opts, Grid: map[string][]any{}}
	if rf := ri.Params["search.refit"]; rf != "" {
		refit, err := strconv.ParseBool(rf)
		if err != nil {
			return fmt.Errorf("param search.refit = %q: %v", rf, err)
		}
		g.NoRefit = !refit
	}
	// The grid: each key's values in the order the trials first used them
	// (the trials are in grid order), parsed as the parameter's type. The
	// trials' params are exact where search.grid.* is fmt's formatting.
	trials, err := s.Children(ri.ID)
	if err != nil {
		return err
	}
	var gridKeys []string
	for k := range ri.Params {
		if g, ok := strings.CutPrefix(k, "search.grid."); ok {
			gridKeys = append(gridKeys, g)
		}
	}
	sort.Strings(gridKeys)
	if len(gridKeys) == 0 || len(trials) == 0 {
		return fmt.Errorf("its grid or its trials are not recorded")
	}
	for _, k := range gridKeys {
		seen := map[string]bool{}
		for _, tr := range trials {
			text, ok := tr.Params[k]
			if !ok {
				return fmt.Errorf("trial %s lacks grid param %s", tr.Name, k)
			}
			if seen[text] {
				continue
			}
			seen[text] = true
			v, err := parseParam(model, k, text)
			if err != nil {
				return fmt.Errorf("grid param %s = %q: %v", k, text, err)
			}
			g.Grid[k] = append(g.Grid[k], v)
		}
	}
	if d.ds != nil {
		err = g.FitDataset(d.ds, d.target)
	} else {
		err = g.Fit(d.X, d.y)
	}
	if err != nil {
		return fmt.Errorf("grid search: %v", err)
	}
	r.Model = g
	results := g.Results()
	byParams := map[string]*experiments.GridResult{}
	var best *experiments.GridResult
	for i := range results {
		byParams[gridKey(gridKeys, func(k string) string { return FormatValue(results[i].Params[k]) })] = &results[i]
		if results[i].Rank == 1 && best == nil {
			best = &results[i]
		}
	}
	if metric == "" {
		metric = strings.TrimPrefix(firstKey(ri.Metrics, "best_std_"), "best_std_")
	}
	if err := s.compareMetrics(r, ri.ID, "", func(key string, step int) (float64, bool) {
		switch {
		case best == nil || step != 0:
			return 0, false
		case key == "best_std_"+metric:
			return best.Std, true
		case key == "best_"+metric:
			return best.Mean, true
		}
		return 0, false
	}); err != nil {
		return err
	}
	sort.SliceStable(trials, func(i, j int) bool { return trialIndex(trials[i].Name) < trialIndex(trials[j].Name) })
	for _, tr := range trials {
		res := byParams[gridKey(gridKeys, func(k string) string { return tr.Params[k] })]
		if res == nil {
			return fmt.Errorf("%s: the search has no candidate with its params", tr.Name)
		}
		if err := s.compareMetrics(r, tr.ID, tr.Name+"/", func(key string, step int) (float64, bool) {
			switch key {
			case "mean_" + metric:
				return res.Mean, step == 0
			case "std_" + metric:
				return res.Std, step == 0
			case "rank":
				return float64(res.Rank), step == 0
			case "fold_" + metric:
				if step >= 0 && step < len(res.Scores) {
					return res.Scores[step], true
				}
			}
			return 0, false
		}); err != nil {
			return err
		}
	}
	return nil
}

func gridKey(keys []string, value func(string) string) string {
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + value(k) + "\x00")
	}
	return b.String()
}

func firstKey(m map[string]float64, prefix string) string {
	var keys []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// trialIndex orders "trial 10" after "trial 9".
func trialIndex(name string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(name, "trial "))
	if err != nil {
		return math.MaxInt
	}
	return n
}

// Mismatches returns the checks that did not match.
func (r *Reproduction) Mismatches() []MetricCheck {
	var out []MetricCheck
	for _, c := range r.Checks {
		if !c.Match {
			out = append(out, c)
		}
	}
	return out
}

// verdict says in words whether the run was reproduced.
func (r *Reproduction) verdict() string {
	if r.Match {
		return fmt.Sprintf("reproduced exactly: all %d values match bit for bit", len(r.Checks))
	}
	return fmt.Sprintf("NOT reproduced: %d of %d values differ", len(r.Mismatches()), len(r.Checks))
}

// exact writes a number so that it reads back exactly (NaN, +Inf and
// -Inf spelled out).
func exact(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// rows returns the comparison table as text cells, header first.
func (r *Reproduction) rows() [][]string {
	rows := [][]string{{"metric", "step", "logged", "reproduced", "match"}}
	for _, c := range r.Checks {
		m := "yes"
		if !c.Match {
			m = "NO (" + exact(c.Reproduced-c.Logged) + ")"
		}
		name := c.Metric
		if c.Source != "metric" {
			name += " [" + c.Source + "]"
		}
		rows = append(rows, []string{name, strconv.Itoa(c.Step), exact(c.Logged), exact(c.Reproduced), m})
	}
	return rows
}

func (r *Reproduction) header() []string {
	lines := []string{
		fmt.Sprintf("Run %s (%s, %s, experiment %s): %s.", r.Name, ShortID(r.RunID), r.Kind, r.Experiment, r.verdict()),
		fmt.Sprintf("Estimator: %s", r.Estimator),
		fmt.Sprintf("Data: %s, %d rows × %d columns, SHA-256 %s", r.Data.Name, r.Data.Rows, r.Data.Cols, r.Data.SHA256),
	}
	if r.HasSeed {
		lines = append(lines, fmt.Sprintf("Seed: %d", r.Seed))
	}
	if len(r.Skipped) > 0 {
		lines = append(lines, "Not compared: "+strings.Join(r.Skipped, ", "))
	}
	return lines
}

// String returns the reproduction as text: a verdict, then a table of
// logged and reproduced values (shortest exact form).
func (r *Reproduction) String() string {
	var b strings.Builder
	for _, l := range r.header() {
		b.WriteString(l + "\n")
	}
	writeTable(&b, r.rows())
	return b.String()
}

// HTML returns the reproduction as an HTML verdict and table; values that
// differ are highlighted.
func (r *Reproduction) HTML() string {
	var b strings.Builder
	color := "#2a6e1a"
	if !r.Match {
		color = "#b0261b"
	}
	b.WriteString(`<div class="gopherlab-reproduction" style="font-family:sans-serif;font-size:13px">`)
	for i, l := range r.header() {
		style := ""
		if i == 0 {
			style = ` style="font-weight:bold;color:` + color + `"`
		}
		fmt.Fprintf(&b, "<p%s>%s</p>\n", style, html.EscapeString(l))
	}
	rows := r.rows()
	b.WriteString(`<table style="border-collapse:collapse"><thead><tr>`)
	for _, h := range rows[0] {
		b.WriteString(`<th style="border-bottom:2px solid #888;padding:4px 10px;text-align:left">` + html.EscapeString(h) + "</th>")
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for i, row := range rows[1:] {
		style := ""
		if !r.Checks[i].Match {
			style = ` style="background:#fde2df"`
		}
		b.WriteString("<tr" + style + ">")
		for j, cell := range row {
			align := "right"
			if j == 0 || j == 4 {
				align = "left"
			}
			fmt.Fprintf(&b, `<td style="border-bottom:1px solid #ddd;padding:3px 10px;text-align:%s;font-variant-numeric:tabular-nums">%s</td>`, align, html.EscapeString(cell))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody></table></div>")
	return b.String()
}
