package experiments

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// The expected values are scikit-learn's roc_auc_score(y, p,
// multi_class="ovr", average=...) on the same data.
func TestAUCOvR(t *testing.T) {
	y := []float64{0, 1, 2, 2, 1, 0, 1, 2, 0, 1}
	p := mat.NewDense(10, 3, []float64{
		.7, .2, .1, .2, .5, .3, .1, .3, .6, .3, .3, .4, .4, .4, .2,
		.5, .3, .2, .2, .6, .2, .2, .2, .6, .3, .4, .3, .1, .8, .1,
	})
	for _, tt := range []struct {
		average string
		want    float64
	}{
		{"", 0.9692460317460316},
		{"macro", 0.9692460317460316},
		{"weighted", 0.9702380952380952},
	} {
		got, err := AUCOvR(y, p, nil, tt.average)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("AUCOvR(%q) = %v, want %v", tt.average, got, tt.want)
		}
	}
	curves, err := ROCOvR(y, p, nil)
	if err != nil || len(curves) != 3 || curves[2].Name != "class 2" {
		t.Fatalf("ROCOvR: %v, %d curves", err, len(curves))
	}
	if _, err := PlotROC(curves...); err != nil {
		t.Errorf("PlotROC of the one-vs-rest curves: %v", err)
	}

	// Two classes: the binary AUC of the second column.
	yb := []float64{0, 1, 1, 0}
	pb := mat.NewDense(4, 2, []float64{.8, .2, .3, .7, .4, .6, .6, .4})
	want, _ := AUC(yb, []float64{.2, .7, .6, .4})
	if got, err := AUCOvR(yb, pb, nil, ""); err != nil || got != want {
		t.Errorf("binary AUCOvR = %v, %v; want %v", got, err, want)
	}

	bad := []struct {
		name    string
		y       []float64
		p       *mat.Dense
		average string
		want    string
	}{
		{"rows", y[:5], p, "", "5 true values but 10 rows"},
		{"columns", []float64{0, 1, 2, 3, 0, 1, 2, 3, 0, 1}, p, "", "4 classes but 3 probability columns"},
		{"average", y, p, "micro", `unknown average "micro"`},
		{"empty", y, nil, "", "empty probabilities"},
	}
	for _, b := range bad {
		if _, err := AUCOvR(b.y, b.p, nil, b.average); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: error %v, want %q", b.name, err, b.want)
		}
	}
}
