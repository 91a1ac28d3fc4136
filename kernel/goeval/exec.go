package goeval

import (
	"context"
	"errors"
	"fmt"
	"github.com/gopherlab/gopherlab/internal/gocell"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gopherlab/gopherlab/display"
	"github.com/traefik/yaegi/interp"
)

// lineStride encodes a cell number in the line numbers yaegi sees: line L
// of cell N is line R*lineStride+L, R being N's residue (cellResidue).
// yaegi keys the imports visible to a file by the file's name, so every
// evaluation must use the same name ("_.go"); the line number is left to
// say which cell code came from. Go's scanner refuses line numbers over
// 2^30, so the cell number wraps every cellWrap cells: a position is
// read back as the latest cell with its residue (decode), which is exact
// for code of the last cellWrap cells.
const (
	lineStride = 100000
	cellWrap   = 10000
)

// cellResidue is the number that stands for cell n in line numbers:
// 1..cellWrap (0 and below for code of no cell, which stays below
// lineStride).
func cellResidue(n int) int {
	if n <= 0 {
		return n
	}
	return (n-1)%cellWrap + 1
}

// encodeLine is the line number yaegi sees for line line of cell n.
func encodeLine(n, line int) int { return cellResidue(n)*lineStride + line }

// cellCode is the Go code of one cell (magic lines blanked, so lines and
// columns are the cell's own).
type cellCode struct {
	n   int
	src string
	// orig is the cell's code as written, which tracebacks show: src
	// gives loop bodies their own loop variables, at added (see
	// perIteration).
	orig       string
	added      []span
	lineStarts []int
}

func newCellCode(n int, src string) *cellCode {
	out, added, _ := perIteration(n, src)
	return cellFrom(n, src, out, added)
}

// cellFrom returns the cellCode of cell n, written as orig, run as src.
func cellFrom(n int, orig, src string, added []span) *cellCode {
	c := &cellCode{n: n, src: src, orig: orig, added: added, lineStarts: []int{0}}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			c.lineStarts = append(c.lineStarts, i+1)
		}
	}
	return c
}

// pos returns the 1-based line and byte column of offset off, in the
// cell as written: text the kernel put in (see cellCode.added, which
// holds no line break) moves no position after it.
func (c *cellCode) pos(off int) (line, col int) {
	i := sort.Search(len(c.lineStarts), func(i int) bool { return c.lineStarts[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	start := c.lineStarts[i]
	col = off - start + 1
	for _, sp := range c.added { // sorted
		if sp.start >= off {
			break
		}
		if sp.start < start {
			continue // on an earlier line
		}
		if sp.end > off { // inside the text put in: at its start
			col -= off - sp.start
			break
		}
		col -= sp.end - sp.start - len(sp.orig) // what the cell wrote there instead
	}
	return i + 1, col
}

// directive places the code that follows at line, col of cell n for yaegi.
func directive(n, line, col int) string {
	return fmt.Sprintf("\n//line _.go:%d:%d\n", encodeLine(n, line), col)
}

// parsedRun is a run parsed by go/parser with the cell's own positions.
type parsedRun struct {
	run
	fset  *token.FileSet
	file  *ast.File
	hdr   int        // bytes of the parsed source before the run's text
	stmts []ast.Stmt // a statement run's statements
}

// off returns the cell offset of pos.
func (p *parsedRun) off(pos token.Pos) int {
	return p.fset.PositionFor(pos, false).Offset - p.hdr + p.start
}

// parseRun parses a run the way yaegi will see it: declarations as a file,
// statements as the body of a function.
func parseRun(c *cellCode, r run) (*parsedRun, error) {
	line, col := c.pos(r.start)
	head := "package main;"
	if !r.decl {
		head += " func main() {;"
	}
	head += fmt.Sprintf("\n//line cell:%d:%d\n", line, col)
	src := head + c.src[r.start:r.end]
	if !r.decl {
		src += "\n}"
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "cell", src, parser.ParseComments|parser.DeclarationErrors)
	if err != nil {
		return nil, syntaxError(c, err)
	}
	p := &parsedRun{run: r, fset: fset, file: f, hdr: len(head)}
	if !r.decl {
		if len(f.Decls) != 1 {
			return nil, syntaxError(c, fmt.Errorf("cell:%d:%d: unexpected declaration", line, col))
		}
		fd, ok := f.Decls[0].(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			return nil, syntaxError(c, fmt.Errorf("cell:%d:%d: unexpected declaration", line, col))
		}
		p.stmts = fd.Body.List
	}
	return p, nil
}

// syntaxError reports a go/parser error at the cell's position.
func syntaxError(c *cellCode, err error) *CellError {
	if list, ok := err.(scanner.ErrorList); ok && len(list) > 0 {
		e := list[0]
		at := loc{cell: c.n, line: e.Pos.Line, col: e.Pos.Column}
		if p, ok := decode(e.Pos.Line, e.Pos.Column, c.n); ok {
			// Placed by a /*line*/ directive of a rewrite.
			at = p
		}
		return newCellError("SyntaxError", e.Msg, &at, c.orig, c.n, nil, nil, err)
	}
	return newCellError("SyntaxError", err.Error(), nil, c.orig, c.n, nil, nil, err)
}

// runGo evaluates the Go code of a cell: its runs of declarations and
// statements in order, then its final expression, if any.
func (s *Session) runGo(ctx context.Context, st *state, c *cellCode) (Outcome, error) {
	var out Outcome
	if strings.Contains(c.src, "func") {
		// Tracebacks of later cells may show code of this cell (its
		// functions); code without any cannot run after the cell.
		s.meta.Lock()
		st.cells[c.n] = c.orig
		s.meta.Unlock()
	}
	prs, err := s.parseCell(c)
	if err != nil {
		return out, err
	}
	declareFieldNames(prs)
	if err := s.checkCell(st, c, prs); err != nil {
		return out, err
	}
	if err := s.checkUnset(st, c, prs); err != nil {
		return out, err
	}
	for _, i := range s.runOrder(st, prs) {
		pr := prs[i]
		var err error
		if pr.decl {
			err = s.runDecls(ctx, st, c, pr)
		} else {
			out.HasResult, out.Result, err = s.runStmts(ctx, st, c, pr, i == len(prs)-1)
		}
		if err != nil {
			return Outcome{}, err
		}
	}
	return out, nil
}

// runOrder returns the order to run a cell's runs in: as written, except
// that declarations of new functions, types and constants further down
// run before the first statements, so that statements can call a
// function declared below them, as Go's package scope allows. A run
// stays in place when it declares a variable or imports, redefines
// something the session has (a call above a redefinition keeps the old
// one, as the cell reads), mentions a name the cell's statements define,
// or comes after an import below the first statements.
func (s *Session) runOrder(st *state, prs []*parsedRun) []int {
	order := make([]int, len(prs))
	for i := range order {
		order[i] = i
	}
	first := slices.IndexFunc(prs, func(pr *parsedRun) bool { return !pr.decl })
	if first < 0 {
		return order
	}
	defined := map[string]string{}
	for _, pr := range prs {
		if !pr.decl {
			maps.Copy(defined, definedByStmts(pr.stmts))
		}
	}
	var hoisted []int
	for i := first + 1; i < len(prs); i++ {
		pr := prs[i]
		if !pr.decl {
			continue
		}
		if imports(pr) {
			break
		}
		names, ok := newDecls(pr)
		if !ok || len(s.existing(st, names)) > 0 {
			continue
		}
		uses := false
		for _, id := range pr.file.Unresolved { // names from outside the run
			if _, d := defined[id.Name]; d {
				uses = true
			}
		}
		if !uses {
			hoisted = append(hoisted, i)
		}
	}
	if len(hoisted) == 0 {
		return order
	}
	order = append(order[:first:first], hoisted...)
	for i := first; i < len(prs); i++ {
		if !slices.Contains(hoisted, i) {
			order = append(order, i)
		}
	}
	return order
}

// imports reports whether a declaration run imports.
func imports(pr *parsedRun) bool {
	for _, d := range pr.file.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			return true
		}
	}
	return false
}

// newDecls returns the names a declaration run declares when it declares
// only functions, methods, types and constants.
func newDecls(pr *parsedRun) (map[string]string, bool) {
	names, _ := declaredNames(pr, nil)
	for _, d := range pr.file.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		switch g.Tok {
		case token.VAR, token.IMPORT:
			return nil, false
		case token.TYPE:
			for _, sp := range g.Specs {
				names[sp.(*ast.TypeSpec).Name.Name] = "type"
			}
		}
	}
	return names, true
}

// parseCell cuts a cell into runs and parses them. The parse of a cell
// depends on its source only: an identical cell reuses it (the syntax
// trees are only read).
func (s *Session) parseCell(c *cellCode) ([]*parsedRun, error) {
	if prs, ok := s.parsed[c.src]; ok {
		return prs, nil
	}
	runs := groupRuns(gocell.Split(c.src))
	prs := make([]*parsedRun, len(runs))
	for i, r := range runs {
		pr, err := parseRun(c, r)
		if err != nil {
			return nil, err
		}
		prs[i] = pr
	}
	s.keepParse(c.src, prs)
	return prs, nil
}

// keepParse keeps the parse of a cell's code for a cell run again.
func (s *Session) keepParse(src string, prs []*parsedRun) {
	if s.parsed == nil || len(s.parsed) >= maxUnits {
		s.parsed = map[string][]*parsedRun{}
	}
	s.parsed[src] = prs
}

// unit is one piece of yaegi source made from a cell.
type unit struct {
	src string
	// local runs the code in the body of a func init: its temporaries
	// live in the function's frame, which is freed after the call, not
	// in global slots, which yaegi keeps for the rest of the session
	// (see frame.go). Only code that defines no global can be local.
	local bool
	// names are the globals the unit may define or redeclare.
	names []string
	// declare, for a unit that defines globals (x := f()), is its code as
	// written: it is compiled, never run, so that yaegi declares them
	// with their types; src then sets them with = from a func init. Run
	// at the top level, the code would keep every temporary value (such
	// as f's result, the previous dataset when a cell loading one runs
	// again) in global slots for the rest of the session.
	declare string
	// retype, when set, returns another declare for when yaegi fails to
	// compile declare (see fallbackDeclare).
	retype func() (string, bool)
	// decl is set for declarations: functions may be rebound. A unit
	// that declares or redeclares names drops the kept programs that
	// refer to them; all drops them all (types, methods, imports).
	decl, all bool
	// key, when set, keeps the compiled program so that a later unit with
	// the same key runs it again instead of compiling, as long as the
	// session's globals stay the same (see state.units).
	key string
}

// unitKey is the cache key of the unit of c at [from, to). It holds the
// whole cell's source: a program compiled for an identical cell reports
// the same positions.
func unitKey(tag string, c *cellCode, from, to int) string {
	return tag + strconv.Itoa(from) + ":" + strconv.Itoa(to) + ":" + c.src
}

// evalUnit compiles (or takes from the cache) and runs one unit. cached
// reports that a kept program ran: the globals it defines kept their
// storage, nothing was redeclared.
func (s *Session) evalUnit(ctx context.Context, st *state, c *cellCode, pr *parsedRun, u unit) (cached bool, err error) {
	if ctx.Err() != nil {
		return false, errStopped()
	}
	prog, cu, err := s.compileUnit(st, u)
	if err != nil {
		err = s.convert(st, c, pr, err, st.tap.take())
		s.noteUnset(st, c, u, err)
		return false, err
	}
	err = s.runUnit(ctx, st, c, pr, u, prog)
	if err == nil {
		for _, n := range u.names {
			delete(st.unset, n)
		}
	}
	return cu != nil, err
}

// noteUnset records the variables u declares for the first time, which
// its failed compilation left declared with zero values.
func (s *Session) noteUnset(st *state, c *cellCode, u unit, err error) {
	if c == nil || len(u.names) == 0 {
		return
	}
	why := err.Error()
	var ce *CellError
	if errors.As(err, &ce) {
		why = ce.Name + ": " + ce.Value
	}
	s.meta.RLock()
	defer s.meta.RUnlock()
	for _, n := range u.names {
		if st.vars[n] != nil || st.funcs[n] != nil || st.types[n] != nil {
			continue // it has the value an earlier cell gave it
		}
		if st.unset == nil {
			st.unset = map[string]unsetVar{}
		}
		st.unset[n] = unsetVar{cell: c.n, why: why}
	}
}

// checkUnset refuses a cell that uses a variable an earlier cell declared
// without setting it (see state.unset), before anything runs: its zero
// value is no result of that cell.
func (s *Session) checkUnset(st *state, c *cellCode, prs []*parsedRun) error {
	if len(st.unset) == 0 {
		return nil
	}
	// Names the cell defines itself, in any of its runs, are its own.
	defined := map[string]string{}
	for _, pr := range prs {
		if pr.decl {
			names, _ := declaredNames(pr, nil)
			maps.Copy(defined, names)
		} else {
			maps.Copy(defined, definedByStmts(pr.stmts))
		}
	}
	for _, pr := range prs {
		keys := compositeKeys(pr.file)
		for _, id := range pr.file.Unresolved {
			u, ok := st.unset[id.Name]
			if _, own := defined[id.Name]; !ok || keys[id] || own {
				continue
			}
			return s.errorAt(c, "CompileError", fmt.Sprintf("%s has no value: %s, which defines it, failed before setting it (%s); run that cell again once it works", id.Name, s.cellName(u.cell), firstLineOf(u.why)), pr.off(id.Pos()))
		}
	}
	return nil
}

// compositeKeys returns the keys of composite literals' key-value
// elements (struct field names), which the parser leaves unresolved.
func compositeKeys(f *ast.File) map[*ast.Ident]bool {
	keys := map[*ast.Ident]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if cl, ok := n.(*ast.CompositeLit); ok {
			for _, e := range cl.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if id, ok := kv.Key.(*ast.Ident); ok {
						keys[id] = true
					}
				}
			}
		}
		return true
	})
	return keys
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// compiledUnit is a unit's program, and whether it came from the cache.
type compiledUnit struct {
	prog   *interp.Program
	cached *cachedUnit
	local  bool          // it runs in a func init
	slots  int           // global slots before it was compiled
	files  []*token.File // its source in yaegi's file set
}

// disposable reports whether nothing of u's code can run after u ran
// (it declares no function and makes no function literal), so its
// positions are no longer needed.
func (u unit) disposable() bool {
	return !u.decl && !strings.Contains(u.src, "func") && !strings.Contains(u.declare, "func")
}

// compileUnit returns u's program: a kept one or a new one.
func (s *Session) compileUnit(st *state, u unit) (*compiledUnit, *cachedUnit, error) {
	if u.key != "" {
		if cu := st.units[u.key]; cu != nil {
			return &compiledUnit{prog: cu.prog, cached: cu}, cu, nil
		}
	}
	defines := len(u.names) > 0 || u.decl
	switch {
	case u.all || len(st.units) >= maxUnits:
		st.dropUnits()
	case len(u.names) > 0:
		// Kept programs are bound to the globals and functions as they
		// were compiled.
		st.forget(u.names)
	}
	cp := &compiledUnit{slots: st.keep.size(), local: u.local}
	st.tap.take()
	fset := st.in.FileSet()
	var declared *interp.Program
	var declFiles []*token.File
	fallback := false // declared is not the code as written
	if u.declare != "" {
		base := fset.Base()
		prog, err := compileSafe(st.in, u.declare)
		st.keep.compiled()
		declFiles = filesFrom(fset, base)
		if err != nil && u.retype != nil {
			// An error the code has is found again when src compiles.
			if typed, ok := u.retype(); ok {
				base := fset.Base()
				prog2, err2 := compileSafe(st.in, typed)
				st.keep.compiled()
				files := filesFrom(fset, base)
				if err2 == nil {
					st.dropFiles(declFiles)
					prog, err, declFiles, fallback = prog2, nil, files, true
				} else {
					st.dropFiles(files)
				}
			}
		}
		if err != nil {
			return nil, nil, err
		}
		declared = prog
	}
	src := u.src
	if u.local {
		src = "func init() {" + src + "\n}"
	}
	base := fset.Base()
	prog, err := compileSafe(st.in, src)
	st.keep.compiled()
	cp.files = filesFrom(fset, base)
	switch {
	case err != nil && declared != nil && !fallback:
		// Not expected: run the code as written instead.
		st.dropFiles(cp.files)
		prog, cp.files, cp.local = declared, declFiles, false
	case err != nil:
		if !defines && u.disposable() {
			st.dropFiles(cp.files)
		}
		return nil, nil, err
	case u.disposable():
		st.dropFiles(declFiles) // compiled only
	}
	st.keep.prepare()
	cp.prog = prog
	return cp, nil, nil
}

// runUnit runs a unit's program and keeps it for an identical unit if it
// can run again: its temporaries are in its own frame, or it has none.
func (s *Session) runUnit(ctx context.Context, st *state, c *cellCode, pr *parsedRun, u unit, cp *compiledUnit) error {
	st.tap.take()
	err := s.execute(ctx, st, cp.prog)
	var stuck *StuckError
	switch {
	case cp.cached != nil || errors.As(err, &stuck):
	case err == nil && u.key != "" && c != nil && (cp.local || s.onlyGlobals(st, u, cp.slots)):
		cu := &cachedUnit{prog: cp.prog, cell: c.n, refs: identifiers(u.src)}
		if u.disposable() {
			cu.files = cp.files
		}
		st.units[u.key] = cu
	case u.disposable():
		st.dropFiles(cp.files)
	}
	if err != nil {
		if cp.cached != nil && c != nil {
			// The program's positions are those of the identical cell it
			// was compiled for.
			st.alias = cp.cached.cell
			defer func() { st.alias = 0 }()
		}
		return s.convert(st, c, pr, err, st.tap.take())
	}
	return nil
}

// onlyGlobals reports whether the global slots added since there were
// from are all u's globals: running the program again then only updates
// them. A temporary slot could still be read by a value the previous run
// made (see frame.go).
func (s *Session) onlyGlobals(st *state, u unit, from int) bool {
	if !st.keep.ok {
		return false
	}
	added := st.keep.size() - from
	for _, n := range u.names {
		if i, ok := st.keep.index(n); ok && i >= from {
			added--
		}
	}
	return added == 0
}

// runDecls evaluates a run of declarations.
func (s *Session) runDecls(ctx context.Context, st *state, c *cellCode, pr *parsedRun) error {
	blanks, err := s.prepareDecls(st, c, pr)
	if err != nil {
		return err
	}
	if vars, rest, ok := genericVarsApart(pr, blanks); ok {
		blanks = blanks[:len(blanks):len(blanks)]
		if err := s.runDeclPart(ctx, st, c, pr, append(blanks, vars...)); err != nil {
			return err
		}
		return s.runDeclPart(ctx, st, c, pr, append(blanks, rest...))
	}
	return s.runDeclPart(ctx, st, c, pr, blanks)
}

// genericVarsApart returns, when a var declaration of run pr defines a
// variable from a call of a generic function the run declares (var x,
// err = Pair[int](3) below func Pair), where the run's var declarations
// are (vars) and where the rest is (rest), so that the rest runs first
// and the variables are then declared with the types the function gives
// (see genericResults; yaegi cannot work them out). ok is false when no
// such declaration is there, or when a declaration of the run refers to
// one of its variables (the rest could not run first).
func genericVarsApart(pr *parsedRun, blanks []span) (vars, rest []span, ok bool) {
	generic := map[string]bool{}
	for _, d := range pr.file.Decls {
		if fd, isFunc := d.(*ast.FuncDecl); isFunc && fd.Recv == nil && fd.Type.TypeParams != nil && !blanked(pr, d.Pos(), blanks) {
			generic[fd.Name.Name] = true
		}
	}
	if len(generic) == 0 {
		return nil, nil, false
	}
	calls := false
	isVar := map[*ast.Object]bool{}
	for _, d := range pr.file.Decls {
		g, isGen := d.(*ast.GenDecl)
		at := span{start: pr.off(d.Pos()), end: pr.off(d.End())}
		if !isGen || g.Tok != token.VAR {
			rest = append(rest, at)
			continue
		}
		vars = append(vars, at)
		for _, sp := range g.Specs {
			vs := sp.(*ast.ValueSpec)
			for _, id := range vs.Names {
				isVar[id.Obj] = true
			}
			for _, v := range vs.Values {
				if call, isCall := ast.Unparen(v).(*ast.CallExpr); isCall && generic[rootName(indexed(call.Fun))] {
					calls = true
				}
			}
		}
	}
	if !calls {
		return nil, nil, false
	}
	for _, d := range pr.file.Decls {
		if g, isGen := d.(*ast.GenDecl); isGen && g.Tok == token.VAR {
			continue
		}
		uses := false
		ast.Inspect(d, func(n ast.Node) bool {
			if id, isIdent := n.(*ast.Ident); isIdent && id.Obj != nil && isVar[id.Obj] {
				uses = true
			}
			return !uses
		})
		if uses {
			return nil, nil, false
		}
	}
	return vars, rest, true
}

// indexed returns the function of an instantiation (f of f[int]).
func indexed(x ast.Expr) ast.Expr {
	switch f := ast.Unparen(x).(type) {
	case *ast.IndexExpr:
		return f.X
	case *ast.IndexListExpr:
		return f.X
	}
	return x
}

// runDeclPart evaluates the declarations of a run that blanks do not
// leave out.
func (s *Session) runDeclPart(ctx context.Context, st *state, c *cellCode, pr *parsedRun, blanks []span) error {
	text := blankOut(c.src, pr.start, pr.end, blanks)
	if !hasCode(text) {
		return nil
	}
	text = varsLast(c, pr, text, blanks)
	defined, funcs := declaredNames(pr, blanks)
	existed := s.existing(st, defined)
	old := captureGlobals(st, existed)
	line, col := c.pos(pr.start)
	u := unit{src: directive(c.n, line, col) + text, names: sortedKeys(defined), decl: true, all: declaresTypes(pr, blanks)}
	if set, ok := varAssignments(c, pr, blanks); ok {
		// As for x := f() (see unit.declare).
		u.declare, u.src, u.local = u.src, ";"+set, true
		u.retype = func() (string, bool) {
			typed, ok := s.typedVarDecls(st, c, pr, text, blanks)
			return directive(c.n, line, col) + typed, ok
		}
	}
	if _, err := s.evalUnit(ctx, st, c, pr, u); err != nil {
		return err
	}
	s.trackDecls(st, c, pr, blanks)
	s.afterRedefine(ctx, st, existed, funcs, old)
	return nil
}

// varsLast returns text, the code of the declaration run pr (blanked
// where blanks say), with its var declarations moved after the others,
// each placed at its own position, when yaegi v0.16.1 would get them
// wrong in place:
//   - a function follows a var declaration of several variables from one
//     call: yaegi takes a function declared below such a declaration for
//     one that returns nothing ("assignment mismatch: 2 variables but f
//     returns 0 values"), as it does not for var a = f();
//   - a variable's initializer depends, through the run's functions, on
//     a variable declared below it (var c = g() above var a = 5, g
//     reading a): yaegi initializes in the order written, so c would be
//     computed from a zero a. Go initializes by dependency (the earliest
//     variable whose dependencies are initialized, repeatedly), and so do
//     the moved declarations, one spec at a time.
//
// In Go the order of a package's declarations does not matter otherwise.
func varsLast(c *cellCode, pr *parsedRun, text string, blanks []span) string {
	multi, funcBelow := false, false
	var vars []*ast.GenDecl
	var specs []*ast.ValueSpec
	funcs := map[string]*ast.FuncDecl{}
	for _, d := range pr.file.Decls {
		if blanked(pr, d.Pos(), blanks) {
			continue
		}
		switch d := d.(type) {
		case *ast.FuncDecl:
			funcBelow = funcBelow || multi
			if d.Recv == nil && d.Body != nil {
				funcs[d.Name.Name] = d
			}
		case *ast.GenDecl:
			if d.Tok != token.VAR {
				continue
			}
			vars = append(vars, d)
			for _, sp := range d.Specs {
				vs := sp.(*ast.ValueSpec)
				specs = append(specs, vs)
				if len(vs.Names) > 1 && len(vs.Values) == 1 {
					multi = true
				}
			}
		}
	}
	order := initOrder(specs, funcs)
	if !funcBelow && order == nil {
		return text
	}
	b := []byte(text)
	var tail strings.Builder
	for _, d := range vars {
		from, to := pr.off(d.Pos())-pr.start, pr.off(d.End())-pr.start
		if order == nil {
			line, col := c.pos(pr.off(d.Pos()))
			tail.WriteString(directive(c.n, line, col) + string(b[from:to]))
		}
		blankBytes(b[from:to])
	}
	for _, i := range order {
		// Each spec on its own, its text where the cell has it.
		sp := specs[i]
		from, to := pr.off(sp.Pos())-pr.start, pr.off(sp.End())-pr.start
		line, col := c.pos(pr.off(sp.Pos()))
		tail.WriteString("\nvar " + lineComment(c.n, line, col) + text[from:to])
	}
	return string(b) + tail.String() + "\n"
}

// initOrder returns the order in which Go initializes the variables of
// specs (indexes into specs), or nil when it is the order written. A
// spec depends on the variables of the other specs its initializers
// refer to, directly or through the bodies of funcs (the run's
// functions), transitively; Go picks the earliest spec whose
// dependencies are all initialized, repeatedly. References are the
// parser's resolved identifiers, so a local variable, a parameter or a
// struct literal's field key of the same name is none. Methods reached
// through x.M() are not followed. A cycle, which Go refuses, keeps the
// order written for yaegi to report.
func initOrder(specs []*ast.ValueSpec, funcs map[string]*ast.FuncDecl) []int {
	if len(specs) < 2 {
		return nil
	}
	owner := map[*ast.Object]int{}
	for i, sp := range specs {
		for _, id := range sp.Names {
			if id.Name != "_" && id.Obj != nil {
				owner[id.Obj] = i
			}
		}
	}
	fobj := map[*ast.Object]*ast.FuncDecl{}
	for _, f := range funcs {
		if f.Name.Obj != nil {
			fobj[f.Name.Obj] = f
		}
	}
	// The specs n refers to, through the bodies of the functions it
	// names.
	var refs func(n ast.Node, seen map[*ast.Object]bool, out map[int]bool)
	refs = func(n ast.Node, seen map[*ast.Object]bool, out map[int]bool) {
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				refs(n.X, seen, out)
				return false
			case *ast.CompositeLit:
				// A key is a field name unless the literal is a map's
				// (a named map type's keys are missed: rare).
				_, isMap := n.Type.(*ast.MapType)
				if n.Type != nil {
					refs(n.Type, seen, out)
				}
				for _, e := range n.Elts {
					if kv, ok := e.(*ast.KeyValueExpr); ok {
						if isMap {
							refs(kv.Key, seen, out)
						}
						refs(kv.Value, seen, out)
						continue
					}
					refs(e, seen, out)
				}
				return false
			case *ast.Ident:
				if n.Obj == nil {
					return true
				}
				if i, ok := owner[n.Obj]; ok {
					out[i] = true
				}
				if f := fobj[n.Obj]; f != nil && !seen[n.Obj] {
					seen[n.Obj] = true
					refs(f.Body, seen, out)
				}
			}
			return true
		})
	}
	deps := make([]map[int]bool, len(specs))
	anyLater := false
	for i, sp := range specs {
		deps[i] = map[int]bool{}
		for _, v := range sp.Values {
			refs(v, map[*ast.Object]bool{}, deps[i])
		}
		delete(deps[i], i)
		for j := range deps[i] {
			anyLater = anyLater || j > i
		}
	}
	if !anyLater {
		return nil
	}
	done := make([]bool, len(specs))
	var order []int
	for len(order) < len(specs) {
		picked := -1
		for i := range specs {
			if done[i] {
				continue
			}
			ready := true
			for j := range deps[i] {
				if !done[j] {
					ready = false
					break
				}
			}
			if ready {
				picked = i
				break
			}
		}
		if picked < 0 {
			return nil // a cycle
		}
		done[picked] = true
		order = append(order, picked)
	}
	for k, i := range order {
		if k != i {
			return order
		}
	}
	return nil
}

// runStmts evaluates a run of statements; when it is the cell's last run
// and ends with an expression, it returns that expression's rendered value.
func (s *Session) runStmts(ctx context.Context, st *state, c *cellCode, pr *parsedRun, last bool) (bool, display.Bundle, error) {
	stmts := pr.stmts
	var final *ast.ExprStmt
	if last && len(stmts) > 0 {
		final, _ = stmts[len(stmts)-1].(*ast.ExprStmt)
	}
	end := pr.end
	if final != nil {
		end = pr.off(final.Pos())
		stmts = stmts[:len(stmts)-1]
	}
	if err := s.checkShadowing(st, c, pr, stmts); err != nil {
		return false, display.Bundle{}, err
	}
	// yaegi declares the globals a unit defines before compiling it, so
	// when x := ... redeclares an existing x, every use of x in the unit,
	// before the statement and on its right side included, reads the new,
	// zero x. Such a statement starts a new unit, and when it reads x
	// itself it runs through temporaries.
	from := pr.start
	var seg []ast.Stmt
	for _, stmt := range stmts {
		as, ok := stmt.(*ast.AssignStmt)
		if !ok || as.Tok != token.DEFINE {
			seg = append(seg, stmt)
			continue
		}
		redecl, self := s.redeclaration(st, as)
		if !redecl {
			seg = append(seg, stmt)
			continue
		}
		if err := s.runSegment(ctx, st, c, pr, from, pr.off(as.Pos()), seg); err != nil {
			return false, display.Bundle{}, err
		}
		from, seg = pr.off(as.Pos()), []ast.Stmt{stmt}
		if self {
			if err := s.runSelfRedefinition(ctx, st, c, pr, as); err != nil {
				return false, display.Bundle{}, err
			}
			from, seg = pr.off(as.End()), nil
		}
	}
	if err := s.runSegment(ctx, st, c, pr, from, end, seg); err != nil {
		return false, display.Bundle{}, err
	}
	if final == nil {
		return false, display.Bundle{}, nil
	}
	return s.runResult(ctx, st, c, pr, final)
}

// runSegment evaluates the statements in src[from:to] of a statement run.
func (s *Session) runSegment(ctx context.Context, st *state, c *cellCode, pr *parsedRun, from, to int, stmts []ast.Stmt) error {
	text := c.src[from:to]
	if !hasCode(text) {
		return nil
	}
	defined := definedByStmts(stmts)
	line, col := c.pos(from)
	// The leading ';' keeps yaegi from taking a statement that starts
	// with "func" (a function literal) for a declaration.
	head := ";" + directive(c.n, line, col)
	u := unit{src: head + text, local: true, names: sortedKeys(defined), key: unitKey("s", c, from, to)}
	if len(u.names) > 0 {
		u.declare, u.src = u.src, head+assignments(c, pr, from, to, stmts)
		u.retype = func() (string, bool) { return s.fallbackDeclare(st, c, pr, stmts) }
	}
	var existed map[string]string
	var old map[string]reflect.Value
	if !st.cached(u.key) {
		existed = s.existing(st, defined)
		old = captureGlobals(st, existed)
	}
	cached, err := s.evalUnit(ctx, st, c, pr, u)
	if err != nil {
		return err
	}
	s.trackStmts(st, c, pr, stmts)
	if !cached {
		s.afterRedefine(ctx, st, existed, nil, old)
	}
	return nil
}

// runSelfRedefinition evaluates x, y := ...x... as __glt0, __glt1 := ...x...
// then x, y := __glt0, __glt1.
func (s *Session) runSelfRedefinition(ctx context.Context, st *state, c *cellCode, pr *parsedRun, as *ast.AssignStmt) error {
	var tmps, lhs []string
	for i, l := range as.Lhs {
		tmps = append(tmps, fmt.Sprintf("__glt%d", i))
		lhs = append(lhs, l.(*ast.Ident).Name)
	}
	rs, re := pr.off(as.Rhs[0].Pos()), pr.off(as.Rhs[len(as.Rhs)-1].End())
	line, col := c.pos(rs)
	u := unit{
		declare: ";" + strings.Join(tmps, ", ") + " :=" + directive(c.n, line, col) + c.src[rs:re],
		src:     ";" + assignment(c, pr, tmps, as.Rhs),
		local:   true,
		names:   tmps,
		key:     unitKey("t", c, rs, re),
	}
	u.retype = func() (string, bool) { return s.typedVars(st, c, pr, ";"+directive(c.n, line, col), tmps, as) }
	if _, err := s.evalUnit(ctx, st, c, pr, u); err != nil {
		return err
	}
	defined := definedByStmts([]ast.Stmt{as})
	line, col = c.pos(pr.off(as.Pos()))
	var set strings.Builder
	for i := range lhs {
		set.WriteString(lhs[i] + " = " + tmps[i] + "\n")
	}
	u = unit{
		declare: ";" + directive(c.n, line, col) + strings.Join(lhs, ", ") + " := " + strings.Join(tmps, ", "),
		src:     ";" + directive(c.n, line, col) + set.String(),
		local:   true,
		names:   lhs,
		key:     unitKey("u", c, pr.off(as.Pos()), re),
	}
	var existed map[string]string
	var old map[string]reflect.Value
	if !st.cached(u.key) {
		existed = s.existing(st, defined)
		old = captureGlobals(st, existed)
	}
	cached, err := s.evalUnit(ctx, st, c, pr, u)
	if err != nil {
		return err
	}
	for _, t := range tmps {
		if v, ok := st.global(t); ok && v.CanSet() {
			v.Set(reflect.Zero(v.Type())) // the temporaries keep nothing alive
		}
	}
	s.trackStmts(st, c, pr, []ast.Stmt{as})
	if !cached {
		s.afterRedefine(ctx, st, existed, nil, old)
	}
	return nil
}

// varAssignments returns code that sets the variables a declaration run
// declares with values, in order, when that is all the run does at run
// time: it declares no function (yaegi makes functions ready when the
// declaring code runs) and no value reads a variable of the run (Go
// orders those by dependency).
func varAssignments(c *cellCode, pr *parsedRun, blanks []span) (string, bool) {
	declared := map[string]bool{}
	var specs []*ast.ValueSpec
	for _, d := range pr.file.Decls {
		if blanked(pr, d.Pos(), blanks) {
			continue
		}
		switch d := d.(type) {
		case *ast.FuncDecl:
			return "", false
		case *ast.GenDecl:
			if d.Tok != token.VAR {
				continue
			}
			for _, sp := range d.Specs {
				vs := sp.(*ast.ValueSpec)
				for _, id := range vs.Names {
					declared[id.Name] = true
				}
				if len(vs.Values) > 0 {
					specs = append(specs, vs)
				}
			}
		}
	}
	if len(specs) == 0 {
		return "", false
	}
	var b strings.Builder
	for _, vs := range specs {
		reads := false
		for _, v := range vs.Values {
			ast.Inspect(v, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && declared[id.Name] {
					reads = true
				}
				return !reads
			})
		}
		if reads {
			return "", false
		}
		names := make([]string, len(vs.Names))
		for i, id := range vs.Names {
			names[i] = id.Name
		}
		b.WriteString(assignment(c, pr, names, vs.Values) + "\n")
	}
	return b.String(), true
}

// assignments returns c.src[from:to] with its top-level definitions
// (x := f()) turned into assignments (x = f()), at the same positions.
func assignments(c *cellCode, pr *parsedRun, from, to int, stmts []ast.Stmt) string {
	text := c.src[from:to]
	for i := len(stmts) - 1; i >= 0; i-- { // from the end: offsets stay valid
		as, ok := stmts[i].(*ast.AssignStmt)
		if !ok || as.Tok != token.DEFINE {
			continue
		}
		if len(as.Rhs) == 1 {
			// "= " keeps the columns.
			if k := pr.off(as.TokPos) - from; k >= 0 && k+2 <= len(text) {
				text = text[:k] + "= " + text[k+2:]
			}
			continue
		}
		lhs := make([]string, len(as.Lhs))
		for j, l := range as.Lhs {
			lhs[j] = c.src[pr.off(l.Pos()):pr.off(l.End())]
		}
		start, end := pr.off(as.Pos())-from, pr.off(as.End())-from
		line, col := c.pos(pr.off(as.End()))
		text = text[:start] + assignment(c, pr, lhs, as.Rhs) + lineComment(c.n, line, col) + text[end:]
	}
	return text
}

// assignment returns code setting lhs from rhs as lhs = rhs would, with
// the expressions at their positions in the cell. yaegi v0.16.1 assigns
// a, b = 1, f() wrongly (a gets f's value): several expressions are
// assigned one after the other (a definition's expressions cannot read
// the variables it defines, see runSelfRedefinition).
func assignment(c *cellCode, pr *parsedRun, lhs []string, rhs []ast.Expr) string {
	expr := func(x ast.Expr) string {
		line, col := c.pos(pr.off(x.Pos()))
		return lineComment(c.n, line, col) + c.src[pr.off(x.Pos()):pr.off(x.End())]
	}
	if len(rhs) == 1 {
		return strings.Join(lhs, ", ") + " = " + expr(rhs[0])
	}
	var b strings.Builder
	for i, l := range lhs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(l + " = " + expr(rhs[i]))
	}
	return b.String()
}

// lineComment places the code that follows at line, col of cell n, within
// a line.
func lineComment(n, line, col int) string {
	return fmt.Sprintf("/*line _.go:%d:%d*/", encodeLine(n, line), col)
}

// runResult evaluates the cell's final expression statement and renders
// its value if it has one (see the package documentation for the rule).
func (s *Session) runResult(ctx context.Context, st *state, c *cellCode, pr *parsedRun, final *ast.ExprStmt) (bool, display.Bundle, error) {
	start, end := pr.off(final.X.Pos()), pr.off(final.X.End())
	expr := c.src[start:end]
	line, col := c.pos(start)
	dir := directive(c.n, line, col)
	plain := func() (bool, display.Bundle, error) {
		_, err := s.evalUnit(ctx, st, c, pr, unit{src: ";" + dir + expr, local: true, key: unitKey("p", c, start, end)})
		return false, display.Bundle{}, err
	}
	x := ast.Unparen(final.X)
	if id, ok := x.(*ast.Ident); ok && id.Name == "nil" {
		return plain()
	}
	call, isCall := x.(*ast.CallExpr)
	counted := false // the call's result count is known to be 1
	if isCall {
		if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok && gocell.NoValueBuiltin(id.Name) && !s.sessionName(st, id.Name) {
			return plain()
		}
		n, ok := s.callResults(st, c, pr, call)
		if ok && n != 1 {
			if n >= 2 {
				return s.runErrorResult(ctx, st, c, pr, dir, expr, n, start, end, gocell.ByteCount(call), plain)
			}
			return plain()
		}
		counted = ok
	}
	if ctx.Err() != nil {
		return false, display.Bundle{}, errStopped()
	}
	// One compilation (two when the expression's type is not known and
	// the session has types with display methods). It fails for a call
	// with no value or several, and for a wrong expression, which plain
	// reports as well. The first //line places the start of the code,
	// where yaegi reports the top-level frame of a panic, at the
	// expression too.
	u := unit{local: true, key: unitKey("r", c, start, end)}
	if cu := st.units[u.key]; cu != nil && cu.prog == nil {
		return plain() // as found before: a call without one value
	}
	hook := ".Value("
	if isCall {
		hook = ".Result(" // an error it returns fails the cell
	}
	src := ";" + dir + hookImport + hook + dir + expr + ",\n)"
	iface := false
	if s.declareShow(ctx, st) {
		class := s.resultClass(st, x, dir+expr)
		if class != plainClass && isCall && !counted {
			// yaegi compiles v := f() for an f with several results,
			// keeping the first: only the one-argument form tells
			// whether a method call has one value, or none or several.
			if s.compileProbe(st, unit{local: true, key: unitKey("q", c, start, end), src: src}) == nil {
				return s.runUncounted(ctx, st, c, pr, dir, expr, start, end, gocell.ByteCount(call), plain)
			}
		}
		// A non-nil error a call returns fails the cell (the Result
		// hook), whatever else the value's type shows.
		failOr := func(v, show string) string {
			if !isCall {
				return show
			}
			// A compiled hook tests it: yaegi's type switch misses
			// compiled errors in an any, and its v.(error) panics on nil.
			return "if !" + hookImport + ".Failed(" + v + ") {\n" + show + "\n}"
		}
		switch class {
		case cellClass:
			// The hooks see the value with its static type.
			src = ";" + dir + "__glv :=" + dir + expr + "\n" + failOr("__glv", resultHooks)
		case ifaceClass:
			// The dynamic type decides: showName switches over the
			// session's types.
			src = ";" + dir + showVar + " =" + dir + expr + "\n" + failOr(showVar, showName+"()")
			iface = true
		}
	}
	u.src = src
	cp, _, err := s.compileUnit(st, u)
	if err != nil {
		if isCall {
			st.units[u.key] = &cachedUnit{} // remembered until globals change
			// A call whose result count the session cannot tell (a
			// method of a local value, a chain of calls) has none or
			// several.
			return s.runUncounted(ctx, st, c, pr, dir, expr, start, end, gocell.ByteCount(call), plain)
		}
		return false, display.Bundle{}, s.convert(st, c, pr, err, st.tap.take())
	}
	shown, b, err := s.runShowing(ctx, st, c, pr, u, cp)
	err = s.callFailed(c, err, start)
	if v, ok := st.global(showVar); iface && ok && v.CanSet() {
		v.Set(reflect.Zero(v.Type())) // keeps nothing alive
	}
	return shown, b, err
}

// runShowing runs u, a unit whose hooks show the cell's result, and
// returns what they showed, or a *callError when the final call returned
// an error.
func (s *Session) runShowing(ctx context.Context, st *state, c *cellCode, pr *parsedRun, u unit, cp *compiledUnit) (bool, display.Bundle, error) {
	st.col.reset()
	err := s.runUnit(ctx, st, c, pr, u, cp)
	b, ok := st.col.bundle()
	fail := st.col.failure()
	st.col.reset()
	if err != nil {
		return false, display.Bundle{}, err
	}
	if fail != nil {
		return false, display.Bundle{}, &callError{fail}
	}
	return ok, b, nil
}

// runErrorResult runs a final call with n results, the last an error:
// when it is not nil, it is the cell's result (a strconv.Atoi("x") must
// not fail unseen); when it is nil, the other results are: the first as
// a single result is when there are two (cm.Plot() shows the plot,
// strconv.Atoi("42") 42), a tuple of them when there are more. quiet
// calls (fmt.Println's byte count) show only a non-nil error. A call
// whose last result is no error shows its results as a tuple (see
// runTuple), unless quiet.
func (s *Session) runErrorResult(ctx context.Context, st *state, c *cellCode, pr *parsedRun, dir, expr string, n, start, end int, quiet bool, plain func() (bool, display.Bundle, error)) (bool, display.Bundle, error) {
	if cp, u := s.probeErrorResult(st, c, dir, expr, n, start, end, quiet); cp != nil {
		shown, b, err := s.runShowing(ctx, st, c, pr, u, cp)
		return shown, b, s.callFailed(c, err, start)
	}
	if quiet {
		return plain()
	}
	return s.runTuple(ctx, st, c, pr, dir, expr, n, start, end, plain)
}

// maxProbedResults is the most results runUncounted tries.
const maxProbedResults = 6

// runUncounted runs a final call whose result count is not known and
// is not one: the first form that compiles, with 2 to maxProbedResults
// results, the last an error (as runErrorResult) or not (a tuple), tells
// it (yaegi refuses to assign a call to several variables of another
// count). A call with no result, or more, runs as it is.
func (s *Session) runUncounted(ctx context.Context, st *state, c *cellCode, pr *parsedRun, dir, expr string, start, end int, quiet bool, plain func() (bool, display.Bundle, error)) (bool, display.Bundle, error) {
	for n := 2; n <= maxProbedResults; n++ {
		if cp, u := s.probeErrorResult(st, c, dir, expr, n, start, end, quiet); cp != nil {
			shown, b, err := s.runShowing(ctx, st, c, pr, u, cp)
			return shown, b, s.callFailed(c, err, start)
		}
	}
	if quiet {
		return plain()
	}
	for n := 2; n <= maxProbedResults; n++ {
		if cp, u := s.probeTuple(st, c, dir, expr, n, start, end); cp != nil {
			return s.runShowing(ctx, st, c, pr, u, cp)
		}
	}
	return plain()
}

// probeErrorResult compiles the unit runErrorResult runs for a call of n
// results, the last an error; nil when the call is not one.
func (s *Session) probeErrorResult(st *state, c *cellCode, dir, expr string, n, start, end int, quiet bool) (*compiledUnit, unit) {
	lhs := make([]string, n)
	for i := range lhs {
		lhs[i] = "_"
	}
	lhs[n-1] = "__glerr"
	show := "if __gle != nil {\n" + hookImport + ".Fail(__gle)\n}"
	fail := hookImport + ".Fail(__gle)"
	switch {
	case n == 2 && !quiet:
		// The value keeps its static type for the hooks, as a
		// single result does (its display methods, if declared in
		// a cell).
		lhs[0] = "__glv"
		show = "if __gle != nil {\n" + fail + "\n} else {\n" + resultHooks + "\n}"
	case !quiet:
		names := tupleNames(n - 1)
		copy(lhs, names)
		show = "if __gle != nil {\n" + fail + "\n} else {\n" + hookImport + ".Tuple(" + strings.Join(names, ", ") + ")\n}"
	}
	// The assignment to an error variable compiles only when the last
	// result is one.
	u := unit{local: true, key: unitKey(fmt.Sprintf("e%d", n), c, start, end),
		src: ";" + dir + strings.Join(lhs, ", ") + " :=" + dir + expr + "\nvar __gle error = __glerr\n" + show}
	return s.compileProbe(st, u), u
}

// runTuple runs a final call with n results, the last no error, and
// shows them as a tuple: (r, c) for X.Dims().
func (s *Session) runTuple(ctx context.Context, st *state, c *cellCode, pr *parsedRun, dir, expr string, n, start, end int, plain func() (bool, display.Bundle, error)) (bool, display.Bundle, error) {
	if cp, u := s.probeTuple(st, c, dir, expr, n, start, end); cp != nil {
		return s.runShowing(ctx, st, c, pr, u, cp)
	}
	return plain()
}

// probeTuple compiles the unit runTuple runs for a call of n results;
// nil when the call is not one.
func (s *Session) probeTuple(st *state, c *cellCode, dir, expr string, n, start, end int) (*compiledUnit, unit) {
	names := tupleNames(n)
	u := unit{local: true, key: unitKey(fmt.Sprintf("t%d", n), c, start, end),
		src: ";" + dir + strings.Join(names, ", ") + " :=" + dir + expr + "\n" + hookImport + ".Tuple(" + strings.Join(names, ", ") + ")"}
	return s.compileProbe(st, u), u
}

// compileProbe compiles a unit that tries one form of a result, or
// returns nil when it does not compile. A failure is remembered, so an
// identical cell does not compile it again until the globals change.
func (s *Session) compileProbe(st *state, u unit) *compiledUnit {
	if cu := st.units[u.key]; cu != nil && cu.prog == nil {
		return nil
	}
	cp, _, err := s.compileUnit(st, u)
	if err != nil {
		st.units[u.key] = &cachedUnit{}
		return nil
	}
	return cp
}

// tupleNames names the n values of a tuple result.
func tupleNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("__glt%d", i)
	}
	return names
}

// resultClass classifies a result expression (see static.go); when the
// parse cannot tell, compiling code is the probe: a type assertion
// compiles only on an interface.
func (s *Session) resultClass(st *state, x ast.Expr, code string) class {
	s.meta.RLock()
	cls := s.exprClass(st, x, 0)
	s.meta.RUnlock()
	if cls != unknownClass {
		return cls
	}
	fset := st.in.FileSet()
	base := fset.Base()
	_, err := compileSafe(st.in, "func init() {\n_ = ("+code+").(interface{})\n}")
	st.keep.compiled()
	st.dropFiles(filesFrom(fset, base)) // compiled only
	if err == nil {
		return ifaceClass
	}
	return cellClass
}

// showName and showVar hand a result to the hooks when the session has
// types with display methods (see declareShow).
const (
	showName = "__glshow"
	showVar  = "__glin"
)

// declareShow makes sure, when the session has types with display
// methods, that showName is declared for them, and reports whether it is.
// The hooks must see the value with its own static type for yaegi to pass
// a value of a type declared in a cell with its methods (see result.go).
// A result of a concrete type is handed to every hook in a block (not
// a function literal: yaegi copies the whole global frame for each). A
// result of an interface type is assigned to showVar (which keeps its
// dynamic type) and showName hands it to every hook through a type switch
// over those types. showName is declared again only when the types or
// their methods change.
func (s *Session) declareShow(ctx context.Context, st *state) bool {
	types, key := s.richTypes(st)
	if len(types) == 0 {
		return false
	}
	if st.showKey != key {
		var b strings.Builder
		b.WriteString("var " + showVar + " any\nfunc " + showName + "() {\nswitch __glv := " + showVar + ".(type) {\n")
		for _, t := range types {
			b.WriteString("case " + t + ": " + resultHooks + "\ncase *" + t + ": " + resultHooks + "\n")
		}
		b.WriteString("default: " + hookImport + ".Value(__glv)\n}\n}")
		_, err := s.evalUnit(ctx, st, nil, nil, unit{src: b.String(), names: []string{showVar}, decl: true, all: true})
		st.showKey, st.showOK = key, err == nil
	}
	return st.showOK
}

// sessionName reports whether the session declared name at top level.
func (s *Session) sessionName(st *state, name string) bool {
	s.meta.RLock()
	defer s.meta.RUnlock()
	return st.funcs[name] != nil || st.vars[name] != nil || st.types[name] != nil || st.imports[name] != ""
}

// existing returns those of names the session already declared as
// functions, variables or constants, with their kind.
func (s *Session) existing(st *state, names map[string]string) map[string]string {
	s.meta.RLock()
	defer s.meta.RUnlock()
	out := map[string]string{}
	for n := range names {
		if d := st.funcs[n]; d != nil {
			out[n] = d.kind
		} else if d := st.vars[n]; d != nil {
			out[n] = d.kind
		}
	}
	return out
}

// captureGlobals returns the storage of the session's current variables
// among names, to release it once they are redeclared.
func captureGlobals(st *state, names map[string]string) map[string]reflect.Value {
	if len(names) == 0 {
		return nil
	}
	out := map[string]reflect.Value{}
	for n := range names {
		if v, ok := st.global(n); ok && v.IsValid() && v.CanSet() && v.CanAddr() {
			out[n] = v
		}
	}
	return out
}

// afterRedefine runs after a unit redeclared the names in changed. yaegi
// binds a function's references when it compiles it (yaegi #1673), and a
// redeclared variable gets new storage, so functions that use a changed
// name (directly or through other functions) are compiled again from their
// source. Methods cannot be redefined in yaegi: those are reported. The
// old storage of redeclared variables is zeroed so that their values can
// be collected.
func (s *Session) afterRedefine(ctx context.Context, st *state, changed map[string]string, fresh map[string]bool, old map[string]reflect.Value) {
	if len(changed) > 0 {
		s.rebind(ctx, st, changed, fresh)
	}
	if len(old) == 0 {
		return
	}
	for n, v := range old {
		if nv, ok := st.global(n); ok && nv.IsValid() && nv.CanAddr() && nv.UnsafeAddr() == v.UnsafeAddr() {
			continue // same storage
		}
		v.Set(reflect.Zero(v.Type()))
	}
}

func (s *Session) rebind(ctx context.Context, st *state, changed map[string]string, fresh map[string]bool) {
	s.meta.RLock()
	affected := map[string]bool{}
	uses := func(d *declInfo) bool {
		for r := range d.refs {
			if _, ok := changed[r]; ok || affected[r] {
				return true
			}
		}
		return false
	}
	for grew := true; grew; {
		grew = false
		for name, d := range st.funcs {
			if !affected[name] && !fresh[name] && uses(d) {
				affected[name] = true
				grew = true
			}
		}
	}
	var stale []string
	for key, d := range st.methods {
		if uses(d) {
			stale = append(stale, key)
		}
	}
	var decls []*declInfo
	for name := range affected {
		decls = append(decls, st.funcs[name])
	}
	s.meta.RUnlock()

	sort.Slice(decls, func(i, j int) bool { return decls[i].name < decls[j].name })
	if len(decls) > 0 {
		var b strings.Builder
		for _, d := range decls {
			b.WriteString(directive(d.cell, d.line, d.col))
			b.WriteString(s.declPanics(s.declRanges(st, d)))
			b.WriteString("\n")
		}
		rebound := make([]string, len(decls))
		for i, d := range decls {
			rebound[i] = d.name
		}
		if _, err := s.evalUnit(ctx, st, nil, nil, unit{src: b.String(), names: rebound, decl: true}); err != nil {
			// One of them no longer compiles: update the others one by
			// one and say which keeps the old definitions.
			for _, d := range decls {
				_, err := s.evalUnit(ctx, st, nil, nil, unit{src: directive(d.cell, d.line, d.col) + s.declPanics(s.declRanges(st, d)), names: []string{d.name}, decl: true})
				if err == nil {
					continue
				}
				// Its old definition is gone with the old variables: a
				// call would fail inside the interpreter. It is replaced
				// by one that says why.
				why := fmt.Sprintf("%s no longer compiles after %s changed (%s): define it again", d.name, names(changed), errorText(err))
				if stub, ok := failingFunc(d.src, why); ok {
					if _, err := s.evalUnit(ctx, st, nil, nil, unit{src: directive(d.cell, d.line, d.col) + stub, names: []string{d.name}, decl: true}); err == nil {
						fmt.Fprintf(s.opts.Stderr, "note: %s; until then a call to it panics\n", why)
						continue
					}
				}
				fmt.Fprintf(s.opts.Stderr, "note: %s\n", why)
			}
		}
	}
	if len(stale) > 0 {
		sort.Strings(stale)
		fmt.Fprintf(s.opts.Stderr, "note: method %s still uses the previous %s (yaegi cannot redefine methods; %%reset and re-run the cells to update it)\n",
			strings.Join(stale, ", "), names(changed))
	}
}

// failingFunc returns the function declared by src (a declaration as
// written) with a body that panics with msg, and whether src is one.
func failingFunc(src, msg string) (string, bool) {
	const head = "package p\n"
	f, err := parser.ParseFile(token.NewFileSet(), "", head+src, parser.SkipObjectResolution)
	if err != nil || len(f.Decls) != 1 {
		return "", false
	}
	fd, ok := f.Decls[0].(*ast.FuncDecl)
	if !ok || fd.Recv != nil || fd.Body == nil {
		return "", false
	}
	sig := src[:int(fd.Body.Lbrace)-1-len(head)]
	return sig + "{ panic(" + strconv.Quote(msg) + ") }", true
}

func names(m map[string]string) string {
	var l []string
	for n := range m {
		l = append(l, n)
	}
	sort.Strings(l)
	return strings.Join(l, ", ")
}

// span is a byte range of the cell; orig, for text the kernel put in
// place of the cell's (see rewritePanics), is what the cell wrote there.
type span struct {
	start, end int
	orig       string
	repl       string // what rewritePanics wrote over orig
}

// blankOut returns src[start:end] with the spans replaced by spaces (line
// breaks kept, so positions do not move).
func blankOut(src string, start, end int, blanks []span) string {
	b := []byte(src[start:end])
	for _, sp := range blanks {
		lo, hi := max(sp.start-start, 0), min(sp.end-start, len(b))
		if lo < hi {
			blankBytes(b[lo:hi])
		}
	}
	return string(b)
}

// blankBytes turns b's bytes into spaces, but for newlines, so that the
// code around keeps its lines and columns.
func blankBytes(b []byte) {
	for i, c := range b {
		if c != '\n' {
			b[i] = ' '
		}
	}
}

// hasCode reports whether src holds any token (not only comments).
func hasCode(src string) bool {
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", fset.Base(), len(src)), []byte(src), func(token.Position, string) {}, 0)
	for {
		_, t, _ := s.Scan()
		switch t {
		case token.EOF:
			return false
		case token.SEMICOLON:
			continue
		}
		return true
	}
}

// normTokens is src's token sequence, to compare declarations regardless
// of spacing and comments.
func normTokens(src string) string {
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", fset.Base(), len(src)), []byte(src), func(token.Position, string) {}, 0)
	var b strings.Builder
	for {
		_, t, lit := s.Scan()
		if t == token.EOF {
			return strings.TrimRight(b.String(), "; ")
		}
		if t == token.SEMICOLON {
			lit = ";"
		}
		if lit == "" {
			lit = t.String()
		}
		b.WriteString(lit)
		b.WriteByte(' ')
	}
}

// richMethods are the methods the result hooks look for.
var richMethods = map[string]bool{
	"Render": true, "HTML": true, "Markdown": true, "SVG": true, "PNG": true,
	"JPEG": true, "Latex": true, "JSON": true, "String": true, "Error": true,
}

// richTypes lists the session's non-generic types whose values may have
// display methods: those with such methods and structs with embedded
// fields (which may promote them). key changes when the list or the
// methods change.
func (s *Session) richTypes(st *state) (types []string, key string) {
	s.meta.Lock()
	defer s.meta.Unlock()
	if st.richGen == st.declGen {
		return st.rich, st.richKey
	}
	set := map[string]bool{}
	var keys []string
	for k := range st.methods {
		t, m, _ := strings.Cut(k, ".")
		if d := st.types[t]; d != nil && !d.generic && richMethods[m] {
			set[t] = true
			keys = append(keys, k)
		}
	}
	for name, d := range st.types {
		if d.embeds && !d.generic {
			set[name] = true
			keys = append(keys, name)
		}
	}
	sort.Strings(keys)
	st.rich, st.richKey, st.richGen = sortedKeys(set), strings.Join(keys, ","), st.declGen
	return st.rich, st.richKey
}

// redeclaration reports whether as redeclares an existing session
// variable, and whether it also reads one on its right side.
func (s *Session) redeclaration(st *state, as *ast.AssignStmt) (redecl, self bool) {
	s.meta.RLock()
	defer s.meta.RUnlock()
	names := map[string]bool{}
	for _, l := range as.Lhs {
		id, ok := l.(*ast.Ident)
		if !ok {
			return false, false
		}
		if d := st.vars[id.Name]; d != nil && d.kind == "var" {
			names[id.Name] = true
		}
	}
	if len(names) == 0 {
		return false, false
	}
	for _, r := range as.Rhs {
		ast.Inspect(r, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && names[id.Name] {
				self = true
			}
			return !self
		})
	}
	return true, self
}

// callError is the error a cell's final call returned.
type callError struct{ err error }

func (e *callError) Error() string { return e.err.Error() }

// callFailed turns a final call's error into the cell's error, placed at
// the call (at is its offset in the cell), named by its type when that
// is exported (*strconv.NumError, *fs.PathError) and "error" otherwise.
func (s *Session) callFailed(c *cellCode, err error, at int) error {
	var ce *callError
	if !errors.As(err, &ce) {
		return err
	}
	name := "error"
	t := reflect.TypeOf(ce.err)
	base := t
	for base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	if base.PkgPath() != "" && token.IsExported(base.Name()) {
		name = t.String()
	}
	e := s.errorAt(c, name, ce.err.Error(), at)
	e.Err = ce.err
	return e
}
