package goeval

import (
	"fmt"
	"go/printer"
	"slices"

	"github.com/gopherlab/gopherlab/internal/gocell"
	"strings"
	"testing"
)

// recover in a cell returns the value panic was called with (yaegi's
// builtin panic made it a reflect.Value: r.(error) failed), and a cell
// that declares its own panic calls it.
func TestRecoverGetsPanicValue(t *testing.T) {
	s := newSession(t)
	s.run("import (\"errors\"; \"fmt\")\nvar errSent = errors.New(\"sent\")\ntype pt struct{ X int }\ntype myErr struct{ N int }\nfunc (e myErr) Error() string { return fmt.Sprint(\"my error \", e.N) }\nfunc mkErr(n int) error { return myErr{n} }\ntype named string\nfunc (n named) String() string { return \"named \" + string(n) }")
	for _, tt := range []struct{ name, code, want string }{
		{"error", `func() { defer func() { r := recover(); fmt.Println(r.(error).Error()) }(); panic(errors.New("x")) }()`, "x"},
		{"sentinel", `func() { defer func() { r := recover(); fmt.Println(r == errSent, errors.Is(r.(error), errSent)) }(); panic(errSent) }()`, "true true"},
		{"wrapped", `func() { defer func() { fmt.Println(errors.Is(recover().(error), errSent)) }(); panic(fmt.Errorf("row 3: %w", errSent)) }()`, "true"},
		{"string", `func() { defer func() { s, ok := recover().(string); fmt.Println(s, ok) }(); panic("boom") }()`, "boom true"},
		{"int", `func() { defer func() { n, ok := recover().(int); fmt.Println(n, ok) }(); panic(42) }()`, "42 true"},
		{"interpreted struct", `func() { defer func() { p, ok := recover().(pt); fmt.Println(p.X, ok) }(); panic(pt{7}) }()`, "7 true"},
		{"interpreted error", `func() { defer func() { err, ok := recover().(error); fmt.Println(err.Error(), ok) }(); panic(myErr{3}) }()`, "my error 3 true"},
		// As an error a function returned (yaegi loses the methods of
		// one assigned to an error variable: fmt prints it as {4} too).
		{"interpreted error as error", `func() { defer func() { fmt.Println(recover().(error).Error()) }(); err := mkErr(4); if err != nil { panic(err) } }()`, "my error 4"},
		{"stringer", `func() { defer func() { fmt.Println(recover()) }(); panic(named("n")) }()`, "named n"},
		{"repanic", `func() { defer func() { fmt.Println(recover().(error).Error()) }(); func() { defer func() { panic(recover()) }(); panic(errSent) }() }()`, "sent"},
		{"nil", `func() { defer func() { fmt.Println(recover()) }(); panic(nil) }()`, "panic called with nil argument"},
		{"in a goroutine", `done := make(chan string); go func() { defer func() { done <- recover().(error).Error() }(); panic(errSent) }(); fmt.Println(<-done)`, "sent"},
		{"local panic", `func() { panic := func(v any) { fmt.Println("local", v) }; panic(1) }()`, "local 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := *s
			ts.t = t
			ts.out.Reset()
			ts.run(tt.code)
			if got := strings.TrimSpace(ts.out.String()); !strings.HasPrefix(got, tt.want) {
				t.Errorf("printed %q, want %q", got, tt.want)
			}
		})
	}
}

// A function recompiled because one it calls changed (see rebind) keeps
// its panics the builtin's.
func TestRecoverAfterRebind(t *testing.T) {
	s := newSession(t)
	s.run("import \"fmt\"\nfunc g() int { return 1 }\nfunc f() (s string) {\n\tdefer func() { s = recover().(error).Error() }()\n\tpanic(fmt.Errorf(\"e%d\", g()))\n}")
	if got := s.text("f()"); got != `"e1"` {
		t.Fatalf("f() = %q", got)
	}
	s.run("func g() int { return 2 }")
	if got := s.text("f()"); got != `"e2"` {
		t.Fatalf("f() after g changed = %q", got)
	}
}

// A cell's own function named panic is called, not the builtin, in the
// cell and in later ones; the source kept for a function shows panic as
// written.
func TestUserPanicFunction(t *testing.T) {
	s := newSession(t)
	s.run("import \"fmt\"\nfunc panic(v any) { fmt.Println(\"mine\", v) }\npanic(1)")
	s.run("panic(2)")
	if got := s.out.String(); got != "mine 1\nmine 2\n" {
		t.Errorf("printed %q", got)
	}
	s2 := newSession(t)
	s2.run("func h() {\n\tpanic(\"h\")\n}")
	st := s2.current()
	if src := st.funcs["h"].src; !strings.Contains(src, "panic(\"h\")") {
		t.Errorf("h's source %q", src)
	}
}

// The parse rewritePanics keeps for the rewritten code is what parsing
// that code gives: the same code printed back, the same unresolved names.
func TestRewritePanicsParse(t *testing.T) {
	for _, src := range []string{
		"if err != nil {\n\tpanic(err)\n}",
		"func check(err error) {\n\tif err != nil {\n\t\tpanic(err)\n\t}\n}\nx := 1\nfor i := range 3 {\n\tgo func() { panic(i) }()\n}",
		"type T struct{}\nfunc (T) M() { panic(\"m\") }\npanic(fmt.Sprint(1, 2))",
		"panic := func(v any) {}\npanic(1)", // declared: left as it is
		"x := 1\nfor i := range 3 {\n\tfmt.Println(i)\n}",
		"func k() {\n\tdefer panic(\"late\")\n\tpanic(\"now\")\n}", // D and P
	} {
		out, _, loops := perIteration(1, src)
		got, spans, prs := rewritePanics(1, out, loops)
		if prs == nil {
			continue // nothing parsed, nothing kept
		}
		if strings.Count(src, "panic(") > 0 && !strings.Contains(src, "panic :=") && (len(spans) == 0 || !strings.Contains(got, panicCall+"(")) {
			t.Errorf("%q: not rewritten: %q", src, got)
		}
		c := cellFrom(1, got, got, nil)
		var fresh []*parsedRun
		for _, r := range groupRuns(gocell.Split(got)) {
			pr, err := parseRun(c, r)
			if err != nil {
				t.Fatalf("%q: rewritten %q does not parse: %v", src, got, err)
			}
			fresh = append(fresh, pr)
		}
		if len(prs) != len(fresh) {
			t.Fatalf("%q: %d runs kept, %d parsed", src, len(prs), len(fresh))
		}
		for i := range fresh {
			var a, b strings.Builder
			printer.Fprint(&a, prs[i].fset, prs[i].file)
			printer.Fprint(&b, fresh[i].fset, fresh[i].file)
			if a.String() != b.String() {
				t.Errorf("%q run %d: kept parse prints\n%s\nparsing the rewritten code gives\n%s", src, i, a.String(), b.String())
			}
			un := func(pr *parsedRun) (s []string) {
				for _, id := range pr.file.Unresolved {
					s = append(s, fmt.Sprintf("%s@%d", id.Name, pr.off(id.Pos())))
				}
				return s
			}
			if ua, ub := un(prs[i]), un(fresh[i]); !slices.Equal(ua, ub) {
				t.Errorf("%q run %d: kept parse's unresolved names %v, parsing the rewritten code gives %v", src, i, ua, ub)
			}
		}
	}
}

// defer panic(v) panics when the function returns (yaegi's builtin
// panicked at the defer statement), and its traceback has the frame of
// the function, which yaegi does not print for a panic in a deferred
// call of compiled code (see deferredFrame).
func TestDeferredPanic(t *testing.T) {
	s := newSession(t)
	s.run("import (\"errors\"; \"fmt\")\nfunc kd() {\n\tdefer panic(errors.New(\"late\"))\n\tfmt.Println(\"body ran\")\n}")
	for _, tt := range []struct{ name, code, value, frame string }{
		{"from the cell", "kd()", "late (cell 1, line 3, column 8)", "in kd, cell 1, line 3, column 8 (a deferred panic):"},
		{"in an expression", "func k1() int {\n\tdefer panic(\"x\")\n\treturn 1\n}\ny := 2 + k1()", "x (line 2, column 8)", "in k1, line 2, column 8 (a deferred panic):"},
		{"through another function", "func k2() int {\n\tdefer panic(\"x\")\n\treturn 1\n}\nfunc outer() {\n\tv := k2()\n\t_ = v\n}\nouter()", "x (line 2, column 8)", "in k2, line 2, column 8 (a deferred panic):"},
		{"several", "func k3() {\n\tdefer panic(\"x\")\n\tif true {\n\t\tdefer panic(\"y\")\n\t}\n}\nk3()", "(at or after line 2, column 8)", "in k3, line 2, column 8 (a deferred panic: this one or a later one of k3):"},
		// Two functions the code calls defer a panic: which one panicked
		// is not known, no frame is made up.
		{"ambiguous", "func k4() { defer panic(\"x\") }\nfunc k5() { defer panic(\"x\") }\nk4(); k5()", "x (line 3, column 1)", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := *s
			ts.t = t
			ce := ts.fail(tt.code)
			tb := strings.Join(ce.Traceback, "\n")
			if !strings.HasSuffix(ce.Value, tt.value) {
				t.Errorf("value %q, want it to end with %q\n%s", ce.Value, tt.value, tb)
			}
			if tt.frame != "" && !strings.Contains(tb, tt.frame) {
				t.Errorf("traceback lacks %q:\n%s", tt.frame, tb)
			}
			if tt.frame == "" && strings.Contains(tb, "deferred panic") {
				t.Errorf("made-up frame:\n%s", tb)
			}
		})
	}
	if got := s.out.String(); !strings.Contains(got, "body ran") {
		t.Errorf("the body of kd did not run before its deferred panic: %q", got)
	}
	// A deferred panic recovered, then a runtime error: no deferred frame.
	ce := s.fail("func k6() {\n\tdefer func() { recover() }()\n\tfunc() { defer panic(\"x\") }()\n}\nk6()\nvar nm map[string]int\nnm[\"a\"] = 1")
	if tb := strings.Join(ce.Traceback, "\n"); !strings.Contains(ce.Value, "nil map") || strings.Contains(tb, "deferred panic") {
		t.Errorf("runtime error after a recovered deferred panic: %s\n%s", ce.Value, tb)
	}
}

// An explicit panic is placed exactly at the cell's top level; in a loop,
// an if or a switch yaegi places it at the start of a statement before
// it, which the error says ("at or after").
func TestPanicPlacement(t *testing.T) {
	s := newSession(t)
	s.run("import \"fmt\"\ntype Shape interface{ Area() float64 }\nvar sh any = 3")
	for _, tt := range []struct{ code, want string }{
		{"x := 1\npanic(\"top\")", "top (line 2, column 1)"},
		{"_ = 1; panic (\"spaced\")", "spaced (line 1, column 8)"},
		{"for i := 0; i < 3; i++ {\n\tif i == 1 {\n\t\tpanic(\"in loop\")\n\t}\n}", "in loop (at or after line 1, column 5)"},
		{"if len(sh.(fmt.Stringer).String()) > 0 {}", "(at or after line 1, column 12)"},
		{"if true {\n\tpanic(\"in if\")\n}", "in if (line 2, column 2)"},
		{"z := 1\nif z > 0 {\n\tpanic(\"in if\")\n}", "in if (at or after line 1, column 1)"},
		{"y := 2\nswitch y {\ncase 2:\n\tpanic(\"in switch\")\n}", "in switch (at or after line 1, column 1)"},
		{"for i := range 3 { if i == 2 { panic(fmt.Sprint(\"r\", i)) } }", "r2 (at or after line 1, column 16)"},
		// yaegi's position in the message is left out: the error places it.
		{"sv := sh.(Shape)\n_ = sv", "interface conversion: nil is not main.Shape (if the value is not nil: the interpreter cannot assert to an interface type a cell declares; assert to the concrete type) (at or after line 1, column 7)"},
	} {
		ce := s.fail(tt.code)
		if !strings.HasSuffix(ce.Value, tt.want) && !strings.HasPrefix(ce.Value, tt.want+":") {
			t.Errorf("%q: %q, want it to end with %q", tt.code, ce.Value, tt.want)
		}
		if strings.Contains(ce.Value, "00001:") {
			t.Errorf("%q: %q shows the interpreter's position", tt.code, ce.Value)
		}
	}
}
