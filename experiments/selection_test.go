package experiments

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

type countingProgress struct{ n atomic.Int64 }

func (c *countingProgress) Add(n int) { c.n.Add(int64(n)) }

func TestCrossValidate(t *testing.T) {
	X, y := loadIris(t)
	prog := &countingProgress{}
	var calls []int
	opts := CVOptions{K: 5, Metrics: []string{"accuracy", "f1_macro", "log_loss"}, TrainScores: true, Progress: prog,
		OnProgress: func(done, total int) {
			if total != 5 {
				t.Errorf("total %d", total)
			}
			calls = append(calls, done)
		}}
	res, err := CrossValidate(NewPipeline(&StandardScaler{}, &LogisticRegression{}), X, y, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Test["accuracy"]) != 5 || prog.n.Load() != 5 || !slices.Equal(calls, []int{1, 2, 3, 4, 5}) {
		t.Fatalf("folds %d, progress %d, callbacks %v", len(res.Test["accuracy"]), prog.n.Load(), calls)
	}
	if m := res.Mean("accuracy"); m < 0.93 {
		t.Errorf("mean accuracy %v", m)
	}
	if res.Mean("log_loss") <= 0 || res.Train["accuracy"][0] < 0.9 {
		t.Errorf("log loss %v train %v", res.Mean("log_loss"), res.Train["accuracy"])
	}
	s := res.String()
	for _, want := range []string{"test_accuracy", "train_f1_macro", "mean", "std"} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	// Deterministic across runs and worker counts.
	res2, _ := CrossValidate(&RandomForestClassifier{NTrees: 10, Seed: 3}, X, y, CVOptions{Workers: 1})
	res3, _ := CrossValidate(&RandomForestClassifier{NTrees: 10, Seed: 3}, X, y, CVOptions{Workers: 4})
	if fmt.Sprint(res2.Test) != fmt.Sprint(res3.Test) {
		t.Error("cross-validation depends on Workers")
	}
	// Regressors default to R² over unstratified folds.
	Xr, yr, _ := linearData(200, 3, 0.1, 1)
	rr, err := CrossValidate(&Ridge{}, Xr, yr, CVOptions{K: 4, Metrics: []string{"r2", "rmse"}})
	if err != nil || rr.Mean("r2") < 0.99 {
		t.Errorf("ridge CV: %v %v", rr, err)
	}
	for _, tt := range []struct {
		opts    CVOptions
		wantErr string
	}{
		{CVOptions{Metrics: []string{"bogus"}}, `unknown metric "bogus"`},
		{CVOptions{K: 1}, "K=1"},
		{CVOptions{Folds: []Fold{{Train: []int{0}, Test: []int{999}}}}, "row 999 out of range"},
		{CVOptions{Metrics: []string{"roc_auc"}}, "needs 2 classes"},
		{CVOptions{Metrics: []string{"f1"}}, "use f1_macro, f1_weighted or f1_micro"},
		{CVOptions{Metrics: []string{"r2"}}, "metric r2 scores a regressor's values, and gaussiannb is a classifier"},
	} {
		if _, err := CrossValidate(&GaussianNB{}, X, y, tt.opts); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("err = %v, want %q", err, tt.wantErr)
		}
	}
	// Classification metrics on a regressor, and any metric on k-means,
	// are errors rather than scores of 0.
	if _, err := CrossValidate(NewPipeline(&StandardScaler{}, &Ridge{}), Xr, yr, CVOptions{K: 3, Metrics: []string{"accuracy"}}); err == nil || !strings.Contains(err.Error(), "metric accuracy scores a classifier's labels, and pipeline is a regressor") {
		t.Errorf("accuracy of a regressor: %v", err)
	}
	if _, err := CrossValidate(&KMeans{K: 3}, X, y, CVOptions{K: 3}); err == nil || !strings.Contains(err.Error(), "assigns clusters") {
		t.Errorf("k-means: %v", err)
	}
	// One-vs-rest AUC over three classes, macro and weighted.
	ovr, err := CrossValidate(&GaussianNB{}, X, y, CVOptions{K: 3, Metrics: []string{"roc_auc_ovr", "roc_auc_ovr_weighted", "f1_macro"}})
	if err != nil || !(ovr.Mean("roc_auc_ovr") > 0.9 && ovr.Mean("roc_auc_ovr") <= 1) || !(ovr.Mean("roc_auc_ovr_weighted") > 0.9) {
		t.Errorf("roc_auc_ovr: %v, %v", ovr, err)
	}
	// The binary F1 of two classes (the label 1 positive).
	X2, y2 := mat.DenseCopyOf(X.Slice(0, 100, 0, 4)), y[:100]
	if b, err := CrossValidate(&GaussianNB{}, X2, y2, CVOptions{K: 3, Metrics: []string{"f1"}}); err != nil || b.Mean("f1") < 0.9 {
		t.Errorf("binary f1: %v, %v", b, err)
	}
}

// Score is scikit-learn's: k-means scores minus the inertia of the rows.
func TestScoreKMeans(t *testing.T) {
	X, y := loadIris(t)
	km := &KMeans{K: 3, Seed: 1}
	if err := km.Fit(X, nil); err != nil {
		t.Fatal(err)
	}
	s, err := Score(km, X, y)
	if err != nil || !near(s, -km.Inertia(), 1e-9*km.Inertia()) {
		t.Errorf("score %v, %v; inertia %v", s, err, km.Inertia())
	}
}

// panicky is a model whose Fit panics, as user code might.
type panicky struct{ Boom bool }

func (p *panicky) Fit(X *mat.Dense, y []float64) error {
	var s []int
	_ = s[len(y)] // index out of range
	return nil
}
func (p *panicky) Predict(X *mat.Dense) ([]float64, error) { return nil, nil }

// predictPanicky is a model whose Predict panics; as a value, not a
// pointer, it cannot be cloned.
type predictPanicky struct{ Boom bool }

func (p predictPanicky) Fit(X *mat.Dense, y []float64) error { return nil }
func (p predictPanicky) Predict(X *mat.Dense) ([]float64, error) {
	panic(fmt.Sprintf("boom %d", X.RawMatrix().Rows))
}

// A panic in a model comes back as one line naming the call, the fold
// (and candidate), the panic value and the model's line that raised it.
func TestCrossValidateRecoversPanics(t *testing.T) {
	X, y := blobs(50, 2, 2, 1, 1)
	const (
		index = "panic: runtime error: index out of range [40] with length 0 (in experiments.(*panicky).Fit at selection_test.go:"
		boom  = "panic: boom 10 (in experiments.predictPanicky.Predict at selection_test.go:"
	)
	one := CVOptions{Workers: 1}
	grid := map[string][]any{"Boom": {false, true}}
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"cross validate", func() error { _, err := CrossValidate(&panicky{}, X, y, one); return err },
			"experiments: cross validate: fold 0: fit: " + index},
		{"cross validate predict", func() error { _, err := CrossValidate(&predictPanicky{}, X, y, one); return err },
			"experiments: cross validate: fold 0: predict: " + boom},
		{"parallel folds", func() error { _, err := CrossValidate(&panicky{}, X, y, CVOptions{}); return err },
			"experiments: cross validate: fold "},
		{"not copyable", func() error { _, err := CrossValidate(AsModel(predictPanicky{}), X, y, one); return err },
			"experiments: cross validate: fold 0: predict: panic: boom 10 (in experiments.predictPanicky.Predict at selection_test.go:"},
		{"pipeline", func() error {
			_, err := CrossValidate(NewPipeline(&StandardScaler{}, &panicky{}), X, y, one)
			return err
		},
			"experiments: cross validate: fold 0: fit pipeline: " + index},
		{"grid search", func() error {
			return (&GridSearch{Model: &predictPanicky{}, Grid: grid, CV: one}).Fit(X, y)
		}, "experiments: grid search: candidate 0, fold 0: predict: " + boom},
		{"validation curve", func() error {
			_, err := ValidationCurve(&panicky{}, X, y, "Boom", []any{false, true}, one)
			return err
		}, "experiments: validation curve: candidate 0, fold 0: fit: " + index},
		{"pipeline fit", func() error { return NewPipeline(&StandardScaler{}, &panicky{}).Fit(X, y) },
			"experiments: fit pipeline: " + strings.Replace(index, "[40]", "[50]", 1)},
	}
	for _, tt := range tests {
		err := tt.run()
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "internal error") {
			t.Errorf("%s: %v\nwant prefix %q", tt.name, err, tt.want)
		}
	}
}

func TestCrossValidateDataset(t *testing.T) {
	ds := irisDataset(t)
	p := NewPipeline(&OneHotEncoder{}, &StandardScaler{}, &KNeighborsClassifier{})
	res, err := CrossValidateDataset(p, ds, "species", CVOptions{K: 3, Shuffle: true, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mean("accuracy") < 0.9 {
		t.Errorf("accuracy %v", res.Mean("accuracy"))
	}
}

func TestGridSearch(t *testing.T) {
	X, y := loadIris(t)
	gs := &GridSearch{
		Model: NewPipeline(&StandardScaler{}, &LogisticRegression{}),
		Grid:  map[string][]any{"logisticregression.C": {0.001, 0.1, 10}, "logisticregression.MaxIter": {200}},
		CV:    CVOptions{K: 5},
	}
	if err := gs.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if len(gs.Results()) != 3 {
		t.Fatalf("%d results", len(gs.Results()))
	}
	best := gs.BestParams()
	if best["logisticregression.C"] == 0.001 {
		t.Errorf("best C %v: heavy regularization cannot win on iris", best)
	}
	for _, r := range gs.Results() {
		if r.Params["logisticregression.C"] == 0.001 && r.Rank != 3 {
			t.Errorf("C=0.001 ranked %d", r.Rank)
		}
	}
	pred, err := gs.Predict(X)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := Accuracy(y, pred); a < 0.95 {
		t.Errorf("refit accuracy %v", a)
	}
	if c := gs.BestModel().(*Pipeline).Steps[1].Estimator.(*LogisticRegression).C; fmt.Sprint(c) != fmt.Sprint(best["logisticregression.C"]) {
		t.Errorf("refit model has C=%v, best %v", c, best)
	}
	if !strings.Contains(gs.String(), "mean_accuracy") {
		t.Errorf("table:\n%s", gs.String())
	}
	p, err := gs.PlotParam("logisticregression.C")
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p)
	// Losses are minimized.
	Xr, yr, _ := linearData(100, 3, 1, 2)
	gr := &GridSearch{Model: &KNeighborsRegressor{}, Grid: map[string][]any{"K": {1, 5, 70}}, Metric: "rmse"}
	if err := gr.Fit(Xr, yr); err != nil {
		t.Fatal(err)
	}
	if gr.BestParams()["K"] == 70 {
		t.Errorf("rmse picked K=70 (the worst)")
	}
	bad := &GridSearch{Model: &GaussianNB{}, Grid: map[string][]any{"Nope": {1}}}
	if err := bad.Fit(X, y); err == nil || !strings.Contains(err.Error(), `no parameter field "Nope"`) {
		t.Errorf("bad grid: %v", err)
	}
}

func checkPNG(t *testing.T, p *Plot) {
	t.Helper()
	b := p.PNG()
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width < 200 || cfg.Height < 150 {
		t.Errorf("PNG: %v %+v", err, cfg)
	}
	if s := p.SVG(); !strings.Contains(s, "<svg") {
		t.Errorf("SVG: %.100s", s)
	}
	bundle := p.Render()
	if _, ok := bundle.Data["image/png"].([]byte); !ok {
		t.Errorf("bundle: %v", bundle.Data["text/plain"])
	}
	if md, _ := bundle.Metadata["image/png"].(map[string]any); md["width"] != cfg.Width || md["height"] != cfg.Height {
		t.Errorf("bundle metadata %v, want the PNG's size %dx%d", bundle.Metadata, cfg.Width, cfg.Height)
	}
}

func TestCurvesAndPlots(t *testing.T) {
	X, y := loadIris(t)
	vc, err := ValidationCurve(&KNeighborsClassifier{}, X, y, "K", []any{1, 5, 15, 50}, CVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vc.X) != 4 || vc.TrainMean[0] != 1 && vc.TrainMean[0] < 0.99 {
		t.Errorf("validation curve %+v", vc)
	}
	p, err := vc.Plot()
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p)

	lc, err := LearningCurve(&GaussianNB{}, X, y, []float64{0.2, 0.6, 1}, CVOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Whole numbers of rows, the same in every fold (iris' 5 folds train
	// on 120 rows each).
	if !slices.Equal(lc.X, []float64{24, 72, 120}) {
		t.Errorf("learning curve sizes %v", lc.X)
	}

	// The same curves on a dataset with a categorical column, through a
	// pipeline that one-hot encodes it within each fold.
	ds := irisDataset(t)
	pipe := NewPipeline(&OneHotEncoder{}, &StandardScaler{}, &KNeighborsClassifier{})
	dvc, err := ValidationCurveDataset(pipe, ds, "species", "kneighborsclassifier.K", []any{1, 15}, CVOptions{K: 3})
	if err != nil || len(dvc.TestMean) != 2 || dvc.TestMean[1] < 0.8 {
		t.Errorf("validation curve on a dataset: %+v, %v", dvc, err)
	}
	dlc, err := LearningCurveDataset(pipe, ds, "species", []float64{0.5, 1}, CVOptions{K: 3, Seed: 1})
	if err != nil || !slices.Equal(dlc.X, []float64{50, 100}) || dlc.TestMean[1] < 0.8 {
		t.Errorf("learning curve on a dataset: %+v, %v", dlc, err)
	}
	if _, err := LearningCurveDataset(pipe, ds, "nosuch", nil, CVOptions{}); err == nil || !strings.Contains(err.Error(), `learning curve`) || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("unknown target: %v", err)
	}
	if p, err = lc.Plot(); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p)

	Xtr, Xte, ytr, yte, _ := SplitXY(X, y, 0.3, 1, true)
	for _, m := range []Model{&RandomForestClassifier{NTrees: 15}, &LogisticRegression{}} {
		ic, err := IterationCurve(m, Xtr, ytr, Xte, yte, "accuracy")
		if err != nil {
			t.Fatal(err)
		}
		if len(ic.X) == 0 || len(ic.TrainMean) != len(ic.TestMean) {
			t.Fatalf("%T iteration curve %+v", m, ic)
		}
		last := ic.TestMean[len(ic.TestMean)-1]
		full, _ := Clone(m)
		full.(Model).Fit(Xtr, ytr)
		if s, _ := Score(full.(Model), Xte, yte); math.Abs(s-last) > 1e-12 {
			t.Errorf("%T: last iteration scores %v, the fitted model %v", m, last, s)
		}
		if p, err = ic.Plot(); err != nil {
			t.Fatal(err)
		}
		checkPNG(t, p)
	}
	if _, err := IterationCurve(&GaussianNB{}, Xtr, ytr, Xte, yte, ""); err == nil {
		t.Error("GaussianNB iteration curve accepted")
	}
	hp, err := PlotHistory("loss", []float64{3, 2, 1}, []float64{3, 2.5, 2.4})
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, hp)

	lr, ybt, roc := binaryROC(t, Xtr, ytr, Xte, yte)
	rp, err := PlotROC(roc, &ROCCurve{Name: "chance", FPR: []float64{0, 1}, TPR: []float64{0, 1}, AUC: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, rp)
	pred, _ := lr.Predict(Xte)
	cm, _ := ConfusionMatrix(ybt, pred)
	cp, err := cm.Plot()
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, cp)
	if err := cp.Save(t.TempDir() + "/cm.svg"); err != nil {
		t.Error(err)
	}
}

// meanModel predicts the training mean; a value, not a pointer, so Clone
// cannot copy it (as a model declared in a notebook cell reaches compiled
// code): cross-validation fits the one value in turn on each fold.
type meanModel struct{ mean *float64 }

func (m meanModel) Fit(X *mat.Dense, y []float64) error {
	*m.mean = floats.Sum(y) / float64(len(y))
	return nil
}

func (m meanModel) Predict(X *mat.Dense) ([]float64, error) {
	r, _ := X.Dims()
	out := make([]float64, r)
	for i := range out {
		out[i] = *m.mean
	}
	return out, nil
}

func TestCrossValidateUncopyableModel(t *testing.T) {
	X := mat.NewDense(8, 1, []float64{1, 2, 3, 4, 5, 6, 7, 8})
	y := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	opts := CVOptions{K: 4, Metrics: []string{"mae"}, Workers: 4}
	m := meanModel{mean: new(float64)}
	if _, err := Clone(m); err == nil {
		t.Fatal("Clone copied a model that is no pointer")
	}
	got, err := CrossValidate(m, X, y, opts)
	if err != nil {
		t.Fatal(err)
	}
	// The same folds with a copy per fold: what a copyable model gives.
	for i, f := range got.Test["mae"] {
		test := []int{2 * i, 2*i + 1}
		var sum float64
		for j := range y {
			if j != test[0] && j != test[1] {
				sum += y[j]
			}
		}
		mean := sum / 6
		want := (math.Abs(y[test[0]]-mean) + math.Abs(y[test[1]]-mean)) / 2
		if math.Abs(f-want) > 1e-12 {
			t.Errorf("fold %d: mae %v, want %v", i, f, want)
		}
	}
	// In a pipeline too.
	if _, err := CrossValidate(NewPipeline(&StandardScaler{}, m), X, y, opts); err != nil {
		t.Fatal(err)
	}
	// A grid search must set parameters on copies: it says why it cannot.
	g := &GridSearch{Model: m, Grid: map[string][]any{"x": {1}}, CV: CVOptions{K: 2}}
	if err := g.Fit(X, y); err == nil || !strings.Contains(err.Error(), "not a pointer") {
		t.Errorf("grid search over an uncopyable model: %v", err)
	}
}

// Candidates with equal mean scores share the best rank among them, as
// scikit-learn's GridSearchCV ranks: the expected ranks and best index
// are its rank_test_score and best_index_ for GaussianNB on iris,
// var_smoothing as below, cv=5.
func TestGridSearchTiedRanks(t *testing.T) {
	X, y := loadIris(t)
	vs := []any{1e-12, 1e-9, 1e-3, 1e-2, 0.05, 0.1, 0.3, 1.0}
	g := &GridSearch{Model: &GaussianNB{}, Grid: map[string][]any{"VarSmoothing": vs}, NoRefit: true}
	if err := g.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	want := []int{1, 1, 1, 1, 5, 6, 7, 7}
	var got []int
	for _, r := range g.Results() {
		got = append(got, r.Rank)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ranks %v, scikit-learn %v", got, want)
	}
	if p := g.BestParams(); p["VarSmoothing"] != 1e-12 {
		t.Errorf("best %v, scikit-learn var_smoothing=1e-12", p)
	}
}

// binaryROC fits a logistic regression on the training set with every
// class above 0 taken as 1, and returns it, the test labels merged so,
// and its ROC curve on the test set, named "logistic".
func binaryROC(t *testing.T, Xtr *mat.Dense, ytr []float64, Xte *mat.Dense, yte []float64) (*LogisticRegression, []float64, *ROCCurve) {
	t.Helper()
	binary := func(y []float64) []float64 {
		out := make([]float64, len(y))
		for i, v := range y {
			out[i] = math.Min(v, 1)
		}
		return out
	}
	lr := &LogisticRegression{}
	if err := lr.Fit(Xtr, binary(ytr)); err != nil {
		t.Fatal(err)
	}
	pr, err := lr.PredictProba(Xte)
	if err != nil {
		t.Fatal(err)
	}
	yt := binary(yte)
	roc, err := ROC(yt, mat.Col(nil, 1, pr))
	if err != nil {
		t.Fatal(err)
	}
	roc.Name = "logistic"
	return lr, yt, roc
}
