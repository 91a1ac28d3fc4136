// Command gendoc writes the documentation index that package symbols embeds:
// for every package that has a symbol table, its doc comment and the
// signature and doc of each exported member the table actually provides.
//
// It is run by `go generate ./kernel/symbols` after the yaegi tables are
// regenerated, from the kernel/symbols directory:
//
//	go run ./internal/gendoc -o docindex.gob.gz
//
// Sources are located with `go list` (GOROOT for the standard library, the
// module cache for dependencies), for the host's GOOS and GOARCH. Exported
// identifiers found in a non-standard package's source but missing from its
// table (generic functions and types, which yaegi extract skips) are reported
// on stderr.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/gob"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/traefik/yaegi/stdlib/generic"

	"github.com/gopherlab/gopherlab/kernel/symbols"
)

// Doc comments are trimmed to keep the embedded index small; inspect shows
// the start of a comment, which is where Go doc comments put the essentials.
const (
	maxMemberDoc  = 1500
	maxPackageDoc = 4000
	maxValueExpr  = 80 // longer initializers are left out of var/const signatures
)

// genericNote prefixes the doc of functions that yaegi provides as
// interpreted generic source rather than compiled code.
const genericNote = "(Interpreted generic function: yaegi v0.16.1 often fails to infer " +
	"its type arguments, and explicit ones can crash it.)\n\n"

// index and pkgIndex mirror the unexported types of the same names in package
// symbols; gob matches them by field name.
type index struct {
	Packages []pkgIndex
}

type pkgIndex struct {
	Path     string
	Synopsis string
	Doc      string
	Members  []symbols.Member
}

func main() {
	out := flag.String("o", "docindex.gob.gz", "output file")
	verbose := flag.Bool("v", false, "also report standard library identifiers missing from the tables")
	flag.Parse()
	if err := run(*out, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}

func run(out string, verbose bool) error {
	tables := tableNames()
	interpreted, err := interpretedFuncs()
	if err != nil {
		return err
	}
	paths := make([]string, 0, len(tables))
	for p := range tables {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	listed, err := goList(paths)
	if err != nil {
		return err
	}
	var idx index
	for _, p := range paths {
		lp, ok := listed[p]
		if !ok {
			return fmt.Errorf("go list did not report %s", p)
		}
		pi, missing, err := document(lp, tables[p], interpreted[p])
		if err != nil {
			return err
		}
		if len(missing) > 0 && (verbose || !lp.Standard) {
			fmt.Fprintf(os.Stderr, "gendoc: %s: in source but not in the symbol table: %s\n", p, strings.Join(missing, ", "))
		}
		idx.Packages = append(idx.Packages, pi)
	}
	return write(out, &idx)
}

// tableNames returns, per import path that symbols.Packages offers, the
// names in the path's symbol table, leaving out interface wrappers ("_Name").
func tableNames() map[string]map[string]bool {
	tables := map[string]map[string]bool{}
	for _, p := range symbols.Packages() {
		tables[p] = map[string]bool{}
	}
	for key, syms := range symbols.All() {
		names := tables[path.Dir(key)]
		if names == nil {
			continue
		}
		for name := range syms {
			if !strings.HasPrefix(name, "_") {
				names[name] = true
			}
		}
	}
	return tables
}

// interpretedFuncs returns the exported functions that yaegi compiles from
// Go source when the standard library is loaded (parts of cmp, maps and
// slices), per package path.
func interpretedFuncs() (map[string]map[string]bool, error) {
	funcs := map[string]map[string]bool{}
	for i, src := range generic.Sources {
		f, err := parser.ParseFile(token.NewFileSet(), fmt.Sprintf("generic%d.go", i), src, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse yaegi generic source: %w", err)
		}
		// These are top-level standard packages, so the name is the path.
		p := f.Name.Name
		if funcs[p] == nil {
			funcs[p] = map[string]bool{}
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.IsExported() {
				funcs[p][fd.Name.Name] = true
			}
		}
	}
	return funcs, nil
}

type listedPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	GoFiles    []string
	CgoFiles   []string
	Error      *struct{ Err string }
}

func goList(paths []string) (map[string]listedPackage, error) {
	args := append([]string{"list", "-e", "-json=ImportPath,Dir,Standard,GoFiles,CgoFiles,Error"}, paths...)
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w: %s", err, stderr.Bytes())
	}
	listed := map[string]listedPackage{}
	dec := json.NewDecoder(bytes.NewReader(outb))
	for {
		var lp listedPackage
		if err := dec.Decode(&lp); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decode go list output: %w", err)
		}
		if lp.Error != nil {
			return nil, fmt.Errorf("go list %s: %s", lp.ImportPath, lp.Error.Err)
		}
		listed[lp.ImportPath] = lp
	}
	return listed, nil
}

// document builds the index entry of one package. inTable holds the names of
// its symbol table; interpreted the functions yaegi provides from source.
// missing lists exported top-level identifiers that neither provides.
func document(lp listedPackage, inTable, interpreted map[string]bool) (pkgIndex, []string, error) {
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range append(append([]string(nil), lp.GoFiles...), lp.CgoFiles...) {
		f, err := parser.ParseFile(fset, filepath.Join(lp.Dir, name), nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return pkgIndex{}, nil, fmt.Errorf("parse %s: %w", lp.ImportPath, err)
		}
		files = append(files, f)
	}
	dp, err := doc.NewFromFiles(fset, files, lp.ImportPath)
	if err != nil {
		return pkgIndex{}, nil, fmt.Errorf("read docs of %s: %w", lp.ImportPath, err)
	}

	g := &gen{fset: fset, pkg: dp, inTable: inTable, interpreted: interpreted}
	g.values(dp.Consts, "const")
	g.values(dp.Vars, "var")
	g.funcs(dp.Funcs, "")
	for _, t := range dp.Types {
		g.typ(t)
	}
	sort.Slice(g.members, func(i, j int) bool { return g.members[i].Name < g.members[j].Name })
	sort.Strings(g.missing)

	return pkgIndex{
		Path:     lp.ImportPath,
		Synopsis: dp.Synopsis(dp.Doc),
		Doc:      trim(g.text(dp.Doc), maxPackageDoc),
		Members:  g.members,
	}, g.missing, nil
}

type gen struct {
	fset        *token.FileSet
	pkg         *doc.Package
	inTable     map[string]bool
	interpreted map[string]bool
	members     []symbols.Member
	missing     []string
}

// text renders a doc comment as plain text, with doc links resolved to
// their names.
func (g *gen) text(comment string) string {
	return strings.TrimSpace(string(g.pkg.Text(comment)))
}

func (g *gen) add(name, kind, sig, comment string) {
	g.members = append(g.members, symbols.Member{
		Name:      name,
		Kind:      kind,
		Signature: sig,
		Doc:       trim(g.text(comment), maxMemberDoc),
	})
}

// provided reports whether a top-level name can be used from a cell, and
// records it as missing otherwise.
func (g *gen) provided(name string) bool {
	if g.inTable[name] || g.interpreted[name] {
		return true
	}
	g.missing = append(g.missing, name)
	return false
}

func (g *gen) values(vs []*doc.Value, kind string) {
	for _, v := range vs {
		var lastType ast.Expr
		for _, s := range v.Decl.Specs {
			vs := s.(*ast.ValueSpec)
			typ := vs.Type
			if kind == "const" && typ == nil && len(vs.Values) == 0 {
				// Implicit repetition of the previous spec in a const group.
				typ = lastType
			}
			lastType = typ
			comment := v.Doc
			if vs.Doc != nil {
				comment = vs.Doc.Text()
			} else if vs.Comment != nil {
				comment = vs.Comment.Text()
			}
			for i, id := range vs.Names {
				if !id.IsExported() || !g.provided(id.Name) {
					continue
				}
				sig := kind + " " + id.Name
				if typ != nil {
					sig += " " + types.ExprString(typ)
				}
				if i < len(vs.Values) && len(vs.Values) == len(vs.Names) {
					if e, ok := g.value(vs.Values[i]); ok {
						sig += " = " + e
					}
				}
				g.add(id.Name, kind, sig, comment)
			}
		}
	}
}

// value formats a const or var initializer as gofmt does, if it is short
// and on one line; iota alone tells a reader nothing.
func (g *gen) value(e ast.Expr) (string, bool) {
	var b strings.Builder
	if err := printer.Fprint(&b, g.fset, e); err != nil {
		return "", false
	}
	v := b.String()
	if v == "iota" || len(v) > maxValueExpr || strings.Contains(v, "\n") {
		return "", false
	}
	return v, true
}

// funcs adds functions, or methods of the type named recv.
func (g *gen) funcs(fs []*doc.Func, recv string) {
	for _, f := range fs {
		if recv == "" {
			if !g.provided(f.Name) {
				continue
			}
			comment := f.Doc
			if g.interpreted[f.Name] && !g.inTable[f.Name] {
				comment = genericNote + comment
			}
			g.add(f.Name, "func", funcSig("", f.Name, f.Decl.Type), comment)
			continue
		}
		r := recvString(f.Decl.Recv)
		if f.Level > 0 {
			// Promoted from an unexported embedded field: show the
			// receiver the user has.
			r = f.Recv
		}
		g.add(recv+"."+f.Name, "method", funcSig(r, f.Name, f.Decl.Type), f.Doc)
	}
}

func (g *gen) typ(t *doc.Type) {
	// Constants, variables and constructors are top-level names grouped
	// under their type by go/doc.
	g.values(t.Consts, "const")
	g.values(t.Vars, "var")
	g.funcs(t.Funcs, "")
	if !g.provided(t.Name) {
		return
	}
	spec := typeSpec(t)
	if spec == nil {
		return
	}
	sig := "type " + t.Name + typeParams(spec.TypeParams)
	if spec.Assign.IsValid() {
		sig += " ="
	}
	switch u := spec.Type.(type) {
	case *ast.StructType:
		sig += " struct"
	case *ast.InterfaceType:
		sig += " interface"
		g.interfaceMethods(t.Name, u)
	default:
		sig += " " + types.ExprString(spec.Type)
	}
	g.add(t.Name, "type", sig, t.Doc)
	g.funcs(t.Methods, t.Name)
}

// interfaceMethods adds the exported methods declared in an interface type,
// which go/doc does not list, so that completion works on interface values.
func (g *gen) interfaceMethods(name string, it *ast.InterfaceType) {
	for _, f := range it.Methods.List {
		ft, ok := f.Type.(*ast.FuncType)
		if !ok {
			continue // embedded interface
		}
		comment := ""
		if f.Doc != nil {
			comment = f.Doc.Text()
		} else if f.Comment != nil {
			comment = f.Comment.Text()
		}
		for _, id := range f.Names {
			if id.IsExported() {
				g.add(name+"."+id.Name, "method", funcSig(name, id.Name, ft), comment)
			}
		}
	}
}

func typeSpec(t *doc.Type) *ast.TypeSpec {
	for _, s := range t.Decl.Specs {
		if ts, ok := s.(*ast.TypeSpec); ok && ts.Name.Name == t.Name {
			return ts
		}
	}
	return nil
}

// funcSig formats a function or method header on one line, as
// `func (m *Dense) Mul(a, b Matrix)`.
func funcSig(recv, name string, ft *ast.FuncType) string {
	var b strings.Builder
	b.WriteString("func ")
	if recv != "" {
		b.WriteString("(" + recv + ") ")
	}
	b.WriteString(name)
	b.WriteString(typeParams(ft.TypeParams))
	b.WriteString("(" + fields(ft.Params) + ")")
	if ft.Results != nil && len(ft.Results.List) > 0 {
		res := fields(ft.Results)
		if len(ft.Results.List) == 1 && len(ft.Results.List[0].Names) == 0 {
			b.WriteString(" " + res)
		} else {
			b.WriteString(" (" + res + ")")
		}
	}
	return b.String()
}

func recvString(fl *ast.FieldList) string {
	if fl == nil {
		return ""
	}
	return fields(fl)
}

func typeParams(fl *ast.FieldList) string {
	if fl == nil || len(fl.List) == 0 {
		return ""
	}
	return "[" + fields(fl) + "]"
}

func fields(fl *ast.FieldList) string {
	if fl == nil {
		return ""
	}
	parts := make([]string, 0, len(fl.List))
	for _, f := range fl.List {
		t := types.ExprString(f.Type)
		if len(f.Names) == 0 {
			parts = append(parts, t)
			continue
		}
		names := make([]string, len(f.Names))
		for i, id := range f.Names {
			names[i] = id.Name
		}
		parts = append(parts, strings.Join(names, ", ")+" "+t)
	}
	return strings.Join(parts, ", ")
}

// trim shortens s to at most n bytes, cutting at a paragraph or word
// boundary when one is close, and marks the cut.
func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(" …")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	s = s[:cut]
	if i := strings.LastIndex(s, "\n\n"); i > n/2 {
		s = s[:i]
	} else if i := strings.LastIndexAny(s, " \n"); i > n/2 {
		s = s[:i]
	}
	return strings.TrimSpace(s) + " …"
}

func write(out string, idx *index) error {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(zw).Encode(idx); err != nil {
		return fmt.Errorf("encode index: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress index: %w", err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	n := 0
	for _, p := range idx.Packages {
		n += len(p.Members)
	}
	fmt.Fprintf(os.Stderr, "gendoc: %d packages, %d members, %d bytes in %s\n", len(idx.Packages), n, buf.Len(), out)
	return nil
}
