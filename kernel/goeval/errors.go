package goeval

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/traefik/yaegi/interp"
)

// loc is a position in a cell: the cell's session number, its line and
// byte column.
type loc struct{ cell, line, col int }

func red(s string) string { return "\x1b[0;31m" + s + "\x1b[0m" }

// where names a location for a message: "line 3, column 6" in the current
// cell, "cell 2, line 3, column 6" elsewhere, the cell numbered as the
// frontend showed it (shown maps the session's numbering; nil keeps it).
func where(at loc, here int, shown func(int) int) string {
	if at.cell == here {
		return fmt.Sprintf("line %d, column %d", at.line, at.col)
	}
	n := at.cell
	if shown != nil {
		if n = shown(n); n == 0 {
			return fmt.Sprintf("line %d, column %d of a cell run without a number", at.line, at.col)
		}
	}
	return fmt.Sprintf("cell %d, line %d, column %d", n, at.line, at.col)
}

// excerpt shows line at.line of src with a caret under at.col.
func excerpt(src string, at loc) []string {
	lines := strings.Split(src, "\n")
	if at.line < 1 || at.line > len(lines) {
		return nil
	}
	text := strings.TrimRight(lines[at.line-1], "\r")
	pad := []rune{}
	for i, r := range text {
		if i >= at.col-1 {
			break
		}
		if r == '\t' {
			pad = append(pad, '\t')
		} else {
			pad = append(pad, ' ')
		}
	}
	num := strconv.Itoa(at.line)
	gutter := strings.Repeat(" ", len(num))
	return []string{
		"  " + num + " | " + text,
		"  " + gutter + " | " + string(pad) + "^",
	}
}

// newCellError builds an error located at at (nil: no location); src is
// the source of the cell at.cell, here the number of the running cell.
func newCellError(name, msg string, at *loc, src string, here int, shown func(int) int, frames []string, err error) *CellError {
	value := msg
	tb := []string{red(name) + ": " + msg}
	if at != nil {
		value = msg + " (" + where(*at, here, shown) + ")"
		tb = append(tb, "  --> "+where(*at, here, shown))
		tb = append(tb, excerpt(src, *at)...)
	}
	tb = append(tb, frames...)
	return &CellError{Name: name, Value: value, Traceback: tb, Err: err}
}

// errorAt builds an error at offset off of the running cell.
func (s *Session) errorAt(c *cellCode, name, msg string, off int) *CellError {
	line, col := c.pos(off)
	return newCellError(name, msg, &loc{c.n, line, col}, c.orig, c.n, s.shownCount, nil, nil)
}

// errorLoc builds an error at a location that may be in another cell.
func (s *Session) errorLoc(st *state, c *cellCode, name, msg string, at *loc, err error) *CellError {
	here := 0
	if c != nil {
		here = c.n
	}
	return newCellError(name, msg, at, s.cellSource(st, c, at), here, s.shownCount, nil, err)
}

// cellSource returns the source of the cell at refers to.
func (s *Session) cellSource(st *state, c *cellCode, at *loc) string {
	if at == nil {
		return ""
	}
	if c != nil && at.cell == c.n {
		return c.orig
	}
	s.meta.RLock()
	defer s.meta.RUnlock()
	return st.cells[at.cell]
}

var (
	leadPosRE  = regexp.MustCompile(`^(?:_\.go:)?(\d+):(\d+): `)
	innerPosRE = regexp.MustCompile(`(?:_\.go:)?(\d{6,}):(\d+)`)
	exitRE     = regexp.MustCompile(`^os\.Exit\(-?\d+\)$`)
)

// decode turns a yaegi line:col into a cell location, the cell being the
// latest up to latest (the session's count of evaluations: the running
// cell, or the cell an expression is evaluated after) with the encoded
// residue (see lineStride); ok is false for positions in code that was
// not placed in a cell.
func decode(line, col, latest int) (loc, bool) {
	if line < lineStride {
		return loc{}, false
	}
	r := line / lineStride
	cell := r
	if latest > 0 {
		cell = latest - (cellResidue(latest)-r+cellWrap)%cellWrap
	}
	return loc{cell: cell, line: line % lineStride, col: col}, true
}

// olderDefiner moves at, a position in a function's code, to the most
// recent cell with its residue that declared functions (the cells
// st.cells keeps), when the cell decode chose declared none: a function
// defined over cellWrap evaluations ago is then still named by its cell,
// unless a later cell with the same residue declared functions too.
func (s *Session) olderDefiner(st *state, at *loc) {
	s.meta.RLock()
	defer s.meta.RUnlock()
	if _, ok := st.cells[at.cell]; ok {
		return
	}
	for n := at.cell - cellWrap; n > 0; n -= cellWrap {
		if _, ok := st.cells[n]; ok {
			at.cell = n
			return
		}
	}
}

// locate splits a yaegi message into its leading position and the rest,
// rewriting positions inside the rest (such as "previous declaration at").
func locate(msg string, here, latest int, shown func(int) int) (*loc, string) {
	var at *loc
	if m := leadPosRE.FindStringSubmatch(msg); m != nil {
		l, _ := strconv.Atoi(m[1])
		c, _ := strconv.Atoi(m[2])
		if p, ok := decode(l, c, latest); ok {
			at = &p
		}
		msg = msg[len(m[0]):]
	}
	msg = innerPosRE.ReplaceAllStringFunc(msg, func(s string) string {
		m := innerPosRE.FindStringSubmatch(s)
		l, _ := strconv.Atoi(m[1])
		c, _ := strconv.Atoi(m[2])
		if p, ok := decode(l, c, latest); ok {
			return where(p, here, shown)
		}
		return s
	})
	return at, msg
}

// errorText is the message of an evaluation error, for notes.
func errorText(err error) string {
	var ce *CellError
	if errors.As(err, &ce) {
		return ce.Value
	}
	return err.Error()
}

// convert turns what compiling or running a unit returned into the error
// Execute reports. c and pr are nil for code not from the running cell.
func (s *Session) convert(st *state, c *cellCode, pr *parsedRun, err error, panicLines []string) error {
	var ce *CellError
	var stuck *StuckError
	if errors.As(err, &stuck) || errors.As(err, &ce) {
		return err
	}
	here := 0
	if c != nil {
		here = c.n
	}
	var p interp.Panic
	if errors.As(err, &p) {
		if isInterrupt(p.Value) {
			return interruptedError() // a read of stdin interrupted
		}
		return s.panicError(st, c, p, panicLines)
	}
	var ie *internalError
	if errors.As(err, &ie) {
		if pr != nil {
			if name, off, ok := s.undefinedName(st, pr); ok {
				return s.errorAt(c, "CompileError", undefinedMsg(name), off)
			}
			if msg := fmt.Sprint(ie.value); strings.Contains(msg, "nil type") {
				if rs := firstRange(pr.file); rs != nil {
					return s.errorAt(c, "Unsupported", "yaegi (Go <= 1.22 semantics) cannot range over this value (an int or a function?); use for i := 0; i < n; i++, or call an iterator function with a yield callback", pr.off(rs.X.Pos()))
				}
			}
		}
		if pr != nil {
			if off, ok := s.genericDefinition(st, pr); ok {
				return s.errorAt(c, "Unsupported", genericDefinitionMsg, off)
			}
		}
		at, msg := locate(fmt.Sprint(ie.value), here, s.count, s.shownCount)
		return s.errorLoc(st, c, "InternalError", "the interpreter failed on this code: "+msg, at, err)
	}
	at, msg := locate(err.Error(), here, s.count, s.shownCount)
	if strings.HasSuffix(msg, "returns 0 values") && pr != nil {
		// yaegi's message for var a, b = f() with f undefined.
		if name, off, ok := s.undefinedName(st, pr); ok {
			return s.errorAt(c, "CompileError", undefinedMsg(name), off)
		}
	}
	if strings.Contains(msg, "constant definition loop") && pr != nil {
		// yaegi's message for a global defined from an undefined name,
		// or whose type it cannot work out.
		if name, off, ok := s.undefinedName(st, pr); ok {
			return s.errorAt(c, "CompileError", undefinedMsg(name), off)
		}
		if off, ok := s.genericDefinition(st, pr); ok {
			return s.errorAt(c, "Unsupported", genericDefinitionMsg, off)
		}
		msg = strings.Replace(msg, "constant definition loop", "the interpreter cannot work out the type of a variable defined here: declare it with its type (var x T = ...)", 1)
	}
	if name, ok := strings.CutPrefix(msg, "undefined: "); ok {
		msg = undefinedMsg(name)
	}
	if m := undefinedSelRE.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("undefined field or method %s", m[1])
		// yaegi places x.M, where x's type has no M, at the declaration
		// of the type (another cell's), or nowhere: the selector of the
		// cell is the place, as Go's compiler says.
		if sel := s.findSelector(st, c, pr, m[1]); sel != nil && (at == nil || at.cell != here) {
			text := c.written(pr.off(sel.Pos()), pr.off(sel.End()))
			return s.errorAt(c, "CompileError", fmt.Sprintf("%s undefined (no field or method %s)", text, m[1]), pr.off(sel.Sel.Pos()))
		}
	}
	if strings.HasPrefix(msg, "undefined method: ") && c != nil && stdioMethod.MatchString(c.orig) {
		msg += " (in a cell os.Stdout and os.Stderr are io.Writers, and os.Stdin an io.Reader, so that output reaches the notebook: write with fmt.Fprint(os.Stdout, s) or io.WriteString(os.Stdout, s))"
	}
	return s.errorLoc(st, c, "CompileError", msg, at, err)
}

// undefinedSelRE matches yaegi's message for a selector that names no
// field or method.
var undefinedSelRE = regexp.MustCompile(`^undefined selector:? (\w+)$`)

// findSelector returns the selector x.name of the run that yaegi
// refused: the first whose x is of a type the session knows to lack a
// field or method name, else the first x.name.
func (s *Session) findSelector(st *state, c *cellCode, pr *parsedRun, name string) *ast.SelectorExpr {
	if pr == nil || st == nil {
		return nil
	}
	var all []*ast.SelectorExpr
	ast.Inspect(pr.file, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == name {
			all = append(all, sel)
		}
		return true
	})
	if len(all) == 0 {
		return nil
	}
	s.meta.RLock()
	defer s.meta.RUnlock()
	ty := newTyper(s, st, c, pr)
	for _, sel := range all {
		if t, ok := ty.typeOf(sel.X); ok && !hasMember(t, name) {
			return sel
		}
	}
	return all[0]
}

// hasMember reports whether a value of type t has a field or method name.
func hasMember(t reflect.Type, name string) bool {
	if _, ok := t.MethodByName(name); ok {
		return true
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		if _, ok := reflect.PointerTo(t).MethodByName(name); ok {
			return true
		}
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		_, ok := t.FieldByName(name)
		return ok
	}
	return false
}

// stdioMethod finds a call of a method of os.Stdin, os.Stdout or
// os.Stderr beyond Read and Write.
var stdioMethod = regexp.MustCompile(`\bos\.Std(in|out|err)\.([A-Z]\w*)\b`)

// missingBuiltins are Go's builtins yaegi v0.16.1 lacks, with what to
// use instead.
var missingBuiltins = map[string]string{
	"min":   "use math.Min, floats.Min for a slice, or compare",
	"max":   "use math.Max, floats.Max for a slice, or compare",
	"clear": "delete a map's keys in a loop, or set the slice's elements to zero",
}

// undefinedMsg says that name is undefined, and what to use instead of a
// builtin the interpreter lacks.
func undefinedMsg(name string) string {
	if alt, ok := missingBuiltins[name]; ok {
		return "undefined: " + name + " (Go 1.21's builtin " + name + " is not in the interpreter: " + alt + ")"
	}
	return "undefined: " + name
}

// isInterrupt reports whether a panic's value is ErrInterrupted, which
// the host panics with to stop a cell inside compiled code (a read of
// stdin whose input request was interrupted).
func isInterrupt(v any) bool {
	if rv, ok := v.(reflect.Value); ok && rv.IsValid() && rv.CanInterface() {
		v = rv.Interface()
	}
	err, ok := v.(error)
	return ok && errors.Is(err, ErrInterrupted)
}

// isRuntimeError reports whether a panic value comes from the runtime
// (or from reflect, which yaegi runs much of the code through) rather
// than from a call of panic.
func isRuntimeError(v any) bool {
	if _, ok := v.(runtime.Error); ok {
		return true
	}
	msg, ok := v.(string)
	if e, isErr := v.(error); isErr {
		msg, ok = e.Error(), true
	}
	return ok && goRuntimeMessage(msg) != msg
}

// goRuntimeMessage returns Go's own message for the runtime errors yaegi
// reports as the reflect package's panics (it indexes and dereferences
// through reflect): an index out of range is "reflect: slice index out
// of range", a slice past the end "reflect.Value.Slice: slice index out
// of bounds", a nil pointer's field "reflect: call of
// reflect.Value.Field on zero Value". Other messages are returned as
// they are.
func goRuntimeMessage(msg string) string {
	switch {
	case !strings.HasPrefix(msg, "reflect: ") && !strings.HasPrefix(msg, "reflect.Value."):
		return msg
	case strings.Contains(msg, "index out of range"):
		return "runtime error: index out of range"
	case strings.Contains(msg, "out of bounds") || strings.Contains(msg, "bounds out of range"):
		return "runtime error: slice bounds out of range"
	case strings.HasSuffix(msg, "on zero Value"):
		return "runtime error: invalid memory address or nil pointer dereference"
	}
	return msg
}

var panicFrameRE = regexp.MustCompile(`^(?:_\.go:)?(\d+):(\d+): panic: (\S*?)(?:\(\.\.\.\))?\n?$`)

// panicError reports a panic in cell code with the interpreted frames
// yaegi printed while it unwound (innermost first).
func (s *Session) panicError(st *state, c *cellCode, p interp.Panic, lines []string) *CellError {
	v := p.Value
	if rv, ok := v.(reflect.Value); ok {
		v = nil
		if rv.IsValid() && rv.CanInterface() {
			v = rv.Interface()
		}
	}
	v = unwrapInterpreted(v)
	var msg string
	switch x := v.(type) {
	case error:
		msg = x.Error()
	case string:
		msg = x
	default:
		msg = fmt.Sprint(x)
	}
	msg = goRuntimeMessage(msg)
	if m := leadPosRE.FindStringSubmatch(msg); m != nil {
		// yaegi's own position of a failed type assertion, in the
		// code it saw: the traceback places it.
		l, _ := strconv.Atoi(m[1])
		if _, ok := decode(l, 1, 0); ok {
			msg = msg[len(m[0]):]
		}
	}
	if t, ok := strings.CutPrefix(msg, "interface conversion: nil is not main."); ok && !strings.ContainsAny(t, " .") {
		// yaegi says nil for any value it fails to assert to an
		// interface type a cell declares, nil or not.
		msg += " (if the value is not nil: the interpreter cannot assert to an interface type a cell declares; assert to the concrete type)"
	}
	name := "panic"
	if exitRE.MatchString(msg) {
		name = "Exit"
		msg += " was called; the session keeps running"
	}
	here := 0
	if c != nil {
		here = c.n
	}
	tb := []string{red(name) + ": " + msg}
	var frames []frame
	for _, l := range lines {
		m := panicFrameRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		ln, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		at, ok := decode(ln, col, s.count)
		if !ok {
			continue // in code the kernel added
		}
		if fn := strings.TrimPrefix(m[3], "main."); fn != "" && !strings.HasPrefix(fn, "func") && at.cell != here {
			s.olderDefiner(st, &at)
		}
		if st.alias != 0 && at.cell == st.alias {
			at.cell = here // a kept program of an identical cell
		}
		fn := strings.TrimPrefix(m[3], "main.")
		if strings.HasSuffix(fn, "func") {
			fn = "function literal"
		}
		frames = append(frames, frame{fn: fn, at: at})
	}
	// yaegi places a runtime error (a division by zero, an index out of
	// range, a nil map write) at the start of the code it happened in,
	// and any panic inside a function at the function's first statement:
	// only an explicit panic in the cell's own statements is placed
	// right, and only at the cell's top level: one in a loop, an if or a
	// switch is placed at the start of a statement before it.
	if len(frames) > 0 {
		deferred := st.col.deferredPanic(v) // frames[0] is then at a call
		frames[0].approx = isRuntimeError(v) || len(frames) > 1 || (!deferred && !panicCallAt(s.cellSource(st, c, &frames[0].at), frames[0].at))
		if deferred {
			if f, ok := s.deferredFrame(st, c, frames[0]); ok {
				frames = append([]frame{f}, frames...)
			}
		}
	}
	approx := len(frames) > 0 && (frames[0].approx || frames[0].sites > 1)
	var first *loc
	for i, f := range frames {
		if i == len(frames)-1 {
			f.fn = "cell" // the outermost frame is the cell's own code
		}
		if first == nil {
			first = &frames[i].at
		}
		if f.deferred {
			tb = append(tb, "  in "+f.fn+", "+where(f.at, here, s.shownCount)+f.deferredNote()+":")
		} else if f.approx {
			tb = append(tb, "  in "+f.fn+", at or after "+where(f.at, here, s.shownCount)+" (the interpreter places this panic at the start of the code it happened in):")
		} else {
			tb = append(tb, "  in "+f.fn+", "+where(f.at, here, s.shownCount)+":")
		}
		tb = append(tb, excerpt(s.cellSource(st, c, &f.at), f.at)...)
	}
	value := msg
	if first != nil {
		if approx {
			value += " (at or after " + where(*first, here, s.shownCount) + ")"
		} else {
			value += " (" + where(*first, here, s.shownCount) + ")"
		}
	}
	return &CellError{Name: name, Value: value, Traceback: tb, Err: p}
}

// genericDefinitionMsg explains the failure of a global defined from a
// generic call whose result types the kernel could not write (see
// genericResults).
const genericDefinitionMsg = "the interpreter cannot define a global from this call of a generic function: declare the variables with their types (var x T) and assign them (x, err = f(...))"

// genericDefinition returns where run pr defines a global (x := or var
// x =, at its top level) from a call of a generic function the session
// or the run declares.
func (s *Session) genericDefinition(st *state, pr *parsedRun) (int, bool) {
	generic := func(call *ast.CallExpr) bool {
		id, ok := indexed(call.Fun).(*ast.Ident)
		if !ok {
			return false
		}
		if id.Obj != nil {
			fd, ok := id.Obj.Decl.(*ast.FuncDecl)
			return ok && id.Obj.Kind == ast.Fun && fd.Type.TypeParams != nil
		}
		s.meta.RLock()
		defer s.meta.RUnlock()
		d := st.funcs[id.Name]
		return d != nil && d.generic
	}
	check := func(values []ast.Expr) (int, bool) {
		for _, v := range values {
			if call, ok := ast.Unparen(v).(*ast.CallExpr); ok && generic(call) {
				return pr.off(call.Pos()), true
			}
		}
		return 0, false
	}
	if !pr.decl {
		for _, stmt := range pr.stmts {
			if as, ok := stmt.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
				if off, ok := check(as.Rhs); ok {
					return off, true
				}
			}
		}
		return 0, false
	}
	for _, d := range pr.file.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.VAR {
			for _, sp := range g.Specs {
				if off, ok := check(sp.(*ast.ValueSpec).Values); ok {
					return off, true
				}
			}
		}
	}
	return 0, false
}

// frame is a function's frame in a panic's traceback.
type frame struct {
	fn string
	at loc
	// approx is set when the panic happened at or after at; deferred for
	// the frame deferredFrame adds, sites being the count of the
	// function's deferred panics (at is the first one's).
	approx, deferred bool
	sites            int
}

// deferredNote says which deferred panic of the function the frame's is.
func (f frame) deferredNote() string {
	if f.sites > 1 {
		return " (a deferred panic: this one or a later one of " + f.fn + ")"
	}
	return " (a deferred panic)"
}

var callNameRE = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*[(\[]`)

// deferredFrame returns the frame of the function whose deferred call
// of panic (defer panic(v), made a call of the hook D) panicked, which
// yaegi does not print: a panic in a deferred call of compiled code
// goes through no frame of the function. That function was called from
// the code of inner, the innermost frame yaegi printed: it is the one
// function of the session with such a deferred call that inner's code
// calls (the function's source, or the cell's code from inner's
// position on). ok is false when there is not exactly one.
func (s *Session) deferredFrame(st *state, c *cellCode, inner frame) (frame, bool) {
	cellSrc := s.cellSource(st, c, &inner.at)
	s.meta.RLock()
	defer s.meta.RUnlock()
	var text string
	if d := st.funcs[inner.fn]; d != nil && d.kind == "func" {
		text = d.src
	} else {
		lines := strings.Split(cellSrc, "\n")
		if inner.at.line < 1 || inner.at.line > len(lines) {
			return frame{}, false
		}
		lines = lines[inner.at.line-1:]
		lines[0] = lines[0][min(max(inner.at.col-1, 0), len(lines[0])):]
		text = strings.Join(lines, "\n")
	}
	var found frame
	seen := map[string]bool{}
	for _, m := range callNameRE.FindAllStringSubmatch(text, -1) {
		name := m[1]
		d := st.funcs[name]
		if seen[name] || d == nil || d.kind != "func" || !strings.Contains(d.src, "panic") {
			continue
		}
		seen[name] = true
		sites := deferredPanics(d)
		if len(sites) == 0 {
			continue
		}
		if found.fn != "" {
			return frame{}, false // two candidates
		}
		found = frame{fn: name, at: sites[0], deferred: true, sites: len(sites)}
	}
	return found, found.fn != ""
}

// deferredPanics returns where function d (as declared) defers a call of
// the builtin panic, outside the function literals in it.
func deferredPanics(d *declInfo) []loc {
	fset := token.NewFileSet()
	f, err := parseDeclFile(fset, d.src)
	if err != nil {
		return nil
	}
	var sites []loc
	for _, decl := range f.Decls {
		fd, ok := decl.(*ast.FuncDecl)
		if !ok || fd.Name.Name != d.name || fd.Body == nil {
			continue
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.DeferStmt:
				if id, ok := n.Call.Fun.(*ast.Ident); ok && id.Name == "panic" && id.Obj == nil {
					p := fset.Position(id.Pos())
					off := p.Offset - len("package main;")
					line := d.line + strings.Count(d.src[:off], "\n")
					col := off - strings.LastIndex(d.src[:off], "\n") // 1-based past a line break
					if line == d.line {
						col = d.col + off
					}
					sites = append(sites, loc{cell: d.cell, line: line, col: col})
				}
			}
			return true
		})
	}
	return sites
}

// firstRange returns the first range statement in f.
func firstRange(f *ast.File) *ast.RangeStmt {
	var rs *ast.RangeStmt
	ast.Inspect(f, func(n ast.Node) bool {
		if rs != nil {
			return false
		}
		if r, ok := n.(*ast.RangeStmt); ok && r.X != nil {
			rs = r
		}
		return true
	})
	return rs
}

// undefinedName finds a name used in pr that nothing defines: the parser
// resolves names declared in the run itself, the rest must be the
// session's or Go's. yaegi's own messages for those are sometimes
// misleading ("constant definition loop") or a crash.
func (s *Session) undefinedName(st *state, pr *parsedRun) (string, int, bool) {
	keys := compositeKeys(pr.file)
	globals := st.globals()
	s.meta.RLock()
	defer s.meta.RUnlock()
	known := func(n string) bool {
		if st.imports[n] != "" || st.funcs[n] != nil || st.types[n] != nil || st.vars[n] != nil {
			return true
		}
		if _, missing := missingBuiltins[n]; missing {
			return false
		}
		if n == "_" || n == hookImport || n == panicHook || types.Universe.Lookup(n) != nil {
			return true
		}
		if _, ok := globals[n]; ok {
			return true
		}
		for _, p := range st.dots {
			if _, ok := s.exported(p, n); ok {
				return true
			}
		}
		return false
	}
	un := append([]*ast.Ident(nil), pr.file.Unresolved...)
	sort.Slice(un, func(i, j int) bool { return un[i].Pos() < un[j].Pos() })
	for _, id := range un {
		if !known(id.Name) && !keys[id] {
			return id.Name, pr.off(id.Pos()), true
		}
	}
	return "", 0, false
}

// parseDeclFile parses declarations as a file.
func parseDeclFile(fset *token.FileSet, src string) (*ast.File, error) {
	return parser.ParseFile(fset, "", "package main;"+src, parser.ParseComments)
}

// panicCallAt reports whether src, a cell's source, has a call of panic
// at at.
func panicCallAt(src string, at loc) bool {
	lines := strings.Split(src, "\n")
	if at.line < 1 || at.line > len(lines) || at.col < 1 || at.col > len(lines[at.line-1]) {
		return false
	}
	rest, ok := strings.CutPrefix(lines[at.line-1][at.col-1:], "panic")
	return ok && strings.HasPrefix(strings.TrimLeft(rest, " \t"), "(")
}
