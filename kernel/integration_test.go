package kernel_test

// The integration tests drive the real gopherlab binary through Jupyter's
// own Python client (jupyter_client, nbclient) exactly as frontends do. The
// checks live in testdata/*.py; each prints one RESULT line per check,
// which becomes a subtest here. The same scripts run against ipykernel with
// GL_KERNEL=python3, which is how they were validated.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const python = "/usr/bin/python3"

// groups lists each script and the checks it must report, in order. A check
// missing from a script's output fails, so a crashed script cannot pass.
var groups = []struct {
	script string
	checks []string
}{
	{"core.py", []string{
		"kernel_info", "execute_result", "mixed_cell", "state", "reimport", "execute_input_and_count",
		"error", "stop_on_error", "stream_timing", "stdin", "stdin_not_allowed", "complete", "inspect", "is_complete",
		"history", "comm_info", "comm_open_unknown", "display_html", "display_update", "display_clear",
		"magic_help", "magic_shell", "magic_time", "user_expressions", "busy_idle",
	}},
	{"survival.py", []string{
		"interrupt", "interrupt_control", "interrupt_signal", "interrupt_blocked", "interrupt_input", "goroutine_panic", "stack_overflow", "forged_signature",
	}},
	{"lifecycle.py", []string{"iopub_welcome", "parent_death", "shutdown_restart", "shutdown"}},
	{"notebook.py", []string{"notebook", "examples"}},
}

type result struct {
	Check  string `json:"check"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

func TestJupyterProtocol(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gopherlab binary and runs Jupyter clients; skipped with -short")
	}
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s is missing: install Debian's python3-jupyter-client python3-nbclient (make deps)", python)
	}
	probe := exec.Command(python, "-c", "import jupyter_client, nbclient, nbformat, zmq")
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("Jupyter's Python packages are missing (make deps installs them): %v\n%s", err, out)
	}

	work := t.TempDir()
	bin := buildGopherlab(t, work)
	prefix := filepath.Join(work, "prefix")
	out, err := exec.Command(bin, "install", "--prefix", prefix).CombinedOutput()
	if err != nil {
		t.Fatalf("gopherlab install --prefix: %v\n%s", err, out)
	}
	spec := filepath.Join(prefix, "share", "jupyter", "kernels", "gopherlab", "kernel.json")
	if _, err := os.Stat(spec); err != nil {
		t.Fatalf("gopherlab install did not write %s: %v\noutput: %s", spec, err, out)
	}

	// Everything Jupyter reads or writes stays in the scratch directory.
	env := append(os.Environ(),
		"GL_KERNEL=gopherlab",
		"JUPYTER_PATH="+filepath.Join(prefix, "share", "jupyter"),
		"JUPYTER_DATA_DIR="+filepath.Join(work, "data"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(work, "runtime"),
		"JUPYTER_CONFIG_DIR="+filepath.Join(work, "config"),
		"JUPYTER_PLATFORM_DIRS=0",
		"IPYTHONDIR="+filepath.Join(work, "ipython"),
		"HOME="+filepath.Join(work, "home"),
		"PYTHONDONTWRITEBYTECODE=1",
		"PYDEVD_DISABLE_FILE_VALIDATION=1",
	)

	for _, g := range groups {
		t.Run(strings.TrimSuffix(g.script, ".py"), func(t *testing.T) {
			t.Parallel()
			results, logs := runScript(t, g.script, env)
			start, started := results["start"]
			for _, name := range g.checks {
				t.Run(name, func(t *testing.T) {
					r, ok := results[name]
					switch {
					case !ok && started && start.Status == "fail":
						t.Fatalf("%s did not run: the kernel did not start: %s\n%s", name, start.Detail, logs)
					case !ok:
						t.Fatalf("%s did not report check %s (script crashed?)\n%s", g.script, name, logs)
					case r.Status == "skip":
						t.Skip(r.Detail)
					case r.Status != "pass":
						t.Fatalf("%s\n--- kernel and client log (tail):\n%s", r.Detail, logs)
					}
				})
			}
			for name := range results {
				if name != "start" && !slices.Contains(g.checks, name) {
					t.Errorf("%s reported check %q that integration_test.go does not list", g.script, name)
				}
			}
		})
	}
}

// buildGopherlab builds the command into dir once for all checks.
func buildGopherlab(t *testing.T, dir string) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "gopherlab")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build gopherlab: %v\n%s", err, out)
	}
	t.Logf("built gopherlab in %v", time.Since(start).Round(time.Millisecond))
	return bin
}

// runScript runs one check script and returns its results by check name,
// plus the tail of its standard error (the kernel's log goes there too).
func runScript(t *testing.T, script string, env []string) (map[string]result, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script)
	cmd.Dir = "testdata"
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s ran in %v (exit: %v)", script, time.Since(start).Round(time.Millisecond), err)

	results := map[string]result{}
	var other []string
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		js, ok := strings.CutPrefix(line, "RESULT ")
		if !ok {
			other = append(other, line)
			continue
		}
		var r result
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Errorf("%s printed a bad RESULT line %q: %v", script, line, err)
			continue
		}
		results[r.Check] = r
	}
	logs := tail(stderr.String(), 4000)
	if len(other) > 0 {
		logs = "stdout:\n" + tail(strings.Join(other, "\n"), 2000) + "\nstderr:\n" + logs
	}
	if ctx.Err() != nil {
		logs = fmt.Sprintf("(%s killed after %v)\n%s", script, 5*time.Minute, logs)
	}
	return results, logs
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
