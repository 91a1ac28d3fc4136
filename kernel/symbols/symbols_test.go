package symbols

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/traefik/yaegi/interp"

	"github.com/gopherlab/gopherlab/display"
)

// Importing the package must build no table: that is its point. Tests
// build tables, so look before any runs.
func TestMain(m *testing.M) {
	reg.mu.Lock()
	built := len(reg.built)
	reg.mu.Unlock()
	if built != 0 {
		fmt.Fprintf(os.Stderr, "%d tables built at init, want none\n", built)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func TestTables(t *testing.T) {
	all := All()
	want := []string{
		// The standard library.
		"fmt/fmt",
		"strings/strings",
		"math/rand/rand",
		"math/rand/v2/rand",
		"encoding/json/json",
		"net/http/http",
		// Packages whose API is all generic: yaegi compiles theirs from
		// source, but the tables exist (empty).
		"slices/slices",
		"maps/maps",
		"cmp/cmp",
		// Others.
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
		"github.com/gopherlab/gopherlab/tracking/tracking",
	}
	for _, key := range want {
		t.Run(key, func(t *testing.T) {
			table, ok := all[key]
			if !ok {
				t.Fatalf("All() has no %q", key)
			}
			p := path.Dir(key)
			if !Has(p) {
				t.Errorf("Has(%q) = false", p)
			}
			if ex := Exports(p); !isBase(p) && !reflect.DeepEqual(ex[key], table) {
				t.Errorf("Exports(%q) does not hold the table of All", p)
			}
			if len(table) == 0 && !strings.Contains("slices maps cmp", p) {
				t.Fatalf("All()[%q] is empty", key)
			}
		})
	}
	if _, ok := all["."]["MapTypes"]; !ok {
		t.Error("All() has no MapTypes")
	}
	// What yaegi's stdlib package has but cells must not reach (syscall,
	// unsafe), or that yaegi v0.16.1 cannot run.
	for _, p := range []string{"syscall", "unsafe", "iter", "unique", "weak", "os/exec", "github.com/traefik/yaegi/stdlib", "no/such/package"} {
		if Has(p) {
			t.Errorf("Has(%q) = true", p)
		}
	}
	// Spot checks that the tables hold what cells call.
	for _, c := range []struct{ key, name string }{
		{"fmt/fmt", "Println"},
		{"os/os", "Exit"},
		{"strings/strings", "Cut"},
		{"gonum.org/v1/gonum/mat/mat", "NewDense"},
		{"gonum.org/v1/gonum/mat/mat", "Dense"},
		{"gonum.org/v1/gonum/mat/mat", "_Matrix"}, // wrapper for interpreted implementations
		{"gonum.org/v1/gonum/floats/floats", "Sum"},
		{"gonum.org/v1/gonum/optimize/optimize", "NelderMead"},
		{"gonum.org/v1/plot/plotter/plotter", "NewScatter"},
		{"gonum.org/v1/plot/vg/vg", "Inch"},
		{"github.com/gopherlab/gopherlab/display/display", "HTML"},
	} {
		if v := all[c.key][c.name]; !v.IsValid() {
			t.Errorf("All()[%q][%q] is missing", c.key, c.name)
		}
	}
	// os.Exit and log.Fatal must panic instead of ending the process.
	if reflect.ValueOf(osExit).Pointer() != all["os/os"]["Exit"].Pointer() {
		t.Error("os.Exit is not replaced")
	}
	if reflect.ValueOf(logFatal).Pointer() != all["log/log"]["Fatal"].Pointer() {
		t.Error("log.Fatal is not replaced")
	}
}

// An iterator is useless without range-over-func, which panics yaegi
// v0.16.1's host: the tables leave out functions that return one.
func TestNoIterators(t *testing.T) {
	for key, table := range All() {
		for name, v := range table {
			if v.Kind() != reflect.Func {
				continue
			}
			ft := v.Type()
			for i := range ft.NumOut() {
				if ft.Out(i).PkgPath() == "iter" {
					t.Errorf("%s.%s returns %v", path.Dir(key), name, ft.Out(i))
				}
			}
		}
	}
}

func isBase(p string) bool {
	_, ok := Base()[path.Join(p, path.Base(p))]
	return ok
}

func keys(ex interp.Exports) []string {
	var ks []string
	for k := range ex {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestBase(t *testing.T) {
	base := Base()
	for _, key := range []string{"fmt/fmt", "log/log", "os/os", "flag/flag", "math/bits/bits", "io/io", "."} {
		if _, ok := base[key]; !ok {
			t.Errorf("Base() lacks %q (has %v)", key, keys(base))
		}
	}
	if len(base) > 12 {
		t.Errorf("Base() holds %d tables, want only what a session needs first: %v", len(base), keys(base))
	}
	mt, ok := base["."]["MapTypes"].Interface().(map[reflect.Value][]reflect.Type)
	if !ok || len(mt[reflect.ValueOf(fmt.Println)]) == 0 || len(mt[reflect.ValueOf(display.Show)]) == 0 {
		t.Error("Base()'s MapTypes lack fmt.Println or display.Show")
	}
}

func TestExports(t *testing.T) {
	tests := []struct {
		paths []string
		want  []string // keys, exactly
	}{
		{nil, nil},
		{[]string{"no/such/package"}, nil},
		// Base's tables are never given again.
		{[]string{"fmt", "os", "log"}, nil},
		{[]string{"strings"}, []string{"strings/strings"}},
		{[]string{"math/rand/v2"}, []string{"math/rand/v2/rand"}},
		// With the packages of the interfaces their API takes.
		{[]string{"encoding/json"}, []string{"encoding/json/json"}}, // encoding and io are in Base
		{[]string{"image/png"}, []string{"image/color/color", "image/image", "image/png/png"}},
		{[]string{"gonum.org/v1/gonum/stat", "no/such/package"}, []string{"gonum.org/v1/gonum/mat/mat", "gonum.org/v1/gonum/stat/stat"}},
	}
	for _, tt := range tests {
		if got := keys(Exports(tt.paths...)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Exports(%q) = %q, want %q", tt.paths, got, tt.want)
		}
	}
	// Never a base table, whatever is asked.
	base := Base()
	for _, p := range Packages() {
		for key := range Exports(p) {
			if _, ok := base[key]; ok || key == "." {
				t.Errorf("Exports(%q) holds %q, which Base gave", p, key)
			}
		}
	}
}

func TestRegister(t *testing.T) {
	const key = "example.com/extra/extra"
	t.Cleanup(func() {
		reg.mu.Lock()
		defer reg.mu.Unlock()
		delete(reg.extra, "example.com/extra")
		delete(reg.built, "example.com/extra")
		delete(reg.deps, "example.com/extra")
	})
	calls := 0
	Register(key, func() map[string]reflect.Value {
		calls++
		return map[string]reflect.Value{"Answer": reflect.ValueOf(func() int { return 42 })}
	})
	if !Has("example.com/extra") || !slices.Contains(Packages(), "example.com/extra") {
		t.Fatal("a registered table is not offered")
	}
	if calls != 0 {
		t.Errorf("Register built the table")
	}
	i, r := newInterp(t, "example.com/extra")
	if _, err := i.Eval(`import ("gltest"; "example.com/extra")`); err != nil {
		t.Fatal(err)
	}
	if _, err := i.Eval(`gltest.Set("answer", extra.Answer())`); err != nil {
		t.Fatal(err)
	}
	Exports("example.com/extra")
	if got := r.got["answer"]; got != 42 || calls != 1 {
		t.Errorf("answer = %v after %d builds, want 42 after 1", got, calls)
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

// newInterp makes an interpreter as a session does: Base first, then the
// tables of the packages its cells import.
func newInterp(t *testing.T, paths ...string) (*interp.Interpreter, *results) {
	t.Helper()
	i, r, _, _ := newInterpOut(t, paths...)
	return i, r
}

func newInterpOut(t *testing.T, paths ...string) (*interp.Interpreter, *results, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	i := interp.New(interp.Options{Unrestricted: true, Stdout: &stdout, Stderr: &stderr})
	if err := i.Use(Base()); err != nil {
		t.Fatalf("Use(Base()): %v", err)
	}
	if err := i.Use(Exports(paths...)); err != nil {
		t.Fatalf("Use(Exports(%q)): %v", paths, err)
	}
	r := &results{got: map[string]any{}}
	if err := i.Use(interp.Exports{"gltest/gltest": {"Set": reflect.ValueOf(r.set)}}); err != nil {
		t.Fatalf("Use(gltest): %v", err)
	}
	return i, r, &stdout, &stderr
}

// The test the package exists for: a session that loads only what it
// imports can print, multiply matrices and show HTML, and its output goes
// where the interpreter says, however many tables come later.
func TestSessionFromBase(t *testing.T) {
	i, r, stdout, stderr := newInterpOut(t, "gonum.org/v1/gonum/mat", "github.com/gopherlab/gopherlab/display")
	cells := []string{
		`import (
			"fmt"
			"log"

			"gltest"
			"github.com/gopherlab/gopherlab/display"
			"gonum.org/v1/gonum/mat"
		)`,
		`fmt.Println("hello", 42)
		log.SetFlags(0)
		log.Println("to stderr")`,
		`a := mat.NewDense(2, 2, []float64{1, 2, 3, 4})
		b := mat.NewDense(2, 2, []float64{5, 6, 7, 8})
		var c mat.Dense
		c.Mul(a, b)
		gltest.Set("mul", fmt.Sprint(mat.Formatted(&c, mat.Squeeze())))`,
		`display.HTML("<b>hi</b>")`,
	}
	var pub publisher
	prev := display.SetPublisher(&pub)
	t.Cleanup(func() { display.SetPublisher(prev) })
	for n, cell := range cells {
		if _, err := i.Eval(cell); err != nil {
			t.Fatalf("cell %d: %v\n%s", n, err, cell)
		}
	}
	// A later table must not undo the redirection of fmt and log.
	if err := i.Use(Exports("strings", "encoding/json")); err != nil {
		t.Fatal(err)
	}
	if _, err := i.Eval(`import "strings"`); err != nil {
		t.Fatal(err)
	}
	if _, err := i.Eval(`fmt.Println(strings.ToUpper("after"))
		log.Println("still stderr")`); err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != "hello 42\nAFTER\n" {
		t.Errorf("stdout = %q", got)
	}
	if got := stderr.String(); got != "to stderr\nstill stderr\n" {
		t.Errorf("stderr = %q", got)
	}
	if got := r.got["mul"]; got != "⎡19  22⎤\n⎣43  50⎦" {
		t.Errorf("a*b = %q", got)
	}
	if len(pub.shown) != 1 || pub.shown[0].Data["text/html"] != "<b>hi</b>" {
		t.Errorf("display.HTML showed %#v", pub.shown)
	}
}

// publisher records what cells display.
type publisher struct {
	mu    sync.Mutex
	shown []display.Bundle
}

func (p *publisher) Display(b display.Bundle, _ string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shown = append(p.shown, b)
}
func (p *publisher) Update(display.Bundle, string) {}
func (p *publisher) Clear(bool)                    {}

// os.Exit and log.Fatal in a cell panic instead of ending the process.
func TestExitPanics(t *testing.T) {
	i, _ := newInterp(t)
	for _, cell := range []string{`import ("log"; "os")`, `os.Exit(3)`, `log.Fatal("boom")`} {
		_, err := i.Eval(cell)
		if cell[0] == 'i' {
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		var p interp.Panic
		if !errors.As(err, &p) {
			t.Errorf("%s: err = %v, want a Panic", cell, err)
		}
	}
}

// yaegi hands an interpreted value to compiled code as an interface only
// when the interface's package is loaded, and crashes the host otherwise:
// Exports must bring those packages along.
func TestInterfacesOfOtherPackages(t *testing.T) {
	tests := []struct {
		name    string
		imports []string
		cells   []string
		want    any
	}{
		{"io.Writer to fmt", nil, []string{
			`import ("fmt"; "gltest")`,
			`type w struct{ n *int }

			func (w w) Write(p []byte) (int, error) { *w.n += len(p); return len(p), nil }`,
			`n := 0
			fmt.Fprintln(w{&n}, "12345")
			gltest.Set("got", n)`,
		}, 6},
		{"encoding.TextMarshaler to json", []string{"encoding/json"}, []string{
			`import ("encoding/json"; "gltest")`,
			`type t struct{}

			func (t) MarshalText() ([]byte, error) { return []byte("text"), nil }`,
			`b, err := json.Marshal(t{})
			if err != nil {
				panic(err)
			}
			gltest.Set("got", string(b))`,
		}, `"text"`},
		{"color.Color to image", []string{"image"}, []string{
			`import ("image"; "gltest")`,
			`type gray struct{}

			func (gray) RGBA() (r, g, b, a uint32) { return 1, 2, 3, 4 }`,
			`m := image.NewRGBA(image.Rect(0, 0, 1, 1))
			m.Set(0, 0, gray{})
			gltest.Set("got", m.Pix[3])`,
		}, uint8(0)},
		{"io.Reader to bufio", []string{"bufio"}, []string{
			`import ("bufio"; "fmt"; "gltest")`,
			`type r struct{ done bool }

			func (r *r) Read(p []byte) (int, error) {
				if r.done {
					return 0, fmt.Errorf("no more")
				}
				r.done = true
				return copy(p, "a\nb\n"), nil
			}`,
			`s := bufio.NewScanner(&r{})
			n := 0
			for s.Scan() {
				n++
			}
			gltest.Set("got", n)`,
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, r := newInterp(t, tt.imports...)
			for n, cell := range tt.cells {
				if _, err := i.Eval(cell); err != nil {
					t.Fatalf("cell %d: %v\n%s", n, err, cell)
				}
			}
			if got := r.got["got"]; got != tt.want {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestCellsUseGonumAndPlot(t *testing.T) {
	i, r := newInterp(t, "bytes", "sort", "gonum.org/v1/gonum/floats", "gonum.org/v1/gonum/mat",
		"gonum.org/v1/gonum/optimize", "gonum.org/v1/gonum/stat", "gonum.org/v1/gonum/stat/distuv",
		"gonum.org/v1/plot", "gonum.org/v1/plot/plotter", "gonum.org/v1/plot/vg")
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
	i, r := newInterp(t, "gonum.org/v1/gonum/mat")
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
// through the wrappers that Base()["."]["MapTypes"] asks yaegi to apply.
func TestDisplaySeesInterpretedMethods(t *testing.T) {
	i, r := newInterp(t, "github.com/gopherlab/gopherlab/display")
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

// Sessions may start, and import, at the same time.
func TestConcurrentExports(t *testing.T) {
	paths := []string{"strings", "net/http", "gonum.org/v1/gonum/mat", "gonum.org/v1/plot/plotter", "image/png", "go/types"}
	var wg sync.WaitGroup
	results := make([]interp.Exports, len(paths))
	for n, p := range paths {
		wg.Go(func() {
			Base()
			results[n] = Exports(p)
			Has(p)
			Packages()
		})
	}
	wg.Wait()
	for n, p := range paths {
		if _, ok := results[n][path.Join(p, path.Base(p))]; !ok {
			t.Errorf("Exports(%q) = %v", p, keys(results[n]))
		}
	}
}

// yaegi compiles parts of cmp and slices from source when Base is Used;
// their (empty) tables, Used when a cell imports them, must not hide that.
func TestGenericSourcesAfterExports(t *testing.T) {
	i, r := newInterp(t, "slices", "cmp")
	for _, cell := range []string{
		`import ("cmp"; "fmt"; "gltest"; "slices")`,
		`gltest.Set("got", fmt.Sprint(slices.Contains([]int{1, 2}, 2), cmp.Compare(1, 2)))`,
	} {
		if _, err := i.Eval(cell); err != nil {
			t.Fatalf("%s: %v", cell, err)
		}
	}
	if got := r.got["got"]; got != "true -1" {
		t.Errorf("got %q, want \"true -1\"", got)
	}
}
