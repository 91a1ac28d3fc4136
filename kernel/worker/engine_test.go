package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/kernel"
)

// The test binary doubles as the worker child: the engine re-executes it
// with GOPHERLAB_TEST_WORKER=1, so the tests drive real processes.
func TestMain(m *testing.M) {
	if os.Getenv("GOPHERLAB_TEST_WORKER") == "1" {
		if err := Main(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// recorder is a kernel.Output that keeps what a cell showed.
type recorder struct {
	mu      sync.Mutex
	events  []string
	stdout  strings.Builder
	stderr  strings.Builder
	inputs  []string
	times   []time.Time
	answers []string
}

func (r *recorder) Stream(name, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == "stdout" {
		r.stdout.WriteString(text)
	} else {
		r.stderr.WriteString(text)
	}
	r.events = append(r.events, name+":"+text)
	r.times = append(r.times, time.Now())
}

// snapshot returns the events and stdout so far, safely.
func (r *recorder) snapshot() (events []string, stdout string, times []time.Time, inputs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...), r.stdout.String(), append([]time.Time(nil), r.times...), append([]string(nil), r.inputs...)
}

func (r *recorder) Display(b kernel.MIMEBundle, id string, update bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kind := "display"
	if update {
		kind = "update"
	}
	r.events = append(r.events, fmt.Sprintf("%s:%v", kind, b.Data["text/plain"]))
}

func (r *recorder) Clear(wait bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "clear")
}

func (r *recorder) Input(prompt string, password bool) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if password {
		prompt += " [password]"
	}
	r.inputs = append(r.inputs, prompt)
	if len(r.answers) == 0 {
		return "", errors.New("no answer")
	}
	a := r.answers[0]
	r.answers = r.answers[1:]
	return a, nil
}

func newEngine(t testing.TB) *Engine {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e := New(Config{
		Command:        []string{exe},
		Env:            []string{"GOPHERLAB_TEST_WORKER=1"},
		Log:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		InterruptGrace: 3 * time.Second,
	})
	t.Cleanup(func() { e.Close() })
	return e
}

func run(t *testing.T, e *Engine, code string, out *recorder) kernel.ExecuteReply {
	t.Helper()
	if out == nil {
		out = &recorder{}
	}
	return e.Execute(context.Background(), kernel.ExecuteRequest{Code: code, AllowStdin: true}, out)
}

func TestExecuteAndState(t *testing.T) {
	e := newEngine(t)
	out := &recorder{}
	r := run(t, e, "import \"fmt\"\nx := 21\nfmt.Println(\"hello\")\nx * 2", out)
	if r.Status != "ok" || r.Result == nil || r.Result.Data["text/plain"] != "42" {
		t.Fatalf("reply %+v", r)
	}
	if _, stdout, _, _ := out.snapshot(); stdout != "hello\n" {
		t.Fatalf("stdout %q", stdout)
	}
	r = run(t, e, "x + 1", nil)
	if r.Result == nil || r.Result.Data["text/plain"] != "22" {
		t.Fatalf("state lost: %+v", r)
	}
}

func TestSurvivesCrashes(t *testing.T) {
	e := newEngine(t)
	cases := []struct {
		name, code, want string
	}{
		{"goroutine panic", "import \"time\"\ngo func() { panic(\"boom\") }()\ntime.Sleep(2 * time.Second)", "boom"},
		{"stack overflow", "func f(n int) int { return f(n+1) + 1 }\nf(0)", "stack overflow"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := run(t, e, "y := 5", nil); r.Status != "ok" {
				t.Fatalf("setup: %+v", r)
			}
			r := run(t, e, c.code, nil)
			if r.Status != "error" || r.Ename != "SessionRestarted" || !strings.Contains(r.Evalue, c.want) {
				t.Fatalf("reply %+v", r)
			}
			// The runtime's plumbing (re-panics, its frames and
			// addresses) is not shown.
			if tb := strings.Join(r.Traceback, "\n"); strings.Contains(tb, "repanicked") || strings.Contains(tb, "sp=0x") || strings.Contains(tb, "runtime.") {
				t.Errorf("traceback shows the runtime's plumbing:\n%s", tb)
			}
			r = run(t, e, "1 + 1", nil)
			if r.Status != "ok" || r.Result == nil || r.Result.Data["text/plain"] != "2" {
				t.Fatalf("after restart: %+v", r)
			}
			if r := run(t, e, "y", nil); r.Status != "error" {
				t.Fatalf("state should be gone after a restart: %+v", r)
			}
		})
	}
}

// A goroutine's panic is reported with its value as Go prints it, not
// as the reflect.Value yaegi's builtin panic wrapped it in ("panic:
// <error Value>").
func TestGoroutinePanicValue(t *testing.T) {
	e := newEngine(t)
	const decls = "import (\"fmt\"; \"time\")\ntype myErr struct{ N int }\nfunc (e myErr) Error() string { return fmt.Sprint(\"my error \", e.N) }\nfunc check(n int) error { return myErr{n} }\ntype named string\nfunc (n named) String() string { return \"named \" + string(n) }\n"
	for _, c := range []struct{ name, code, want string }{
		{"error", `go func() { panic(fmt.Errorf("bad row %d", 3)) }(); time.Sleep(time.Second)`, "panic: bad row 3"},
		{"interpreted error", `go func() { if err := check(4); err != nil { panic(err) } }(); time.Sleep(time.Second)`, "panic: my error 4"},
		{"interpreted error value", `go func() { panic(myErr{5}) }(); time.Sleep(time.Second)`, "panic: my error 5"},
		{"stringer", `go func() { panic(named("n")) }(); time.Sleep(time.Second)`, "panic: named n"},
		{"int", `go func() { panic(42) }(); time.Sleep(time.Second)`, "panic: 42"},
		{"in a function", "func work(rows []int) {\n\tfor _, r := range rows {\n\t\tif r < 0 {\n\t\t\tpanic(fmt.Errorf(\"negative row %d\", r))\n\t\t}\n\t}\n}\ngo work([]int{1, -2}); time.Sleep(time.Second)", "panic: negative row -2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, e, decls+c.code, nil)
			if r.Status != "error" || r.Ename != "SessionRestarted" || !strings.Contains(r.Evalue, c.want) {
				t.Fatalf("reply %+v", r)
			}
			if tb := strings.Join(r.Traceback, "\n"); !strings.Contains(tb, c.want) || strings.Contains(tb, "Value>") {
				t.Errorf("traceback:\n%s", tb)
			}
		})
	}
}

// A goroutine that panics after its cell ended takes the session with
// it: the next cell says so, and what killed it, instead of running in a
// fresh session where earlier names are silently undefined.
func TestCrashBetweenCells(t *testing.T) {
	e := newEngine(t)
	exec := func(code string, count int) kernel.ExecuteReply {
		return e.Execute(context.Background(), kernel.ExecuteRequest{Code: code, ExecutionCount: count}, &recorder{})
	}
	if r := exec("import \"time\"\nx := 42", 1); r.Status != "ok" {
		t.Fatalf("setup: %+v", r)
	}
	if r := exec("go func() { time.Sleep(200 * time.Millisecond); var m map[string]int; m[\"a\"] = 1 }()", 2); r.Status != "ok" {
		t.Fatalf("cell starting the goroutine: %+v", r)
	}
	e.mu.Lock()
	p := e.proc
	e.mu.Unlock()
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the child did not die of the goroutine's panic")
	}
	r := exec("x", 3)
	tb := strings.Join(r.Traceback, "\n")
	if r.Status != "error" || r.Ename != "SessionRestarted" || !strings.Contains(r.Evalue, "it crashed after cell [2] ended: panic: assignment to entry in nil map") || !strings.Contains(tb, "This cell did not run") {
		t.Fatalf("the cell after the crash: %+v", r)
	}
	// Told once; the fresh session then runs cells.
	if r := exec("1 + 1", 4); r.Status != "ok" || r.Result == nil || r.Result.Data["text/plain"] != "2" {
		t.Fatalf("after the report: %+v", r)
	}
}

func TestInterrupt(t *testing.T) {
	e := newEngine(t)
	run(t, e, "z := 7", nil)
	go func() {
		time.Sleep(300 * time.Millisecond)
		e.Interrupt()
	}()
	r := run(t, e, "for {}", nil)
	if r.Status != "error" || r.Ename == "SessionRestarted" {
		t.Fatalf("interrupt of interpreted code: %+v", r)
	}
	if r := run(t, e, "z", nil); r.Result == nil || r.Result.Data["text/plain"] != "7" {
		t.Fatalf("state lost after interrupt: %+v", r)
	}

	// Compiled code that ignores the interrupt: the session restarts.
	go func() {
		time.Sleep(300 * time.Millisecond)
		e.Interrupt()
	}()
	start := time.Now()
	r = run(t, e, "import \"time\"\ntime.Sleep(time.Minute)", nil)
	if r.Status != "error" || time.Since(start) > 20*time.Second {
		t.Fatalf("interrupt of compiled code: %+v after %v", r, time.Since(start))
	}
	if r := run(t, e, "3", nil); r.Result == nil || r.Result.Data["text/plain"] != "3" {
		t.Fatalf("no session after a stuck interrupt: %+v", r)
	}
}

func TestStreamingAndOrder(t *testing.T) {
	e := newEngine(t)
	out := &recorder{}
	r := run(t, e, `import (
	"fmt"
	"os"
	"time"
	"github.com/gopherlab/gopherlab/display"
)
fmt.Println("a")
time.Sleep(500 * time.Millisecond)
fmt.Println("b")
display.Text("shown")
fmt.Fprintln(os.Stderr, "err")
display.Clear()`, out)
	if r.Status != "ok" {
		t.Fatalf("reply %+v", r)
	}
	events, _, times, _ := out.snapshot()
	got := strings.Join(events, "|")
	want := "stdout:a\n|stdout:b\n|display:shown|stderr:err\n|clear"
	if got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
	if gap := times[1].Sub(times[0]); gap < 300*time.Millisecond {
		t.Fatalf("prints 0.5 s apart arrived %v apart", gap)
	}
}

// What a cell writes to stdout and stderr, what a compiled package warns
// and what it displays reach the frontend in the order it was written,
// however fast (ipykernel keeps that order too); and a line printed just
// before a crash is not lost.
func TestStdoutStderrOrder(t *testing.T) {
	e := newEngine(t)
	out := &recorder{}
	r := run(t, e, `import (
	"fmt"
	"os"
	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/experiments"
)
for i := 0; i < 200; i++ {
	fmt.Println("o", i)
	fmt.Fprintln(os.Stderr, "e", i)
	if i == 100 {
		display.Text("shown")
		fmt.Fprintln(experiments.Warnings, "warned")
	}
}`, out)
	if r.Status != "ok" {
		t.Fatalf("reply %+v", r)
	}
	var want, got []string
	for i := 0; i < 200; i++ {
		want = append(want, fmt.Sprintf("stdout:o %d", i), fmt.Sprintf("stderr:e %d", i))
		if i == 100 {
			want = append(want, "display:shown", "stderr:warned")
		}
	}
	events, _, _, _ := out.snapshot()
	for _, ev := range events {
		kind, text, _ := strings.Cut(ev, ":")
		if kind == "display" {
			got = append(got, ev)
			continue
		}
		for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			got = append(got, kind+":"+line)
		}
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("output %d is %q, want %q (%d outputs, want %d)", i, got[i], want[i], len(got), len(want))
			}
		}
		t.Fatalf("%d outputs, want %d", len(got), len(want))
	}

	for k := 0; k < 5; k++ {
		last := &recorder{}
		r = run(t, e, "import (\n\t\"fmt\"\n\t\"time\"\n)\nfmt.Println(\"last words\")\ngo func() { panic(\"boom\") }()\ntime.Sleep(2 * time.Second)", last)
		if r.Ename != "SessionRestarted" {
			t.Fatalf("crash: %+v", r)
		}
		if _, stdout, _, _ := last.snapshot(); stdout != "last words\n" {
			t.Fatalf("printed before the crash: %q", stdout)
		}
	}
}

func TestInput(t *testing.T) {
	e := newEngine(t)
	out := &recorder{answers: []string{"hello"}}
	r := run(t, e, "import \"fmt\"\nvar s string\nfmt.Scanln(&s)\nfmt.Println(\"got\", s)", out)
	_, stdout, _, inputs := out.snapshot()
	if r.Status != "ok" || stdout != "got hello\n" || len(inputs) != 1 {
		t.Fatalf("reply %+v stdout %q inputs %v", r, stdout, inputs)
	}
}

// display.Input and display.Password send their prompt, and a password
// is asked as one (the frontend hides it).
func TestInputPrompts(t *testing.T) {
	e := newEngine(t)
	out := &recorder{answers: []string{"ada", "s3cret"}}
	r := run(t, e, `import "github.com/gopherlab/gopherlab/display"
name, err := display.Input("Your name: ")
if err != nil {
	panic(err)
}
token, err := display.Password("API token: ")
if err != nil {
	panic(err)
}
name + " " + token`, out)
	_, _, _, inputs := out.snapshot()
	if r.Status != "ok" || r.Result == nil || r.Result.Data["text/plain"] != `"ada s3cret"` {
		t.Fatalf("reply %+v", r)
	}
	if strings.Join(inputs, "|") != "Your name: |API token:  [password]" {
		t.Errorf("input requests %q", inputs)
	}
}

// A cell asks for its own input: what an earlier cell's read left of its
// line (fmt.Scan took one word of two) is not read by the next cell.
func TestInputPerCell(t *testing.T) {
	e := newEngine(t)
	out := &recorder{answers: []string{"one two", "three"}}
	if r := run(t, e, "import \"fmt\"\nvar w string\nfmt.Scan(&w)\nfmt.Println(\"got\", w)", out); r.Status != "ok" {
		t.Fatalf("first cell: %+v", r)
	}
	if r := run(t, e, "fmt.Scan(&w)\nfmt.Println(\"got\", w)", out); r.Status != "ok" {
		t.Fatalf("second cell: %+v", r)
	}
	_, stdout, _, inputs := out.snapshot()
	if stdout != "got one\ngot three\n" || len(inputs) != 2 {
		t.Fatalf("stdout %q, %d input requests (want 2)", stdout, len(inputs))
	}
}

func TestQueries(t *testing.T) {
	e := newEngine(t)
	c, err := e.Complete(context.Background(), "strings.Rep", 11)
	if err != nil || !contains(c.Matches, "strings.Repeat") && !contains(c.Matches, "Repeat") {
		t.Fatalf("complete %+v %v", c, err)
	}
	ic, err := e.IsComplete(context.Background(), "func f() {")
	if err != nil || ic.Status != "incomplete" || ic.Indent != "    " {
		t.Fatalf("is_complete %+v %v", ic, err)
	}
}

func TestExitAsksFrontendToClose(t *testing.T) {
	e := newEngine(t)
	r := run(t, e, "exit", nil)
	if r.Status != "ok" || len(r.Payload) != 1 || r.Payload[0]["source"] != "ask_exit" {
		t.Fatalf("exit: %+v", r)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// The tracking store is the one of the folder the worker started in for
// the whole session: a %cd does not move it.
func TestStoreStaysAfterCd(t *testing.T) {
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e := New(Config{
		Command: []string{exe},
		Dir:     dir,
		Env:     []string{"GOPHERLAB_TEST_WORKER=1", "GOPHERLAB_DB="},
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	t.Cleanup(func() { e.Close() })
	if r := run(t, e, "import \"os\"\nos.Mkdir(\"sub\", 0o755)", nil); r.Status != "ok" {
		t.Fatalf("mkdir: %+v", r)
	}
	if r := run(t, e, "%cd sub", nil); r.Status != "ok" {
		t.Fatalf("%%cd: %+v", r)
	}
	r := run(t, e, "import \"github.com/gopherlab/gopherlab/tracking\"\ntracking.DefaultDBPath()", nil)
	want := strconv.Quote(filepath.Join(dir, "gopherlab.db"))
	if r.Status != "ok" || r.Result == nil || r.Result.Data["text/plain"] != want {
		t.Fatalf("store after %%cd: %+v, want %s", r, want)
	}
}

// An output over the size limit arrives as a note of its size, and the
// session goes on: before, an event longer than the supervisor's line
// limit stopped it reading, and the cell never ended.
func TestOversizedOutput(t *testing.T) {
	e := newEngine(t)
	out := &recorder{}
	r := run(t, e, "import (\"strings\"; \"github.com/gopherlab/gopherlab/display\")\nbig := strings.Repeat(\"x\", 101<<20)\ndisplay.Text(big)\nbig", out)
	if r.Status != "ok" {
		t.Fatalf("reply %+v", r)
	}
	events, _, _, _ := out.snapshot()
	if len(events) != 1 || !strings.Contains(events[0], "display:[output of 101.0 MB not shown: one output is limited to 100 MB") {
		t.Errorf("events %.300q", events)
	}
	if r.Result == nil || !strings.Contains(fmt.Sprint(r.Result.Data["text/plain"]), "not shown: one output is limited to 100 MB") {
		t.Errorf("result %.300v", r.Result)
	}
	if r := run(t, e, "len(big)", nil); r.Result == nil || r.Result.Data["text/plain"] != "105906176" {
		t.Fatalf("the session did not go on: %+v", r)
	}
}

// A progress bar's last change reaches the client before the cell's
// reply, though the bar holds changes back for a tenth of a second; a
// failing cell's bar stops in red.
func TestProgressSettledBeforeReply(t *testing.T) {
	e := newEngine(t)
	out := &recorder{}
	r := run(t, e, "import \"github.com/gopherlab/gopherlab/display\"\nbar := display.NewProgress(30, \"slow\")\nfor i := 0; i < 29; i++ {\n\tbar.Add(1)\n}", out)
	if r.Status != "ok" {
		t.Fatalf("reply %+v", r)
	}
	events, _, _, _ := out.snapshot()
	if len(events) < 2 || !strings.Contains(events[len(events)-1], "29/30") {
		t.Fatalf("the bar's last state did not come before the reply: %q", events)
	}
	out = &recorder{}
	r = run(t, e, "bar2 := display.NewProgress(10, \"failing\")\nbar2.Add(3)\nvar xs []int\nxs[3] = 1", out)
	if r.Status != "error" {
		t.Fatalf("reply %+v", r)
	}
	if events, _, _, _ = out.snapshot(); len(events) < 2 || !strings.Contains(events[len(events)-1], "3/10") {
		t.Fatalf("failing cell's bar: %q", events)
	}
	// The earlier cell's bar is that cell's: this failure leaves it be.
	for _, ev := range events {
		if strings.Contains(ev, "slow") {
			t.Errorf("the failing cell changed the earlier cell's bar: %q", events)
		}
	}
}

// The runtime's report of a stack overflow is held until the child dies,
// even when the runtime pauses longer than crashHold while writing it: it
// becomes the restart's message instead of pages of goroutine traces in
// the cell.
func TestFatalReportHeldUntilDeath(t *testing.T) {
	out := &recorder{}
	e := &Engine{log: slog.New(slog.NewTextHandler(io.Discard, nil)), out: out}
	p := &process{}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.readStream(p, r, "stderr", true)
	}()
	io.WriteString(w, "before\nruntime: goroutine stack exceeds 1000000000-byte limit\n")
	time.Sleep(crashHold + 300*time.Millisecond)
	io.WriteString(w, "fatal error: stack overflow\n\nruntime stack:\nruntime.throw(...)\n")
	w.Close()
	<-done
	out.mu.Lock()
	got := out.stderr.String()
	out.mu.Unlock()
	if got != "before\n" {
		t.Errorf("the cell got %q, want only the text before the report", got)
	}
	if !strings.Contains(p.crash, "fatal error: stack overflow") {
		t.Errorf("crash report %q", p.crash)
	}
}
