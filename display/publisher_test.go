package display

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// event is one call a recorder received.
type event struct {
	kind string // "display", "update" or "clear"
	b    Bundle
	id   string
	wait bool
}

// recorder is a Publisher that keeps every call.
type recorder struct {
	mu     sync.Mutex
	events []event
}

func (r *recorder) Display(b Bundle, id string) { r.add(event{kind: "display", b: b, id: id}) }
func (r *recorder) Update(b Bundle, id string)  { r.add(event{kind: "update", b: b, id: id}) }
func (r *recorder) Clear(wait bool)             { r.add(event{kind: "clear", wait: wait}) }

func (r *recorder) add(e event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) all() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// record installs a recorder for the duration of the test.
func record(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{}
	prev := SetPublisher(r)
	t.Cleanup(func() { SetPublisher(prev) })
	return r
}

// only returns the single event r received, failing otherwise.
func (r *recorder) only(t *testing.T) event {
	t.Helper()
	ev := r.all()
	if len(ev) != 1 {
		t.Fatalf("got %d events, want 1: %+v", len(ev), ev)
	}
	return ev[0]
}

func mimeKeys(b Bundle) []string {
	var k []string
	for m := range b.Data {
		k = append(k, m)
	}
	slices.Sort(k)
	return k
}

// testImage is a small image with distinct pixels.
func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 40), uint8(y * 60), 200, 255})
		}
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decodeBase64 checks that b's content for mime is base64 and returns it.
func decodeBase64(t *testing.T, b Bundle, mime string) []byte {
	t.Helper()
	s, ok := b.Data[mime].(string)
	if !ok {
		t.Fatalf("%s content is %T, want base64 string", mime, b.Data[mime])
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("%s content is not base64: %v", mime, err)
	}
	return raw
}

func wantSize(t *testing.T, b Bundle, mime string, w, h int) {
	t.Helper()
	md, ok := b.Metadata[mime].(map[string]any)
	if !ok {
		t.Fatalf("metadata[%s] = %#v, want width and height", mime, b.Metadata[mime])
	}
	if md["width"] != w || md["height"] != h {
		t.Errorf("metadata[%s] = %v, want width %d height %d", mime, md, w, h)
	}
}

func TestPublishFunctions(t *testing.T) {
	pngData := encodePNG(t, testImage(4, 3))
	jpegData := encodeJPEG(t, testImage(8, 5))
	tests := []struct {
		name  string
		call  func() error
		mimes []string
		text  string
		check func(t *testing.T, b Bundle)
	}{
		{
			name:  "HTML",
			call:  func() error { HTML("<b>hi</b> &amp; <i>bye</i>"); return nil },
			mimes: []string{MIMEHTML, MIMEText},
			text:  "hi & bye",
			check: func(t *testing.T, b Bundle) {
				if b.Data[MIMEHTML] != "<b>hi</b> &amp; <i>bye</i>" {
					t.Errorf("html = %q", b.Data[MIMEHTML])
				}
			},
		},
		{
			name:  "HTML without text",
			call:  func() error { HTML(`<img src="x.png">`); return nil },
			mimes: []string{MIMEHTML, MIMEText},
			text:  "[text/html]",
		},
		{
			name:  "Markdown",
			call:  func() error { Markdown("# Title\n*x*"); return nil },
			mimes: []string{MIMEMarkdown, MIMEText},
			text:  "# Title\n*x*",
		},
		{
			name:  "Latex wrapped",
			call:  func() error { Latex(`\frac{a}{b}`); return nil },
			mimes: []string{MIMELatex, MIMEText},
			text:  `\frac{a}{b}`,
			check: func(t *testing.T, b Bundle) {
				if b.Data[MIMELatex] != `$$\frac{a}{b}$$` {
					t.Errorf("latex = %q", b.Data[MIMELatex])
				}
			},
		},
		{
			name:  "Latex with delimiters",
			call:  func() error { Latex(`$x^2$ and $y$`); return nil },
			mimes: []string{MIMELatex, MIMEText},
			text:  `$x^2$ and $y$`,
			check: func(t *testing.T, b Bundle) {
				if b.Data[MIMELatex] != `$x^2$ and $y$` {
					t.Errorf("latex = %q", b.Data[MIMELatex])
				}
			},
		},
		{
			name:  "Latex text with inline math",
			call:  func() error { Latex(`The formula $x^2 + y^2$ is inline`); return nil },
			mimes: []string{MIMELatex, MIMEText},
			text:  `The formula $x^2 + y^2$ is inline`,
			check: func(t *testing.T, b Bundle) {
				if b.Data[MIMELatex] != `The formula $x^2 + y^2$ is inline` {
					t.Errorf("latex = %q", b.Data[MIMELatex])
				}
			},
		},
		{
			name:  "Latex environment",
			call:  func() error { Latex(`\begin{align}a&=b\end{align}`); return nil },
			mimes: []string{MIMELatex, MIMEText},
			text:  `\begin{align}a&=b\end{align}`,
			check: func(t *testing.T, b Bundle) {
				if b.Data[MIMELatex] != `\begin{align}a&=b\end{align}` {
					t.Errorf("latex = %q", b.Data[MIMELatex])
				}
			},
		},
		{
			name: "SVG",
			call: func() error {
				SVG(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="120px" height="80"><circle r="3"/></svg>`)
				return nil
			},
			mimes: []string{MIMESVG, MIMEText},
			text:  "[image/svg+xml 120x80]",
		},
		{
			name:  "SVG without size",
			call:  func() error { SVG(`<svg viewBox="0 0 1 1"></svg>`); return nil },
			mimes: []string{MIMESVG, MIMEText},
			text:  "[image/svg+xml]",
		},
		{
			name:  "Text",
			call:  func() error { Text("just text"); return nil },
			mimes: []string{MIMEText},
			text:  "just text",
		},
		{
			name:  "JSON",
			call:  func() error { return JSON(map[string]any{"b": []int{1, 2}, "a": "<x>", "big": int64(1) << 60}) },
			mimes: []string{MIMEJSON, MIMEText},
			text:  "{\n  \"a\": \"<x>\",\n  \"b\": [\n    1,\n    2\n  ],\n  \"big\": 1152921504606846976\n}",
			check: func(t *testing.T, b Bundle) {
				raw, err := json.Marshal(b.Data[MIMEJSON])
				if err != nil {
					t.Fatal(err)
				}
				if want := `{"a":"\u003cx\u003e","b":[1,2],"big":1152921504606846976}`; string(raw) != want {
					t.Errorf("application/json encodes as %s, want %s", raw, want)
				}
			},
		},
		{
			name:  "PNG",
			call:  func() error { PNG(pngData); return nil },
			mimes: []string{MIMEPNG, MIMEText},
			text:  "[image/png 4x3]",
			check: func(t *testing.T, b Bundle) {
				if got := decodeBase64(t, b, MIMEPNG); !bytes.Equal(got, pngData) {
					t.Error("image/png does not decode to the original bytes")
				}
				wantSize(t, b, MIMEPNG, 4, 3)
			},
		},
		{
			name:  "PNG invalid",
			call:  func() error { PNG([]byte("not a png")); return nil },
			mimes: []string{MIMEPNG, MIMEText},
			text:  "[image/png, 9 bytes]",
			check: func(t *testing.T, b Bundle) {
				if len(b.Metadata) != 0 {
					t.Errorf("metadata = %v, want none", b.Metadata)
				}
			},
		},
		{
			name:  "JPEG",
			call:  func() error { JPEG(jpegData); return nil },
			mimes: []string{MIMEJPEG, MIMEText},
			text:  "[image/jpeg 8x5]",
			check: func(t *testing.T, b Bundle) {
				if got := decodeBase64(t, b, MIMEJPEG); !bytes.Equal(got, jpegData) {
					t.Error("image/jpeg does not decode to the original bytes")
				}
				wantSize(t, b, MIMEJPEG, 8, 5)
			},
		},
		{
			name:  "Image",
			call:  func() error { return Image(testImage(5, 2)) },
			mimes: []string{MIMEPNG, MIMEText},
			text:  "[image/png 5x2]",
			check: func(t *testing.T, b Bundle) {
				img, err := png.Decode(bytes.NewReader(decodeBase64(t, b, MIMEPNG)))
				if err != nil {
					t.Fatal(err)
				}
				want := testImage(5, 2)
				for y := range 2 {
					for x := range 5 {
						r1, g1, b1, a1 := img.At(x, y).RGBA()
						r2, g2, b2, a2 := want.At(x, y).RGBA()
						if [4]uint32{r1, g1, b1, a1} != [4]uint32{r2, g2, b2, a2} {
							t.Fatalf("pixel (%d,%d) differs", x, y)
						}
					}
				}
				wantSize(t, b, MIMEPNG, 5, 2)
			},
		},
		{
			name:  "Show string",
			call:  func() error { Show("a\tb"); return nil },
			mimes: []string{MIMEText},
			text:  `"a\tb"`,
		},
		{
			name:  "Show html value",
			call:  func() error { Show(htmlValue{}); return nil },
			mimes: []string{MIMEHTML, MIMEText},
			text:  "bold",
		},
		{
			name:  "ShowTable",
			call:  func() error { ShowTable([]string{"a"}, [][]any{{1}}); return nil },
			mimes: []string{MIMEHTML, MIMEText},
			text:  "   a\n0  1",
		},
		{
			name: "Publish derives text/plain and encodes bytes",
			call: func() error {
				Publish(Bundle{Data: map[string]any{MIMEPNG: pngData, "text/csv": []byte("a,b")}})
				return nil
			},
			mimes: []string{MIMEPNG, "text/csv", MIMEText},
			text:  "[image/png]",
			check: func(t *testing.T, b Bundle) {
				if got := decodeBase64(t, b, MIMEPNG); !bytes.Equal(got, pngData) {
					t.Error("[]byte image not base64-encoded")
				}
				if b.Data["text/csv"] != "a,b" {
					t.Errorf("text/csv = %#v, want string", b.Data["text/csv"])
				}
				if b.Metadata == nil {
					t.Error("metadata is nil")
				}
			},
		},
		{
			name: "Publish keeps text/plain",
			call: func() error {
				Publish(Bundle{Data: map[string]any{MIMEText: "mine", MIMEHTML: "<p>x</p>"}})
				return nil
			},
			mimes: []string{MIMEHTML, MIMEText},
			text:  "mine",
		},
		{
			name: "Publish unknown type",
			call: func() error {
				Publish(Bundle{Data: map[string]any{"application/vnd.x+json": map[string]any{}}})
				return nil
			},
			mimes: []string{"application/vnd.x+json", MIMEText},
			text:  "[application/vnd.x+json]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := record(t)
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			ev := r.only(t)
			if ev.kind != "display" || ev.id != "" {
				t.Errorf("got %s with id %q, want display without id", ev.kind, ev.id)
			}
			want := slices.Clone(tt.mimes)
			slices.Sort(want)
			if got := mimeKeys(ev.b); !slices.Equal(got, want) {
				t.Errorf("MIME types = %v, want %v", got, want)
			}
			if got := ev.b.Data[MIMEText]; got != tt.text {
				t.Errorf("text/plain = %q, want %q", got, tt.text)
			}
			if ev.b.Metadata == nil {
				t.Error("metadata is nil; Jupyter wants an object")
			}
			if _, err := json.Marshal(ev.b); err != nil {
				t.Errorf("bundle does not encode: %v", err)
			}
			if tt.check != nil {
				tt.check(t, ev.b)
			}
		})
	}
}

func TestPublishFailures(t *testing.T) {
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"JSON channel", func() error { return JSON(make(chan int)) }, "display: marshal json"},
		{"JSON NaN", func() error { return JSON(math.NaN()) }, "display: marshal json"},
		{"Image nil", func() error { return Image(nil) }, "display: encode png"},
		{"Image nil RGBA", func() error { return Image((*image.RGBA)(nil)) }, "display: encode png"},
		{"Image empty", func() error { return Image(image.NewRGBA(image.Rect(0, 0, 0, 0))) }, "display: encode png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := record(t)
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
			if ev := r.all(); len(ev) != 0 {
				t.Errorf("published %d events on failure", len(ev))
			}
		})
	}
}

func TestClear(t *testing.T) {
	r := record(t)
	Clear()
	ClearWait()
	ev := r.all()
	want := []event{{kind: "clear", wait: false}, {kind: "clear", wait: true}}
	if !reflect.DeepEqual(ev, want) {
		t.Errorf("events = %+v, want %+v", ev, want)
	}
}

func TestPublishCopiesMaps(t *testing.T) {
	r := record(t)
	data := map[string]any{MIMEHTML: "<p>a</p>"}
	md := map[string]any{MIMEHTML: map[string]any{"isolated": true}}
	Publish(Bundle{Data: data, Metadata: md})
	data[MIMEHTML] = "changed"
	md["other"] = 1
	ev := r.only(t)
	if ev.b.Data[MIMEHTML] != "<p>a</p>" || len(ev.b.Metadata) != 1 {
		t.Errorf("published bundle aliases the caller's maps: %+v", ev.b)
	}
	if len(data) != 1 {
		t.Errorf("Publish modified the caller's data map: %v", data)
	}
}

func TestSetPublisher(t *testing.T) {
	r1, r2 := &recorder{}, &recorder{}
	orig := SetPublisher(r1)
	defer SetPublisher(orig)
	if orig == nil {
		t.Fatal("SetPublisher returned a nil previous publisher")
	}
	if prev := SetPublisher(r2); prev != r1 {
		t.Errorf("SetPublisher returned %v, want the first recorder", prev)
	}
	Text("x")
	if len(r1.all()) != 0 || len(r2.all()) != 1 {
		t.Errorf("display went to the wrong publisher: r1 %d, r2 %d", len(r1.all()), len(r2.all()))
	}
	if prev := SetPublisher(nil); prev != r2 {
		t.Errorf("SetPublisher(nil) returned %v, want the second recorder", prev)
	}
	if prev := SetPublisher(r1); prev != defaultPublish {
		t.Errorf("after SetPublisher(nil) the default was not restored: got %T", prev)
	}
}

// captureStdout runs f with os.Stdout redirected and returns what it wrote.
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = wr
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(rd)
		done <- string(b)
	}()
	defer func() { os.Stdout = saved }()
	f()
	os.Stdout = saved
	wr.Close()
	return <-done
}

func TestDefaultPublisher(t *testing.T) {
	prev := SetPublisher(nil)
	defer SetPublisher(prev)
	pngData := encodePNG(t, testImage(640, 480))
	out := captureStdout(t, func() {
		HTML("<p>Hello <b>world</b></p><p>second &lt;para&gt;</p>")
		PNG(pngData)
		Text("plain\n")
		Show([]string{"a", "b"})
		h := NewText("v1")
		h.UpdateText("v2")
		Clear()
		ClearWait()
		ShowTable([]string{"x", "y"}, [][]any{{1, "a"}, {2.5, "bb"}})
		if err := JSON([]int{1}); err != nil {
			t.Error(err)
		}
	})
	want := "Hello world\nsecond <para>\n" +
		"[image/png 640x480]\n" +
		"plain\n" +
		`["a" "b"]` + "\n" +
		"v1\nv2\n" +
		"     x   y\n0    1   a\n1  2.5  bb\n" +
		"[\n  1\n]\n"
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
}

func TestTextPublisherConcurrent(t *testing.T) {
	var buf bytes.Buffer
	prev := SetPublisher(NewTextPublisher(&buf))
	defer SetPublisher(prev)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				Text(strings.Repeat(string(rune('a'+g)), 40))
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("got %d lines, want 400", len(lines))
	}
	for _, l := range lines {
		if len(l) != 40 || strings.Count(l, l[:1]) != 40 {
			t.Fatalf("interleaved line %q", l)
		}
	}
}

func TestHTMLText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<b>hi</b>", "hi"},
		{"a <i>b</i>  c", "a b c"},
		{"<p>one</p><p>two</p>", "one\ntwo"},
		{"line<br>break", "line\nbreak"},
		{"<style>p{color:red}</style><script>alert(1)</script>shown", "shown"},
		{"<!-- hidden -->x", "x"},
		{"<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>", "a  b\n1  2"},
		{"&lt;tag&gt; &amp; &quot;q&quot;", `<tag> & "q"`},
		{"<pre>a\n  b</pre>", "a\n  b"},
		{"", "[text/html]"},
		{"<div>\n  <span>x</span>\n</div>", "x"},
		{"unclosed <b", "unclosed"},
		{"x < y and <b>z</b> > w", "x < y and z > w"},
		{"a<", "a<"},
	}
	for _, tt := range tests {
		if got := htmlText(tt.in); got != tt.want {
			t.Errorf("htmlText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
