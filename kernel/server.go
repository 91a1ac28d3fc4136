package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/gopherlab/gopherlab/kernel/wire"
)

// Config configures a Server.
type Config struct {
	Conn   wire.ConnectionInfo // the connection file: channels and signing key
	Engine Engine              // runs the code; closed when the server shuts down
	Log    *slog.Logger        // defaults to slog.Default()
	// HistoryFile keeps input history across sessions; "" keeps it in memory.
	HistoryFile string
	// Activity, when set, is told when the kernel starts (true) and ends
	// (false) handling a shell or control request, for work that must wait
	// for an idle kernel (gopherlab gives memory back then). Calls may
	// nest: a control request can come while a shell request runs.
	Activity func(busy bool)
}

// Server is a running kernel.
type Server struct {
	cfg     Config
	log     *slog.Logger
	signer  *wire.Signer
	session string

	shell, control, stdin zmq4.Socket
	iopub                 zmq4.Socket
	hb                    zmq4.Socket
	shellMu, controlMu    sync.Mutex
	stdinMu               sync.Mutex

	pub      *publisher
	history  *history
	comms    *Comms
	count    int // execution count
	stdinIn  chan *wire.Message
	shellIn  chan inbound
	done     chan struct{}
	doneOnce sync.Once

	execMu      sync.Mutex
	execCancel  context.CancelFunc // cancels a pending input wait
	interrupted chan struct{}

	// abortBefore, set when a cell failed with stop_on_error, is the
	// time of its reply: execute requests the client made before it,
	// which it queued behind the failed cell, are aborted (see
	// madeBeforeFailure). abortSkew is how far the kernel's clock is
	// ahead of the client's, measured on the failed request. Shell loop
	// only.
	abortBefore    time.Time
	abortSkew      time.Duration
	abortSkewKnown bool
}

// Serve runs a kernel until a shutdown_request arrives or ctx ends.
func Serve(ctx context.Context, cfg Config) error {
	s, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	return s.Wait(ctx)
}

// Start binds every channel and starts serving.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	registerTransports()
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	signer, err := wire.NewSigner(cfg.Conn.SignatureScheme, cfg.Conn.Key)
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Log,
		signer:  signer,
		session: wire.NewID(),
		history: newHistory(cfg.HistoryFile),
		stdinIn: make(chan *wire.Message, 16),
		shellIn: make(chan inbound, 256),
		done:    make(chan struct{}),
	}
	s.comms = newComms(s)
	if err := s.bind(ctx); err != nil {
		s.closeSockets()
		return nil, err
	}
	go s.readLoop(s.shell, "shell", func(m *wire.Message) { s.shellIn <- inbound{m, time.Now()} })
	go s.readLoop(s.control, "control", s.handleControl)
	go s.readLoop(s.stdin, "stdin", func(m *wire.Message) {
		select {
		case s.stdinIn <- m:
		default:
			s.log.Warn("stdin reply dropped: nobody is waiting for input", "type", m.Header.MsgType)
		}
	})
	go s.heartbeat()
	go s.shellLoop()
	s.log.Info("kernel started", "transport", cfg.Conn.Transport, "ip", cfg.Conn.IP, "shell", cfg.Conn.ShellPort)
	return s, nil
}

func (s *Server) endpoint(port int) string {
	return "gl-" + s.cfg.Conn.Endpoint(port)
}

func (s *Server) bind(ctx context.Context) error {
	c := s.cfg.Conn
	s.shell = zmq4.NewRouter(ctx, zmq4.WithID(zmq4.SocketIdentity("shell-"+s.session)))
	s.control = zmq4.NewRouter(ctx, zmq4.WithID(zmq4.SocketIdentity("control-"+s.session)))
	s.stdin = zmq4.NewRouter(ctx, zmq4.WithID(zmq4.SocketIdentity("stdin-"+s.session)))
	s.iopub = zmq4.NewXPub(ctx)
	s.hb = zmq4.NewRep(ctx)
	iopubEP := s.endpoint(c.IOPubPort)
	_, iopubAddr, _ := strings.Cut(iopubEP, "://")
	if c.Transport == "tcp" {
		iopubAddr = strings.Replace(iopubAddr, "*", "0.0.0.0", 1)
	}
	s.pub = newPublisher(s.iopub, s.signer, s.session, s.log)
	onSubscribe(iopubAddr, s.pub.welcome)
	for _, b := range []struct {
		sock zmq4.Socket
		port int
		name string
	}{{s.shell, c.ShellPort, "shell"}, {s.control, c.ControlPort, "control"}, {s.stdin, c.StdinPort, "stdin"},
		{s.iopub, c.IOPubPort, "iopub"}, {s.hb, c.HBPort, "hb"}} {
		if err := b.sock.Listen(s.endpoint(b.port)); err != nil {
			return fmt.Errorf("kernel: bind %s channel on %s: %w", b.name, s.cfg.Conn.Endpoint(b.port), err)
		}
	}
	return nil
}

func (s *Server) closeSockets() {
	for _, sock := range []zmq4.Socket{s.shell, s.control, s.stdin, s.iopub, s.hb} {
		if sock != nil {
			sock.Close()
		}
	}
}

// Wait blocks until shutdown, handling SIGINT as an interrupt and SIGTERM
// as a shutdown.
func (s *Server) Wait(ctx context.Context) error {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	for {
		select {
		case <-ctx.Done():
			s.shutdown()
			return ctx.Err()
		case <-s.done:
			return nil
		case v := <-sig:
			if v == syscall.SIGINT {
				s.log.Info("SIGINT: interrupting")
				s.interrupt()
				continue
			}
			s.log.Info("SIGTERM: shutting down")
			s.shutdown()
			return nil
		}
	}
}

func (s *Server) shutdown() {
	s.doneOnce.Do(func() {
		s.cfg.Engine.Close()
		s.pub.close(2 * time.Second)
		s.history.close()
		onSubscribe(s.iopubAddr(), nil)
		s.closeSockets()
		close(s.done)
	})
}

func (s *Server) iopubAddr() string {
	_, a, _ := strings.Cut(s.endpoint(s.cfg.Conn.IOPubPort), "://")
	return a
}

func (s *Server) heartbeat() {
	for {
		msg, err := s.hb.Recv()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if err := s.hb.Send(msg); err != nil {
			s.log.Debug("heartbeat echo", "err", err)
		}
	}
}

func (s *Server) readLoop(sock zmq4.Socket, name string, handle func(*wire.Message)) {
	for {
		raw, err := sock.Recv()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			if errors.Is(err, context.Canceled) {
				return
			}
			s.log.Debug("recv", "channel", name, "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		m, err := wire.Decode(raw.Frames, s.signer)
		if err != nil {
			// Never act on a message we cannot authenticate.
			s.log.Warn("dropped message", "channel", name, "err", err)
			continue
		}
		s.log.Debug("recv", "channel", name, "type", m.Header.MsgType, "id", m.Header.MsgID)
		handle(m)
	}
}

// replySyncTimeout bounds how long a shell reply waits for the iopub
// messages published before it to leave (a stalled subscriber must not
// stall replies).
const replySyncTimeout = 50 * time.Millisecond

// reply sends a reply to req on sock.
func (s *Server) reply(sock zmq4.Socket, mu *sync.Mutex, req *wire.Message, msgType string, content any) {
	m, err := s.newMessage(req, msgType, content)
	if err != nil {
		s.log.Error("encode reply", "type", msgType, "err", err)
		return
	}
	m.Identities = req.Identities
	frames, err := wire.Encode(m, s.signer)
	if err != nil {
		s.log.Error("encode reply", "type", msgType, "err", err)
		return
	}
	if sock == s.shell {
		s.pub.sync(replySyncTimeout)
	}
	mu.Lock()
	defer mu.Unlock()
	if err := sock.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		s.log.Warn("send reply", "type", msgType, "err", err)
		return
	}
	s.log.Debug("send", "channel", s.channelName(sock), "type", msgType, "id", m.Header.MsgID)
}

// channelName names a socket of the kernel for its log.
func (s *Server) channelName(sock zmq4.Socket) string {
	switch sock {
	case s.shell:
		return "shell"
	case s.control:
		return "control"
	case s.stdin:
		return "stdin"
	}
	return "?"
}

func (s *Server) newMessage(parent *wire.Message, msgType string, content any) (*wire.Message, error) {
	b, err := json.Marshal(content)
	if err != nil {
		return nil, err
	}
	m := &wire.Message{Header: wire.NewHeader(msgType, s.session), Content: b, Metadata: json.RawMessage("{}")}
	if parent != nil {
		ph, err := json.Marshal(parent.Header)
		if err != nil {
			return nil, err
		}
		m.ParentHeader = ph
	} else {
		m.ParentHeader = json.RawMessage("{}")
	}
	return m, nil
}

// publish sends msgType on iopub with req as parent.
func (s *Server) publish(req *wire.Message, msgType string, content any) {
	m, err := s.newMessage(req, msgType, content)
	if err != nil {
		s.log.Error("encode iopub", "type", msgType, "err", err)
		return
	}
	s.log.Debug("send", "channel", "iopub", "type", msgType, "id", m.Header.MsgID)
	s.pub.send(m)
}

func (s *Server) status(req *wire.Message, state string) {
	s.publish(req, "status", map[string]string{"execution_state": state})
}

// shellLoop handles shell requests one at a time, like ipykernel.
func (s *Server) shellLoop() {
	s.status(nil, "starting")
	for {
		select {
		case <-s.done:
			return
		case in := <-s.shellIn:
			s.handleShell(in)
		}
	}
}

func (s *Server) handleShell(in inbound) {
	m := in.m
	s.activity(true)
	defer s.activity(false)
	s.status(m, "busy")
	defer s.status(m, "idle")
	reply := func(t string, c any) { s.reply(s.shell, &s.shellMu, m, t, c) }
	ctx := context.Background()
	switch m.Header.MsgType {
	case "kernel_info_request":
		reply("kernel_info_reply", s.kernelInfo())
	case "execute_request":
		s.execute(in)
	case "complete_request":
		var c struct {
			Code      string `json:"code"`
			CursorPos int    `json:"cursor_pos"`
		}
		if err := json.Unmarshal(m.Content, &c); err != nil {
			reply("complete_reply", errorContent("BadRequest", err))
			return
		}
		r, err := s.cfg.Engine.Complete(ctx, c.Code, c.CursorPos)
		if err != nil {
			reply("complete_reply", errorContent("CompleteError", err))
			return
		}
		if r.Matches == nil {
			r.Matches = []string{}
		}
		if r.Metadata == nil {
			r.Metadata = map[string]any{}
		}
		reply("complete_reply", withStatus(r))
	case "inspect_request":
		var c struct {
			Code        string `json:"code"`
			CursorPos   int    `json:"cursor_pos"`
			DetailLevel int    `json:"detail_level"`
		}
		if err := json.Unmarshal(m.Content, &c); err != nil {
			reply("inspect_reply", errorContent("BadRequest", err))
			return
		}
		r, err := s.cfg.Engine.Inspect(ctx, c.Code, c.CursorPos, c.DetailLevel)
		if err != nil {
			reply("inspect_reply", errorContent("InspectError", err))
			return
		}
		if r.Data == nil {
			r.Data = map[string]any{}
		}
		if r.Metadata == nil {
			r.Metadata = map[string]any{}
		}
		reply("inspect_reply", withStatus(r))
	case "is_complete_request":
		var c struct {
			Code string `json:"code"`
		}
		if err := json.Unmarshal(m.Content, &c); err != nil {
			reply("is_complete_reply", map[string]string{"status": "unknown"})
			return
		}
		r, err := s.cfg.Engine.IsComplete(ctx, c.Code)
		if err != nil {
			r = IsCompleteReply{Status: "unknown"}
		}
		reply("is_complete_reply", r)
	case "history_request":
		reply("history_reply", s.history.request(m.Content))
	case "comm_info_request":
		reply("comm_info_reply", s.comms.info(m.Content))
	case "comm_open":
		s.comms.open(m)
	case "comm_msg":
		s.comms.msg(m)
	case "comm_close":
		s.comms.close(m)
	case "shutdown_request":
		s.handleShutdown(m, s.shell, &s.shellMu)
	case "interrupt_request":
		s.interrupt()
		reply("interrupt_reply", map[string]string{"status": "ok"})
	default:
		s.unknown(m, s.shell, &s.shellMu)
	}
}

func (s *Server) unknown(m *wire.Message, sock zmq4.Socket, mu *sync.Mutex) {
	s.log.Warn("unknown message type", "type", m.Header.MsgType)
	if t, ok := strings.CutSuffix(m.Header.MsgType, "_request"); ok {
		// A reply, even an error, keeps clients that wait for one from hanging.
		s.reply(sock, mu, m, t+"_reply", errorContent("UnknownMessageType",
			fmt.Errorf("gopherlab does not handle %s", m.Header.MsgType)))
	}
}

func (s *Server) handleControl(m *wire.Message) {
	s.activity(true)
	defer s.activity(false)
	s.status(m, "busy")
	defer s.status(m, "idle")
	reply := func(t string, c any) { s.reply(s.control, &s.controlMu, m, t, c) }
	switch m.Header.MsgType {
	case "kernel_info_request":
		reply("kernel_info_reply", s.kernelInfo())
	case "interrupt_request":
		s.interrupt()
		reply("interrupt_reply", map[string]string{"status": "ok"})
	case "shutdown_request":
		s.handleShutdown(m, s.control, &s.controlMu)
	default:
		s.unknown(m, s.control, &s.controlMu)
	}
}

func (s *Server) activity(busy bool) {
	if s.cfg.Activity != nil {
		s.cfg.Activity(busy)
	}
}

func (s *Server) handleShutdown(m *wire.Message, sock zmq4.Socket, mu *sync.Mutex) {
	var c struct {
		Restart bool `json:"restart"`
	}
	json.Unmarshal(m.Content, &c)
	content := map[string]any{"status": "ok", "restart": c.Restart}
	s.reply(sock, mu, m, "shutdown_reply", content)
	s.publish(m, "shutdown_reply", content)
	s.log.Info("shutdown requested", "restart", c.Restart)
	// The kernel manager restarts a kernel by starting a new process, as
	// with ipykernel: this one exits either way. Let the replies go first.
	go func() {
		// The caller publishes idle, before this wakes.
		time.Sleep(50 * time.Millisecond)
		s.shutdown()
	}()
}

func (s *Server) interrupt() {
	s.execMu.Lock()
	if s.interrupted != nil {
		select {
		case <-s.interrupted:
		default:
			close(s.interrupted)
		}
	}
	s.execMu.Unlock()
	s.cfg.Engine.Interrupt()
}

func (s *Server) kernelInfo() map[string]any {
	info := s.cfg.Engine.Info()
	links := info.HelpLinks
	if links == nil {
		links = []HelpLink{}
	}
	return map[string]any{
		"status":                 "ok",
		"protocol_version":       wire.ProtocolVersion,
		"implementation":         info.Implementation,
		"implementation_version": info.ImplementationVersion,
		"language_info":          info.Language,
		"banner":                 info.Banner,
		"help_links":             links,
		"debugger":               false,
	}
}

func withStatus(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	json.Unmarshal(b, &m)
	m["status"] = "ok"
	return m
}

func errorContent(ename string, err error) map[string]any {
	return map[string]any{"status": "error", "ename": ename, "evalue": err.Error(), "traceback": []string{ename + ": " + err.Error()}}
}

// execute runs one execute_request.
func (s *Server) execute(in inbound) {
	m := in.m
	var c struct {
		Code            string            `json:"code"`
		Silent          bool              `json:"silent"`
		StoreHistory    *bool             `json:"store_history"`
		UserExpressions map[string]string `json:"user_expressions"`
		AllowStdin      *bool             `json:"allow_stdin"`
		StopOnError     *bool             `json:"stop_on_error"`
	}
	if err := json.Unmarshal(m.Content, &c); err != nil {
		s.reply(s.shell, &s.shellMu, m, "execute_reply", errorContent("BadRequest", err))
		return
	}
	if !s.abortBefore.IsZero() {
		if s.madeBeforeFailure(in) {
			s.reply(s.shell, &s.shellMu, m, "execute_reply", map[string]any{"status": "aborted", "execution_count": s.count})
			return
		}
		s.abortBefore = time.Time{} // the client has seen the error
	}
	// As in IPython, an empty cell takes no count, and a cell that is not
	// stored shows the next count (execute_input, Out) without taking it;
	// the reply carries the last count taken.
	store := !c.Silent && (c.StoreHistory == nil || *c.StoreHistory) && strings.TrimSpace(c.Code) != ""
	if store {
		s.count++
	}
	count, shown := s.count, s.count
	if !store && !c.Silent {
		shown++
	}
	if !c.Silent {
		s.publish(m, "execute_input", map[string]any{"code": c.Code, "execution_count": shown})
	}
	if store {
		s.history.add(count, c.Code)
	}
	allowStdin := c.AllowStdin == nil || *c.AllowStdin
	ctx, cancel := context.WithCancel(context.Background())
	s.execMu.Lock()
	s.interrupted = make(chan struct{})
	intr := s.interrupted
	s.execMu.Unlock()
	out := &execOutput{s: s, req: m, allowStdin: allowStdin, interrupted: intr}
	r := s.cfg.Engine.Execute(ctx, ExecuteRequest{
		Code: c.Code, Silent: c.Silent, StoreHistory: store, AllowStdin: allowStdin,
		ExecutionCount: shown, UserExpressions: c.UserExpressions,
	}, out)
	cancel()
	out.finish()

	if r.Status == "" {
		r.Status = "ok"
	}
	content := map[string]any{"status": r.Status, "execution_count": count}
	switch r.Status {
	case "ok":
		if r.Result != nil && !c.Silent {
			s.publish(m, "execute_result", map[string]any{
				"execution_count": shown, "data": r.Result.Data, "metadata": nonNil(r.Result.Metadata),
			})
		}
		payload := r.Payload
		if payload == nil {
			payload = []map[string]any{}
		}
		ue := r.UserExpressions
		if ue == nil {
			ue = map[string]any{}
		}
		content["payload"] = payload
		content["user_expressions"] = ue
	case "error":
		tb := r.Traceback
		if tb == nil {
			tb = []string{}
		}
		// Published even when silent, as ipykernel does (its stdout is
		// too): a silent request that fails must not fail unseen.
		s.publish(m, "error", map[string]any{"ename": r.Ename, "evalue": r.Evalue, "traceback": tb})
		content["ename"], content["evalue"], content["traceback"] = r.Ename, r.Evalue, tb
	}
	s.reply(s.shell, &s.shellMu, m, "execute_reply", content)
	if r.Status == "error" && !c.Silent && (c.StopOnError == nil || *c.StopOnError) {
		// A silent request's failure aborts nothing, as in ipykernel.
		s.abortBefore = time.Now()
		s.abortSkew, s.abortSkewKnown = 0, false
		if made, err := time.Parse(time.RFC3339Nano, m.Header.Date); err == nil {
			s.abortSkew, s.abortSkewKnown = in.at.Sub(made), true
		}
	}
}

// madeBeforeFailure reports whether an execute request was made before the
// client could have seen the last failure (abortBefore): such a request
// was queued behind the failed cell and is aborted, as ipykernel does.
// One that reached the kernel before the failure's reply certainly was.
// Later ones are judged by their header's date, which is the client's
// clock: it is moved onto the kernel's by the failed request's own offset
// (its date against when it arrived), so a client clock that lags or
// leads the kernel's does not abort a cell run after the error was shown.
func (s *Server) madeBeforeFailure(in inbound) bool {
	if in.at.Before(s.abortBefore) {
		return true
	}
	if !s.abortSkewKnown || time.Since(s.abortBefore) >= abortWindow {
		return false
	}
	made, err := time.Parse(time.RFC3339Nano, in.m.Header.Date)
	return err == nil && made.Add(s.abortSkew).Before(s.abortBefore)
}

// abortWindow bounds how long after a failure requests that arrive later
// may be aborted by their date (see madeBeforeFailure): those a frontend
// sent before it saw the error arrive within it.
var abortWindow = 2 * time.Second

// inbound is a shell request and when the kernel received it.
type inbound struct {
	m  *wire.Message
	at time.Time
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// execOutput publishes what one execution shows. Stream text is buffered
// and flushed at most every streamInterval (or when large), which bounds
// the number of iopub messages whatever the cell prints; anything else
// flushes the streams first so order is kept.
type execOutput struct {
	s           *Server
	req         *wire.Message
	allowStdin  bool
	interrupted chan struct{}

	mu       sync.Mutex
	segs     []segment // text since the last flush, in write order
	size     int       // bytes in segs
	finished bool      // the request has been answered: nothing flushes later
	// flusher publishes buffered text streamInterval after the first
	// write since the last flush. A timer, not a goroutine: a cell that
	// prints nothing costs nothing.
	flusher *time.Timer
	armed   bool // flusher will fire
}

// finish flushes what is buffered; text that goroutines of the cell print
// afterwards is published at once, under the same parent (like ipykernel).
func (o *execOutput) finish() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.flusher != nil {
		o.flusher.Stop()
		o.armed = false
	}
	o.flushLocked()
	o.finished = true
}

const (
	streamInterval = 50 * time.Millisecond
	streamMax      = 256 << 10
)

// segment is a run of text of one stream (0 stdout, 1 stderr).
type segment struct {
	stream int
	text   []byte
}

// maxSegments bounds the stream messages one flush publishes. A cell
// that switches between stdout and stderr more often than that within
// streamInterval (a loop printing progress and logging) has each
// stream's text of the interval merged into one message, as ipykernel
// buffers each stream: a message per switch would cost the frontend
// about a millisecond each.
const maxSegments = 8

func (o *execOutput) Stream(name, text string) {
	i := 0
	if name == "stderr" {
		i = 1
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	// Keep stdout/stderr interleaving: a switch starts a segment.
	if n := len(o.segs); n == 0 || o.segs[n-1].stream != i {
		if n == maxSegments {
			o.mergeLocked()
		}
		if n := len(o.segs); n == 0 || o.segs[n-1].stream != i {
			o.segs = append(o.segs, segment{stream: i})
		}
	}
	last := &o.segs[len(o.segs)-1]
	last.text = append(last.text, text...)
	o.size += len(text)
	if o.finished || o.size >= streamMax {
		o.flushLocked()
		return
	}
	if !o.armed {
		// Publish this text at most streamInterval from now.
		o.armed = true
		if o.flusher == nil {
			o.flusher = time.AfterFunc(streamInterval, o.tick)
		} else {
			o.flusher.Reset(streamInterval)
		}
	}
}

// mergeLocked folds the segments into one per stream, in the order the
// streams first wrote.
func (o *execOutput) mergeLocked() {
	var merged []segment
	at := [2]int{-1, -1}
	for k := range o.segs {
		sg := &o.segs[k]
		if at[sg.stream] < 0 {
			at[sg.stream] = len(merged)
			merged = append(merged, segment{stream: sg.stream})
		}
		m := &merged[at[sg.stream]]
		m.text = append(m.text, sg.text...)
	}
	o.segs = merged
}

func (o *execOutput) tick() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.armed = false
	o.flushLocked()
}

func (o *execOutput) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
}

func (o *execOutput) flushLocked() {
	names := [2]string{"stdout", "stderr"}
	for k := range o.segs {
		if sg := o.segs[k]; len(sg.text) > 0 {
			o.s.publish(o.req, "stream", map[string]string{"name": names[sg.stream], "text": string(sg.text)})
		}
	}
	o.segs, o.size = nil, 0
}

func (o *execOutput) Display(b MIMEBundle, displayID string, update bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
	transient := map[string]any{}
	if displayID != "" {
		transient["display_id"] = displayID
	}
	t := "display_data"
	if update {
		t = "update_display_data"
	}
	o.s.publish(o.req, t, map[string]any{"data": b.Data, "metadata": nonNil(b.Metadata), "transient": transient})
}

func (o *execOutput) Clear(wait bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
	o.s.publish(o.req, "clear_output", map[string]bool{"wait": wait})
}

// ErrStdinNotAllowed is returned by Input when the frontend does not
// accept input requests.
var ErrStdinNotAllowed = errors.New("this frontend does not support input requests (allow_stdin is false)")

// ErrInterrupted is returned by Input when the execution was interrupted.
var ErrInterrupted = errors.New("interrupted while waiting for input")

func (o *execOutput) Input(prompt string, password bool) (string, error) {
	if !o.allowStdin {
		return "", ErrStdinNotAllowed
	}
	o.flush()
	s := o.s
	// Drop stale replies from an earlier, abandoned request.
	for len(s.stdinIn) > 0 {
		<-s.stdinIn
	}
	s.reply(s.stdin, &s.stdinMu, o.req, "input_request", map[string]any{"prompt": prompt, "password": password})
	for {
		select {
		case m := <-s.stdinIn:
			if m.Header.MsgType != "input_reply" {
				continue
			}
			var c struct {
				Value string `json:"value"`
			}
			if err := json.Unmarshal(m.Content, &c); err != nil {
				return "", fmt.Errorf("kernel: bad input_reply: %w", err)
			}
			return c.Value, nil
		case <-o.interrupted:
			return "", ErrInterrupted
		case <-s.done:
			return "", ErrInterrupted
		}
	}
}
