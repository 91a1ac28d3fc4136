package goeval

import (
	"go/scanner"
	"go/token"
	"strings"
	"testing"
	"unicode/utf8"
)

// describe renders parts as "kind:text" with the text trimmed.
func describe(src string, parts []part) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p.kind.String()+":"+strings.TrimSpace(src[p.start:p.end]))
	}
	return out
}

func TestSplitCell(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
		runs []string // "decl"/"stmt" per run, when checked
	}{
		{
			name: "mixed",
			src:  "import \"fmt\"\n\n// f is one.\nfunc f() int { return 1 }\nx := f()\nfmt.Println(x)\n",
			want: []string{`import:import "fmt"`, "decl:// f is one.\nfunc f() int { return 1 }", "stmt:x := f()", "stmt:fmt.Println(x)"},
			runs: []string{"decl", "stmt"},
		},
		{
			name: "only comments",
			src:  "// nothing here\n/* at all */\n",
			want: nil,
		},
		{
			name: "comments around statements",
			src:  "x := 1 // one\n/* two */ y := 2\n// trailing",
			want: []string{"stmt:x := 1 // one", "stmt:/* two */ y := 2\n// trailing"},
		},
		{
			name: "only declarations",
			src:  "type T struct {\n\tA int\n}\nvar v = T{\n\tA: 1,\n}\nconst c = 3\n",
			want: []string{"decl:type T struct {\n\tA int\n}", "decl:var v = T{\n\tA: 1,\n}", "decl:const c = 3"},
			runs: []string{"decl"},
		},
		{
			name: "only a final expression",
			src:  "6*7",
			want: []string{"stmt:6*7"},
			runs: []string{"stmt"},
		},
		{
			name: "function literal call is a statement",
			src:  "func() { println(1) }()\nfunc (x int) int { return x }(3)",
			want: []string{"stmt:func() { println(1) }()", "stmt:func (x int) int { return x }(3)"},
		},
		{
			name: "method declarations",
			src:  "func (t T) M() {}\nfunc (t *T[K]) N(a int) {}",
			want: []string{"decl:func (t T) M() {}", "decl:func (t *T[K]) N(a int) {}"},
		},
		{
			name: "written semicolons",
			src:  "x := 1; y := 2;; z := 3",
			want: []string{"stmt:x := 1;", "stmt:y := 2;;", "stmt:z := 3"},
		},
		{
			name: "import block then import after a declaration",
			src:  "import (\n\t\"fmt\"\n\t\"os\"\n)\nvar a = 1\nimport \"strings\"",
			want: []string{"import:import (\n\t\"fmt\"\n\t\"os\"\n)", "decl:var a = 1", `import:import "strings"`},
			runs: []string{"decl", "decl"},
		},
		{
			name: "for, if and switch headers keep their semicolons",
			src:  "for i := 0; i < 3; i++ {\n}\nif v, ok := m[k]; ok {\n} else if x := 2; x > 1 {\n}\nswitch x := f(); x {\n}\nfor i, s := 0, []int{1}; i < len(s); i++ {\n}\nif f := func() bool { return true }; f() {\n}\nfor k := range map[string]int{\"a\": 1} {\n}\nfor _, v := range a[1:] {\n}\ny := 1",
			want: []string{
				"stmt:for i := 0; i < 3; i++ {\n}",
				"stmt:if v, ok := m[k]; ok {\n} else if x := 2; x > 1 {\n}",
				"stmt:switch x := f(); x {\n}",
				"stmt:for i, s := 0, []int{1}; i < len(s); i++ {\n}",
				"stmt:if f := func() bool { return true }; f() {\n}",
				"stmt:for k := range map[string]int{\"a\": 1} {\n}",
				"stmt:for _, v := range a[1:] {\n}",
				"stmt:y := 1",
			},
		},
		{
			name: "statement spanning lines",
			src:  "total := add(1,\n\t2,\n)\nfmt.Println(\n\ttotal)",
			want: []string{"stmt:total := add(1,\n\t2,\n)", "stmt:fmt.Println(\n\ttotal)"},
		},
		{
			name: "raw string with newlines",
			src:  "s := `a\nb;c`\nlen(s)",
			want: []string{"stmt:s := `a\nb;c`", "stmt:len(s)"},
		},
		{
			name: "unbalanced brace keeps the rest together",
			src:  "func f() {\nx := 1\n",
			want: []string{"decl:func f() {\nx := 1"},
		},
		{
			name: "interleaved runs",
			src:  "x := 1\nfunc g() int { return x }\ny := g()\ntype U int\nvar z U",
			want: []string{"stmt:x := 1", "decl:func g() int { return x }", "stmt:y := g()", "decl:type U int", "decl:var z U"},
			runs: []string{"stmt", "decl", "stmt", "decl"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parts := splitCell(tc.src)
			got := describe(tc.src, parts)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("splitCell(%q)\n got %q\nwant %q", tc.src, got, tc.want)
			}
			checkTiling(t, tc.src, parts)
			if tc.runs != nil {
				var kinds []string
				for _, r := range groupRuns(parts) {
					if r.decl {
						kinds = append(kinds, "decl")
					} else {
						kinds = append(kinds, "stmt")
					}
				}
				if strings.Join(kinds, ",") != strings.Join(tc.runs, ",") {
					t.Errorf("runs = %v, want %v", kinds, tc.runs)
				}
			}
		})
	}
}

// checkTiling verifies that parts cover src exactly, in order, and that
// each part's first token is where the part says.
func checkTiling(t *testing.T, src string, parts []part) {
	t.Helper()
	var b strings.Builder
	prev := 0
	for i, p := range parts {
		if p.start != prev || p.end < p.start || p.end > len(src) {
			t.Fatalf("part %d [%d,%d) does not follow %d (len %d)", i, p.start, p.end, prev, len(src))
		}
		if p.tokStart < p.start || p.tokStart >= p.end {
			t.Fatalf("part %d first token at %d outside [%d,%d)", i, p.tokStart, p.start, p.end)
		}
		b.WriteString(src[p.start:p.end])
		prev = p.end
	}
	got := b.String()
	if len(parts) == 0 {
		if hasCode(src) {
			t.Fatalf("no parts for code %q", src)
		}
		return
	}
	if got != src {
		t.Fatalf("parts join to %q, want %q", got, src)
	}
}

// tokens lists src's tokens with their offsets, for FuzzSplit.
func tokens(src string) []int {
	var s scanner.Scanner
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	s.Init(file, []byte(src), func(token.Position, string) {}, 0)
	var offs []int
	for {
		pos, tok, _ := s.Scan()
		if tok == token.EOF {
			return offs
		}
		if tok == token.SEMICOLON {
			continue // empty statements carry no code
		}
		offs = append(offs, file.Offset(pos))
	}
}

func FuzzSplit(f *testing.F) {
	for _, seed := range []string{
		"import \"fmt\"\nx := 1\nfmt.Println(x)",
		"func f() int { return 1 }\nf()",
		"for i := 0; i < 3; i++ {\n}\nif a; b {}",
		"type T struct{ A int }\nfunc (t T) M() {}\nT{}.M()",
		"x := `raw\n;`; y := \"s\" // c\n/* d */",
		"func() {}()\nfunc (x int) int { return x }(1)",
		"}{)(][;;;",
		"var (\n a = 1\n b = []int{1,\n2}\n)\n",
		"\xff\x00 ; é := 1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		parts := splitCell(src)
		checkTiling(t, src, parts)
		// Every token starts inside exactly one part, and no part starts
		// in the middle of a token.
		for _, off := range tokens(src) {
			n := 0
			for _, p := range parts {
				if off >= p.start && off < p.end {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("token at %d is in %d parts", off, n)
			}
		}
		for _, p := range parts {
			if p.kind != importPart && p.kind != declPart && p.kind != stmtPart {
				t.Fatalf("bad kind %d", p.kind)
			}
		}
		runs := groupRuns(parts)
		var joined strings.Builder
		for _, r := range runs {
			joined.WriteString(src[r.start:r.end])
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
