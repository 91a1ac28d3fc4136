// Package trackcheck connects an exported job to the tracking store: its
// fits are logged as the kernel logs a notebook's (GOPHERLAB_AUTOLOG=off
// turns that off), runs record the cell they came from, and after the
// cells the job compares the metrics of the run it logged with those of
// the notebook run it was exported from (export --run), to the last bit;
// timings, which no two runs share, are left out, and so are the metrics
// of cells the job does not run. A run that trained or evaluated on other
// data than the tracked run (by content hash) is no reproduction: the job
// fails unless its flags asked for other inputs. The job's run records the
// outcome (TagReproduced). The exporter copies this package into jobs
// whose cells use experiments or tracking.
package trackcheck

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

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

// jobRuns returns the runs this job process logged in the store, in every
// experiment (newest first).
func jobRuns(store *tracking.Store, j *jobrt.Job) ([]tracking.RunInfo, error) {
	since := j.Started().Truncate(time.Millisecond).UTC().Format(time.RFC3339Nano)
	runs, err := store.SearchRuns(tracking.SearchQuery{Filter: fmt.Sprintf("start_time >= %q", since)})
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	mine := runs[:0]
	for _, r := range runs {
		if r.OwnerPID == os.Getpid() && (host == "" || r.OwnerHost == host) {
			mine = append(mine, r)
		}
	}
	return mine, nil
}

// Failed records on the tracking store that the job failed in cell
// ("cell 4 (train)"), failure saying why, as the kernel records a failing
// cell and as Check records a failed reproduction: the top-level runs the
// job logged, and those it left unfinished (RUNNING, or KILLED as their
// store closed under them), are marked FAILED with the failure as their
// error unless they failed on their own (tracking.Store.FailRun); the
// folds and trials that finished stay FINISHED. The top-level runs get the
// tags TagJob and TagFailedCell (and, exported with --run, TagTrackedRun
// and TagReproduced: not compared). The job calls it once tracking has
// ended, before it exits.
func Failed(j *jobrt.Job, cell, failure string) {
	store, err := tracking.OpenExisting("")
	if err != nil {
		return // no store, so no run to fail
	}
	defer store.Close()
	runs, err := jobRuns(store, j)
	if err != nil {
		j.Printf("tracking: %s\n", jobAdvice(err.Error()))
		return
	}
	var failed []string
	for _, r := range runs {
		top := r.ParentID == ""
		if !top && r.Status != tracking.StatusRunning && r.Status != tracking.StatusKilled {
			continue
		}
		changed, err := store.FailRun(r.ID, "job failed in "+cell+": "+failure)
		if err != nil {
			j.Printf("tracking: %s\n", jobAdvice(err.Error()))
			continue
		}
		if changed {
			failed = append(failed, tracking.ShortID(r.ID))
		} else if top {
			// Failed already, by its own work's error: one of the job's
			// failed runs all the same.
			failed = append(failed, tracking.ShortID(r.ID)+" (failed by its own work)")
		}
		if !top {
			continue
		}
		tags := map[string]string{TagJob: j.Manifest.Name, TagFailedCell: cell}
		if tr := j.Manifest.TrackedRun; tr != nil {
			tags[TagTrackedRun], tags[TagReproduced] = tr.ID, NotCompared
		}
		if err := store.SetRunTags(r.ID, tags); err != nil {
			j.Printf("tracking: %s\n", jobAdvice(err.Error()))
		}
	}
	if len(failed) > 0 {
		j.Printf("tracking: runs of the job FAILED in %s: %s\n", store.Path(), strings.Join(failed, ", "))
	}
}

// OnCell records the running cell for the runs it starts.
func OnCell(j *jobrt.Job, i int) {
	c := j.Manifest.Cells[i]
	tracking.SetCellInfo(fmt.Sprintf("gopherlab job %s: cell %d (%s)", j.Manifest.Name, c.Index, c.Tag), j.Manifest.Notebook, 0)
}

// Tags the job sets on the run it logged and compared with the tracked
// run (export --run), so that the store tells which run a job's run meant
// to reproduce and whether it did.
const (
	TagJob        = "job"             // the job's name
	TagTrackedRun = "job.tracked_run" // full id of the tracked run
	// TagReproduced is Reproduced, NotReproduced or NotCompared.
	TagReproduced = "job.reproduced"
	// TagFailedCell names the cell the job failed in ("cell 4
	// (train)"), on the runs it logged before (Failed).
	TagFailedCell = "job.failed_cell"
)

// Values of TagReproduced.
const (
	Reproduced    = "true"         // every compared metric is the same to the bit
	NotReproduced = "false"        // a metric differs, or the data: the run is also marked FAILED
	NotCompared   = "not compared" // other inputs by the job's flags, or the reproduction could not be checked
)

// Check compares the job's run with the tracked run of the manifest and
// records the outcome on the job's run (TagReproduced). It returns an
// error, and marks the job's run FAILED (as MLflow marks the run of an
// entry point that exits with an error: the job exits 1), when a metric
// both runs logged differs, or when the job's inputs differ from the
// run's and its flags did not ask for other inputs (jobrt.Job.
// DifferencesChosen): the data changed since the run, and the export
// pinned the new data. Metrics only the tracked run has were logged by
// cells the job does not run (skip): they are listed, not compared. A job
// run on the inputs its flags chose is reported, not compared, and no
// error. A reproduction the job could not check (a store it cannot open,
// no run of its own in it, no metric both runs logged) is an error too,
// as a failed one is, unless -allow-unchecked (jobrt.Job.AllowUnchecked)
// accepts it: a CI step must not take an unchecked reproduction for a
// checked one. Either way the summary line says, in the words
// "reproduction not checked", why.
func Check(j *jobrt.Job) error {
	tr := j.Manifest.TrackedRun
	if tr == nil {
		return nil
	}
	short := tracking.ShortID(tr.ID)
	store, openErr := tracking.Open("")
	if openErr != nil {
		store = nil
	} else {
		defer store.Close()
	}
	var mine *tracking.RunInfo
	if store != nil {
		mine, _ = jobRun(store, j)
	}
	record := func(outcome, failure string) {
		if mine == nil {
			return
		}
		tags := map[string]string{TagJob: j.Manifest.Name, TagTrackedRun: tr.ID, TagReproduced: outcome}
		if err := store.SetRunTags(mine.ID, tags); err != nil {
			j.Printf("tracking: %s\n", jobAdvice(err.Error()))
		}
		if failure != "" {
			if _, err := store.FailFinishedRun(mine.ID, failure); err != nil {
				j.Printf("tracking: %s\n", jobAdvice(err.Error()))
			}
		}
	}
	if d := j.Differences(); len(d) > 0 {
		if j.DifferencesChosen() {
			record(NotCompared, "")
			j.Printf("tracked run %s: not compared: the job ran on other inputs than the run: %s (as its flags asked)\n", short, strings.Join(d, ", "))
			return nil
		}
		msg := fmt.Sprintf("tracked run %s cannot be reproduced: the job's inputs differ from the run's:\n  %s\nthe data changed since the run (the export pinned the data as it was then); run with -allow-changed-data to train on it without claiming to reproduce the run", short, strings.Join(d, "\n  "))
		record(NotReproduced, msg)
		return errors.New(msg)
	}
	// unchecked reports a reproduction the job could not check: an error
	// unless -allow-unchecked.
	unchecked := func(why string) error {
		msg := fmt.Sprintf("tracked run %s: reproduction not checked: %s", short, why)
		if j.AllowUnchecked {
			record(NotCompared, "")
			j.Printf("%s (accepted: -allow-unchecked)\n", msg)
			return nil
		}
		msg += "\nthe job cannot claim to reproduce the run; run with -allow-unchecked to accept a job whose reproduction was not checked (it then exits 0)"
		record(NotCompared, msg)
		return errors.New(msg)
	}
	if store == nil {
		path := tracking.DefaultDBPath()
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		return unchecked(fmt.Sprintf("the tracking store %s cannot be opened: %s", path, jobAdvice(openErr.Error())))
	}
	if mine == nil {
		why := fmt.Sprintf("the job logged no run in experiment %q of %s", tr.Experiment, store.Path())
		if os.Getenv("GOPHERLAB_AUTOLOG") == "off" {
			why += " (GOPHERLAB_AUTOLOG=off)"
		}
		return unchecked(why)
	}
	c := compareMetrics(tr.Metrics, mine.Metrics)
	skipped := ""
	if len(c.notCompared) > 0 {
		skipped = "not compared (logged by cells the job does not run): " + strings.Join(c.notCompared, ", ")
	}
	switch {
	case len(c.diffs) > 0:
		lines := c.diffs
		if skipped != "" {
			lines = append(lines, skipped)
		}
		msg := fmt.Sprintf("run %s does not reproduce tracked run %s:\n  %s", tracking.ShortID(mine.ID), short, strings.Join(lines, "\n  "))
		record(NotReproduced, msg)
		return errors.New(msg)
	case len(c.same) == 0 && skipped == "":
		return unchecked("it has only timings (log a metric, e.g. an accuracy on test data)")
	case len(c.same) == 0:
		return unchecked(fmt.Sprintf("the job's run %s logged none of its metrics; %s", tracking.ShortID(mine.ID), skipped))
	}
	record(Reproduced, "")
	j.Printf("run %s reproduces tracked run %s bit for bit: %s\n", tracking.ShortID(mine.ID), short, strings.Join(c.same, " "))
	if skipped != "" {
		j.Printf("  %s\n", skipped)
	}
	return nil
}

// metricComparison is how a job run's metrics compare with the tracked
// run's, each list sorted by key.
type metricComparison struct {
	same        []string // key=value, the same to the bit in both
	diffs       []string // "key: job's, notebook notebook's"
	notCompared []string // keys only the tracked run has
}

// compareMetrics compares the metrics both runs logged, to the bit (NaN
// equals NaN); timings are left out. A metric only the tracked run has
// was logged by cells the job does not run (tagged skip, such as an
// accuracy on the training data): the job's cells are the notebook's, so
// a metric they log is logged by the job too.
func compareMetrics(want, got map[string]float64) metricComparison {
	keys := make([]string, 0, len(want))
	for k := range want {
		if !tracking.IsTiming(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var c metricComparison
	for _, k := range keys {
		w := want[k]
		g, ok := got[k]
		switch {
		case !ok:
			c.notCompared = append(c.notCompared, k)
		case math.Float64bits(g) != math.Float64bits(w) && !(math.IsNaN(g) && math.IsNaN(w)):
			c.diffs = append(c.diffs, fmt.Sprintf("%s: %s, notebook %s", k, tracking.FormatMetric(g), tracking.FormatMetric(w)))
		default:
			c.same = append(c.same, k+"="+tracking.FormatMetric(w))
		}
	}
	return c
}
