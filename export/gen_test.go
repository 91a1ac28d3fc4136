package export

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/export/internal/exporttest"
)

// TestJobMatchesNotebook exports a notebook that exercises what makes
// notebook code unlike a Go program (redeclarations, with and without a
// change of type, var declarations run in cell order, functions reading
// notebook globals, results of every kind, displays, unused imports) and
// checks that the job prints exactly what the notebook printed.
func TestJobMatchesNotebook(t *testing.T) {
	glx(t)
	tmp := t.TempDir()
	nb := testNotebook(t,
		cell("# features", "md"),
		cell("n := 3\nlabel := \"run\"\nscale := 0.5\nverbose := true", "parameters"),
		cell(`import (
	"fmt"
	"sort"
	"strings"

	"github.com/gopherlab/gopherlab/display"
)

x := n * 2
fmt.Println("x is", x, label, scale, verbose)
x`, "load"),
		cell("fmt.Println(\"exploring\")\nx = 100", "skip"),
		cell(`// Redeclared with another type: the job renames it.
x := "two"
fmt.Println("x is now", x)
// Redeclared with the same type, reading its old value.
n := n + 10
fmt.Println("n", n)
var total float64
for i := 0; i < n; i++ {
	total += scale * float64(i)
}
var (
	a, b = 1, "b"
	c    []int
)
c = append(c, a)
fmt.Println(total, a, b, c)`, "prepare"),
		cell(`type point struct{ X, Y float64 }

func (p point) String() string { return fmt.Sprintf("(%g, %g)", p.X, p.Y) }

// scaled reads notebook globals.
func scaled(p point) point { return point{p.X * scale, p.Y * float64(n)} }

add := func(a, b int) int { return a + b }
pts := []point{{1, 2}, {3, 4}}
sort.Slice(pts, func(i, j int) bool { return pts[i].X > pts[j].X })
p := scaled(pts[0])
p`, "train"),
		cell(`var err error
if _, err := fmt.Sscan("12", new(int)); err != nil {
	panic(err)
}
display.Markdown("**sum** " + fmt.Sprint(add(2, 3)))
display.HTML("<b>bold</b> text")
fmt.Println(strings.Repeat("ab", 2), err)
m := map[string]int{"k": 1}
_ = m
err`, "evaluate"),
		cell(`%time y := add(n, 1)
y * 2`, "evaluate"),
		cell(`fmt.Println("last")
add(40, 2)`, "evaluate"),
	)
	path := filepath.Join(tmp, "features.ipynb")
	if err := nb.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	executed := filepath.Join(tmp, "features.out.ipynb")
	if stdout, stderr, err := runGLX(t, tmp, "run", "-q", path, "-o", executed); err != nil {
		t.Fatalf("run: %v\n%s%s", err, stdout, stderr)
	}
	ran, err := ReadNotebook(executed)
	if err != nil {
		t.Fatal(err)
	}
	want := notebookOutput(t, ran, stageTagged)
	// %time's report is the notebook's only: the job drops the magic.
	var kept []string
	for _, l := range strings.SplitAfter(want, "\n") {
		if !strings.HasPrefix(l, "CPU times: ") && !strings.HasPrefix(l, "Wall time: ") {
			kept = append(kept, l)
		}
	}
	want = strings.Join(kept, "")
	out := filepath.Join(tmp, "out")
	if stdout, stderr, err := runGLX(t, tmp, "export", path, "-o", out); err != nil {
		t.Fatalf("export: %v\n%s%s", err, stdout, stderr)
	}
	jobDir := filepath.Join(out, "job")
	if _, err := os.Stat(filepath.Join(out, "serve")); err == nil {
		t.Error("a serving bundle without a pipeline")
	}
	job := filepath.Join(jobDir, "job")
	exporttest.GoBuild(t, jobDir, job, ".")
	stdout, stderr, err := exporttest.RunIn(t, jobDir, job, "-q")
	if err != nil {
		t.Fatalf("job: %v\n%s", err, stderr)
	}
	if stdout != want {
		main, _ := os.ReadFile(filepath.Join(jobDir, "main.go"))
		t.Fatalf("job printed\n%s\nnotebook printed\n%s\nmain.go:\n%s", stdout, want, main)
	}
	// Parameters are flags.
	stdout, _, err = exporttest.RunIn(t, jobDir, job, "-q", "-n", "1", "-label", "flagged", "-verbose=false")
	if err != nil || !strings.Contains(stdout, "x is 2 flagged 0.5 false") {
		t.Errorf("job with flags: %v\n%s", err, stdout)
	}
}

// TestExportErrors checks errors found when the cells become one program.
func TestExportErrors(t *testing.T) {
	glx(t)
	tests := []struct {
		name  string
		cells []tc
		err   string
	}{
		{
			name:  "type error names the cell and line",
			cells: []tc{cell("x := 1", "load"), cell("import \"strings\"\n\ny := strings.ToUpper(x)\n_ = y", "train")},
			err:   "cell 1 (train) line 3: cannot use x",
		},
		{
			name:  "conflicting imports",
			cells: []tc{cell("import \"math/rand\"\n_ = rand.Int()", "load"), cell("import \"crypto/rand\"\n_ = rand.Reader", "train")},
			err:   "cell 1 (train) line 1: imports crypto/rand as rand, which cell 0 imports from math/rand",
		},
		{
			name:  "undefined name",
			cells: []tc{cell("x := 1\n_ = x", "load"), cell("println(nope)", "train")},
			err:   `cell 1 (train) line 1: uses "nope", which no exported cell defines`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			path := filepath.Join(tmp, "nb.ipynb")
			if err := testNotebook(t, tt.cells...).WriteFile(path); err != nil {
				t.Fatal(err)
			}
			// An earlier export, its job built and run: a failed export
			// leaves it as it was.
			out := filepath.Join(tmp, "out")
			earlier := map[string]string{"job/" + marker: "", "job/job": "built", "job/main.go": "earlier", "serve/" + marker: "", "serve/model/model.json": "trained"}
			for name, content := range earlier {
				p := filepath.Join(out, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, stderr, err := runGLX(t, tmp, "export", path, "-o", out)
			if err == nil || !strings.Contains(stderr, tt.err) {
				t.Errorf("export: %v\n%s\nwant %q", err, stderr, tt.err)
			}
			for name, content := range earlier {
				if b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(name))); err != nil || string(b) != content {
					t.Errorf("the failed export changed the earlier export's %s: %q %v", name, b, err)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(out, stagingPrefix+"*")); len(left) > 0 {
				t.Errorf("the failed export left %v", left)
			}
		})
	}
}
