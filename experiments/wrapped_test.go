package experiments_test

import (
	"testing"

	"github.com/gopherlab/gopherlab/experiments"
	"gonum.org/v1/gonum/mat"
)

type eventCounter struct{ events []*experiments.TrackEvent }

func (r *eventCounter) Track(ev *experiments.TrackEvent) { r.events = append(r.events, ev) }

// wrapped is a model of another package: it embeds one of ours and
// overrides Fit.
type wrapped struct {
	experiments.GaussianNB
	Fits *int // counts calls; exported, so that clones share it
}

func (w *wrapped) Fit(X *mat.Dense, y []float64) error {
	*w.Fits++
	return w.GaussianNB.Fit(X, y)
}

// A model that embeds one of ours is fitted through its own Fit in a
// cross-validation and a pipeline (not the embedded model's, promoted),
// and the fits it makes inside a tracked cross-validation are part of it:
// one event in all.
func TestWrappedModel(t *testing.T) {
	X := mat.NewDense(12, 1, []float64{0, 1, 2, 3, 10, 11, 12, 13, 4, 14, 5, 15})
	y := []float64{0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1}
	rec := &eventCounter{}
	prev := experiments.SetTracker(rec)
	defer experiments.SetTracker(prev)
	fits := 0
	if _, err := experiments.CrossValidate(&wrapped{Fits: &fits}, X, y, experiments.CVOptions{K: 3, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	if fits != 3 {
		t.Errorf("the wrapper's Fit ran %d times in a 3-fold cross-validation", fits)
	}
	if len(rec.events) != 1 || rec.events[0].Kind != experiments.KindCrossValidate {
		t.Errorf("%d events, want the cross-validation's alone", len(rec.events))
	}
	fits = 0
	if err := experiments.NewPipeline(&experiments.StandardScaler{}, &wrapped{Fits: &fits}).Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if fits != 1 {
		t.Errorf("the wrapper's Fit ran %d times in a pipeline fit", fits)
	}
}
