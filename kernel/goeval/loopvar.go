package goeval

import (
	"go/ast"
	"go/token"
	"sort"
	"strings"

	"github.com/gopherlab/gopherlab/internal/gocell"
)

// Since Go 1.22 each iteration of a loop has its own loop variables, so
// closures, goroutines and pointers made in the body see that
// iteration's values. yaegi keeps one variable for the whole loop: a
// closure made in `for i := 0; i < 3; i++` printed 3 three times, and
// `go func() { res[i] = ... }()` in such a loop wrote past the end of res
// and took the session down. perIteration gives the body its own copy
// (`i := i` at its start), which is what Go 1.22 does, where that copy
// cannot change what the loop does:
//
//   - a range loop's variables are assigned afresh at each iteration, so
//     the body's copy never changes the loop;
//   - a three-clause loop's variables are copied only when the body never
//     assigns to them nor takes their address (Go 1.22 carries such a
//     change over to the next iteration; a copy would lose it).
//
// Only loops whose body makes a closure, starts a goroutine, defers a
// call or takes a variable's address are rewritten: in other loops the
// two semantics cannot be told apart.

// perIteration returns src with `x := x` at the start of the bodies of
// the loops described above, and where in the result it put them. The
// copies go right after the body's opening brace, on its line, so no
// line moves (columns after the brace on that line do). When it changes
// nothing and src parses, prs is src's parse, as parseCell makes it.
func perIteration(n int, src string) (out string, added []span, prs []*parsedRun) {
	if !strings.Contains(src, "for") {
		return src, nil, nil
	}
	c := cellFrom(n, src, src, nil)
	type insertion struct {
		at   int
		text string
	}
	var ins []insertion
	for _, r := range groupRuns(gocell.Split(src)) {
		pr, err := parseRun(c, r)
		if err != nil {
			return src, nil, nil // reported when the cell runs
		}
		prs = append(prs, pr)
		ast.Inspect(pr.file, func(node ast.Node) bool {
			var names []string
			var body *ast.BlockStmt
			switch l := node.(type) {
			case *ast.RangeStmt:
				if l.Tok != token.DEFINE {
					return true
				}
				for _, x := range []ast.Expr{l.Key, l.Value} {
					if id, ok := x.(*ast.Ident); ok && id.Name != "_" {
						names = append(names, id.Name)
					}
				}
				body = l.Body
			case *ast.ForStmt:
				as, ok := l.Init.(*ast.AssignStmt)
				if !ok || as.Tok != token.DEFINE {
					return true
				}
				for _, x := range as.Lhs {
					if id, ok := x.(*ast.Ident); ok && id.Name != "_" && id.Name != rangeCounter && id.Name != rangeEnd {
						names = append(names, id.Name)
					}
				}
				if changes(l.Body, names) {
					return true
				}
				body = l.Body
			default:
				return true
			}
			if len(names) == 0 || body == nil || !captures(body) {
				return true
			}
			list := strings.Join(names, ", ")
			ins = append(ins, insertion{pr.off(body.Lbrace) + 1, list + " := " + list + ";"})
			return true
		})
	}
	if len(ins) == 0 {
		return src, nil, prs
	}
	sort.Slice(ins, func(i, j int) bool { return ins[i].at < ins[j].at })
	var b strings.Builder
	spans := make([]span, len(ins))
	last := 0
	for i, in := range ins {
		b.WriteString(src[last:in.at])
		spans[i].start = b.Len()
		b.WriteString(in.text)
		spans[i].end = b.Len()
		last = in.at
	}
	b.WriteString(src[last:])
	return b.String(), spans, nil
}

// rewrite is what perIteration and rewritePanics made of a cell's code.
type rewrite struct {
	src   string
	added []span
}

// cell returns the cellCode of cell n's code src, with the loops
// rewritten (see perIteration); the rewrite and the parse it made are
// kept for a cell run again.
func (s *Session) cell(n int, src string) *cellCode {
	// Calls of panic are the builtin's unless the session declared one.
	builtin := !s.panicsRedefined()
	key := src
	if !builtin {
		key = "\x00" + src
	}
	// A loop over an integer is rewritten as the session's types say,
	// with the cell's number in the text (see rangeInts): a cell with
	// range loops is rewritten each time it runs.
	st := s.current()
	volatile := strings.Contains(src, "range")
	r, ok := s.rewrites[key]
	if !ok || volatile {
		var prs []*parsedRun
		ranged, ranges := s.rangeInts(st, n, src)
		r.src, r.added, prs = perIteration(n, ranged)
		r.added = composeSpans(ranges, r.added)
		if builtin {
			var panics []span
			if r.src, panics, prs = rewritePanics(n, r.src, prs); panics != nil {
				r.added = mergeSpans(r.added, panics)
			}
		}
		if s.rewrites == nil || len(s.rewrites) >= maxUnits {
			s.rewrites = map[string]rewrite{}
		}
		if !volatile {
			s.rewrites[key] = r
		}
		if prs != nil {
			s.keepParse(r.src, prs)
		}
	}
	return cellFrom(n, src, r.src, r.added)
}

// composeSpans returns the spans of first, put in a text that the
// insertions second (perIteration's) then went into, as spans of the
// final text, merged with second.
func composeSpans(first, second []span) []span {
	if len(first) == 0 {
		return second
	}
	out := make([]span, 0, len(first)+len(second))
	for _, f := range first {
		shift, inserted := 0, 0
		for _, sc := range second {
			if sc.start-inserted <= f.start { // where it went in first's text
				shift += sc.end - sc.start
			}
			inserted += sc.end - sc.start
		}
		f.start += shift
		f.end += shift
		out = append(out, f)
	}
	return mergeSpans(out, second)
}

// written returns src[start:end] without the copies perIteration put in
// it, and with the cell's own text where rewritePanics replaced it: the
// code as the cell wrote it.
func (c *cellCode) written(start, end int) string {
	if len(c.added) == 0 {
		return c.src[start:end]
	}
	var b strings.Builder
	at := start
	for _, sp := range c.added {
		if sp.end <= at || sp.start >= end {
			continue
		}
		b.WriteString(c.src[at:max(sp.start, at)])
		if sp.orig != "" && sp.start >= start && sp.end <= end {
			b.WriteString(sp.orig)
		}
		at = min(sp.end, end)
	}
	b.WriteString(c.src[at:max(at, end)])
	return b.String()
}

// captures reports whether body makes a closure, starts a goroutine,
// defers a call or takes an address: what can keep a loop variable
// beyond its iteration.
func captures(body *ast.BlockStmt) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit, *ast.GoStmt, *ast.DeferStmt:
			found = true
		case *ast.UnaryExpr:
			found = found || n.Op == token.AND
		}
		return !found
	})
	return found
}

// changes reports whether body may change one of names: assigns to it,
// increments it or takes its address (anywhere, closures included).
func changes(body *ast.BlockStmt, names []string) bool {
	is := func(x ast.Expr) bool {
		id, ok := ast.Unparen(x).(*ast.Ident)
		if !ok {
			return false
		}
		for _, n := range names {
			if id.Name == n {
				return true
			}
		}
		return false
	}
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok != token.DEFINE {
				for _, l := range n.Lhs {
					found = found || is(l)
				}
			}
		case *ast.IncDecStmt:
			found = found || is(n.X)
		case *ast.UnaryExpr:
			found = found || (n.Op == token.AND && is(n.X))
		}
		return !found
	})
	return found
}
