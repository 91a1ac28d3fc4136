package export

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/export/jobrt"
	"github.com/gopherlab/gopherlab/tracking"
)

func TestInjectParams(t *testing.T) {
	nb := testNotebook(t,
		cell("# t", "md"),
		cell("n := 3\nrate := 0.5\nname := \"a\"\nok := false\nseed := int64(1)", "parameters"),
		cell("old = 1", "injected-parameters"),
		cell("println(n)", "train"),
	)
	tests := []struct {
		values map[string]string
		want   string // injected cell source; "" for none
		err    string
	}{
		{values: nil, want: ""},
		{values: map[string]string{"rate": "2", "n": "10", "name": "iris \"v2\".csv", "ok": "true", "seed": "-5"},
			want: "// Parameters injected by gopherlab run\nn = 10\nname = \"iris \\\"v2\\\".csv\"\nok = true\nrate = 2.0\nseed = -5"},
		{values: map[string]string{"rate": "1e-3"}, want: "// Parameters injected by gopherlab run\nrate = 0.001"},
		{values: map[string]string{"n": "2.5"}, err: `parameter n: "2.5" is not an int`},
		{values: map[string]string{"rate": "fast"}, err: `parameter rate: "fast" is not a finite float64`},
		{values: map[string]string{"rate": "NaN"}, err: `is not a finite float64`},
		{values: map[string]string{"ok": "yes"}, err: `parameter ok: "yes" is not a bool`},
		{values: map[string]string{"depth": "3"}, err: `unknown parameter "depth" (the parameters cell has n, rate, name, ok, seed)`},
	}
	for _, tt := range tests {
		out, err := InjectParams(nb, tt.values)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("InjectParams(%v) error = %v, want %q", tt.values, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var injected []*Cell
		for _, c := range out.Cells {
			if c.HasTag(TagInjected) {
				injected = append(injected, c)
			}
		}
		if tt.want == "" {
			if len(injected) != 0 || len(out.Cells) != 3 {
				t.Errorf("InjectParams(%v) kept or added an injected cell", tt.values)
			}
			continue
		}
		if len(injected) != 1 || out.Cells[2] != injected[0] {
			t.Fatalf("InjectParams(%v): want one injected cell right after the parameters cell", tt.values)
		}
		if injected[0].Source != tt.want {
			t.Errorf("InjectParams(%v) =\n%s\nwant\n%s", tt.values, injected[0].Source, tt.want)
		}
		// The injected cell is what Select reads back.
		sel, err := Select(out, SelectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range tt.values {
			p, _ := sel.Param(name)
			want, _ := ParseParam(p.Type, v, false)
			if p.Value != want {
				t.Errorf("after injection %s = %s, want %s", name, p.Value, want)
			}
		}
	}
	if _, err := InjectParams(testNotebook(t, cell("x := 1", "train")), map[string]string{"x": "2"}); err == nil || !strings.Contains(err.Error(), "no cell tagged \"parameters\"") {
		t.Errorf("no parameters cell: error = %v", err)
	}
}

// A run names a failing cell by its index in the notebook the user wrote,
// not in the one with the injected parameters cell.
func TestCellNumber(t *testing.T) {
	nb := testNotebook(t,
		cell("# t", "md"),
		cell("n := 3", "parameters"),
		cell("println(n)", "train"),
		cell("old = 1", "injected-parameters"),
		cell("println(n + 1)", "evaluate"),
	)
	type num struct {
		n        int
		injected bool
	}
	for _, tt := range []struct {
		values map[string]string
		want   []num // for each cell of the notebook run
	}{
		{nil, []num{{0, false}, {1, false}, {2, false}, {4, false}}},
		{map[string]string{"n": "5"}, []num{{0, false}, {1, false}, {1, true}, {2, false}, {4, false}}},
	} {
		out, err := InjectParams(nb, tt.values)
		if err != nil {
			t.Fatal(err)
		}
		var got []num
		for i := range out.Cells {
			n, injected := out.cellNumber(i)
			got = append(got, num{n, injected})
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("InjectParams(%v): cell numbers %v, want %v", tt.values, got, tt.want)
		}
	}
	if n, injected := nb.cellNumber(3); n != 3 || injected {
		t.Errorf("a notebook as read: cell 3 is %d %v", n, injected)
	}
	for _, tt := range []struct {
		err  ExecutionError
		want string
	}{
		{ExecutionError{Cell: 2, Ename: "panic", Evalue: "boom"}, "cell 2 failed: panic: boom"},
		{ExecutionError{Cell: 1, Injected: true, Ename: "error", Evalue: "undefined: n"}, "the injected parameters cell (after cell 1) failed: error: undefined: n"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("error %q, want %q", got, tt.want)
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	var p paramFlags = map[string]string{}
	fs := newTestFlagSet(&p)
	pos, err := parseInterspersed(fs, []string{"nb.ipynb", "-p", "a=1", "-p", "b= x=y ", "-o", "out.ipynb"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pos) != 1 || pos[0] != "nb.ipynb" || p["a"] != "1" || p["b"] != " x=y " || fs.Lookup("o").Value.String() != "out.ipynb" {
		t.Errorf("pos %v params %v o %v", pos, p, fs.Lookup("o").Value)
	}
	for _, bad := range [][]string{{"-p", "novalue"}, {"-p", "a=1", "-p", "a=2"}, {"-p", "=1"}} {
		p = map[string]string{}
		if _, err := parseInterspersed(newTestFlagSet(&p), bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func newTestFlagSet(p *paramFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(*p, "p", "")
	fs.String("o", "", "")
	return fs
}

// ParamValues reads the parameters' values as gopherlab run records them
// on runs: the parameters cell's, replaced by the injected cell's, as
// command-line text.
func TestParamValues(t *testing.T) {
	nb := testNotebook(t,
		cell("n := 3\nrate := 0.5\nname := \"a b\"", "parameters"),
		cell("println(n)", "train"),
	)
	got, err := ParamValues(nb)
	if want := map[string]string{"n": "3", "rate": "0.5", "name": "a b"}; err != nil || !maps.Equal(got, want) {
		t.Errorf("ParamValues = %v, %v; want %v", got, err, want)
	}
	inj, err := InjectParams(nb, map[string]string{"rate": "2", "name": `x"y`})
	if err != nil {
		t.Fatal(err)
	}
	got, err = ParamValues(inj)
	if want := map[string]string{"n": "3", "rate": "2.0", "name": `x"y`}; err != nil || !maps.Equal(got, want) {
		t.Errorf("ParamValues after injection = %v, %v; want %v", got, err, want)
	}
	if got, err := ParamValues(testNotebook(t, cell("x := 1", "train"))); err != nil || got != nil {
		t.Errorf("no parameters cell: %v, %v", got, err)
	}
}

// export --run takes the run's recorded parameter values, and refuses a
// run the exported cells did not make.
func TestRunCellAndParams(t *testing.T) {
	nb := testNotebook(t,
		cell("c := 1.0\nfolds := 5", "parameters"),
		cell("x := c * 2", "train"),
		cell("y := 3", "skip"),
		cell("z := 4"),
	)
	sel, err := Select(nb, SelectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nop := func(string, ...any) {}
	for _, tt := range []struct {
		ri   tracking.RunInfo
		want string // error; "" for none
	}{
		{tracking.RunInfo{ID: "aaaaaaaa-1", Source: "x := c * 2"}, ""},
		{tracking.RunInfo{ID: "aaaaaaaa-2", Source: ""}, ""},
		{tracking.RunInfo{ID: "aaaaaaaa-3", Source: "gopherlab job nb: cell 1 (train)"}, ""},
		{tracking.RunInfo{ID: "aaaaaaaa-4", Source: "edited since"}, ""},
		{tracking.RunInfo{ID: "aaaaaaaa-5", Name: "fold 2", ParentID: "bbbbbbbb-1", Source: "x := c * 2"}, `"fold 2" is part of run bbbbbbbb`},
		{tracking.RunInfo{ID: "aaaaaaaa-6", Source: "y := 3"}, "cell 2, which the export leaves out (tagged skip)"},
		{tracking.RunInfo{ID: "aaaaaaaa-7", Source: "z := 4\n"}, "cell 3, which the export leaves out (untagged"},
		{tracking.RunInfo{ID: "aaaaaaaa-8", Source: "x := c * 2", Notebook: "/elsewhere/nb.ipynb"}, ""}, // moved
		{tracking.RunInfo{ID: "aaaaaaaa-9", Source: "x := c * 2", Notebook: "/work/other.ipynb"}, "the run was made by notebook /work/other.ipynb, not nb.ipynb"},
	} {
		err := checkRunCell(sel, "/work/nb.ipynb", &tt.ri, nop)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("run %s: error %v, want %q", tt.ri.ID, err, tt.want)
		}
	}
	var logged []string
	logf := func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }
	tr := &jobrt.TrackedRun{ID: "cccccccc-1", Params: map[string]string{"notebook.c": "0.5", "logisticregression.C": "0.5"}}
	if err := applyRunParams(sel, tr, logf); err != nil {
		t.Fatal(err)
	}
	if p, _ := sel.Param("c"); p.Value != "0.5" {
		t.Errorf("c = %s, want the run's 0.5", p.Value)
	}
	if p, _ := sel.Param("folds"); p.Value != "5" {
		t.Errorf("folds = %s, want the notebook's 5", p.Value)
	}
	if s := strings.Join(logged, "\n"); !strings.Contains(s, "parameters from run cccccccc: c=0.5") || !strings.Contains(s, "does not record folds=5") {
		t.Errorf("export log:\n%s", s)
	}
	tr.Params["notebook.folds"] = "many"
	if err := applyRunParams(sel, tr, nop); err == nil || !strings.Contains(err.Error(), `parameter folds: "many" is not an int`) {
		t.Errorf("bad recorded value: %v", err)
	}
}
