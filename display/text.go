package display

import (
	"cmp"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/gopherlab/gopherlab/internal/fieldname"
)

// Limits of RenderText, in the spirit of IPython's repr and numpy's
// summarisation: a value with more than textMaxItems leaves has each of its
// long collections cut to its first and last textEdgeItems elements.
const (
	textMaxItems  = 1000
	textEdgeItems = 10
	textMaxDepth  = 10
)

// RenderText returns the text/plain form of v, the way a cell shows its
// result: like fmt's %v, but strings are quoted as Go would (%q), struct
// fields are named (like %+v), map keys are sorted, and values with more
// than 1000 elements are summarised as head ... tail, e.g.
//
//	[0 1 2 3 4 5 6 7 8 9 ... 99990 99991 99992 99993 99994 99995 99996 99997 99998 99999] (len 100000)
//
// Values with an Error, String or Format method are printed with it.
func RenderText(v any) string {
	switch x := v.(type) {
	case nil:
		return "<nil>"
	case string:
		return strconv.Quote(x)
	}
	rv := reflect.ValueOf(v)
	p := &textPrinter{summarize: countLeaves(rv, textMaxItems, 0) > textMaxItems}
	p.value(rv, 0)
	if p.summarize {
		switch rv.Kind() {
		case reflect.Slice, reflect.Array, reflect.Map:
			if rv.Len() > 2*textEdgeItems && !hasTextMethod(rv) {
				fmt.Fprintf(&p.b, " (len %d)", rv.Len())
			}
		}
	}
	return p.b.String()
}

type textPrinter struct {
	b         strings.Builder
	summarize bool
}

// hasTextMethod reports whether v prints through its own method.
func hasTextMethod(v reflect.Value) bool {
	if !v.IsValid() || !v.CanInterface() {
		return false
	}
	switch v.Interface().(type) {
	case fmt.Formatter, error, fmt.Stringer:
		return true
	}
	return false
}

// methods prints v with its Format, Error or String method if it has one.
func (p *textPrinter) methods(v reflect.Value) bool {
	if !v.CanInterface() {
		return false // fmt does not call methods on unexported fields either
	}
	switch x := v.Interface().(type) {
	case fmt.Formatter:
		p.b.WriteString(fmt.Sprintf("%v", x)) // fmt catches the panics
	case error:
		p.b.WriteString(callText(v, "Error", x.Error))
	case fmt.Stringer:
		p.b.WriteString(callText(v, "String", x.String))
	default:
		return false
	}
	return true
}

// callText calls a text method, reporting a panic the way fmt does.
func callText(v reflect.Value, name string, f func() string) (s string) {
	defer func() {
		if r := recover(); r != nil {
			if v.Kind() == reflect.Pointer && v.IsNil() {
				s = "<nil>"
				return
			}
			s = fmt.Sprintf("%%!v(PANIC=%s method: %v)", name, r)
		}
	}()
	return f()
}

func (p *textPrinter) value(v reflect.Value, depth int) {
	if !v.IsValid() {
		p.b.WriteString("<nil>")
		return
	}
	if depth > textMaxDepth {
		p.b.WriteString("...")
		return
	}
	if v.Kind() == reflect.Interface {
		if v.IsNil() {
			p.b.WriteString("<nil>")
			return
		}
		p.value(v.Elem(), depth)
		return
	}
	if inner, ok := interpretedValue(v); ok {
		p.value(inner, depth)
		return
	}
	if p.methods(v) {
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		p.b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32:
		p.b.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 32))
	case reflect.Float64:
		p.b.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.Complex64:
		p.b.WriteString(strconv.FormatComplex(v.Complex(), 'g', -1, 64))
	case reflect.Complex128:
		p.b.WriteString(strconv.FormatComplex(v.Complex(), 'g', -1, 128))
	case reflect.String:
		p.b.WriteString(strconv.Quote(v.String()))
	case reflect.Slice, reflect.Array:
		p.b.WriteByte('[')
		p.elems(v.Len(), func(i int) { p.value(v.Index(i), depth+1) })
		p.b.WriteByte(']')
	case reflect.Map:
		keys := v.MapKeys()
		sort.SliceStable(keys, func(i, j int) bool { return compareValues(keys[i], keys[j]) < 0 })
		p.b.WriteString("map[")
		p.elems(len(keys), func(i int) {
			p.value(keys[i], depth+1)
			p.b.WriteByte(':')
			p.value(v.MapIndex(keys[i]), depth+1)
		})
		p.b.WriteByte(']')
	case reflect.Struct:
		t := v.Type()
		names := fieldname.Names(t) // a cell's type: its fields' own names
		p.b.WriteByte('{')
		for i := 0; i < v.NumField(); i++ {
			if i > 0 {
				p.b.WriteByte(' ')
			}
			if names != nil {
				p.b.WriteString(names[i])
			} else {
				p.b.WriteString(t.Field(i).Name)
			}
			p.b.WriteByte(':')
			p.value(v.Field(i), depth+1)
		}
		p.b.WriteByte('}')
	case reflect.Pointer:
		if v.IsNil() {
			p.b.WriteString("<nil>")
			return
		}
		// Like fmt: follow a pointer to a composite only at the top level,
		// print addresses below it (which also stops cycles).
		if depth == 0 {
			switch v.Elem().Kind() {
			case reflect.Array, reflect.Slice, reflect.Struct, reflect.Map:
				p.b.WriteByte('&')
				p.value(v.Elem(), depth+1)
				return
			}
		}
		p.pointer(v)
	case reflect.Chan, reflect.Func, reflect.UnsafePointer:
		if v.IsNil() {
			p.b.WriteString("<nil>")
			return
		}
		p.pointer(v)
	default:
		p.b.WriteString("?")
	}
}

func (p *textPrinter) pointer(v reflect.Value) {
	p.b.WriteString("0x")
	p.b.WriteString(strconv.FormatUint(uint64(v.Pointer()), 16))
}

// elems prints n elements separated by spaces, eliding the middle of long
// collections when the whole value is being summarised.
func (p *textPrinter) elems(n int, elem func(i int)) {
	elide := p.summarize && n > 2*textEdgeItems
	for i := 0; i < n; i++ {
		if elide && i == textEdgeItems {
			p.b.WriteString(" ...")
			i = n - textEdgeItems
		}
		if i > 0 {
			p.b.WriteByte(' ')
		}
		elem(i)
	}
}

// countLeaves counts the scalar values in v, stopping as soon as the count
// passes limit.
func countLeaves(v reflect.Value, limit, depth int) int {
	if !v.IsValid() || depth > textMaxDepth {
		return 1
	}
	if inner, ok := interpretedValue(v); ok {
		return countLeaves(inner, limit, depth+1)
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() || (v.Kind() == reflect.Pointer && depth > 0) {
			return 1
		}
		return countLeaves(v.Elem(), limit, depth+1)
	case reflect.Slice, reflect.Array:
		if isScalarKind(v.Type().Elem().Kind()) {
			return v.Len()
		}
		n := 0
		for i := 0; i < v.Len() && n <= limit; i++ {
			n += countLeaves(v.Index(i), limit-n, depth+1)
		}
		return n
	case reflect.Map:
		if isScalarKind(v.Type().Elem().Kind()) {
			return v.Len()
		}
		n := 0
		it := v.MapRange()
		for n <= limit && it.Next() {
			n += countLeaves(it.Value(), limit-n, depth+1)
		}
		return n
	case reflect.Struct:
		n := 0
		for i := 0; i < v.NumField() && n <= limit; i++ {
			n += countLeaves(v.Field(i), limit-n, depth+1)
		}
		return max(n, 1)
	}
	return 1
}

func isScalarKind(k reflect.Kind) bool {
	switch k {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Struct, reflect.Interface, reflect.Pointer:
		return false
	}
	return true
}

// compareValues orders map keys like fmt does: numbers and strings by
// value, nil first, then by kind for mixed interface keys.
func compareValues(a, b reflect.Value) int {
	if a.Kind() == reflect.Interface && b.Kind() == reflect.Interface {
		switch {
		case a.IsNil() && b.IsNil():
			return 0
		case a.IsNil():
			return -1
		case b.IsNil():
			return 1
		}
		a, b = a.Elem(), b.Elem()
	}
	if a.Kind() != b.Kind() {
		return cmp.Compare(a.Kind(), b.Kind())
	}
	switch a.Kind() {
	case reflect.Bool:
		switch {
		case a.Bool() == b.Bool():
			return 0
		case a.Bool():
			return 1
		}
		return -1
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return cmp.Compare(a.Int(), b.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return cmp.Compare(a.Uint(), b.Uint())
	case reflect.Float32, reflect.Float64:
		return cmp.Compare(a.Float(), b.Float())
	case reflect.Complex64, reflect.Complex128:
		if c := cmp.Compare(real(a.Complex()), real(b.Complex())); c != 0 {
			return c
		}
		return cmp.Compare(imag(a.Complex()), imag(b.Complex()))
	case reflect.String:
		return strings.Compare(a.String(), b.String())
	case reflect.Pointer, reflect.Chan, reflect.UnsafePointer:
		return cmp.Compare(a.Pointer(), b.Pointer())
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if c := compareValues(a.Field(i), b.Field(i)); c != 0 {
				return c
			}
		}
	case reflect.Array:
		for i := 0; i < a.Len(); i++ {
			if c := compareValues(a.Index(i), b.Index(i)); c != 0 {
				return c
			}
		}
	}
	return 0
}
