package experiments

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// The parameters withDefaults fills in are the ones Fit applies: the
// zero-valued estimator and its withDefaults copy give the same results,
// bit for bit. EstimatorParams records them.
func TestWithDefaults(t *testing.T) {
	X, y := loadIris(t)
	Xr, yr, _ := linearData(120, 3, 0.1, 1)
	Xnan := mat.DenseCopyOf(X)
	Xnan.Set(3, 1, math.NaN())
	tests := []struct {
		est      any
		X        *mat.Dense
		y        []float64
		wantSome map[string]any // params EstimatorParams must report
	}{
		{&LogisticRegression{}, X, y, map[string]any{"C": 1.0, "MaxIter": 100, "Tol": 1e-4, "Penalty": "l2"}},
		{&Ridge{}, Xr, yr, map[string]any{"Alpha": 1.0}},
		{&KMeans{Seed: 1}, X, nil, map[string]any{"K": 8, "NInit": 10, "MaxIter": 300}},
		{&KNeighborsClassifier{}, X, y, map[string]any{"K": 5, "Weights": "uniform"}},
		{&KNeighborsRegressor{}, Xr, yr, map[string]any{"K": 5}},
		{&GaussianNB{}, X, y, map[string]any{"VarSmoothing": 1e-9}},
		{&DecisionTreeClassifier{}, X, y, map[string]any{"Criterion": "gini", "MinSamplesSplit": 2, "MinSamplesLeaf": 1}},
		{&DecisionTreeRegressor{}, Xr, yr, map[string]any{"MinSamplesSplit": 2}},
		{&RandomForestClassifier{NTrees: 0, Seed: 2}, X, y, map[string]any{"NTrees": 100, "Criterion": "gini"}},
		{&RandomForestRegressor{Seed: 2}, Xr, yr, map[string]any{"NTrees": 100, "MinSamplesLeaf": 1}},
		{&SimpleImputer{}, Xnan, nil, map[string]any{"Strategy": "mean"}},
		{&MinMaxScaler{}, X, nil, map[string]any{"Min": 0.0, "Max": 1.0}},
	}
	for _, tt := range tests {
		name := reflect.TypeOf(tt.est).Elem().Name()
		t.Run(name, func(t *testing.T) {
			d, ok := tt.est.(withDefaults)
			if !ok {
				t.Fatalf("%s has no withDefaults", name)
			}
			filled := d.withDefaults()
			if reflect.DeepEqual(filled, tt.est) {
				t.Fatalf("withDefaults changed nothing")
			}
			a, b := fmt.Sprint(fitOutput(t, tt.est, tt.X, tt.y)), fmt.Sprint(fitOutput(t, filled, tt.X, tt.y))
			if a != b {
				t.Errorf("the zero value and its defaults fit differently:\n%.300s\n%.300s", a, b)
			}
			p := EstimatorParams(tt.est)
			for k, v := range tt.wantSome {
				if p[k] != v {
					t.Errorf("EstimatorParams[%s] = %v (%T), want %v", k, p[k], p[k], v)
				}
			}
		})
	}
	// A parameter the user set is kept.
	if p := EstimatorParams(&LogisticRegression{C: 0.5}); p["C"] != 0.5 || p["MaxIter"] != 100 {
		t.Errorf("EstimatorParams(C: 0.5) = %v", p)
	}
	if p := EstimatorParams(&MinMaxScaler{Min: -1}); p["Max"] != 0.0 {
		t.Errorf("EstimatorParams(MinMaxScaler{Min: -1}) = %v, want Max 0 (the range [-1, 0])", p)
	}
}

// fitOutput fits est and returns what it computes on X: predictions, or
// the transformed matrix.
func fitOutput(t *testing.T, est any, X *mat.Dense, y []float64) any {
	t.Helper()
	switch e := est.(type) {
	case Model:
		if err := e.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		pred, err := e.Predict(X)
		if err != nil {
			t.Fatal(err)
		}
		return pred
	case Transformer:
		if err := e.Fit(X); err != nil {
			t.Fatal(err)
		}
		out, err := e.Transform(X)
		if err != nil {
			t.Fatal(err)
		}
		return mat.Formatted(out)
	}
	t.Fatalf("%T is neither a Model nor a Transformer", est)
	return nil
}
