package symbols

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"

	"github.com/traefik/yaegi/interp"
)

func TestSymbolsKeys(t *testing.T) {
	want := []string{
		// yaegi's standard library tables.
		"fmt/fmt",
		"strings/strings",
		"math/rand/rand",
		"encoding/json/json",
		// Generated here.
		"gonum.org/v1/gonum/mat/mat",
		"gonum.org/v1/gonum/floats/floats",
		"gonum.org/v1/gonum/stat/stat",
		"gonum.org/v1/gonum/stat/distuv/distuv",
		"gonum.org/v1/gonum/optimize/optimize",
		"gonum.org/v1/plot/plot",
		"gonum.org/v1/plot/plotter/plotter",
		"gonum.org/v1/plot/plotutil/plotutil",
		"gonum.org/v1/plot/vg/vg",
		"gonum.org/v1/plot/vg/draw/draw",
		"gonum.org/v1/plot/vg/vgimg/vgimg",
		"gonum.org/v1/plot/vg/vgsvg/vgsvg",
		"github.com/gopherlab/gopherlab/display/display",
	}
	for _, key := range want {
		t.Run(key, func(t *testing.T) {
			table, ok := Symbols[key]
			if !ok {
				t.Fatalf("Symbols has no %q", key)
			}
			if len(table) == 0 {
				t.Fatalf("Symbols[%q] is empty", key)
			}
		})
	}
	// Spot checks that the tables hold what cells call.
	for _, c := range []struct{ key, name string }{
		{"gonum.org/v1/gonum/mat/mat", "NewDense"},
		{"gonum.org/v1/gonum/mat/mat", "Dense"},
		{"gonum.org/v1/gonum/mat/mat", "_Matrix"}, // wrapper for interpreted implementations
		{"gonum.org/v1/gonum/floats/floats", "Sum"},
		{"gonum.org/v1/gonum/optimize/optimize", "NelderMead"},
		{"gonum.org/v1/plot/plotter/plotter", "NewScatter"},
		{"gonum.org/v1/plot/vg/vg", "Inch"},
		{"github.com/gopherlab/gopherlab/display/display", "HTML"},
	} {
		if v := Symbols[c.key][c.name]; !v.IsValid() {
			t.Errorf("Symbols[%q][%q] is missing", c.key, c.name)
		}
	}
}

// results collects what cell code reports through the "gltest" package, so
// the test does not depend on the values yaegi's Eval returns.
type results struct {
	mu  sync.Mutex
	got map[string]any
}

func (r *results) set(name string, v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[name] = v
}

func newInterp(t *testing.T) (*interp.Interpreter, *results) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	i := interp.New(interp.Options{Unrestricted: true, Stdout: &stdout, Stderr: &stderr})
	if err := i.Use(Symbols); err != nil {
		t.Fatalf("Use(Symbols): %v", err)
	}
	r := &results{got: map[string]any{}}
	if err := i.Use(interp.Exports{"gltest/gltest": {"Set": reflect.ValueOf(r.set)}}); err != nil {
		t.Fatalf("Use(gltest): %v", err)
	}
	return i, r
}

func TestCellsUseGonumAndPlot(t *testing.T) {
	i, r := newInterp(t)
	cells := []string{
		`import (
			"bytes"
			"sort"

			"gltest"
			"gonum.org/v1/gonum/floats"
			"gonum.org/v1/gonum/mat"
			"gonum.org/v1/gonum/optimize"
			"gonum.org/v1/gonum/stat"
			"gonum.org/v1/gonum/stat/distuv"
			"gonum.org/v1/plot"
			"gonum.org/v1/plot/plotter"
			"gonum.org/v1/plot/vg"
		)`,
		`a := mat.NewDense(2, 2, []float64{1, 2, 3, 4})
		b := mat.NewDense(2, 2, []float64{5, 6, 7, 8})
		var c mat.Dense
		c.Mul(a, b)
		gltest.Set("mul", mat.Formatted(&c, mat.Squeeze()))
		gltest.Set("mul10", c.At(1, 0))`,
		`xs := []float64{3, 1, 2}
		sort.Float64s(xs) // slices.Sort is generic, and missing
		gltest.Set("sorted", xs)
		gltest.Set("max", floats.Max(xs))
		gltest.Set("sum", floats.Sum([]float64{1, 2, 3.5}))
		gltest.Set("mean", stat.Mean([]float64{1, 2, 3, 4}, nil))`,
		`n := distuv.Normal{Mu: 0, Sigma: 1}
		gltest.Set("cdf", n.CDF(0))
		gltest.Set("rand", n.Rand())`,
		`p := optimize.Problem{Func: func(x []float64) float64 {
			return (x[0]-1)*(x[0]-1) + (x[1]+2)*(x[1]+2)
		}}
		res, err := optimize.Minimize(p, []float64{0, 0}, nil, &optimize.NelderMead{})
		if err != nil {
			panic(err)
		}
		gltest.Set("argmin", res.X)`,
		`pl := plot.New()
		pl.Title.Text = "scatter"
		sc, err := plotter.NewScatter(plotter.XYs{{X: 1, Y: 2}, {X: 2, Y: 3}, {X: 3, Y: 5}})
		if err != nil {
			panic(err)
		}
		pl.Add(sc)
		wt, err := pl.WriterTo(4*vg.Inch, 3*vg.Inch, "png")
		if err != nil {
			panic(err)
		}
		var buf bytes.Buffer
		if _, err := wt.WriteTo(&buf); err != nil {
			panic(err)
		}
		gltest.Set("png", buf.Bytes())`,
	}
	for n, cell := range cells {
		if _, err := i.Eval(cell); err != nil {
			t.Fatalf("cell %d: %v\n%s", n, err, cell)
		}
	}

	close := func(a, b float64) bool { return math.Abs(a-b) < 1e-4 }
	if got := r.got["mul10"]; got != 43.0 {
		t.Errorf("(a*b)[1,0] = %v, want 43", got)
	}
	if got := fmt.Sprint(r.got["mul"]); got != "⎡19  22⎤\n⎣43  50⎦" {
		t.Errorf("a*b formatted = %q", got)
	}
	if got := fmt.Sprint(r.got["sorted"], r.got["max"]); got != "[1 2 3] 3" {
		t.Errorf("sorted, max = %s, want [1 2 3] 3", got)
	}
	if got := r.got["sum"]; got != 6.5 {
		t.Errorf("floats.Sum = %v, want 6.5", got)
	}
	if got := r.got["mean"]; got != 2.5 {
		t.Errorf("stat.Mean = %v, want 2.5", got)
	}
	if got := r.got["cdf"]; got != 0.5 {
		t.Errorf("Normal.CDF(0) = %v, want 0.5", got)
	}
	if got, ok := r.got["rand"].(float64); !ok || math.IsNaN(got) {
		t.Errorf("Normal.Rand() = %v", r.got["rand"])
	}
	if x, ok := r.got["argmin"].([]float64); !ok || len(x) != 2 || !close(x[0], 1) || !close(x[1], -2) {
		t.Errorf("optimize.Minimize found %v, want [1 -2]", r.got["argmin"])
	}
	png, _ := r.got["png"].([]byte)
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 1000 {
		t.Errorf("plot PNG: %d bytes starting %q", len(png), png[:min(len(png), 8)])
	}
}

// An interpreted type satisfies a compiled interface through the generated
// wrapper (the "_Matrix" entry), so cells can hand their own matrices to
// gonum.
func TestInterpretedTypeSatisfiesCompiledInterface(t *testing.T) {
	i, r := newInterp(t)
	cells := []string{
		`import (
			"gltest"
			"gonum.org/v1/gonum/mat"
		)`,
		`type ones struct{ n int }

		func (o ones) Dims() (int, int)       { return o.n, o.n }
		func (o ones) At(i, j int) float64    { return 1 }
		func (o ones) T() mat.Matrix          { return o }`,
		`gltest.Set("sum", mat.Sum(ones{3}))`,
	}
	for n, cell := range cells {
		if _, err := i.Eval(cell); err != nil {
			t.Fatalf("cell %d: %v", n, err)
		}
	}
	if got := r.got["sum"]; got != 9.0 {
		t.Errorf("mat.Sum(ones{3}) = %v, want 9", got)
	}
}

// Compiled display functions see the methods of interpreted types only
// through the wrappers that Symbols["."]["MapTypes"] asks yaegi to apply.
func TestDisplaySeesInterpretedMethods(t *testing.T) {
	i, r := newInterp(t)
	cells := []string{
		`import (
			"gltest"
			"github.com/gopherlab/gopherlab/display"
		)`,
		`type card struct{ s string }

		func (c card) HTML() string { return "<b>" + c.s + "</b>" }

		type named struct{ s string }

		func (n named) String() string { return "named " + n.s }`,
		`gltest.Set("html", display.Render(card{"x"}).Data["text/html"])
		gltest.Set("plain", display.Render(named{"y"}).Data["text/plain"])
		gltest.Set("text", display.RenderText(named{"z"}))`,
	}
	for n, cell := range cells {
		if _, err := i.Eval(cell); err != nil {
			t.Fatalf("cell %d: %v", n, err)
		}
	}
	for name, want := range map[string]any{"html": "<b>x</b>", "plain": "named y", "text": "named z"} {
		if got := r.got[name]; got != want {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
}
