package export

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/constant"
	"go/format"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gopherlab/gopherlab/export/jobrt"
	"github.com/gopherlab/gopherlab/internal/gocell"
)

// The job's main.go is the chosen cells as one Go program. In a notebook
// every top-level name is a global of the session and a cell may redeclare
// one (x := ... again), so the cells cannot simply be pasted into one
// function: the generator writes a draft in which each cell's statements
// sit in a block nested in the previous cell's (so a redeclaration
// shadows, as "last wins" does in the notebook), type-checks it to learn
// the type of every top-level variable, and then writes the program:
// those variables become package-level var declarations (renamed when a
// redeclaration changes the type), := becomes =, and the statements run in
// cell order in one function. Functions, types and constants stay
// package-level declarations. A cell's final expression is shown as the
// notebook shows it (display.Show), a non-nil error its final call returns
// fails the job as it fails the cell (finalResult), and estimators with a
// Workers setting get the job's -workers flag.

type segKind int

const (
	segDecl segKind = iota + 1 // func, method, type or const: package level
	segVar                     // var declaration: becomes assignments in run
	segStmt                    // a statement of run
)

// segment is one piece of a cell placed in the draft.
type segment struct {
	kind       segKind
	cell       int // position in Selection.Cells
	start, end int // offsets in the draft
	node       ast.Node
	final      bool // the cell's last statement, an expression
}

// edit replaces draft[start:end] by text.
type edit struct {
	start, end int
	text       string
}

// generator builds a job's main.go.
type generator struct {
	sel     *Selection
	module  string
	workers string // name of the workers variable
	model   string // --model: variable holding the pipeline ("" to detect)

	draft   bytes.Buffer
	segs    []*segment
	fset    *token.FileSet
	file    *ast.File
	info    *types.Info
	tokFile *token.File
	edits   []edit
	errs    []types.Error

	imports  []importSpec
	hoisted  map[string][]*hoistedVar // by notebook name
	hoistSeq []*hoistedVar
	renames  map[types.Object]string
	data     map[string]*dataRef // by path
	dataSeq  []string
	unpinned []jobrt.UnpinnedRead // reads of files named by other expressions
	pipeVars []pipeVar            // *experiments.Pipeline variables, in definition order
	tracks   bool                 // the cells use experiments or tracking: log fits, check the tracked run
	beam     bool                 // export --beam: beam.go sets gopherlabDistributed
}

// trackcheckPath is the package that compares a job's tracked runs with
// the notebook's.
const trackcheckPath = ModulePath + "/export/jobrt/trackcheck"

type importSpec struct {
	name string // explicit name, "" for none
	path string // rewritten path
	cell int    // notebook index of the first cell importing it
}

type hoistedVar struct {
	name string // in the program
	typ  types.Type
}

type pipeVar struct {
	name   string
	cell   int  // position in Selection.Cells
	search bool // a *experiments.GridSearch: its best pipeline, refitted, is the model
}

type dataRef struct {
	path  string
	param string
	cells []int // notebook indexes
}

// rewritePath maps an import path of a cell to the job's module.
func (g *generator) rewritePath(p string) string {
	if p == ModulePath || strings.HasPrefix(p, ModulePath+"/") {
		return copiedPath(g.module, p)
	}
	return p
}

func (g *generator) cellOf(i int) *SelectedCell { return g.sel.Cells[i] }

// off is a draft offset.
func (g *generator) off(p token.Pos) int { return g.tokFile.Offset(p) }

// writeDraft writes the draft program.
func (g *generator) writeDraft() error {
	w := &g.draft
	w.WriteString("package main\n\nimport (\n")
	seen := map[string]importSpec{}
	for _, sc := range g.sel.Cells {
		for _, r := range sc.code.runs {
			if r.kind != importRun {
				continue
			}
			for _, d := range r.decls {
				for _, sp := range d.(*ast.GenDecl).Specs {
					is := sp.(*ast.ImportSpec)
					p, _ := strconv.Unquote(is.Path.Value)
					spec := importSpec{path: g.rewritePath(p), cell: sc.Index}
					local := guessPackageName(p)
					if is.Name != nil {
						spec.name, local = is.Name.Name, is.Name.Name
					}
					key := local
					if local == "_" || local == "." {
						key = local + p
					}
					if prev, ok := seen[key]; ok {
						if prev.path != spec.path {
							line, _ := sc.code.lineOf(sc.code.off(r, is.Pos()))
							return &CellError{Cell: sc.Index, Tag: sc.Tag, Line: line, Msg: fmt.Sprintf("imports %s as %s, which cell %d imports from %s: give one an other name", p, local, prev.cell, prev.path)}
						}
						continue
					}
					seen[key] = spec
					g.imports = append(g.imports, spec)
					fmt.Fprintf(w, "\t%s %q\n", spec.name, spec.path)
				}
			}
		}
	}
	w.WriteString(")\n\n")
	// Parameters are package-level variables with their defaults.
	for _, p := range g.sel.Params {
		fmt.Fprintf(w, "var %s %s = %s\n", p.Name, p.Type, p.Value)
	}
	w.WriteString("\n")
	// Package-level declarations.
	for ci, sc := range g.sel.Cells {
		if sc.Tag == TagParameters {
			continue
		}
		for _, r := range sc.code.runs {
			if r.kind != declRun {
				continue
			}
			prev := r.start
			for _, d := range r.decls {
				end := sc.code.off(r, d.End())
				if gd, ok := d.(*ast.GenDecl); !ok || gd.Tok != token.VAR {
					g.emit(segDecl, ci, r, prev, end, false)
					w.WriteString("\n")
				}
				prev = end
			}
		}
	}
	w.WriteString("\nfunc gopherlabRun() {\n")
	depth := 0
	for ci, sc := range g.sel.Cells {
		if sc.Tag == TagParameters {
			continue
		}
		w.WriteString("{\n")
		depth++
		level := map[string]bool{}
		newLevel := func() {
			w.WriteString("{\n")
			depth++
			level = map[string]bool{}
		}
		last := len(sc.code.runs) - 1
		for ri, r := range sc.code.runs {
			prev := r.start
			switch r.kind {
			case declRun:
				for _, d := range r.decls {
					end := sc.code.off(r, d.End())
					if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.VAR {
						names := declNames(gd)
						if slices.ContainsFunc(names, func(n string) bool { return level[n] }) {
							newLevel()
						}
						g.emit(segVar, ci, r, prev, end, false)
						w.WriteString(";\n")
						for _, n := range names {
							level[n] = true
						}
					}
					prev = end
				}
			case stmtRun:
				for si, s := range r.stmts {
					end := sc.code.off(r, s.End())
					var names []string
					if as, ok := s.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
						for _, l := range as.Lhs {
							if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
								names = append(names, id.Name)
							}
						}
						if len(names) > 0 && !slices.ContainsFunc(names, func(n string) bool { return !level[n] }) {
							newLevel()
						}
					}
					_, isExpr := s.(*ast.ExprStmt)
					g.emit(segStmt, ci, r, prev, end, isExpr && ri == last && si == len(r.stmts)-1)
					w.WriteString(";\n")
					for _, n := range names {
						level[n] = true
					}
					prev = end
				}
			}
		}
	}
	w.WriteString(strings.Repeat("}\n", depth))
	w.WriteString("}\n")
	return nil
}

// declNames returns the names a var declaration declares.
func declNames(gd *ast.GenDecl) []string {
	var names []string
	for _, sp := range gd.Specs {
		for _, id := range sp.(*ast.ValueSpec).Names {
			if id.Name != "_" {
				names = append(names, id.Name)
			}
		}
	}
	return names
}

// emit writes cell text [from, to) of run r as a segment, preceded by a
// line directive giving its place in the notebook.
func (g *generator) emit(kind segKind, ci int, r *codeRun, from, to int, final bool) {
	sc := g.cellOf(ci)
	// Skip the blank lines before the piece but keep its comments.
	for from < to && (sc.code.src[from] == '\n' || sc.code.src[from] == ' ' || sc.code.src[from] == '\t' || sc.code.src[from] == ';') {
		from++
	}
	line, col := sc.code.lineOf(from)
	fmt.Fprintf(&g.draft, "/*line cell %d:%d:%d*/", sc.Index, line, col)
	s := &segment{kind: kind, cell: ci, start: g.draft.Len(), final: final}
	g.draft.WriteString(sc.code.src[from:to])
	s.end = g.draft.Len()
	g.segs = append(g.segs, s)
}

// parseDraft parses the draft and attaches the nodes to their segments.
func (g *generator) parseDraft() error {
	g.fset = token.NewFileSet()
	f, err := parser.ParseFile(g.fset, "main.go", g.draft.Bytes(), parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return fmt.Errorf("export: generated program does not parse (a bug): %w", err)
	}
	g.file = f
	g.fset.Iterate(func(tf *token.File) bool { g.tokFile = tf; return false })
	find := func(n ast.Node) *segment {
		o := g.off(n.Pos())
		i := sort.Search(len(g.segs), func(i int) bool { return g.segs[i].end > o })
		if i < len(g.segs) && g.segs[i].start <= o {
			return g.segs[i]
		}
		return nil
	}
	for _, d := range f.Decls {
		if s := find(d); s != nil {
			s.node = d
			continue
		}
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != "gopherlabRun" {
			continue
		}
		var walk func(list []ast.Stmt)
		walk = func(list []ast.Stmt) {
			for _, st := range list {
				if s := find(st); s != nil {
					s.node = st
				} else if b, ok := st.(*ast.BlockStmt); ok {
					walk(b.List)
				}
			}
		}
		walk(fd.Body.List)
	}
	for _, s := range g.segs {
		if s.node == nil {
			return fmt.Errorf("export: cell %d: a piece of the cell was not found in the generated program (a bug)", g.cellOf(s.cell).Index)
		}
	}
	return nil
}

// cellAt returns the notebook index of the cell a draft position is in.
func (g *generator) cellAt(p token.Pos) int {
	return g.cellOf(g.segAt(p).cell).Index
}

func (g *generator) segAt(p token.Pos) *segment {
	o := g.off(p)
	i := sort.Search(len(g.segs), func(i int) bool { return g.segs[i].end > o })
	if i < len(g.segs) && g.segs[i].start <= o {
		return g.segs[i]
	}
	return nil
}

// typeError turns a type-checker error into a CellError when it is in a
// cell.
func (g *generator) typeError(e types.Error) error {
	pos := e.Fset.Position(e.Pos)
	if strings.HasPrefix(pos.Filename, "cell ") {
		idx, _ := strconv.Atoi(strings.TrimPrefix(pos.Filename, "cell "))
		tag := ""
		for _, sc := range g.sel.Cells {
			if sc.Index == idx {
				tag = sc.Tag
			}
		}
		return &CellError{Cell: idx, Tag: tag, Line: pos.Line, Msg: e.Msg}
	}
	return fmt.Errorf("export: generated program: %s: %s", pos, e.Msg)
}

// draftArtifact reports whether a draft error comes from the draft's
// layout rather than from the cells (the final program is checked again).
func draftArtifact(msg string) bool {
	return strings.Contains(msg, "declared and not used") || strings.Contains(msg, "imported and not used") ||
		strings.HasSuffix(msg, "is not used") || strings.HasPrefix(msg, "undefined: ")
}

// hoist decides the package-level variables and the renames.
func (g *generator) hoist() error {
	g.hoisted = map[string][]*hoistedVar{}
	g.renames = map[types.Object]string{}
	used := map[string]bool{} // program-level names taken
	for _, d := range g.file.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				used[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					used[sp.Name.Name] = true
				case *ast.ValueSpec:
					for _, id := range sp.Names {
						used[id.Name] = true
						if obj := g.info.Defs[id]; obj != nil && d.Tok == token.VAR {
							// A parameter: a variable the cells may redeclare.
							hv := &hoistedVar{name: id.Name, typ: obj.Type()}
							g.hoisted[id.Name] = append(g.hoisted[id.Name], hv)
						}
					}
				}
			}
		}
	}
	for _, is := range g.imports {
		if is.name != "" {
			used[is.name] = true
		} else {
			used[guessPackageName(is.path)] = true
		}
	}
	define := func(id *ast.Ident, ci int) error {
		if id.Name == "_" {
			return nil
		}
		obj := g.info.Defs[id]
		if obj == nil {
			return nil // an existing variable assigned by :=
		}
		t := obj.Type()
		if t == nil || t == types.Typ[types.Invalid] {
			return g.firstRealError(id.Pos())
		}
		if err := g.nameable(t, id); err != nil {
			return err
		}
		for _, hv := range g.hoisted[id.Name] {
			if types.Identical(hv.typ, t) {
				g.renames[obj] = hv.name
				g.notePipe(hv.name, t, ci)
				return nil
			}
		}
		name := id.Name
		if len(g.hoisted[id.Name]) > 0 || g.isDeclared(name) {
			for k := 2; ; k++ {
				name = fmt.Sprintf("%s_%d", id.Name, k)
				if !used[name] {
					break
				}
			}
		}
		used[name] = true
		hv := &hoistedVar{name: name, typ: t}
		g.hoisted[id.Name] = append(g.hoisted[id.Name], hv)
		g.hoistSeq = append(g.hoistSeq, hv)
		g.renames[obj] = name
		g.notePipe(name, t, ci)
		return nil
	}
	for _, s := range g.segs {
		switch s.kind {
		case segStmt:
			as, ok := s.node.(*ast.AssignStmt)
			if !ok || as.Tok != token.DEFINE {
				continue
			}
			for _, l := range as.Lhs {
				if err := define(l.(*ast.Ident), s.cell); err != nil {
					return err
				}
			}
			g.edits = append(g.edits, edit{g.off(as.TokPos), g.off(as.TokPos) + 2, "="})
		case segVar:
			gd := s.node.(*ast.DeclStmt).Decl.(*ast.GenDecl)
			for _, sp := range gd.Specs {
				for _, id := range sp.(*ast.ValueSpec).Names {
					if err := define(id, s.cell); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// isDeclared reports whether name is a package-level declaration of the
// cells (not an import).
func (g *generator) isDeclared(name string) bool {
	for _, d := range g.file.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name == name {
				return true
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					if sp.Name.Name == name {
						return true
					}
				case *ast.ValueSpec:
					for _, id := range sp.Names {
						if id.Name == name {
							return true
						}
					}
				}
			}
		}
	}
	return false
}

// firstRealError returns the first error of the draft that is in a cell
// and is not an artifact of the draft, or a generic error at pos.
func (g *generator) firstRealError(pos token.Pos) error {
	for _, e := range g.errs {
		if !draftArtifact(e.Msg) {
			return g.typeError(e)
		}
	}
	p := g.fset.Position(pos)
	return fmt.Errorf("export: %s: cannot tell the type of this variable", p)
}

// nameable checks that a variable's type can be written in the program
// (no unexported type of another package).
func (g *generator) nameable(t types.Type, id *ast.Ident) error {
	var bad string
	var visit func(t types.Type, depth int)
	visit = func(t types.Type, depth int) {
		if bad != "" || depth > 20 {
			return
		}
		switch t := t.(type) {
		case *types.Named:
			obj := t.Obj()
			if obj.Pkg() != nil && obj.Pkg().Name() != "main" && !obj.Exported() {
				bad = obj.Pkg().Path() + "." + obj.Name()
			}
			if obj.Pkg() != nil && obj.Pkg().Path() != "main" && obj.Parent() != nil && obj.Parent() != obj.Pkg().Scope() {
				bad = obj.Name() + " (a type declared inside a function)"
			}
			if ta := t.TypeArgs(); ta != nil {
				for i := 0; i < ta.Len(); i++ {
					visit(ta.At(i), depth+1)
				}
			}
		case *types.Pointer:
			visit(t.Elem(), depth+1)
		case *types.Slice:
			visit(t.Elem(), depth+1)
		case *types.Array:
			visit(t.Elem(), depth+1)
		case *types.Map:
			visit(t.Key(), depth+1)
			visit(t.Elem(), depth+1)
		case *types.Chan:
			visit(t.Elem(), depth+1)
		case *types.Signature:
			for i := 0; i < t.Params().Len(); i++ {
				visit(t.Params().At(i).Type(), depth+1)
			}
			for i := 0; i < t.Results().Len(); i++ {
				visit(t.Results().At(i).Type(), depth+1)
			}
		case *types.Struct:
			for i := 0; i < t.NumFields(); i++ {
				visit(t.Field(i).Type(), depth+1)
			}
		}
	}
	visit(t, 0)
	if bad != "" {
		p := g.fset.Position(id.Pos())
		return &CellError{Cell: g.cellAt(id.Pos()), Line: p.Line, Msg: fmt.Sprintf("%s has type %s, which a Go program cannot name outside its package: convert it to an exported type", id.Name, bad)}
	}
	return nil
}

// notePipe remembers variables holding a *experiments.Pipeline, or a
// *experiments.GridSearch, whose refitted best pipeline is the model a
// search over a pipeline gives.
func (g *generator) notePipe(name string, t types.Type, ci int) {
	p, ok := t.(*types.Pointer)
	if !ok {
		return
	}
	n, ok := p.Elem().(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.Obj().Pkg().Path() != copiedPath(g.module, ModulePath+"/experiments") {
		return
	}
	search := n.Obj().Name() == "GridSearch"
	if !search && n.Obj().Name() != "Pipeline" {
		return
	}
	for i, pv := range g.pipeVars {
		if pv.name == name {
			g.pipeVars = append(g.pipeVars[:i], g.pipeVars[i+1:]...)
			break
		}
	}
	g.pipeVars = append(g.pipeVars, pipeVar{name: name, cell: ci, search: search})
}

// rewrite records the edits of the cells' code: renamed variables, var
// declarations turned into assignments, results shown, workers set, and
// collects the data files the cells read.
func (g *generator) rewrite() {
	// Renames.
	for id, obj := range g.info.Defs {
		if n, ok := g.renames[obj]; ok && n != id.Name && g.segAt(id.Pos()) != nil {
			g.edits = append(g.edits, edit{g.off(id.Pos()), g.off(id.End()), n})
		}
	}
	for id, obj := range g.info.Uses {
		if n, ok := g.renames[obj]; ok && n != id.Name && g.segAt(id.Pos()) != nil {
			g.edits = append(g.edits, edit{g.off(id.Pos()), g.off(id.End()), n})
		}
	}
	for _, s := range g.segs {
		switch s.kind {
		case segVar:
			g.varToAssign(s.node.(*ast.DeclStmt).Decl.(*ast.GenDecl))
		case segStmt:
			if s.final {
				g.finalResult(s.node.(*ast.ExprStmt).X)
			}
		}
		ast.Inspect(s.node, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				g.setWorkers(n)
			case *ast.CallExpr:
				g.noteData(n)
			}
			return true
		})
	}
}

// finalResult makes a cell's final expression do what the notebook does
// with it (kernel/goeval): an expression that is not a call is shown; a
// call with one result fails the job when it returns a non-nil error,
// else is shown; a call whose last result is an error fails the job when
// it is not nil, else its other results are shown (the first alone, or a
// tuple), unless they are byte counts (fmt.Println, w.Write); a call with
// several results, the last no error, is shown as a tuple, unless they
// are byte counts; a call with no result, and the builtins called for
// their effect, show nothing.
func (g *generator) finalResult(x ast.Expr) {
	tv, ok := g.info.Types[x]
	if !ok || tv.IsVoid() || tv.IsNil() || tv.Type == nil {
		return
	}
	wrap := func(open string) {
		g.edits = append(g.edits, edit{g.off(x.Pos()), g.off(x.Pos()), open + "("}, edit{g.off(x.End()), g.off(x.End()), ")"})
	}
	call, isCall := ast.Unparen(x).(*ast.CallExpr)
	if !isCall {
		wrap("gopherlabjob.Show")
		return
	}
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		if b, ok := g.info.Uses[id].(*types.Builtin); ok && gocell.NoValueBuiltin(b.Name()) {
			return
		}
	}
	tup, multi := tv.Type.(*types.Tuple)
	if !multi {
		wrap(jobVar + ".Result")
		return
	}
	quiet := gocell.ByteCount(call)
	if types.AssignableTo(tup.At(tup.Len()-1).Type(), types.Universe.Lookup("error").Type()) {
		if quiet {
			wrap(jobVar + ".CheckError")
		} else {
			wrap(jobVar + ".ErrorResult")
		}
		return
	}
	if !quiet {
		wrap("gopherlabjob.Tuple")
	}
}

// jobVar is the *jobrt.Job the cells' statements run with.
const jobVar = "gopherlabJob"

// varToAssign turns var a, b = x, y into a, b = x, y. A variable declared
// without a value is set to its zero value when an earlier cell declared
// it, as redeclaring it in the notebook would.
func (g *generator) varToAssign(gd *ast.GenDecl) {
	name := func(id *ast.Ident) string {
		if n, ok := g.renames[g.info.Defs[id]]; ok {
			return n
		}
		return id.Name
	}
	if gd.Lparen.IsValid() {
		g.edits = append(g.edits, edit{g.off(gd.Pos()), g.off(gd.Lparen) + 1, ""}, edit{g.off(gd.Rparen), g.off(gd.Rparen) + 1, ""})
	} else {
		g.edits = append(g.edits, edit{g.off(gd.Pos()), g.off(gd.Specs[0].Pos()), ""})
	}
	for _, sp := range gd.Specs {
		vs := sp.(*ast.ValueSpec)
		var names []string
		for _, id := range vs.Names {
			names = append(names, name(id))
		}
		if len(vs.Values) > 0 {
			g.edits = append(g.edits, edit{g.off(vs.Pos()), g.off(vs.Values[0].Pos()), strings.Join(names, ", ") + " = "})
			continue
		}
		// No value: the zero value, only when redeclaring.
		text := ""
		for _, id := range vs.Names {
			obj := g.info.Defs[id]
			if obj == nil || id.Name == "_" {
				continue
			}
			if g.declaredBefore(id) {
				text += name(id) + " = *new(" + g.typeString(obj.Type()) + "); "
			}
		}
		g.edits = append(g.edits, edit{g.off(vs.Pos()), g.off(vs.End()), text})
	}
}

// declaredBefore reports whether a top-level variable of the same name was
// defined before id.
func (g *generator) declaredBefore(id *ast.Ident) bool {
	if _, ok := g.sel.Param(id.Name); ok {
		return true
	}
	for d, obj := range g.info.Defs {
		if d.Name == id.Name && d.Pos() < id.Pos() && obj != nil && g.renames[obj] != "" {
			return true
		}
	}
	return false
}

// setWorkers adds Workers: gopherlabWorkers to a composite literal of a
// gopherlab estimator with a Workers field that the cell leaves unset,
// and CV: ...{Workers: ...} for a CV options field it leaves unset.
func (g *generator) setWorkers(lit *ast.CompositeLit) {
	tv, ok := g.info.Types[lit]
	if !ok || tv.Type == nil {
		return
	}
	st, ok := g.gopherlabStruct(tv.Type)
	if !ok {
		return
	}
	keys := map[string]bool{}
	for _, e := range lit.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			return // positional: leave it
		}
		if id, ok := kv.Key.(*ast.Ident); ok {
			keys[id.Name] = true
		}
	}
	var adds []string
	for i := 0; i < st.NumFields(); i++ {
		f := st.Field(i)
		if keys[f.Name()] || !f.Exported() {
			continue
		}
		if f.Name() == "Workers" && types.Identical(f.Type(), types.Typ[types.Int]) {
			adds = append(adds, "Workers: "+g.workers)
			continue
		}
		if inner, ok := g.gopherlabStruct(f.Type()); ok && hasWorkers(inner) {
			adds = append(adds, f.Name()+": "+g.typeString(f.Type())+"{Workers: "+g.workers+"}")
		}
	}
	if len(adds) == 0 {
		return
	}
	text := strings.Join(adds, ", ")
	if len(lit.Elts) > 0 {
		text += ", "
	}
	o := g.off(lit.Lbrace) + 1
	g.edits = append(g.edits, edit{o, o, text})
}

func hasWorkers(st *types.Struct) bool {
	for i := 0; i < st.NumFields(); i++ {
		if f := st.Field(i); f.Name() == "Workers" && types.Identical(f.Type(), types.Typ[types.Int]) {
			return true
		}
	}
	return false
}

// gopherlabStruct returns the struct of a named type of a copied gopherlab
// package.
func (g *generator) gopherlabStruct(t types.Type) (*types.Struct, bool) {
	n, ok := t.(*types.Named)
	if !ok || n.Obj().Pkg() == nil || !strings.HasPrefix(n.Obj().Pkg().Path(), g.module+"/internal/gopherlab/") {
		return nil, false
	}
	st, ok := n.Underlying().(*types.Struct)
	return st, ok
}

// dataReaders are the functions whose first argument names a file the
// job reads: package path suffix -> function names.
var dataReaders = map[string][]string{
	"/internal/gopherlab/experiments": {"ReadCSV", "LoadFile"},
	"os":                              {"Open", "ReadFile", "OpenFile"},
}

// noteData records the file a call reads, when its name is a constant
// or a parameter.
func (g *generator) noteData(call *ast.CallExpr) {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || len(call.Args) == 0 {
		return
	}
	pkgID, ok := sel.X.(*ast.Ident)
	if !ok {
		return
	}
	pn, ok := g.info.Uses[pkgID].(*types.PkgName)
	if !ok {
		return
	}
	match := false
	for suffix, fns := range dataReaders {
		if (pn.Imported().Path() == suffix || strings.HasSuffix(pn.Imported().Path(), suffix)) && slices.Contains(fns, sel.Sel.Name) {
			match = true
		}
	}
	if !match {
		return
	}
	arg := call.Args[0]
	ref := &dataRef{}
	cell := g.cellAt(call.Pos())
	unpinned := func() {
		if sel.Sel.Name == "OpenFile" {
			return // often opens a file to write
		}
		g.unpinned = append(g.unpinned, jobrt.UnpinnedRead{Cell: cell, Call: types.ExprString(call.Fun) + "(" + types.ExprString(arg) + ")"})
	}
	if tv := g.info.Types[arg]; tv.Value != nil && tv.Value.Kind() == constant.String {
		ref.path = constant.StringVal(tv.Value)
	} else if id, ok := ast.Unparen(arg).(*ast.Ident); ok {
		p, isParam := g.sel.Param(id.Name)
		obj := g.info.Uses[id]
		if !isParam || p.Type != "string" || obj == nil || obj.Parent() != obj.Pkg().Scope() {
			unpinned()
			return
		}
		ref.path, _ = strconv.Unquote(p.Value)
		ref.param = p.Name
	} else {
		unpinned()
		return
	}
	if g.data == nil {
		g.data = map[string]*dataRef{}
	}
	if prev, ok := g.data[ref.path]; ok {
		if !slices.Contains(prev.cells, cell) {
			prev.cells = append(prev.cells, cell)
		}
		if prev.param == "" {
			prev.param = ref.param
		}
		return
	}
	ref.cells = []int{cell}
	g.data[ref.path] = ref
	g.dataSeq = append(g.dataSeq, ref.path)
}

// qualifier names packages as the program imports them, adding imports
// for packages the cells do not import (the types of their variables).
func (g *generator) qualifier(p *types.Package) string {
	if p.Path() == "main" {
		return ""
	}
	for _, is := range g.imports {
		if is.path == p.Path() && is.name != "_" && is.name != "." {
			if is.name != "" {
				return is.name
			}
			return p.Name()
		}
	}
	// Not imported by the cells: import it under a name of its own.
	name := "gopherlab_" + p.Name()
	g.imports = append(g.imports, importSpec{name: name, path: p.Path(), cell: -1})
	return name
}

func (g *generator) typeString(t types.Type) string { return types.TypeString(t, g.qualifier) }

// applyEdits returns draft[start:end] with the edits inside it applied.
func (g *generator) applyEdits(start, end int) string {
	var es []edit
	for _, e := range g.edits {
		if e.start >= start && e.end <= end {
			es = append(es, e)
		}
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].start < es[j].start })
	src := g.draft.Bytes()
	var b strings.Builder
	at := start
	for _, e := range es {
		if e.start < at {
			continue // overlapping: the first wins
		}
		b.Write(src[at:e.start])
		b.WriteString(e.text)
		at = e.end
	}
	b.Write(src[at:end])
	return b.String()
}

// usedImports reports which of the draft's imports the cells use.
func (g *generator) usedImports() map[string]bool {
	used := map[string]bool{}
	for _, obj := range g.info.Uses {
		if pn, ok := obj.(*types.PkgName); ok {
			used[pn.Imported().Path()] = true
		}
	}
	return used
}

// program writes the job's main.go.
func (g *generator) program(nbName string) ([]byte, error) {
	used := g.usedImports()
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by gopherlab export from %s; DO NOT EDIT.\n\n", nbName)
	b.WriteString("// The notebook's exported cells as one program: see README.md.\n")
	b.WriteString("// Line directives name each piece's cell and line in the notebook.\n\n")
	b.WriteString("package main\n\n")

	// Compute everything that may add imports before writing them.
	var hoist strings.Builder
	for _, hv := range g.hoistSeq {
		fmt.Fprintf(&hoist, "\t%s %s\n", hv.name, g.typeString(hv.typ))
	}
	model := ""
	if mv := g.modelVar(); mv != nil {
		pkg := g.qualifier(types.NewPackage(copiedPath(g.module, ModulePath+"/experiments"), "experiments"))
		model = fmt.Sprintf("func() *%s.Pipeline { return %s }", pkg, mv.name)
		if mv.search {
			// nil when the search was not over a pipeline or did not
			// refit: SaveModel says so.
			model = fmt.Sprintf("func() *%[1]s.Pipeline { p, _ := %[2]s.BestModel().(*%[1]s.Pipeline); return p }", pkg, mv.name)
		}
	}
	var body strings.Builder
	stmts := map[int][]*segment{} // by position in Selection.Cells
	for _, s := range g.segs {
		if s.kind != segDecl {
			stmts[s.cell] = append(stmts[s.cell], s)
		}
	}
	for ci, sc := range g.sel.Cells {
		if sc.Tag == TagParameters {
			continue // its variables are the job's flags
		}
		// The manifest lists the selection's cells in order; every cell
		// but the parameters announces itself, those with only
		// declarations too, so that the progress counts them all.
		fmt.Fprintf(&body, "\t%s.Cell(%d)\n", jobVar, ci)
		for _, s := range stmts[ci] {
			body.WriteString(g.directive(s))
			body.WriteString(g.applyEdits(s.start, s.end))
			body.WriteString("\n")
		}
	}
	var decls strings.Builder
	for _, s := range g.segs {
		if s.kind != segDecl {
			continue
		}
		decls.WriteString(g.directive(s))
		decls.WriteString(g.applyEdits(s.start, s.end))
		decls.WriteString("\n\n")
	}

	b.WriteString("import (\n\t_ \"embed\"\n\n")
	fmt.Fprintf(&b, "\tgopherlabjob %q\n", copiedPath(g.module, ModulePath+"/export/jobrt"))
	if g.tracks {
		fmt.Fprintf(&b, "\tgopherlabtrack %q\n", copiedPath(g.module, trackcheckPath))
	}
	for _, is := range g.imports {
		if is.cell >= 0 && !used[is.path] && is.name != "_" && is.name != "." {
			continue
		}
		fmt.Fprintf(&b, "\t%s %q\n", is.name, is.path)
	}
	b.WriteString(")\n\n")
	b.WriteString("//go:embed manifest.json\nvar gopherlabManifest []byte\n\n")
	b.WriteString("// gopherlabWorkers is the -workers flag, given to every estimator of the\n// cells that has a Workers setting the cells leave unset.\n")
	fmt.Fprintf(&b, "var %s int\n\n", g.workers)
	if g.beam {
		b.WriteString("// gopherlabDistributed runs the cells' model-selection fits as an Apache\n// Beam pipeline when -runner is set; beam.go sets it.\nvar gopherlabDistributed gopherlabjob.Distributor\n\n")
	}
	if len(g.sel.Params) > 0 {
		fmt.Fprintf(&b, "// Parameters (cell %d): the job's flags, with the notebook's values as defaults.\nvar (\n", g.sel.ParamsCell)
		for _, p := range g.sel.Params {
			fmt.Fprintf(&b, "\t%s %s = %s\n", p.Name, p.Type, p.Value)
		}
		b.WriteString(")\n\n")
	}
	if hoist.Len() > 0 {
		b.WriteString("// The variables the cells define at their top level (notebook globals).\nvar (\n")
		b.WriteString(hoist.String())
		b.WriteString(")\n\n")
	}
	b.WriteString("func main() {\n\tgopherlabjob.Main(gopherlabjob.Program{\n")
	b.WriteString("\t\tManifest: gopherlabManifest,\n\t\tWorkers:  &gopherlabWorkers,\n\t\tParams: []gopherlabjob.Param{\n")
	for _, p := range g.sel.Params {
		fmt.Fprintf(&b, "\t\t\t{Name: %q, Ptr: &%s},\n", p.Name, p.Name)
	}
	b.WriteString("\t\t},\n\t\tRun: gopherlabRun,\n")
	if model != "" {
		fmt.Fprintf(&b, "\t\tModel: %s,\n", model)
	}
	if g.tracks {
		b.WriteString("\t\tOnCell: gopherlabtrack.OnCell,\n\t\tTrack: gopherlabtrack.Autolog,\n\t\tFailed: gopherlabtrack.Failed,\n\t\tCheck: gopherlabtrack.Check,\n")
	}
	if g.beam {
		b.WriteString("\t\tDistributed: gopherlabDistributed,\n")
	}
	b.WriteString("\t})\n}\n\n")
	b.WriteString("// gopherlabRun runs the cells' statements in notebook order.\nfunc gopherlabRun(" + jobVar + " *gopherlabjob.Job) {\n")
	b.WriteString(body.String())
	b.WriteString("}\n\n")
	b.WriteString(decls.String())
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("export: format the generated program (a bug): %w\n%s", err, b.Bytes())
	}
	return out, nil
}

// directive returns the line directive placing a segment in its cell.
func (g *generator) directive(s *segment) string {
	p := g.fset.Position(g.tokFile.Pos(s.start))
	return fmt.Sprintf("/*line %s:%d:%d*/", p.Filename, p.Line, p.Column)
}

// modelVar returns the variable holding the pipeline to save (or the grid
// search whose best pipeline it is): --model, else the only such
// variable, else the last one a train cell defines (a search defined
// after the pipeline it searches over, whose template stays unfitted).
func (g *generator) modelVar() *pipeVar {
	if g.model != "" {
		for i := range g.pipeVars {
			if g.pipeVars[i].name == g.model {
				return &g.pipeVars[i]
			}
		}
		return nil
	}
	if len(g.pipeVars) == 1 {
		return &g.pipeVars[0]
	}
	for i := len(g.pipeVars) - 1; i >= 0; i-- {
		if g.cellOf(g.pipeVars[i].cell).Tag == TagTrain {
			return &g.pipeVars[i]
		}
	}
	return nil
}

// generateJob writes the draft, type-checks it in the job's module at dir,
// and returns the program.
func generateJob(sel *Selection, module, dir, nbPath, model string, beam bool) (*generator, []byte, error) {
	g := &generator{sel: sel, module: module, workers: "gopherlabWorkers", model: model, beam: beam}
	for _, p := range sel.imports {
		g.tracks = g.tracks || p == ModulePath+"/tracking" || p == ModulePath+"/experiments"
	}
	if err := g.writeDraft(); err != nil {
		return nil, nil, err
	}
	if err := g.parseDraft(); err != nil {
		return nil, nil, err
	}
	var paths []string
	for _, is := range g.imports {
		paths = append(paths, is.path)
	}
	paths = append(paths, copiedPath(module, ModulePath+"/export/jobrt"))
	if g.tracks {
		paths = append(paths, copiedPath(module, trackcheckPath))
	}
	imp, err := exportImporter(g.fset, dir, paths)
	if err != nil {
		return nil, nil, err
	}
	g.info, g.errs = checkFile(g.fset, g.file, imp)
	if err := g.hoist(); err != nil {
		return nil, nil, err
	}
	g.rewrite()
	if g.model != "" && g.modelVar() == nil {
		var names []string
		for _, pv := range g.pipeVars {
			names = append(names, pv.name)
		}
		return nil, nil, fmt.Errorf("export: --model %s: no such *experiments.Pipeline or *experiments.GridSearch variable (the cells have %s)", g.model, strings.Join(names, ", "))
	}
	src, err := g.program(filepath.Base(nbPath))
	if err != nil {
		return nil, nil, err
	}
	// The program itself must type-check; its errors name the cells.
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "main.go", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, fmt.Errorf("export: generated program does not parse (a bug): %w", err)
	}
	_, errs := checkFile(fset, f, imp)
	if len(errs) > 0 {
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, g.typeError(e).Error())
			if len(msgs) == 5 {
				break
			}
		}
		return nil, nil, fmt.Errorf("export: the exported cells do not compile as a Go program:\n  %s", strings.Join(msgs, "\n  "))
	}
	return g, src, nil
}
