package display

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// htmlerWrapper is the interface wrapper `yaegi extract` generates for
// HTMLer; yaegi needs it to hand an interpreted value to compiled code
// that expects an HTMLer.
type htmlerWrapper struct {
	IValue any
	WHTML  func() string
}

func (w htmlerWrapper) HTML() string { return w.WHTML() }

// newInterpreter returns a yaegi interpreter that can import this package
// (a few of its symbols) the way notebook cells do.
func newInterpreter(t *testing.T) *interp.Interpreter {
	t.Helper()
	i := interp.New(interp.Options{})
	if err := i.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	exports := interp.Exports{
		"github.com/gopherlab/gopherlab/display/display": {
			"RenderText": reflect.ValueOf(RenderText),
			"Show":       reflect.ValueOf(Show),
			"ShowTable":  reflect.ValueOf(ShowTable),
			"HTMLer":     reflect.ValueOf((*HTMLer)(nil)),
			"_HTMLer":    reflect.ValueOf((*htmlerWrapper)(nil)),
		},
		// How the kernel's symbol tables make Show see the methods of
		// interpreted types: yaegi passes an interpreted value to a
		// compiled `any` parameter without its methods, unless the function
		// is listed in MapTypes with the interfaces to wrap it as.
		".": {"MapTypes": reflect.ValueOf(map[reflect.Value][]reflect.Type{
			reflect.ValueOf(Show): {reflect.TypeFor[HTMLer](), reflect.TypeFor[fmt.Stringer]()},
		})},
	}
	if err := i.Use(exports); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{
		`import "github.com/gopherlab/gopherlab/display"`,
		`type Point struct{ X, Y int }`,
		`type Card struct{ Title string }`,
		`func (c Card) HTML() string { return "<h3>" + c.Title + "</h3>" }`,
	} {
		if _, err := i.Eval(src); err != nil {
			t.Fatalf("eval %q: %v", src, err)
		}
	}
	return i
}

func TestInterpretedValues(t *testing.T) {
	i := newInterpreter(t)
	tests := []struct {
		name string
		src  string
		want string
	}{
		// Interpreted values inside []any reach compiled code boxed in
		// yaegi's valueInterface; they must print as themselves.
		{"any slice", `display.RenderText([]any{Point{1, 2}, "s", 3})`, `[{X:1 Y:2} "s" 3]`},
		{"with methods", `display.RenderText([]any{Card{"a"}, Point{1, 2}})`, `[{Title:"a"} {X:1 Y:2}]`},
		{"nested", `display.RenderText(map[string]any{"p": []any{Point{3, 4}}})`, `map["p":[{X:3 Y:4}]]`},
		{"plain slice", `display.RenderText([]Point{{5, 6}})`, `[{X:5 Y:6}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := i.Eval(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(v.Interface()); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("table cells", func(t *testing.T) {
		r := record(t)
		if _, err := i.Eval(`display.ShowTable([]string{"p", "c"}, [][]any{{Point{7, 8}, Card{"x"}}})`); err != nil {
			t.Fatal(err)
		}
		ev := r.only(t)
		if got := ev.b.Data[MIMEText]; got != "           p            c\n0  {X:7 Y:8}  {Title:\"x\"}" {
			t.Errorf("text/plain = %q", got)
		}
		if h := ev.b.Data[MIMEHTML].(string); !strings.Contains(h, "<td>{X:7 Y:8}</td>") {
			t.Errorf("html lacks the cell:\n%s", h)
		}
	})

	t.Run("Show with MapTypes", func(t *testing.T) {
		r := record(t)
		if _, err := i.Eval(`display.Show(Card{"Hello"})`); err != nil {
			t.Fatal(err)
		}
		ev := r.only(t)
		if ev.b.Data[MIMEHTML] != "<h3>Hello</h3>" || ev.b.Data[MIMEText] != "Hello" {
			t.Errorf("bundle = %v, want the interpreted HTML method's output", ev.b.Data)
		}
	})
}
