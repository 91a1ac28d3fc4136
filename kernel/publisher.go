package kernel

import (
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/gopherlab/gopherlab/kernel/wire"
)

// publisher owns the iopub socket. Messages are encoded and handed to
// zmq4 by the caller, in order under one lock: zmq4's PUB send only queues
// (its own goroutine writes to the subscribers), so publishing never
// blocks the shell or the executing cell, and no extra goroutine hop sits
// on the path of every message.
type publisher struct {
	sock    zmq4.Socket
	signer  *wire.Signer
	session string
	log     *slog.Logger

	mu     sync.Mutex
	closed bool

	// handed counts messages given to the socket; subs holds, per
	// subscriber connection, the count handed before its welcome: what
	// it has to receive is everything handed after.
	handed atomic.Int64
	subMu  sync.Mutex
	subs   map[*guardedConn]int64
	wrote  chan struct{} // a subscriber finished a write
}

func newPublisher(sock zmq4.Socket, signer *wire.Signer, session string, log *slog.Logger) *publisher {
	return &publisher{sock: sock, signer: signer, session: session, log: log, subs: map[*guardedConn]int64{}, wrote: make(chan struct{}, 1)}
}

func (p *publisher) send(m *wire.Message) { p.publish(m, nil) }

// publish hands m to the socket; welcome, if set, is the new subscriber m
// greets.
func (p *publisher) publish(m *wire.Message, welcome *guardedConn) {
	topic := m.Header.MsgType
	if len(m.Identities) == 0 {
		m.Identities = [][]byte{[]byte("kernel." + p.session + "." + topic)}
	}
	frames, err := wire.Encode(m, p.signer)
	if err != nil {
		p.log.Error("encode iopub", "type", topic, "err", err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if welcome != nil {
		p.subMu.Lock()
		// The welcome and what follows it are this subscriber's due.
		p.subs[welcome] = p.handed.Load() - welcome.written.Load()
		p.subMu.Unlock()
		welcome.notify.Store(&p.wrote)
	}
	if err := p.sock.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		p.log.Warn("iopub send", "type", topic, "err", err)
	}
	p.handed.Add(1)
}

// sync waits, up to timeout, until everything published so far has been
// written to every subscriber. The shell reply to a request goes after its
// output, as clients expect (zmq4 queues sends on its own goroutine, so
// without this a reply can overtake the iopub messages before it).
func (p *publisher) sync(timeout time.Duration) {
	want := p.handed.Load()
	var timer *time.Timer
	for {
		behind := false
		p.subMu.Lock()
		for c, base := range p.subs {
			if c.closed.Load() {
				delete(p.subs, c)
				continue
			}
			if c.written.Load() < want-base {
				behind = true
			}
		}
		p.subMu.Unlock()
		if !behind {
			return
		}
		if timer == nil {
			timer = time.NewTimer(timeout)
			defer timer.Stop()
		}
		select {
		case <-p.wrote:
		case <-timer.C:
			return
		}
	}
}

// close stops publishing and waits, up to timeout, for what was published
// to reach the subscribers.
func (p *publisher) close(timeout time.Duration) {
	p.sync(timeout)
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
}

// welcome greets a new subscriber (JEP 65): it is called from the
// transport as soon as a SUBSCRIBE frame is seen, before zmq4 has
// registered it, so it waits for the subscription to take effect.
func (p *publisher) welcome(c *guardedConn, topic string) {
	go func() {
		tp, _ := p.sock.(zmq4.Topics)
		deadline := time.Now().Add(200 * time.Millisecond)
		for tp != nil && time.Now().Before(deadline) && !slices.Contains(tp.Topics(), topic) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(5 * time.Millisecond)
		content, _ := json.Marshal(map[string]string{"subscription": topic})
		m := &wire.Message{
			Identities:   [][]byte{[]byte(topic)},
			Header:       wire.NewHeader("iopub_welcome", p.session),
			ParentHeader: json.RawMessage("{}"),
			Metadata:     json.RawMessage("{}"),
			Content:      content,
		}
		p.publish(m, c)
	}()
}
