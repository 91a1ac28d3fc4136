package jobrt

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/gopherlab/gopherlab/experiments"
)

// testJob returns a job of manifest m whose failures are recorded, not
// the end of the process.
func testJob(t *testing.T, m Manifest) (*Job, *bytes.Buffer, *int) {
	t.Helper()
	m.Format = Format
	b, _ := json.Marshal(m)
	j, err := New(b)
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	code := -1
	j.out, j.errOut = io.Discard, &errOut
	j.exit = func(c int) { code = c }
	return j, &errOut, &code
}

type myErr struct{}

func (*myErr) Error() string { return "mine" }

// A cell's final call follows the notebook's rule: a non-nil error fails
// the cell (and the job, naming the cell), anything else is shown.
func TestFinalResults(t *testing.T) {
	var nilMine *myErr
	tests := []struct {
		name string
		call func(j *Job)
		fail string // the job's failure; "" for none
	}{
		{"value", func(j *Job) { j.Result(42) }, ""},
		{"nil error", func(j *Job) { j.Result(error(nil)) }, ""},
		{"error", func(j *Job) { j.Result(errors.New("write x.csv: no such directory")) }, "job failed in cell 3 (evaluate): write x.csv: no such directory"},
		{"nil pointer of an error type", func(j *Job) { j.Result(nilMine) }, ""},
		{"value, nil error", func(j *Job) { j.ErrorResult(0.75, nil) }, ""},
		{"value, error", func(j *Job) { j.ErrorResult(0.0, errors.New("column nope not found")) }, "job failed in cell 3 (evaluate): column nope not found"},
		{"values, error", func(j *Job) { j.ErrorResult(1, "a", fmt.Errorf("three")) }, "job failed in cell 3 (evaluate): three"},
		{"values, nil error", func(j *Job) { j.ErrorResult(1, "a", nil) }, ""},
		{"byte count, error", func(j *Job) { j.CheckError(0, errors.New("short write")) }, "job failed in cell 3 (evaluate): short write"},
		{"byte count, nil error", func(j *Job) { j.CheckError(12, nil) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, errOut, code := testJob(t, Manifest{Cells: []ManifestCell{{Index: 1, Tag: "parameters"}, {Index: 3, Tag: "evaluate"}}})
			j.cell = 1
			// The tracking store hears of the failure after tracking
			// ended, with the cell named.
			var events []string
			j.stopTracking = func() { events = append(events, "stop") }
			j.onFail = func(_ *Job, cell, failure string) { events = append(events, cell+": "+failure) }
			tt.call(j)
			switch {
			case tt.fail == "" && *code != -1:
				t.Errorf("the job failed (%d): %s", *code, errOut)
			case tt.fail != "" && (*code != 1 || strings.TrimSpace(errOut.String()) != tt.fail):
				t.Errorf("exit %d, %q; want 1, %q", *code, errOut, tt.fail)
			}
			wantEvents := ""
			if tt.fail != "" {
				wantEvents = "stop; " + strings.TrimPrefix(tt.fail, "job failed in ")
			}
			if got := strings.Join(events, "; "); got != wantEvents {
				t.Errorf("tracking heard %q, want %q", got, wantEvents)
			}
		})
	}
}

// Progress counts the cells that run: the parameters cell is the job's
// flags, wherever it is.
func TestProgress(t *testing.T) {
	for _, tt := range []struct {
		tags []string
		want []string // per cell that runs
	}{
		{[]string{"parameters", "load", "prepare", "train", "evaluate"}, []string{"", "[1/4] cell 1 (load)", "[2/4] cell 2 (prepare)", "[3/4] cell 3 (train)", "[4/4] cell 4 (evaluate)"}},
		{[]string{"load", "parameters", "train"}, []string{"[1/2] cell 0 (load)", "", "[2/2] cell 2 (train)"}},
		{[]string{"train"}, []string{"[1/1] cell 0 (train)"}},
	} {
		var cells []ManifestCell
		for i, tag := range tt.tags {
			cells = append(cells, ManifestCell{Index: i, Tag: tag})
		}
		j, _, _ := testJob(t, Manifest{Cells: cells})
		for i, want := range tt.want {
			if want == "" {
				continue
			}
			var out bytes.Buffer
			j.out = &out
			j.Cell(i)
			if got := strings.TrimSpace(out.String()); got != want {
				t.Errorf("%v: cell %d: %q, want %q", tt.tags, i, got, want)
			}
		}
	}
}

// A float parameter refuses NaN and infinities with a message naming the
// flag, as gopherlab run -p does.
func TestFloatParam(t *testing.T) {
	for _, tt := range []struct {
		arg  string
		want float64
		err  bool
	}{
		{"0.5", 0.5, false},
		{"-2", -2, false},
		{"1e3", 1000, false},
		{"NaN", 0, true},
		{"nan", 0, true},
		{"Inf", 0, true},
		{"-Inf", 0, true},
		{"+Infinity", 0, true},
		{"1e400", 0, true},
		{"x", 0, true},
	} {
		c := 1.0
		fs := flag.NewFlagSet("job", flag.ContinueOnError)
		var msg bytes.Buffer
		fs.SetOutput(&msg)
		fs.Var((*finiteFloat)(&c), "C", "")
		err := fs.Parse([]string{"-C", tt.arg})
		switch {
		case tt.err && (err == nil || !strings.Contains(err.Error(), `invalid value "`+tt.arg+`" for flag -C: "`+tt.arg+`" is not a finite float64`)):
			t.Errorf("-C %s: %v", tt.arg, err)
		case !tt.err && (err != nil || c != tt.want || fs.Lookup("C").Value.String() != fmt.Sprint(tt.want)):
			t.Errorf("-C %s: %v, C = %v", tt.arg, err, c)
		}
		if tt.err && !math.IsNaN(c) && c != 1 {
			t.Errorf("-C %s set C to %v", tt.arg, c)
		}
	}
	c := 0.25
	if v := (*finiteFloat)(&c); v.String() != "0.25" {
		t.Errorf("default shown as %q", v.String())
	}
}

func fittedPipeline(t *testing.T) *experiments.Pipeline {
	t.Helper()
	X := mat.NewDense(20, 2, nil)
	y := make([]float64, 20)
	for i := range y {
		c := float64(i % 2)
		X.Set(i, 0, c*4+math.Sin(float64(i)))
		X.Set(i, 1, c*3+math.Cos(float64(i)))
		y[i] = c
	}
	p := experiments.NewPipeline(&experiments.LogisticRegression{})
	if err := p.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	return p
}

// The check comes before the model: a job that fails it leaves the model
// directory as it was, and one that passes it writes the model labelled
// with the tracked run.
func TestCheckBeforeModel(t *testing.T) {
	pipe := fittedPipeline(t)
	for _, tt := range []struct {
		name     string
		check    error
		existing bool // a model is there already
	}{
		{"fails, no model before", errors.New("run 1 does not reproduce tracked run 9ff65f29"), false},
		{"fails, a model before", errors.New("run 1 does not reproduce tracked run 9ff65f29"), true},
		{"passes", nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "serve", "model")
			if tt.existing {
				os.MkdirAll(dir, 0o755)
				os.WriteFile(filepath.Join(dir, "model.json"), []byte("good"), 0o644)
				os.WriteFile(filepath.Join(dir, "model.gob"), []byte("good"), 0o644)
			}
			j, _, _ := testJob(t, Manifest{Name: "churn", TrackedRun: &TrackedRun{ID: "9ff65f29-0000-4000-8000-000000000000", Experiment: "churn"}})
			j.ModelDir = dir
			stopped := false
			j.stopTracking = func() { stopped = true }
			err := j.complete(Program{
				Check: func(*Job) error {
					if !stopped {
						t.Error("the check runs before tracking ended")
					}
					return tt.check
				},
				Model: func() *experiments.Pipeline { return pipe },
			})
			if tt.check != nil {
				if err == nil || !strings.Contains(err.Error(), tt.check.Error()) || !strings.Contains(err.Error(), "model not written: "+dir+" left as it was") {
					t.Errorf("complete: %v", err)
				}
				if !tt.existing {
					if _, err := os.Stat(dir); !os.IsNotExist(err) {
						t.Errorf("a failed check made %s: %v", dir, err)
					}
					return
				}
				for _, f := range []string{"model.json", "model.gob"} {
					if b, _ := os.ReadFile(filepath.Join(dir, f)); string(b) != "good" {
						t.Errorf("a failed check changed %s: %.40q", f, b)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var mm ModelManifest
			b, _ := os.ReadFile(filepath.Join(dir, "model.json"))
			if err := json.Unmarshal(b, &mm); err != nil || mm.RunID != j.Manifest.TrackedRun.ID {
				t.Errorf("model.json: %v %s", err, b)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// The job's flags account for other inputs; inputs found to differ while
// the job ran do not.
func TestDifferencesChosen(t *testing.T) {
	j, _, _ := testJob(t, Manifest{})
	if j.DifferencesChosen() {
		t.Error("no differences, chosen")
	}
	j.AddDifference("train data x")
	if j.DifferencesChosen() {
		t.Error("a difference found while the job ran is chosen")
	}
	j.AllowChangedData = true
	if !j.DifferencesChosen() {
		t.Error("-allow-changed-data does not choose the difference")
	}
}
