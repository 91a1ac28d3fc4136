package goeval

import (
	"go/ast"
	"go/token"
	"go/types"
	"reflect"
)

// What the parse and the session's tables tell about an expression before
// yaegi compiles it, to compile a cell's result once instead of probing it.

// class is what a result's static type needs from the result hooks.
type class uint8

const (
	// unknownClass: the parse cannot tell.
	unknownClass class = iota
	// plainClass: a type no cell declared and no interface (int, []T,
	// *mat.Dense): it has no interpreted methods, the Value hook sees all.
	plainClass
	// cellClass: a type declared in a cell, or a pointer to one, or a
	// struct with embedded fields: it may have display methods.
	cellClass
	// ifaceClass: an interface type: its dynamic type decides.
	ifaceClass
)

// combine is the class of an operation on operands of classes a and b
// (the result has the type of a typed operand).
func combine(a, b class) class {
	switch {
	case a == unknownClass || b == unknownClass || a == ifaceClass || b == ifaceClass:
		return unknownClass
	case a == cellClass || b == cellClass:
		return cellClass
	}
	return plainClass
}

// pointerTo is the class of a pointer to a value of class c: a pointer to
// an interface has no methods.
func pointerTo(c class) class {
	if c == ifaceClass {
		return plainClass
	}
	return c
}

// exprClass classifies x. Called with s.meta held.
func (s *Session) exprClass(st *state, x ast.Expr, depth int) class {
	if depth > 16 {
		return unknownClass
	}
	switch x := x.(type) {
	case *ast.BasicLit, *ast.FuncLit:
		return plainClass
	case *ast.CompositeLit:
		if x.Type == nil {
			return unknownClass
		}
		return s.typeClass(st, x.Type, depth+1)
	case *ast.ParenExpr:
		return s.exprClass(st, x.X, depth+1)
	case *ast.UnaryExpr:
		switch x.Op {
		case token.AND:
			return pointerTo(s.exprClass(st, x.X, depth+1))
		case token.ARROW:
			return unknownClass
		}
		return combine(s.exprClass(st, x.X, depth+1), plainClass)
	case *ast.BinaryExpr:
		switch x.Op {
		case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
			return plainClass // untyped bool
		case token.SHL, token.SHR:
			return combine(s.exprClass(st, x.X, depth+1), plainClass)
		}
		return combine(s.exprClass(st, x.X, depth+1), s.exprClass(st, x.Y, depth+1))
	case *ast.Ident:
		if x.Obj != nil {
			return unknownClass // declared in the cell's own statements
		}
		if d := st.vars[x.Name]; d != nil {
			return d.class
		}
		if st.funcs[x.Name] != nil {
			return plainClass // a function value
		}
		if st.types[x.Name] == nil && st.imports[x.Name] == "" && len(st.dots) == 0 {
			if c, ok := types.Universe.Lookup(x.Name).(*types.Const); ok && c.Name() != "iota" {
				return plainClass // true, false
			}
		}
	case *ast.CallExpr:
		return s.callClass(st, x, depth)
	case *ast.SelectorExpr:
		// A symbol table lists a variable as an addressable value, a type
		// as a nil pointer to it, a constant as a constant.Value.
		if v, ok := s.pkgMemberLocked(st, x); ok && (v.CanAddr() || v.Kind() != reflect.Pointer || !v.IsNil()) {
			if v.Kind() == reflect.Interface && v.CanAddr() {
				return ifaceClass // a variable of interface type
			}
			return plainClass
		}
	case *ast.TypeAssertExpr:
		if x.Type != nil {
			return s.typeClass(st, x.Type, depth+1)
		}
	case *ast.SliceExpr:
		if c := s.exprClass(st, x.X, depth+1); c == plainClass || c == cellClass {
			return c // a named slice type stays itself
		}
	}
	return unknownClass
}

// callClass classifies a call: a conversion, a builtin, a function of the
// session or of a compiled package. Called with s.meta held.
func (s *Session) callClass(st *state, call *ast.CallExpr, depth int) class {
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		if f.Obj != nil {
			return unknownClass
		}
		if d := st.funcs[f.Name]; d != nil {
			return d.class
		}
		if st.types[f.Name] != nil {
			return s.typeClass(st, f, depth+1) // a conversion
		}
		if st.vars[f.Name] != nil || st.imports[f.Name] != "" || len(st.dots) > 0 {
			return unknownClass
		}
		switch obj := types.Universe.Lookup(f.Name).(type) {
		case *types.TypeName:
			return s.typeClass(st, f, depth+1)
		case *types.Builtin:
			switch obj.Name() {
			case "len", "cap", "real", "imag", "complex":
				return plainClass
			case "append":
				if len(call.Args) > 0 {
					return s.exprClass(st, call.Args[0], depth+1)
				}
			case "make":
				if len(call.Args) > 0 {
					return s.typeClass(st, call.Args[0], depth+1)
				}
			case "new":
				if len(call.Args) > 0 {
					return pointerTo(s.typeClass(st, call.Args[0], depth+1))
				}
			case "min", "max":
				c := plainClass
				for _, a := range call.Args {
					c = combine(c, s.exprClass(st, a, depth+1))
				}
				return c
			case "recover":
				return ifaceClass
			}
		}
	case *ast.SelectorExpr:
		if v, ok := s.pkgMemberLocked(st, f); ok {
			if v.Kind() == reflect.Func {
				if v.Type().NumOut() == 1 && v.Type().Out(0).Kind() == reflect.Interface {
					return ifaceClass
				}
				return plainClass
			}
			return s.typeClass(st, f, depth+1) // a conversion
		}
	case *ast.FuncLit:
		return s.resultsClass(st, f.Type.Results, depth+1)
	case *ast.ArrayType, *ast.MapType, *ast.ChanType, *ast.FuncType, *ast.InterfaceType, *ast.StructType, *ast.StarExpr:
		return s.typeClass(st, f, depth+1) // a conversion
	}
	return unknownClass
}

// resultsClass classifies the single result of a function type.
func (s *Session) resultsClass(st *state, l *ast.FieldList, depth int) class {
	if fieldCount(l) != 1 {
		return unknownClass
	}
	return s.typeClass(st, l.List[0].Type, depth)
}

// typeClass classifies the values of type t. Called with s.meta held.
func (s *Session) typeClass(st *state, t ast.Expr, depth int) class {
	if depth > 16 {
		return unknownClass
	}
	switch t := t.(type) {
	case *ast.Ident:
		if d := st.types[t.Name]; d != nil {
			switch {
			case d.generic:
				return unknownClass
			case d.iface:
				return ifaceClass
			}
			return cellClass
		}
		if st.vars[t.Name] != nil || st.funcs[t.Name] != nil || len(st.dots) > 0 {
			return unknownClass
		}
		if tn, ok := types.Universe.Lookup(t.Name).(*types.TypeName); ok {
			if types.IsInterface(tn.Type()) {
				return ifaceClass // any, error, comparable
			}
			return plainClass
		}
	case *ast.ParenExpr:
		return s.typeClass(st, t.X, depth+1)
	case *ast.StarExpr:
		return pointerTo(s.typeClass(st, t.X, depth+1))
	case *ast.SelectorExpr:
		if v, ok := s.pkgMemberLocked(st, t); ok && v.Kind() == reflect.Pointer && v.IsNil() && !v.CanAddr() {
			// A compiled type is listed as a nil pointer to it.
			if v.Type().Elem().Kind() == reflect.Interface {
				return ifaceClass
			}
			return plainClass
		}
	case *ast.ArrayType, *ast.MapType, *ast.ChanType, *ast.FuncType:
		return plainClass
	case *ast.InterfaceType:
		return ifaceClass
	case *ast.StructType:
		if embeds(t) {
			return cellClass
		}
		return plainClass
	}
	return unknownClass
}

// embeds reports whether a struct type has embedded fields.
func embeds(t *ast.StructType) bool {
	if t.Fields == nil {
		return false
	}
	for _, f := range t.Fields.List {
		if len(f.Names) == 0 {
			return true
		}
	}
	return false
}

// pkgMemberLocked is pkgMember with s.meta held.
func (s *Session) pkgMemberLocked(st *state, sel *ast.SelectorExpr) (reflect.Value, bool) {
	id, ok := sel.X.(*ast.Ident)
	if !ok || id.Obj != nil {
		return reflect.Value{}, false
	}
	path, ok := st.imports[id.Name]
	if !ok {
		return reflect.Value{}, false
	}
	v, ok := s.exported(path, sel.Sel.Name)
	if !ok || !v.IsValid() {
		return reflect.Value{}, false
	}
	return v, true
}

// resultCount returns how many values call returns when the parse and
// the session's tables tell (ok false when they do not).
func (s *Session) resultCount(st *state, call *ast.CallExpr) (n int, ok bool) {
	s.meta.RLock()
	defer s.meta.RUnlock()
	if id, isIdent := indexed(call.Fun).(*ast.Ident); isIdent && id != ast.Unparen(call.Fun) && id.Obj == nil {
		// An instantiation of the session's generic function, f[int].
		if d := st.funcs[id.Name]; d != nil && d.generic {
			return d.results, true
		}
		return 0, false
	}
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		if f.Obj != nil {
			return 0, false
		}
		switch {
		case st.funcs[f.Name] != nil:
			d := st.funcs[f.Name]
			return d.results, true
		case st.types[f.Name] != nil:
			return 1, true // a conversion
		case st.vars[f.Name] != nil || st.imports[f.Name] != "" || len(st.dots) > 0:
			return 0, false
		}
		switch obj := types.Universe.Lookup(f.Name).(type) {
		case *types.TypeName:
			return 1, true
		case *types.Builtin:
			if valueBuiltins[obj.Name()] {
				return 1, true
			}
		}
	case *ast.SelectorExpr:
		if v, ok := s.pkgMemberLocked(st, f); ok {
			if v.Kind() == reflect.Func {
				return v.Type().NumOut(), true
			}
			return 1, true // a conversion to a compiled type
		}
	case *ast.FuncLit:
		return fieldCount(f.Type.Results), true
	case *ast.ArrayType, *ast.MapType, *ast.ChanType, *ast.FuncType, *ast.InterfaceType, *ast.StructType:
		return 1, true
	}
	return 0, false
}

// valueBuiltins are the builtins with exactly one result.
var valueBuiltins = map[string]bool{
	"append": true, "cap": true, "complex": true, "imag": true, "len": true, "make": true,
	"max": true, "min": true, "new": true, "real": true, "recover": true,
}

// fieldCount returns the number of entries of a parameter or result list.
func fieldCount(l *ast.FieldList) int {
	if l == nil {
		return 0
	}
	n := 0
	for _, f := range l.List {
		n += max(1, len(f.Names))
	}
	return n
}
