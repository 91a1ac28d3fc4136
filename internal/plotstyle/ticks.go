// Package plotstyle holds what the plots of experiments and tracking
// share: tick labels with as many digits as their spacing needs, and a
// layout that keeps the legend off the data and every mark inside the
// canvas.
package plotstyle

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// Ticks places ticks as plot.DefaultTicks does and labels them all with
// the one precision their spacing needs: 0.96 0.98 1.00, not 0.96 1 1
// (DefaultTicks' labels keep two significant digits) nor 0.9800000001.
type Ticks struct{}

var _ plot.Ticker = Ticks{}

// Ticks returns the ticks of [min, max].
func (Ticks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	var major []int
	var vals []float64
	for i, t := range ticks {
		if !t.IsMinor() {
			major = append(major, i)
			vals = append(vals, t.Value)
		}
	}
	for k, s := range Labels(vals) {
		ticks[major[k]].Label = s
	}
	return ticks
}

// Labels formats increasing values, such as tick positions, with one
// precision: the least at which each label reads back as its value to
// within a millionth of their spacing, so labels are distinct and carry
// no rounding noise. Fixed-point notation is used up to 5 decimals and
// below a million; exponent notation beyond.
func Labels(vals []float64) []string {
	if len(vals) == 0 {
		return nil
	}
	step, big := math.Inf(1), 0.0
	for i, v := range vals {
		big = math.Max(big, math.Abs(v))
		if i > 0 && vals[i]-vals[i-1] > 0 {
			step = math.Min(step, vals[i]-vals[i-1])
		}
	}
	if math.IsInf(step, 1) {
		step = math.Max(big, 1)
	}
	tol := step * 1e-6
	snapped := make([]float64, len(vals))
	for i, v := range vals {
		if math.Abs(v) < tol {
			v = 0 // no "-0.00" for a rounding error at zero
		}
		snapped[i] = v
	}
	try := func(fmt byte, prec int) []string {
		out := make([]string, len(snapped))
		for i, v := range snapped {
			s := strconv.FormatFloat(v, fmt, prec, 64)
			back, err := strconv.ParseFloat(s, 64)
			if err != nil || math.Abs(back-v) > tol {
				return nil
			}
			out[i] = s
		}
		return out
	}
	if big < 1e6 {
		for prec := 0; prec <= 5; prec++ {
			if out := try('f', prec); out != nil {
				return out
			}
		}
	}
	for prec := 0; prec <= 15; prec++ {
		if out := try('e', prec); out != nil {
			return out
		}
	}
	return try('g', -1)
}

// New returns a plot with a title, axis labels, a grid and Ticks on both
// axes.
func New(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.X.Tick.Marker = Ticks{}
	p.Y.Tick.Marker = Ticks{}
	p.Add(plotter.NewGrid())
	return p
}
