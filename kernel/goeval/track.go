package goeval

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// blanked reports whether the node starting at pos was blanked out.
func blanked(pr *parsedRun, pos token.Pos, blanks []span) bool {
	off := pr.off(pos)
	for _, b := range blanks {
		if off >= b.start && off < b.end {
			return true
		}
	}
	return false
}

// recvName is the type name of a method's receiver.
func recvName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return ""
	}
	return typeName(fd.Recv.List[0].Type)
}

// typeName is the name of the type e spells, without pointers, type
// arguments or package: T for *T, T[int] and pkg.T; "" for a type
// literal.
func typeName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.SelectorExpr:
			return x.Sel.Name
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// declaresTypes reports whether a declaration run declares types or
// methods or imports packages (not blanked out).
func declaresTypes(pr *parsedRun, blanks []span) bool {
	for _, d := range pr.file.Decls {
		if blanked(pr, d.Pos(), blanks) {
			continue
		}
		switch d := d.(type) {
		case *ast.GenDecl:
			if d.Tok == token.TYPE || d.Tok == token.IMPORT {
				for _, sp := range d.Specs {
					if !blanked(pr, sp.Pos(), blanks) {
						return true
					}
				}
			}
		case *ast.FuncDecl:
			if d.Recv != nil {
				return true
			}
		}
	}
	return false
}

// declaredNames returns the functions, variables and constants a
// declaration run declares (name -> kind) and the set of its functions.
func declaredNames(pr *parsedRun, blanks []span) (map[string]string, map[string]bool) {
	names, funcs := map[string]string{}, map[string]bool{}
	for _, d := range pr.file.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			if d.Tok != token.VAR && d.Tok != token.CONST {
				continue
			}
			for _, sp := range d.Specs {
				for _, id := range sp.(*ast.ValueSpec).Names {
					if id.Name != "_" {
						names[id.Name] = d.Tok.String()
					}
				}
			}
		case *ast.FuncDecl:
			if d.Recv == nil && !blanked(pr, d.Pos(), blanks) {
				names[d.Name.Name] = "func"
				funcs[d.Name.Name] = true
			}
		}
	}
	return names, funcs
}

// definedIdents returns the identifiers a statement list defines at its
// top level with :=, which yaegi makes global.
func definedIdents(stmts []ast.Stmt) []*ast.Ident {
	var ids []*ast.Ident
	for _, st := range stmts {
		if as, ok := st.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
			for _, l := range as.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
					ids = append(ids, id)
				}
			}
		}
	}
	return ids
}

func definedByStmts(stmts []ast.Stmt) map[string]string {
	m := map[string]string{}
	for _, id := range definedIdents(stmts) {
		m[id.Name] = "var"
	}
	return m
}

// globalKind says what the session declared as name, or "".
func globalKind(st *state, name string) string {
	switch {
	case st.funcs[name] != nil:
		return "function"
	case st.types[name] != nil:
		return "type"
	case st.vars[name] != nil:
		if st.vars[name].kind == "const" {
			return "constant"
		}
		return "variable"
	}
	return ""
}

// prepareDecls checks a declaration run against the session and returns
// the parts to leave out: imports the session already has and identical
// redefinitions of types and methods (yaegi ignores the former and
// rejects the latter).
func (s *Session) prepareDecls(st *state, c *cellCode, pr *parsedRun) ([]span, error) {
	s.meta.RLock()
	defer s.meta.RUnlock()
	var blanks []span
	pending := map[string]string{} // imports of this run
	blankSpec := func(d *ast.GenDecl, sp ast.Spec) {
		if d.Lparen.IsValid() {
			blanks = append(blanks, span{start: pr.off(sp.Pos()), end: pr.off(sp.End())})
		} else {
			blanks = append(blanks, span{start: pr.off(d.Pos()), end: pr.off(d.End())})
		}
	}
	errAt := func(name, msg string, pos token.Pos) error {
		return s.errorAt(c, name, msg, pr.off(pos))
	}
	shadows := func(id *ast.Ident) error {
		if p, ok := st.imports[id.Name]; ok {
			return errAt("CompileError", fmt.Sprintf("%s is already the name of the imported package %q; choose another name", id.Name, p), id.Pos())
		}
		if p, ok := pending[id.Name]; ok {
			return errAt("CompileError", fmt.Sprintf("%s is already the name of the imported package %q; choose another name", id.Name, p), id.Pos())
		}
		return nil
	}
	for _, d := range pr.file.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.ImportSpec:
					path, err := strconv.Unquote(sp.Path.Value)
					if err != nil {
						return nil, errAt("ImportError", "bad import path "+sp.Path.Value, sp.Pos())
					}
					pkg, ok := s.pkgs[path]
					if !ok {
						return nil, errAt("ImportError", s.notAvailable(path), sp.Path.Pos())
					}
					local := pkg
					if sp.Name != nil {
						local = sp.Name.Name
					}
					switch local {
					case "_":
						blankSpec(d, sp) // compiled packages have no init of their own to run
						continue
					case ".":
						continue
					}
					prev, ok := st.imports[local]
					if !ok {
						prev, ok = pending[local]
					}
					if ok {
						if prev == path {
							blankSpec(d, sp) // already imported
							continue
						}
						return nil, errAt("ImportError", fmt.Sprintf("%s is already imported as %q; import %q under another name, for example: import %s %q",
							local, prev, path, altName(local, path), path), sp.Pos())
					}
					if k := globalKind(st, local); k != "" {
						return nil, errAt("ImportError", fmt.Sprintf("cannot import %q as %s: the session has a %s named %s; import it under another name or %%reset", path, local, k, local), sp.Pos())
					}
					pending[local] = path
				case *ast.TypeSpec:
					if err := shadows(sp.Name); err != nil {
						return nil, err
					}
					prev := st.types[sp.Name.Name]
					if prev == nil {
						continue
					}
					text := c.src[pr.off(sp.Pos()):pr.off(sp.End())]
					if normTokens(text) == prev.norm {
						blankSpec(d, sp) // identical: nothing to do
						continue
					}
					return nil, errAt("RedefinitionError", fmt.Sprintf("type %s is already defined as %s; yaegi cannot redefine a type: %%reset (then re-run the cells) or give the new type another name",
						sp.Name.Name, oneLine(prev.src)), sp.Pos())
				case *ast.ValueSpec:
					redecl := map[string]bool{}
					for _, id := range sp.Names {
						if err := shadows(id); err != nil {
							return nil, err
						}
						if st.vars[id.Name] != nil {
							redecl[id.Name] = true
						}
					}
					var self *ast.Ident
					for _, v := range sp.Values {
						ast.Inspect(v, func(n ast.Node) bool {
							if id, ok := n.(*ast.Ident); ok && redecl[id.Name] && self == nil {
								self = id
							}
							return self == nil
						})
					}
					if self != nil {
						n := self.Name
						return nil, errAt("Unsupported", fmt.Sprintf("this declaration of %s reads %s itself: yaegi would read the new, zero %s; write %s = ... to update it, or %s := ...", n, n, n, n, n), self.Pos())
					}
				}
			}
		case *ast.FuncDecl:
			if d.Recv == nil {
				if err := shadows(d.Name); err != nil {
					return nil, err
				}
				continue
			}
			key := recvName(d) + "." + d.Name.Name
			prev := st.methods[key]
			if prev == nil {
				continue
			}
			if normTokens(c.src[pr.off(d.Pos()):pr.off(d.End())]) == prev.norm {
				blanks = append(blanks, span{start: pr.off(d.Pos()), end: pr.off(d.End())})
				continue
			}
			return nil, errAt("RedefinitionError", fmt.Sprintf("method %s is already defined; yaegi keeps the first definition of a method: %%reset (then re-run the cells) or give the method another name", key), d.Pos())
		}
	}
	return blanks, nil
}

// altName suggests a local name for a second package named local.
func altName(local, path string) string {
	parts := strings.Split(path, "/")
	if len(parts) > 1 {
		if p := parts[len(parts)-2]; p != "" && token.IsIdentifier(p) && !strings.Contains(p, ".") {
			return p + local
		}
	}
	return local + "2"
}

// notAvailable explains that path cannot be imported.
func (s *Session) notAvailable(path string) string {
	msg := fmt.Sprintf("package %q is not available: this kernel runs cells with an interpreter that can import only the %d compiled packages it ships (it cannot download or compile others; %%packages lists them)", path, len(s.pkgs))
	base := path[strings.LastIndex(path, "/")+1:]
	var near []string
	for _, p := range s.importable() {
		if s.pkgs[p] == base || strings.HasSuffix(p, "/"+base) {
			near = append(near, strconv.Quote(p))
		}
	}
	if len(near) > 0 && len(near) <= 5 {
		msg += "; did you mean " + strings.Join(near, " or ") + "?"
	}
	return msg
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// checkShadowing rejects top-level := of a name that is an imported
// package: yaegi would let the variable hide the package silently.
func (s *Session) checkShadowing(st *state, c *cellCode, pr *parsedRun, stmts []ast.Stmt) error {
	s.meta.RLock()
	defer s.meta.RUnlock()
	for _, id := range definedIdents(stmts) {
		if p, ok := st.imports[id.Name]; ok {
			return s.errorAt(c, "CompileError", fmt.Sprintf("%s is already the name of the imported package %q; choose another name", id.Name, p), pr.off(id.Pos()))
		}
	}
	return nil
}

// trackDecls records what a declaration run declared.
func (s *Session) trackDecls(st *state, c *cellCode, pr *parsedRun, blanks []span) {
	s.meta.Lock()
	defer s.meta.Unlock()
	st.declGen++
	// Classes are set once the run's types are all known.
	var classify []func()
	defer func() {
		for _, f := range classify {
			f()
		}
	}()
	info := func(name, kind string, from, to token.Pos, doc *ast.CommentGroup) *declInfo {
		start, end := pr.off(from), pr.off(to)
		if start < pr.start {
			start = pr.start // the doc comment was our //line directive
		}
		line, col := c.pos(start)
		d := &declInfo{name: name, kind: kind, src: c.written(start, end), cell: c.n, line: line, col: col}
		if doc != nil {
			d.doc = doc.Text()
		}
		return d
	}
	for _, d := range pr.file.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				if blanked(pr, sp.Pos(), blanks) {
					continue
				}
				switch sp := sp.(type) {
				case *ast.ImportSpec:
					path, _ := strconv.Unquote(sp.Path.Value)
					local := s.pkgs[path]
					if sp.Name != nil {
						local = sp.Name.Name
					}
					switch local {
					case "_":
					case ".":
						st.dots = append(st.dots, path)
					default:
						st.imports[local] = path
					}
				case *ast.TypeSpec:
					doc := sp.Doc
					if doc == nil && !d.Lparen.IsValid() {
						doc = d.Doc
					}
					from := sp.Pos()
					if !d.Lparen.IsValid() {
						from = d.Pos()
					}
					di := info(sp.Name.Name, "type", from, sp.End(), doc)
					di.norm = normTokens(c.src[pr.off(sp.Pos()):pr.off(sp.End())])
					di.generic = sp.TypeParams != nil && len(sp.TypeParams.List) > 0
					if str, ok := sp.Type.(*ast.StructType); ok {
						di.embeds = embeds(str)
					}
					_, di.iface = sp.Type.(*ast.InterfaceType)
					st.types[sp.Name.Name] = di
				case *ast.ValueSpec:
					doc := sp.Doc
					if doc == nil && !d.Lparen.IsValid() {
						doc = d.Doc
					}
					from := sp.Pos()
					if !d.Lparen.IsValid() {
						from = d.Pos()
					}
					for i, id := range sp.Names {
						if id.Name == "_" {
							continue
						}
						di := info(id.Name, d.Tok.String(), from, sp.End(), doc)
						if sp.Type != nil {
							di.typ = c.src[pr.off(sp.Type.Pos()):pr.off(sp.Type.End())]
						}
						classify = append(classify, func() {
							switch {
							case sp.Type != nil:
								di.class = s.typeClass(st, sp.Type, 0)
							case len(sp.Values) == len(sp.Names):
								di.class = s.exprClass(st, sp.Values[i], 0)
							}
						})
						st.vars[id.Name] = di
						delete(st.funcs, id.Name)
					}
				}
			}
		case *ast.FuncDecl:
			if blanked(pr, d.Pos(), blanks) {
				continue
			}
			from := d.Pos()
			if d.Doc != nil {
				from = d.Doc.Pos()
			}
			kind := "func"
			if d.Recv != nil {
				kind = "method"
			}
			di := info(d.Name.Name, kind, from, d.End(), d.Doc)
			di.norm = normTokens(c.src[pr.off(d.Pos()):pr.off(d.End())])
			di.results = fieldCount(d.Type.Results)
			di.generic = d.Type.TypeParams != nil
			if d.Recv == nil && d.Type.TypeParams == nil {
				classify = append(classify, func() { di.class = s.resultsClass(st, d.Type.Results, 0) })
			}
			di.refs = map[string]bool{}
			ast.Inspect(d, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok {
					di.refs[id.Name] = true
				}
				return true
			})
			if d.Recv == nil {
				st.funcs[d.Name.Name] = di
				delete(st.vars, d.Name.Name)
			} else {
				st.methods[recvName(d)+"."+d.Name.Name] = di
			}
		}
	}
}

// trackStmts records the variables a statement run defined with :=.
func (s *Session) trackStmts(st *state, c *cellCode, pr *parsedRun, stmts []ast.Stmt) {
	s.meta.Lock()
	defer s.meta.Unlock()
	for _, stmt := range stmts {
		as, ok := stmt.(*ast.AssignStmt)
		if !ok || as.Tok != token.DEFINE {
			continue
		}
		start, end := pr.off(as.Pos()), pr.off(as.End())
		line, col := c.pos(start)
		// Classified before any of them changes (x, y := y, x).
		classes := make([]class, len(as.Lhs))
		if len(as.Rhs) == len(as.Lhs) {
			for i, r := range as.Rhs {
				classes[i] = s.exprClass(st, r, 0)
			}
		}
		for i, l := range as.Lhs {
			if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
				st.vars[id.Name] = &declInfo{name: id.Name, kind: "var", src: c.written(start, end), cell: c.n, line: line, col: col, class: classes[i]}
				delete(st.funcs, id.Name)
			}
		}
	}
}

// checkCell rejects, before anything runs, code that yaegi mishandles
// badly: a top-level defer or func main (both would run again after every
// later cell) and range over an int or a function (a crash in yaegi).
func (s *Session) checkCell(st *state, c *cellCode, prs []*parsedRun) error {
	for _, pr := range prs {
		if pr.decl {
			for _, d := range pr.file.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" {
					return s.errorAt(c, "Unsupported", "func main cannot be declared in a cell: yaegi would run it after every later cell; give it another name and call it", pr.off(fd.Name.Pos()))
				}
			}
		} else {
			for _, stmt := range pr.stmts {
				if ds, ok := stmt.(*ast.DeferStmt); ok {
					return s.errorAt(c, "Unsupported", "defer at the top level of a cell is not supported: yaegi would run it again after every later cell; put the code in a function, e.g. func() { defer ...; ... }()", pr.off(ds.Pos()))
				}
			}
		}
		var err error
		ast.Inspect(pr.file, func(n ast.Node) bool {
			if err != nil {
				return false
			}
			if rs, ok := n.(*ast.RangeStmt); ok && rs.X != nil {
				switch s.exprKind(st, rs.X, 0) {
				case "int":
					err = s.errorAt(c, "Unsupported", rangeIntMsg(c, pr, rs), pr.off(rs.X.Pos()))
				case "func":
					err = s.errorAt(c, "Unsupported", rangeFuncMsg, pr.off(rs.X.Pos()))
				}
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	return s.assignMismatch(st, c, prs)
}

const (
	rangeFuncMsg = "yaegi (Go <= 1.22 semantics) cannot range over a function (iterators came with Go 1.23); call the function with a yield callback instead, e.g. seq(func(v T) bool { ...; return true })"
)

// rangeIntMsg says why the range over an integer rs, which the kernel
// did not rewrite (see rangeInts), is refused.
func rangeIntMsg(c *cellCode, pr *parsedRun, rs *ast.RangeStmt) string {
	n := c.written(pr.off(rs.X.Pos()), pr.off(rs.X.End()))
	if strings.Contains(n, "\n") {
		n = "n"
	}
	line := func(o int) int { l, _ := c.pos(o); return l }
	const head = "yaegi (Go <= 1.22 semantics) cannot range over an int, and the kernel rewrites for i := range n into a three-clause loop only "
	switch {
	case rs.Value != nil:
		return "a range over an integer permits only one iteration variable"
	case rs.Key != nil && rs.Tok == token.ASSIGN:
		return head + "when the loop defines its variable (for i := range " + n + ", not for i = range " + n + "); use for i = 0; i < " + n + "; i++"
	case line(pr.off(rs.For)) != line(pr.off(rs.X.Pos())):
		return head + "when for and " + n + " are on one line"
	}
	return head + "when it can tell n's integer type, and it cannot tell the type of " + n + " (it knows integer literals and constant expressions, len, conversions, integer results of compiled packages' functions, the cells' constants, and variables of integer types that are not types a cell declares); write range int(" + n + ") or for i := 0; i < " + n + "; i++"
}

var intKinds = map[reflect.Kind]bool{
	reflect.Int: true, reflect.Int8: true, reflect.Int16: true, reflect.Int32: true, reflect.Int64: true,
	reflect.Uint: true, reflect.Uint8: true, reflect.Uint16: true, reflect.Uint32: true, reflect.Uint64: true, reflect.Uintptr: true,
}

var intTypeNames = map[string]bool{
	"int": true, "int8": true, "int16": true, "int32": true, "int64": true, "rune": true, "byte": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true, "uintptr": true,
}

// exprKind is a best-effort static guess at whether x is an integer
// ("int") or a function ("func"); "" when it cannot tell. It follows the
// parser's resolution of local names and the session's globals.
func (s *Session) exprKind(st *state, x ast.Expr, depth int) string {
	if depth > 8 {
		return ""
	}
	switch x := x.(type) {
	case *ast.BasicLit:
		if x.Kind == token.INT || x.Kind == token.CHAR {
			return "int"
		}
	case *ast.ParenExpr:
		return s.exprKind(st, x.X, depth+1)
	case *ast.UnaryExpr:
		if x.Op == token.SUB || x.Op == token.ADD || x.Op == token.XOR {
			return s.exprKind(st, x.X, depth+1)
		}
	case *ast.BinaryExpr:
		switch x.Op {
		case token.ADD, token.SUB, token.MUL, token.QUO, token.REM, token.AND, token.OR, token.XOR, token.AND_NOT:
			if k := s.exprKind(st, x.X, depth+1); k == "int" {
				return k
			}
			if k := s.exprKind(st, x.Y, depth+1); k == "int" {
				return k
			}
		case token.SHL, token.SHR:
			return s.exprKind(st, x.X, depth+1)
		}
	case *ast.FuncLit:
		return "func"
	case *ast.CallExpr:
		switch f := ast.Unparen(x.Fun).(type) {
		case *ast.Ident:
			if f.Obj == nil {
				if intTypeNames[f.Name] || f.Name == "len" || f.Name == "cap" {
					if st.funcs[f.Name] == nil && st.vars[f.Name] == nil && st.types[f.Name] == nil {
						return "int"
					}
				}
				s.meta.RLock()
				d := st.funcs[f.Name]
				s.meta.RUnlock()
				if d != nil {
					return resultKind(d.src)
				}
				return ""
			}
			if fd, ok := f.Obj.Decl.(*ast.FuncDecl); ok && fd.Type.Results != nil && len(fd.Type.Results.List) == 1 {
				return typeKind(fd.Type.Results.List[0].Type)
			}
		case *ast.SelectorExpr:
			if v, ok := s.pkgMember(st, f); ok && v.Kind() == reflect.Func && v.Type().NumOut() == 1 {
				return reflectKind(v.Type().Out(0))
			}
		}
	case *ast.SelectorExpr:
		if v, ok := s.pkgMember(st, x); ok {
			if cv, ok := v.Interface().(constant.Value); ok {
				if cv.Kind() == constant.Int {
					return "int"
				}
				return ""
			}
			if v.Kind() == reflect.Func {
				return "func"
			}
			return reflectKind(v.Type())
		}
	case *ast.Ident:
		if x.Obj != nil {
			switch d := x.Obj.Decl.(type) {
			case *ast.AssignStmt:
				for i, l := range d.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name == x.Name && len(d.Rhs) == len(d.Lhs) {
						return s.exprKind(st, d.Rhs[i], depth+1)
					}
				}
			case *ast.ValueSpec:
				if d.Type != nil {
					return typeKind(d.Type)
				}
				for i, id := range d.Names {
					if id.Name == x.Name && i < len(d.Values) {
						return s.exprKind(st, d.Values[i], depth+1)
					}
				}
			case *ast.Field:
				return typeKind(d.Type)
			case *ast.FuncDecl:
				return "func"
			}
			return ""
		}
		s.meta.RLock()
		_, isFunc := st.funcs[x.Name]
		_, isVar := st.vars[x.Name]
		s.meta.RUnlock()
		if isFunc {
			return "func"
		}
		if isVar {
			if v, ok := st.globals()[x.Name]; ok && v.IsValid() {
				if cv, ok := v.Interface().(constant.Value); ok && cv.Kind() == constant.Int {
					return "int"
				}
				return reflectKind(v.Type())
			}
		}
	}
	return ""
}

func typeKind(t ast.Expr) string {
	switch t := t.(type) {
	case *ast.Ident:
		if intTypeNames[t.Name] {
			return "int"
		}
	case *ast.FuncType:
		return "func"
	case *ast.ParenExpr:
		return typeKind(t.X)
	}
	return ""
}

func reflectKind(t reflect.Type) string {
	switch {
	case intKinds[t.Kind()]:
		return "int"
	case t.Kind() == reflect.Func:
		return "func"
	}
	return ""
}

// resultKind guesses the kind of a function's single result from its
// declaration's source.
func resultKind(src string) string {
	fs := token.NewFileSet()
	f, err := parseDeclFile(fs, src)
	if err != nil {
		return ""
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Type.Results != nil && len(fd.Type.Results.List) == 1 && len(fd.Type.Results.List[0].Names) <= 1 {
			return typeKind(fd.Type.Results.List[0].Type)
		}
	}
	return ""
}

// pkgMember resolves pkg.Name for a package the session imported.
func (s *Session) pkgMember(st *state, sel *ast.SelectorExpr) (reflect.Value, bool) {
	id, ok := sel.X.(*ast.Ident)
	if !ok || id.Obj != nil {
		return reflect.Value{}, false
	}
	s.meta.RLock()
	path, ok := st.imports[id.Name]
	s.meta.RUnlock()
	if !ok {
		return reflect.Value{}, false
	}
	v, ok := s.exported(path, sel.Sel.Name)
	if !ok || !v.IsValid() {
		return reflect.Value{}, false
	}
	return v, true
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
