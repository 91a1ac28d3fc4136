package tracking

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Run statuses.
const (
	StatusRunning  = "RUNNING"
	StatusFinished = "FINISHED"
	StatusFailed   = "FAILED"
	StatusKilled   = "KILLED"
)

// DefaultExperiment is used when StartRun is given no experiment name.
const DefaultExperiment = "Default"

// RunOptions describe a run being started. The zero value (or nil) is a
// valid choice for every field.
type RunOptions struct {
	Name     string            // display name; need not be unique
	ParentID string            // parent run, for CV folds or grid-search trials
	Tags     map[string]string // tags set at start
	// Params logged at start; values are formatted like LogParam does.
	Params map[string]interface{}
	// Source is the code that produced the run (the notebook cell).
	// Notebook and ExecutionCount locate it. When Source and Notebook
	// are both empty, the three values given to SetCellInfo are used.
	Source         string
	Notebook       string
	ExecutionCount int
	// Modules maps module paths to versions. When nil, the modules the
	// running binary was built with are recorded.
	Modules map[string]string

	// times, when set, are the run's start and end instead of the
	// clock's: the autologger writes a fit's run after the fit, and the
	// run must say when the fit ran.
	times runTimes
	// autolog marks the autologger's runs, which it ends itself.
	autolog bool
}

type runTimes struct{ start, end time.Time }

var cellInfo struct {
	sync.Mutex
	source, notebook string
	count            int
	params           map[string]any // notebook.NAME: value, see SetNotebookParams
}

// EnvNotebookParams names the environment variable through which
// gopherlab run gives the kernel's worker the notebook's parameters: a
// JSON object of their values as text by name (see SetNotebookParams).
const EnvNotebookParams = "GOPHERLAB_NOTEBOOK_PARAMS"

// NotebookParamPrefix starts the names of the params that record a
// notebook's parameters (SetNotebookParams).
const NotebookParamPrefix = "notebook."

// SetNotebookParams records the values of the notebook's parameters (the
// variables of its cell tagged parameters, after any that gopherlab run
// injected, as Go literals by name); every run started after it without
// an explicit Source, the autologged ones included, carries them as
// params notebook.NAME. gopherlab run and exported jobs call it, so that
// `gopherlab export --run` rebuilds a job with the values the run had.
// nil forgets them.
func SetNotebookParams(params map[string]string) {
	var m map[string]any
	if len(params) > 0 {
		m = make(map[string]any, len(params))
		for k, v := range params {
			m[NotebookParamPrefix+k] = v
		}
	}
	cellInfo.Lock()
	cellInfo.params = m
	cellInfo.Unlock()
}

// withNotebookParams returns params with the notebook's parameters added
// (params' own keys win), or params itself when there are none.
func withNotebookParams(params, nb map[string]any) map[string]any {
	if len(nb) == 0 {
		return params
	}
	out := make(map[string]any, len(params)+len(nb))
	for k, v := range nb {
		out[k] = v
	}
	for k, v := range params {
		out[k] = v
	}
	return out
}

// SetCellInfo records the notebook cell being executed; runs started
// without an explicit Source take it. The kernel calls it before each
// cell. It does not wait for the runs of earlier cells to be written:
// every read of a Store that Open returned does, so a cell that
// does not read the store never waits for the one before it.
func SetCellInfo(source, notebook string, executionCount int) {
	cellInfo.Lock()
	cellInfo.source, cellInfo.notebook, cellInfo.count = source, notebook, executionCount
	cellInfo.Unlock()
}

// NotebookExperiment returns the experiment a notebook's runs go to: the
// notebook's file name without its extension, or DefaultExperiment when
// the frontend does not say which notebook runs (nbclient on its own) or
// outside a notebook. A cell passes it to SearchRuns to find its own
// notebook's runs, as StartRun("") logs to it.
func NotebookExperiment() string {
	cellInfo.Lock()
	nb := cellInfo.notebook
	cellInfo.Unlock()
	return experimentFor(nb)
}

// Run is a run being recorded. Its methods are safe for concurrent use.
// End it with Finish, Fail or End; until then metric points may sit in
// memory for up to the store's flush interval.
type Run struct {
	store      *Store
	id         string
	experiment string
	name       string
	parentID   string
	start      time.Time
	endTime    time.Time // when set, the end time recorded (see RunOptions.times)
	batchSize  int
	interval   time.Duration

	mu     sync.Mutex
	buf    []point
	spare  []point
	armed  bool // a flush timer is pending
	ended  bool
	status string
	bgErr  error // error of a background flush, reported by the next call

	flushMu sync.Mutex // serializes flushes so points are written in order
}

type point struct {
	key   string
	value float64
	step  int64
	ts    int64
}

// newRunID returns a random (version 4) UUID.
func newRunID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported systems
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// StartRun starts a run in the named experiment, creating the experiment
// if needed. "" means the notebook's experiment (its file name, as for
// autologged runs) in a notebook cell, else DefaultExperiment. opts may
// be nil. In a notebook, a run the cell leaves running when it fails ends
// FAILED with the cell's error (EndCell).
func (s *Store) StartRun(experiment string, opts *RunOptions) (*Run, error) {
	if opts == nil {
		opts = &RunOptions{}
	}
	if s.isClosed() {
		return nil, fmt.Errorf("tracking: start run: %w", ErrClosed)
	}
	source, notebook, count := opts.Source, opts.Notebook, opts.ExecutionCount
	runParams := opts.Params
	if source == "" && notebook == "" {
		cellInfo.Lock()
		source, notebook, count = cellInfo.source, cellInfo.notebook, cellInfo.count
		nb := cellInfo.params
		cellInfo.Unlock()
		if opts.ParentID == "" {
			runParams = withNotebookParams(runParams, nb)
		}
	}
	if experiment == "" {
		// In a notebook, its runs go where its fits' runs go.
		experiment = experimentFor(notebook)
	}
	modules := opts.Modules
	if modules == nil {
		modules = buildModules()
	}
	modJSON, err := json.Marshal(modules)
	if err != nil {
		return nil, fmt.Errorf("tracking: start run: modules: %w", err)
	}
	params, err := formatParams(runParams)
	if err != nil {
		return nil, fmt.Errorf("tracking: start run: %w", err)
	}
	for k := range opts.Tags {
		if k == "" {
			return nil, fmt.Errorf("tracking: start run: empty tag key")
		}
	}
	me := self()
	start := time.Now()
	if !opts.times.start.IsZero() {
		start = opts.times.start
	}
	s.mu.Lock()
	r := &Run{
		store:      s,
		id:         newRunID(),
		experiment: experiment,
		name:       opts.Name,
		parentID:   opts.ParentID,
		start:      time.UnixMilli(start.UnixMilli()),
		batchSize:  s.batchSize,
		interval:   s.flushInterval,
		status:     StatusRunning,
		endTime:    opts.times.end,
	}
	s.mu.Unlock()
	var parent interface{}
	if opts.ParentID != "" {
		parent = opts.ParentID
	}
	err = s.writeTx(func(tx *sql.Tx) error {
		expID, err := ensureExperiment(tx, experiment)
		if err != nil {
			return err
		}
		if opts.ParentID != "" {
			var n int
			if err := tx.QueryRow(`SELECT COUNT(*) FROM runs WHERE id = ?`, opts.ParentID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("parent run %s: %w", opts.ParentID, ErrNotFound)
			}
		}
		if _, err := tx.Exec(`INSERT INTO runs (id, experiment_id, name, status, start_time, parent_run_id,
				owner_pid, owner_start, owner_boot, owner_host, source, notebook, execution_count, go_version, modules)
			VALUES (?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.id, expID, r.name, r.start.UnixMilli(), parent,
			me.pid, me.start, me.boot, me.host, source, notebook, count, runtime.Version(), string(modJSON)); err != nil {
			return err
		}
		if err := insertParams(tx, r.id, params); err != nil {
			return err
		}
		return upsertTags(tx, r.id, opts.Tags)
	})
	if err != nil {
		return nil, s.wrap("start run in", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		r.end(StatusKilled, "the store was closed while the run started")
		return nil, fmt.Errorf("tracking: start run: %w", ErrClosed)
	}
	s.open[r] = struct{}{}
	s.mu.Unlock()
	if !opts.autolog {
		activeRuns.Lock()
		activeRuns.runs = append(activeRuns.runs, r)
		activeRuns.Unlock()
	}
	if !opts.autolog && cellRunning.Load() {
		cellRuns.Lock()
		cellRuns.runs = append(cellRuns.runs, r)
		cellRuns.Unlock()
	}
	return r, nil
}

// activeRuns are the runs of this process started by hand (StartRun,
// StartChild; not by an Autologger) that have not ended, in the order
// they started: the last is the innermost, which autologged work nests
// under (see Autologger).
var activeRuns struct {
	sync.Mutex
	runs []*Run
}

// innermostRun returns the run started by hand that started last and has
// not ended, or nil.
func innermostRun() *Run {
	activeRuns.Lock()
	defer activeRuns.Unlock()
	if n := len(activeRuns.runs); n > 0 {
		return activeRuns.runs[n-1]
	}
	return nil
}

// cellRuns are the runs started by the running notebook cell (see
// EndCell), the autologger's aside.
var cellRuns struct {
	sync.Mutex
	runs []*Run
}

// EndCell is called by the kernel when a cell ends: if it failed, the
// runs it started and left running end FAILED with failure (the cell's
// error), as a crashed process's runs end KILLED. Runs started by
// earlier cells, which a notebook may keep open across cells, are left
// alone.
func EndCell(failure string) {
	cellRuns.Lock()
	runs := cellRuns.runs
	cellRuns.runs = nil
	cellRuns.Unlock()
	if failure == "" {
		return
	}
	for _, r := range runs {
		if r.Status() == StatusRunning {
			r.end(StatusFailed, "the cell failed: "+failure)
		}
	}
}

// StartChild starts a run in the same experiment whose parent is r, for
// example one fold of a cross-validation or one trial of a grid search.
// A run that has ended takes no more children (ErrRunEnded), as it takes
// no more metrics.
func (r *Run) StartChild(name string) (*Run, error) {
	r.mu.Lock()
	ended := r.ended
	r.mu.Unlock()
	if ended {
		return nil, fmt.Errorf("tracking: run %s: start child %q: %w", r.id, name, ErrRunEnded)
	}
	return r.store.StartRun(r.experiment, &RunOptions{Name: name, ParentID: r.id})
}

func ensureExperiment(tx *sql.Tx, name string) (int64, error) {
	if _, err := tx.Exec(`INSERT INTO experiments (name, created) VALUES (?, ?) ON CONFLICT(name) DO NOTHING`, name, nowMillis()); err != nil {
		return 0, err
	}
	var id int64
	err := tx.QueryRow(`SELECT id FROM experiments WHERE name = ?`, name).Scan(&id)
	return id, err
}

var (
	modulesOnce sync.Once
	modulesMap  map[string]string
)

// buildModules lists the modules this binary was built with.
func buildModules() map[string]string {
	modulesOnce.Do(func() {
		modulesMap = map[string]string{}
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			return
		}
		if bi.Main.Path != "" {
			modulesMap[bi.Main.Path] = bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			modulesMap[d.Path] = d.Version
		}
	})
	out := make(map[string]string, len(modulesMap))
	for k, v := range modulesMap {
		out[k] = v
	}
	return out
}

// ID returns the run's id (a UUID).
func (r *Run) ID() string { return r.id }

// Name returns the run's display name.
func (r *Run) Name() string { return r.name }

// Experiment returns the name of the run's experiment.
func (r *Run) Experiment() string { return r.experiment }

// ParentID returns the parent run's id, or "".
func (r *Run) ParentID() string { return r.parentID }

// StartTime returns when the run started (millisecond precision).
func (r *Run) StartTime() time.Time { return r.start }

// Status returns RUNNING until the run ends, then its final status.
func (r *Run) Status() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// String describes the run: its id, its name if it has one, and its status.
func (r *Run) String() string {
	if r.name != "" {
		return fmt.Sprintf("run %s (%s, %s)", r.id, r.name, r.Status())
	}
	return fmt.Sprintf("run %s (%s)", r.id, r.Status())
}

// checkOpen returns ErrRunEnded after End, or the error of a failed
// background flush (once).
func (r *Run) checkOpenLocked() error {
	if r.ended {
		return fmt.Errorf("tracking: run %s: %w", r.id, ErrRunEnded)
	}
	if err := r.bgErr; err != nil {
		r.bgErr = nil
		return err
	}
	return nil
}

// LogParam records a parameter. value is formatted as text: strings as
// they are, floats in the shortest form that reads back exactly, anything
// else with fmt.Sprint. Logging a key again with the same value is allowed;
// with a different value it is an error, so a run's parameters cannot
// silently change after the fact.
func (r *Run) LogParam(key string, value interface{}) error {
	return r.LogParams(map[string]interface{}{key: value})
}

// LogParams records several parameters in one transaction: all or none.
func (r *Run) LogParams(params map[string]interface{}) error {
	ps, err := formatParams(params)
	if err != nil {
		return fmt.Errorf("tracking: run %s: %w", r.id, err)
	}
	r.mu.Lock()
	err = r.checkOpenLocked()
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if err := r.store.writeTx(func(tx *sql.Tx) error { return insertParams(tx, r.id, ps) }); err != nil {
		return r.store.wrap("log params in", err)
	}
	return nil
}

type kv struct{ k, v string }

func formatParams(m map[string]interface{}) ([]kv, error) {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		if k == "" {
			return nil, errors.New("empty param key")
		}
		out = append(out, kv{k, FormatValue(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].k < out[j].k })
	return out, nil
}

// FormatValue formats a parameter value the way LogParam stores it.
func FormatValue(v interface{}) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

func insertParams(tx *sql.Tx, runID string, ps []kv) error {
	for _, p := range ps {
		res, err := tx.Exec(`INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT(run_id, key) DO NOTHING`, runID, p.k, p.v)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			continue
		}
		var old string
		if err := tx.QueryRow(`SELECT value FROM params WHERE run_id = ? AND key = ?`, runID, p.k).Scan(&old); err != nil {
			return err
		}
		if old != p.v {
			return fmt.Errorf("param %q is already %q; a run's params cannot change (start a new run for %q)", p.k, old, p.v)
		}
	}
	return nil
}

// SetTag sets a tag, replacing an earlier value of the same key.
func (r *Run) SetTag(key, value string) error {
	return r.SetTags(map[string]string{key: value})
}

// SetTags sets several tags in one transaction.
func (r *Run) SetTags(tags map[string]string) error {
	for k := range tags {
		if k == "" {
			return fmt.Errorf("tracking: run %s: empty tag key", r.id)
		}
	}
	r.mu.Lock()
	err := r.checkOpenLocked()
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if err := r.store.writeTx(func(tx *sql.Tx) error { return upsertTags(tx, r.id, tags) }); err != nil {
		return r.store.wrap("set tags in", err)
	}
	return nil
}

func upsertTags(tx *sql.Tx, runID string, tags map[string]string) error {
	for k, v := range tags {
		if _, err := tx.Exec(`INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)
			ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value`, runID, k, v); err != nil {
			return err
		}
	}
	return nil
}

// SetSeed records the random seed the run used.
func (r *Run) SetSeed(seed int64) error {
	return r.update("set seed in", `UPDATE runs SET seed = ? WHERE id = ?`, seed)
}

// rename gives the run another name: autologged long work, started
// before its parameters were known, gets the name they make.
func (r *Run) rename(name string) error {
	return r.update("rename run in", `UPDATE runs SET name = ? WHERE id = ?`, name)
}

// update sets a column of the open run's row with query, whose
// arguments are the value and the run's id.
func (r *Run) update(what, query string, value any) error {
	r.mu.Lock()
	err := r.checkOpenLocked()
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if err := r.store.writeTx(func(tx *sql.Tx) error {
		_, err := tx.Exec(query, value, r.id)
		return err
	}); err != nil {
		return r.store.wrap(what, err)
	}
	return nil
}

// LogMetric records one point of a metric's history. It only appends to
// an in-memory buffer; the buffer is written in one transaction when it
// holds the store's batch size of points, when the flush interval has
// passed, and on Flush and End. A NaN value is stored as NULL and reads
// back as NaN; ±Inf are kept.
func (r *Run) LogMetric(key string, value float64, step int) error {
	if key == "" {
		return fmt.Errorf("tracking: run %s: empty metric key", r.id)
	}
	ts := time.Now().UnixMilli()
	r.mu.Lock()
	if err := r.checkOpenLocked(); err != nil {
		r.mu.Unlock()
		return err
	}
	r.buf = append(r.buf, point{key, value, int64(step), ts})
	full := len(r.buf) >= r.batchSize
	if !full && !r.armed && r.interval > 0 {
		r.armed = true
		time.AfterFunc(r.interval, r.timedFlush)
	}
	r.mu.Unlock()
	if full {
		return r.Flush()
	}
	return nil
}

// LogMetrics records several metrics at the same step.
func (r *Run) LogMetrics(metrics map[string]float64, step int) error {
	keys := make([]string, 0, len(metrics))
	for k := range metrics {
		if k == "" {
			return fmt.Errorf("tracking: run %s: empty metric key", r.id)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ts := time.Now().UnixMilli()
	r.mu.Lock()
	if err := r.checkOpenLocked(); err != nil {
		r.mu.Unlock()
		return err
	}
	for _, k := range keys {
		r.buf = append(r.buf, point{k, metrics[k], int64(step), ts})
	}
	full := len(r.buf) >= r.batchSize
	if !full && !r.armed && r.interval > 0 {
		r.armed = true
		time.AfterFunc(r.interval, r.timedFlush)
	}
	r.mu.Unlock()
	if full {
		return r.Flush()
	}
	return nil
}

func (r *Run) timedFlush() {
	r.mu.Lock()
	r.armed = false
	r.mu.Unlock()
	if err := r.Flush(); err != nil {
		r.mu.Lock()
		if r.bgErr == nil && !errors.Is(err, ErrClosed) {
			r.bgErr = err
		}
		r.mu.Unlock()
	}
}

// Flush writes the buffered metric points now. On failure the points stay
// buffered and are written by a later flush.
func (r *Run) Flush() error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	pts := r.buf
	r.buf = r.spare[:0]
	r.spare = nil
	r.mu.Unlock()
	if len(pts) == 0 {
		return nil
	}
	err := r.store.writeMetrics(r.id, pts)
	r.mu.Lock()
	if err != nil {
		// Keep the order: the failed points go before anything logged
		// meanwhile.
		r.buf = append(pts, r.buf...)
	} else if r.spare == nil && cap(pts) <= 4*r.batchSize {
		r.spare = pts[:0]
	}
	r.mu.Unlock()
	return err
}

// metricsChunk is how many rows one multi-row INSERT carries: it divides
// the per-statement cost of database/sql and cgo by that many rows.
const metricsChunk = 100

func (s *Store) writeMetrics(runID string, pts []point) error {
	if s.isClosed() {
		return fmt.Errorf("tracking: write metrics: %w", ErrClosed)
	}
	// The latest point of each key in this batch: highest step, then
	// newest timestamp, then last logged.
	latest := make(map[string]int, 4)
	for i, p := range pts {
		j, ok := latest[p.key]
		if !ok || p.step > pts[j].step || (p.step == pts[j].step && p.ts >= pts[j].ts) {
			latest[p.key] = i
		}
	}
	keys := make([]string, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := make([]interface{}, 0, 5*metricsChunk)
	err := s.writeTx(func(tx *sql.Tx) error {
		rest := pts
		if len(rest) >= metricsChunk {
			stmt, err := tx.Prepare(insertMetricsSQL(metricsChunk))
			if err != nil {
				return err
			}
			for len(rest) >= metricsChunk {
				args = metricArgs(args[:0], runID, rest[:metricsChunk])
				if _, err := stmt.Exec(args...); err != nil {
					stmt.Close()
					return err
				}
				rest = rest[metricsChunk:]
			}
			stmt.Close()
		}
		if len(rest) > 0 {
			args = metricArgs(args[:0], runID, rest)
			if _, err := tx.Exec(insertMetricsSQL(len(rest)), args...); err != nil {
				return err
			}
		}
		for _, k := range keys {
			p := pts[latest[k]]
			if _, err := tx.Exec(`INSERT INTO latest_metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value, step = excluded.step, timestamp = excluded.timestamp
				WHERE excluded.step > latest_metrics.step
				   OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)`,
				runID, p.key, metricValue(p.value), p.step, p.ts); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.wrap("write metrics to", err)
	}
	return nil
}

var insertSQLCache sync.Map // int -> string

func insertMetricsSQL(n int) string {
	if v, ok := insertSQLCache.Load(n); ok {
		return v.(string)
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?)")
	}
	q := b.String()
	insertSQLCache.Store(n, q)
	return q
}

func metricArgs(args []interface{}, runID string, pts []point) []interface{} {
	for _, p := range pts {
		args = append(args, runID, p.key, metricValue(p.value), p.step, p.ts)
	}
	return args
}

// metricValue maps NaN to NULL explicitly (SQLite would do the same).
func metricValue(v float64) interface{} {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

// Finish ends the run as FINISHED.
func (r *Run) Finish() error { return r.End(StatusFinished) }

// Fail ends the run as FAILED and records err's message. A run that has
// already ended is not changed: Fail then returns an error wrapping
// ErrRunEnded that says how it ended. To mark a FINISHED run FAILED after
// the fact (a check made later found its result wrong), use
// Store.FailFinishedRun.
func (r *Run) Fail(err error) error {
	msg := "failed"
	if err != nil {
		msg = err.Error()
	}
	return r.end(StatusFailed, msg)
}

// failEnded is the error of Fail on a run that ended with status.
func (r *Run) failEnded(status string) error {
	switch status {
	case StatusFinished:
		return fmt.Errorf("tracking: run %s: cannot fail it: %w as FINISHED (Store.FailFinishedRun marks a finished run FAILED)", r.id, ErrRunEnded)
	case StatusFailed:
		return fmt.Errorf("tracking: run %s: cannot fail it again: %w as FAILED with its own error", r.id, ErrRunEnded)
	}
	return fmt.Errorf("tracking: run %s: cannot fail it: %w as %s (Store.FailRun marks an ended run FAILED)", r.id, ErrRunEnded, status)
}

// End writes the buffered metrics and ends the run with status FINISHED,
// FAILED or KILLED. Ending a run that has already ended does nothing.
func (r *Run) End(status string) error {
	return r.end(status, "")
}

func (r *Run) end(status, msg string) error {
	switch status {
	case StatusFinished, StatusFailed, StatusKilled:
	default:
		return fmt.Errorf("tracking: run %s: cannot end with status %q (want FINISHED, FAILED or KILLED)", r.id, status)
	}
	// Hold flushMu across the final flush and the status change so no
	// timer flush can slip in between.
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	if r.ended {
		ended := r.status
		r.mu.Unlock()
		if status == StatusFailed && msg != "" {
			return r.failEnded(ended)
		}
		return nil
	}
	r.ended = true
	pts := r.buf
	r.buf = nil
	bgErr := r.bgErr
	r.bgErr = nil
	r.mu.Unlock()

	var flushErr error
	if len(pts) > 0 {
		flushErr = r.store.writeMetrics(r.id, pts)
	}
	if flushErr != nil && status == StatusFinished {
		status, msg = StatusFailed, "metrics could not be written: "+flushErr.Error()
	}
	end := nowMillis()
	if !r.endTime.IsZero() {
		end = r.endTime.UnixMilli()
	}
	err := r.store.writeTx(func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE runs SET status = ?, end_time = ?, error = ? WHERE id = ? AND status = 'RUNNING'`,
			status, end, msg, r.id)
		return err
	})
	r.mu.Lock()
	if err == nil {
		r.status = status
	} else {
		r.ended = false // let the caller retry
		r.buf = append(pts, r.buf...)
	}
	r.mu.Unlock()
	if err != nil {
		return r.store.wrap("end run in", err)
	}
	r.store.mu.Lock()
	delete(r.store.open, r)
	r.store.mu.Unlock()
	activeRuns.Lock()
	if i := slices.Index(activeRuns.runs, r); i >= 0 {
		activeRuns.runs = slices.Delete(activeRuns.runs, i, i+1)
	}
	activeRuns.Unlock()
	if flushErr != nil {
		return flushErr
	}
	return bgErr
}

// ReapOrphans marks KILLED the RUNNING runs of this host whose process is
// gone (not alive, or its pid now belongs to a newer process). Open calls
// it; call it again to clean up while the store stays open. It returns how
// many runs it marked. A run's end time is then its last recorded
// activity: its newest metric point, artifact, or child run's start or
// end, else its start (the store keeps no heartbeat, and no time for
// params and tags), so its duration is a lower bound, which lists show
// as "≥3.02s".
func (s *Store) ReapOrphans() (int, error) {
	me := self()
	// Newest first, so that child runs (started after their parent)
	// get their end before their parent takes its end from theirs.
	rows, err := s.db.Query(`SELECT id, owner_pid, owner_start, owner_boot, owner_host FROM runs
		WHERE status = 'RUNNING' AND owner_host = ? ORDER BY start_time DESC, rowid DESC`, me.host)
	if err != nil {
		return 0, s.wrap("find orphaned runs in", err)
	}
	type orphan struct {
		id string
		o  owner
	}
	var dead []orphan
	for rows.Next() {
		var x orphan
		if err := rows.Scan(&x.id, &x.o.pid, &x.o.start, &x.o.boot, &x.o.host); err != nil {
			rows.Close()
			return 0, s.wrap("find orphaned runs in", err)
		}
		if x.o.check() == ownerGone {
			dead = append(dead, x)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, s.wrap("find orphaned runs in", err)
	}
	if len(dead) == 0 {
		return 0, nil
	}
	n := 0
	err = s.writeTx(func(tx *sql.Tx) error {
		n = 0
		now := nowMillis()
		for _, d := range dead {
			// The end time is the last sign of life the store has (it
			// keeps no heartbeat, and params and tags no time): the
			// newest metric point, artifact, or start or end of a child
			// run; else the start. Not when the death was found, which
			// may be days later.
			res, err := tx.Exec(`UPDATE runs SET status = 'KILLED',
					end_time = MAX(start_time,
						COALESCE((SELECT MAX(timestamp) FROM metrics WHERE run_id = runs.id), 0),
						COALESCE((SELECT MAX(created) FROM artifacts WHERE run_id = runs.id), 0),
						COALESCE((SELECT MAX(COALESCE(end_time, start_time)) FROM runs c WHERE c.parent_run_id = runs.id), 0)),
					error = ?
				WHERE id = ? AND status = 'RUNNING'`,
				fmt.Sprintf("process %d on %s ended without ending the run (found at %s; the run's end time is its last recorded activity)",
					d.o.pid, d.o.host, time.UnixMilli(now).Format(time.RFC3339)), d.id)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	if err != nil {
		return 0, s.wrap("mark orphaned runs in", err)
	}
	return n, nil
}
