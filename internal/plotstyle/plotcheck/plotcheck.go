// Package plotcheck checks plots in tests: their tick labels, and the
// extent of what they draw.
package plotcheck

import (
	"fmt"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
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
