package goeval

import (
	"go/ast"
	"go/token"
	"reflect"
	"strconv"
	"strings"
)

// yaegi declares the globals a run of statements defines (x := ...)
// from a compile of the run as written (see unit.declare), and that
// compile fails on valid code in ways the declarations alone do not:
//
//   - it cannot work out the type of an index into a value of a compiled
//     type: after row := X.RawRowView(0), v := row[1] fails with
//     "constant definition loop", as does v := X.RawRowView(0)[1];
//   - a comma-ok definition (v, ok := m[k], x.(T), <-ch) panics ("nil
//     type");
//   - a multi-value definition inside a block (v, err := f() in a for
//     loop's body) is reported undefined when the run defines globals.
//
// When that compile fails, the globals are declared again from the
// run's top-level definitions alone, with the types of those yaegi cannot
// work out written out: worked out here from the reflect types of the
// session's globals and of the compiled packages' functions, methods,
// fields, variables and types, or taken from the cell's text (x.(T)).

// fallbackDeclare returns the declaration of the globals stmts (the
// statements of a run, from c's source) define: their top-level
// definitions alone, each at its position in the cell, those of indexes,
// comma-ok forms and values of compiled types with their types written
// out. ok is false when there is nothing to declare.
func (s *Session) fallbackDeclare(st *state, c *cellCode, pr *parsedRun, stmts []ast.Stmt) (string, bool) {
	s.meta.RLock()
	defer s.meta.RUnlock()
	ty := newTyper(s, st, c, pr)
	var b strings.Builder
	b.WriteString(";")
	for _, stmt := range stmts {
		as, ok := stmt.(*ast.AssignStmt)
		if !ok || as.Tok != token.DEFINE {
			continue
		}
		types, typed := ty.assigned(as)
		names := make([]string, len(as.Lhs))
		for i, l := range as.Lhs {
			names[i] = l.(*ast.Ident).Name // := defines names only
			if names[i] != "_" {
				ty.local[names[i]] = nil // unknown, not the global of that name
				if typed {
					ty.local[names[i]] = types[i].rt
				}
			}
		}
		line, col := c.pos(pr.off(as.Pos()))
		b.WriteString(directive(c.n, line, col))
		if typed {
			if decl, ok := ty.varDecls(names, types); ok {
				b.WriteString(decl)
				continue
			}
		}
		if decl, ok := commaOkDecl(c, pr, as); ok {
			b.WriteString(decl)
			continue
		}
		b.WriteString(c.src[pr.off(as.Pos()):pr.off(as.End())] + "\n")
	}
	return b.String(), b.Len() > 1
}

// typedVarDecls returns text, the code of the declaration run pr (blanked
// where blanks say), with its var declarations that give no type written
// as declarations of their variables with the types of their values, when
// the typer knows them all (var x, err = Pair[int](3), which yaegi fails
// to compile): a declaration compiled, never run (see unit.declare). ok is
// false when it changes nothing.
func (s *Session) typedVarDecls(st *state, c *cellCode, pr *parsedRun, text string, blanks []span) (string, bool) {
	s.meta.RLock()
	defer s.meta.RUnlock()
	ty := newTyper(s, st, c, pr)
	b := []byte(text)
	var tail strings.Builder
	for _, d := range pr.file.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR || blanked(pr, d.Pos(), blanks) {
			continue
		}
		var decl strings.Builder
		changed := false
		for _, sp := range g.Specs {
			vs := sp.(*ast.ValueSpec)
			names := make([]string, len(vs.Names))
			for i, id := range vs.Names {
				names[i] = id.Name
			}
			var types []wtype
			var typed bool
			switch {
			case vs.Type != nil || len(vs.Values) == 0:
			case len(vs.Values) == 1 && len(names) > 1:
				if call, isCall := ast.Unparen(vs.Values[0]).(*ast.CallExpr); isCall {
					types, typed = ty.genericResults(call)
					typed = typed && len(types) == len(names)
				}
			case len(vs.Values) == len(names):
				types, typed = ty.valueTypes(vs.Values)
			}
			if typed {
				if text, ok := ty.varDecls(names, types); ok {
					decl.WriteString(text)
					changed = true
					continue
				}
			}
			line, col := c.pos(pr.off(vs.Pos()))
			if len(names) == 2 && len(vs.Values) == 1 && vs.Type == nil {
				// var v, ok = m[k] (x.(T), <-ch): as v, ok := m[k].
				as := &ast.AssignStmt{Lhs: []ast.Expr{vs.Names[0], vs.Names[1]}, Tok: token.DEFINE, Rhs: vs.Values}
				if text, ok := commaOkDecl(c, pr, as); ok {
					decl.WriteString(directive(c.n, line, col) + text)
					changed = true
					continue
				}
			}
			decl.WriteString(directive(c.n, line, col) + "var " + c.src[pr.off(vs.Pos()):pr.off(vs.End())] + "\n")
		}
		if !changed {
			continue
		}
		from, to := pr.off(g.Pos())-pr.start, pr.off(g.End())-pr.start
		line, col := c.pos(pr.off(g.Pos()))
		tail.WriteString(directive(c.n, line, col) + decl.String())
		blankBytes(b[from:to])
	}
	if tail.Len() == 0 {
		return "", false
	}
	return string(b) + tail.String(), true
}

// commaOkDecl returns, for a comma-ok definition (v, ok := <-ch, m[k],
// x.(T)) whose types the typer does not know, the declaration of v from
// the single-value form, whose type yaegi works out, and of ok as a
// bool: the declaration is compiled, never run.
func commaOkDecl(c *cellCode, pr *parsedRun, as *ast.AssignStmt) (string, bool) {
	if len(as.Lhs) != 2 || len(as.Rhs) != 1 {
		return "", false
	}
	switch x := ast.Unparen(as.Rhs[0]).(type) {
	case *ast.UnaryExpr:
		if x.Op != token.ARROW {
			return "", false
		}
	case *ast.IndexExpr, *ast.TypeAssertExpr:
	default:
		return "", false
	}
	var b strings.Builder
	if v := as.Lhs[0].(*ast.Ident).Name; v != "_" {
		b.WriteString("var " + v + " = " + c.src[pr.off(as.Rhs[0].Pos()):pr.off(as.Rhs[0].End())] + "\n")
	}
	if ok := as.Lhs[1].(*ast.Ident).Name; ok != "_" {
		b.WriteString("var " + ok + " bool\n")
	}
	return b.String(), true
}

// varDecls returns var declarations of names (blank ones left out) with
// the given types, when every type can be written.
func (ty *typer) varDecls(names []string, types []wtype) (string, bool) {
	var b strings.Builder
	for i, n := range names {
		if n == "_" {
			continue
		}
		t, ok := ty.write(types[i])
		if !ok {
			return "", false
		}
		b.WriteString("var " + n + " " + t + "\n")
	}
	return b.String(), true
}

// typedVars returns the declaration of names as variables of the types
// of the values as assigns, for the temporaries of a redefinition (see
// runSelfRedefinition).
func (s *Session) typedVars(st *state, c *cellCode, pr *parsedRun, head string, names []string, as *ast.AssignStmt) (string, bool) {
	s.meta.RLock()
	defer s.meta.RUnlock()
	ty := newTyper(s, st, c, pr)
	types, ok := ty.assigned(as)
	if !ok || len(types) != len(names) {
		return "", false
	}
	decl, ok := ty.varDecls(names, types)
	return head + decl, ok
}

// wtype is a value's type as the typer knows it: its reflect type, or the
// text the cell wrote it with (a type assertion's), or both.
type wtype struct {
	rt  reflect.Type
	src string
}

// typer works out the static types of expressions over the session's
// globals, the names defined earlier in the same run and the compiled
// packages. Called with s.meta held.
type typer struct {
	s  *Session
	st *state
	// local holds the names defined earlier in the run: nil when their
	// type is not known.
	local map[string]reflect.Type
	// text returns the cell's text of a node (type assertions' types).
	text func(ast.Node) string
}

func newTyper(s *Session, st *state, c *cellCode, pr *parsedRun) *typer {
	return &typer{s: s, st: st, local: map[string]reflect.Type{},
		text: func(n ast.Node) string { return c.src[pr.off(n.Pos()):pr.off(n.End())] }}
}

// assigned returns the types of the values as assigns to its left side.
func (ty *typer) assigned(as *ast.AssignStmt) ([]wtype, bool) {
	if len(as.Rhs) == 1 && len(as.Lhs) > 1 {
		okBool := wtype{rt: reflect.TypeFor[bool]()}
		switch x := ast.Unparen(as.Rhs[0]).(type) {
		case *ast.CallExpr:
			if out, ok := ty.genericResults(x); ok {
				return out, len(out) == len(as.Lhs)
			}
			ft, ok := ty.funcOf(x)
			if !ok || ft.NumOut() != len(as.Lhs) {
				return nil, false
			}
			out := make([]wtype, ft.NumOut())
			for i := range out {
				if out[i].rt, ok = compiledType(ft.Out(i)); !ok {
					return nil, false
				}
			}
			return out, true
		case *ast.IndexExpr: // v, ok := m[k]
			t, ok := ty.typeOf(x.X)
			if !ok || t.Kind() != reflect.Map || len(as.Lhs) != 2 {
				return nil, false
			}
			return []wtype{{rt: t.Elem()}, okBool}, true
		case *ast.UnaryExpr: // v, ok := <-ch
			t, ok := ty.typeOf(x.X)
			if !ok || x.Op != token.ARROW || t.Kind() != reflect.Chan || len(as.Lhs) != 2 {
				return nil, false
			}
			return []wtype{{rt: t.Elem()}, okBool}, true
		case *ast.TypeAssertExpr: // v, ok := x.(T)
			if x.Type == nil || len(as.Lhs) != 2 || ty.text == nil {
				return nil, false
			}
			rt, _ := ty.typeExpr(x.Type)
			return []wtype{{rt: rt, src: ty.text(x.Type)}, okBool}, true
		}
		return nil, false
	}
	if len(as.Rhs) != len(as.Lhs) {
		return nil, false
	}
	return ty.valueTypes(as.Rhs)
}

// valueTypes returns the types of single values.
func (ty *typer) valueTypes(values []ast.Expr) ([]wtype, bool) {
	out := make([]wtype, len(values))
	for i, x := range values {
		if call, ok := ast.Unparen(x).(*ast.CallExpr); ok {
			if g, ok := ty.genericResults(call); ok {
				if len(g) != 1 {
					return nil, false
				}
				out[i] = g[0]
				continue
			}
		}
		t, ok := ty.typeOf(x)
		if !ok {
			return nil, false
		}
		out[i].rt = t
	}
	return out, true
}

// yaegi v0.16.1 fails to define a global from a call of an interpreted
// generic function (x, err := Pair[int](3) crashes it, x := One[int](3)
// is a "constant definition loop", x := One(3) a "nil reflect type"),
// though the same calls work inside a function and in x, err =
// Pair[int](3). genericResults gives such globals their types, written
// from the function's declaration.

// genericResults returns the result types of call when it calls a
// generic function the session declared, with its type arguments written
// (Pair[int](3)) or inferred from arguments of known types bound
// directly to a type parameter (Pair(3), Pair(xs[0])): the declaration's
// result types with the type arguments in place of the type parameters.
func (ty *typer) genericResults(call *ast.CallExpr) ([]wtype, bool) {
	if ty.text == nil {
		return nil, false
	}
	fun := ast.Unparen(call.Fun)
	var explicit []ast.Expr
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun, explicit = f.X, []ast.Expr{f.Index}
	case *ast.IndexListExpr:
		fun, explicit = f.X, f.Indices
	}
	name, ok := fun.(*ast.Ident)
	if !ok || (name.Obj != nil && name.Obj.Kind != ast.Fun) { // a function of the run, or the session's
		return nil, false
	}
	if _, local := ty.local[name.Name]; local {
		return nil, false
	}
	d := ty.st.funcs[name.Name]
	if d == nil || !strings.Contains(d.src, "[") {
		return nil, false
	}
	fset := token.NewFileSet()
	f, err := parseDeclFile(fset, d.src)
	if err != nil {
		return nil, false
	}
	var fd *ast.FuncDecl
	for _, decl := range f.Decls {
		if x, ok := decl.(*ast.FuncDecl); ok && x.Recv == nil && x.Name.Name == name.Name {
			fd = x
		}
	}
	if fd == nil || fd.Type.TypeParams == nil || fd.Type.Results == nil {
		return nil, false
	}
	var params []string
	for _, fl := range fd.Type.TypeParams.List {
		for _, n := range fl.Names {
			params = append(params, n.Name)
		}
	}
	args := map[string]string{}
	if explicit != nil {
		if len(explicit) != len(params) {
			return nil, false
		}
		for i, p := range params {
			args[p] = ty.text(explicit[i])
		}
	} else if !ty.infer(fd, call, params, args) {
		return nil, false
	}
	var out []wtype
	for _, fl := range fd.Type.Results.List {
		text, ok := substitute(fset, d.src, fl.Type, args)
		if !ok {
			return nil, false
		}
		for range max(1, len(fl.Names)) {
			out = append(out, wtype{src: text})
		}
	}
	return out, true
}

// infer sets args[p] for each type parameter p of fd from the arguments
// of call whose parameter's type is p itself, when they all have the
// same known type (an untyped constant its default type).
func (ty *typer) infer(fd *ast.FuncDecl, call *ast.CallExpr, params []string, args map[string]string) bool {
	if call.Ellipsis.IsValid() {
		return false
	}
	isParam := map[string]bool{}
	for _, p := range params {
		isParam[p] = true
	}
	found := map[string]reflect.Type{}
	i := 0
	for _, fl := range fd.Type.Params.List {
		for range max(1, len(fl.Names)) {
			if _, variadic := fl.Type.(*ast.Ellipsis); variadic || i >= len(call.Args) {
				return false
			}
			arg := call.Args[i]
			i++
			id, ok := fl.Type.(*ast.Ident)
			if !ok || !isParam[id.Name] {
				continue
			}
			t, ok := ty.typeOf(arg)
			if !ok || (found[id.Name] != nil && found[id.Name] != t) {
				return false
			}
			found[id.Name] = t
		}
	}
	for _, p := range params {
		if found[p] == nil {
			return false
		}
		name, ok := ty.typeName(found[p])
		if !ok {
			return false
		}
		args[p] = name
	}
	return true
}

// substitute returns the text of type expression x of src (parsed by
// parseDeclFile into fset) with the type parameters in args replaced by
// their arguments.
func substitute(fset *token.FileSet, src string, x ast.Expr, args map[string]string) (string, bool) {
	off := func(p token.Pos) int { return fset.Position(p).Offset - len("package main;") }
	start, end := off(x.Pos()), off(x.End())
	if start < 0 || end > len(src) || start > end {
		return "", false
	}
	skip := map[*ast.Ident]bool{} // field names, selected names
	ast.Inspect(x, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			skip[n.Sel] = true
		case *ast.Field:
			for _, id := range n.Names {
				skip[id] = true
			}
		}
		return true
	})
	var b strings.Builder
	at := start
	ast.Inspect(x, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok || skip[id] {
			return true
		}
		if arg, ok := args[id.Name]; ok {
			b.WriteString(src[at:off(id.Pos())] + arg)
			at = off(id.End())
		}
		return true
	})
	b.WriteString(src[at:end])
	return b.String(), true
}

// typeExpr returns the reflect type a type expression means, when it is
// made of Go's predeclared types and the compiled packages' types.
func (ty *typer) typeExpr(x ast.Expr) (reflect.Type, bool) {
	switch x := x.(type) {
	case *ast.ParenExpr:
		return ty.typeExpr(x.X)
	case *ast.Ident:
		if ty.isBuiltin(x.Name) {
			t, ok := predeclared[x.Name]
			return t, ok
		}
	case *ast.SelectorExpr:
		v, ok := ty.s.pkgMemberLocked(ty.st, x)
		// A package's type is in its table as a nil pointer to it.
		if ok && v.Kind() == reflect.Pointer && v.IsNil() {
			return compiledType(v.Type().Elem())
		}
	case *ast.StarExpr:
		if t, ok := ty.typeExpr(x.X); ok {
			return reflect.PointerTo(t), true
		}
	case *ast.ArrayType:
		e, ok := ty.typeExpr(x.Elt)
		if !ok {
			return nil, false
		}
		if x.Len == nil {
			return reflect.SliceOf(e), true
		}
		if lit, isLit := x.Len.(*ast.BasicLit); isLit && lit.Kind == token.INT {
			if n, err := strconv.Atoi(lit.Value); err == nil {
				return reflect.ArrayOf(n, e), true
			}
		}
	case *ast.ChanType:
		if e, ok := ty.typeExpr(x.Value); ok {
			dir := map[ast.ChanDir]reflect.ChanDir{ast.SEND | ast.RECV: reflect.BothDir, ast.SEND: reflect.SendDir, ast.RECV: reflect.RecvDir}[x.Dir]
			return reflect.ChanOf(dir, e), true
		}
	case *ast.MapType:
		k, ok1 := ty.typeExpr(x.Key)
		v, ok2 := ty.typeExpr(x.Value)
		if ok1 && ok2 && k.Comparable() {
			return reflect.MapOf(k, v), true
		}
	}
	return nil, false
}

// predeclared are Go's predeclared types.
var predeclared = map[string]reflect.Type{
	"bool": reflect.TypeFor[bool](), "string": reflect.TypeFor[string](), "error": reflect.TypeFor[error](),
	"int": reflect.TypeFor[int](), "int8": reflect.TypeFor[int8](), "int16": reflect.TypeFor[int16](),
	"int32": reflect.TypeFor[int32](), "int64": reflect.TypeFor[int64](), "rune": reflect.TypeFor[rune](),
	"uint": reflect.TypeFor[uint](), "uint8": reflect.TypeFor[uint8](), "uint16": reflect.TypeFor[uint16](),
	"uint32": reflect.TypeFor[uint32](), "uint64": reflect.TypeFor[uint64](), "uintptr": reflect.TypeFor[uintptr](),
	"byte": reflect.TypeFor[byte](), "float32": reflect.TypeFor[float32](), "float64": reflect.TypeFor[float64](),
	"complex64": reflect.TypeFor[complex64](), "complex128": reflect.TypeFor[complex128](), "any": reflect.TypeFor[any](),
}

// typeOf returns the static type of x (the default type of an untyped
// constant).
func (ty *typer) typeOf(x ast.Expr) (reflect.Type, bool) {
	switch x := x.(type) {
	case *ast.ParenExpr:
		return ty.typeOf(x.X)
	case *ast.BasicLit:
		switch x.Kind {
		case token.INT:
			return reflect.TypeFor[int](), true
		case token.FLOAT:
			return reflect.TypeFor[float64](), true
		case token.STRING:
			return reflect.TypeFor[string](), true
		case token.CHAR:
			return reflect.TypeFor[rune](), true
		}
	case *ast.Ident:
		if t, ok := ty.local[x.Name]; ok {
			return t, t != nil
		}
		if v, ok := ty.st.global(x.Name); ok && v.IsValid() {
			return compiledType(v.Type())
		}
		if x.Name == "true" || x.Name == "false" {
			return reflect.TypeFor[bool](), true
		}
	case *ast.SelectorExpr:
		if v, ok := ty.s.pkgMemberLocked(ty.st, x); ok {
			if v.Kind() == reflect.Pointer && v.Type().Elem().Kind() != reflect.Func {
				return compiledType(v.Type().Elem()) // a package variable
			}
			if v.Kind() == reflect.Func {
				return v.Type(), true
			}
			return nil, false
		}
		t, ok := ty.typeOf(x.X)
		if !ok {
			return nil, false
		}
		st := t
		if st.Kind() == reflect.Pointer {
			st = st.Elem()
		}
		if st.Kind() == reflect.Struct {
			if f, ok := st.FieldByName(x.Sel.Name); ok && f.IsExported() {
				return compiledType(f.Type)
			}
		}
		if m, ok := t.MethodByName(x.Sel.Name); ok {
			return methodValue(t, m), true
		}
	case *ast.CompositeLit:
		if x.Type != nil {
			return ty.typeExpr(x.Type)
		}
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && ty.isBuiltin(id.Name) {
			switch id.Name {
			case "len", "cap":
				return reflect.TypeFor[int](), true
			case "make":
				if len(x.Args) > 0 {
					return ty.typeExpr(x.Args[0])
				}
				return nil, false
			case "new":
				if len(x.Args) == 1 {
					if t, ok := ty.typeExpr(x.Args[0]); ok {
						return reflect.PointerTo(t), true
					}
				}
				return nil, false
			}
		}
		if t, ok := ty.typeExpr(x.Fun); ok && len(x.Args) == 1 {
			return t, true // a conversion
		}
		ft, ok := ty.funcOf(x)
		if !ok || ft.NumOut() != 1 {
			return nil, false
		}
		return compiledType(ft.Out(0))
	case *ast.IndexExpr:
		t, ok := ty.typeOf(x.X)
		if !ok {
			return nil, false
		}
		switch t.Kind() {
		case reflect.Slice, reflect.Array, reflect.Map:
			return compiledType(t.Elem())
		case reflect.Pointer:
			if t.Elem().Kind() == reflect.Array {
				return compiledType(t.Elem().Elem())
			}
		case reflect.String:
			return reflect.TypeFor[byte](), true
		}
	case *ast.SliceExpr:
		t, ok := ty.typeOf(x.X)
		if !ok {
			return nil, false
		}
		switch t.Kind() {
		case reflect.Slice, reflect.String:
			return t, true
		case reflect.Array:
			return reflect.SliceOf(t.Elem()), true
		case reflect.Pointer:
			if t.Elem().Kind() == reflect.Array {
				return reflect.SliceOf(t.Elem().Elem()), true
			}
		}
	case *ast.StarExpr:
		if t, ok := ty.typeOf(x.X); ok && t.Kind() == reflect.Pointer {
			return compiledType(t.Elem())
		}
	case *ast.UnaryExpr:
		t, ok := ty.typeOf(x.X)
		switch {
		case !ok:
		case x.Op == token.ARROW && t.Kind() == reflect.Chan:
			return compiledType(t.Elem())
		case x.Op == token.AND:
			return reflect.PointerTo(t), true
		case x.Op == token.NOT:
			return reflect.TypeFor[bool](), true
		case x.Op == token.SUB || x.Op == token.ADD || x.Op == token.XOR:
			return t, true
		}
	case *ast.BinaryExpr:
		switch x.Op {
		case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ, token.LAND, token.LOR:
			return reflect.TypeFor[bool](), true
		case token.SHL, token.SHR:
			return ty.typeOf(x.X)
		}
		// An untyped constant takes the other operand's type.
		_, lc := x.X.(*ast.BasicLit)
		_, rc := x.Y.(*ast.BasicLit)
		if lc && !rc {
			return ty.typeOf(x.Y)
		}
		if lc && rc {
			lt, lok := ty.typeOf(x.X)
			rt, rok := ty.typeOf(x.Y)
			if !lok || !rok {
				return nil, false
			}
			if rt.Kind() == reflect.Float64 {
				return rt, true
			}
			return lt, true
		}
		return ty.typeOf(x.X)
	}
	return nil, false
}

// funcOf returns the type of the function call calls (without a method's
// receiver), when it is one whose type is known.
func (ty *typer) funcOf(call *ast.CallExpr) (reflect.Type, bool) {
	t, ok := ty.typeOf(call.Fun)
	if !ok || t.Kind() != reflect.Func {
		return nil, false
	}
	return t, true
}

// isBuiltin reports whether name means Go's builtin, not a global of the
// session or a name defined earlier in the run.
func (ty *typer) isBuiltin(name string) bool {
	if _, ok := ty.local[name]; ok {
		return false
	}
	_, ok := ty.st.global(name)
	return !ok
}

// methodValue is the type of method m of t as a method value: its
// function type without the receiver (an interface's methods have none).
func methodValue(t reflect.Type, m reflect.Method) reflect.Type {
	ft := m.Type
	if t.Kind() == reflect.Interface {
		return ft
	}
	in := make([]reflect.Type, ft.NumIn()-1)
	for i := range in {
		in[i] = ft.In(i + 1)
	}
	out := make([]reflect.Type, ft.NumOut())
	for i := range out {
		out[i] = ft.Out(i)
	}
	return reflect.FuncOf(in, out, ft.IsVariadic())
}

// compiledType returns t when it is a type of compiled code: yaegi's own
// representations of interpreted values (its interface values, the
// types cells declare) are not what the cell wrote.
func compiledType(t reflect.Type) (reflect.Type, bool) {
	if t == nil || strings.Contains(t.PkgPath(), "yaegi") {
		return nil, false
	}
	return t, true
}

// write writes w in Go syntax: as the cell wrote it, or from its reflect
// type (see typeName).
func (ty *typer) write(w wtype) (string, bool) {
	if w.src != "" {
		return w.src, true
	}
	if w.rt == nil {
		return "", false
	}
	return ty.typeName(w.rt)
}

// typeName writes t in Go syntax with the session's import names; ok is
// false when some package of t is not imported, or t cannot be written
// (an unnamed struct, an interface with methods).
func (ty *typer) typeName(t reflect.Type) (string, bool) {
	if t.Name() != "" {
		if t.PkgPath() == "" {
			return t.Name(), true // int, string, error...
		}
		for name, path := range ty.st.imports {
			if path == t.PkgPath() {
				return name + "." + t.Name(), true
			}
		}
		return "", false
	}
	elem := func(prefix string, e reflect.Type) (string, bool) {
		n, ok := ty.typeName(e)
		return prefix + n, ok
	}
	switch t.Kind() {
	case reflect.Pointer:
		return elem("*", t.Elem())
	case reflect.Slice:
		return elem("[]", t.Elem())
	case reflect.Array:
		return elem("["+strconv.Itoa(t.Len())+"]", t.Elem())
	case reflect.Map:
		k, ok := ty.typeName(t.Key())
		if !ok {
			return "", false
		}
		return elem("map["+k+"]", t.Elem())
	case reflect.Chan:
		dir := map[reflect.ChanDir]string{reflect.BothDir: "chan ", reflect.RecvDir: "<-chan ", reflect.SendDir: "chan<- "}[t.ChanDir()]
		return elem(dir, t.Elem())
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return "any", true
		}
	case reflect.Func:
		var b strings.Builder
		b.WriteString("func(")
		for i := range t.NumIn() {
			if i > 0 {
				b.WriteString(", ")
			}
			in := t.In(i)
			if t.IsVariadic() && i == t.NumIn()-1 {
				b.WriteString("...")
				in = in.Elem()
			}
			n, ok := ty.typeName(in)
			if !ok {
				return "", false
			}
			b.WriteString(n)
		}
		b.WriteString(")")
		if t.NumOut() > 0 {
			b.WriteString(" (")
			for i := range t.NumOut() {
				if i > 0 {
					b.WriteString(", ")
				}
				n, ok := ty.typeName(t.Out(i))
				if !ok {
					return "", false
				}
				b.WriteString(n)
			}
			b.WriteString(")")
		}
		return b.String(), true
	}
	return "", false
}
