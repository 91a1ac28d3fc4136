package display

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"strings"
)

// HTML displays s as text/html. Its text/plain form is the text of s with
// the tags removed.
func HTML(s string) { Publish(htmlBundle(s)) }

// Markdown displays s as text/markdown.
func Markdown(s string) { Publish(textBundle(MIMEMarkdown, s, s)) }

// Latex displays s as text/latex. Without math delimiters of its own
// anywhere ($, $$, \[, \( or \begin{...}) s is wrapped in $$ so it renders
// as display math; text with inline math is left as it is.
func Latex(s string) { Publish(textBundle(MIMELatex, latexMath(s), s)) }

// SVG displays s as image/svg+xml.
func SVG(s string) { Publish(textBundle(MIMESVG, s, svgNote(s))) }

// Text displays s as text/plain only.
func Text(s string) { Publish(textBundle(MIMEText, s, s)) }

// JSON displays v as application/json (rendered as a collapsible tree by
// JupyterLab), with indented JSON as text/plain. It fails if v cannot be
// marshalled.
func JSON(v any) error {
	b, err := jsonBundle(v)
	if err != nil {
		return err
	}
	Publish(b)
	return nil
}

// PNG displays encoded PNG data as image/png, with its width and height as
// metadata.
func PNG(b []byte) { Publish(imageBundle(MIMEPNG, b)) }

// JPEG displays encoded JPEG data as image/jpeg, with its width and height
// as metadata.
func JPEG(b []byte) { Publish(imageBundle(MIMEJPEG, b)) }

// Image encodes img as PNG and displays it.
func Image(img image.Image) error {
	b, err := imageBundleOf(img)
	if err != nil {
		return err
	}
	Publish(b)
	return nil
}

// Show displays any value as Render would render it as a cell's result.
func Show(v any) { Publish(Render(v)) }

func textBundle(mime, content, plain string) Bundle {
	b := newBundle()
	b.Data[mime] = content
	b.Data[MIMEText] = plain
	return b
}

func htmlBundle(s string) Bundle { return textBundle(MIMEHTML, s, htmlText(s)) }

func jsonBundle(v any) (Bundle, error) {
	jv, err := jsonValue(v)
	if err != nil {
		return Bundle{}, fmt.Errorf("display: marshal json: %w", err)
	}
	plain, err := prettyJSON(jv)
	if err != nil {
		return Bundle{}, fmt.Errorf("display: marshal json: %w", err)
	}
	b := newBundle()
	b.Data[MIMEJSON] = jv
	b.Data[MIMEText] = plain
	return b, nil
}

func imageBundleOf(img image.Image) (b Bundle, err error) {
	// A user image type (or a nil *image.RGBA) can panic in Bounds or At;
	// report that as an error rather than taking the kernel down.
	defer func() {
		if r := recover(); r != nil {
			b, err = Bundle{}, fmt.Errorf("display: encode png: panic: %v", r)
		}
	}()
	if img == nil {
		return Bundle{}, fmt.Errorf("display: encode png: nil image")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Bundle{}, fmt.Errorf("display: encode png: %w", err)
	}
	return imageBundle(MIMEPNG, buf.Bytes()), nil
}

// latexMath wraps s in $$ unless it carries math delimiters of its own
// anywhere (text with inline math, "the formula $x^2$ ...", or a LaTeX
// environment), as IPython's Latex leaves such text alone; empty stays
// empty.
func latexMath(s string) string {
	t := strings.TrimSpace(s)
	if t == "" {
		return ""
	}
	for _, p := range []string{"$", `\[`, `\(`, `\begin{`} {
		if strings.Contains(t, p) {
			return s
		}
	}
	return "$$" + t + "$$"
}
