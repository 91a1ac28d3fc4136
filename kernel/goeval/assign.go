package goeval

import (
	"fmt"
	"go/ast"
	"go/token"
	"reflect"
	"strings"
)

// yaegi v0.16.1 compiles an assignment whose count of variables differs
// from the count of values the call on its right returns (n :=
// display.Input("x"), which returns a string and an error): it then
// fails at run time with a reflect panic ("reflect.Set: value of type
// error is not assignable to type func(string) (string, error)"), or an
// index out of range for n = f(), or not at all until the variable is
// used, inside a function. assignMismatch reports Go's compile error
// instead, wherever the cell makes such an assignment to a call whose
// results the parse and the session's tables tell: a compiled package's
// function, a method of a global of a compiled type, a function the
// session declared, a function literal.

// assignMismatch returns the error of the first assignment in prs (the
// runs of cell c) with a count of variables that the call it assigns
// does not return, nil when there is none.
func (s *Session) assignMismatch(st *state, c *cellCode, prs []*parsedRun) error {
	// A name the cell declares is not what the session's tables say (a
	// function redefined with other results).
	own := map[string]bool{}
	ownFuncs := map[string]int{} // results of the functions the cell declares
	ownGeneric := map[string]bool{}
	for _, pr := range prs {
		if pr.decl {
			for _, d := range pr.file.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
					ownFuncs[fd.Name.Name] = fieldCount(fd.Type.Results)
					if fd.Type.TypeParams != nil {
						ownGeneric[fd.Name.Name] = true
					}
				}
			}
		}
		if !pr.decl {
			for n := range definedByStmts(pr.stmts) {
				own[n] = true
			}
			continue
		}
		names, _ := declaredNames(pr, nil)
		for n := range names {
			own[n] = true
		}
		for _, d := range pr.file.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
				for _, sp := range g.Specs {
					own[sp.(*ast.TypeSpec).Name.Name] = true
				}
			}
		}
	}
	for _, pr := range prs {
		var err error
		ast.Inspect(pr.file, func(n ast.Node) bool {
			if err != nil {
				return false
			}
			var vars int
			var rhs []ast.Expr
			switch x := n.(type) {
			case *ast.AssignStmt:
				if x.Tok != token.DEFINE && x.Tok != token.ASSIGN {
					return true
				}
				vars, rhs = len(x.Lhs), x.Rhs
			case *ast.ValueSpec:
				vars, rhs = len(x.Names), x.Values
			default:
				return true
			}
			if len(rhs) != 1 {
				return true
			}
			call, ok := ast.Unparen(rhs[0]).(*ast.CallExpr)
			if !ok {
				return true
			}
			results, ok := 0, false
			if id, isIdent := ast.Unparen(call.Fun).(*ast.Ident); isIdent && (id.Obj == nil || id.Obj.Kind == ast.Fun) {
				// A function the cell declares (maybe below): its own
				// results, not the session's earlier definition.
				results, ok = ownFuncs[id.Name]
			} else if id, isIdent := indexed(call.Fun).(*ast.Ident); isIdent && ownGeneric[id.Name] && (id.Obj == nil || id.Obj.Kind == ast.Fun) {
				results, ok = ownFuncs[id.Name] // f[int] of a generic f
			}
			if !ok && own[rootName(call.Fun)] {
				return true
			}
			if !ok {
				results, ok = s.callResults(st, c, pr, call)
			}
			if !ok || results == 0 || results == vars {
				return true
			}
			fun := c.written(pr.off(call.Fun.Pos()), pr.off(call.Fun.End()))
			err = s.errorAt(c, "CompileError", fmt.Sprintf("assignment mismatch: %s but %s returns %s", count(vars, "variable"), fun, count(results, "value")), pr.off(call.Pos()))
			return false
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// callResults returns how many values call returns, when known.
func (s *Session) callResults(st *state, c *cellCode, pr *parsedRun, call *ast.CallExpr) (int, bool) {
	if n, ok := s.resultCount(st, call); ok {
		return n, true
	}
	// A method of a global whose type is compiled: x.Method(...), or a
	// global holding a function: f(...), where x and f are the session's
	// (the parse resolves names of the cell's own scopes).
	var sel *ast.SelectorExpr
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.SelectorExpr:
		if id, ok := f.X.(*ast.Ident); !ok || id.Obj != nil {
			return 0, false
		}
		sel = f
	case *ast.Ident:
		if f.Obj != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	s.meta.RLock()
	defer s.meta.RUnlock()
	ty := newTyper(s, st, c, pr)
	var recv reflect.Type
	if sel != nil {
		// Only a compiled named type's methods are what reflection
		// says: a type a cell declares (reflect.StructOf for yaegi)
		// shows the methods of the compiled types it embeds, not its
		// own, which hide them (W2{*bytes.Buffer} with its own Write).
		t, ok := ty.typeOf(sel.X)
		if !ok || !namedCompiled(t) {
			return 0, false
		}
		recv = t
	}
	if t, ok := ty.funcOf(call); ok {
		return t.NumOut(), true
	}
	// A method of the pointer: the variable is addressable.
	if recv != nil && recv.Kind() != reflect.Pointer && recv.Kind() != reflect.Interface {
		if m, ok := reflect.PointerTo(recv).MethodByName(sel.Sel.Name); ok {
			return m.Type.NumOut(), true
		}
	}
	return 0, false
}

// namedCompiled reports whether t, or what it points to, is a named type
// of a compiled package (not one the interpreter built for a cell).
func namedCompiled(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer && t.Name() == "" {
		t = t.Elem()
	}
	return t.Name() != "" && t.PkgPath() != "" && !strings.Contains(t.PkgPath(), "yaegi")
}

// rootName returns the name x starts with: f for f, fmt for fmt.Println,
// x for x.M.
func rootName(x ast.Expr) string {
	for {
		switch e := x.(type) {
		case *ast.Ident:
			return e.Name
		case *ast.SelectorExpr:
			x = e.X
		case *ast.ParenExpr:
			x = e.X
		default:
			return ""
		}
	}
}

// count says n things: "1 variable", "2 variables".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
