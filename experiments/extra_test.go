package experiments

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/display"
	"gonum.org/v1/gonum/mat"
)

func TestSortedOrder(t *testing.T) {
	r := newRand(4)
	for _, n := range []int{0, 1, 5, 2047, 2048, 5000, 70000} {
		col := make([]float64, n)
		for i := range col {
			switch r.IntN(10) {
			case 0:
				col[i] = math.Copysign(0, -1)
			case 1:
				col[i] = 0
			case 2:
				col[i] = math.Inf(1 - 2*r.IntN(2))
			case 3:
				col[i] = float64(r.IntN(5)) // repeats
			default:
				col[i] = r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
			}
		}
		got := sortedOrder(col)
		want := rangeIdx(0, n)
		slices.SortStableFunc(want, func(a, b int) int {
			switch {
			case col[a] < col[b]:
				return -1
			case col[a] > col[b]:
				return 1
			}
			return 0
		})
		for i := range want {
			if int(got[i]) != want[i] {
				t.Fatalf("n=%d: position %d has row %d (%v), want row %d (%v)", n, i, got[i], col[got[i]], want[i], col[want[i]])
			}
		}
	}
}

func TestQuantileBins(t *testing.T) {
	X, y := blobs(3000, 2, 3, 2, 8)
	exact, _ := binData(X, 0, 2)
	binned, _ := binData(X, 32, 2)
	for f := 0; f < 3; f++ {
		if len(exact.binMin[f]) != 3000 || len(binned.binMin[f]) > 32 || len(binned.binMin[f]) < 16 {
			t.Errorf("feature %d: %d exact codes, %d bins", f, len(exact.binMin[f]), len(binned.binMin[f]))
		}
		// Codes keep the order of values, and bins do not overlap.
		for i := 0; i < 3000; i++ {
			c := binned.codes[f][i]
			v := X.At(i, f)
			if v < binned.binMin[f][c] || v > binned.binMax[f][c] {
				t.Fatalf("value %v outside its bin [%v,%v]", v, binned.binMin[f][c], binned.binMax[f][c])
			}
		}
		for c := 1; c < len(binned.binMin[f]); c++ {
			if binned.binMin[f][c] <= binned.binMax[f][c-1] {
				t.Fatalf("bins %d and %d overlap", c-1, c)
			}
		}
	}
	m := &RandomForestClassifier{NTrees: 10, MaxBins: 32}
	if err := m.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if s, _ := Score(m, X, y); s < 0.95 {
		t.Errorf("binned forest accuracy %v", s)
	}
}

func TestDatasetRowsCopy(t *testing.T) {
	ds := sampleDataset(t)
	r, err := ds.Rows([]int{5, 0, 5})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := r.Strings("color"); strings.Join(c, ",") != "green,red,green" {
		t.Errorf("rows = %v", c)
	}
	if _, err := ds.Rows([]int{6}); err == nil {
		t.Error("row out of range accepted")
	}
	cp := ds.Copy()
	x, _ := cp.Floats("x")
	x[0] = 99
	if o, _ := ds.Floats("x"); o[0] != 1 {
		t.Error("Copy shares storage")
	}
	var zero Dataset
	if err := zero.AddFloats("a", []float64{1, 2}); err != nil || zero.Len() != 2 {
		t.Errorf("zero Dataset: %v", err)
	}
	if NewDataset().Len() != 0 {
		t.Error("NewDataset not empty")
	}
}

func TestGridSearchDataset(t *testing.T) {
	ds := irisDataset(t)
	gs := &GridSearch{
		Model: NewPipeline(&OneHotEncoder{}, &StandardScaler{}, &KNeighborsClassifier{}),
		Grid:  map[string][]any{"kneighborsclassifier.K": {1, 7}, "kneighborsclassifier.Weights": {"uniform", "distance"}},
		CV:    CVOptions{K: 3, Shuffle: true, Seed: 1},
	}
	if err := gs.FitDataset(ds, "species"); err != nil {
		t.Fatal(err)
	}
	if len(gs.Results()) != 4 || gs.BestScore() < 0.9 {
		t.Errorf("%d results, best %v", len(gs.Results()), gs.BestScore())
	}
	best := gs.BestModel().(*Pipeline)
	pred, err := best.PredictDataset(ds)
	if err != nil || len(pred) != 150 {
		t.Errorf("refit pipeline: %v", err)
	}
	// The search predicts as its best pipeline does.
	if got, err := gs.PredictDataset(ds); err != nil || !slices.Equal(got, pred) {
		t.Errorf("GridSearch.PredictDataset: %v", err)
	}
	want, _ := best.PredictLabels(ds)
	if got, err := gs.PredictLabels(ds); err != nil || !slices.Equal(got, want) || got[0] != "setosa" {
		t.Errorf("GridSearch.PredictLabels = %v…: %v", got[:1], err)
	}
	noRefit := &GridSearch{Model: gs.Model, Grid: map[string][]any{"kneighborsclassifier.K": {1, 7}}, NoRefit: true}
	if err := noRefit.FitDataset(ds, "species"); err != nil {
		t.Fatal(err)
	}
	if _, err := noRefit.PredictDataset(ds); err == nil || !strings.Contains(err.Error(), "no refitted model") {
		t.Errorf("PredictDataset without a refit: %v", err)
	}
	X, y := loadIris(t)
	plain := &GridSearch{Model: &GaussianNB{}, Grid: map[string][]any{"VarSmoothing": {1e-9}}}
	if err := plain.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.PredictLabels(ds); err == nil || !strings.Contains(err.Error(), "predicts from a matrix: use Predict") {
		t.Errorf("PredictLabels of a matrix model: %v", err)
	}
	// A pipeline searched on a matrix has no column names to find.
	onX := &GridSearch{Model: NewPipeline(&StandardScaler{}, &GaussianNB{}), Grid: map[string][]any{"gaussiannb.VarSmoothing": {1e-9}}}
	if err := onX.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if _, err := onX.PredictDataset(ds); err == nil || !strings.Contains(err.Error(), "the pipeline was fitted on a matrix (Fit(X, y)), whose columns have no names") {
		t.Errorf("PredictDataset of a pipeline fitted on a matrix: %v", err)
	}
	p, err := gs.PlotParam("kneighborsclassifier.Weights")
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p)
	if err := (&GridSearch{Model: &GaussianNB{}, Grid: map[string][]any{"VarSmoothing": {1e-9}}}).FitDataset(ds, "species"); err == nil {
		t.Error("FitDataset without a pipeline accepted")
	}
}

func TestRenderBundles(t *testing.T) {
	X, y := loadIris(t)
	res, err := CrossValidate(&GaussianNB{}, X, y, CVOptions{K: 3})
	if err != nil {
		t.Fatal(err)
	}
	vc, _ := ValidationCurve(&KNeighborsClassifier{}, X, y, "Weights", []any{"uniform", "distance"}, CVOptions{K: 3})
	gs := &GridSearch{Model: &GaussianNB{}, Grid: map[string][]any{"VarSmoothing": {1e-9, 1e-3}}, CV: CVOptions{K: 3}}
	gs.Fit(X, y)
	rep, _ := Report(y, y)
	cm, _ := ConfusionMatrix(y, y)
	roc, _ := ROC([]float64{0, 1, 0, 1}, []float64{0.1, 0.9, 0.4, 0.3})
	for _, v := range []any{res, vc, gs, rep, cm, roc, sampleDataset(t)} {
		b := display.Render(v)
		text, _ := b.Data["text/plain"].(string)
		if text == "" {
			t.Errorf("%T: no text form", v)
		}
		_, html := b.Data["text/html"]
		_, png := b.Data["image/png"]
		if !html && !png {
			t.Errorf("%T renders only as text: %v", v, b.Data)
		}
	}
	if !strings.Contains(vc.String(), "distance") {
		t.Errorf("curve table:\n%s", vc.String())
	}
}

// TestTreeModesAgree checks that growing nodes from sorted lists, from
// per-node sorting and from per-node histograms gives the same trees: all
// scan candidate thresholds in the same order with exact (integer)
// weights under Gini.
func TestTreeModesAgree(t *testing.T) {
	defer func(m int) { treeMode = m }(treeMode)
	Xb, yb := blobs(700, 3, 6, 3, 12)
	Xi, yi := loadIris(t)
	for _, data := range []struct {
		X *mat.Dense
		y []float64
	}{{Xb, yb}, {Xi, yi}} {
		var probas []*mat.Dense
		for _, mode := range []int{1, 2, 0} {
			treeMode = mode
			for _, m := range []Classifier{
				&DecisionTreeClassifier{Seed: 3},
				&RandomForestClassifier{NTrees: 15, Seed: 3},
				&DecisionTreeClassifier{Seed: 1, MinSamplesLeaf: 3, MaxBins: 8},
			} {
				if err := m.Fit(data.X, data.y); err != nil {
					t.Fatal(err)
				}
				pr, _ := m.PredictProba(data.X)
				probas = append(probas, pr)
			}
		}
		for i := 3; i < len(probas); i++ {
			if !mat.Equal(probas[i], probas[i%3]) {
				t.Fatalf("model %d differs between growth modes", i%3)
			}
		}
	}
	// Regression sums floats in another order per mode: compare fits.
	Xr, yr, _ := linearData(500, 4, 0.3, 2)
	var r2s []float64
	for _, mode := range []int{1, 2} {
		treeMode = mode
		m := &RandomForestRegressor{NTrees: 10, Seed: 2}
		m.Fit(Xr, yr)
		pred, _ := m.Predict(Xr)
		r2, _ := R2(yr, pred)
		r2s = append(r2s, r2)
	}
	if math.Abs(r2s[0]-r2s[1]) > 0.01 || r2s[0] < 0.9 {
		t.Errorf("regression R2 by mode %v", r2s)
	}
}
