package goeval

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gopherlab/gopherlab/internal/gocell"
)

func TestGroupRuns(t *testing.T) {
	tests := []struct {
		src  string
		runs []string // "decl"/"stmt" per run
	}{
		{"import \"fmt\"\n\n// f is one.\nfunc f() int { return 1 }\nx := f()\nfmt.Println(x)\n", []string{"decl", "stmt"}},
		{"type T struct {\n\tA int\n}\nvar v = T{\n\tA: 1,\n}\nconst c = 3\n", []string{"decl"}},
		{"6*7", []string{"stmt"}},
		// An import after a declaration starts a run: Go files want imports first.
		{"import (\n\t\"fmt\"\n\t\"os\"\n)\nvar a = 1\nimport \"strings\"", []string{"decl", "decl"}},
		{"x := 1\nfunc g() int { return x }\ny := g()\ntype U int\nvar z U", []string{"stmt", "decl", "stmt", "decl"}},
	}
	for _, tc := range tests {
		var kinds []string
		for _, r := range groupRuns(gocell.Split(tc.src)) {
			if r.decl {
				kinds = append(kinds, "decl")
			} else {
				kinds = append(kinds, "stmt")
			}
		}
		if strings.Join(kinds, ",") != strings.Join(tc.runs, ",") {
			t.Errorf("groupRuns(%q) = %v, want %v", tc.src, kinds, tc.runs)
		}
	}
}

// FuzzGroupRuns checks that runs tile the cell as its pieces do.
func FuzzGroupRuns(f *testing.F) {
	for _, seed := range []string{"import \"fmt\"\nx := 1\nfmt.Println(x)", "func f() int { return 1 }\nf()", "var a = 1\nimport \"os\"\n}{)(][;;;"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		parts := gocell.Split(src)
		var joined strings.Builder
		prev := 0
		for _, r := range groupRuns(parts) {
			if r.start != prev {
				t.Fatalf("run starts at %d, want %d", r.start, prev)
			}
			joined.WriteString(src[r.start:r.end])
			prev = r.end
		}
		if len(parts) > 0 && joined.String() != src {
			t.Fatalf("runs join to %q, want %q", joined.String(), src)
		}
	})
}

// FuzzQueries checks that completion, inspection and is_complete never
// panic on arbitrary code and cursors (the exported methods recover; the
// fuzz calls what they guard).
func FuzzQueries(f *testing.F) {
	for _, seed := range []string{"strings.Rep", "import \"gonum.org/v1/go", "x := 1\nx.", "é.ü", "%time\nfor {", "pt?"} {
		f.Add(seed, 3)
	}
	s := newSession(f)
	f.Fuzz(func(t *testing.T, code string, cursor int) {
		n := utf8.RuneCountInString(code)
		if cursor < 0 || cursor > n {
			cursor = n
		}
		m, start, end, meta := s.complete(code, cursor)
		if m == nil || meta == nil || start < 0 || start > end || end > n {
			t.Fatalf("Complete(%q, %d) = %v, %d, %d, %v", code, cursor, m, start, end, meta)
		}
		s.inspect(code, cursor, 0)
		if st, _ := s.isComplete(code); st != "complete" && st != "incomplete" && st != "invalid" {
			t.Fatalf("IsComplete(%q) = %q", code, st)
		}
	})
}
