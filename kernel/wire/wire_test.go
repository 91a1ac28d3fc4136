package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func testMessage() *Message {
	return &Message{
		Identities:   [][]byte{[]byte("id1"), []byte("id2")},
		Header:       NewHeader("execute_request", "s1"),
		ParentHeader: json.RawMessage(`{}`),
		Metadata:     json.RawMessage(`{"a":1}`),
		Content:      json.RawMessage(`{"code":"1+1"}`),
		Buffers:      [][]byte{[]byte("buf")},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, scheme := range []string{"hmac-sha256", "hmac-sha512", "hmac-sha1"} {
		for _, key := range []string{"", "secret"} {
			s, err := NewSigner(scheme, key)
			if err != nil {
				t.Fatal(err)
			}
			m := testMessage()
			frames, err := Encode(m, s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(frames, s)
			if err != nil {
				t.Fatalf("%s/%q: %v", scheme, key, err)
			}
			if got.Header != m.Header || string(got.Content) != string(m.Content) ||
				len(got.Identities) != 2 || string(got.Identities[1]) != "id2" ||
				len(got.Buffers) != 1 || string(got.Buffers[0]) != "buf" {
				t.Fatalf("%s/%q: round trip mismatch: %+v", scheme, key, got)
			}
		}
	}
}

func TestKnownSignature(t *testing.T) {
	// Digest computed independently with Python's hmac module.
	s, _ := NewSigner("hmac-sha256", "key")
	got := string(s.Sign([4][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d")}))
	const want = "2a31ec0ee8d878c9eece9fb0df79b3b90b2256240163aa5ee50d176d3d1121f8"
	if got != want {
		t.Fatalf("digest %q, want %q", got, want)
	}
	if !s.Verify([]byte(got), [4][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d")}) {
		t.Fatal("own signature does not verify")
	}
}

func TestDecodeRejects(t *testing.T) {
	s, _ := NewSigner("hmac-sha256", "secret")
	other, _ := NewSigner("hmac-sha256", "other")
	good, _ := Encode(testMessage(), s)
	forged, _ := Encode(testMessage(), other)
	tamper := func(i int, v string) [][]byte {
		f := append([][]byte(nil), good...)
		f[i] = []byte(v)
		return f
	}
	cases := []struct {
		name   string
		frames [][]byte
		want   error
	}{
		{"forged key", forged, ErrBadSignature},
		{"missing signature", tamper(3, ""), ErrBadSignature},
		{"tampered content", tamper(7, `{"code":"rm -rf"}`), ErrBadSignature},
		{"no delimiter", [][]byte{[]byte("x"), []byte("y")}, ErrNoDelimiter},
		{"short", [][]byte{[]byte(Delimiter), []byte("sig")}, ErrShort},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.frames, s)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestDecodeBadJSON(t *testing.T) {
	s, _ := NewSigner("hmac-sha256", "")
	for _, parts := range [][4]string{
		{`not json`, `{}`, `{}`, `{}`},
		{`{"msg_type":""}`, `{}`, `{}`, `{}`},
		{`{"msg_type":"x"}`, `[]`, `{}`, `{}`},
		{`{"msg_type":"x"}`, `{}`, `{}`, `{`},
	} {
		frames := [][]byte{[]byte(Delimiter), nil, []byte(parts[0]), []byte(parts[1]), []byte(parts[2]), []byte(parts[3])}
		if _, err := Decode(frames, s); err == nil {
			t.Errorf("parts %q: want error", parts)
		}
	}
}

func TestConnectionFile(t *testing.T) {
	dir := t.TempDir()
	const ports = `"shell_port":5000,"iopub_port":5001,"stdin_port":5002,"control_port":5003,"hb_port":5004`
	cases := []struct {
		name, body string
		ok         bool
		endpoint   string
	}{
		{"tcp", `{"transport":"tcp","ip":"127.0.0.1",` + ports + `,"key":"k","signature_scheme":"hmac-sha256"}`, true, "tcp://127.0.0.1:5000"},
		{"ipc", `{"transport":"ipc","ip":"/tmp/kernel",` + ports + `,"key":"k"}`, true, "ipc:///tmp/kernel-5000"},
		{"defaults", `{` + ports + `}`, true, "tcp://127.0.0.1:5000"},
		{"bad transport", `{"transport":"udp",` + ports + `}`, false, ""},
		{"bad scheme", `{"signature_scheme":"hmac-md5",` + ports + `}`, false, ""},
		{"not json", `shell_port=1`, false, ""},
		{"no ports", `{}`, false, ""},
		{"a port missing", `{"shell_port":5000,"iopub_port":5001,"stdin_port":5002,"control_port":5003}`, false, ""},
		{"port out of range", `{"shell_port":5000,"iopub_port":5001,"stdin_port":5002,"control_port":5003,"hb_port":70000}`, false, ""},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name+".json")
		os.WriteFile(p, []byte(c.body), 0o600)
		ci, err := ReadConnectionFile(p)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v", c.name, err)
			continue
		}
		if c.ok && ci.Endpoint(ci.ShellPort) != c.endpoint {
			t.Errorf("%s: endpoint %q, want %q", c.name, ci.Endpoint(ci.ShellPort), c.endpoint)
		}
	}
}

func TestNewID(t *testing.T) {
	a, b := NewID(), NewID()
	if a == b || len(a) != 36 || a[14] != '4' {
		t.Fatalf("bad ids %q %q", a, b)
	}
}

func FuzzDecode(f *testing.F) {
	s, _ := NewSigner("hmac-sha256", "")
	good, _ := Encode(testMessage(), s)
	f.Add(bytes.Join(good, []byte{0}))
	f.Add([]byte("<IDS|MSG>\x00\x00{}\x00{}\x00{}\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		frames := bytes.Split(data, []byte{0})
		m, err := Decode(frames, s)
		if err != nil {
			return
		}
		// Whatever decodes must encode and decode again to the same header.
		out, err := Encode(m, s)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := Decode(out, s)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if m2.Header.MsgType != m.Header.MsgType || !bytes.Equal(m2.Content, m.Content) {
			t.Fatal("re-decode mismatch")
		}
	})
}
