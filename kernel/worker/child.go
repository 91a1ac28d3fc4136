package worker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gopherlab/gopherlab/internal/memtrim"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/kernel/goeval"
	"github.com/gopherlab/gopherlab/kernel/symbols"
	"github.com/gopherlab/gopherlab/tracking"
	"golang.org/x/sys/unix"
)

// maxStack bounds a cell's runaway recursion well below Go's 1 GB default,
// so a stack overflow ends (and the session restarts) quickly.
const maxStack = 256 << 20

// Main runs the child: it reads requests on fd 3 and writes events on fd
// 4 until fd 3 closes. It is meant to be started by Engine only.
func Main() error {
	reqR := os.NewFile(3, "requests")
	evW := os.NewFile(4, "events")
	if reqR == nil || evW == nil {
		return errors.New("worker: fds 3 and 4 are not open: this command is started by the kernel, not by hand")
	}
	debug.SetMaxStack(maxStack)
	c := &child{ev: evW, evFd: int(evW.Fd()), input: make(chan request, 1)}
	c.stdin = &inputReader{c: c}
	display.SetPublisher(c)
	c.streams = newStreams(c)
	stdout, stderr := &streamWriter{s: c.streams, name: "stdout"}, &streamWriter{s: c.streams, name: "stderr"}
	experiments.Warnings = stderr
	sess, err := goeval.New(goeval.Options{
		Symbols: symbols.All(),
		Stdout:  stdout,
		Stderr:  stderr,
		Stdin:   c.stdin,
	})
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	c.sess = sess
	// Every fit, cross-validation and grid search is logged to the
	// tracking store unless GOPHERLAB_AUTOLOG=off or %autolog off.
	if v := os.Getenv(tracking.EnvNotebookParams); v != "" {
		var params map[string]string
		if err := json.Unmarshal([]byte(v), &params); err != nil {
			fmt.Fprintf(os.Stderr, "gopherlab worker: $%s: %v\n", tracking.EnvNotebookParams, err)
		}
		tracking.SetNotebookParams(params)
	}
	// The store is the one in the notebook's folder (where the worker
	// starts) for the whole session: a %cd must not move it, for the
	// autologger or for tracking.Open("") in cells.
	if os.Getenv(tracking.EnvDB) == "" {
		if abs, err := filepath.Abs(tracking.DefaultPath); err == nil {
			os.Setenv(tracking.EnvDB, abs)
		}
	}
	autolog := tracking.NewAutologger("")
	autolog.Errors = stderr
	if os.Getenv("GOPHERLAB_AUTOLOG") != "off" {
		experiments.SetTracker(autolog)
	}
	sess.RegisterMagic("autolog", "%autolog [on|off]: log every fit, cross-validation and grid search to the tracking store",
		func(_ context.Context, s *goeval.Session, args string) error {
			return autolog.AutologCommand(args, s.Stdout())
		})
	sess.RegisterMagic("tracking", "%tracking [PATH]: show or set the tracking store path",
		func(_ context.Context, s *goeval.Session, args string) error {
			return autolog.TrackingCommand(args, s.Stdout())
		})
	// The store is opened once; %env GOPHERLAB_DB=PATH alone would not
	// move it.
	sess.SetEnvMagic(tracking.EnvDB, "tracking")

	intr := make(chan os.Signal, 4)
	signal.Notify(intr, syscall.SIGINT)
	go func() {
		for range intr {
			c.interrupt()
		}
	}()

	work := make(chan request, 16)
	go func() {
		defer close(work)
		sc := bufio.NewScanner(reqR)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			var r request
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				fmt.Fprintf(os.Stderr, "gopherlab worker: bad request: %v\n", err)
				continue
			}
			if r.Op == "input_reply" {
				select {
				case c.input <- r:
				default:
				}
				continue
			}
			work <- r
		}
	}()
	c.emit(event{Ev: "ready"})
	trim := memtrim.New(memtrim.IdleDelay())
	for r := range work {
		trim.Busy()
		c.handle(r)
		trim.Idle()
	}
	// The last cells' runs are written in the background: finish them
	// before the process exits.
	if err := autolog.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "gopherlab worker: %v\n", err)
	}
	return nil
}

type child struct {
	sess  *goeval.Session
	input chan request
	stdin *inputReader

	evMu    sync.Mutex
	ev      *os.File
	evFd    int
	streams *streams // the cells' stdout and stderr, queued for the kernel

	mu     sync.Mutex
	cancel context.CancelFunc
}

func (c *child) interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
}

func (c *child) handle(r request) {
	var reply any
	defer func() {
		// A bug in the evaluator must not cost the user the session.
		if v := recover(); v != nil {
			msg := fmt.Sprintf("gopherlab internal error: %v (please report it)", v)
			fmt.Fprintf(os.Stderr, "%s\n%s", msg, debug.Stack())
			b, _ := json.Marshal(executeReply{Status: "error", Ename: "InternalError", Evalue: msg, Traceback: []string{msg}})
			c.emit(event{Ev: "reply", ID: r.ID, Reply: b})
		}
	}()
	switch r.Op {
	case "execute":
		ctx, cancel := context.WithCancel(context.Background())
		c.mu.Lock()
		c.cancel = cancel
		c.mu.Unlock()
		// Runs the cell starts are tracked with the code that made them;
		// the runs of its fits are written once it has replied.
		tracking.SetCellInfo(r.Code, notebookPath(r.Notebook), r.Count)
		c.stdin.newCell()
		tracking.SetCellRunning(true)
		defer tracking.SetCellRunning(false)
		rep := c.execute(goeval.WithCount(ctx, r.Count), r.Code)
		failure := ""
		if rep.Status == "error" {
			failure = rep.Ename + ": " + rep.Evalue
		}
		tracking.EndCell(failure) // a failed cell's runs end FAILED
		if rep.Status == "ok" && len(r.Exprs) > 0 {
			rep.Exprs = c.evaluate(ctx, r.Exprs)
		}
		reply = rep
		c.mu.Lock()
		c.cancel = nil
		c.mu.Unlock()
		cancel()
	case "complete":
		m, start, end, meta := c.sess.Complete(r.Code, r.Cursor)
		if m == nil {
			m = []string{}
		}
		reply = completeReply{Matches: m, CursorStart: start, CursorEnd: end, Metadata: meta}
	case "inspect":
		found, data := c.sess.Inspect(r.Code, r.Cursor, r.Detail)
		reply = inspectReply{Found: found, Data: data}
	case "is_complete":
		st, indent := c.sess.IsComplete(r.Code)
		reply = isCompleteReply{Status: st, Indent: indent}
	default:
		reply = map[string]string{"error": "unknown op " + r.Op}
	}
	b, err := json.Marshal(reply)
	if err != nil {
		b, _ = json.Marshal(executeReply{Status: "error", Ename: "EncodingError", Evalue: err.Error(), Traceback: []string{err.Error()}})
	}
	c.emit(event{Ev: "reply", ID: r.ID, Reply: b})
}

func (c *child) execute(ctx context.Context, code string) executeReply {
	out, err := c.sess.Execute(ctx, code)
	// The cell's progress bars show their last state before its reply.
	display.EndCell(err != nil)
	if err != nil {
		var stuck *goeval.StuckError
		if errors.As(err, &stuck) {
			return executeReply{Status: "error", Stuck: true, Ename: "Interrupted", Evalue: err.Error()}
		}
		var ce *goeval.CellError
		if errors.As(err, &ce) {
			tb := ce.Traceback
			if tb == nil {
				tb = []string{ce.Name + ": " + ce.Value}
			}
			return executeReply{Status: "error", Ename: ce.Name, Evalue: ce.Value, Traceback: tb}
		}
		return executeReply{Status: "error", Ename: "Error", Evalue: err.Error(), Traceback: []string{err.Error()}}
	}
	rep := executeReply{Status: "ok", Payload: out.Payload}
	if out.HasResult {
		rep.Result = &bundle{Data: out.Result.Data, Metadata: out.Result.Metadata}
	}
	return rep
}

// evaluate evaluates user expressions as ipykernel does: each one on its
// own, an error in one reported in its entry without failing the cell.
func (c *child) evaluate(ctx context.Context, exprs map[string]string) map[string]any {
	res := make(map[string]any, len(exprs))
	for name, expr := range exprs {
		b, err := c.sess.Evaluate(ctx, expr)
		if err != nil {
			ename, evalue, tb := "Error", err.Error(), []string(nil)
			var ce *goeval.CellError
			if errors.As(err, &ce) {
				ename, evalue, tb = ce.Name, ce.Value, ce.Traceback
			}
			if tb == nil {
				tb = []string{ename + ": " + evalue}
			}
			res[name] = map[string]any{"status": "error", "ename": ename, "evalue": evalue, "traceback": tb}
			continue
		}
		meta := b.Metadata
		if meta == nil {
			meta = map[string]any{}
		}
		res[name] = map[string]any{"status": "ok", "data": b.Data, "metadata": meta}
	}
	return res
}

// emit sends an event after the text the cell wrote before it (queued
// stream text first, then what its compiled code wrote on fds 1 and 2,
// once the supervisor has read it), so that a display or a reply never
// overtakes text printed before it.
func (c *child) emit(ev event) {
	if c.streams != nil {
		c.streams.flush()
	}
	waitDrained(1)
	waitDrained(2)
	c.send(ev)
	if ev.Ev != "reply" && ev.Ev != "ready" {
		// What the cell prints next on fds 1 and 2 must not overtake
		// this event.
		waitDrained(c.evFd)
	}
}

// send writes one event on the events pipe.
func (c *child) send(ev event) {
	b, err := json.Marshal(ev)
	if err != nil {
		b, _ = json.Marshal(event{Ev: ev.Ev, ID: ev.ID, Data: map[string]any{"text/plain": "unencodable output: " + err.Error()}})
	}
	if len(b) > maxEventBytes {
		b = shrinkEvent(ev, len(b))
	}
	c.evMu.Lock()
	defer c.evMu.Unlock()
	c.ev.Write(append(b, '\n'))
}

// waitDrained waits (briefly) until the pipe on fd holds no unread bytes.
// The supervisor reads within microseconds, so it yields before it sleeps:
// a timer sleep costs far more than the wait itself.
func waitDrained(fd int) {
	deadline := time.Now().Add(100 * time.Millisecond)
	for i := 0; ; i++ {
		n, err := unix.IoctlGetInt(fd, unix.TIOCINQ)
		if err != nil || n == 0 || time.Now().After(deadline) {
			return
		}
		if i < 1000 {
			runtime.Gosched()
		} else {
			time.Sleep(20 * time.Microsecond)
		}
	}
}

// streamWriter is a cell's os.Stdout or os.Stderr (and the compiled
// packages' warnings): what it is given goes to the kernel as stream
// events, on the one pipe that also carries displays, so that the
// notebook shows stdout, stderr and displays in the order the cell wrote
// them. Two pipes read apart cannot keep that order.
type streamWriter struct {
	s    *streams
	name string
	mu   sync.Mutex
	tail []byte // an incomplete UTF-8 sequence, for the next write
}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := p
	if len(w.tail) > 0 {
		data = append(w.tail, p...)
		w.tail = nil
	}
	if k := incompleteTail(data); k > 0 {
		w.tail = append([]byte(nil), data[len(data)-k:]...)
		data = data[:len(data)-k]
	}
	if len(data) > 0 {
		w.s.add(w.name, data)
	}
	return len(p), nil
}

// streams sends the text of both streams in the order it was written. A
// write that comes alone is sent at once, from the writing goroutine: a
// cell that prints and then dies (a goroutine's panic) has its text
// delivered. Writes in a burst (a loop printing line by line) are queued
// for a goroutine that sends them as soon as it can, in a few large
// events instead of one per line (a system call each), as ipykernel's
// IOPub thread batches. Any other event sends what is queued first.
type streams struct {
	c       *child
	mu      sync.Mutex
	queue   []streamChunk
	last    time.Time // of the last write
	wake    chan struct{}
	sending sync.Mutex // one flush at a time, in order
}

// burstGap is the time between writes under which they are a burst.
const burstGap = time.Millisecond

type streamChunk struct {
	name string
	text []byte
}

// maxStreamEvent bounds the text of one stream event.
const maxStreamEvent = 256 << 10

func newStreams(c *child) *streams {
	s := &streams{c: c, wake: make(chan struct{}, 1)}
	go func() {
		for range s.wake {
			s.flush()
		}
	}()
	return s
}

func (s *streams) add(name string, text []byte) {
	now := time.Now()
	s.mu.Lock()
	if n := len(s.queue); n > 0 && s.queue[n-1].name == name && len(s.queue[n-1].text)+len(text) <= maxStreamEvent {
		s.queue[n-1].text = append(s.queue[n-1].text, text...)
	} else {
		s.queue = append(s.queue, streamChunk{name, append([]byte(nil), text...)})
	}
	burst := now.Sub(s.last) < burstGap
	s.last = now
	s.mu.Unlock()
	if !burst {
		s.flush()
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// flush sends the queued text, in order.
func (s *streams) flush() {
	s.sending.Lock()
	defer s.sending.Unlock()
	s.mu.Lock()
	q := s.queue
	s.queue = nil
	s.mu.Unlock()
	for _, ch := range q {
		s.c.send(event{Ev: "stream", Name: ch.name, Text: string(ch.text)})
	}
}

// Display implements display.Publisher.
func (c *child) Display(b display.Bundle, id string) {
	c.emit(event{Ev: "display", Data: b.Data, Metadata: b.Metadata, DisplayID: id})
}

// Update implements display.Publisher.
func (c *child) Update(b display.Bundle, id string) {
	c.emit(event{Ev: "update", Data: b.Data, Metadata: b.Metadata, DisplayID: id})
}

// Clear implements display.Publisher.
func (c *child) Clear(wait bool) { c.emit(event{Ev: "clear", Wait: wait}) }

// inputReader is the cells' standard input: each read that finds nothing
// buffered asks the frontend for a line.
type inputReader struct {
	c   *child
	mu  sync.Mutex
	buf []byte
}

func (r *inputReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) == 0 {
		line, err := r.askLocked("", false)
		if err != nil {
			return 0, fmt.Errorf("stdin: %w", err)
		}
		r.buf = append(r.buf, line...)
		r.buf = append(r.buf, '\n')
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// askLocked asks the frontend for a line (input_request); r.mu is held,
// so that reads and prompts take their turns.
func (r *inputReader) askLocked(prompt string, password bool) (string, error) {
	select { // drop a stale reply
	case <-r.c.input:
	default:
	}
	r.c.emit(event{Ev: "input", Prompt: prompt, Password: password})
	rep := <-r.c.input
	if rep.Interrupted {
		// Stop the cell here, not at the interpreter's next check
		// after the code that reads has run on with empty input:
		// goeval reports this panic as the interrupt it is.
		panic(goeval.ErrInterrupted)
	}
	if rep.Err != "" {
		return "", errors.New(rep.Err)
	}
	return rep.Value, nil
}

// Prompt implements display.Prompter: display.Input and display.Password
// ask with the prompt shown in the frontend's input box, and a password
// hidden there.
func (c *child) Prompt(prompt string, password bool) (string, error) {
	r := c.stdin
	r.mu.Lock()
	defer r.mu.Unlock()
	line, err := r.askLocked(prompt, password)
	if err != nil {
		return "", fmt.Errorf("display: %s", err)
	}
	return line, nil
}

// newCell drops what an earlier cell's reads left of its last line (a
// fmt.Scan that took one word of two): a cell asks for its own input, as
// Python's input() does, instead of reading the rest of another's. A
// read still waiting in a goroutine of an earlier cell keeps its line.
func (r *inputReader) newCell() {
	if r.mu.TryLock() {
		r.buf = nil
		r.mu.Unlock()
	}
}

var _ io.Reader = (*inputReader)(nil)

// notebookPath is the notebook the kernel serves, when the frontend says:
// Jupyter Server 2 passes it to kernels as JPY_SESSION_NAME; otherwise
// the supervisor may have asked the server (found, or "").
func notebookPath(found string) string {
	if nb := os.Getenv("JPY_SESSION_NAME"); nb != "" {
		return nb
	}
	return found
}

// maxEventBytes bounds one output (a display, an update, a cell's result)
// as the worker sends it. Larger ones are replaced by a note saying so:
// the supervisor reads events a line at a time up to maxEventLine, and
// Jupyter's server and browsers choke on messages far smaller.
const (
	maxEventBytes = 100 << 20
	maxEventLine  = maxEventBytes + 16<<20
)

// shrinkEvent re-encodes ev, n bytes encoded, with its output replaced by
// a note of its size, so the cell ends normally and says what happened.
func shrinkEvent(ev event, n int) []byte {
	note := fmt.Sprintf("[output of %.1f MB not shown: one output is limited to %d MB; write large data to a file instead]", float64(n)/(1<<20), maxEventBytes>>20)
	bundle := map[string]any{"text/plain": note}
	switch ev.Ev {
	case "reply":
		var r map[string]any
		if json.Unmarshal(ev.Reply, &r) == nil {
			if _, ok := r["result"]; ok {
				r["result"] = map[string]any{"data": bundle}
			}
			if v, err := json.Marshal(r["evalue"]); err == nil && len(v) > maxEventBytes/4 {
				r["evalue"] = note
			}
			if v, err := json.Marshal(r["traceback"]); err == nil && len(v) > maxEventBytes/4 {
				r["traceback"] = []string{note}
			}
			if raw, err := json.Marshal(r); err == nil && len(raw) <= maxEventBytes {
				ev.Reply = raw
			}
		}
	default:
		ev.Data, ev.Metadata = bundle, nil
	}
	b, err := json.Marshal(ev)
	if err != nil || len(b) > maxEventBytes {
		b, _ = json.Marshal(event{Ev: ev.Ev, ID: ev.ID, DisplayID: ev.DisplayID, Data: bundle})
	}
	return b
}
