package tracking

import (
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// fixture builds a small database of runs to search.
func fixture(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir() + "/search.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	type spec struct {
		exp, name string
		params    map[string]interface{}
		metrics   map[string]float64
		tags      map[string]string
		end       string // "" leaves the run RUNNING
	}
	for _, sp := range []spec{
		{"iris", "forest-1", map[string]interface{}{"model": "forest", "depth": 5, "lr": 0.1}, map[string]float64{"accuracy": 0.95, "loss": 0.1}, map[string]string{"stage": "prod"}, StatusFinished},
		{"iris", "forest-2", map[string]interface{}{"model": "forest", "depth": 10}, map[string]float64{"accuracy": 0.88}, map[string]string{"stage": "dev"}, StatusFinished},
		{"iris", "knn-1", map[string]interface{}{"model": "knn", "k": 3}, map[string]float64{"accuracy": 0.92}, nil, StatusFailed},
		{"iris", "svm-1", map[string]interface{}{"model": "svm"}, map[string]float64{"accuracy": 0.85}, map[string]string{"stage": "Prod"}, StatusKilled},
		{"wine", "wine-forest", map[string]interface{}{"model": "forest"}, map[string]float64{"accuracy": 0.97}, nil, ""},
		{"wine", "noacc", map[string]interface{}{"model": "knn"}, nil, nil, StatusFinished},
	} {
		r, err := s.StartRun(sp.exp, &RunOptions{Name: sp.name, Params: sp.params, Tags: sp.tags})
		if err != nil {
			t.Fatal(err)
		}
		// Older values first: only the last one counts.
		for k, v := range sp.metrics {
			r.LogMetric(k, 0, 0)
			r.LogMetric(k, v, 1)
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		if sp.end != "" {
			if err := r.End(sp.end); err != nil {
				t.Fatal(err)
			}
		} else {
			// Keep it RUNNING past Close.
			s.mu.Lock()
			delete(s.open, r)
			s.mu.Unlock()
		}
	}
	return s
}

func names(runs []RunInfo) []string {
	out := []string{}
	for _, r := range runs {
		out = append(out, r.Name)
	}
	return out
}

func TestSearchFilters(t *testing.T) {
	s := fixture(t)
	all := []string{"forest-1", "forest-2", "knn-1", "noacc", "svm-1", "wine-forest"}
	tests := []struct {
		filter string
		want   []string
	}{
		{"", all},
		{"metrics.accuracy > 0.9", []string{"forest-1", "knn-1", "wine-forest"}},
		{`metrics.accuracy > 0.9 and (params.model = "forest" or params.model = "knn")`, []string{"forest-1", "knn-1", "wine-forest"}},
		{`metrics.accuracy > 0.9 AND params.model = 'forest'`, []string{"forest-1", "wine-forest"}},
		{`metrics.accuracy < 0.9 or tags.stage = "dev"`, []string{"forest-2", "svm-1"}},
		{`NOT params.model = "forest"`, []string{"knn-1", "noacc", "svm-1"}},
		{`NOT (metrics.accuracy > 0.9)`, []string{"forest-2", "noacc", "svm-1"}},
		{`not not metrics.accuracy > 0.9`, []string{"forest-1", "knn-1", "wine-forest"}},
		{"params.depth > 6", []string{"forest-2"}}, // numeric, not "5" > "10" as text
		{"params.depth >= 5 and params.depth <= 5", []string{"forest-1"}},
		{"params.lr = 0.1", []string{"forest-1"}},
		{`params.lr = "0.1"`, []string{"forest-1"}},
		{`params.model != "forest"`, []string{"knn-1", "noacc", "svm-1"}},
		{`params.model <> "forest"`, []string{"knn-1", "noacc", "svm-1"}},
		{`params.model LIKE "f%"`, []string{"forest-1", "forest-2", "wine-forest"}},
		{`params.model LIKE "F%"`, []string{}},
		{`params.model ILIKE "F%"`, []string{"forest-1", "forest-2", "wine-forest"}},
		{`params.model NOT LIKE "f%"`, []string{"knn-1", "noacc", "svm-1"}},
		{`params.model IN ("knn", "svm")`, []string{"knn-1", "noacc", "svm-1"}},
		{`params.model NOT IN ("knn", "svm")`, []string{"forest-1", "forest-2", "wine-forest"}},
		{`tags.stage = "prod"`, []string{"forest-1"}},
		{`tags.stage ILIKE "prod"`, []string{"forest-1", "svm-1"}},
		{`status = "finished"`, []string{"forest-1", "forest-2", "noacc"}},
		{`status != "FINISHED"`, []string{"knn-1", "svm-1", "wine-forest"}},
		{`attributes.status IN ("KILLED", "failed")`, []string{"knn-1", "svm-1"}},
		{`experiment = "wine"`, []string{"noacc", "wine-forest"}},
		{"metrics.loss IS NULL", []string{"forest-2", "knn-1", "noacc", "svm-1", "wine-forest"}},
		{"metrics.accuracy is not null", []string{"forest-1", "forest-2", "knn-1", "svm-1", "wine-forest"}},
		{`name LIKE "forest-%"`, []string{"forest-1", "forest-2"}},
		{"end_time IS NULL", []string{"wine-forest"}},
		{`start_time > "2000-01-01" and start_time < "2999-12-31 23:59:59"`, all},
		{"start_time < 0", []string{}},
		{"duration >= 0", all},
		{"parent_run_id IS NULL", all},
		{`params.model = "x' OR 1=1 --"`, []string{}},
		{`params.model = "forest\"; DROP TABLE runs; --"`, []string{}},
		{`metrics.accuracy = "0.95"`, []string{"forest-1"}},
		{`metric.accuracy >= 0.95 and attributes.status = "FINISHED"`, []string{"forest-1"}},
		{"params.`model` = \"forest\" and experiment_name = 'iris'", []string{"forest-1", "forest-2"}},
		{`params."model" = "knn"`, []string{"knn-1", "noacc"}},
		{"metrics.accuracy == 0.92", []string{"knn-1"}},
		{"metrics.accuracy > -1e3 AND metrics.accuracy < +1", []string{"forest-1", "forest-2", "knn-1", "svm-1", "wine-forest"}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			runs, err := s.SearchRuns(SearchQuery{Filter: tt.filter})
			if err != nil {
				t.Fatal(err)
			}
			got := names(runs)
			sort.Strings(got)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	// The injection attempts did nothing.
	if runs, err := s.SearchRuns(SearchQuery{}); err != nil || len(runs) != len(all) {
		t.Fatalf("after injection attempts: %d runs, %v", len(runs), err)
	}
	// A run id as runs list shows it (its first 8 characters) selects the
	// run; a full one too; != leaves it out.
	runs, _ := s.SearchRuns(SearchQuery{Filter: `name = "knn-1"`})
	id := runs[0].ID
	for filter, want := range map[string][]string{
		`run_id = "` + id[:8] + `"`:                     {"knn-1"},
		`run_id = "` + id + `"`:                         {"knn-1"},
		`run_id IN ("` + id[:8] + `", "zz")`:            {"knn-1"},
		`run_id != "` + id[:8] + `" and name LIKE "k%"`: {},
		`parent_run_id = "` + id[:8] + `"`:              {},
	} {
		runs, err := s.SearchRuns(SearchQuery{Filter: filter})
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		if got := names(runs); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", filter, got, want)
		}
	}
}

func TestSearchOrderLimit(t *testing.T) {
	s := fixture(t)
	tests := []struct {
		q    SearchQuery
		want []string
	}{
		{SearchQuery{OrderBy: "metrics.accuracy DESC"}, []string{"wine-forest", "forest-1", "knn-1", "forest-2", "svm-1", "noacc"}},
		{SearchQuery{OrderBy: "metrics.accuracy"}, []string{"svm-1", "forest-2", "knn-1", "forest-1", "wine-forest", "noacc"}},
		{SearchQuery{OrderBy: "metrics.accuracy desc", Limit: 2}, []string{"wine-forest", "forest-1"}},
		{SearchQuery{Experiment: "iris", OrderBy: "params.depth DESC, name ASC"}, []string{"forest-2", "forest-1", "knn-1", "svm-1"}},
		{SearchQuery{Experiment: "wine", OrderBy: "name"}, []string{"noacc", "wine-forest"}},
		{SearchQuery{Filter: `params.model = "forest"`, OrderBy: "experiment DESC, metrics.accuracy ASC"}, []string{"wine-forest", "forest-2", "forest-1"}},
	}
	for _, tt := range tests {
		runs, err := s.SearchRuns(tt.q)
		if err != nil {
			t.Fatalf("%+v: %v", tt.q, err)
		}
		if got := names(runs); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%+v: got %v, want %v", tt.q, got, tt.want)
		}
	}
	var pe *ParseError
	if _, err := s.SearchRuns(SearchQuery{OrderBy: "metrics.accuracy sideways"}); !errors.As(err, &pe) || !strings.Contains(err.Error(), "order") {
		t.Errorf("bad order: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in     string
		column int
		msg    string
	}{
		{"metrics.accuracy >", 19, "expected a value"},
		{"metrics.accuracy > 0.9 and", 27, "expected a comparison, found end of input"},
		{"(metrics.a > 1", 1, "unclosed parenthesis"},
		{"metrics.a > 1)", 14, `unexpected ")"`},
		{"foo = 1", 1, `unknown field "foo"`},
		{`metrics.a = "x"`, 13, "metrics are numbers"},
		{"params.a = forest", 12, "quote strings"},
		{`status = "done"`, 10, "status is one of"},
		{"metrics.a ! 1", 11, `unexpected "!"`},
		{`params.a = "abc`, 12, "unterminated string"},
		{"metrics.a > 1.2.3", 13, "malformed number"},
		{"metrics.a > 1e999", 13, "out of range"},
		{"metrics. > 1", 9, "expected a name"},
		{"bogus.x = 1", 1, "unknown field prefix"},
		{`metrics.a LIKE "x%"`, 16, "metrics are numbers"},
		{"params.a IN 1", 13, `expected "("`},
		{`params.a IN ("x" "y")`, 18, `expected "," or ")"`},
		{"name IS NULL", 1, "never NULL"},
		{"params.a = 1 params.b = 2", 14, "expected AND, OR"},
		{`start_time > "yesterday"`, 14, "cannot read"},
		{"é = 1", 1, "unexpected character"},
		{"metrics.a = 1 and é", 19, "unexpected character"},
		{"metrics", 8, `expected "." and a name`},
		{"params.x NOT = 1", 14, "expected LIKE, ILIKE or IN after NOT"},
		{"seed LIKE 'x'", 11, "is a number"},
		{"and", 1, "expected a field"},
		{strings.Repeat("(", 150) + "metrics.a > 1" + strings.Repeat(")", 150), 101, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseFilter(tt.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Column() != tt.column || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("got column %d %q, want column %d %q\n%s", pe.Column(), pe.Msg, tt.column, tt.msg, pe.Context())
			}
		})
	}
}

func TestFilterCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"metrics.a > 1 and params.b = 'x' or not tags.c like \"%y\"",
			`((metrics.a > 1 AND params.b = "x") OR NOT tags.c LIKE "%y")`},
		{"a.status = 'failed'", ""}, // replaced below: unknown prefix is an error
		{"attr.status = 'failed'", `status = "FAILED"`},
		{"params.`a b` IN (1, 'two')", "params.`a b` IN (1, \"two\")"},
		{`metrics.x = "1e2"`, "metrics.x = 100"},
		{`tags.t = "q\"uote\\n"`, `tags.t = "q\"uote\\n"`},
		{"params.x is not null", "params.x IS NOT NULL"},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.in)
		if tt.in == "a.status = 'failed'" {
			if err == nil {
				t.Errorf("%q parsed", tt.in)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if got := f.String(); got != tt.want {
			t.Errorf("%q: String() = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		"", "metrics.accuracy > 0.9",
		`metrics.accuracy > 0.9 and (params.model = "forest" or params.model = "knn")`,
		`NOT (tags.x LIKE '%a\%b') OR status IN ("running", 'KILLED')`,
		"params.`weird ``key` = -1.5e-3", `start_time >= "2026-01-02"`, "metrics.m IS NOT NULL",
		"duration > 10 and seed = 3 or end_time is null", `name = 5`, "params.x not ilike 'A_'",
		"((((metrics.a > 1))))", `params."q\"k" = 'v'`, "metrics.a > 1 and", "é", "metrics.a = .5",
	} {
		f.Add(seed)
	}
	s := fixture(f)
	f.Fuzz(func(t *testing.T, in string) {
		flt, err := ParseFilter(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%q: error %v is not a *ParseError", in, err)
			}
			if pe.Offset < 0 || pe.Offset > len(in) || pe.Column() < 1 {
				t.Fatalf("%q: bad offset %d", in, pe.Offset)
			}
			_ = pe.Context()
			return
		}
		// The canonical form parses back to itself.
		c := flt.String()
		again, err := ParseFilter(c)
		if err != nil {
			t.Fatalf("%q: canonical form %q does not parse: %v", in, c, err)
		}
		if c2 := again.String(); c2 != c {
			t.Fatalf("%q: canonical form not stable: %q then %q", in, c, c2)
		}
		// Every user value is a bound parameter.
		where, args := flt.where()
		if n := strings.Count(where, "?"); n != len(args) {
			t.Fatalf("%q: %d placeholders, %d args in %s", in, n, len(args), where)
		}
		// And the SQL is valid.
		if _, err := s.searchRunIDs(SearchQuery{Filter: in}, false); err != nil {
			t.Fatalf("%q: query failed: %v (SQL %s)", in, err, where)
		}
	})
}
