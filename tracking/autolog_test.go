package tracking

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/experiments"
	"gonum.org/v1/gonum/mat"
)

// blobs returns two separable classes of n rows each.
func blobs(n int) (*mat.Dense, []float64) {
	X := mat.NewDense(2*n, 2, nil)
	y := make([]float64, 2*n)
	for i := 0; i < 2*n; i++ {
		c := float64(i % 2)
		X.Set(i, 0, c*4+math.Sin(float64(i)))
		X.Set(i, 1, c*3+math.Cos(float64(i)*1.3))
		y[i] = c
	}
	return X, y
}

// autologTo installs an Autologger on a fresh store path for one test.
func autologTo(t *testing.T) (string, *Autologger, *bytes.Buffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "auto.db")
	al := NewAutologger(path)
	var warn bytes.Buffer
	al.Errors = &warn
	prev := experiments.SetTracker(al)
	SetCellInfo("pipe.Fit(X, y)", "/home/u/work/churn model.ipynb", 3)
	t.Cleanup(func() {
		experiments.SetTracker(prev)
		SetCellInfo("", "", 0)
		al.Close()
	})
	return path, al, &warn
}

func reopen(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// topRuns returns the runs without a parent, oldest first.
func topRuns(t *testing.T, s *Store) []RunInfo {
	t.Helper()
	all, err := s.SearchRuns(SearchQuery{OrderBy: "start_time"})
	if err != nil {
		t.Fatal(err)
	}
	var out []RunInfo
	for _, r := range all {
		if r.ParentID == "" {
			out = append(out, r)
		}
	}
	return out
}

func children(t *testing.T, s *Store, id string) []RunInfo {
	t.Helper()
	kids, err := s.Children(id)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(kids, func(i, j int) bool { return kids[i].Name < kids[j].Name })
	return kids
}

func TestAutologPipelineFit(t *testing.T) {
	path, al, warn := autologTo(t)
	X, y := blobs(20)
	pipe := experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.LogisticRegression{C: 10})
	if err := pipe.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if al.Err() != nil || warn.Len() != 0 {
		t.Fatalf("autolog error: %v %s", al.Err(), warn)
	}
	s := reopen(t, path)
	runs := topRuns(t, s)
	all, _ := s.SearchRuns(SearchQuery{})
	if len(runs) != 1 || len(all) != 1 {
		t.Fatalf("want one run (the inner model fit is not logged), have %d top, %d in all", len(runs), len(all))
	}
	r := runs[0]
	checks := []struct{ name, got, want string }{
		{"experiment", r.Experiment, "churn model"},
		{"status", r.Status, StatusFinished},
		{"name", r.Name, "pipeline"},
		{"tag autolog", r.Tags["autolog"], experiments.KindFit},
		{"steps", r.Params["steps"], "[standardscaler logisticregression]"},
		{"C", r.Params["logisticregression.C"], "10"},
		{"default MaxIter", r.Params["logisticregression.MaxIter"], "0"},
		{"source", r.Source, "pipe.Fit(X, y)"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if _, ok := r.Metrics["fit_time_s"]; !ok {
		t.Errorf("metrics %v lack fit_time_s", r.Metrics)
	}
	in, err := s.Inputs(r.ID)
	if err != nil || len(in) != 1 {
		t.Fatalf("inputs %v, %v", in, err)
	}
	if r.Params["data.rows"] != "40" || r.Params["data.cols"] != "3" {
		t.Errorf("data shape params %v", r.Params)
	}
	if in[0].Role != "train" || in[0].Rows != 40 || strings.Join(in[0].Columns, ",") != "c0,c1,y" {
		t.Errorf("dataset %+v", in[0])
	}
	b, err := s.ReadArtifact(r.ID, "model.gob")
	if err != nil {
		t.Fatal(err)
	}
	p2, err := experiments.Load(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := pipe.Predict(X)
	got, err := p2.Predict(X)
	if err != nil || !slicesEqual(got, want) {
		t.Errorf("artifact predicts %v, %v; want %v", got, err, want)
	}
}

func slicesEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAutologModelFitAndDataset(t *testing.T) {
	path, _, _ := autologTo(t)
	X, y := blobs(10)
	rf := &experiments.RandomForestClassifier{NTrees: 5, Seed: 7}
	if err := rf.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	ds, err := experiments.FromColumns([]string{"size", "color", "label"},
		[]float64{1, 2, 3, 4, 5, 6}, []string{"red", "blue", "red", "", "blue", "red"}, []string{"a", "b", "a", "b", "a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	pipe := experiments.NewPipeline(&experiments.OneHotEncoder{}, &experiments.SimpleImputer{}, &experiments.GaussianNB{})
	if err := pipe.FitDataset(ds, "label"); err != nil {
		t.Fatal(err)
	}
	s := reopen(t, path)
	runs := topRuns(t, s)
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2", len(runs))
	}
	rfRun, pRun := runs[0], runs[1]
	if rfRun.Name != "randomforestclassifier" || rfRun.Params["NTrees"] != "5" || !rfRun.HasSeed || rfRun.Seed != 7 {
		t.Errorf("forest run %s %v seed %v %d", rfRun.Name, rfRun.Params, rfRun.HasSeed, rfRun.Seed)
	}
	b, err := s.ReadArtifact(rfRun.ID, "model.gob")
	if err != nil {
		t.Fatal(err)
	}
	p2, err := experiments.Load(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := rf.Predict(X)
	if got, err := p2.Predict(X); err != nil || !slicesEqual(got, want) {
		t.Errorf("forest artifact predicts %v, %v; want %v", got, err, want)
	}
	in, err := s.Inputs(pRun.ID)
	if err != nil || len(in) != 1 {
		t.Fatalf("inputs %v, %v", in, err)
	}
	d, err := s.Dataset(in[0].SHA256)
	if err != nil {
		t.Fatal(err)
	}
	// Levels are sorted: blue 0, red 1; the target comes last.
	wantCSV := "size,color,label\n1,1,0\n2,0,1\n3,1,0\n4,NaN,1\n5,0,0\n6,1,1\n"
	if string(d.Content) != wantCSV {
		t.Errorf("dataset content\n%s\nwant\n%s", d.Content, wantCSV)
	}
}

func TestAutologCrossValidate(t *testing.T) {
	path, al, _ := autologTo(t)
	X, y := blobs(20)
	res, err := experiments.CrossValidate(&experiments.LogisticRegression{}, X, y,
		experiments.CVOptions{K: 4, Shuffle: true, Seed: 3, Metrics: []string{"accuracy", "f1_macro"}})
	if err != nil {
		t.Fatal(err)
	}
	if al.Err() != nil {
		t.Fatal(al.Err())
	}
	s := reopen(t, path)
	runs := topRuns(t, s)
	if len(runs) != 1 {
		t.Fatalf("%d top runs, want 1 (fold fits are not runs of their own)", len(runs))
	}
	r := runs[0]
	if r.Name != "cv logisticregression" || r.Tags["autolog"] != experiments.KindCrossValidate || r.Params["cv.k"] != "4" || r.Params["cv.seed"] != "3" || r.Seed != 3 {
		t.Errorf("cv run tags %v params %v seed %d", r.Tags, r.Params, r.Seed)
	}
	if r.Metrics["mean_accuracy"] != res.Mean("accuracy") || r.Metrics["std_f1_macro"] != res.Std("f1_macro") {
		t.Errorf("metrics %v, want mean acc %v", r.Metrics, res.Mean("accuracy"))
	}
	series, err := s.MetricHistory(r.ID, "fold_accuracy")
	if err != nil || series.Len() != 4 {
		t.Fatalf("fold_accuracy history %v, %v", series, err)
	}
	for i := 0; i < 4; i++ {
		if x, v := series.XY(i); x != float64(i) || v != res.Test["accuracy"][i] {
			t.Errorf("fold %d: step %v value %v, want %v", i, x, v, res.Test["accuracy"][i])
		}
	}
	kids := children(t, s, r.ID)
	if len(kids) != 4 {
		t.Fatalf("%d fold runs, want 4", len(kids))
	}
	for i, k := range kids {
		if k.Params["fold"] != string(rune('0'+i)) || k.Metrics["accuracy"] != res.Test["accuracy"][i] || k.Status != StatusFinished {
			t.Errorf("fold run %d: %v %v %s", i, k.Params, k.Metrics, k.Status)
		}
	}
	if in, _ := s.Inputs(r.ID); len(in) != 1 || in[0].Rows != 40 {
		t.Errorf("cv inputs %v", in)
	}
}

func TestAutologGridSearch(t *testing.T) {
	path, _, _ := autologTo(t)
	X, y := blobs(20)
	pipe := experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.LogisticRegression{})
	gs := &experiments.GridSearch{Model: pipe, Grid: map[string][]any{"logisticregression.C": {0.01, 1, 100}},
		CV: experiments.CVOptions{K: 3}}
	if err := gs.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	s := reopen(t, path)
	runs := topRuns(t, s)
	if len(runs) != 1 {
		t.Fatalf("%d top runs, want 1", len(runs))
	}
	r := runs[0]
	if r.Tags["autolog"] != experiments.KindGridSearch || r.Params["search.metric"] != "accuracy" ||
		r.Params["search.grid.logisticregression.C"] != "[0.01 1 100]" || r.Metrics["best_accuracy"] != gs.BestScore() {
		t.Errorf("grid run params %v metrics %v", r.Params, r.Metrics)
	}
	if _, ok := r.Params["logisticregression.C"]; ok {
		t.Errorf("swept parameter logged on the parent: %v", r.Params)
	}
	kids := children(t, s, r.ID)
	if len(kids) != 3 {
		t.Fatalf("%d trial runs, want 3", len(kids))
	}
	results := gs.Results()
	for i, k := range kids {
		if k.Params["logisticregression.C"] != FormatValue(results[i].Params["logisticregression.C"]) ||
			k.Metrics["mean_accuracy"] != results[i].Mean || k.Metrics["rank"] != float64(results[i].Rank) {
			t.Errorf("trial %d: %v %v, want %v", i, k.Params, k.Metrics, results[i])
		}
		if n, _ := s.MetricCount(k.ID); n["fold_accuracy"] != 3 {
			t.Errorf("trial %d fold scores %v", i, n)
		}
	}
	if _, err := s.ReadArtifact(r.ID, "model.gob"); err != nil {
		t.Errorf("best model artifact: %v", err)
	}
	// A bare model's best is saved too, as a one-step pipeline.
	gs2 := &experiments.GridSearch{Model: &experiments.KNeighborsClassifier{}, Grid: map[string][]any{"K": {1, 3}}, CV: experiments.CVOptions{K: 2}}
	if err := gs2.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	runs = topRuns(t, s)
	b, err := s.ReadArtifact(runs[len(runs)-1].ID, "model.gob")
	if err != nil {
		t.Fatal(err)
	}
	p2, err := experiments.Load(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := gs2.Predict(X)
	if got, err := p2.Predict(X); err != nil || !slicesEqual(got, want) {
		t.Errorf("best knn artifact predicts %v, %v; want %v", got, err, want)
	}
}

func TestAutologFailed(t *testing.T) {
	X := mat.NewDense(3, 1, []float64{1, math.NaN(), 3})
	y := []float64{1, 2, 3}
	tests := []struct {
		name string
		run  func() error
	}{
		{"fit", func() error { return (&experiments.LinearRegression{}).Fit(X, y) }},
		{"pipeline fit", func() error { return experiments.NewPipeline(&experiments.Ridge{}).Fit(X, y) }},
		{"cross validate", func() error {
			_, err := experiments.CrossValidate(&experiments.LinearRegression{}, X, y, experiments.CVOptions{K: 3})
			return err
		}},
		{"grid search", func() error {
			return (&experiments.GridSearch{Model: &experiments.Ridge{}, Grid: map[string][]any{"Alpha": {1, 2}}}).Fit(X, y)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path, _, _ := autologTo(t)
			fitErr := tc.run()
			if fitErr == nil {
				t.Fatal("fit with NaN succeeded")
			}
			s := reopen(t, path)
			runs := topRuns(t, s)
			if len(runs) != 1 || runs[0].Status != StatusFailed || runs[0].Error != fitErr.Error() {
				t.Fatalf("runs %+v, want one FAILED with %q", runs, fitErr)
			}
			if a, _ := s.Artifacts(runs[0].ID); len(a) != 0 {
				t.Errorf("failed run has artifacts %v", a)
			}
		})
	}
}

func TestAutologNothingWritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auto.db")
	al := NewAutologger(path)
	defer al.Close()
	prev := experiments.SetTracker(nil)
	defer experiments.SetTracker(prev)
	X, y := blobs(10)
	// No tracker set: nothing is written.
	if err := experiments.NewPipeline(&experiments.LogisticRegression{}).Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if _, err := experiments.CrossValidate(&experiments.GaussianNB{}, X, y, experiments.CVOptions{K: 2}); err != nil {
		t.Fatal(err)
	}
	// A tracker set but no fit: the store is not even created.
	experiments.SetTracker(al)
	experiments.SetTracker(nil)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("store exists without any event: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files written: %v", entries)
	}
}

func TestAutologSetPath(t *testing.T) {
	path, al, _ := autologTo(t)
	X, y := blobs(10)
	if err := (&experiments.GaussianNB{}).Fit(X, y); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other.db")
	if err := al.SetPath(other); err != nil {
		t.Fatal(err)
	}
	if al.Path() != other {
		t.Fatalf("path %q, want %q", al.Path(), other)
	}
	if err := (&experiments.GaussianNB{}).Fit(X, y); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, other} {
		if n := len(topRuns(t, reopen(t, p))); n != 1 {
			t.Errorf("%s: %d runs, want 1", filepath.Base(p), n)
		}
	}
}

func TestAutologCommands(t *testing.T) {
	al := NewAutologger(filepath.Join(t.TempDir(), "a.db"))
	defer al.Close()
	prev := experiments.SetTracker(nil)
	defer experiments.SetTracker(prev)
	t.Setenv(EnvDB, "")
	other := filepath.Join(t.TempDir(), "b.db")
	tests := []struct {
		cmd, args, out string
		on             bool
		err            bool
	}{
		{"autolog", "", "autolog off", false, false},
		{"autolog", "on", "autolog on", true, false},
		{"autolog", " on ", "autolog on", true, false},
		{"autolog", "maybe", "", true, true},
		{"tracking", other, "tracking store " + other, true, false},
		{"tracking", "", "tracking store " + other, true, false},
		{"autolog", "off", "autolog off (store " + other + ")", false, false},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		var err error
		if tc.cmd == "autolog" {
			err = al.AutologCommand(tc.args, &buf)
		} else {
			err = al.TrackingCommand(tc.args, &buf)
		}
		if (err != nil) != tc.err || !strings.HasPrefix(buf.String(), tc.out) {
			t.Errorf("%%%s %q: %q, %v", tc.cmd, tc.args, buf.String(), err)
		}
		if on := experiments.CurrentTracker() != nil; on != tc.on {
			t.Errorf("%%%s %q: tracker on %v, want %v", tc.cmd, tc.args, on, tc.on)
		}
	}
	if os.Getenv(EnvDB) != other {
		t.Errorf("$%s = %q after %%tracking, want %q", EnvDB, os.Getenv(EnvDB), other)
	}
}

func TestAutologDatasetLimit(t *testing.T) {
	path, al, _ := autologTo(t)
	al.MaxDatasetCells = 50
	X, y := blobs(10) // 20 rows × 3 columns
	for _, n := range []int{20, 10} {
		if err := (&experiments.GaussianNB{}).Fit(X.Slice(0, n, 0, 2).(*mat.Dense), y[:n]); err != nil {
			t.Fatal(err)
		}
	}
	s := reopen(t, path)
	runs := topRuns(t, s)
	if len(runs) != 2 {
		t.Fatalf("%d runs", len(runs))
	}
	for i, want := range []int{0, 1} {
		in, err := s.Inputs(runs[i].ID)
		if err != nil || len(in) != want {
			t.Errorf("run %d: %d datasets, want %d (%v)", i, len(in), want, err)
		}
	}
	if runs[0].Tags["autolog.dataset"] == "" || runs[0].Params["data.rows"] != "20" {
		t.Errorf("over the limit: tags %v params %v", runs[0].Tags, runs[0].Params)
	}
}
