package serving

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/export/jobrt"
)

// regressionServer serves a linear regression y = 3a + 2b + 1 (the reg/
// case of the audit: a valid input can overflow its prediction).
func regressionServer(t *testing.T) *Server {
	t.Helper()
	n := 40
	a, b, y := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range a {
		a[i], b[i] = float64(i), float64(i%7)
		y[i] = 3*a[i] + 2*b[i] + 1
	}
	ds, err := experiments.FromColumns([]string{"a", "b", "y"}, a, b, y)
	if err != nil {
		t.Fatal(err)
	}
	p := experiments.NewPipeline(&experiments.LinearRegression{})
	if err := p.FitDataset(ds, "y"); err != nil {
		t.Fatal(err)
	}
	return loadServer(t, saveModel(t, p, jobrt.Manifest{Name: "reg"}), Config{})
}

// TestNonFinitePrediction: a well-formed request whose prediction
// overflows gets 422 naming the row, on both APIs, not a 500.
func TestNonFinitePrediction(t *testing.T) {
	s := regressionServer(t)
	for _, tt := range []struct{ path, body string }{
		{"/predict", `{"instances": [{"a": 1, "b": 2}, {"a": 1.7e308, "b": 1}]}`},
		{"/v2/models/reg/infer", `{"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "data": [1, 1.7e308]}, {"name": "b", "shape": [2], "datatype": "FP64", "data": [2, 1]}]}`},
	} {
		code, v, raw := do(t, s, "POST", tt.path, tt.body)
		msg, _ := v["error"].(string)
		if code != http.StatusUnprocessableEntity || !strings.Contains(msg, "row 1") || !strings.Contains(msg, "not finite") {
			t.Errorf("POST %s: %d %s, want 422 naming row 1 and saying the prediction is not finite", tt.path, code, raw)
		}
		// A finite prediction is answered as before.
		if code, _, raw := do(t, s, "POST", "/predict", `{"a": 1, "b": 2}`); code != http.StatusOK || !strings.Contains(raw, `"value":8`) {
			t.Errorf("POST /predict a finite row: %d %s", code, raw)
		}
	}
}
