package experiments

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/internal/plotstyle/plotcheck"
	"gonum.org/v1/plot/vg"
)

type namedPlot struct {
	name   string
	p      *Plot
	legend []string // the legend's entries
}

// allPlots draws each kind of plot of the package on iris.
func allPlots(t *testing.T) []namedPlot {
	t.Helper()
	X, y := loadIris(t)
	var plots []namedPlot
	add := func(name string, p *Plot, err error, legend ...string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plots = append(plots, namedPlot{name, p, legend})
	}
	vc, err := ValidationCurve(&KNeighborsClassifier{}, X, y, "K", []any{1, 5, 15, 50}, CVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := vc.Plot()
	add("validation curve", p, err, "train", "validation")
	lc, err := LearningCurve(&GaussianNB{}, X, y, []float64{0.2, 0.6, 1}, CVOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	p, err = lc.Plot()
	add("learning curve", p, err, "train", "validation")
	Xtr, Xte, ytr, yte, _ := SplitXY(X, y, 0.3, 1, true)
	ic, err := IterationCurve(&RandomForestClassifier{NTrees: 15}, Xtr, ytr, Xte, yte, "accuracy")
	if err != nil {
		t.Fatal(err)
	}
	p, err = ic.Plot()
	add("iteration curve", p, err, "train", "validation")
	p, err = PlotHistory("accuracy", []float64{0.9, 0.96, 0.98, 1, 1}, []float64{0.9, 0.93, 0.95, 0.955, 0.96})
	add("history", p, err, "train", "validation")
	gs := &GridSearch{Model: &KNeighborsClassifier{}, Grid: map[string][]any{"K": {1, 3, 5, 9, 15, 30}}}
	if err := gs.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	p, err = gs.PlotParam("K")
	add("grid search", p, err, "validation")
	gs2 := &GridSearch{Model: &DecisionTreeClassifier{}, Grid: map[string][]any{"MaxDepth": {1, 2, 3, 5}, "MinSamplesLeaf": {1, 20}}}
	if err := gs2.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	p, err = gs2.PlotParam("MaxDepth")
	add("grid search, two parameters", p, err, "MinSamplesLeaf=1", "MinSamplesLeaf=20")
	gs3 := &GridSearch{Model: &DecisionTreeClassifier{}, Grid: map[string][]any{"Criterion": {"gini", "entropy"}, "MaxDepth": {2, 4, 0}}}
	if err := gs3.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	p, err = gs3.PlotParam("MaxDepth")
	add("grid search, a zero among the values", p, err, "Criterion=gini", "Criterion=entropy")
	p, err = gs3.PlotParam("Criterion")
	add("grid search, named values", p, err, "MaxDepth=2", "MaxDepth=4", "MaxDepth=0")

	_, _, roc := binaryROC(t, Xtr, ytr, Xte, yte)
	p, err = PlotROC(roc, &ROCCurve{Name: "chance", FPR: []float64{0, 1}, TPR: []float64{0, 1}, AUC: 0.5})
	add("roc", p, err, fmt.Sprintf("logistic (AUC = %.3f)", roc.AUC), "chance (AUC = 0.500)")
	knn := &KNeighborsClassifier{K: 15}
	if err := knn.Fit(Xtr, ytr); err != nil {
		t.Fatal(err)
	}
	pred, _ := knn.Predict(Xte)
	cm, err := ConfusionMatrix(yte, pred)
	if err != nil {
		t.Fatal(err)
	}
	cm.Names = []string{"setosa", "versicolor", "virginica"}
	p, err = cm.Plot()
	add("confusion matrix", p, err)
	return plots
}

func TestPlotTickLabels(t *testing.T) {
	for _, tt := range allPlots(t) {
		if err := plotcheck.TickLabels(tt.p.P.X); err != nil {
			t.Errorf("%s: x axis: %v", tt.name, err)
		}
		if err := plotcheck.TickLabels(tt.p.P.Y); err != nil {
			t.Errorf("%s: y axis: %v", tt.name, err)
		}
	}
}

// Legends go where they hide no data.
func TestPlotLegends(t *testing.T) {
	for _, tt := range allPlots(t) {
		w, h := tt.p.size()
		if err := plotcheck.Legend(w, h, tt.p.draw, tt.legend...); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// Every plot fits its canvas at its default size: no mark reaches within
// a point of an edge, where a viewer would crop it.
func TestPlotsFit(t *testing.T) {
	for _, tt := range allPlots(t) {
		w, h := tt.p.size()
		rec := plotcheck.Record(w, h, tt.p.draw)
		if err := rec.Fits(vg.Points(1)); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestParamAxis(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []any
		xs     []float64
		ticks  string // the tick labels in axis order; "" for a numeric axis
	}{
		{"numbers", []any{10, 1, 100}, []float64{10, 1, 100}, ""},
		{"a zero is the default, last", []any{2, 4, 6, 8, 0}, []float64{0, 1, 2, 3, 4}, "2 4 6 8 0 (default)"},
		{"zero first in the grid", []any{0.0, 10.0, 0.1}, []float64{2, 1, 0}, "0.1 10 0 (default)"},
		{"only zero", []any{0, 0}, []float64{0, 0}, ""},
		{"names in grid order, repeated", []any{"gini", "entropy", "gini", "entropy"}, []float64{0, 1, 0, 1}, "gini entropy"},
		{"nil and a number", []any{nil, 3}, []float64{0, 1}, "default 3"},
		{"booleans", []any{true, false}, []float64{0, 1}, "true false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xs, ticks := paramAxis(tc.values)
			if !slices.Equal(xs, tc.xs) {
				t.Errorf("xs = %v, want %v", xs, tc.xs)
			}
			var labels []string
			for i, tk := range ticks {
				if tk.Value != float64(i) {
					t.Errorf("tick %d at %v", i, tk.Value)
				}
				labels = append(labels, tk.Label)
			}
			if got := strings.Join(labels, " "); got != tc.ticks {
				t.Errorf("ticks %q, want %q", got, tc.ticks)
			}
		})
	}
}
