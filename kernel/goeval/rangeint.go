package goeval

import (
	"go/ast"
	"go/token"
	"reflect"
	"sort"
	"strings"

	"github.com/gopherlab/gopherlab/internal/gocell"
)

// yaegi v0.16.1 cannot range over an integer (Go 1.22's for i := range
// n): it crashes on it. rangeInts rewrites such a loop, when n is
// certainly an integer whose type can be written, into the three-clause
// loop Go 1.22 defines it to be:
//
//	for i := range n { body }
//	for __gi, __gn := T(0), n; __gi < __gn; __gi++ { i := __gi; { body } }
//
// n is evaluated once; i is a copy for the iteration, which the body may
// change without changing the iterations, and the body is a block of its
// own (it may declare its own i). When the body cannot tell i from a copy
// (it never assigns i, takes its address, nor makes a closure, goroutine
// or defer) and n does not mention i, i itself is the counter:
//
//	for i, __gn := T(0), n; i < __gn; i++ { body }
//
// i has n's type T, int for an untyped constant (int32 for a rune one).
// n is certainly an integer when it is an integer or rune literal or a
// constant expression of them, a call of len or cap, a conversion to an
// integer type (a package's too), a name the cell declares with one of
// those or with an integer type (the variable of an enclosing range over
// an integer included), a constant of the session, or a global of the
// session of an integer type no cell declared; a range over anything else
// is left as written (checkCell refuses what it finds to be an int). The
// text put in ends with a /*line*/ directive that gives the code after it
// its position in the cell for yaegi, and its span in cellCode.added maps
// the kernel's own offsets back (see cellCode.pos).

// Names of the hidden loop variables.
const (
	rangeCounter = "__gi"
	rangeEnd     = "__gn"
)

// edit replaces src[at:end] with text.
type edit struct {
	at, end int
	text    string
}

// rangeInts returns src, the code of cell n, with its loops over
// integers rewritten (and its comma-ok var declarations, see
// assertVars), and the spans of the text it put in (nil when it
// changed nothing).
func (s *Session) rangeInts(st *state, n int, src string) (string, []span) {
	if st == nil || (!strings.Contains(src, "range") && !strings.Contains(src, ".(")) {
		return src, nil
	}
	c := cellFrom(n, src, src, nil)
	var prs []*parsedRun
	for _, r := range groupRuns(gocell.Split(src)) {
		pr, err := parseRun(c, r)
		if err != nil {
			return src, nil // reported when the cell runs
		}
		prs = append(prs, pr)
	}
	// Names the cell defines mean what it says, not the session's: the
	// object of a name's one declaration by var, const or :=, nil for
	// others.
	own := map[string]*ast.Object{}
	declare := func(id *ast.Ident) {
		if _, twice := own[id.Name]; twice || id.Obj == nil || (id.Obj.Kind != ast.Var && id.Obj.Kind != ast.Con) {
			own[id.Name] = nil
			return
		}
		own[id.Name] = id.Obj
	}
	defs := map[string]int{}
	for _, pr := range prs {
		if !pr.decl {
			for _, id := range definedIdents(pr.stmts) {
				own[id.Name] = nil
				defs[id.Name]++
			}
			continue
		}
		names, _ := declaredNames(pr, nil)
		for k := range names {
			own[k] = nil
			defs[k]++
		}
		seen := map[string]bool{}
		for _, d := range pr.file.Decls {
			if g, ok := d.(*ast.GenDecl); ok && (g.Tok == token.VAR || g.Tok == token.CONST) {
				for _, sp := range g.Specs {
					for _, id := range sp.(*ast.ValueSpec).Names {
						if !seen[id.Name] {
							delete(own, id.Name) // known from here
							seen[id.Name] = true
						}
						declare(id)
					}
				}
			}
		}
	}
	edits := assertVars(c, prs)
	for _, pr := range prs {
		edits = append(edits, s.rangeEdits(st, pr.file, pr.off, c.pos, n, own)...)
		if !pr.decl {
			// The code below this run sees the variables it defines
			// (defined once in the cell).
			for _, id := range definedIdents(pr.stmts) {
				if defs[id.Name] == 1 && id.Obj != nil && id.Obj.Kind == ast.Var {
					own[id.Name] = id.Obj
				}
			}
		}
	}
	return applyEdits(src, edits)
}

// declRanges is rangeInts for the source of function d, as written,
// recompiled on its own (see rebind).
func (s *Session) declRanges(st *state, d *declInfo) string {
	if !strings.Contains(d.src, "range") {
		return d.src
	}
	fset := token.NewFileSet()
	f, err := parseDeclFile(fset, d.src)
	if err != nil {
		return d.src
	}
	off := func(p token.Pos) int { return fset.PositionFor(p, false).Offset - len("package main;") }
	pos := func(o int) (int, int) {
		line := d.line + strings.Count(d.src[:o], "\n")
		if line == d.line {
			return line, d.col + o
		}
		return line, o - strings.LastIndex(d.src[:o], "\n")
	}
	out, _ := applyEdits(d.src, s.rangeEdits(st, f, off, pos, d.cell, nil))
	return out
}

// rangeEdits returns the edits that rewrite the loops over integers in
// f; off gives a position's offset in the source, pos an offset's line
// and column in cell n.
func (s *Session) rangeEdits(st *state, f *ast.File, off func(token.Pos) int, pos func(int) (int, int), n int, own map[string]*ast.Object) []edit {
	dir := func(o int) string {
		line, col := pos(o)
		return lineComment(n, line, col)
	}
	var edits []edit
	ast.Inspect(f, func(node ast.Node) bool {
		rs, ok := node.(*ast.RangeStmt)
		if !ok || rs.X == nil || rs.Value != nil || (rs.Key != nil && rs.Tok != token.DEFINE) {
			return true
		}
		key := ""
		if rs.Key != nil {
			id, isIdent := rs.Key.(*ast.Ident)
			if !isIdent {
				return true
			}
			key = id.Name
		}
		if l1, _ := pos(off(rs.For)); l1 != func() int { l, _ := pos(off(rs.X.Pos())); return l }() {
			return true // the text replaced would hold a line break
		}
		typ, _, ok := s.intType(st, rs.X, own, 0)
		if !ok {
			return true
		}
		x, xEnd, body, end := off(rs.X.Pos()), off(rs.X.End()), off(rs.Body.Lbrace)+1, off(rs.Body.Rbrace)
		counter := rangeCounter
		if key != "" && key != "_" && !captures(rs.Body) && !changes(rs.Body, []string{key}) && !rangesInto(rs.Body, key) && !mentions(rs.X, key) {
			// The body cannot tell the loop's variable from a copy:
			// the variable is the counter (a copy per iteration
			// costs as much as the rest of a small loop).
			counter = key
		}
		edits = append(edits,
			edit{at: off(rs.For), end: x, text: "for " + counter + ", " + rangeEnd + " := " + typ + "(0), " + dir(x)},
			edit{at: xEnd, end: xEnd, text: "; " + counter + " < " + rangeEnd + "; " + counter + "++" + dir(xEnd)})
		if counter == rangeCounter && key != "" && key != "_" {
			// The body is a block of its own inside the one that
			// declares the variable, as in Go: it may declare its own i.
			edits = append(edits,
				edit{at: body, end: body, text: " " + key + " := " + rangeCounter + "; {" + dir(body)},
				edit{at: end, end: end, text: "}" + dir(end)})
		}
		return true
	})
	return edits
}

// rangesInto reports whether body has a range loop that assigns to the
// name (for name = range xs), which changes misses.
func rangesInto(body *ast.BlockStmt, name string) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if r, ok := n.(*ast.RangeStmt); ok && r.Tok == token.ASSIGN {
			for _, x := range []ast.Expr{r.Key, r.Value} {
				if id, ok := x.(*ast.Ident); ok && id.Name == name {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// mentions reports whether x uses the name.
func mentions(x ast.Expr, name string) bool {
	found := false
	ast.Inspect(x, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Name == name {
			found = true
		}
		return !found
	})
	return found
}

// applyEdits returns src with the edits made, and the spans of the text
// they put in, with the text they replaced.
func applyEdits(src string, edits []edit) (string, []span) {
	if len(edits) == 0 {
		return src, nil
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].at < edits[j].at })
	var b strings.Builder
	spans := make([]span, len(edits))
	last := 0
	for i, e := range edits {
		b.WriteString(src[last:e.at])
		spans[i] = span{start: b.Len(), orig: src[e.at:e.end]}
		b.WriteString(e.text)
		spans[i].end = b.Len()
		last = e.end
	}
	b.WriteString(src[last:])
	return b.String(), spans
}

// intType returns the type of the values a range over x gives when x is
// certainly an integer (see rangeInts): the name of x's type, and
// whether x is an untyped constant (of type int then). own holds the
// names the cell defines, which the session's globals do not tell.
func (s *Session) intType(st *state, x ast.Expr, own map[string]*ast.Object, depth int) (name string, untyped, ok bool) {
	if depth > 8 {
		return "", false, false
	}
	mine := func(name string) bool {
		_, ok := own[name]
		return ok
	}
	predeclared := func(id *ast.Ident) bool {
		if !intTypeNames[id.Name] || id.Obj != nil || mine(id.Name) {
			return false
		}
		s.meta.RLock()
		defer s.meta.RUnlock()
		return st.types[id.Name] == nil && st.vars[id.Name] == nil && st.funcs[id.Name] == nil
	}
	switch x := x.(type) {
	case *ast.BasicLit:
		if x.Kind == token.CHAR {
			return "int32", true, true // an untyped rune constant
		}
		return "int", true, x.Kind == token.INT
	case *ast.ParenExpr:
		return s.intType(st, x.X, own, depth+1)
	case *ast.UnaryExpr:
		if x.Op == token.ADD || x.Op == token.SUB || x.Op == token.XOR {
			return s.intType(st, x.X, own, depth+1)
		}
	case *ast.BinaryExpr:
		switch x.Op {
		case token.ADD, token.SUB, token.MUL, token.QUO, token.REM, token.AND, token.OR, token.XOR, token.AND_NOT:
			l, lu, lok := s.intType(st, x.X, own, depth+1)
			r, ru, rok := s.intType(st, x.Y, own, depth+1)
			switch {
			case !lok || !rok:
			case lu && ru:
				if l == "int32" || r == "int32" {
					return "int32", true, true // a rune constant
				}
				return "int", true, true
			case lu:
				return r, false, true
			case ru || l == r:
				return l, false, true
			}
		case token.SHL, token.SHR:
			if _, _, ok := s.intType(st, x.Y, own, depth+1); ok {
				return s.intType(st, x.X, own, depth+1)
			}
		}
	case *ast.CallExpr:
		if _, ok := ast.Unparen(x.Fun).(*ast.SelectorExpr); ok {
			if name, ok := s.compiledCallInt(st, x, 0, 1, own); ok {
				return name, false, true // a compiled function's integer result
			}
		}
		if sel, ok := ast.Unparen(x.Fun).(*ast.SelectorExpr); ok && len(x.Args) == 1 && !x.Ellipsis.IsValid() {
			// A conversion to a compiled package's integer type.
			pkg, ok := sel.X.(*ast.Ident)
			if !ok || pkg.Obj != nil || mine(pkg.Name) {
				return "", false, false
			}
			v, ok := s.pkgMember(st, sel)
			if ok && v.Kind() == reflect.Pointer && v.IsNil() && !v.CanAddr() && intKinds[v.Type().Elem().Kind()] {
				return pkg.Name + "." + sel.Sel.Name, false, true
			}
			return "", false, false
		}
		id, isIdent := ast.Unparen(x.Fun).(*ast.Ident)
		if !isIdent || id.Obj != nil || mine(id.Name) || len(x.Args) != 1 || x.Ellipsis.IsValid() {
			return "", false, false
		}
		if intTypeNames[id.Name] {
			return id.Name, false, predeclared(id) // a conversion
		}
		if id.Name == "len" || id.Name == "cap" {
			s.meta.RLock()
			defer s.meta.RUnlock()
			_, global := st.global(id.Name)
			return "int", false, !global && st.funcs[id.Name] == nil && st.types[id.Name] == nil
		}
	case *ast.Ident:
		if x.Obj != nil {
			return s.declaredInt(st, x, x.Obj, own, depth)
		}
		if obj, ok := own[x.Name]; ok {
			if obj == nil {
				return "", false, false
			}
			return s.declaredInt(st, x, obj, own, depth) // declared in another part of the cell
		}
		s.meta.RLock()
		defer s.meta.RUnlock()
		d := st.vars[x.Name]
		if d == nil || st.types[x.Name] != nil || st.funcs[x.Name] != nil {
			return "", false, false
		}
		if d.kind == "const" {
			// A constant of the session (not among its globals): from
			// its declaration, whose names are the session's.
			src := d.src
			if !strings.HasPrefix(src, "const") {
				src = "const " + src // a spec of a group
			}
			s.meta.RUnlock()
			defer s.meta.RLock()
			return s.sessionDeclInt(st, x.Name, src, depth)
		}
		// Of no type a cell declared: yaegi's reflect type of one is its
		// underlying type.
		if d.class != plainClass {
			return "", false, false
		}
		v, found := st.global(x.Name)
		if !found || !v.IsValid() {
			return "", false, false
		}
		if intKinds[v.Type().Kind()] {
			t, ok := compiledType(v.Type())
			if !ok {
				return "", false, false
			}
			name, ok := (&typer{s: s, st: st}).typeName(t)
			return name, false, ok
		}
	}
	return "", false, false
}

// declaredInt is intType for a name declared in the code being
// rewritten: from its declaration.
func (s *Session) declaredInt(st *state, x *ast.Ident, obj *ast.Object, own map[string]*ast.Object, depth int) (string, bool, bool) {
	isType := func(t ast.Expr) (string, bool, bool) {
		id, ok := t.(*ast.Ident)
		if !ok || !intTypeNames[id.Name] || id.Obj != nil {
			return "", false, false
		}
		if _, mine := own[id.Name]; mine {
			return "", false, false
		}
		s.meta.RLock()
		defer s.meta.RUnlock()
		return id.Name, false, st.types[id.Name] == nil
	}
	switch d := obj.Decl.(type) {
	case *ast.ValueSpec:
		if d.Type != nil {
			return isType(d.Type)
		}
		for i, id := range d.Names {
			if id.Name == x.Name && i < len(d.Values) && len(d.Values) == len(d.Names) {
				name, untyped, ok := s.intType(st, d.Values[i], own, depth+1)
				return name, untyped && obj.Kind == ast.Con, ok
			}
		}
	case *ast.AssignStmt:
		if u, ok := rangeOf(d); ok {
			// The key of a range loop (the parser's record of it): of a
			// loop over an integer, of that integer's type.
			if id, ok := d.Lhs[0].(*ast.Ident); !ok || id.Name != x.Name {
				return "", false, false
			}
			name, _, ok := s.intType(st, u.X, own, depth+1)
			return name, false, ok
		}
		if d.Tok == token.DEFINE && len(d.Rhs) == 1 && len(d.Lhs) > 1 {
			// n, err := strconv.Atoi(s): a result of a compiled function.
			call, ok := ast.Unparen(d.Rhs[0]).(*ast.CallExpr)
			if !ok {
				return "", false, false
			}
			for i, l := range d.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name == x.Name {
					name, ok := s.compiledCallInt(st, call, i, len(d.Lhs), own)
					return name, false, ok
				}
			}
			return "", false, false
		}
		if d.Tok != token.DEFINE || len(d.Lhs) != len(d.Rhs) {
			return "", false, false
		}
		for i, l := range d.Lhs {
			if id, ok := l.(*ast.Ident); ok && id.Name == x.Name {
				name, _, ok := s.intType(st, d.Rhs[i], own, depth+1)
				return name, false, ok
			}
		}
	case *ast.Field:
		return isType(d.Type)
	}
	return "", false, false
}

// compiledCallInt returns the type of result i (of n) of call when call
// is pkg.F(...) of a function a compiled package exports, F has n
// results and result i is of an integer type that can be written.
func (s *Session) compiledCallInt(st *state, call *ast.CallExpr, i, n int, own map[string]*ast.Object) (string, bool) {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return "", false
	}
	pkg, ok := sel.X.(*ast.Ident)
	if !ok || pkg.Obj != nil {
		return "", false
	}
	if _, mine := own[pkg.Name]; mine {
		return "", false
	}
	v, ok := s.pkgMember(st, sel)
	if !ok || v.Kind() != reflect.Func || v.Type().NumOut() != n || !intKinds[v.Type().Out(i).Kind()] {
		return "", false
	}
	t, ok := compiledType(v.Type().Out(i))
	if !ok {
		return "", false
	}
	return (&typer{s: s, st: st}).typeName(t)
}

// sessionDeclInt is intType for name, a constant of the session
// declared by src.
func (s *Session) sessionDeclInt(st *state, name, src string, depth int) (string, bool, bool) {
	f, err := parseDeclFile(token.NewFileSet(), src)
	if err != nil || len(f.Decls) != 1 {
		return "", false, false
	}
	g, ok := f.Decls[0].(*ast.GenDecl)
	if !ok || len(g.Specs) != 1 {
		return "", false, false
	}
	sp := g.Specs[0].(*ast.ValueSpec)
	for _, id := range sp.Names {
		if id.Name == name {
			// The declaration's other names are the session's, not
			// objects of this parse.
			id.Obj.Decl = sp
			return s.declaredInt(st, id, id.Obj, nil, depth+1)
		}
	}
	return "", false, false
}

// rangeOf returns the range expression of as when as is the parser's
// record of a range loop's definition of its variables.
func rangeOf(as *ast.AssignStmt) (*ast.UnaryExpr, bool) {
	if len(as.Rhs) != 1 || len(as.Lhs) == 0 {
		return nil, false
	}
	u, ok := as.Rhs[0].(*ast.UnaryExpr)
	return u, ok && u.Op == token.RANGE
}

// assertVars returns the edits that make a package-level comma-ok type
// assertion or map index, var v, ok = x.(T) or m[k], which yaegi v0.16.1
// fails to compile ("nil type"), forms it compiles: the call of a
// function literal that makes it in a body, where yaegi compiles it,
// and, for an index whose operands are free of calls and receives, the
// value and ok apart (m and k read twice):
//
//	var v, ok = func() (T, bool) { __v, __ok := x.(T); return __v, __ok }()
//	var v, ok = m[k], func() bool { _, __ok := m[k]; return __ok }()
//
// A receive (var v, ok = <-ch) is left to unit.declare's retype. The
// text put in ends with /*line*/ directives, as rangeEdits' does.
func assertVars(c *cellCode, prs []*parsedRun) []edit {
	var edits []edit
	for _, pr := range prs {
		if !pr.decl {
			continue
		}
		for _, d := range pr.file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, sp := range g.Specs {
				vs := sp.(*ast.ValueSpec)
				if len(vs.Names) != 2 || len(vs.Values) != 1 || vs.Type != nil {
					continue
				}
				dir := func(o int) string {
					line, col := c.pos(o)
					return lineComment(c.n, line, col)
				}
				at, end := pr.off(vs.Values[0].Pos()), pr.off(vs.Values[0].End())
				if ix, ok := ast.Unparen(vs.Values[0]).(*ast.IndexExpr); ok && pure(ix.X) && pure(ix.Index) {
					// The map is read twice, for the value and for ok.
					edits = append(edits, edit{at: end, end: end, text: ", func() bool { _, __ok := " + dir(at) + c.src[at:end] + "; return __ok }()" + dir(end)})
					continue
				}
				ta, ok := ast.Unparen(vs.Values[0]).(*ast.TypeAssertExpr)
				if !ok || ta.Type == nil {
					continue
				}
				typ := c.src[pr.off(ta.Type.Pos()):pr.off(ta.Type.End())]
				if strings.Contains(typ, "\n") {
					continue
				}
				edits = append(edits,
					edit{at: at, end: at, text: "func() (" + typ + ", bool) { __v, __ok := " + dir(at)},
					edit{at: end, end: end, text: "; return __v, __ok }()" + dir(end)})
			}
		}
	}
	return edits
}

// pure reports whether evaluating x twice gives the same value with no
// effect: it has no call, receive or function literal.
func pure(x ast.Expr) bool {
	ok := true
	ast.Inspect(x, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr, *ast.FuncLit:
			ok = false
		case *ast.UnaryExpr:
			ok = ok && n.Op != token.ARROW
		}
		return ok
	})
	return ok
}
