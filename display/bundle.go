package display

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"image/jpeg"
	"image/png"
	"sort"
	"strings"
)

// MIME types used by the bundles this package builds.
const (
	MIMEText     = "text/plain"
	MIMEHTML     = "text/html"
	MIMEMarkdown = "text/markdown"
	MIMELatex    = "text/latex"
	MIMEJSON     = "application/json"
	MIMEPNG      = "image/png"
	MIMEJPEG     = "image/jpeg"
	MIMESVG      = "image/svg+xml"
)

// newBundle returns a bundle with both maps allocated.
func newBundle() Bundle {
	return Bundle{Data: map[string]any{}, Metadata: map[string]any{}}
}

// normalize returns a copy of b that is safe to hand to a publisher: both
// maps are non-nil copies (so a cell mutating its maps later cannot race
// with the kernel encoding them), []byte content is converted to the string
// Jupyter expects, and a text/plain form is always present.
func normalize(b Bundle) Bundle {
	out := Bundle{
		Data:     make(map[string]any, len(b.Data)+1),
		Metadata: make(map[string]any, len(b.Metadata)),
	}
	for k, v := range b.Data {
		if raw, ok := v.([]byte); ok {
			if isBinaryMIME(k) {
				v = base64.StdEncoding.EncodeToString(raw)
			} else if k == MIMEJSON && json.Valid(raw) {
				v = json.RawMessage(bytes.Clone(raw))
			} else {
				v = string(raw)
			}
		}
		// nbformat holds every form but JSON ones as a string: a
		// number given as text/html would make the saved notebook
		// invalid (and nbclient stop), so it becomes its text.
		if _, isString := v.(string); !isString && !isJSONMIME(k) {
			if v == nil {
				continue
			}
			v = fmt.Sprint(v)
		}
		out.Data[k] = v
	}
	for k, v := range b.Metadata {
		out.Metadata[k] = v
	}
	if _, ok := out.Data[MIMEText].(string); !ok {
		out.Data[MIMEText] = describe(out)
	}
	return out
}

// isJSONMIME reports whether MIME type m carries a JSON value.
func isJSONMIME(m string) bool { return m == MIMEJSON || strings.HasSuffix(m, "+json") }

// isBinaryMIME reports whether Jupyter carries content of MIME type m as
// base64 (images other than SVG, audio, video, PDF, ...).
func isBinaryMIME(m string) bool {
	switch {
	case m == MIMESVG, strings.HasPrefix(m, "text/"), strings.HasSuffix(m, "+json"),
		strings.HasSuffix(m, "+xml"), m == MIMEJSON, m == "application/javascript":
		return false
	}
	return strings.HasPrefix(m, "image/") || strings.HasPrefix(m, "audio/") ||
		strings.HasPrefix(m, "video/") || m == "application/pdf"
}

// plainText returns the text/plain form of b, deriving one if missing.
func plainText(b Bundle) string {
	if s, ok := b.Data[MIMEText].(string); ok {
		return s
	}
	return describe(b)
}

// describe derives a short text/plain form for a bundle that has none.
func describe(b Bundle) string {
	if s, ok := b.Data[MIMEHTML].(string); ok {
		return htmlText(s)
	}
	for _, m := range []string{MIMEMarkdown, MIMELatex} {
		if s, ok := b.Data[m].(string); ok {
			return s
		}
	}
	if v, ok := b.Data[MIMEJSON]; ok {
		if s, err := prettyJSON(v); err == nil {
			return s
		}
	}
	for _, m := range []string{MIMEPNG, MIMEJPEG} {
		if _, ok := b.Data[m]; ok {
			md, _ := b.Metadata[m].(map[string]any)
			return imageNote(m, md["width"], md["height"])
		}
	}
	if s, ok := b.Data[MIMESVG].(string); ok {
		return svgNote(s)
	}
	if len(b.Data) == 0 {
		return ""
	}
	keys := make([]string, 0, len(b.Data))
	for k := range b.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "[" + strings.Join(keys, ", ") + "]"
}

// imageNote is the text/plain form of an image: "[image/png 640x480]".
func imageNote(mime string, w, h any) string {
	if w == nil || h == nil {
		return "[" + mime + "]"
	}
	return fmt.Sprintf("[%s %vx%v]", mime, w, h)
}

// imageBundle builds the bundle of an encoded PNG or JPEG image, with its
// size as metadata so frontends lay it out before decoding it.
func imageBundle(mime string, data []byte) Bundle {
	b := newBundle()
	b.Data[mime] = base64.StdEncoding.EncodeToString(data)
	w, h, ok := imageSize(mime, data)
	if ok {
		b.Metadata[mime] = map[string]any{"width": w, "height": h}
		b.Data[MIMEText] = imageNote(mime, w, h)
	} else {
		b.Data[MIMEText] = fmt.Sprintf("[%s, %d bytes]", mime, len(data))
	}
	return b
}

// imageSize reads the pixel size from a PNG or JPEG header.
func imageSize(mime string, data []byte) (w, h int, ok bool) {
	r := bytes.NewReader(data)
	var err error
	switch mime {
	case MIMEPNG:
		c, e := png.DecodeConfig(r)
		w, h, err = c.Width, c.Height, e
	case MIMEJPEG:
		c, e := jpeg.DecodeConfig(r)
		w, h, err = c.Width, c.Height, e
	default:
		return 0, 0, false
	}
	return w, h, err == nil
}

// svgNote is the text/plain form of an SVG image, with the size its root
// element declares when there is one.
func svgNote(s string) string {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = false
	for {
		tok, err := d.Token()
		if err != nil {
			return "[" + MIMESVG + "]"
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		var w, h string
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "width":
				w = strings.TrimSuffix(strings.TrimSpace(a.Value), "px")
			case "height":
				h = strings.TrimSuffix(strings.TrimSpace(a.Value), "px")
			}
		}
		if se.Name.Local != "svg" || w == "" || h == "" {
			return "[" + MIMESVG + "]"
		}
		return "[" + MIMESVG + " " + w + "x" + h + "]"
	}
}

// jsonValue turns v into a plain JSON value (maps, slices, strings,
// json.Number, bools, nil) so the bundle no longer aliases the caller's data
// and always encodes.
func jsonValue(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber() // keep integers beyond 2^53 exact
	var out any
	if err := d.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// prettyJSON indents v as JSON without escaping <, > and &, for text/plain.
func prettyJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// htmlText extracts readable text from an HTML fragment for text/plain:
// tags are dropped (script and style with their content), block elements
// become line breaks, table cells are separated by spaces and entities are
// decoded. It is a fallback for plain-text consumers, not an HTML renderer.
func htmlText(s string) string {
	var out strings.Builder
	pre := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			text := html.UnescapeString(s[i : i+j])
			if pre == 0 {
				text = collapseSpace(text)
				if out.Len() == 0 || strings.HasSuffix(out.String(), "\n") {
					text = strings.TrimLeft(text, " ")
				}
			}
			out.WriteString(text)
			i += j
			continue
		}
		if i+1 >= len(s) || !isTagStart(s[i+1]) {
			out.WriteByte('<') // "a < b": not a tag, as browsers read it
			i++
			continue
		}
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			break
		}
		tag := s[i+1 : i+end]
		i += end + 1
		closing := strings.HasPrefix(tag, "/")
		name := strings.ToLower(strings.TrimLeft(tag, "/"))
		if k := strings.IndexAny(name, " \t\r\n/"); k >= 0 {
			name = name[:k]
		}
		switch name {
		case "script", "style":
			if !closing {
				k := strings.Index(strings.ToLower(s[i:]), "</"+name)
				if k < 0 {
					i = len(s)
				} else {
					i += k
				}
			}
		case "pre":
			if closing {
				pre = max(pre-1, 0)
			} else {
				pre++
			}
			out.WriteByte('\n')
		case "br", "p", "div", "tr", "li", "ul", "ol", "table", "thead", "tbody",
			"tfoot", "caption", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
			"blockquote", "section", "article", "header", "footer", "dl", "dt", "dd":
			out.WriteByte('\n')
		case "td", "th":
			if !closing && out.Len() > 0 && !strings.HasSuffix(out.String(), "\n") {
				out.WriteString("  ")
			}
		}
	}
	// Block elements leave runs of line breaks; keep only lines with text.
	var lines []string
	for _, l := range strings.Split(out.String(), "\n") {
		if l = strings.TrimRight(l, " \t"); strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	text := strings.Join(lines, "\n")
	if text == "" {
		return "[" + MIMEHTML + "]"
	}
	return text
}

func isTagStart(c byte) bool {
	return c == '/' || c == '!' || c == '?' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// collapseSpace replaces each run of HTML white space with one space, as
// browsers do outside <pre>.
func collapseSpace(s string) string {
	var b strings.Builder
	space := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\f':
			space = true
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteByte(s[i])
		}
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}
