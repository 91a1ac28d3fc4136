package trackcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/export/jobrt"
	"github.com/gopherlab/gopherlab/tracking"
)

// Only the metrics both runs logged are compared, to the bit; those only
// the tracked run has come from cells the job does not run.
func TestCompareMetrics(t *testing.T) {
	nan := math.NaN()
	tenth, fifth := 0.1, 0.2 // variables: constant arithmetic is exact
	for _, tt := range []struct {
		name      string
		want, got map[string]float64
		c         metricComparison
	}{
		{"same", map[string]float64{"acc": 0.77, "fit_time_s": 1}, map[string]float64{"acc": 0.77, "fit_time_s": 2}, metricComparison{same: []string{"acc=0.77"}}},
		{"skip cell metric", map[string]float64{"test_accuracy": 0.77, "train_accuracy": 0.863333}, map[string]float64{"test_accuracy": 0.77}, metricComparison{same: []string{"test_accuracy=0.77"}, notCompared: []string{"train_accuracy"}}},
		{"differs", map[string]float64{"acc": 0.77, "auc": 0.9}, map[string]float64{"acc": 0.78, "auc": 0.9}, metricComparison{same: []string{"auc=0.9"}, diffs: []string{"acc: 0.78, notebook 0.77"}}},
		{"last bit", map[string]float64{"acc": 0.3}, map[string]float64{"acc": tenth + fifth}, metricComparison{diffs: []string{"acc: " + tracking.FormatMetric(tenth+fifth) + ", notebook 0.3"}}},
		{"NaN is NaN", map[string]float64{"auc": nan}, map[string]float64{"auc": nan}, metricComparison{same: []string{"auc=" + tracking.FormatMetric(nan)}}},
		{"job only", map[string]float64{"acc": 1}, map[string]float64{"acc": 1, "extra": 2}, metricComparison{same: []string{"acc=1"}}},
	} {
		if c := compareMetrics(tt.want, tt.got); !reflect.DeepEqual(c, tt.c) {
			t.Errorf("%s: %+v, want %+v", tt.name, c, tt.c)
		}
	}
}

// Check records its outcome on the job's run, fails the job when a
// compared metric differs or the data differs without a flag asking for
// it, and marks the job's run FAILED then.
func TestCheckOutcome(t *testing.T) {
	tracked := "9ff65f29-1111-4000-8000-000000000000"
	for _, tt := range []struct {
		name     string
		notebook map[string]float64 // the tracked run's
		job      map[string]float64 // the job's run's
		differ   string             // a difference found while the job ran
		flags    []string
		err      string // "" for none
		out      string
		tag      string
		status   string
	}{
		{name: "reproduces; skip cell metric", notebook: map[string]float64{"test_accuracy": 0.77, "train_accuracy": 0.863333}, job: map[string]float64{"test_accuracy": 0.77},
			out: "not compared (logged by cells the job does not run): train_accuracy", tag: Reproduced, status: tracking.StatusFinished},
		{name: "metric differs", notebook: map[string]float64{"test_accuracy": 0.77, "train_accuracy": 0.86}, job: map[string]float64{"test_accuracy": 0.8},
			err: "test_accuracy: 0.8, notebook 0.77\n  not compared (logged by cells the job does not run): train_accuracy", tag: NotReproduced, status: tracking.StatusFailed},
		{name: "data changed since the run", notebook: map[string]float64{"test_accuracy": 0.77}, job: map[string]float64{"test_accuracy": 0.77}, differ: "train data customers.csv (300×5, sha256 aaaaaaaaaaaa; the run's 300×5, sha256 bbbbbbbbbbbb)",
			err: "tracked run 9ff65f29 cannot be reproduced: the job's inputs differ from the run's:\n  train data customers.csv", tag: NotReproduced, status: tracking.StatusFailed},
		{name: "data change intended", notebook: map[string]float64{"test_accuracy": 0.77}, job: map[string]float64{"test_accuracy": 0.7}, differ: "train data customers.csv", flags: []string{"-allow-changed-data"},
			out: "not compared: the job ran on other inputs than the run: train data customers.csv (as its flags asked)", tag: NotCompared, status: tracking.StatusFinished},
		{name: "only skip cell metrics", notebook: map[string]float64{"train_accuracy": 0.86}, job: map[string]float64{"test_accuracy": 0.7},
			err: "tracked run 9ff65f29: reproduction not checked: the job's run", tag: NotCompared, status: tracking.StatusFailed},
		{name: "only skip cell metrics, -allow-unchecked", notebook: map[string]float64{"train_accuracy": 0.86}, job: map[string]float64{"test_accuracy": 0.7}, flags: []string{"-allow-unchecked"},
			out: "reproduction not checked: the job's run", tag: NotCompared, status: tracking.StatusFinished},
		{name: "only timings", notebook: map[string]float64{"fit_time_s": 1}, job: map[string]float64{"fit_time_s": 2},
			err: "tracked run 9ff65f29: reproduction not checked: it has only timings", tag: NotCompared, status: tracking.StatusFailed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv(tracking.EnvDB, filepath.Join(dir, "t.db"))
			wd, _ := os.Getwd()
			defer os.Chdir(wd)
			m := jobrt.Manifest{Format: jobrt.Format, Name: "churn", WorkDir: dir, TrackedRun: &jobrt.TrackedRun{ID: tracked, Experiment: "churn", Name: "fit", Metrics: tt.notebook}}
			b, _ := json.Marshal(m)
			j, err := jobrt.New(b)
			if err != nil {
				t.Fatal(err)
			}
			fs := flag.NewFlagSet("job", flag.ContinueOnError)
			j.Flags(fs)
			if err := fs.Parse(tt.flags); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			j.SetOutput(&out)
			if err := j.Start(fs); err != nil {
				t.Fatal(err)
			}
			store, err := tracking.Open("")
			if err != nil {
				t.Fatal(err)
			}
			run, err := store.StartRun("churn", &tracking.RunOptions{Name: "fit"})
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.job {
				run.LogMetric(k, v, 0)
			}
			if err := run.Finish(); err != nil {
				t.Fatal(err)
			}
			store.Close()
			if tt.differ != "" {
				j.AddDifference(tt.differ)
			}
			err = Check(j)
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("Check: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("Check: %v, want %q", err, tt.err)
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("output:\n%s\nwant %q", out.String(), tt.out)
			}
			store, err = tracking.Open("")
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			ri, err := store.GetRun(run.ID())
			if err != nil {
				t.Fatal(err)
			}
			if ri.Tags[TagReproduced] != tt.tag || ri.Tags[TagTrackedRun] != tracked || ri.Tags[TagJob] != "churn" || ri.Status != tt.status {
				t.Errorf("job's run: status %s, tags %v; want %s, %s=%q", ri.Status, ri.Tags, tt.status, TagReproduced, tt.tag)
			}
			if tt.status == tracking.StatusFailed && !strings.Contains(ri.Error, tt.err) {
				t.Errorf("the failed run's error: %q", ri.Error)
			}
		})
	}
}

// A job that fails in a cell fails the runs it logged, as the kernel
// fails a failing cell's: its top-level runs and those it left unfinished
// are FAILED with the cell and the error, and tagged; the folds that
// finished, runs that failed on their own and runs made before the job
// are left as they are.
func TestFailed(t *testing.T) {
	tracked := "9ff65f29-1111-4000-8000-000000000000"
	for _, tt := range []struct {
		name    string
		tracked *jobrt.TrackedRun
		tags    map[string]string // on the top-level runs
	}{
		{"no tracked run", nil, map[string]string{TagJob: "churn", TagFailedCell: "cell 4 (train)"}},
		{"export --run", &jobrt.TrackedRun{ID: tracked, Experiment: "churn"},
			map[string]string{TagJob: "churn", TagFailedCell: "cell 4 (train)", TagTrackedRun: tracked, TagReproduced: NotCompared}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv(tracking.EnvDB, filepath.Join(dir, "t.db"))
			wd, _ := os.Getwd()
			defer os.Chdir(wd)
			store, err := tracking.Open("")
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			before, err := store.StartRun("churn", &tracking.RunOptions{Name: "notebook"})
			if err != nil {
				t.Fatal(err)
			}
			before.Finish()
			time.Sleep(5 * time.Millisecond) // run times are in milliseconds
			m := jobrt.Manifest{Format: jobrt.Format, Name: "churn", WorkDir: dir, TrackedRun: tt.tracked}
			b, _ := json.Marshal(m)
			j, err := jobrt.New(b)
			if err != nil {
				t.Fatal(err)
			}
			fs := flag.NewFlagSet("job", flag.ContinueOnError)
			j.Flags(fs)
			var out bytes.Buffer
			j.SetOutput(&out)
			if err := j.Start(fs); err != nil {
				t.Fatal(err)
			}
			start := func(exp, name string, parent *tracking.Run) *tracking.Run {
				t.Helper()
				var r *tracking.Run
				var err error
				if parent != nil {
					r, err = parent.StartChild(name)
				} else {
					r, err = store.StartRun(exp, &tracking.RunOptions{Name: name})
				}
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			cv := start("churn", "cv", nil)
			fold := start("", "fold 0", cv)
			fold.Finish()
			cv.Finish()
			open := start("other", "by hand", nil) // left running by the cell
			halfway := start("", "trial 1", open)  // left running too
			failedFit := start("churn", "fit", nil)
			failedFit.Fail(errors.New("singular matrix"))
			Failed(j, "cell 4 (train)", "column x: not found")
			msg := "job failed in cell 4 (train): column x: not found"
			for _, want := range []struct {
				r      *tracking.Run
				status string
				err    string
				tagged bool
			}{
				{before, tracking.StatusFinished, "", false},
				{cv, tracking.StatusFailed, msg, true},
				{fold, tracking.StatusFinished, "", false},
				{open, tracking.StatusFailed, msg, true},
				{halfway, tracking.StatusFailed, msg, false},
				{failedFit, tracking.StatusFailed, "singular matrix", true},
			} {
				ri, err := store.GetRun(want.r.ID())
				if err != nil {
					t.Fatal(err)
				}
				if ri.Status != want.status || ri.Error != want.err || ri.EndTime.IsZero() {
					t.Errorf("run %s: %s %q (end %v), want %s %q", ri.Name, ri.Status, ri.Error, ri.EndTime, want.status, want.err)
				}
				for k, v := range tt.tags {
					if got, ok := ri.Tags[k]; want.tagged && got != v || !want.tagged && ok {
						t.Errorf("run %s: tag %s = %q (tagged %v), want %q", ri.Name, k, got, want.tagged, v)
					}
				}
			}
			// Every top-level run of the job is named, the one its own
			// fit failed too.
			if o := out.String(); !strings.Contains(o, "tracking: runs of the job FAILED in ") || !strings.Contains(o, tracking.ShortID(failedFit.ID())+" (failed by its own work)") || !strings.Contains(o, tracking.ShortID(cv.ID())) {
				t.Errorf("output:\n%s", o)
			}
		})
	}
}

// A reproduction the job could not check fails it, as one that failed
// does, unless -allow-unchecked; either way the summary says it was not
// checked, and why.
func TestCheckUnchecked(t *testing.T) {
	tracked := "9ff65f29-1111-4000-8000-000000000000"
	for _, tt := range []struct {
		name  string
		db    func(dir string) string // GOPHERLAB_DB
		flags []string
		err   bool
		out   string // in the error, or the output
	}{
		{"store cannot be opened", func(dir string) string { return filepath.Join(dir, "data.csv", "t.db") }, nil, true,
			"tracked run 9ff65f29: reproduction not checked: the tracking store DIR/data.csv/t.db cannot be opened: tracking: open DIR/data.csv/t.db: "},
		{"store cannot be opened, -allow-unchecked", func(dir string) string { return filepath.Join(dir, "data.csv", "t.db") }, []string{"-allow-unchecked"}, false,
			"tracked run 9ff65f29: reproduction not checked: the tracking store DIR/data.csv/t.db cannot be opened: "},
		{"no run of the job", func(dir string) string { return filepath.Join(dir, "t.db") }, nil, true,
			`tracked run 9ff65f29: reproduction not checked: the job logged no run in experiment "churn" of DIR/t.db`},
		{"no run of the job, -allow-unchecked", func(dir string) string { return filepath.Join(dir, "t.db") }, []string{"-allow-unchecked"}, false,
			`tracked run 9ff65f29: reproduction not checked: the job logged no run in experiment "churn" of DIR/t.db (accepted: -allow-unchecked)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte("a\n1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Setenv(tracking.EnvDB, tt.db(dir))
			wd, _ := os.Getwd()
			defer os.Chdir(wd)
			m := jobrt.Manifest{Format: jobrt.Format, Name: "churn", WorkDir: dir, TrackedRun: &jobrt.TrackedRun{ID: tracked, Experiment: "churn", Metrics: map[string]float64{"acc": 0.5}}}
			b, _ := json.Marshal(m)
			j, err := jobrt.New(b)
			if err != nil {
				t.Fatal(err)
			}
			fs := flag.NewFlagSet("job", flag.ContinueOnError)
			j.Flags(fs)
			if err := fs.Parse(tt.flags); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			j.SetOutput(&out)
			if err := j.Start(fs); err != nil {
				t.Fatal(err)
			}
			err = Check(j)
			got := out.String()
			if err != nil {
				got = err.Error()
			}
			want := strings.ReplaceAll(tt.out, "DIR", dir)
			if (err != nil) != tt.err || !strings.Contains(got, want) {
				t.Errorf("Check: %v\noutput:\n%s\nwant error %v, %q", err, out.String(), tt.err, want)
			}
			if tt.err && !strings.Contains(err.Error(), "-allow-unchecked") {
				t.Errorf("the error does not name -allow-unchecked: %v", err)
			}
		})
	}
}
