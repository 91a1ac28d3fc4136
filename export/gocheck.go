package export

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/gopherlab/gopherlab/export/internal/gocmd"
)

// goCommand runs the go command in dir and returns its stdout.
func goCommand(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = gocmd.Env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// exportImporter returns a types.Importer that reads the compiler's export
// data of paths and their dependencies, built by `go list -export` in the
// module at dir (the exported job, so import paths are its own).
func exportImporter(fset *token.FileSet, dir string, paths []string) (types.Importer, error) {
	if len(paths) == 0 {
		return importer.ForCompiler(fset, "gc", nil), nil
	}
	args := append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}, paths...)
	out, err := goCommand(dir, args...)
	if err != nil {
		return nil, fmt.Errorf("export: compile the packages the cells import: %w", err)
	}
	files := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if p, f, ok := strings.Cut(line, "\t"); ok && f != "" {
			files[p] = f
		}
	}
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := files[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	}), nil
}

// checkFile type-checks one file of package main and returns the type
// information and every error.
func checkFile(fset *token.FileSet, f *ast.File, imp types.Importer) (*types.Info, []types.Error) {
	info := &types.Info{
		Types: map[ast.Expr]types.TypeAndValue{},
		Defs:  map[*ast.Ident]types.Object{},
		Uses:  map[*ast.Ident]types.Object{},
	}
	var errs []types.Error
	conf := types.Config{Importer: imp, Error: func(err error) {
		if te, ok := err.(types.Error); ok {
			errs = append(errs, te)
		}
	}}
	conf.Check("main", fset, []*ast.File{f}, info)
	return info, errs
}
