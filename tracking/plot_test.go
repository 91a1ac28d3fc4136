package tracking

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/internal/plotstyle"
	"github.com/gopherlab/gopherlab/internal/plotstyle/plotcheck"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// inked returns the fraction of pixels of a PNG that are not near white.
func inked(t *testing.T, b []byte) (image.Image, float64) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	r := img.Bounds()
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, ca := img.At(x, y).RGBA()
			if ca > 0x8000 && (cr < 0xe000 || cg < 0xe000 || cb < 0xe000) {
				n++
			}
		}
	}
	return img, float64(n) / float64(r.Dx()*r.Dy())
}

// checkPlot renders p both ways and checks the PNG has ink and the SVG
// names every wanted text.
func checkPlot(t *testing.T, p *experiments.Plot, want ...string) {
	t.Helper()
	img, ink := inked(t, p.PNG())
	if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 150 {
		t.Errorf("PNG is %dx%d", b.Dx(), b.Dy())
	}
	if ink < 0.01 || ink > 0.6 {
		t.Errorf("PNG has %.1f%% inked pixels", ink*100)
	}
	svg := p.SVG()
	if !strings.Contains(svg, "<svg") {
		t.Fatalf("SVG: %.80q", svg)
	}
	for _, w := range want {
		if !strings.Contains(svg, ">"+w+"<") && !strings.Contains(svg, w) {
			t.Errorf("SVG lacks %q", w)
		}
	}
	b := display.Render(p)
	if v, ok := b.Data["image/png"]; !ok || v == nil || v == "" {
		t.Errorf("bundle %v has no PNG", b.Data["text/plain"])
	}
}

func TestPlotMetric(t *testing.T) {
	s := reportFixture(t)
	runs, err := s.SearchRuns(SearchQuery{Experiment: "iris", OrderBy: "metrics.accuracy DESC"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlotMetric(runs, "accuracy")
	if err != nil {
		t.Fatal(err)
	}
	checkPlot(t, p, "forest-b", "forest-a", "knn", "broken &lt;script&gt;", "0.96", "0.88", "accuracy by run")
	// The first run is at the top: the nominal axis counts from the bottom.
	ticks := p.P.Y.Tick.Marker.Ticks(p.P.Y.Min, p.P.Y.Max)
	if len(ticks) != 4 || ticks[3].Label != "forest-b" || ticks[0].Label != "broken <script>" {
		t.Errorf("y ticks %v", ticks)
	}

	// Repeated names get their short id; runs without the metric are left out.
	twins := []RunInfo{
		{ID: "aaaaaaaa-1", Name: "same", Metrics: map[string]float64{"loss": 0.5}},
		{ID: "bbbbbbbb-2", Name: "same", Metrics: map[string]float64{"loss": 0.25}},
		{ID: "cccccccc-3", Name: "other", Metrics: map[string]float64{"accuracy": 1}},
	}
	p, err = PlotMetric(twins, "loss")
	if err != nil {
		t.Fatal(err)
	}
	checkPlot(t, p, "same (aaaaaaaa)", "same (bbbbbbbb)")
	if strings.Contains(p.SVG(), "other") {
		t.Error("run without the metric drawn")
	}

	for _, tt := range []struct {
		runs   []RunInfo
		metric string
		want   string
	}{
		{runs, "nope", "tracking: plot nope: none of the 4 runs has the metric (metrics: "},
		{nil, "accuracy", "none of the 0 runs"},
		{runs, "acuracy", "none of the 4 runs has the metric (did you mean accuracy?)"},
		{[]RunInfo{{Name: "x", Metrics: map[string]float64{"accuracy": math.NaN()}}}, "accuracy", "none of the 1 runs has the metric with a finite value"},
	} {
		if _, err := PlotMetric(tt.runs, tt.metric); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("PlotMetric(%d runs, %q): %v, want %q", len(tt.runs), tt.metric, err, tt.want)
		}
	}
}

func TestPlotMetricHistory(t *testing.T) {
	s := reportFixture(t)
	runs, err := s.SearchRuns(SearchQuery{Experiment: "iris", OrderBy: "start_time"})
	if err != nil {
		t.Fatal(err)
	}
	// One more run with a single point: drawn as a point.
	one, _ := s.StartRun("iris", &RunOptions{Name: "single"})
	one.LogMetric("loss", 0.3, 4)
	one.Finish()
	info, err := s.GetRun(one.ID())
	if err != nil {
		t.Fatal(err)
	}
	runs = append(runs, *info)
	p, err := s.PlotMetricHistory(runs, "loss")
	if err != nil {
		t.Fatal(err)
	}
	checkPlot(t, p, "forest-a", "forest-b", "knn", "single", "loss by step", "step")
	if p.P.Y.Max <= 1-0.5*float64(6)/15 {
		t.Errorf("y axis ends at %v, under the data", p.P.Y.Max)
	}

	for _, tt := range []struct{ metric, want string }{
		{"nope", "none of the 5 runs has the metric"},
		{"los", "none of the 5 runs has the metric (did you mean loss?)"},
	} {
		if _, err := s.PlotMetricHistory(runs, tt.metric); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("PlotMetricHistory(%q): %v, want %q", tt.metric, err, tt.want)
		}
	}
}

// Bars start at zero: a bar's length is read as its value.
func TestBarsStartAtZero(t *testing.T) {
	closeRuns := []RunInfo{
		{ID: "aaaaaaaa-1", Name: "a", Metrics: map[string]float64{"accuracy": 0.729}},
		{ID: "bbbbbbbb-2", Name: "b", Metrics: map[string]float64{"accuracy": 0.698}},
	}
	p, err := PlotMetric(closeRuns, "accuracy")
	if err != nil {
		t.Fatal(err)
	}
	if p.P.X.Min != 0 || p.P.X.Max < 0.729 {
		t.Errorf("value axis [%v, %v], want it from 0 past 0.729", p.P.X.Min, p.P.X.Max)
	}
	checkPlot(t, p, "0.729", "0.698")

	for _, tt := range []struct {
		lo, hi, room     float64
		wantLo, wantHigh float64
	}{
		{0.698, 0.729, 0, 0, 0.729},
		{0.698, 0.729, 0.1, 0, 0.729 * 1.1},
		{0.95, 0.96, 0, 0, 0.96},
		{-2, -1, 0, -2, 0},
		{-1, 3, 0, -1, 3},
		{0, 0, 0, 0, 1},
		{5, 5, 0, 0, 5},
	} {
		lo, hi := barRange(tt.lo, tt.hi, tt.room)
		if math.Abs(lo-tt.wantLo) > 1e-12 || math.Abs(hi-tt.wantHigh) > 1e-12 {
			t.Errorf("barRange(%v, %v, %v) = %v, %v, want %v, %v", tt.lo, tt.hi, tt.room, lo, hi, tt.wantLo, tt.wantHigh)
		}
	}
}

// foldFixture logs five folds' accuracy, between 0.92 and 1, for each of
// five runs.
func foldFixture(t *testing.T) (*Store, []RunInfo) {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "folds.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	folds := [][]float64{{0.96, 1, 0.98, 1, 0.98}, {1, 0.98, 1, 0.96, 1}, {0.98, 0.98, 1, 1, 0.98}, {0.92, 0.94, 0.96, 0.98, 1}, {1, 1, 0.98, 0.96, 0.94}}
	for i, f := range folds {
		r, err := s.StartRun("iris", &RunOptions{Name: fmt.Sprintf("cv-knn-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range f {
			r.LogMetric("fold_accuracy", v, k)
		}
		r.LogMetric("accuracy", 0.9+0.02*float64(i), 0)
		r.Finish()
	}
	runs, err := s.SearchRuns(SearchQuery{Experiment: "iris"})
	if err != nil {
		t.Fatal(err)
	}
	return s, runs
}

// foldPlots draws the fold fixture's two plots: fold accuracy over steps,
// one line per run, and the final accuracy, one bar per run.
func foldPlots(t *testing.T) (history, bars *experiments.Plot) {
	t.Helper()
	s, runs := foldFixture(t)
	history, err := s.PlotMetricHistory(runs, "fold_accuracy")
	if err != nil {
		t.Fatal(err)
	}
	if bars, err = PlotMetric(runs, "accuracy"); err != nil {
		t.Fatal(err)
	}
	return history, bars
}

func TestPlotTickLabels(t *testing.T) {
	history, bars := foldPlots(t)
	for _, tt := range []struct {
		name string
		p    *experiments.Plot
	}{{"history", history}, {"bars", bars}} {
		if err := plotcheck.TickLabels(tt.p.P.X); err != nil {
			t.Errorf("%s: x axis: %v", tt.name, err)
		}
		if err := plotcheck.TickLabels(tt.p.P.Y); err != nil {
			t.Errorf("%s: y axis: %v", tt.name, err)
		}
	}
}

// The legend goes right of the data (as experiments.Plot draws it), so
// the value axis leaves no room above the lines for it.
func TestPlotMetricHistoryLegend(t *testing.T) {
	s, runs := foldFixture(t)
	p, err := s.PlotMetricHistory(runs, "fold_accuracy")
	if err != nil {
		t.Fatal(err)
	}
	if lo, hi := 0.92, 1.0; p.P.Y.Min > lo || p.P.Y.Max < hi || p.P.Y.Max-hi > 0.1*(hi-lo) {
		t.Errorf("y axis [%v, %v] for values in [%v, %v]", p.P.Y.Min, p.P.Y.Max, lo, hi)
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.Name)
	}
	draw := func(c draw.Canvas) { plotstyle.Draw(p.P, c) }
	if err := plotcheck.Legend(16*vg.Centimeter, 10*vg.Centimeter, draw, names...); err != nil {
		t.Error(err)
	}
}

// The plots fit their canvas: no mark reaches within a point of an edge.
func TestPlotsFit(t *testing.T) {
	history, bars := foldPlots(t)
	for _, tt := range []struct {
		name string
		p    *experiments.Plot
		h    vg.Length
	}{{"history", history, 10 * vg.Centimeter}, {"bars", bars, bars.Height}} {
		rec := plotcheck.Record(16*vg.Centimeter, tt.h, func(c draw.Canvas) { plotstyle.Draw(tt.p.P, c) })
		if err := rec.Fits(vg.Points(1)); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
