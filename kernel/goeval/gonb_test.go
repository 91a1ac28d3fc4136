package goeval

import (
	"strings"
	"testing"
)

// Cells written for GoNB run unchanged: func main runs once, when its cell
// runs; "%%" makes the cell main's body, its words os.Args[1:].
func TestGoNBCells(t *testing.T) {
	ts := newSession(t)
	ts.run("import (\n\t\"fmt\"\n\t\"os\"\n)")
	tests := []struct {
		code, stdout string
	}{
		{"func main() {\n\tfmt.Println(\"hello from main\")\n}", "hello from main\n"},
		// A later cell's main replaces the earlier one; the earlier one
		// does not run again.
		{"// doc\nfunc main() {\n\tn := 2\n\tif n > 1 {\n\t\tfmt.Println(\"second\", n)\n\t\treturn\n\t}\n\tfmt.Println(\"not here\")\n}", "second 2\n"},
		{"x := 40", ""},
		{"%%\nfmt.Println(\"wrapped\", x+2)", "wrapped 42\n"},
		{"%% -n 3 file.txt\nfmt.Println(os.Args[1:])", "[-n 3 file.txt]\n"},
		{"fmt.Println(len(os.Args) > 0 && os.Args[len(os.Args)-1] != \"file.txt\")", "true\n"},
		{"type T int\nfunc (T) main() { fmt.Println(\"method\") }\nvar mainValue = 1", ""},
	}
	for _, tt := range tests {
		ts.out.Reset()
		ts.run(tt.code)
		if got := ts.out.String(); got != tt.stdout {
			t.Errorf("%q printed %q, want %q", tt.code, got, tt.stdout)
		}
	}
	// Errors keep the cell's own lines.
	ce := ts.fail("func main() {\n\tfmt.Println(undefinedThing)\n}")
	if !strings.Contains(ce.Value, "line 2") {
		t.Errorf("error in main: %s, want it on line 2", ce.Value)
	}
}

func TestRewriteMain(t *testing.T) {
	tests := []struct {
		src, want string
		ok        bool
	}{
		{"func main() {}", "func cellMain() {}\ncellMain()", true},
		{"func /* c */ main () {}", "func /* c */ cellMain () {}\ncellMain()", true},
		{"func mainly() {}", "func mainly() {}", false},
		{"func (r T) main() {}", "func (r T) main() {}", false},
		{"x := \"func main() {}\"", "x := \"func main() {}\"", false},
	}
	for _, tt := range tests {
		got, ok := rewriteMain(tt.src)
		if got != tt.want || ok != tt.ok {
			t.Errorf("rewriteMain(%q) = %q, %v; want %q, %v", tt.src, got, ok, tt.want, tt.ok)
		}
	}
}
