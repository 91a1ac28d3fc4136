package gocell

import (
	"go/scanner"
	"go/token"
	"strings"
	"testing"
)

// describe renders parts as "kind:text" with the text trimmed.
func describe(src string, parts []Piece) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p.Kind.String()+":"+strings.TrimSpace(src[p.Start:p.End]))
	}
	return out
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "mixed",
			src:  "import \"fmt\"\n\n// f is one.\nfunc f() int { return 1 }\nx := f()\nfmt.Println(x)\n",
			want: []string{`import:import "fmt"`, "decl:// f is one.\nfunc f() int { return 1 }", "stmt:x := f()", "stmt:fmt.Println(x)"},
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
		},
		{
			name: "only a final expression",
			src:  "6*7",
			want: []string{"stmt:6*7"},
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
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parts := Split(tc.src)
			got := describe(tc.src, parts)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("Split(%q)\n got %q\nwant %q", tc.src, got, tc.want)
			}
			checkTiling(t, tc.src, parts)
		})
	}
}

// checkTiling verifies that parts cover src exactly, in order, and that
// each part's first token is where the part says.
func checkTiling(t *testing.T, src string, parts []Piece) {
	t.Helper()
	var b strings.Builder
	prev := 0
	for i, p := range parts {
		if p.Start != prev || p.End < p.Start || p.End > len(src) {
			t.Fatalf("part %d [%d,%d) does not follow %d (len %d)", i, p.Start, p.End, prev, len(src))
		}
		if p.TokStart < p.Start || p.TokStart >= p.End {
			t.Fatalf("part %d first token at %d outside [%d,%d)", i, p.TokStart, p.Start, p.End)
		}
		b.WriteString(src[p.Start:p.End])
		prev = p.End
	}
	got := b.String()
	if len(parts) == 0 {
		if len(tokens(src)) > 0 {
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
		parts := Split(src)
		checkTiling(t, src, parts)
		// Every token starts inside exactly one part, and no part starts
		// in the middle of a token.
		for _, off := range tokens(src) {
			n := 0
			for _, p := range parts {
				if off >= p.Start && off < p.End {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("token at %d is in %d parts", off, n)
			}
		}
		for _, p := range parts {
			if p.Kind != Import && p.Kind != Decl && p.Kind != Stmt {
				t.Fatalf("bad kind %d", p.Kind)
			}
		}
	})
}
