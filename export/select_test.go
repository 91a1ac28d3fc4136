package export

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// tc is a test cell: source and tags ("md" as the only tag makes a
// markdown cell).
type tc struct {
	src  string
	tags []string
}

func cell(src string, tags ...string) tc { return tc{src, tags} }

// testNotebook builds a notebook from test cells.
func testNotebook(t *testing.T, cells ...tc) *Notebook {
	t.Helper()
	var raw []map[string]any
	for _, c := range cells {
		m := map[string]any{"cell_type": "code", "metadata": map[string]any{}, "source": c.src, "outputs": []any{}, "execution_count": nil}
		if len(c.tags) == 1 && c.tags[0] == "md" {
			m = map[string]any{"cell_type": "markdown", "metadata": map[string]any{}, "source": c.src}
		} else if len(c.tags) > 0 {
			m["metadata"] = map[string]any{"tags": c.tags}
		}
		raw = append(raw, m)
	}
	data, err := json.Marshal(map[string]any{"cells": raw, "metadata": map[string]any{}, "nbformat": 4, "nbformat_minor": 5})
	if err != nil {
		t.Fatal(err)
	}
	nb, err := ParseNotebook(data)
	if err != nil {
		t.Fatal(err)
	}
	return nb
}

func TestSelect(t *testing.T) {
	params := cell("n := 3\nrate := 0.5\nname := \"iris\"\nverbose := false\nseed := int64(-7)\nvar depth int = 4\nvar (\n\tlr float64 = 1\n\tpath = `a.csv`\n)", "parameters")
	tests := []struct {
		name   string
		cells  []tc
		all    bool
		cells_ []int   // indexes of the exported cells
		params []Param // when not nil
		err    string  // substring of the error
	}{
		{
			name: "stages in order, skip and untagged left out",
			cells: []tc{
				cell("# title", "md"),
				params,
				cell("import \"fmt\"\nx := n * 2", "load"),
				cell("fmt.Println(x)"),
				cell("y := x + 1", "prepare"),
				cell("x", "skip"),
				cell("fmt.Println(y, rate, name, verbose, seed, depth, lr, path)", "evaluate", "hide-input"),
			},
			cells_: []int{1, 2, 4, 6},
			params: []Param{
				{"n", "int", "3", 1, ""}, {"rate", "float64", "0.5", 2, ""}, {"name", "string", `"iris"`, 3, ""},
				{"verbose", "bool", "false", 4, ""}, {"seed", "int64", "-7", 5, ""}, {"depth", "int", "4", 6, ""},
				{"lr", "float64", "1.0", 8, ""}, {"path", "string", `"a.csv"`, 9, ""},
			},
		},
		{
			name:   "all takes untagged cells",
			cells:  []tc{cell("x := 1"), cell("x = 2", "skip"), cell("x + 1")},
			all:    true,
			cells_: []int{0, 2},
		},
		{
			name:  "no tagged cells",
			cells: []tc{cell("x := 1"), cell("x", "skip")},
			err:   "no cell is tagged load, prepare, train or evaluate",
		},
		{
			name:  "unknown tag with suggestion",
			cells: []tc{cell("x := 1", "load"), cell("x", "trian")},
			err:   `cell 1: unknown tag "trian" (pipeline tags: parameters, load, prepare, train, evaluate, skip); did you mean "train"?`,
		},
		{
			name:  "two pipeline tags",
			cells: []tc{cell("x := 1", "load", "skip")},
			err:   `cell 0: tagged both "load" and "skip"`,
		},
		{
			name:  "parameters cell with a call",
			cells: []tc{cell("n := 1\nfmt.Println(n)", "parameters"), cell("n", "train")},
			err:   "cell 0 (parameters) line 2: fmt.Println(n) is not an assignment",
		},
		{
			name:  "parameters cell with a computed value",
			cells: []tc{cell("n := 1\nm := n * 2", "parameters")},
			err:   "cell 0 (parameters) line 2: parameter m: the value must be a literal",
		},
		{
			name:  "parameters cell with a func",
			cells: []tc{cell("n := 1\nfunc f() {}", "parameters")},
			err:   "cell 0 (parameters) line 2: func f is not an assignment",
		},
		{
			name:  "parameters cell with a const",
			cells: []tc{cell("const n = 1", "parameters")},
			err:   "const cannot be set from the command line",
		},
		{
			name:   "an assignment keeps the parameter's type",
			cells:  []tc{cell("seed := int64(7)\nseed = 8\nrate := 1.0\nrate = 2", "parameters"), cell("x := seed", "train")},
			cells_: []int{0, 1},
			params: []Param{{"seed", "int64", "8", 2, ""}, {"rate", "float64", "2.0", 4, ""}},
		},
		{
			name:  "an assignment of another type",
			cells: []tc{cell("seed := int64(7)\nseed = \"x\"", "parameters"), cell("x := seed", "train")},
			err:   `parameter seed: "x" is not an int64`,
		},
		{
			name:  "parameter of another type",
			cells: []tc{cell("var n uint8 = 1", "parameters")},
			err:   "parameter n: type uint8 is not one of int, int64, float64, string, bool",
		},
		{
			name:  "parameter value out of range",
			cells: []tc{cell("var n int = 1.5", "parameters")},
			err:   `parameter n: 1.5 is not an int`,
		},
		{
			name:  "second parameters cell",
			cells: []tc{cell("n := 1", "parameters"), cell("m := 1", "parameters")},
			err:   "cell 1 (parameters): a second parameters cell (the first is cell 0)",
		},
		{
			name:  "name defined only by an untagged cell",
			cells: []tc{cell("import \"fmt\""), cell("data := []int{1}"), cell("fmt.Println(data)", "train")},
			err:   `cell 2 (train) line 1: uses "fmt", which no exported cell defines (cell 0 defines it but is untagged)`,
		},
		{
			name:  "name defined only by a skip cell",
			cells: []tc{cell("x := 1", "load"), cell("y := x", "skip"), cell("z := x\n\nprintln(z + y)", "train")},
			err:   `cell 2 (train) line 3: uses "y", which no exported cell defines (cell 1 defines it but is tagged skip)`,
		},
		{
			name:  "name defined nowhere",
			cells: []tc{cell("x := undefinedThing + 1", "load")},
			err:   `cell 0 (load) line 1: uses "undefinedThing", which no exported cell defines`,
		},
		{
			name:  "variable used before its cell",
			cells: []tc{cell("println(later)", "load"), cell("later := 1", "train")},
			err:   `cell 0 (load) line 1: uses "later" before cell 1 defines it`,
		},
		{
			name: "functions and types may come later; locals, fields and labels are not names",
			cells: []tc{
				cell("import \"strings\"\np := point{X: 1}\nfor i := 0; i < 2; i++ { p.X += float64(i) }\nout:\nfor {\n\tbreak out\n}\nfmt := strings.ToUpper(\"a\")\n_ = fmt", "load"),
				cell("type point struct{ X float64 }\nfunc (p point) Norm() float64 { return p.X }\nfunc double(p point) float64 { return 2 * p.Norm() }", "train"),
			},
			cells_: []int{0, 1},
		},
		{
			name:  "syntax error in an exported cell",
			cells: []tc{cell("x := 1", "load"), cell("y := (x", "train")},
			err:   "cell 1 (train) line 1: syntax error",
		},
		{
			name:   "syntax error in a skipped cell is no concern",
			cells:  []tc{cell("x := 1", "load"), cell("y := (x", "skip")},
			cells_: []int{0},
		},
		{
			name:  "magic in an exported cell",
			cells: []tc{cell("x := 1", "load"), cell("%env A=1\nx", "train")},
			err:   "cell 1 (train) line 1: %env is a notebook magic",
		},
		{
			name:   "time magic is dropped",
			cells:  []tc{cell("x := 1", "load"), cell("%time y := x * 2\ny", "train")},
			cells_: []int{0, 1},
		},
		{
			name: "injected parameters override the defaults",
			cells: []tc{
				cell("n := 3\nrate := 0.5", "parameters"),
				cell("// Injected\nrate = 2\n", "injected-parameters"),
				cell("println(n, rate)", "train"),
			},
			cells_: []int{0, 2},
			params: []Param{{"n", "int", "3", 1, ""}, {"rate", "float64", "2.0", 2, ""}},
		},
		{
			name: "injected parameter that does not exist",
			cells: []tc{
				cell("n := 3", "parameters"),
				cell("m = 2", "injected-parameters"),
				cell("println(n)", "train"),
			},
			err: "cell 1 (injected-parameters) line 1: sets m, which is not a parameter",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := Select(testNotebook(t, tt.cells...), SelectOptions{All: tt.all})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, c := range sel.Cells {
				got = append(got, c.Index)
			}
			if tt.cells_ != nil && !reflect.DeepEqual(got, tt.cells_) {
				t.Errorf("cells = %v, want %v", got, tt.cells_)
			}
			if tt.params != nil && !reflect.DeepEqual(sel.Params, tt.params) {
				t.Errorf("params = %+v\nwant %+v", sel.Params, tt.params)
			}
		})
	}
}

func TestSelectIrisNotebook(t *testing.T) {
	nb, err := ReadNotebook("testdata/iris.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	sel, err := Select(nb, SelectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, c := range sel.Cells {
		tags = append(tags, c.Tag)
	}
	if want := []string{"parameters", "load", "prepare", "train", "evaluate", "evaluate"}; !reflect.DeepEqual(tags, want) {
		t.Errorf("tags = %v, want %v", tags, want)
	}
	if p, ok := sel.Param("seed"); !ok || p.Type != "int64" || p.Value != "3" {
		t.Errorf("seed = %+v", p)
	}
}

func TestCutRuns(t *testing.T) {
	tests := []struct {
		src  string
		want []runKind
	}{
		{"import \"fmt\"\nx := 1\nfmt.Println(x)", []runKind{importRun, stmtRun}},
		{"type T int\nfunc (t T) M() {}\nvar v T\nv.M()\nfunc() { v.M() }()", []runKind{declRun, stmtRun}},
		{"for i := 0; i < 3; i++ {\n}\nfunc f() {}\nf()", []runKind{stmtRun, declRun, stmtRun}},
		{"x := []int{1}; import \"os\"; var y = os.Args", []runKind{stmtRun, importRun, declRun}},
		{"const c = 1\nimport \"os\"", []runKind{declRun, importRun}},
		{"// only a comment", nil},
	}
	for _, tt := range tests {
		var got []runKind
		for _, r := range cutRuns(tt.src) {
			got = append(got, r.kind)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("cutRuns(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}

func TestNotebookRoundTrip(t *testing.T) {
	nb, err := ReadNotebook("testdata/iris.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	data, err := nb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	nb2, err := ParseNotebook(data)
	if err != nil {
		t.Fatal(err)
	}
	data2, _ := nb2.Marshal()
	if string(data) != string(data2) {
		t.Error("a notebook written and read back changes")
	}
	if nb2.Cells[1].Source != nb.Cells[1].Source || nb2.Cells[1].ID != "params" || !nb2.Cells[1].HasTag("parameters") {
		t.Errorf("cell 1 = %+v", nb2.Cells[1])
	}
	for _, bad := range []string{`{}`, `{"nbformat": 3, "cells": []}`, `{"nbformat": 4, "cells": [{"source": "x"}]}`, `[1]`} {
		if _, err := ParseNotebook([]byte(bad)); err == nil {
			t.Errorf("ParseNotebook(%s) succeeded", bad)
		}
	}
}

// TestOtherToolsTags: tags of other tools are accepted whatever they are;
// a near miss of a pipeline tag is refused with the tag it resembles.
func TestOtherToolsTags(t *testing.T) {
	for _, tag := range []string{
		"thebe-init", "remove_cell", "remove-cell", "hide_input", "hide-input", "scroll-output", "output_scroll",
		"popout", "active-ipynb", "skip-execution", "raises-exception", "nbval-skip", "margin", "full-width",
		"train_data", "my-own-tag", "todo", "slow", "figure", "papermill-error-cell-tag",
	} {
		nb := testNotebook(t, cell("x := 1", "load"), cell("y := x", tag, "train"))
		if _, err := Select(nb, SelectOptions{}); err != nil {
			t.Errorf("tag %q: %v", tag, err)
		}
	}
	for tag, want := range map[string]string{
		"trian": "train", "Train": "train", "TRAIN": "train", "training": "train", "trained": "train",
		"evaluation": "evaluate", "evalute": "evaluate", "eval": "evaluate", "Evaluate": "evaluate",
		"parameter": "parameters", "params": "parameters", "Parameters": "parameters",
		"laod": "load", "loading": "load", "prep": "prepare", "prepared": "prepare", "preprare": "prepare",
		"skipped": "skip", "Skip": "skip", "skp": "skip",
	} {
		nb := testNotebook(t, cell("x := 1", "load"), cell("y := x", tag))
		_, err := Select(nb, SelectOptions{})
		if err == nil || !strings.Contains(err.Error(), `unknown tag "`+tag+`"`) || !strings.Contains(err.Error(), `did you mean "`+want+`"?`) {
			t.Errorf("tag %q: %v, want unknown tag, did you mean %q", tag, err, want)
		}
	}
}

// TestParametersOnly: papermill's one tag makes no pipeline; the export
// says so as for a notebook with no tagged cell, unless --all.
func TestParametersOnly(t *testing.T) {
	nb := testNotebook(t, cell("n := 3", "parameters"), cell("x := n * 2"), cell("x", "skip"))
	_, err := Select(nb, SelectOptions{})
	if err == nil || !strings.Contains(err.Error(), "no cell is tagged load, prepare, train or evaluate") || !strings.Contains(err.Error(), "--all") {
		t.Errorf("parameters only: %v", err)
	}
	if sel, err := Select(nb, SelectOptions{All: true}); err != nil || len(sel.Cells) != 2 {
		t.Errorf("parameters only, --all: %v", err)
	}
}

// TestMagicMidCell: a magic the kernel runs where it stands, after Go
// code, gets the same clear error as one at the top of the cell; %time is
// dropped wherever it is; a line starting with ! or % inside Go code (an
// expression continued, a raw string) is Go's.
func TestMagicMidCell(t *testing.T) {
	for _, tt := range []struct{ src, err string }{
		{"y := x\n%env X=1\nz := y", "line 2: %env is a notebook magic"},
		{"y := x\n\n   %autolog off\nz := y", "line 3: %autolog is a notebook magic"},
		{"if x > 0 {\n\tx++\n}\n!ls -l", "line 4: !ls is a notebook magic"},
		{"y := x\n%timeit y++", "line 2: %timeit is a notebook magic"},
		{"y := x\n%time z := y * 2\nprintln(z)", ""},
		{"y := x > 0 &&\n\t!(x > 5)\nprintln(y)", ""},
		{"s := `\n%env X=1\n`\nprintln(s)", ""},
		{"y := x\n/*\n%env X=1\n*/\nprintln(y)", ""},
	} {
		nb := testNotebook(t, cell("x := 1", "load"), cell(tt.src, "train"))
		_, err := Select(nb, SelectOptions{})
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%q: %v", tt.src, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), "cell 1 (train) "+tt.err) || !strings.Contains(err.Error(), "tag the cell skip")):
			t.Errorf("%q: %v, want %q", tt.src, err, tt.err)
		}
	}
}
