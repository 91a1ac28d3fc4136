package export

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"strconv"
	"strings"

	"github.com/gopherlab/gopherlab/internal/gocell"
)

// A notebook cell mixes imports, declarations and statements, which Go
// only accepts in different places (a file, a function body). This file
// cuts a cell into runs of each kind and parses them with positions that
// are the cell's own, so errors name the cell's lines and code can be moved
// into a Go file piece by piece.

type runKind int

const (
	importRun runKind = iota + 1 // import declarations
	declRun                      // func, method, type, var and const declarations
	stmtRun                      // statements
)

// codeRun is a run of consecutive top-level pieces of one kind, parsed.
// Start and End are offsets in the cell's code; each run starts where
// the previous one ended, so comments before a declaration belong to it.
type codeRun struct {
	kind       runKind
	start, end int
	decls      []ast.Decl // importRun, declRun
	stmts      []ast.Stmt // stmtRun
	file       *ast.File
	hdr        int // bytes of the parsed source before the cell's text
}

// cellCode is the Go code of a cell, cut and parsed.
type cellCode struct {
	index int    // the cell's index in the notebook
	src   string // Go code (leading magics removed, lengths kept)
	fset  *token.FileSet
	runs  []*codeRun
	lines []int // offsets of line starts
}

// off returns the cell offset of a position in run r.
func (c *cellCode) off(r *codeRun, p token.Pos) int {
	return c.fset.PositionFor(p, false).Offset - r.hdr
}

// lineOf returns the 1-based line and column of a cell offset.
func (c *cellCode) lineOf(off int) (line, col int) {
	line = 1
	for i, s := range c.lines {
		if s > off {
			break
		}
		line = i + 1
	}
	return line, off - c.lines[line-1] + 1
}

// text returns the cell source between two positions of run r.
func (c *cellCode) text(r *codeRun, from, to token.Pos) string {
	return c.src[c.off(r, from):c.off(r, to)]
}

// CellError is an error in one cell of a notebook.
type CellError struct {
	Cell int    // index in the notebook's cells, from 0
	Line int    // 1-based line in the cell; 0 if not known
	Tag  string // the cell's pipeline tag, if any
	Msg  string // what is wrong
}

// Error returns Msg after the cell, with its tag and line when known:
// "cell 3 (train) line 2: ...".
func (e *CellError) Error() string {
	where := "cell " + strconv.Itoa(e.Cell)
	if e.Tag != "" {
		where += " (" + e.Tag + ")"
	}
	if e.Line > 0 {
		where += " line " + strconv.Itoa(e.Line)
	}
	return where + ": " + e.Msg
}

// parseCell strips the leading magics of a cell's source (see stripMagics)
// and cuts and parses its Go code.
func parseCell(index int, source, tag string) (*cellCode, error) {
	src, err := stripMagics(source)
	if err != nil {
		err.Cell, err.Tag = index, tag
		return nil, err
	}
	c := &cellCode{index: index, src: src, fset: token.NewFileSet(), lines: []int{0}}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			c.lines = append(c.lines, i+1)
		}
	}
	for _, r := range cutRuns(src) {
		if err := c.parseRun(r); err != nil {
			if le, ok := err.(scanner.ErrorList); ok && len(le) > 0 {
				return nil, &CellError{Cell: index, Tag: tag, Line: le[0].Pos.Line, Msg: "syntax error: " + le[0].Msg}
			}
			return nil, &CellError{Cell: index, Tag: tag, Msg: err.Error()}
		}
		c.runs = append(c.runs, r)
	}
	return c, nil
}

// parseRun parses the run's text in place in the cell (the rest of the
// cell blanked out, so offsets and lines are the cell's own).
func (c *cellCode) parseRun(r *codeRun) error {
	var b strings.Builder
	head := "package p;"
	if r.kind == stmtRun {
		head += "func _() {"
	}
	b.WriteString(head)
	b.WriteString(blank(c.src[:r.start]))
	b.WriteString(c.src[r.start:r.end])
	if r.kind == stmtRun {
		b.WriteString("\n}")
	}
	r.hdr = len(head)
	f, err := parser.ParseFile(c.fset, "", b.String(), parser.ParseComments|parser.DeclarationErrors)
	if err != nil {
		return err
	}
	r.file = f
	if r.kind == stmtRun {
		if len(f.Decls) != 1 {
			return fmt.Errorf("unexpected declaration")
		}
		fd, ok := f.Decls[0].(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			return fmt.Errorf("unexpected declaration")
		}
		r.stmts = fd.Body.List
	} else {
		r.decls = f.Decls
	}
	return nil
}

// blank replaces every character but line breaks with a space.
func blank(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch != '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}

// stripMagics blanks the magic lines of a cell: a line starting with %
// or ! where a statement may start, wherever it stands in the cell (the
// kernel's rule, gocell.MagicLine: the kernel runs a magic where it
// stands). %time is dropped (the code after it stays, and is Go code to
// the cell's end, as for the kernel); any other magic, a shell line or a
// help query cannot run in a Go program and is an error.
func stripMagics(src string) (string, *CellError) {
	lines := strings.SplitAfter(src, "\n")
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if !gocell.MagicLine(lines, 0, i) {
			continue
		}
		if strings.HasPrefix(t, "%time ") || t == "%time" {
			k := strings.Index(l, "%time") + len("%time")
			lines[i] = strings.Repeat(" ", k) + l[k:]
			break
		}
		name := strings.Fields(t)[0]
		return "", &CellError{Line: i + 1, Msg: fmt.Sprintf("%s is a notebook magic, which a Go program cannot run: remove it from the exported cells or tag the cell skip", name)}
	}
	out := strings.Join(lines, "")
	if q := strings.TrimSpace(out); q != "" && !strings.Contains(q, "\n") && (strings.HasSuffix(q, "?") || strings.HasPrefix(q, "?")) {
		return "", &CellError{Line: 1, Msg: fmt.Sprintf("%q is a documentation query: tag the cell skip", q)}
	}
	return out, nil
}

// cutRuns cuts Go source into runs of imports, declarations and
// statements: the pieces gocell.Split finds, consecutive pieces of one
// kind merged, so a statement run goes on until the next declaration.
func cutRuns(src string) []*codeRun {
	var runs []*codeRun
	for _, p := range gocell.Split(src) {
		kind := stmtRun
		switch p.Kind {
		case gocell.Import:
			kind = importRun
		case gocell.Decl:
			kind = declRun
		}
		if n := len(runs); n > 0 && runs[n-1].kind == kind {
			runs[n-1].end = p.End
			continue
		}
		runs = append(runs, &codeRun{kind: kind, start: p.Start, end: p.End})
	}
	return runs
}

// importName is the name an import binds: its alias, or the package name
// guessed from the path (the last element without a "go-" prefix or a
// version suffix), as the Go tool would find it for the packages cells
// can import.
func importName(spec *ast.ImportSpec) string {
	if spec.Name != nil {
		return spec.Name.Name
	}
	path, _ := strconv.Unquote(spec.Path.Value)
	return guessPackageName(path)
}

func guessPackageName(path string) string {
	elems := strings.Split(path, "/")
	name := elems[len(elems)-1]
	if len(elems) > 1 && len(name) >= 2 && name[0] == 'v' && strings.Trim(name[1:], "0123456789") == "" {
		name = elems[len(elems)-2]
	}
	name = strings.TrimPrefix(name, "go-")
	name = strings.TrimSuffix(name, ".go")
	name = strings.ReplaceAll(name, "-", "_")
	name = strings.ReplaceAll(name, ".", "_")
	return name
}
