package experiments

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/gopherlab/gopherlab/display"
	"gonum.org/v1/gonum/mat"
)

// checkPair checks true values against predictions (or, for ROC, scores:
// the second argument's name in errors is predName).
func checkPair(op string, yTrue, yPred []float64) error {
	return checkPairNamed(op, yTrue, yPred, "yPred")
}

func checkPairNamed(op string, yTrue, yPred []float64, predName string) error {
	if len(yTrue) != len(yPred) {
		return fmt.Errorf("experiments: %s: %d true values but %d predictions", op, len(yTrue), len(yPred))
	}
	if len(yTrue) == 0 {
		return fmt.Errorf("experiments: %s: no values", op)
	}
	if err := checkNoNaN(op, "yTrue", yTrue); err != nil {
		return err
	}
	return checkNoNaN(op, predName, yPred)
}

// checkNoNaN returns an error naming the first NaN of v, the argument
// called name. A NaN would otherwise count as a class of its own (NaN !=
// NaN) or turn a mean into NaN without a word; scikit-learn refuses it
// ("Input contains NaN").
func checkNoNaN(op, name string, v []float64) error {
	var s float64
	for _, x := range v {
		s += x * 0 // NaN only if some x is NaN or infinite
	}
	if s == 0 {
		return nil
	}
	for i, x := range v {
		if math.IsNaN(x) {
			return fmt.Errorf("experiments: %s: %s has NaN at index %d", op, name, i)
		}
	}
	return nil
}

// Accuracy returns the fraction of predictions equal to the true labels.
func Accuracy(yTrue, yPred []float64) (float64, error) {
	if err := checkPair("accuracy", yTrue, yPred); err != nil {
		return 0, err
	}
	n := 0
	for i, v := range yTrue {
		if v == yPred[i] {
			n++
		}
	}
	acc := float64(n) / float64(len(yTrue))
	noteMetric("accuracy", yTrue, yPred, acc)
	return acc, nil
}

// MSE returns the mean squared error.
func MSE(yTrue, yPred []float64) (float64, error) {
	m, err := mse(yTrue, yPred)
	if err == nil {
		noteMetric("mse", yTrue, yPred, m)
	}
	return m, err
}

func mse(yTrue, yPred []float64) (float64, error) {
	if err := checkPair("mse", yTrue, yPred); err != nil {
		return 0, err
	}
	var s float64
	for i, v := range yTrue {
		d := v - yPred[i]
		s += d * d
	}
	return s / float64(len(yTrue)), nil
}

// RMSE returns the root mean squared error.
func RMSE(yTrue, yPred []float64) (float64, error) {
	m, err := mse(yTrue, yPred)
	if err != nil {
		return 0, fmt.Errorf("experiments: rmse: %w", unwrapPrefix(err))
	}
	r := math.Sqrt(m)
	noteMetric("rmse", yTrue, yPred, r)
	return r, nil
}

// MAE returns the mean absolute error.
func MAE(yTrue, yPred []float64) (float64, error) {
	if err := checkPair("mae", yTrue, yPred); err != nil {
		return 0, err
	}
	var s float64
	for i, v := range yTrue {
		s += math.Abs(v - yPred[i])
	}
	mae := s / float64(len(yTrue))
	noteMetric("mae", yTrue, yPred, mae)
	return mae, nil
}

// R2 returns the coefficient of determination, 1 - SSres/SStot (1 for a
// perfect fit, 0 for predicting the mean; 0 when yTrue is constant and
// the predictions are not perfect, as scikit-learn).
func R2(yTrue, yPred []float64) (float64, error) {
	if err := checkPair("r2", yTrue, yPred); err != nil {
		return 0, err
	}
	var mean float64
	for _, v := range yTrue {
		mean += v
	}
	mean /= float64(len(yTrue))
	var res, tot float64
	for i, v := range yTrue {
		res += (v - yPred[i]) * (v - yPred[i])
		tot += (v - mean) * (v - mean)
	}
	r2 := 1 - res/tot
	if tot == 0 {
		r2 = 0
		if res == 0 {
			r2 = 1
		}
	}
	noteMetric("r2", yTrue, yPred, r2)
	return r2, nil
}

// Confusion is a confusion matrix: Counts[i][j] is the number of rows of
// class Labels[i] predicted as Labels[j].
type Confusion struct {
	// Labels are the classes found in yTrue or yPred, sorted.
	Labels []float64
	// Counts is len(Labels)×len(Labels): rows true, columns predicted.
	Counts [][]int
	// Names optionally labels the classes in tables and plots (see
	// className): one name per label, in order, or a dataset's Levels.
	Names []string
}

// className names the class of label, the i-th of labels, for display:
// names[i] when there is one name per label (scikit-learn's
// target_names), else names[label] when the label is a level code of
// names (a dataset's Levels: a fold may lack some classes), else the
// number.
func className(names []string, labels []float64, i int) string {
	label := labels[i]
	switch k := int(label); {
	case len(names) == len(labels):
		return names[i]
	case float64(k) == label && k >= 0 && k < len(names):
		return names[k]
	}
	return formatNum(label)
}

// ConfusionMatrix counts true versus predicted labels over the union of
// labels found in both, sorted.
func ConfusionMatrix(yTrue, yPred []float64) (*Confusion, error) {
	if err := checkPair("confusion matrix", yTrue, yPred); err != nil {
		return nil, err
	}
	labels := append(slices.Clone(yTrue), yPred...)
	slices.Sort(labels)
	labels = slices.Compact(labels)
	counts := make([][]int, len(labels))
	for i := range counts {
		counts[i] = make([]int, len(labels))
	}
	for i, t := range yTrue {
		a, _ := slices.BinarySearch(labels, t)
		b, _ := slices.BinarySearch(labels, yPred[i])
		counts[a][b]++
	}
	return &Confusion{Labels: labels, Counts: counts}, nil
}

func (c *Confusion) name(i int) string { return className(c.Names, c.Labels, i) }

// ClassNames names the classes of the matrix's rows and columns as its
// tables and plots do.
func (c *Confusion) ClassNames() []string {
	out := make([]string, len(c.Labels))
	for i := range out {
		out[i] = c.name(i)
	}
	return out
}

// Table returns the matrix as a display table (rows: true, columns:
// predicted).
func (c *Confusion) Table() *display.Table {
	cols := []string{"true \\ predicted"}
	for i := range c.Labels {
		cols = append(cols, c.name(i))
	}
	var rows [][]any
	for i, r := range c.Counts {
		row := []any{c.name(i)}
		for _, v := range r {
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	t := display.NewTable(cols, rows)
	t.NoIndex = true
	t.MaxRows = -1
	return t
}

// HTML returns the matrix as an HTML table.
func (c *Confusion) HTML() string { return c.Table().HTML() }

// String returns the matrix as text.
func (c *Confusion) String() string { return c.Table().String() }

// Render shows the matrix as a table.
func (c *Confusion) Render() display.Bundle { return c.Table().Render() }

// ClassScore holds the per-class scores of a classification report.
type ClassScore struct {
	Label     float64 // the class; 0 in a report's Macro and Weighted
	Precision float64 // right / predicted as the class; 0 when none are predicted
	Recall    float64 // right / true rows of the class; 0 when it has none
	F1        float64 // 2·Precision·Recall / (Precision+Recall); 0 when both are 0
	Support   int     // true rows of the class; every row in the averages
}

// ClassificationReport holds precision, recall, F1 and support per class
// with their macro and weighted averages, as scikit-learn's
// classification_report.
type ClassificationReport struct {
	// Classes has one score per class, in label order.
	Classes  []ClassScore
	Accuracy float64    // share of rows predicted right
	Macro    ClassScore // averages over classes
	Weighted ClassScore // averages weighted by support
	Names    []string   // optional class names for display, as Confusion's
}

// Report computes the classification report of predictions. Undefined
// ratios (no predicted or no true rows of a class) count as 0.
func Report(yTrue, yPred []float64) (*ClassificationReport, error) {
	cm, err := ConfusionMatrix(yTrue, yPred)
	if err != nil {
		return nil, fmt.Errorf("experiments: classification report: %w", unwrapPrefix(err))
	}
	k := len(cm.Labels)
	r := &ClassificationReport{}
	total, correct := 0, 0
	var wsum float64
	for i := 0; i < k; i++ {
		tp := cm.Counts[i][i]
		var predN, trueN int
		for j := 0; j < k; j++ {
			predN += cm.Counts[j][i]
			trueN += cm.Counts[i][j]
		}
		s := ClassScore{Label: cm.Labels[i], Support: trueN}
		if predN > 0 {
			s.Precision = float64(tp) / float64(predN)
		}
		if trueN > 0 {
			s.Recall = float64(tp) / float64(trueN)
		}
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		r.Classes = append(r.Classes, s)
		total += trueN
		correct += tp
		r.Macro.Precision += s.Precision / float64(k)
		r.Macro.Recall += s.Recall / float64(k)
		r.Macro.F1 += s.F1 / float64(k)
		w := float64(trueN)
		wsum += w
		r.Weighted.Precision += s.Precision * w
		r.Weighted.Recall += s.Recall * w
		r.Weighted.F1 += s.F1 * w
	}
	if wsum > 0 {
		r.Weighted.Precision /= wsum
		r.Weighted.Recall /= wsum
		r.Weighted.F1 /= wsum
	}
	r.Macro.Support, r.Weighted.Support = total, total
	r.Accuracy = float64(correct) / float64(total)
	return r, nil
}

// Table returns the report as a display table.
func (r *ClassificationReport) Table() *display.Table {
	rows := [][]any{}
	labels := make([]float64, len(r.Classes))
	for i, s := range r.Classes {
		labels[i] = s.Label
	}
	for i, s := range r.Classes {
		rows = append(rows, []any{className(r.Names, labels, i), s.Precision, s.Recall, s.F1, s.Support})
	}
	rows = append(rows, []any{"accuracy", nil, nil, r.Accuracy, r.Macro.Support})
	rows = append(rows, []any{"macro avg", r.Macro.Precision, r.Macro.Recall, r.Macro.F1, r.Macro.Support})
	rows = append(rows, []any{"weighted avg", r.Weighted.Precision, r.Weighted.Recall, r.Weighted.F1, r.Weighted.Support})
	t := display.NewTable([]string{"class", "precision", "recall", "f1-score", "support"}, rows)
	t.NoIndex, t.MaxRows = true, -1
	return t
}

// HTML returns the report as an HTML table.
func (r *ClassificationReport) HTML() string { return r.Table().HTML() }

// String returns the report as text.
func (r *ClassificationReport) String() string { return r.Table().String() }

// Render shows the report as a table.
func (r *ClassificationReport) Render() display.Bundle { return r.Table().Render() }

// averaged picks one score from a report for an average mode: "binary"
// (the class labelled 1), "macro", "weighted" or "micro"; "" is binary
// when the labels are a subset of {0, 1}, else macro.
func averaged(op string, yTrue, yPred []float64, average string, pick func(ClassScore) float64) (float64, error) {
	v, average, err := pickAverage(op, yTrue, yPred, average, pick)
	if err == nil {
		name := op
		if average != "binary" {
			name += "_" + average
		}
		noteMetric(name, yTrue, yPred, v)
	}
	return v, err
}

// pickAverage computes averaged's score and says which average it took.
func pickAverage(op string, yTrue, yPred []float64, average string, pick func(ClassScore) float64) (float64, string, error) {
	r, err := Report(yTrue, yPred)
	if err != nil {
		return 0, average, fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
	}
	if average == "" {
		average = "macro"
		binary := true
		for _, c := range r.Classes {
			if c.Label != 0 && c.Label != 1 {
				binary = false
			}
		}
		if binary {
			average = "binary"
		}
	}
	switch average {
	case "binary":
		// As scikit-learn: the positive class is the label 1, and more
		// than two labels have no binary score.
		if len(r.Classes) > 2 {
			return 0, average, fmt.Errorf("experiments: %s: average binary needs two classes, the labels have %d (%s): use macro, weighted or micro", op, len(r.Classes), classList(r.Classes))
		}
		for _, c := range r.Classes {
			if c.Label == 1 {
				return pick(c), average, nil
			}
		}
		if len(r.Classes) == 2 {
			return 0, average, fmt.Errorf("experiments: %s: average binary takes the label 1 as the positive class, the labels are %s", op, classList(r.Classes))
		}
		return 0, average, nil
	case "macro":
		return pick(r.Macro), average, nil
	case "weighted":
		return pick(r.Weighted), average, nil
	case "micro":
		// Every row is one true and one predicted label, so micro
		// precision, recall and F1 all equal accuracy.
		return r.Accuracy, average, nil
	}
	return 0, average, fmt.Errorf("experiments: %s: unknown average %q (want binary, macro, weighted or micro)", op, average)
}

// classList lists the labels of a report's classes.
func classList(cs []ClassScore) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(formatNum(c.Label))
	}
	return b.String()
}

// Precision returns the precision for an average mode ("binary", "macro",
// "weighted", "micro"; "" is binary for 0/1 labels, else macro).
func Precision(yTrue, yPred []float64, average string) (float64, error) {
	return averaged("precision", yTrue, yPred, average, func(c ClassScore) float64 { return c.Precision })
}

// Recall returns the recall for an average mode, as Precision.
func Recall(yTrue, yPred []float64, average string) (float64, error) {
	return averaged("recall", yTrue, yPred, average, func(c ClassScore) float64 { return c.Recall })
}

// F1 returns the F1 score for an average mode, as Precision.
func F1(yTrue, yPred []float64, average string) (float64, error) {
	return averaged("f1", yTrue, yPred, average, func(c ClassScore) float64 { return c.F1 })
}

// ROCCurve is a receiver operating characteristic curve.
type ROCCurve struct {
	Name       string    // legend label in plots
	FPR, TPR   []float64 // false and true positive rates, from (0,0) to (1,1)
	Thresholds []float64 // decreasing; point k counts scores >= Thresholds[k], the first is +Inf
	AUC        float64   // area under the curve (trapezoidal rule)
}

// ROC computes the ROC curve of scores (higher means more likely
// positive) against binary labels, the positive class being the larger of
// the two labels (1 for 0/1 labels). Thresholds decrease; the curve starts
// at (0,0) with threshold +Inf, and thresholds whose point lies on the
// straight line between its neighbours are left out (the curve and its
// AUC are the same), like scikit-learn's roc_curve.
func ROC(yTrue, scores []float64) (*ROCCurve, error) {
	if err := checkPairNamed("roc", yTrue, scores, "scores"); err != nil {
		return nil, err
	}
	labels := slices.Clone(yTrue)
	slices.Sort(labels)
	labels = slices.Compact(labels)
	if len(labels) != 2 {
		return nil, fmt.Errorf("experiments: roc: need exactly 2 classes in yTrue, found %d (%v)", len(labels), labels)
	}
	pos := labels[1]
	idx := rangeIdx(0, len(scores))
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	var P, N float64
	for _, v := range yTrue {
		if v == pos {
			P++
		} else {
			N++
		}
	}
	// Counts at each distinct threshold, then the points where the
	// curve turns (scikit-learn's drop_intermediate: the first and last
	// points, and those where a second difference of the counts is not
	// zero).
	var fps, tps, ths []float64
	var tp, fp float64
	for k, i := range idx {
		if yTrue[i] == pos {
			tp++
		} else {
			fp++
		}
		if k+1 < len(idx) && scores[idx[k+1]] == scores[i] {
			continue // one point per distinct threshold
		}
		fps, tps, ths = append(fps, fp), append(tps, tp), append(ths, scores[i])
	}
	c := &ROCCurve{FPR: []float64{0}, TPR: []float64{0}, Thresholds: []float64{math.Inf(1)}}
	for k := range ths {
		if k > 0 && k < len(ths)-1 && fps[k-1]-2*fps[k]+fps[k+1] == 0 && tps[k-1]-2*tps[k]+tps[k+1] == 0 {
			continue
		}
		c.FPR = append(c.FPR, fps[k]/N)
		c.TPR = append(c.TPR, tps[k]/P)
		c.Thresholds = append(c.Thresholds, ths[k])
	}
	for k := 1; k < len(c.FPR); k++ {
		c.AUC += (c.FPR[k] - c.FPR[k-1]) * (c.TPR[k] + c.TPR[k-1]) / 2
	}
	return c, nil
}

// AUC returns the area under the ROC curve of scores against binary
// labels.
func AUC(yTrue, scores []float64) (float64, error) {
	c, err := ROC(yTrue, scores)
	if err != nil {
		return 0, fmt.Errorf("experiments: auc: %w", unwrapPrefix(err))
	}
	return c.AUC, nil
}

// ROCOvR computes one ROC curve per class, one-vs-rest, from a matrix of
// predicted probabilities (PredictProba's): curve k scores classes[k]
// against all others with column k. nil classes means the sorted labels
// of yTrue. Each curve is named after its class, for PlotROC.
func ROCOvR(yTrue []float64, proba *mat.Dense, classes []float64) ([]*ROCCurve, error) {
	classes, err := checkProba("roc ovr", yTrue, proba, classes)
	if err != nil {
		return nil, err
	}
	curves := make([]*ROCCurve, len(classes))
	bin := make([]float64, len(yTrue))
	for k, c := range classes {
		for i, v := range yTrue {
			bin[i] = 0
			if v == c {
				bin[i] = 1
			}
		}
		curve, err := ROC(bin, mat.Col(nil, k, proba))
		if err != nil {
			return nil, fmt.Errorf("experiments: roc ovr: class %v: %w", c, unwrapPrefix(err))
		}
		curve.Name = fmt.Sprintf("class %v", c)
		curves[k] = curve
	}
	return curves, nil
}

// AUCOvR returns the one-vs-rest area under the ROC curve of a
// multiclass problem (scikit-learn's roc_auc_score with
// multi_class="ovr"): the AUC of each class against the others, averaged
// equally ("macro", the default for "") or weighted by the class's
// frequency in yTrue ("weighted"). With two classes it is the binary AUC.
func AUCOvR(yTrue []float64, proba *mat.Dense, classes []float64, average string) (float64, error) {
	curves, err := ROCOvR(yTrue, proba, classes)
	if err != nil {
		return 0, fmt.Errorf("experiments: auc ovr: %w", unwrapPrefix(err))
	}
	if len(curves) == 2 {
		noteMetricProba("roc_auc", yTrue, proba, curves[1].AUC)
		return curves[1].AUC, nil
	}
	classes, _ = checkProba("auc ovr", yTrue, proba, classes)
	switch average {
	case "", "macro":
		var s float64
		for _, c := range curves {
			s += c.AUC
		}
		auc := s / float64(len(curves))
		noteMetricProba("roc_auc_ovr", yTrue, proba, auc)
		return auc, nil
	case "weighted":
		var s float64
		for k, c := range curves {
			n := 0
			for _, v := range yTrue {
				if v == classes[k] {
					n++
				}
			}
			s += c.AUC * float64(n)
		}
		auc := s / float64(len(yTrue))
		noteMetricProba("roc_auc_ovr_weighted", yTrue, proba, auc)
		return auc, nil
	}
	return 0, fmt.Errorf("experiments: auc ovr: unknown average %q (want macro or weighted)", average)
}

// checkProba checks a probability matrix against the true labels and
// returns the classes of its columns.
func checkProba(op string, yTrue []float64, proba *mat.Dense, classes []float64) ([]float64, error) {
	if proba == nil || proba.IsEmpty() {
		return nil, fmt.Errorf("experiments: %s: empty probabilities", op)
	}
	n, k := proba.Dims()
	if n != len(yTrue) {
		return nil, fmt.Errorf("experiments: %s: %d true values but %d rows of probabilities", op, len(yTrue), n)
	}
	if err := checkNoNaN(op, "yTrue", yTrue); err != nil {
		return nil, err
	}
	for i := range n {
		for j, p := range proba.RawRowView(i) {
			if math.IsNaN(p) {
				return nil, fmt.Errorf("experiments: %s: proba has NaN at row %d, column %d", op, i, j)
			}
		}
	}
	if classes == nil {
		classes, _ = encodeClasses(yTrue)
	}
	if len(classes) != k {
		return nil, fmt.Errorf("experiments: %s: %d classes but %d probability columns", op, len(classes), k)
	}
	return classes, nil
}

// LogLoss returns the mean negative log-likelihood of the true labels
// under predicted probabilities. Column k of proba is the probability of
// classes[k]; nil classes means the sorted labels of yTrue. Probabilities
// are clipped to [eps, 1-eps], eps the float64 machine epsilon, and each
// row renormalized, as scikit-learn does (its eps="auto").
func LogLoss(yTrue []float64, proba *mat.Dense, classes []float64) (float64, error) {
	classes, err := checkProba("log loss", yTrue, proba, classes)
	if err != nil {
		return 0, err
	}
	n := len(yTrue)
	const clip = 0x1p-52 // numpy's finfo(float64).eps
	var s float64
	for i, v := range yTrue {
		c, ok := slices.BinarySearch(classes, v)
		if !ok {
			return 0, fmt.Errorf("experiments: log loss: label %v at row %d is not among classes %v", v, i, classes)
		}
		row := proba.RawRowView(i)
		var sum float64
		for _, p := range row {
			sum += min(max(p, clip), 1-clip)
		}
		p := min(max(row[c], clip), 1-clip) / sum
		s -= math.Log(p)
	}
	ll := s / float64(n)
	noteMetricProba("log_loss", yTrue, proba, ll)
	return ll, nil
}
