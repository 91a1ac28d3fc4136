package display

import (
	"reflect"
	"unsafe"
)

// yaegi (the notebook interpreter) stores a value of an interpreted type
// that is put in an interface-typed slot, such as an element of a []any,
// as its internal struct valueInterface{node *node; value reflect.Value}.
// Compiled code that reaches such an element would print the interpreter's
// internals; interpretedValue recovers the value itself. The check is by
// package, name and field type, so another interpreter version with a
// different layout is simply not unwrapped.
const yaegiInterp = "github.com/traefik/yaegi/interp"

var reflectValueType = reflect.TypeFor[reflect.Value]()

func interpretedValue(v reflect.Value) (reflect.Value, bool) {
	if v.Kind() != reflect.Struct || !v.CanInterface() {
		return v, false
	}
	t := v.Type()
	if t.Name() != "valueInterface" || t.PkgPath() != yaegiInterp {
		return v, false
	}
	f, ok := t.FieldByName("value")
	if !ok || f.Type != reflectValueType {
		return v, false
	}
	c := reflect.New(t).Elem() // addressable copy, to read the unexported field
	c.Set(v)
	inner := *(*reflect.Value)(unsafe.Pointer(c.FieldByIndex(f.Index).UnsafeAddr()))
	if !inner.IsValid() {
		return v, false
	}
	return inner, true
}
