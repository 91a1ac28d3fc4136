package tracking

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gopherlab/gopherlab/internal/plotstyle"
	"gonum.org/v1/plot"
)

// isProportion reports whether a measure (a metric's base name, see
// metricKind) is a share between 0 and 1, which a reader takes in best
// as a percentage.
func isProportion(base string) bool {
	switch strings.ToLower(base) {
	case "accuracy", "acc", "balanced_accuracy", "roc_auc", "auc":
		return true
	}
	for _, p := range []string{"precision", "recall", "f1"} {
		for _, avg := range []string{"", "_macro", "_weighted", "_micro"} {
			if strings.EqualFold(base, p+avg) {
				return true
			}
		}
	}
	return false
}

// scoreFormat shows each metric of a page the same way wherever it
// appears: a proportion (accuracy, F1, ...) whose values all lie in
// [0, 1] as a percentage with the fewest decimals (1 to 3) that keep its
// distinct values distinct, so that the table does not show two runs the
// ranking tells apart as equal; other metrics as FormatMetric does. The
// exact value stays in a title.
type scoreFormat struct {
	decimals map[string]int // metric: decimals of its percentage; absent if not one
	folds    map[string]int // run id: folds of its cross-validation, when known
}

func newScoreFormat(runs []RunInfo) *scoreFormat {
	values := map[string][]float64{}
	for _, r := range runs {
		for k, v := range r.Metrics {
			values[k] = append(values[k], v)
		}
	}
	f := &scoreFormat{decimals: map[string]int{}, folds: map[string]int{}}
	// The folds of a cross-validation: its cv.k, else its fold runs.
	for _, r := range runs {
		if r.ParentID != "" && strings.HasPrefix(r.Name, "fold ") {
			f.folds[r.ParentID]++
		}
	}
	for _, r := range runs {
		if k, err := strconv.Atoi(r.Params["cv.k"]); err == nil && k > 0 {
			f.folds[r.ID] = k
		}
	}
	for k, vs := range values {
		kind, base := metricKind(k)
		if kind == metricSpread && strings.Contains(k, "std_") || !isProportion(base) {
			continue // a spread is shown in the points of its mean (see spread)
		}
		in := true
		for _, v := range vs {
			in = in && (math.IsNaN(v) || v >= 0 && v <= 1)
		}
		if !in {
			continue
		}
		f.decimals[k] = distinctDecimals(vs)
	}
	return f
}

// distinctDecimals returns the fewest decimals, 1 to 3, of percentages
// that keep the distinct values of vs apart.
func distinctDecimals(vs []float64) int {
	distinct := map[float64]bool{}
	for _, v := range vs {
		if !math.IsNaN(v) {
			distinct[v] = true
		}
	}
	d := 1
	for ; d < 3; d++ {
		shown := map[string]bool{}
		for v := range distinct {
			shown[fmt.Sprintf("%.*f", d, 100*v)] = true
		}
		if len(shown) == len(distinct) {
			break
		}
	}
	return d
}

// percent reports whether metric k is shown as a percentage.
func (f *scoreFormat) percent(k string) bool {
	_, ok := f.decimals[k]
	return ok
}

// value shows v, a value of metric k.
func (f *scoreFormat) value(k string, v float64) string {
	if IsTiming(k) {
		return formatTiming(v)
	}
	if d, ok := f.decimals[k]; ok && !math.IsNaN(v) {
		return fmt.Sprintf("%.*f\u00a0%%", d, 100*v)
	}
	if mean, d := f.spreadOf(k); mean != "" && !math.IsNaN(v) && !math.IsInf(v, 0) {
		return fmt.Sprintf("%.*f\u00a0points", d, 100*v)
	}
	return FormatMetric(v)
}

// exact is the exact value of a metric shown as value shows it, for a
// title, or "" when value shows it exactly.
func (f *scoreFormat) exact(k string, v float64) string {
	if s := FormatMetric(v); s != f.value(k, v) && !IsTiming(k) {
		return s
	}
	return ""
}

// spreadOf returns the mean metric a standard deviation std_X (or
// best_std_X) belongs to when that mean is shown as a percentage, and its
// decimals: the spread is then in percentage points.
func (f *scoreFormat) spreadOf(k string) (mean string, decimals int) {
	for _, p := range [][2]string{{"best_std_", "best_"}, {"std_", "mean_"}} {
		if base, ok := strings.CutPrefix(k, p[0]); ok {
			if d, ok := f.decimals[p[1]+base]; ok {
				return p[1] + base, d
			}
		}
	}
	return "", 0
}

// metricCell shows the value of metric k of r, "" if r has none.
func (f *scoreFormat) metricCell(r RunInfo, k string) string {
	v, ok := r.Metrics[k]
	if !ok {
		return ""
	}
	return f.value(k, v)
}

// cell is the table cell of metric k of r.
func (f *scoreFormat) cell(r RunInfo, k string) reportCell {
	v, ok := r.Metrics[k]
	c := reportCell{Text: f.metricCell(r, k), Num: true}
	if ok {
		c.Title = f.exact(k, v)
	}
	return c
}

// countRight says what an accuracy of r counts when the confusion matrix
// of the same data does: 98.6 % is 141 of 143 test rows. The matrix is
// that of the latest evaluation, so it is used only when it gives the
// accuracy r recorded.
func (rr *reportRun) countRight(r RunInfo, metric string, c *reportConfusion) {
	if c == nil || c.total == 0 {
		return
	}
	note := fmt.Sprintf("(%d of %d %s)", c.right, c.total, c.rows)
	counted := func(k string) bool {
		base, ok := strings.CutPrefix(k, c.prefix)
		v, has := r.Metrics[k]
		return ok && has && (base == "accuracy" || base == "acc") &&
			math.Abs(v-float64(c.right)/float64(c.total)) < 1e-9
	}
	if counted(metric) {
		rr.ValueNote = note
	}
	for i, m := range rr.Metrics {
		if counted(m[0]) {
			rr.Metrics[i][1] += " " + note
		}
	}
}

// axis labels a chart's axis of metric k in percent when the page shows
// k as a percentage, so that the charts read as the tables do.
func (f *scoreFormat) axis(a *plot.Axis, k string) {
	if f.percent(k) {
		a.Tick.Marker = percentTicks{}
	}
}

// percentTicks places ticks at round percentages of a [0, 1] axis.
type percentTicks struct{}

func (percentTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plotstyle.Ticks{}.Ticks(100*min, 100*max)
	for i := range ticks {
		ticks[i].Value /= 100
		if ticks[i].Label != "" {
			ticks[i].Label += " %"
		}
	}
	return ticks
}

// percentScale says metricWords' scale in percent.
var percentScale = strings.NewReplacer("(1 means all)", "(100 % means all)", "1 is perfect", "100 % is perfect", "0.5 is chance", "50 % is chance")

// explain is metricExplain in the units the page shows k in.
func (f *scoreFormat) explain(k string) string {
	if f.percent(k) {
		return percentScale.Replace(metricExplain(k))
	}
	return metricExplain(k)
}

// spread says how much a cross-validation's mean score k (mean_X, or a
// grid search's best_X) varied between the folds, from its standard
// deviation: "± 1.4 over 5 folds", in the points of a percentage; ""
// when r has no such spread.
func (f *scoreFormat) spread(r RunInfo, k string) string {
	var std string
	switch {
	case strings.HasPrefix(k, "best_std_") || strings.HasPrefix(k, "std_"):
		return ""
	case strings.HasPrefix(k, "mean_"):
		std = "std_" + strings.TrimPrefix(k, "mean_")
	case strings.HasPrefix(k, "best_"):
		std = "best_std_" + strings.TrimPrefix(k, "best_")
	default:
		return ""
	}
	sd, ok := r.Metrics[std]
	if !ok || math.IsNaN(sd) || math.IsInf(sd, 0) {
		return ""
	}
	s := "± " + FormatMetric(sd)
	if d, ok := f.decimals[k]; ok {
		s = fmt.Sprintf("± %.*f", d, 100*sd)
	}
	if n := f.folds[r.ID]; n > 0 {
		s += fmt.Sprintf(" over %d folds", n)
	}
	return s
}
