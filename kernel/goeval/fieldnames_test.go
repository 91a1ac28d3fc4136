package goeval

import "testing"

// A cell's result shows the fields of the cell's own struct types by
// their names, as Go prints them, not by the exported names yaegi gives
// the unexported ones (Xname).
func TestResultFieldNames(t *testing.T) {
	s := newSession(t)
	s.run("type model struct {\n\tname string\n\tAcc  float64\n\tnote, _x string\n}\ntype Axis struct{ Xmin, Xmax float64 }\ntype wrap struct {\n\tmodel\n\tN int\n}")
	for _, tc := range []struct{ expr, want string }{
		{`model{"knn", 0.93, "k=5", ""}`, `{name:"knn" Acc:0.93 note:"k=5" _x:""}`},
		{`[]model{{name: "a"}, {name: "b", Acc: 1}}`, `[{name:"a" Acc:0 note:"" _x:""} {name:"b" Acc:1 note:"" _x:""}]`},
		{`Axis{0, 1}`, `{Xmin:0 Xmax:1}`},
		{`&wrap{N: 2}`, `&{model:{name:"" Acc:0 note:"" _x:""} N:2}`},
		{`struct {
	key string
	val int
}{"k", 1}`, `{key:"k" val:1}`},
	} {
		if got := s.text(tc.expr); got != tc.want {
			t.Errorf("%s shows %s, want %s", tc.expr, got, tc.want)
		}
	}
}
