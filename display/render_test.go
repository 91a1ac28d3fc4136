package display

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"
)

var tenth = 0.1 // a variable, so 0.1+0.2 is not folded to exactly 0.3

type htmlValue struct{}

func (htmlValue) HTML() string { return "<b>bold</b>" }

type mdValue struct{}

func (mdValue) Markdown() string { return "*md*" }

type latexValue struct{}

func (latexValue) Latex() string { return `$\alpha$` }

type svgValue struct{}

func (svgValue) SVG() string { return `<svg width="3" height="4"></svg>` }

type pngValue struct{ data []byte }

func (p pngValue) PNG() []byte { return p.data }

type jpegValue struct{ data []byte }

func (j jpegValue) JPEG() []byte { return j.data }

type jsonValueT struct{}

func (jsonValueT) JSON() any { return map[string]int{"n": 1} }

type badJSON struct{}

func (badJSON) JSON() any    { return func() {} }
func (badJSON) HTML() string { return "<p>still shown</p>" }

// richValue has several forms and a String method for text/plain.
type richValue struct{}

func (richValue) HTML() string     { return "<p>rich</p>" }
func (richValue) Markdown() string { return "**rich**" }
func (richValue) String() string   { return "rich value" }

type rendererValue struct{}

func (rendererValue) Render() Bundle {
	return Bundle{Data: map[string]any{"text/html": "<i>own</i>"}}
}

// rendererAlsoHTML checks that Renderer wins over the other interfaces.
type rendererAlsoHTML struct{ rendererValue }

func (rendererAlsoHTML) HTML() string { return "<b>not used</b>" }

type panicky struct{}

func (panicky) HTML() string { panic("boom") }

type stringer struct{ n int }

func (s stringer) String() string { return fmt.Sprintf("S%d", s.n) }

type errValue struct{}

func (errValue) Error() string    { return "custom error" }
func (errValue) HTML() string     { return "<b>err</b>" }
func (errValue) Markdown() string { return "err" }

func TestRender(t *testing.T) {
	pngData := encodePNG(t, testImage(2, 3))
	jpegData := encodeJPEG(t, testImage(6, 4))
	bundle := Bundle{Data: map[string]any{MIMEMarkdown: "# b"}}
	tests := []struct {
		name  string
		v     any
		mimes []string
		text  string
	}{
		{"nil", nil, []string{MIMEText}, "<nil>"},
		{"int", 42, []string{MIMEText}, "42"},
		{"float", tenth + 0.2, []string{MIMEText}, "0.30000000000000004"},
		{"string", "hi\n", []string{MIMEText}, `"hi\n"`},
		{"error", errors.New("it failed"), []string{MIMEText}, "it failed"},
		{"stringer", stringer{3}, []string{MIMEText}, "S3"},
		{"HTMLer", htmlValue{}, []string{MIMEHTML, MIMEText}, "bold"},
		{"Markdowner", mdValue{}, []string{MIMEMarkdown, MIMEText}, "*md*"},
		{"Latexer", latexValue{}, []string{MIMELatex, MIMEText}, `$\alpha$`},
		{"SVGer", svgValue{}, []string{MIMESVG, MIMEText}, "[image/svg+xml 3x4]"},
		{"PNGer", pngValue{pngData}, []string{MIMEPNG, MIMEText}, "[image/png 2x3]"},
		{"JPEGer", jpegValue{jpegData}, []string{MIMEJPEG, MIMEText}, "[image/jpeg 6x4]"},
		{"JSONer", jsonValueT{}, []string{MIMEJSON, MIMEText}, "{\n  \"n\": 1\n}"},
		{"JSONer failing", badJSON{}, []string{MIMEHTML, MIMEText}, "still shown"},
		{"several forms", richValue{}, []string{MIMEHTML, MIMEMarkdown, MIMEText}, "rich value"},
		{"error with forms", errValue{}, []string{MIMEHTML, MIMEMarkdown, MIMEText}, "custom error"},
		{"Renderer", rendererValue{}, []string{MIMEHTML, MIMEText}, "own"},
		{"Renderer first", rendererAlsoHTML{}, []string{MIMEHTML, MIMEText}, "own"},
		{"Bundle", bundle, []string{MIMEMarkdown, MIMEText}, "# b"},
		{"*Bundle", &bundle, []string{MIMEMarkdown, MIMEText}, "# b"},
		{"nil *Bundle", (*Bundle)(nil), []string{MIMEText}, "<nil>"},
		{"image", testImage(7, 2), []string{MIMEPNG, MIMEText}, "[image/png 7x2]"},
		{"Table", Table{Columns: []string{"a"}, Rows: [][]any{{1}}}, []string{MIMEHTML, MIMEText}, "   a\n0  1"},
		{"*Table", NewTable([]string{"a"}, [][]any{{"x"}}), []string{MIMEHTML, MIMEText}, "   a\n0  x"},
		{"panic", panicky{}, []string{MIMEText}, "%!v(PANIC=render display.panicky: boom)"},
		{"nil pointer with methods that need one", (*htmlByField)(nil), []string{MIMEText}, "<nil>"},
		{"*Table nil", (*Table)(nil), []string{MIMEText}, "<nil>"},
		{"slice", []int{1, 2}, []string{MIMEText}, "[1 2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Render(tt.v)
			want := slices.Clone(tt.mimes)
			slices.Sort(want)
			if got := mimeKeys(b); !slices.Equal(got, want) {
				t.Errorf("MIME types = %v, want %v", got, want)
			}
			if got := b.Data[MIMEText]; got != tt.text {
				t.Errorf("text/plain = %q, want %q", got, tt.text)
			}
			if b.Metadata == nil {
				t.Error("metadata is nil")
			}
		})
	}
}

func TestRenderImageContent(t *testing.T) {
	img := testImage(3, 3)
	b := Render(img)
	got, err := png.Decode(bytes.NewReader(decodeBase64(t, b, MIMEPNG)))
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != img.Bounds() || fmt.Sprint(got.At(2, 1)) != fmt.Sprint(img.At(2, 1)) {
		t.Error("rendered PNG differs from the image")
	}
	wantSize(t, b, MIMEPNG, 3, 3)

	data := encodePNG(t, testImage(2, 3))
	b = Render(pngValue{data})
	if !bytes.Equal(decodeBase64(t, b, MIMEPNG), data) {
		t.Error("PNGer bytes not carried as base64")
	}
	wantSize(t, b, MIMEPNG, 2, 3)
}

type node struct {
	Name string
	Next *node
}

type withUnexported struct {
	a int
	b string
}

type nilStringer struct{ s string }

func (n *nilStringer) String() string { return n.s }

type badStringer struct{}

func (badStringer) String() string { panic("nope") }

func TestRenderText(t *testing.T) {
	big1000 := make([]int, 1000)
	for i := range big1000 {
		big1000[i] = i
	}
	big1001 := append(slices.Clone(big1000), 1000)
	grid := make([][]float64, 100)
	for i := range grid {
		grid[i] = make([]float64, 100)
		grid[i][0] = float64(i)
	}
	bigMap := map[int]bool{}
	for i := range 2000 {
		bigMap[i] = i%2 == 0
	}
	cyclic := make([]any, 1)
	cyclic[0] = cyclic
	n := &node{Name: "a", Next: &node{Name: "b"}}

	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, "<nil>"},
		{"string", `say "hi"`, `"say \"hi\""`},
		{"unicode string", "héllo", `"héllo"`},
		{"int", -7, "-7"},
		{"uint8", uint8(200), "200"},
		{"float64", 1.5, "1.5"},
		{"float32", float32(0.1), "0.1"},
		{"complex", complex(1, -2), "(1-2i)"},
		{"bool", true, "true"},
		{"string slice", []string{"a b", "c"}, `["a b" "c"]`},
		{"nil slice", []int(nil), "[]"},
		{"array", [3]int{1, 2, 3}, "[1 2 3]"},
		{"map sorted", map[string]int{"b": 2, "a": 1, "c": 3}, `map["a":1 "b":2 "c":3]`},
		{"map int keys", map[int]string{10: "x", 2: "y"}, `map[2:"y" 10:"x"]`},
		{"float keys", map[float64]int{2.5: 1, -1: 2}, "map[-1:2 2.5:1]"},
		{"bool keys", map[bool]int{true: 1, false: 0}, "map[false:0 true:1]"},
		{"array keys", map[[2]int]string{{1, 2}: "b", {1, 1}: "a"}, `map[[1 1]:"a" [1 2]:"b"]`},
		{"struct keys", map[struct{ A, B string }]int{{"x", "b"}: 2, {"x", "a"}: 1}, `map[{A:"x" B:"a"}:1 {A:"x" B:"b"}:2]`},
		{"mixed any keys", map[any]int{"s": 1, 2: 2, nil: 0}, `map[<nil>:0 2:2 "s":1]`},
		{"struct", struct {
			X int
			S string
		}{1, "s"}, `{X:1 S:"s"}`},
		{"unexported fields", withUnexported{1, "x"}, `{a:1 b:"x"}`},
		{"pointer to struct", n, fmt.Sprintf(`&{Name:"a" Next:%p}`, n.Next)},
		{"nil pointer", (*node)(nil), "<nil>"},
		{"any slice", []any{"a", 1, nil, 2.5}, `["a" 1 <nil> 2.5]`},
		{"stringer", stringer{2}, "S2"},
		{"stringer slice", []stringer{{1}, {2}}, "[S1 S2]"},
		{"nil stringer pointer", (*nilStringer)(nil), "<nil>"},
		{"panicking stringer", badStringer{}, "%!v(PANIC=String method: nope)"},
		{"error", errors.New("bad"), "bad"},
		{"duration", 1500 * time.Millisecond, "1.5s"},
		{"formatter", big.NewInt(12345), "12345"},
		{"nil func", (func())(nil), "<nil>"},
		{"1000 elements shown", big1000, fmt.Sprint(big1000)},
		{"1001 elements summarised", big1001, "[0 1 2 3 4 5 6 7 8 9 ... 991 992 993 994 995 996 997 998 999 1000] (len 1001)"},
		{"bytes summarised", make([]byte, 5000), "[0 0 0 0 0 0 0 0 0 0 ... 0 0 0 0 0 0 0 0 0 0] (len 5000)"},
		{"cyclic", cyclic, "[[[[[[[[[[[...]]]]]]]]]]]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RenderText(tt.v); got != tt.want {
				t.Errorf("RenderText = %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("grid summarised", func(t *testing.T) {
		got := RenderText(grid)
		rows := strings.Count(got, "[") - 1
		if rows != 20 || !strings.Contains(got, "] ... [") || !strings.HasSuffix(got, "(len 100)") {
			t.Errorf("100x100 grid: %d rows shown, text %q", rows, got)
		}
		if !strings.HasPrefix(got, "[[0 0 0 0 0 0 0 0 0 0 ... 0 0 0 0 0 0 0 0 0 0] [1 0") {
			t.Errorf("grid rows not summarised: %.80q", got)
		}
	})
	t.Run("map summarised", func(t *testing.T) {
		got := RenderText(bigMap)
		want := "map[0:true 1:false 2:true 3:false 4:true 5:false 6:true 7:false 8:true 9:false ... " +
			"1990:true 1991:false 1992:true 1993:false 1994:true 1995:false 1996:true 1997:false 1998:true 1999:false] (len 2000)"
		if got != want {
			t.Errorf("RenderText = %q\nwant %q", got, want)
		}
	})
}

// Images implementing only image.Image (not *image.RGBA) render too.
type gradient struct{}

func (gradient) ColorModel() color.Model   { return image.NewGray(image.Rect(0, 0, 1, 1)).ColorModel() }
func (gradient) Bounds() image.Rectangle   { return image.Rect(0, 0, 4, 4) }
func (g gradient) At(x, y int) color.Color { return image.NewGray(g.Bounds()).At(x, y) }

func TestRenderCustomImage(t *testing.T) {
	b := Render(gradient{})
	if b.Data[MIMEText] != "[image/png 4x4]" {
		t.Errorf("text/plain = %q", b.Data[MIMEText])
	}
	decodeBase64(t, b, MIMEPNG)
}

// htmlByField reads its receiver: a nil one panics.
type htmlByField struct{ s string }

func (h *htmlByField) HTML() string { return h.s }

// Every form but JSON ones reaches the notebook as a string, as nbformat
// requires: a number or a struct given as text becomes its text, a nil
// one is dropped, JSON forms keep their value.
func TestNormalizeKeepsNotebooksValid(t *testing.T) {
	b := normalize(Bundle{Data: map[string]any{
		MIMEHTML:                   42,
		MIMEMarkdown:               nil,
		MIMELatex:                  struct{ A int }{1},
		MIMEJSON:                   map[string]any{"a": 1},
		"application/vnd.foo+json": []int{1, 2},
		MIMEPNG:                    []byte{1, 2, 3},
	}})
	want := map[string]any{
		MIMEHTML:  "42",
		MIMELatex: "{1}",
		MIMEPNG:   "AQID",
	}
	for k, v := range want {
		if b.Data[k] != v {
			t.Errorf("%s = %#v, want %#v", k, b.Data[k], v)
		}
	}
	if _, ok := b.Data[MIMEMarkdown]; ok {
		t.Error("a nil form was kept")
	}
	if _, ok := b.Data[MIMEJSON].(map[string]any); !ok {
		t.Errorf("JSON form %#v", b.Data[MIMEJSON])
	}
	if _, ok := b.Data["application/vnd.foo+json"].([]int); !ok {
		t.Errorf("+json form %#v", b.Data["application/vnd.foo+json"])
	}
	if s, ok := b.Data[MIMEText].(string); !ok || s == "" {
		t.Errorf("text/plain %#v", b.Data[MIMEText])
	}
}

type regTemp float64

func TestRegisterType(t *testing.T) {
	if got := Render(regTemp(21.5)).Data[MIMEText]; got != "21.5" {
		t.Fatalf("unregistered: %v", got)
	}
	RegisterType(regTemp(0), func(v any) Bundle {
		return Bundle{Data: map[string]any{MIMEText: fmt.Sprintf("%.1f °C", float64(v.(regTemp)))}}
	})
	defer RegisterType(regTemp(0), nil)
	if got := Render(regTemp(21.5)).Data[MIMEText]; got != "21.5 °C" {
		t.Errorf("registered: %v", got)
	}
	// Only that exact type: a pointer to it is not.
	c := regTemp(3)
	if got := Render(&c).Data[MIMEText]; strings.Contains(fmt.Sprint(got), "°C") {
		t.Errorf("*regTemp rendered by regTemp's function: %v", got)
	}
	RegisterType(regTemp(0), nil)
	if got := Render(regTemp(21.5)).Data[MIMEText]; got != "21.5" {
		t.Errorf("after removal: %v", got)
	}
	RegisterType(nil, func(any) Bundle { return Bundle{} }) // ignored
}
