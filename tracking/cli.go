package tracking

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const runsUsage = `usage: gopherlab runs <command> [flags] [args]

Commands:
  list                 list runs, newest first, each with its child runs (CV
                       folds, grid-search trials) under it
  show RUN             show one run: params, metrics, tags, artifacts, datasets, code
  compare RUN...       params and latest metrics of the runs side by side
  export               write runs (or metric histories with -history) as CSV or JSON
  experiments          list experiments with their number of top-level runs
                       and of child runs

RUN is a run id or a unique prefix of it (8 characters are shown by list).

Flags:
  -db PATH             tracking database (default $GOPHERLAB_DB or ./gopherlab.db)
  -experiment NAME     only runs of this experiment
  -filter EXPR         e.g. 'metrics.accuracy > 0.9 and (params.model = "forest" or params.model = "knn")'
  -order EXPR          e.g. 'metrics.accuracy DESC, start_time'
  -limit N             at most N runs (list: default 50 top-level runs, each
                       with up to 10 child runs; 0 for all)
  -flat                list: child runs as rows of their own, ordered and
                       limited with the others, instead of under their parent
  -columns LIST        extra list columns, e.g. metrics.accuracy,params.model
  -format FORMAT       table, json or csv (compare also: html); json and csv
                       keep full ids, every digit, every metric, seconds, and
                       list runs flat (as -flat), each with its parent_run_id
  -history             export: one row per metric point instead of one per run

Filters compare metrics.X (latest value), params.X, tags.X and the attributes
run_id, name, status, experiment, parent_run_id, start_time, end_time, duration,
error, notebook, execution_count, source, go_version, seed with = != < <= > >=,
LIKE, ILIKE, IN (...), IS [NOT] NULL, combined with AND, OR, NOT and parentheses.
run_id and parent_run_id take the short ids list shows (= and != compare a prefix).
A run without a metric, param or tag satisfies no comparison on it, as in SQL:
params.model != "knn" leaves it out, NOT params.model = "knn" and IS NULL select it.
A number compares with a param or tag that reads as one, numerically.
A metric, param or tag that no run has is an error in -order and -columns,
and named, with the keys closest to it, when a filter matches no run.
A run whose process died is marked KILLED when a store is next opened, ending
at its last recorded activity: its duration is a lower bound (list shows ≥).

A database in a directory you cannot write is read read-only.
`

type runsFlags struct {
	db, experiment, filter, order, columns, format string
	limit                                          int
	history, flat                                  bool
}

// RunsCommand implements "gopherlab runs list|show|compare|export|experiments".
// args are the words after "runs"; output goes to stdout.
func RunsCommand(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		io.WriteString(stdout, runsUsage)
		if len(args) == 0 {
			return errors.New("runs: missing command (list, show, compare, export, experiments)")
		}
		return nil
	}
	cmd := args[0]
	var f runsFlags
	fs := flag.NewFlagSet("runs "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.db, "db", DefaultDBPath(), "")
	fs.StringVar(&f.experiment, "experiment", "", "")
	fs.StringVar(&f.filter, "filter", "", "")
	fs.StringVar(&f.order, "order", "", "")
	fs.StringVar(&f.columns, "columns", "", "")
	fs.StringVar(&f.format, "format", "", "")
	fs.IntVar(&f.limit, "limit", -1, "")
	fs.BoolVar(&f.history, "history", false, "")
	fs.BoolVar(&f.flat, "flat", false, "")
	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		io.WriteString(stdout, runsUsage)
		return nil
	}
	if err == nil && f.limit < 0 && flagSet(fs, "limit") {
		err = fmt.Errorf("-limit %d: want 0 (all runs) or more", f.limit)
	}
	if err != nil {
		return fmt.Errorf("runs %s: %v (see gopherlab runs help)", cmd, err)
	}
	if err := checkOrder(f.order); err != nil {
		return fmt.Errorf("runs %s: %w", cmd, explain(err))
	}
	run := map[string]func(*Store, runsFlags, []string, io.Writer) error{
		"list":        runsList,
		"ls":          runsList,
		"show":        runsShow,
		"compare":     runsCompare,
		"export":      runsExport,
		"experiments": runsExperiments,
	}[cmd]
	if run == nil {
		return fmt.Errorf("runs: unknown command %q (want list, show, compare, export or experiments)", cmd)
	}
	// Buffer so a failure does not leave half a table behind.
	var out bytes.Buffer
	err = readStore(f.db, func(s *Store) error {
		out.Reset()
		return run(s, f, pos, &out)
	})
	var oe *openError
	if errors.As(err, &oe) {
		return oe.err
	}
	if err != nil {
		return fmt.Errorf("runs %s: %w", cmd, explain(err))
	}
	_, err = stdout.Write(out.Bytes())
	return err
}

// openError is a failure to open the database, which needs no command
// name in front of it.
type openError struct{ err error }

func (e *openError) Error() string { return e.err.Error() }
func (e *openError) Unwrap() error { return e.err }

// readStore calls read with the database at path, which must already
// exist: a command that only reads should not create an empty database
// by accident. Where this process cannot write the database's directory
// it is read read-only (see openForReading); if it was read without
// locks and a writer changed it meanwhile, read runs again, since what
// it saw may be inconsistent.
func readStore(path string, read func(s *Store) error) error {
	for attempt := 1; ; attempt++ {
		s, err := OpenExisting(path)
		if err != nil {
			return &openError{err}
		}
		err = read(s)
		changed := s.changedSinceOpen()
		s.Close()
		if !changed {
			return err
		}
		if attempt == 3 {
			return fmt.Errorf("%s changed while it was read without locks (its directory is not writable, so this process cannot take SQLite's read locks): try again", s.Path())
		}
	}
}

// checkExperiment fails, naming the experiments there are, when the
// store has no experiment called name.
func checkExperiment(s *Store, name string) error {
	exps, err := s.Experiments()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(exps))
	for _, e := range exps {
		if e.Name == name {
			return nil
		}
		names = append(names, e.Name)
	}
	if len(names) == 0 {
		return fmt.Errorf("no experiment %q: %s has no experiments yet", name, s.Path())
	}
	return fmt.Errorf("no experiment %q in %s (experiments: %s)", name, s.Path(), strings.Join(names, ", "))
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// flagError is a parse error in the value of a flag other than -filter,
// named after the flag (a ParseError says "filter").
type flagError struct {
	flag string
	*ParseError
}

func (e *flagError) Error() string {
	return fmt.Sprintf("%s: column %d: %s", e.flag, e.Column(), e.Msg)
}

func (e *flagError) Unwrap() error { return e.ParseError }

// checkOrder validates -order before the search does, so that its errors
// are named after the flag; it also refuses the trailing comma that
// parseOrder lets through, which usually means a term was lost.
func checkOrder(order string) error {
	if _, err := parseOrder(order); err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return &flagError{"-order", pe}
		}
		return fmt.Errorf("-order: %w", err)
	}
	l := lexer{in: order}
	var last token
	for {
		t, err := l.next()
		if err != nil || t.kind == tEOF {
			break
		}
		last = t
	}
	if last.kind == tComma {
		return &flagError{"-order", &ParseError{Input: order, Offset: last.pos, Msg: `expected a field after ","`}}
	}
	return nil
}

// explain adds the caret line to filter errors.
func explain(err error) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%w\n  %s", err, strings.ReplaceAll(pe.Context(), "\n", "\n  "))
	}
	return err
}

// parseInterspersed parses flags that may come before, between or after
// positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func checkFormat(format string, allowed ...string) (string, error) {
	if format == "" {
		return allowed[0], nil
	}
	for _, a := range allowed {
		if format == a {
			return format, nil
		}
	}
	return "", fmt.Errorf("-format %s: want %s", format, strings.Join(allowed, ", "))
}

func runsList(s *Store, f runsFlags, pos []string, w io.Writer) error {
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q (filters go in -filter)", pos[0])
	}
	format, err := checkFormat(f.format, "table", "json", "csv")
	if err != nil {
		return err
	}
	limit := f.limit
	if limit < 0 {
		limit = 50
	}
	if f.experiment != "" {
		if err := checkExperiment(s, f.experiment); err != nil {
			return err
		}
	}
	keys := &keyCheck{s: s, experiment: f.experiment}
	if err := keys.checkOrder(f.order); err != nil {
		return err
	}
	if f.columns != "" {
		cols, err := parseColumns(f.columns)
		if err != nil {
			return err
		}
		if err := keys.check("-columns", cols); err != nil {
			return err
		}
	}
	if format == "table" {
		return listTable(s, f, limit, keys, w)
	}
	runs, err := s.searchRuns(SearchQuery{Experiment: f.experiment, Filter: f.filter, OrderBy: f.order, Limit: limit}, false)
	if err != nil {
		return err
	}
	cols, _, err := listColumns(f, runs, false)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(w, runsJSON(runs))
	}
	head := append([]string{"run_id", "experiment", "name", "status", "parent_run_id", "start_time", "end_time", "duration_seconds"}, colNames(cols)...)
	rows := [][]string{head}
	for i := range runs {
		r := &runs[i]
		row := []string{r.ID, r.Experiment, r.Name, r.Status, r.ParentID, formatTime(r.StartTime), formatTime(r.EndTime), formatSeconds(r.Duration())}
		for _, c := range cols {
			row = append(row, fieldData(c, r))
		}
		rows = append(rows, row)
	}
	return writeCSV(w, rows)
}

// maxListChildren is how many child runs of one parent a nested table
// shows unless -limit 0 asks for all: a 60-candidate grid search would
// otherwise bury the runs around it.
const maxListChildren = 10

// listTable writes runs list as a table for people. Unless -flat, the
// order and limit apply to top-level runs, each followed by its
// matching child runs, nested: children are parts of their parent (CV
// folds, grid-search trials) and mean little out of its context.
func listTable(s *Store, f runsFlags, limit int, keys *keyCheck, w io.Writer) error {
	ids, err := s.searchRunIDs(SearchQuery{Experiment: f.experiment, Filter: f.filter, OrderBy: f.order}, false)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		fmt.Fprintln(w, "no runs match")
		// A misspelt key matches nothing; a filter that may match
		// nothing on purpose (metrics.x IS NULL) is no error.
		filter, err := ParseFilter(f.filter)
		if err != nil {
			return err
		}
		for _, field := range filterFields(filter, false) {
			msg, err := keys.unknown(field)
			if err != nil {
				return err
			}
			if msg != "" {
				fmt.Fprintf(w, "(-filter: %s)\n", msg)
			}
		}
		return nil
	}
	parent, err := parentIDs(s)
	if err != nil {
		return err
	}
	var notes []string
	flat := f.flat
	if !flat {
		only, both, field, err := childOrder(s, f.order, ids, parent)
		if err != nil {
			return err
		}
		switch {
		case only:
			flat = true
			notes = append(notes, fmt.Sprintf("(-order %s: only child runs have it, so runs are listed flat)", field))
		case both:
			notes = append(notes, fmt.Sprintf("(-order %s sorts top-level runs, and child runs under their parent; -flat sorts them all together)", field))
		}
	}

	var plan []listRow
	total := len(ids)
	if flat {
		for _, id := range ids {
			plan = append(plan, listRow{id: id})
		}
		if limit > 0 && len(plan) > limit {
			plan = plan[:limit]
		}
	} else {
		// Ancestors brought in by their matching children are ranked
		// where the order puts them among all runs.
		rank := make(map[string]int, len(ids))
		for i, id := range ids {
			rank[id] = i
		}
		for _, id := range ids {
			if p := parent[id]; p != "" {
				if _, ok := rank[p]; !ok {
					all, err := s.searchRunIDs(SearchQuery{OrderBy: f.order}, false)
					if err != nil {
						return err
					}
					for i, id := range all {
						rank[id] = i
					}
					break
				}
			}
		}
		maxKids := maxListChildren
		if limit == 0 {
			maxKids = 0
		}
		plan, total = nestRuns(ids, parent, rank, f.order == "", limit, maxKids)
	}

	load := make([]string, 0, len(plan))
	for _, p := range plan {
		if p.more == 0 {
			load = append(load, p.id)
		}
	}
	runs, err := s.loadRuns(load)
	if err != nil {
		return err
	}
	byID := make(map[string]*RunInfo, len(runs))
	for i := range runs {
		byID[runs[i].ID] = &runs[i]
	}
	// A table shows a few metrics; data for programs has all of them.
	cols, hidden, err := listColumns(f, runs, true)
	if err != nil {
		return err
	}
	counts, err := metricCounts(s, load)
	if err != nil {
		return err
	}
	withParent := false
	if flat {
		for _, r := range runs {
			withParent = withParent || r.ParentID != ""
		}
	}
	head := []string{"RUN", "EXPERIMENT", "NAME", "STATUS", "STARTED", "DURATION"}
	if withParent {
		head = slices.Insert(head, 3, "PARENT")
	}
	rows := [][]string{append(head, colNames(cols)...)}
	var context, foldedIn []string
	folded := 0
	for _, p := range plan {
		indent := strings.Repeat("  ", p.depth)
		if p.more > 0 {
			row := make([]string, len(rows[0]))
			row[2] = fmt.Sprintf("%s(+%d more)", indent, p.more)
			rows = append(rows, row)
			folded += p.more
			foldedIn = append(foldedIn, p.id)
			continue
		}
		r := byID[p.id]
		if r == nil { // deleted since the search
			continue
		}
		if p.context {
			context = append(context, escapeControl(r.Label(), false))
		}
		row := []string{r.ShortID(), r.Experiment, indent + r.Name, r.Status, r.StartTime.Local().Format("2006-01-02 15:04:05"), durationText(r)}
		if withParent {
			row = slices.Insert(row, 3, ShortID(r.ParentID))
		}
		rows = append(rows, append(row, colValues(cols, r, counts)...))
	}
	var b strings.Builder
	writeTable(&b, rows)
	io.WriteString(w, b.String())
	if strings.Contains(b.String(), "(last of ") {
		fmt.Fprintln(w, lastOfNote)
	}
	if shown := countShown(plan, flat); shown < total {
		what := "runs"
		if !flat {
			what = "top-level runs"
		}
		fmt.Fprintf(w, "(first %d of %d %s; -limit 0 shows all)\n", shown, total, what)
	}
	if folded > 0 {
		id := "ID"
		if len(foldedIn) == 1 {
			id = foldedIn[0]
		}
		fmt.Fprintf(w, "(%d child runs not shown; -limit 0 shows all, -flat -filter 'parent_run_id = \"%s\"' those of one run)\n", folded, id)
	}
	if len(context) > 0 {
		if len(context) > 5 {
			context = append(context[:4], fmt.Sprintf("and %d more", len(context)-4))
		}
		fmt.Fprintf(w, "(shown as the parent of matching runs, not matching the filter: %s)\n", strings.Join(context, ", "))
	}
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	if len(hidden) > 0 {
		fmt.Fprintf(w, "(metrics not shown: %s; -columns picks them, -format csv has all)\n", escapeControl(strings.Join(hidden, ", "), false))
	}
	return nil
}

// countShown is how many of the runs a limit applies to a plan shows:
// all of them in a flat list, else the top-level ones.
func countShown(plan []listRow, flat bool) int {
	n := 0
	for _, p := range plan {
		if flat || p.depth == 0 && p.more == 0 {
			n++
		}
	}
	return n
}

// parentIDs maps each child run in the store to its parent.
func parentIDs(s *Store) (map[string]string, error) {
	rows, err := s.db.Query(`SELECT id, parent_run_id FROM runs WHERE parent_run_id IS NOT NULL`)
	if err != nil {
		return nil, s.wrap("read parent runs from", err)
	}
	defer rows.Close()
	parent := map[string]string{}
	for rows.Next() {
		var id, p string
		if err := rows.Scan(&id, &p); err != nil {
			return nil, s.wrap("read parent runs from", err)
		}
		parent[id] = p
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("read parent runs from", err)
	}
	return parent, nil
}

// childOrder tells whether the first -order term is a metric, param or
// tag that, among the matching runs, only child runs have (only), or
// both top-level and child runs have (both); field names it.
func childOrder(s *Store, order string, ids []string, parent map[string]string) (only, both bool, field string, err error) {
	terms, err := parseOrder(order)
	if err != nil || len(terms) == 0 || terms[0].f.kind == fAttr {
		return false, false, "", err
	}
	have, err := runsWithKey(s, terms[0].f)
	if err != nil {
		return false, false, "", err
	}
	var top, child bool
	for _, id := range ids {
		if have[id] {
			if parent[id] == "" {
				top = true
			} else {
				child = true
			}
		}
	}
	return child && !top, child && top, terms[0].f.name(), nil
}

// runsWithKey returns the runs that have a metric, param or tag.
func runsWithKey(s *Store, f fieldRef) (map[string]bool, error) {
	table := map[string]string{fMetric: "latest_metrics", fParam: "params", fTag: "tags"}[f.kind]
	rows, err := s.db.Query(`SELECT run_id FROM `+table+` WHERE key = ?`, f.key)
	if err != nil {
		return nil, s.wrap("search "+f.kind+" in", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.wrap("search "+f.kind+" in", err)
		}
		have[id] = true
	}
	return have, rows.Err()
}

// keyCheck finds metric, param and tag keys that no run of an
// experiment ("" for all) has, which are likely misspelt: such a key
// sorts nothing, fills an empty column or matches no run, silently.
type keyCheck struct {
	s          *Store
	experiment string
	known      map[string][]string // by kind, sorted; nil until loaded
	runs       int
}

// checkOrder fails if -order names a key no run has.
func (k *keyCheck) checkOrder(order string) error {
	terms, err := parseOrder(order)
	if err != nil {
		return err
	}
	return k.check("-order", orderFields(terms))
}

// check fails, naming the flag, if a field is a key no run has.
func (k *keyCheck) check(flag string, fields []fieldRef) error {
	for _, f := range fields {
		msg, err := k.unknown(f)
		if err != nil {
			return err
		}
		if msg != "" {
			return fmt.Errorf("%s: %s", flag, msg)
		}
	}
	return nil
}

// unknown says so if no run has the metric, param or tag f, suggesting
// the keys that are closest to it; "" if some run has it, or there are
// no runs to tell.
func (k *keyCheck) unknown(f fieldRef) (string, error) {
	if f.kind == fAttr {
		return "", nil
	}
	if k.known == nil {
		// Most keys are known: ask for this one before listing all.
		table := map[string]string{fMetric: "latest_metrics", fParam: "params", fTag: "tags"}[f.kind]
		where, args := "x.key = ?", []any{f.key}
		if k.experiment != "" {
			where, args = where+" AND e.name = ?", append(args, k.experiment)
		}
		var found bool
		if err := k.s.db.QueryRow(`SELECT EXISTS (SELECT 1 FROM `+table+` x JOIN runs r ON r.id = x.run_id
			JOIN experiments e ON e.id = r.experiment_id WHERE `+where+`)`, args...).Scan(&found); err != nil {
			return "", k.s.wrap("search "+f.kind+" in", err)
		}
		if found {
			return "", nil
		}
		if err := k.load(); err != nil {
			return "", err
		}
	}
	if k.runs == 0 || slices.Contains(k.known[f.kind], f.key) {
		return "", nil
	}
	kind := strings.TrimSuffix(f.kind, "s")
	who := "no run"
	if k.experiment != "" {
		who = fmt.Sprintf("no run of experiment %q", k.experiment)
	}
	msg := fmt.Sprintf("%s has %s %q", who, kind, f.key)
	if near := nearKeys(f, k.known); len(near) > 0 {
		msg += " (did you mean " + orList(near) + "?)"
	} else if keys := k.known[f.kind]; len(keys) == 0 {
		msg += fmt.Sprintf(" (no run has any %s)", f.kind)
	} else if len(keys) <= 10 {
		msg += fmt.Sprintf(" (%s: %s)", f.kind, strings.Join(keys, ", "))
	}
	return msg, nil
}

func (k *keyCheck) load() error {
	k.known = map[string][]string{}
	where, args := "1", []any{}
	if k.experiment != "" {
		where, args = "e.name = ?", []any{k.experiment}
	}
	if err := k.s.db.QueryRow(`SELECT COUNT(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE `+where, args...).Scan(&k.runs); err != nil {
		return k.s.wrap("count runs in", err)
	}
	for kind, table := range map[string]string{fMetric: "latest_metrics", fParam: "params", fTag: "tags"} {
		rows, err := k.s.db.Query(`SELECT DISTINCT x.key FROM `+table+` x JOIN runs r ON r.id = x.run_id
			JOIN experiments e ON e.id = r.experiment_id WHERE `+where+` ORDER BY x.key`, args...)
		if err != nil {
			return k.s.wrap("list "+kind+" keys in", err)
		}
		for rows.Next() {
			var key string
			if err := rows.Scan(&key); err != nil {
				rows.Close()
				return k.s.wrap("list "+kind+" keys in", err)
			}
			k.known[kind] = append(k.known[kind], key)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return k.s.wrap("list "+kind+" keys in", err)
		}
	}
	return nil
}

// nearKeys returns up to 3 known fields (as metrics.key and so on) that
// f may have meant, the closest of: the same key of another kind, keys
// a few edits away, and keys that f begins or ends.
func nearKeys(f fieldRef, known map[string][]string) []string {
	type cand struct {
		name string
		dist int
	}
	var cands []cand
	want := strings.ToLower(f.key)
	for _, kind := range []string{fMetric, fParam, fTag} {
		for _, key := range known[kind] {
			have := strings.ToLower(key)
			d := editDistance(want, have)
			if kind != f.kind {
				if d > 0 {
					continue // another kind's key only if spelt alike
				}
				d = 1
			}
			if len(want) >= 3 && (strings.HasPrefix(have, want) || strings.HasSuffix(have, want)) {
				d = min(d, 1) // mean_acc for mean_accuracy
			}
			if d <= max(1, (len(want)+2)/3) {
				cands = append(cands, cand{fieldRef{kind: kind, key: key}.name(), d})
			}
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Compare(a.dist, b.dist) })
	var out []string
	for _, c := range cands {
		// Only the closest: accuracy is no suggestion beside acuracy.
		if len(out) == 3 || c.dist > cands[0].dist {
			break
		}
		out = append(out, c.name)
	}
	return out
}

// orList joins words as "a", "a or b", "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			sub := prev[j-1]
			if ra[i-1] != rb[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// orderFields returns the fields of order terms.
func orderFields(terms []orderTerm) []fieldRef {
	fields := make([]fieldRef, len(terms))
	for i, t := range terms {
		fields[i] = t.f
	}
	return fields
}

// filterFields returns the fields a filter compares; with skipIsNull,
// not those of IS NULL tests (all runs lacking a key match them, which is
// no mistake).
func filterFields(f *Filter, skipIsNull bool) []fieldRef {
	var out []fieldRef
	var walk func(n node)
	walk = func(n node) {
		switch n := n.(type) {
		case *logicNode:
			walk(n.l)
			walk(n.r)
		case *notNode:
			walk(n.x)
		case *cmpNode:
			if !skipIsNull || n.op != "IS NULL" {
				out = append(out, n.f)
			}
		}
	}
	if f != nil && f.root != nil {
		walk(f.root)
	}
	return out
}

// listRow is one row of a nested list: a run at a depth, or, with more
// set, a stand-in for that many child runs left out.
type listRow struct {
	id      string
	depth   int
	context bool // an ancestor of matching runs that does not match itself
	more    int
}

// nestRuns plans a nested list of the matching runs ids. Each top-level
// run is followed by its children, indented one level deeper; a
// matching child whose parent does not match brings the parent along
// (context). Top-level runs and siblings are ranked by rank (the
// query's order), or siblings, with chronological, in the order they
// started (the default order is newest first, which would put fold 0
// last). limit > 0 keeps that many top-level runs; maxKids > 0 shows at
// most that many children of one run and a row counting the rest.
// total is the number of top-level runs before the limit.
func nestRuns(ids []string, parent map[string]string, rank map[string]int, chronological bool, limit, maxKids int) (plan []listRow, total int) {
	matched := make(map[string]bool, len(ids))
	for _, id := range ids {
		matched[id] = true
	}
	kids := map[string][]string{}
	inTree := map[string]bool{}
	var roots []string
	for _, id := range ids {
		// Walk up until a run already placed; runs whose parents form
		// a cycle, which no store makes, end up in no tree.
		for cur := id; !inTree[cur]; cur = parent[cur] {
			inTree[cur] = true
			if parent[cur] == "" {
				roots = append(roots, cur)
				break
			}
			kids[parent[cur]] = append(kids[parent[cur]], cur)
		}
	}
	pos := func(id string) int {
		if r, ok := rank[id]; ok {
			return r
		}
		return math.MaxInt
	}
	byRank := func(a, b string) int { return cmp.Compare(pos(a), pos(b)) }
	slices.SortStableFunc(roots, byRank)
	for _, ks := range kids {
		slices.SortStableFunc(ks, byRank)
		if chronological {
			slices.Reverse(ks)
		}
	}
	var size func(id string) int
	size = func(id string) int {
		n := 0
		if matched[id] {
			n = 1
		}
		for _, k := range kids[id] {
			n += size(k)
		}
		return n
	}
	var visit func(id string, depth int)
	visit = func(id string, depth int) {
		plan = append(plan, listRow{id: id, depth: depth, context: !matched[id]})
		ks := kids[id]
		more := 0
		if maxKids > 0 && len(ks) > maxKids {
			for _, k := range ks[maxKids:] {
				more += size(k)
			}
			ks = ks[:maxKids]
		}
		for _, k := range ks {
			visit(k, depth+1)
		}
		if more > 0 {
			plan = append(plan, listRow{id: id, depth: depth + 1, more: more})
		}
	}
	total = len(roots)
	if limit > 0 && len(roots) > limit {
		roots = roots[:limit]
	}
	for _, id := range roots {
		visit(id, 0)
	}
	return plan, total
}

// listColumns returns the extra columns of a list: -columns, or the
// metrics of the listed runs (at most 6 with few).
func listColumns(f runsFlags, runs []RunInfo, few bool) (cols []fieldRef, hidden []string, err error) {
	if f.columns != "" {
		cols, err := parseColumns(f.columns)
		return cols, nil, err
	}
	runsWith := map[string]int{}
	var keys []string
	for _, r := range runs {
		for k := range r.Metrics {
			if runsWith[k] == 0 {
				keys = append(keys, k)
			}
			runsWith[k]++
		}
	}
	// Scores on held-out data first, their spreads next, timings last;
	// among equals, the metrics most of the runs have.
	rank := func(k string) int {
		switch {
		case IsTiming(k):
			return 3
		case strings.Contains(k, "std_"):
			return 1
		case strings.HasPrefix(k, "test_") || strings.HasPrefix(k, "mean_") || strings.HasPrefix(k, "best_"):
			return 0
		}
		return 2
	}
	sort.Slice(keys, func(i, j int) bool {
		if ri, rj := rank(keys[i]), rank(keys[j]); ri != rj {
			return ri < rj
		}
		if ni, nj := runsWith[keys[i]], runsWith[keys[j]]; ni != nj {
			return ni > nj
		}
		return keys[i] < keys[j]
	})
	if few && len(keys) > maxListMetrics {
		keys, hidden = keys[:maxListMetrics], keys[maxListMetrics:]
	}
	cols = make([]fieldRef, len(keys))
	for i, k := range keys {
		cols[i] = fieldRef{kind: fMetric, key: k}
	}
	return cols, hidden, nil
}

// parseColumns reads -columns, a comma-separated list of fields.
func parseColumns(columns string) ([]fieldRef, error) {
	var cols []fieldRef
	off := 0
	for _, part := range strings.Split(columns, ",") {
		start := off
		off += len(part) + 1
		c := strings.TrimSpace(part)
		if c == "" {
			continue
		}
		terms, err := parseOrder(part)
		var pe *ParseError
		if errors.As(err, &pe) {
			// Point into the whole flag value, not the one column.
			return nil, &flagError{"-columns", &ParseError{Input: columns, Offset: start + pe.Offset, Msg: pe.Msg}}
		}
		if err != nil {
			return nil, fmt.Errorf("-columns: %w", err)
		}
		if len(terms) != 1 || terms[0].desc {
			return nil, fmt.Errorf("-columns: bad column %q (ASC and DESC belong in -order)", c)
		}
		cols = append(cols, terms[0].f)
	}
	return cols, nil
}

// maxListMetrics is how many metric columns runs list shows in a table.
const maxListMetrics = 6

func colNames(cols []fieldRef) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name()
	}
	return out
}

// colValues is the text of the columns of a run in a table; counts
// (see metricCounts) marks metrics with several values.
func colValues(cols []fieldRef, r *RunInfo, counts map[string]map[string]int) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = fieldValue(c, r)
		if c.kind == fMetric && out[i] != "" {
			out[i] += lastOf(counts, r.ID, c.key)
		}
	}
	return out
}

// lastOf marks the latest value of a metric that a run logged several
// times (per fold, epoch or step), as " (last of 5)", so that it is not
// taken for a summary of them all; "" for a metric logged once.
func lastOf(counts map[string]map[string]int, runID, key string) string {
	if n := counts[runID][key]; n > 1 {
		return fmt.Sprintf(" (last of %d)", n)
	}
	return ""
}

// lastOfNote explains the marks of lastOf below a table.
const lastOfNote = "(last of N: the latest of N values logged; gopherlab runs show RUN counts them, runs export -history lists them)"

// metricCounts returns, for each of the runs, how many values it logged
// of each metric it logged more than once.
func metricCounts(s *Store, ids []string) (map[string]map[string]int, error) {
	out := map[string]map[string]int{}
	const chunk = 400
	for len(ids) > 0 {
		part := ids[:min(chunk, len(ids))]
		ids = ids[len(part):]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := s.db.Query(`SELECT run_id, key, COUNT(*) FROM metrics WHERE run_id IN (`+
			strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")+`) GROUP BY run_id, key HAVING COUNT(*) > 1`, args...)
		if err != nil {
			return nil, s.wrap("count metric values in", err)
		}
		for rows.Next() {
			var id, key string
			var n int
			if err := rows.Scan(&id, &key, &n); err != nil {
				rows.Close()
				return nil, s.wrap("count metric values in", err)
			}
			if out[id] == nil {
				out[id] = map[string]int{}
			}
			out[id][key] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, s.wrap("count metric values in", err)
		}
	}
	return out, nil
}

// fieldValue is the text of a field of a run, "" if it has none.
func fieldValue(c fieldRef, r *RunInfo) string {
	switch c.kind {
	case fMetric:
		if v, ok := r.Metrics[c.key]; ok {
			return FormatMetric(v)
		}
	case fParam:
		return r.Params[c.key]
	case fTag:
		return r.Tags[c.key]
	case fAttr:
		switch c.key {
		case "run_id":
			return r.ID
		case "name":
			return r.Name
		case "status":
			return r.Status
		case "experiment":
			return r.Experiment
		case "parent_run_id":
			return r.ParentID
		case "start_time":
			return formatTime(r.StartTime)
		case "end_time":
			return formatTime(r.EndTime)
		case "duration":
			return durationText(r)
		case "error":
			return r.Error
		case "notebook":
			return r.Notebook
		case "execution_count":
			return strconv.Itoa(r.ExecutionCount)
		case "source":
			return firstLine(r.Source)
		case "go_version":
			return r.GoVersion
		case "seed":
			if r.HasSeed {
				return strconv.FormatInt(r.Seed, 10)
			}
		}
	}
	return ""
}

// fieldData is fieldValue for programs to read: metrics at full
// precision, durations in seconds, the whole source.
func fieldData(c fieldRef, r *RunInfo) string {
	switch {
	case c.kind == fMetric:
		if v, ok := r.Metrics[c.key]; ok {
			return exact(v)
		}
		return ""
	case c.kind == fAttr && c.key == "duration":
		return formatSeconds(r.Duration())
	case c.kind == fAttr && c.key == "source":
		return r.Source
	}
	return fieldValue(c, r)
}

// formatSeconds writes a duration as a number of seconds.
func formatSeconds(d time.Duration) string { return exact(d.Seconds()) }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// formatTime writes a run's time as RFC 3339 in milliseconds, the store's
// precision, with every digit (RFC3339Nano drops trailing zeros, so the
// times of one column would differ in length).
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}

// jsonNumber keeps NaN and infinities, which JSON cannot represent, as
// the strings "NaN", "+Inf" and "-Inf".
func jsonNumber(v float64) interface{} {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return FormatMetric(v)
	}
	return v
}

type runJSON struct {
	RunID          string                 `json:"run_id"`
	Experiment     string                 `json:"experiment"`
	Name           string                 `json:"name"`
	Status         string                 `json:"status"`
	ParentRunID    string                 `json:"parent_run_id,omitempty"`
	StartTime      string                 `json:"start_time"`
	EndTime        string                 `json:"end_time,omitempty"`
	Duration       float64                `json:"duration_seconds"`
	Error          string                 `json:"error,omitempty"`
	Params         map[string]string      `json:"params"`
	Metrics        map[string]interface{} `json:"metrics"`
	Tags           map[string]string      `json:"tags"`
	Source         string                 `json:"source,omitempty"`
	Notebook       string                 `json:"notebook,omitempty"`
	ExecutionCount int                    `json:"execution_count,omitempty"`
	GoVersion      string                 `json:"go_version,omitempty"`
	Modules        map[string]string      `json:"modules,omitempty"`
	Seed           *int64                 `json:"seed,omitempty"`
	Owner          string                 `json:"owner,omitempty"`

	History   map[string][]pointJSON `json:"history,omitempty"`
	Artifacts []artifactJSON         `json:"artifacts,omitempty"`
	Inputs    []inputJSON            `json:"inputs,omitempty"`
	Children  []string               `json:"children,omitempty"`
}

type pointJSON struct {
	Step      int         `json:"step"`
	Value     interface{} `json:"value"`
	Timestamp string      `json:"timestamp"`
}

type artifactJSON struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Path   string `json:"path"`
}

type inputJSON struct {
	Role    string   `json:"role"`
	Name    string   `json:"name"`
	SHA256  string   `json:"sha256"`
	Format  string   `json:"format"`
	Rows    int      `json:"rows"`
	Cols    int      `json:"cols"`
	Columns []string `json:"columns"`
	// Levels are those of the categorical columns (null for a numeric
	// one); absent when every column was numeric.
	Levels [][]string `json:"levels,omitempty"`
}

func toJSON(r *RunInfo) runJSON {
	j := runJSON{
		RunID: r.ID, Experiment: r.Experiment, Name: r.Name, Status: r.Status, ParentRunID: r.ParentID,
		StartTime: formatTime(r.StartTime), EndTime: formatTime(r.EndTime), Duration: r.Duration().Seconds(),
		Error: r.Error, Params: r.Params, Metrics: map[string]interface{}{}, Tags: r.Tags,
		Source: r.Source, Notebook: r.Notebook, ExecutionCount: r.ExecutionCount, GoVersion: r.GoVersion, Modules: r.Modules,
	}
	for k, v := range r.Metrics {
		j.Metrics[k] = jsonNumber(v)
	}
	if r.HasSeed {
		seed := r.Seed
		j.Seed = &seed
	}
	if r.OwnerPID != 0 {
		j.Owner = fmt.Sprintf("pid %d on %s", r.OwnerPID, r.OwnerHost)
	}
	return j
}

func runsJSON(runs []RunInfo) []runJSON {
	out := make([]runJSON, len(runs))
	for i := range runs {
		out[i] = toJSON(&runs[i])
	}
	return out
}

func writeJSON(w io.Writer, v interface{}) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

func runsShow(s *Store, f runsFlags, pos []string, w io.Writer) error {
	if len(pos) != 1 {
		return errors.New("want exactly one run id")
	}
	format, err := checkFormat(f.format, "table", "json")
	if err != nil {
		return err
	}
	r, err := s.GetRun(pos[0])
	if err != nil {
		return err
	}
	arts, err := s.Artifacts(r.ID)
	if err != nil {
		return err
	}
	ins, err := s.Inputs(r.ID)
	if err != nil {
		return err
	}
	kids, err := s.Children(r.ID)
	if err != nil {
		return err
	}
	counts, err := s.MetricCount(r.ID)
	if err != nil {
		return err
	}
	if format == "json" {
		j := toJSON(r)
		for _, a := range arts {
			j.Artifacts = append(j.Artifacts, artifactJSON{a.Name, a.Kind, a.SHA256, a.Size, a.Path})
		}
		for _, in := range ins {
			j.Inputs = append(j.Inputs, inputJSON{in.Role, in.Name, in.SHA256, in.Format, in.Rows, in.Cols, in.Columns, in.Levels})
		}
		for _, k := range kids {
			j.Children = append(j.Children, k.ID)
		}
		return writeJSON(w, j)
	}
	var b strings.Builder
	rows := [][]string{
		{"run", r.ID},
		{"name", r.Name},
		{"experiment", r.Experiment},
		{"status", r.Status},
		{"started", r.StartTime.Local().Format("2006-01-02 15:04:05.000 MST")},
	}
	if !r.EndTime.IsZero() {
		rows = append(rows, []string{"ended", r.EndTime.Local().Format("2006-01-02 15:04:05.000 MST")})
	}
	rows = append(rows, []string{"duration", durationText(r)})
	if r.ParentID != "" {
		rows = append(rows, []string{"parent", r.ParentID})
	}
	if r.Error != "" {
		rows = append(rows, []string{"error", r.Error})
	}
	if r.HasSeed {
		rows = append(rows, []string{"seed", strconv.FormatInt(r.Seed, 10)})
	}
	switch {
	case r.Notebook != "" && r.ExecutionCount != 0:
		rows = append(rows, []string{"notebook", fmt.Sprintf("%s [%d]", r.Notebook, r.ExecutionCount)})
	case r.Notebook != "":
		rows = append(rows, []string{"notebook", r.Notebook})
	case r.ExecutionCount != 0:
		// A client that does not name the notebook (nbclient, a console).
		rows = append(rows, []string{"cell", fmt.Sprintf("[%d] of an unnamed notebook", r.ExecutionCount)})
	}
	rows = append(rows, []string{"go", r.GoVersion}, []string{"owner", fmt.Sprintf("pid %d on %s", r.OwnerPID, r.OwnerHost)})
	writeTable(&b, rows)
	section := func(title string, rows [][]string) {
		if len(rows) == 0 {
			return
		}
		b.WriteString("\n" + title + "\n")
		for i := range rows {
			rows[i][0] = "  " + rows[i][0]
		}
		writeTable(&b, rows)
	}
	var ps [][]string
	for _, k := range sortedKeys(r.Params) {
		ps = append(ps, []string{k, r.Params[k]})
	}
	section("params", ps)
	var ms [][]string
	mkeys := make([]string, 0, len(r.Metrics))
	for k := range r.Metrics {
		mkeys = append(mkeys, k)
	}
	sort.Strings(mkeys)
	for _, k := range mkeys {
		ms = append(ms, []string{k, FormatMetric(r.Metrics[k]), fmt.Sprintf("(%d points)", counts[k])})
	}
	section("metrics (latest value)", ms)
	var ts [][]string
	for _, k := range sortedKeys(r.Tags) {
		ts = append(ts, []string{k, r.Tags[k]})
	}
	section("tags", ts)
	var as [][]string
	for _, a := range arts {
		as = append(as, []string{a.Name, a.Kind, formatBytes(a.Size), a.SHA256[:12], a.Path})
	}
	section("artifacts (under "+s.ArtifactDir()+")", as)
	var is [][]string
	for _, in := range ins {
		shape := fmt.Sprintf("%d rows x %d cols", in.Rows, in.Cols)
		if n := categoricalColumns(in.Levels); n > 0 {
			shape += fmt.Sprintf(" (%d categorical)", n)
		}
		is = append(is, []string{in.Role, in.Name, shape, in.SHA256[:12]})
	}
	section("datasets", is)
	var cs [][]string
	for _, k := range kids {
		cs = append(cs, []string{k.ShortID(), k.Name, k.Status})
	}
	section("child runs", cs)
	if r.Source != "" {
		b.WriteString("\nsource\n")
		for _, line := range strings.Split(strings.TrimRight(r.Source, "\n"), "\n") {
			b.WriteString("  " + escapeControl(line, true) + "\n")
		}
	}
	io.WriteString(w, b.String())
	return nil
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func runsCompare(s *Store, f runsFlags, pos []string, w io.Writer) error {
	if len(pos) == 0 {
		return errors.New("want at least one run id")
	}
	format, err := checkFormat(f.format, "table", "json", "csv", "html")
	if err != nil {
		return err
	}
	c, err := s.Compare(pos)
	if err != nil {
		return err
	}
	switch format {
	case "json":
		return writeJSON(w, struct {
			Runs    []runJSON `json:"runs"`
			Params  []string  `json:"params"`
			Metrics []string  `json:"metrics"`
		}{runsJSON(c.Runs), c.Params, c.Metrics})
	case "csv":
		return writeCSV(w, compareData(c))
	case "html":
		_, err := io.WriteString(w, c.HTML()+"\n")
		return err
	}
	ids := make([]string, len(c.Runs))
	for i, r := range c.Runs {
		ids[i] = r.ID
	}
	counts, err := metricCounts(s, ids)
	if err != nil {
		return err
	}
	text := compareText(c, counts)
	if strings.Contains(text, "(last of ") {
		text += lastOfNote + "\n"
	}
	_, err = io.WriteString(w, text)
	return err
}

// compareText is Comparison.String for a terminal: cells escaped and
// padded by display width, metrics with several values marked (see
// lastOf).
func compareText(c *Comparison, counts map[string]map[string]int) string {
	rows := c.Rows()
	for m, k := range c.Metrics {
		row := rows[len(rows)-len(c.Metrics)+m]
		for j := range c.Runs {
			if _, ok := c.Runs[j].Metrics[k]; ok {
				row[j+1] += lastOf(counts, c.Runs[j].ID, k)
			}
		}
	}
	c.markDiffering(rows)
	var b strings.Builder
	writeTable(&b, rows)
	return b.String()
}

// compareData is a comparison for programs to read: one column per run,
// headed by its full id (names repeat), every value exact, durations in
// seconds and missing values empty.
func compareData(c *Comparison) [][]string {
	rows := [][]string{{"run_id"}}
	for _, r := range c.Runs {
		rows[0] = append(rows[0], r.ID)
	}
	add := func(label string, cell func(r *RunInfo) string) {
		row := []string{label}
		for i := range c.Runs {
			row = append(row, cell(&c.Runs[i]))
		}
		rows = append(rows, row)
	}
	add("name", func(r *RunInfo) string { return r.Name })
	add("experiment", func(r *RunInfo) string { return r.Experiment })
	add("status", func(r *RunInfo) string { return r.Status })
	add("parent_run_id", func(r *RunInfo) string { return r.ParentID })
	add("start_time", func(r *RunInfo) string { return formatTime(r.StartTime) })
	add("end_time", func(r *RunInfo) string { return formatTime(r.EndTime) })
	add("duration_seconds", func(r *RunInfo) string { return formatSeconds(r.Duration()) })
	for _, k := range c.Params {
		add("params."+k, func(r *RunInfo) string { return r.Params[k] })
	}
	for _, k := range c.Metrics {
		add("metrics."+k, func(r *RunInfo) string {
			if v, ok := r.Metrics[k]; ok {
				return exact(v)
			}
			return ""
		})
	}
	return rows
}

func runsExport(s *Store, f runsFlags, pos []string, w io.Writer) error {
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	format, err := checkFormat(f.format, "csv", "json")
	if err != nil {
		return err
	}
	limit := max(f.limit, 0)
	if f.experiment != "" {
		if err := checkExperiment(s, f.experiment); err != nil {
			return err
		}
	}
	keys := &keyCheck{s: s, experiment: f.experiment}
	if err := keys.checkOrder(f.order); err != nil {
		return err
	}
	runs, err := s.searchRuns(SearchQuery{Experiment: f.experiment, Filter: f.filter, OrderBy: f.order, Limit: limit}, false)
	if err != nil {
		return err
	}
	if f.history {
		return exportHistory(s, runs, format, w)
	}
	if format == "json" {
		return writeJSON(w, runsJSON(runs))
	}
	var params, tags []map[string]string
	metrics := map[string]bool{}
	for _, r := range runs {
		params = append(params, r.Params)
		tags = append(tags, r.Tags)
		for k := range r.Metrics {
			metrics[k] = true
		}
	}
	var cols []fieldRef
	for _, k := range sortedKeys(params...) {
		cols = append(cols, fieldRef{kind: fParam, key: k})
	}
	mkeys := make([]string, 0, len(metrics))
	for k := range metrics {
		mkeys = append(mkeys, k)
	}
	sort.Strings(mkeys)
	for _, k := range mkeys {
		cols = append(cols, fieldRef{kind: fMetric, key: k})
	}
	for _, k := range sortedKeys(tags...) {
		cols = append(cols, fieldRef{kind: fTag, key: k})
	}
	head := []string{"run_id", "experiment", "name", "status", "parent_run_id", "start_time", "end_time", "duration_seconds", "error"}
	rows := [][]string{append(head, colNames(cols)...)}
	for i := range runs {
		r := &runs[i]
		row := []string{r.ID, r.Experiment, r.Name, r.Status, r.ParentID, formatTime(r.StartTime), formatTime(r.EndTime),
			formatSeconds(r.Duration()), r.Error}
		for _, c := range cols {
			row = append(row, fieldData(c, r))
		}
		rows = append(rows, row)
	}
	return writeCSV(w, rows)
}

// exportHistory writes every metric point of the runs.
func exportHistory(s *Store, runs []RunInfo, format string, w io.Writer) error {
	if format == "json" {
		out := runsJSON(runs)
		for i := range runs {
			out[i].History = map[string][]pointJSON{}
			for k := range runs[i].Metrics {
				h, err := s.MetricHistory(runs[i].ID, k)
				if err != nil {
					return err
				}
				pts := make([]pointJSON, h.Len())
				for j := range pts {
					pts[j] = pointJSON{h.Steps[j], jsonNumber(h.Values[j]), formatTime(h.Times[j])}
				}
				out[i].History[k] = pts
			}
		}
		return writeJSON(w, out)
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"run_id", "run_name", "key", "step", "value", "timestamp"})
	for _, r := range runs {
		keys := make([]string, 0, len(r.Metrics))
		for k := range r.Metrics {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			h, err := s.MetricHistory(r.ID, k)
			if err != nil {
				return err
			}
			for j := 0; j < h.Len(); j++ {
				cw.Write([]string{r.ID, r.Name, k, strconv.Itoa(h.Steps[j]), exact(h.Values[j]), formatTime(h.Times[j])})
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func runsExperiments(s *Store, f runsFlags, pos []string, w io.Writer) error {
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q (experiments takes none)", pos[0])
	}
	format, err := checkFormat(f.format, "table", "json", "csv")
	if err != nil {
		return err
	}
	exps, err := s.Experiments()
	if err != nil {
		return err
	}
	children, err := childCounts(s)
	if err != nil {
		return err
	}
	switch format {
	case "json":
		// runs stays the total it always was; the split is added.
		type expJSON struct {
			Name     string `json:"name"`
			Created  string `json:"created"`
			Runs     int    `json:"runs"`
			TopLevel int    `json:"top_level_runs"`
			Children int    `json:"child_runs"`
		}
		out := []expJSON{}
		for _, e := range exps {
			out = append(out, expJSON{e.Name, formatTime(e.Created), e.Runs, e.Runs - children[e.ID], children[e.ID]})
		}
		return writeJSON(w, out)
	case "csv":
		rows := [][]string{{"name", "created", "runs", "top_level_runs", "child_runs"}}
		for _, e := range exps {
			rows = append(rows, []string{e.Name, formatTime(e.Created), strconv.Itoa(e.Runs),
				strconv.Itoa(e.Runs - children[e.ID]), strconv.Itoa(children[e.ID])})
		}
		return writeCSV(w, rows)
	}
	// Folds and trials are parts of their parent run: counting them as
	// runs would not match runs list or the report.
	rows := [][]string{{"EXPERIMENT", "RUNS", "CHILD RUNS", "CREATED"}}
	for _, e := range exps {
		rows = append(rows, []string{e.Name, strconv.Itoa(e.Runs - children[e.ID]), strconv.Itoa(children[e.ID]), e.Created.Local().Format("2006-01-02 15:04")})
	}
	var b strings.Builder
	writeTable(&b, rows)
	_, err = io.WriteString(w, b.String())
	return err
}

// childCounts returns the number of child runs (CV folds, grid-search
// trials) of each experiment, by experiment id.
func childCounts(s *Store) (map[int64]int, error) {
	rows, err := s.db.Query(`SELECT experiment_id, COUNT(*) FROM runs WHERE parent_run_id IS NOT NULL GROUP BY experiment_id`)
	if err != nil {
		return nil, s.wrap("count child runs in", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, s.wrap("count child runs in", err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("count child runs in", err)
	}
	return out, nil
}

// writeTable writes rows for a terminal, with columns padded to a common
// display width and control characters in cells escaped: a newline in a
// run name would break the table, an escape sequence in a tag would
// recolour the terminal. JSON and CSV keep the text as it is.
func writeTable(b *strings.Builder, rows [][]string) {
	var widths []int
	cells := make([][]string, len(rows))
	for i, row := range rows {
		cells[i] = make([]string, len(row))
		for j, cell := range row {
			cells[i][j] = escapeControl(cell, false)
			if j >= len(widths) {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], textWidth(cells[i][j]))
		}
	}
	for _, row := range cells {
		var line strings.Builder
		for j, cell := range row {
			if j > 0 {
				line.WriteString("  ")
			}
			line.WriteString(cell)
			if j < len(row)-1 {
				line.WriteString(strings.Repeat(" ", widths[j]-textWidth(cell)))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
}

// escapeControl writes the control characters of s (tabs too, unless
// keepTab), the bidirectional overrides that reorder what follows them
// on screen, and bytes that are not UTF-8 as Go escapes.
func escapeControl(s string, keepTab bool) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || isEscaped(r, keepTab) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t' && !keepTab:
			b.WriteString(`\t`)
		case isEscaped(r, keepTab) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case isEscaped(r, keepTab):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func isEscaped(r rune, keepTab bool) bool {
	switch {
	case r == '\t':
		return !keepTab
	case unicode.IsControl(r):
		return true
	case 0x202A <= r && r <= 0x202E, 0x2066 <= r && r <= 0x2069: // bidi embeddings, overrides, isolates
		return true
	}
	return false
}

// textWidth is the number of terminal columns s takes: East Asian wide
// and fullwidth characters take two, combining marks and zero-width
// characters none.
func textWidth(s string) int {
	w := 0
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Mn, unicode.Me) || r == 0x200B || r == 0x200C || r == 0x200D || r == 0x2060 || r == 0xFEFF:
		case isWide(r):
			w += 2
		default:
			w++
		}
	}
	return w
}

// wideRanges are the main East Asian Wide and Fullwidth ranges of
// Unicode's EastAsianWidth.txt, and the emoji shown two columns wide.
var wideRanges = [][2]rune{
	{0x1100, 0x115F}, {0x231A, 0x231B}, {0x2329, 0x232A}, {0x23E9, 0x23EC}, {0x23F0, 0x23F0},
	{0x23F3, 0x23F3}, {0x25FD, 0x25FE}, {0x2614, 0x2615}, {0x2648, 0x2653}, {0x267F, 0x267F},
	{0x2693, 0x2693}, {0x26A1, 0x26A1}, {0x26AA, 0x26AB}, {0x26BD, 0x26BE}, {0x26C4, 0x26C5},
	{0x26CE, 0x26CE}, {0x26D4, 0x26D4}, {0x26EA, 0x26EA}, {0x26F2, 0x26F3}, {0x26F5, 0x26F5},
	{0x26FA, 0x26FA}, {0x26FD, 0x26FD}, {0x2705, 0x2705}, {0x270A, 0x270B}, {0x2728, 0x2728},
	{0x274C, 0x274C}, {0x274E, 0x274E}, {0x2753, 0x2755}, {0x2757, 0x2757}, {0x2795, 0x2797},
	{0x27B0, 0x27B0}, {0x27BF, 0x27BF}, {0x2B1B, 0x2B1C}, {0x2B50, 0x2B50}, {0x2B55, 0x2B55},
	{0x2E80, 0x303E}, {0x3041, 0x33FF}, {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xA000, 0xA4CF},
	{0xA960, 0xA97F}, {0xAC00, 0xD7A3}, {0xF900, 0xFAFF}, {0xFE10, 0xFE19}, {0xFE30, 0xFE6F},
	{0xFF00, 0xFF60}, {0xFFE0, 0xFFE6}, {0x16FE0, 0x18AFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004},
	{0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251}, {0x1F300, 0x1F64F},
	{0x1F680, 0x1F6FF}, {0x1F7E0, 0x1F7EB}, {0x1F900, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD},
	{0x30000, 0x3FFFD},
}

func isWide(r rune) bool {
	if r < wideRanges[0][0] {
		return false
	}
	i := sort.Search(len(wideRanges), func(i int) bool { return wideRanges[i][1] >= r })
	return i < len(wideRanges) && wideRanges[i][0] <= r
}

// categoricalColumns counts the columns an input used as categorical.
func categoricalColumns(levels [][]string) int {
	n := 0
	for _, l := range levels {
		if l != nil {
			n++
		}
	}
	return n
}
