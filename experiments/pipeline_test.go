package experiments

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestScalersAndImputer(t *testing.T) {
	nan := math.NaN()
	X := mat.NewDense(4, 3, []float64{
		1, 10, 5,
		2, nan, 5,
		3, 30, 5,
		6, 20, 5,
	})
	ss := &StandardScaler{}
	out, err := ss.FitTransform(X)
	if err != nil {
		t.Fatal(err)
	}
	// Column 0: mean 3, population std sqrt(3.5); column 2 is constant.
	if !near(out.At(0, 0), (1-3)/math.Sqrt(3.5), 1e-12) || out.At(0, 2) != 0 || !math.IsNaN(out.At(1, 1)) {
		t.Errorf("standard scaler:\n%v", mat.Formatted(out))
	}
	if !near(ss.Mean()[1], 20, 1e-12) || ss.Scale()[2] != 1 {
		t.Errorf("mean %v scale %v", ss.Mean(), ss.Scale())
	}
	mm := &MinMaxScaler{}
	out, _ = mm.FitTransform(X)
	if out.At(0, 0) != 0 || out.At(3, 0) != 1 || out.At(2, 1) != 1 || out.At(0, 2) != 0 {
		t.Errorf("min-max:\n%v", mat.Formatted(out))
	}
	mm2 := &MinMaxScaler{Min: -1, Max: 1}
	out, _ = mm2.FitTransform(X)
	if out.At(0, 0) != -1 || out.At(3, 0) != 1 {
		t.Errorf("min-max [-1,1]:\n%v", mat.Formatted(out))
	}
	if err := (&MinMaxScaler{Min: 2, Max: 1}).Fit(X); err == nil {
		t.Error("inverted range accepted")
	}
	for _, tt := range []struct {
		strategy string
		want     float64
	}{{"mean", 20}, {"median", 20}, {"most_frequent", 10}, {"constant", -7}} {
		im := &SimpleImputer{Strategy: tt.strategy, FillValue: -7}
		out, err := im.FitTransform(X)
		if err != nil {
			t.Fatal(err)
		}
		if out.At(1, 1) != tt.want || out.At(0, 1) != 10 {
			t.Errorf("%s imputer: %v", tt.strategy, out.At(1, 1))
		}
	}
	if _, err := (&SimpleImputer{}).Transform(X); err == nil || !strings.Contains(err.Error(), "not fitted") {
		t.Errorf("unfitted: %v", err)
	}
	allNaN := mat.NewDense(2, 1, []float64{nan, nan})
	if err := (&SimpleImputer{}).Fit(allNaN); err == nil || !strings.Contains(err.Error(), `column "c0" has no values`) {
		t.Errorf("all-NaN column: %v", err)
	}
	if _, err := ss.Transform(mat.NewDense(1, 2, nil)); err == nil {
		t.Error("wrong width accepted")
	}
}

func TestOneHotEncoder(t *testing.T) {
	train, _ := FromColumns([]string{"x", "color"}, []float64{1, 2, 3}, []string{"red", "blue", "red"})
	test, _ := FromColumns([]string{"x", "color"}, []float64{4, 5, 6}, []string{"blue", "purple", ""})
	enc := &OneHotEncoder{}
	out, err := enc.FitTransformDataset(train)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(out.Columns(), ",") != "x,color=blue,color=red" {
		t.Errorf("columns %v", out.Columns())
	}
	res, err := enc.TransformDataset(test)
	if err != nil {
		t.Fatal(err)
	}
	M, _ := res.Matrix()
	want := mat.NewDense(3, 3, []float64{4, 1, 0, 5, 0, 0, 6, 0, 0})
	if !mat.Equal(M, want) {
		t.Errorf("encoded:\n%v", mat.Formatted(M))
	}
	strict := &OneHotEncoder{ErrorOnUnknown: true}
	strict.FitDataset(train)
	_, err = strict.TransformDataset(test)
	if err == nil || !strings.Contains(err.Error(), `column "color" has level "purple" at row 1`) {
		t.Errorf("unknown level: %v", err)
	}
	num := &OneHotEncoder{Columns: []string{"x"}}
	o2, err := num.FitTransformDataset(train)
	if err != nil || strings.Join(o2.Columns(), ",") != "x=1,x=2,x=3,color" {
		t.Errorf("numeric column encoding: %v %v", o2.Columns(), err)
	}
	if cats := enc.Categories(); !slices.Equal(cats["color"], []string{"blue", "red"}) {
		t.Errorf("categories %v", cats)
	}
	// A column the encoder replaced is named with what replaced it.
	if _, _, err := out.XY("color"); err == nil || !strings.Contains(err.Error(), `no column "color": a one-hot encoder replaced it by [color=blue color=red]`) {
		t.Errorf("XY of an encoded column: %v", err)
	}
}

func irisDataset(t *testing.T) *Dataset {
	ds, err := ReadCSV("testdata/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	// Add a categorical feature so the pipeline exercises encoding.
	pl, _ := ds.Floats("petal_length")
	size := make([]string, len(pl))
	for i, v := range pl {
		size[i] = []string{"small", "medium", "large"}[min(int(v/2.5), 2)]
	}
	ds.AddStrings("size", size)
	return ds
}

func TestPipelineDataset(t *testing.T) {
	ds := irisDataset(t)
	train, test, err := TrainTestSplit(ds, 0.3, 5, "species")
	if err != nil {
		t.Fatal(err)
	}
	// Workers (how, not what) is not shown: a job that sets it prints
	// the pipeline as the notebook did.
	p := NewPipeline(&OneHotEncoder{}, &SimpleImputer{}, &StandardScaler{}, &LogisticRegression{C: 10, Workers: 2})
	if names := strings.Join(p.stepNames(), ","); names != "onehotencoder,simpleimputer,standardscaler,logisticregression" {
		t.Errorf("step names %s", names)
	}
	if s := p.String(); s != "Pipeline(onehotencoder, simpleimputer, standardscaler, logisticregression{C: 10})" {
		t.Errorf("String = %s", s)
	}
	if err := p.FitDataset(train, "species"); err != nil {
		t.Fatal(err)
	}
	labels, err := p.PredictLabels(test)
	if err != nil {
		t.Fatal(err)
	}
	truth, _ := test.Strings("species")
	lv, _ := test.Levels("species")
	correct := 0
	for i, l := range labels {
		if l == truth[i] {
			correct++
		}
	}
	if float64(correct)/float64(len(labels)) < 0.9 {
		t.Errorf("pipeline accuracy %d/%d", correct, len(labels))
	}
	if s := p.Schema(); len(s) != 5 || s[4] != (SchemaColumn{"size", Categorical, LevelsAsWritten}) {
		t.Errorf("schema %v", s)
	}

	// Save and load: bit-identical predictions and probabilities.
	var buf bytes.Buffer
	if err := p.Save(&buf); err != nil {
		t.Fatal(err)
	}
	q, err := Load(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := p.PredictProbaDataset(test)
	qa, err := q.PredictProbaDataset(test)
	if err != nil {
		t.Fatal(err)
	}
	if !bitEqual(pa.RawMatrix().Data, qa.RawMatrix().Data) {
		t.Error("loaded pipeline's probabilities differ")
	}
	if !slices.Equal(q.TargetLevels(), lv) {
		t.Errorf("target levels %v", q.TargetLevels())
	}

	// Column order does not matter; missing or retyped columns are named.
	shuffled, _ := test.Select("size", "species", "petal_width", "petal_length", "sepal_width", "sepal_length")
	if pr, err := q.PredictProbaDataset(shuffled); err != nil || !mat.Equal(pr, pa) {
		t.Errorf("reordered columns: %v", err)
	}
	noCol, _ := test.Drop("sepal_width")
	if _, err := q.PredictDataset(noCol); err == nil || !strings.Contains(err.Error(), `column "sepal_width" is missing`) {
		t.Errorf("missing column: %v", err)
	}
	retyped, _ := test.Drop("size")
	pl, _ := test.Floats("petal_length")
	retyped.AddFloats("size", pl)
	if _, err := q.PredictDataset(retyped); err == nil || !strings.Contains(err.Error(), `column "size" is numeric (its values read as numbers), the pipeline was fitted with it categorical: read the data with CSVOptions{Categorical: []string{"size"}}`) {
		t.Errorf("retyped column: %v", err)
	}
	// A categorical column with no value reads as numeric: its rows
	// predict as rows whose category is missing.
	unread, _ := test.Drop("size")
	nan := make([]float64, unread.Len())
	for i := range nan {
		nan[i] = math.NaN()
	}
	unread.AddFloats("size", nan)
	asMissing, _ := test.Drop("size")
	none := make([]string, unread.Len())
	asMissing.AddStrings("size", none)
	want, err := q.PredictProbaDataset(asMissing)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := q.PredictProbaDataset(unread); err != nil || !mat.Equal(got, want) {
		t.Errorf("categorical column read as numeric with no value: %v", err)
	}
	if _, err := q.Predict(mat.NewDense(2, 5, nil)); err == nil || !strings.Contains(err.Error(), `categorical column "size"`) {
		t.Errorf("matrix predict on dataset pipeline: %v", err)
	}
}

func bitEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func TestPipelineSaveLoadEveryModel(t *testing.T) {
	X, y := blobs(200, 3, 4, 2, 3)
	Xr, yr, _ := linearData(200, 4, 1, 3)
	dir := t.TempDir()
	for i, tt := range []struct {
		model Model
		reg   bool
	}{
		{&LogisticRegression{}, false}, {&GaussianNB{}, false}, {&KNeighborsClassifier{}, false},
		{&DecisionTreeClassifier{}, false}, {&RandomForestClassifier{NTrees: 10}, false}, {&KMeans{K: 3}, false},
		{&LinearRegression{}, true}, {&Ridge{}, true}, {&KNeighborsRegressor{}, true},
		{&DecisionTreeRegressor{}, true}, {&RandomForestRegressor{NTrees: 10}, true},
	} {
		p := NewPipeline(&SimpleImputer{}, &MinMaxScaler{}, tt.model)
		XX, yy := X, y
		if tt.reg {
			XX, yy = Xr, yr
		}
		if err := p.Fit(XX, yy); err != nil {
			t.Fatalf("%T: %v", tt.model, err)
		}
		path := filepath.Join(dir, "p"+itoa(i)+".gob")
		if err := p.SaveFile(path); err != nil {
			t.Fatalf("%T: %v", tt.model, err)
		}
		q, err := LoadFile(path)
		if err != nil {
			t.Fatalf("%T: %v", tt.model, err)
		}
		a, _ := p.Predict(XX)
		b, err := q.Predict(XX)
		if err != nil || !bitEqual(a, b) {
			t.Errorf("%T: loaded predictions differ (%v)", tt.model, err)
		}
		if _, err := q.Predict(mat.NewDense(2, 3, nil)); err == nil || !strings.Contains(err.Error(), "3 columns, the pipeline was fitted on 4") {
			t.Errorf("%T: width check: %v", tt.model, err)
		}
	}
	if err := NewPipeline(&LinearRegression{}).Save(&bytes.Buffer{}); err == nil {
		t.Error("saved an unfitted pipeline")
	}
	// A save that fails leaves the model saved before it as it was.
	saved := filepath.Join(dir, "p0.gob")
	before, _ := os.ReadFile(saved)
	if err := NewPipeline(&LinearRegression{}).SaveFile(saved); err == nil {
		t.Error("saved an unfitted pipeline to a file")
	}
	if after, _ := os.ReadFile(saved); len(before) == 0 || !bytes.Equal(after, before) {
		t.Errorf("a failed SaveFile changed the file saved before (%d bytes, then %d)", len(before), len(after))
	}
	if _, err := LoadFile(saved); err != nil {
		t.Errorf("the file saved before no longer loads: %v", err)
	}
	if _, err := Load(strings.NewReader("not a pipeline")); err == nil || !strings.Contains(err.Error(), "not a saved pipeline") {
		t.Errorf("garbage load: %v", err)
	}
}

func TestPipelineNamesBadValues(t *testing.T) {
	ds, _ := FromColumns([]string{"age", "city", "y"},
		[]float64{30, math.NaN(), 40, 50}, []string{"a", "b", "a", "b"}, []float64{0, 1, 0, 1})
	p := NewPipeline(&OneHotEncoder{}, &StandardScaler{}, &LogisticRegression{})
	err := p.FitDataset(ds, "y")
	if err == nil || !strings.Contains(err.Error(), `column "age" has NaN at row 1`) {
		t.Errorf("err = %v", err)
	}
	p = NewPipeline(&OneHotEncoder{}, &SimpleImputer{}, &LogisticRegression{})
	if err := p.FitDataset(ds, "y"); err != nil {
		t.Errorf("imputed pipeline: %v", err)
	}
}

func TestPipelineValidation(t *testing.T) {
	X, y := blobs(30, 2, 2, 1, 1)
	for _, tt := range []struct {
		p       *Pipeline
		wantErr string
	}{
		{&Pipeline{}, "no steps"},
		{NewPipeline(&StandardScaler{}), "is not a model"},
		{NewPipeline(&StandardScaler{}, &OneHotEncoder{}, &GaussianNB{}), "must come before matrix steps"},
		{NewPipeline("hello", &GaussianNB{}), "is not a transformer"},
		{&Pipeline{Steps: []Step{{"a", &StandardScaler{}}, {"a", &GaussianNB{}}}}, `two steps named "a"`},
	} {
		if err := tt.p.Fit(X, y); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("err = %v, want %q", err, tt.wantErr)
		}
	}
	p := NewPipeline(&StandardScaler{}, &StandardScaler{}, &GaussianNB{})
	if p.Steps[1].Name != "standardscaler-2" {
		t.Errorf("duplicate step name %q", p.Steps[1].Name)
	}
	if _, err := p.Predict(X); err == nil || !strings.Contains(err.Error(), "not fitted") {
		t.Errorf("unfitted predict: %v", err)
	}
	// A dataset step in a matrix-fitted pipeline sees numeric columns only.
	q := NewPipeline(&OneHotEncoder{}, &GaussianNB{})
	if err := q.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Predict(X); err != nil {
		t.Error(err)
	}
}

// Columns constant up to rounding stay (nearly) zero after scaling, as in
// scikit-learn, and a column of tiny values that truly varies is scaled.
// Columns: {0.3, 0.1+0.2, 0.3, 0.3}; 100 with a last value one ulp up;
// 0, 1e-17, 2e-17, 3e-17; 1e8 with one value one ulp up. The expected
// values are scikit-learn 1.2's fit_transform.
func TestScalersNearConstant(t *testing.T) {
	X := mat.NewDense(4, 4, []float64{
		0.3, 100, 0, 1e8,
		0.1 + 0.2, 100, 1e-17, 1e8,
		0.3, 100, 2e-17, 1e8 + 1.4901161193847656e-08,
		0.3, 100.00000000000001, 3e-17, 1e8,
	})
	tests := []struct {
		name  string
		m     Transformer
		want  []float64
		scale []float64 // StandardScaler's Scale
	}{
		{"standard", &StandardScaler{}, []float64{
			-5.5511151231257827e-17, 0, -1.3416407864998738, 0,
			0, 0, -4.4721359549995793e-01, 0,
			-5.5511151231257827e-17, 0, 4.4721359549995804e-01, 1.4901161193847656e-08,
			-5.5511151231257827e-17, 1.4210854715202004e-14, 1.3416407864998738, 0,
		}, []float64{1, 1, 1.1180339887498948e-17, 1}},
		{"standard without mean", &StandardScaler{WithoutMean: true}, []float64{
			0.3, 100, 0, 1e8,
			0.1 + 0.2, 100, 8.9442719099991597e-01, 1e8,
			0.3, 100, 1.7888543819998319, 1e8 + 1.4901161193847656e-08,
			0.3, 100.00000000000001, 2.6832815729997477, 1e8,
		}, []float64{1, 1, 1.1180339887498948e-17, 1}},
		{"min-max", &MinMaxScaler{}, []float64{
			0, 0, 0, 0,
			5.551115123125783e-17, 0, 1e-17, 0,
			0, 0, 2e-17, 1,
			0, 1, 3e-17, 0,
		}, nil},
	}
	for _, tt := range tests {
		if err := tt.m.Fit(X); err != nil {
			t.Fatal(err)
		}
		out, err := tt.m.Transform(X)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range tt.want {
			if g := out.RawMatrix().Data[i]; math.Abs(g-w) > 1e-15+1e-12*math.Abs(w) {
				t.Errorf("%s: row %d column %d is %v, scikit-learn %v", tt.name, i/4, i%4, g, w)
			}
		}
		if ss, ok := tt.m.(*StandardScaler); ok {
			for j, w := range tt.scale {
				if g := ss.Scale()[j]; math.Abs(g-w) > 1e-12*w {
					t.Errorf("%s: scale of column %d is %v, scikit-learn %v", tt.name, j, g, w)
				}
			}
		}
	}
}

// A saved pipeline with a byte changed anywhere in its steps is refused:
// it would load into a model that predicts otherwise.
func TestLoadRefusesDamage(t *testing.T) {
	X, y := blobs(60, 3, 4, 1, 1)
	p := NewPipeline(&StandardScaler{}, &LogisticRegression{})
	if err := p.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Save(&buf); err != nil {
		t.Fatal(err)
	}
	saved := buf.Bytes()
	if _, err := Load(bytes.NewReader(saved)); err != nil {
		t.Fatalf("intact: %v", err)
	}
	damaged, refused := 0, 0
	for i := len(saved) / 3; i < len(saved); i += 7 {
		b := bytes.Clone(saved)
		b[i] ^= 0x10
		q, err := Load(bytes.NewReader(b))
		damaged++
		if err != nil {
			refused++
			continue
		}
		a, _ := p.Predict(X)
		c, _ := q.Predict(X)
		pa, _ := p.PredictProba(X)
		pc, _ := q.PredictProba(X)
		if !slices.Equal(a, c) || !mat.Equal(pa, pc) {
			t.Errorf("byte %d changed: loaded without error, predicts otherwise", i)
		}
	}
	if refused == 0 {
		t.Errorf("none of %d damaged files was refused", damaged)
	}
}

// A saved model does not depend on the cores that fitted it: Workers is
// left out, so the bytes (and the version a server reports) are the same
// for every Workers, and the loaded model uses every core.
func TestSaveLeavesWorkersOut(t *testing.T) {
	X, y := blobs(200, 3, 4, 2, 3)
	for _, mk := range []func(w int) Model{
		func(w int) Model { return &LogisticRegression{Workers: w} },
		func(w int) Model { return &RandomForestClassifier{NTrees: 8, Seed: 1, Workers: w} },
		func(w int) Model { return &KNeighborsClassifier{Workers: w} },
		func(w int) Model { return &KMeans{K: 3, Workers: w} },
	} {
		var saved [][]byte
		for _, w := range []int{1, 2} {
			p := NewPipeline(&StandardScaler{}, mk(w))
			if err := p.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := p.Save(&b); err != nil {
				t.Fatal(err)
			}
			saved = append(saved, b.Bytes())
		}
		name := fmt.Sprintf("%T", mk(0))
		if !bytes.Equal(saved[0], saved[1]) {
			t.Errorf("%s: Workers 1 and 2 saved different bytes", name)
		}
		q, err := Load(bytes.NewReader(saved[1]))
		if err != nil {
			t.Fatal(err)
		}
		if w := reflect.ValueOf(q.Steps[1].Estimator).Elem().FieldByName("Workers").Int(); w != 0 {
			t.Errorf("%s: loaded with Workers %d, want 0 (every core)", name, w)
		}
	}
}
