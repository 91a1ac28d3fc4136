package tracking

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunsCommand(t *testing.T) {
	s := fixture(t)
	db := s.Path()
	ids, _ := s.SearchRunIDs(SearchQuery{OrderBy: "name"}) // forest-1, forest-2, knn-1, noacc, svm-1, wine-forest
	r, _ := s.StartRun("iris", &RunOptions{Name: "with-extras", ParentID: ids[0], Source: "x := 1\ny := 2"})
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
				if len(lines) != 4 || !strings.Contains(lines[1], "wine-forest") || !strings.Contains(lines[3], "knn-1") {
					t.Errorf("rows:\n%s", out)
				}
			}},
		{name: "flags after nothing, experiment", args: []string{"list", "-experiment", "wine", "-db", db},
			want: []string{"noacc", "wine-forest"}, notWant: []string{"forest-1"}},
		{name: "columns", args: []string{"list", "-db", db, "-columns", "params.model,tags.stage,status", "-filter", `name = "forest-1"`},
			want: []string{"params.model", "tags.stage", "forest", "prod", "FINISHED"}},
		{name: "limit", args: []string{"list", "-db", db, "-limit", "2", "-order", "name"},
			want: []string{"first 2 runs"}, notWant: []string{"svm-1"}},
		{name: "no match", args: []string{"list", "-db", db, "-filter", "metrics.accuracy > 5"}, want: []string{"no runs match"}},
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
			}},
		{name: "show by prefix, interspersed flags", args: []string{"show", r.ID()[:8], "-db", db},
			want: []string{r.ID(), "with-extras", "metrics (latest value)", "acc", "0.75", "(2 points)",
				"model.bin", "3 B", "tiny", "2 rows x 1 cols", "shapes", "2 rows x 3 cols (2 categorical)", "parent", ids[0], "source", "  x := 1", "  y := 2"}},
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
			want: []string{"field,forest-1,forest-2", "params.depth,5,10"}},
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
		{name: "experiments", args: []string{"experiments", "-db", db}, want: []string{"EXPERIMENT", "iris", "wine"}},
		{name: "help", args: []string{"help"}, want: []string{"usage: gopherlab runs"}},
		{name: "no command", args: nil, wantErr: "missing command"},
		{name: "unknown command", args: []string{"frobnicate"}, wantErr: "unknown command"},
		{name: "bad flag", args: []string{"list", "-bogus"}, wantErr: "flag provided but not defined"},
		{name: "bad format", args: []string{"list", "-db", db, "-format", "xml"}, wantErr: "want table, json, csv"},
		{name: "parse error with caret", args: []string{"list", "-db", db, "-filter", "metrics.a >"}, wantErr: "column 12: expected a value after >, found end of input\n  metrics.a >\n             ^"},
		{name: "unknown run", args: []string{"show", "-db", db, "ffffffff"}, wantErr: "not found"},
		{name: "missing db", args: []string{"list", "-db", filepath.Join(t.TempDir(), "none.db")}, wantErr: "no tracking database"},
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
