package tracking

import (
	"testing"

	"github.com/gopherlab/gopherlab/experiments"
	"gonum.org/v1/gonum/mat"
)

// A metric computed on a fitted model's predictions lands on the model's
// fit run: test_<metric> on other data, train_<metric> on the training
// data, each repetition the next step; no run is added.
func TestAutologEvaluation(t *testing.T) {
	path, al, warn := autologTo(t)
	X, y := blobs(20)
	Xtest, ytest := blobs(7)
	pipe := experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.LogisticRegression{C: 10})
	if err := pipe.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	pred, _ := pipe.Predict(Xtest)
	acc, _ := experiments.Accuracy(ytest, pred)
	proba, _ := pipe.PredictProba(Xtest)
	ll, _ := experiments.LogLoss(ytest, proba, nil)
	trainPred, _ := pipe.Predict(X)
	trainAcc, _ := experiments.Accuracy(y, trainPred)
	// The same metric again, on other test rows: the next step.
	X2 := mat.DenseCopyOf(Xtest.Slice(0, 6, 0, 2))
	pred2, _ := pipe.Predict(X2)
	acc2, _ := experiments.Accuracy(ytest[:6], pred2)

	// A model fitted with autologging off is not tracked.
	experiments.SetTracker(nil)
	quiet := experiments.NewPipeline(&experiments.GaussianNB{})
	quiet.Fit(X, y)
	experiments.SetTracker(al)
	qp, _ := quiet.Predict(Xtest)
	experiments.Accuracy(ytest, qp)

	if err := al.Close(); err != nil || warn.Len() != 0 {
		t.Fatalf("autolog: %v %s", err, warn)
	}
	s := reopen(t, path)
	all, _ := s.SearchRuns(SearchQuery{})
	if len(all) != 1 {
		t.Fatalf("%d runs, want only the fit's", len(all))
	}
	r := all[0]
	if r.Status != StatusFinished {
		t.Errorf("status %s, want FINISHED", r.Status)
	}
	want := map[string]float64{"test_accuracy": acc2, "test_log_loss": ll, "train_accuracy": trainAcc}
	for k, v := range want {
		if r.Metrics[k] != v {
			t.Errorf("metric %s = %v, want %v (metrics %v)", k, r.Metrics[k], v, r.Metrics)
		}
	}
	h, err := s.MetricHistory(r.ID, "test_accuracy")
	if err != nil || h.Len() != 2 {
		t.Fatalf("test_accuracy history: %v, %d points, want 2", err, h.Len())
	}
	if x0, y0 := h.XY(0); x0 != 0 || y0 != acc {
		t.Errorf("test_accuracy step 0 = (%v, %v), want (0, %v)", x0, y0, acc)
	}
	in, err := s.Inputs(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]int{}
	for _, d := range in {
		roles[d.Role]++
	}
	// Training data is stored once as train (evaluating on it adds the
	// same content as eval); two other test sets.
	if roles[RoleTrain] != 1 || roles[RoleEval] < 2 {
		t.Errorf("inputs by role %v, want 1 train and the evaluation sets", roles)
	}
}
