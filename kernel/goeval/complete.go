package goeval

import (
	"github.com/gopherlab/gopherlab/internal/gocell"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/scanner"
	"go/token"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gopherlab/gopherlab/kernel/symbols"
)

// Jupyter positions are in Unicode code points (protocol 5.2+).

func runeToByte(s string, cursor int) int {
	if cursor <= 0 {
		return 0
	}
	i := 0
	for n := 0; i < len(s) && n < cursor; n++ {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return i
}

func byteToRune(s string, off int) int {
	if off > len(s) {
		off = len(s)
	}
	return utf8.RuneCountInString(s[:off])
}

var keywords = []string{
	"break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough",
	"for", "func", "go", "goto", "if", "import", "interface", "map", "package", "range",
	"return", "select", "struct", "switch", "type", "var",
}

// exprKeywords are the keywords an expression may start with.
var exprKeywords = map[string]bool{"chan": true, "func": true, "interface": true, "map": true, "struct": true}

// insideParens reports whether offset at is inside parentheses or
// brackets opened before it (a call's arguments, an index): where only
// an expression goes. A function literal's braces there start
// statements again.
func insideParens(code string, at int) bool {
	i := openBracket(code, at)
	return i >= 0 && code[i] != '{'
}

// openBracket returns the offset of the innermost bracket ((, [ or {)
// still open before offset at, or -1.
func openBracket(code string, at int) int {
	depth := 0
	for i := at - 1; i >= 0; i-- {
		switch code[i] {
		case ')', ']', '}':
			depth++
		case '(', '[', '{':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

// builtinDocs documents Go's predeclared functions (and yaegi has them all
// but min, max and clear, which came with Go 1.21 and are missing).
var builtinDocs = map[string]string{
	"append":  "func append(slice []Type, elems ...Type) []Type\n\nappend appends elements to the end of a slice and returns the updated slice.",
	"cap":     "func cap(v Type) int\n\ncap returns the capacity of v (array, slice or channel).",
	"close":   "func close(c chan<- Type)\n\nclose closes a channel; receives still drain buffered values.",
	"complex": "func complex(r, i FloatType) ComplexType\n\ncomplex builds a complex value from two floating-point values.",
	"copy":    "func copy(dst, src []Type) int\n\ncopy copies elements from src to dst and returns how many it copied.",
	"delete":  "func delete(m map[Type]Type1, key Type)\n\ndelete removes the element with the given key from the map.",
	"imag":    "func imag(c ComplexType) FloatType\n\nimag returns the imaginary part of c.",
	"len":     "func len(v Type) int\n\nlen returns the length of v (string, array, slice, map or channel).",
	"make":    "func make(t Type, size ...IntegerType) Type\n\nmake allocates and initializes a slice, map or channel.",
	"new":     "func new(Type) *Type\n\nnew allocates a zero value of the type and returns a pointer to it.",
	"panic":   "func panic(v any)\n\npanic stops normal execution; in a cell it becomes the cell's error.",
	"print":   "func print(args ...Type)\n\nprint writes its arguments to the cell's output (no spaces added).",
	"println": "func println(args ...Type)\n\nprintln writes its arguments to the cell's output, separated by spaces, with a newline.",
	"real":    "func real(c ComplexType) FloatType\n\nreal returns the real part of c.",
	"recover": "func recover() any\n\nrecover, called in a deferred function, stops a panic and returns its value.",
}

var builtinTypes = []string{
	"any", "bool", "byte", "complex128", "complex64", "error", "float32", "float64", "int", "int16",
	"int32", "int64", "int8", "rune", "string", "uint", "uint16", "uint32", "uint64", "uint8", "uintptr",
}

var builtinConsts = []string{"false", "iota", "nil", "true"}

// candidate is one completion with its metadata.
type candidate struct {
	text, kind, sig string
}

// Complete returns the completions of the identifier (or import path)
// before cursor, which is in code points like the replacement range
// start:end. meta holds IPython's "_jupyter_types_experimental" (text,
// type and signature of each match).
func (s *Session) Complete(code string, cursor int) (matches []string, start, end int, meta map[string]any) {
	defer func() {
		if recover() != nil {
			matches, start, end, meta = []string{}, cursor, cursor, map[string]any{}
		}
	}()
	return s.complete(code, cursor)
}

func (s *Session) complete(code string, cursor int) (matches []string, start, end int, meta map[string]any) {
	off := runeToByte(code, cursor)
	if off > len(code) {
		off = len(code)
	}
	st := s.current()
	var cands []candidate
	from := off
	if prefix, ok := importPathPrefix(code, off); ok {
		from = off - len(prefix)
		for _, p := range s.importable() {
			if strings.HasPrefix(p, prefix) {
				cands = append(cands, candidate{p, "module", ""})
			}
		}
	} else {
		ws := off
		for ws > 0 {
			r, w := utf8.DecodeLastRuneInString(code[:ws])
			if !isIdentRune(r) {
				break
			}
			ws -= w
		}
		from = ws
		prefix := code[ws:off]
		if ws > 0 && code[ws-1] == '%' && strings.TrimLeft(code[strings.LastIndexByte(code[:ws], '\n')+1:ws], " \t%") == "" {
			// %ti at the start of a line: the magics.
			for _, m := range s.magicNames() {
				if strings.HasPrefix(m, prefix) {
					cands = append(cands, candidate{m, "magic", ""})
				}
			}
		} else if t, ok := s.literalType(st, code, ws); ok {
			// A key of a struct literal: the type's fields.
			for _, f := range fieldsOf(t) {
				if strings.HasPrefix(f.Name, prefix) {
					cands = append(cands, candidate{f.Name, "field", f.Type.String()})
				}
			}
		} else if ws > 0 && code[ws-1] == '.' {
			chain := selectorChain(code, ws-1)
			if len(chain) == 0 {
				return []string{}, cursor, cursor, map[string]any{}
			}
			cands = s.memberCandidates(st, code, chain, prefix)
		} else if prefix != "" || cursor > 0 {
			cands = s.nameCandidates(st, code, prefix, ws)
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].text < cands[j].text })
	matches = []string{}
	var types []any
	seen := map[string]bool{}
	startR, endR := byteToRune(code, from), byteToRune(code, off)
	for _, c := range cands {
		if seen[c.text] || strings.HasPrefix(c.text, "__gl") {
			continue
		}
		seen[c.text] = true
		matches = append(matches, c.text)
		types = append(types, map[string]any{"start": startR, "end": endR, "text": c.text, "type": c.kind, "signature": c.sig})
	}
	if types == nil {
		types = []any{}
	}
	return matches, startR, endR, map[string]any{"_jupyter_types_experimental": types}
}

func isIdentRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

var (
	importLineRE  = regexp.MustCompile(`^\s*(?:import\s*)?(?:[A-Za-z_.][A-Za-z0-9_]*\s+)?"([^"]*)$`)
	importBlockRE = regexp.MustCompile(`(?m)^\s*import\s*\(`)
)

// importPathPrefix returns the partial import path before off when off is
// inside the path of an import declaration.
func importPathPrefix(code string, off int) (string, bool) {
	ls := strings.LastIndexByte(code[:off], '\n') + 1
	line := code[ls:off]
	m := importLineRE.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	if strings.HasPrefix(strings.TrimSpace(line), "import") {
		return m[1], true
	}
	// Inside an import ( ... ) block?
	locs := importBlockRE.FindAllStringIndex(code[:ls], -1)
	if len(locs) == 0 {
		return "", false
	}
	if strings.Contains(code[locs[len(locs)-1][1]:ls], ")") {
		return "", false
	}
	return m[1], true
}

// selectorChain returns the identifiers of a.b.c before the dot at dot.
func selectorChain(code string, dot int) []string {
	var chain []string
	end := dot
	for {
		i := end
		for i > 0 {
			r, w := utf8.DecodeLastRuneInString(code[:i])
			if !isIdentRune(r) {
				break
			}
			i -= w
		}
		if i == end {
			return nil
		}
		chain = append([]string{code[i:end]}, chain...)
		if i > 0 && code[i-1] == '.' {
			end = i - 1
			continue
		}
		return chain
	}
}

// cellImports returns the imports written in code (local name -> path).
func (s *Session) cellImports(code string) map[string]string {
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, p := range gocell.Split(code) {
		if p.Kind != gocell.Import {
			continue
		}
		f, err := parser.ParseFile(fset, "", "package main;"+code[p.Start:p.End], parser.ImportsOnly)
		if err != nil || f == nil {
			continue
		}
		for _, is := range f.Imports {
			path := strings.Trim(is.Path.Value, "\"`")
			name := s.pkgs[path]
			if is.Name != nil {
				name = is.Name.Name
			}
			if name != "" && name != "_" && name != "." {
				out[name] = path
			}
		}
	}
	return out
}

// resolvePkg finds the package a short name means: the session's or the
// cell's imports first, then a shipped package of that name (the standard
// library first, then the shortest path).
func (s *Session) resolvePkg(st *state, code, name string) (string, bool) {
	s.meta.RLock()
	p, ok := st.imports[name]
	s.meta.RUnlock()
	if ok {
		return p, true
	}
	if p, ok := s.cellImports(code)[name]; ok {
		return p, true
	}
	var best string
	better := func(a, b string) bool {
		sa, sb := !strings.Contains(strings.Split(a, "/")[0], "."), !strings.Contains(strings.Split(b, "/")[0], ".")
		if sa != sb {
			return sa
		}
		if na, nb := strings.Count(a, "/"), strings.Count(b, "/"); na != nb {
			return na < nb
		}
		return a < b
	}
	for path, pkg := range s.pkgs {
		if pkg == name && (best == "" || better(path, best)) {
			best = path
		}
	}
	return best, best != ""
}

// pkgMembers lists the exported members of a shipped package: from the
// documentation index, else from the symbol table itself.
func (s *Session) pkgMembers(path string) []symbols.Member {
	if m := symbols.Members(path); len(m) > 0 {
		return m
	}
	syms := s.opts.Symbols[path+"/"+s.pkgs[path]]
	out := make([]symbols.Member, 0, len(syms))
	for name, v := range syms {
		if strings.HasPrefix(name, "_") || !token.IsExported(name) {
			continue
		}
		kind, sig := reflectMember(name, v)
		out = append(out, symbols.Member{Name: name, Kind: kind, Signature: sig})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// reflectMember describes a symbol table entry.
func reflectMember(name string, v reflect.Value) (kind, sig string) {
	if !v.IsValid() {
		return "var", ""
	}
	if cv, ok := v.Interface().(constant.Value); ok {
		return "const", "const " + name + " = " + cv.ExactString()
	}
	switch {
	case v.Kind() == reflect.Func && !v.CanAddr():
		return "func", "func " + name + strings.TrimPrefix(v.Type().String(), "func")
	case v.Kind() == reflect.Pointer && v.IsNil() && !v.CanAddr():
		return "type", "type " + name + " " + v.Type().Elem().Kind().String()
	case v.CanAddr():
		return "var", "var " + name + " " + v.Type().String()
	}
	return "const", "const " + name + " " + v.Type().String()
}

// member looks up one member ("Name" or "Type.Method") of a package.
func (s *Session) member(path, name string) (symbols.Member, bool) {
	if m, ok := symbols.Lookup(path, name); ok {
		return m, true
	}
	if v, ok := s.exported(path, name); ok {
		kind, sig := reflectMember(name, v)
		return symbols.Member{Name: name, Kind: kind, Signature: sig}, true
	}
	tname, mname, ok := strings.Cut(name, ".")
	if !ok {
		return symbols.Member{}, false
	}
	v, ok := s.exported(path, tname)
	if !ok || v.Kind() != reflect.Pointer {
		return symbols.Member{}, false
	}
	if m, ok := v.Type().MethodByName(mname); ok {
		return symbols.Member{Name: name, Kind: "method", Signature: "func (" + v.Type().String() + ") " + mname + strings.TrimPrefix(m.Type.String(), "func")}, true
	}
	return symbols.Member{}, false
}

func kindName(k string) string {
	switch k {
	case "func":
		return "function"
	case "const":
		return "constant"
	case "var":
		return "variable"
	}
	return k
}

// memberCandidates completes the name after a.b. chains.
func (s *Session) memberCandidates(st *state, code string, chain []string, prefix string) []candidate {
	var out []candidate
	base := chain[0]
	s.meta.RLock()
	_, isVar := st.vars[base]
	_, isType := st.types[base]
	s.meta.RUnlock()
	if !isVar && !isType {
		if path, ok := s.resolvePkg(st, code, base); ok {
			want := strings.Join(chain[1:], ".")
			for _, m := range s.pkgMembers(path) {
				name := m.Name
				if want == "" {
					if strings.Contains(name, ".") {
						continue // methods
					}
				} else {
					t, meth, ok := strings.Cut(name, ".")
					if !ok || t != want {
						continue
					}
					name = meth
				}
				if strings.HasPrefix(name, prefix) {
					out = append(out, candidate{name, kindName(m.Kind), m.Signature})
				}
			}
			return out
		}
	}
	if len(chain) != 1 {
		return nil
	}
	// A session variable or type: its fields and methods.
	tname := base
	if isVar {
		tname = s.varTypeName(st, base)
		if v, ok := s.globalValue(st, base); ok {
			t := v.Type()
			for _, f := range fieldsOf(t) {
				if strings.HasPrefix(f.Name, prefix) {
					out = append(out, candidate{f.Name, "field", f.Type.String()})
				}
			}
			for _, mt := range []reflect.Type{t, reflect.PointerTo(t)} {
				for i := 0; i < mt.NumMethod(); i++ {
					m := mt.Method(i)
					if strings.HasPrefix(m.Name, prefix) {
						out = append(out, candidate{m.Name, "method", "func " + m.Name + strings.TrimPrefix(methodType(m), "func")})
					}
				}
			}
		}
	}
	s.meta.RLock()
	for key, d := range st.methods {
		t, m, _ := strings.Cut(key, ".")
		if t == tname && strings.HasPrefix(m, prefix) {
			out = append(out, candidate{m, "method", signatureOf(d.src)})
		}
	}
	s.meta.RUnlock()
	return out
}

// methodType is a method's type without the receiver.
func methodType(m reflect.Method) string {
	t := m.Type
	var in []string
	for i := 1; i < t.NumIn(); i++ {
		if t.IsVariadic() && i == t.NumIn()-1 {
			in = append(in, "..."+t.In(i).Elem().String())
		} else {
			in = append(in, t.In(i).String())
		}
	}
	var out []string
	for i := 0; i < t.NumOut(); i++ {
		out = append(out, t.Out(i).String())
	}
	sig := "func(" + strings.Join(in, ", ") + ")"
	switch len(out) {
	case 0:
	case 1:
		sig += " " + out[0]
	default:
		sig += " (" + strings.Join(out, ", ") + ")"
	}
	return sig
}

func fieldsOf(t reflect.Type) []reflect.StructField {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []reflect.StructField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Name != "_" && f.Name != "" {
			out = append(out, f)
		}
	}
	return out
}

// globalValue reads a session variable when no cell is running (the
// interpreter's memory is not safe to read while one is). The value must
// only be inspected for its type: its contents may change as soon as it
// returns (see globalPreview).
func (s *Session) globalValue(st *state, name string) (reflect.Value, bool) {
	var v reflect.Value
	ok := s.withGlobal(st, name, func(g reflect.Value) { v = g })
	return v, ok
}

// globalPreview returns a session variable's type and a preview of its
// value, read while no cell runs.
func (s *Session) globalPreview(st *state, name string) (typ reflect.Type, text string, ok bool) {
	ok = s.withGlobal(st, name, func(v reflect.Value) { typ, text = v.Type(), preview(v) })
	return typ, text, ok
}

// withGlobal calls f with a session variable (the dynamic value of an
// interface) when no cell is running, and keeps cells from starting until
// f returns.
func (s *Session) withGlobal(st *state, name string, f func(reflect.Value)) bool {
	if !s.mu.TryLock() {
		return false
	}
	defer s.mu.Unlock()
	if s.running != nil {
		return false
	}
	v, ok := st.global(name)
	if !ok || !v.IsValid() {
		return false
	}
	if v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	f(v)
	return true
}

// varTypeName guesses the name of a session variable's type from its
// declaration: var x T, x := T{...}, x := &T{...}, x := NewT(...).
func (s *Session) varTypeName(st *state, name string) string {
	s.meta.RLock()
	d := st.vars[name]
	var funcs map[string]string
	if d != nil {
		funcs = map[string]string{}
		for n, f := range st.funcs {
			funcs[n] = f.src
		}
	}
	s.meta.RUnlock()
	if d == nil {
		return ""
	}
	if d.typ != "" {
		return strings.TrimLeft(d.typ, "*")
	}
	var rhs ast.Expr
	if d.kind == "var" && strings.HasPrefix(strings.TrimSpace(d.src), "var") {
		f, err := parseDeclFile(token.NewFileSet(), d.src)
		if err != nil {
			return ""
		}
		for _, dd := range f.Decls {
			if gd, ok := dd.(*ast.GenDecl); ok {
				for _, sp := range gd.Specs {
					vs := sp.(*ast.ValueSpec)
					for i, id := range vs.Names {
						if id.Name == name && i < len(vs.Values) {
							rhs = vs.Values[i]
						}
					}
				}
			}
		}
	} else {
		f, err := parser.ParseFile(token.NewFileSet(), "", "package main; func main() {"+d.src+"\n}", 0)
		if err != nil || len(f.Decls) == 0 {
			return ""
		}
		body := f.Decls[0].(*ast.FuncDecl).Body.List
		if len(body) == 0 {
			return ""
		}
		if as, ok := body[0].(*ast.AssignStmt); ok {
			for i, l := range as.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name == name && i < len(as.Rhs) {
					rhs = as.Rhs[i]
				}
			}
		}
	}
	return typeNameOf(rhs, funcs)
}

func typeNameOf(e ast.Expr, funcs map[string]string) string {
	switch e := e.(type) {
	case *ast.CompositeLit:
		if id, ok := e.Type.(*ast.Ident); ok {
			return id.Name
		}
	case *ast.UnaryExpr:
		if e.Op == token.AND {
			return typeNameOf(e.X, funcs)
		}
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok {
			if src, ok := funcs[id.Name]; ok {
				f, err := parseDeclFile(token.NewFileSet(), src)
				if err == nil {
					for _, d := range f.Decls {
						if fd, ok := d.(*ast.FuncDecl); ok && fd.Type.Results != nil && len(fd.Type.Results.List) > 0 {
							t := fd.Type.Results.List[0].Type
							if st, ok := t.(*ast.StarExpr); ok {
								t = st.X
							}
							if id, ok := t.(*ast.Ident); ok {
								return id.Name
							}
						}
					}
				}
			}
			return id.Name // a conversion T(x)
		}
	}
	return ""
}

// signatureOf is a declaration's first line up to its body.
func signatureOf(src string) string {
	src = strings.TrimSpace(stripDoc(src))
	if i := strings.Index(src, "{"); i >= 0 && strings.HasPrefix(src, "func") {
		// The body's brace: the first { after the parameters and results.
		fset := token.NewFileSet()
		f, err := parseDeclFile(fset, src)
		if err == nil && len(f.Decls) == 1 {
			if fd, ok := f.Decls[0].(*ast.FuncDecl); ok && fd.Body != nil {
				i = fset.Position(fd.Body.Lbrace).Offset - len("package main;")
			}
		}
		return strings.TrimSpace(src[:i])
	}
	if i := strings.IndexByte(src, '\n'); i >= 0 {
		return src[:i]
	}
	return src
}

// stripDoc removes leading comment lines.
func stripDoc(src string) string {
	for {
		t := strings.TrimLeft(src, " \t\r\n")
		if !strings.HasPrefix(t, "//") {
			return t
		}
		i := strings.IndexByte(t, '\n')
		if i < 0 {
			return ""
		}
		src = t[i+1:]
	}
}

// nameCandidates completes a plain identifier.
func (s *Session) nameCandidates(st *state, code, prefix string, at int) []candidate {
	var out []candidate
	add := func(name, kind, sig string) {
		if strings.HasPrefix(name, prefix) && name != "_" {
			out = append(out, candidate{name, kind, sig})
		}
	}
	inExpr := insideParens(code, at)
	for _, k := range keywords {
		if inExpr && !exprKeywords[k] {
			continue // a statement keyword cannot start an argument
		}
		add(k, "keyword", "")
	}
	for _, b := range sortedKeys(builtinDocs) {
		add(b, "function", strings.SplitN(builtinDocs[b], "\n", 2)[0])
	}
	for _, t := range builtinTypes {
		add(t, "type", "")
	}
	for _, c := range builtinConsts {
		add(c, "constant", "")
	}
	s.meta.RLock()
	for n, d := range st.funcs {
		add(n, "function", signatureOf(d.src))
	}
	for n, d := range st.types {
		add(n, "type", oneLine(d.src))
	}
	for n, d := range st.vars {
		add(n, kindName(d.kind), d.typ)
	}
	for n, p := range st.imports {
		add(n, "module", p)
	}
	for _, p := range st.dots {
		for _, m := range s.pkgMembers(p) {
			if !strings.Contains(m.Name, ".") {
				add(m.Name, kindName(m.Kind), m.Signature)
			}
		}
	}
	s.meta.RUnlock()
	if prefix != "" {
		for p, name := range s.pkgs {
			add(name, "module", p)
		}
	}
	for n, p := range s.cellImports(code) {
		add(n, "module", p)
	}
	// Identifiers written in the cell itself (declared before being run).
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", fset.Base(), len(code)), []byte(code), func(token.Position, string) {}, 0)
	for {
		pos, t, lit := sc.Scan()
		if t == token.EOF {
			break
		}
		if t == token.IDENT && fset.Position(pos).Offset != at && lit != prefix {
			add(lit, "name", "")
		}
	}
	return out
}

// literalTypeRE matches the type of a composite literal just before its
// opening brace: pkg.Type or &pkg.Type.
var literalTypeRE = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\.([A-Z][A-Za-z0-9_]*)\s*$`)

// literalType returns the compiled struct type of the literal whose field
// list has a key starting at ws (experiments.CVOptions{K: 5, Sh|), if the
// code there is one.
func (s *Session) literalType(st *state, code string, ws int) (reflect.Type, bool) {
	i := ws
	for i > 0 && strings.ContainsRune(" \t\r\n", rune(code[i-1])) {
		i--
	}
	if i == 0 || (code[i-1] != '{' && code[i-1] != ',') {
		return nil, false // not where a key goes
	}
	// The innermost bracket still open: a brace, not a call's or an
	// index's.
	if i = openBracket(code, ws); i < 0 || code[i] != '{' {
		return nil, false
	}
	m := literalTypeRE.FindStringSubmatch(code[:i])
	if m == nil {
		return nil, false
	}
	path, ok := s.resolvePkg(st, code, m[1])
	if !ok {
		return nil, false
	}
	v, ok := s.opts.Symbols[path+"/"+s.pkgs[path]][m[2]]
	if !ok || v.Kind() != reflect.Pointer || !v.IsNil() {
		return nil, false // not a type
	}
	t := v.Type().Elem()
	return t, t.Kind() == reflect.Struct
}
