package tracking

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/internal/interrupt"
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

// topRuns returns the runs without a parent, oldest first: in the order
// they were written when they started in the same millisecond (the
// store breaks ties of start_time newest first, so the list is read
// newest first and reversed).
func topRuns(t *testing.T, s *Store) []RunInfo {
	t.Helper()
	all, err := s.SearchRuns(SearchQuery{OrderBy: "start_time DESC"})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(all)
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
		{"name: the steps", r.Name, "standardscaler + logisticregression"},
		{"tag estimator", r.Tags["estimator"], "pipeline"},
		{"tag autolog", r.Tags["autolog"], experiments.KindFit},
		{"steps", r.Params["steps"], "[standardscaler logisticregression]"},
		{"C", r.Params["logisticregression.C"], "10"},
		{"default MaxIter, as it applies", r.Params["logisticregression.MaxIter"], "100"},
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
	// Categorical values as their text (missing empty), the target last;
	// the input says which columns were categorical, with their levels.
	wantCSV := "size,color,label\n1,red,a\n2,blue,b\n3,red,a\n4,,b\n5,blue,a\n6,red,b\n"
	if string(d.Content) != wantCSV {
		t.Errorf("dataset content\n%s\nwant\n%s", d.Content, wantCSV)
	}
	if l := in[0].Levels; len(l) != 3 || l[0] != nil || !slices.Equal(l[1], []string{"blue", "red"}) || !slices.Equal(l[2], []string{"a", "b"}) {
		t.Errorf("input levels %q", l)
	}
}

// Data large enough for Prepare to take it while the fit runs is
// recorded as it was at the fit: shared with the table logged before
// when it is the same, copied when it changed in between.
func TestAutologPreparedData(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const n, p = 1000, 9 // 10,000 cells with the target: over minPreparedCells
	X, y := blobs(n / 2)
	X = mat.NewDense(n, p, nil)
	for i := range n {
		for j := range p {
			X.Set(i, j, float64(i*p+j)/7)
		}
	}
	names := make([]string, p+1)
	cols := make([]any, p+1)
	for j := range p {
		names[j] = fmt.Sprint("x", j)
	}
	tests := []struct {
		name string
		fit  func() error
		set  func(v float64) // changes the first row's first feature
	}{
		{"matrix", func() error { return (&experiments.GaussianNB{}).Fit(X, y) }, func(v float64) { X.Set(0, 0, v) }},
		{"dataset", nil, nil},
	}
	for j := range p {
		cols[j] = mat.Col(nil, j, X)
	}
	names[p], cols[p] = "y", y
	ds, err := experiments.FromColumns(names, cols...)
	if err != nil {
		t.Fatal(err)
	}
	x0, err := ds.Floats("x0") // the dataset's own storage
	if err != nil {
		t.Fatal(err)
	}
	tests[1].fit = func() error { return experiments.NewPipeline(&experiments.GaussianNB{}).FitDataset(ds, "y") }
	tests[1].set = func(v float64) { x0[0] = v }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path, al, _ := autologTo(t)
			// Fit, fit the same data, change one value and fit again.
			for i := range 3 {
				if i == 2 {
					tc.set(1e6)
				}
				if err := tc.fit(); err != nil {
					t.Fatal(err)
				}
			}
			tc.set(0)
			al.Flush()
			al.mu.Lock()
			left := len(al.prepared)
			al.mu.Unlock()
			if left != 0 {
				t.Errorf("%d events prepared and never tracked", left)
			}
			s := reopen(t, path)
			runs := topRuns(t, s)
			if len(runs) != 3 {
				t.Fatalf("%d runs, want 3", len(runs))
			}
			var sums []string
			for _, r := range runs {
				in, err := s.Inputs(r.ID)
				if err != nil || len(in) != 1 {
					t.Fatalf("run %s inputs %v, %v", r.ID, in, err)
				}
				sums = append(sums, in[0].SHA256)
			}
			if sums[0] != sums[1] || sums[1] == sums[2] {
				t.Fatalf("data sums %v: want the first two equal, the third different", sums)
			}
			d, err := s.Dataset(sums[2])
			if err != nil {
				t.Fatal(err)
			}
			line := strings.SplitN(string(d.Content), "\n", 3)[1]
			if !strings.HasPrefix(line, "1e+06,") {
				t.Errorf("changed data stored as %q, want its first value 1e+06", line)
			}
		})
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
		// A trial lasts its own fits and scoring on the 3 folds, which
		// run in parallel: their sum may pass the search's wall time, by
		// at most the cores they ran on (times are kept to the ms).
		took := k.EndTime.Sub(k.StartTime).Seconds()
		want := 3 * (results[i].FitTime + results[i].ScoreTime)
		most := float64(runtime.GOMAXPROCS(0))*r.EndTime.Sub(r.StartTime).Seconds() + 0.001
		if !k.StartTime.Equal(r.StartTime) || results[i].FitTime <= 0 || math.Abs(took-want) > 0.0015 || took > most {
			t.Errorf("trial %d lasted %vs, its work %vs, the search %v", i, took, want, r.EndTime.Sub(r.StartTime))
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
	// A store opened before the fit sees it once written: opening one,
	// starting a cell or FlushAutologgers waits for that.
	FlushAutologgers()
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
	notes := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notes, []byte("my notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
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
		// A file that cannot be a store is refused at once; the store
		// stays the one before.
		{"tracking", notes, "", true, true},
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
	err := al.TrackingCommand(notes, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "%tracking "+notes+": ") || !strings.Contains(err.Error(), "not a gopherlab tracking database") || !strings.Contains(err.Error(), "%tracking PATH in a notebook") {
		t.Errorf("%%tracking to a text file: %v", err)
	}
	if b, _ := os.ReadFile(notes); string(b) != "my notes\n" {
		t.Errorf("the text file became %q", b)
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

// digitsPath is scikit-learn's digits data, when installed.
const digitsPath = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

// recordOne runs fit with a tracker that keeps the event.
func recordOne(tb testing.TB, fit func() error) *experiments.TrackEvent {
	tb.Helper()
	rec := &recorder{}
	prev := experiments.SetTracker(rec)
	err := fit()
	experiments.SetTracker(prev)
	if err != nil || rec.ev == nil {
		tb.Fatalf("fit: %v (event %v)", err, rec.ev)
	}
	return rec.ev
}

type recorder struct{ ev *experiments.TrackEvent }

func (r *recorder) Track(ev *experiments.TrackEvent) { r.ev = ev }

// benchDigits loads scikit-learn's digits, as a dataset and as a matrix
// and labels, or skips the benchmark.
func benchDigits(b *testing.B) (*experiments.Dataset, *mat.Dense, []float64) {
	b.Helper()
	if _, err := os.Stat(digitsPath); err != nil {
		b.Skip("scikit-learn digits data not installed")
	}
	ds, err := experiments.ReadCSV(digitsPath, experiments.CSVOptions{NoHeader: true})
	if err != nil {
		b.Fatal(err)
	}
	X, y, err := ds.XY("c64")
	if err != nil {
		b.Fatal(err)
	}
	return ds, X, y
}

func benchEvents(b *testing.B) map[string]*experiments.TrackEvent {
	_, X, y := benchDigits(b)
	return map[string]*experiments.TrackEvent{
		"forest": recordOne(b, func() error { return (&experiments.RandomForestClassifier{Seed: 1}).Fit(X, y) }),
		"nb":     recordOne(b, func() error { return (&experiments.GaussianNB{}).Fit(X, y) }),
		"cv": recordOne(b, func() error {
			_, err := experiments.CrossValidate(&experiments.KNeighborsClassifier{}, X, y, experiments.CVOptions{K: 5})
			return err
		}),
	}
}

// BenchmarkAutologTrack measures what a fit waits for: Track's snapshot
// of the event (the background writing is waited for outside the timer).
func BenchmarkAutologTrack(b *testing.B) {
	for name, ev := range benchEvents(b) {
		b.Run(name, func(b *testing.B) {
			al := NewAutologger(filepath.Join(b.TempDir(), "b.db"))
			defer al.Close()
			for i := 0; i < b.N; i++ {
				al.Track(ev)
				b.StopTimer()
				al.Flush()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkAutologFit measures a whole fit on digits with autologging
// off and on (the background writing is waited for outside the timer):
// what logging adds to a fit, Prepare's overlap included.
func BenchmarkAutologFit(b *testing.B) {
	ds, X, y := benchDigits(b)
	fits := []struct {
		name string
		fit  func() error
	}{
		{"nb", func() error { return (&experiments.GaussianNB{}).Fit(X, y) }},
		{"tree", func() error { return (&experiments.DecisionTreeClassifier{MaxDepth: 6, Seed: 1}).Fit(X, y) }},
		{"pipeline-dataset", func() error {
			return experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.GaussianNB{}).FitDataset(ds, "c64")
		}},
	}
	for _, f := range fits {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/autolog=%v", f.name, on), func(b *testing.B) {
				al := NewAutologger(filepath.Join(b.TempDir(), "b.db"))
				defer al.Close()
				if on {
					prev := experiments.SetTracker(al)
					defer experiments.SetTracker(prev)
				}
				for i := 0; i < b.N; i++ {
					if err := f.fit(); err != nil {
						b.Fatal(err)
					}
					if on {
						b.StopTimer()
						al.Flush()
						b.StartTimer()
					}
				}
				if err := al.Err(); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// BenchmarkAutologWrite measures the whole logging of an event, the
// background writing included.
func BenchmarkAutologWrite(b *testing.B) {
	for name, ev := range benchEvents(b) {
		b.Run(name, func(b *testing.B) {
			al := NewAutologger(filepath.Join(b.TempDir(), "b.db"))
			defer al.Close()
			for i := 0; i < b.N; i++ {
				al.Track(ev)
				al.Flush()
			}
			if err := al.Err(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// The next cell sees a fit's run, complete, whether it opens the store
// or queries one it opened before: Open and every read of a store it
// returned wait for the runs queued before.
func TestAutologNextCellSeesRun(t *testing.T) {
	path, al, warn := autologTo(t)
	s := reopen(t, path) // a store a cell opened before the fits
	X, y := blobs(300)
	for cell := 1; cell <= 3; cell++ {
		SetCellInfo("m.Fit(X, y)", "/nb/next.ipynb", cell)
		if err := (&experiments.RandomForestClassifier{NTrees: 20, Seed: int64(cell)}).Fit(X, y); err != nil {
			t.Fatal(err)
		}
		SetCellInfo("runs", "/nb/next.ipynb", cell+1)
		runs := topRuns(t, s)
		if len(runs) != cell {
			t.Fatalf("cell %d: %d runs", cell, len(runs))
		}
		r := runs[cell-1]
		if r.Status != StatusFinished || r.ExecutionCount != cell || r.Source != "m.Fit(X, y)" || r.Experiment != "next" {
			t.Errorf("cell %d: run %s count %d source %q experiment %q", cell, r.Status, r.ExecutionCount, r.Source, r.Experiment)
		}
		if _, err := s.ReadArtifact(r.ID, "model.gob"); err != nil {
			t.Errorf("cell %d: %v", cell, err)
		}
		if in, err := s.Inputs(r.ID); err != nil || len(in) != 1 {
			t.Errorf("cell %d: inputs %v %v", cell, in, err)
		}
	}
	// In the same cell, opening the store waits too, and so does a read
	// of the store opened before.
	if err := (&experiments.GaussianNB{}).Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if runs := topRuns(t, reopen(t, path)); len(runs) != 4 || runs[3].Status != StatusFinished {
		t.Errorf("after Open: %d runs", len(runs))
	}
	if err := (&experiments.GaussianNB{VarSmoothing: 1e-3}).Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if runs := topRuns(t, s); len(runs) != 5 || runs[4].Status != StatusFinished {
		t.Errorf("read in the same cell: %d runs", len(runs))
	}
	if err := al.Err(); err != nil || warn.Len() > 0 {
		t.Errorf("errors: %v %s", err, warn)
	}
}

// A cell does not wait for the runs of the cells before it to be
// written: here the writer is stuck behind another connection's write
// lock while the next cell starts, and the run is complete once the lock
// is released and a read waits for it.
func TestAutologNextCellDoesNotWait(t *testing.T) {
	path, al, warn := autologTo(t)
	s := reopen(t, path)
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	X, y := blobs(100)
	if err := (&experiments.GaussianNB{}).Fit(X, y); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	go func() {
		SetCellInfo("next", "/nb/wait.ipynb", 2)
		close(started)
	}()
	select {
	case <-started:
	case <-time.After(2 * time.Second):
		t.Fatal("the next cell waited for the run of the fit before it")
	}
	al.mu.Lock()
	queued := len(al.queue)
	al.mu.Unlock()
	if queued != 1 {
		t.Fatalf("%d events queued while the store is locked, want 1", queued)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if runs := topRuns(t, s); len(runs) != 1 || runs[0].Status != StatusFinished {
		t.Fatalf("runs after the lock was released: %+v", runs)
	}
	if err := al.Err(); err != nil || warn.Len() > 0 {
		t.Errorf("errors: %v %s", err, warn)
	}
}

// While a cell runs, its fits' runs wait to be written until it ends, or
// holdFor after the fit; a read of the store has them written at once.
func TestAutologHoldsWhileCellRuns(t *testing.T) {
	path, al, warn := autologTo(t)
	queued := func() int {
		al.mu.Lock()
		defer al.mu.Unlock()
		return len(al.queue)
	}
	waitWritten := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); queued() > 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the run was not written", what)
			}
		}
	}
	defer func(d time.Duration) { holdFor = d }(holdFor)
	holdFor = time.Hour
	X, y := blobs(50)
	fit := func() {
		t.Helper()
		if err := (&experiments.GaussianNB{}).Fit(X, y); err != nil {
			t.Fatal(err)
		}
	}

	SetCellRunning(true)
	defer SetCellRunning(false)
	fit()
	time.Sleep(50 * time.Millisecond) // writing takes about a millisecond
	if n := queued(); n != 1 {
		t.Fatalf("%d events queued while the cell runs, want 1", n)
	}
	// Nor while the next cell runs, if it starts before the kernel was
	// idle for idleBeforeWriting (the reply is on its way meanwhile).
	SetCellRunning(false)
	al.mu.Lock()
	writing := al.writing
	al.mu.Unlock()
	if writing {
		t.Fatal("the writer started as the cell ended")
	}
	SetCellRunning(true)
	time.Sleep(idleBeforeWriting + 50*time.Millisecond)
	if n := queued(); n != 1 {
		t.Fatalf("%d events queued while the next cell runs, want 1", n)
	}
	SetCellRunning(false)
	waitWritten("after the cell ended")

	// A read does not wait for the cell to end.
	SetCellRunning(true)
	fit()
	if runs := topRuns(t, reopen(t, path)); len(runs) != 2 || runs[1].Status != StatusFinished {
		t.Fatalf("a read while the cell runs: %d runs", len(runs))
	}

	// Nor does a long cell. (The cell clock reads holdFor as the cell
	// starts.)
	holdFor = 30 * time.Millisecond
	SetCellRunning(true)
	start := time.Now()
	fit()
	waitWritten("in a long cell")
	if el := time.Since(start); el < holdFor {
		t.Errorf("written %v after the fit, before the %v hold", el, holdFor)
	}
	if err := al.Err(); err != nil || warn.Len() > 0 {
		t.Errorf("errors: %v %s", err, warn)
	}
}

// Runs are written in the order of the fits, each one's children with
// it, while the fits go on (run with -race).
func TestAutologQueueOrder(t *testing.T) {
	path, al, warn := autologTo(t)
	X, y := blobs(50)
	const n = 40
	for i := 0; i < n; i++ {
		m := &experiments.LogisticRegression{C: float64(i + 1)}
		if i%10 == 9 {
			if _, err := experiments.CrossValidate(m, X, y, experiments.CVOptions{K: 3}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := m.Fit(X, y); err != nil {
			t.Fatal(err)
		}
	}
	al.Flush()
	s := reopen(t, path)
	runs := topRuns(t, s)
	if len(runs) != n {
		t.Fatalf("%d runs, want %d", len(runs), n)
	}
	for i, r := range runs {
		if r.Params["C"] != FormatValue(float64(i+1)) || r.Status != StatusFinished {
			t.Errorf("run %d: C %s status %s", i, r.Params["C"], r.Status)
		}
		if kids := children(t, s, r.ID); len(kids) != map[bool]int{true: 3, false: 0}[i%10 == 9] {
			t.Errorf("run %d: %d children", i, len(kids))
		}
	}
	if warn.Len() > 0 {
		t.Errorf("errors: %s", warn)
	}
}

// The Autologger keeps working after Close, and Close writes what is
// queued before closing the store.
func TestAutologCloseFlushes(t *testing.T) {
	path, al, _ := autologTo(t)
	X, y := blobs(100)
	for i := 0; i < 3; i++ {
		if err := (&experiments.KNeighborsClassifier{K: i + 1}).Fit(X, y); err != nil {
			t.Fatal(err)
		}
		if err := al.Close(); err != nil {
			t.Fatal(err)
		}
		// Read the file without Open's wait: Close alone must have
		// written the run.
		s, err := open(path)
		if err != nil {
			t.Fatal(err)
		}
		runs := topRuns(t, s)
		s.Close()
		if len(runs) != i+1 || runs[i].Status != StatusFinished {
			t.Fatalf("after Close %d: %d runs", i, len(runs))
		}
	}
}

// autologHelperEnv makes TestAutologHelper act as a notebook process
// that fits, for the crash and exit tests.
const autologHelperEnv = "GOPHERLAB_AUTOLOG_HELPER"

// TestAutologHelper is not a test: run by the tests below as a child
// process, it autologs fits to $DB, printing "fitted" after the first,
// then exits normally ("exit", through Close as the kernel's worker
// does) or waits to be killed ("kill").
func TestAutologHelper(t *testing.T) {
	mode := os.Getenv(autologHelperEnv)
	if mode == "" {
		t.Skip("run as a child process by TestAutologKilled and TestAutologExit")
	}
	al := NewAutologger(os.Getenv("DB"))
	experiments.SetTracker(al)
	if mode == "long" {
		// A cross-validation of about 3 s, killed while it runs.
		longWorkAfter = 50 * time.Millisecond
		X, y := blobs(20)
		fmt.Println("fitted")
		experiments.CrossValidate(&slowModel{Sleep: time.Second}, X, y, experiments.CVOptions{K: 3, Workers: 1})
		select {}
	}
	X, y := blobs(400)
	for i := 0; i < 4; i++ {
		if i == 2 {
			if _, err := experiments.CrossValidate(&experiments.DecisionTreeClassifier{Seed: 1}, X, y, experiments.CVOptions{K: 4}); err != nil {
				t.Fatal(err)
			}
		} else if err := (&experiments.RandomForestClassifier{NTrees: 40, Seed: int64(i)}).Fit(X, y); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			fmt.Println("fitted")
		}
	}
	if mode == "exit" {
		if err := al.Close(); err != nil {
			t.Fatal(err)
		}
		fmt.Println("closed")
		os.Exit(0)
	}
	select {}
}

func autologHelper(t *testing.T, mode, db string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestAutologHelper$")
	cmd.Env = append(os.Environ(), autologHelperEnv+"="+mode, "DB="+db)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	if line, err := r.ReadString('\n'); strings.TrimSpace(line) != "fitted" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %q %v", line, err)
	}
	return cmd, r
}

// checkConsistent opens db after its writer is gone and checks every
// run: FINISHED only when complete (a top-level run with its training
// data and a model that loads, a cross-validation with its folds),
// otherwise KILLED; nothing left RUNNING.
func checkConsistent(t *testing.T, db string) (finished, killed int) {
	t.Helper()
	s := reopen(t, db)
	all, err := s.SearchRuns(SearchQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		switch r.Status {
		case StatusKilled:
			killed++
			continue
		case StatusFinished:
			finished++
		default:
			t.Errorf("run %s %q is %s", r.ID, r.Name, r.Status)
			continue
		}
		if r.ParentID != "" {
			continue
		}
		in, err := s.Inputs(r.ID)
		if err != nil || len(in) != 1 {
			t.Errorf("FINISHED run %s %q: inputs %v %v", r.ID, r.Name, in, err)
		} else if _, err := s.Dataset(in[0].SHA256); err != nil {
			t.Errorf("FINISHED run %s: dataset: %v", r.ID, err)
		}
		if r.Tags["autolog"] == experiments.KindCrossValidate {
			if kids, err := s.Children(r.ID); err != nil || len(kids) != 4 {
				t.Errorf("FINISHED cross-validation %s: %d folds, %v", r.ID, len(kids), err)
			}
			continue
		}
		b, err := s.ReadArtifact(r.ID, "model.gob")
		if err != nil {
			t.Errorf("FINISHED run %s %q: %v", r.ID, r.Name, err)
			continue
		}
		if _, err := experiments.Load(bytes.NewReader(b)); err != nil {
			t.Errorf("FINISHED run %s: model: %v", r.ID, err)
		}
	}
	return finished, killed
}

// A notebook process killed (kill -9) right after a fit, while its runs
// are being written, leaves a store where every run is complete and
// FINISHED, or KILLED (marked so by the next Open); never a FINISHED
// run missing its model or data.
func TestAutologKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	totalFinished, totalKilled := 0, 0
	for i, delay := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond,
		40 * time.Millisecond, 60 * time.Millisecond, 80 * time.Millisecond, 100 * time.Millisecond,
		150 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond} {
		db := filepath.Join(dir, fmt.Sprintf("k%d.db", i))
		cmd, _ := autologHelper(t, "kill", db)
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if _, err := os.Stat(db); err != nil {
			t.Logf("killed %v after the first fit: no store yet", delay)
			continue
		}
		finished, killed := checkConsistent(t, db)
		totalFinished += finished
		totalKilled += killed
		t.Logf("killed %v after the first fit: %d runs FINISHED, %d KILLED", delay, finished, killed)
	}
	if totalFinished == 0 {
		t.Error("no run was ever written: the kills came too early to test anything")
	}
	if totalKilled == 0 {
		t.Log("no kill landed while a run was being written")
	}
}

// A process that exits normally, closing the Autologger as the kernel's
// worker does, has written every run.
func TestAutologExit(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	db := filepath.Join(t.TempDir(), "exit.db")
	cmd, out := autologHelper(t, "exit", db)
	line, _ := out.ReadString('\n')
	if err := cmd.Wait(); err != nil || strings.TrimSpace(line) != "closed" {
		t.Fatalf("helper: %v %q", err, line)
	}
	finished, killed := checkConsistent(t, db)
	// 3 fits and a cross-validation with 4 folds.
	if finished != 8 || killed != 0 {
		t.Errorf("%d runs FINISHED, %d KILLED; want 8 and 0", finished, killed)
	}
}

// csvWriterTable is how datasets were formatted before the direct
// formatting: encoding/csv, value by value.
func csvWriterTable(columns []string, nr, nc int, data []float64) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(columns)
	rec := make([]string, nc)
	for i := 0; i < nr; i++ {
		for j := range rec {
			rec[j] = strconv.FormatFloat(data[i*nc+j], 'g', -1, 64)
		}
		w.Write(rec)
	}
	w.Flush()
	return buf.Bytes()
}

// Categorical columns are written as their levels' text, byte for byte
// as encoding/csv writes it, and read back to the same codes; levels are
// part of the memo's key, so the same codes under other levels are
// another table.
func TestDatasetCSVLevels(t *testing.T) {
	nan := math.NaN()
	levels := [][]string{nil, {" lead", "a,b", `q"uote`, `\.`, "é", "x"}, nil}
	columns := []string{"n", "cat", "y"}
	data := []float64{
		1.5, 0, 0,
		nan, 1, 1,
		2, 2, 0,
		3, nan, 1,
		4, 3, 0,
		5, 4, 1,
	}
	const nr, nc = 6, 3
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(columns)
	for i := 0; i < nr; i++ {
		rec := make([]string, nc)
		for j := range rec {
			x := data[i*nc+j]
			switch {
			case levels[j] == nil:
				rec[j] = strconv.FormatFloat(x, 'g', -1, 64)
			case x == x:
				rec[j] = levels[j][int(x)]
			}
		}
		w.Write(rec)
	}
	w.Flush()
	want := buf.Bytes()
	if got := denseCSV(columns, nr, nc, data, levels); !bytes.Equal(got, want) {
		t.Errorf("denseCSV:\n%s\nwant\n%s", got, want)
	}
	sum, _, _ := denseSum(columns, nr, nc, data, levels)
	h := sha256.Sum256(want)
	if sum != hex.EncodeToString(h[:]) {
		t.Errorf("denseSum %s, want the SHA-256 of the CSV", sum)
	}
	other := [][]string{nil, {"A", "B", "C", "D", "E", "F"}, nil}
	if s2, _, _ := denseSum(columns, nr, nc, data, other); s2 == sum {
		t.Errorf("the same codes under other levels hash the same")
	}
	if s3, _, _ := denseSum(columns, nr, nc, data, nil); s3 == sum {
		t.Errorf("codes and levels hash the same")
	}

	// One categorical column: a missing value must still be a record.
	one := denseCSV([]string{"c"}, 3, 1, []float64{0, nan, 1}, [][]string{{"a", "b"}})
	recs, err := csv.NewReader(bytes.NewReader(one)).ReadAll()
	if err != nil || len(recs) != 4 || recs[2][0] != "" {
		t.Errorf("single column %q read back as %q, %v", one, recs, err)
	}
}

// Datasets are the same bytes (so the same SHA-256) as encoding/csv
// writes, through every path that stores them.
func TestDatasetCSVIdentical(t *testing.T) {
	columns := []string{"plain", "with,comma", `with "quote"`, " lead space", "", "é"}
	data := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1e-300,
		123456789012345678, 0.1, -2.5e-7, 1, math.MaxFloat64, math.SmallestNonzeroFloat64}
	const nr, nc = 2, 6
	want := csvWriterTable(columns, nr, nc, data)
	if got := denseCSV(columns, nr, nc, data, nil); !bytes.Equal(got, want) {
		t.Errorf("denseCSV:\n%s\nwant\n%s", got, want)
	}
	s, err := Open(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.StartRun("d", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(want)
	wantSum := hex.EncodeToString(h[:])
	m := mat.NewDense(nr, nc, data)
	for name, log := range map[string]func() (string, error){
		"matrix": func() (string, error) { return r.LogDatasetMatrix("train", "m", columns, m) },
		"dense":  func() (string, error) { return r.logDenseDataset("train", "d", columns, nr, nc, data, nil, nil) },
		"again":  func() (string, error) { return r.logDenseDataset("train", "d2", columns, nr, nc, data, nil, nil) },
	} {
		sum, err := log()
		if err != nil || sum != wantSum {
			t.Errorf("%s: %s %v, want %s", name, sum, err, wantSum)
		}
	}
	d, err := s.Dataset(wantSum)
	if err != nil || !bytes.Equal(d.Content, want) {
		t.Errorf("stored content differs: %v", err)
	}
	// A memo hit for a store that lacks the data formats it again.
	s2, err := Open(filepath.Join(t.TempDir(), "d2.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	r2, _ := s2.StartRun("d", nil)
	if sum, err := r2.logDenseDataset("train", "d", columns, nr, nc, data, nil, nil); err != nil || sum != wantSum {
		t.Fatalf("second store: %s %v", sum, err)
	}
	if d, err := s2.Dataset(wantSum); err != nil || !bytes.Equal(d.Content, want) {
		t.Errorf("second store content differs: %v", err)
	}
	// Large tables of measured values and of codes (compressed at
	// different gzip levels) come back exactly.
	for _, codes := range []bool{false, true} {
		const nr, nc = 20000, 10
		data := make([]float64, nr*nc)
		for i := range data {
			data[i] = math.Sin(float64(i)) * 100
			if codes {
				data[i] = math.Floor(math.Abs(data[i]) / 10)
			}
		}
		sum, err := r2.logDenseDataset("train", fmt.Sprint("big", codes), nil, nr, nc, data, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := s2.Dataset(sum)
		if err != nil || !bytes.Equal(d.Content, denseCSV(columnsOr(nil, nc), nr, nc, data, nil)) {
			t.Errorf("large table (codes %v) differs: %v", codes, err)
		}
	}
}

// BenchmarkDatasetNew measures storing a million cells the store and the
// process have not seen (formatting, hashing, compressing, writing), and
// BenchmarkDatasetSeen the same data again.
func BenchmarkDatasetNew(b *testing.B) { benchDataset(b, false) }

func BenchmarkDatasetSeen(b *testing.B) { benchDataset(b, true) }

func benchDataset(b *testing.B, seen bool) {
	s, err := Open(filepath.Join(b.TempDir(), "d.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r, _ := s.StartRun("d", nil)
	const nr, nc = 10000, 100
	data := make([]float64, nr*nc)
	for i := range data {
		data[i] = math.Sin(float64(i)) * 100
	}
	b.SetBytes(8 * nr * nc)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !seen {
			data[0] = float64(i) // new content every time
		}
		if _, err := r.logDenseDataset("train", "t", nil, nr, nc, data, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// The notebook's parameters (SetNotebookParams) are params notebook.NAME
// of the runs autologged or started by hand after, not of their children;
// an explicit Source leaves them out, and nil forgets them.
func TestNotebookParams(t *testing.T) {
	path, al, _ := autologTo(t)
	SetNotebookParams(map[string]string{"c": "0.5", "data": "iris v2.csv"})
	t.Cleanup(func() { SetNotebookParams(nil) })
	X, y := blobs(20)
	if _, err := experiments.CrossValidate(&experiments.LogisticRegression{}, X, y, experiments.CVOptions{K: 3}); err != nil {
		t.Fatal(err)
	}
	al.Flush()
	s := reopen(t, path)
	byHand, err := s.StartRun("hand", &RunOptions{Name: "by hand"})
	if err != nil {
		t.Fatal(err)
	}
	byHand.Finish()
	explicit, _ := s.StartRun("hand", &RunOptions{Name: "explicit source", Source: "x := 1"})
	explicit.Finish()
	SetNotebookParams(nil)
	after, _ := s.StartRun("hand", &RunOptions{Name: "after nil"})
	after.Finish()
	runs := topRuns(t, s)
	if len(runs) != 4 {
		t.Fatalf("%d top runs, want 4", len(runs))
	}
	want := map[string]bool{"cv logisticregression": true, "by hand": true, "explicit source": false, "after nil": false}
	for _, r := range runs {
		if has := r.Params["notebook.c"] == "0.5" && r.Params["notebook.data"] == "iris v2.csv"; has != want[r.Name] {
			t.Errorf("run %s: params %v, want the notebook's: %v", r.Name, r.Params, want[r.Name])
		}
	}
	cv := slices.IndexFunc(runs, func(r RunInfo) bool { return r.Name == "cv logisticregression" })
	if cv < 0 {
		t.Fatal("no cv run")
	}
	runs = runs[cv:]
	for _, k := range children(t, s, runs[0].ID) {
		if _, ok := k.Params["notebook.c"]; ok {
			t.Errorf("fold run %s has the notebook's parameters: %v", k.Name, k.Params)
		}
	}
}

// slowModel is a classifier whose Fit takes a while (60 ms unless Sleep
// says otherwise).
type slowModel struct {
	experiments.GaussianNB
	Sleep time.Duration
}

func (m *slowModel) Fit(X *mat.Dense, y []float64) error {
	if m.Sleep == 0 {
		m.Sleep = 60 * time.Millisecond
	}
	time.Sleep(m.Sleep)
	return m.GaussianNB.Fit(X, y)
}

// An autologged run says when the work ran, not when it was written:
// its start is the cross-validation's start, its duration the
// cross-validation's; its folds start with it and last their own work.
func TestAutologRunTimes(t *testing.T) {
	path, al, _ := autologTo(t)
	X, y := blobs(20)
	before := time.Now()
	if _, err := experiments.CrossValidate(&slowModel{}, X, y, experiments.CVOptions{K: 3, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	time.Sleep(150 * time.Millisecond) // the run is written later, in the background
	al.Flush()
	if err := al.Err(); err != nil {
		t.Fatal(err)
	}
	s := reopen(t, path)
	runs := topRuns(t, s)
	if len(runs) != 1 {
		t.Fatalf("%d runs", len(runs))
	}
	r := runs[0]
	took := r.EndTime.Sub(r.StartTime)
	if r.StartTime.Before(before.Truncate(time.Millisecond)) || r.EndTime.After(after.Add(time.Millisecond)) || took < 170*time.Millisecond {
		t.Errorf("run from %v to %v (%v); the cross-validation ran from %v to %v", r.StartTime, r.EndTime, took, before, after)
	}
	if d := time.Duration(r.Metrics["duration_s"] * float64(time.Second)); (took - d).Abs() > 5*time.Millisecond {
		t.Errorf("run took %v, its duration_s says %v", took, d)
	}
	// A fold starts with its cross-validation and lasts its own fit and
	// scoring (about 60 ms of slowModel's sleep), not the whole work.
	for _, k := range children(t, s, r.ID) {
		took := k.EndTime.Sub(k.StartTime)
		want := time.Duration((k.Metrics["fit_time_s"] + k.Metrics["score_time_s"]) * float64(time.Second))
		if !k.StartTime.Equal(r.StartTime) || (took-want).Abs() > time.Millisecond || took < 55*time.Millisecond || took > r.EndTime.Sub(r.StartTime)/2 {
			t.Errorf("fold %s from %v to %v (%v, its work %v), its cross-validation from %v to %v", k.Name, k.StartTime, k.EndTime, took, want, r.StartTime, r.EndTime)
		}
	}
}

// A grid search's trials last their own work: trial k's two fits sleep
// (k+1)·20 ms each.
func TestAutologTrialTimes(t *testing.T) {
	path, al, _ := autologTo(t)
	X, y := blobs(20)
	gs := &experiments.GridSearch{Model: &slowModel{}, Grid: map[string][]any{"Sleep": {20 * time.Millisecond, 40 * time.Millisecond}},
		CV: experiments.CVOptions{K: 2, Workers: 1}}
	if err := gs.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	al.Flush()
	s := reopen(t, path)
	kids := children(t, s, topRuns(t, s)[0].ID)
	for i, k := range kids {
		took := k.EndTime.Sub(k.StartTime)
		least := time.Duration(i+1) * 40 * time.Millisecond
		if took < least || took > least+60*time.Millisecond {
			t.Errorf("trial %d lasted %v, want its two fits' %v and a little", i, took, least)
		}
	}
}

// Long work gets its run started while it runs: it shows RUNNING in the
// store meanwhile, the work's end completes the same run, and a process
// killed during the work leaves the run, marked KILLED on the next open.
func TestAutologLongWork(t *testing.T) {
	prev := longWorkAfter
	longWorkAfter = 50 * time.Millisecond
	t.Cleanup(func() { longWorkAfter = prev })
	t.Run("cell", func(t *testing.T) {
		// In a cell, the cell clock starts the run; it goes back to a
		// timer of its own if the cell ends first.
		for _, endCell := range []bool{false, true} {
			path, al, _ := autologTo(t)
			X, y := blobs(20)
			SetCellRunning(true)
			done := make(chan error, 1)
			go func() {
				_, err := experiments.CrossValidate(&slowModel{Sleep: 150 * time.Millisecond}, X, y, experiments.CVOptions{K: 3, Workers: 1})
				done <- err
			}()
			if endCell {
				time.Sleep(10 * time.Millisecond)
				SetCellRunning(false)
			}
			time.Sleep(300 * time.Millisecond)
			runs := topRuns(t, reopen(t, path))
			if len(runs) != 1 || runs[0].Status != StatusRunning {
				t.Errorf("cell ended %v: runs while the cross-validation ran: %+v", endCell, runs)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			SetCellRunning(false)
			al.Flush()
			if runs := topRuns(t, reopen(t, path)); len(runs) != 1 || runs[0].Status != StatusFinished {
				t.Errorf("cell ended %v: runs after the cross-validation: %+v", endCell, runs)
			}
		}
	})
	path, al, _ := autologTo(t)
	X, y := blobs(20)
	seen := make(chan []RunInfo, 1)
	go func() {
		time.Sleep(250 * time.Millisecond)
		s, err := OpenExisting(path)
		if err != nil {
			seen <- nil
			return
		}
		defer s.Close()
		runs, _ := s.SearchRuns(SearchQuery{})
		seen <- runs
	}()
	start := time.Now()
	if _, err := experiments.CrossValidate(&slowModel{Sleep: 150 * time.Millisecond}, X, y, experiments.CVOptions{K: 3, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	during := <-seen
	if len(during) != 1 || during[0].Status != StatusRunning || during[0].Name != "cv slowmodel" {
		t.Fatalf("runs while the cross-validation ran: %+v", during)
	}
	al.Flush()
	if err := al.Err(); err != nil {
		t.Fatal(err)
	}
	s := reopen(t, path)
	runs := topRuns(t, s)
	if len(runs) != 1 {
		t.Fatalf("%d runs after the cross-validation, want the one started while it ran", len(runs))
	}
	r := runs[0]
	if r.ID != during[0].ID || r.Status != StatusFinished || r.Params["cv.k"] != "3" || r.Metrics["mean_accuracy"] == 0 || r.StartTime.Before(start.Truncate(time.Millisecond)) || r.EndTime.Sub(r.StartTime) < 400*time.Millisecond {
		t.Errorf("the run: %+v", r)
	}
	if kids := children(t, s, r.ID); len(kids) != 3 {
		t.Errorf("%d folds", len(kids))
	}

	if testing.Short() {
		return
	}
	db := filepath.Join(t.TempDir(), "long.db")
	cmd, _ := autologHelper(t, "long", db)
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	ks, err := Open(db)
	if err != nil {
		t.Fatalf("the killed process left no store: %v", err)
	}
	defer ks.Close()
	runs, err = ks.SearchRuns(SearchQuery{})
	if err != nil || len(runs) != 1 || runs[0].Status != StatusKilled || runs[0].Name != "cv slowmodel" {
		t.Errorf("runs after a kill during the cross-validation: %v %+v", err, runs)
	}
}

// A fit stopped by an interrupt of its cell is logged FAILED, with the
// interruption as its error.
func TestAutologInterruptedFit(t *testing.T) {
	path, al, _ := autologTo(t)
	X, y := blobs(100)
	stop := make(chan struct{})
	close(stop)
	interrupt.Set(&stop)
	defer interrupt.Set(nil)
	if err := (&experiments.RandomForestClassifier{NTrees: 50, Seed: 1}).Fit(X, y); !errors.Is(err, interrupt.Err) {
		t.Fatalf("err = %v, want interrupted", err)
	}
	al.Flush()
	runs := topRuns(t, reopen(t, path))
	if len(runs) != 1 || runs[0].Status != StatusFailed || !strings.Contains(runs[0].Error, "interrupted") {
		t.Fatalf("runs: %+v", runs)
	}
}

// TestAutologNestsInActiveRun checks that work autologged while a run
// started by hand is active becomes a child of the innermost such run,
// when it is in the same store and experiment, and stays top-level
// otherwise.
func TestAutologNestsInActiveRun(t *testing.T) {
	tests := []struct {
		name string
		// manual starts the runs by hand in the autologger's store s (or
		// another one) and returns the one the work should nest under
		// ("" for none), and what ends them after the work.
		manual func(t *testing.T, s *Store) (want string, done func())
		long   bool // the work runs long enough to have its run started while it runs
	}{
		{"the active run", func(t *testing.T, s *Store) (string, func()) {
			r := mustStart(t, s, "")
			return r.ID(), func() { r.Finish() }
		}, false},
		{"the innermost of nested runs", func(t *testing.T, s *Store) (string, func()) {
			r := mustStart(t, s, "")
			c, err := r.StartChild("inner")
			if err != nil {
				t.Fatal(err)
			}
			return c.ID(), func() { c.Finish(); r.Finish() }
		}, false},
		{"the outer run once the inner ended", func(t *testing.T, s *Store) (string, func()) {
			r := mustStart(t, s, "")
			c, _ := r.StartChild("inner")
			c.Finish()
			return r.ID(), func() { r.Finish() }
		}, false},
		{"long work: the run started while it runs", func(t *testing.T, s *Store) (string, func()) {
			r := mustStart(t, s, "")
			return r.ID(), func() { r.Finish() }
		}, true},
		{"no run once it ended", func(t *testing.T, s *Store) (string, func()) {
			mustStart(t, s, "").Finish()
			return "", func() {}
		}, false},
		{"a run of another experiment", func(t *testing.T, s *Store) (string, func()) {
			r := mustStart(t, s, "elsewhere")
			return "", func() { r.Finish() }
		}, false},
		{"a run of another store", func(t *testing.T, _ *Store) (string, func()) {
			other, err := Open(filepath.Join(t.TempDir(), "other.db"))
			if err != nil {
				t.Fatal(err)
			}
			r := mustStart(t, other, "")
			return "", func() { r.Finish(); other.Close() }
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.long {
				prev := longWorkAfter
				longWorkAfter = 30 * time.Millisecond
				t.Cleanup(func() { longWorkAfter = prev })
			}
			path, al, _ := autologTo(t)
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			want, done := tt.manual(t, s)
			X, y := blobs(10)
			var model experiments.Model = &experiments.GaussianNB{}
			if tt.long {
				model = &slowModel{Sleep: 40 * time.Millisecond}
			}
			if _, err := experiments.CrossValidate(model, X, y, experiments.CVOptions{K: 2, Workers: 1}); err != nil {
				t.Fatal(err)
			}
			done()
			al.Flush()
			if err := al.Err(); err != nil {
				t.Fatal(err)
			}
			cv, err := s.SearchRuns(SearchQuery{Filter: `tags.autolog = "cross_validate"`})
			if err != nil || len(cv) != 1 {
				t.Fatalf("cross-validation runs %v, %v", cv, err)
			}
			if cv[0].ParentID != want {
				t.Errorf("the cross-validation's run has parent %q, want %q", cv[0].ParentID, want)
			}
			if kids := children(t, s, cv[0].ID); len(kids) != 2 {
				t.Errorf("%d folds under the cross-validation's run, want 2", len(kids))
			}
		})
	}
}

func mustStart(t *testing.T, s *Store, experiment string) *Run {
	t.Helper()
	r, err := s.StartRun(experiment, &RunOptions{Name: "by hand"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A grid search's results changed by the cell after the search, before
// the writer runs, do not change what its trials log: the event owns
// its copies.
func TestAutologGridTrialsOwnData(t *testing.T) {
	path, al, _ := autologTo(t)
	X, y := blobs(20)
	gs := &experiments.GridSearch{Model: &experiments.KNeighborsClassifier{}, Grid: map[string][]any{"K": {1, 3}}, CV: experiments.CVOptions{K: 3}}
	SetCellRunning(true)
	if err := gs.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	res := gs.Results()
	want := slices.Clone(res[0].Scores)
	for i := range res[0].Scores {
		res[0].Scores[i] = -1
	}
	res[0].Params["K"] = 999
	SetCellRunning(false)
	al.Flush()
	s := reopen(t, path)
	for _, k := range children(t, s, topRuns(t, s)[0].ID) {
		if k.Params["K"] == "999" {
			t.Errorf("a trial logged the changed params %v", k.Params)
		}
		h, err := s.MetricHistory(k.ID, "fold_accuracy")
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Values) == 0 || slices.Contains(h.Values, -1) {
			t.Errorf("a trial logged the scores %v (the search's: %v)", h.Values, want)
		}
	}
}
