package kernel

import (
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
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

	q      chan *wire.Message
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func newPublisher(sock zmq4.Socket, signer *wire.Signer, session string, log *slog.Logger) *publisher {
	p := &publisher{sock: sock, signer: signer, session: session, log: log, q: make(chan *wire.Message, 4096)}
	p.wg.Add(1)
	go p.run()
	return p
}

func (p *publisher) send(m *wire.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.q <- m
}

func (p *publisher) run() {
	defer p.wg.Done()
	for m := range p.q {
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
func (p *publisher) welcome(topic string) {
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
		p.send(m)
	}()
}
