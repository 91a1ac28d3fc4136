// Command incell measures what running a fit from a notebook cell costs:
// the cell (run by the kernel's interpreter process) beside the same fit
// in compiled Go, and the cell with automatic tracking off beside the
// same cell with it on (the kernel's default).
//
//	go run ./bench/incell [-reps 15] [-fits forest]
//
// One worker runs the same cells with autologging off and on (switched
// with the %autolog magic; -two uses a second worker started with
// GOPHERLAB_AUTOLOG=off instead), in pairs: each repetition runs the fit
// both ways, alternating which goes first, so load that drifts on the
// machine weighs on both alike. After each fit cell, the worker runs an
// empty cell, whose round trip shows whether the next cell waits for the
// run being written (it should not: only reads of the store wait), then a
// cell that waits for the writing to end, so the next fit never competes
// with it.
//
// Cell times are measured inside the cell (time.Now around the fit). The
// overhead is the median over the pairs of (on - off), in time and
// relative to the median time off, and the fastest cell on against the
// fastest off (the least disturbed by the machine's other load). CPU
// time inside the cell (the worker's threads, from /proc; coarse for
// fits under a few ms) is shown too, and the worker's CPU time over the
// fit cell and the empty cell after it, which includes the background
// writing: what logging costs in all.
//
// The same fits then run compiled in the bench process, alternately with
// an Autologger installed, and the time each spends inside the
// autologger's Track is measured exactly: that is all autologging adds
// to a fit, the rest being written in the background (whose duration,
// Flush right after the fit, is shown too).
//
// Last, the fit cells' round trips (execute_request to reply, as a
// client sees them) with autologging off and on: what autologging adds
// to a cell's time, measured over the pairs (short fits get more of
// them) with a confidence interval, and exactly, as the time in Track
// against the round trip.
//
// At the end the worker with autologging on exits normally, and the
// store is checked: every fit it ran is a FINISHED run, with its model
// artifact and training data.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/kernel"
	"github.com/gopherlab/gopherlab/kernel/worker"
	"github.com/gopherlab/gopherlab/tracking"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

const digits = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

// The cells and the compiled code do the same work: load digits, fit.
// cpuNanos is the CPU time the worker process has used (the sum over its
// threads), which other processes' load on the machine hardly changes.
const cellSetup = `import (
	"os"
	"strconv"
	"strings"
	"time"
	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/tracking"
)

func cpuNanos() int64 {
	ts, _ := os.ReadDir("/proc/self/task")
	var n int64
	for _, t := range ts {
		b, _ := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if f := strings.Fields(string(b)); len(f) > 0 {
			v, _ := strconv.ParseInt(f[0], 10, 64)
			n += v
		}
	}
	return n
}

ds, _ := experiments.ReadCSV(%q, experiments.CSVOptions{NoHeader: true})
dsCols := ds.Columns()
targetCol := dsCols[len(dsCols)-1]
X, y, _ := ds.XY(targetCol)
println(os.Getpid())`

type fitCase struct {
	name string
	cell string // the statement the cell times; it sets err
	fit  func(X *mat.Dense, y []float64) error
	runs int // runs autologged per fit (children included)
}

var cases = []fitCase{
	{"gaussian NB (small fit)", "err := (&experiments.GaussianNB{}).Fit(X, y)",
		func(X *mat.Dense, y []float64) error { return (&experiments.GaussianNB{}).Fit(X, y) }, 1},
	{"pipeline on a dataset (NB)", "err := experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.GaussianNB{}).FitDataset(ds, targetCol)",
		func(X *mat.Dense, y []float64) error {
			return experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.GaussianNB{}).FitDataset(benchDS, benchTarget)
		}, 1},
	{"decision tree (depth 6)", "err := (&experiments.DecisionTreeClassifier{MaxDepth: 6, Seed: 1}).Fit(X, y)",
		func(X *mat.Dense, y []float64) error {
			return (&experiments.DecisionTreeClassifier{MaxDepth: 6, Seed: 1}).Fit(X, y)
		}, 1},
	{"random forest (100 trees)", "err := (&experiments.RandomForestClassifier{Seed: 1}).Fit(X, y)",
		func(X *mat.Dense, y []float64) error { return (&experiments.RandomForestClassifier{Seed: 1}).Fit(X, y) }, 1},
	{"logistic regression", "err := (&experiments.LogisticRegression{}).Fit(X, y)",
		func(X *mat.Dense, y []float64) error { return (&experiments.LogisticRegression{}).Fit(X, y) }, 1},
	{"k-nearest neighbours (CV 5)", "_, err := experiments.CrossValidate(&experiments.KNeighborsClassifier{}, X, y, experiments.CVOptions{K: 5})",
		func(X *mat.Dense, y []float64) error {
			_, err := experiments.CrossValidate(&experiments.KNeighborsClassifier{}, X, y, experiments.CVOptions{K: 5})
			return err
		}, 6},
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		if err := worker.Main(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	// The symbol tables the kernel links in include testing/quick, whose
	// init adds -quickchecks to the default flags: start from none.
	flag.CommandLine = flag.NewFlagSet(os.Args[0], flag.ExitOnError)
	reps := flag.Int("reps", 15, "pairs of cells (autologging off, on) per fit")
	only := flag.String("fits", "", "run only the fits whose name contains this")
	flag.BoolVar(&twoWorkers, "two", false, "run the cells with autologging off in a second worker (started with GOPHERLAB_AUTOLOG=off) instead of switching one with %autolog")
	flag.Parse()
	cases = slices.DeleteFunc(cases, func(c fitCase) bool { return !strings.Contains(c.name, *only) })
	if err := run(*reps); err != nil {
		fmt.Fprintln(os.Stderr, "incell:", err)
		os.Exit(1)
	}
}

// benchDS is the dataset the compiled pipeline fits on, and benchTarget
// its target column, as the cells' ds and target.
var (
	benchDS     *experiments.Dataset
	benchTarget string
)

// twoWorkers runs the two sides in two processes.
var twoWorkers bool

func run(reps int) error {
	ds, err := experiments.ReadCSV(digits, experiments.CSVOptions{NoHeader: true})
	if err != nil {
		return err
	}
	cols := ds.Columns()
	benchDS, benchTarget = ds, cols[len(cols)-1]
	X, y, err := ds.XY(benchTarget)
	if err != nil {
		return err
	}
	// Autologging writes to a scratch store, not the working directory.
	dir, err := os.MkdirTemp("", "incell-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "runs.db")

	// One worker runs both sides, switching with the %autolog magic: two
	// processes running the same cells can differ by tens of percent
	// for reasons of their own (memory layout, where the GC happens to
	// run), more than what is measured here.
	on, err := newWorker("on", db)
	if err != nil {
		return err
	}
	onOpen := true
	defer func() {
		if onOpen {
			on.Close()
		}
	}()
	off := on
	if twoWorkers {
		if off, err = newWorker("off", db); err != nil {
			return err
		}
		defer off.Close()
	}

	fmt.Printf("digits %dx%d; %d pairs of cells (autolog off, on) per fit; medians\n", X.RawMatrix().Rows, X.RawMatrix().Cols, reps)
	fmt.Printf("wall and CPU: inside the cell, around the fit; overhead: median over the pairs of on - off, and the fastest on against the fastest off\n")
	fmt.Printf("logging CPU: the worker's CPU over the fit cell and until its run is written, on - off (background writing included)\n")
	fmt.Printf("next cell +: how much longer the empty cell after the fit took with autolog on (the run is written meanwhile; only reads of the store wait for it)\n\n")
	fmt.Printf("%-27s %9s | %9s %9s %9s %7s %17s | %9s %9s %7s | %9s %11s | %s\n",
		"fit", "compiled", "cell off", "cell on", "overhead", "", "min off -> on", "cpu off", "cpu on", "cpu +", "log cpu", "next cell +", "cell/compiled (goal <= 1.2x)")
	wantRuns := 0
	type tripRow struct {
		name                  string
		off, on, diff, lo, hi time.Duration
		n                     int
	}
	var trips []tripRow
	for _, c := range cases {
		var compiled []time.Duration
		var offT, onT []cellTimes
		var diff, cpuDiff, totDiff []time.Duration
		// Short fits get more pairs (up to ten times reps, within
		// pairBudget): their differences are a few microseconds in a
		// round trip that varies by more.
		start := time.Now()
		for i := 0; i < reps || i < 10*reps && time.Since(start) < pairBudget; i++ {
			t0 := time.Now()
			if err := c.fit(X, y); err != nil {
				return err
			}
			compiled = append(compiled, time.Since(t0))
			var tOff, tOn cellTimes
			for k := 0; k < 2; k++ {
				autolog := (i+k)%2 == 1
				w, err := side(off, on, autolog)
				if err != nil {
					return err
				}
				t, err := fitCell(w, c.cell)
				if err != nil {
					return fmt.Errorf("%s: %w", c.name, err)
				}
				if autolog {
					tOn = t
				} else {
					tOff = t
				}
			}
			offT, onT = append(offT, tOff), append(onT, tOn)
			diff = append(diff, tOn.wall-tOff.wall)
			cpuDiff = append(cpuDiff, tOn.cpu-tOff.cpu)
			totDiff = append(totDiff, tOn.total-tOff.total)
			wantRuns += c.runs
		}
		pick := func(ts []cellTimes, f func(cellTimes) time.Duration) time.Duration {
			out := make([]time.Duration, len(ts))
			for i, t := range ts {
				out[i] = f(t)
			}
			return median(out)
		}
		wall := func(t cellTimes) time.Duration { return t.wall }
		cpu := func(t cellTimes) time.Duration { return t.cpu }
		empty := func(t cellTimes) time.Duration { return t.empty }
		mini := func(ts []cellTimes, f func(cellTimes) time.Duration) time.Duration {
			m := f(ts[0])
			for _, t := range ts[1:] {
				m = min(m, f(t))
			}
			return m
		}
		mc, mOff, mOn, md := median(compiled), pick(offT, wall), pick(onT, wall), median(diff)
		cOff, cOn, cd := pick(offT, cpu), pick(onT, cpu), median(cpuDiff)
		ratio := float64(mOff) / float64(mc)
		goal := "met"
		if ratio > 1.2 {
			goal = "NOT met"
		}
		fmt.Printf("%-27s %9v | %9v %9v %9v %6.1f%% %17s | %9v %9v %6.1f%% | %9v %11v | %.2fx %s\n",
			c.name, round(mc), round(mOff), round(mOn), round(md), 100*float64(md)/float64(mOff),
			fmt.Sprintf("%+.1f%%", 100*(float64(mini(onT, wall))/float64(mini(offT, wall))-1)),
			round(cOff), round(cOn), 100*float64(cd)/float64(cOff),
			round(median(totDiff)), round(pick(onT, empty)-pick(offT, empty)), ratio, goal)
	}

	if err := steadyState(off, cases, X, y, reps); err != nil {
		return err
	}
	if err := coldStart(off, cases, X, y, reps); err != nil {
		return err
	}

	inTrack, err := inProcess(X, y, reps, filepath.Join(dir, "compiled.db"))
	if err != nil {
		return err
	}
	for _, c := range cases {
		offTrip, onTrip, err := roundTrips(off, on, c, reps)
		if err != nil {
			return err
		}
		d := make([]time.Duration, len(onTrip))
		for i := range d {
			d[i] = onTrip[i] - offTrip[i]
		}
		lo, hi := medianCI(d)
		trips = append(trips, tripRow{c.name, median(offTrip), median(onTrip), median(d), lo, hi, len(d)})
		wantRuns += len(d) * c.runs
	}

	fmt.Printf("\nthe fit cell's round trip as the client sees it (execute_request to reply): what autologging adds to a cell's time (goal <= 2%%)\n")
	fmt.Printf("measured: the median over the pairs of on - off, with its 95%% confidence interval (the round trip varies by more than it);\n")
	fmt.Printf("exact: the time autologging adds to the fit (in Track and event, above) against the cell's round trip; the run is written after the reply\n\n")
	fmt.Printf("%-27s %6s %10s %10s | %10s %23s %7s | %10s %7s\n", "fit", "pairs", "cell off", "cell on", "on - off", "95% CI", "", "exact", "")
	for _, t := range trips {
		pct := func(d time.Duration) float64 { return 100 * float64(d) / float64(t.off) }
		exact := pct(inTrack[t.name])
		goal := "met"
		if exact > 2 || pct(t.lo) > 2 {
			goal = "NOT met"
		}
		fmt.Printf("%-27s %6d %10v %10v | %10v %23s %6.1f%% | %10v %6.2f%% %s\n", t.name, t.n, round(t.off), round(t.on), round(t.diff),
			fmt.Sprintf("[%v, %v]", round(t.lo), round(t.hi)), pct(t.diff), round(inTrack[t.name]), exact, goal)
	}

	// The worker exits normally: every run must be in the store.
	t0 := time.Now()
	on.Close()
	onOpen = false
	closeTime := time.Since(t0)
	s, err := tracking.Open(db)
	if err != nil {
		return err
	}
	defer s.Close()
	all, err := s.SearchRuns(tracking.SearchQuery{})
	if err != nil {
		return err
	}
	finished, withModel, withData := 0, 0, 0
	for _, r := range all {
		if r.Status == tracking.StatusFinished {
			finished++
		}
		if r.ParentID != "" {
			continue
		}
		if arts, _ := s.Artifacts(r.ID); len(arts) > 0 {
			withModel++
		}
		if ins, _ := s.Inputs(r.ID); len(ins) > 0 {
			withData++
		}
	}
	fmt.Printf("\nstore after the worker exited (in %v): %d runs of %d expected, %d FINISHED; %d top-level runs with the training data, %d with a model artifact\n",
		round(closeTime), len(all), wantRuns, finished, withData, withModel)
	if len(all) != wantRuns || finished != wantRuns {
		return fmt.Errorf("runs were lost or not finished")
	}
	return nil
}

// timedTracker measures the time a fit spends in the autologger, in
// Prepare before the fit and Track after it: all that autologging adds
// to it, the rest of the work being done in the background.
type timedTracker struct {
	t    *tracking.Autologger
	prep time.Duration
	last time.Duration
	// event is the time experiments took making the event, outside the
	// autologger: from the event's Start to Track, less the fit's own
	// time (fit_time_s) and Prepare.
	event time.Duration
}

func (tt *timedTracker) Prepare(ev *experiments.TrackEvent) {
	t0 := time.Now()
	tt.t.Prepare(ev)
	tt.prep = time.Since(t0)
}

func (tt *timedTracker) Track(ev *experiments.TrackEvent) {
	t0 := time.Now()
	tt.event = -1 // a cross-validation or search event has no fit_time_s
	if fit, ok := ev.Metrics["fit_time_s"]; ok && ev.Kind == experiments.KindFit {
		tt.event = t0.Sub(ev.Start) - time.Duration(fit*float64(time.Second)) - tt.prep
	}
	tt.t.Track(ev)
	tt.last = time.Since(t0) + tt.prep
	tt.prep = 0
}

// inProcess runs the compiled fits here, with an Autologger installed
// every other time, and measures the time each fit spends in Prepare and
// Track precisely (cells cannot, and their times are noisier), then the time
// the run takes to be written after that.
func inProcess(X *mat.Dense, y []float64, reps int, db string) (map[string]time.Duration, error) {
	al := tracking.NewAutologger(db)
	defer al.Close()
	tt := &timedTracker{t: al}
	fmt.Printf("\ncompiled, in this process: at least %d fits with autolog off and on, alternating\n", reps)
	fmt.Printf("in Track: the time the fit spends in the autologger (Prepare before the fit, Track after it); event: in making the event the autologger gets\n(experiments, outside the fit's own time; - for a cross-validation, whose event has no fit time to subtract); the two are all autologging adds\nto the fit; written: Flush right after the fit\n\n")
	fmt.Printf("%-27s %6s %10s %10s | %10s %10s %10s %8s | %10s\n", "fit", "fits", "fit off", "fit on", "in Track", "max", "event", "of fit", "written")
	inTrack := map[string]time.Duration{}
	for _, c := range cases {
		var off, on, track, event, written []time.Duration
		start := time.Now()
		for i := 0; i < 2*reps || i < 20*reps && time.Since(start) < pairBudget; i++ {
			autolog := i%2 == 1
			if autolog {
				experiments.SetTracker(tt)
			}
			// As the kernel does around a cell: the writer waits for the
			// cell's end (or a Flush) instead of starting during it.
			tracking.SetCellRunning(true)
			t0 := time.Now()
			err := c.fit(X, y)
			d := time.Since(t0)
			tracking.SetCellRunning(false)
			experiments.SetTracker(nil)
			if err != nil {
				return nil, err
			}
			if !autolog {
				off = append(off, d)
				continue
			}
			on = append(on, d)
			track = append(track, tt.last)
			event = append(event, tt.event)
			t0 = time.Now()
			al.Flush()
			written = append(written, time.Since(t0))
		}
		if err := al.Err(); err != nil {
			return nil, err
		}
		mt, me := median(track), median(event)
		shown := fmt.Sprint(round(me))
		if me < 0 {
			me, shown = 0, "-"
		}
		inTrack[c.name] = mt + me
		fmt.Printf("%-27s %6d %10v %10v | %10v %10v %10s %7.2f%% | %10v\n", c.name, len(on), round(median(off)), round(median(on)),
			round(mt), round(slices.Max(track)), shown, 100*float64(mt+me)/float64(median(off)), round(median(written)))
	}
	return inTrack, nil
}

// pairBudget is how long the pairs of a short fit may take in all.
const pairBudget = 3 * time.Second

// medianCI returns a 95% confidence interval of the median of d, by the
// order statistics a sign test gives (no assumption on d's distribution).
func medianCI(d []time.Duration) (lo, hi time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	n := len(s)
	k := int((float64(n) - 1.96*math.Sqrt(float64(n))) / 2)
	k = max(0, min(k, n-1))
	return s[k], s[max(k, n-1-k)]
}

// cellWorker is a worker process and its pid.
type cellWorker struct {
	*worker.Engine
	pid int
}

func newWorker(autolog, db string) (*cellWorker, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	eng := worker.New(worker.Config{Command: []string{exe, "worker"}, Env: []string{"GOPHERLAB_AUTOLOG=" + autolog, "GOPHERLAB_DB=" + db},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	c := &capture{}
	if r := eng.Execute(context.Background(), kernel.ExecuteRequest{Code: fmt.Sprintf(cellSetup, digits)}, c); r.Status != "ok" {
		eng.Close()
		return nil, fmt.Errorf("setup cell: %s", r.Evalue)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(c.text()))
	if err != nil {
		eng.Close()
		return nil, fmt.Errorf("setup cell printed %q", c.text())
	}
	return &cellWorker{eng, pid}, nil
}

// processCPU is the CPU time process pid has used, summed over its
// threads.
func processCPU(pid int) time.Duration {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ts, _ := os.ReadDir(dir)
	var n int64
	for _, t := range ts {
		b, _ := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if f := strings.Fields(string(b)); len(f) > 0 {
			v, _ := strconv.ParseInt(f[0], 10, 64)
			n += v
		}
	}
	return time.Duration(n)
}

// side returns the worker that runs cells with autologging on or off:
// with one worker, switched by the %autolog magic.
func side(off, on *cellWorker, autolog bool) (*cellWorker, error) {
	if twoWorkers {
		if autolog {
			return on, nil
		}
		return off, nil
	}
	magic := "%autolog off"
	if autolog {
		magic = "%autolog on"
	}
	if r := on.Execute(context.Background(), kernel.ExecuteRequest{Code: magic}, &capture{}); r.Status != "ok" {
		return nil, fmt.Errorf("%s: %s", magic, r.Evalue)
	}
	return on, nil
}

// roundTrips runs the fit in cells that do nothing else, autologging off
// and on in turn (which first alternating), and returns their round
// trips: at least reps pairs, more for a short fit, within pairBudget.
// After each, a cell waits for the run to be written, so that the next
// fit does not compete with the writing.
func roundTrips(off, on *cellWorker, c fitCase, reps int) (offTrip, onTrip []time.Duration, err error) {
	code := c.cell + "\nif err != nil {\n\tpanic(err)\n}"
	start := time.Now()
	for i := 0; i < reps || i < 20*reps && time.Since(start) < pairBudget; i++ {
		var tOff, tOn time.Duration
		for k := 0; k < 2; k++ {
			autolog := (i+k)%2 == 1
			w, err := side(off, on, autolog)
			if err != nil {
				return nil, nil, err
			}
			t0 := time.Now()
			r := w.Execute(context.Background(), kernel.ExecuteRequest{Code: code}, &capture{})
			d := time.Since(t0)
			if r.Status != "ok" {
				return nil, nil, fmt.Errorf("%s: %s %s", c.name, r.Evalue, strings.Join(r.Traceback, "\n"))
			}
			if r := w.Execute(context.Background(), kernel.ExecuteRequest{Code: "tracking.FlushAutologgers()"}, &capture{}); r.Status != "ok" {
				return nil, nil, fmt.Errorf("flush cell: %s", r.Evalue)
			}
			if autolog {
				tOn = d
			} else {
				tOff = d
			}
		}
		offTrip, onTrip = append(offTrip, tOff), append(onTrip, tOn)
	}
	return offTrip, onTrip, nil
}

// cellTimes are one fit cell's wall and CPU times inside the cell, the
// round trip of the empty cell after it, and the worker's CPU time over
// the fit cell, the empty cell and a cell that waits for the run to be
// written (tracking.FlushAutologgers): all that logging costs.
type cellTimes struct {
	wall, cpu, empty, total time.Duration
}

// fitCell runs the fit in a cell, then an empty cell (which does not
// wait for the run to be written), then a cell that waits for it, so the
// next fit does not compete with the writing.
func fitCell(w *cellWorker, work string) (cellTimes, error) {
	var ct cellTimes
	code := "c0 := cpuNanos()\nt0 := time.Now()\n" + work + "\nel := time.Since(t0)\nc1 := cpuNanos()\nif err != nil {\n\tpanic(err)\n}\nprintln(el.Nanoseconds(), c1-c0)"
	c := &capture{}
	cpu0 := processCPU(w.pid)
	r := w.Execute(context.Background(), kernel.ExecuteRequest{Code: code}, c)
	if r.Status != "ok" {
		return ct, fmt.Errorf("cell: %s %s", r.Evalue, strings.Join(r.Traceback, "\n"))
	}
	// The cell's output may reach us just after its reply, and the
	// %autolog magic's just before it; a fit may warn (logistic
	// regression stopping at MaxIter) on the same stream: the times are
	// the last line of two integers.
	last := func() []string {
		lines := strings.Split(strings.TrimSpace(c.text()), "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			f := strings.Fields(lines[i])
			if len(f) != 2 {
				continue
			}
			if _, err := strconv.ParseInt(f[0], 10, 64); err != nil {
				continue
			}
			if _, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				return f
			}
		}
		return nil
	}
	f := last()
	for wait := 0; len(f) != 2 && wait < 50; wait++ {
		time.Sleep(10 * time.Millisecond)
		f = last()
	}
	if len(f) != 2 {
		return ct, fmt.Errorf("cell printed %q", c.text())
	}
	wall, err1 := strconv.ParseInt(f[0], 10, 64)
	cpu, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return ct, fmt.Errorf("cell printed %q", c.text())
	}
	ct.wall, ct.cpu = time.Duration(wall), time.Duration(cpu)
	t0 := time.Now()
	if r := w.Execute(context.Background(), kernel.ExecuteRequest{Code: "_ = 0"}, &capture{}); r.Status != "ok" {
		return ct, fmt.Errorf("empty cell: %s", r.Evalue)
	}
	ct.empty = time.Since(t0)
	if r := w.Execute(context.Background(), kernel.ExecuteRequest{Code: "tracking.FlushAutologgers()"}, &capture{}); r.Status != "ok" {
		return ct, fmt.Errorf("flush cell: %s", r.Evalue)
	}
	ct.total = processCPU(w.pid) - cpu0
	return ct, nil
}

func round(d time.Duration) time.Duration {
	if d > -time.Millisecond && d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(10 * time.Microsecond)
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// capture is a kernel.Output that keeps what the cell printed (println
// writes to stderr).
type capture struct {
	mu sync.Mutex
	b  strings.Builder
}

func (c *capture) Stream(name, text string)                { c.mu.Lock(); c.b.WriteString(text); c.mu.Unlock() }
func (c *capture) Display(kernel.MIMEBundle, string, bool) {}
func (c *capture) Clear(bool)                              {}
func (c *capture) Input(string, bool) (string, error)      { return "", io.EOF }
func (c *capture) text() string                            { c.mu.Lock(); defer c.mu.Unlock(); return c.b.String() }

// evictBytes is the buffer both sides write through before a cold fit:
// larger than the last-level cache, so the fit starts with neither its
// data nor its code cached, whatever ran before it.
const evictBytes = 64 << 20

// coldStart runs each fit once per cell (autolog off) and once compiled,
// alternately, both right after returning their free heap to the system
// and writing through an evictBytes buffer (compiled code on both sides)
// and prints the median time per fit. A fit between cells otherwise
// starts with whatever the two processes last did, which differs: the
// worker compiled and ran other cells, and gave its heap back when idle
// (see internal/memtrim), so that its fit pays a page fault per page of
// scratch memory, which the bench process, busy meanwhile, does not.
func coldStart(w *cellWorker, cases []fitCase, X *mat.Dense, y []float64, reps int) error {
	if !twoWorkers {
		if r := w.Execute(context.Background(), kernel.ExecuteRequest{Code: "%autolog off"}, &capture{}); r.Status != "ok" {
			return fmt.Errorf("%%autolog off: %s", r.Evalue)
		}
	}
	setup := fmt.Sprintf("import (\n\t\"runtime/debug\"\n\t\"gonum.org/v1/gonum/floats\"\n)\nevict := make([]float64, %d)", evictBytes/8)
	if r := w.Execute(context.Background(), kernel.ExecuteRequest{Code: setup}, &capture{}); r.Status != "ok" {
		return fmt.Errorf("cold setup: %s", r.Evalue)
	}
	evict := make([]float64, evictBytes/8)
	fmt.Printf("\ncold start: one fit per cell (autolog off) and the same fit compiled, each right after returning free heap to the system and writing %d MB (both sides' memory and caches cold); medians of %d\n\n", evictBytes>>20, reps)
	fmt.Printf("%-27s %12s %12s | %s\n", "fit", "compiled", "cell", "cell/compiled")
	for _, c := range cases {
		var comp, cell []time.Duration
		for i := 0; i < reps; i++ {
			debug.FreeOSMemory()
			floats.Scale(1, evict)
			t0 := time.Now()
			if err := c.fit(X, y); err != nil {
				return err
			}
			comp = append(comp, time.Since(t0))
			t, err := fitCell(w, "debug.FreeOSMemory()\nfloats.Scale(1, evict)\nt0 = time.Now()\n"+c.cell)
			if err != nil {
				return fmt.Errorf("%s cold: %w", c.name, err)
			}
			cell = append(cell, t.wall)
		}
		mc, ml := median(comp), median(cell)
		fmt.Printf("%-27s %12v %12v | %.2fx\n", c.name, round(mc), round(ml), float64(ml)/float64(mc))
	}
	return nil
}

// steadyState runs each fit reps times in a loop inside one cell (autolog
// off) and the same loop compiled, alternately, and prints the time per
// fit: with the data and code hot in the caches on both sides, what is
// left between them is what the interpreter adds to a fit. A single fit
// per cell also pays for caches the message round trip cooled, which the
// first table's compiled column (a fit between cells) pays only in part.
func steadyState(w *cellWorker, cases []fitCase, X *mat.Dense, y []float64, reps int) error {
	if !twoWorkers {
		if r := w.Execute(context.Background(), kernel.ExecuteRequest{Code: "%autolog off"}, &capture{}); r.Status != "ok" {
			return fmt.Errorf("%%autolog off: %s", r.Evalue)
		}
	}
	fmt.Printf("\nsteady state: %d fits in a loop inside one cell (autolog off) and the same loop compiled; time per fit, best of 3 loops each\n\n", reps)
	fmt.Printf("%-27s %12s %12s | %s\n", "fit", "compiled", "cell loop", "cell/compiled")
	for _, c := range cases {
		work := fmt.Sprintf("var err error\nfor i := 0; i < %d && err == nil; i++ {\n\terr = func() error {\n\t\t%s\n\t\treturn err\n\t}()\n}", reps, c.cell)
		var best, bestC time.Duration
		for k := 0; k < 3; k++ {
			t0 := time.Now()
			for i := 0; i < reps; i++ {
				if err := c.fit(X, y); err != nil {
					return err
				}
			}
			if d := time.Since(t0) / time.Duration(reps); bestC == 0 || d < bestC {
				bestC = d
			}
			t, err := fitCell(w, work)
			if err != nil {
				return fmt.Errorf("%s loop: %w", c.name, err)
			}
			if d := t.wall / time.Duration(reps); best == 0 || d < best {
				best = d
			}
		}
		fmt.Printf("%-27s %12v %12v | %.2fx\n", c.name, round(bestC), round(best), float64(best)/float64(bestC))
	}
	return nil
}
