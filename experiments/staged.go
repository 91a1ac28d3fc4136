package experiments

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// IterationCurve fits an unfitted copy of model on the training rows and
// scores it on the training and validation rows after each iteration: each
// added tree of a random forest, each L-BFGS iteration of a logistic
// regression. Plot the result to see over- or under-fitting develop.
func IterationCurve(model Model, Xtrain *mat.Dense, ytrain []float64, Xval *mat.Dense, yval []float64, metric string) (*Curve, error) {
	const op = "iteration curve"
	if err := checkXY(op, Xtrain, ytrain); err != nil {
		return nil, err
	}
	if err := checkXY(op, Xval, yval); err != nil {
		return nil, err
	}
	if metric == "" {
		metric = "r2"
		if isClassifier(model) {
			metric = "accuracy"
		}
	}
	spec, err := lookupMetric(metric)
	if err != nil {
		return nil, fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
	}
	m, err := cloneModel(model)
	if err != nil {
		return nil, err
	}
	c := &Curve{Metric: metric}
	// stages calls score with the predictions (and class proportions)
	// after each iteration, for one input matrix.
	var stages func(X *mat.Dense, y []float64) ([]float64, error)
	switch mm := m.(type) {
	case *RandomForestClassifier, *RandomForestRegressor:
		c.XLabel = "trees"
		if err := fitModel(m, Xtrain, ytrain); err != nil {
			return nil, err
		}
		var tm *treeModel
		if rf, ok := mm.(*RandomForestClassifier); ok {
			tm = &rf.st
		} else {
			tm = &mm.(*RandomForestRegressor).st
		}
		stages = func(X *mat.Dense, y []float64) ([]float64, error) { return tm.staged(X, y, spec) }
	case *LogisticRegression:
		c.XLabel = "iterations"
		var hist [][]float64
		mm.history = &hist
		if err := mm.fitRaw(Xtrain, ytrain); err != nil {
			return nil, err
		}
		mm.history = nil
		classes := mm.st.Classes
		K, p := len(mm.st.Intercept), mm.st.NFeatures
		stages = func(X *mat.Dense, y []float64) ([]float64, error) {
			var out []float64
			for _, w := range hist {
				tmp := &LogisticRegression{st: unpackLogistic(w, classes, K, p)}
				v, err := scoreWith(tmp, X, y, spec)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			return out, nil
		}
	default:
		return nil, fmt.Errorf("experiments: %s: %T has no iterations to follow (random forests and logistic regression do)", op, model)
	}
	if c.TrainMean, err = stages(Xtrain, ytrain); err != nil {
		return nil, fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
	}
	if c.TestMean, err = stages(Xval, yval); err != nil {
		return nil, fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
	}
	c.TrainStd = make([]float64, len(c.TrainMean))
	c.TestStd = make([]float64, len(c.TestMean))
	for i := range c.TrainMean {
		c.X = append(c.X, float64(i+1))
	}
	return c, nil
}

// scoreWith scores a fitted model with one metric.
func scoreWith(m Model, X *mat.Dense, y []float64, spec metricSpec) (float64, error) {
	pred, err := m.Predict(X)
	if err != nil {
		return 0, err
	}
	var pr *mat.Dense
	var classes []float64
	if spec.proba {
		c, ok := m.(Classifier)
		if !ok {
			return 0, fmt.Errorf("experiments: metric %s needs class probabilities, %T has none", spec.name, m)
		}
		if pr, err = c.PredictProba(X); err != nil {
			return 0, err
		}
		classes = c.Classes()
	}
	return spec.fn(y, pred, pr, classes)
}

// staged scores the forest's first t trees for every t.
func (tm *treeModel) staged(X *mat.Dense, y []float64, spec metricSpec) ([]float64, error) {
	if err := checkPredict("iteration curve", X, tm.NFeatures); err != nil {
		return nil, err
	}
	n, _ := X.Dims()
	nout := tm.Trees[0].NOut
	acc := make([]float64, n*nout)
	avg := mat.NewDense(n, nout, nil)
	pred := make([]float64, n)
	var out []float64
	for t := range tm.Trees {
		for i := 0; i < n; i++ {
			v := tm.Trees[t].leaf(X.RawRowView(i))
			a := acc[i*nout : (i+1)*nout]
			for j := range a {
				a[j] += v[j]
			}
		}
		inv := 1 / float64(t+1)
		raw := avg.RawMatrix().Data
		for i := range acc {
			raw[i] = acc[i] * inv
		}
		for i := 0; i < n; i++ {
			row := raw[i*nout : (i+1)*nout]
			if tm.Classes == nil {
				pred[i] = row[0]
				continue
			}
			best := 0
			for k, p := range row {
				if p > row[best] {
					best = k
				}
			}
			pred[i] = tm.Classes[best]
		}
		v, err := spec.fn(y, pred, avg, tm.Classes)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
