package goeval

import (
	"go/scanner"
	"go/token"
	"reflect"
	"strings"

	"github.com/gopherlab/gopherlab/internal/gocell"
	"github.com/traefik/yaegi/interp"
)

// Notebooks written for GoNB, the Go kernel that compiles each cell as a
// program, put a cell's code in func main, or start the cell with "%%" to
// have its body wrapped in one. gopherlab runs both as GoNB does: the
// cell's main runs once, when the cell is executed.

// mainName is what a cell's func main is renamed to: yaegi would run a
// function called main again after every later cell.
const mainName = "cellMain"

// rewriteMain renames a top-level func main of the cell and appends a
// call to it. Only the declaration's line changes, so positions of
// errors elsewhere in the cell are unchanged.
func rewriteMain(src string) (string, bool) {
	var at []int // offsets of "main" in func main(
	for _, p := range gocell.Split(src) {
		if p.Kind != gocell.Decl {
			continue
		}
		if off, ok := funcMainAt(src[p.TokStart:p.End]); ok {
			at = append(at, p.TokStart+off)
		}
	}
	if len(at) == 0 {
		return src, false
	}
	var b strings.Builder
	prev := 0
	for _, off := range at {
		b.WriteString(src[prev:off])
		b.WriteString(mainName)
		prev = off + len("main")
	}
	b.WriteString(src[prev:])
	b.WriteString("\n" + mainName + "()")
	return b.String(), true
}

// funcMainAt reports whether code starts with "func main(" and where the
// name is.
func funcMainAt(code string) (int, bool) {
	var s scanner.Scanner
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(code))
	s.Init(file, []byte(code), nil, scanner.ScanComments)
	want := []token.Token{token.FUNC, token.IDENT, token.LPAREN}
	name := -1
	for i := 0; i < len(want); {
		pos, tok, lit := s.Scan()
		if tok == token.COMMENT {
			continue
		}
		if tok != want[i] {
			return 0, false
		}
		if tok == token.IDENT {
			if lit != "main" {
				return 0, false
			}
			name = file.Offset(pos)
		}
		i++
	}
	return name, true
}

// setArgs sets the interpreter's os.Args[1:] for the cell, as GoNB's
// "%% args" does, and returns a function that restores them.
func setArgs(in *interp.Interpreter, args []string) (restore func()) {
	v, ok := in.Symbols("os")["os"]["Args"]
	if !ok || !v.CanSet() {
		return func() {}
	}
	old, _ := v.Interface().([]string)
	prog := "cell"
	if len(old) > 0 {
		prog = old[0]
	}
	v.Set(reflect.ValueOf(append([]string{prog}, args...)))
	return func() { v.Set(reflect.ValueOf(old)) }
}
