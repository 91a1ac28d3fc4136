package goeval

import (
	"go/ast"
	"go/token"
	"reflect"
	"strconv"
	"strings"
)

// yaegi declares a cell's globals (x := ...) from their right sides' types
// before running anything, and it cannot work out the type of an index
// into a value of a compiled type: after row := X.RawRowView(0), the
// declaration of v := row[1] fails with "constant definition loop", as
// does v := X.RawRowView(0)[1]. When that happens the statements are
// declared again with the types of those globals written out, worked out
// here from the reflect types of the session's globals and of the
// compiled packages' functions, methods, fields and variables.

// typedDeclare returns the declaration of the globals stmts define (the
// statements of a run, from c's source) with written types where the
// right side is an index, and the other statements as they are; ok is
// false when a type cannot be worked out or written with the session's
// imports.
func (s *Session) typedDeclare(st *state, c *cellCode, pr *parsedRun, head string, from, to int, stmts []ast.Stmt) (string, bool) {
	s.meta.RLock()
	defer s.meta.RUnlock()
	ty := &typer{s: s, st: st, local: map[string]reflect.Type{}}
	var b strings.Builder
	b.WriteString(head)
	at := from
	changed := false
	for _, stmt := range stmts {
		as, ok := stmt.(*ast.AssignStmt)
		if !ok || as.Tok != token.DEFINE {
			continue
		}
		types, ok := ty.assigned(as)
		for i, l := range as.Lhs {
			if id, isID := l.(*ast.Ident); isID && id.Name != "_" {
				ty.local[id.Name] = nil // unknown, not the global of that name
				if ok {
					ty.local[id.Name] = types[i]
				}
			}
		}
		if !hasIndex(as.Rhs) {
			continue
		}
		if !ok {
			return "", false
		}
		// var a T1; var b T2 in place of a, b := ...
		start, end := pr.off(as.Pos()), pr.off(as.End())
		b.WriteString(c.src[at:start])
		for i, l := range as.Lhs {
			id := l.(*ast.Ident)
			if id.Name == "_" {
				continue
			}
			name, ok := ty.typeName(types[i])
			if !ok {
				return "", false
			}
			b.WriteString("var " + id.Name + " " + name + "; ")
		}
		at, changed = end, true
	}
	if !changed {
		return "", false
	}
	b.WriteString(c.src[at:to])
	return b.String(), true
}

// typedVars returns the declaration of names as variables of the types
// of the values as assigns, for the temporaries of a redefinition (see
// runSelfRedefinition).
func (s *Session) typedVars(st *state, head string, names []string, as *ast.AssignStmt) (string, bool) {
	s.meta.RLock()
	defer s.meta.RUnlock()
	ty := &typer{s: s, st: st, local: map[string]reflect.Type{}}
	types, ok := ty.assigned(as)
	if !ok || len(types) != len(names) {
		return "", false
	}
	var b strings.Builder
	b.WriteString(head)
	for i, n := range names {
		name, ok := ty.typeName(types[i])
		if !ok {
			return "", false
		}
		b.WriteString("var " + n + " " + name + "; ")
	}
	return b.String(), true
}

// hasIndex reports whether an index expression appears in xs.
func hasIndex(xs []ast.Expr) bool {
	found := false
	for _, x := range xs {
		ast.Inspect(x, func(n ast.Node) bool {
			if _, ok := n.(*ast.IndexExpr); ok {
				found = true
			}
			return !found
		})
	}
	return found
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
}

// assigned returns the types of the values as assigns to its left side.
func (ty *typer) assigned(as *ast.AssignStmt) ([]reflect.Type, bool) {
	if len(as.Rhs) == 1 && len(as.Lhs) > 1 {
		call, ok := as.Rhs[0].(*ast.CallExpr)
		if !ok {
			return nil, false // v, ok := m[k], x.(T), <-ch
		}
		ft, ok := ty.funcOf(call)
		if !ok || ft.NumOut() != len(as.Lhs) {
			return nil, false
		}
		out := make([]reflect.Type, ft.NumOut())
		for i := range out {
			out[i] = ft.Out(i)
		}
		return out, true
	}
	if len(as.Rhs) != len(as.Lhs) {
		return nil, false
	}
	out := make([]reflect.Type, len(as.Rhs))
	for i, x := range as.Rhs {
		t, ok := ty.typeOf(x)
		if !ok {
			return nil, false
		}
		out[i] = t
	}
	return out, true
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
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && (id.Name == "len" || id.Name == "cap") && ty.isBuiltin(id.Name) {
			return reflect.TypeFor[int](), true
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
