package goeval

import (
	"bytes"
	"context"
	"errors"
	"go/scanner"
	"go/token"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStateKeptBetweenCells(t *testing.T) {
	s := newSession(t)
	s.run("import \"fmt\"\nvar a = 1\nconst b = 2\nc := 3")
	s.run("import \"fmt\"\nfunc sum() int { return a + b + c }") // fmt again: harmless
	if got := s.text("sum()"); got != "6" {
		t.Fatalf("sum() = %q, want 6", got)
	}
	s.run(`fmt.Println("a", a, "c", c)`)
	if got := s.out.String(); got != "a 1 c 3\n" {
		t.Fatalf("output %q", got)
	}
}

// The rules hold both in a session without types with display methods
// and in one with them, where results go through other code (see
// declareShow): here a cell's error type, which has an Error method.
func TestResultRules(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		testResultRules(t, `func withCellErr() (int, error) { return 0, errors.New("cell error: mine") }`)
	})
	t.Run("display types", func(t *testing.T) {
		testResultRules(t, `type cellErr struct{ why string }
func (e cellErr) Error() string { return "cell error: " + e.why }
func withCellErr() (int, error) { return 0, cellErr{"mine"} }`)
	})
}

func testResultRules(t *testing.T, decls string) {
	s := newSession(t)
	s.run(`import ("bufio"; "fmt"; "errors"; "io/fs"; "strings"; "os"; "strconv")
` + decls + `
func none() {}
func one() int { return 1 }
func two() (int, error) { return 2, nil }
func twoBad() (int, error) { return 0, errors.New("two failed") }
func three() (int, int, error) { return 1, 2, nil }
func threeBad() (int, string, error) { return 0, "", errors.New("three failed") }
func divmod(a, b int) (int, int) { return a / b, a % b }
func nilErr() error { return nil }
func someErr() error { return errors.New("bad thing") }
func nilPathErr() *fs.PathError { return nil }
type T struct{ A int }
func (T) Pair() (int, int) { return 1, 2 }
func (t T) Get() int { return t.A }
func (t T) Checked() (T, error) {
	if t.A == 0 {
		return t, errors.New("zero T")
	}
	return t, nil
}
func (t *T) Maybe() (*T, error) { return t, nil }
var e error
var p *T
xs := []int{1, 2, 3}
br := bufio.NewReader(strings.NewReader("ab\n"))
f3 := func() (int, int, error) { return 1, 2, errors.New("f3 failed") }
f3ok := func() (int, int, error) { return 1, 2, nil }
`)
	// want "" means no result; "NAME: message" that the cell fails so.
	tests := []struct {
		code, want string
	}{
		{"6*7", "42"},
		{"x := 5", ""},
		{"x", "5"},
		{"1.5 + 1", "2.5"},
		{`"go"`, `"go"`},
		{"xs", "[1 2 3]"},
		{"len(xs)", "3"},
		{"float64(x) / 2", "2.5"},
		{"none()", ""},
		{"one()", "1"},
		{"two()", "2"},                    // (value, nil error): the value shows
		{"twoBad()", "error: two failed"}, // a non-nil error fails the cell
		{"three()", "(1, 2)"},             // more than two, with a nil error: the values show
		{"threeBad()", "error: three failed"},
		{`fmt.Println("printed")`, ""},
		{`fmt.Fprintln(os.Stdout, "printed")`, ""},
		{`strings.NewReader("ab").Read(make([]byte, 2))`, ""},
		{`strconv.Atoi("42")`, "42"},
		{`strconv.Atoi("x")`, `*strconv.NumError: strconv.Atoi: parsing "x": invalid syntax`},
		{"T{3}.Checked()", "{A:3}"}, // a method: its result count is found by compiling
		{"T{}.Checked()", "error: zero T"},
		{`errors.New("e").Error()`, `"e"`},
		{"p.Maybe()", "<nil>"},
		{`fmt.Sprint("s", 1)`, `"s1"`},
		{`strings.Repeat("ab", 2)`, `"abab"`},
		{"nilErr()", ""},
		{"someErr()", "error: bad thing"},            // an error alone too
		{"nilPathErr()", "<nil>"},                    // a nil *fs.PathError is a value
		{"withCellErr()", "error: cell error: mine"}, // a cell's error type
		{"e", ""}, // a variable shows: the cell did not fail
		{"error(nil)", ""},
		{"e", ""},
		{"nil", ""},
		{"T{7}.Get()", "7"},
		{"T{}.Pair()", "(1, 2)"}, // several values, no error: a tuple
		{"divmod(7, 2)", "(3, 1)"},
		{"divmod(7, 2)", "(3, 1)"}, // again: the probe that failed is remembered, the tuple still shows
		{"three()", "(1, 2)"},
		{`strings.Cut("a=b", "=")`, `("a", "b", true)`},
		{"copy(xs, []int{9})", ""},
		{`os.Setenv("GOEVAL_TEST", "1")`, ""},
		{"(6 * 7)", "42"},
		{"x = 3", ""},
		{"x > 2", "true"},
		{"// only a comment", ""},
		{"y := 1\ny + 1 // trailing comment", "2"},
		{"func() int { return 8 }()", "8"},
		{"func() {}()", ""},
		// Three results of a method of a compiled type, or of a function
		// a variable holds: the error fails the cell, the rest show.
		{"br.ReadLine()", "([97 98], false)"},
		{"br.ReadLine()", "error: EOF"},
		{"f3()", "error: f3 failed"},
		{"f3ok()", "(1, 2)"},
		// ... of a method of a value the session does not keep.
		{`bufio.NewReader(strings.NewReader("cd\n")).ReadLine()`, "([99 100], false)"},
		{`bufio.NewReader(strings.NewReader("")).ReadLine()`, "error: EOF"},
		{`strings.NewReader("").UnreadRune()`, "error: strings.Reader.UnreadRune: at beginning of string"},
		{`bufio.NewScanner(strings.NewReader("")).Buffer(nil, 1)`, ""},
	}
	for _, tc := range tests {
		if name, msg, ok := strings.Cut(tc.want, ": "); ok && (name == "error" || strings.HasPrefix(name, "*")) {
			ce := s.fail(tc.code)
			if ce.Name != name || !strings.HasPrefix(ce.Value, msg) {
				t.Errorf("%q: failed with %s: %s, want %s", tc.code, ce.Name, ce.Value, tc.want)
			}
			continue
		}
		o := s.run(tc.code)
		got := ""
		if o.HasResult {
			got, _ = o.Result.Data["text/plain"].(string)
			if got == "" {
				t.Errorf("%q: result without text/plain: %v", tc.code, o.Result.Data)
			}
		}
		if got != tc.want {
			t.Errorf("%q: result %q, want %q", tc.code, got, tc.want)
		}
	}
	// A typed nil pointer is not a nil interface: it shows.
	if got := s.text("p"); got == "" {
		t.Errorf("p: no result for a typed nil pointer")
	}
}

func TestInterpretedRichResult(t *testing.T) {
	s := newSession(t)
	s.run(`import "github.com/gopherlab/gopherlab/display"
import "fmt"
type Table struct{ N int }
func (t Table) HTML() string { return fmt.Sprintf("<b>%d</b>", t.N) }
func (t Table) String() string { return fmt.Sprintf("Table(%d)", t.N) }
type Custom struct{}
func (Custom) Render() display.Bundle {
	return display.Bundle{Data: map[string]any{"text/markdown": "**custom**", "text/plain": "custom"}}
}
type MD struct{}
func (*MD) Markdown() string { return "# title" }
type Plain struct{ A, B int }
`)
	tests := []struct {
		code string
		want map[string]string
	}{
		{"Table{3}", map[string]string{"text/html": "<b>3</b>", "text/plain": "Table(3)"}},
		{"&Table{4}", map[string]string{"text/html": "<b>4</b>", "text/plain": "Table(4)"}},
		{"Custom{}", map[string]string{"text/markdown": "**custom**", "text/plain": "custom"}},
		{"&MD{}", map[string]string{"text/markdown": "# title"}},
		{"var v any = &Table{5}\nv", map[string]string{"text/html": "<b>5</b>", "text/plain": "Table(5)"}},
		{"var w fmt.Stringer = &Table{6}\nw", map[string]string{"text/plain": "Table(6)"}},
		{"var tv any = Table{8}\ntv", map[string]string{"text/html": "<b>8</b>", "text/plain": "Table(8)"}},
		{"func mk() any { return &Table{7} }\nmk()", map[string]string{"text/plain": "7"}},
		{"Plain{1, 2}", map[string]string{"text/plain": "{A:1 B:2}"}},
	}
	for _, tc := range tests {
		o := s.run(tc.code)
		if !o.HasResult {
			t.Errorf("%q: no result", tc.code)
			continue
		}
		if _, ok := o.Result.Data["text/plain"].(string); !ok {
			t.Errorf("%q: no text/plain in %v", tc.code, o.Result.Data)
		}
		for mime, want := range tc.want {
			if got, _ := o.Result.Data[mime].(string); !strings.Contains(got, want) {
				t.Errorf("%q: %s = %q, want %q (bundle %v)", tc.code, mime, got, want, o.Result.Data)
			}
		}
	}
}

func TestErrorPositions(t *testing.T) {
	s := newSession(t)
	s.run("import \"fmt\"")
	s.run("type T struct{}\nvar tv T\nkeep := 3\ntype A struct{ Name string }\ntype B struct{ ID int }\nvar sa A\nvar sb B")
	tests := []struct {
		name, code string
		ename      string
		want       []string // in Value
		tb         string   // in the traceback
	}{
		{"undefined in statement", "a := 1\nb := a\nc := b + undefinedName\n", "CompileError", []string{"undefined: undefinedName", "line 3, column 10"}, "c := b + undefinedName"},
		{"undefined in a loop of a run that defines globals", "n := 2\nfor i := 0; i < n; i++ {\n\tv, err := fmt.Println()\n\t_, _ = v, err\n\tgone(i)\n}", "CompileError", []string{"undefined: gone", "line 5, column 2"}, "gone(i)"},
		{"wrong type of a comma-ok global", "var q any = 1\nw, ok := q.(int)\nvar s string = w", "CompileError", []string{"line 3"}, ""},
		{"undefined in function", "func g() int {\n\treturn 1\n}\nfunc h() int {\n\treturn nothing\n}", "CompileError", []string{"undefined: nothing", "line 5"}, "return nothing"},
		{"undefined call in function", "\n\nfunc k() {\n\tmissing()\n}", "CompileError", []string{"undefined: missing", "line 4"}, "missing()"},
		{"syntax error", "x := 1\ny := (2 +\nfmt.Println(x", "SyntaxError", []string{"line 3"}, ""},
		{"type error after magics", "%env GOEVAL_POS=1\n\nvar z int = \"s\"", "CompileError", []string{"line 3"}, `var z int = "s"`},
		{"a builtin the interpreter lacks", "lo := 2\nhi := max(lo, 3)", "CompileError", []string{"undefined: max (Go 1.21's builtin max is not in the interpreter: use math.Max", "line 2, column 7"}, "hi := max(lo, 3)"},
		{"a builtin the interpreter lacks, in an expression", "min(3, 1)", "CompileError", []string{"undefined: min (Go 1.21's builtin"}, ""},
		{"unknown selector", "fmt.Nope()", "CompileError", []string{"Nope", "line 1"}, ""},
		// yaegi places these at the type's declaration, or nowhere.
		{"no such method of a cell's type", "x := 1\na1 := tv.Foo()", "CompileError", []string{"tv.Foo undefined (no field or method Foo)", "line 2, column 10"}, "a1 := tv.Foo()"},
		{"no such field of a number", "x := 1\na1 := keep.Bar", "CompileError", []string{"keep.Bar undefined (no field or method Bar)", "line 2, column 12"}, "a1 := keep.Bar"},
		{"no such field, after a selector of the same name that is right", "y := sa.Name\nx := sb.Name", "CompileError", []string{"sb.Name undefined (no field or method Name)", "line 2, column 9"}, "x := sb.Name"},
		{"no such method, in a function", "x := 1\nfunc g() int { return tv.Baz() }", "CompileError", []string{"undefined field or method Baz", "line 2, column 23"}, "return tv.Baz()"},
		{"a method of os.Stdout beyond Write", "import \"os\"\nos.Stdout.WriteString(\"x\")", "CompileError", []string{"undefined method: WriteString", "io.WriteString(os.Stdout, s)"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ce := s.fail(tc.code)
			if ce.Name != tc.ename {
				t.Errorf("Name = %q, want %q (%v)", ce.Name, tc.ename, ce.Value)
			}
			for _, w := range tc.want {
				if !strings.Contains(ce.Value, w) {
					t.Errorf("Value %q does not contain %q", ce.Value, w)
				}
			}
			if tb := strings.Join(ce.Traceback, "\n"); !strings.Contains(tb, tc.tb) {
				t.Errorf("traceback %q does not show %q", tb, tc.tb)
			}
		})
	}
}

func TestRebindCallers(t *testing.T) {
	s := newSession(t)
	s.run("func f() int { return 1 }\nfunc g() int { return f() * 10 }\nfunc h() int { return g() + 1 }")
	if got := s.text("h()"); got != "11" {
		t.Fatalf("h() = %s, want 11", got)
	}
	s.run("func f() int { return 2 }")
	if got := s.text("g()"); got != "20" {
		t.Errorf("after redefining f, g() = %s, want 20", got)
	}
	if got := s.text("h()"); got != "21" {
		t.Errorf("after redefining f, h() = %s, want 21 (transitive)", got)
	}
	// A redeclared variable gets new storage: its users follow it.
	s.run("x := 1\nfunc getX() int { return x }")
	s.run("x := 5")
	if got := s.text("getX()"); got != "5" {
		t.Errorf("after x := 5, getX() = %s, want 5", got)
	}
	// A caller that no longer compiles says so, in a note and when it is
	// called (its old definition went with the old f).
	s.run("func f() string { return \"s\" }")
	if !strings.Contains(s.err.String(), "note: g no longer compiles after f changed (invalid operation") {
		t.Errorf("no note about g: %q", s.err.String())
	}
	if ce := s.fail("g()"); !strings.Contains(ce.Value, "g no longer compiles after f changed") {
		t.Errorf("calling g: %v", ce.Value)
	}
	// Changed back, it is rebound from its source.
	s.run("func f() int { return 3 }")
	if got := s.text("g()"); got != "30" {
		t.Errorf("g() = %s after f changed back, want 30", got)
	}
}

func TestRedefinition(t *testing.T) {
	s := newSession(t)
	s.run("type P struct{ X int }\nfunc (p P) Double() int { return 2 * p.X }")
	// Identical: harmless.
	s.run("type P struct{ X int }\nfunc (p P) Double() int { return 2 * p.X }")
	if got := s.text("P{4}.Double()"); got != "8" {
		t.Fatalf("Double = %s", got)
	}
	ce := s.fail("type P struct{ X, Y int }")
	if ce.Name != "RedefinitionError" || !strings.Contains(ce.Value, "%reset") {
		t.Errorf("type redefinition: %v", ce)
	}
	ce = s.fail("func (p P) Double() int { return 3 * p.X }")
	if ce.Name != "RedefinitionError" || !strings.Contains(ce.Value, "Double") {
		t.Errorf("method redefinition: %v", ce)
	}
	// The session still works and kept the first definitions.
	if got := s.text("P{4}.Double()"); got != "8" {
		t.Fatalf("Double = %s", got)
	}
}

func TestImports(t *testing.T) {
	s := newSession(t)
	s.run("import \"strings\"")
	s.run("import (\n\t\"strings\"\n\t\"math\"\n)") // duplicate skipped, new one added
	if got := s.text("strings.ToUpper(\"a\") + strings.Repeat(\"b\", int(math.Sqrt(4)))"); got != `"Abb"` {
		t.Fatalf("got %q", got)
	}
	ce := s.fail("import \"example.com/not/shipped\"")
	if ce.Name != "ImportError" || !strings.Contains(ce.Value, `"example.com/not/shipped"`) {
		t.Errorf("unknown import: %v", ce)
	}
	ce = s.fail("import \"crypto/rand\"\nimport \"math/rand\"")
	if ce.Name != "ImportError" || !strings.Contains(ce.Value, "already imported") {
		t.Errorf("second rand: %v", ce)
	}
	s.run("import mrand \"math/rand\"\nmrand.Intn(1)")
	ce = s.fail("strings := 3")
	if !strings.Contains(ce.Value, "imported package") {
		t.Errorf("variable named like a package: %v", ce)
	}
	ce = s.fail("var math = 1")
	if !strings.Contains(ce.Value, "imported package") {
		t.Errorf("var named like a package: %v", ce)
	}
	s.run("sort := 1")
	ce = s.fail("import \"sort\"")
	if !strings.Contains(ce.Value, "variable named sort") {
		t.Errorf("import over a variable: %v", ce)
	}
	s.run(`import _ "image/png"`)
}

func TestUnsupported(t *testing.T) {
	s := newSession(t)
	s.run("n := 3\nfunc seq(yield func(int) bool) {}\ntype Celsius int\nvar temp Celsius = 3")
	tests := []struct{ code, want string }{
		// What rangeInts does not rewrite: an existing variable, an int
		// of a type a cell declared.
		{"for n = range 10 {}", "when the loop defines its variable (for i := range 10, not for i = range 10)"},
		{"for i := range temp { _ = i }", "cannot range over an int, and the kernel rewrites for i := range n into a three-clause loop only when it can tell n's integer type, and it cannot tell the type of temp"},
		{"func count(t Celsius) { for range t + 1 {} }", "cannot tell the type of t + 1"},
		{"for i := range\n3 { _ = i }", "when for and 3 are on one line"},
		{"for i, v := range 3 { _, _ = i, v }", "permits only one iteration variable"},
		{"for v := range seq { _ = v }", "cannot range over a function"},
		{"defer println(1)", "defer at the top level"},
	}
	for _, tc := range tests {
		ce := s.fail(tc.code)
		if !strings.Contains(ce.Value, tc.want) {
			t.Errorf("%q: %v, want %q", tc.code, ce, tc.want)
		}
	}
	if got := s.text("n + 1"); got != "4" {
		t.Fatalf("session broken after unsupported code: %q", got)
	}
}

// A range over an integer whose type the kernel knows runs as Go 1.22
// defines it (see rangeInts): the bound evaluated once, the variable a
// copy per iteration of the bound's type, positions as written.
func TestRangeOverInt(t *testing.T) {
	s := newSession(t)
	s.run("import (\"fmt\"; \"strconv\"; \"time\"; \"unicode/utf8\")\nvar n64 int64 = 3\nnn := 4\nvar dur = time.Duration(2)\nconst K4 = 4\nconst (\n\tR2 = 'b' - 'a' + 1\n\tT3 int8 = 3\n)")
	for _, tt := range []struct{ name, code, want string }{
		{"literal", "for i := range 3 { fmt.Print(i) }", "012"},
		{"no variable", "for range 2 { fmt.Print(\"x\") }", "xx"},
		{"empty", "for i := range -1 { fmt.Print(i) }\nfmt.Print(\"done\")", "done"},
		{"typed global", "for i := range n64 { fmt.Printf(\"%T%d \", i, i) }", "int640 int641 int642 "},
		{"compiled named type", "for i := range dur { fmt.Printf(\"%T \", i) }", "time.Duration time.Duration "},
		{"untyped global", "for i := range nn { fmt.Printf(\"%T\", i) }", "intintintint"},
		{"body changes the variable", "for i := range nn { i += 10; fmt.Print(i, \" \") }", "10 11 12 13 "},
		{"bound evaluated once", "xs := []int{1}\nfor i := range len(xs) + 1 { xs = append(xs, i) }\nfmt.Print(xs)", "[1 0 1]"},
		{"closures", "var fs []func() int\nfor i := range 3 { fs = append(fs, func() int { return i }) }\nfmt.Print(fs[0](), fs[1](), fs[2]())", "0 1 2"},
		{"goroutines", "res := make([]int, 3)\ndone := make(chan bool)\nfor i := range 3 { go func() { res[i] = i * i; done <- true }() }\nfor range 3 { <-done }\nfmt.Print(res)", "[0 1 4]"},
		{"in a function", "func total(k uint16) (s uint16) {\n\tfor i := range k {\n\t\ts += i\n\t}\n\treturn\n}\nfmt.Print(total(5))", "10"},
		{"constant of the cell", "const K = 2\nfor i := range K * 2 { fmt.Print(i) }", "0123"},
		{"variable of the cell", "var u8 uint8 = 2\nfor i := range u8 { fmt.Printf(\"%T \", i) }", "uint8 uint8 "},
		{"conversion", "for i := range int32(nn) { fmt.Printf(\"%T\", i) ; break }", "int32"},
		{"labels", "L: for i := range 3 { for j := range 3 { if j == 1 { continue L }; fmt.Print(i, j, \" \") } }", "0 0 1 0 2 0 "},
		{"body redeclares the variable", "for i := range 3 { i := i * 10; fmt.Print(i, \" \") }", "0 10 20 "},
		{"body with a closure redeclares the variable", "for i := range 3 { f := func() {}; i := i * 10; f(); fmt.Print(i, \" \") }", "0 10 20 "},
		{"over the outer loop's variable", "for i := range 4 { for j := range i { fmt.Print(i, j, \" \") } }", "1 0 2 0 2 1 3 0 3 1 3 2 "},
		{"triangular", "for i := range 3 { for j := range 3 - i { fmt.Print(i, j, \" \") } }", "0 0 0 1 0 2 1 0 1 1 2 0 "},
		{"typed outer variable", "for i := range n64 { for j := range i { fmt.Printf(\"%T \", j) } }", "int64 int64 int64 "},
		{"three-clause loop's variable", "for k := 0; k < 2; k++ { for j := range k + 1 { fmt.Print(k, j, \" \") } }", "0 0 1 0 1 1 "},
		{"variable of an enclosing block", "if true { m := 2; for i := range m { fmt.Print(i) } }", "01"},
		{"bound names the variable", "ib := 2\nfor ib := range ib { fmt.Print(ib) }\nfmt.Print(ib)", "012"},
		{"statement across a function", "m3 := 3\nfunc gm3() {}\nfor i := range m3 { fmt.Print(i) }", "012"},
		{"cell global in a function", "q5 := 2\nfunc fq5() (c int) { for range q5 { c++ }; return }\nfmt.Print(fq5())", "2"},
		{"constant of an earlier cell", "for i := range K4 { fmt.Print(i) }", "0123"},
		// Results of compiled functions, in the cell that defines them.
		{"compiled function's result", "w9 := utf8.RuneCountInString(\"héé\")\nfor i := range w9 { fmt.Printf(\"%T%d \", i, i) }", "int0 int1 int2 "},
		{"compiled function's results", "n8, err8 := strconv.Atoi(\"2\")\nfor i := range n8 { fmt.Print(i) }\nfmt.Print(err8)", "01<nil>"},
		{"compiled call as the bound", "for i := range utf8.RuneLen('é') { fmt.Print(i) }", "01"},
		{"compiled function's first result", "r9, _ := utf8.DecodeLastRuneInString(\"\\x02\")\nfor i := range r9 { fmt.Printf(\"%T \", i) }", "int32 int32 "},
		{"constants of a group", "for i := range R2 { fmt.Printf(\"%T \", i) }\nfor i := range T3 { fmt.Printf(\"%T \", i) }", "int32 int32 int8 int8 int8 "},
		{"rune constant", "for i := range 'a' - 'a' + 2 { fmt.Printf(\"%T \", i) }", "int32 int32 "},
		{"conversion to a package's type", "for i := range time.Duration(2) { fmt.Printf(\"%T \", i) }", "time.Duration time.Duration "},
		{"slices untouched", "for i, v := range []string{\"a\", \"b\"} { fmt.Print(i, v) }", "0a1b"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := *s
			ts.t = t
			ts.out.Reset()
			ts.run(tt.code)
			if got := ts.out.String(); got != tt.want {
				t.Errorf("printed %q, want %q", got, tt.want)
			}
		})
	}
	// Errors keep the positions of the cell as written, after the
	// rewritten header too.
	for _, tt := range []struct{ code, want string }{
		{"for i := range 3 { fmt.Println(undefinedY, i) }", "undefined: undefinedY (line 1, column 32)"},
		{"for i := range 3 {\n\tfmt.Println(undefinedZ, i)\n}", "undefined: undefinedZ (line 2, column 14)"},
		{"for i := range 3 { var x string = i; _ = x }", "(line 1, column 35)"},
	} {
		ce := s.fail(tt.code)
		if !strings.HasSuffix(ce.Value, tt.want) {
			t.Errorf("%q: %s, want it to end with %q", tt.code, ce.Value, tt.want)
		}
	}
	// A function recompiled because one it calls changed keeps its loop
	// rewritten (see rebind).
	s.run("func g() int { return 1 }\nfunc h() (s int) {\n\tfor i := range 4 {\n\t\ts += i * g()\n\t}\n\treturn\n}")
	s.run("func g() int { return 2 }")
	if got := s.text("h()"); got != "12" {
		t.Errorf("h() after g changed = %q, want 12", got)
	}
	// So does one ranging over a constant or a global of the session.
	s.run("const N5 = 4\nq5b := 3\nfunc g5() int { return 1 }\nfunc f5() (c int) {\n\tfor range N5 {\n\t\tc += g5()\n\t}\n\tfor range q5b {\n\t\tc += g5()\n\t}\n\treturn\n}")
	s.run("func g5() int { return 2 }")
	if got := s.text("f5()"); got != "14" {
		t.Errorf("f5() after g5 changed = %q, want 14", got)
	}
}

// A syntax error found in code a rewrite changed is placed at the
// cell's line, whether its position comes from a /*line*/ directive of
// the rewrite (line N*lineStride+L) or from the run's header.
func TestSyntaxErrorDecoded(t *testing.T) {
	c := cellFrom(17, "x := 1\nx := 2", "x := 1\nx := 2", nil)
	for _, tt := range []struct {
		line, col int
		want      string
	}{
		{17*lineStride + 2, 20, "(line 2, column 20)"},
		{2, 3, "(line 2, column 3)"},
	} {
		var list scanner.ErrorList
		list.Add(token.Position{Filename: "_.go", Line: tt.line, Column: tt.col}, "no new variables on left side of :=")
		if ce := syntaxError(c, list); !strings.HasSuffix(ce.Value, tt.want) {
			t.Errorf("line %d: %q, want it to end with %q", tt.line, ce.Value, tt.want)
		}
	}
}

func TestHostPanicRecovered(t *testing.T) {
	s := newSession(t)
	s.run("func gen() func(func(int) bool) { return nil }")
	// Not detectable statically: yaegi crashes (nil type); the cell fails.
	ce := s.fail("for v := range gen() { _ = v }")
	if ce.Name != "Unsupported" && ce.Name != "InternalError" {
		t.Errorf("got %v", ce)
	}
	if got := s.text("1 + 1"); got != "2" {
		t.Fatalf("session broken: %q", got)
	}
}

func TestPanicInCell(t *testing.T) {
	s := newSession(t)
	s.run("x := 10\nfunc boom(n int) int {\n\tif n > 0 {\n\t\tpanic(\"boom at \" + string(rune('0'+n)))\n\t}\n\treturn 0\n}")
	ce := s.fail("y := 1\nboom(y)")
	if ce.Name != "panic" || !strings.HasPrefix(ce.Value, "boom at 1") {
		t.Fatalf("got %#v", ce)
	}
	tb := strings.Join(ce.Traceback, "\n")
	if !strings.Contains(tb, "in boom, at or after cell 1, line 3") || !strings.Contains(tb, "in cell, line 2") || !strings.Contains(tb, "boom(y)") {
		t.Errorf("traceback lacks the frames: %s", tb)
	}
	if strings.Contains(s.err.String(), "panic:") {
		t.Errorf("yaegi's panic lines leaked to stderr: %q", s.err.String())
	}
	ce = s.fail("var a []int\na[3] = 1")
	if !strings.Contains(ce.Value, "index out of range") {
		t.Errorf("runtime error: %v", ce)
	}
	ce = s.fail("import \"os\"\nos.Exit(3)")
	if ce.Name != "Exit" {
		t.Errorf("os.Exit: %v", ce)
	}
	if got := s.text("x + y"); got != "11" {
		t.Fatalf("state after panics: %q", got)
	}
}

func TestInterruptKeepsState(t *testing.T) {
	s := newSession(t)
	s.run("x := 42\nch := make(chan int)")
	for _, code := range []string{"for {}", "<-ch", "i := 0\nfor { i++ }"} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		_, err := s.Execute(ctx, code)
		cancel()
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("%q: err = %v, want interrupted", code, err)
		}
		var stuck *StuckError
		if errors.As(err, &stuck) {
			t.Fatalf("%q: interpreted code reported stuck", code)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q: took %v to stop", code, d)
		}
		if got := s.text("x"); got != "42" {
			t.Fatalf("after interrupting %q, x = %q", code, got)
		}
	}
}

func TestStuckCompiledCode(t *testing.T) {
	s := newSession(t) // grace 300ms
	// A read of a pipe blocks in compiled code (its deadline ends it).
	s.run("import (\n\t\"os\"\n\t\"time\"\n)\nr, w, _ := os.Pipe()\n_ = w\nx := 1")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Execute(ctx, "r.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))\nr.Read(make([]byte, 1))\nx = 2")
	var stuck *StuckError
	if !errors.As(err, &stuck) {
		t.Fatalf("err = %v, want *StuckError", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("stuck detection took %v", d)
	}
	// The next cell waits for the stuck code to end instead of racing it.
	if got := s.text("x"); got != "1" {
		t.Errorf("x = %q after the stuck cell (its rest must not run)", got)
	}
	if d := time.Since(start); d < 1400*time.Millisecond {
		t.Errorf("next cell ran after %v, before the stuck code ended", d)
	}
}

// time.Sleep in a cell ends when the cell is interrupted: the session
// keeps its state, and the statement after the sleep does not run.
func TestInterruptSleep(t *testing.T) {
	s := newSession(t) // grace 300ms
	s.run("import \"time\"\nx := 1\ntime.Sleep(time.Millisecond)")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Execute(ctx, "time.Sleep(10 * time.Second)\nx = 2")
	var stuck *StuckError
	if !errors.Is(err, ErrInterrupted) || errors.As(err, &stuck) {
		t.Fatalf("err = %v, want interrupted, not stuck", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("interrupting the sleep took %v", d)
	}
	if got := s.text("x"); got != "1" {
		t.Errorf("x = %q after the interrupted sleep", got)
	}
}

func TestStdin(t *testing.T) {
	s := newSession(t, func(o *Options) {
		o.Stdin = strings.NewReader("42\nhello world\nthird\n")
	})
	s.run(`import ("fmt"; "bufio"; "os")
var n int
fmt.Scanln(&n)
r := bufio.NewReader(os.Stdin)
line, _ := r.ReadString('\n')
fmt.Fprintln(os.Stdout, "n:", n, "line:", line)
fmt.Fprint(os.Stderr, "to stderr\n")
println("builtin")
`)
	if got := s.out.String(); !strings.Contains(got, "n: 42 line: hello world") {
		t.Errorf("stdout %q", got)
	}
	if got := s.err.String(); !strings.Contains(got, "to stderr") {
		t.Errorf("stderr %q", got)
	}
}

func TestReset(t *testing.T) {
	s := newSession(t)
	s.run("x := 1\ntype T int")
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	ce := s.fail("x")
	if !strings.Contains(ce.Value, "undefined: x") {
		t.Errorf("after Reset: %v", ce)
	}
	s.run("type T string") // a different T is fine now
}

func TestConcurrentQueries(t *testing.T) {
	s := newSession(t)
	s.run("import \"strings\"\nfunc f() {}\nv := 3")
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		s.Execute(ctx, "for { v++ }")
	}()
	for i := 0; i < 50; i++ {
		s.Complete("strings.Re", 10)
		s.Inspect("v", 1, 0)
		s.IsComplete("for {")
	}
	<-done
}

func TestReleaseRedeclaredGlobals(t *testing.T) {
	s := newSession(t)
	s.run("big := make([]byte, 1<<20)")
	old := s.current().globals()["big"]
	s.run("big := make([]byte, 10)")
	if old.Len() != 0 {
		t.Errorf("old storage of big still holds %d bytes", old.Len())
	}
	if got := s.text("len(big)"); got != "10" {
		t.Errorf("len(big) = %s", got)
	}
	s.run("big := append(big, 1)") // uses the old value while redeclaring
	if got := s.text("len(big)"); got != "11" {
		t.Errorf("len(big) = %s", got)
	}
}

func TestSelfRedefinition(t *testing.T) {
	s := newSession(t)
	s.run("x := 5\nxs := []int{1, 2}")
	s.run("x := x + 1\nxs := append(xs, 3)")
	if got := s.text("x"); got != "6" {
		t.Errorf("x := x + 1 gave %s, want 6", got)
	}
	if got := s.text("xs"); got != "[1 2 3]" {
		t.Errorf("xs := append(xs, 3) gave %s", got)
	}
	s.run("y := x + 1\nx := 10\nz := x")
	if got := s.text("[]int{x, y, z}"); got != "[10 7 10]" {
		t.Errorf("x, y, z = %s, want [10 7 10]", got)
	}
	s.run("x := 6")
	if ce := s.fail("var x = x + 1"); ce.Name != "Unsupported" {
		t.Errorf("var x = x + 1: %v", ce)
	}
	s.run("func getX() any { return x }")
	s.run("x := float64(x) / 4")
	if got := s.text("x"); got != "1.5" {
		t.Errorf("x := float64(x) / 4 gave %s, want 1.5", got)
	}
	if got := s.text("getX()"); got != "1.5" {
		t.Errorf("getX() = %s after x changed type, want 1.5", got)
	}
	s.run("import \"strconv\"\ns := \"12\"")
	s.run("n, err := strconv.Atoi(s)\ns, err := strconv.Itoa(n+1), err")
	if got := s.text("s"); got != `"13"` {
		t.Errorf("s = %s", got)
	}
}

func TestOptionsDir(t *testing.T) {
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	dir := t.TempDir()
	s := newSession(t, func(o *Options) { o.Dir = dir })
	got := s.text("import \"os\"\nfunc cwd() string { d, _ := os.Getwd(); return d }\ncwd()")
	real, _ := filepath.EvalSymlinks(dir)
	if got != strconv.Quote(dir) && got != strconv.Quote(real) {
		t.Errorf("cwd = %s, want %q", got, dir)
	}
	if _, err := New(Options{Dir: filepath.Join(dir, "missing")}); err == nil {
		t.Errorf("New with a missing Dir succeeded")
	}
}

// A panic says its position is where the interpreter put it: "at or
// after" the start of the code it happened in (yaegi places runtime
// errors there, and any panic inside a function at its first statement),
// exactly for an explicit panic in the cell's own statements.
func TestPanicPosition(t *testing.T) {
	s := newSession(t)
	for _, tt := range []struct{ code, want string }{
		{"func k3(n int) int {\n\tz := 0\n\treturn n / z\n}\nk3(1)", "divide by zero (at or after line 2"},
		{"func k4() {\n\tx := 1\n\tpanic(x)\n}\nk4()", "1 (at or after line 2"},
		{"var a []int\nb := 2\n_ = b\n_ = a[5]", "runtime error: index out of range (at or after line 2"},
		// Go's messages, not those of the reflect calls yaegi makes.
		{"type pt struct{ X int }\nvar pp *pt\n_ = pp.X", "runtime error: invalid memory address or nil pointer dereference (at or after"},
		{"sl := []int{1, 2}\n_ = sl[1:5]", "runtime error: slice bounds out of range"},
		// At the call of panic, which is made a compiled call (see
		// rewritePanics).
		{"x := 1\ny := 2\npanic(x + y)", "3 (line 3, column 1)"},
		{"import \"fmt\"\npanic(fmt.Errorf(\"bad row %d\", 3))", "bad row 3 (line 2, column 1)"},
	} {
		ce := s.fail(tt.code)
		if !strings.Contains(ce.Value, tt.want) {
			t.Errorf("%q: %q, want %q", tt.code, ce.Value, tt.want)
		}
		if strings.Contains(tt.want, "at or after") && !strings.Contains(strings.Join(ce.Traceback, "\n"), "places this panic at the start of the code") {
			t.Errorf("%q: traceback does not say the position is approximate:\n%s", tt.code, strings.Join(ce.Traceback, "\n"))
		}
	}
}

// Globals yaegi fails to declare from the code as written (see
// fallbackDeclare): an index into a value of a compiled type ("constant
// definition loop"), comma-ok forms ("nil type"), a multi-value
// definition inside a block of a run that defines globals ("undefined").
func TestGlobalsYaegiCannotDeclare(t *testing.T) {
	// yaegi prints some of its failures through the standard logger.
	var logged bytes.Buffer
	defer log.SetOutput(log.Writer())
	log.SetOutput(&logged)
	s := newSession(t)
	s.run("import (\n\t\"strconv\"\n\t\"strings\"\n\t\"gonum.org/v1/gonum/mat\"\n\t\"github.com/gopherlab/gopherlab/experiments\"\n)\nX := mat.NewDense(2, 2, []float64{1, 2, 3, 4})\nrow := X.RawRowView(1)")
	tests := []struct {
		cell, expr, want string
	}{
		{"v := row[0]", "v", "3"},                                              // a global from an earlier cell
		{"v := X.RawRowView(0)[1]", "v", "2"},                                  // a method's result
		{"f := strings.Fields(\"a b c\")\nlast := f[len(f)-1]", "last", `"c"`}, // a global of the same cell
		{"a, b := row[0], row[1]+1", "a + b", "8"},
		{"ms := []*mat.Dense{X}\nm := ms[0]\nr, _ := m.Dims()", "r", "2"}, // a named type of an imported package
		{"cv := map[string][]float64{\"acc\": row}\nacc := cv[\"acc\"][1]", "acc", "4"},
		{"ds, _ := experiments.FromColumns([]string{\"x\", \"y\"}, []float64{1, 2}, []string{\"a\", \"b\"})\ncols := ds.Columns()\ntarget := cols[len(cols)-1]", "target", `"y"`},
		{"row := row[:1]\nfirst := row[0] * 10", "first", "30"}, // a redefinition, then an index of it
		{"s := \"hey\"\nch := s[1]", "ch", "101"},
		{"row := row[0]", "row * 2", "6"}, // a redefinition reading itself
		{"total := 0.0\nfor _, s := range []string{\"1.5\", \"2\"} {\n\tv, err := strconv.ParseFloat(s, 64)\n\tif err == nil {\n\t\ttotal += v\n\t}\n}", "total", "3.5"},
		{"var a any = 3.5\nf, ok := a.(float64)", "f * 2", "7"},
		{"g, isInt := a.(int)", "[]any{g, isInt}", "[0 false]"},
		{"m := map[string]int{\"a\": 1}\nmv, found := m[\"a\"]", "[]any{mv, found}", "[1 true]"},
		{"ch := make(chan int, 1)\nch <- 4\nr, open := <-ch", "[]any{r, open}", "[4 true]"},
		{"c3 := make(chan int, 1); c3 <- 3; v3, ok3 := <-c3", "[]any{v3, ok3}", "[3 true]"},
		// Of a type the session declared, which the typer cannot write.
		{"type pt struct{ X int }\nch2 := make(chan pt, 1)\nch2 <- pt{5}\np, more := <-ch2", "[]any{p.X, more}", "[5 true]"},
		{"mp := map[string]pt{\"a\": {6}}\npv, has := mp[\"a\"]\n_, none := mp[\"b\"]", "[]any{pv.X, has, none}", "[6 true false]"},
		{"var anyp any = pt{7}\npa, isPt := anyp.(pt)", "[]any{pa.X, isPt}", "[7 true]"},
		// The var forms.
		{"var vm, vok = m[\"a\"]", "[]any{vm, vok}", "[1 true]"},
		{"var _, vnone = m[\"zz\"]", "vnone", "false"},
		{"var vx any = 4\nvar vn, visInt = vx.(int)\nvar vs, visStr = vx.(string)", "[]any{vn, visInt, vs, visStr}", `[4 true "" false]`},
		{"var vp, visPt = anyp.(pt)", "[]any{vp.X, visPt}", "[7 true]"},
		{"var (\n\tvone = 1\n\tvmp, vhas = mp[\"a\"]\n)", "[]any{vone, vmp.X, vhas}", "[1 6 true]"},
		{"vch := make(chan float64, 1)\nvch <- 2.5\nvar vr, vopen = <-vch", "[]any{vr, vopen}", "[2.5 true]"},
		{"m2 := map[string]int{\"b\": 2}\nhit := 0\nif v, ok := m2[\"b\"]; ok {\n\thit = v\n}", "hit", "2"},
		{"knn := &experiments.KNeighborsClassifier{K: 1}\nerr := knn.Fit(X, []float64{0, 1})\npred, _ := knn.Predict(X)\nlast := pred[1]", "last", "1"},
		{"opts := experiments.CVOptions{Metrics: []string{\"accuracy\"}}\nm0 := opts.Metrics[0]", "m0", `"accuracy"`},
		{"d := new(mat.Dense)\nd2 := *d\nempty := d2.IsEmpty()", "empty", "true"},
	}
	for _, tc := range tests {
		s.run(tc.cell)
		if got := s.text(tc.expr); got != tc.want {
			t.Errorf("after %q, %s = %s, want %s", tc.cell, tc.expr, got, tc.want)
		}
	}
	if logged.Len() > 0 {
		t.Errorf("yaegi's log reached the cell's stderr:\n%s", logged.String())
	}
}

// A global defined from a call of a generic function a cell declared
// (yaegi crashes on x, err := Pair[int](3) at the top level, and cannot
// type x := One[int](3) or x := One(3)) gets the types the declaration's
// results have with the type arguments, written or inferred.
func TestGenericResults(t *testing.T) {
	s := newSession(t)
	s.run("import \"strconv\"\nfunc Pair[T any](a T) (T, error) { return a, nil }\nfunc One[T any](a T) T { return a }\nfunc Wrap[T any](a T) []T { return []T{a, a} }\ntype Box[T any] struct{ V T }\nfunc Get[T any](b Box[T]) (T, bool) { return b.V, true }\nfunc Swap[K comparable, V any](v V, k K) (K, V) { return k, v }\nfunc Both[T any](a, b T) (T, T) { return a, b }\nxs := []float64{1.5, 2.5}")
	tests := []struct{ cell, expr, want string }{
		{"x, err := Pair[int](3)", "[]any{x + 1, err}", "[4 <nil>]"},
		{"o := One[int](4)", "o * 2", "8"},
		{"w := Wrap[string](\"a\")", "len(w) + len(w[0])", "3"},
		{"v, ok := Get[float64](Box[float64]{2.5})", "[]any{v * 2, ok}", "[5 true]"},
		{"k, n := Swap[string, int](1, \"a\")", "k + strconv.Itoa(n)", `"a1"`},
		// Type arguments inferred from arguments of known types.
		{"o2 := One(2.5)", "o2 * 2", "5"},
		{"o3 := One(xs[1])\np3, perr := Pair(len(xs))", "[]any{o3, p3, perr}", "[2.5 2 <nil>]"},
		{"b1, b2 := Both(\"x\", \"y\")", "b1 + b2", `"xy"`},
		// Declared with var, and in the cell that declares the function.
		{"var vx, verr = Pair[string](\"s\")\nvar vo = One(7)", "[]any{vx, verr, vo}", `["s" <nil> 7]`},
		{"func Twice[T any](a T) (T, T) { return a, a }\nt1, t2 := Twice[int](5)", "t1 + t2", "10"},
		{"import \"fmt\"\nfunc Pair2[T any](a T) (T, error) { return a, nil }\nvar q1, q2 = Pair2[int](3)", "fmt.Sprint(q1, q2)", `"3 <nil>"`},
		{"var r1, r2 = Pair3[int](4)\nfunc Pair3[T any](a T) (T, error) { return a, nil }", "r1", "4"},
		// A cell's type: written as the cell wrote it.
		{"type cellT struct{ A int }\nct, cerr := Pair[cellT](cellT{5})", "[]any{ct.A, cerr}", "[5 <nil>]"},
	}
	for _, tc := range tests {
		s.run(tc.cell)
		if got := s.text(tc.expr); got != tc.want {
			t.Errorf("after %q, %s = %s, want %s", tc.cell, tc.expr, got, tc.want)
		}
	}
	// Where the types cannot be worked out, the error says what to write,
	// at the call.
	for _, tt := range []struct{ code, want string }{
		{"var e1, e2 = PairE[int](3)\nfunc PairE[T any](a T) (T, error) { return a, nil }\nfunc useE() int { return e1 }", "(line 1, column 14)"},
		{"c2, cerr2 := Pair(cellT{6})", "(line 1, column 14)"},
	} {
		ce := s.fail(tt.code)
		if ce.Name != "Unsupported" || ce.Value != genericDefinitionMsg+" "+tt.want {
			t.Errorf("%q: %s: %s", tt.code, ce.Name, ce.Value)
		}
	}
}

// Models and transformers declared in cells work with experiments:
// through AsModel and AsTransformer in a Pipeline, and fitted in turn on
// each fold of a cross-validation.
func TestCellDeclaredEstimators(t *testing.T) {
	s := newSession(t)
	s.run(`import (
	"gonum.org/v1/gonum/mat"
	"github.com/gopherlab/gopherlab/experiments"
)
type Majority struct{ class float64 }
func (m *Majority) Fit(X *mat.Dense, y []float64) error {
	count := map[float64]int{}
	for _, v := range y {
		count[v]++
		if count[v] > count[m.class] {
			m.class = v
		}
	}
	return nil
}
func (m *Majority) Predict(X *mat.Dense) ([]float64, error) {
	r, _ := X.Dims()
	out := make([]float64, r)
	for i := range out {
		out[i] = m.class
	}
	return out, nil
}
type Doubler struct{}
func (Doubler) Fit(X *mat.Dense) error { return nil }
func (Doubler) Transform(X *mat.Dense) (*mat.Dense, error) {
	var out mat.Dense
	out.Scale(2, X)
	return &out, nil
}
X := mat.NewDense(6, 1, []float64{1, 2, 3, 4, 5, 6})
y := []float64{1, 1, 1, 1, 0, 0}`)
	if got := s.text("p := experiments.NewPipeline(experiments.AsTransformer(Doubler{}), experiments.AsModel(&Majority{}))\nerr := p.Fit(X, y)\npred, _ := p.Predict(X)\npred"); got != "[1 1 1 1 1 1]" {
		t.Errorf("pipeline of cell types predicts %s", got)
	}
	if got := s.text("cv, err := experiments.CrossValidate(&Majority{}, X, y, experiments.CVOptions{K: 3, Metrics: []string{\"accuracy\"}})\nerr"); got != "" {
		t.Errorf("cross-validating a cell model: %s", got)
	}
	if got := s.text("cv.Mean(\"accuracy\")"); got != "0.6666666666666666" {
		t.Errorf("accuracy %s", got)
	}
	if got := s.text("cvp, err := experiments.CrossValidate(p, X, y, experiments.CVOptions{K: 3})\nerr"); got != "" {
		t.Errorf("cross-validating a pipeline of cell types: %s", got)
	}
	if ce := s.fail("import \"bytes\"\nvar buf bytes.Buffer\np.Save(&buf)"); !strings.Contains(ce.Value, "save") {
		t.Errorf("saving a pipeline of cell types: %q", ce.Value)
	}
	// Without AsModel the pipeline says what to do.
	if ce := s.fail("experiments.NewPipeline(&Majority{}).Fit(X, y)"); !strings.Contains(ce.Value, "experiments.AsModel(m)") {
		t.Errorf("a cell model given as is: %s", ce.Value)
	}
}

// Statements can use functions, types and constants declared below them
// in the same cell, as in a Go package; a redefinition below a use keeps
// the old definition for that use, as the cell reads.
func TestDeclarationsBelowUse(t *testing.T) {
	s := newSession(t)
	tests := []struct {
		cell, expr, want string
	}{
		{"res := helper(3)\nfunc helper(n int) int { return n * scale }\nconst scale = 2", "res", "6"},
		{"p := pt{1, 2}\nq := p.Sum()\ntype pt struct{ X, Y int }\nfunc (p pt) Sum() int { return p.X + p.Y }", "q", "3"},
		{"func f() int { return 1 }", "f()", "1"},
		{"a := f()\nfunc f() int { return 2 }", "a", "1"},
		{"a2 := f()", "a2", "2"},
		{"import \"strings\"\nup := shout(\"hi\")\nfunc shout(s string) string { return strings.ToUpper(s) }", "up", `"HI"`},
		// Variables of one call's results, in the run that declares the
		// function below them (see varsLast).
		{"var v1, v2 int = pair()\nfunc pair() (int, int) { return 1, 2 }", "v1*10 + v2", "12"},
		{"var (\n\tw0 = 1\n\tw1, w2 = pair2()\n)\ntype two struct{ A, B int }\nfunc pair2() (int, int) { t := two{3, 4}; return t.A, t.B }", "w0 + w1 + w2", "8"},
		// Variables initialized by dependency, as Go does, not in the
		// order written (see initOrder): through a function, directly, in
		// a group, and a field of the same name is no dependency.
		{"var c2 = g2()\nvar a2 = 5\nfunc g2() int { return a2 }", "c2", "5"},
		{"var d1 = d2 + 1\nvar d2 = h2()\nfunc h2() int { return 41 }", "d1", "42"},
		{"var (\n\te1 = f3() * 2\n\te2, e3 = 3, 4\n)\nfunc f3() int { return e2 + e3 }", "e1", "14"},
		{"type rec struct{ n4 int }\nvar m4 = rec{n4: 7}.n4\nvar n4 = 1", "m4*10 + n4", "71"},
		// A local or a parameter named like a variable is no dependency:
		// the order written stands, as in Go (tick counts); a map
		// literal's key is one.
		{"var calls6 int\nfunc tick6() int { calls6++; return calls6 }\nfunc f6(n6 int) int { return n6 }\nfunc g6() int { n6 := 0; return n6 }\nvar a6 = tick6() + f6(0) + g6()\nvar n6 = tick6()", "a6*10 + n6", "12"},
		{"var calls8 int\nfunc tick8() int { calls8++; return calls8 }\nvar a8 = map[int]int{k8: tick8()}[k8]\nvar k8 = tick8()", "a8*10 + k8", "21"},
	}
	for _, tc := range tests {
		s.run(tc.cell)
		if got := s.text(tc.expr); got != tc.want {
			t.Errorf("after\n%s\n%s = %s, want %s", tc.cell, tc.expr, got, tc.want)
		}
	}
	// A function that uses what the statements define cannot move above
	// them: its use above it stays an error.
	if ce := s.fail("k := 3\nv := g()\nfunc g() int { return k }"); !strings.Contains(ce.Value, "undefined: g") {
		t.Errorf("use of a function that needs the cell's variables: %v", ce.Value)
	}
	// A variable declaration runs before the statements below it, and a
	// function below those: yaegi's "f returns 0 values" is the name
	// undefined, where the cell uses it.
	if ce := s.fail("var u1, u2 = later()\nprintln(u1)\nfunc later() (int, int) { return 1, 2 }"); ce.Value != "undefined: later (line 1, column 14)" {
		t.Errorf("multi-value var of a function below statements: %v", ce.Value)
	}
	// Declarations reordered by dependency keep their positions too.
	if ce := s.fail("var r1 = g5()\nvar (\n\tr2 = 5\n\tr3 string = r2\n)\nfunc g5() int { return r2 }"); !strings.Contains(ce.Value, "(line 4, column 14)") {
		t.Errorf("error in a reordered declaration: %v", ce.Value)
	}
	// The moved declarations keep their positions.
	if ce := s.fail("var x1, x2 = pair3()\nfunc pair3() (int, int) { return 1, 2 }\nvar x3 string = x1"); !strings.Contains(ce.Value, "(line 3, column 17)") {
		t.Errorf("error in a moved declaration: %v", ce.Value)
	}
}

// gonum's statistics, sampling, interpolation, integration and special
// functions are there for cells.
func TestMoreGonumPackages(t *testing.T) {
	s := newSession(t)
	s.run(`import (
	"math"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/interp"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/combin"
	"gonum.org/v1/gonum/stat/distmv"
	"gonum.org/v1/gonum/stat/sampleuv"
)`)
	tests := []struct{ expr, want string }{
		{"combin.Binomial(5, 2)", "10"},
		{"math.Round(mathext.Beta(2, 3)*1e6) / 1e6", "0.083333"},
		{"integrate.Trapezoidal([]float64{0, 1, 2}, []float64{0, 1, 4})", "3"},
		{"fd.Derivative(func(x float64) float64 { return x * x }, 3, nil) > 5.99", "true"},
		{"func() float64 { var pl interp.PiecewiseLinear; pl.Fit([]float64{0, 1}, []float64{0, 10}); return pl.Predict(0.5) }()", "5"},
		{"func() int { n, _ := distmv.NewNormal([]float64{0, 0}, mat.NewSymDense(2, []float64{1, 0, 0, 1}), nil); return n.Dim() }()", "2"},
	}
	for _, tc := range tests {
		if got := s.text(tc.expr); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// A cell that fails to compile sets none of its variables, though the
// interpreter keeps them declared with zero values: a later cell that
// uses one is told which cell to run again, instead of computing with
// the zero; once the cell works, its variables are used as usual.
func TestVariablesOfAFailedCell(t *testing.T) {
	s := newSession(t)
	s.run("kept := 4")
	s.fail("x := 5\ny := undefinedThing + x + kept")
	ce := s.fail("x * 2")
	if !strings.Contains(ce.Value, "x has no value: cell [2], which defines it, failed before setting it (CompileError: undefined: undefinedThing") {
		t.Errorf("use of a variable of the failed cell: %s", ce.Value)
	}
	if got := s.text("kept"); got != "4" {
		t.Errorf("a variable an earlier cell set: %s, want 4", got)
	}
	// The cell is named by the number the frontend showed for it (silent
	// executions between cells take none).
	_, err := s.Execute(WithCount(context.Background(), 9), "z := undefinedThing")
	if err == nil {
		t.Fatal("cell 9 did not fail")
	}
	if ce := s.fail("z"); !strings.Contains(ce.Value, "z has no value: cell [9], which defines it") {
		t.Errorf("a cell the frontend numbered 9: %s", ce.Value)
	}
	// An execution without a number (silent) is not named by another's.
	if _, err := s.Execute(WithCount(context.Background(), 0), "w := undefinedThing"); err == nil {
		t.Fatal("the silent cell did not fail")
	}
	if ce := s.fail("w"); !strings.Contains(ce.Value, "w has no value: a cell run without a number (silent, or not kept in history), which defines it") {
		t.Errorf("a silent cell: %s", ce.Value)
	}
	// A panic's place in a function another cell declared names that
	// cell as the frontend numbered it.
	if _, err := s.Execute(WithCount(context.Background(), 12), "func boom(n int) int {\n\tif n > 2 {\n\t\tpanic(\"too big\")\n\t}\n\treturn n\n}"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Execute(WithCount(context.Background(), 13), "boom(3)")
	var pe *CellError
	if !errors.As(err, &pe) || !strings.Contains(strings.Join(pe.Traceback, "\n")+pe.Value, "cell 12, line ") {
		t.Errorf("a panic in cell 12's function: %v", err)
	}
	if got := s.text("x := 1\nx + 1"); got != "2" {
		t.Errorf("a cell defining the name itself: %s", got)
	}
	s.run("y := 2")
	if got := s.text("x + y"); got != "3" {
		t.Errorf("after the names were set: %s", got)
	}
}

// A cell waiting for goroutines (sync.WaitGroup.Wait, compiled) ends when
// it is interrupted, without costing the session, even when they are in
// compiled code the interrupt cannot stop (here a read of a pipe, which
// its deadline ends later): they go on in the background, as Python's
// threads do after a KeyboardInterrupt, and stop at their next
// interpreted step. The statement after the wait does not run.
func TestInterruptWaitGroup(t *testing.T) {
	s := newSession(t) // grace 300ms
	// Every variable is declared first: a cell declaring one while a
	// goroutine of an earlier cell runs races with it on yaegi's frame
	// (benignly: the goroutine's variables keep their storage).
	s.run("import (\n\t\"fmt\"\n\t\"os\"\n\t\"sync\"\n\t\"time\"\n)\nx := 1\nvar wg, g, g2 sync.WaitGroup\nwg.Go(func() { x = 1 })\nwg.Wait()\nr, w, _ := os.Pipe()\n_ = w\nsum := 0\nvar mu sync.Mutex\nfunc addTo(i int) {\n\tdefer g2.Done()\n\tmu.Lock()\n\tsum += i\n\tmu.Unlock()\n}")
	for _, code := range []string{
		"r.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))\nwg.Add(1)\ngo func() {\n\tdefer wg.Done()\n\tr.Read(make([]byte, 1))\n\tx = 4\n}()\nwg.Wait()\nx = 2",
		"g.Go(func() {\n\tfor {\n\t}\n})\ng.Wait()\nx = 3",
	} {
		s.interrupted(code, 100*time.Millisecond)
	}
	// A wait that ends by itself still waits for every goroutine, and the
	// type reads as the standard one.
	s.run("for i := 1; i <= 100; i++ {\n\tg2.Add(1)\n\tgo addTo(i)\n}\ng2.Wait()")
	if got := s.text("sum"); got != "5050" {
		t.Errorf("sum = %q, want 5050", got)
	}
	if got := s.text("fmt.Sprintf(\"%T\", &g2)"); got != `"*sync.WaitGroup"` {
		t.Errorf("%%T of a WaitGroup = %s", got)
	}
	// The goroutine left reading stops once its read ends.
	time.Sleep(1600 * time.Millisecond)
	if got := s.text("x"); got != "1" {
		t.Errorf("x = %q after the interrupted goroutine's read ended, want 1", got)
	}
}

// Interrupting a long fit (compiled code) keeps the session: the package's
// long work stops between its steps once the cell is interrupted.
func TestInterruptLongFit(t *testing.T) {
	s := newSession(t) // grace 300ms
	s.run("import (\n\t\"math/rand\"\n\t\"github.com/gopherlab/gopherlab/experiments\"\n\t\"gonum.org/v1/gonum/mat\"\n)\nx := 1\nrng := rand.New(rand.NewSource(1))\nX := mat.NewDense(2000, 8, nil)\ny := make([]float64, 2000)\nfor i := range y {\n\tfor j := 0; j < 8; j++ {\n\t\tX.Set(i, j, rng.Float64())\n\t}\n\tif X.At(i, 0) > 0.5 {\n\t\ty[i] = 1\n\t}\n}")
	for _, code := range []string{
		"(&experiments.RandomForestClassifier{NTrees: 100000, Seed: 1}).Fit(X, y)\nx = 2",
		"experiments.CrossValidate(&experiments.RandomForestClassifier{NTrees: 100000, Seed: 1}, X, y, experiments.CVOptions{K: 5})\nx = 3",
	} {
		s.interrupted(code, 200*time.Millisecond)
	}
}

// interrupted runs code, interrupts it after d, and checks that it stops
// as interrupted (not stuck, which would cost the session) within a
// second or two, without running its last statement: the session's x
// stays 1.
func (ts *testSession) interrupted(code string, d time.Duration) {
	ts.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	start := time.Now()
	_, err := ts.Execute(ctx, code)
	cancel()
	var stuck *StuckError
	if !errors.Is(err, ErrInterrupted) || errors.As(err, &stuck) {
		ts.t.Fatalf("%q: err = %v, want interrupted, not stuck", code, err)
	}
	if el := time.Since(start); el > d+2*time.Second {
		ts.t.Errorf("%q: stopping took %v", code, el)
	}
	if got := ts.text("x"); got != "1" {
		ts.t.Errorf("after %q: x = %q, want 1 (the statement after the interrupted one ran)", code, got)
	}
}

// A session past 10737 evaluations (a long one, or a notebook run over
// and over) still runs cells and names them in tracebacks: Go's scanner
// refuses line numbers over 2^30, so the cell numbers the interpreter
// sees wrap (see lineStride).
func TestLongSessionCellNumbers(t *testing.T) {
	s := newSession(t)
	s.count = 10735 // evaluations so far
	for _, n := range []int{10737, 10738, 14403, 20001, 30000} {
		// A range over an int and a panic are rewritten with line
		// directives.
		code := "total := 0\nfor i := range 3 {\n\ttotal += i\n}\nif total != 3 {\n\tpanic(total)\n}"
		if _, err := s.Execute(WithCount(context.Background(), n), code); err != nil {
			t.Errorf("cell %d: %v", n, err)
		}
		s.count += 4000
	}
	if _, err := s.Execute(WithCount(context.Background(), 30001), "func boom() {\n\tpanic(\"x\")\n}"); err != nil {
		t.Fatal(err)
	}
	s.count += 3
	_, err := s.Execute(WithCount(context.Background(), 30005), "boom()")
	var ce *CellError
	if !errors.As(err, &ce) {
		t.Fatalf("boom(): %v", err)
	}
	if tb := strings.Join(ce.Traceback, "\n"); !strings.Contains(tb, "in boom, at or after cell 30001, line 2") || !strings.Contains(tb, "in cell, line 1") {
		t.Errorf("traceback:\n%s", tb)
	}
}

// An expression evaluated after a cell (user_expressions, which has no
// cell number) that calls a function of a cell past the wrap: the
// traceback names that cell.
func TestLongSessionEvaluate(t *testing.T) {
	s := newSession(t)
	s.count = 15000
	if _, err := s.Execute(WithCount(context.Background(), 15001), "func boom() int {\n\tpanic(\"x\")\n}"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Evaluate(context.Background(), "boom()")
	var ce *CellError
	if !errors.As(err, &ce) {
		t.Fatalf("boom(): %v", err)
	}
	if tb := strings.Join(ce.Traceback, "\n"); !strings.Contains(tb, "cell 15001") {
		t.Errorf("traceback:\n%s", tb)
	}
}

// A function defined more than 10000 evaluations before the call (silent
// executions and magics count too) is still named by its cell when no
// later cell with the same number modulo 10000 declared functions.
func TestLongSessionOldFunction(t *testing.T) {
	s := newSession(t)
	s.count = 4999
	if _, err := s.Execute(WithCount(context.Background(), 3), "func boom() {\n\tpanic(\"x\")\n}"); err != nil {
		t.Fatal(err)
	}
	s.count = 15000
	if _, err := s.Execute(WithCount(context.Background(), 900), "z := 1\n_ = z"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Execute(WithCount(context.Background(), 901), "boom()")
	var ce *CellError
	if !errors.As(err, &ce) {
		t.Fatalf("boom(): %v", err)
	}
	if tb := strings.Join(ce.Traceback, "\n"); !strings.Contains(tb, "in boom, at or after cell 3, line 2") {
		t.Errorf("traceback:\n%s", tb)
	}
}
