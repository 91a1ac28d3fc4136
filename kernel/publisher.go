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

// publisher owns the iopub socket: one goroutine encodes and sends, so
// publishing never blocks the shell or the executing cell.
type publisher struct {
	sock    zmq4.Socket
	signer  *wire.Signer
	session string
	log     *slog.Logger

	q      chan item
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup

	// handed counts messages given to the socket; subs holds, per
	// subscriber connection, the count handed before its welcome: what
	// it has to receive is everything handed after.
	handed atomic.Int64
	subMu  sync.Mutex
	subs   map[*guardedConn]int64
	wrote  chan struct{} // a subscriber finished a write
}

// item is a message to publish, or a sync marker.
type item struct {
	m       *wire.Message
	welcome *guardedConn  // m greets this new subscriber
	synced  chan struct{} // closed when every earlier item is handed
}

func newPublisher(sock zmq4.Socket, signer *wire.Signer, session string, log *slog.Logger) *publisher {
	p := &publisher{sock: sock, signer: signer, session: session, log: log, q: make(chan item, 4096), subs: map[*guardedConn]int64{}, wrote: make(chan struct{}, 1)}
	p.wg.Add(1)
	go p.run()
	return p
}

func (p *publisher) send(m *wire.Message) { p.enqueue(item{m: m}) }

func (p *publisher) enqueue(it item) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.q <- it
	return true
}

// sync waits, up to timeout, until everything published so far has been
// written to every subscriber. The shell reply to a request goes after its
// output, as clients expect (zmq4 queues sends on its own goroutine, so
// without this a reply can overtake the iopub messages before it).
func (p *publisher) sync(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	done := make(chan struct{})
	if !p.enqueue(item{synced: done}) {
		return
	}
	select {
	case <-done:
	case <-time.After(timeout):
		return
	}
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
			timer = time.NewTimer(time.Until(deadline))
			defer timer.Stop()
		}
		select {
		case <-p.wrote:
		case <-timer.C:
			return
		}
	}
}

func (p *publisher) run() {
	defer p.wg.Done()
	for it := range p.q {
		if it.synced != nil {
			close(it.synced)
			continue
		}
		if it.welcome != nil {
			p.subMu.Lock()
			// The welcome and what follows it are this subscriber's due;
			// it has already written any command frames, not counted.
			p.subs[it.welcome] = p.handed.Load() - it.welcome.written.Load()
			p.subMu.Unlock()
			it.welcome.notify.Store(&p.wrote)
		}
		m := it.m
		topic := m.Header.MsgType
		if len(m.Identities) == 0 {
			m.Identities = [][]byte{[]byte("kernel." + p.session + "." + topic)}
		}
		frames, err := wire.Encode(m, p.signer)
		if err != nil {
			p.log.Error("encode iopub", "type", topic, "err", err)
			continue
		}
		if err := p.sock.Send(zmq4.NewMsgFrom(frames...)); err != nil {
			p.log.Warn("iopub send", "type", topic, "err", err)
		}
		p.handed.Add(1)
	}
}

// close stops accepting messages and waits up to timeout for the queue to
// drain onto the socket.
func (p *publisher) close(timeout time.Duration) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.q)
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		// Give zmq4's writer a moment to put the last frames on the wire.
		time.Sleep(20 * time.Millisecond)
	case <-time.After(timeout):
	}
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
		p.enqueue(item{m: m, welcome: c})
	}()
}
