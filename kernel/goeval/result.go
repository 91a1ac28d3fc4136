package goeval

import (
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"github.com/gopherlab/gopherlab/display"
	"github.com/traefik/yaegi/interp"
)

// The cell's result is computed inside the interpreter and handed to
// compiled hooks. A value of an interpreted type loses its methods when it
// reaches compiled code, so a Render or HTML method written in a cell would
// be invisible to display.Render. yaegi's MapTypes mechanism fixes that:
// when interpreted code calls a compiled function listed there, each
// argument whose static type implements one of the listed interfaces is
// passed as a wrapper struct whose function fields call the interpreted
// methods. Each hook below takes one interface, so a value implementing
// several (HTML and String, say) reaches all of them.

// hookPath is the import path under which the hooks are visible to cells
// (as __glhook). It must be this package's own path: yaegi finds a wrapper
// type in the table of the package that declares the interface.
const hookPath = "github.com/gopherlab/gopherlab/kernel/goeval"

// hookImport names the hooks' package inside the interpreter.
const hookImport = "__glhook"

type (
	renderer   interface{ Render() display.Bundle }
	htmler     interface{ HTML() string }
	markdowner interface{ Markdown() string }
	svger      interface{ SVG() string }
	pnger      interface{ PNG() []byte }
	jpeger     interface{ JPEG() []byte }
	latexer    interface{ Latex() string }
	jsoner     interface{ JSON() any }
	stringer   interface{ String() string }
	errorer    interface{ Error() string }
)

// Wrappers in the layout yaegi expects: the wrapped value, then one
// function field per method, named with a one-letter prefix.
type _renderer struct {
	IValue  any
	WRender func() display.Bundle
}
type _htmler struct {
	IValue any
	WHTML  func() string
}
type _markdowner struct {
	IValue    any
	WMarkdown func() string
}
type _svger struct {
	IValue any
	WSVG   func() string
}
type _pnger struct {
	IValue any
	WPNG   func() []byte
}
type _jpeger struct {
	IValue any
	WJPEG  func() []byte
}
type _latexer struct {
	IValue any
	WLatex func() string
}
type _jsoner struct {
	IValue any
	WJSON  func() any
}
type _stringer struct {
	IValue  any
	WString func() string
}
type _errorer struct {
	IValue any
	WError func() string
}

func (w _renderer) Render() display.Bundle { return w.WRender() }
func (w _htmler) HTML() string             { return w.WHTML() }
func (w _markdowner) Markdown() string     { return w.WMarkdown() }
func (w _svger) SVG() string               { return w.WSVG() }
func (w _pnger) PNG() []byte               { return w.WPNG() }
func (w _jpeger) JPEG() []byte             { return w.WJPEG() }
func (w _latexer) Latex() string           { return w.WLatex() }
func (w _jsoner) JSON() any                { return w.WJSON() }
func (w _stringer) String() string         { return w.WString() }
func (w _errorer) Error() string           { return w.WError() }

// collector gathers what the hooks report while a result is computed.
type collector struct {
	mu     sync.Mutex
	has    bool // a non-nil value was reported
	value  any
	render *display.Bundle
	data   map[string]any // MIME forms from interpreted methods
	meta   map[string]any
	text   *string // text/plain from an interpreted String or Error
	fail   error   // the error a final call returned (hooks Fail, Result)
	// deferred is set when the last call of the hooks P and D, the
	// builtin panic, was D's (see notePanic), panicked its value.
	deferred bool
	panicked any
}

// notePanic records whether the last call of panic in cell code was a
// deferred one, and its value.
func (c *collector) notePanic(deferred bool, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deferred, c.panicked = deferred, v
}

// deferredPanic reports whether the last call of panic was deferred and
// panicked with v (a panic may have been recovered since).
func (c *collector) deferredPanic(v any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.deferred {
		return false
	}
	return sameValue(c.panicked, v)
}

// sameValue reports whether a == b, or, when they cannot be compared,
// whether they have the same type.
func sameValue(a, b any) (same bool) {
	defer func() {
		if recover() != nil { // a struct holding a slice in an interface
			same = reflect.TypeOf(a) == reflect.TypeOf(b)
		}
	}()
	if t := reflect.TypeOf(a); t != nil && !t.Comparable() {
		return t == reflect.TypeOf(b)
	}
	return a == b
}

func (c *collector) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.has, c.value, c.render, c.data, c.meta, c.text, c.fail = false, nil, nil, nil, nil, nil, nil
}

// failure returns the error a final call returned, if any.
func (c *collector) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fail
}

func (c *collector) setData(mime string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data == nil {
		c.data = map[string]any{}
	}
	c.data[mime] = v
}

// mergeBundle copies a bundle rendered from one interpreted method
// (images, JSON) without its text/plain note.
func (c *collector) mergeBundle(b display.Bundle) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data == nil {
		c.data = map[string]any{}
	}
	if c.meta == nil {
		c.meta = map[string]any{}
	}
	for k, v := range b.Data {
		if k != display.MIMEText {
			c.data[k] = v
		}
	}
	for k, v := range b.Metadata {
		c.meta[k] = v
	}
}

// bundle assembles the result. ok is false when there is nothing to show
// (no value, or a nil interface such as a nil error).
func (c *collector) bundle() (b display.Bundle, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.has {
		return display.Bundle{}, false
	}
	if c.render != nil {
		return display.Render(*c.render), true
	}
	if len(c.data) == 0 && c.text == nil {
		return display.Render(c.value), true
	}
	data := map[string]any{}
	for k, v := range c.data {
		data[k] = v
	}
	if c.text != nil {
		data[display.MIMEText] = *c.text
	}
	// Rendering a Bundle normalizes it and derives text/plain from the
	// richest form when the value has no String method.
	return display.Render(display.Bundle{Data: data, Metadata: c.meta}), true
}

// Adapters give display.Render a compiled value with exactly one method,
// to reuse its encoding of images and JSON.
type (
	pngAdapter  struct{ b []byte }
	jpegAdapter struct{ b []byte }
	jsonAdapter struct{ v any }
)

func (a pngAdapter) PNG() []byte   { return a.b }
func (a jpegAdapter) JPEG() []byte { return a.b }
func (a jsonAdapter) JSON() any    { return a.v }

// hookExports builds the hooks' symbol table for one interpreter, bound to
// its collector.
func hookExports(c *collector) interp.Exports {
	syms := map[string]reflect.Value{}
	mt := map[reflect.Value][]reflect.Type{}
	add := func(name string, fn any, iface any) {
		v := reflect.ValueOf(fn)
		syms[name] = v
		if iface != nil {
			// The same reflect.Value is the key yaegi looks up.
			mt[v] = []reflect.Type{reflect.TypeOf(iface).Elem()}
		}
	}
	add("Value", func(v any) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.value = unwrapInterpreted(v)
		c.has = c.value != nil
	}, nil)
	// A cell whose last line is a call that returns a non-nil error
	// fails with it, as a Python cell whose last call raises: "Run All"
	// and headless runs stop there instead of going on as if it worked.
	// Fail takes the error of a (value, error) call, Failed tests a
	// single value (and reports whether it was one), Result shows one
	// that is not.
	add("Fail", func(err error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.fail = err
	}, nil)
	failed := func(v any) bool {
		err, ok := v.(error)
		// A nil pointer of an error type is a value to show: its Error
		// method may not take nil.
		if !ok || err == nil {
			return false
		}
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return false
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.fail = err
		return true
	}
	add("Failed", failed, nil)
	add("Result", func(v any) {
		if failed(v) {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.value = unwrapInterpreted(v)
		c.has = c.value != nil
	}, nil)
	add("Tuple", func(vs ...any) {
		t := make(tuple, len(vs))
		for i, v := range vs {
			t[i] = unwrapInterpreted(v)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.value, c.has = t, true
	}, nil)
	add("Render", func(v any) {
		if w, ok := v.(_renderer); ok && w.WRender != nil {
			b := w.WRender()
			c.mu.Lock()
			c.render = &b
			c.mu.Unlock()
		}
	}, (*renderer)(nil))
	add("HTML", func(v any) {
		if w, ok := v.(_htmler); ok && w.WHTML != nil {
			c.setData(display.MIMEHTML, w.WHTML())
		}
	}, (*htmler)(nil))
	add("Markdown", func(v any) {
		if w, ok := v.(_markdowner); ok && w.WMarkdown != nil {
			c.setData(display.MIMEMarkdown, w.WMarkdown())
		}
	}, (*markdowner)(nil))
	add("SVG", func(v any) {
		if w, ok := v.(_svger); ok && w.WSVG != nil {
			c.setData(display.MIMESVG, w.WSVG())
		}
	}, (*svger)(nil))
	add("Latex", func(v any) {
		if w, ok := v.(_latexer); ok && w.WLatex != nil {
			c.setData(display.MIMELatex, w.WLatex())
		}
	}, (*latexer)(nil))
	add("PNG", func(v any) {
		if w, ok := v.(_pnger); ok && w.WPNG != nil {
			c.mergeBundle(display.Render(pngAdapter{w.WPNG()}))
		}
	}, (*pnger)(nil))
	add("JPEG", func(v any) {
		if w, ok := v.(_jpeger); ok && w.WJPEG != nil {
			c.mergeBundle(display.Render(jpegAdapter{w.WJPEG()}))
		}
	}, (*jpeger)(nil))
	add("JSON", func(v any) {
		if w, ok := v.(_jsoner); ok && w.WJSON != nil {
			c.mergeBundle(display.Render(jsonAdapter{w.WJSON()}))
		}
	}, (*jsoner)(nil))
	add("String", func(v any) {
		if w, ok := v.(_stringer); ok && w.WString != nil {
			s := w.WString()
			c.mu.Lock()
			if c.text == nil {
				c.text = &s
			}
			c.mu.Unlock()
		}
	}, (*stringer)(nil))
	add("Error", func(v any) {
		// Called before String: an error's text wins, as in fmt.
		if w, ok := v.(_errorer); ok && w.WError != nil {
			s := w.WError()
			c.mu.Lock()
			c.text = &s
			c.mu.Unlock()
		}
	}, (*errorer)(nil))
	// P is the builtin panic for cells (see rewritePanics). A value of an
	// interpreted type with an Error or String method arrives wrapped, so
	// that the runtime, reporting a panic that ended a goroutine, and
	// r.(error) after a recover see its method.
	p := reflect.ValueOf(func(v any) {
		v = unwrapInterpreted(v)
		c.notePanic(false, v)
		panic(v)
	})
	syms["P"] = p
	mt[p] = []reflect.Type{reflect.TypeOf((*errorer)(nil)).Elem(), reflect.TypeOf((*stringer)(nil)).Elem()}
	// D is P for a deferred call (defer panic(v)).
	d := reflect.ValueOf(func(v any) {
		v = unwrapInterpreted(v)
		c.notePanic(true, v)
		panic(v)
	})
	syms["D"] = d
	mt[d] = mt[p]
	for name, w := range map[string]any{
		"_renderer": (*_renderer)(nil), "_htmler": (*_htmler)(nil), "_markdowner": (*_markdowner)(nil),
		"_svger": (*_svger)(nil), "_pnger": (*_pnger)(nil), "_jpeger": (*_jpeger)(nil),
		"_latexer": (*_latexer)(nil), "_jsoner": (*_jsoner)(nil), "_stringer": (*_stringer)(nil),
		"_errorer": (*_errorer)(nil),
	} {
		syms[name] = reflect.ValueOf(w)
	}
	return interp.Exports{
		hookPath + "/goeval": syms,
		".":                  {"MapTypes": reflect.ValueOf(mt)},
	}
}

// tuple is the result of a final call with several values: shown as
// (a, b), each value in its text form.
type tuple []any

func (t tuple) Render() display.Bundle {
	parts := make([]string, len(t))
	for i, v := range t {
		parts[i] = display.RenderText(v)
	}
	text := "(" + strings.Join(parts, ", ") + ")"
	return display.Bundle{Data: map[string]any{display.MIMEText: text}}
}

// resultHookNames are the hooks a result is handed to, in order (Error
// before String so that an error's text wins).
var resultHookNames = []string{"Value", "Render", "HTML", "Markdown", "SVG", "Latex", "PNG", "JPEG", "JSON", "Error", "String"}

// resultHooks is the code that hands __glv to every hook.
var resultHooks = func() string {
	var b strings.Builder
	for _, h := range resultHookNames {
		b.WriteString(hookImport + "." + h + "(__glv); ")
	}
	return b.String()
}()

const yaegiInterp = "github.com/traefik/yaegi/interp"

var reflectValueType = reflect.TypeOf(reflect.Value{})

// unwrapInterpreted returns the value itself when v is yaegi's
// valueInterface (an interpreted value stored in an interface). Values of
// interpreted struct types arrive as plain structs and are returned as
// they are; interface wrappers (such as yaegi's for fmt.Stringer) are kept,
// as their methods call the interpreted ones.
func unwrapInterpreted(v any) any {
	for i := 0; i < 8 && v != nil; i++ {
		rv := reflect.ValueOf(v)
		t := rv.Type()
		if t.Kind() != reflect.Struct {
			return v
		}
		switch {
		case t.Name() == "valueInterface" && t.PkgPath() == yaegiInterp:
			f, ok := t.FieldByName("value")
			if !ok || f.Type != reflectValueType {
				return v
			}
			cp := reflect.New(t).Elem() // addressable copy to read the unexported field
			cp.Set(rv)
			inner := *(*reflect.Value)(unsafe.Pointer(cp.FieldByIndex(f.Index).UnsafeAddr()))
			if !inner.IsValid() || !inner.CanInterface() {
				return nil
			}
			v = inner.Interface()
		default:
			return v
		}
	}
	return v
}
