package experiments

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
)

// fittedEstimators returns one fitted estimator of every type Load knows.
func fittedEstimators(t testing.TB) map[string]stateful {
	t.Helper()
	X, y := blobs(120, 3, 4, 2, 3)
	Xr, yr, _ := linearData(120, 4, 1, 3)
	out := map[string]stateful{}
	for _, m := range []Model{
		&LogisticRegression{C: 2}, &GaussianNB{}, &KNeighborsClassifier{K: 3, Weights: "distance"},
		&DecisionTreeClassifier{MaxDepth: 4, Seed: 2}, &RandomForestClassifier{NTrees: 5, Seed: 3}, &KMeans{K: 3, Seed: 1},
	} {
		if err := m.Fit(X, y); err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		out[reflect.TypeOf(m).Elem().Name()] = m.(stateful)
	}
	for _, m := range []Model{
		&LinearRegression{}, &Ridge{Alpha: 0.5}, &KNeighborsRegressor{}, &DecisionTreeRegressor{MinSamplesLeaf: 3},
		&RandomForestRegressor{NTrees: 4, NoBootstrap: true, MaxFeatures: 2},
	} {
		if err := m.Fit(Xr, yr); err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		out[reflect.TypeOf(m).Elem().Name()] = m.(stateful)
	}
	for _, m := range []Transformer{&SimpleImputer{Strategy: "median"}, &StandardScaler{}, &MinMaxScaler{Min: -1, Max: 1}} {
		if err := m.Fit(X); err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		out[reflect.TypeOf(m).Elem().Name()] = m.(stateful)
	}
	ds, err := FromColumns([]string{"city", "x"}, []string{"a", "b", "a", "c"}, []float64{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	oh := &OneHotEncoder{Columns: []string{"city"}}
	if err := oh.FitDataset(ds); err != nil {
		t.Fatal(err)
	}
	out["OneHotEncoder"] = oh
	return out
}

// Every estimator's parameters and state survive the binary encoding
// exactly (NaN payloads, nil versus empty slices included), and it is
// what Save writes.
func TestBinaryEncodingEveryEstimator(t *testing.T) {
	fitted := fittedEstimators(t)
	for name := range estimatorTypes {
		e, ok := fitted[name]
		if !ok {
			t.Errorf("%s: no fitted example in this test", name)
			continue
		}
		st, err := saveStep("s", e)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if st.Enc != encBinary {
			t.Errorf("%s saved with encoding %q, want %q", name, st.Enc, encBinary)
		}
		back := estimatorTypes[name]()
		if err := loadStep(st, back); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(back, e) {
			t.Errorf("%s: decoded estimator differs:\n got %+v\nwant %+v", name, back, e)
		}
	}
}

type encAll struct {
	B       bool
	I       int
	I8      int8
	U16     uint16
	F32     float32
	F       float64
	S       string
	K       Kind
	Fs      []float64
	NilFs   []float64
	EmptyFs []float64
	I32     []int32
	Is      []int
	Ss      [][]string
	Sub     encSub
	Subs    []encSub
	hidden  int
}

type encSub struct {
	X []float64
	N int64
}

func TestBinaryEncodingKinds(t *testing.T) {
	in := encAll{B: true, I: -5, I8: -128, U16: 65535, F32: 1.5, F: math.Copysign(0, -1), S: "é\x00x", K: Categorical,
		Fs: []float64{math.NaN(), math.Inf(-1), 1e-308, math.Float64frombits(0x7ff8000000000abc)}, EmptyFs: []float64{},
		I32: []int32{-1, 0, math.MaxInt32}, Is: []int{math.MinInt64, 7}, Ss: [][]string{{"a"}, nil, {}},
		Sub: encSub{X: []float64{2}, N: -9}, Subs: []encSub{{N: 1}, {X: []float64{3, 4}}}, hidden: 3}
	b, err := appendBinary(nil, &in)
	if err != nil {
		t.Fatal(err)
	}
	var out encAll
	if err := decodeBinary(b, &out); err != nil {
		t.Fatal(err)
	}
	in.hidden = 0
	// DeepEqual treats NaN as unequal to itself: compare bits.
	if math.Float64bits(out.F) != math.Float64bits(in.F) || len(out.Fs) != len(in.Fs) {
		t.Fatalf("floats: %v %v", out.F, out.Fs)
	}
	for i := range in.Fs {
		if math.Float64bits(out.Fs[i]) != math.Float64bits(in.Fs[i]) {
			t.Errorf("Fs[%d] = %x, want %x", i, math.Float64bits(out.Fs[i]), math.Float64bits(in.Fs[i]))
		}
	}
	out.Fs, in.Fs = nil, nil
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
	if out.NilFs != nil || out.EmptyFs == nil {
		t.Errorf("nil and empty slices: %v %v", out.NilFs == nil, out.EmptyFs == nil)
	}
}

// A state struct may gain or lose fields: decoding skips fields it does
// not have and leaves new ones zero; a changed type is an error.
func TestBinaryEncodingEvolution(t *testing.T) {
	type v1 struct {
		A    []float64
		Gone [][]int32
		Old  encSub
		N    int
	}
	type v2 struct {
		N   int
		A   []float64
		New string
	}
	b, err := appendBinary(nil, &v1{A: []float64{1, 2}, Gone: [][]int32{{1}}, Old: encSub{X: []float64{1}}, N: 4})
	if err != nil {
		t.Fatal(err)
	}
	var out v2
	if err := decodeBinary(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, v2{N: 4, A: []float64{1, 2}}) {
		t.Errorf("evolved: %+v", out)
	}
	type v3 struct{ N string }
	if err := decodeBinary(b, &v3{}); err == nil || !strings.Contains(err.Error(), "field N") {
		t.Errorf("type change: %v", err)
	}
	type withMap struct{ M map[string]int }
	if _, err := appendBinary(nil, &withMap{}); !errors.Is(err, errNotBinary) {
		t.Errorf("map field: %v", err)
	}
}

// Damaged data gives an error, never a panic or a huge allocation.
func TestBinaryDecodingDamaged(t *testing.T) {
	e := fittedEstimators(t)["RandomForestClassifier"]
	b, err := appendBinary(nil, e.state())
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b); n += 1 + n/50 {
		var tm treeModel
		if err := decodeBinary(b[:n], &tm); err == nil {
			t.Fatalf("truncated at %d of %d: no error", n, len(b))
		}
	}
	for _, bad := range [][]byte{
		{1, 1, 'A', tagFloats, 0xff, 0xff, 0xff, 0xff, 0x0f}, // 4G floats claimed
		{1, 1, 'A', 99},
		{1, 1, 'A', tagSlice, 0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		var out struct{ A []float64 }
		if err := decodeBinary(bad, &out); err == nil {
			t.Errorf("% x: no error", bad)
		}
	}
}

// Pipelines saved in format version 1 (gob throughout, before the binary
// encoding) still load, and predict exactly as the same state saved
// today.
func TestLoadVersion1(t *testing.T) {
	f, err := os.Open("testdata/pipeline-v1.gob")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ReadCSV("testdata/iris.csv", CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	labels, err := p.PredictLabels(ds)
	if err != nil {
		t.Fatal(err)
	}
	species, _ := ds.Strings("species")
	right := 0
	for i := range labels {
		if labels[i] == species[i] {
			right++
		}
	}
	if right < 130 {
		t.Errorf("version 1 pipeline: %d of %d right", right, len(labels))
	}
	var buf bytes.Buffer
	if err := p.Save(&buf); err != nil {
		t.Fatal(err)
	}
	q, err := Load(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Error("version 1 pipeline saved again differs")
	}
	a, _ := p.PredictProbaDataset(ds)
	b, _ := q.PredictProbaDataset(ds)
	if !bitEqual(a.RawMatrix().Data, b.RawMatrix().Data) {
		t.Error("probabilities differ after a round trip")
	}

	// A version this package does not know is refused by number.
	sp := savedPipeline{Format: pipelineFormat, Version: pipelineVersion + 1}
	buf.Reset()
	if err := gob.NewEncoder(&buf).Encode(sp); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(&buf); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("format version %d,", pipelineVersion+1)) {
		t.Errorf("future version: %v", err)
	}
}

func BenchmarkSaveForestDigits(b *testing.B) {
	X, y := loadDigits(b)
	p := NewPipeline(&RandomForestClassifier{Seed: 1})
	if err := p.Fit(X, y); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		if err := p.Save(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

func BenchmarkLoadForestDigits(b *testing.B) {
	X, y := loadDigits(b)
	p := NewPipeline(&RandomForestClassifier{Seed: 1})
	if err := p.Fit(X, y); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Save(&buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Load(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeForestState(b *testing.B) {
	X, y := loadDigits(b)
	m := &RandomForestClassifier{Seed: 1}
	if err := m.Fit(X, y); err != nil {
		b.Fatal(err)
	}
	var buf []byte
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		if buf, err = appendBinary(buf[:0], m.state()); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

// treeFixturePipelines are the pipelines testdata/*-v2.gob hold, fitted
// on testdata/iris.csv to predict species, saved in format version 2
// (every tree node with a value).
func treeFixturePipelines() map[string]*Pipeline {
	return map[string]*Pipeline{
		"forest":     NewPipeline(&RandomForestClassifier{NTrees: 7, Seed: 3}),
		"tree":       NewPipeline(&StandardScaler{}, &DecisionTreeClassifier{MaxDepth: 4, Seed: 1}),
		"forest-reg": NewPipeline(&RandomForestRegressor{NTrees: 5, Seed: 2, MaxDepth: 5}),
	}
}

// Trees saved in format version 2 (a value per node) load into the
// current layout (values for leaves only): the loaded pipeline predicts
// bit for bit as the same pipeline fitted today, and saves to the same
// bytes.
func TestLoadVersion2Trees(t *testing.T) {
	ds, err := ReadCSV("testdata/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	for name, fresh := range treeFixturePipelines() {
		old, err := LoadFile("testdata/" + name + "-v2.gob")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := fresh.FitDataset(ds, "species"); err != nil {
			t.Fatal(err)
		}
		a, err := old.PredictDataset(ds)
		if err != nil {
			t.Fatal(err)
		}
		b, err := fresh.PredictDataset(ds)
		if err != nil {
			t.Fatal(err)
		}
		if !bitEqual(a, b) {
			t.Errorf("%s: version 2 predictions differ from a fresh fit's", name)
		}
		if _, ok := old.Steps[len(old.Steps)-1].Estimator.(Classifier); ok {
			pa, _ := old.PredictProbaDataset(ds)
			pb, _ := fresh.PredictProbaDataset(ds)
			if !bitEqual(pa.RawMatrix().Data, pb.RawMatrix().Data) {
				t.Errorf("%s: version 2 probabilities differ from a fresh fit's", name)
			}
		}
		var ob, fb bytes.Buffer
		if err := old.Save(&ob); err != nil {
			t.Fatal(err)
		}
		if err := fresh.Save(&fb); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ob.Bytes(), fb.Bytes()) {
			t.Errorf("%s: the upgraded pipeline saves to %d bytes, a fresh fit to %d different ones", name, ob.Len(), fb.Len())
		}
	}
}

// A saved tree that does not hold together is refused at load with the
// step, tree and node named, instead of panicking or looping at predict.
func TestLoadCorruptTree(t *testing.T) {
	ds, err := ReadCSV("testdata/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		spoil func(tr *treeState)
		want  string
	}{
		{"cycle", func(tr *treeState) { tr.Left[0] = 0 }, "tree 1: tree node 0 splits feature"},
		{"child out of range", func(tr *treeState) { tr.Right[0] = int32(len(tr.Feature)) }, "into nodes"},
		{"feature out of range", func(tr *treeState) { tr.Feature[0] = 9 }, "splits feature 9 (of 4)"},
		{"values short", func(tr *treeState) { tr.Value = tr.Value[:len(tr.Value)-1] }, "values, want"},
		{"leaf row out of range", func(tr *treeState) {
			for i, f := range tr.Feature {
				if f < 0 {
					tr.Left[i] = 1000
					return
				}
			}
		}, "has value row 1000"},
		{"arrays disagree", func(tr *treeState) { tr.Threshold = tr.Threshold[:1] }, "1 thresholds"},
	}
	for _, tt := range tests {
		m := &RandomForestClassifier{NTrees: 3, Seed: 1}
		p := NewPipeline(m)
		if err := p.FitDataset(ds, "species"); err != nil {
			t.Fatal(err)
		}
		tt.spoil(&m.st.Trees[1])
		var buf bytes.Buffer
		if err := p.Save(&buf); err != nil {
			t.Fatal(err)
		}
		_, err := Load(&buf)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "load pipeline: step") {
			t.Errorf("%s: Load error %v, want one saying %q", tt.name, err, tt.want)
		}
	}
}
