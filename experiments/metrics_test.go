package experiments

import (
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestRegressionMetrics(t *testing.T) {
	y := []float64{3, -0.5, 2, 7}
	p := []float64{2.5, 0.0, 2, 8}
	for _, tt := range []struct {
		name string
		f    func(a, b []float64) (float64, error)
		want float64
	}{
		// Values from scikit-learn's documentation examples.
		{"mse", MSE, 0.375},
		{"rmse", RMSE, math.Sqrt(0.375)},
		{"mae", MAE, 0.5},
		{"r2", R2, 0.9486081370449679},
	} {
		got, err := tt.f(y, p)
		if err != nil || !near(got, tt.want, 1e-12) {
			t.Errorf("%s = %v, %v; want %v", tt.name, got, err, tt.want)
		}
		if _, err := tt.f(y, p[:2]); err == nil || !strings.Contains(err.Error(), "4 true values but 2 predictions") {
			t.Errorf("%s length mismatch: %v", tt.name, err)
		}
		if _, err := tt.f(nil, nil); err == nil {
			t.Errorf("%s of nothing accepted", tt.name)
		}
	}
	if r, _ := R2([]float64{1, 1}, []float64{1, 1}); r != 1 {
		t.Errorf("constant perfect R2 = %v", r)
	}
}

func TestClassificationMetrics(t *testing.T) {
	// scikit-learn's classification_report example.
	yt := []float64{0, 1, 2, 2, 2}
	yp := []float64{0, 0, 2, 2, 1}
	r, err := Report(yt, yp)
	if err != nil {
		t.Fatal(err)
	}
	wantP := []float64{0.5, 0, 1}
	wantR := []float64{1, 0, 2.0 / 3}
	wantF := []float64{2.0 / 3, 0, 0.8}
	for k, c := range r.Classes {
		if !near(c.Precision, wantP[k], 1e-12) || !near(c.Recall, wantR[k], 1e-12) || !near(c.F1, wantF[k], 1e-12) {
			t.Errorf("class %d: %+v", k, c)
		}
	}
	if !near(r.Macro.Precision, 0.5, 1e-12) || !near(r.Weighted.F1, 0.6133333333333334, 1e-12) || r.Accuracy != 0.6 {
		t.Errorf("averages: macro %+v weighted %+v acc %v", r.Macro, r.Weighted, r.Accuracy)
	}
	for _, tt := range []struct {
		f       func(a, b []float64, avg string) (float64, error)
		avg     string
		want    float64
		wantErr bool
	}{
		{Precision, "macro", 0.5, false},
		{Recall, "macro", 5.0 / 9, false},
		{F1, "macro", (2.0/3 + 0.8) / 3, false},
		{F1, "", (2.0/3 + 0.8) / 3, false},
		{Precision, "weighted", 0.7, false},
		{F1, "micro", 0.6, false},
		{F1, "bogus", 0, true},
		{Precision, "binary", 0, true}, // three classes, as scikit-learn

	} {
		got, err := tt.f(yt, yp, tt.avg)
		if (err != nil) != tt.wantErr || !tt.wantErr && !near(got, tt.want, 1e-12) {
			t.Errorf("%s = %v, %v; want %v", tt.avg, got, err, tt.want)
		}
	}
	// Binary: the class labelled 1 is positive.
	bt := []float64{0, 1, 1, 0, 1}
	bp := []float64{0, 1, 0, 1, 1}
	if p, _ := Precision(bt, bp, ""); !near(p, 2.0/3, 1e-12) {
		t.Errorf("binary precision %v", p)
	}
	if _, err := Recall([]float64{0, 2, 2}, []float64{0, 2, 0}, "binary"); err == nil || !strings.Contains(err.Error(), "label 1 as the positive class") {
		t.Errorf("binary without the label 1: %v", err)
	}
	if r, err := Recall([]float64{0, 0}, []float64{0, 0}, "binary"); err != nil || r != 0 {
		t.Errorf("binary with one class: %v, %v", r, err)
	}
	if a, _ := Accuracy(bt, bp); a != 0.6 {
		t.Errorf("accuracy %v", a)
	}
	cm, err := ConfusionMatrix(yt, yp)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{1, 0, 0}, {1, 0, 0}, {0, 1, 2}}
	for i := range want {
		if !slices.Equal(cm.Counts[i], want[i]) {
			t.Errorf("confusion row %d = %v", i, cm.Counts[i])
		}
	}
	cm.Names = []string{"ant", "bird", "cat"}
	if s := cm.String(); !strings.Contains(s, "cat") || !strings.Contains(cm.HTML(), "<td>2</td>") {
		t.Errorf("confusion table:\n%s", s)
	}
	if s := r.String(); !strings.Contains(s, "weighted avg") {
		t.Errorf("report table:\n%s", s)
	}
}

func TestROC(t *testing.T) {
	// scikit-learn's roc_curve example.
	c, err := ROC([]float64{1, 1, 2, 2}, []float64{0.1, 0.4, 0.35, 0.8})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.FPR, []float64{0, 0, 0.5, 0.5, 1}) || !slices.Equal(c.TPR, []float64{0, 0.5, 0.5, 1, 1}) {
		t.Errorf("fpr %v tpr %v", c.FPR, c.TPR)
	}
	if !slices.Equal(c.Thresholds[1:], []float64{0.8, 0.4, 0.35, 0.1}) || !math.IsInf(c.Thresholds[0], 1) {
		t.Errorf("thresholds %v", c.Thresholds)
	}
	if c.AUC != 0.75 {
		t.Errorf("AUC %v", c.AUC)
	}
	// Points on a straight line between their neighbours are left out,
	// as scikit-learn's drop_intermediate does (its arrays, from
	// roc_curve, beside ours; its first threshold is max+1 in 1.2).
	for _, tc := range []struct {
		y, score, fpr, tpr, th []float64
	}{
		{[]float64{1, 1, 1, 0, 0, 0}, []float64{.9, .8, .7, .6, .5, .4}, []float64{0, 0, 0, 1}, []float64{0, 1.0 / 3, 1, 1}, []float64{.9, .7, .4}},
		{[]float64{1, 0, 1, 0, 1, 0, 0, 1}, []float64{.9, .8, .8, .6, .5, .5, .3, .2}, []float64{0, 0, .25, .5, .75, 1, 1}, []float64{0, .25, .5, .5, .75, .75, 1}, []float64{.9, .8, .6, .5, .3, .2}},
	} {
		c, err := ROC(tc.y, tc.score)
		if err != nil || !slices.Equal(c.FPR, tc.fpr) || !slices.Equal(c.TPR, tc.tpr) || !slices.Equal(c.Thresholds[1:], tc.th) {
			t.Errorf("ROC(%v, %v) = %v %v %v (%v), want scikit-learn's %v %v %v", tc.y, tc.score, c.FPR, c.TPR, c.Thresholds, err, tc.fpr, tc.tpr, tc.th)
		}
	}
	// Ties count half.
	if a, _ := AUC([]float64{0, 1}, []float64{0.5, 0.5}); a != 0.5 {
		t.Errorf("tied AUC %v", a)
	}
	if _, err := ROC([]float64{1, 1}, []float64{0.1, 0.2}); err == nil || !strings.Contains(err.Error(), "exactly 2 classes") {
		t.Errorf("one class: %v", err)
	}
}

func TestLogLoss(t *testing.T) {
	// scikit-learn's log_loss example: 0.21616187468057912.
	y := []float64{0, 1, 1, 0} // spam, ham, ham, spam with ham=1
	pr := mat.NewDense(4, 2, []float64{.9, .1, .1, .9, .2, .8, .65, .35})
	got, err := LogLoss(y, pr, nil)
	if err != nil || !near(got, 0.21616187468057912, 1e-12) {
		t.Errorf("log loss %v %v", got, err)
	}
	// A zero probability for the true class is clipped at the machine
	// epsilon: scikit-learn 1.2's log_loss([0], [[0, 1]], labels=[0, 1]).
	if got, err := LogLoss([]float64{0}, mat.NewDense(1, 2, []float64{0, 1}), []float64{0, 1}); err != nil || !near(got, 36.04365338911715, 1e-12) {
		t.Errorf("clipped log loss %v %v", got, err)
	}
	if _, err := LogLoss([]float64{0, 5}, mat.NewDense(2, 2, nil), []float64{0, 1}); err == nil || !strings.Contains(err.Error(), "label 5") {
		t.Errorf("unknown label: %v", err)
	}
	if _, err := LogLoss(y, mat.NewDense(4, 3, nil), nil); err == nil {
		t.Error("column count mismatch accepted")
	}
}

// Class names are one per label in order (scikit-learn's target_names),
// or a dataset's levels indexed by code (a fold may lack a class).
func TestClassName(t *testing.T) {
	tests := []struct {
		names  []string
		labels []float64
		want   []string
	}{
		{[]string{"ant", "bird", "cat"}, []float64{0, 1, 2}, []string{"ant", "bird", "cat"}},
		{[]string{"one", "two"}, []float64{1, 2}, []string{"one", "two"}},
		{[]string{"ant", "bird", "cat"}, []float64{0, 2}, []string{"ant", "cat"}},
		{[]string{"ant", "bird"}, []float64{0, 1, 5}, []string{"ant", "bird", "5.0"}},
		{nil, []float64{0.5, 2}, []string{"0.5", "2.0"}},
	}
	for _, tt := range tests {
		for i, want := range tt.want {
			if got := className(tt.names, tt.labels, i); got != want {
				t.Errorf("names %q, labels %v: class %d is %q, want %q", tt.names, tt.labels, i, got, want)
			}
		}
	}
}

// A NaN in a metric's input is an error naming the argument and index,
// as scikit-learn's "Input contains NaN", not a class of its own or a NaN
// score.
func TestMetricsRejectNaN(t *testing.T) {
	nan := math.NaN()
	proba := mat.NewDense(2, 2, []float64{0.5, 0.5, nan, 0.5})
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"accuracy", func() error { _, err := Accuracy([]float64{0, nan}, []float64{0, nan}); return err }, "experiments: accuracy: yTrue has NaN at index 1"},
		{"accuracy pred", func() error { _, err := Accuracy([]float64{0, 1}, []float64{nan, 1}); return err }, "experiments: accuracy: yPred has NaN at index 0"},
		{"mse", func() error { _, err := MSE([]float64{1, 2}, []float64{1, nan}); return err }, "experiments: mse: yPred has NaN at index 1"},
		{"rmse", func() error { _, err := RMSE([]float64{1, 2}, []float64{1, nan}); return err }, "experiments: rmse: mse: yPred has NaN at index 1"},
		{"mae", func() error { _, err := MAE([]float64{nan, 2}, []float64{1, 2}); return err }, "experiments: mae: yTrue has NaN at index 0"},
		{"r2", func() error { _, err := R2([]float64{1, 2, 3}, []float64{1, 2, nan}); return err }, "experiments: r2: yPred has NaN at index 2"},
		{"confusion", func() error { _, err := ConfusionMatrix([]float64{0, nan}, []float64{0, 1}); return err }, "experiments: confusion matrix: yTrue has NaN at index 1"},
		{"report", func() error { _, err := Report([]float64{0, 1}, []float64{0, nan}); return err }, "yPred has NaN at index 1"},
		{"f1", func() error { _, err := F1([]float64{0, 1}, []float64{0, nan}, ""); return err }, "yPred has NaN at index 1"},
		{"roc", func() error { _, err := ROC([]float64{0, 1, 1}, []float64{0.1, nan, 0.3}); return err }, "experiments: roc: scores has NaN at index 1"},
		{"roc labels", func() error { _, err := ROC([]float64{0, nan, 1}, []float64{0.1, 0.2, 0.3}); return err }, "experiments: roc: yTrue has NaN at index 1"},
		{"log loss", func() error { _, err := LogLoss([]float64{0, 1}, proba, nil); return err }, "experiments: log loss: proba has NaN at row 1, column 0"},
		{"log loss labels", func() error {
			_, err := LogLoss([]float64{0, nan}, mat.NewDense(2, 2, []float64{0.5, 0.5, 0.5, 0.5}), []float64{0, 1})
			return err
		}, "experiments: log loss: yTrue has NaN at index 1"},
		{"auc ovr", func() error { _, err := AUCOvR([]float64{0, 1}, proba, nil, ""); return err }, "proba has NaN at row 1, column 0"},
	}
	for _, tt := range tests {
		err := tt.call()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}
