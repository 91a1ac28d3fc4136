package experiments

import (
	"strings"
	"sync"
	"time"

	"gonum.org/v1/gonum/mat"
)

// KindEvaluate is the kind of event a metric computed on the predictions
// of a tracked estimator makes, as MLflow's autologging logs
// "post-training metrics": Accuracy(yTest, pipe.Predict(Xtest)) in a cell
// is reported with the fitted pipeline as Estimator, the metric in
// Metrics (accuracy, f1_macro, rmse, roc_auc, log_loss, ...), and the
// evaluation data in Data (features then the true target), so that a
// tracker can log it on the run of the fit that made the estimator.
//
// Only predictions of estimators this package reported as fitted (a Fit
// or the refit of a GridSearch) count, and only the slice or matrix
// Predict returned, unchanged in length, identifies them: metrics computed
// inside CrossValidate or GridSearch, on copies, make no event.
const KindEvaluate = "evaluate"

const (
	trackedEstimators  = 64 // fitted estimators remembered
	trackedPredictions = 32 // predictions remembered
)

// evalState remembers recent fitted estimators and their predictions.
var evalState struct {
	sync.Mutex
	fitted [trackedEstimators]any
	nextF  int
	preds  [trackedPredictions]prediction
	nextP  int
}

// prediction is one output of a tracked estimator's Predict or
// PredictProba.
type prediction struct {
	key  any // *float64 (the slice's first element) or *mat.Dense
	n    int // the slice's length, or the matrix's rows
	est  any
	data func(y []float64) (mat.Matrix, []string, [][]string) // evaluation table, given the true values
}

// noteFitted records that est was reported fitted: its predictions are
// tracked from now on.
func noteFitted(est any) {
	if est == nil {
		return
	}
	evalState.Lock()
	defer evalState.Unlock()
	for _, e := range evalState.fitted {
		if e == est {
			return
		}
	}
	evalState.fitted[evalState.nextF] = est
	evalState.nextF = (evalState.nextF + 1) % trackedEstimators
}

// isFitted reports whether est was reported fitted recently. The caller
// holds evalState.
func isFitted(est any) bool {
	for _, e := range evalState.fitted {
		if e == est {
			return true
		}
	}
	return false
}

// notePredict records pred as est's prediction on the rows of X, when a
// tracker is installed and est was reported fitted.
func notePredict(est any, X mat.Matrix, pred []float64) {
	if len(pred) == 0 || tracker.Load() == nil {
		return
	}
	notePrediction(est, &pred[0], len(pred), matrixTable(X))
}

// notePredictProba records a matrix of probabilities PredictProba made.
func notePredictProba(est any, X mat.Matrix, proba *mat.Dense) {
	if proba == nil || proba.IsEmpty() || tracker.Load() == nil {
		return
	}
	n, _ := proba.Dims()
	notePrediction(est, proba, n, matrixTable(X))
}

// notePredictDataset records a prediction on a dataset's rows; the
// evaluation data is the dataset itself when it holds target.
func notePredictDataset(est any, ds *Dataset, target string, key any, n int) {
	if n == 0 || tracker.Load() == nil {
		return
	}
	notePrediction(est, key, n, func([]float64) (mat.Matrix, []string, [][]string) {
		if ds == nil || target == "" || ds.index(target) < 0 {
			return nil, nil, nil
		}
		return datasetData{ds: ds, target: target}.table()
	})
}

// matrixTable is the evaluation table of predictions made on X: X with
// the true values appended, when X is a *mat.Dense.
func matrixTable(X mat.Matrix) func(y []float64) (mat.Matrix, []string, [][]string) {
	return func(y []float64) (mat.Matrix, []string, [][]string) {
		if d, ok := X.(*mat.Dense); ok {
			return matrixData{d, y}.table()
		}
		return nil, nil, nil
	}
}

func notePrediction(est, key any, n int, data func([]float64) (mat.Matrix, []string, [][]string)) {
	evalState.Lock()
	defer evalState.Unlock()
	if !isFitted(est) {
		return
	}
	evalState.preds[evalState.nextP] = prediction{key: key, n: n, est: est, data: data}
	evalState.nextP = (evalState.nextP + 1) % trackedPredictions
}

// lookupPrediction finds the recorded prediction whose output is key.
func lookupPrediction(key any, n int) (prediction, bool) {
	evalState.Lock()
	defer evalState.Unlock()
	for _, p := range evalState.preds {
		if p.key == key && p.n == n && p.est != nil {
			return p, true
		}
	}
	return prediction{}, false
}

// noteMetric reports metric, computed on yTrue and yPred, when yPred is
// a tracked estimator's prediction.
func noteMetric(metric string, yTrue, yPred []float64, value float64) {
	if len(yPred) == 0 || tracker.Load() == nil {
		return
	}
	noteMetricKey(metric, yTrue, yPred, &yPred[0], len(yPred), value)
}

// noteMetricProba reports a metric computed on a probability matrix.
func noteMetricProba(metric string, yTrue []float64, proba *mat.Dense, value float64) {
	if proba == nil || proba.IsEmpty() || tracker.Load() == nil {
		return
	}
	n, _ := proba.Dims()
	noteMetricKey(metric, yTrue, nil, proba, n, value)
}

// labelMetric reports whether a metric compares labels, so that the
// confusion matrix of the predictions goes with it.
func labelMetric(name string) bool {
	for _, p := range []string{"accuracy", "precision", "recall", "f1"} {
		if name == p || strings.HasPrefix(name, p+"_") {
			return true
		}
	}
	return false
}

func noteMetricKey(metric string, yTrue, yPred []float64, key any, n int, value float64) {
	t := CurrentTracker()
	if t == nil {
		return
	}
	p, ok := lookupPrediction(key, n)
	if !ok {
		return
	}
	ev := &TrackEvent{Kind: KindEvaluate, Start: time.Now(), Estimator: p.est, Name: modelName(p.est),
		Metrics: map[string]float64{metric: value}}
	if len(yTrue) == n {
		ev.Data, ev.Columns, ev.Levels = p.data(yTrue)
		if labelMetric(metric) && len(yPred) == n {
			if c, err := ConfusionMatrix(yTrue, yPred); err == nil {
				if pl, ok := p.est.(*Pipeline); ok {
					c.Names = pl.TargetLevels()
				}
				ev.Confusion = c
			}
		}
	}
	emit(t, ev)
}
