// Package fieldname gives the fields of struct types declared in notebook
// cells their source names back, for display.
//
// The interpreter builds a cell's struct types with reflect.StructOf,
// which only takes exported field names: it renames the others with an X
// in front (name becomes Xname), so a cell's result would show
// {Xname:"a"} for a value Go prints as {name:"a"}. The kernel declares
// the field lists of the struct types in each cell it runs (Declare), and
// the display of results asks for the source names of a type's fields
// (Names). A type is known by its field names as reflect shows them; two
// declarations that reflect shows alike but that name differently (a
// field Xname in one, name in the other) are left as reflect shows them.
package fieldname

import (
	"go/token"
	"reflect"
	"slices"
	"strings"
	"sync"
)

var (
	mu sync.RWMutex
	// names maps the field names of a type as reflect shows them, joined
	// by NUL, to their source names; nil for an ambiguous key.
	names = map[string][]string{}
)

// key is the field names as reflect shows them, joined.
func key(fields []string) string { return strings.Join(fields, "\x00") }

// Declare records the field names of a struct type as its source gives
// them, in order (an embedded field is named by its type). Types whose
// fields are all exported need no record and get none.
func Declare(fields []string) {
	shown := make([]string, len(fields))
	renamed := false
	for i, f := range fields {
		shown[i] = f
		if !token.IsExported(f) {
			shown[i] = "X" + f
			renamed = true
		}
	}
	if !renamed {
		return
	}
	k := key(shown)
	mu.Lock()
	defer mu.Unlock()
	prev, ok := names[k]
	switch {
	case !ok:
		names[k] = append([]string(nil), fields...)
	case prev != nil && !slices.Equal(prev, fields):
		names[k] = nil
	}
}

// Names returns the source names of the fields of struct type t, or nil
// when they are the names reflect shows (or t is not a struct type).
func Names(t reflect.Type) []string {
	if t == nil || t.Kind() != reflect.Struct || t.NumField() == 0 {
		return nil
	}
	mu.RLock()
	empty := len(names) == 0
	mu.RUnlock()
	if empty {
		return nil
	}
	shown := make([]string, t.NumField())
	for i := range shown {
		shown[i] = t.Field(i).Name
	}
	mu.RLock()
	defer mu.RUnlock()
	return names[key(shown)]
}
