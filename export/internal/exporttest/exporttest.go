// Package exporttest holds what the integration tests of export and its
// Beam job share: building and running programs, and the iris notebook
// they export, set to read its data from its own directory. It imports
// nothing from export, so export's own tests can use it.
package exporttest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/export/internal/gocmd"
)

// IrisCSV is the iris data the example notebook reads (Debian's
// python3-sklearn).
const IrisCSV = "/usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv"

// RepoRoot is the gopherlab checkout this package is in.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("exporttest: cannot locate the checkout")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "../../.."))
}

// GoBuild builds pkg in the module at dir into out, with the go
// environment export uses (gocmd.Env) plus env.
func GoBuild(t testing.TB, dir, out, pkg string, env ...string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(gocmd.Env(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s: %v\n%s", dir, err, b)
	}
}

// RunIn runs a program in dir and returns its stdout and stderr.
func RunIn(t testing.TB, dir, prog string, args ...string) (string, string, error) {
	t.Helper()
	return RunInEnv(t, dir, nil, prog, args...)
}

// RunInEnv is RunIn with env (KEY=value) added to the environment.
func RunInEnv(t testing.TB, dir string, env []string, prog string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// CopyIrisNotebook writes export/testdata/iris.ipynb into dir with its
// data path made relative ("iris.csv"), and a copy of the data beside
// it, and returns the notebook's path.
func CopyIrisNotebook(t testing.TB, dir string) string {
	t.Helper()
	nb, err := os.ReadFile(filepath.Join(RepoRoot(t), "export/testdata/iris.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	// The path is a Go string literal inside a JSON string.
	jsonQuoted := func(s string) string { return strings.ReplaceAll(strconv.Quote(s), `"`, `\"`) }
	from, to := jsonQuoted(IrisCSV), jsonQuoted("iris.csv")
	if n := bytes.Count(nb, []byte(from)); n != 1 {
		t.Fatalf("iris.ipynb has the data path %s %d times, want once", from, n)
	}
	nb = bytes.Replace(nb, []byte(from), []byte(to), 1)
	data, err := os.ReadFile(IrisCSV)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "iris.csv"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "iris.ipynb")
	if err := os.WriteFile(path, nb, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
