package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

func TestFuncSig(t *testing.T) {
	tests := []struct{ src, want string }{
		{"func Repeat(s string, count int) string", "func Repeat(s string, count int) string"},
		{"func (m *Dense) Mul(a, b Matrix)", "func (m *Dense) Mul(a, b Matrix)"},
		{"func Println(a ...any) (n int, err error)", "func Println(a ...any) (n int, err error)"},
		{"func F(\n\tx int,\n\tf func(float64) float64,\n) (float64, error)", "func F(x int, f func(float64) float64) (float64, error)"},
		{"func Contains[S ~[]E, E comparable](s S, v E) bool", "func Contains[S ~[]E, E comparable](s S, v E) bool"},
		{"func (T) M(map[string][]int, chan<- bool)", "func (T) M(map[string][]int, chan<- bool)"},
	}
	for _, tt := range tests {
		f, err := parser.ParseFile(token.NewFileSet(), "x.go", "package p\n"+tt.src+"\n", 0)
		if err != nil {
			t.Fatalf("parse %q: %v", tt.src, err)
		}
		fd := f.Decls[0].(*ast.FuncDecl)
		if got := funcSig(recvString(fd.Recv), fd.Name.Name, fd.Type); got != tt.want {
			t.Errorf("funcSig(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestTrim(t *testing.T) {
	long := strings.Repeat("word ", 100) + "\n\n" + strings.Repeat("more ", 100)
	tests := []struct {
		s       string
		n       int
		want    string
		wantLen int // upper bound when want is empty
	}{
		{s: "short", n: 10, want: "short"},
		{s: "alpha beta gamma delta", n: 16, want: "alpha beta …"},
		{s: long, n: 600, want: strings.TrimSpace(strings.Repeat("word ", 100)) + " …"},
		{s: strings.Repeat("é", 100), n: 51, wantLen: 51},
	}
	for _, tt := range tests {
		got := trim(tt.s, tt.n)
		if tt.want != "" && got != tt.want {
			t.Errorf("trim(%.20q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
		if len(got) > tt.n || !strings.HasPrefix(tt.s, strings.TrimSuffix(strings.TrimSuffix(got, "…"), " ")) {
			t.Errorf("trim(%.20q, %d) = %q: too long or not a prefix", tt.s, tt.n, got)
		}
	}
}
