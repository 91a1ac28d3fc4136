package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/gopherlab/gopherlab/kernel/wire"
)

// echoEngine is a minimal Engine for protocol tests: it streams the code
// back and shows its length as the result.
type echoEngine struct{ interrupts chan struct{} }

func (e *echoEngine) Info() Info {
	return Info{Implementation: "test", Language: LanguageInfo{Name: "go", MIMEType: "text/x-go", FileExtension: ".go"}}
}
func (e *echoEngine) Execute(ctx context.Context, r ExecuteRequest, out Output) ExecuteReply {
	switch {
	case r.Code == "fail":
		return ExecuteReply{Status: "error", Ename: "E", Evalue: "failed", Traceback: []string{"line 1"}}
	case r.Code == "slowfail":
		time.Sleep(300 * time.Millisecond)
		return ExecuteReply{Status: "error", Ename: "E", Evalue: "failed", Traceback: []string{"line 1"}}
	case r.Code == "input":
		v, err := out.Input("? ", false)
		if err != nil {
			return ExecuteReply{Status: "error", Ename: "StdinError", Evalue: err.Error()}
		}
		out.Stream("stdout", "got "+v)
		return ExecuteReply{Status: "ok"}
	case r.Code == "wait":
		select {
		case <-e.interrupts:
			return ExecuteReply{Status: "error", Ename: "Interrupted", Evalue: "interrupted"}
		case <-time.After(5 * time.Second):
			return ExecuteReply{Status: "ok"}
		}
	}
	out.Stream("stdout", r.Code)
	out.Display(MIMEBundle{Data: map[string]any{"text/plain": "d"}}, "id1", false)
	return ExecuteReply{Status: "ok", Result: &MIMEBundle{Data: map[string]any{"text/plain": fmt.Sprint(len(r.Code))}}}
}
func (e *echoEngine) Complete(ctx context.Context, code string, cursor int) (CompleteReply, error) {
	return CompleteReply{Matches: []string{"x"}, CursorStart: cursor, CursorEnd: cursor}, nil
}
func (e *echoEngine) Inspect(ctx context.Context, code string, cursor, detail int) (InspectReply, error) {
	return InspectReply{}, nil
}
func (e *echoEngine) IsComplete(ctx context.Context, code string) (IsCompleteReply, error) {
	return IsCompleteReply{Status: "complete"}, nil
}
func (e *echoEngine) Interrupt() {
	select {
	case e.interrupts <- struct{}{}:
	default:
	}
}
func (e *echoEngine) Close() error { return nil }

func freePorts(t testing.TB, n int) []int {
	var ports []int
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

type client struct {
	t       testing.TB
	signer  *wire.Signer
	shell   zmq4.Socket
	control zmq4.Socket
	stdin   zmq4.Socket
	iopub   zmq4.Socket
	msgs    chan *wire.Message
}

// startTest starts a kernel with the echo engine and a client of it; the
// kernel logs at debug level to logTo, if given.
func startTest(t testing.TB, logTo ...io.Writer) (*Server, *client, wire.ConnectionInfo) {
	p := freePorts(t, 5)
	ci := wire.ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: p[0], IOPubPort: p[1], StdinPort: p[2],
		ControlPort: p[3], HBPort: p[4], Key: "k", SignatureScheme: "hmac-sha256"}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if len(logTo) > 0 {
		log = slog.New(slog.NewTextHandler(logTo[0], &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := Start(ctx, Config{Conn: ci, Engine: &echoEngine{interrupts: make(chan struct{}, 1)}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.shutdown)
	signer, _ := wire.NewSigner("hmac-sha256", "k")
	c := &client{t: t, signer: signer, msgs: make(chan *wire.Message, 100)}
	c.shell = zmq4.NewDealer(ctx, zmq4.WithID(zmq4.SocketIdentity("client-shell")))
	c.control = zmq4.NewDealer(ctx, zmq4.WithID(zmq4.SocketIdentity("client-control")))
	c.stdin = zmq4.NewDealer(ctx, zmq4.WithID(zmq4.SocketIdentity("client-shell")))
	c.iopub = zmq4.NewSub(ctx)
	for _, d := range []struct {
		s    zmq4.Socket
		port int
	}{{c.shell, ci.ShellPort}, {c.control, ci.ControlPort}, {c.stdin, ci.StdinPort}, {c.iopub, ci.IOPubPort}} {
		if err := d.s.Dial(ci.Endpoint(d.port)); err != nil {
			t.Fatal(err)
		}
	}
	c.iopub.SetOption(zmq4.OptionSubscribe, "")
	go func() {
		for {
			raw, err := c.iopub.Recv()
			if err != nil {
				return
			}
			m, err := wire.Decode(raw.Frames[1:], signer) // first frame is the topic
			if err != nil {
				t.Errorf("iopub decode: %v", err)
				return
			}
			c.msgs <- m
		}
	}()
	return s, c, ci
}

func (c *client) send(sock zmq4.Socket, signer *wire.Signer, msgType string, content any) *wire.Message {
	b, _ := json.Marshal(content)
	m := &wire.Message{Header: wire.NewHeader(msgType, "client"), ParentHeader: json.RawMessage("{}"), Metadata: json.RawMessage("{}"), Content: b}
	frames, _ := wire.Encode(m, signer)
	if err := sock.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		c.t.Fatal(err)
	}
	return m
}

func (c *client) recv(sock zmq4.Socket) *wire.Message {
	raw, err := sock.Recv()
	if err != nil {
		c.t.Fatal(err)
	}
	m, err := wire.Decode(raw.Frames, c.signer)
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

// iopubUntilIdle collects iopub messages whose parent is req up to its idle.
func (c *client) iopubUntilIdle(req *wire.Message) []*wire.Message {
	var got []*wire.Message
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m := <-c.msgs:
			var ph wire.Header
			json.Unmarshal(m.ParentHeader, &ph)
			if ph.MsgID != req.Header.MsgID {
				continue
			}
			got = append(got, m)
			if m.Header.MsgType == "status" && strings.Contains(string(m.Content), "idle") {
				return got
			}
		case <-timeout:
			c.t.Fatalf("no idle for %s; got %d messages", req.Header.MsgType, len(got))
		}
	}
}

func types(ms []*wire.Message) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Header.MsgType)
	}
	return strings.Join(s, ",")
}

func waitWelcome(t testing.TB, c *client) {
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m := <-c.msgs:
			if m.Header.MsgType == "iopub_welcome" {
				return
			}
		case <-timeout:
			t.Fatal("no iopub_welcome")
		}
	}
}

// At debug level the kernel logs every message it receives and sends.
func TestDebugLogsEveryMessage(t *testing.T) {
	var log lockedBuffer
	_, c, _ := startTest(t, &log)
	waitWelcome(t, c)
	req := c.send(c.shell, c.signer, "execute_request", map[string]any{"code": "abc", "silent": false})
	c.recv(c.shell)
	c.iopubUntilIdle(req)
	out := log.String()
	for _, want := range []string{
		"msg=recv channel=shell type=execute_request",
		"msg=send channel=shell type=execute_reply",
		"msg=send channel=iopub type=execute_input",
		"msg=send channel=iopub type=status",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestProtocol(t *testing.T) {
	_, c, _ := startTest(t)
	waitWelcome(t, c)

	req := c.send(c.shell, c.signer, "kernel_info_request", map[string]any{})
	rep := c.recv(c.shell)
	var info map[string]any
	json.Unmarshal(rep.Content, &info)
	if rep.Header.MsgType != "kernel_info_reply" || info["status"] != "ok" || info["protocol_version"] != wire.ProtocolVersion {
		t.Fatalf("kernel_info_reply: %s", rep.Content)
	}
	if got := types(c.iopubUntilIdle(req)); got != "status,status" {
		t.Fatalf("kernel_info iopub: %s", got)
	}

	cases := []struct {
		code, iopub, status string
	}{
		{"abc", "status,execute_input,stream,display_data,execute_result,status", "ok"},
		{"fail", "status,execute_input,error,status", "error"},
	}
	for i, tc := range cases {
		req := c.send(c.shell, c.signer, "execute_request", map[string]any{"code": tc.code, "silent": false, "allow_stdin": false})
		rep := c.recv(c.shell)
		var r map[string]any
		json.Unmarshal(rep.Content, &r)
		if r["status"] != tc.status || r["execution_count"] != float64(i+1) {
			t.Errorf("%s: reply %s", tc.code, rep.Content)
		}
		if got := types(c.iopubUntilIdle(req)); got != tc.iopub {
			t.Errorf("%s: iopub %s, want %s", tc.code, got, tc.iopub)
		}
	}

	// A silent request shows no input or result, but its output and its
	// error, as ipykernel.
	for _, tc := range []struct{ code, iopub string }{
		{"abc", "status,stream,display_data,status"},
		{"fail", "status,error,status"},
	} {
		req := c.send(c.shell, c.signer, "execute_request", map[string]any{"code": tc.code, "silent": true})
		c.recv(c.shell)
		if got := types(c.iopubUntilIdle(req)); got != tc.iopub {
			t.Errorf("silent %s: iopub %s, want %s", tc.code, got, tc.iopub)
		}
	}

	// Every request gets a reply, even one the kernel does not know.
	for _, rt := range []string{"complete_request", "inspect_request", "is_complete_request", "history_request", "comm_info_request", "bogus_request"} {
		c.send(c.shell, c.signer, rt, map[string]any{"code": "x", "cursor_pos": 1, "hist_access_type": "tail", "n": 5})
		rep := c.recv(c.shell)
		if want := strings.TrimSuffix(rt, "_request") + "_reply"; rep.Header.MsgType != want {
			t.Errorf("%s: got %s", rt, rep.Header.MsgType)
		}
	}
}

func TestForgedSignatureIsDropped(t *testing.T) {
	_, c, _ := startTest(t)
	waitWelcome(t, c)
	forger, _ := wire.NewSigner("hmac-sha256", "wrong")
	c.send(c.shell, forger, "execute_request", map[string]any{"code": "forged"})
	good := c.send(c.shell, c.signer, "kernel_info_request", map[string]any{})
	rep := c.recv(c.shell)
	var ph wire.Header
	json.Unmarshal(rep.ParentHeader, &ph)
	if rep.Header.MsgType != "kernel_info_reply" || ph.MsgID != good.Header.MsgID {
		t.Fatalf("first reply after a forged request is %s to %s", rep.Header.MsgType, ph.MsgID)
	}
}

func TestStdinAndInterrupt(t *testing.T) {
	_, c, _ := startTest(t)
	waitWelcome(t, c)
	c.send(c.shell, c.signer, "execute_request", map[string]any{"code": "input", "allow_stdin": true})
	ir := c.recv(c.stdin)
	if ir.Header.MsgType != "input_request" {
		t.Fatalf("got %s on stdin", ir.Header.MsgType)
	}
	c.send(c.stdin, c.signer, "input_reply", map[string]any{"value": "hello"})
	rep := c.recv(c.shell)
	if !strings.Contains(string(rep.Content), `"ok"`) {
		t.Fatalf("execute after input: %s", rep.Content)
	}

	c.send(c.shell, c.signer, "execute_request", map[string]any{"code": "wait"})
	time.Sleep(100 * time.Millisecond)
	c.send(c.control, c.signer, "interrupt_request", map[string]any{})
	if r := c.recv(c.control); r.Header.MsgType != "interrupt_reply" {
		t.Fatalf("control reply %s", r.Header.MsgType)
	}
	rep = c.recv(c.shell)
	if !strings.Contains(string(rep.Content), "Interrupted") {
		t.Fatalf("interrupted execute: %s", rep.Content)
	}
}

func TestHandshakeStallDoesNotBlockOthers(t *testing.T) {
	_, c, ci := startTest(t)
	waitWelcome(t, c)
	// A peer that connects and says nothing must not keep others out.
	raw, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ci.ShellPort))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := zmq4.NewDealer(ctx)
	defer d.Close()
	if err := d.Dial(ci.Endpoint(ci.ShellPort)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.send(d, c.signer, "kernel_info_request", map[string]any{})
	got := make(chan *wire.Message, 1)
	go func() { got <- c.recv(d) }()
	select {
	case m := <-got:
		if m.Header.MsgType != "kernel_info_reply" {
			t.Fatalf("got %s", m.Header.MsgType)
		}
		t.Logf("second peer answered after %v", time.Since(start))
	case <-time.After(handshakeTimeout + 3*time.Second):
		t.Fatal("a silent peer kept a well-behaved one out")
	}
}

func TestLateOutputIsPublished(t *testing.T) {
	s, c, _ := startTest(t)
	waitWelcome(t, c)
	o := &execOutput{s: s, req: &wire.Message{Header: wire.NewHeader("execute_request", "x")}}
	o.Stream("stdout", "during")
	o.finish()
	o.Stream("stdout", "after")
	var got []string
	timeout := time.After(5 * time.Second)
	for len(got) < 2 {
		select {
		case m := <-c.msgs:
			if m.Header.MsgType == "stream" {
				var st struct{ Text string }
				json.Unmarshal(m.Content, &st)
				got = append(got, st.Text)
			}
		case <-timeout:
			t.Fatalf("got streams %q, want during and after", got)
		}
	}
	if got[0] != "during" || got[1] != "after" {
		t.Fatalf("streams %q", got)
	}
}

// After a cell fails (stop_on_error), execute requests the client made
// before the failure's reply are aborted even when they reach the kernel
// after it, as ipykernel does; requests made after it run.
func TestStopOnErrorAbortsRequestsMadeBefore(t *testing.T) {
	_, c, _ := startTest(t)
	waitWelcome(t, c)
	exec := func(h wire.Header, code string) string {
		b, _ := json.Marshal(map[string]any{"code": code, "silent": false})
		m := &wire.Message{Header: h, ParentHeader: json.RawMessage("{}"), Metadata: json.RawMessage("{}"), Content: b}
		frames, _ := wire.Encode(m, c.signer)
		if err := c.shell.Send(zmq4.NewMsgFrom(frames...)); err != nil {
			t.Fatal(err)
		}
		var r map[string]any
		json.Unmarshal(c.recv(c.shell).Content, &r)
		c.iopubUntilIdle(m)
		return fmt.Sprint(r["status"])
	}
	queued := wire.NewHeader("execute_request", "client") // made before the failure
	time.Sleep(2 * time.Millisecond)
	if got := exec(wire.NewHeader("execute_request", "client"), "fail"); got != "error" {
		t.Fatalf("failing cell: %s", got)
	}
	if got := exec(queued, "abc"); got != "aborted" {
		t.Errorf("request made before the failure: %s, want aborted", got)
	}
	if got := exec(wire.NewHeader("execute_request", "client"), "abc"); got != "ok" {
		t.Errorf("request made after the failure: %s, want ok", got)
	}
	// stop_on_error false leaves later requests alone.
	b, _ := json.Marshal(map[string]any{"code": "fail", "stop_on_error": false})
	before := wire.NewHeader("execute_request", "client")
	time.Sleep(2 * time.Millisecond)
	m := &wire.Message{Header: wire.NewHeader("execute_request", "client"), ParentHeader: json.RawMessage("{}"), Metadata: json.RawMessage("{}"), Content: b}
	frames, _ := wire.Encode(m, c.signer)
	c.shell.Send(zmq4.NewMsgFrom(frames...))
	c.recv(c.shell)
	c.iopubUntilIdle(m)
	if got := exec(before, "abc"); got != "ok" {
		t.Errorf("after a failure with stop_on_error false: %s, want ok", got)
	}
}

// A client whose clock lags the kernel's: what it queued behind a failing
// cell is aborted, each request in its own busy/idle after the failed
// cell's idle (as ipykernel), and a cell it runs after seeing the error
// runs, although its date is before the failure by the kernel's clock.
func TestStopOnErrorClientClockLags(t *testing.T) {
	_, c, _ := startTest(t)
	waitWelcome(t, c)
	send := func(msgType string, content map[string]any) *wire.Message {
		h := wire.NewHeader(msgType, "client")
		h.Date = time.Now().Add(-time.Second).UTC().Format("2006-01-02T15:04:05.000000Z")
		b, _ := json.Marshal(content)
		m := &wire.Message{Header: h, ParentHeader: json.RawMessage("{}"), Metadata: json.RawMessage("{}"), Content: b}
		frames, _ := wire.Encode(m, c.signer)
		if err := c.shell.Send(zmq4.NewMsgFrom(frames...)); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a := send("execute_request", map[string]any{"code": "slowfail"})
	b := send("execute_request", map[string]any{"code": "abc"})
	k := send("kernel_info_request", map[string]any{})
	want := map[string]string{a.Header.MsgID: "error", b.Header.MsgID: "aborted", k.Header.MsgID: "ok"}
	for range want {
		r := c.recv(c.shell)
		var rc map[string]any
		json.Unmarshal(r.Content, &rc)
		var ph wire.Header
		json.Unmarshal(r.ParentHeader, &ph)
		if got := fmt.Sprint(rc["status"]); got != want[ph.MsgID] {
			t.Errorf("%s reply: %s, want %s", ph.MsgType, got, want[ph.MsgID])
		}
	}
	// Status messages in order: each request's busy comes after the
	// previous one's idle.
	names := map[string]string{a.Header.MsgID: "a", b.Header.MsgID: "b", k.Header.MsgID: "k"}
	var seq []string
	timeout := time.After(5 * time.Second)
	for len(seq) < 6 {
		select {
		case m := <-c.msgs:
			var ph wire.Header
			json.Unmarshal(m.ParentHeader, &ph)
			var st struct {
				ExecutionState string `json:"execution_state"`
			}
			json.Unmarshal(m.Content, &st)
			if n := names[ph.MsgID]; n != "" && m.Header.MsgType == "status" {
				seq = append(seq, n+":"+st.ExecutionState)
			}
		case <-timeout:
			t.Fatalf("status messages %v", seq)
		}
	}
	if got := strings.Join(seq, " "); got != "a:busy a:idle b:busy b:idle k:busy k:idle" {
		t.Errorf("status order %s", got)
	}
	// Run after the error was seen: the client's date is a second behind.
	if r := send("execute_request", map[string]any{"code": "abc"}); true {
		var rc map[string]any
		json.Unmarshal(c.recv(c.shell).Content, &rc)
		if rc["status"] != "ok" {
			t.Errorf("cell run after the error, from a lagging clock: %v, want ok", rc["status"])
		}
		c.iopubUntilIdle(r)
	}
}

// A request dated before a failure but arriving after abortWindow runs:
// a client clock that lags the kernel's must not abort cells for long.
func TestStopOnErrorWindow(t *testing.T) {
	prev := abortWindow
	abortWindow = 50 * time.Millisecond
	t.Cleanup(func() { abortWindow = prev })
	_, c, _ := startTest(t)
	waitWelcome(t, c)
	lagging := wire.NewHeader("execute_request", "client")
	lagging.Date = time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z")
	req := c.send(c.shell, c.signer, "execute_request", map[string]any{"code": "fail"})
	c.recv(c.shell)
	c.iopubUntilIdle(req)
	time.Sleep(100 * time.Millisecond)
	b, _ := json.Marshal(map[string]any{"code": "abc"})
	m := &wire.Message{Header: lagging, ParentHeader: json.RawMessage("{}"), Metadata: json.RawMessage("{}"), Content: b}
	frames, _ := wire.Encode(m, c.signer)
	if err := c.shell.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	json.Unmarshal(c.recv(c.shell).Content, &r)
	if r["status"] != "ok" {
		t.Errorf("request from a lagging clock after the window: %v, want ok", r["status"])
	}
}

// Execution counts as IPython keeps them: a cell run with store_history
// false shows the next count without taking it, and an empty cell takes
// none; the reply carries the last count taken.
func TestExecutionCounts(t *testing.T) {
	_, c, _ := startTest(t)
	waitWelcome(t, c)
	run := func(code string, store bool) (reply float64, input, result any) {
		req := c.send(c.shell, c.signer, "execute_request", map[string]any{"code": code, "store_history": store})
		var r map[string]any
		json.Unmarshal(c.recv(c.shell).Content, &r)
		for _, m := range c.iopubUntilIdle(req) {
			var ct map[string]any
			json.Unmarshal(m.Content, &ct)
			switch m.Header.MsgType {
			case "execute_input":
				input = ct["execution_count"]
			case "execute_result":
				result = ct["execution_count"]
			}
		}
		return r["execution_count"].(float64), input, result
	}
	tests := []struct {
		code          string
		store         bool
		reply         float64
		input, result any
	}{
		{"abc", true, 1, 1.0, 1.0},
		{"abc", false, 1, 2.0, 2.0},
		{"  \n", true, 1, 2.0, nil},
		{"abc", true, 2, 2.0, 2.0},
	}
	for i, tt := range tests {
		reply, input, result := run(tt.code, tt.store)
		if reply != tt.reply || input != tt.input || (tt.result != nil && result != tt.result) {
			t.Errorf("%d: %q store %v: reply %v, execute_input %v, execute_result %v; want %v, %v, %v", i, tt.code, tt.store, reply, input, result, tt.reply, tt.input, tt.result)
		}
	}
}

// A cell's streams are published in the order written; a burst that
// switches streams more than maxSegments times within one interval has
// each stream's text merged, so as not to send a message per switch.
func TestStreamSegments(t *testing.T) {
	s, c, _ := startTest(t)
	waitWelcome(t, c)
	collect := func(n int) []string {
		var got []string
		timeout := time.After(5 * time.Second)
		for {
			select {
			case m := <-c.msgs:
				if m.Header.MsgType == "stream" {
					var st struct{ Name, Text string }
					json.Unmarshal(m.Content, &st)
					got = append(got, st.Name+":"+st.Text)
				}
			case <-timeout:
				t.Fatalf("got %q, want %d stream messages", got, n)
			}
			if len(got) == n {
				return got
			}
		}
	}
	req := &wire.Message{Header: wire.NewHeader("execute_request", "x")}
	o := &execOutput{s: s, req: req}
	for _, w := range []string{"o:a", "e:e", "o:b", "e:f"} {
		name := map[byte]string{'o': "stdout", 'e': "stderr"}[w[0]]
		o.Stream(name, w[2:])
	}
	o.flush()
	if got := strings.Join(collect(4), " "); got != "stdout:a stderr:e stdout:b stderr:f" {
		t.Errorf("a few switches: %s", got)
	}
	for i := 0; i < 1000; i++ {
		o.Stream("stdout", "o")
		o.Stream("stderr", "e")
	}
	o.finish()
	var got []string
	var out, errs strings.Builder
	for out.Len() < 1000 || errs.Len() < 1000 {
		m := collect(1)[0]
		got = append(got, m)
		if text, ok := strings.CutPrefix(m, "stdout:"); ok {
			out.WriteString(text)
		} else {
			errs.WriteString(strings.TrimPrefix(m, "stderr:"))
		}
	}
	if len(got) > maxSegments || out.String() != strings.Repeat("o", 1000) || errs.String() != strings.Repeat("e", 1000) {
		t.Errorf("a burst of 2000 switches: %d messages (want at most %d), %d bytes of stdout, %d of stderr", len(got), maxSegments, out.Len(), errs.Len())
	}
}
