// Package plotcheck checks plots in tests: their tick labels, where their
// legend goes and the extent of what they draw.
package plotcheck

import (
	"fmt"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// TickLabels returns an error unless the labelled ticks of the axis over
// its range are distinct and, when they are numbers, free of rounding
// noise and, on a linear axis, written with one precision.
func TickLabels(a plot.Axis) error {
	var labels []string
	for _, t := range a.Tick.Marker.Ticks(a.Min, a.Max) {
		if !t.IsMinor() {
			labels = append(labels, t.Label)
		}
	}
	seen := map[string]bool{}
	_, logScale := a.Scale.(plot.LogScale)
	prec := -1
	for _, l := range labels {
		if seen[l] {
			return fmt.Errorf("tick label %q twice in %q", l, labels)
		}
		seen[l] = true
		if _, err := strconv.ParseFloat(l, 64); err != nil {
			continue
		}
		d := 0
		if i := strings.IndexByte(l, '.'); i >= 0 {
			d = len(strings.TrimLeft(l[i+1:], "0123456789")) // exponent
			d = len(l) - i - 1 - d
		}
		if d > 6 {
			return fmt.Errorf("tick label %q has rounding noise (%q)", l, labels)
		}
		if !logScale && prec >= 0 && d != prec {
			return fmt.Errorf("tick labels %q mix precisions", labels)
		}
		prec = d
	}
	return nil
}

// Legend returns an error unless each entry of a legend that drawFn
// draws on a w×h canvas is inside the canvas with no stroke through its
// text: no line, point, grid line or axis of the data under it.
func Legend(w, h vg.Length, drawFn func(draw.Canvas), entries ...string) error {
	rec := Record(w, h, drawFn)
	for _, e := range entries {
		t, ok := rec.Text(e)
		if !ok {
			return fmt.Errorf("legend entry %q not drawn", e)
		}
		b := t.Box
		if b.Min.X < 0 || b.Min.Y < 0 || b.Max.X > w || b.Max.Y > h {
			return fmt.Errorf("legend entry %q at %v is not inside the %v×%v canvas", e, b, w, h)
		}
		if rec.Crosses(b) {
			return fmt.Errorf("legend entry %q at %v has data drawn across it", e, b)
		}
	}
	return nil
}
