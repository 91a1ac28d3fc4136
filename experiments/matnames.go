package experiments

import (
	"sync"
	"weak"

	"gonum.org/v1/gonum/mat"
)

// matrixNames remembers the column names of the matrices Dataset.XY (and
// SplitXY, of such a matrix) returned lately, so that a fit, a
// cross-validation or a grid search on them is tracked with the
// dataset's column names instead of c0, c1, ..., y.
//
// A matrix is known by the first element of its backing array, held by a
// weak pointer: the list never keeps a matrix alive, and a matrix
// allocated later at the address of a collected one is not taken for it
// (a weak pointer to a collected object reads nil, whatever now lives
// there). A view of a known matrix with the same columns and stride
// (X.Slice(0, n, 0, c), the first n rows) keeps its names; other views
// and copies get c0, c1, .... The list holds the last maxNamedMatrices
// matrices; naming one again replaces its entry. Names describe the
// columns, not the values: a cell that overwrites a known matrix with
// other columns' values (X.Copy(other)) would have them named wrongly,
// which is why views whose columns differ are not matched.
var matrixNames struct {
	sync.Mutex
	list []namedMatrix // newest first
}

const maxNamedMatrices = 16

type namedMatrix struct {
	x                  weak.Pointer[float64] // X's first element
	y                  weak.Pointer[float64] // y's first element; zero if none
	rows, cols, stride int
	features           []string
	target             string
}

// nameMatrix records the names of X's columns and of y.
func nameMatrix(X *mat.Dense, y []float64, features []string, target string) {
	raw := X.RawMatrix()
	if len(raw.Data) == 0 || raw.Cols != len(features) {
		return
	}
	e := namedMatrix{x: weak.Make(&raw.Data[0]), rows: raw.Rows, cols: raw.Cols, stride: raw.Stride,
		features: features, target: target}
	if len(y) > 0 {
		e.y = weak.Make(&y[0])
	}
	matrixNames.Lock()
	defer matrixNames.Unlock()
	list := []namedMatrix{e}
	for _, o := range matrixNames.list {
		if p := o.x.Value(); p != nil && p != &raw.Data[0] && len(list) < maxNamedMatrices {
			list = append(list, o)
		}
	}
	matrixNames.list = list
}

// matrixNamesOf returns the names nameMatrix recorded for X's columns
// and for y ("" if y is not the target recorded with X), or nil.
func matrixNamesOf(X *mat.Dense, y []float64) (features []string, target string) {
	raw := X.RawMatrix()
	if len(raw.Data) == 0 {
		return nil, ""
	}
	first := &raw.Data[0]
	matrixNames.Lock()
	defer matrixNames.Unlock()
	for _, e := range matrixNames.list {
		if e.x.Value() != first || e.cols != raw.Cols || e.stride != raw.Stride || raw.Rows > e.rows {
			continue
		}
		if len(y) > 0 && e.y.Value() == &y[0] {
			target = e.target
		}
		return e.features, target
	}
	return nil, ""
}
