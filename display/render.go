package display

import (
	"fmt"
	"image"
	"reflect"
	"sync"
)

// Renderer is implemented by values that build their own MIME bundle.
// It takes precedence over every other interface in Render.
type Renderer interface {
	Render() Bundle
}

// HTMLer is implemented by values with an HTML form (text/html).
type HTMLer interface {
	HTML() string
}

// Markdowner is implemented by values with a Markdown form (text/markdown).
type Markdowner interface {
	Markdown() string
}

// SVGer is implemented by values with an SVG form (image/svg+xml).
type SVGer interface {
	SVG() string
}

// PNGer is implemented by values with a PNG form (image/png); PNG returns
// the encoded image.
type PNGer interface {
	PNG() []byte
}

// JPEGer is implemented by values with a JPEG form (image/jpeg); JPEG
// returns the encoded image.
type JPEGer interface {
	JPEG() []byte
}

// Latexer is implemented by values with a LaTeX form (text/latex).
type Latexer interface {
	Latex() string
}

// JSONer is implemented by values with a JSON form (application/json); JSON
// returns a value that encoding/json can marshal.
type JSONer interface {
	JSON() any
}

// Render returns the MIME bundle that shows v as a cell's result:
//
//   - a Renderer renders itself;
//   - a Bundle or *Bundle is used as is;
//   - a value of a type given to RegisterType is rendered by its function;
//   - values implementing HTMLer, Markdowner, SVGer, PNGer, JPEGer, Latexer
//     or JSONer get each of those MIME types;
//   - an image.Image becomes image/png;
//   - anything else, errors included, is text.
//
// The bundle always has text/plain: String or Error when v has one, else a
// text form of the richer types (image sizes for images), else RenderText(v).
// A panic in one of v's methods is reported in the bundle, not propagated.
func Render(v any) (b Bundle) {
	defer func() {
		if r := recover(); r != nil {
			// A nil pointer whose methods do not take nil (a result
			// left nil by a failed call) is just nil.
			if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
				b = textBundle(MIMEText, "<nil>", "<nil>")
				return
			}
			msg := fmt.Sprintf("%%!v(PANIC=render %T: %v)", v, r)
			b = textBundle(MIMEText, msg, msg)
		}
	}()
	switch x := v.(type) {
	case nil:
		return textBundle(MIMEText, "<nil>", "<nil>")
	case Bundle:
		return normalize(x)
	case *Bundle:
		if x == nil {
			return textBundle(MIMEText, "<nil>", "<nil>")
		}
		return normalize(*x)
	case Renderer:
		return normalize(x.Render())
	}
	if f := registered(v); f != nil {
		return normalize(f(v))
	}

	b = newBundle()
	if x, ok := v.(HTMLer); ok {
		b.Data[MIMEHTML] = x.HTML()
	}
	if x, ok := v.(Markdowner); ok {
		b.Data[MIMEMarkdown] = x.Markdown()
	}
	if x, ok := v.(Latexer); ok {
		b.Data[MIMELatex] = x.Latex()
	}
	if x, ok := v.(SVGer); ok {
		b.Data[MIMESVG] = x.SVG()
	}
	if x, ok := v.(JSONer); ok {
		// A JSON form that does not marshal is left out; the other forms
		// still show the value.
		if jv, err := jsonValue(x.JSON()); err == nil {
			b.Data[MIMEJSON] = jv
		}
	}
	if x, ok := v.(PNGer); ok {
		mergeImage(b, imageBundle(MIMEPNG, x.PNG()))
	} else if x, ok := v.(image.Image); ok {
		if ib, err := imageBundleOf(x); err == nil {
			mergeImage(b, ib)
		}
	}
	if x, ok := v.(JPEGer); ok {
		mergeImage(b, imageBundle(MIMEJPEG, x.JPEG()))
	}

	switch x := v.(type) {
	case error:
		b.Data[MIMEText] = x.Error()
	case fmt.Stringer:
		b.Data[MIMEText] = x.String()
	default:
		if len(b.Data) == 0 {
			b.Data[MIMEText] = RenderText(v)
		} else {
			b.Data[MIMEText] = describe(b)
		}
	}
	return b
}

// mergeImage copies an image bundle's data and metadata into b; its
// text/plain note is derived again from b as a whole.
func mergeImage(b, img Bundle) {
	for k, v := range img.Data {
		if k != MIMEText {
			b.Data[k] = v
		}
	}
	for k, v := range img.Metadata {
		b.Metadata[k] = v
	}
}

// renderers holds the functions RegisterType registered, by type.
var renderers sync.Map // reflect.Type -> func(any) Bundle

// RegisterType makes Render show values of the type of example with f, for
// types whose package cannot implement Renderer for them: a package that
// renders another's type (experiments registers *plot.Plot from
// gonum/plot) registers it in its init. f gets values of that type only.
// A later registration for the same type replaces the earlier one; a nil
// f removes it.
func RegisterType(example any, f func(v any) Bundle) {
	t := reflect.TypeOf(example)
	if t == nil {
		return
	}
	if f == nil {
		renderers.Delete(t)
		return
	}
	renderers.Store(t, f)
}

// registered returns the function registered for v's type, or nil.
func registered(v any) func(any) Bundle {
	f, ok := renderers.Load(reflect.TypeOf(v))
	if !ok {
		return nil
	}
	return f.(func(any) Bundle)
}
