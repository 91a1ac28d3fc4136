package experiments

import (
	"testing"

	"gonum.org/v1/gonum/mat"
)

// evaluations returns the KindEvaluate events rec saw.
func evaluations(rec *recorder) []*TrackEvent {
	var out []*TrackEvent
	for _, ev := range rec.events {
		if ev.Kind == KindEvaluate {
			out = append(out, ev)
		}
	}
	return out
}

func TestEvaluationTracked(t *testing.T) {
	X, y := trackData()
	rec := &recorder{}
	prev := SetTracker(rec)
	defer SetTracker(prev)

	pipe := NewPipeline(&StandardScaler{}, &LogisticRegression{})
	if err := pipe.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	pred, err := pipe.Predict(X)
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := Accuracy(y, pred)
	f1, _ := F1(y, pred, "macro")
	proba, _ := pipe.PredictProba(X)
	ll, _ := LogLoss(y, proba, nil)
	// Not the prediction: a copy, a part, other values.
	Accuracy(y, append([]float64(nil), pred...))
	Accuracy(y[:6], pred[:6])
	Accuracy(y, y)

	evs := evaluations(rec)
	want := []struct {
		metric string
		value  float64
	}{{"accuracy", acc}, {"f1_macro", f1}, {"log_loss", ll}}
	if len(evs) != len(want) {
		t.Fatalf("%d evaluate events, want %d: %+v", len(evs), len(want), evs)
	}
	for i, w := range want {
		ev := evs[i]
		if ev.Estimator != pipe || ev.Name != "pipeline" || ev.Metrics[w.metric] != w.value || len(ev.Metrics) != 1 {
			t.Errorf("event %d: estimator %p name %q metrics %v; want the pipeline's %s = %v", i, ev.Estimator, ev.Name, ev.Metrics, w.metric, w.value)
		}
		if r, c := ev.Data.Dims(); r != 12 || c != 2 || ev.Data.At(3, 1) != y[3] {
			t.Errorf("event %d: evaluation data %dx%d, want the 12 rows of X and y", i, r, c)
		}
	}

	// Metrics computed inside cross-validation, on copies of the model,
	// and metrics on predictions of a model fitted without a tracker
	// make no event.
	rec.events = nil
	if _, err := CrossValidate(pipe, X, y, CVOptions{K: 3}); err != nil {
		t.Fatal(err)
	}
	SetTracker(nil)
	quiet := NewPipeline(&GaussianNB{})
	quiet.Fit(X, y)
	SetTracker(rec)
	qp, _ := quiet.Predict(X)
	Accuracy(y, qp)
	if n := len(evaluations(rec)); n != 0 {
		t.Errorf("%d evaluate events from cross-validation and an untracked model, want 0", n)
	}
}

func TestEvaluationOnDataset(t *testing.T) {
	ds := &Dataset{}
	X, y := trackData()
	ds.AddFloats("x", mat.Col(nil, 0, X))
	ds.AddFloats("label", y)
	rec := &recorder{}
	prev := SetTracker(rec)
	defer SetTracker(prev)
	pipe := NewPipeline(&StandardScaler{}, &DecisionTreeRegressor{})
	if err := pipe.FitDataset(ds, "label"); err != nil {
		t.Fatal(err)
	}
	pred, _ := pipe.PredictDataset(ds)
	rmse, _ := RMSE(y, pred)
	evs := evaluations(rec)
	if len(evs) != 1 || evs[0].Metrics["rmse"] != rmse {
		t.Fatalf("evaluate events %+v, want one with rmse %v", evs, rmse)
	}
	if evs[0].Columns[len(evs[0].Columns)-1] != "label" {
		t.Errorf("evaluation data columns %v, want the target last", evs[0].Columns)
	}
}

// Every model's Predict and PredictProba are tracked, not only pipelines'.
func TestEvaluationOfModels(t *testing.T) {
	X, y := trackData()
	models := []Model{&LogisticRegression{}, &KNeighborsClassifier{K: 3}, &GaussianNB{}, &DecisionTreeClassifier{Seed: 1},
		&RandomForestClassifier{NTrees: 5, Seed: 1}, &LinearRegression{}, &Ridge{}, &KNeighborsRegressor{K: 3},
		&DecisionTreeRegressor{Seed: 1}, &RandomForestRegressor{NTrees: 5, Seed: 1}}
	for _, m := range models {
		rec := &recorder{}
		prev := SetTracker(rec)
		if err := m.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		pred, err := m.Predict(X)
		if err != nil {
			t.Fatal(err)
		}
		MAE(y, pred)
		if pp, ok := m.(interface {
			PredictProba(*mat.Dense) (*mat.Dense, error)
		}); ok {
			proba, _ := pp.PredictProba(X)
			LogLoss(y, proba, nil)
		}
		SetTracker(prev)
		evs := evaluations(rec)
		if len(evs) == 0 || evs[0].Estimator != m || evs[0].Metrics["mae"] != func() float64 { v, _ := MAE(y, pred); return v }() {
			t.Errorf("%s: evaluate events %+v, want mae on its predictions", modelName(m), evs)
		}
	}
}
