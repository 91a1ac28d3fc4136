package experiments

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// treeParams are the parameters shared by trees and forests.
type treeParams struct {
	criterion                 string
	maxDepth, minSplit, minLf int
	maxFeatures, maxBins      int
}

func resolveTree(op string, tp treeParams, classes, p int, defaultFeatures int) (treeConfig, error) {
	cfg := treeConfig{classes: classes, maxDepth: tp.maxDepth, minSplit: tp.minSplit, minLeaf: tp.minLf, maxFeatures: tp.maxFeatures}
	switch tp.criterion {
	case "":
	case "gini", "entropy", "log_loss":
		if classes == 0 {
			return cfg, fmt.Errorf("experiments: %s: Criterion %q is for classification", op, tp.criterion)
		}
		cfg.entropy = tp.criterion != "gini"
	case "squared_error", "mse":
		if classes > 0 {
			return cfg, fmt.Errorf("experiments: %s: Criterion %q is for regression (want gini or entropy)", op, tp.criterion)
		}
	default:
		return cfg, fmt.Errorf("experiments: %s: unknown Criterion %q (want gini or entropy)", op, tp.criterion)
	}
	if cfg.maxDepth < 0 || cfg.minSplit < 0 || cfg.minLeaf < 0 || cfg.maxFeatures < 0 || tp.maxBins < 0 {
		return cfg, fmt.Errorf("experiments: %s: MaxDepth, MinSamplesSplit, MinSamplesLeaf, MaxFeatures and MaxBins must not be negative", op)
	}
	if cfg.minSplit < 2 {
		cfg.minSplit = 2
	}
	if cfg.minLeaf < 1 {
		cfg.minLeaf = 1
	}
	if cfg.maxFeatures == 0 {
		cfg.maxFeatures = defaultFeatures
	}
	cfg.maxFeatures = min(max(cfg.maxFeatures, 1), p)
	return cfg, nil
}

// scratchPool recycles tree scratch memory across trees and fits.
var scratchPool = sync.Pool{New: func() any { return &treeScratch{} }}

// treeModel is the fitted state shared by trees and forests.
type treeModel struct {
	Classes   []float64 // nil for regression
	NFeatures int
	Trees     []treeState
}

// upgrade checks and brings up to date the trees of a loaded model.
func (tm *treeModel) upgrade() error {
	if len(tm.Trees) > 0 && tm.NFeatures < 1 {
		return fmt.Errorf("fitted trees on %d features", tm.NFeatures)
	}
	for i := range tm.Trees {
		if err := tm.Trees[i].upgrade(tm.NFeatures); err != nil {
			return fmt.Errorf("tree %d: %w", i, err)
		}
		if tm.Trees[i].NOut != tm.Trees[0].NOut || tm.Classes != nil && tm.Trees[i].NOut != len(tm.Classes) {
			return fmt.Errorf("tree %d has %d outputs, tree 0 %d, for %d classes", i, tm.Trees[i].NOut, tm.Trees[0].NOut, len(tm.Classes))
		}
	}
	return nil
}

// fitTrees grows n trees on X, y. Tree t draws its randomness from
// Seed+t, so the result does not depend on the number of workers.
func fitTrees(op string, X *mat.Dense, y []float64, classify bool, tp treeParams, n int, bootstrap bool, seed int64, nw int, defaultFeatures func(p int) int) (treeModel, error) {
	if err := checkFit(op, X, y); err != nil {
		return treeModel{}, err
	}
	if classify {
		if err := checkLabels(op, "target", y); err != nil {
			return treeModel{}, err
		}
	}
	rows, p := X.Dims()
	if int64(rows) >= 1<<31 {
		return treeModel{}, fmt.Errorf("experiments: %s: too many rows (%d)", op, rows)
	}
	var tm treeModel
	tgt := &treeTarget{}
	K := 0
	if classify {
		classes, idx := labelCodes(y)
		tm.Classes = classes
		K = len(classes)
		tgt.yk = make([]int32, rows)
		for i, k := range idx {
			tgt.yk[i] = int32(k)
		}
	} else {
		tgt.yv = y
	}
	cfg, err := resolveTree(op, tp, K, p, defaultFeatures(p))
	if err != nil {
		return treeModel{}, err
	}
	data, err := binData(X, tp.maxBins, nw)
	if err != nil {
		return treeModel{}, err
	}
	tm.NFeatures = p
	tm.Trees = make([]treeState, n)
	// Scratch (tens of MB on large data) passes from tree to tree through
	// free, since sync.Pool drops what it holds at every garbage
	// collection; the pool keeps it between fits.
	free := make(chan *treeScratch, n)
	defer func() {
		for len(free) > 0 {
			scratchPool.Put(<-free)
		}
	}()
	err = parallel(n, nw, func(t int) error {
		if err := interrupted(); err != nil {
			return err
		}
		rng := newRand(seed + int64(t))
		var s *treeScratch
		select {
		case s = <-free:
		default:
			s = scratchPool.Get().(*treeScratch)
		}
		defer func() { free <- s }()
		tt := *tgt
		var in []bool
		if bootstrap {
			// The sample's weights and membership live in the scratch:
			// the tree keeps neither, and a forest of a few hundred
			// trees would otherwise allocate them a few hundred times.
			s.counts = buf(s.counts, rows)
			counts := s.counts
			clear(counts)
			for range rows {
				counts[rng.IntN(rows)]++
			}
			tt.w = counts
			s.in = buf(s.in, rows)
			in = s.in
			for i, c := range counts {
				in[i] = c > 0
			}
		}
		tm.Trees[t] = buildTree(cfg, data, &tt, in, rng, s)
		return nil
	})
	if err == nil {
		// An interrupt cuts a tree short (buildTree): none is kept.
		err = interrupted()
	}
	if err != nil {
		return treeModel{}, fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
	}
	return tm, nil
}

// predictTrees averages the trees' leaf values for each row of X
// (class proportions or regression values), rows in parallel.
func (tm *treeModel) predictTrees(op string, X *mat.Dense, nw int) (*mat.Dense, error) {
	if err := checkPredict(op, X, tm.NFeatures); err != nil {
		return nil, err
	}
	n, _ := X.Dims()
	nout := tm.Trees[0].NOut
	out := mat.NewDense(n, nout, nil)
	raw := out.RawMatrix().Data
	parts := chunks(n, workers(nw)*4, 256)
	inv := 1 / float64(len(tm.Trees))
	err := parallel(len(parts), nw, func(k int) error {
		for i := parts[k][0]; i < parts[k][1]; i++ {
			row := X.RawRowView(i)
			dst := raw[i*nout : (i+1)*nout]
			for t := range tm.Trees {
				v := tm.Trees[t].leaf(row)
				for j := range dst {
					dst[j] += v[j]
				}
			}
			for j := range dst {
				dst[j] *= inv
			}
		}
		return nil
	})
	return out, err
}

func (tm *treeModel) predict(op string, X *mat.Dense, nw int) ([]float64, error) {
	v, err := tm.predictTrees(op, X, nw)
	if err != nil {
		return nil, err
	}
	if tm.Classes == nil {
		return v.RawMatrix().Data, nil
	}
	n, _ := v.Dims()
	out := make([]float64, n)
	for i := range out {
		row := v.RawRowView(i)
		best := 0
		for k, p := range row {
			if p > row[best] {
				best = k
			}
		}
		out[i] = tm.Classes[best]
	}
	return out, nil
}

// importances returns the impurity decrease per feature, summed over the
// trees (each normalized first) and normalized to sum to 1.
func (tm *treeModel) importances() []float64 {
	if len(tm.Trees) == 0 {
		return nil
	}
	out := make([]float64, tm.NFeatures)
	for _, t := range tm.Trees {
		var s float64
		for _, v := range t.Importance {
			s += v
		}
		if s > 0 {
			for j, v := range t.Importance {
				out[j] += v / s
			}
		}
	}
	var s float64
	for _, v := range out {
		s += v
	}
	if s > 0 {
		for j := range out {
			out[j] /= s
		}
	}
	return out
}

func allFeatures(p int) int  { return p }
func sqrtFeatures(p int) int { return max(1, int(math.Sqrt(float64(p)))) }

// DecisionTreeClassifier is a CART classification tree. Exact by
// default: every distinct value is a candidate threshold, as in
// scikit-learn; MaxBins > 0 bins each feature into at most that many
// quantile bins for speed on large data.
type DecisionTreeClassifier struct {
	Criterion       string // "gini" (default) or "entropy"
	MaxDepth        int    // 0: unlimited
	MinSamplesSplit int    // 0 means 2
	MinSamplesLeaf  int    // 0 means 1
	MaxFeatures     int    // features tried per split; 0: all
	MaxBins         int    // 0: exact
	Seed            int64  // breaks ties between equally good splits; picks the MaxFeatures tried

	st treeModel
}

func (m *DecisionTreeClassifier) state() any { return &m.st }

func (m *DecisionTreeClassifier) params() treeParams {
	return treeParams{m.Criterion, m.MaxDepth, m.MinSamplesSplit, m.MinSamplesLeaf, m.MaxFeatures, m.MaxBins}
}

// Fit grows the tree.
func (m *DecisionTreeClassifier) Fit(X *mat.Dense, y []float64) error {
	return trackFit(m, X, y, m.fitRaw)
}

func (m *DecisionTreeClassifier) fitRaw(X *mat.Dense, y []float64) error {
	tm, err := fitTrees("fit decision tree classifier", X, y, true, m.params(), 1, false, m.Seed, 1, allFeatures)
	if err != nil {
		return err
	}
	m.st = tm
	return nil
}

// Predict returns the majority class of each row's leaf.
func (m *DecisionTreeClassifier) Predict(X *mat.Dense) (pred []float64, err error) {
	defer func() {
		if err == nil {
			notePredict(m, X, pred) // for metrics computed on it (autolog)
		}
	}()
	return m.st.predict("predict decision tree classifier", X, 1)
}

// PredictProba returns the class proportions of each row's leaf.
func (m *DecisionTreeClassifier) PredictProba(X *mat.Dense) (proba *mat.Dense, err error) {
	defer func() {
		if err == nil {
			notePredictProba(m, X, proba) // for metrics computed on it (autolog)
		}
	}()
	return m.st.predictTrees("predict decision tree classifier", X, 1)
}

// Classes returns the class labels, sorted.
func (m *DecisionTreeClassifier) Classes() []float64 { return slices.Clone(m.st.Classes) }

// FeatureImportances returns the normalized impurity decrease per feature.
func (m *DecisionTreeClassifier) FeatureImportances() []float64 { return m.st.importances() }

// NodeCount returns the number of nodes, and Depth the depth of the tree.
func (m *DecisionTreeClassifier) NodeCount() int { return nodeCount(&m.st) }

// DecisionTreeRegressor is a CART regression tree (squared error).
type DecisionTreeRegressor struct {
	MaxDepth        int   // 0: unlimited
	MinSamplesSplit int   // 0 means 2
	MinSamplesLeaf  int   // 0 means 1
	MaxFeatures     int   // features tried per split; 0: all
	MaxBins         int   // 0: exact
	Seed            int64 // breaks ties between equally good splits; picks the MaxFeatures tried

	st treeModel
}

func (m *DecisionTreeRegressor) state() any { return &m.st }

// Fit grows the tree.
func (m *DecisionTreeRegressor) Fit(X *mat.Dense, y []float64) error {
	return trackFit(m, X, y, m.fitRaw)
}

func (m *DecisionTreeRegressor) fitRaw(X *mat.Dense, y []float64) error {
	tp := treeParams{"", m.MaxDepth, m.MinSamplesSplit, m.MinSamplesLeaf, m.MaxFeatures, m.MaxBins}
	tm, err := fitTrees("fit decision tree regressor", X, y, false, tp, 1, false, m.Seed, 1, allFeatures)
	if err != nil {
		return err
	}
	m.st = tm
	return nil
}

// Predict returns the mean target of each row's leaf.
func (m *DecisionTreeRegressor) Predict(X *mat.Dense) (pred []float64, err error) {
	defer func() {
		if err == nil {
			notePredict(m, X, pred) // for metrics computed on it (autolog)
		}
	}()
	return m.st.predict("predict decision tree regressor", X, 1)
}

// FeatureImportances returns the normalized impurity decrease per feature.
func (m *DecisionTreeRegressor) FeatureImportances() []float64 { return m.st.importances() }

// NodeCount returns the number of nodes.
func (m *DecisionTreeRegressor) NodeCount() int { return nodeCount(&m.st) }

func nodeCount(tm *treeModel) int {
	n := 0
	for _, t := range tm.Trees {
		n += len(t.Feature)
	}
	return n
}

// RandomForestClassifier averages the class proportions of NTrees trees,
// each grown on a bootstrap sample trying MaxFeatures random features per
// split (√p by default). Trees grow in parallel on every core; tree t is
// seeded with Seed+t, so results do not depend on the number of workers.
type RandomForestClassifier struct {
	NTrees          int    // 0 means 100
	Criterion       string // "gini" (default) or "entropy"
	MaxDepth        int    // 0: unlimited
	MinSamplesSplit int    // 0 means 2
	MinSamplesLeaf  int    // 0 means 1
	MaxFeatures     int    // 0 means √p
	MaxBins         int    // 0: exact splits
	NoBootstrap     bool   // grow every tree on all the rows
	Seed            int64  // tree t draws its sample and feature order from Seed+t
	Workers         int    // 0 uses every core

	st treeModel
}

func (m *RandomForestClassifier) state() any { return &m.st }

// Fit grows the forest.
func (m *RandomForestClassifier) Fit(X *mat.Dense, y []float64) error {
	return trackFit(m, X, y, m.fitRaw)
}

func (m *RandomForestClassifier) fitRaw(X *mat.Dense, y []float64) error {
	n := m.NTrees
	if n == 0 {
		n = 100
	}
	if n < 0 {
		return fmt.Errorf("experiments: fit random forest classifier: NTrees %d must be positive", n)
	}
	tp := treeParams{m.Criterion, m.MaxDepth, m.MinSamplesSplit, m.MinSamplesLeaf, m.MaxFeatures, m.MaxBins}
	tm, err := fitTrees("fit random forest classifier", X, y, true, tp, n, !m.NoBootstrap, m.Seed, m.Workers, sqrtFeatures)
	if err != nil {
		return err
	}
	m.st = tm
	return nil
}

// Predict returns the class with the highest mean proportion.
func (m *RandomForestClassifier) Predict(X *mat.Dense) (pred []float64, err error) {
	defer func() {
		if err == nil {
			notePredict(m, X, pred) // for metrics computed on it (autolog)
		}
	}()
	return m.st.predict("predict random forest classifier", X, m.Workers)
}

// PredictProba returns the mean class proportions over the trees.
func (m *RandomForestClassifier) PredictProba(X *mat.Dense) (proba *mat.Dense, err error) {
	defer func() {
		if err == nil {
			notePredictProba(m, X, proba) // for metrics computed on it (autolog)
		}
	}()
	return m.st.predictTrees("predict random forest classifier", X, m.Workers)
}

// Classes returns the class labels, sorted.
func (m *RandomForestClassifier) Classes() []float64 { return slices.Clone(m.st.Classes) }

// FeatureImportances returns the mean normalized impurity decrease per
// feature.
func (m *RandomForestClassifier) FeatureImportances() []float64 { return m.st.importances() }

// RandomForestRegressor averages NTrees regression trees grown on
// bootstrap samples (MaxFeatures 0 tries every feature, as scikit-learn).
type RandomForestRegressor struct {
	NTrees          int   // 0 means 100
	MaxDepth        int   // 0: unlimited
	MinSamplesSplit int   // 0 means 2
	MinSamplesLeaf  int   // 0 means 1
	MaxFeatures     int   // features tried per split; 0: all, as scikit-learn
	MaxBins         int   // 0: exact splits
	NoBootstrap     bool  // grow every tree on all the rows
	Seed            int64 // tree t draws its sample and feature order from Seed+t
	Workers         int   // 0 uses every core

	st treeModel
}

func (m *RandomForestRegressor) state() any { return &m.st }

// Fit grows the forest.
func (m *RandomForestRegressor) Fit(X *mat.Dense, y []float64) error {
	return trackFit(m, X, y, m.fitRaw)
}

func (m *RandomForestRegressor) fitRaw(X *mat.Dense, y []float64) error {
	n := m.NTrees
	if n == 0 {
		n = 100
	}
	if n < 0 {
		return fmt.Errorf("experiments: fit random forest regressor: NTrees %d must be positive", n)
	}
	tp := treeParams{"", m.MaxDepth, m.MinSamplesSplit, m.MinSamplesLeaf, m.MaxFeatures, m.MaxBins}
	tm, err := fitTrees("fit random forest regressor", X, y, false, tp, n, !m.NoBootstrap, m.Seed, m.Workers, allFeatures)
	if err != nil {
		return err
	}
	m.st = tm
	return nil
}

// Predict returns the mean prediction of the trees.
func (m *RandomForestRegressor) Predict(X *mat.Dense) (pred []float64, err error) {
	defer func() {
		if err == nil {
			notePredict(m, X, pred) // for metrics computed on it (autolog)
		}
	}()
	return m.st.predict("predict random forest regressor", X, m.Workers)
}

// FeatureImportances returns the mean normalized impurity decrease per
// feature.
func (m *RandomForestRegressor) FeatureImportances() []float64 { return m.st.importances() }
