package tracking

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopherlab/gopherlab/experiments"
	"gonum.org/v1/gonum/mat"
)

// TagNamedMatrix is the tag of an autologged run whose training data was
// a matrix and its y that Dataset.XY returned (or SplitXY split from
// one): the data snapshot's columns have the dataset's names, not c0,
// c1, ..., y, but the run was fitted on a matrix.
const TagNamedMatrix = "autolog.named_matrix"

// Autologger records every fit, cross-validation and grid search of the
// experiments package as a run, without any call by the user: install it
// with experiments.SetTracker(tracking.NewAutologger("")). The kernel
// does so for every notebook session.
//
// Each event becomes one run in the experiment named after the notebook
// (the base name of the path given to SetCellInfo, without extension;
// DefaultExperiment when there is none), named after the estimator, a
// pipeline by its steps ("standardscaler + logisticregression", "cv
// standardscaler + gaussiannb", "gridsearch(standardscaler + ridge)"),
// tagged autolog=<kind> and estimator=<name> ("pipeline",
// "gridsearch(pipeline)"), with:
//
//   - the estimator's parameters (experiments.EstimatorParams) and the
//     cross-validation or search settings;
//   - its metrics (fit_time_s for a fit, duration_s otherwise; mean_
//     and std_ per metric for a cross-validation, with each fold's
//     scores as the fold_<metric> series, step = fold; best_<metric>
//     for a grid search);
//   - a child run per fold (cross-validation) or per candidate (grid
//     search: its grid values, mean_, std_ and rank);
//   - the training data as the "train" dataset, features then target,
//     and its shape as params data.rows and data.cols (see
//     MaxDatasetCells);
//   - the fitted pipeline or model as the artifact "model.gob"
//     (experiments.Load reads it; a bare model is saved as a one-step
//     pipeline; for a grid search, the refitted best one);
//   - the cell's source, notebook and execution count (SetCellInfo);
//   - the seed, if the estimator or the folds have one;
//   - status FAILED with the error when the fit failed.
//
// Logging costs the fit almost nothing: Track only takes a snapshot (the
// training data copied, or found equal to data logged lately, which
// Prepare starts doing on another core while the fit runs, or, on Linux
// 6.7 and later, known to be data logged lately because the kernel saw
// no write to its pages since (see memGuard); a copy of the model's
// parameters beside its fitted state, which Fit replaces rather than
// changes; the cell's source) and queues it; a background
// goroutine writes the run, in order, and marks it FINISHED only once
// its data and model are stored.
// In the kernel it starts once the cell has replied (SetCellRunning),
// and the next cell does not wait for it, but nothing queued is lost to
// a reader of this process: Open, every read of a Store that Open
// returned, FlushAutologgers, Flush, SetPath and Close have the queue
// written first. A process killed while it writes leaves the run
// RUNNING, and the next Open marks it KILLED; fits queued but not yet
// written (at most 200 ms old while a cell runs) are lost with it. Work
// that runs longer than a second has its run started while it runs
// (RUNNING, named and tagged, with its start time), which its end then
// completes: it shows in the store meanwhile, and a process killed
// during it leaves the run, which the next Open marks KILLED. A run's
// start and end are the work's, not the writing's; a fold's or a
// trial's run starts with its parent's and lasts its own work's time.
//
// Work that runs while a run started by hand (Store.StartRun,
// Run.StartChild) is active in this process is logged as a child of the
// innermost such run, as MLflow's autolog logs into the active run, if
// that run is in the same store file and experiment; otherwise it is not
// nested. A run left open so takes in the work of later cells too, until
// it ends.
//
// The store is opened on the first event, so a session that fits nothing
// creates no file. Failures to log never fail the fit: they are written
// to Errors and kept for Err.
type Autologger struct {
	// Errors receives a line per failure to log; nil means os.Stderr.
	Errors io.Writer
	// MaxDatasetCells bounds the training data stored per run (rows ×
	// columns). Data is copied during the fit (about a millisecond per
	// million cells), then written in the background: data this process
	// stored before costs a hash, new data about 0.4 s per million cells
	// of measured values (formatting and compressing the CSV).
	// Larger data gets only its shape (params data.rows, data.cols) and
	// the tag autolog.dataset saying why. 0 means DefaultMaxDatasetCells;
	// negative stores none.
	MaxDatasetCells int

	mu    sync.Mutex
	path  string
	store *Store
	err   error
	// target is the absolute path the writer opens, resolved when an
	// event is tracked: the working directory and $GOPHERLAB_DB may
	// change before the writer gets to it.
	target string

	queue   []*autologEntry
	pending int64      // bytes held by the queue
	writing bool       // the writer goroutine runs
	done    *sync.Cond // on mu: the queue shrank or the writer stopped
	// urgent counts the callers waiting for the queue to be written
	// (Flush, a full queue in Track): the writer does not hold back
	// while there are any.
	urgent int
	// fits ties recently fitted estimators to their runs, for the
	// metrics computed on their predictions (autolog_eval.go).
	fits []fitRef
	// spare is a data buffer the writer is done with. Kept here rather
	// than in a sync.Pool, which every GC empties: a fit that allocates
	// a lot would otherwise make the next copy allocate afresh, and pay
	// for helping the GC it triggers (milliseconds, not microseconds).
	spare []float64
	// seen holds the tables the writer hashed last, most recent first
	// (autolog_seen.go): the writer adds to it, Track compares events'
	// data with it.
	seen []*seenTable
	// prepared holds the data Prepare is taking, until Track.
	prepared map[*experiments.TrackEvent]*preparedData
	// trainIdx is the row hashes of the training data evaluated last
	// (see trainingRows); the writer's.
	trainIdx struct {
		sum  string
		cols int
		rows map[uint64]struct{}
	}
	// long holds the work Prepare saw start, until Track: work that
	// runs longer than longWorkAfter gets its run started while it runs.
	long map[*experiments.TrackEvent]*longWork
	// guarded counts the events whose data a seen table's guard vouched
	// for, unread (see memGuard).
	guarded int
	// cur is the work in progress that Prepare saw start (Kind, Name and
	// Start are read), until Track; curWithin is innermostRun then.
	cur       *experiments.TrackEvent
	curWithin *Run
}

// DefaultMaxDatasetCells is the default Autologger.MaxDatasetCells.
const DefaultMaxDatasetCells = 1 << 20

// The queue is bounded so a loop of fits faster than the store can take
// them slows down to its pace instead of holding every model in memory,
// and so what is left to write when the process exits fits in the second
// the kernel gives its worker to exit: 64 small runs take about 0.1 s,
// training data new to the store about 0.4 s per million cells (16 MiB
// is two million).
const (
	maxQueuedEvents = 64
	maxQueuedBytes  = 16 << 20
)

// NewAutologger returns an Autologger writing to the store at storePath
// ("" means DefaultDBPath(), resolved when the store is opened).
func NewAutologger(storePath string) *Autologger {
	return &Autologger{path: storePath}
}

// cond returns a.done, creating it; a.mu must be held.
func (a *Autologger) cond() *sync.Cond {
	if a.done == nil {
		a.done = sync.NewCond(&a.mu)
	}
	return a.done
}

// waitIdleLocked waits until every queued event is written; a.mu must be
// held.
func (a *Autologger) waitIdleLocked() {
	a.urgent++
	a.startWriterLocked()
	a.cond().Broadcast() // a writer holding back
	for a.writing || len(a.queue) > 0 {
		a.cond().Wait()
	}
	a.urgent--
}

// Path returns the store path: the one given, or DefaultDBPath().
func (a *Autologger) Path() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.store != nil {
		return a.store.Path()
	}
	if a.path == "" {
		return DefaultDBPath()
	}
	return a.path
}

// SetPath switches to another store (closing the current one, once the
// events queued for it are written); the new one is opened on the next
// event.
func (a *Autologger) SetPath(path string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.waitIdleLocked()
	old := a.path
	a.path, a.target = path, ""
	if a.store == nil {
		return nil
	}
	err := a.store.Close()
	a.store = nil
	if err != nil {
		return fmt.Errorf("tracking: autolog: close %s: %w", old, err)
	}
	return nil
}

// Err returns the last failure to log, or nil.
func (a *Autologger) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Flush waits until every event tracked so far is written (or has failed
// to be: see Err).
func (a *Autologger) Flush() {
	a.mu.Lock()
	a.waitIdleLocked()
	a.mu.Unlock()
}

// Close writes the queued events, then closes the store if it was
// opened. The Autologger stays usable: a later event opens the store
// again.
func (a *Autologger) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for ev, lw := range a.long {
		if lw.timer != nil {
			lw.timer.Stop()
		}
		lw.tracked = true
		delete(a.long, ev)
	}
	a.cur, a.curWithin = nil, nil
	working.CompareAndSwap(a, nil)
	for ev, p := range a.prepared {
		// Work whose Track never came (a tracker that panicked).
		if p.done == closedDone && p.table != nil {
			a.unpinLocked(p.table)
		}
		delete(a.prepared, ev)
	}
	a.waitIdleLocked()
	for _, t := range a.seen {
		t.guard.release()
		t.guard = nil
	}
	a.spare, a.seen = nil, nil
	if a.store == nil {
		return nil
	}
	err := a.store.Close()
	a.store = nil
	return err
}

// busyAutologgers holds the autologgers with events not yet written, for
// flushAutologgers.
var busyAutologgers struct {
	sync.Mutex
	set map[*Autologger]struct{}
}

// FlushAutologgers waits until the runs every Autologger of this
// process has queued are written. Open and the reads of a Store that
// Open returned call it, so a store shows the runs of the fits before
// the read complete, even one opened before the fit; a program that
// reads the database some other way (another process, a SQL tool it
// starts) calls it first.
func FlushAutologgers() { flushAutologgers() }

// flushAutologgers waits until the events every Autologger of this
// process has queued are written, so that what a reader sees includes
// the fits that came before it.
func flushAutologgers() {
	busyAutologgers.Lock()
	if len(busyAutologgers.set) == 0 {
		busyAutologgers.Unlock()
		return
	}
	busy := make([]*Autologger, 0, len(busyAutologgers.set))
	for a := range busyAutologgers.set {
		busy = append(busy, a)
	}
	busyAutologgers.Unlock()
	for _, a := range busy {
		a.Flush()
	}
}

// autologEntry is what Track keeps of an event: everything the run
// needs, owned, so the caller's data and model may change right after.
type autologEntry struct {
	ev         *experiments.TrackEvent // Data, Estimator, Save and Err cleared
	evCopy     experiments.TrackEvent  // ev's storage, for Track's copy
	experiment string
	source     string
	notebook   string
	count      int
	nbParams   map[string]any // the notebook's parameters (never changed: SetNotebookParams replaces the map)
	failure    string         // ev.Err's message

	dataTag    string     // autolog.dataset, when the data is not stored
	rows, cols int        // shape of the data, when there is data
	data       []float64  // row-major copy, when it is stored
	table      *seenTable // the table data belongs to, when shared (pinned)
	// read is the event's data as the fit read it (the caller's
	// memory, not a copy), kept for the writer to guard (guardTable).
	read mat.Matrix
	save func(io.Writer) error
	size int64 // bytes held

	queued time.Time     // when Track queued it
	fit    *autologEntry // evaluate: the entry of the fit evaluated
	// long is the run started while long work ran: the entry that starts
	// it has start set, the entry that ends the work (and the run) has
	// long set.
	long    *longWork
	start   *longWork
	runID   string // the run written, once written
	dataSum string // SHA-256 of the training data stored
	// within is the innermost run started by hand that was active when
	// the work ran (innermostRun), or nil: the work's run is its child
	// if it is in the same store and experiment (parentIn).
	within *Run
}

// parentIn returns the id of the run started by hand that e's work ran
// within, if that run is in store s (the same database file) and e's
// experiment; else "": work logged to another store or experiment than
// the active run's is not nested under it, as a child must be in its
// parent's store, and one in another experiment would hide from it.
func (e *autologEntry) parentIn(s *Store) string {
	p := e.within
	if p == nil || p.experiment != e.experiment {
		return ""
	}
	if p.store.Path() != s.Path() {
		a, errA := os.Stat(p.store.Path())
		b, errB := os.Stat(s.Path())
		if errA != nil || errB != nil || !os.SameFile(a, b) {
			return ""
		}
	}
	return p.id
}

// modelBufs holds buffers to encode models into, in the background.
var modelBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Track queues ev to be recorded as a run, after taking what it needs of
// it. It implements experiments.Tracker.
func (a *Autologger) Track(ev *experiments.TrackEvent) {
	if ev == nil {
		return
	}
	e := a.snapshot(ev)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case ev.Kind == experiments.KindEvaluate:
		if e.fit = a.fitOfLocked(ev.Estimator); e.fit == nil {
			a.releaseLocked(e)
			return // a model this Autologger did not log
		}
	case ev.Err == nil && (ev.Kind == experiments.KindFit || ev.Kind == experiments.KindGridSearch):
		a.rememberFitLocked(ev.Estimator, e)
	}
	if len(a.queue) > 0 && (len(a.queue) >= maxQueuedEvents || a.pending+e.size > maxQueuedBytes) {
		a.urgent++
		a.startWriterLocked()
		a.cond().Broadcast()
		for len(a.queue) > 0 && (len(a.queue) >= maxQueuedEvents || a.pending+e.size > maxQueuedBytes) {
			a.cond().Wait()
		}
		a.urgent--
	}
	if a.cur == ev {
		a.cur, a.curWithin = nil, nil
	}
	if lw := a.long[ev]; lw != nil {
		// The work's run was started while it ran (or is about to be):
		// this entry completes it.
		delete(a.long, ev)
		lw.tracked = true
		if lw.timer != nil {
			lw.timer.Stop()
		}
		if lw.queued {
			e.long = lw
		}
	}
	a.enqueueLocked(e)
}

// enqueueLocked queues e for the writer; a.mu must be held.
func (a *Autologger) enqueueLocked(e *autologEntry) {
	e.queued = time.Now()
	if a.store == nil && a.target == "" {
		a.target = a.path
		if a.target == "" {
			a.target = DefaultDBPath()
		}
		if abs, err := filepath.Abs(a.target); err == nil {
			a.target = abs
		}
	}
	a.queue = append(a.queue, e)
	a.pending += e.size
	busyAutologgers.Lock()
	if busyAutologgers.set == nil {
		busyAutologgers.set = map[*Autologger]struct{}{}
	}
	busyAutologgers.set[a] = struct{}{}
	busyAutologgers.Unlock()
	// While a cell runs the writer is not even started (a goroutine
	// started now would wake an idle core): SetCellRunning(false), a
	// wait for the queue or the cell clock, after holdFor, starts it.
	if a.holdLocked() == 0 {
		a.startWriterLocked()
	}
}

// startWriterLocked starts the writer goroutine if events are queued and
// it does not run; a.mu must be held.
func (a *Autologger) startWriterLocked() {
	if a.writing || len(a.queue) == 0 {
		return
	}
	a.writing = true
	go a.writer()
}

// snapshot copies what the run needs out of ev.
func (a *Autologger) snapshot(ev *experiments.TrackEvent) *autologEntry {
	cellInfo.Lock()
	e := &autologEntry{source: cellInfo.source, notebook: cellInfo.notebook, count: cellInfo.count, nbParams: cellInfo.params}
	cellInfo.Unlock()
	e.experiment = experimentFor(e.notebook)
	e.within = innermostRun()
	// The event's maps and lists are the tracker's to keep (only Data
	// and Estimator are not, see experiments.Tracker), except the
	// levels, which are the dataset's own.
	e.evCopy = *ev
	c := &e.evCopy
	if ev.Levels != nil {
		c.Levels = make([][]string, len(ev.Levels))
		for j, l := range ev.Levels {
			c.Levels[j] = slices.Clone(l)
		}
	}
	if ev.Err != nil {
		e.failure = ev.Err.Error()
	}
	if ev.Data != nil {
		e.rows, e.cols = ev.Data.Dims()
		// Named once here, for the seen tables and the writer alike.
		c.Columns = columnsOr(c.Columns, e.cols)
		guarded := false
		if p := a.takePrepared(ev); p != nil {
			<-p.done
			e.table, e.data, e.dataTag, guarded = p.table, p.data, p.tag, p.guarded
		} else {
			e.table, e.data, e.dataTag, guarded = a.snapshotData(ev, c.Columns, e.rows, e.cols)
		}
		if e.table == nil {
			e.size += int64(8 * len(e.data))
		}
		if !guarded && e.rows*e.cols >= minPreparedCells && (e.table != nil || e.data != nil) {
			// For the writer to guard: the memory the fit read, through
			// headers the caller's later changes to its matrix do not
			// reach.
			e.read = ev.FrozenData()
		}
	}
	if ev.Save != nil && ev.Err == nil {
		// Save holds a snapshot of the fitted model (the model itself
		// may be fitted again as soon as Track returns): encoding it, a
		// few milliseconds for a large forest, is the writer's job.
		e.save = ev.Save
	}
	c.Data, c.Estimator, c.Save, c.Err = nil, nil, nil, nil
	e.ev = c
	return e
}

// snapshotData takes what the run keeps of ev's data, of the given shape
// and column names: a seen table it equals (pinned), a copy, or, over
// MaxDatasetCells, only the tag saying why it is not stored.
func (a *Autologger) snapshotData(ev *experiments.TrackEvent, columns []string, rows, cols int) (table *seenTable, data []float64, tag string, guarded bool) {
	if over, tag := a.overLimit(rows, cols); over {
		return nil, nil, tag, false
	}
	if t, guarded := a.seenTableFor(ev, columns, rows, cols); t != nil {
		// The values of a table logged lately: shared, not copied.
		return t, t.data, "", guarded
	}
	a.mu.Lock()
	buf := a.spare
	a.spare = nil
	a.mu.Unlock()
	_, _, data = ev.CopyData(buf)
	return nil, data, "", false
}

// closedDone is the done of data Prepare took at once.
var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// overLimit reports whether data of rows×cols cells is over
// MaxDatasetCells, and the tag that says so.
func (a *Autologger) overLimit(rows, cols int) (bool, string) {
	limit := a.MaxDatasetCells
	if limit == 0 {
		limit = DefaultMaxDatasetCells
	}
	if rows*cols > limit {
		return true, fmt.Sprintf("not stored: %d×%d cells over MaxDatasetCells %d", rows, cols, limit)
	}
	return false, ""
}

// preparedData is what Prepare takes of an event's data, in a goroutine:
// snapshotData's results, once done is closed.
type preparedData struct {
	done    chan struct{}
	table   *seenTable
	data    []float64
	tag     string
	guarded bool // table's guard vouched for the data: the memory is guarded already
}

// minPreparedCells is the least data Prepare takes in the background:
// below it, comparing or copying in Track costs less than starting a
// goroutine and waking a core for it.
const minPreparedCells = 1 << 13

// Prepare notes the work's start (for long work, see watchLongLocked)
// and takes what the run needs of ev's data: nothing, when a seen
// table's guard vouches that the data's memory was not written since it
// was logged; else it starts comparing the data with the tables logged
// lately, or copying it, in a goroutine, while the fit runs, so that
// Track only waits for what is left of it. That helps when another core
// is free to take it at once (an idle one may take longer to wake than
// a small fit lasts). It implements experiments.Preparer.
func (a *Autologger) Prepare(ev *experiments.TrackEvent) {
	if ev == nil {
		return
	}
	within := innermostRun()
	var rows, cols int
	if ev.Data != nil {
		rows, cols = ev.Data.Dims()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.watchLongLocked(ev, within)
	if over, _ := a.overLimit(rows, cols); over || rows*cols < minPreparedCells {
		return
	}
	columns := columnsOr(ev.Columns, cols)
	t := a.guardedTableLocked(ev, columns, rows, cols)
	if t == nil && runtime.GOMAXPROCS(0) < 2 {
		return
	}
	if a.prepared == nil {
		a.prepared = map[*experiments.TrackEvent]*preparedData{}
	}
	if t != nil {
		// Unwritten since it was found equal to a table (and the fit
		// only reads it): nothing to read.
		a.prepared[ev] = &preparedData{done: closedDone, table: t, data: t.data, guarded: true}
		return
	}
	p := &preparedData{done: make(chan struct{})}
	a.prepared[ev] = p
	go func() {
		defer close(p.done)
		p.table, p.data, p.tag, p.guarded = a.snapshotData(ev, columns, rows, cols)
	}()
}

// longWork is a fit, cross-validation or grid search that has run for
// longWorkAfter: its run is started RUNNING, so that it shows in the
// store while it runs and, if the process dies, is marked KILLED the
// next time the store is opened (instead of leaving no trace). While a
// cell runs, the cell clock watches the work; otherwise it has a timer.
type longWork struct {
	// kind, name and start are the event's (not the event itself,
	// whose data a stopped timer would keep alive until it was due).
	kind, name string
	start      time.Time
	within     *Run        // innermostRun when the work began
	timer      *time.Timer // nil while the cell clock watches the work
	queued     bool        // the entry starting the run is queued (a.mu)
	tracked    bool        // the work ended: the run is not to be started (a.mu)
	run        *Run        // the started run (the writer's)
	store      *Store
}

// longWorkAfter is how long work runs before its run is started.
var longWorkAfter = time.Second

// watchLongLocked has the run of ev's work started if it runs long:
// while a cell runs, by the cell clock, which looks at the work in
// progress (arming a timer inside every fit would cost a small fit more
// than the rest of its logging); else by a timer. within is
// innermostRun; a.mu must be held.
func (a *Autologger) watchLongLocked(ev *experiments.TrackEvent, within *Run) {
	// Work is tracked one piece at a time (experiments tracks no work
	// that starts while other work is tracked).
	a.cur, a.curWithin = ev, within
	working.Store(a)
	if !cellRunning.Load() {
		a.timeLongLocked(a.longOfLocked(ev))
	}
}

// working is the autologger that saw work start last (see cur).
var working atomic.Pointer[Autologger]

// longOfLocked returns the longWork of ev, the work in progress, made
// now if it has none; a.mu must be held.
func (a *Autologger) longOfLocked(ev *experiments.TrackEvent) *longWork {
	if lw := a.long[ev]; lw != nil {
		return lw
	}
	lw := &longWork{kind: ev.Kind, name: ev.Name, start: ev.Start, within: a.curWithin}
	if a.long == nil {
		a.long = map[*experiments.TrackEvent]*longWork{}
	}
	a.long[ev] = lw
	return lw
}

// timeLongLocked arms lw's timer for what is left of longWorkAfter;
// a.mu must be held.
func (a *Autologger) timeLongLocked(lw *longWork) {
	lw.timer = time.AfterFunc(longWorkAfter-time.Since(lw.start), func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.startLongLocked(lw)
	})
}

// startLongLocked queues the entry that starts the run of lw's work,
// unless the work has ended or the entry is queued; a.mu must be held.
func (a *Autologger) startLongLocked(lw *longWork) {
	if lw.tracked || lw.queued {
		return
	}
	cellInfo.Lock()
	e := &autologEntry{source: cellInfo.source, notebook: cellInfo.notebook, count: cellInfo.count, nbParams: cellInfo.params}
	cellInfo.Unlock()
	e.experiment = experimentFor(e.notebook)
	e.within = lw.within
	e.ev = &experiments.TrackEvent{Kind: lw.kind, Name: lw.name, Start: lw.start}
	e.start = lw
	lw.queued = true
	a.enqueueLocked(e)
}

// cellClock ticks every holdFor while a cell runs: it starts the run of
// work in progress that has run for longWorkAfter, and the writing of
// runs held for holdFor. One timer per cell, instead of two per fit.
var cellClock clock

type clock struct {
	mu      sync.Mutex
	timer   *time.Timer
	running bool
}

// start starts the clock, as a cell starts.
func (c *clock) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running = true
	if c.timer == nil {
		c.timer = time.AfterFunc(holdFor, c.tick)
		return
	}
	c.timer.Reset(holdFor)
}

// stop stops the clock, as the cell ends: work still in progress (in a
// goroutine the cell started) gets a timer of its own.
func (c *clock) stop() {
	c.mu.Lock()
	c.running = false
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	if a := working.Load(); a != nil {
		a.mu.Lock()
		if a.cur != nil {
			if lw := a.longOfLocked(a.cur); lw.timer == nil && !lw.queued {
				a.timeLongLocked(lw)
			}
		}
		a.mu.Unlock()
	}
}

func (c *clock) tick() {
	c.mu.Lock()
	running := c.running
	c.mu.Unlock()
	if !running {
		return
	}
	if a := working.Load(); a != nil {
		a.mu.Lock()
		if ev := a.cur; ev != nil && time.Since(ev.Start) >= longWorkAfter {
			a.startLongLocked(a.longOfLocked(ev))
		}
		a.mu.Unlock()
	}
	for _, a := range busyList() {
		a.mu.Lock()
		if len(a.queue) > 0 && a.holdLocked() == 0 {
			a.startWriterLocked()
		}
		a.mu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		c.timer.Reset(holdFor)
	}
}

// startLong starts the run of long work that is still running.
func (a *Autologger) startLong(s *Store, e *autologEntry) error {
	run, err := s.StartRun(e.experiment, &RunOptions{
		Name:           runName(e.ev),
		ParentID:       e.parentIn(s),
		Tags:           map[string]string{"autolog": e.ev.Kind, "estimator": e.ev.Name},
		Params:         withNotebookParams(nil, e.nbParams),
		Source:         e.source,
		Notebook:       e.notebook,
		ExecutionCount: e.count,
		times:          runTimes{start: e.ev.Start},
		autolog:        true,
	})
	if err != nil {
		return fmt.Errorf("tracking: autolog %s: %w", e.ev.Kind, err)
	}
	a.mu.Lock()
	e.start.run, e.start.store = run, s
	a.mu.Unlock()
	return nil
}

// runName is the name of the run of an event's work: the estimator's,
// with a pipeline named by its steps ("standardscaler + logisticregression",
// "gridsearch(onehotencoder + randomforestclassifier)") so that runs say
// which model they are.
func runName(ev *experiments.TrackEvent) string {
	name := ev.Name
	if s, ok := ev.Params["steps"].(string); ok && strings.Contains(name, "pipeline") {
		if w := stepsWords(s); w != "" {
			name = strings.Replace(name, "pipeline", w, 1)
		}
	}
	if ev.Kind == experiments.KindCrossValidate {
		return "cv " + name
	}
	return name
}

// loggedSteps reads the steps param EstimatorParams records for a
// pipeline, "[standardscaler logisticregression]", as its step names.
func loggedSteps(v string) []string { return strings.Fields(strings.Trim(v, "[]")) }

// stepsWords names a pipeline by its logged steps param:
// "standardscaler + logisticregression"; "" when it has none.
func stepsWords(v string) string { return strings.Join(loggedSteps(v), " + ") }

// takePrepared returns what Prepare is taking of ev's data, or nil.
func (a *Autologger) takePrepared(ev *experiments.TrackEvent) *preparedData {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.prepared[ev]
	delete(a.prepared, ev)
	return p
}

// releaseLocked keeps e's data buffer for the next event, if it is the
// largest; a.mu must be held.
func (a *Autologger) releaseLocked(e *autologEntry) {
	switch {
	case e.table != nil:
		a.unpinLocked(e.table)
	case e.data != nil && cap(e.data) > cap(a.spare):
		a.spare = e.data[:0]
	}
	e.data, e.table, e.save, e.read = nil, nil, nil, nil
}

// writer writes the queued events in order, and stops when the queue is
// empty.
func (a *Autologger) writer() {
	a.mu.Lock()
	for len(a.queue) > 0 {
		if wait := a.holdLocked(); wait > 0 {
			t := time.AfterFunc(wait, func() {
				a.mu.Lock()
				a.cond().Broadcast()
				a.mu.Unlock()
			})
			a.cond().Wait()
			t.Stop()
			continue
		}
		e := a.queue[0]
		a.mu.Unlock()
		err := a.write(e)
		a.mu.Lock()
		a.queue[0] = nil
		a.queue = a.queue[1:]
		a.pending -= e.size
		a.releaseLocked(e)
		if err != nil {
			a.err = err
			w := a.Errors
			if w == nil {
				w = os.Stderr
			}
			fmt.Fprintf(w, "%v\n", err)
		}
		a.cond().Broadcast()
	}
	a.queue = nil
	a.writing = false
	busyAutologgers.Lock()
	delete(busyAutologgers.set, a)
	busyAutologgers.Unlock()
	a.cond().Broadcast()
	a.mu.Unlock()
}

// holdLocked returns how long the writer should wait before writing the
// next event, 0 to write it now; a.mu must be held. While a cell runs
// (SetCellRunning), an event is written once the cell ends or holdFor
// after it was queued, unless someone waits for the queue (Flush, a read
// of the store, a fit in front of a full queue): writing in the
// background during a short cell competes with the cell's own end (its
// reply, its output) for the CPU.
func (a *Autologger) holdLocked() time.Duration {
	if a.urgent > 0 || !cellRunning.Load() {
		return 0
	}
	return max(0, holdFor-time.Since(a.queue[0].queued))
}

// holdFor bounds how long a run waits to be written while its cell runs.
var holdFor = 100 * time.Millisecond

// cellRunning is true while the kernel runs a cell (SetCellRunning).
var cellRunning atomic.Bool

// SetCellRunning tells the autologgers whether a notebook cell is
// running; the kernel sets it around each cell. While one runs, the runs
// of its fits are written once the kernel has been idle for
// idleBeforeWriting after it (or, in a long cell, within 200 ms of the
// fit: the cell clock looks every holdFor), so the writing does not compete for the CPU with the end of
// a short cell: its reply on its way to the frontend. Anything that
// waits for them (Flush, Open, a read of a Store from Open, a fit in
// front of a full queue) has them written at once. Outside the kernel,
// runs are written as soon as they are queued.
func SetCellRunning(running bool) {
	cellRunning.Store(running)
	if running {
		cellClock.start()
		return
	}
	cellClock.stop()
	busyAutologgers.Lock()
	busy := len(busyAutologgers.set) > 0
	busyAutologgers.Unlock()
	if busy {
		time.AfterFunc(idleBeforeWriting, startBusy)
	}
}

// idleBeforeWriting is how long after a cell the writing of its runs
// starts: the time its reply takes to reach the frontend (a few hundred
// microseconds through the kernel and ZeroMQ), with room to spare. If
// another cell has started by then, they wait for it as they waited for
// the first.
const idleBeforeWriting = 3 * time.Millisecond

// busyList returns the autologgers with runs to write.
func busyList() []*Autologger {
	busyAutologgers.Lock()
	defer busyAutologgers.Unlock()
	busy := make([]*Autologger, 0, len(busyAutologgers.set))
	for a := range busyAutologgers.set {
		busy = append(busy, a)
	}
	return busy
}

// startBusy starts the writers of the autologgers with runs to write.
func startBusy() {
	for _, a := range busyList() {
		a.mu.Lock()
		a.startWriterLocked()
		a.cond().Broadcast()
		a.mu.Unlock()
	}
}

// write records one event; a panic in it is an error, never a crash of
// the process (it runs in its own goroutine).
func (a *Autologger) write(e *autologEntry) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("tracking: autolog %s: internal error: %v", e.ev.Kind, v)
		}
	}()
	// Only the writer uses the store while it runs; SetPath and Close
	// wait for it to stop.
	a.mu.Lock()
	s, path := a.store, a.target
	a.mu.Unlock()
	if s == nil {
		if s, err = open(path); err != nil {
			return fmt.Errorf("tracking: autolog: %w", err)
		}
		a.mu.Lock()
		a.store, a.target = s, ""
		a.mu.Unlock()
	}
	return a.track(s, e)
}

func (a *Autologger) track(s *Store, e *autologEntry) error {
	ev := e.ev
	if ev.Kind == experiments.KindEvaluate {
		return a.evaluate(s, e)
	}
	if e.start != nil {
		return a.startLong(s, e)
	}
	name := runName(ev)
	params := withNotebookParams(ev.Params, e.nbParams)
	if e.rows > 0 || e.cols > 0 {
		params = maps.Clone(params)
		if params == nil {
			params = map[string]any{}
		}
		params["data.rows"], params["data.cols"] = e.rows, e.cols
	}
	tags := map[string]string{"autolog": ev.Kind, "estimator": ev.Name}
	if e.dataTag != "" {
		tags["autolog.dataset"] = e.dataTag
	}
	if ev.NamedMatrix {
		// Reproduce rebuilds X and y, not a dataset, from the snapshot.
		tags[TagNamedMatrix] = "true"
	}
	var run *Run
	var err error
	if lw := e.long; lw != nil && lw.run != nil && lw.store == s {
		// Started while the work ran: it gets what the work's end tells.
		run = lw.run
		run.endTime = e.times().end
		for k := range withNotebookParams(nil, e.nbParams) {
			delete(params, k) // logged when it started
		}
		if err = run.LogParams(params); err == nil {
			err = run.SetTags(tags)
		}
		if err == nil && name != runName(&experiments.TrackEvent{Kind: ev.Kind, Name: ev.Name}) {
			err = run.rename(name) // its parameters name it
		}
		if err != nil {
			run.Fail(err)
			return fmt.Errorf("tracking: autolog %s: %w", ev.Kind, err)
		}
	} else {
		run, err = s.StartRun(e.experiment, &RunOptions{
			Name:           name,
			ParentID:       e.parentIn(s),
			Tags:           tags,
			Params:         params,
			Source:         e.source,
			Notebook:       e.notebook,
			ExecutionCount: e.count,
			times:          e.times(),
			autolog:        true,
		})
		if err != nil {
			return fmt.Errorf("tracking: autolog %s: %w", ev.Kind, err)
		}
	}
	e.runID = run.ID()
	if err := a.logEvent(s, run, e); err != nil {
		run.Fail(err)
		return fmt.Errorf("tracking: autolog %s: %w", ev.Kind, err)
	}
	if e.failure != "" {
		err = run.end(StatusFailed, e.failure)
	} else {
		err = run.Finish()
	}
	if err != nil {
		return fmt.Errorf("tracking: autolog %s: %w", ev.Kind, err)
	}
	return nil
}

func (a *Autologger) logEvent(s *Store, run *Run, e *autologEntry) error {
	ev := e.ev
	if ev.HasSeed {
		if err := run.SetSeed(ev.Seed); err != nil {
			return err
		}
	}
	metrics := map[string]float64{}
	if ev.Kind != experiments.KindFit { // a fit has fit_time_s
		metrics["duration_s"] = ev.Duration.Seconds()
	}
	for k, v := range ev.Metrics {
		metrics[k] = v
	}
	if err := run.LogMetrics(metrics, 0); err != nil {
		return err
	}
	if e.data != nil {
		digest := func(cols []string) (string, int, func() []byte) { return a.entryDigest(e, cols) }
		sum, err := run.logDenseDataset("train", "train", ev.Columns, e.rows, e.cols, e.data, ev.Levels, digest)
		if err != nil {
			return err
		}
		e.dataSum = sum
	}
	// A fold's or a trial's run starts with its parent's and lasts as long
	// as its own fitting and scoring (in parallel work, the children
	// overlap: when each began is not known).
	child := func(name string, params map[string]any, took time.Duration) (*Run, error) {
		t := e.times()
		if !t.start.IsZero() {
			t.end = t.start.Add(took)
		}
		return s.StartRun(run.experiment, &RunOptions{Name: name, ParentID: run.id, Params: params,
			Source: e.source, Notebook: e.notebook, ExecutionCount: e.count, times: t, autolog: true})
	}
	for i, f := range ev.Folds {
		for k, v := range f {
			if err := run.LogMetric("fold_"+k, v, i); err != nil {
				return err
			}
		}
		took := time.Duration((f["fit_time_s"] + f["score_time_s"]) * float64(time.Second))
		c, err := child(fmt.Sprintf("fold %d", i), map[string]any{"fold": i}, took)
		if err != nil {
			return err
		}
		if err := endChild(c, f); err != nil {
			return err
		}
	}
	metric, _ := ev.Params["search.metric"].(string)
	for i, tr := range ev.Trials {
		c, err := child(fmt.Sprintf("trial %d", i), tr.Params, tr.Duration)
		if err != nil {
			return err
		}
		if metric != "" {
			for j, v := range tr.Scores {
				if err := c.LogMetric("fold_"+metric, v, j); err != nil {
					c.Fail(err)
					return err
				}
			}
		}
		if err := endChild(c, tr.Metrics); err != nil {
			return err
		}
	}
	if e.save != nil {
		buf := modelBufs.Get().(*bytes.Buffer)
		buf.Reset()
		defer func() {
			if buf.Cap() <= 64<<20 {
				modelBufs.Put(buf)
			}
		}()
		if err := e.save(buf); err != nil {
			return err
		}
		if err := run.LogArtifact("model.gob", "model", buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// times are when the work an entry reports ran: it was queued as it
// ended, and its event says how long it took. Its runs, written later in
// the background, record these times.
func (e *autologEntry) times() runTimes {
	if e.queued.IsZero() {
		return runTimes{}
	}
	return runTimes{start: e.queued.Add(-e.ev.Duration), end: e.queued}
}

func endChild(child *Run, metrics map[string]float64) error {
	if err := child.LogMetrics(metrics, 0); err != nil {
		child.Fail(err)
		return err
	}
	return child.Finish()
}

// experimentFor names the experiment after the notebook being run.
func experimentFor(nb string) string {
	base := filepath.Base(nb)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	if nb == "" || base == "" || base == "." || base == string(filepath.Separator) {
		return DefaultExperiment
	}
	return base
}

// AutologCommand implements the notebook magic "%autolog [on|off]": on
// installs a as the experiments tracker, off removes it, and no argument
// shows which it is.
func (a *Autologger) AutologCommand(args string, w io.Writer) error {
	switch strings.TrimSpace(args) {
	case "on":
		experiments.SetTracker(a)
	case "off":
		if experiments.CurrentTracker() == experiments.Tracker(a) {
			experiments.SetTracker(nil)
		}
	case "":
	default:
		return fmt.Errorf("tracking: %%autolog: want on or off, have %q", args)
	}
	state := "off"
	if experiments.CurrentTracker() == experiments.Tracker(a) {
		state = "on"
	}
	_, err := fmt.Fprintf(w, "autolog %s (store %s)\n", state, a.Path())
	return err
}

// TrackingCommand implements the notebook magic "%tracking [PATH]": with
// a path, the autologger writes there from the next event on, and so
// does tracking.Open("") in cells (it sets $GOPHERLAB_DB); without, it
// shows the store path.
func (a *Autologger) TrackingCommand(args string, w io.Writer) error {
	if path := strings.TrimSpace(args); path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return fmt.Errorf("tracking: %%tracking: %w", err)
		}
		// The store is opened now, so that a path that cannot be one
		// (a text file, another application's database) fails here and
		// not, unseen, in the background after a later fit.
		s, err := Open(abs)
		if err != nil {
			return fmt.Errorf("%%tracking %s: %w", path, err)
		}
		if err := s.Close(); err != nil {
			return fmt.Errorf("%%tracking %s: %w", path, err)
		}
		if err := a.SetPath(abs); err != nil {
			return err
		}
		if err := os.Setenv(EnvDB, abs); err != nil {
			return fmt.Errorf("tracking: %%tracking: %w", err)
		}
	}
	_, err := fmt.Fprintf(w, "tracking store %s\n", a.Path())
	return err
}
