package experiments

import (
	"runtime"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestMatrixNames checks which matrices keep the names of the dataset
// XY made them from, as tracking records them.
func TestMatrixNames(t *testing.T) {
	ds, err := FromColumns([]string{"age", "income", "y", "churn"},
		[]float64{30, 40, 50, 60, 70, 80}, []float64{1, 2, 3, 4, 5, 6}, []float64{0, 1, 0, 1, 0, 1}, []string{"no", "yes", "no", "yes", "no", "yes"})
	if err != nil {
		t.Fatal(err)
	}
	X, y, err := ds.XY("churn")
	if err != nil {
		t.Fatal(err)
	}
	Xtr, Xte, ytr, yte, err := SplitXY(X, y, 0.5, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	named := []string{"age", "income", "y", "churn"}
	plain := []string{"c0", "c1", "c2", "y"}
	tests := []struct {
		name string
		X    *mat.Dense
		y    []float64
		want []string
	}{
		{"the matrix XY returned", X, y, named},
		{"its first rows", X.Slice(0, 4, 0, 3).(*mat.Dense), y[:4], named},
		{"the parts SplitXY made of it", Xtr, ytr, named},
		{"the test part", Xte, yte, named},
		{"another target", X, []float64{1, 2, 3, 4, 5, 6}, []string{"age", "income", "y", "y_"}},
		{"some of its columns", X.Slice(0, 6, 1, 3).(*mat.Dense), y, []string{"c0", "c1", "y"}},
		{"a copy", mat.DenseCopyOf(X), y, plain},
		{"another matrix", mat.NewDense(6, 3, nil), y, plain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, _ := matrixData{tt.X, tt.y}.table()
			if !slices.Equal(got, tt.want) {
				t.Errorf("columns %q, want %q", got, tt.want)
			}
		})
	}
}

// TestMatrixNamesWeak checks that the names do not keep a matrix alive.
func TestMatrixNamesWeak(t *testing.T) {
	ds, err := FromColumns([]string{"a", "b"}, []float64{1, 2, 3}, []float64{4, 5, 6})
	if err != nil {
		t.Fatal(err)
	}
	func() {
		X, y, err := ds.XY("b")
		if err != nil {
			t.Fatal(err)
		}
		if f, _ := matrixNamesOf(X, y); f == nil {
			t.Fatal("XY's matrix not named")
		}
	}()
	runtime.GC()
	runtime.GC()
	matrixNames.Lock()
	defer matrixNames.Unlock()
	if p := matrixNames.list[0].x.Value(); p != nil {
		t.Error("the names keep a matrix nobody holds alive")
	}
	// Bounded, even while every matrix is alive.
	var keep []*mat.Dense
	for i := 0; i < maxNamedMatrices+5; i++ {
		matrixNames.Unlock()
		X, _, _ := ds.XY("b")
		keep = append(keep, X)
		matrixNames.Lock()
		if n := len(matrixNames.list); n > maxNamedMatrices {
			t.Fatalf("%d matrices named, want at most %d", n, maxNamedMatrices)
		}
	}
	runtime.KeepAlive(keep)
}
