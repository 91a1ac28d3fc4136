package export

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/export/internal/exporttest"
)

// TestJobFinalCalls: a cell's final call does in the job what it does in
// the notebook. Its value or values are shown (byte counts not), and a
// non-nil error it returns, alone or last of several results, fails the
// job naming the cell, as it fails the cell in gopherlab run.
func TestJobFinalCalls(t *testing.T) {
	glx(t)
	tmp := t.TempDir()
	nb := testNotebook(t,
		cell(`failAt := ""`, "parameters"),
		cell(`import (
	"errors"
	"fmt"
	"strconv"
)

func fails(name string) error {
	if failAt == name {
		return errors.New(name + " failed")
	}
	return nil
}

func two(name string) (int, error)           { return 42, fails(name) }
func three(name string) (int, string, error) { return 7, "seven", fails(name) }
func pair() (int, string)                    { return 1, "one" }

fmt.Println("load")
two("two")`, "load"),
		cell(`three("three")`, "prepare"),
		cell(`fails("only")`, "train"),
		cell(`pair()`, "evaluate"),
		cell(`fmt.Println("printed")`, "evaluate"),
		cell(`strconv.Atoi("12")`, "evaluate"),
		cell(`e := errors.New("a value, not a failure")
e`, "evaluate"),
	)
	path := filepath.Join(tmp, "calls.ipynb")
	if err := nb.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	executed := filepath.Join(tmp, "calls.out.ipynb")
	if stdout, stderr, err := runGLX(t, tmp, "run", "-q", path, "-o", executed); err != nil {
		t.Fatalf("run: %v\n%s%s", err, stdout, stderr)
	}
	ran, err := ReadNotebook(executed)
	if err != nil {
		t.Fatal(err)
	}
	want := notebookOutput(t, ran, stageTagged)
	out := filepath.Join(tmp, "out")
	if stdout, stderr, err := runGLX(t, tmp, "export", path, "-o", out); err != nil {
		t.Fatalf("export: %v\n%s%s", err, stdout, stderr)
	}
	jobDir := filepath.Join(out, "job")
	job := filepath.Join(jobDir, "job")
	exporttest.GoBuild(t, jobDir, job, ".")
	stdout, stderr, err := exporttest.RunIn(t, jobDir, job)
	if err != nil || stdout != want {
		main, _ := os.ReadFile(filepath.Join(jobDir, "main.go"))
		t.Fatalf("job: %v\nprinted\n%s\nnotebook printed\n%s\nstderr:\n%s\nmain.go:\n%s", err, stdout, want, stderr, main)
	}
	// Progress counts the cells that run, from the first.
	if !strings.Contains(stderr, "[1/7] cell 1 (load)\n") || !strings.Contains(stderr, "[7/7] cell 7 (evaluate)\n") {
		t.Errorf("progress:\n%s", stderr)
	}
	for _, tt := range []struct {
		failAt string
		fail   string
	}{
		{"two", "job failed in cell 1 (load): two failed"},
		{"three", "job failed in cell 2 (prepare): three failed"},
		{"only", "job failed in cell 3 (train): only failed"},
	} {
		t.Run(tt.failAt, func(t *testing.T) {
			if _, stderr, err := runGLX(t, tmp, "run", "-q", path, "-p", "failAt="+tt.failAt, "-o", filepath.Join(tmp, tt.failAt+".ipynb")); err == nil || !strings.Contains(stderr, tt.failAt+" failed") {
				t.Errorf("gopherlab run -p failAt=%s: %v\n%s", tt.failAt, err, stderr)
			}
			_, stderr, err := exporttest.RunIn(t, jobDir, job, "-failAt", tt.failAt)
			if err == nil || !strings.Contains(stderr, tt.fail) {
				t.Errorf("job -failAt %s: %v\n%s\nwant %q", tt.failAt, err, stderr, tt.fail)
			}
		})
	}
}
