package experiments

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// knnState is the training set a neighbors model keeps.
type knnState struct {
	N, P    int
	X       []float64 // N×P row-major
	Norms   []float64 // squared row norms
	Y       []float64
	YK      []int32 // class index per row (classifier)
	Classes []float64
}

func newKNNState(op string, X *mat.Dense, y []float64, classify bool) (knnState, error) {
	if err := checkXY(op, X, y); err != nil {
		return knnState{}, err
	}
	check := checkTargets
	if classify {
		check = func(op string, y []float64) error { return checkLabels(op, "target", y) }
	}
	if err := check(op, y); err != nil {
		return knnState{}, err
	}
	n, p := X.Dims()
	st := knnState{N: n, P: p, X: make([]float64, n*p), Norms: make([]float64, n), Y: slices.Clone(y)}
	// Copy in parallel; a NaN or infinity makes its row's norm non-finite,
	// and only then does checkFit scan X to name it.
	parts := fixedChunks(n, 4096)
	bad := make([]bool, len(parts))
	parallel(len(parts), 0, func(c int) error {
		for i := parts[c][0]; i < parts[c][1]; i++ {
			row := st.X[i*p : (i+1)*p]
			copy(row, X.RawRowView(i))
			st.Norms[i] = floats.Dot(row, row)
			if math.IsNaN(st.Norms[i]) || math.IsInf(st.Norms[i], 0) {
				bad[c] = true
			}
		}
		return nil
	})
	if slices.Contains(bad, true) {
		if err := checkFit(op, X, y); err != nil {
			return knnState{}, err
		}
	}
	if classify {
		classes, idx := labelCodes(y)
		st.Classes = classes
		st.YK = make([]int32, n)
		for i, k := range idx {
			st.YK[i] = int32(k)
		}
	}
	return st, nil
}

// checkTargets reports a NaN or infinite target.
func checkTargets(op string, y []float64) error {
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("experiments: %s: target has %v at row %d", op, v, i)
		}
	}
	return nil
}

// neighbors finds the k nearest training rows of each row of Q by
// Euclidean distance. Distances come from matrix products
// (‖q‖² + ‖x‖² - 2q·x, the product over packed panels of the training
// rows: in float32 with an exact float64 decision, neighbors32, or in
// float64 by kernStrip), in parallel over blocks of queries; ties go to
// the lower training index. It returns indexes and exact distances, k per
// query, nearest first. Each query's result depends only on the query,
// not on the blocking or the number of workers.
func (st *knnState) neighbors(Q *mat.Dense, k, nw int) ([]int32, []float64, error) {
	nq, p := Q.Dims()
	idx := make([]int32, nq*k)
	dist := make([]float64, nq*k)
	var err error
	if nq < 2*kernMR {
		// Too few queries to pay for packing the training set.
		err = parallel(nq, nw, func(i int) error {
			q := Q.RawRowView(i)
			copy(idx[i*k:(i+1)*k], st.bruteTopK(q, k))
			return nil
		})
	} else {
		var done bool
		if done, err = st.neighbors32(Q, k, nw, idx); err == nil && !done {
			err = st.neighborsBlocked(Q, k, nw, idx)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i < nq; i++ {
		q := Q.RawRowView(i)
		ix := idx[i*k : (i+1)*k]
		if slices.Contains(ix, -1) {
			// A distance overflowed (values beyond about 1e154 make the
			// product formula's norms, or the squares themselves,
			// infinite): search this query again with exact distances,
			// and let rows at infinite distance fill what is left, in
			// row order.
			bi := st.bruteTopK(q, k)
			fillTopK(bi, st.N)
			copy(ix, bi)
		}
		d := dist[i*k : (i+1)*k]
		for j, t := range ix {
			d[j] = math.Sqrt(sqDist(q, st.X[int(t)*p:int(t+1)*p]))
		}
		// Exact distances can reorder near-ties of the product formula.
		sortNeighbors(ix, d)
	}
	return idx, dist, nil
}

// bruteTopK returns the k training rows of smallest sqDist to q, nearest
// first, ties to the lower index, by comparing q with every row; -1 where
// fewer than k rows are at a finite distance.
func (st *knnState) bruteTopK(q []float64, k int) []int32 {
	p := st.P
	bd, bi := newTopK(k)
	for t := 0; t < st.N; t++ {
		pushTopK(bd, bi, sqDist(q, st.X[t*p:(t+1)*p]), int32(t))
	}
	return bi
}

func newTopK(k int) ([]float64, []int32) {
	bd := make([]float64, k)
	bi := make([]int32, k)
	for i := range bd {
		bd[i] = math.Inf(1)
		bi[i] = -1
	}
	return bd, bi
}

// fillTopK fills the empty (-1) places of ix with the first rows of the
// n training rows not already in it.
func fillTopK(ix []int32, n int) {
	t := int32(0)
	for j := range ix {
		if ix[j] != -1 {
			continue
		}
		for slices.Contains(ix, t) {
			t++
		}
		if int(t) >= n {
			return
		}
		ix[j] = t
		t++
	}
}

// pushTopK inserts (dv, t) into the ascending list d, ix if it beats the
// worst entry; equal distances keep the earlier (lower) index first.
func pushTopK(d []float64, ix []int32, dv float64, t int32) {
	k := len(d)
	if !(dv < d[k-1]) {
		return
	}
	pos := k - 1
	for pos > 0 && d[pos-1] > dv {
		d[pos], ix[pos] = d[pos-1], ix[pos-1]
		pos--
	}
	d[pos], ix[pos] = dv, int32(t)
}

// Blocking of the product: a block of knnTrainRows training rows (about
// 230 KB for 50 features) stays in the core's cache while every strip of
// kernMR queries of a block of knnQueryBlock queries passes over it.
const (
	knnTrainRows  = 24 * kernRowUnit
	knnQueryBlock = 64
)

// neighborsBlocked fills idx (k per query, unsorted by exact distance).
func (st *knnState) neighborsBlocked(Q *mat.Dense, k, nw int, idx []int32) error {
	nq, p := Q.Dims()
	n := st.N
	// Training rows packed k-major in panels of kernNR rows, the last
	// panel padded with zero rows at infinite norm (never selected).
	packed, tnorm, err := packPanels(st.X, p, n, p, nw)
	if err != nil {
		return err
	}
	for j := n; j < len(tnorm); j++ {
		tnorm[j] = math.Inf(1)
	}
	npan := len(tnorm) / kernNR
	panSize := p * kernNR

	nblocks := (nq + knnQueryBlock - 1) / knnQueryBlock
	return parallel(nblocks, nw, func(b int) error {
		if err := interrupted(); err != nil {
			return err
		}
		q0, q1 := b*knnQueryBlock, min((b+1)*knnQueryBlock, nq)
		m := q1 - q0
		nstrips := (m + kernMR - 1) / kernMR
		// Queries packed k-major in strips of kernMR, zero padded.
		qa := make([]float64, nstrips*p*kernMR)
		qn := make([]float64, nstrips*kernMR)
		for i := 0; i < m; i++ {
			row := Q.RawRowView(q0 + i)
			s, r := i/kernMR, i%kernMR
			for kk, v := range row {
				qa[s*p*kernMR+kk*kernMR+r] = v
			}
			qn[i] = floats.Dot(row, row)
		}
		bd := make([]float64, m*k) // best squared distances, ascending
		bi := make([]int32, m*k)
		for i := range bd {
			bd[i] = math.Inf(1)
			bi[i] = -1
		}
		blockPanels := knnTrainRows / kernNR
		ldc := knnTrainRows
		G := make([]float64, kernMR*ldc)
		cand := make([]int32, ldc)
		for p0 := 0; p0 < npan; p0 += blockPanels {
			np := min(blockPanels, npan-p0)
			t0 := p0 * kernNR
			tn := tnorm[t0 : t0+np*kernNR]
			for s := 0; s < nstrips; s++ {
				kernStrip(p, qa[s*p*kernMR:(s+1)*p*kernMR], kernMR, packed[p0*panSize:], kernNR, panSize, np, G, ldc, false)
				for r := 0; r < kernMR && s*kernMR+r < m; r++ {
					i := s*kernMR + r
					d := bd[i*k : (i+1)*k]
					ix := bi[i*k : (i+1)*k]
					g := G[r*ldc : r*ldc+len(tn)]
					// Compare ‖x‖² - 2q·x with the worst kept distance
					// less ‖q‖²; most training rows stop at the vector
					// filter, the few left are tested again against the
					// limit as it tightens.
					qi := qn[i]
					limit := d[k-1] - qi
					nc := filterCols(g, tn, limit, cand)
					for _, j := range cand[:nc] {
						if v := tn[j] - 2*g[j]; v < limit {
							pushTopK(d, ix, qi+v, int32(t0)+j)
							limit = d[k-1] - qi
						}
					}
				}
			}
		}
		copy(idx[q0*k:q1*k], bi)
		return nil
	})
}

// sqDist is the squared Euclidean distance, unrolled with four
// accumulators so the additions do not wait on each other.
func sqDist(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 := a[i] - b[i]
		d1 := a[i+1] - b[i+1]
		d2 := a[i+2] - b[i+2]
		d3 := a[i+3] - b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

func sortNeighbors(idx []int32, dist []float64) {
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && (dist[j] < dist[j-1] || (dist[j] == dist[j-1] && idx[j] < idx[j-1])); j-- {
			dist[j], dist[j-1] = dist[j-1], dist[j]
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
}

// neighborWeights fills w with the vote weight of each neighbor: 1, or
// 1/distance (only exact matches count when a distance is 0).
func neighborWeights(w, dist []float64, byDistance bool) {
	if !byDistance {
		for i := range w {
			w[i] = 1
		}
		return
	}
	zero := false
	for _, d := range dist {
		if d == 0 {
			zero = true
		}
	}
	all := 0.0
	for i, d := range dist {
		switch {
		case zero && d == 0:
			w[i] = 1
		case zero:
			w[i] = 0
		default:
			w[i] = 1 / d
		}
		all += w[i]
	}
	if all == 0 {
		// Every neighbor is infinitely far: they count alike.
		for i := range w {
			w[i] = 1
		}
	}
}

func resolveKNN(op string, k int, weights string, n int) (int, bool, error) {
	if k == 0 {
		k = 5
	}
	if k < 0 {
		return 0, false, fmt.Errorf("experiments: %s: K %d must be positive", op, k)
	}
	var byDist bool
	switch weights {
	case "", "uniform":
	case "distance":
		byDist = true
	default:
		return 0, false, fmt.Errorf("experiments: %s: unknown Weights %q (want uniform or distance)", op, weights)
	}
	if n > 0 && k > n {
		return 0, false, fmt.Errorf("experiments: %s: K=%d neighbors but only %d training rows", op, k, n)
	}
	return k, byDist, nil
}

// KNeighborsClassifier predicts the majority class among the K nearest
// training rows (Euclidean distance, brute force over all rows in
// parallel blocks).
type KNeighborsClassifier struct {
	K       int    // 0 means 5
	Weights string // "uniform" (default) or "distance"
	Workers int    // goroutines for the neighbor search; 0 uses every core

	st knnState
}

func (m *KNeighborsClassifier) state() any { return &m.st }

// Fit stores the training set.
func (m *KNeighborsClassifier) Fit(X *mat.Dense, y []float64) error {
	return trackFit(m, X, y, m.fitRaw)
}

func (m *KNeighborsClassifier) fitRaw(X *mat.Dense, y []float64) error {
	st, err := fitKNN("fit k-neighbors classifier", X, y, true, m.K, m.Weights)
	if err == nil {
		m.st = st
	}
	return err
}

// PredictProba returns the (weighted) vote share of each class.
func (m *KNeighborsClassifier) PredictProba(X *mat.Dense) (proba *mat.Dense, err error) {
	defer func() {
		if err == nil {
			notePredictProba(m, X, proba) // for metrics computed on it (autolog)
		}
	}()
	const op = "predict k-neighbors classifier"
	if err := checkPredict(op, X, m.st.P); err != nil {
		return nil, err
	}
	k, byDist, err := resolveKNN(op, m.K, m.Weights, m.st.N)
	if err != nil {
		return nil, err
	}
	idx, dist, err := m.st.neighbors(X, k, m.Workers)
	if err != nil {
		return nil, err
	}
	nq, _ := X.Dims()
	K := len(m.st.Classes)
	out := mat.NewDense(nq, K, nil)
	w := make([]float64, k)
	for i := 0; i < nq; i++ {
		neighborWeights(w, dist[i*k:(i+1)*k], byDist)
		row := out.RawRowView(i)
		var s float64
		for j, t := range idx[i*k : (i+1)*k] {
			row[m.st.YK[t]] += w[j]
			s += w[j]
		}
		floats.Scale(1/s, row)
	}
	return out, nil
}

// Predict returns the class with the most (weighted) votes; ties go to
// the smaller label.
func (m *KNeighborsClassifier) Predict(X *mat.Dense) (pred []float64, err error) {
	defer func() {
		if err == nil {
			notePredict(m, X, pred) // for metrics computed on it (autolog)
		}
	}()
	pr, err := m.PredictProba(X)
	if err != nil {
		return nil, err
	}
	n, _ := pr.Dims()
	out := make([]float64, n)
	for i := range out {
		out[i] = m.st.Classes[floats.MaxIdx(pr.RawRowView(i))]
	}
	return out, nil
}

// Classes returns the class labels, sorted.
func (m *KNeighborsClassifier) Classes() []float64 { return slices.Clone(m.st.Classes) }

// KNeighborsRegressor predicts the (weighted) mean target of the K
// nearest training rows.
type KNeighborsRegressor struct {
	K       int    // 0 means 5
	Weights string // "uniform" (default) or "distance" (weights 1/distance)
	Workers int    // goroutines for the neighbor search; 0 uses every core

	st knnState
}

func (m *KNeighborsRegressor) state() any { return &m.st }

// Fit stores the training set.
func (m *KNeighborsRegressor) Fit(X *mat.Dense, y []float64) error {
	return trackFit(m, X, y, m.fitRaw)
}

func (m *KNeighborsRegressor) fitRaw(X *mat.Dense, y []float64) error {
	st, err := fitKNN("fit k-neighbors regressor", X, y, false, m.K, m.Weights)
	if err == nil {
		m.st = st
	}
	return err
}

// fitKNN is the fit of both k-neighbors models: the training set, once
// K and Weights are known to suit it.
func fitKNN(op string, X *mat.Dense, y []float64, classify bool, k int, weights string) (knnState, error) {
	st, err := newKNNState(op, X, y, classify)
	if err != nil {
		return knnState{}, err
	}
	if _, _, err := resolveKNN(op, k, weights, st.N); err != nil {
		return knnState{}, err
	}
	return st, nil
}

// Predict returns the mean target of the neighbors.
func (m *KNeighborsRegressor) Predict(X *mat.Dense) (pred []float64, err error) {
	defer func() {
		if err == nil {
			notePredict(m, X, pred) // for metrics computed on it (autolog)
		}
	}()
	const op = "predict k-neighbors regressor"
	if err := checkPredict(op, X, m.st.P); err != nil {
		return nil, err
	}
	k, byDist, err := resolveKNN(op, m.K, m.Weights, m.st.N)
	if err != nil {
		return nil, err
	}
	idx, dist, err := m.st.neighbors(X, k, m.Workers)
	if err != nil {
		return nil, err
	}
	nq, _ := X.Dims()
	out := make([]float64, nq)
	w := make([]float64, k)
	for i := range out {
		neighborWeights(w, dist[i*k:(i+1)*k], byDist)
		var s, ws float64
		for j, t := range idx[i*k : (i+1)*k] {
			s += w[j] * m.st.Y[t]
			ws += w[j]
		}
		out[i] = s / ws
	}
	return out, nil
}

// GaussianNB is Gaussian naive Bayes: per class, independent normal
// features. VarSmoothing (0 means 1e-9) adds that fraction of the largest
// feature variance to every variance, as scikit-learn does.
type GaussianNB struct {
	VarSmoothing float64 // fraction of the largest feature variance; 0 means 1e-9

	st nbState
}

type nbState struct {
	Classes  []float64
	P        int
	Theta    []float64 // K×P means
	Var      []float64 // K×P variances
	LogPrior []float64
}

func (m *GaussianNB) state() any { return &m.st }

// Fit estimates per-class means and variances.
func (m *GaussianNB) Fit(X *mat.Dense, y []float64) error { return trackFit(m, X, y, m.fitRaw) }

func (m *GaussianNB) fitRaw(X *mat.Dense, y []float64) error {
	const op = "fit gaussian naive bayes"
	if err := checkFit(op, X, y); err != nil {
		return err
	}
	if err := checkLabels(op, "target", y); err != nil {
		return err
	}
	vs := m.VarSmoothing
	if vs == 0 {
		vs = 1e-9
	}
	if vs < 0 {
		return fmt.Errorf("experiments: %s: VarSmoothing %v must not be negative", op, m.VarSmoothing)
	}
	n, p := X.Dims()
	classes, yi := labelCodes(y)
	K := len(classes)
	theta := make([]float64, K*p)
	vr := make([]float64, K*p)
	cnt := make([]float64, K)
	for i := 0; i < n; i++ {
		floats.Add(theta[yi[i]*p:(yi[i]+1)*p], X.RawRowView(i))
		cnt[yi[i]]++
	}
	for k := 0; k < K; k++ {
		floats.Scale(1/cnt[k], theta[k*p:(k+1)*p])
	}
	for i := 0; i < n; i++ {
		t := theta[yi[i]*p : (yi[i]+1)*p]
		v := vr[yi[i]*p : (yi[i]+1)*p]
		for j, x := range X.RawRowView(i) {
			d := x - t[j]
			v[j] += d * d
		}
	}
	for k := 0; k < K; k++ {
		floats.Scale(1/cnt[k], vr[k*p:(k+1)*p])
	}
	// Largest variance of any feature over all rows.
	add := vs * floats.Max(columnVariances(X))
	if add == 0 {
		add = vs
	}
	for i := range vr {
		vr[i] += add
	}
	prior := make([]float64, K)
	for k := range prior {
		prior[k] = math.Log(cnt[k] / float64(n))
	}
	m.st = nbState{Classes: classes, P: p, Theta: theta, Var: vr, LogPrior: prior}
	return nil
}

func (m *GaussianNB) jointLogLikelihood(X *mat.Dense) (*mat.Dense, error) {
	if err := checkPredict("predict gaussian naive bayes", X, m.st.P); err != nil {
		return nil, err
	}
	n, p := X.Dims()
	K := len(m.st.Classes)
	out := mat.NewDense(n, K, nil)
	cst := make([]float64, K)
	inv := make([]float64, K*p)
	for k := 0; k < K; k++ {
		var s float64
		for j := 0; j < p; j++ {
			v := m.st.Var[k*p+j]
			s += math.Log(2 * math.Pi * v)
			inv[k*p+j] = 1 / v
		}
		cst[k] = m.st.LogPrior[k] - 0.5*s
	}
	for i := 0; i < n; i++ {
		row := X.RawRowView(i)
		o := out.RawRowView(i)
		for k := 0; k < K; k++ {
			t := m.st.Theta[k*p : (k+1)*p]
			iv := inv[k*p : (k+1)*p]
			var s float64
			for j, x := range row {
				d := x - t[j]
				s += d * d * iv[j]
			}
			o[k] = cst[k] - 0.5*s
		}
	}
	return out, nil
}

// PredictProba returns the posterior probability of each class.
func (m *GaussianNB) PredictProba(X *mat.Dense) (proba *mat.Dense, err error) {
	defer func() {
		if err == nil {
			notePredictProba(m, X, proba) // for metrics computed on it (autolog)
		}
	}()
	jll, err := m.jointLogLikelihood(X)
	if err != nil {
		return nil, err
	}
	n, _ := jll.Dims()
	for i := 0; i < n; i++ {
		softmaxInPlace(jll.RawRowView(i))
	}
	return jll, nil
}

// Predict returns the most probable class.
func (m *GaussianNB) Predict(X *mat.Dense) (pred []float64, err error) {
	defer func() {
		if err == nil {
			notePredict(m, X, pred) // for metrics computed on it (autolog)
		}
	}()
	jll, err := m.jointLogLikelihood(X)
	if err != nil {
		return nil, err
	}
	return argmaxClasses(jll, m.st.Classes), nil
}

// Classes returns the class labels, sorted.
func (m *GaussianNB) Classes() []float64 { return slices.Clone(m.st.Classes) }
