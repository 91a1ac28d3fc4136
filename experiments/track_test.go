package experiments

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
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

// copier copies the event's data during Track, as a tracker that
// writes in the background does, and keeps At's view for comparison.
type copier struct {
	rows, cols int
	copied     []float64
	at         []float64
	levels     [][]string
	// DataEqual of the copy, and of copies one bit off (first and last
	// value) or one value short.
	equal, offEqual bool
	// mem is DataMemory, copied; of is DataMemoryOf the copy for each
	// region, and offOf for the copy with its first and last values one
	// bit off.
	mem, of, offOf [][]byte
}

func (c *copier) Track(ev *TrackEvent) {
	c.levels = ev.Levels
	c.rows, c.cols, c.copied = ev.CopyData(nil)
	c.equal, c.offEqual = ev.DataEqual(c.copied), false
	if n := len(c.copied); n > 0 {
		for _, k := range []int{0, n - 1} {
			off := slices.Clone(c.copied)
			off[k] = math.Float64frombits(math.Float64bits(off[k]) ^ 1)
			c.offEqual = c.offEqual || ev.DataEqual(off)
		}
		c.offEqual = c.offEqual || ev.DataEqual(c.copied[:n-1])
	}
	c.mem, c.of, c.offOf = nil, nil, nil
	off := slices.Clone(c.copied)
	if n := len(off); n > 0 {
		off[0] = math.Float64frombits(math.Float64bits(off[0]) ^ 1)
		off[n-1] = math.Float64frombits(math.Float64bits(off[n-1]) ^ 1)
	}
	for i, b := range ev.DataMemory() {
		c.mem = append(c.mem, slices.Clone(b))
		c.of = append(c.of, ev.DataMemoryOf(c.copied, i))
		c.offOf = append(c.offOf, ev.DataMemoryOf(off, i))
	}
	c.at = nil
	for i := 0; i < c.rows; i++ {
		for j := 0; j < c.cols; j++ {
			c.at = append(c.at, ev.Data.At(i, j))
		}
	}
}

// CopyData gives exactly what Data.At shows, and DataEqual recognizes
// that copy and no other, for every kind of data an event carries: X
// with y, X alone, a dataset with categorical and missing values, a
// strided view of a matrix. DataMemory is the memory the values are read
// from, and DataMemoryOf the copy gives that memory's bytes, except
// where they do not follow from the values (the gaps of a strided view).
func TestTrackEventCopyData(t *testing.T) {
	X, y := trackData()
	big := mat.NewDense(14, 3, nil)
	for i := 0; i < 14; i++ {
		big.Set(i, 0, float64(i))
		big.Set(i, 1, -float64(i))
	}
	view := big.Slice(1, 13, 0, 1).(*mat.Dense) // stride 3, one column
	ds, err := FromColumns([]string{"x", "city", "y"},
		[]float64{1, math.NaN(), 3, 4, 5, 6}, []string{"a", "", "b", "a", "b", "a"}, []float64{0, 1, 0, 1, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	// A subset keeps its parent's levels: "b" is used by no row of it.
	sub, err := ds.Rows([]int{0, 1, 3, 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		fit        func() error
		rows, cols int
		levels     [][]string
		derivable  []bool // DataMemoryOf gives each region's bytes
	}{
		{"X and y", func() error { return (&GaussianNB{}).Fit(X, y) }, 12, 2, nil, []bool{true, true}},
		{"X alone", func() error { return (&KMeans{K: 2, Seed: 1}).Fit(X, nil) }, 12, 1, nil, []bool{true}},
		{"strided view", func() error { return (&LinearRegression{}).Fit(view, y) }, 12, 2, nil, []bool{false, true}},
		{"dataset", func() error {
			return NewPipeline(&OneHotEncoder{}, &SimpleImputer{}, &LogisticRegression{}).FitDataset(ds, "y")
		}, 6, 3, [][]string{nil, {"a", "b"}, nil}, []bool{true, true, true}},
		{"subset with an unused level", func() error {
			return NewPipeline(&OneHotEncoder{}, &SimpleImputer{}, &LogisticRegression{}).FitDataset(sub, "y")
		}, 4, 3, [][]string{nil, {"a", "b"}, nil}, []bool{true, true, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &copier{}
			prev := SetTracker(c)
			defer SetTracker(prev)
			if err := tc.fit(); err != nil {
				t.Fatal(err)
			}
			if c.rows != tc.rows || c.cols != tc.cols || len(c.copied) != len(c.at) {
				t.Fatalf("copied %dx%d (%d values), At shows %d values", c.rows, c.cols, len(c.copied), len(c.at))
			}
			if !slices.EqualFunc(c.levels, tc.levels, slices.Equal) || (c.levels == nil) != (tc.levels == nil) {
				t.Errorf("levels %q, want %q", c.levels, tc.levels)
			}
			for i := range c.at {
				if math.Float64bits(c.copied[i]) != math.Float64bits(c.at[i]) {
					t.Errorf("value %d: copied %v, At %v", i, c.copied[i], c.at[i])
				}
			}
			if !c.equal || c.offEqual {
				t.Errorf("DataEqual: %v for the copy, %v for a copy one bit off or one value short", c.equal, c.offEqual)
			}
			if len(c.mem) != len(tc.derivable) {
				t.Fatalf("DataMemory: %d regions, want %d", len(c.mem), len(tc.derivable))
			}
			offSeen := false
			for i, want := range tc.derivable {
				switch {
				case (c.of[i] != nil) != want:
					t.Errorf("region %d: DataMemoryOf gave bytes %v, want %v", i, c.of[i] != nil, want)
				case want && !bytes.Equal(c.of[i], c.mem[i]):
					t.Errorf("region %d: DataMemoryOf the copy differs from the memory", i)
				}
				offSeen = offSeen || c.offOf[i] != nil && !bytes.Equal(c.offOf[i], c.mem[i])
			}
			if !offSeen {
				t.Error("DataMemoryOf a copy one bit off matches the memory everywhere")
			}
		})
	}
}

// saveLater keeps each event's Save, to call it after Track returned.
type saveLater struct{ saves []func(io.Writer) error }

func (s *saveLater) Track(ev *TrackEvent) { s.saves = append(s.saves, ev.Save) }

// An event's Save writes the model as that fit left it, even called
// after the model was fitted again, and while it is (run with -race).
func TestTrackSaveSnapshot(t *testing.T) {
	X, y := trackData()
	X2 := mat.DenseCopyOf(X)
	X2.Scale(-3, X2)
	for _, tc := range []struct {
		name  string
		model Model
	}{
		{"forest", &RandomForestClassifier{NTrees: 5, Seed: 1}},
		{"pipeline", NewPipeline(&StandardScaler{}, &LogisticRegression{})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &saveLater{}
			prev := SetTracker(rec)
			defer SetTracker(prev)
			if err := tc.model.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			want, _ := tc.model.Predict(X)
			save := rec.saves[0]
			SetTracker(nil)
			done := make(chan error)
			go func() { done <- tc.model.Fit(X2, y) }() // refit while saving
			var buf bytes.Buffer
			if err := save(&buf); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			p, err := Load(&buf)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Predict(X)
			if err != nil || !bitEqual(got, want) {
				t.Errorf("saved after a refit: %v %v, want the first fit's %v", got, err, want)
			}
			if refit, _ := tc.model.Predict(X); bitEqual(refit, want) {
				t.Log("the refit predicts the same; the test shows less than it could")
			}
		})
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

// BenchmarkFitNopTracker is the same fit with a tracker that does
// nothing: what making the event costs the fit.
func BenchmarkFitNopTracker(b *testing.B) {
	X, y := trackData()
	m := &GaussianNB{}
	prev := SetTracker(nopPreparer{})
	defer SetTracker(prev)
	for i := 0; i < b.N; i++ {
		if err := m.Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
}

type nopPreparer struct{}

func (nopPreparer) Track(*TrackEvent)   {}
func (nopPreparer) Prepare(*TrackEvent) {}

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

// BenchmarkCopyData copies digits with its target, as an Autologger
// does during a fit.
// BenchmarkCopyData measures what a tracker keeping the training data
// pays during a fit on digits, as a matrix and as a dataset (columns):
// copying it, or comparing it with a copy.
func BenchmarkCopyData(b *testing.B) {
	X, y := loadDigits(b)
	names := make([]string, 65)
	cols := make([]any, 65)
	for j := range 64 {
		names[j], cols[j] = fmt.Sprint("c", j), mat.Col(nil, j, X)
	}
	names[64], cols[64] = "y", y
	ds, err := FromColumns(names, cols...)
	if err != nil {
		b.Fatal(err)
	}
	for _, data := range []struct {
		name string
		d    cvData
	}{{"matrix", matrixData{X, y}}, {"dataset", datasetData{ds: ds, target: "y"}}} {
		ev := &TrackEvent{}
		ev.Data, ev.Columns, ev.Levels = data.d.table()
		_, _, buf := ev.CopyData(nil)
		b.Run(data.name+"/copy", func(b *testing.B) {
			b.SetBytes(int64(8 * len(buf)))
			for i := 0; i < b.N; i++ {
				_, _, buf = ev.CopyData(buf)
			}
		})
		b.Run(data.name+"/equal", func(b *testing.B) {
			b.SetBytes(int64(8 * len(buf)))
			for i := 0; i < b.N; i++ {
				if !ev.DataEqual(buf) {
					b.Fatal("data differs from its copy")
				}
			}
		})
	}
}

// preparer records the events Prepare and Track get, and a copy of the
// data Prepare saw.
type preparer struct {
	recorder
	prepared []*TrackEvent
	copies   [][]float64
}

func (p *preparer) Prepare(ev *TrackEvent) {
	if len(p.prepared) != len(p.events) {
		panic("Prepare before the previous Track")
	}
	p.prepared = append(p.prepared, ev)
	_, _, d := ev.CopyData(nil)
	p.copies = append(p.copies, d)
}

// panicStep is a model whose Fit panics.
type panicStep struct{}

func (panicStep) Fit(*mat.Dense, []float64) error       { panic("step bug") }
func (panicStep) Predict(*mat.Dense) ([]float64, error) { return nil, nil }

func TestPreparer(t *testing.T) {
	X, y := trackData()
	ds, err := FromColumns([]string{"x", "y"}, X.RawMatrix().Data, y)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		kind string
		run  func() error
	}{
		{"model fit", KindFit, func() error { return (&GaussianNB{}).Fit(X, y) }},
		{"dataset fit", KindFit, func() error { return NewPipeline(&StandardScaler{}, &GaussianNB{}).FitDataset(ds, "y") }},
		{"failed fit", KindFit, func() error { return (&LogisticRegression{C: -1}).Fit(X, y) }},
		{"cross validate", KindCrossValidate, func() error {
			_, err := CrossValidate(&GaussianNB{}, X, y, CVOptions{K: 3})
			return err
		}},
		{"grid search", KindGridSearch, func() error {
			return (&GridSearch{Model: &KNeighborsClassifier{}, Grid: map[string][]any{"K": {1, 3}}, CV: CVOptions{K: 2}}).FitDataset(ds, "y")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &preparer{}
			prev := SetTracker(p)
			defer SetTracker(prev)
			err := tc.run()
			if len(p.prepared) != 1 || len(p.events) != 1 || p.prepared[0] != p.events[0] {
				t.Fatalf("prepared %d events, tracked %d, the same one: %v", len(p.prepared), len(p.events), len(p.events) == 1 && p.prepared[0] == p.events[0])
			}
			ev := p.events[0]
			if ev.Kind != tc.kind || ev.Name == "" || (ev.Err == nil) != (err == nil) {
				t.Errorf("event %s %q err %v, fit returned %v", ev.Kind, ev.Name, ev.Err, err)
			}
			// What Prepare saw is what Track sees.
			if !ev.DataEqual(p.copies[0]) || len(p.copies[0]) != 24 {
				t.Errorf("data at Prepare %v differs from the data at Track", p.copies[0])
			}
		})
	}

	// A step that panics fails the fit (see safe); work that panics
	// past that still sends its event, failed, and the panic goes on.
	p := &preparer{}
	prev := SetTracker(p)
	defer SetTracker(prev)
	if err := NewPipeline(&StandardScaler{}, panicStep{}).Fit(X, y); err == nil || len(p.events) != 1 || p.events[0].Err != err {
		t.Fatalf("fit with a panicking step: %v, events %v", err, p.events)
	}
	p = &preparer{}
	func() {
		defer func() {
			if r := recover(); r != "work bug" {
				t.Errorf("recovered %v, want the work's panic", r)
			}
		}()
		tr := startTracking(p, KindFit, "work", matrixData{X, y})
		defer tr.abandon()
		panic("work bug")
	}()
	if len(p.prepared) != 1 || len(p.events) != 1 || p.events[0] != p.prepared[0] || p.events[0].Err != errPanicked {
		t.Fatalf("after a panic: prepared %d, tracked %+v", len(p.prepared), p.events)
	}
}

// FrozenData reads the memory the event's data was read from, whatever
// the caller does to its matrix's header afterwards.
func TestTrackEventFrozenData(t *testing.T) {
	X, y := trackData()
	rec := &recorder{}
	prev := SetTracker(rec)
	if err := (&GaussianNB{}).Fit(X, y); err != nil {
		t.Fatal(err)
	}
	SetTracker(prev)
	ev := rec.events[0]
	_, _, want := ev.CopyData(nil)
	frozen := &TrackEvent{Data: ev.FrozenData()}
	X.Reset()
	X.ReuseAs(3, 5) // a reuse for other data: new header, other values
	X.Set(0, 0, 42)
	if _, _, got := frozen.CopyData(nil); !bitEqual(got, want) || !frozen.DataEqual(want) {
		t.Errorf("frozen data after the matrix was reused: %v, want %v", got, want)
	}
	if mem := frozen.DataMemory(); len(mem) != 2 || len(mem[0]) != 8*12 {
		t.Errorf("frozen memory: %d regions", len(mem))
	}
}
