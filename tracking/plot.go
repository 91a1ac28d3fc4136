package tracking

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/internal/plotstyle"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PlotMetric draws the latest value of a metric for each run as a
// horizontal bar labelled with the run's name (and short id when names
// repeat) and the value, first run at the top. Runs without the metric,
// or with a NaN or infinite value, are left out. The plot shows inline in
// a notebook, like experiments' plots:
//
//	runs, _ := store.SearchRuns(tracking.SearchQuery{Experiment: "iris", OrderBy: "metrics.accuracy DESC"})
//	p, err := tracking.PlotMetric(runs, "accuracy")
func PlotMetric(runs []RunInfo, metric string) (*experiments.Plot, error) {
	var kept []RunInfo
	for _, r := range runs {
		if v, ok := r.Metrics[metric]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("tracking: plot %s: none of the %d runs has the metric%s", metric, len(runs), metricHint(runs, metric))
	}
	p, h, err := runBars(kept, runLabels(kept), metric, false, FormatMetric)
	if err != nil {
		return nil, err
	}
	p.Title.Text = metric + " by run"
	return &experiments.Plot{P: p, Height: h}, nil
}

// runBars draws metric for each run as a horizontal bar labelled with the
// run's label and the value, the first run at the top (in green when
// highlightFirst: the report's best run). NaN and infinite values count
// as zero; show formats the values. It returns the plot and the height
// it needs.
func runBars(runs []RunInfo, labels []string, metric string, highlightFirst bool, show func(float64) string) (*plot.Plot, vg.Length, error) {
	n := len(runs)
	// The first nominal value is drawn at the bottom: reverse, so the
	// first run is at the top.
	vals := make(plotter.Values, n)
	names := make([]string, n)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, r := range runs {
		v := r.Metrics[metric]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = 0
		}
		vals[n-1-i], names[n-1-i] = v, labels[i]
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	p := plotstyle.New("", metric, "")
	bars, err := plotter.NewBarChart(vals, vg.Points(14))
	if err != nil {
		return nil, 0, fmt.Errorf("tracking: plot %s: %w", metric, err)
	}
	bars.Horizontal = true
	bars.Color = barColor
	bars.LineStyle.Width = 0
	p.Add(bars)
	if highlightFirst {
		// The first run's bar again, in green, over the others.
		best, err := plotter.NewBarChart(plotter.Values{vals[n-1]}, vg.Points(14))
		if err != nil {
			return nil, 0, fmt.Errorf("tracking: plot %s: %w", metric, err)
		}
		best.Horizontal = true
		best.Color = bestBarColor
		best.LineStyle.Width = 0
		best.XMin = float64(n - 1)
		p.Add(best)
	}
	// The value at the end of each bar.
	xyl := plotter.XYLabels{XYs: make(plotter.XYs, n), Labels: make([]string, n)}
	for i, v := range vals {
		xyl.XYs[i] = plotter.XY{X: v, Y: float64(i)}
		xyl.Labels[i] = " " + show(v)
	}
	if lbl, err := plotter.NewLabels(xyl); err == nil {
		for i := range lbl.TextStyle {
			lbl.TextStyle[i].YAlign = -0.5
			lbl.TextStyle[i].Font.Size = vg.Points(9)
		}
		p.Add(lbl)
	}
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	p.X.Min, p.X.Max = barRange(lo, hi, 0.15)
	return p, vg.Length(n)*vg.Points(22) + 1.2*vg.Inch, nil
}

// barRange returns the value axis of a bar chart of values in [lo, hi]:
// it always includes zero, since a reader takes a bar's length for its
// value (0.698 against 0.729 drawn from 0.68 looks like 1 to 5). The
// labels on the bars keep small differences readable. room widens the
// far end for those labels.
func barRange(lo, hi, room float64) (start, end float64) {
	start, end = math.Min(lo, 0), math.Max(hi, 0)
	if end == start {
		end = start + 1
	}
	return start, end + (end-start)*room
}

// PlotMetricHistory draws the history of a metric for each run, one line
// per run against the step (points alone for a run with one value), with
// the runs named in the legend. Runs without the metric are left out.
//
//	p, err := store.PlotMetricHistory(runs, "loss")
func (s *Store) PlotMetricHistory(runs []RunInfo, metric string) (*experiments.Plot, error) {
	s.catchUp()
	labels := runLabels(runs)
	p := plotstyle.New(metric+" by step", "step", metric)
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	drawn := 0
	lo, hi := math.Inf(1), math.Inf(-1)
	xlo, xhi := math.Inf(1), math.Inf(-1)
	for i, r := range runs {
		h, err := s.MetricHistory(r.ID, metric)
		if err != nil {
			return nil, fmt.Errorf("tracking: plot %s history: %w", metric, err)
		}
		xy := make(plotter.XYs, 0, h.Len())
		for j := 0; j < h.Len(); j++ {
			x, y := h.XY(j)
			if math.IsNaN(y) || math.IsInf(y, 0) {
				continue
			}
			xy = append(xy, plotter.XY{X: x, Y: y})
			lo, hi = math.Min(lo, y), math.Max(hi, y)
			xlo, xhi = math.Min(xlo, x), math.Max(xhi, x)
		}
		if len(xy) == 0 {
			continue
		}
		c := plotutil.Color(drawn)
		var thumbs []plot.Thumbnailer
		if len(xy) > 1 {
			line, err := plotter.NewLine(xy)
			if err != nil {
				return nil, fmt.Errorf("tracking: plot %s history: %w", metric, err)
			}
			line.Color = c
			line.Dashes = plotutil.Dashes(drawn / len(plotutil.DefaultColors))
			line.Width = vg.Points(1.5)
			p.Add(line)
			thumbs = append(thumbs, line)
		}
		if len(xy) <= 30 {
			pts, err := plotter.NewScatter(xy)
			if err != nil {
				return nil, fmt.Errorf("tracking: plot %s history: %w", metric, err)
			}
			pts.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
			p.Add(pts)
			thumbs = append(thumbs, pts)
		}
		p.Legend.Add(labels[i], thumbs...)
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("tracking: plot %s history: none of the %d runs has the metric%s", metric, len(runs), metricHint(runs, metric))
	}
	// The legend goes right of the data (see experiments.Plot), so the
	// axis spans the values alone.
	span := hi - lo
	if span == 0 {
		span = math.Max(math.Abs(hi), 1)
	}
	p.Y.Min, p.Y.Max = lo-span*0.05, hi+span*0.05
	if xlo == xhi {
		p.X.Min, p.X.Max = xlo-1, xhi+1
	}
	return &experiments.Plot{P: p}, nil
}

// metricHint says why none of runs has a value of metric to plot: some
// have it, but not a finite value; or the keys of runs it may have
// meant, as a search's error does ("did you mean mean_accuracy?").
func metricHint(runs []RunInfo, metric string) string {
	for _, r := range runs {
		if _, ok := r.Metrics[metric]; ok {
			return " with a finite value"
		}
	}
	seen := map[string]bool{}
	var keys []string
	for _, r := range runs {
		for k := range r.Metrics {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	near := nearKeys(fieldRef{kind: fMetric, key: metric}, map[string][]string{fMetric: keys})
	for i, n := range near {
		near[i] = strings.TrimPrefix(n, fMetric+".")
	}
	if len(near) > 0 {
		return " (did you mean " + orList(near) + "?)"
	}
	if len(keys) > 0 && len(keys) <= 10 {
		return " (metrics: " + strings.Join(keys, ", ") + ")"
	}
	return ""
}
