package kernel

import (
	"bufio"
	"context"
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"
)

// The kernel binds its sockets through its own transports ("gl-tcp",
// "gl-ipc"), thin wrappers over net that work around three zmq4 traps:
//   - a peer that never completes the ZMTP handshake blocks the accept loop
//     for every later peer (zmq4 #131): the handshake gets a deadline;
//   - one stalled peer blocks every send of its socket (and one slow iopub
//     subscriber stalls all of them, #151): a write that cannot finish within
//     writeTimeout closes that peer, so the others keep going;
//   - zmq4's XPUB does not surface subscriptions: the wrapper watches the
//     bytes a peer sends and reports SUBSCRIBE frames, so the kernel can
//     greet each new iopub subscriber (iopub_welcome, JEP 65).
const (
	handshakeTimeout = 3 * time.Second
	writeTimeout     = 10 * time.Second
)

var registerOnce sync.Once

func registerTransports() {
	registerOnce.Do(func() {
		zmq4.RegisterTransport("gl-tcp", guardedTransport{Transport: transport.New("tcp")})
		zmq4.RegisterTransport("gl-ipc", guardedTransport{Transport: transport.New("unix")})
	})
}

// subscriptionListeners maps a listening address to the function told of
// each subscription seen on it.
var (
	subMu        sync.Mutex
	subListeners = map[string]func(c *guardedConn, topic string){}
)

func onSubscribe(addr string, fn func(c *guardedConn, topic string)) {
	subMu.Lock()
	defer subMu.Unlock()
	if fn == nil {
		delete(subListeners, addr)
		return
	}
	subListeners[addr] = fn
}

type guardedTransport struct{ transport.Transport }

func (t guardedTransport) Listen(ctx context.Context, addr string) (net.Listener, error) {
	l, err := t.Transport.Listen(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &guardedListener{Listener: l, addr: addr}, nil
}

type guardedListener struct {
	net.Listener
	addr string
}

func (l *guardedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(handshakeTimeout))
	subMu.Lock()
	fn := subListeners[l.addr]
	subMu.Unlock()
	return &guardedConn{Conn: c, onSub: fn, greeting: greetingSize, rd: bufio.NewReaderSize(c, 64<<10), out: outFramer{greeting: greetingSize}}, nil
}

// guardedConn parses the ZMTP 3 stream its peer sends (greeting, then
// frames) just enough to know when the handshake is over and to spot
// subscription frames.
type guardedConn struct {
	net.Conn
	onSub func(c *guardedConn, topic string)
	// written counts the data messages fully written to the peer, so the
	// kernel can tell when what it published has left (see publisher.sync).
	written atomic.Int64
	closed  atomic.Bool
	notify  atomic.Pointer[chan struct{}] // told after each write, if set
	// zmq4 reads a frame's header and body separately and writes each
	// frame part by part: a syscall apiece. rd and out batch them, so a
	// message costs about one read and one write.
	rd      *bufio.Reader
	wmu     sync.Mutex
	out     outFramer
	wbuf    []byte
	pending int // data messages in wbuf

	mu        sync.Mutex
	greeting  int    // greeting bytes still to skip
	hdr       []byte // partial frame header
	need      uint64 // body bytes of the current frame still to come
	body      []byte // start of the current body, kept for short frames
	keep      bool   // whether the current body is worth keeping
	command   bool
	more      bool
	multipart bool // the current message has more than one frame
	ready     bool // handshake done
}

func (c *guardedConn) Read(p []byte) (int, error) {
	n, err := c.rd.Read(p)
	if n > 0 {
		c.mu.Lock()
		topics, handshakeDone := c.scan(p[:n])
		c.mu.Unlock()
		if handshakeDone {
			c.Conn.SetReadDeadline(time.Time{})
		}
		for _, t := range topics {
			if c.onSub != nil {
				c.onSub(c, t)
			}
		}
	}
	return n, err
}

// Write buffers what zmq4 writes until a message's last frame is
// complete (or the buffer is large), then writes it at once. Until the
// handshake has been sent, it writes through: the greeting is exchanged
// in steps.
func (c *guardedConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.out.ready {
		c.out.scan(p)
		return c.write(p)
	}
	c.wbuf = append(c.wbuf, p...)
	end, msgs := c.out.scan(p)
	c.pending += msgs
	if end || len(c.wbuf) >= 64<<10 {
		b := c.wbuf
		c.wbuf = c.wbuf[:0]
		if _, err := c.write(b); err != nil {
			return 0, err
		}
		c.written.Add(int64(c.pending))
		c.pending = 0
		if n := c.notify.Load(); n != nil {
			select {
			case *n <- struct{}{}:
			default:
			}
		}
	}
	return len(p), nil
}

// Close records that the peer is gone, so nobody waits for it.
func (c *guardedConn) Close() error {
	c.closed.Store(true)
	return c.Conn.Close()
}

func (c *guardedConn) write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	n, err := c.Conn.Write(p)
	if err != nil {
		// A peer that stopped reading must not hold every other send
		// hostage: drop it. zmq4's reader then sees the close and forgets it.
		c.Close()
	}
	return n, err
}

// outFramer follows the frames the kernel writes: after the greeting and
// the first command (READY), ready is set; scan reports whether a
// message's last frame just completed, and how many data (not command)
// messages completed.
type outFramer struct {
	greeting int
	hdr      []byte
	need     uint64
	inBody   bool
	more     bool
	command  bool
	ready    bool
}

func (f *outFramer) scan(b []byte) (msgEnd bool, dataMsgs int) {
	for len(b) > 0 {
		if f.greeting > 0 {
			k := min(f.greeting, len(b))
			f.greeting -= k
			b = b[k:]
			continue
		}
		if !f.inBody {
			f.hdr = append(f.hdr, b[0])
			b = b[1:]
			want := 2
			if f.hdr[0]&0x02 != 0 {
				want = 9
			}
			if len(f.hdr) < want {
				continue
			}
			if want == 9 {
				f.need = binary.BigEndian.Uint64(f.hdr[1:9])
			} else {
				f.need = uint64(f.hdr[1])
			}
			f.more = f.hdr[0]&0x01 != 0
			f.command = f.hdr[0]&0x04 != 0
			f.hdr = f.hdr[:0]
			f.inBody = true
		}
		k := uint64(len(b))
		if k > f.need {
			k = f.need
		}
		f.need -= k
		b = b[k:]
		if f.need == 0 {
			f.inBody = false
			if f.command {
				f.ready = true
			}
			if !f.more {
				msgEnd = true
				if !f.command {
					dataMsgs++
				}
			}
		}
	}
	return msgEnd, dataMsgs
}

const greetingSize = 64

// scan advances the frame parser over b and returns the subscription topics
// whose frames completed, and whether the handshake just completed.
func (c *guardedConn) scan(b []byte) (topics []string, handshakeDone bool) {
	for len(b) > 0 {
		if c.greeting > 0 {
			k := min(c.greeting, len(b))
			c.greeting -= k
			b = b[k:]
			continue
		}
		if c.need == 0 && c.body == nil {
			c.hdr = append(c.hdr, b[0])
			b = b[1:]
			flags := c.hdr[0]
			long := flags&0x02 != 0
			want := 2
			if long {
				want = 9
			}
			if len(c.hdr) < want {
				continue
			}
			var size uint64
			if long {
				size = binary.BigEndian.Uint64(c.hdr[1:9])
			} else {
				size = uint64(c.hdr[1])
			}
			c.command = flags&0x04 != 0
			prevMore := c.more
			c.more = flags&0x01 != 0
			c.multipart = prevMore || c.more
			c.hdr = nil
			c.need = size
			c.keep = size <= 256
			c.body = []byte{}
			if size == 0 {
				t, hs := c.endFrame()
				topics = append(topics, t...)
				handshakeDone = handshakeDone || hs
			}
			continue
		}
		k := uint64(len(b))
		if k > c.need {
			k = c.need
		}
		if c.keep {
			c.body = append(c.body, b[:k]...)
		}
		c.need -= k
		b = b[k:]
		if c.need == 0 {
			t, hs := c.endFrame()
			topics = append(topics, t...)
			handshakeDone = handshakeDone || hs
		}
	}
	return topics, handshakeDone
}

func (c *guardedConn) endFrame() (topics []string, handshakeDone bool) {
	body := c.body
	c.body = nil
	if c.command {
		if !c.ready && len(body) > 0 && int(body[0]) <= len(body)-1 && string(body[1:1+int(body[0])]) == "READY" {
			c.ready = true
			handshakeDone = true
		}
		if c.keep && len(body) > 0 && int(body[0]) <= len(body)-1 && string(body[1:1+int(body[0])]) == "SUBSCRIBE" {
			topics = append(topics, string(body[1+int(body[0]):]))
		}
		return topics, handshakeDone
	}
	// ZMTP 3.0 subscription: a single-frame message starting with 1.
	if c.keep && !c.multipart && len(body) > 0 && body[0] == 1 {
		topics = append(topics, string(body[1:]))
	}
	return topics, handshakeDone
}
