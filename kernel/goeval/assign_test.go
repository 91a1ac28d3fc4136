package goeval

import (
	"strings"
	"testing"
)

// An assignment of a call to a count of variables the call does not
// return is Go's compile error, at the call, not a reflect panic from
// yaegi when it runs (or nothing, inside a function).
func TestAssignMismatch(t *testing.T) {
	s := newSession(t)
	s.run("import (\"bytes\"; \"strconv\"; \"strings\"; \"github.com/gopherlab/gopherlab/display\")\nfunc two() (int, error) { return 7, nil }\nvar sb strings.Builder")
	// A cell's type whose own method hides the one of a compiled type it
	// embeds (yaegi's reflect type shows only the embedded one).
	s.run("func Gen2[K, V any](k K, v V) (K, V) { return k, v }")
	s.run("type W2 struct{ *bytes.Buffer }\nfunc (W2) Write(p []byte) int { return len(p) + 4 }\nvar w2 = W2{new(bytes.Buffer)}")
	for _, tt := range []struct{ name, code, want string }{
		{"define", "x := 1\nn := display.Input(\"x\")", "assignment mismatch: 1 variable but display.Input returns 2 values (line 2, column 6)"},
		{"var", "var n = display.Input(\"x\")", "assignment mismatch: 1 variable but display.Input returns 2 values (line 1, column 9)"},
		{"assign", "var k int\nk = two()", "assignment mismatch: 1 variable but two returns 2 values (line 2, column 5)"},
		{"define session func", "n := two()", "assignment mismatch: 1 variable but two returns 2 values (line 1, column 6)"},
		{"a function the cell declares below", "single := one5()\nfunc one5() (int, error) { return 5, nil }", "assignment mismatch: 1 variable but one5 returns 2 values (line 1, column 11)"},
		{"a function the cell redeclares", "func two() (int, int, error) { return 1, 2, nil }\nn, err := two()", "assignment mismatch: 2 variables but two returns 3 values (line 2, column 11)"},
		{"too many", "a, b, c := strconv.Atoi(\"1\")", "assignment mismatch: 3 variables but strconv.Atoi returns 2 values (line 1, column 12)"},
		{"one value", "a, b := strconv.Itoa(1)", "assignment mismatch: 2 variables but strconv.Itoa returns 1 value (line 1, column 9)"},
		{"method", "m := sb.WriteString(\"x\")", "assignment mismatch: 1 variable but sb.WriteString returns 2 values (line 1, column 6)"},
		{"in a function", "func parse(s string) int {\n\tn := strconv.Atoi(s)\n\treturn n\n}", "assignment mismatch: 1 variable but strconv.Atoi returns 2 values (line 2, column 7)"},
		{"generic", "func Pair[T any](a T) (T, error) { return a, nil }\nn := Pair[int](3)", "assignment mismatch: 1 variable but Pair[int] returns 2 values (line 2, column 6)"},
		{"generic of the session", "a, b, c := Gen2[string, int](\"a\", 1)", "assignment mismatch: 3 variables but Gen2[string, int] returns 2 values (line 1, column 12)"},
		{"if init", "if n := strconv.Atoi(\"1\"); n > 0 {\n}", "assignment mismatch: 1 variable but strconv.Atoi returns 2 values (line 1, column 9)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := *s
			ts.t = t
			ce := ts.fail(tt.code)
			if ce.Name != "CompileError" || ce.Value != tt.want {
				t.Errorf("%s: %s, want CompileError: %s\n%s", ce.Name, ce.Value, tt.want, strings.Join(ce.Traceback, "\n"))
			}
		})
	}
	// Correct code, and names the cell or a scope of it gives another
	// meaning, are left alone.
	for _, code := range []string{
		"n, err := strconv.Atoi(\"7\")\n_ = err\nn",
		"var m, err2 = two()\n_ = err2\nm",
		"func two() int { return 7 }\nk := two()\nk",
		"func(strconv int) int { v := strconv; return v }(7)",
		"w, werr := sb.WriteString(\"abcdefg\")\n_ = werr\nw",
		"k := w2.Write([]byte(\"abc\"))\nk",
		"k := seven()\nfunc seven() int { return 7 }\nk",
		"g1, g2 := Gen2[int, int](7, 8)\n_ = g2\ng1",
		"fs := []func() int{func() int { return 7 }}\nk := fs[0]()\nk",
	} {
		if got := s.text(code); got != "7" {
			t.Errorf("%q = %q, want 7", code, got)
		}
	}
}
