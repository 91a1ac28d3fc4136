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
	return &guardedConn{Conn: c, onSub: fn, in: newFramer(), out: newFramer(), rd: bufio.NewReaderSize(c, 64<<10)}, nil
}

// guardedConn follows the ZMTP 3 stream in both directions: what its
// peer sends, to know when the handshake is over and to spot
// subscriptions; what the kernel writes, to batch it by message.
type guardedConn struct {
	net.Conn
	onSub func(c *guardedConn, topic string)
	// written counts the data messages fully written to the peer, so the
	// kernel can tell when what it published has left (see publisher.sync).
	written atomic.Int64
	closed  atomic.Bool
	notify  atomic.Pointer[chan struct{}] // told after each write, if set
	// zmq4 reads a frame's header and body separately and writes each
	// frame part by part: a syscall apiece. rd and wbuf batch them, so a
	// message costs about one read and one write.
	rd *bufio.Reader

	mu      sync.Mutex // guards in and ready
	in      framer
	ready   bool // the peer's handshake (READY) is done
	wmu     sync.Mutex
	out     framer
	outDone bool // the kernel's handshake is sent: batch from here on
	wbuf    []byte
	pending int // data messages in wbuf
}

func (c *guardedConn) Read(p []byte) (int, error) {
	n, err := c.rd.Read(p)
	if n > 0 {
		var topics []string
		handshakeDone := false
		c.mu.Lock()
		c.in.scan(p[:n], func(f frame) {
			name, data := f.commandName()
			switch {
			case f.command && name == "READY" && !c.ready:
				c.ready, handshakeDone = true, true
			case f.command && name == "SUBSCRIBE":
				topics = append(topics, string(data))
			case !f.command && !f.multipart && len(f.body) > 0 && f.body[0] == 1:
				// ZMTP 3.0 subscription: a single-frame message starting with 1.
				topics = append(topics, string(f.body[1:]))
			}
		})
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
	msgEnd := false
	scan := func() {
		c.out.scan(p, func(f frame) {
			if f.command {
				c.outDone = true // READY: the kernel's side of the handshake
			}
			if !f.more {
				msgEnd = true
				if !f.command {
					c.pending++
				}
			}
		})
	}
	if !c.outDone {
		scan()
		return c.write(p)
	}
	c.wbuf = append(c.wbuf, p...)
	scan()
	if msgEnd || len(c.wbuf) >= 64<<10 {
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

const (
	greetingSize = 64
	maxKeptBody  = 256 // longer frame bodies are counted, not kept
)

// framer follows one direction of a ZMTP 3 stream: the greeting, then
// frames (a flags byte, a 1- or 8-byte size, the body), however the bytes
// are cut into reads or writes.
type framer struct {
	greeting int    // greeting bytes still to skip
	hdr      []byte // partial frame header
	inBody   bool
	need     uint64 // body bytes of the current frame still to come
	cur      frame
	prevMore bool // the frame before the current one had MORE set
}

// frame is one complete frame; body is nil when it was longer than
// maxKeptBody.
type frame struct {
	command   bool
	more      bool // more frames of this message follow
	multipart bool // the frame's message has more than one frame
	body      []byte
}

func newFramer() framer { return framer{greeting: greetingSize} }

// commandName splits a command frame's body into its name and data.
func (f frame) commandName() (name string, data []byte) {
	if len(f.body) == 0 || int(f.body[0]) > len(f.body)-1 {
		return "", nil
	}
	n := int(f.body[0])
	return string(f.body[1 : 1+n]), f.body[1+n:]
}

// scan advances over b, calling done for each frame that completes.
func (f *framer) scan(b []byte, done func(frame)) {
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
			flags := f.hdr[0]
			want := 2
			if flags&0x02 != 0 {
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
			more := flags&0x01 != 0
			f.cur = frame{command: flags&0x04 != 0, more: more, multipart: f.prevMore || more}
			if f.need <= maxKeptBody {
				f.cur.body = make([]byte, 0, f.need)
			}
			f.prevMore = more
			f.hdr = f.hdr[:0]
			f.inBody = true
		}
		k := min(uint64(len(b)), f.need)
		if f.cur.body != nil {
			f.cur.body = append(f.cur.body, b[:k]...)
		}
		f.need -= k
		b = b[k:]
		if f.need == 0 { // an empty body completes with its header
			f.inBody = false
			done(f.cur)
		}
	}
}
