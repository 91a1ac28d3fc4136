package goeval

import (
	"go/ast"
	"go/token"
	"sort"
	"strings"

	"github.com/gopherlab/gopherlab/internal/gocell"
)

// yaegi's builtin panic panics with the reflect.Value of its argument.
// Recovered by the interpreter (a panic in the cell's own goroutine) it
// is unwrapped, but a panic that ends a goroutine a cell started kills the
// process, and the runtime prints the reflect.Value: "panic: <error
// Value>" instead of the error's text. recover() in a cell gets the
// reflect.Value too, so r.(error) failed.
//
// A call of the builtin is therefore rewritten into a call of the hook
// P, compiled, which panics with the value itself: the runtime prints it
// as Go would (an error's Error, a Stringer's String, a number, a string)
// and recover returns it (a value of a type a cell declares as the
// interpreter's wrapper, whose methods work). panicCall is as long as
// "panic", so that no position of the cell moves.
//
// A deferred call of panic (defer panic(err)) is made a call of the hook
// D instead, as long: yaegi's builtin panics there at once, at the defer
// statement, instead of when the function returns. yaegi prints no frame
// for a function whose deferred call panics; D notes that the panic is a
// deferred one, and the traceback adds the frame (see deferredFrame).
const (
	panicHook = "__g" // the hooks' package again, under a name short enough
	panicCall = panicHook + ".P"
	deferCall = panicHook + ".D"
)

// panicSpans returns where in f (parsed with offsets shifted by base:
// offset = file offset + base) the builtin panic is called with one
// argument, and those calls. ok is false when f declares or binds the
// name panic anywhere: the cell is then left as it is, a rare case not
// worth telling apart scope by scope.
func panicSpans(fset *token.FileSet, f *ast.File, base int) (spans []span, calls []*ast.CallExpr, ok bool) {
	ok = true
	deferred := map[*ast.CallExpr]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if !ok {
			return false
		}
		switch x := n.(type) {
		case *ast.Ident:
			if x.Name == "panic" && x.Obj != nil {
				ok = false
			}
		case *ast.DeferStmt:
			deferred[x.Call] = true
		case *ast.CallExpr:
			id, isIdent := x.Fun.(*ast.Ident)
			if !isIdent || id.Name != "panic" || id.Obj != nil || len(x.Args) != 1 || x.Ellipsis.IsValid() {
				return true
			}
			at := fset.PositionFor(id.Pos(), false).Offset + base
			sp := span{start: at, end: at + len("panic"), orig: "panic", repl: panicCall}
			if deferred[x] {
				sp.repl = deferCall
			}
			spans = append(spans, sp)
			calls = append(calls, x)
		}
		return true
	})
	if !ok {
		return nil, nil, false
	}
	return spans, calls, true
}

// callHook makes the syntax tree of f, a call of the builtin panic, what
// parsing panicCall in its place gives: a selector at the same
// positions, the package name among the unresolved names in place of
// panic. The parse of a cell thus serves for its rewritten code too.
func callHook(f *ast.File, call *ast.CallExpr, hook string) {
	id := call.Fun.(*ast.Ident)
	pkg := &ast.Ident{NamePos: id.NamePos, Name: panicHook}
	call.Fun = &ast.SelectorExpr{X: pkg, Sel: &ast.Ident{NamePos: id.NamePos + token.Pos(len(panicHook)+1), Name: strings.TrimPrefix(hook, panicHook+".")}}
	for i, u := range f.Unresolved {
		if u == id {
			f.Unresolved[i] = pkg
		}
	}
}

// rewritePanics returns src (the code of cell n) with its calls of the
// builtin panic made calls of panicCall, where it replaced them, and the
// parse of the code it returns. prs, if not nil, is src's parse, which
// it reuses (and changes, when it rewrites). It changes nothing when
// the cell declares panic itself; a cell that does not parse gives nil
// (the error is reported when the cell runs).
func rewritePanics(n int, src string, prs []*parsedRun) (string, []span, []*parsedRun) {
	if !strings.Contains(src, "panic") {
		return src, nil, prs
	}
	if prs == nil {
		c := cellFrom(n, src, src, nil)
		for _, r := range groupRuns(gocell.Split(src)) {
			pr, err := parseRun(c, r)
			if err != nil {
				return src, nil, nil
			}
			prs = append(prs, pr)
		}
	}
	var all []span
	type found struct {
		f     *ast.File
		calls []*ast.CallExpr
		spans []span
	}
	var hooks []found
	for _, pr := range prs {
		spans, calls, ok := panicSpans(pr.fset, pr.file, pr.start-pr.hdr)
		if !ok {
			return src, nil, prs
		}
		all = append(all, spans...)
		hooks = append(hooks, found{pr.file, calls, spans})
	}
	for _, h := range hooks {
		for i, call := range h.calls {
			callHook(h.f, call, h.spans[i].repl)
		}
	}
	return replaceSpans(src, all), all, prs
}

// declPanics is rewritePanics for the source of one declaration, as
// written, recompiled on its own (see rebind).
func (s *Session) declPanics(src string) string {
	if !strings.Contains(src, "panic") || s.panicsRedefined() {
		return src
	}
	fset := token.NewFileSet()
	f, err := parseDeclFile(fset, src)
	if err != nil {
		return src
	}
	spans, _, ok := panicSpans(fset, f, -len("package main;"))
	if !ok {
		return src
	}
	return replaceSpans(src, spans)
}

// replaceSpans writes each span's hook call over it in src (same length,
// so the order does not matter).
func replaceSpans(src string, spans []span) string {
	if len(spans) == 0 {
		return src
	}
	b := []byte(src)
	for _, sp := range spans {
		copy(b[sp.start:sp.end], sp.repl)
	}
	return string(b)
}

// mergeSpans merges two sorted lists of disjoint spans.
func mergeSpans(a, b []span) []span {
	if len(b) == 0 {
		return a
	}
	out := append(append([]span(nil), a...), b...)
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

// panicsRedefined reports whether the session declared a name panic, which
// cells then call instead of the builtin.
func (s *Session) panicsRedefined() bool {
	st := s.current()
	if st == nil {
		return false
	}
	return s.sessionName(st, "panic")
}
