package export

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/export/internal/exporttest"
	"github.com/gopherlab/gopherlab/tracking"
	"github.com/traefik/yaegi/extract"
)

// The integration tests drive a real gopherlab command: cmd/glx (run,
// export and the kernel's worker) built from this checkout.

var (
	glxOnce sync.Once
	glxPath string
	glxErr  error
	glxDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if glxDir != "" {
		if os.Getenv("EXPORT_TEST_KEEP") != "" {
			println("export test: kept", glxDir)
		} else {
			os.RemoveAll(glxDir)
		}
	}
	os.Exit(code)
}

// glx builds the test command once. When the kernel does not ship the
// experiments package's symbol table yet, one is generated and built in
// with an overlay, so cells can import it.
func glx(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the gopherlab command")
	}
	glxOnce.Do(func() {
		glxDir, glxErr = os.MkdirTemp("", "gopherlab-export-test-")
		if glxErr != nil {
			return
		}
		root := exporttest.RepoRoot(t)
		args := []string{"build", "-o", filepath.Join(glxDir, "glx")}
		if !kernelShips(root, "github.com/gopherlab/gopherlab/experiments") {
			var buf bytes.Buffer
			ex := extract.Extractor{Dest: "main"}
			if _, glxErr = ex.Extract("github.com/gopherlab/gopherlab/experiments", "", &buf); glxErr != nil {
				return
			}
			gen := filepath.Join(glxDir, "zz_experiments_symbols.go")
			if glxErr = os.WriteFile(gen, buf.Bytes(), 0o644); glxErr != nil {
				return
			}
			replace := map[string]string{filepath.Join(root, "export/internal/glx/zz_experiments_symbols.go"): gen}
			// An overlay given in GOFLAGS (a checkout with work in progress
			// hidden) is kept: the -overlay flag replaces it.
			for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
				if p, ok := strings.CutPrefix(f, "-overlay="); ok {
					var outer struct{ Replace map[string]string }
					if b, err := os.ReadFile(p); err == nil && json.Unmarshal(b, &outer) == nil {
						for k, v := range outer.Replace {
							replace[k] = v
						}
					}
				}
			}
			ov, _ := json.Marshal(map[string]any{"Replace": replace})
			ovPath := filepath.Join(glxDir, "overlay.json")
			if glxErr = os.WriteFile(ovPath, ov, 0o644); glxErr != nil {
				return
			}
			args = append(args, "-overlay", ovPath)
		}
		cmd := exec.Command("go", append(args, "./export/internal/glx")...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			glxErr = &buildError{err, string(out)}
			return
		}
		glxPath = filepath.Join(glxDir, "glx")
	})
	if glxErr != nil {
		t.Fatalf("build glx: %v", glxErr)
	}
	return glxPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// kernelShips reports whether kernel/symbols has a table for the package.
func kernelShips(root, path string) bool {
	files, _ := filepath.Glob(filepath.Join(root, "kernel/symbols/*.go"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(`"`+path+"/"+filepath.Base(path)+`"`)) {
			return true
		}
	}
	return false
}

// runGLX runs the test command and returns its stdout and stderr.
func runGLX(t *testing.T, dir string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(glx(t), args...)
	cmd.Dir = dir
	// The test command has no sources built in: export copies this checkout.
	cmd.Env = append(os.Environ(), "GOPHERLAB_SRC="+exporttest.RepoRoot(t))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// outputText returns the text of a cell's outputs of one type: stream
// text, or the text/plain of results and displays.
func outputText(t *testing.T, c *Cell, typ string) string {
	t.Helper()
	var b strings.Builder
	for _, raw := range c.Outputs {
		var o struct {
			OutputType string                     `json:"output_type"`
			Text       json.RawMessage            `json:"text"`
			Data       map[string]json.RawMessage `json:"data"`
			Ename      string                     `json:"ename"`
			Evalue     string                     `json:"evalue"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		if o.OutputType != typ {
			continue
		}
		switch typ {
		case "stream":
			s, _ := multiline(o.Text)
			b.WriteString(s)
		case "error":
			b.WriteString(o.Ename + ": " + o.Evalue)
		default:
			s, _ := multiline(o.Data["text/plain"])
			b.WriteString(s)
		}
	}
	return b.String()
}

func TestRunCommand(t *testing.T) {
	start := time.Now()
	tmp := t.TempDir()
	exporttest.CopyIrisNotebook(t, tmp) // its runs go to a database beside it
	out := filepath.Join(tmp, "iris.out.ipynb")
	stdout, stderr, err := runGLX(t, tmp, "run", "iris.ipynb", "-p", "c=2", "-o", out, "-p", "folds=3")
	if err != nil {
		t.Fatalf("run: %v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout, "executed 9 cells") {
		t.Errorf("stdout:\n%s", stdout)
	}
	nb, err := ReadNotebook(out)
	if err != nil {
		t.Fatal(err)
	}
	// The injected cell follows the parameters cell.
	inj := nb.Cells[2]
	if !inj.HasTag(TagInjected) || inj.Source != "// Parameters injected by gopherlab run\nc = 2.0\nfolds = 3" {
		t.Fatalf("cell 2 is not the injected parameters: %q %v", inj.Source, inj.Tags())
	}
	count := 0
	for i, c := range nb.Cells {
		if c.Type != "code" {
			continue
		}
		count++
		if c.ExecutionCount == nil || *c.ExecutionCount != count {
			t.Errorf("cell %d: execution_count %v, want %d", i, c.ExecutionCount, count)
		}
		if e := outputText(t, c, "error"); e != "" {
			t.Errorf("cell %d failed: %s", i, e)
		}
	}
	byID := map[string]*Cell{}
	for _, c := range nb.Cells {
		byID[c.ID] = c
	}
	if got := outputText(t, byID["load"], "execute_result"); got != "150" {
		t.Errorf("load result = %q, want 150", got)
	}
	eval := byID["evaluate"]
	if s := outputText(t, eval, "stream"); !strings.HasPrefix(s, "test accuracy: 0.9") {
		t.Errorf("evaluate stdout = %q", s)
	}
	if d := outputText(t, eval, "display_data"); !strings.HasPrefix(d, "**test accuracy** 0.9") {
		t.Errorf("evaluate display = %q", d)
	}
	if r := outputText(t, eval, "execute_result"); !strings.HasPrefix(r, "0.9") {
		t.Errorf("evaluate result = %q", r)
	}
	if s := outputText(t, byID["train"], "stream"); !strings.HasPrefix(s, "cv accuracy: ") {
		t.Errorf("train stdout = %q", s)
	}
	var meta struct {
		Parameters map[string]string `json:"parameters"`
		Exception  bool              `json:"exception"`
	}
	if err := json.Unmarshal(nb.Metadata["gopherlab_run"], &meta); err != nil || meta.Parameters["c"] != "2" || meta.Exception {
		t.Errorf("metadata.gopherlab_run = %s (%v)", nb.Metadata["gopherlab_run"], err)
	}
	// Its runs record the parameters' values, the injected ones included,
	// for export --run.
	store, err := tracking.Open(filepath.Join(tmp, "gopherlab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	runs, err := store.SearchRuns(tracking.SearchQuery{Experiment: "iris"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range runs {
		if r.ParentID == "" && !r.StartTime.Before(start.Truncate(time.Millisecond)) && r.Params["notebook.c"] == "2.0" && r.Params["notebook.folds"] == "3" && r.Params["notebook.seed"] != "" {
			n++
		}
	}
	if n == 0 {
		t.Errorf("no run of this execution records the notebook's parameters: %d runs", len(runs))
	}
}

func TestRunCommandErrors(t *testing.T) {
	tmp := t.TempDir()
	nb := testNotebook(t,
		cell("n := 2", "parameters"),
		cell("import \"fmt\"\nfmt.Println(\"before\", n)\nvar xs []int\nxs[n] = 1", "train"),
		cell("fmt.Println(\"after\")", "evaluate"),
	)
	in := filepath.Join(tmp, "fail.ipynb")
	if err := nb.WriteFile(in); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "fail.out.ipynb")
	stdout, stderr, err := runGLX(t, tmp, "run", "-q", in)
	if err == nil || !strings.Contains(stderr, "cell 1 failed: ") || !strings.Contains(stderr, "index out of range") {
		t.Fatalf("want a failure of cell 1: %v\n%s%s", err, stdout, stderr)
	}
	got, err := ReadNotebook(out)
	if err != nil {
		t.Fatal(err)
	}
	c := got.Cells[1]
	if s := outputText(t, c, "stream"); s != "before 2\n" {
		t.Errorf("stream before the panic = %q", s)
	}
	var e struct {
		Traceback []string `json:"traceback"`
	}
	json.Unmarshal(c.Outputs[len(c.Outputs)-1], &e)
	if len(e.Traceback) == 0 {
		t.Error("error output without traceback")
	}
	if got.Cells[2].ExecutionCount != nil || len(got.Cells[2].Outputs) != 0 {
		t.Error("the cell after the failure ran")
	}
	// With parameters injected, the failing cell keeps its number in
	// the user's notebook.
	if _, stderr, err := runGLX(t, tmp, "run", "-q", in, "-p", "n=3"); err == nil || !strings.Contains(stderr, "run: cell 1 failed: ") {
		t.Errorf("-p n=3: want a failure of cell 1: %v\n%s", err, stderr)
	}
	// With -allow-errors the next cell runs.
	if _, _, err := runGLX(t, tmp, "run", "-q", "-allow-errors", in); err == nil {
		t.Error("-allow-errors: want a failure status still")
	}
	got, _ = ReadNotebook(out)
	if s := outputText(t, got.Cells[2], "stream"); s != "after\n" {
		t.Errorf("-allow-errors: next cell printed %q", s)
	}
	// A cell tagged raises-exception is meant to fail, as nbclient and
	// papermill take the tag: its error shows and the run goes on.
	expected := testNotebook(t,
		cell("n := 2", "parameters"),
		cell("var xs []int\nxs[n] = 1", "train", "raises-exception"),
		cell("import \"fmt\"\nfmt.Println(\"after\")", "evaluate"),
	)
	in2 := filepath.Join(tmp, "expected.ipynb")
	if err := expected.WriteFile(in2); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, err := runGLX(t, tmp, "run", "-q", in2); err != nil {
		t.Errorf("raises-exception: %v\n%s%s", err, stdout, stderr)
	}
	got, _ = ReadNotebook(filepath.Join(tmp, "expected.out.ipynb"))
	if e := outputText(t, got.Cells[1], "error"); e == "" {
		t.Error("raises-exception: the cell's error is not in the notebook")
	}
	if s := outputText(t, got.Cells[2], "stream"); s != "after\n" {
		t.Errorf("raises-exception: next cell printed %q", s)
	}
	// Errors say they are run's, whatever code found them.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", in, "-p", "n=two"}, `: run: parameter n: "two" is not an int`},
		{[]string{"run", in, "-p", "m=1"}, `: run: unknown parameter "m"`},
		{[]string{"run"}, ": run: want one notebook"},
		{[]string{"run", filepath.Join(tmp, "missing.ipynb")}, ": run: read notebook: "},
		{[]string{"run", in, "-cwd", filepath.Join(tmp, "nowhere")}, ": run: -cwd " + filepath.Join(tmp, "nowhere") + ": no such directory"},
		{[]string{"run", in, "-o", filepath.Join(tmp, "nowhere", "x.ipynb")}, ": run: -o " + filepath.Join(tmp, "nowhere", "x.ipynb") + ": no directory"},
		{[]string{"run", in, "-o", tmp}, ": run: -o " + tmp + ": is a directory"},
	} {
		_, stderr, err := runGLX(t, tmp, tt.args...)
		if err == nil || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: %v, stderr %q, want %q", tt.args, err, stderr, tt.want)
		}
	}
}
