package fieldname

import (
	"reflect"
	"slices"
	"testing"
)

// structOf builds a struct type the way the interpreter does: fields
// renamed with an X when they are not exported.
func structOf(names ...string) reflect.Type {
	var fs []reflect.StructField
	for _, n := range names {
		fs = append(fs, reflect.StructField{Name: n, Type: reflect.TypeFor[int]()})
	}
	return reflect.StructOf(fs)
}

func TestNames(t *testing.T) {
	Declare([]string{"name", "Acc"})
	Declare([]string{"Xmin", "Xmax"}) // all exported: nothing to record
	Declare([]string{"a", "b"})
	Declare([]string{"Xa", "b"}) // shown as Xa Xb too: ambiguous
	Declare([]string{"name", "Acc"})
	for _, tc := range []struct {
		t    reflect.Type
		want []string
	}{
		{structOf("Xname", "Acc"), []string{"name", "Acc"}},
		{structOf("Xmin", "Xmax"), nil},
		{structOf("Xa", "Xb"), nil},
		{structOf("Other"), nil},
		{reflect.TypeFor[int](), nil},
		{nil, nil},
	} {
		if got := Names(tc.t); !slices.Equal(got, tc.want) {
			t.Errorf("Names(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}
