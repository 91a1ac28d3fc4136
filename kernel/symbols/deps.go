package symbols

import (
	"reflect"
	"sort"
	"strings"
)

// depsLocked returns the import paths, other than p, of the packages whose
// tables an interpreter needs besides p's: those declaring an interface
// that an interpreted value may be passed as to p's API. yaegi passes an
// interpreted value to compiled code as an interface I of package q by
// wrapping it in the "_I" type of q's table (getWrapper in interp/use.go);
// without q's table it dereferences nil and panics the host. So fmt needs
// io (Fprintln takes an io.Writer), encoding/json needs encoding (Marshal
// looks for encoding.TextMarshaler, through MapTypes), plot needs
// image/color.
//
// The dependencies are found by walking, with reflect, every type reachable
// from p's table: function signatures, exported struct fields, the methods
// of named types and of interfaces, element types. Only interfaces an
// interpreted type can implement count: named, with methods, all exported.
func depsLocked(p string) []string {
	if d, ok := reg.deps[p]; ok {
		return d
	}
	t := tableLocked(p)
	found := map[string]bool{}
	w := walker{seen: map[reflect.Type]bool{}, found: found}
	mt := mapTypes()
	for name, v := range t {
		if strings.HasPrefix(name, "_") || !v.IsValid() {
			continue // an interface wrapper: a type of package symbols
		}
		w.walk(v.Type())
		if v.Kind() == reflect.Func {
			for _, rt := range mt[v] {
				w.walk(rt)
			}
		}
	}
	var deps []string
	for q := range found {
		if _, ok := lookupLocked(q); ok && q != p {
			deps = append(deps, q)
		}
	}
	sort.Strings(deps)
	if deps == nil {
		deps = []string{}
	}
	if reg.deps == nil {
		reg.deps = map[string][]string{}
	}
	reg.deps[p] = deps
	return deps
}

type walker struct {
	seen  map[reflect.Type]bool
	found map[string]bool // package paths of implementable interfaces
}

func (w *walker) walk(t reflect.Type) {
	stack := []reflect.Type{t}
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if t == nil || w.seen[t] {
			continue
		}
		w.seen[t] = true
		switch t.Kind() {
		case reflect.Interface:
			if t.Name() != "" && t.PkgPath() != "" && implementable(t) {
				w.found[t.PkgPath()] = true
			}
			for i := range t.NumMethod() {
				stack = append(stack, t.Method(i).Type)
			}
			continue // no other methods to look at
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
			stack = append(stack, t.Elem())
		case reflect.Map:
			stack = append(stack, t.Key(), t.Elem())
		case reflect.Func:
			for i := range t.NumIn() {
				stack = append(stack, t.In(i))
			}
			for i := range t.NumOut() {
				stack = append(stack, t.Out(i))
			}
		case reflect.Struct:
			for i := range t.NumField() {
				if f := t.Field(i); f.IsExported() {
					stack = append(stack, f.Type)
				}
			}
		}
		// Exported methods, including those of the pointer type (the
		// receiver is the first parameter: seen already).
		for i := range t.NumMethod() {
			stack = append(stack, t.Method(i).Type)
		}
		if t.Name() != "" && t.Kind() != reflect.Pointer {
			stack = append(stack, reflect.PointerTo(t))
		}
	}
}

// implementable reports whether an interpreted type can implement the
// interface t: it has methods, and none is unexported.
func implementable(t reflect.Type) bool {
	if t.NumMethod() == 0 {
		return false
	}
	for i := range t.NumMethod() {
		if !t.Method(i).IsExported() {
			return false
		}
	}
	return true
}
