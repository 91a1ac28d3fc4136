package worker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gopherlab/gopherlab/kernel"
)

// Config configures an Engine.
type Config struct {
	// Command starts a child: argv, default: this executable with "worker".
	Command []string
	Dir     string       // working directory of the child; default: the kernel's
	Env     []string     // extra environment for the child
	Log     *slog.Logger // defaults to slog.Default()
	Info    kernel.Info  // what Engine.Info returns
	// Notebook, when set, gives the path of the notebook the kernel runs
	// for, "" while unknown (see internal/jupyterserver); the child's
	// JPY_SESSION_NAME, which Jupyter Server 2 sets, comes first.
	Notebook func() string
	// InterruptGrace is how long an interrupted cell may take to stop
	// before the child is killed and restarted (default 5s).
	InterruptGrace time.Duration
}

// Engine supervises one child process at a time and restarts it when it
// dies. It implements kernel.Engine.
type Engine struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	proc    *process
	out     kernel.Output // output of the running execution
	lastOut kernel.Output // where late output from background goroutines goes
	intr    chan struct{}
	closed  bool
	// lost is a child that died between cells (a goroutine a cell started
	// panicked after it ended) with a session worth telling about: the
	// next cell reports it instead of running in a session that has
	// silently lost its variables.
	lost      *process
	lastCount int // execution count of the last cell sent to a child
}

// New returns an Engine and starts its first child in the background.
func New(cfg Config) *Engine {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.InterruptGrace == 0 {
		cfg.InterruptGrace = 5 * time.Second
	}
	e := &Engine{cfg: cfg, log: cfg.Log, intr: make(chan struct{}, 1)}
	e.mu.Lock()
	e.proc = e.spawn()
	e.mu.Unlock()
	return e
}

// Info implements kernel.Engine.
func (e *Engine) Info() kernel.Info { return e.cfg.Info }

// process is one running child.
type process struct {
	cmd     *exec.Cmd
	reqW    *os.File
	encMu   sync.Mutex
	ready   chan struct{}
	exited  chan struct{} // closed when the child has exited and its pipes are drained
	startEr error

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan json.RawMessage
	crash   string // the runtime's last words, if it crashed
	// released is crash-like text forwarded as output because the child
	// lived on past the hold (crashHold), and when: a child slowed down
	// (a loaded machine, the race detector) may still be dying of it.
	released   string
	releasedAt time.Time
	killed     string // why the supervisor killed it, if it did
	ran        bool   // it was sent a cell: it held a session
	reported   bool   // its death was reported to a cell
}

func (e *Engine) command() []string {
	if len(e.cfg.Command) > 0 {
		return e.cfg.Command
	}
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return []string{exe, "worker"}
}

// spawn starts a child; failures are reported through p.startEr once
// p.ready is closed.
func (e *Engine) spawn() *process {
	p := &process{ready: make(chan struct{}), exited: make(chan struct{}), pending: map[int64]chan json.RawMessage{}}
	fail := func(err error) *process {
		p.startEr = err
		close(p.ready)
		close(p.exited)
		return p
	}
	argv := e.command()
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	evR, evW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = e.cfg.Dir
	cmd.Env = append(os.Environ(), "GOTRACEBACK=none", "YAEGI_SPECIAL_STDIO=1")
	cmd.Env = append(cmd.Env, e.cfg.Env...)
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.ExtraFiles = []*os.File{reqR, evW}
	// Own process group: a terminal's Ctrl-C reaches the kernel, which
	// decides; Pdeathsig: the child never outlives a killed kernel.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	reqR.Close()
	evW.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		reqW.Close()
		evR.Close()
		outR.Close()
		errR.Close()
		return fail(fmt.Errorf("worker: start %s: %w", argv[0], err))
	}
	p.cmd, p.reqW = cmd, reqW
	e.log.Debug("worker started", "pid", cmd.Process.Pid)

	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); e.readEvents(p, evR) }()
	go func() { defer wg.Done(); e.readStream(p, outR, "stdout", false) }()
	go func() { defer wg.Done(); e.readStream(p, errR, "stderr", true) }()
	go func() {
		wg.Wait()
		err := cmd.Wait()
		select {
		case <-p.ready:
		default:
			p.startEr = fmt.Errorf("worker exited before it was ready: %v%s", err, crashSuffix(p.crash))
			close(p.ready)
		}
		e.log.Info("worker exited", "pid", cmd.Process.Pid, "status", err)
		p.mu.Lock()
		for id, ch := range p.pending {
			close(ch)
			delete(p.pending, id)
		}
		p.mu.Unlock()
		close(p.exited)
	}()
	return p
}

func crashSuffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + firstLine(s)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "runtime: sp=") {
			if strings.HasPrefix(l, "runtime: goroutine stack exceeds") {
				return "stack overflow (" + strings.TrimPrefix(l, "runtime: ") + ")"
			}
			return withoutRepanic(l)
		}
	}
	return s
}

// withoutRepanic drops the runtime's note that a panic was recovered and
// raised again (by the interpreter's goroutine wrapper), which says
// nothing to the cell's author.
func withoutRepanic(l string) string {
	for _, note := range []string{" [recovered, repanicked]", " [recovered]"} {
		l = strings.ReplaceAll(l, note, "")
	}
	return l
}

// crashReport is what a cell's traceback shows of the runtime's report
// of a crash: the first lines of a panic (the worker runs with
// GOTRACEBACK=none: the goroutine's frames would be the interpreter's),
// and for a stack overflow what it means, not the runtime's own frames
// and addresses.
func crashReport(crash string) []string {
	lines := strings.Split(strings.TrimRight(crash, "\n"), "\n")
	if strings.HasPrefix(firstLine(crash), "stack overflow") {
		return []string{"The stack grew past its limit: a function that calls itself without end (or too deeply)?"}
	}
	for i := range lines {
		lines[i] = withoutRepanic(lines[i])
	}
	if len(lines) > 12 {
		lines = append(lines[:12], "...")
	}
	return lines
}

func (e *Engine) readEvents(p *process, r *os.File) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxEventLine)
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			e.log.Warn("bad event from worker", "err", err)
			continue
		}
		switch ev.Ev {
		case "ready":
			close(p.ready)
		case "reply":
			p.mu.Lock()
			ch := p.pending[ev.ID]
			delete(p.pending, ev.ID)
			p.mu.Unlock()
			if ch != nil {
				ch <- ev.Reply
			}
		case "stream":
			if out := e.output(); out != nil {
				out.Stream(ev.Name, ev.Text)
			} else {
				e.log.Info("worker output outside a cell", "stream", ev.Name, "text", ev.Text)
			}
		case "display", "update":
			if out := e.output(); out != nil {
				out.Display(kernel.MIMEBundle{Data: ev.Data, Metadata: ev.Metadata}, ev.DisplayID, ev.Ev == "update")
			}
		case "clear":
			if out := e.output(); out != nil {
				out.Clear(ev.Wait)
			}
		case "input":
			out := e.output()
			go func() {
				rep := request{Op: "input_reply"}
				if out == nil {
					rep.Err = "no execution is waiting for input"
				} else if v, err := out.Input(ev.Prompt, ev.Password); err != nil {
					rep.Err = err.Error()
					rep.Interrupted = errors.Is(err, kernel.ErrInterrupted)
				} else {
					rep.Value = v
				}
				p.send(rep)
			}()
		}
	}
}

// crashMarkers start the runtime's output when a Go program dies.
var crashMarkers = []string{"panic: ", "fatal error: ", "runtime: goroutine stack exceeds", "fatal: morestack"}

// fatalMarkers start output only the runtime writes, as the process dies
// of it (no program prints them, and nothing recovers from them): such a
// report is held until the child dies, up to fatalHold, however long
// the runtime pauses while writing it (the stack of a deep recursion, on
// a loaded machine).
var fatalMarkers = []string{"runtime: goroutine stack exceeds", "fatal: morestack", "fatal error: stack overflow"}

// holdFor is how long held crash-like text waits for more, or for the
// child's death, before it is taken for ordinary output.
func holdFor(held []byte) time.Duration {
	for _, m := range fatalMarkers {
		if bytes.HasPrefix(held, []byte(m)) {
			return fatalHold
		}
	}
	return crashHold
}

const (
	fatalHold = 10 * time.Second
	crashHold = 300 * time.Millisecond
	// crashLinger is how long after crash-like output was released the
	// child's death is still taken to be that crash.
	crashLinger = 10 * time.Second
	maxHeld     = 256 << 10 // of a crash report, kept for the error message
)

// readStream forwards a child's stdout or stderr to the cell as it comes.
// On stderr, text that looks like the runtime's crash report is held back
// briefly: if the child dies, it becomes the error's message instead of a
// wall of goroutine traces; if it lives on, the text is forwarded.
func (e *Engine) readStream(p *process, r *os.File, name string, watchCrash bool) {
	defer r.Close()
	buf := make([]byte, 32<<10)
	var pending []byte // bytes of an incomplete UTF-8 sequence
	var held []byte
	var heldAt time.Time
	emit := func(b []byte) {
		if len(b) == 0 {
			return
		}
		if out := e.output(); out != nil {
			out.Stream(name, string(b))
		} else {
			e.log.Info("worker output outside a cell", "stream", name, "text", string(b))
		}
	}
	for {
		if held != nil {
			r.SetReadDeadline(heldAt.Add(holdFor(held)))
		} else {
			r.SetReadDeadline(time.Time{})
		}
		n, err := r.Read(buf)
		if n > 0 {
			data := append(pending, buf[:n]...)
			pending = nil
			// Keep an incomplete trailing rune for the next read.
			if k := incompleteTail(data); k > 0 {
				pending = append([]byte(nil), data[len(data)-k:]...)
				data = data[:len(data)-k]
			}
			switch {
			case held != nil:
				// A crash report can take a while to write (a deep stack):
				// the hold lasts until the writing pauses.
				if len(held) < maxHeld {
					held = append(held, data[:min(len(data), maxHeld-len(held))]...)
				}
				heldAt = time.Now()
			case watchCrash:
				if i := crashStart(data); i >= 0 {
					emit(data[:i])
					held = append([]byte(nil), data[i:]...)
					heldAt = time.Now()
				} else {
					emit(data)
				}
			default:
				emit(data)
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// The child lived on: it was ordinary output after all,
				// unless the child is only slow to die (see died).
				emit(held)
				p.mu.Lock()
				p.released, p.releasedAt = string(held), time.Now()
				p.mu.Unlock()
				held = nil
				continue
			}
			if held != nil {
				p.mu.Lock()
				p.crash = string(held)
				p.mu.Unlock()
			}
			emit(pending)
			if err != io.EOF {
				e.log.Debug("worker stream", "stream", name, "err", err)
			}
			return
		}
	}
}

func crashStart(b []byte) int {
	s := string(b)
	best := -1
	for _, m := range crashMarkers {
		for off := 0; ; {
			i := strings.Index(s[off:], m)
			if i < 0 {
				break
			}
			i += off
			if i == 0 || s[i-1] == '\n' {
				if best < 0 || i < best {
					best = i
				}
				break
			}
			off = i + 1
		}
	}
	return best
}

func incompleteTail(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < 0x80 {
			return 0
		}
		if utf8.RuneStart(c) {
			if utf8.FullRune(b[len(b)-k:]) {
				return 0
			}
			return k
		}
	}
	return 0
}

func (e *Engine) output() kernel.Output {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.out != nil {
		return e.out
	}
	return e.lastOut
}

func (p *process) send(r request) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	p.encMu.Lock()
	defer p.encMu.Unlock()
	_, err = p.reqW.Write(append(b, '\n'))
	return err
}

// call sends r and returns the channel its reply arrives on (closed if the
// child dies first).
func (p *process) call(r request) (chan json.RawMessage, error) {
	p.mu.Lock()
	p.nextID++
	r.ID = p.nextID
	ch := make(chan json.RawMessage, 1)
	p.pending[r.ID] = ch
	p.mu.Unlock()
	if err := p.send(r); err != nil {
		p.mu.Lock()
		delete(p.pending, r.ID)
		p.mu.Unlock()
		return nil, fmt.Errorf("worker: send %s: %w", r.Op, err)
	}
	return ch, nil
}

func (p *process) kill(reason string) {
	p.mu.Lock()
	if p.killed == "" {
		p.killed = reason
	}
	p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Kill()
	}
}

// current returns the running child, starting one if the last one died.
func (e *Engine) current() (*process, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, errors.New("worker: engine closed")
	}
	p := e.proc
	select {
	case <-p.exited:
		p.mu.Lock()
		if p.ran && !p.reported {
			e.lost = p
		}
		p.mu.Unlock()
		p = e.spawn()
		e.proc = p
	default:
	}
	e.mu.Unlock()
	<-p.ready
	if p.startEr != nil {
		// Let the next request try a fresh child.
		return nil, p.startEr
	}
	return p, nil
}

// restart replaces a dead (or dying) child with a fresh one in the
// background, so the next cell does not wait for it.
func (e *Engine) restart(old *process) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || e.proc != old {
		return
	}
	e.proc = e.spawn()
}

// Execute implements kernel.Engine.
func (e *Engine) Execute(ctx context.Context, req kernel.ExecuteRequest, out kernel.Output) kernel.ExecuteReply {
	switch strings.TrimSpace(req.Code) {
	case "exit", "quit", "exit()", "quit()":
		// As in IPython: ask the frontend to close (jupyter console exits).
		return kernel.ExecuteReply{Status: "ok", Payload: []map[string]any{{"source": "ask_exit", "keepkernel": false}}}
	}
	p, err := e.current()
	if err != nil {
		return errorReply("WorkerError", "the Go session could not start: "+err.Error())
	}
	e.mu.Lock()
	lost, lastCount := e.lost, e.lastCount
	e.lost = nil
	e.mu.Unlock()
	if lost != nil {
		// The cell is not run: it would see none of the earlier cells'
		// variables, and fail (or worse, succeed) for a reason it does
		// not show.
		rep := e.lostSession(lost, fmt.Sprintf("after cell [%d] ended", lastCount))
		rep.Traceback = append(rep.Traceback, "This cell did not run: run it again once the cells it needs have run.")
		return rep
	}
	e.mu.Lock()
	e.lastCount = req.ExecutionCount
	e.out, e.lastOut = out, out
	select { // forget an interrupt that came between cells
	case <-e.intr:
	default:
	}
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.out = nil
		e.mu.Unlock()
	}()
	p.mu.Lock()
	p.ran = true
	p.mu.Unlock()
	// An execution kept out of history has no number of its own: the
	// cells it defines and the runs it logs are not named by another's.
	count := req.ExecutionCount
	if !req.StoreHistory {
		count = 0
	}
	var notebook string
	if e.cfg.Notebook != nil {
		notebook = e.cfg.Notebook()
	}
	ch, err := p.call(request{Op: "execute", Code: req.Code, Silent: req.Silent, Count: count, Exprs: req.UserExpressions, Notebook: notebook})
	if err != nil {
		<-p.exited
		return e.died(p)
	}
	var kill <-chan time.Time
	for {
		select {
		case raw, ok := <-ch:
			if !ok {
				<-p.exited
				return e.died(p)
			}
			var r executeReply
			if err := json.Unmarshal(raw, &r); err != nil {
				return errorReply("WorkerError", "bad reply from the Go session: "+err.Error())
			}
			if r.Stuck {
				p.kill("the cell's compiled code did not stop when interrupted")
				<-p.exited
				return e.died(p)
			}
			rep := kernel.ExecuteReply{Status: r.Status, Ename: r.Ename, Evalue: r.Evalue, Traceback: r.Traceback, Payload: r.Payload, UserExpressions: r.Exprs}
			if r.Result != nil {
				rep.Result = &kernel.MIMEBundle{Data: r.Result.Data, Metadata: r.Result.Metadata}
			}
			return rep
		case <-e.intr:
			if p.cmd != nil && p.cmd.Process != nil {
				p.cmd.Process.Signal(syscall.SIGINT)
			}
			if kill == nil {
				kill = time.After(e.cfg.InterruptGrace)
			}
		case <-kill:
			p.kill(fmt.Sprintf("the cell did not stop within %v of the interrupt", e.cfg.InterruptGrace))
		case <-ctx.Done():
			p.kill("the execution was abandoned")
		}
	}
}

// died builds the reply for a child that exited during a cell, and starts
// a fresh one.
func (e *Engine) died(p *process) kernel.ExecuteReply {
	e.restart(p)
	return e.lostSession(p, "")
}

// lostSession builds the reply that tells a cell its session is gone:
// when says when the child died if not during the cell itself.
func (e *Engine) lostSession(p *process, when string) kernel.ExecuteReply {
	p.mu.Lock()
	p.reported = true
	crash, killed := p.crash, p.killed
	if crash == "" && p.released != "" && time.Since(p.releasedAt) < crashLinger {
		crash = p.released
	}
	p.mu.Unlock()
	var why string
	switch {
	case killed != "":
		why = killed
	case crash != "":
		why = "it crashed: " + firstLine(crash)
	default:
		why = "its process exited"
		if p.cmd != nil && p.cmd.ProcessState != nil {
			why += " (" + p.cmd.ProcessState.String() + ")"
		}
	}
	if when != "" {
		// A goroutine that outlived its cell is the usual culprit.
		why = strings.Replace(why, "it crashed: ", "it crashed "+when+": ", 1)
		if !strings.Contains(why, when) {
			why += ", " + when
		}
	}
	tb := []string{
		"\x1b[0;31mSessionRestarted\x1b[0m: the Go session was restarted because " + why + ".",
	}
	if crash != "" {
		tb = append(tb, crashReport(crash)...)
	}
	tb = append(tb, "Variables, functions and imports from earlier cells are gone: re-run the cells you need.")
	return kernel.ExecuteReply{Status: "error", Ename: "SessionRestarted", Evalue: "the Go session was restarted because " + why, Traceback: tb}
}

func errorReply(ename, evalue string) kernel.ExecuteReply {
	return kernel.ExecuteReply{Status: "error", Ename: ename, Evalue: evalue, Traceback: []string{ename + ": " + evalue}}
}

// Interrupt implements kernel.Engine.
func (e *Engine) Interrupt() {
	select {
	case e.intr <- struct{}{}:
	default:
	}
}

const queryTimeout = 10 * time.Second

// query runs a short request (completion, inspection) and decodes its reply.
func (e *Engine) query(ctx context.Context, r request, dst any) error {
	p, err := e.current()
	if err != nil {
		return err
	}
	ch, err := p.call(r)
	if err != nil {
		return err
	}
	select {
	case raw, ok := <-ch:
		if !ok {
			return errors.New("worker: the Go session exited")
		}
		return json.Unmarshal(raw, dst)
	case <-time.After(queryTimeout):
		return fmt.Errorf("worker: no %s reply within %v", r.Op, queryTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Complete implements kernel.Engine.
func (e *Engine) Complete(ctx context.Context, code string, cursor int) (kernel.CompleteReply, error) {
	var r completeReply
	if err := e.query(ctx, request{Op: "complete", Code: code, Cursor: cursor}, &r); err != nil {
		return kernel.CompleteReply{CursorStart: cursor, CursorEnd: cursor}, err
	}
	return kernel.CompleteReply{Matches: r.Matches, CursorStart: r.CursorStart, CursorEnd: r.CursorEnd, Metadata: r.Metadata}, nil
}

// Inspect implements kernel.Engine.
func (e *Engine) Inspect(ctx context.Context, code string, cursor, detail int) (kernel.InspectReply, error) {
	var r inspectReply
	if err := e.query(ctx, request{Op: "inspect", Code: code, Cursor: cursor, Detail: detail}, &r); err != nil {
		return kernel.InspectReply{}, err
	}
	return kernel.InspectReply{Found: r.Found, Data: r.Data}, nil
}

// IsComplete implements kernel.Engine.
func (e *Engine) IsComplete(ctx context.Context, code string) (kernel.IsCompleteReply, error) {
	var r isCompleteReply
	if err := e.query(ctx, request{Op: "is_complete", Code: code}, &r); err != nil {
		return kernel.IsCompleteReply{Status: "unknown"}, err
	}
	// Frontends insert the indent literally, and a console shows a tab as
	// ^I: indent with spaces, as IPython does.
	return kernel.IsCompleteReply{Status: r.Status, Indent: strings.ReplaceAll(r.Indent, "\t", "    ")}, nil
}

// Close implements kernel.Engine: the child exits when its request pipe
// closes; it is killed if it has not within a second.
func (e *Engine) Close() error {
	e.mu.Lock()
	e.closed = true
	p := e.proc
	e.mu.Unlock()
	if p == nil || p.reqW == nil {
		return nil
	}
	p.reqW.Close()
	select {
	case <-p.exited:
	case <-time.After(time.Second):
		p.kill("the kernel shut down")
		<-p.exited
	}
	return nil
}
