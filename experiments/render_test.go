package experiments

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/display"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// gonum's values show as pictures and matrices, not as their structs.
func TestRenderGonumValues(t *testing.T) {
	p := plot.New()
	p.Title.Text = "squares"
	line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}, {X: 2, Y: 4}})
	if err != nil {
		t.Fatal(err)
	}
	p.Add(line)
	b := display.Render(p)
	if png := fmt.Sprint(b.Data["image/png"]); len(png) < 100 || b.Data["text/plain"] != "[plot: squares]" {
		t.Errorf("a *plot.Plot renders as %v", b.Data["text/plain"])
	}

	var nilDense *mat.Dense
	tests := []struct {
		name string
		v    any
		want []string // in text/plain, in order
		not  string
	}{
		{"dense", mat.NewDense(2, 3, []float64{1, 2, 3, 4.5, 5, 6}), []string{"*mat.Dense 2×3\n", "⎡  1  2  3⎤\n⎣4.5  5  6⎦"}, "mat:"},
		{"large: the corners", mat.NewDense(20, 30, nil), []string{"*mat.Dense 20×30\n⎡", "...", " .\n"}, "Dims("},
		{"vector", mat.NewVecDense(3, []float64{1, 2, 3}), []string{"*mat.VecDense 3×1\n", "⎡1⎤\n⎢2⎥\n⎣3⎦"}, ""},
		{"symmetric", mat.NewSymDense(2, []float64{1, 2, 2, 1}), []string{"*mat.SymDense 2×2\n"}, ""},
		{"empty", &mat.Dense{}, []string{"*mat.Dense 0×0 (empty)"}, ""},
		{"nil", nilDense, []string{"<nil>"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, _ := display.Render(tc.v).Data["text/plain"].(string)
			at := 0
			for _, w := range tc.want {
				i := strings.Index(text[at:], w)
				if i < 0 {
					t.Fatalf("text/plain\n%s\nhas no %q (after offset %d)", text, w, at)
				}
				at += i + len(w)
			}
			if tc.not != "" && strings.Contains(text, tc.not) {
				t.Errorf("text/plain\n%s\nhas %q", text, tc.not)
			}
		})
	}
}
