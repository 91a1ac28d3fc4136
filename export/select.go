package export

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Cell tags that choose the cells of the exported pipeline (Jupyter cell
// tags, metadata.tags). The stage tags say what a cell does; cells run in
// notebook order whatever their stage.
const (
	TagParameters = "parameters" // assignments only: the job's flags and their defaults
	TagLoad       = "load"
	TagPrepare    = "prepare"
	TagTrain      = "train"
	TagEvaluate   = "evaluate"
	TagSkip       = "skip" // exploration, never exported
	// TagInjected marks the cell `gopherlab run` (and papermill) inserts
	// after the parameters cell with the values given on the command line.
	TagInjected = "injected-parameters"
)

// StageTags are the tags that put a cell in the exported pipeline.
var StageTags = []string{TagParameters, TagLoad, TagPrepare, TagTrain, TagEvaluate}

// SelectOptions controls which cells Select chooses.
type SelectOptions struct {
	// All exports the untagged code cells too (cells tagged skip are
	// still left out).
	All bool
}

// Selection is the pipeline chosen from a notebook: its cells in notebook
// order and its parameters.
type Selection struct {
	Notebook *Notebook       // the notebook the cells were chosen from
	Cells    []*SelectedCell // the exported cells, in notebook order
	// Params are the parameters cell's variables, in order, with the
	// values of an injected-parameters cell applied.
	Params []Param
	// ParamsCell is the index of the parameters cell, or -1.
	ParamsCell int

	imports map[string]string // import name -> path over the exported cells
}

// SelectedCell is one exported cell.
type SelectedCell struct {
	Index int    // in the notebook's cells
	Tag   string // its stage tag; "" for an untagged cell exported with All
	Cell  *Cell  // the notebook's cell
	code  *cellCode
	defs  map[string]defKind
}

// Param is a variable of the parameters cell.
type Param struct {
	Name string // the variable's name, also the job's flag
	// Type is the Go type: int, int64, float64, string or bool.
	Type string
	// Value is the default as a Go literal ("100", "0.5", `"iris.csv"`).
	Value string
	Line  int // in the parameters cell
	// From says where Value comes from when not the notebook: "run
	// 1a2b3c4d" for export --run.
	From string
}

// ParamTypes are the Go types a parameter may have.
var ParamTypes = []string{"int", "int64", "float64", "string", "bool"}

// stageTag returns the cell's pipeline tag ("" if none) or an error for
// an unknown tag or conflicting tags.
func stageTag(i int, c *Cell) (string, error) {
	tag := ""
	for _, t := range c.Tags() {
		switch {
		case slices.Contains(StageTags, t) || t == TagSkip:
			if tag != "" && tag != t {
				return "", &CellError{Cell: i, Msg: fmt.Sprintf("tagged both %q and %q: a cell has one pipeline tag", tag, t)}
			}
			tag = t
		case t == TagInjected:
		default:
			// Any other tag is another tool's (nbconvert's remove_cell,
			// Jupyter Book's hide-input, thebe-init, nbval-skip, ...) and
			// says nothing about the pipeline, unless it looks like a
			// misspelt pipeline tag, which would leave a cell out unseen.
			if s := nearTag(t); s != "" {
				return "", &CellError{Cell: i, Msg: fmt.Sprintf("unknown tag %q (pipeline tags: %s, %s); did you mean %q?", t, strings.Join(StageTags, ", "), TagSkip, s)}
			}
		}
	}
	return tag, nil
}

// nearTag returns the pipeline tag (parameters, load, ..., skip) that t,
// not itself one, looks like a misspelling or another form of: the same
// in another case ("Train"), one edit from a four-letter tag or two from
// a longer one ("trian", "evalute"), or another form of the same word,
// letters only ("training", "evaluation", "params", "prep", "skipped");
// "" for any other tag. A tag with a separator after the shared stem
// ("skip-execution", "train_data") is another tool's or the user's own.
func nearTag(t string) string {
	lt := strings.ToLower(t)
	best, bestD := "", 3
	for _, k := range append(slices.Clone(StageTags), TagSkip) {
		if lt == k {
			return k
		}
		edits := 2
		if len(k) <= 4 {
			edits = 1
		}
		if d := editDistance(lt, k); d <= edits && d < bestD {
			best, bestD = k, d
		}
		p := 0
		for p < len(lt) && p < len(k) && lt[p] == k[p] {
			p++
		}
		if p >= min(4, len(k)) && lettersOnly(lt[p:]) && best == "" {
			best = k
		}
	}
	return best
}

// lettersOnly reports whether s holds ASCII letters only.
func lettersOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of adjacent characters ("laod").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// Select chooses the cells to export by their tags, parses them, reads the
// parameters and checks that every name an exported cell uses is defined
// by an exported cell. Errors name the cell (its index in the notebook,
// from 0) and the line.
func Select(nb *Notebook, opts SelectOptions) (*Selection, error) {
	sel := &Selection{Notebook: nb, ParamsCell: -1, imports: map[string]string{}}
	tagged := false
	var injected *cellCode
	// Every code cell is parsed and its definitions collected, exported
	// or not, so that a missing name can be traced to the cell that has it.
	type info struct {
		tag  string
		defs map[string]defKind
		out  bool
	}
	infos := map[int]info{}
	for i, c := range nb.Cells {
		if c.Type != "code" {
			continue
		}
		tag, err := stageTag(i, c)
		if err != nil {
			return nil, err
		}
		if c.HasTag(TagInjected) {
			if injected, err = parseCell(i, c.Source, TagInjected); err != nil {
				return nil, err
			}
			continue
		}
		if tag != "" && tag != TagSkip && tag != TagParameters {
			tagged = true // a parameters cell alone (papermill's one tag) is no pipeline
		}
		export := tag != TagSkip && (tag != "" || opts.All)
		if strings.TrimSpace(c.Source) == "" {
			continue
		}
		code, perr := parseCell(i, c.Source, tag)
		if perr != nil {
			if !export {
				continue // an exploration cell that does not parse is no concern
			}
			return nil, perr
		}
		defs := definitions(code)
		infos[i] = info{tag: tag, defs: defs, out: export}
		if tag == TagParameters {
			if sel.ParamsCell >= 0 {
				return nil, &CellError{Cell: i, Tag: tag, Msg: fmt.Sprintf("a second parameters cell (the first is cell %d): keep the parameters in one cell", sel.ParamsCell)}
			}
			sel.ParamsCell = i
			ps, err := readParams(code, tag)
			if err != nil {
				return nil, err
			}
			sel.Params = ps
		}
		if export {
			sel.Cells = append(sel.Cells, &SelectedCell{Index: i, Tag: tag, Cell: c, code: code, defs: defs})
		}
	}
	if !tagged && !opts.All {
		return nil, fmt.Errorf("export: no cell is tagged %s or %s (a parameters cell alone is no pipeline): tag the cells of the pipeline (Jupyter cell tags), or export every untagged cell with --all", strings.Join(StageTags[1:len(StageTags)-1], ", "), StageTags[len(StageTags)-1])
	}
	if len(sel.Cells) == 0 {
		return nil, fmt.Errorf("export: no code cell to export")
	}
	if injected != nil {
		if err := sel.applyInjected(injected); err != nil {
			return nil, err
		}
	}

	// Imports are visible to every later cell of a session.
	for _, sc := range sel.Cells {
		for _, r := range sc.code.runs {
			if r.kind != importRun {
				continue
			}
			for _, d := range r.decls {
				for _, sp := range d.(*ast.GenDecl).Specs {
					is := sp.(*ast.ImportSpec)
					path, _ := strconv.Unquote(is.Path.Value)
					if name := importName(is); name != "_" && name != "." {
						sel.imports[name] = path
					}
				}
			}
		}
	}
	if err := sel.checkNames(func(i int) (string, map[string]defKind, bool) {
		in, ok := infos[i]
		return in.tag, in.defs, ok && !in.out
	}); err != nil {
		return nil, err
	}
	return sel, nil
}

// defKind says how a cell defines a top-level name.
type defKind int

const (
	defImport defKind = iota + 1
	defFunc
	defType
	defConst
	defVar  // var declaration
	defStmt // x := ... at the top level of the cell
)

// orderFree reports whether the name can be used before the cell that
// defines it runs (a package-level declaration with no run-time value).
func (k defKind) orderFree() bool { return k == defFunc || k == defType || k == defConst }

// definitions returns the top-level names a cell defines.
func definitions(c *cellCode) map[string]defKind {
	defs := map[string]defKind{}
	for _, r := range c.runs {
		for _, d := range r.decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					defs[d.Name.Name] = defFunc
				}
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.ImportSpec:
						if n := importName(sp); n != "_" && n != "." {
							defs[n] = defImport
						}
					case *ast.TypeSpec:
						defs[sp.Name.Name] = defType
					case *ast.ValueSpec:
						k := defVar
						if d.Tok == token.CONST {
							k = defConst
						}
						for _, id := range sp.Names {
							if id.Name != "_" {
								defs[id.Name] = k
							}
						}
					}
				}
			}
		}
		for _, s := range r.stmts {
			if as, ok := s.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
				for _, l := range as.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
						if _, seen := defs[id.Name]; !seen {
							defs[id.Name] = defStmt
						}
					}
				}
			}
		}
	}
	return defs
}

// freeNames returns the names a cell uses but does not define, with the
// line of their first use, in order of first use.
func freeNames(c *cellCode, defs map[string]defKind) ([]string, map[string]int) {
	lines := map[string]int{}
	var order []string
	for _, r := range c.runs {
		for _, id := range r.file.Unresolved {
			name := id.Name
			if _, ok := defs[name]; ok || name == "_" || types.Universe.Lookup(name) != nil {
				continue
			}
			if _, ok := lines[name]; ok {
				continue
			}
			line, _ := c.lineOf(c.off(r, id.Pos()))
			lines[name] = line
			order = append(order, name)
		}
	}
	return order, lines
}

// checkNames reports the first name an exported cell uses that no
// exported cell defines (or that only a later one defines, for names with
// a run-time value). other describes a cell that is not exported.
func (sel *Selection) checkNames(other func(i int) (tag string, defs map[string]defKind, ok bool)) error {
	type def struct {
		cell int
		kind defKind
	}
	first := map[string]def{}
	for _, sc := range sel.Cells {
		for name, k := range sc.defs {
			if d, ok := first[name]; !ok || (k.orderFree() && !d.kind.orderFree()) {
				first[name] = def{sc.Index, k}
			}
		}
	}
	for _, sc := range sel.Cells {
		names, lines := freeNames(sc.code, sc.defs)
		for _, name := range names {
			if _, ok := sel.imports[name]; ok {
				continue
			}
			d, ok := first[name]
			if ok && (d.cell <= sc.Index || d.kind.orderFree()) {
				continue
			}
			e := &CellError{Cell: sc.Index, Tag: sc.Tag, Line: lines[name]}
			if ok {
				e.Msg = fmt.Sprintf("uses %q before cell %d defines it", name, d.cell)
				return e
			}
			e.Msg = fmt.Sprintf("uses %q, which no exported cell defines", name)
			var where []string
			for i := range sel.Notebook.Cells {
				tag, defs, ok := other(i)
				if !ok {
					continue
				}
				if _, has := defs[name]; has {
					why := "untagged"
					if tag == TagSkip {
						why = "tagged skip"
					}
					where = append(where, fmt.Sprintf("cell %d defines it but is %s", i, why))
				}
			}
			if len(where) > 0 {
				e.Msg += " (" + strings.Join(where, "; ") + ")"
			}
			return e
		}
	}
	return nil
}

// readParams reads the parameters cell: assignments and var declarations
// of literal values only.
func readParams(c *cellCode, tag string) ([]Param, error) {
	injected := tag == TagInjected
	var ps []Param
	seen := map[string]int{}
	errAt := func(p token.Pos, r *codeRun, msg string) error {
		line, _ := c.lineOf(c.off(r, p))
		return &CellError{Cell: c.index, Tag: tag, Line: line, Msg: msg}
	}
	add := func(r *codeRun, id *ast.Ident, typ string, val ast.Expr) error {
		if id.Name == "_" {
			return errAt(id.Pos(), r, "a parameter needs a name, not _")
		}
		t, lit, err := paramLiteral(typ, val)
		if err != nil {
			return errAt(val.Pos(), r, fmt.Sprintf("parameter %s: %v", id.Name, err))
		}
		line, _ := c.lineOf(c.off(r, id.Pos()))
		if i, ok := seen[id.Name]; ok {
			if ps[i].Type != t {
				return errAt(id.Pos(), r, fmt.Sprintf("parameter %s is %s here and %s on line %d", id.Name, t, ps[i].Type, ps[i].Line))
			}
			ps[i].Value, ps[i].Line = lit, line
			return nil
		}
		seen[id.Name] = len(ps)
		ps = append(ps, Param{Name: id.Name, Type: t, Value: lit, Line: line})
		return nil
	}
	const only = "a parameters cell holds only assignments and var declarations of literal values"
	for _, r := range c.runs {
		for _, d := range r.decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				what := "a declaration"
				switch d := d.(type) {
				case *ast.FuncDecl:
					what = "func " + d.Name.Name
				case *ast.GenDecl:
					what = d.Tok.String()
					if d.Tok == token.CONST {
						return nil, errAt(d.Pos(), r, "const cannot be set from the command line: declare parameters with var or :=")
					}
				}
				return nil, errAt(d.Pos(), r, fmt.Sprintf("%s is not an assignment: %s", what, only))
			}
			for _, sp := range gd.Specs {
				vs := sp.(*ast.ValueSpec)
				if len(vs.Values) != len(vs.Names) {
					return nil, errAt(vs.Pos(), r, fmt.Sprintf("parameter %s needs a value: %s", vs.Names[0].Name, only))
				}
				typ := ""
				if vs.Type != nil {
					id, ok := vs.Type.(*ast.Ident)
					if !ok || !slices.Contains(ParamTypes, id.Name) {
						return nil, errAt(vs.Type.Pos(), r, fmt.Sprintf("parameter %s: type %s is not one of %s", vs.Names[0].Name, c.text(r, vs.Type.Pos(), vs.Type.End()), strings.Join(ParamTypes, ", ")))
					}
					typ = id.Name
				}
				for k, id := range vs.Names {
					if err := add(r, id, typ, vs.Values[k]); err != nil {
						return nil, err
					}
				}
			}
		}
		for _, s := range r.stmts {
			as, ok := s.(*ast.AssignStmt)
			if !ok || (as.Tok != token.DEFINE && as.Tok != token.ASSIGN) || len(as.Lhs) != len(as.Rhs) {
				return nil, errAt(s.Pos(), r, fmt.Sprintf("%s is not an assignment: %s", firstLine(c.text(r, s.Pos(), s.End())), only))
			}
			for k, l := range as.Lhs {
				id, ok := l.(*ast.Ident)
				if !ok {
					return nil, errAt(l.Pos(), r, fmt.Sprintf("%s: assign to a plain name: %s", c.text(r, l.Pos(), l.End()), only))
				}
				if _, ok := seen[id.Name]; !ok && as.Tok == token.ASSIGN && !injected {
					return nil, errAt(l.Pos(), r, fmt.Sprintf("%s = ... assigns a variable the cell does not declare: use %s := ...", id.Name, id.Name))
				}
				typ := ""
				if i, ok := seen[id.Name]; ok && as.Tok == token.ASSIGN {
					// = keeps the variable's type: seed = 8 after
					// seed := int64(7) sets an int64, as in Go.
					typ = ps[i].Type
				}
				if err := add(r, id, typ, as.Rhs[k]); err != nil {
					return nil, err
				}
			}
		}
	}
	return ps, nil
}

func firstLine(s string) string {
	s, _, cut := strings.Cut(strings.TrimSpace(s), "\n")
	if cut {
		s += " ..."
	}
	return s
}

// paramLiteral checks that e is a literal of a parameter type (typ, or
// the literal's default type when typ is "") and returns the type and the
// literal's text.
func paramLiteral(typ string, e ast.Expr) (string, string, error) {
	e = ast.Unparen(e)
	if call, ok := e.(*ast.CallExpr); ok && len(call.Args) == 1 {
		// A conversion: int64(42), float64(1).
		id, ok := call.Fun.(*ast.Ident)
		if !ok || !slices.Contains(ParamTypes, id.Name) {
			return "", "", fmt.Errorf("the value must be a literal (%s)", strings.Join(ParamTypes, ", "))
		}
		if typ != "" && typ != id.Name {
			return "", "", fmt.Errorf("%s value for a %s variable", id.Name, typ)
		}
		return paramLiteral(id.Name, call.Args[0])
	}
	neg := false
	if u, ok := e.(*ast.UnaryExpr); ok && (u.Op == token.SUB || u.Op == token.ADD) {
		neg = u.Op == token.SUB
		e = ast.Unparen(u.X)
	}
	var kind, text string
	switch x := e.(type) {
	case *ast.BasicLit:
		text = x.Value
		switch x.Kind {
		case token.INT:
			kind = "int"
		case token.FLOAT:
			kind = "float64"
		case token.STRING:
			kind = "string"
		default:
			return "", "", fmt.Errorf("%s literals are not supported (use %s)", strings.ToLower(x.Kind.String()), strings.Join(ParamTypes, ", "))
		}
	case *ast.Ident:
		if x.Name != "true" && x.Name != "false" {
			return "", "", fmt.Errorf("the value must be a literal, not %s", x.Name)
		}
		kind, text = "bool", x.Name
	default:
		return "", "", fmt.Errorf("the value must be a literal (%s)", strings.Join(ParamTypes, ", "))
	}
	if neg {
		if kind != "int" && kind != "float64" {
			return "", "", fmt.Errorf("cannot negate a %s", kind)
		}
		text = "-" + text
	}
	if typ == "" {
		typ = kind
	}
	// The literal must be representable in the type: parse it as Go would.
	v, err := ParseParam(typ, text, true)
	if err != nil {
		return "", "", err
	}
	return typ, v, nil
}

// ParseParam checks a parameter value for its type and returns it as a Go
// literal. With goLit, value is Go source (a quoted string); otherwise it
// is text from the command line (a bare string).
func ParseParam(typ, value string, goLit bool) (string, error) {
	shown := strconv.Quote(value) // Go source is shown as written
	if goLit {
		shown = value
	}
	switch typ {
	case "int", "int64":
		v, err := strconv.ParseInt(strings.ReplaceAll(value, "_", ""), 0, 64)
		if err != nil || (typ == "int" && strconv.IntSize == 32 && int64(int32(v)) != v) {
			if f, ferr := strconv.ParseFloat(value, 64); goLit && ferr == nil && f == float64(int64(f)) {
				return strconv.FormatInt(int64(f), 10), nil // an untyped constant such as 1e3
			}
			return "", fmt.Errorf("%s is not an %s", shown, typ)
		}
		return strconv.FormatInt(v, 10), nil
	case "float64":
		f, err := strconv.ParseFloat(strings.ReplaceAll(value, "_", ""), 64)
		if err != nil {
			if iv, ierr := strconv.ParseInt(value, 0, 64); ierr == nil {
				f, err = float64(iv), nil
			}
		}
		if err != nil || f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308 {
			return "", fmt.Errorf("%s is not a finite float64", shown)
		}
		return formatFloat(f), nil
	case "bool":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return "", fmt.Errorf("%s is not a bool (true or false)", shown)
		}
		return strconv.FormatBool(b), nil
	case "string":
		if goLit {
			s, err := strconv.Unquote(value)
			if err != nil {
				return "", fmt.Errorf("bad string literal %s", value)
			}
			return strconv.Quote(s), nil
		}
		return strconv.Quote(value), nil
	}
	return "", fmt.Errorf("type %s is not one of %s", typ, strings.Join(ParamTypes, ", "))
}

// formatFloat writes f as a Go float literal that reads back exactly.
func formatFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// applyInjected applies the values of an injected-parameters cell (left
// by an earlier `gopherlab run`) to the parameter defaults.
func (sel *Selection) applyInjected(c *cellCode) error {
	if sel.ParamsCell < 0 {
		return &CellError{Cell: c.index, Tag: TagInjected, Msg: "an injected-parameters cell but no parameters cell"}
	}
	vals, err := readParams(c, TagInjected)
	if err != nil {
		return err
	}
	for _, v := range vals {
		i := slices.IndexFunc(sel.Params, func(p Param) bool { return p.Name == v.Name })
		if i < 0 {
			return &CellError{Cell: c.index, Tag: TagInjected, Line: v.Line, Msg: fmt.Sprintf("sets %s, which is not a parameter", v.Name)}
		}
		p := &sel.Params[i]
		lit, err := ParseParam(p.Type, v.Value, true)
		if err != nil {
			return &CellError{Cell: c.index, Tag: TagInjected, Line: v.Line, Msg: fmt.Sprintf("parameter %s: %v", v.Name, err)}
		}
		p.Value = lit
	}
	return nil
}

// Param returns the named parameter.
func (sel *Selection) Param(name string) (Param, bool) {
	for _, p := range sel.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
