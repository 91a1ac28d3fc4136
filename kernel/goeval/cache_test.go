package goeval

import (
	"fmt"
	"go/parser"
	"go/token"
	"runtime"
	"strings"
	"testing"
)

// Identical cells run kept programs: what they show must follow the
// session as it changes between them.
func TestRepeatedCells(t *testing.T) {
	s := newSession(t)
	s.run("import \"fmt\"\nx := 1\nfunc f() int { return 10 }\nflag := false\nfunc check() int { if flag { panic(\"flag set\") }; return 1 }")
	steps := []struct {
		code, want string // want "!" + text: the cell fails with text in its value
	}{
		{"x", "1"},
		{"x", "1"},
		{"x = 5", ""},
		{"x", "5"},
		{"x := 1", ""},
		{"x", "1"},
		{"x = x + 1", ""},
		{"x = x + 1", ""},
		{"x", "3"},
		{"x := 1", ""},
		{"x := 1", ""},
		{"x", "1"},
		{"f() + x", "11"},
		{"func f() int { return 20 }", ""},
		{"f() + x", "21"},
		{"fmt.Sprint(x)", `"1"`},
		{"x := \"s\"", ""},
		{"fmt.Sprint(x)", `"s"`},
		{"check()", "1"},
		{"check()", "1"},
		{"flag = true", ""},
		{"check()", "!flag set"},
		{"y := 2\ny * 3", "6"},
		{"y = 5", ""},
		{"y := 2\ny * 3", "6"},
		{"func getX() any { return x }", ""},
		{"x := y", ""},
		{"y = 7", ""},
		{"x := y", ""},
		{"getX()", "7"},
		{"y = 8", ""},
		{"x := y", ""},
		{"getX()", "8"},
		{"x", "8"},
	}
	for i, st := range steps {
		if msg, ok := strings.CutPrefix(st.want, "!"); ok {
			ce := s.fail(st.code)
			if !strings.Contains(ce.Value, msg) {
				t.Errorf("step %d %q: %v, want %q", i, st.code, ce, msg)
			}
			// A kept program reports positions in the running cell.
			if tb := strings.Join(ce.Traceback, "\n"); !strings.Contains(tb, "in check, at or after cell 1") || !strings.Contains(tb, "in cell, line 1") {
				t.Errorf("step %d %q: traceback %s", i, st.code, tb)
			}
			continue
		}
		if got := s.text(st.code); got != st.want {
			t.Errorf("step %d %q: result %q, want %q", i, st.code, got, st.want)
		}
	}
}

// A type that gains display methods is shown with them by a cell that
// showed it before.
func TestRepeatedRichResult(t *testing.T) {
	s := newSession(t)
	s.run("type T struct{ N int }\nv := T{3}\nvar a any = T{4}")
	if got := s.text("v"); got != "{N:3}" {
		t.Fatalf("v = %q", got)
	}
	s.run("func (t T) String() string { return \"T!\" }")
	for _, code := range []string{"v", "v", "a", "a", "&v"} {
		if got := s.text(code); got != "T!" {
			t.Errorf("%q after String was added: %q", code, got)
		}
	}
	s.run("type U struct{ T }\nu := U{T{1}}")
	if got := s.text("u"); got != "T!" {
		t.Errorf("u (embeds T): %q", got)
	}
}

// Cells that define nothing leave the interpreter as it was: no global
// slots, no source files kept; identical cells reuse their program.
func TestCellsLeaveNothing(t *testing.T) {
	s := newSession(t)
	st := s.current()
	if !st.keep.ok {
		t.Fatal("frame keeper disabled: yaegi's layout is not the expected one")
	}
	s.run("import \"fmt\"\nx := 1\nfunc f(n int) int { return n + x }\ntype T struct{ N int }\nfunc (t T) HTML() string { return \"<b>t</b>\" }\nvar a any = T{1}")
	files := func() int {
		n := 0
		st.in.FileSet().Iterate(func(*token.File) bool { n++; return true })
		return n
	}
	cells := func(i int) []string {
		return []string{
			fmt.Sprintf("x + %d", i), fmt.Sprintf("f(%d)", i), fmt.Sprintf("fmt.Println(%d)", i),
			fmt.Sprintf("x = %d", i), fmt.Sprintf("T{%d}", i), "a", "1+1",
			fmt.Sprintf("for i := 0; i < %d; i++ { x += i }", i),
		}
	}
	for _, code := range cells(-1) {
		s.run(code) // the first result declares the display helpers
	}
	slots, nfiles := st.keep.size(), files()
	for i := 0; i < 50; i++ {
		for _, code := range cells(i) {
			s.run(code)
		}
	}
	if got := st.keep.size(); got != slots {
		t.Errorf("global frame grew from %d to %d slots", slots, got)
	}
	// yaegi makes three files of each source; kept programs keep theirs.
	if got := files(); got > nfiles+3*maxUnits {
		t.Errorf("file set grew from %d to %d files", nfiles, got)
	}
	if n := len(st.cells); n > 1 {
		t.Errorf("%d cell sources kept, want only the one with functions", n)
	}
	// Redeclaring a variable takes a slot, but not for an identical cell.
	s.run("x := 2")
	slots = st.keep.size()
	for i := 0; i < 20; i++ {
		s.run("x := 2")
	}
	if got := st.keep.size(); got != slots {
		t.Errorf("x := 2 again and again: frame grew from %d to %d slots", slots, got)
	}
}

// yaegi's wrapper of a cell value in a compiled interface reads the value
// from the slot of the expression that made it each time a method is
// called: later cells must leave those slots alone.
func TestWrappedValueSurvivesLaterCells(t *testing.T) {
	s := newSession(t)
	s.run("import \"fmt\"\ntype T struct{ N int }\nfunc (t *T) String() string { return fmt.Sprint(\"T\", t.N) }\nvar w fmt.Stringer = &T{6}\nws := []fmt.Stringer{&T{7}}")
	for i := 0; i < 30; i++ {
		s.run(fmt.Sprintf("z := []int{%d}\nfmt.Sprint(T{%d}, z)", i, i))
		s.run(fmt.Sprintf("var v%d fmt.Stringer = &T{%d}", i, i))
	}
	if got := s.text("w.String() + ws[0].String() + v3.String()"); got != `"T6T7T3"` {
		t.Errorf("wrapped values after later cells: %s", got)
	}
}

func TestExprClass(t *testing.T) {
	s := newSession(t)
	s.run(`import ("fmt"; "time"; "errors"; "io")
type T struct{ N int }
type I interface{ M() }
type E struct{ T }
type G[X any] struct{ v X }
func (T) String() string { return "t" }
func mk() T { return T{} }
func mkp() *T { return &T{} }
func iface() fmt.Stringer { return T{} }
func two() (int, int) { return 1, 2 }
n := 3
tv := T{1}
var iv I
var err error
var d time.Duration
f := 1.5
_ = fmt.Sprint(errors.New(""), io.EOF)`)
	tests := []struct {
		expr string
		want class
	}{
		{"1+1", plainClass},
		{`"s" + "t"`, plainClass},
		{"n", plainClass},
		{"n * 2", plainClass},
		{"n > 2", plainClass},
		{"-f", plainClass},
		{"[]int{1}", plainClass},
		{"map[string]T{}", plainClass},
		{"T{2}", cellClass},
		{"&T{2}", cellClass},
		{"tv", cellClass},
		{"&tv", cellClass},
		{"E{}", cellClass},
		{"struct{ T }{}", cellClass},
		{"struct{ A int }{}", plainClass},
		{"mk()", cellClass},
		{"mkp()", cellClass},
		{"iface()", ifaceClass},
		{"iv", ifaceClass},
		{"err", ifaceClass},
		{"io.EOF", ifaceClass},
		{"errors.New(\"x\")", ifaceClass},
		{"fmt.Sprint(1)", plainClass},
		{"time.Now()", plainClass},
		{"d", plainClass},
		{"time.Second", plainClass},
		{"time.Duration(3)", plainClass},
		{"float64(n)", plainClass},
		{"any(n)", ifaceClass},
		{"error(nil)", ifaceClass},
		{"T(tv)", cellClass},
		{"len(\"abc\")", plainClass},
		{"append([]T{}, tv)", plainClass},
		{"new(T)", cellClass},
		{"new(I)", plainClass},
		{"recover()", ifaceClass},
		{"func() int { return 1 }()", plainClass},
		{"func() T { return T{} }()", cellClass},
		{"iv.(T)", cellClass},
		{"tv.N", unknownClass},
		{"[]int{1}[0]", unknownClass},
		{"two()", unknownClass},
		{"G[int]{}", unknownClass},
		{"unknownName", unknownClass},
		{"<-make(chan int)", unknownClass},
	}
	st := s.current()
	for _, tc := range tests {
		x, err := parser.ParseExpr(tc.expr)
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		s.meta.RLock()
		got := s.exprClass(st, x, 0)
		s.meta.RUnlock()
		if got != tc.want {
			t.Errorf("exprClass(%q) = %d, want %d", tc.expr, got, tc.want)
		}
	}
}

// Running a cell again must not keep the values of the previous run: a
// cell loading a dataset is often run several times.
func TestRerunKeepsNoOldValues(t *testing.T) {
	s := newSession(t)
	s.run("func load(n int) []byte { return make([]byte, n<<20) }\ntype M struct{ b []byte }\nfunc mk(n int) *M { return &M{load(n)} }")
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for _, code := range []string{
		"big := load(8)", "big := load(8)[1:]", "m := mk(8)", "big, n := load(8), 1",
		"for i := 0; i < 1; i++ { big = load(8) }", "var big = load(8)", "var big []byte = load(8)[1:]",
		"var (\n\tbig = load(8)\n\tm = mk(1)\n)",
	} {
		base := heap()
		for i := 0; i < 4; i++ {
			s.run(code)
		}
		s.run("big, m := []byte(nil), (*M)(nil)")
		if grew := int64(heap()) - int64(base); grew > 8<<20 {
			t.Errorf("after running %q four times, the heap grew by %d MiB", code, grew>>20)
		}
	}
}

// Definitions run as assignments in a function: they must keep Go's
// semantics.
func TestDefinitions(t *testing.T) {
	s := newSession(t)
	s.run("import (\"errors\"; \"fmt\")\nfunc one() int { return 1 }\nfunc two() (int, string) { return 2, \"two\" }\ntype T struct{ N int }\nfunc (t T) String() string { return fmt.Sprint(\"T\", t.N) }\ncalls := 0\nfunc count() int { calls++; return calls }")
	tests := []struct{ code, want string }{
		{"a, err := 1, errors.New(\"q\")\na", "1"},
		{"err", "q"},
		{"c, d := one(), 10\nd", "10"},
		{"e, f := two()\nf", `"two"`},
		{"g := 1.5\ng", "1.5"},
		{"var v any = 3\nh := v\nh", "3"},
		{"k := one()\nk++\nk", "2"},
		{"l := []int{1}\nl = append(l, 2)\nm := len(l)\nm", "2"},
		{"p := func(x int) int { return x * k }\np(3)", "6"},
		{"k = 5\np(3)", "15"},
		{"q, r := one(), func() int { return 4 }()\nr * 10 + q", "41"},
		{"s, t := \"a\" +\n\t\"b\", one() ; u := s + \"c\"\nu", `"abc"`},
		{"var (\n\tv1 = 1\n\tv2, v3 = one(), 10\n)\nv1 + v2 + v3", "12"},
		{"var v4, v5 = two()\nv5", `"two"`},
		{"var v6 float64 = 2\nv6 / 4", "0.5"},
		{"var p1 = 2\nvar p2 = p1 * 3\np2", "6"},
		{"var _ = count()\ncalls", "1"},
		{"var w fmt.Stringer = T{6}\nvar ws = []fmt.Stringer{T{7}}", ""},
		{"z := 0\nfor i := 0; i < 10; i++ { z += i }\nw.String() + ws[0].String()", `"T6T7"`},
		{"var e1 error = errors.New(\"x\")\ne1", "x"},
		{"var f1 = func() int { return k * 2 }\nf1()", "10"},
	}
	for _, tc := range tests {
		if got := s.text(tc.code); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.code, got, tc.want)
		}
	}
}
