package experiments

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// remoteExecutor runs each fit as another process would: it encodes the
// job, decodes it afresh for every task and runs the task on the copy.
type remoteExecutor struct {
	mu   sync.Mutex
	jobs []string // ops seen
}

func (e *remoteExecutor) RunFits(j *FitJob) ([]FitScores, error) {
	e.mu.Lock()
	e.jobs = append(e.jobs, j.Op)
	e.mu.Unlock()
	b, err := j.Encode()
	if err != nil {
		return nil, err
	}
	out := make([]FitScores, len(j.Tasks))
	// Last task first: the order tasks run in must not matter.
	for i := len(j.Tasks) - 1; i >= 0; i-- {
		dj, err := DecodeFitJob(b)
		if err != nil {
			return nil, err
		}
		if out[i], err = dj.Run(j.Tasks[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// withExecutor runs f with e installed.
func withExecutor(t *testing.T, e FitExecutor, f func()) {
	t.Helper()
	prev := SetFitExecutor(e)
	defer SetFitExecutor(prev)
	f()
}

// TestFitExecutorSameResults checks that fits run through an encoded job
// in "another process" give the local results bit for bit, for every
// model selection that has independent fits.
func TestFitExecutorSameResults(t *testing.T) {
	X, y := loadIris(t)
	ds := irisDataset(t)
	cases := []struct {
		name string
		run  func() (any, error)
	}{
		{"cross validate", func() (any, error) {
			r, err := CrossValidate(NewPipeline(&StandardScaler{}, &LogisticRegression{C: 0.5}), X, y,
				CVOptions{K: 4, Shuffle: true, Seed: 3, Metrics: []string{"accuracy", "f1_macro", "log_loss"}, TrainScores: true})
			if err != nil {
				return nil, err
			}
			return [][]float64{r.Test["accuracy"], r.Test["f1_macro"], r.Test["log_loss"], r.Train["accuracy"]}, nil
		}},
		{"cross validate bare forest", func() (any, error) {
			r, err := CrossValidate(&RandomForestClassifier{NTrees: 5, Seed: 2}, X, y, CVOptions{K: 3})
			if err != nil {
				return nil, err
			}
			return [][]float64{r.Test["accuracy"]}, nil
		}},
		{"cross validate dataset", func() (any, error) {
			r, err := CrossValidateDataset(NewPipeline(&OneHotEncoder{}, &StandardScaler{}, &KNeighborsClassifier{K: 3}), ds, "species", CVOptions{K: 3, Shuffle: true, Seed: 2})
			if err != nil {
				return nil, err
			}
			return [][]float64{r.Test["accuracy"]}, nil
		}},
		{"grid search dataset", func() (any, error) {
			gs := &GridSearch{
				Model: NewPipeline(&OneHotEncoder{}, &StandardScaler{}, &LogisticRegression{}),
				Grid:  map[string][]any{"logisticregression.C": {0.01, 1.0, 100.0}},
				CV:    CVOptions{K: 3, Shuffle: true, Seed: 1},
			}
			if err := gs.FitDataset(ds, "species"); err != nil {
				return nil, err
			}
			pred, err := gs.BestModel().(*Pipeline).PredictDataset(ds)
			if err != nil {
				return nil, err
			}
			var out [][]float64
			for _, r := range gs.Results() {
				out = append(out, append([]float64{r.Mean, r.Std, float64(r.Rank)}, r.Scores...))
			}
			return append(out, pred), nil
		}},
		{"validation curve", func() (any, error) {
			c, err := ValidationCurve(&DecisionTreeClassifier{}, X, y, "MaxDepth", []any{1, 2, 4}, CVOptions{K: 3})
			if err != nil {
				return nil, err
			}
			return [][]float64{c.TrainMean, c.TestMean, c.TestStd}, nil
		}},
		{"learning curve", func() (any, error) {
			c, err := LearningCurve(&GaussianNB{}, X, y, []float64{0.3, 1}, CVOptions{K: 3, Seed: 4})
			if err != nil {
				return nil, err
			}
			return [][]float64{c.X, c.TrainMean, c.TestMean}, nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			local, err := tc.run()
			if err != nil {
				t.Fatal(err)
			}
			e := &remoteExecutor{}
			var remote any
			withExecutor(t, e, func() { remote, err = tc.run() })
			if err != nil {
				t.Fatal(err)
			}
			if len(e.jobs) == 0 {
				t.Fatal("the executor ran no job")
			}
			l, r := local.([][]float64), remote.([][]float64)
			if len(l) != len(r) {
				t.Fatalf("%d result rows locally, %d through the executor", len(l), len(r))
			}
			for i := range l {
				if !sameBits(l[i], r[i]) {
					t.Errorf("row %d: local %v, executor %v", i, l[i], r[i])
				}
			}
		})
	}
}

func TestFitExecutorErrors(t *testing.T) {
	X, y := loadIris(t)
	fail := FitExecutorFunc(func(j *FitJob) ([]FitScores, error) { return nil, errors.New("cluster down") })
	withExecutor(t, fail, func() {
		if _, err := CrossValidate(&GaussianNB{}, X, y, CVOptions{K: 3}); err == nil || !strings.Contains(err.Error(), "cluster down") {
			t.Errorf("executor error: %v", err)
		}
	})
	short := FitExecutorFunc(func(j *FitJob) ([]FitScores, error) { return make([]FitScores, 1), nil })
	withExecutor(t, short, func() {
		if _, err := CrossValidate(&GaussianNB{}, X, y, CVOptions{K: 3}); err == nil || !strings.Contains(err.Error(), "returned 1 results for 3 fits") {
			t.Errorf("short results: %v", err)
		}
	})
	missing := FitExecutorFunc(func(j *FitJob) ([]FitScores, error) { return make([]FitScores, len(j.Tasks)), nil })
	withExecutor(t, missing, func() {
		if _, err := CrossValidate(&GaussianNB{}, X, y, CVOptions{K: 3}); err == nil || !strings.Contains(err.Error(), "no test score accuracy") {
			t.Errorf("missing scores: %v", err)
		}
	})
	// An estimator of another package cannot be sent.
	type myModel struct{ GaussianNB }
	var encErr error
	withExecutor(t, FitExecutorFunc(func(j *FitJob) ([]FitScores, error) {
		_, encErr = j.Encode()
		return nil, encErr
	}), func() {
		CrossValidate(&myModel{}, X, y, CVOptions{K: 3})
	})
	if encErr == nil || !strings.Contains(encErr.Error(), "cannot be sent to another process") {
		t.Errorf("encode of a foreign estimator: %v", encErr)
	}
	if _, err := DecodeFitJob([]byte("nonsense")); err == nil {
		t.Error("decoded nonsense")
	}
	// Tasks out of range are refused.
	withExecutor(t, FitExecutorFunc(func(j *FitJob) ([]FitScores, error) {
		_, err := j.Run(FitTask{Model: 1, Fold: 0})
		return nil, err
	}), func() {
		if _, err := CrossValidate(&GaussianNB{}, X, y, CVOptions{K: 3}); err == nil || !strings.Contains(err.Error(), "no task") {
			t.Errorf("task out of range: %v", err)
		}
	})
	if prev := SetFitExecutor(nil); prev != nil {
		t.Errorf("executor left installed: %v", reflect.TypeOf(prev))
	}
}

func TestFitJobWire(t *testing.T) {
	type inner struct {
		A []int
		M map[string]float64
	}
	type rec struct {
		B      bool
		I      int64
		U      uint8
		F      float64
		S      string
		Fs     []float64
		Nil    []int32
		Empty  []string
		Arr    [2]int32
		P      *inner
		NilP   *inner
		In     inner
		Any    any
		Fn     func()
		hidden int
	}
	in := rec{B: true, I: -7, U: 200, F: math.NaN(), S: "héllo", Fs: []float64{1.5, math.Inf(-1), math.NaN()}, Empty: []string{},
		Arr: [2]int32{-1, 2}, P: &inner{A: []int{3, -4}, M: map[string]float64{"b": 2, "a": 1}}, hidden: 5}
	b, err := wireMarshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := wireMarshal(&in)
	if string(b) != string(b2) {
		t.Error("two encodings of one value differ")
	}
	var out rec
	if err := wireUnmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !out.B || out.I != -7 || out.U != 200 || !math.IsNaN(out.F) || out.S != "héllo" || !sameBits(out.Fs, in.Fs) ||
		out.Nil != nil || out.Empty == nil || len(out.Empty) != 0 || out.Arr != in.Arr || out.P == nil ||
		!reflect.DeepEqual(out.P.A, in.P.A) || !reflect.DeepEqual(out.P.M, in.P.M) || out.NilP != nil || out.hidden != 0 {
		t.Errorf("round trip: %+v", out)
	}
	for n := 0; n < len(b); n++ {
		if err := wireUnmarshal(b[:n], &out); err == nil {
			t.Errorf("a truncation to %d bytes decoded", n)
		}
	}
	in.Any = 1
	if _, err := wireMarshal(&in); err == nil || !strings.Contains(err.Error(), "rec.Any") {
		t.Errorf("a non-nil interface field: %v", err)
	}
}
