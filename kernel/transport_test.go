package kernel

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// zmtpFrame encodes one ZMTP 3 frame.
func zmtpFrame(flags byte, body []byte) []byte {
	if len(body) > 255 {
		hdr := make([]byte, 9)
		hdr[0] = flags | 0x02
		binary.BigEndian.PutUint64(hdr[1:], uint64(len(body)))
		return append(hdr, body...)
	}
	return append([]byte{flags, byte(len(body))}, body...)
}

func TestFramer(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 300)
	var stream []byte
	stream = append(stream, make([]byte, greetingSize)...)
	stream = append(stream, zmtpFrame(0x04, append([]byte{5}, "READY"...))...)
	stream = append(stream, zmtpFrame(0x00, []byte{1, 'k'})...) // single-frame subscription
	stream = append(stream, zmtpFrame(0x01, []byte("id"))...)   // a two-frame message
	stream = append(stream, zmtpFrame(0x01, nil)...)            // an empty middle frame
	stream = append(stream, zmtpFrame(0x00, long)...)
	stream = append(stream, zmtpFrame(0x00, nil)...) // an empty last frame

	want := []frame{
		{command: true, body: append([]byte{5}, "READY"...)},
		{body: []byte{1, 'k'}},
		{more: true, multipart: true, body: []byte("id")},
		{more: true, multipart: true, body: []byte{}},
		{multipart: true},
		{body: []byte{}},
	}
	// However the stream is cut, the same frames come out.
	for _, cut := range []int{1, 2, 3, 7, 64, 65, 1000} {
		f := newFramer()
		var got []frame
		for b := stream; len(b) > 0; {
			k := min(cut, len(b))
			f.scan(b[:k], func(fr frame) { got = append(got, fr) })
			b = b[k:]
		}
		if len(got) != len(want) {
			t.Fatalf("cut %d: %d frames, want %d: %+v", cut, len(got), len(want), got)
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.command != w.command || g.more != w.more || g.multipart != w.multipart ||
				!bytes.Equal(g.body, w.body) || (g.body == nil) != (w.body == nil) {
				t.Fatalf("cut %d: frame %d = %+v, want %+v", cut, i, g, w)
			}
		}
		if name, _ := got[0].commandName(); name != "READY" {
			t.Fatalf("cut %d: command %q", cut, name)
		}
	}
}
