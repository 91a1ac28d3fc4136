package tracking

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRunLifecycle(t *testing.T) {
	s := openTemp(t)
	SetCellInfo("x := 1\nfmt.Println(x)", "demo.ipynb", 7)
	defer SetCellInfo("", "", 0)
	r, err := s.StartRun("iris", &RunOptions{Name: "forest", Tags: map[string]string{"team": "a"},
		Params: map[string]interface{}{"trees": 100}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status() != StatusRunning || r.Experiment() != "iris" || len(r.ID()) != 36 {
		t.Fatalf("new run: %v %s %s", r, r.Experiment(), r.ID())
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"string param", func() error { return r.LogParam("model", "forest") }},
		{"float param", func() error { return r.LogParam("lr", 0.1) }},
		{"params", func() error { return r.LogParams(map[string]interface{}{"depth": 5, "bootstrap": true}) }},
		{"same value again", func() error { return r.LogParam("lr", 0.1) }},
		{"tag", func() error { return r.SetTag("stage", "dev") }},
		{"tag replaced", func() error { return r.SetTag("stage", "prod") }},
		{"seed", func() error { return r.SetSeed(42) }},
		{"metric", func() error { return r.LogMetric("acc", 0.5, 0) }},
		{"metrics", func() error { return r.LogMetrics(map[string]float64{"acc": 0.9, "loss": 0.2}, 1) }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	if err := r.LogParam("lr", 0.2); err == nil || !strings.Contains(err.Error(), "cannot change") {
		t.Errorf("changing a param: err = %v", err)
	}
	// The failed LogParams is atomic: "new" was not written either.
	if err := r.LogParams(map[string]interface{}{"new": 1, "lr": 0.3}); err == nil {
		t.Error("changing a param in LogParams succeeded")
	}
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(); err != nil {
		t.Errorf("second Finish: %v", err)
	}
	if err := r.LogMetric("acc", 1, 2); !errors.Is(err, ErrRunEnded) {
		t.Errorf("LogMetric after End: %v", err)
	}
	if c, err := r.StartChild("late"); !errors.Is(err, ErrRunEnded) || c != nil {
		t.Errorf("StartChild after End: %v, %v", c, err)
	}
	ri, err := s.GetRun(r.ID()[:8])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"trees": "100", "model": "forest", "lr": "0.1", "depth": "5", "bootstrap": "true"}
	if !reflect.DeepEqual(ri.Params, want) {
		t.Errorf("params = %v, want %v", ri.Params, want)
	}
	if !reflect.DeepEqual(ri.Tags, map[string]string{"team": "a", "stage": "prod"}) {
		t.Errorf("tags = %v", ri.Tags)
	}
	if !reflect.DeepEqual(ri.Metrics, map[string]float64{"acc": 0.9, "loss": 0.2}) {
		t.Errorf("metrics = %v", ri.Metrics)
	}
	if ri.Status != StatusFinished || ri.EndTime.Before(ri.StartTime) || !ri.HasSeed || ri.Seed != 42 {
		t.Errorf("run info: %+v", ri)
	}
	if ri.Source != "x := 1\nfmt.Println(x)" || ri.Notebook != "demo.ipynb" || ri.ExecutionCount != 7 {
		t.Errorf("cell info: %q %q %d", ri.Source, ri.Notebook, ri.ExecutionCount)
	}
	if ri.GoVersion == "" || ri.OwnerPID != os.Getpid() {
		t.Errorf("environment: go %q pid %d", ri.GoVersion, ri.OwnerPID)
	}
}

func TestEndStatuses(t *testing.T) {
	s := openTemp(t)
	tests := []struct {
		name    string
		end     func(r *Run) error
		status  string
		errText string
		wantErr bool
	}{
		{"finish", func(r *Run) error { return r.Finish() }, StatusFinished, "", false},
		{"fail", func(r *Run) error { return r.Fail(errors.New("diverged")) }, StatusFailed, "diverged", false},
		{"fail nil", func(r *Run) error { return r.Fail(nil) }, StatusFailed, "failed", false},
		{"killed", func(r *Run) error { return r.End(StatusKilled) }, StatusKilled, "", false},
		{"bad status", func(r *Run) error { return r.End("DONE") }, StatusRunning, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := s.StartRun("e", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.end(r); (err != nil) != tt.wantErr {
				t.Fatalf("end: %v", err)
			}
			ri, err := s.GetRun(r.ID())
			if err != nil {
				t.Fatal(err)
			}
			if ri.Status != tt.status || ri.Error != tt.errText {
				t.Errorf("status %s error %q, want %s %q", ri.Status, ri.Error, tt.status, tt.errText)
			}
		})
	}
}

func TestMetricBatching(t *testing.T) {
	count := func(s *Store, id string) int {
		var n int
		s.db.QueryRow(`SELECT COUNT(*) FROM metrics WHERE run_id = ?`, id).Scan(&n)
		return n
	}
	tests := []struct {
		name     string
		size     int
		interval time.Duration
		log      int
		wait     time.Duration
		want     int // stored before End
	}{
		{"below batch, no timer", 10, 0, 9, 50 * time.Millisecond, 0},
		{"batch size reached", 10, 0, 25, 0, 20},
		{"timer flushes", 1000, 20 * time.Millisecond, 5, 300 * time.Millisecond, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTemp(t)
			s.SetBatching(tt.size, tt.interval)
			r, err := s.StartRun("b", nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < tt.log; i++ {
				if err := r.LogMetric("m", float64(i), i); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(tt.wait)
			if got := count(s, r.ID()); got != tt.want {
				t.Errorf("stored before End: %d, want %d", got, tt.want)
			}
			if err := r.Finish(); err != nil {
				t.Fatal(err)
			}
			if got := count(s, r.ID()); got != tt.log {
				t.Errorf("stored after End: %d, want %d", got, tt.log)
			}
		})
	}
}

func TestLatestMetric(t *testing.T) {
	s := openTemp(t)
	s.SetBatching(2, 0) // several batches, so latest_metrics is merged across them
	tests := []struct {
		name   string
		points []struct {
			v    float64
			step int
		}
		want float64
	}{
		{"increasing steps", []struct {
			v    float64
			step int
		}{{1, 0}, {2, 1}, {3, 2}}, 3},
		{"out of order steps", []struct {
			v    float64
			step int
		}{{1, 5}, {2, 1}, {3, 2}}, 1},
		{"same step, last logged", []struct {
			v    float64
			step int
		}{{1, 3}, {2, 3}, {3, 3}}, 3},
	}
	r, err := s.StartRun("latest", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		for _, p := range tt.points {
			r.LogMetric(tt.name, p.v, p.step)
		}
	}
	r.LogMetric("nan", math.NaN(), 0)
	r.LogMetric("inf", math.Inf(-1), 0)
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	ri, _ := s.GetRun(r.ID())
	for _, tt := range tests {
		if got := ri.Metrics[tt.name]; got != tt.want {
			t.Errorf("%s: latest = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !math.IsNaN(ri.Metrics["nan"]) || !math.IsInf(ri.Metrics["inf"], -1) {
		t.Errorf("nan/inf: %v %v", ri.Metrics["nan"], ri.Metrics["inf"])
	}
	keys, err := s.MetricKeys(r.ID())
	if err != nil || strings.Join(keys, ",") != "increasing steps,inf,nan,out of order steps,same step, last logged" {
		t.Errorf("MetricKeys = %q, %v", keys, err)
	}
	h, err := s.MetricHistory(r.ID(), "out of order steps")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(h.Steps, []int{1, 2, 5}) || !reflect.DeepEqual(h.Values, []float64{2, 3, 1}) || h.Len() != 3 {
		t.Errorf("history %v %v", h.Steps, h.Values)
	}
	if x, y := h.XY(2); x != 5 || y != 1 {
		t.Errorf("XY(2) = %v, %v", x, y)
	}
}

func TestRunConcurrentUse(t *testing.T) {
	s := openTemp(t)
	s.SetBatching(100, 5*time.Millisecond)
	r, err := s.StartRun("conc", nil)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, points = 8, 500
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("m%d", g)
			for i := 0; i < points; i++ {
				if err := r.LogMetric(key, float64(i), i); err != nil {
					t.Error(err)
					return
				}
				if i%100 == 0 {
					if err := r.SetTag(key, fmt.Sprint(i)); err != nil {
						t.Error(err)
					}
					r.Status()
				}
			}
		}()
	}
	wg.Wait()
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	counts, err := s.MetricCount(r.ID())
	if err != nil {
		t.Fatal(err)
	}
	for g := 0; g < goroutines; g++ {
		if n := counts[fmt.Sprintf("m%d", g)]; n != points {
			t.Errorf("m%d: %d points stored, want %d", g, n, points)
		}
	}
	ri, _ := s.GetRun(r.ID())
	if ri.Metrics["m3"] != points-1 {
		t.Errorf("latest m3 = %v", ri.Metrics["m3"])
	}
}

func TestChildRuns(t *testing.T) {
	s := openTemp(t)
	parent, err := s.StartRun("cv", &RunOptions{Name: "grid"})
	if err != nil {
		t.Fatal(err)
	}
	for fold := 0; fold < 3; fold++ {
		c, err := parent.StartChild(fmt.Sprintf("fold-%d", fold))
		if err != nil {
			t.Fatal(err)
		}
		if c.ParentID() != parent.ID() || c.Experiment() != "cv" {
			t.Errorf("child %v: parent %s experiment %s", c, c.ParentID(), c.Experiment())
		}
		c.LogMetric("acc", 0.8+float64(fold)/100, 0)
		c.Finish()
	}
	parent.Finish()
	kids, err := s.Children(parent.ID())
	if err != nil {
		t.Fatal(err)
	}
	last := 2
	if len(kids) != 3 || kids[0].Name != "fold-0" || kids[2].Metrics["acc"] != 0.8+float64(last)/100 {
		t.Errorf("children: %+v", kids)
	}
	if _, err := s.StartRun("cv", &RunOptions{ParentID: "no-such-run"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown parent: %v", err)
	}
}

func TestArtifacts(t *testing.T) {
	s := openTemp(t)
	r1, _ := s.StartRun("art", nil)
	r2, _ := s.StartRun("art", nil)
	model := []byte("weights: 1 2 3\n")
	src := filepath.Join(t.TempDir(), "plot.svg")
	os.WriteFile(src, []byte("<svg/>"), 0o644)
	tests := []struct {
		name string
		do   func() error
	}{
		{"bytes", func() error { return r1.LogArtifact("model", "model", model) }},
		{"same bytes, other run", func() error { return r2.LogArtifact("m", "model", model) }},
		{"file", func() error { return r1.LogArtifactFile("plot", "plot", src) }},
		{"replace", func() error { return r2.LogArtifact("m", "model", []byte("v2")) }},
	}
	for _, tt := range tests {
		if err := tt.do(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
	if err := r1.LogArtifactFile("x", "", filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file accepted")
	}
	got, err := s.ReadArtifact(r1.ID(), "model")
	if err != nil || string(got) != string(model) {
		t.Fatalf("ReadArtifact = %q, %v", got, err)
	}
	got, _ = s.ReadArtifact(r2.ID(), "m")
	if string(got) != "v2" {
		t.Errorf("replaced artifact = %q", got)
	}
	list, err := s.Artifacts(r1.ID())
	if err != nil || len(list) != 2 || list[0].Name != "model" || list[0].Size != int64(len(model)) {
		t.Fatalf("Artifacts = %+v, %v", list, err)
	}
	want := "sha256/" + list[0].SHA256[:2] + "/" + list[0].SHA256[2:]
	if list[0].Path != want || list[0].SHA256 != sha256sum(model) {
		t.Errorf("artifact path %s, want %s", list[0].Path, want)
	}
	// Content-addressed: the model bytes are stored once.
	files := 0
	filepath.Walk(filepath.Join(s.ArtifactDir(), "sha256"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files++
		}
		return nil
	})
	if files != 3 { // model, plot, v2
		t.Errorf("%d files stored, want 3", files)
	}
	// Tampering is detected.
	p, _ := s.ArtifactFile(r1.ID(), "model")
	os.Chmod(p, 0o644)
	os.WriteFile(p, []byte("tampered"), 0o644)
	if _, err := s.ReadArtifact(r1.ID(), "model"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("tampered artifact: %v", err)
	}
	if _, err := s.ReadArtifact(r1.ID(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing artifact: %v", err)
	}
}

type denseMatrix struct {
	r, c int
	data []float64
}

func (m denseMatrix) Dims() (int, int)    { return m.r, m.c }
func (m denseMatrix) At(i, j int) float64 { return m.data[i*m.c+j] }

func TestDatasets(t *testing.T) {
	s := openTemp(t)
	rows := [][]float64{{5.1, 3.5, 0}, {4.9, 3, 1}, {math.NaN(), math.Inf(1), -0.000001234}, {1e300, 0.1 + 0.2, -7}}
	cols := []string{"sepal length", "sepal,width", "class"}
	r1, _ := s.StartRun("data", nil)
	r2, _ := s.StartRun("data", nil)
	sha1, err := r1.LogDataset(RoleTrain, "iris", cols, rows)
	if err != nil {
		t.Fatal(err)
	}
	// The same table as a matrix is the same content: stored once.
	flat := []float64{}
	for _, r := range rows {
		flat = append(flat, r...)
	}
	sha2, err := r2.LogDatasetMatrix(RoleTrain, "iris", cols, denseMatrix{4, 3, flat})
	if err != nil {
		t.Fatal(err)
	}
	if sha1 != sha2 {
		t.Errorf("same table, different hashes %s %s", sha1, sha2)
	}
	raw := []byte("a,b\n1,x\n2,y\n3,z\n")
	sha3, err := r2.LogDatasetBytes(RoleEval, "raw.csv", raw, DatasetInfo{Format: "csv"})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	s.db.QueryRow(`SELECT COUNT(*) FROM datasets`).Scan(&n)
	if n != 2 {
		t.Errorf("%d datasets stored, want 2", n)
	}
	d, err := s.Dataset(sha1[:10])
	if err != nil {
		t.Fatal(err)
	}
	if d.Rows != 4 || d.Cols != 3 || !reflect.DeepEqual(d.Columns, cols) || d.Format != "csv" {
		t.Errorf("dataset info %+v", d)
	}
	back, err := d.Float64s()
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		for j := range rows[i] {
			a, b := rows[i][j], back[i][j]
			if a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
				t.Errorf("[%d][%d] = %v, want %v", i, j, b, a)
			}
		}
	}
	d3, err := s.Dataset(sha3)
	if err != nil || string(d3.Content) != string(raw) || d3.Rows != 3 || d3.Cols != 2 {
		t.Errorf("raw dataset %+v, %v", d3, err)
	}
	ins, err := s.Inputs(r2.ID())
	if err != nil || len(ins) != 2 || ins[0].Role != RoleEval || ins[1].SHA256 != sha1 {
		t.Errorf("inputs %+v, %v", ins, err)
	}
	if _, err := s.Dataset("ffffffffff"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown dataset: %v", err)
	}
	if _, err := r1.LogDataset(RoleTrain, "bad", []string{"a", "b"}, [][]float64{{1}}); err == nil {
		t.Error("ragged rows accepted")
	}
	if _, err := r1.LogDataset("", "x", nil, nil); err == nil {
		t.Error("empty role accepted")
	}
}

func TestCloseEndsOpenRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := s.StartRun("c", nil)
	for i := 0; i < 10; i++ {
		r.LogMetric("m", float64(i), i)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.LogMetric("m", 1, 1); !errors.Is(err, ErrRunEnded) {
		t.Errorf("after Close: %v", err)
	}
	if _, err := s.StartRun("c", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("StartRun after Close: %v", err)
	}
	// Every method of a closed store says so.
	closedCalls := map[string]func() error{
		"SearchRuns":  func() error { _, err := s.SearchRuns(SearchQuery{}); return err },
		"GetRun":      func() error { _, err := s.GetRun(r.ID()); return err },
		"Experiments": func() error { _, err := s.Experiments(); return err },
		"MetricCount": func() error { _, err := s.MetricCount(r.ID()); return err },
	}
	for name, call := range closedCalls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
	s, _ = Open(path)
	defer s.Close()
	ri, _ := s.GetRun(r.ID())
	counts, _ := s.MetricCount(r.ID())
	if ri.Status != StatusKilled || counts["m"] != 10 {
		t.Errorf("status %s, %d points", ri.Status, counts["m"])
	}
}

// In a notebook, StartRun("") goes to the notebook's experiment, and a
// cell that fails ends the runs it left running FAILED with its error;
// runs of earlier cells, and runs the cell ended, are left as they are.
func TestEndCell(t *testing.T) {
	s := openTemp(t)
	t.Cleanup(func() { SetCellInfo("", "", 0); SetCellRunning(false); EndCell("") })
	SetCellInfo("earlier cell", "/nb/iris.ipynb", 1)
	earlier, err := s.StartRun("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if earlier.Experiment() != "iris" {
		t.Errorf("StartRun(\"\") in a notebook: experiment %q, want iris", earlier.Experiment())
	}
	SetCellInfo("failing cell", "/nb/iris.ipynb", 2)
	SetCellRunning(true)
	left, err := s.StartRun("", nil)
	if err != nil {
		t.Fatal(err)
	}
	ended, err := s.StartRun("", nil)
	if err != nil {
		t.Fatal(err)
	}
	ended.Finish()
	EndCell("ValueError: bad input")
	SetCellRunning(false)
	for _, c := range []struct {
		run          *Run
		status, fail string
	}{
		{left, StatusFailed, "the cell failed: ValueError: bad input"},
		{ended, StatusFinished, ""},
		{earlier, StatusRunning, ""},
	} {
		ri, err := s.GetRun(c.run.ID())
		if err != nil {
			t.Fatal(err)
		}
		if ri.Status != c.status || ri.Error != c.fail {
			t.Errorf("run of %s: %s %q, want %s %q", ri.Source, ri.Status, ri.Error, c.status, c.fail)
		}
	}
	// A cell that succeeds leaves its runs running.
	SetCellRunning(true)
	open, _ := s.StartRun("", nil)
	EndCell("")
	SetCellRunning(false)
	if open.Status() != StatusRunning {
		t.Errorf("a run of a cell that succeeded: %s", open.Status())
	}
}

// A cell finds its notebook's runs under NotebookExperiment: where
// StartRun("") and the autologger put them.
func TestNotebookExperiment(t *testing.T) {
	s := openTemp(t)
	defer SetCellInfo("", "", 0)
	for _, tc := range []struct{ notebook, want string }{
		{"/home/u/work/churn model.ipynb", "churn model"},
		{"02-breast-cancer.ipynb", "02-breast-cancer"},
		{"", DefaultExperiment}, // nbclient on its own, or a Go program
	} {
		SetCellInfo("cell", tc.notebook, 1)
		if got := NotebookExperiment(); got != tc.want {
			t.Errorf("notebook %q: NotebookExperiment() = %q, want %q", tc.notebook, got, tc.want)
		}
		r, err := s.StartRun("", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Experiment() != NotebookExperiment() {
			t.Errorf("notebook %q: StartRun(\"\") logs to %q, NotebookExperiment() says %q", tc.notebook, r.Experiment(), NotebookExperiment())
		}
		r.Finish()
	}
}

// TestFailAfterEnd checks that Fail on a run that has ended says so and
// where to turn, and changes nothing.
func TestFailAfterEnd(t *testing.T) {
	tests := []struct {
		name   string
		end    func(s *Store, r *Run) error
		status string
		says   string
	}{
		{"finished", func(_ *Store, r *Run) error { return r.Finish() }, StatusFinished, "Store.FailFinishedRun"},
		{"failed", func(_ *Store, r *Run) error { return r.Fail(errors.New("first")) }, StatusFailed, "again"},
		{"killed by the store's close", func(s *Store, _ *Run) error { return s.Close() }, StatusKilled, "Store.FailRun"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.db")
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.StartRun("x", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.end(s, r); err != nil {
				t.Fatal(err)
			}
			err = r.Fail(errors.New("late"))
			if !errors.Is(err, ErrRunEnded) || !strings.Contains(err.Error(), tt.status) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Fail after the end: err = %v, want ErrRunEnded naming %s and %q", err, tt.status, tt.says)
			}
			if err := r.End(tt.status); err != nil {
				t.Errorf("End again: %v", err)
			}
			s2, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			ri, err := s2.GetRun(r.ID())
			if err != nil {
				t.Fatal(err)
			}
			if ri.Status != tt.status || strings.Contains(ri.Error, "late") {
				t.Errorf("run after a late Fail: %s %q, want %s unchanged", ri.Status, ri.Error, tt.status)
			}
		})
	}
}
