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

// scoreFormat shows the metrics of a place of the page (the table of
// runs, the best run, the trials of a grid search): a proportion
// (accuracy, F1, ...) whose values all lie in [0, 1] on the whole page
// as a percentage, everywhere, with the fewest decimals (1 to 3) that
// keep its distinct values in that place distinct (see within), so that
// a table does not show two runs the ranking tells apart as equal, nor
// a mean accuracy as 97.415 % because trials elsewhere need three
// decimals; other metrics as FormatMetric does. The exact value stays
// in a title.
type scoreFormat struct {
	decimals map[string]int // metric: decimals of its percentage; absent if not one
	folds    map[string]int // run id: folds of its cross-validation, when known
	positive string         // the class binary scores are about, when known
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

// within returns f with the decimals of each percentage chosen from the
// values runs have, the runs a table or chart shows: what is a
// percentage stays decided by the whole page.
func (f *scoreFormat) within(runs []RunInfo) *scoreFormat {
	values := map[string][]float64{}
	for _, r := range runs {
		for k, v := range r.Metrics {
			values[k] = append(values[k], v)
		}
	}
	g := *f
	g.decimals = make(map[string]int, len(f.decimals))
	for k := range f.decimals {
		g.decimals[k] = distinctDecimals(values[k])
	}
	return &g
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

// stdCell is the table cell of a standard deviation k (std_X) of r under
// a heading that says ± and its unit (see stdHeading): "± 1.0", in the
// points of its mean's percentage.
func (f *scoreFormat) stdCell(r RunInfo, k string) reportCell {
	c := f.cell(r, k)
	v, ok := r.Metrics[k]
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return c
	}
	if mean, d := f.spreadOf(k); mean != "" {
		c.Text = fmt.Sprintf("± %.*f", d, 100*v)
	} else {
		c.Text = "± " + FormatMetric(v)
	}
	return c
}

// stdHeading heads a column of stdCell: "± std (points)" when the
// spread is in the points of a percentage.
func (f *scoreFormat) stdHeading(k string) string {
	if mean, _ := f.spreadOf(k); mean != "" {
		return "± std (points)"
	}
	return "± std"
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

// explain is metricExplain in the units the page shows k in, naming the
// positive class a binary score is about when f knows it.
func (f *scoreFormat) explain(k string) string {
	w := metricExplain(k)
	_, base := metricKind(k)
	base = strings.TrimPrefix(strings.TrimPrefix(base, "std_"), "best_std_")
	if words := metricWords[base]; f.positive != "" && w != "" && strings.HasPrefix(w, words) {
		switch base {
		case "precision", "recall", "f1":
			w = words + ", for the class " + f.positive + " (the positive class)" + w[len(words):]
		case "roc_auc", "auc":
			w = words + ", the positive class being " + f.positive + w[len(words):]
		}
	}
	if f.percent(k) {
		return percentScale.Replace(w)
	}
	return w
}

// binaryScore reports whether metric k is a score of a binary problem's
// positive class: precision, recall and F1 without an average over the
// classes, and the ROC AUC.
func binaryScore(k string) bool {
	switch _, base := metricKind(k); base {
	case "precision", "recall", "f1", "roc_auc", "auc":
		return true
	}
	return false
}

// positiveClass names the positive class of a binary problem whose
// classes are sorted by their codes, as experiments' binary scores take
// it: the label 1 (precision, recall, F1), the larger of two labels (ROC
// AUC). Classes named by a dataset's levels have the codes 0 and 1, so
// it is the second; classes named by their numbers must be 0 and 1. ""
// when there are not two classes or the positive one is not known.
func positiveClass(classes []string) string {
	if len(classes) != 2 {
		return ""
	}
	a, errA := strconv.ParseFloat(classes[0], 64)
	b, errB := strconv.ParseFloat(classes[1], 64)
	switch {
	case errA == nil && errB == nil && a == 0 && b == 1:
		return classes[1]
	case errA == nil && errB == nil:
		return ""
	}
	return classes[1]
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

// positiveOf returns the positive class of the binary scores (F1, ...)
// runs recorded, when the runs that name their classes agree on it: by
// their confusion matrix, else by the levels of the last column of their
// training data (the target, see experiments.TrackEvent).
func (s *Store) positiveOf(runs []RunInfo, inputs map[string][]DatasetInput) (string, error) {
	positive := ""
	for _, r := range runs {
		binary := false
		for k := range r.Metrics {
			binary = binary || binaryScore(k)
		}
		if !binary {
			continue
		}
		var classes []string
		c, err := s.confusionOf(r.ID)
		if err != nil {
			return "", err
		}
		if c != nil {
			classes = c.Classes
		} else {
			for _, in := range inputs[r.ID] {
				if in.Role == RoleTrain && len(in.Levels) > 0 && in.Levels[len(in.Levels)-1] != nil {
					classes = in.Levels[len(in.Levels)-1]
				}
			}
		}
		p := positiveClass(classes)
		switch {
		case p == "":
		case positive == "":
			positive = p
		case positive != p:
			return "", nil // runs of different data: no one class to name
		}
	}
	return positive, nil
}
