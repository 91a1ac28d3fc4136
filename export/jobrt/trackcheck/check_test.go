package trackcheck

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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
			out: "logged none of its metrics; not compared (logged by cells the job does not run): train_accuracy", tag: NotCompared, status: tracking.StatusFinished},
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
