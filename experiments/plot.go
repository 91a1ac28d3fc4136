package experiments

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	pngpkg "image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/internal/plotstyle"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Plot is a chart that shows inline in a notebook (as PNG; SVG gives it
// as SVG) and can be written to a file.
type Plot struct {
	// P is the gonum/plot chart drawn; set titles, axes and legends on it
	// before rendering.
	P *plot.Plot
	// Width and Height are the rendered size; 0 means 16cm × 10cm.
	Width, Height vg.Length
}

func (p *Plot) size() (vg.Length, vg.Length) {
	w, h := p.Width, p.Height
	if w == 0 {
		w = 16 * vg.Centimeter
	}
	if h == 0 {
		h = 10 * vg.Centimeter
	}
	return w, h
}

func (p *Plot) encode(format string) ([]byte, error) {
	if p == nil || p.P == nil {
		return nil, fmt.Errorf("experiments: plot: empty plot")
	}
	var buf bytes.Buffer
	if err := p.write(&buf, format); err != nil {
		return nil, fmt.Errorf("experiments: plot: encode %s: %w", format, err)
	}
	return buf.Bytes(), nil
}

// write draws the plot in format on w.
func (p *Plot) write(w io.Writer, format string) error {
	width, height := p.size()
	err := safe("plot", func() error {
		c, err := draw.NewFormattedCanvas(width, height, format)
		if err != nil {
			return err
		}
		p.draw(draw.New(c))
		_, err = c.WriteTo(w)
		return err
	})
	if err != nil {
		return unwrapPrefix(err)
	}
	return nil
}

// draw draws the plot on c, its legend right of the data, where it hides
// none of it.
func (p *Plot) draw(c draw.Canvas) { plotstyle.Draw(p.P, c) }

// PNG returns the plot as a PNG image (nil if it cannot be drawn).
func (p *Plot) PNG() []byte {
	b, _ := p.encode("png")
	return b
}

// SVG returns the plot as an SVG document ("" if it cannot be drawn).
func (p *Plot) SVG() string {
	b, _ := p.encode("svg")
	return string(b)
}

// Render returns the plot's display bundle: PNG, with its size as
// metadata, and the title as text.
func (p *Plot) Render() display.Bundle {
	b := display.Bundle{Data: map[string]any{}, Metadata: map[string]any{}}
	title := "plot"
	if p != nil && p.P != nil && p.P.Title.Text != "" {
		title = p.P.Title.Text
	}
	png, err := p.encode("png")
	if err != nil {
		b.Data["text/plain"] = err.Error()
		return b
	}
	b.Data["image/png"] = png
	if c, err := pngpkg.DecodeConfig(bytes.NewReader(png)); err == nil {
		b.Metadata["image/png"] = map[string]any{"width": c.Width, "height": c.Height}
	}
	b.Data["text/plain"] = "[plot: " + title + "]"
	return b
}

// Save writes the plot to a file; the extension picks the format (.png,
// .svg, .pdf, .jpg, .eps, .tif).
func (p *Plot) Save(path string) error {
	if p == nil || p.P == nil {
		return fmt.Errorf("experiments: plot: empty plot")
	}
	save := func() error {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		err = p.write(f, strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), "."))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	if err := save(); err != nil {
		return fmt.Errorf("experiments: plot: save %s: %w", path, err)
	}
	return nil
}

// Palette of the curves: train, validation, then more for ROC curves.
var plotColors = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{214, 39, 40, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255},
	color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255},
}

func newPlot(title, x, y string) *plot.Plot { return plotstyle.New(title, x, y) }

// addBand draws a mean line with a ±std band and points.
func addBand(p *plot.Plot, name string, xs, mean, std []float64, c color.Color) error {
	line := make(plotter.XYs, len(xs))
	var band plotter.XYs
	for i := range xs {
		line[i] = plotter.XY{X: xs[i], Y: mean[i]}
	}
	if std != nil {
		for i := range xs {
			band = append(band, plotter.XY{X: xs[i], Y: mean[i] + std[i]})
		}
		for i := len(xs) - 1; i >= 0; i-- {
			band = append(band, plotter.XY{X: xs[i], Y: mean[i] - std[i]})
		}
		poly, err := plotter.NewPolygon(band)
		if err != nil {
			return err
		}
		r, g, b, _ := c.RGBA()
		poly.Color = color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 50}
		poly.LineStyle.Width = 0
		p.Add(poly)
	}
	l, err := plotter.NewLine(line)
	if err != nil {
		return err
	}
	l.Color = c
	l.Width = vg.Points(1.5)
	p.Add(l)
	if len(xs) > 30 {
		p.Legend.Add(name, l)
		return nil // points would crowd a long curve
	}
	pts, err := plotter.NewScatter(line)
	if err != nil {
		return err
	}
	pts.Color = c
	pts.Shape = draw.CircleGlyph{}
	pts.Radius = vg.Points(2.5)
	p.Add(pts)
	p.Legend.Add(name, l, pts)
	return nil
}

// Plot draws the train and validation scores (mean ± std) against the
// curve's x values: a validation curve (metric vs parameter), a learning
// curve, or scores over iterations.
func (c *Curve) Plot() (*Plot, error) {
	p := newPlot(c.Metric+" vs "+c.XLabel, c.XLabel, c.Metric)
	if err := addBand(p, "train", c.X, c.TrainMean, nilIfZero(c.TrainStd), plotColors[0]); err != nil {
		return nil, fmt.Errorf("experiments: plot curve: %w", err)
	}
	if err := addBand(p, "validation", c.X, c.TestMean, nilIfZero(c.TestStd), plotColors[1]); err != nil {
		return nil, fmt.Errorf("experiments: plot curve: %w", err)
	}
	if c.XNames != nil {
		ticks := make([]plot.Tick, len(c.X))
		for i := range ticks {
			ticks[i] = plot.Tick{Value: c.X[i], Label: c.XNames[i]}
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
	} else if c.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	return &Plot{P: p}, nil
}

func nilIfZero(v []float64) []float64 {
	for _, x := range v {
		if x != 0 {
			return v
		}
	}
	return nil
}

// logSpaced reports whether positive x values span two decades or more
// (like C or Alpha grids), which read better on a log axis.
func logSpaced(xs []float64) bool {
	if len(xs) < 3 {
		return false
	}
	lo, hi := math.Inf(1), 0.0
	for _, x := range xs {
		if x <= 0 {
			return false
		}
		lo, hi = min(lo, x), max(hi, x)
	}
	return hi/lo >= 100
}

// Render shows the curve as a plot.
func (c *Curve) Render() display.Bundle {
	p, err := c.Plot()
	if err != nil {
		return display.Bundle{Data: map[string]any{"text/plain": err.Error()}, Metadata: map[string]any{}}
	}
	b := p.Render()
	b.Data["text/plain"] = c.String()
	return b
}

// PlotParam draws the mean validation score against one grid parameter,
// one line per combination of the other parameters. Numeric values go on
// a numeric axis, in order (logarithmic when they span two decades or
// more); other values (names, booleans, nil), or numbers among which 0
// stands for a default or no limit (MaxDepth 0, Alpha 0), go on an axis
// of named ticks, one per value, with the zero last as "0 (default)".
func (g *GridSearch) PlotParam(param string) (*Plot, error) {
	if len(g.st.results) == 0 {
		return nil, fmt.Errorf("experiments: plot grid search: not fitted")
	}
	if !slices.Contains(g.st.keys, param) {
		return nil, fmt.Errorf("experiments: plot grid search: %q is not a grid parameter (have %v)", param, g.st.keys)
	}
	values := make([]any, len(g.st.results))
	for i, r := range g.st.results {
		values[i] = r.Params[param]
	}
	xOf, ticks := paramAxis(values)
	p := newPlot(g.st.metric+" vs "+param, param, g.st.metric)
	type point struct{ x, mean, std float64 }
	var order []string
	lines := map[string][]point{}
	for i, r := range g.st.results {
		var label string
		for _, k := range g.st.keys {
			if k != param {
				label += fmt.Sprintf("%s=%v ", k, r.Params[k])
			}
		}
		if _, ok := lines[label]; !ok {
			order = append(order, label)
		}
		lines[label] = append(lines[label], point{xOf[i], r.Mean, r.Std})
	}
	var allX []float64
	for i, label := range order {
		pts := lines[label]
		slices.SortStableFunc(pts, func(a, b point) int { return cmp.Compare(a.x, b.x) })
		xs, mean, std := make([]float64, len(pts)), make([]float64, len(pts)), make([]float64, len(pts))
		for j, pt := range pts {
			xs[j], mean[j], std[j] = pt.x, pt.mean, pt.std
		}
		name := strings.TrimSpace(label)
		if name == "" {
			name = "validation"
		}
		if err := addBand(p, name, xs, mean, nilIfZero(std), plotColors[i%len(plotColors)]); err != nil {
			return nil, fmt.Errorf("experiments: plot grid search: %w", err)
		}
		allX = append(allX, xs...)
	}
	if ticks != nil {
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = -0.5, float64(len(ticks))-0.5
	} else if logSpaced(allX) {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	return &Plot{P: p}, nil
}

// paramAxis places a grid parameter's values on the x axis: xs[i] is
// where values[i] goes. ticks is nil for a numeric axis (the values
// themselves), or names an axis of evenly spaced values: numbers in
// order with a zero (a default) last, other values in the grid's order.
func paramAxis(values []any) (xs []float64, ticks []plot.Tick) {
	xs = make([]float64, len(values))
	numeric, zero, other := true, false, false
	for i, v := range values {
		x, ok := toFloat(v)
		numeric = numeric && ok
		zero = zero || (ok && x == 0)
		other = other || (ok && x != 0)
		xs[i] = x
	}
	if numeric && !(zero && other) {
		return xs, nil
	}
	// Distinct values by their printed form, ordered.
	var names []string
	at := map[string]float64{}
	key := func(v any) string {
		if v == nil {
			return "default"
		}
		return fmt.Sprint(v)
	}
	for _, v := range values {
		if _, ok := at[key(v)]; !ok {
			at[key(v)] = 0
			names = append(names, key(v))
		}
	}
	if numeric {
		byValue := map[string]float64{}
		for i, v := range values {
			byValue[key(v)] = xs[i]
		}
		slices.SortFunc(names, func(a, b string) int {
			va, vb := byValue[a], byValue[b]
			if (va == 0) != (vb == 0) {
				return cmp.Compare(b2i(va == 0), b2i(vb == 0)) // the zero last
			}
			return cmp.Compare(va, vb)
		})
	}
	ticks = make([]plot.Tick, len(names))
	for j, n := range names {
		at[n] = float64(j)
		label := n
		if numeric && n == "0" {
			label = "0 (default)"
		}
		ticks[j] = plot.Tick{Value: float64(j), Label: label}
	}
	for i, v := range values {
		xs[i] = at[key(v)]
	}
	return xs, ticks
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	}
	return 0, false
}

// PlotHistory draws train and validation scores over iterations (epochs,
// trees, ...); validation may be nil.
func PlotHistory(metric string, train, validation []float64) (*Plot, error) {
	p := newPlot(metric+" over iterations", "iteration", metric)
	for i, s := range [][]float64{train, validation} {
		if s == nil {
			continue
		}
		xs := make([]float64, len(s))
		for k := range xs {
			xs[k] = float64(k + 1)
		}
		name := []string{"train", "validation"}[i]
		line := make(plotter.XYs, len(s))
		for k := range s {
			line[k] = plotter.XY{X: xs[k], Y: s[k]}
		}
		l, err := plotter.NewLine(line)
		if err != nil {
			return nil, fmt.Errorf("experiments: plot history: %w", err)
		}
		l.Color = plotColors[i]
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(name, l)
	}
	return &Plot{P: p}, nil
}

// confusionGrid adapts a confusion matrix to plotter.GridXYZ with the
// first true class at the top.
type confusionGrid struct{ c *Confusion }

func (g confusionGrid) Dims() (int, int) { return len(g.c.Labels), len(g.c.Labels) }
func (g confusionGrid) Z(c, r int) float64 {
	k := len(g.c.Labels)
	return float64(g.c.Counts[k-1-r][c])
}
func (g confusionGrid) X(c int) float64 { return float64(c) }
func (g confusionGrid) Y(r int) float64 { return float64(r) }

// Plot draws the confusion matrix as a heat map with counts (true classes
// down, predicted across).
func (c *Confusion) Plot() (*Plot, error) {
	k := len(c.Labels)
	if k == 0 {
		return nil, fmt.Errorf("experiments: plot confusion matrix: empty matrix")
	}
	pal, err := brewer.GetPalette(brewer.TypeSequential, "Blues", 9)
	if err != nil {
		return nil, fmt.Errorf("experiments: plot confusion matrix: %w", err)
	}
	p := plot.New()
	p.Title.Text = "Confusion matrix"
	p.X.Label.Text = "predicted"
	p.Y.Label.Text = "true"
	hm := plotter.NewHeatMap(confusionGrid{c}, pal)
	maxCount := 0
	for _, r := range c.Counts {
		for _, v := range r {
			maxCount = max(maxCount, v)
		}
	}
	hm.Min, hm.Max = 0, math.Max(float64(maxCount), 1)
	p.Add(hm)
	var xys plotter.XYs
	var labels []string
	var styles []text.Style
	base := text.Style{Font: plot.DefaultFont, Handler: plot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YCenter}
	base.Font.Size = vg.Points(11)
	for r := 0; r < k; r++ {
		for col := 0; col < k; col++ {
			v := c.Counts[r][col]
			xys = append(xys, plotter.XY{X: float64(col), Y: float64(k - 1 - r)})
			labels = append(labels, strconv.Itoa(v))
			s := base
			s.Color = color.Black
			if float64(v) > 0.6*float64(maxCount) {
				s.Color = color.White
			}
			styles = append(styles, s)
		}
	}
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, fmt.Errorf("experiments: plot confusion matrix: %w", err)
	}
	lab.TextStyle = styles
	p.Add(lab)
	xt := make([]plot.Tick, k)
	yt := make([]plot.Tick, k)
	for i := 0; i < k; i++ {
		xt[i] = plot.Tick{Value: float64(i), Label: c.name(i)}
		yt[i] = plot.Tick{Value: float64(k - 1 - i), Label: c.name(i)}
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	p.X.Min, p.X.Max = -0.5, float64(k)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(k)-0.5
	size := vg.Length(max(8, min(4+1.2*float64(k), 20))) * vg.Centimeter
	return &Plot{P: p, Width: size, Height: size * 0.9}, nil
}

// PlotROC draws ROC curves (with their AUC in the legend) and the chance
// diagonal.
func PlotROC(curves ...*ROCCurve) (*Plot, error) {
	if len(curves) == 0 {
		return nil, fmt.Errorf("experiments: plot roc: no curves")
	}
	p := newPlot("ROC curve", "false positive rate", "true positive rate")
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return nil, fmt.Errorf("experiments: plot roc: %w", err)
	}
	diag.Color = color.Gray{150}
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(diag)
	for i, c := range curves {
		if c == nil {
			return nil, fmt.Errorf("experiments: plot roc: curve %d is nil", i)
		}
		xys := make(plotter.XYs, len(c.FPR))
		for k := range xys {
			xys[k] = plotter.XY{X: c.FPR[k], Y: c.TPR[k]}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("experiments: plot roc: %w", err)
		}
		l.Color = plotColors[i%len(plotColors)]
		l.Width = vg.Points(1.5)
		p.Add(l)
		name := c.Name
		if name == "" {
			name = "curve " + strconv.Itoa(i+1)
		}
		p.Legend.Add(fmt.Sprintf("%s (AUC = %.3f)", name, c.AUC), l)
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1.02
	// Wider by the legend, which goes right of the square-ish data area.
	return &Plot{P: p, Width: 13*vg.Centimeter + plotstyle.LegendWidth(p), Height: 11 * vg.Centimeter}, nil
}

// Plot draws this ROC curve.
func (c *ROCCurve) Plot() (*Plot, error) { return PlotROC(c) }

// Render shows the ROC curve as a plot.
func (c *ROCCurve) Render() display.Bundle {
	p, err := c.Plot()
	if err != nil {
		return display.Bundle{Data: map[string]any{"text/plain": err.Error()}, Metadata: map[string]any{}}
	}
	b := p.Render()
	b.Data["text/plain"] = fmt.Sprintf("ROC curve %s(AUC = %.4f, %d points)", c.Name+" ", c.AUC, len(c.FPR))
	return b
}
