package goeval

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// cursorAt splits code at "|" and returns it with the cursor in code
// points.
func cursorAt(code string) (string, int) {
	i := strings.Index(code, "|")
	return code[:i] + code[i+1:], utf8.RuneCountInString(code[:i])
}

func TestComplete(t *testing.T) {
	s := newSession(t)
	s.run(`import "strings"
type Point struct{ X, Y float64 }
func (p Point) Norm() float64 { return p.X*p.X + p.Y*p.Y }
func (p *Point) Scale(f float64) { p.X *= f; p.Y *= f }
func newPoint() *Point { return &Point{} }
pt := Point{1, 2}
pp := newPoint()
var total int
const limit = 10
func helper(a int) int { return a }
`)
	tests := []struct {
		code     string
		want     []string // all present
		not      []string // none present
		replaced string   // text replaced by the completion
	}{
		{"strings.Rep|", []string{"Repeat", "Replace", "ReplaceAll", "Replacer"}, []string{"Split"}, "Rep"},
		{"x := strings.Rep|", []string{"Repeat"}, nil, "Rep"},
		{"math.Sq|", []string{"Sqrt"}, nil, "Sq"},                                              // not imported yet
		{"mat.NewD|", []string{"NewDense", "NewDiagDense"}, nil, "NewD"},                       // gonum, not imported
		{"import \"gonum.org/v1/gonum/mat\"\nmat.NewV|", []string{"NewVecDense"}, nil, "NewV"}, // imported in the cell
		{"mat.Dense.M|", []string{"Mul", "MulElem"}, nil, "M"},
		{"hel|", []string{"helper"}, nil, "hel"},
		{"tot|", []string{"total"}, nil, "tot"},
		{"lim|", []string{"limit"}, nil, "lim"},
		{"Poi|", []string{"Point"}, nil, "Poi"},
		{"pt.|", []string{"X", "Y", "Norm", "Scale"}, nil, ""},
		{"pt.N|", []string{"Norm"}, []string{"X"}, "N"},
		{"pp.Sc|", []string{"Scale"}, nil, "Sc"},
		{"fu|", []string{"func"}, nil, "fu"},
		{"appe|", []string{"append"}, nil, "appe"},
		{"float6|", []string{"float64"}, nil, "float6"},
		{"myLocal := 3\nmyL|", []string{"myLocal"}, nil, "myL"},
		{"str|", []string{"strings"}, nil, "str"},
		{"import \"gonum.org/v1/go|\"", []string{"gonum.org/v1/gonum/mat", "gonum.org/v1/gonum/stat"}, []string{"fmt"}, "gonum.org/v1/go"},
		{"import (\n\t\"fmt\"\n\t\"encoding/j|\"\n)", []string{"encoding/json"}, nil, "encoding/j"},
		{"__gl|", nil, []string{"__glhook"}, "__gl"},
		{"// héllo wörld\nstrings.Rep|", []string{"Repeat"}, nil, "Rep"},
		{"x := strings.Repeat(|", []string{"strings", "func", "len"}, []string{"break", "case", "return"}, ""},
		{"xs := []int{1}\nxs[le|", []string{"len"}, nil, "le"},
		{"f := func() {\n\tre|", []string{"return"}, nil, "re"},
		{"fmt.Println(1)\nre|", []string{"return"}, nil, "re"},
		{"experiments.CrossValidate(pipe,\n\tX, re|", nil, []string{"return"}, "re"},
		{"%ti|", []string{"time", "timeit"}, nil, "ti"},
		{"%%ti|", []string{"timeit"}, nil, "ti"},
		{"x := 1 %ti|", nil, []string{"timeit"}, "ti"},
		{"strings.Builder{|", nil, nil, ""}, // no exported fields
		{"mat.DenseCopyOf(mat.NewDense(1, 1, nil))\nregexp.Regexp{|", nil, nil, ""},
		{"experiments.CVOptions{Sh|", []string{"Shuffle", "ShowProgress"}, []string{"K", "Shape"}, "Sh"},
		{"experiments.GridSearch{CV: experiments.CVOptions{K: 5,\n\tSe|", []string{"Seed"}, nil, "Se"},
		{"experiments.CVOptions{K: Sh|", nil, []string{"Shuffle"}, "Sh"}, // a value, not a key
	}
	for _, tc := range tests {
		code, cur := cursorAt(tc.code)
		matches, start, end, meta := s.Complete(code, cur)
		set := map[string]bool{}
		for _, m := range matches {
			set[m] = true
		}
		for _, w := range tc.want {
			if !set[w] {
				t.Errorf("%q: %q missing from %v", tc.code, w, matches)
			}
		}
		for _, n := range tc.not {
			if set[n] {
				t.Errorf("%q: %q should not be offered", tc.code, n)
			}
		}
		if end != cur {
			t.Errorf("%q: end = %d, want %d", tc.code, end, cur)
		}
		runes := []rune(code)
		if start < 0 || start > end || string(runes[start:end]) != tc.replaced {
			t.Errorf("%q: replaces %q, want %q", tc.code, string(runes[start:end]), tc.replaced)
		}
		types, _ := meta["_jupyter_types_experimental"].([]any)
		if len(types) != len(matches) {
			t.Errorf("%q: %d type entries for %d matches", tc.code, len(types), len(matches))
		}
	}
	// Metadata for a package member carries its signature.
	code, cur := cursorAt("strings.Repe|")
	_, _, _, meta := s.Complete(code, cur)
	types := meta["_jupyter_types_experimental"].([]any)
	if len(types) != 1 || types[0].(map[string]any)["signature"] != "func Repeat(s string, count int) string" || types[0].(map[string]any)["type"] != "function" {
		t.Errorf("metadata %v", types)
	}
}

func TestInspect(t *testing.T) {
	s := newSession(t)
	s.run(`import "strings"
sb := &strings.Builder{}
// Point is a point in the plane.
type Point struct{ X, Y float64 }
// Norm is the squared length.
func (p Point) Norm() float64 { return p.X*p.X + p.Y*p.Y }
// Scale multiplies.
func Scale(p Point, f float64) Point {
	return Point{p.X * f, p.Y * f}
}
pt := Point{3, 4}
`)
	tests := []struct {
		code   string
		detail int
		want   []string
		not    []string
	}{
		{"strings.Rep|eat", 0, []string{"func strings.Repeat(s string, count int) string", "copies of the string s"}, nil},
		{"strings.Repeat(\"a\", |", 0, []string{"func strings.Repeat"}, nil},
		{"mat.Dense.M|ul", 0, []string{"func (m *Dense) Mul(a, b Matrix)", "matrix product"}, nil},
		{"stri|ngs", 0, []string{"package strings", "UTF-8"}, nil},
		{"Sca|le", 0, []string{"func Scale(p Point, f float64) Point", "Scale multiplies."}, []string{"return Point"}},
		{"Sca|le", 1, []string{"func Scale(p Point, f float64) Point", "return Point{p.X * f"}, nil},
		{"Poi|nt", 0, []string{"type Point struct{ X, Y float64 }", "Point is a point", "func (p Point) Norm() float64"}, nil},
		{"p|t", 0, []string{"pt := Point{3, 4}", "Type:", "Point", "Value: {X:3 Y:4}"}, nil},
		{"pt.No|rm", 0, []string{"func (p Point) Norm() float64", "squared length"}, nil},
		{"Point.Norm|", 0, []string{"func (p Point) Norm() float64"}, nil},
		{"le|n", 0, []string{"func len(v Type) int"}, nil},
		// A compiled type's method on a session variable: with its doc.
		{"sb.Gr|ow", 0, []string{"func (*strings.Builder) Grow(int)", "guarantee space for another n bytes"}, nil},
	}
	for _, tc := range tests {
		code, cur := cursorAt(tc.code)
		found, data := s.Inspect(code, cur, tc.detail)
		if !found {
			t.Errorf("%q: not found", tc.code)
			continue
		}
		text, _ := data["text/plain"].(string)
		if _, ok := data["text/markdown"].(string); !ok {
			t.Errorf("%q: no text/markdown", tc.code)
		}
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%q: %q not in %q", tc.code, w, text)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(text, n) {
				t.Errorf("%q: %q should not be in %q", tc.code, n, text)
			}
		}
	}
	if found, _ := s.Inspect("nothing", 3, 0); found {
		t.Errorf("found an undefined name")
	}
	if found, _ := s.Inspect("  ", 1, 0); found {
		t.Errorf("found something in blanks")
	}
}

func TestIsComplete(t *testing.T) {
	s := newSession(t)
	tests := []struct {
		code, status, indent string
	}{
		{"", "complete", ""},
		{"x := 1", "complete", ""},
		{"func f() {", "incomplete", "\t"},
		{"for i := 0; i < 3; i++ {\n\tif i > 1 {", "incomplete", "\t\t"},
		{"fmt.Println(1,", "incomplete", "\t"},
		{"x := 1 +", "incomplete", ""},
		{"if x {\n} else", "incomplete", ""},
		{"for i := range", "incomplete", ""},
		{"import", "incomplete", ""},
		{"s := `raw\nstring", "incomplete", ""},
		{"/* open comment", "incomplete", ""},
		{"x := )", "invalid", ""},
		{"}", "invalid", ""},
		{"x := \"unterminated", "invalid", ""},
		{"x := 1 1", "invalid", ""},
		{"%time\nfor {", "incomplete", "\t"},
		{"%env A=1", "complete", ""},
		{"!ls -l", "complete", ""},
		// Magic and shell lines after code, as executeCell runs them.
		{"fmt.Println(1)\n%pwd\n", "complete", ""},
		{"fmt.Println(1)\n!echo hi", "complete", ""},
		{"fmt.Println(1)\n%time", "complete", ""},
		{"fmt.Println(1)\n%time for {", "incomplete", "\t"},
		{"ok := a &&\n!b", "complete", ""},
		{"s := `\n%d", "incomplete", ""},
		{"strings.Repeat?", "complete", ""},
		{"type T struct {\n\tA int\n}\nfunc (t T) M() {}\nT{}.M()", "complete", ""},
	}
	for _, tc := range tests {
		st, in := s.IsComplete(tc.code)
		if st != tc.status || in != tc.indent {
			t.Errorf("IsComplete(%q) = %q, %q; want %q, %q", tc.code, st, in, tc.status, tc.indent)
		}
	}
}
