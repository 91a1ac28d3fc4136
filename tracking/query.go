package tracking

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// RunInfo is a recorded run as read back from the store.
type RunInfo struct {
	ID         string             // random UUID (version 4)
	Experiment string             // experiment name
	Name       string             // display name; may be empty, need not be unique
	Status     string             // StatusRunning, StatusFinished, StatusFailed or StatusKilled
	ParentID   string             // parent run (CV fold, grid-search trial); "" for none
	StartTime  time.Time          // millisecond precision
	EndTime    time.Time          // zero while RUNNING; for a run found dead, its last recorded activity
	Error      string             // message of Fail, or why the store failed or killed the run
	Params     map[string]string  // param values as stored (text), by key
	Metrics    map[string]float64 // latest value of each metric
	Tags       map[string]string  // tag values by key

	Source         string            // code that produced the run
	Notebook       string            // notebook path; "" if not known
	ExecutionCount int               // execution count of the cell that ran Source
	GoVersion      string            // runtime.Version() of the process that ran it
	Modules        map[string]string // module path -> version, from the build info or RunOptions.Modules
	Seed           int64             // random seed recorded with SetSeed; valid if HasSeed
	HasSeed        bool              // whether a seed was recorded
	OwnerPID       int               // process that ran it, for crash detection
	OwnerHost      string            // host name of that process
}

// Duration is how long the run lasted, or has lasted so far. A KILLED
// run found dead when a store was opened ends at its last recorded
// activity (see Store.ReapOrphans), so it lasted at least this long.
func (ri *RunInfo) Duration() time.Duration {
	end := ri.EndTime
	if end.IsZero() {
		end = time.Now()
	}
	return end.Sub(ri.StartTime)
}

// ShortID is the first 8 characters of the run id, enough to name a run
// on the command line.
func (ri *RunInfo) ShortID() string { return ShortID(ri.ID) }

// ShortID returns the first 8 characters of a run id or a data
// snapshot's SHA-256, as lists, reports and messages show them.
func ShortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// Label is the run's name, or its short id if it has none.
func (ri *RunInfo) Label() string {
	if ri.Name != "" {
		return ri.Name
	}
	return ri.ShortID()
}

// SearchQuery selects and orders runs.
type SearchQuery struct {
	Experiment string // only runs of this experiment; "" for all
	Filter     string // filter expression (see ParseFilter); "" for all
	OrderBy    string // e.g. "metrics.accuracy DESC, start_time"; default newest first
	Limit      int    // at most this many runs; 0 for no limit
}

// ErrUnknownKey is wrapped by the error of a search whose filter or
// order names a metric, param or tag that no run it searches has.
var ErrUnknownKey = errors.New("no run has the key")

// unknownKeyError names the key, the keys it may have meant, and where.
type unknownKeyError struct{ clause, msg string }

func (e *unknownKeyError) Error() string {
	return "tracking: search runs: " + e.clause + ": " + e.msg
}

func (e *unknownKeyError) Is(target error) bool { return target == ErrUnknownKey }

// SearchRuns returns the runs that match q, fully loaded. It fails as
// SearchRunIDs does.
func (s *Store) SearchRuns(q SearchQuery) ([]RunInfo, error) {
	s.catchUp()
	ids, err := s.SearchRunIDs(q)
	if err != nil {
		return nil, err
	}
	return s.loadRuns(ids)
}

// searchRuns is SearchRuns, checking keys or not (see searchRunIDs).
func (s *Store) searchRuns(q SearchQuery, checkKeys bool) ([]RunInfo, error) {
	s.catchUp()
	ids, err := s.searchRunIDs(q, checkKeys)
	if err != nil {
		return nil, err
	}
	return s.loadRuns(ids)
}

// SearchRunIDs returns the ids of the runs that match q, in order.
//
// A metric, param or tag that no run of q.Experiment (of any experiment
// if "") has is most likely misspelt, and would silently match nothing
// or sort nothing; it is an error wrapping ErrUnknownKey that names it
// and the keys it may have meant ("did you mean
// metrics.mean_accuracy?"), in q.OrderBy and in q.Filter alike. A key
// that only some runs have is no error (a filter on it matches none of
// the others, as in MLflow), nor is a key in an "IS NULL" test (all runs
// lack it: all match), nor any key when no run is searched. A program
// that polls for runs still to log a key can take
// errors.Is(err, ErrUnknownKey) as "none yet".
func (s *Store) SearchRunIDs(q SearchQuery) ([]string, error) {
	return s.searchRunIDs(q, true)
}

// searchRunIDs is SearchRunIDs; checkKeys false lets keys no run has
// through, for the CLI, which says so in its own words.
func (s *Store) searchRunIDs(q SearchQuery, checkKeys bool) ([]string, error) {
	s.catchUp()
	f, err := ParseFilter(q.Filter)
	if err != nil {
		return nil, err
	}
	terms, err := parseOrder(q.OrderBy)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.Msg = "order: " + pe.Msg
		}
		return nil, err
	}
	if checkKeys {
		keys := &keyCheck{s: s, experiment: q.Experiment}
		for _, c := range []struct {
			clause string
			fields []fieldRef
		}{{"filter", filterFields(f, true)}, {"order", orderFields(terms)}} {
			for _, field := range c.fields {
				msg, err := keys.unknown(field)
				if err != nil {
					return nil, err
				}
				if msg != "" {
					return nil, &unknownKeyError{c.clause, msg}
				}
			}
		}
	}
	where, args := f.where()
	if q.Experiment != "" {
		where = "e.name = ? AND " + where
		args = append([]interface{}{q.Experiment}, args...)
	}
	order, oargs := orderSQL(terms)
	args = append(args, oargs...)
	query := "SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE " + where + " ORDER BY " + order
	if q.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, q.Limit)
	}
	rows, err := s.db.Query(query, args...)
	if err != nil {
		return nil, s.wrap("search runs in", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.wrap("search runs in", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("search runs in", err)
	}
	return ids, nil
}

// ResolveRunID returns the full id of the run whose id is or starts with
// prefix.
func (s *Store) ResolveRunID(prefix string) (string, error) {
	s.catchUp()
	prefix = strings.ToLower(strings.TrimSpace(prefix))
	if prefix == "" {
		return "", fmt.Errorf("tracking: empty run id")
	}
	rows, err := s.db.Query(`SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 2`, prefix, prefix+"\xff")
	if err != nil {
		return "", s.wrap("find run in", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", s.wrap("find run in", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return "", s.wrap("find run in", err)
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("tracking: run %s: %w", prefix, ErrNotFound)
	case 1:
		return ids[0], nil
	}
	shown := ids[:min(len(ids), 5)]
	more := ""
	if len(ids) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(ids)-len(shown))
	}
	return "", fmt.Errorf("tracking: run id %q is ambiguous: runs %s%s start with it; give more characters", prefix, strings.Join(shown, ", "), more)
}

// runID returns the full id of the run id names, which may be a unique
// prefix as the CLI shows ids. A full-length id is taken as it is,
// without a query: loops over known runs pay nothing.
func (s *Store) runID(id string) (string, error) {
	if len(id) == len("00000000-0000-4000-8000-000000000000") {
		return strings.ToLower(id), nil
	}
	return s.ResolveRunID(id)
}

// GetRun returns a run by id or unique id prefix.
func (s *Store) GetRun(id string) (*RunInfo, error) {
	s.catchUp()
	full, err := s.ResolveRunID(id)
	if err != nil {
		return nil, err
	}
	runs, err := s.loadRuns([]string{full})
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("tracking: run %s: %w", id, ErrNotFound)
	}
	return &runs[0], nil
}

// Children returns the runs whose parent is runID (an id or unique id
// prefix), oldest first.
func (s *Store) Children(runID string) ([]RunInfo, error) {
	s.catchUp()
	runID, err := s.runID(runID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(`SELECT id FROM runs WHERE parent_run_id = ? ORDER BY start_time, rowid`, runID)
	if err != nil {
		return nil, s.wrap("list child runs in", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, s.wrap("list child runs in", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list child runs in", err)
	}
	return s.loadRuns(ids)
}

// loadRuns reads runs with their params, latest metrics and tags, in the
// order of ids.
func (s *Store) loadRuns(ids []string) ([]RunInfo, error) {
	out := make([]RunInfo, 0, len(ids))
	const chunk = 400
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		part, err := s.loadRunChunk(ids[:n])
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
		ids = ids[n:]
	}
	return out, nil
}

func (s *Store) loadRunChunk(ids []string) ([]RunInfo, error) {
	in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")"
	args := make([]interface{}, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	byID := make(map[string]*RunInfo, len(ids))
	runs := make([]RunInfo, 0, len(ids))
	rows, err := s.db.Query(`SELECT r.id, e.name, r.name, r.status, COALESCE(r.parent_run_id, ''), r.start_time, r.end_time,
			r.error, r.source, r.notebook, r.execution_count, r.go_version, r.modules, r.seed, r.owner_pid, r.owner_host
		FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id IN `+in, args...)
	if err != nil {
		return nil, s.wrap("load runs from", err)
	}
	for rows.Next() {
		var ri RunInfo
		var start int64
		var end, seed sql.NullInt64
		var modules string
		if err := rows.Scan(&ri.ID, &ri.Experiment, &ri.Name, &ri.Status, &ri.ParentID, &start, &end,
			&ri.Error, &ri.Source, &ri.Notebook, &ri.ExecutionCount, &ri.GoVersion, &modules, &seed, &ri.OwnerPID, &ri.OwnerHost); err != nil {
			rows.Close()
			return nil, s.wrap("load runs from", err)
		}
		ri.StartTime = millisTime(start)
		if end.Valid {
			ri.EndTime = millisTime(end.Int64)
		}
		ri.Seed, ri.HasSeed = seed.Int64, seed.Valid
		ri.Modules = map[string]string{}
		if modules != "" {
			_ = json.Unmarshal([]byte(modules), &ri.Modules) // informational only
		}
		ri.Params = map[string]string{}
		ri.Metrics = map[string]float64{}
		ri.Tags = map[string]string{}
		runs = append(runs, ri)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.wrap("load runs from", err)
	}
	for i := range runs {
		byID[runs[i].ID] = &runs[i]
	}
	for _, t := range []struct {
		table string
		put   func(ri *RunInfo, k string, v sql.NullString, f sql.NullFloat64)
	}{
		{"params", func(ri *RunInfo, k string, v sql.NullString, _ sql.NullFloat64) { ri.Params[k] = v.String }},
		{"tags", func(ri *RunInfo, k string, v sql.NullString, _ sql.NullFloat64) { ri.Tags[k] = v.String }},
		{"latest_metrics", func(ri *RunInfo, k string, _ sql.NullString, f sql.NullFloat64) {
			if f.Valid {
				ri.Metrics[k] = f.Float64
			} else {
				ri.Metrics[k] = math.NaN()
			}
		}},
	} {
		rows, err := s.db.Query(`SELECT run_id, key, value FROM `+t.table+` WHERE run_id IN `+in, args...)
		if err != nil {
			return nil, s.wrap("load runs from", err)
		}
		for rows.Next() {
			var id, k string
			var sv sql.NullString
			var fv sql.NullFloat64
			var err error
			if t.table == "latest_metrics" {
				err = rows.Scan(&id, &k, &fv)
			} else {
				err = rows.Scan(&id, &k, &sv)
			}
			if err != nil {
				rows.Close()
				return nil, s.wrap("load runs from", err)
			}
			if ri := byID[id]; ri != nil {
				t.put(ri, k, sv, fv)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, s.wrap("load runs from", err)
		}
	}
	// Back in the order asked for.
	ordered := make([]RunInfo, 0, len(runs))
	for _, id := range ids {
		if ri := byID[id]; ri != nil {
			ordered = append(ordered, *ri)
		}
	}
	return ordered, nil
}

// ExperimentInfo summarizes an experiment.
type ExperimentInfo struct {
	ID      int64     // database id
	Name    string    // unique name
	Created time.Time // when its first run was started (ms precision)
	Runs    int       // number of runs, children included
}

// Experiments lists the experiments by name.
func (s *Store) Experiments() ([]ExperimentInfo, error) {
	s.catchUp()
	rows, err := s.db.Query(`SELECT e.id, e.name, e.created, (SELECT COUNT(*) FROM runs r WHERE r.experiment_id = e.id)
		FROM experiments e ORDER BY e.name`)
	if err != nil {
		return nil, s.wrap("list experiments in", err)
	}
	defer rows.Close()
	var out []ExperimentInfo
	for rows.Next() {
		var e ExperimentInfo
		var created int64
		if err := rows.Scan(&e.ID, &e.Name, &created, &e.Runs); err != nil {
			return nil, s.wrap("list experiments in", err)
		}
		e.Created = millisTime(created)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list experiments in", err)
	}
	return out, nil
}

// MetricSeries is the history of one metric of one run, ordered by step
// (then time). It implements gonum/plot's plotter.XYer (x = step,
// y = value), so plotter.NewLine(series) draws it.
type MetricSeries struct {
	RunID  string      // run the metric belongs to
	Key    string      // metric name
	Steps  []int       // step of each point
	Values []float64   // value of each point; NaN where NaN was logged
	Times  []time.Time // when each point was logged (ms precision)
}

// Len returns the number of points.
func (m *MetricSeries) Len() int { return len(m.Values) }

// XY returns the step and value of point i.
func (m *MetricSeries) XY(i int) (x, y float64) { return float64(m.Steps[i]), m.Values[i] }

// MetricHistory returns every logged point of a metric of a run (an id or
// unique id prefix). Points still buffered in a live Run are not included
// until it flushes.
func (s *Store) MetricHistory(runID, key string) (*MetricSeries, error) {
	s.catchUp()
	runID, err := s.runID(runID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(`SELECT value, step, timestamp FROM metrics WHERE run_id = ? AND key = ?
		ORDER BY step, timestamp, rowid`, runID, key)
	if err != nil {
		return nil, s.wrap("read metric history from", err)
	}
	defer rows.Close()
	m := &MetricSeries{RunID: runID, Key: key}
	for rows.Next() {
		var v sql.NullFloat64
		var step, ts int64
		if err := rows.Scan(&v, &step, &ts); err != nil {
			return nil, s.wrap("read metric history from", err)
		}
		val := math.NaN()
		if v.Valid {
			val = v.Float64
		}
		m.Steps = append(m.Steps, int(step))
		m.Values = append(m.Values, val)
		m.Times = append(m.Times, millisTime(ts))
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("read metric history from", err)
	}
	return m, nil
}

// MetricKeys returns the names of the metrics a run (an id or unique id
// prefix) logged, sorted.
func (s *Store) MetricKeys(runID string) ([]string, error) {
	s.catchUp()
	runID, err := s.runID(runID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(`SELECT key FROM latest_metrics WHERE run_id = ? ORDER BY key`, runID)
	if err != nil {
		return nil, s.wrap("list metrics in", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, s.wrap("list metrics in", err)
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// MetricCount returns how many points of each metric a run (an id or
// unique id prefix) has stored.
func (s *Store) MetricCount(runID string) (map[string]int, error) {
	s.catchUp()
	runID, err := s.runID(runID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(`SELECT key, COUNT(*) FROM metrics WHERE run_id = ? GROUP BY key`, runID)
	if err != nil {
		return nil, s.wrap("count metrics in", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, s.wrap("count metrics in", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}

// sortedKeys returns the keys of the maps, merged and sorted.
func sortedKeys(maps ...map[string]string) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range maps {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}
