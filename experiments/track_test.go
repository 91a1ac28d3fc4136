package experiments

import (
	"testing"

	"gonum.org/v1/gonum/mat"
)

type recorder struct{ events []*TrackEvent }

func (r *recorder) Track(ev *TrackEvent) { r.events = append(r.events, ev) }

type panicker struct{}

func (panicker) Track(*TrackEvent) { panic("tracker bug") }

func trackData() (*mat.Dense, []float64) {
	X := mat.NewDense(12, 1, nil)
	y := make([]float64, 12)
	for i := range y {
		y[i] = float64(i % 2)
		X.Set(i, 0, y[i]*5+float64(i)/10)
	}
	return X, y
}

func TestTrackerEvents(t *testing.T) {
	X, y := trackData()
	tests := []struct {
		name  string
		run   func() error
		kind  string
		param string // a param that must be present
		seed  int64
		folds int
		trial int
	}{
		{"model fit", func() error { return (&DecisionTreeClassifier{MaxDepth: 2, Seed: 4}).Fit(X, y) }, KindFit, "MaxDepth", 4, 0, 0},
		{"pipeline fit", func() error { return NewPipeline(&StandardScaler{}, &GaussianNB{}).Fit(X, y) }, KindFit, "steps", 0, 0, 0},
		{"cross validate", func() error {
			_, err := CrossValidate(NewPipeline(&StandardScaler{}, &LogisticRegression{}), X, y, CVOptions{K: 3})
			return err
		}, KindCrossValidate, "logisticregression.C", 0, 3, 0},
		{"grid search", func() error {
			return (&GridSearch{Model: &KNeighborsClassifier{}, Grid: map[string][]any{"K": {1, 3}}, CV: CVOptions{K: 2}}).Fit(X, y)
		}, KindGridSearch, "search.grid.K", 0, 0, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			prev := SetTracker(rec)
			defer SetTracker(prev)
			if err := tc.run(); err != nil {
				t.Fatal(err)
			}
			if len(rec.events) != 1 {
				t.Fatalf("%d events, want 1 (inner fits must not be reported)", len(rec.events))
			}
			ev := rec.events[0]
			if ev.Kind != tc.kind || ev.Err != nil || ev.Duration <= 0 {
				t.Errorf("event %s err %v duration %v", ev.Kind, ev.Err, ev.Duration)
			}
			if _, ok := ev.Params[tc.param]; !ok {
				t.Errorf("params %v lack %s", ev.Params, tc.param)
			}
			if ev.HasSeed != (tc.seed != 0) || ev.Seed != tc.seed {
				t.Errorf("seed %d %v, want %d", ev.Seed, ev.HasSeed, tc.seed)
			}
			if (ev.Save != nil) != (tc.kind != KindCrossValidate) {
				t.Errorf("Save set %v for %s", ev.Save != nil, tc.kind)
			}
			if len(ev.Folds) != tc.folds || len(ev.Trials) != tc.trial {
				t.Errorf("%d folds, %d trials", len(ev.Folds), len(ev.Trials))
			}
			if r, c := ev.Data.Dims(); r != 12 || c != 2 || ev.Columns[1] != "y" || ev.Data.At(3, 1) != y[3] {
				t.Errorf("data %dx%d %v", r, c, ev.Columns)
			}
		})
	}
}

func TestTrackerFailureAndPanic(t *testing.T) {
	X, y := trackData()
	rec := &recorder{}
	prev := SetTracker(rec)
	defer SetTracker(prev)
	if err := (&LinearRegression{}).Fit(X, y[:3]); err == nil {
		t.Fatal("fit with short y succeeded")
	}
	if len(rec.events) != 1 || rec.events[0].Err == nil {
		t.Fatalf("failed fit events %v", rec.events)
	}
	SetTracker(panicker{})
	if err := (&LinearRegression{}).Fit(X, y); err != nil {
		t.Fatalf("a panicking tracker broke the fit: %v", err)
	}
	if old := SetTracker(nil); old != (panicker{}) {
		t.Errorf("SetTracker returned %v", old)
	}
	if CurrentTracker() != nil {
		t.Error("tracker still set")
	}
}

func BenchmarkFitNoTracker(b *testing.B) {
	X, y := trackData()
	m := &GaussianNB{}
	for i := 0; i < b.N; i++ {
		if err := m.Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFitUnhooked is the same fit without the hook, for comparison.
func BenchmarkFitUnhooked(b *testing.B) {
	X, y := trackData()
	m := &GaussianNB{}
	for i := 0; i < b.N; i++ {
		if err := m.fitRaw(X, y); err != nil {
			b.Fatal(err)
		}
	}
}
