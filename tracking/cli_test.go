package tracking

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRunsCommand(t *testing.T) {
	s := fixture(t)
	db := s.Path()
	ids, _ := s.SearchRunIDs(SearchQuery{OrderBy: "name"}) // forest-1, forest-2, knn-1, noacc, svm-1, wine-forest
	r, _ := s.StartRun("iris", &RunOptions{Name: "with-extras", ParentID: ids[0], Source: "x := 1\ny := 2", ExecutionCount: 7})
	r.LogArtifact("model.bin", "model", []byte{1, 2, 3})
	r.LogDataset(RoleTrain, "tiny", []string{"a"}, [][]float64{{1}, {2}})
	r.logDenseDataset(RoleEval, "shapes", []string{"size", "color", "label"}, 2, 3,
		[]float64{1, 0, 1, 2, 1, 0}, [][]string{nil, {"blue", "red"}, {"no", "yes"}}, nil)
	r.LogMetric("acc", 0.5, 0)
	r.LogMetric("acc", 0.75, 1)
	r.Finish()

	tests := []struct {
		name    string
		args    []string
		want    []string // substrings of the output
		notWant []string
		check   func(t *testing.T, out string)
		wantErr string
	}{
		{name: "list", args: []string{"list", "-db", db},
			want: []string{"RUN", "forest-1", "wine-forest", "metrics.accuracy", "0.95", "RUNNING"}},
		{name: "list filter order", args: []string{"list", "-db", db, "-filter", `metrics.accuracy > 0.9 and (params.model = "forest" or params.model = "knn")`, "-order", "metrics.accuracy DESC"},
			check: func(t *testing.T, out string) {
				lines := strings.Split(strings.TrimSpace(out), "\n")
				lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, "(") }) // notes
				if len(lines) != 4 || !strings.Contains(lines[1], "wine-forest") || !strings.Contains(lines[3], "knn-1") {
					t.Errorf("rows:\n%s", out)
				}
			}},
		{name: "flags after nothing, experiment", args: []string{"list", "-experiment", "wine", "-db", db},
			want: []string{"noacc", "wine-forest"}, notWant: []string{"forest-1"}},
		{name: "columns", args: []string{"list", "-db", db, "-columns", "params.model,tags.stage,status", "-filter", `name = "forest-1"`},
			want: []string{"params.model", "tags.stage", "forest", "prod", "FINISHED"}},
		{name: "limit", args: []string{"list", "-db", db, "-limit", "2", "-order", "name"},
			want: []string{"(first 2 of 6 top-level runs"}, notWant: []string{"svm-1"}},
		{name: "no match", args: []string{"list", "-db", db, "-filter", "metrics.accuracy > 5"}, want: []string{"no runs match"}, notWant: []string{"-filter"}},
		{name: "no match, misspelt key", args: []string{"list", "-db", db, "-filter", "metrics.accuracy > 5 or metrics.acuracy > 0.9"},
			want: []string{"no runs match\n(-filter: no run has metric \"acuracy\" (did you mean metrics.accuracy?))\n"}},
		{name: "no match, key of another kind", args: []string{"list", "-db", db, "-filter", `params.stage = "x"`},
			want: []string{`(-filter: no run has param "stage" (did you mean tags.stage?))`}},
		{name: "no match, misspelt key, json stays exact", args: []string{"list", "-db", db, "-format", "json", "-filter", "metrics.acuracy > 0.9"},
			check: func(t *testing.T, out string) {
				if out != "[]\n" {
					t.Errorf("json %q", out)
				}
			}},
		{name: "order by a misspelt key", args: []string{"list", "-db", db, "-order", "name, metrics.accu DESC"},
			wantErr: `runs list: -order: no run has metric "accu" (did you mean metrics.acc or metrics.accuracy?)`},
		{name: "order by a key of no run of the experiment", args: []string{"list", "-db", db, "-experiment", "wine", "-order", "metrics.loss"},
			wantErr: `-order: no run of experiment "wine" has metric "loss" (metrics: accuracy)`},
		{name: "export order by a misspelt key", args: []string{"export", "-db", db, "-order", "params.modle"},
			wantErr: `runs export: -order: no run has param "modle" (did you mean params.model?)`},
		{name: "column of a misspelt key", args: []string{"list", "-db", db, "-format", "csv", "-columns", "name,tags.stag"},
			wantErr: `runs list: -columns: no run has tag "stag" (did you mean tags.stage?)`},
		{name: "child indented", args: []string{"list", "-db", db, "-filter", `name = "with-extras"`}, want: []string{"  with-extras"}},
		{name: "list json", args: []string{"list", "-db", db, "-format", "json", "-filter", `name = "forest-1"`},
			check: func(t *testing.T, out string) {
				var runs []map[string]interface{}
				if err := json.Unmarshal([]byte(out), &runs); err != nil || len(runs) != 1 {
					t.Fatalf("json: %v\n%s", err, out)
				}
				if runs[0]["name"] != "forest-1" || runs[0]["metrics"].(map[string]interface{})["accuracy"] != 0.95 {
					t.Errorf("json run %v", runs[0])
				}
			}},
		{name: "list csv", args: []string{"list", "-db", db, "-format", "csv"},
			check: func(t *testing.T, out string) {
				recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
				if err != nil || len(recs) != 8 || recs[0][0] != "run_id" || len(recs[1][0]) != 36 {
					t.Errorf("csv: %v\n%s", err, out)
				}
				// Times in milliseconds, every digit kept: one width.
				for _, r := range recs[1:] {
					if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", r[5]); err != nil || len(r[5]) != len("2006-01-02T15:04:05.000Z") {
						t.Errorf("start_time %q", r[5])
					}
				}
			}},
		{name: "show by prefix, interspersed flags", args: []string{"show", r.ID()[:8], "-db", db},
			want: []string{r.ID(), "with-extras", "metrics (latest value)", "acc", "0.75", "(2 points)",
				"model.bin", "3 B", "tiny", "2 rows x 1 cols", "shapes", "2 rows x 3 cols (2 categorical)", "parent", ids[0], "source", "  x := 1", "  y := 2", "[7] of an unnamed notebook"},
			notWant: []string{"notebook     "}},
		{name: "show parent lists children", args: []string{"show", "-db", db, ids[0]}, want: []string{"child runs", "with-extras"}},
		{name: "show json", args: []string{"show", "-db", db, "-format", "json", r.ID()},
			check: func(t *testing.T, out string) {
				var j runJSON
				if err := json.Unmarshal([]byte(out), &j); err != nil {
					t.Fatal(err)
				}
				if len(j.Artifacts) != 1 || len(j.Inputs) != 2 || j.Inputs[1].Rows != 2 || j.ParentRunID != ids[0] {
					t.Fatalf("show json: %+v", j)
				}
				// Inputs are ordered by role: eval, then train.
				if l := j.Inputs[0].Levels; len(l) != 3 || l[0] != nil || len(l[1]) != 2 || j.Inputs[1].Levels != nil {
					t.Errorf("show json levels: %+v", j.Inputs)
				}
			}},
		{name: "compare", args: []string{"compare", "-db", db, ids[0], ids[1][:8]},
			want: []string{"forest-1", "forest-2", "* params.depth", "metrics.accuracy"}},
		{name: "compare html", args: []string{"compare", "-db", db, "-format", "html", ids[0], ids[1]}, want: []string{"<table", "forest-2"}},
		{name: "compare json", args: []string{"compare", "-db", db, "-format", "json", ids[0], ids[1]},
			want: []string{`"params": [`, `"depth"`}},
		{name: "compare csv", args: []string{"compare", "-db", db, "-format", "csv", ids[0], ids[1]},
			want: []string{"run_id," + ids[0] + "," + ids[1] + "\n", "name,forest-1,forest-2\n", "params.depth,5,10\n", "params.lr,0.1,\n"}},
		{name: "export csv", args: []string{"export", "-db", db, "-experiment", "iris"},
			check: func(t *testing.T, out string) {
				recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
				if err != nil || len(recs) != 6 {
					t.Fatalf("csv: %v\n%s", err, out)
				}
				head := strings.Join(recs[0], ",")
				for _, col := range []string{"params.depth", "params.model", "metrics.accuracy", "metrics.loss", "tags.stage"} {
					if !strings.Contains(head, col) {
						t.Errorf("export lacks %s: %s", col, head)
					}
				}
			}},
		{name: "export history csv", args: []string{"export", "-db", db, "-history", "-filter", `name = "with-extras"`},
			want: []string{"run_id,run_name,key,step,value,timestamp", ",with-extras,acc,0,0.5,", ",with-extras,acc,1,0.75,"}},
		{name: "export history json", args: []string{"export", "-db", db, "-history", "-format", "json", "-filter", `name = "with-extras"`},
			check: func(t *testing.T, out string) {
				var runs []runJSON
				if err := json.Unmarshal([]byte(out), &runs); err != nil || len(runs) != 1 || len(runs[0].History["acc"]) != 2 {
					t.Errorf("history json: %v\n%s", err, out)
				}
			}},
		{name: "experiments", args: []string{"experiments", "-db", db},
			check: func(t *testing.T, out string) {
				// with-extras is a child run of forest-1.
				want := [][]string{{"EXPERIMENT", "RUNS", "CHILD", "RUNS", "CREATED"}, {"iris", "4", "1"}, {"wine", "2", "0"}}
				lines := strings.Split(strings.TrimSpace(out), "\n")
				for i, w := range want {
					if i >= len(lines) || !slices.Equal(strings.Fields(lines[i])[:len(w)], w) {
						t.Errorf("experiments line %d, want %q:\n%s", i, w, out)
					}
				}
			}},
		{name: "experiments csv", args: []string{"experiments", "-db", db, "-format", "csv"},
			want: []string{"name,created,runs,top_level_runs,child_runs\n", ",5,4,1\n", ",2,2,0\n"}},
		{name: "experiments json", args: []string{"experiments", "-db", db, "-format", "json"},
			want: []string{`"runs": 5,`, `"top_level_runs": 4,`, `"child_runs": 1`}},
		{name: "help", args: []string{"help"}, want: []string{"usage: gopherlab runs"}},
		{name: "no command", args: nil, wantErr: "missing command"},
		{name: "unknown command", args: []string{"frobnicate"}, wantErr: "unknown command"},
		{name: "bad flag", args: []string{"list", "-bogus"}, wantErr: "flag provided but not defined"},
		{name: "bad format", args: []string{"list", "-db", db, "-format", "xml"}, wantErr: "want table, json, csv"},
		{name: "parse error with caret", args: []string{"list", "-db", db, "-filter", "metrics.a >"}, wantErr: "column 12: expected a value after >, found end of input\n  metrics.a >\n             ^"},
		{name: "unknown run", args: []string{"show", "-db", db, "ffffffff"}, wantErr: "not found"},
		{name: "missing db", args: []string{"list", "-db", filepath.Join(t.TempDir(), "none.db")}, wantErr: "no tracking database"},
		{name: "unknown experiment", args: []string{"list", "-db", db, "-experiment", "nosuch"},
			wantErr: `runs list: no experiment "nosuch" in ` + db + " (experiments: iris, wine)"},
		{name: "export unknown experiment", args: []string{"export", "-db", db, "-experiment", "nosuch"},
			wantErr: `runs export: no experiment "nosuch" in ` + db + " (experiments: iris, wine)"},
		{name: "order error named after the flag", args: []string{"list", "-db", db, "-order", "name, bogus"},
			wantErr: "runs list: -order: column 7: unknown field \"bogus\""},
		{name: "order trailing comma", args: []string{"list", "-db", db, "-order", "name DESC,"},
			wantErr: "runs list: -order: column 10: expected a field after \",\"\n  name DESC,\n           ^"},
		{name: "export order trailing comma", args: []string{"export", "-db", db, "-order", "name,"}, wantErr: "-order: column 5"},
		{name: "columns error points into the flag", args: []string{"list", "-db", db, "-columns", "name, metrics.a >"},
			wantErr: "runs list: -columns: column 17: expected ASC, DESC, \",\" or end of order, found \">\"\n  name, metrics.a >\n                  ^"},
		{name: "columns DESC", args: []string{"list", "-db", db, "-columns", "metrics.a DESC"}, wantErr: "-columns: bad column"},
		{name: "negative limit", args: []string{"list", "-db", db, "-limit", "-5"}, wantErr: "-limit -5: want 0 (all runs) or more"},
		{name: "export negative limit", args: []string{"export", "-db", db, "-limit", "-1"}, wantErr: "-limit -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := RunsCommand(tt.args, &out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("output has %q:\n%s", w, out.String())
				}
			}
			if tt.check != nil {
				tt.check(t, out.String())
			}
		})
	}
	// Read-only commands never create a database.
	missing := filepath.Join(t.TempDir(), "none.db")
	RunsCommand([]string{"list", "-db", missing}, &bytes.Buffer{})
	if _, err := os.Stat(missing); err == nil {
		t.Error("list created a database")
	}
}

// runsOut runs "gopherlab runs" and fails the test on an error.
func runsOut(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := RunsCommand(args, &out); err != nil {
		t.Fatalf("runs %v: %v", args, err)
	}
	return out.String()
}

func TestRunsListNesting(t *testing.T) {
	s := openTemp(t)
	start := func(name, parent string) string {
		r, err := s.StartRun("cv", &RunOptions{Name: name, ParentID: parent})
		if err != nil {
			t.Fatal(err)
		}
		r.LogMetric("acc", 0.5, 0)
		if err := r.Finish(); err != nil {
			t.Fatal(err)
		}
		return r.ID()
	}
	// Children start after their parent, so newest first lists them above it.
	cv := start("cv-run", "")
	for _, n := range []string{"fold 0", "fold 1", "fold 2"} {
		start(n, cv)
	}
	grid := start("grid-run", "")
	start("trial 0", grid)
	start("trial 1", grid)
	start("single", "")
	db := s.Path()

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"newest first, children under their parent in the order they ran", nil,
			[]string{"single", "grid-run", "  trial 0", "  trial 1", "cv-run", "  fold 0", "  fold 1", "  fold 2"}},
		{"explicit order among siblings too", []string{"-order", "name DESC"},
			[]string{"single", "grid-run", "  trial 1", "  trial 0", "cv-run", "  fold 2", "  fold 1", "  fold 0"}},
		{"matching children bring their parent", []string{"-filter", `name LIKE "fold%" OR name = "single"`},
			[]string{"single", "cv-run", "  fold 0", "  fold 1", "  fold 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := runsOut(t, append([]string{"list", "-db", db}, tt.args...)...)
			if got := listNames(out); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("names %q, want %q\n%s", got, tt.want, out)
			}
		})
	}
	// Data for programs stays flat, in the query's order, with the parent.
	recs, err := csv.NewReader(strings.NewReader(runsOut(t, "list", "-db", db, "-format", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[0][4] != "parent_run_id" || recs[1][2] != "single" || recs[2][2] != "trial 1" || recs[2][4] != grid || recs[4][2] != "grid-run" || recs[4][4] != "" {
		t.Errorf("csv:\n%v", recs)
	}
}

// listNames returns the NAME column of a table, indentation included,
// up to the notes below it.
func listNames(out string) []string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	from := strings.Index(lines[0], "NAME")
	to := from + 4 + strings.IndexFunc(lines[0][from+4:], func(r rune) bool { return r != ' ' })
	var got []string
	for _, line := range lines[1:] {
		if strings.HasPrefix(line, "(") {
			break
		}
		line += strings.Repeat(" ", max(0, to-len(line)))
		got = append(got, strings.TrimRight(line[from:to], " "))
	}
	return got
}

// Order and limit apply to top-level runs; children follow their parent.
func TestRunsListTopLevel(t *testing.T) {
	s := openTemp(t)
	start := func(name, parent string, metrics map[string]float64) string {
		r, err := s.StartRun("e", &RunOptions{Name: name, ParentID: parent})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range metrics {
			r.LogMetric(k, v, 0)
		}
		if err := r.Finish(); err != nil {
			t.Fatal(err)
		}
		return r.ID()
	}
	start("old", "", map[string]float64{"score": 0.80})
	cv := start("cv", "", map[string]float64{"score": 0.90})
	for i, v := range []float64{0.7, 0.95, 0.8} {
		start(fmt.Sprintf("fold %d", i), cv, map[string]float64{"fold_acc": v})
	}
	grid := start("grid", "", nil)
	for i := range 12 {
		start(fmt.Sprintf("trial %d", i), grid, map[string]float64{"score": 0.91 + float64(i)/200})
	}
	start("new", "", map[string]float64{"score": 0.85})
	db := s.Path()

	trials := func(from, to int) []string { // indented, from down to to
		var out []string
		for i := from; ; i += cmp.Compare(to, from) {
			out = append(out, fmt.Sprintf("  trial %d", i))
			if i == to {
				return out
			}
		}
	}
	cat := func(parts ...[]string) []string { return slices.Concat(parts...) }
	tests := []struct {
		name  string
		args  []string
		want  []string
		notes []string
	}{
		{"best top-level run first, children under their parent", []string{"-order", "metrics.score DESC"},
			cat([]string{"cv", "  fold 2", "  fold 1", "  fold 0", "new", "old", "grid"}, trials(11, 2), []string{"  (+2 more)"}),
			[]string{"(2 child runs not shown; -limit 0 shows all, -flat -filter 'parent_run_id = \"" + grid + "\"' those of one run)", "-order metrics.score sorts top-level runs, and child runs under their parent; -flat sorts them all together"}},
		{"limit counts top-level runs", []string{"-limit", "2"},
			cat([]string{"new", "grid"}, trials(0, 9), []string{"  (+2 more)"}),
			[]string{"(first 2 of 4 top-level runs; -limit 0 shows all)"}},
		{"limit 0 shows every child", []string{"-limit", "0", "-filter", `name LIKE "trial%"`},
			cat([]string{"grid"}, trials(0, 11)),
			[]string{"(shown as the parent of matching runs, not matching the filter: grid)"}},
		{"order by a metric only children have lists flat", []string{"-order", "metrics.fold_acc DESC", "-limit", "3"},
			[]string{"fold 1", "fold 2", "fold 0"},
			[]string{"(first 3 of 19 runs", "(-order metrics.fold_acc: only child runs have it, so runs are listed flat)"}},
		{"flat", []string{"-flat", "-order", "metrics.score DESC", "-limit", "3"},
			[]string{"trial 11", "trial 10", "trial 9"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := runsOut(t, append([]string{"list", "-db", db}, tt.args...)...)
			if got := listNames(out); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("names %q, want %q\n%s", got, tt.want, out)
			}
			for _, n := range tt.notes {
				if !strings.Contains(out, n) {
					t.Errorf("no note %q:\n%s", n, out)
				}
			}
		})
	}
	// A flat list names each child's parent.
	if out := runsOut(t, "list", "-db", db, "-flat", "-filter", `name = "fold 0"`); !strings.Contains(out, "PARENT") || !strings.Contains(out, ShortID(cv)) {
		t.Errorf("flat list without the parent:\n%s", out)
	}
}

// Machine-readable output keeps every digit, full ids, durations as
// seconds and every metric.
func TestRunsMachineOutput(t *testing.T) {
	s := openTemp(t)
	var ids []string
	for i, v := range []float64{0.123456789012345, 0.98765432109876} {
		// Two runs with the same name: columns must not be told apart by it.
		r, err := s.StartRun("prec", &RunOptions{Name: "pipeline", Params: map[string]any{"C": i}})
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 8; j++ {
			r.LogMetric(fmt.Sprintf("m%d", j), v+float64(j), 0)
		}
		if err := r.Finish(); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID())
	}
	db := s.Path()
	read := func(t *testing.T, out string) [][]string {
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("csv: %v\n%s", err, out)
		}
		return recs
	}
	seconds := func(t *testing.T, v string) {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			t.Errorf("duration %q is not a number of seconds", v)
		}
	}

	t.Run("compare csv", func(t *testing.T) {
		recs := read(t, runsOut(t, "compare", "-db", db, "-format", "csv", ids[0][:8], ids[1][:8]))
		row := func(label string) []string {
			for _, r := range recs {
				if r[0] == label && len(r) == 3 {
					return r[1:]
				}
			}
			t.Fatalf("no row %s:\n%q", label, recs)
			return nil
		}
		if got := recs[0]; got[0] != "run_id" || got[1] != ids[0] || got[2] != ids[1] {
			t.Errorf("header %q, want full run ids", got)
		}
		if got := row("metrics.m0"); got[0] != "0.123456789012345" || got[1] != "0.98765432109876" {
			t.Errorf("metrics.m0 %q", got)
		}
		if got := row("name"); got[0] != "pipeline" || got[1] != "pipeline" {
			t.Errorf("name %q", got)
		}
		seconds(t, row("duration_seconds")[0])
	})
	t.Run("list csv", func(t *testing.T) {
		recs := read(t, runsOut(t, "list", "-db", db, "-format", "csv"))
		head := strings.Join(recs[0], ",")
		if !strings.Contains(head, "metrics.m0") || !strings.Contains(head, "metrics.m7") {
			t.Errorf("list csv lacks metrics: %s", head)
		}
		row := recs[2] // oldest last
		if row[0] != ids[0] || !slices.Contains(row, "0.123456789012345") || !slices.Contains(row, "7.123456789012345") {
			t.Errorf("list csv row %q", row)
		}
		seconds(t, row[slices.Index(recs[0], "duration_seconds")])
	})
	t.Run("list csv columns", func(t *testing.T) {
		recs := read(t, runsOut(t, "list", "-db", db, "-format", "csv", "-columns", "metrics.m1,duration", "-order", "start_time"))
		// The two runs may start in the same millisecond: find the first
		// by its id.
		i := slices.IndexFunc(recs, func(r []string) bool { return len(r) > 0 && r[0] == ids[0] })
		if i < 0 {
			t.Fatalf("no row for run %s:\n%q", ids[0], recs)
		}
		row := recs[i]
		if !slices.Contains(row, "1.123456789012345") {
			t.Errorf("metrics.m1 in %q", row)
		}
		seconds(t, row[len(row)-1])
	})
	t.Run("export csv", func(t *testing.T) {
		recs := read(t, runsOut(t, "export", "-db", db, "-order", "start_time"))
		seconds(t, recs[1][7])
	})
	// The table for people stays short.
	if out := runsOut(t, "list", "-db", db); strings.Contains(out, "metrics.m7") || !strings.Contains(out, "0.123457") {
		t.Errorf("table:\n%s", out)
	}
}

// A table shows the held-out scores first, timings last, and names the
// metrics it leaves out.
func TestRunsListMetricColumns(t *testing.T) {
	s := openTemp(t)
	r, err := s.StartRun("e", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range []string{"a_loss", "b_score", "c_score", "fit_time_s", "precision", "recall", "test_accuracy", "train_accuracy"} {
		r.LogMetric(k, float64(i), 0)
	}
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	out := runsOut(t, "list", "-db", s.Path())
	head := strings.Fields(strings.SplitN(out, "\n", 2)[0])
	if want := []string{"metrics.test_accuracy", "metrics.a_loss", "metrics.b_score", "metrics.c_score", "metrics.precision", "metrics.recall"}; strings.Join(head[6:], " ") != strings.Join(want, " ") {
		t.Errorf("metric columns %v, want %v\n%s", head[6:], want, out)
	}
	if !strings.Contains(out, "(metrics not shown: train_accuracy, fit_time_s; -columns picks them") {
		t.Errorf("no note of the metrics left out:\n%s", out)
	}
}

// Tables escape control characters, which would break rows or recolour
// the terminal, and align wide characters by the columns they take;
// JSON keeps the text exact.
func TestRunsTableText(t *testing.T) {
	s := openTemp(t)
	evil := "模型\x1b[31m\nx"
	a, err := s.StartRun("実験", &RunOptions{Name: evil, Params: map[string]any{"p": "a\tb"}, Tags: map[string]string{"t": "\u202egnp.exe"}})
	if err != nil {
		t.Fatal(err)
	}
	a.Finish()
	b, err := s.StartRun("plain", &RunOptions{Name: "b", Params: map[string]any{"p": "c"}})
	if err != nil {
		t.Fatal(err)
	}
	b.Finish()
	db := s.Path()

	// aligned fails unless line i of out has words[i] at the same
	// display column, and out has no raw control characters.
	aligned := func(t *testing.T, out string, words ...string) {
		t.Helper()
		if strings.ContainsAny(out, "\x1b\u202e\t") {
			t.Errorf("raw control characters in\n%s", out)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(words) {
			t.Fatalf("%d lines, want %d:\n%s", len(lines), len(words), out)
		}
		col := -1
		for i, line := range lines {
			j := strings.Index(line, words[i])
			if j < 0 {
				t.Fatalf("line without %q: %q", words[i], line)
			}
			if w := textWidth(line[:j]); col < 0 {
				col = w
			} else if w != col {
				t.Errorf("%q at column %d, want %d:\n%s", words[i], w, col, out)
			}
		}
	}
	list := runsOut(t, "list", "-db", db, "-columns", "params.p,tags.t", "-order", "name DESC")
	aligned(t, list, "STATUS", "FINISHED", "FINISHED")
	aligned(t, runsOut(t, "list", "-db", db, "-columns", "params.p,tags.t", "-experiment", "実験"), "tags.t", `\u202egnp`)
	if !strings.Contains(list, `模型\x1b[31m\nx`) || !strings.Contains(list, `a\tb`) || !strings.Contains(list, `\u202egnp.exe`) {
		t.Errorf("list does not show the escapes:\n%s", list)
	}
	aligned(t, runsOut(t, "experiments", "-db", db), "RUNS", "1", "1")
	show := runsOut(t, "show", "-db", db, a.ID())
	if strings.ContainsAny(show, "\x1b\u202e") || !strings.Contains(show, `模型\x1b[31m\nx`) {
		t.Errorf("show:\n%s", show)
	}
	cmp := runsOut(t, "compare", "-db", db, a.ID(), b.ID())
	if !strings.Contains(cmp, `a\tb`) {
		t.Errorf("compare:\n%s", cmp)
	}
	// The first line is the runs' names, the last the param.
	cmpLines := strings.Split(strings.TrimSuffix(cmp, "\n"), "\n")
	aligned(t, cmpLines[0]+"\n"+cmpLines[len(cmpLines)-1], "  b", "  c")
	var runs []runJSON
	if err := json.Unmarshal([]byte(runsOut(t, "list", "-db", db, "-format", "json", "-order", "name DESC")), &runs); err != nil {
		t.Fatal(err)
	}
	if runs[0].Name != evil || runs[0].Params["p"] != "a\tb" || runs[0].Experiment != "実験" {
		t.Errorf("json changed the text: %+v", runs[0])
	}
}

func TestTextWidth(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"abc", 3},
		{"精度", 4},
		{"テスト1", 7},
		{"e\u0301", 1},    // combining accent
		{"😀", 2},          // emoji
		{"\uff71", 1},     // halfwidth katakana
		{"\uff21", 2},     // fullwidth A
		{"한국어", 6},        // Hangul
		{"a\u200bb", 2},   // zero-width space
		{"\U00020000", 2}, // CJK extension B
	}
	for _, tt := range tests {
		if got := textWidth(tt.s); got != tt.want {
			t.Errorf("textWidth(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

func TestEscapeControl(t *testing.T) {
	tests := []struct {
		s       string
		keepTab bool
		want    string
	}{
		{"plain 精度", false, "plain 精度"},
		{"a\nb\r", false, `a\nb\r`},
		{"\x1b[31mred\x1b[0m", false, `\x1b[31mred\x1b[0m`},
		{"a\tb", false, `a\tb`},
		{"\ta\x07", true, "\ta\\x07"},
		{"\u0085 \u202e \u2066", false, `\x85 \u202e \u2066`},
		{"bad\xff", false, `bad\xff`},
	}
	for _, tt := range tests {
		if got := escapeControl(tt.s, tt.keepTab); got != tt.want {
			t.Errorf("escapeControl(%q, %v) = %q, want %q", tt.s, tt.keepTab, got, tt.want)
		}
	}
}

// A metric logged several times shows its latest value, marked so that it
// is not taken for a summary; data for programs stays a plain number.
func TestRunsLastOf(t *testing.T) {
	s := openTemp(t)
	start := func(name string, folds ...float64) string {
		r, err := s.StartRun("e", &RunOptions{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range folds {
			r.LogMetric("fold_acc", v, i)
		}
		r.LogMetric("mean_acc", 0.5, 0)
		if err := r.Finish(); err != nil {
			t.Fatal(err)
		}
		return r.ID()
	}
	a := start("cv", 0.9, 0.8, 1, 0.95, 0.857)
	b := start("single", 0.7)
	db := s.Path()
	note := "(last of N: the latest of N values logged"
	tests := []struct {
		name          string
		args          []string
		want, notWant []string
	}{
		{"list", []string{"list", "-db", db, "-order", "name"},
			[]string{"0.857 (last of 5)", "0.7\n", note}, []string{"0.5 (", "0.7 ("}},
		{"list without several values", []string{"list", "-db", db, "-columns", "metrics.mean_acc"},
			nil, []string{"(last of", note}},
		{"compare", []string{"compare", "-db", db, a, b},
			[]string{"0.857 (last of 5)  0.7\n", note}, []string{"0.5 ("}},
		{"csv", []string{"list", "-db", db, "-format", "csv"}, []string{",0.857\n"}, []string{"last of"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := runsOut(t, tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}

// A prefix that several runs share names them.
func TestAmbiguousRunPrefix(t *testing.T) {
	s := openTemp(t)
	byFirst := map[byte][]string{}
	for range 40 {
		r, err := s.StartRun("e", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Finish()
		byFirst[r.ID()[0]] = append(byFirst[r.ID()[0]], r.ID())
	}
	for c, ids := range byFirst {
		if len(ids) < 2 {
			continue
		}
		_, err := s.GetRun(string(c))
		if err == nil || !strings.Contains(err.Error(), "is ambiguous: runs "+ids[0][:1]) || !strings.Contains(err.Error(), ids[1]) && !strings.Contains(err.Error(), "more") {
			t.Errorf("prefix %c of %v: %v", c, ids, err)
		}
		return
	}
	t.Skip("no two of 40 runs share a first character")
}

// runs list shows the metrics most runs have first: with a grid search and
// a cross-validation among many fits, the fits' test_accuracy is shown,
// not hidden behind the search's rarer ones.
func TestListColumnsMostCommonFirst(t *testing.T) {
	var runs []RunInfo
	for i := 0; i < 5; i++ {
		runs = append(runs, RunInfo{ID: fmt.Sprint("fit", i), Metrics: map[string]float64{"test_accuracy": 0.9, "fit_time_s": 0.1}})
	}
	runs = append(runs,
		RunInfo{ID: "grid", Metrics: map[string]float64{"best_accuracy": 0.95, "best_std_accuracy": 0.01, "best_threshold": 0.5, "duration_s": 2}},
		RunInfo{ID: "cv", Metrics: map[string]float64{"mean_accuracy": 0.94, "std_accuracy": 0.02, "mean_f1": 0.9, "mean_roc_auc": 0.97, "duration_s": 1}},
	)
	cols, hidden, err := listColumns(runsFlags{}, runs, true)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(colNames(cols), " ")
	want := "metrics.test_accuracy metrics.best_accuracy metrics.best_threshold metrics.mean_accuracy metrics.mean_f1 metrics.mean_roc_auc"
	if got != want {
		t.Errorf("columns %s\nwant    %s (hidden %v)", got, want, hidden)
	}
}
