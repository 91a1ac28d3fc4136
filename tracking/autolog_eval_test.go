package tracking

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/experiments"
	"gonum.org/v1/gonum/mat"
)

// A metric computed on a fitted model's predictions lands on the model's
// fit run: test_<metric> on other data, train_<metric> on the training
// data or rows of it, eval_<metric> on data that has many training rows
// (tagged with how many), each repetition the next step; no run is added.
func TestAutologEvaluation(t *testing.T) {
	path, al, warn := autologTo(t)
	X, y := blobs(20)
	// Test rows are rows 40 to 53 of the same blobs: no training row.
	Xall, yall := blobs(27)
	Xtest, ytest := mat.DenseCopyOf(Xall.Slice(40, 54, 0, 2)), yall[40:54]
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
	// All the data, training rows included: no test score.
	predAll, _ := pipe.Predict(Xall)
	accAll, _ := experiments.Accuracy(yall, predAll)
	// Some training rows: a training score.
	predSome, _ := pipe.Predict(mat.DenseCopyOf(X.Slice(0, 10, 0, 2)))
	accSome, _ := experiments.Accuracy(y[:10], predSome)

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
	if h, err := s.MetricHistory(r.ID, "train_accuracy"); err != nil || h.Len() != 2 || h.Values[0] != trainAcc || h.Values[1] != accSome {
		t.Errorf("train_accuracy history %+v %v, want %v then %v", h, err, trainAcc, accSome)
	}
	if r.Tags["autolog.eval_overlap"] == "" || !strings.HasPrefix(r.Tags["autolog.eval_overlap"], "40 of the 54 rows of eval-") {
		t.Errorf("tag autolog.eval_overlap = %q", r.Tags["autolog.eval_overlap"])
	}
	want := map[string]float64{"test_accuracy": acc2, "test_log_loss": ll, "train_accuracy": accSome, "eval_accuracy": accAll}
	for k, v := range want {
		if r.Metrics[k] != v {
			t.Errorf("metric %s = %v, want %v (metrics %v)", k, r.Metrics[k], v, r.Metrics)
		}
	}
	// The latest label metric on test data brings its confusion matrix,
	// which the report shows.
	cm, _ := experiments.ConfusionMatrix(ytest[:6], pred2)
	var ca ConfusionArtifact
	if b, err := s.ReadArtifact(r.ID, "test_"+ConfusionArtifactName); err != nil || json.Unmarshal(b, &ca) != nil || !slices.Equal(ca.Classes, cm.ClassNames()) || fmt.Sprint(ca.Counts) != fmt.Sprint(cm.Counts) {
		t.Errorf("test confusion matrix %+v (%v), want %v %v", ca, err, cm.ClassNames(), cm.Counts)
	}
	var page bytes.Buffer
	if err := s.WriteReport(&page, ReportOptions{Experiment: r.Experiment}); err != nil || !strings.Contains(page.String(), "Confusion matrix on the test data") {
		t.Errorf("the report does not show the confusion matrix: %v", err)
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

// The writer recognizes the training and test tables it logged last by
// their values, not by where they are: the same tables again give the
// same snapshots, and a table changed in place gives a new snapshot
// holding the new values.
func TestAutologSeenTables(t *testing.T) {
	path, al, warn := autologTo(t)
	X, y := blobs(30)
	Xtest, ytest := blobs(9)
	for cell := 0; cell < 4; cell++ {
		if cell == 2 {
			X.Set(3, 1, 42.5)      // the caller's training data changes in place
			Xtest.Set(0, 0, -7.25) // and so does the test data
		}
		m := &experiments.GaussianNB{}
		if err := m.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		pred, _ := m.Predict(Xtest)
		if _, err := experiments.Accuracy(ytest, pred); err != nil {
			t.Fatal(err)
		}
		al.Flush() // each run written before the next fit, as between cells
	}
	if err := al.Err(); err != nil || warn.Len() != 0 {
		t.Fatalf("autolog: %v %s", err, warn)
	}
	s := reopen(t, path)
	runs := topRuns(t, s)
	if len(runs) != 4 {
		t.Fatalf("%d runs, want 4", len(runs))
	}
	train := make([]string, 4)
	eval := make([]string, 4)
	for i, r := range runs {
		in, err := s.Inputs(r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range in {
			switch d.Role {
			case RoleTrain:
				train[i] = d.SHA256
			case RoleEval:
				eval[i] = d.SHA256
			}
		}
	}
	if train[0] != train[1] || train[2] != train[3] || train[1] == train[2] {
		t.Errorf("training snapshots %v: want the first two alike, the last two alike, and different from each other", train)
	}
	if eval[0] != eval[1] || eval[2] != eval[3] || eval[1] == eval[2] || eval[0] == "" {
		t.Errorf("test snapshots %v: want the first two alike, the last two alike, and different from each other", eval)
	}
	for _, c := range []struct {
		what, sum string
		row, col  int
		changedTo float64
		changed   bool // the snapshot was taken after the change
	}{{"first training", train[0], 3, 1, 42.5, false}, {"last training", train[3], 3, 1, 42.5, true}, {"last test", eval[3], 0, 0, -7.25, true}} {
		d, err := s.Dataset(c.sum)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := d.Float64s()
		if err != nil {
			t.Fatal(err)
		}
		if got := rows[c.row][c.col]; (got == c.changedTo) != c.changed {
			t.Errorf("%s snapshot %.8s: value at (%d, %d) is %v (changed: %v)", c.what, c.sum, c.row, c.col, got, c.changed)
		}
	}
}

// Fits on the values of a table logged lately share them: Track copies
// nothing however many such fits wait to be written (here held by a
// running cell), and their runs have the table's snapshot.
func TestAutologSharesSeenData(t *testing.T) {
	X, y := blobs(2000) // 4000×3 values, 96 KB
	ev := recordOne(t, func() error { return (&experiments.GaussianNB{}).Fit(X, y) })
	path := filepath.Join(t.TempDir(), "shared.db")
	al := NewAutologger(path)
	defer al.Close()
	al.Track(ev)
	al.Flush()
	defer func(d time.Duration) { holdFor = d }(holdFor)
	holdFor = time.Hour
	SetCellRunning(true)
	defer SetCellRunning(false)
	const n = 10
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		al.Track(ev)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8*4000*3 {
		t.Errorf("%d Tracks of the same data allocated %d bytes: more than one copy of it", n, grew)
	}
	al.mu.Lock()
	shared := 0
	for _, e := range al.queue {
		if e.table != nil {
			shared++
		}
	}
	al.mu.Unlock()
	if shared != n {
		t.Errorf("%d of %d queued events share the table", shared, n)
	}
	SetCellRunning(false)
	if err := al.Close(); err != nil {
		t.Fatal(err)
	}
	s := reopen(t, path)
	runs := topRuns(t, s)
	if len(runs) != n+1 {
		t.Fatalf("%d runs, want %d", len(runs), n+1)
	}
	var sums []string
	for _, r := range runs {
		in, err := s.Inputs(r.ID)
		if err != nil || len(in) != 1 {
			t.Fatalf("run %s inputs %v %v", r.ID, in, err)
		}
		sums = append(sums, in[0].SHA256)
	}
	if len(slices.Compact(sums)) != 1 {
		t.Errorf("snapshots %v, want one", sums)
	}
}
