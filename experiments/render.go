package experiments

import (
	"fmt"
	"strings"

	"github.com/gopherlab/gopherlab/display"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot"
)

// gonum's plots and matrices have no display methods: these show them
// when they are a cell's result, or given to display.Show.
func init() {
	display.RegisterType((*plot.Plot)(nil), func(v any) display.Bundle {
		return (&Plot{P: v.(*plot.Plot)}).Render()
	})
	for _, m := range []mat.Matrix{(*mat.Dense)(nil), (*mat.VecDense)(nil), (*mat.SymDense)(nil),
		(*mat.TriDense)(nil), (*mat.DiagDense)(nil), (*mat.BandDense)(nil)} {
		display.RegisterType(m, func(v any) display.Bundle { return renderMatrix(v.(mat.Matrix)) })
	}
}

// matrixExcerpt is how many rows and columns a large matrix shows at each
// end.
const matrixExcerpt = 5

// renderMatrix shows a matrix as gonum formats it, with its shape first;
// one with more than twice matrixExcerpt rows or columns shows its
// corners.
func renderMatrix(m mat.Matrix) display.Bundle {
	r, c := m.Dims()
	opts := []mat.FormatOption{mat.Squeeze()}
	if r > 2*matrixExcerpt || c > 2*matrixExcerpt {
		opts = append(opts, mat.Excerpt(matrixExcerpt))
	}
	body := fmt.Sprintf("%v", mat.Formatted(m, opts...))
	// The excerpt starts with the shape, which the first line gives.
	body = strings.TrimPrefix(body, fmt.Sprintf("Dims(%d, %d)\n", r, c))
	text := fmt.Sprintf("%T %d×%d\n%s", m, r, c, body)
	if r == 0 || c == 0 {
		text = fmt.Sprintf("%T %d×%d (empty)", m, r, c)
	}
	return display.Bundle{Data: map[string]any{"text/plain": text}}
}
