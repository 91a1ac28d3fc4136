package kernel_test

// The frontend tests run the gopherlab kernel under two real Jupyter
// frontends, driven the way a person uses them:
//
//   - jupyter console, in a tmux terminal: keystrokes in, the rendered
//     screen out;
//   - the classic Notebook (6.x) server, in headless Chromium through
//     playwright-core (testdata/frontends/notebook.js): open a notebook,
//     Cell > Run All, save, screenshot.
//
// `make deps` installs tmux, chromium, node and the npm packages. When
// GOPHERLAB_SCREENSHOT_DIR is set, the notebook screenshot and the final
// console screen are copied there.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const frontendDir = "testdata/frontends"

func TestFrontends(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gopherlab binary and runs Jupyter frontends; skipped with -short")
	}
	need(t, python, "Debian's python3 (make deps)")
	if out, err := exec.Command(python, "-c", "import jupyter_client, jupyter_console, notebook, nbformat").CombinedOutput(); err != nil {
		unavailable(t, fmt.Sprintf("Jupyter's console and Notebook packages (%v: %s)", err, bytes.TrimSpace(out)))
	}

	work := t.TempDir()
	bin := buildGopherlab(t, work)
	prefix := filepath.Join(work, "prefix")
	if out, err := exec.Command(bin, "install", "--prefix", prefix).CombinedOutput(); err != nil {
		t.Fatalf("gopherlab install --prefix: %v\n%s", err, out)
	}
	spec := readKernelSpec(t, filepath.Join(prefix, "share", "jupyter", "kernels", "gopherlab", "kernel.json"))

	t.Run("console", func(t *testing.T) {
		t.Parallel()
		testConsole(t, jupyterEnv(t, prefix))
	})
	t.Run("notebook", func(t *testing.T) {
		t.Parallel()
		testNotebook(t, jupyterEnv(t, prefix), spec, filepath.Join(frontendDir, "frontend.ipynb"), checkFrontendNotebook)
	})
	// The example a user opens first: the whole ML walk-through, with its
	// tables and plots, runs in the Notebook as it does under nbclient.
	t.Run("example", func(t *testing.T) {
		t.Parallel()
		testNotebook(t, jupyterEnv(t, prefix), spec, filepath.Join("..", "notebooks", "02-breast-cancer.ipynb"), checkExampleNotebook)
	})
}

// unavailable skips a test whose tool is missing, except as root: there
// `make deps` installs everything, so a missing tool is a failure.
func unavailable(t *testing.T, what string) {
	t.Helper()
	if os.Geteuid() == 0 {
		t.Fatalf("%s missing; `make deps` installs it", what)
	}
	t.Skipf("%s missing; `make deps` (as root) installs it", what)
}

// need returns the path of a program, or stops the test through unavailable.
func need(t *testing.T, prog, what string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		unavailable(t, what)
	}
	return p
}

type kernelSpec struct {
	DisplayName string `json:"display_name"`
	Language    string `json:"language"`
}

func readKernelSpec(t *testing.T, path string) kernelSpec {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("gopherlab install did not write the kernelspec: %v", err)
	}
	var s kernelSpec
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("kernelspec %s: %v", path, err)
	}
	return s
}

// jupyterEnv keeps everything Jupyter reads or writes in the test's own
// directories; the runtime directory (connection files) is per test, which
// is how each test finds its own kernel process.
func jupyterEnv(t *testing.T, prefix string) []string {
	dir := t.TempDir()
	return append(os.Environ(),
		"JUPYTER_PATH="+filepath.Join(prefix, "share", "jupyter"),
		"JUPYTER_DATA_DIR="+filepath.Join(dir, "data"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(dir, "runtime"),
		"JUPYTER_CONFIG_DIR="+filepath.Join(dir, "config"),
		"JUPYTER_PLATFORM_DIRS=0",
		"IPYTHONDIR="+filepath.Join(dir, "ipython"),
		"HOME="+filepath.Join(dir, "home"),
		"TERM=xterm-256color",
		"PYTHONDONTWRITEBYTECODE=1",
		"PYDEVD_DISABLE_FILE_VALIDATION=1",
	)
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}

// ---------------------------------------------------------------------------
// jupyter console in tmux

func testConsole(t *testing.T, env []string) {
	tmuxPath := need(t, "tmux", "tmux")
	start := time.Now()
	sock := filepath.Join(t.TempDir(), "tmux.sock")
	tm := &tmux{t: t, path: tmuxPath, sock: sock, env: env}
	// The console's exit status is printed after it ends; the shell then
	// stays so the screen can still be read.
	cmd := python + " -m jupyter_console --kernel gopherlab; echo \"[console exited: $?]\"; exec sleep 600"
	tm.run("new-session", "-d", "-s", "console", "-x", "120", "-y", "50", cmd)
	var kernels []int
	t.Cleanup(func() {
		saveArtifact(t, "console.txt", []byte(tm.screen()))
		tm.run("kill-server")
		killAll(t, kernels)
	})

	screen := tm.waitFor(`In \[1\]: *$`, 60*time.Second, "the first prompt")
	banner, _, _ := strings.Cut(screen, "In [1]:")
	if !strings.Contains(banner, "Jupyter console") || !strings.Contains(banner, "gopherlab") {
		t.Errorf("the console did not show the kernel's banner before the first prompt:\n%s", banner)
	}
	runtime := envValue(env, "JUPYTER_RUNTIME_DIR")
	kernels = kernelProcesses(runtime)
	if len(kernels) == 0 {
		t.Errorf("no gopherlab kernel process with a connection file in %s", runtime)
	}

	tm.typeLine("x := 6")
	screen = tm.waitFor(`In \[2\]: *$`, 30*time.Second, "prompt 2 after `x := 6`")
	if strings.Contains(screen, "Out[1]") {
		t.Errorf("`x := 6` printed a result:\n%s", screen)
	}

	tm.typeLine("x * 7")
	screen = tm.waitFor(`In \[3\]: *$`, 30*time.Second, "prompt 3 after `x * 7`")
	if !regexp.MustCompile(`(?m)^Out\[2\]: 42 *$`).MatchString(screen) {
		t.Errorf("`x * 7` did not show Out[2]: 42:\n%s", screen)
	}

	// A multi-line function: the console asks the kernel (is_complete_request)
	// whether to continue the cell after each line.
	tm.typeLine("func f() int {")
	tm.waitFor(`(?m)^ +\.\.\.:.*\z`, 30*time.Second, "a continuation prompt after `func f() int {`")
	tm.typeLine("return 1")
	tm.waitFor(`(?m)^ +\.\.\.:.*return 1\n +\.\.\.:.*\z`, 30*time.Second, "a continuation prompt after `return 1`")
	// The closing brace completes the declaration, which runs at once. Each
	// key waits for the prompt: jupyter_console 6.4.4 on Python 3.11 crashes
	// its event loop on keys typed while a cell runs, with any kernel.
	tm.typeLine("}")
	tm.waitFor(`\}\n[\s\n]*In \[4\]: *\z`, 30*time.Second, "prompt 4 after the function")
	tm.typeLine("")
	tm.waitFor(`In \[4\]: *\n[\s\n]*In \[4\]: *\z`, 30*time.Second, "prompt 4 again after a blank line")
	tm.typeLine("f()")
	screen = tm.waitFor(`In \[5\]: *$`, 30*time.Second, "prompt 5 after `f()`")
	if !regexp.MustCompile(`(?m)^Out\[4\]: 1 *$`).MatchString(screen) {
		t.Errorf("`f()` did not show Out[4]: 1:\n%s", screen)
	}
	if regexp.MustCompile(`(?i)error|panic`).MatchString(screen) {
		t.Errorf("the console shows an error:\n%s", screen)
	}

	// Ctrl-D asks for confirmation, then the console shuts the kernel down.
	tm.run("send-keys", "-t", "console", "C-d")
	tm.waitFor(`Do you really want to exit \(\[y\]/n\)\? *$`, 10*time.Second, "the exit confirmation")
	tm.typeLine("y")
	screen = tm.waitFor(`\[console exited: \d+\]`, 30*time.Second, "the console to exit")
	if !strings.Contains(screen, "Shutting down kernel") || !strings.Contains(screen, "[console exited: 0]") {
		t.Errorf("the console did not exit cleanly:\n%s", screen)
	}
	if left := waitGone(kernels, 10*time.Second); len(left) > 0 {
		t.Errorf("kernel processes %v still run 10s after the console shut the kernel down", left)
	}
	t.Logf("console session took %v", time.Since(start).Round(time.Millisecond))
}

// tmux drives one private tmux server.
type tmux struct {
	t    *testing.T
	path string
	sock string
	env  []string
}

func (m *tmux) run(args ...string) string {
	m.t.Helper()
	cmd := exec.Command(m.path, append([]string{"-S", m.sock}, args...)...)
	cmd.Env = m.env
	out, err := cmd.CombinedOutput()
	if err != nil && args[0] != "kill-server" {
		m.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// typeLine types s literally and presses Enter.
func (m *tmux) typeLine(s string) {
	m.t.Helper()
	if s != "" {
		m.run("send-keys", "-t", "console", "-l", s)
	}
	m.run("send-keys", "-t", "console", "Enter")
}

// screen is the pane's text with its scrollback, trailing blank lines cut.
func (m *tmux) screen() string {
	cmd := exec.Command(m.path, "-S", m.sock, "capture-pane", "-p", "-J", "-S", "-500", "-t", "console")
	cmd.Env = m.env
	out, _ := cmd.Output()
	return strings.TrimRight(string(out), "\n ")
}

// waitFor polls the screen until pattern matches it and returns the screen.
func (m *tmux) waitFor(pattern string, timeout time.Duration, what string) string {
	m.t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(timeout)
	for {
		s := m.screen()
		if re.MatchString(s) {
			return s
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("waited %v for %s; the console shows:\n%s", timeout, what, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// the classic Notebook in headless Chromium

// notebookReport is what notebook.js prints.
type notebookReport struct {
	Error   string `json:"error"`
	Console []struct {
		Type string `json:"type"`
		Text string `json:"text"`
		URL  string `json:"url"`
	} `json:"console"`
	PageErrors     []string         `json:"pageErrors"`
	FailedRequests []map[string]any `json:"failedRequests"`
	Messages       []wsMessage      `json:"messages"`
	Steps          []struct {
		Step string `json:"step"`
		MS   int    `json:"ms"`
	} `json:"steps"`
	After         *notebookState `json:"after"`
	Screenshot    string         `json:"screenshot"`
	ScreenshotErr string         `json:"screenshotError"`
}

type wsMessage struct {
	Dir        string         `json:"dir"`
	Channel    string         `json:"channel"`
	MsgType    string         `json:"msg_type"`
	ParentType string         `json:"parent_type"`
	ParentID   string         `json:"parent_id"`
	Content    map[string]any `json:"content"`
	Binary     int            `json:"binary"`
}

type notebookState struct {
	Kernel *struct {
		Name           string `json:"name"`
		Connected      bool   `json:"connected"`
		Implementation string `json:"implementation"`
		Language       string `json:"language"`
		Indicator      string `json:"indicator"`
	} `json:"kernel"`
	Language string         `json:"language"`
	Cells    []renderedCell `json:"cells"`
}

type renderedCell struct {
	Type    string           `json:"type"`
	Source  string           `json:"source"`
	Prompt  any              `json:"prompt"`
	Outputs []map[string]any `json:"outputs"`
	Text    string           `json:"text"`
	HTML    string           `json:"html"`
	Imgs    []struct {
		Complete bool   `json:"complete"`
		Width    int    `json:"width"`
		Height   int    `json:"height"`
		Src      string `json:"src"`
	} `json:"imgs"`
}

const wantHTML = `<b id="gl-html">bold <i>HTML</i> from Go</b>`

// notebookCheck checks what the page showed after Run All and the notebook
// the server saved.
type notebookCheck func(t *testing.T, rep notebookReport, spec kernelSpec, saved string, details func() string)

// testNotebook opens the notebook at src in the classic Notebook, runs all
// its cells in headless Chromium, saves it, takes a screenshot (kept as
// <name>.png under GOPHERLAB_SCREENSHOT_DIR) and hands the page's report to
// check.
func testNotebook(t *testing.T, env []string, spec kernelSpec, src string, check notebookCheck) {
	node := need(t, "node", "node (Debian's nodejs)")
	chromium := need(t, "chromium", "Debian's chromium")
	if _, err := os.Stat(filepath.Join(frontendDir, "node_modules", "playwright-core", "package.json")); err != nil {
		unavailable(t, "playwright-core (`npm ci` in kernel/testdata/frontends)")
	}
	start := time.Now()
	dir := t.TempDir()
	nbdir := filepath.Join(dir, "notebooks")
	if err := os.MkdirAll(nbdir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(src)
	nbFile := filepath.Join(nbdir, name)
	content, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nbFile, content, 0o644); err != nil {
		t.Fatal(err)
	}

	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	serverLog := filepath.Join(dir, "notebook-server.log")
	logf, err := os.Create(serverLog)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	server := exec.Command(python, "-m", "notebook", "--no-browser", "--allow-root",
		"--ip=127.0.0.1", "--port="+strconv.Itoa(port), "--port-retries=0",
		"--NotebookApp.token=", "--NotebookApp.password=", "--notebook-dir="+nbdir)
	server.Env = env
	server.Stdout, server.Stderr = logf, logf
	if err := server.Start(); err != nil {
		t.Fatalf("start the Notebook server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- server.Wait() }()
	var kernels []int
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		// SIGTERM: the server shuts its kernels down, then exits.
		_ = server.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			t.Errorf("the Notebook server did not exit 20s after SIGTERM; killing it")
			_ = server.Process.Kill()
			<-exited
		}
	}
	t.Cleanup(func() {
		stop()
		killAll(t, kernels)
	})
	logTail := func() string {
		b, _ := os.ReadFile(serverLog)
		return tail(string(b), 4000)
	}
	waitHTTP(t, base+"/api/status", exited, 60*time.Second, logTail)
	t.Logf("Notebook server up after %v", time.Since(start).Round(time.Millisecond))

	shot := filepath.Join(dir, strings.TrimSuffix(name, ".ipynb")+".png")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	driver := exec.CommandContext(ctx, node, "notebook.js",
		"--url", base+"/notebooks/"+name,
		"--screenshot", shot,
		"--profile", filepath.Join(dir, "chromium-profile"),
		"--chromium", chromium,
		"--timeout", "90")
	driver.Dir = frontendDir
	driver.Env = env
	var stdout, stderr bytes.Buffer
	driver.Stdout, driver.Stderr = &stdout, &stderr
	runErr := driver.Run()
	t.Logf("notebook.js ran in %v (exit: %v)", time.Since(start).Round(time.Millisecond), runErr)

	var rep notebookReport
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &rep); err != nil {
		t.Fatalf("notebook.js printed no report (%v, exit %v)\nstderr:\n%s\nserver log:\n%s", err, runErr, tail(stderr.String(), 3000), logTail())
	}
	if rep.Screenshot != "" {
		saveArtifact(t, filepath.Base(shot), mustRead(t, rep.Screenshot))
	}
	kernels = kernelProcesses(envValue(env, "JUPYTER_RUNTIME_DIR"))
	details := func() string {
		return fmt.Sprintf("\n--- kernel messages through the page's websocket:\n%s\n--- notebook.js:\n%s\n--- server log:\n%s",
			formatMessages(rep.Messages), tail(stderr.String(), 2000), logTail())
	}
	if rep.Error != "" || runErr != nil {
		t.Fatalf("the notebook did not run through (exit %v): %s%s", runErr, rep.Error, details())
	}
	for _, s := range rep.Steps {
		t.Logf("  %6d ms  %s", s.MS, s.Step)
	}

	check(t, rep, spec, nbFile, details)
	if rep.Screenshot == "" {
		t.Errorf("no screenshot: %s", rep.ScreenshotErr)
	}

	// Stopping the server must shut its kernel down.
	if len(kernels) == 0 {
		t.Errorf("no gopherlab kernel process found for the Notebook server")
	}
	stop()
	if left := waitGone(kernels, 10*time.Second); len(left) > 0 {
		t.Errorf("kernel processes %v still run after the Notebook server stopped\nserver log:\n%s", left, logTail())
	}
	if bad := serverProblems(logTail()); len(bad) > 0 {
		t.Errorf("the Notebook server logged kernel problems:\n%s", strings.Join(bad, "\n"))
	}
	t.Logf("notebook test took %v", time.Since(start).Round(time.Millisecond))
}

// checkFrontendNotebook checks testdata/frontends/frontend.ipynb: print,
// result, HTML and a PNG plot, each rendered as a person sees it.
func checkFrontendNotebook(t *testing.T, rep notebookReport, spec kernelSpec, saved string, details func() string) {
	t.Helper()
	checkSavedNotebook(t, saved)
	code := checkKernelState(t, rep, spec, details)
	if len(code) != 4 {
		t.Fatalf("page has %d code cells, want 4%s", len(code), details())
	}
	for i, c := range code {
		// A fresh kernel numbers the four cells 1..4 in order.
		if n, ok := c.Prompt.(float64); !ok || int(n) != i+1 {
			t.Errorf("code cell %d shows In [%v], want In [%d]", i+1, c.Prompt, i+1)
		}
		for _, o := range c.Outputs {
			if o["output_type"] == "error" {
				t.Errorf("code cell %d failed: %v: %v\n%s", i+1, o["ename"], o["evalue"], c.Text)
			}
		}
	}
	checkFrontendOutputs(t, code)
	checkPageHealth(t, rep, details)
}

// checkKernelState checks the page's kernel and returns its code cells.
func checkKernelState(t *testing.T, rep notebookReport, spec kernelSpec, details func() string) []renderedCell {
	t.Helper()
	st := rep.After
	if st == nil || st.Kernel == nil {
		t.Fatalf("notebook.js reported no notebook state%s", details())
	}
	k := st.Kernel
	if k.Name != "gopherlab" || !k.Connected || k.Implementation != "gopherlab" || k.Language != "go" {
		t.Errorf("page's kernel: name %q connected %v implementation %q language %q; want gopherlab, true, gopherlab, go",
			k.Name, k.Connected, k.Implementation, k.Language)
	}
	if strings.TrimSpace(k.Indicator) != spec.DisplayName {
		t.Errorf("kernel indicator shows %q, want the kernelspec's display name %q", k.Indicator, spec.DisplayName)
	}
	if st.Language != "go" {
		t.Errorf("notebook metadata language_info.name %q after running, want go", st.Language)
	}

	var code []renderedCell
	for _, c := range st.Cells {
		if c.Type == "code" {
			code = append(code, c)
		}
	}
	return code
}

func checkFrontendOutputs(t *testing.T, code []renderedCell) {
	t.Helper()
	// print
	if got := outputText(code[0], "stream"); got != "hello from the notebook\n" || !strings.Contains(code[0].Text, "hello from the notebook") {
		t.Errorf("print cell: stream %q, page text %q; want %q", got, code[0].Text, "hello from the notebook\n")
	}
	// result
	res := outputsOf(code[1], "execute_result")
	if len(res) != 1 || dataText(res[0], "text/plain") != "42" || !regexp.MustCompile(`Out\[2\]:\s*42`).MatchString(code[1].Text) {
		t.Errorf("6*7 cell: execute_result %v, page text %q; want 42 as Out[2]", res, code[1].Text)
	}
	// HTML, rendered as markup (not escaped text)
	dd := outputsOf(code[2], "display_data")
	if len(dd) != 1 || dataText(dd[0], "text/html") != wantHTML {
		t.Errorf("HTML cell: display_data %v, want text/html %q", dd, wantHTML)
	}
	if !strings.Contains(code[2].HTML, wantHTML) {
		t.Errorf("HTML cell: the page did not render the markup %q; output area:\n%s", wantHTML, code[2].HTML)
	}
	// plot: the PNG the kernel sent is the image the browser decoded
	dd = outputsOf(code[3], "display_data")
	if len(dd) != 1 {
		t.Errorf("plot cell: %d display_data outputs, want 1: %v", len(dd), code[3].Outputs)
	} else if w, h, err := pngSize(dataText(dd[0], "image/png")); err != nil {
		t.Errorf("plot cell: image/png output: %v", err)
	} else if len(code[3].Imgs) != 1 || !code[3].Imgs[0].Complete || code[3].Imgs[0].Width != w || code[3].Imgs[0].Height != h {
		t.Errorf("plot cell: page shows images %+v, want one loaded %dx%d <img>", code[3].Imgs, w, h)
	}
}

// checkPageHealth fails on what the page's console and network say went
// wrong.
func checkPageHealth(t *testing.T, rep notebookReport, details func() string) {
	t.Helper()
	// The page's console: errors from the Notebook's kernel and output
	// handling mean the kernel sent something it could not use.
	for _, m := range rep.Console {
		if pageComplaint(m.Type, m.Text, m.URL) {
			t.Errorf("page console %s: %s (%s)", m.Type, m.Text, m.URL)
		}
	}
	for _, e := range rep.PageErrors {
		t.Errorf("uncaught page error: %s", e)
	}
	for _, r := range rep.FailedRequests {
		if u, _ := r["url"].(string); strings.Contains(u, "/api/") {
			t.Errorf("request failed: %v", r)
		} else {
			t.Logf("request failed (not the kernel's API): %v", r)
		}
	}
	if t.Failed() {
		t.Log(details())
	}
}

// Notebook-internal console noise, unrelated to the kernel.
var pageNoise = []string{
	"actions jupyter-notebook:find-and-replace does not exist",
	"You are using the DEBUG version",
	// The widgets nbextension asks every kernel for a Python widget
	// backend (ipywidgets) and warns after a timeout when there is none,
	// as it does with an ipykernel that lacks ipywidgets.
	"Could not cross validate the widget frontend and backend versions",
	// Without the widgets nbextension, the Notebook's hard-coded attempt
	// to load it fails (a 404, then a refused script) and it warns.
	widgetsExtension,
	"Widgets are not available.",
}

// widgetsExtension is the script the Notebook always tries to load.
const widgetsExtension = "/nbextensions/widgets/notebook/js/extension.js"

// Messages the Notebook logs (console.log) when a kernel misbehaves.
var pageKernelLog = regexp.MustCompile(`(?i)^(invalid|unrecognized|unhandled|exception in|couldn't process|ignoring untrusted|websocket closed|connection lost|failed to reconnect|can't execute)`)

func pageComplaint(typ, text, url string) bool {
	for _, n := range pageNoise {
		if strings.Contains(text, n) {
			return false
		}
	}
	if strings.Contains(url, widgetsExtension) {
		return false // "Failed to load resource" names the script in its URL only
	}
	switch typ {
	case "error", "warning", "assert":
		return true
	}
	return pageKernelLog.MatchString(text)
}

// serverProblems lists the Notebook server's error lines, kernel restarts
// and errors the kernel logged (its stderr goes to the server's log).
func serverProblems(log string) []string {
	var bad []string
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(line, "[E ") || strings.Contains(line, "restarting kernel") || strings.Contains(line, "KernelRestarter") ||
			strings.Contains(line, "level=ERROR") {
			bad = append(bad, line)
		}
	}
	return bad
}

// checkSavedNotebook reads what File > Save wrote: a valid nbformat 4
// notebook with the outputs the page showed.
func checkSavedNotebook(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command(python, "-c",
		"import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", path).CombinedOutput()
	if err != nil {
		t.Errorf("the saved notebook is not valid nbformat: %v\n%s", err, out)
	}
	var nb struct {
		Cells []struct {
			CellType       string           `json:"cell_type"`
			ExecutionCount any              `json:"execution_count"`
			Outputs        []map[string]any `json:"outputs"`
		} `json:"cells"`
		Metadata struct {
			LanguageInfo struct {
				Name string `json:"name"`
			} `json:"language_info"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(mustRead(t, path), &nb); err != nil {
		t.Fatalf("saved notebook: %v", err)
	}
	if nb.Metadata.LanguageInfo.Name != "go" {
		t.Errorf("saved notebook language_info.name %q, want go", nb.Metadata.LanguageInfo.Name)
	}
	var got []string
	for _, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		var kinds []string
		for _, o := range c.Outputs {
			k, _ := o["output_type"].(string)
			if d, ok := o["data"].(map[string]any); ok {
				for _, mime := range []string{"image/png", "text/html"} {
					if _, ok := d[mime]; ok {
						k += ":" + mime
					}
				}
			}
			kinds = append(kinds, k)
		}
		got = append(got, fmt.Sprintf("%v%v", c.ExecutionCount, kinds))
	}
	want := []string{"1[stream]", "2[execute_result]", "3[display_data:text/html]", "4[display_data:image/png]"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("saved notebook code cells (count[outputs]) %v, want %v", got, want)
	}
}

func outputsOf(c renderedCell, typ string) []map[string]any {
	var out []map[string]any
	for _, o := range c.Outputs {
		if o["output_type"] == typ {
			out = append(out, o)
		}
	}
	return out
}

func outputText(c renderedCell, typ string) string {
	var b strings.Builder
	for _, o := range outputsOf(c, typ) {
		s, _ := o["text"].(string)
		b.WriteString(s)
	}
	return b.String()
}

func dataText(o map[string]any, mime string) string {
	d, _ := o["data"].(map[string]any)
	switch v := d[mime].(type) {
	case string:
		return v
	case []any: // nbformat's list-of-lines form
		var b strings.Builder
		for _, s := range v {
			fmt.Fprint(&b, s)
		}
		return b.String()
	}
	return ""
}

func pngSize(b64 string) (w, h int, err error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return 0, 0, fmt.Errorf("base64: %w", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return 0, 0, fmt.Errorf("png: %w", err)
	}
	return cfg.Width, cfg.Height, nil
}

// formatMessages renders the websocket log one message a line, for
// failure reports.
func formatMessages(ms []wsMessage) string {
	var b strings.Builder
	for _, m := range ms {
		if m.Binary > 0 {
			fmt.Fprintf(&b, "  %-8s (binary frame, %d bytes)\n", m.Dir, m.Binary)
			continue
		}
		content, _ := json.Marshal(m.Content)
		parent := ""
		if m.ParentID != "" {
			parent = " <- " + m.ParentType + ":" + m.ParentID[max(0, len(m.ParentID)-8):]
		}
		fmt.Fprintf(&b, "  %-8s %-7s %-20s%s %s\n", m.Dir, m.Channel, m.MsgType, parent, head(string(content), 200))
	}
	return tail(b.String(), 8000)
}

func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitHTTP polls url until it answers 200, the server exits, or timeout.
func waitHTTP(t *testing.T, url string, exited <-chan error, timeout time.Duration, logTail func() string) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("the Notebook server exited (%v) before answering %s\n%s", err, url, logTail())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Notebook server did not answer %s within %v\n%s", url, timeout, logTail())
		}
	}
}

// ---------------------------------------------------------------------------
// processes and artifacts

// kernelProcesses finds the gopherlab kernels whose connection file is in
// runtimeDir, and their children (the interpreter worker).
func kernelProcesses(runtimeDir string) []int {
	procs := readProcs()
	var kernels []int
	for pid, p := range procs {
		if len(p.args) >= 3 && filepath.Base(p.args[0]) == "gopherlab" && p.args[1] == "kernel" &&
			strings.HasPrefix(p.args[2], runtimeDir+string(filepath.Separator)) {
			kernels = append(kernels, pid)
		}
	}
	all := kernels
	for pid, p := range procs {
		for _, k := range kernels {
			if p.ppid == k {
				all = append(all, pid)
			}
		}
	}
	return all
}

type proc struct {
	ppid  int
	state string
	args  []string
}

func readProcs() map[int]proc {
	out := map[int]proc{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			out[pid] = p
		}
	}
	return out
}

func readProc(pid int) (proc, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return proc{}, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 2 {
		return proc{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	return proc{ppid: ppid, state: f[0], args: args}, true
}

// waitGone waits until none of pids runs (zombies count as gone) and
// returns those still running at the deadline.
func waitGone(pids []int, timeout time.Duration) []int {
	deadline := time.Now().Add(timeout)
	for {
		var left []int
		for _, pid := range pids {
			if p, ok := readProc(pid); ok && p.state != "Z" {
				left = append(left, pid)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// killAll kills the test's own kernel processes that are still running.
func killAll(t *testing.T, pids []int) {
	for _, pid := range waitGone(pids, 0) {
		if p, err := os.FindProcess(pid); err == nil {
			if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
				t.Logf("kill leftover kernel process %d: %v", pid, err)
			}
		}
	}
}

// saveArtifact copies a file the test made to GOPHERLAB_SCREENSHOT_DIR, when
// set, for people to look at.
func saveArtifact(t *testing.T, name string, data []byte) {
	dir := os.Getenv("GOPHERLAB_SCREENSHOT_DIR")
	if dir == "" || len(data) == 0 {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("GOPHERLAB_SCREENSHOT_DIR: %v", err)
		return
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Errorf("save %s: %v", name, err)
		return
	}
	t.Logf("saved %s", path)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkExampleNotebook checks notebooks/02-breast-cancer.ipynb after Run
// All: every code cell ran in order without error, the tables (HTML) and
// plots (PNG) are rendered on the page, and the saved notebook is valid.
func checkExampleNotebook(t *testing.T, rep notebookReport, spec kernelSpec, saved string, details func() string) {
	t.Helper()
	out, err := exec.Command(python, "-c",
		"import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", saved).CombinedOutput()
	if err != nil {
		t.Errorf("the saved notebook is not valid nbformat: %v\n%s", err, out)
	}
	code := checkKernelState(t, rep, spec, details)
	if len(code) < 5 {
		t.Fatalf("page has %d code cells, want the example's%s", len(code), details())
	}
	plots, tables := 0, 0
	for i, c := range code {
		if n, ok := c.Prompt.(float64); !ok || int(n) != i+1 {
			t.Errorf("code cell %d shows In [%v], want In [%d]", i+1, c.Prompt, i+1)
		}
		for _, o := range c.Outputs {
			switch o["output_type"] {
			case "error":
				t.Errorf("code cell %d failed: %v: %v\n%s", i+1, o["ename"], o["evalue"], c.Text)
			case "execute_result", "display_data":
				if b64 := dataText(o, "image/png"); b64 != "" {
					plots++
					w, h, err := pngSize(b64)
					if err != nil {
						t.Errorf("code cell %d: image/png: %v", i+1, err)
						continue
					}
					shown := false
					for _, img := range c.Imgs {
						shown = shown || img.Complete && img.Width == w && img.Height == h
					}
					if !shown {
						t.Errorf("code cell %d: the page shows images %+v, want the %dx%d plot loaded", i+1, c.Imgs, w, h)
					}
				} else if html := dataText(o, "text/html"); strings.Contains(html, "<table") {
					tables++
					if !strings.Contains(c.HTML, "<table") {
						t.Errorf("code cell %d: the table was not rendered as markup; output area:\n%s", i+1, tail(c.HTML, 1500))
					}
				}
			}
		}
	}
	// The runs are filed under the notebook's name, which the classic
	// Notebook does not pass to kernels (JPY_SESSION_NAME) but tells
	// when asked (internal/jupyterserver): the comparison shows it.
	compared := false
	for i, c := range code {
		if !strings.Contains(c.Source, "NewComparison") {
			continue
		}
		compared = true
		if want := strings.TrimSuffix(filepath.Base(saved), ".ipynb"); !strings.Contains(c.HTML, want) {
			t.Errorf("code cell %d: the tracked runs are not in the experiment %q; output area:\n%s", i+1, want, tail(c.HTML, 3000))
		}
	}
	if !compared {
		t.Errorf("no cell compares the tracked runs%s", details())
	}
	// The confusion matrix, the accuracy-against-C plot and the tracked
	// runs' accuracy; describe, the two cross-validations, the grid search
	// and the comparison of the tracked runs.
	if plots < 3 || tables < 5 {
		t.Errorf("the page shows %d plots and %d tables, want at least 3 and 5%s", plots, tables, details())
	}
	checkPageHealth(t, rep, details)
}
