// Package trackcheck connects an exported job to the tracking store: its
// fits are logged as the kernel logs a notebook's (GOPHERLAB_AUTOLOG=off
// turns that off), runs record the cell they came from, and after the
// cells the job compares the metrics of the run it logged with those of
// the notebook run it was exported from (export --run), to the last bit;
// timings, which no two runs share, are left out. A run that trained or
// evaluated on other data than the tracked run (by content hash) is no
// reproduction and is not compared. The exporter copies this
// package into jobs whose cells use experiments or tracking.
package trackcheck

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/export/jobrt"
	"github.com/gopherlab/gopherlab/tracking"
)

// Autolog logs the job's fits, cross-validations and grid searches to the
// tracking store ($GOPHERLAB_DB, else gopherlab.db in the job's -dir) and
// returns the function that writes what is queued and closes it.
func Autolog(j *jobrt.Job) (stop func()) {
	if os.Getenv("GOPHERLAB_AUTOLOG") == "off" {
		return func() {}
	}
	a := tracking.NewAutologger("")
	a.Errors = &jobErrors{w: os.Stderr}
	// The job's runs record its parameters, as gopherlab run records a
	// notebook's, so that export --run of a job's run takes its values.
	tracking.SetNotebookParams(j.Params)
	prev := experiments.SetTracker(a)
	return func() {
		experiments.SetTracker(prev)
		if err := a.Close(); err != nil {
			j.Printf("tracking: %s\n", jobAdvice(err.Error()))
			return
		}
		checkInputs(j)
	}
}

// jobErrors writes the autologger's failures to log: each line once,
// since a store that cannot be opened fails the logging of every fit
// alike, and with advice the job can follow (jobAdvice).
type jobErrors struct {
	mu   sync.Mutex
	w    io.Writer
	seen map[string]bool
}

func (e *jobErrors) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	line := jobAdvice(string(p))
	if e.seen[line] {
		return len(p), nil
	}
	if e.seen == nil {
		e.seen = map[string]bool{}
	}
	e.seen[line] = true
	if _, err := io.WriteString(e.w, line); err != nil {
		return 0, err
	}
	return len(p), nil
}

// jobAdvice rewords the tracking store's advice for the job, which has
// no -db flag: its store is $GOPHERLAB_DB, else gopherlab.db in -dir.
func jobAdvice(msg string) string {
	return strings.NewReplacer(
		"choose another path: %tracking PATH in a notebook, -db or "+tracking.EnvDB+" elsewhere", "set "+tracking.EnvDB+" to another path",
		"use -db PATH or set "+tracking.EnvDB, "set "+tracking.EnvDB+" to its path",
	).Replace(msg)
}

// checkInputs compares the datasets the job's run trained and evaluated
// on with the tracked run's, by content hash, and records a difference
// in the job's inputs when they are not the same. The manifest pins the
// files whose names the export could read; this also catches data read
// from a computed path, or made differently by the cells. Roles that
// only one of the runs recorded are not compared.
func checkInputs(j *jobrt.Job) {
	tr := j.Manifest.TrackedRun
	if tr == nil {
		return
	}
	store, err := tracking.OpenExisting("")
	if err != nil {
		return // Check says why it cannot compare
	}
	defer store.Close()
	mine, err := jobRun(store, j)
	if err != nil || mine == nil {
		return
	}
	want, err1 := store.Inputs(tr.ID)
	got, err2 := store.Inputs(mine.ID)
	if err1 != nil || err2 != nil {
		return
	}
	for _, d := range inputDifferences(want, got) {
		j.AddDifference(d)
	}
}

// inputDifferences lists, per role that both runs recorded, the datasets
// of got whose content is not want's.
func inputDifferences(want, got []tracking.DatasetInput) []string {
	byRole := map[string][]tracking.DatasetInput{}
	for _, in := range want {
		byRole[in.Role] = append(byRole[in.Role], in)
	}
	var out []string
	seen := map[string]bool{}
	for _, in := range got {
		ws, ok := byRole[in.Role]
		if !ok || seen[in.Role+"\x00"+in.SHA256] {
			continue
		}
		seen[in.Role+"\x00"+in.SHA256] = true
		same := false
		for _, w := range ws {
			same = same || w.SHA256 == in.SHA256
		}
		if !same {
			out = append(out, fmt.Sprintf("%s data %s (%d×%d, sha256 %s; the run's %s)", in.Role, in.Name, in.Rows, in.Cols, in.SHA256[:12], describeInputs(ws)))
		}
	}
	return out
}

func describeInputs(ins []tracking.DatasetInput) string {
	var s []string
	for _, in := range ins {
		s = append(s, fmt.Sprintf("%d×%d, sha256 %s", in.Rows, in.Cols, in.SHA256[:12]))
	}
	return strings.Join(s, "; ")
}

// jobRun finds the top-level run this job process logged, preferring
// one named like the tracked run; nil if there is none.
func jobRun(store *tracking.Store, j *jobrt.Job) (*tracking.RunInfo, error) {
	tr := j.Manifest.TrackedRun
	runs, err := store.SearchRuns(tracking.SearchQuery{Experiment: tr.Experiment})
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	var mine *tracking.RunInfo
	for i := range runs {
		r := &runs[i]
		if r.OwnerPID != os.Getpid() || (host != "" && r.OwnerHost != host) || r.StartTime.Before(j.Started().Truncate(1e6)) || r.ParentID != "" {
			continue
		}
		if mine == nil || r.Name == tr.Name {
			mine = r // newest first; a run of the same name wins
		}
	}
	return mine, nil
}

// OnCell records the running cell for the runs it starts.
func OnCell(j *jobrt.Job, i int) {
	c := j.Manifest.Cells[i]
	tracking.SetCellInfo(fmt.Sprintf("gopherlab job %s: cell %d (%s)", j.Manifest.Name, c.Index, c.Tag), j.Manifest.Notebook, 0)
}

// Check compares the job's run with the tracked run of the manifest. It
// returns an error when a metric differs; a store it cannot open, no run
// to compare, or a job run on other inputs (Job.Differences) is reported
// but is no error.
func Check(j *jobrt.Job) error {
	tr := j.Manifest.TrackedRun
	if tr == nil {
		return nil
	}
	if d := j.Differences(); len(d) > 0 {
		j.Printf("tracked run %s: not compared: the job ran on other inputs than the run: %s\n", tracking.ShortID(tr.ID), strings.Join(d, ", "))
		return nil
	}
	store, err := tracking.Open("")
	if err != nil {
		j.Printf("tracked run %s: not compared: %s\n", tracking.ShortID(tr.ID), jobAdvice(err.Error()))
		return nil
	}
	defer store.Close()
	mine, err := jobRun(store, j)
	if err != nil {
		j.Printf("tracked run %s: not compared: %v\n", tracking.ShortID(tr.ID), err)
		return nil
	}
	if mine == nil {
		j.Printf("tracked run %s: not compared: the job logged no run in experiment %q of %s\n", tracking.ShortID(tr.ID), tr.Experiment, filepath.Base(store.Path()))
		return nil
	}
	keys := make([]string, 0, len(tr.Metrics))
	for k := range tr.Metrics {
		if !tracking.IsTiming(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		j.Printf("tracked run %s: not compared: it has only timings (log a metric, e.g. an accuracy on test data)\n", tracking.ShortID(tr.ID))
		return nil
	}
	var diffs []string
	for _, k := range keys {
		want := tr.Metrics[k]
		got, ok := mine.Metrics[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: missing (notebook %s)", k, tracking.FormatMetric(want)))
		case math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)):
			diffs = append(diffs, fmt.Sprintf("%s: %s, notebook %s", k, tracking.FormatMetric(got), tracking.FormatMetric(want)))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("run %s does not reproduce tracked run %s:\n  %s", tracking.ShortID(mine.ID), tracking.ShortID(tr.ID), strings.Join(diffs, "\n  "))
	}
	var same []string
	for _, k := range keys {
		same = append(same, k+"="+tracking.FormatMetric(tr.Metrics[k]))
	}
	j.Printf("run %s reproduces tracked run %s bit for bit: %s\n", tracking.ShortID(mine.ID), tracking.ShortID(tr.ID), strings.Join(same, " "))
	return nil
}
