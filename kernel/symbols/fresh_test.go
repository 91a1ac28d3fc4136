package symbols

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The generated tables and the documentation index of gopherlab's own
// packages match their source: every exported, non-generic identifier is
// in the table and nothing else is, and every exported identifier and
// method has its entry in the index, with its doc comment's start. A
// change to those packages' API or docs without `go generate
// ./kernel/symbols` fails here.
func TestOwnPackagesFresh(t *testing.T) {
	all := All()
	for _, name := range []string{"display", "experiments", "tracking"} {
		t.Run(name, func(t *testing.T) {
			pkgPath := "github.com/gopherlab/gopherlab/" + name
			api := exportedAPI(t, filepath.Join("..", "..", name))
			table := all[pkgPath+"/"+name]
			var inTable []string
			for n := range table {
				if !strings.HasPrefix(n, "_") { // interface wrappers
					inTable = append(inTable, n)
				}
			}
			slices.Sort(inTable)
			if !slices.Equal(inTable, api.table) {
				t.Errorf("the symbol table differs from the source (run go generate ./kernel/symbols):\n  only in the table: %q\n  only in the source: %q",
					minus(inTable, api.table), minus(api.table, inTable))
			}
			for member, want := range api.docs {
				m, ok := Lookup(pkgPath, member)
				if !ok {
					t.Errorf("the doc index has no %s.%s (run go generate ./kernel/symbols)", name, member)
					continue
				}
				if !strings.HasPrefix(normalize(m.Doc), normalize(want)) {
					t.Errorf("the doc index's %s.%s begins %.80q, its source %.80q (run go generate ./kernel/symbols)", name, member, m.Doc, want)
				}
			}
		})
	}
}

// goAPI is a package's exported API, from its source.
type goAPI struct {
	table []string          // non-generic top-level names, sorted
	docs  map[string]string // name or Type.Method: the first line of its doc
}

func exportedAPI(t *testing.T, dir string) goAPI {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != dir {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
			if err != nil {
				return err
			}
			files = append(files, f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := doc.NewFromFiles(fset, files, "x")
	if err != nil {
		t.Fatal(err)
	}
	api := goAPI{docs: map[string]string{}}
	first := func(s string) string {
		line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
		return line
	}
	addValues := func(vs []*doc.Value) {
		for _, v := range vs {
			for _, spec := range v.Decl.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					if n.IsExported() {
						api.table = append(api.table, n.Name)
					}
				}
			}
		}
	}
	addFuncs := func(fs []*doc.Func) {
		for _, f := range fs {
			api.docs[f.Name] = first(f.Doc)
			if f.Decl.Type.TypeParams == nil {
				api.table = append(api.table, f.Name)
			}
		}
	}
	addValues(pkg.Consts)
	addValues(pkg.Vars)
	addFuncs(pkg.Funcs)
	for _, ty := range pkg.Types {
		api.docs[ty.Name] = first(ty.Doc)
		if ty.Decl.Specs[0].(*ast.TypeSpec).TypeParams == nil {
			api.table = append(api.table, ty.Name)
		}
		addValues(ty.Consts)
		addValues(ty.Vars)
		addFuncs(ty.Funcs)
		for _, m := range ty.Methods {
			api.docs[ty.Name+"."+m.Name] = first(m.Doc)
		}
	}
	slices.Sort(api.table)
	return api
}

func normalize(s string) string { return strings.Join(strings.Fields(s), " ") }

// minus returns what a has and b has not (both sorted).
func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if _, found := slices.BinarySearch(b, s); !found {
			out = append(out, s)
		}
	}
	return out
}
