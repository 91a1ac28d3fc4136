// Package wire owns the Jupyter messaging wire format: connection files,
// message headers, HMAC signing and the multipart framing that carries a
// message over ZeroMQ. It knows nothing of sockets or of Go cells.
package wire

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
	"time"
)

// ProtocolVersion is the messaging protocol version the kernel speaks.
const ProtocolVersion = "5.4"

// Delimiter separates routing identities from the signed message parts.
const Delimiter = "<IDS|MSG>"

// ConnectionInfo is the content of a Jupyter connection file.
type ConnectionInfo struct {
	Transport       string `json:"transport"`        // "tcp" (default) or "ipc"
	IP              string `json:"ip"`               // address to bind (default 127.0.0.1); for ipc, the socket files' prefix
	ShellPort       int    `json:"shell_port"`       // shell channel (requests)
	IOPubPort       int    `json:"iopub_port"`       // iopub channel (output and status)
	StdinPort       int    `json:"stdin_port"`       // stdin channel (input requests)
	ControlPort     int    `json:"control_port"`     // control channel (shutdown, interrupt)
	HBPort          int    `json:"hb_port"`          // heartbeat channel
	Key             string `json:"key"`              // HMAC key; "" disables signing
	SignatureScheme string `json:"signature_scheme"` // "hmac-sha256" (default), "hmac-sha512" or "hmac-sha1"
	KernelName      string `json:"kernel_name"`      // kernel spec name; informational
}

// ReadConnectionFile parses and checks a connection file.
func ReadConnectionFile(path string) (ConnectionInfo, error) {
	var ci ConnectionInfo
	b, err := os.ReadFile(path)
	if err != nil {
		return ci, fmt.Errorf("wire: read connection file: %w", err)
	}
	if err := json.Unmarshal(b, &ci); err != nil {
		return ci, fmt.Errorf("wire: parse connection file %s: %w", path, err)
	}
	if ci.Transport == "" {
		ci.Transport = "tcp"
	}
	if ci.IP == "" {
		ci.IP = "127.0.0.1"
	}
	if ci.SignatureScheme == "" {
		ci.SignatureScheme = "hmac-sha256"
	}
	if ci.Transport != "tcp" && ci.Transport != "ipc" {
		return ci, fmt.Errorf("wire: connection file %s: unsupported transport %q (want tcp or ipc)", path, ci.Transport)
	}
	if _, err := NewSigner(ci.SignatureScheme, ci.Key); err != nil {
		return ci, fmt.Errorf("wire: connection file %s: %w", path, err)
	}
	// A kernel on ports nobody was told of could never be reached.
	for _, p := range []struct {
		name string
		port int
	}{{"shell_port", ci.ShellPort}, {"iopub_port", ci.IOPubPort}, {"stdin_port", ci.StdinPort}, {"control_port", ci.ControlPort}, {"hb_port", ci.HBPort}} {
		if p.port <= 0 || p.port > 65535 {
			return ci, fmt.Errorf("wire: connection file %s: %s is %d, want a port number (1 to 65535)", path, p.name, p.port)
		}
	}
	return ci, nil
}

// Endpoint returns the ZeroMQ endpoint of a channel port, in the file's
// transport. For ipc, Jupyter names the socket file IP-PORT.
func (ci ConnectionInfo) Endpoint(port int) string {
	if ci.Transport == "ipc" {
		return fmt.Sprintf("ipc://%s-%d", ci.IP, port)
	}
	return fmt.Sprintf("tcp://%s:%d", ci.IP, port)
}

// Signer signs and verifies messages. A zero key disables signing, as the
// protocol allows.
type Signer struct {
	newHash func() hash.Hash
	key     []byte
}

// NewSigner returns a signer for scheme ("hmac-sha256" and friends).
func NewSigner(scheme, key string) (*Signer, error) {
	s := &Signer{key: []byte(key)}
	switch strings.ToLower(scheme) {
	case "hmac-sha256", "":
		s.newHash = sha256.New
	case "hmac-sha512":
		s.newHash = sha512.New
	case "hmac-sha1":
		s.newHash = sha1.New
	default:
		return nil, fmt.Errorf("unsupported signature_scheme %q", scheme)
	}
	return s, nil
}

// Enabled reports whether messages are signed (the key is not empty).
func (s *Signer) Enabled() bool { return s != nil && len(s.key) > 0 }

// Sign returns the hex digest of the four signed parts.
func (s *Signer) Sign(parts [4][]byte) []byte {
	if !s.Enabled() {
		return nil
	}
	m := hmac.New(s.newHash, s.key)
	for _, p := range parts {
		m.Write(p)
	}
	sum := m.Sum(nil)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// Verify checks sig against the parts in constant time.
func (s *Signer) Verify(sig []byte, parts [4][]byte) bool {
	if !s.Enabled() {
		return true
	}
	want := s.Sign(parts)
	return hmac.Equal(want, bytes.ToLower(sig))
}

// Header is a message header.
type Header struct {
	MsgID    string `json:"msg_id"`   // unique id (a UUID in NewHeader)
	Username string `json:"username"` // sender's user name ("kernel" in NewHeader)
	Session  string `json:"session"`  // sender's session id
	Date     string `json:"date"`     // ISO 8601 creation time (UTC, microseconds in NewHeader)
	MsgType  string `json:"msg_type"` // such as "execute_request"; never empty after Decode
	Version  string `json:"version"`  // messaging protocol version
}

// Message is one Jupyter message. Content and Metadata stay raw on decode
// so that handlers unmarshal into their own types.
type Message struct {
	Identities   [][]byte        // ZeroMQ routing identities, the frames before the delimiter
	Header       Header          // this message's header
	ParentHeader json.RawMessage // "{}" when there is no parent
	Metadata     json.RawMessage // a JSON object; empty is sent as "{}"
	Content      json.RawMessage // a JSON object; empty is sent as "{}"
	Buffers      [][]byte        // extra binary frames after the content
}

// Errors returned by Decode.
var (
	ErrNoDelimiter  = errors.New("wire: no <IDS|MSG> delimiter")
	ErrShort        = errors.New("wire: fewer than 5 parts after the delimiter")
	ErrBadSignature = errors.New("wire: bad or missing signature")
)

// Decode parses the frames of a message received on a ROUTER socket and
// verifies its signature.
func Decode(frames [][]byte, s *Signer) (*Message, error) {
	i := 0
	for ; i < len(frames); i++ {
		if string(frames[i]) == Delimiter {
			break
		}
	}
	if i == len(frames) {
		return nil, ErrNoDelimiter
	}
	rest := frames[i+1:]
	if len(rest) < 5 {
		return nil, ErrShort
	}
	parts := [4][]byte{rest[1], rest[2], rest[3], rest[4]}
	if !s.Verify(rest[0], parts) {
		return nil, ErrBadSignature
	}
	m := &Message{}
	if i > 0 {
		m.Identities = make([][]byte, i)
		for j := 0; j < i; j++ {
			m.Identities[j] = bytes.Clone(frames[j])
		}
	}
	if err := json.Unmarshal(parts[0], &m.Header); err != nil {
		return nil, fmt.Errorf("wire: header: %w", err)
	}
	if m.Header.MsgType == "" {
		return nil, errors.New("wire: header has no msg_type")
	}
	for k, dst := range []*json.RawMessage{&m.ParentHeader, &m.Metadata, &m.Content} {
		p := bytes.TrimSpace(parts[k+1])
		if len(p) == 0 || p[0] != '{' || !json.Valid(p) {
			return nil, fmt.Errorf("wire: part %d is not a JSON object", k+2)
		}
		*dst = json.RawMessage(bytes.Clone(p))
	}
	if len(rest) > 5 {
		m.Buffers = rest[5:]
	}
	return m, nil
}

// Encode returns the frames of m, signed: identities, delimiter, signature,
// header, parent header, metadata, content, buffers.
func Encode(m *Message, s *Signer) ([][]byte, error) {
	h, err := json.Marshal(m.Header)
	if err != nil {
		return nil, fmt.Errorf("wire: encode header: %w", err)
	}
	orEmpty := func(r json.RawMessage) []byte {
		if len(r) == 0 {
			return []byte("{}")
		}
		return r
	}
	parts := [4][]byte{h, orEmpty(m.ParentHeader), orEmpty(m.Metadata), orEmpty(m.Content)}
	frames := make([][]byte, 0, len(m.Identities)+6+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames, []byte(Delimiter), s.Sign(parts))
	frames = append(frames, parts[:]...)
	frames = append(frames, m.Buffers...)
	return frames, nil
}

// NewHeader returns a fresh header of msgType in session.
func NewHeader(msgType, session string) Header {
	return Header{
		MsgID:    NewID(),
		Username: "kernel",
		Session:  session,
		Date:     time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
		MsgType:  msgType,
		Version:  ProtocolVersion,
	}
}

// NewID returns a random UUID (version 4) string.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails since Go 1.24
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
