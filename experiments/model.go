package experiments

import (
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/gopherlab/gopherlab/internal/interrupt"
)

// Model is a supervised (or, for KMeans, unsupervised) estimator: Fit
// learns from the rows of X and their targets y, Predict returns one value
// per row. Classifiers predict class labels (the values found in y).
type Model interface {
	Fit(X *mat.Dense, y []float64) error
	Predict(X *mat.Dense) ([]float64, error)
}

// Classifier is a Model that also estimates class probabilities: column k
// of PredictProba is the probability of Classes()[k].
type Classifier interface {
	Model
	PredictProba(X *mat.Dense) (*mat.Dense, error)
	Classes() []float64
}

// Transformer learns a transformation of feature matrices (scaling,
// imputation, ...) in Fit and applies it in Transform.
type Transformer interface {
	Fit(X *mat.Dense) error
	Transform(X *mat.Dense) (*mat.Dense, error)
}

// DatasetTransformer transforms datasets rather than matrices, for steps
// that need column types (OneHotEncoder). In a Pipeline such steps come
// before the matrix steps.
type DatasetTransformer interface {
	FitDataset(ds *Dataset) error
	TransformDataset(ds *Dataset) (*Dataset, error)
}

// isClassifier reports whether m predicts classes.
func isClassifier(m any) bool {
	if p, ok := m.(*Pipeline); ok {
		if len(p.Steps) == 0 {
			return false
		}
		return isClassifier(p.Steps[len(p.Steps)-1].Estimator)
	}
	_, ok := m.(Classifier)
	return ok
}

// isClusterer reports whether m (or a Pipeline's last step) assigns
// clusters rather than predicting targets.
func isClusterer(m any) bool {
	if p, ok := m.(*Pipeline); ok {
		if len(p.Steps) == 0 {
			return false
		}
		return isClusterer(p.Steps[len(p.Steps)-1].Estimator)
	}
	_, ok := m.(*KMeans)
	return ok
}

// modelName returns the short lower-case name of an estimator's type,
// "logisticregression" for *LogisticRegression.
func modelName(m any) string {
	t := reflect.TypeOf(m)
	if n, ok := modelNames.Load(t); ok {
		return n.(string)
	}
	n := typeModelName(t)
	if t != nil {
		modelNames.Store(t, n)
	}
	return n
}

// modelNames caches modelName by type: every tracked fit names its
// model, twice.
var modelNames sync.Map // reflect.Type → string

func typeModelName(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nil:
		return "nil"
	case t.Name() == "":
		return "step" // a type a notebook cell declared
	case interpWrapper(t):
		// Named after the interface (_github_com_..._experiments_Model).
		return strings.ToLower(t.Name()[strings.LastIndex(t.Name(), "_")+1:])
	}
	return strings.ToLower(t.Name())
}

// checkFinite returns an error naming the first NaN or infinite value of X
// (column names c0, c1, ... as in FromMatrix).
func checkFinite(op string, X *mat.Dense) error { return checkFiniteNamed(op, X, nil) }

// checkFiniteNamed is checkFinite with column names (nil, or too few,
// means c0, c1, ...). Large matrices are scanned in parallel; the error
// names the first bad row in any case.
func checkFiniteNamed(op string, X *mat.Dense, names []string) error {
	r, c := X.Dims()
	parts := chunks(r, workers(0), max(1<<16/max(c, 1), 1))
	errs := make([]error, len(parts))
	parallel(len(parts), smallWork(r*c), func(k int) error {
		errs[k] = checkFiniteRows(op, X, names, parts[k][0], parts[k][1])
		return nil
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// columnVariances returns each column's population variance (two passes:
// mean, then squared deviations), rows in parallel.
func columnVariances(X *mat.Dense) []float64 {
	r, c := X.Dims()
	// Fixed row ranges: the partial sums, and so the last bit of the
	// result, must not depend on the number of cores.
	parts := fixedChunks(r, max(1<<16/max(c, 1), 1))
	sums := make([][]float64, len(parts))
	w := smallWork(r * c)
	parallel(len(parts), w, func(k int) error {
		s := make([]float64, c)
		for i := parts[k][0]; i < parts[k][1]; i++ {
			floats.Add(s, X.RawRowView(i))
		}
		sums[k] = s
		return nil
	})
	mean := make([]float64, c)
	for _, s := range sums {
		floats.Add(mean, s)
	}
	floats.Scale(1/float64(r), mean)
	parallel(len(parts), w, func(k int) error {
		s := sums[k]
		clear(s)
		for i := parts[k][0]; i < parts[k][1]; i++ {
			for j, v := range X.RawRowView(i) {
				d := v - mean[j]
				s[j] += d * d
			}
		}
		return nil
	})
	out := make([]float64, c)
	for _, s := range sums {
		floats.Add(out, s)
	}
	floats.Scale(1/float64(r), out)
	return out
}

func checkFiniteRows(op string, X *mat.Dense, names []string, lo, hi int) error {
	_, c := X.Dims()
	zero := make([]float64, c)
	for i := lo; i < hi; i++ {
		row := X.RawRowView(i)
		if floats.Dot(row, zero) == 0 {
			continue // every value finite (NaN·0 and Inf·0 are NaN)
		}
		for j := 0; j < c; j++ {
			name := "c" + itoa(j)
			if len(names) == c {
				name = names[j]
			}
			if math.IsNaN(row[j]) {
				return fmt.Errorf("experiments: %s: column %q has NaN at row %d (impute or drop missing values first)", op, name, i)
			}
			if math.IsInf(row[j], 0) {
				return fmt.Errorf("experiments: %s: column %q has %v at row %d", op, name, row[j], i)
			}
		}
	}
	return nil
}

func itoa(i int) string { return fmt.Sprint(i) }

// checkFit validates training data: X non-empty, finite, one target per
// row, finite targets.
func checkFit(op string, X *mat.Dense, y []float64) error {
	if err := checkXY(op, X, y); err != nil {
		return err
	}
	if err := checkFinite(op, X); err != nil {
		return err
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("experiments: %s: target has %v at row %d", op, v, i)
		}
	}
	return nil
}

// checkPredict validates prediction input against the number of features
// seen in Fit (0 means not fitted).
func checkPredict(op string, X *mat.Dense, nFeatures int) error {
	if nFeatures == 0 {
		return fmt.Errorf("experiments: %s: model is not fitted (call Fit first)", op)
	}
	if X == nil || X.IsEmpty() {
		return fmt.Errorf("experiments: %s: X is empty", op)
	}
	if _, c := X.Dims(); c != nFeatures {
		return fmt.Errorf("experiments: %s: X has %d columns, the model was fitted on %d", op, c, nFeatures)
	}
	return checkFinite(op, X)
}

// encodeClasses returns the sorted distinct labels of y and each row's
// index into them.
func encodeClasses(y []float64) (classes []float64, idx []int) {
	classes = slices.Clone(y)
	slices.Sort(classes)
	classes = slices.Compact(classes)
	idx = make([]int, len(y))
	for i, v := range y {
		k, _ := slices.BinarySearch(classes, v)
		idx[i] = k
	}
	return classes, idx
}

// workers returns the number of goroutines to use: n if positive, else
// every core.
func workers(n int) int {
	if n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// parallel runs f(i) for i in [0,n) on up to w goroutines. A panic in f is
// recovered and returned as an error (a panic in a goroutine would kill
// the notebook's kernel); the first error wins.
// interrupted returns interrupt.Err when the notebook cell running the
// work has been interrupted, nil otherwise (always, outside the kernel).
// Long work asks between its steps (a tree, a fold, an iteration, a block
// of predictions): compiled code does not stop otherwise, and a cell that
// does not stop within the kernel's grace period costs the session.
func interrupted() error {
	if interrupt.Requested() {
		return interrupt.Err
	}
	return nil
}

func parallel(n, w int, f func(i int) error) error {
	if n == 0 {
		return nil
	}
	w = min(workers(w), n)
	if w == 1 {
		// One worker: no goroutine to start and wait for (a one-row
		// prediction would otherwise cost more in scheduling than in
		// arithmetic). Errors and panics are reported the same way.
		for i := range n {
			if err := runRecovered(f, i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		mu       sync.Mutex
		firstErr error
		next     int
		wg       sync.WaitGroup
	)
	work := func() {
		for {
			mu.Lock()
			if next >= n || firstErr != nil {
				mu.Unlock()
				return
			}
			i := next
			next++
			mu.Unlock()
			if err := runRecovered(f, i); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}
	}
	// The caller is one of the workers: it would only wait otherwise, and
	// the work starts without a goroutine switch.
	for range w - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
	return firstErr
}

// serialBelow is the number of values under which a pass over a matrix
// (a sum, a scan) runs on the calling goroutine: about 0.1 ms of work,
// less than waking an idle core costs on a busy or virtual machine.
const serialBelow = 1 << 18

// smallWork returns the workers for parallel for a pass over n values:
// 1 (the caller alone) when the pass is short, else 0 (every core). The
// chunks stay the same, so results do not change.
func smallWork(n int) int {
	if n < serialBelow {
		return 1
	}
	return 0
}

// runRecovered runs f(i), turning a panic into an error.
func runRecovered(f func(i int) error, i int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError("", r)
		}
	}()
	return f(i)
}

// panicError turns r, just recovered from a panic during op, into a
// one-line error: the panic value and where it was raised. Called in the
// deferred function, while the panicking frames are still on the stack.
// A whole stack trace would bury the message in a notebook; the place
// that matters is the first frame of the caller's code (a model of
// theirs), else the frame of this package that panicked, which is then
// an internal error.
func panicError(op string, r any) error {
	prefix := "experiments: "
	if op != "" {
		prefix += op + ": "
	}
	var pcs [64]uintptr
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs[:])])
	var own string // the first frame of this package
	for {
		f, more := frames.Next()
		pkg := funcPackage(f.Function)
		switch {
		case pkg == "runtime" || pkg == "reflect" || strings.HasPrefix(pkg, "github.com/traefik/yaegi"):
			// Not where the bug is; the interpreter's frames say nothing
			// of the cell's code.
		case pkg == ownPackage && !strings.HasSuffix(f.File, "_test.go"):
			if own == "" {
				own = frameSite(f)
			}
		default:
			return fmt.Errorf("%spanic: %v (in %s)", prefix, r, frameSite(f))
		}
		if !more {
			break
		}
	}
	if own != "" {
		return fmt.Errorf("%sinternal error (panic): %v (in %s)", prefix, r, own)
	}
	return fmt.Errorf("%spanic: %v", prefix, r)
}

// ownPackage is the import path of this package.
var ownPackage = reflect.TypeFor[Pipeline]().PkgPath()

// funcPackage returns the import path of a function named as
// runtime.Frame names it ("path/pkg.(*T).Method", "path/pkg.func1").
func funcPackage(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	if dot := strings.IndexByte(fn[slash+1:], '.'); dot >= 0 {
		return fn[:slash+1+dot]
	}
	return fn
}

// frameSite formats a frame as "pkg.(*T).Method at file.go:12".
func frameSite(f runtime.Frame) string {
	fn := f.Function
	if slash := strings.LastIndexByte(fn, '/'); slash >= 0 {
		fn = fn[slash+1:]
	}
	return fmt.Sprintf("%s at %s:%d", fn, filepath.Base(f.File), f.Line)
}

// chunks splits [0,n) into about k ranges of at least minSize.
func chunks(n, k, minSize int) [][2]int {
	if k < 1 {
		k = 1
	}
	size := max((n+k-1)/k, minSize, 1)
	var out [][2]int
	for lo := 0; lo < n; lo += size {
		out = append(out, [2]int{lo, min(lo+size, n)})
	}
	return out
}

// safe runs f, turning a panic into an error, for methods that call into
// code (gonum, user estimators) that may panic.
func safe(op string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(op, r)
		}
	}()
	return f()
}

// Clone returns an unfitted copy of an estimator (a pointer to a struct
// such as *LogisticRegression or *Pipeline): its exported parameter fields
// are copied, nested estimators (Pipeline steps) are cloned too, and the
// fitted state is left out. Like scikit-learn's clone.
func Clone(estimator any) (any, error) {
	if !copyable(estimator) {
		return nil, fmt.Errorf("experiments: clone: %T is not a pointer to an estimator struct%s", estimator, cellTypeHint(estimator))
	}
	return cloneValue(reflect.ValueOf(estimator)).Interface(), nil
}

// copyable reports whether Clone can copy estimator: a pointer to a
// struct, and for a Pipeline every step too. A model declared in a
// notebook cell is not (it reaches compiled code through the
// interpreter's wrapper, a struct of functions bound to the one value):
// cross-validation fits it in turn on each fold instead of copies.
func copyable(estimator any) bool {
	v := reflect.ValueOf(estimator)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return false
	}
	if p, ok := estimator.(*Pipeline); ok {
		for _, s := range p.Steps {
			if !copyable(s.Estimator) {
				return false
			}
		}
	}
	return true
}

// cellTypeHint explains, for a value whose type was declared in a
// notebook cell, what to do; "" otherwise. The interpreter gives such a
// type no name: the value arrives as a pointer to a struct type without
// a name, or in its wrapper for an interface (see interpWrapper).
func cellTypeHint(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return ""
	}
	cell := t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct && t.Elem().Name() == ""
	switch {
	case interpWrapper(t):
		return " (a type declared in a notebook cell cannot be copied: CrossValidate fits it in turn on each fold, GridSearch and validation curves cannot set its parameters)"
	case cell:
		return " (a type declared in a notebook cell: pass it as experiments.AsModel(m) or experiments.AsTransformer(t) so that compiled code sees its methods)"
	}
	return ""
}

// interpWrapper reports whether t is the interpreter's wrapper of a
// cell's value for a compiled interface: a struct named _path_Interface
// whose first field, IValue, holds the value and whose others are the
// methods as functions.
func interpWrapper(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && strings.HasPrefix(t.Name(), "_") && t.NumField() > 0 && t.Field(0).Name == "IValue"
}

// AsModel returns m. Called from a notebook cell with a model whose type
// the cell declared, it returns the value compiled code sees with its
// Fit and Predict methods: the interpreter hands such a value to a
// Model parameter with its methods, but to an any one (a Pipeline's
// steps) as a plain struct without them. Such a model is fitted in turn
// on each fold of a cross-validation, and cannot be saved.
func AsModel(m Model) Model { return m }

// AsClassifier returns c: AsModel for a classifier whose type a notebook
// cell declared (with PredictProba and Classes), so that
// cross-validation stratifies its folds and can score probabilities.
func AsClassifier(c Classifier) Model { return c }

// ownEstimator reports whether m, or a Pipeline's last step, is one of
// this package's estimators, whose kind (classifier or regressor) is
// known.
func ownEstimator(m any) bool {
	if p, ok := m.(*Pipeline); ok {
		if len(p.Steps) == 0 {
			return true
		}
		return ownEstimator(p.Steps[len(p.Steps)-1].Estimator)
	}
	t := reflect.TypeOf(m)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && t.PkgPath() == reflect.TypeFor[Pipeline]().PkgPath()
}

// AsTransformer returns t: AsModel for a transformer whose type a
// notebook cell declared, to use as a Pipeline step.
func AsTransformer(t Transformer) Transformer { return t }

func cloneModel(m Model) (Model, error) {
	c, err := Clone(m)
	if err != nil {
		return nil, err
	}
	return c.(Model), nil
}

func cloneValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || v.Elem().Kind() != reflect.Struct {
			return v
		}
		nv := reflect.New(v.Elem().Type())
		copyExported(nv.Elem(), v.Elem())
		return nv
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		c := cloneValue(v.Elem())
		nv := reflect.New(v.Type()).Elem()
		nv.Set(c)
		return nv
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		nv := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			nv.Index(i).Set(cloneValue(v.Index(i)))
		}
		return nv
	case reflect.Struct:
		nv := reflect.New(v.Type()).Elem()
		copyExported(nv, v)
		return nv
	}
	return v
}

func copyExported(dst, src reflect.Value) {
	t := src.Type()
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).IsExported() {
			dst.Field(i).Set(cloneValue(src.Field(i)))
		}
	}
}

// SetParam sets an estimator's parameter by field name, converting
// numbers as needed (an int grid value sets a float64 field). In a
// Pipeline, name a step's parameter "step.Field" (or scikit-learn's
// "step__Field"); field names match case-insensitively, so "c" sets C.
func SetParam(estimator any, name string, value any) error {
	v := reflect.ValueOf(estimator)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("experiments: set param %q: %T is not a pointer to an estimator struct", name, estimator)
	}
	if p, ok := estimator.(*Pipeline); ok {
		step, field, found := strings.Cut(name, ".")
		if !found {
			step, field, found = strings.Cut(name, "__")
		}
		if !found {
			return fmt.Errorf("experiments: set param %q: name a pipeline parameter as step.Field (steps: %v)", name, p.stepNames())
		}
		for _, s := range p.Steps {
			if s.Name == step {
				if err := SetParam(s.Estimator, field, value); err != nil {
					return fmt.Errorf("experiments: set param %q: %w", name, unwrapPrefix(err))
				}
				return nil
			}
		}
		return fmt.Errorf("experiments: set param %q: no step %q (steps: %v)", name, step, p.stepNames())
	}
	s := v.Elem()
	f := s.FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, name) })
	if !f.IsValid() || !f.CanSet() {
		return fmt.Errorf("experiments: set param %q: %T has no parameter field %q (parameters: %v)", name, estimator, name, paramNames(s.Type()))
	}
	val := reflect.ValueOf(value)
	if !val.IsValid() {
		f.Set(reflect.Zero(f.Type()))
		return nil
	}
	if val.Type().AssignableTo(f.Type()) {
		f.Set(val)
		return nil
	}
	isNum := func(k reflect.Kind) bool { return k >= reflect.Int && k <= reflect.Float64 }
	if isNum(val.Kind()) && isNum(f.Kind()) {
		if f.Kind() <= reflect.Uint64 && val.Kind() >= reflect.Float32 {
			x := val.Float()
			if x != math.Trunc(x) {
				return fmt.Errorf("experiments: set param %q: %v is not a whole number (the field is %s)", name, x, f.Type())
			}
		}
		f.Set(val.Convert(f.Type()))
		return nil
	}
	return fmt.Errorf("experiments: set param %q: cannot use %v (%T) as %s", name, value, value, f.Type())
}

func paramNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).IsExported() {
			out = append(out, t.Field(i).Name)
		}
	}
	return out
}

// Score returns the default score of a fitted model on X, y: accuracy
// for classifiers, R² for regressors, and for k-means the negative
// inertia of X (the sum of squared distances of its rows to their
// nearest centers; y is not used), as scikit-learn's score.
func Score(m Model, X *mat.Dense, y []float64) (float64, error) {
	if m == nil {
		return 0, fmt.Errorf("experiments: score: nil model")
	}
	if isClusterer(m) {
		km, ok := m.(*KMeans)
		if !ok {
			return 0, fmt.Errorf("experiments: score: a pipeline ending in k-means has no score; score its KMeans step on the transformed rows")
		}
		return km.negInertia(X)
	}
	pred, err := m.Predict(X)
	if err != nil {
		return 0, err
	}
	if isClassifier(m) {
		return Accuracy(y, pred)
	}
	return R2(y, pred)
}
