package experiments

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// binnedData is a feature matrix turned into per-column integer codes so
// that split search needs no sorting of floats. In exact mode (MaxBins 0,
// or fewer distinct values than MaxBins) each distinct value is its own
// bin and the trees are the same as CART on raw values; otherwise values
// fall into MaxBins quantile bins. A forest shares one binnedData among
// its trees.
type binnedData struct {
	n, p   int
	codes  [][]uint32  // per feature, per row
	binMin [][]float64 // per feature, per bin: smallest value in the bin
	binMax [][]float64 // largest value in the bin
}

func binData(X *mat.Dense, maxBins, nw int) (*binnedData, error) {
	n, p := X.Dims()
	b := &binnedData{n: n, p: p, codes: make([][]uint32, p), binMin: make([][]float64, p), binMax: make([][]float64, p)}
	err := parallel(p, nw, func(f int) error {
		col := mat.Col(nil, f, X)
		sorted := slices.Clone(col)
		slices.Sort(sorted)
		uniq := slices.Compact(sorted)
		codes := make([]uint32, n)
		if maxBins <= 0 || len(uniq) <= maxBins {
			for i, v := range col {
				k, _ := slices.BinarySearch(uniq, v)
				codes[i] = uint32(k)
			}
			b.codes[f], b.binMin[f], b.binMax[f] = codes, uniq, uniq
			return nil
		}
		// Quantile edges over all values (with repeats), deduplicated:
		// bin c holds values in (edges[c-1], edges[c]].
		all := slices.Clone(col)
		slices.Sort(all)
		var edges []float64
		for q := 1; q < maxBins; q++ {
			e := all[q*n/maxBins]
			if len(edges) == 0 || e > edges[len(edges)-1] {
				edges = append(edges, e)
			}
		}
		if len(edges) > 0 && edges[len(edges)-1] == all[n-1] {
			edges = edges[:len(edges)-1]
		}
		nb := len(edges) + 1
		bmin, bmax := make([]float64, nb), make([]float64, nb)
		for c := range bmin {
			bmin[c], bmax[c] = math.Inf(1), math.Inf(-1)
		}
		for i, v := range col {
			c := sort.SearchFloat64s(edges, v)
			codes[i] = uint32(c)
			bmin[c], bmax[c] = min(bmin[c], v), max(bmax[c], v)
		}
		b.codes[f], b.binMin[f], b.binMax[f] = codes, bmin, bmax
		return nil
	})
	return b, err
}

// treeState is a fitted tree as flat node arrays (Feature -1 marks a
// leaf). Value holds NOut numbers per node: class proportions or the mean
// target.
type treeState struct {
	Feature     []int32
	Threshold   []float64
	Left, Right []int32
	Value       []float64
	NOut        int
	Importance  []float64 // unnormalized impurity decrease per feature
}

func (t *treeState) leaf(row []float64) []float64 {
	n := int32(0)
	for t.Feature[n] >= 0 {
		if row[t.Feature[n]] <= t.Threshold[n] {
			n = t.Left[n]
		} else {
			n = t.Right[n]
		}
	}
	return t.Value[int(n)*t.NOut : int(n+1)*t.NOut]
}

// treeConfig holds the resolved parameters of one tree.
type treeConfig struct {
	classes     int // 0 for regression
	entropy     bool
	maxDepth    int
	minSplit    int
	minLeaf     int
	maxFeatures int
}

// treeTarget is what a tree learns: class indexes or real values, with
// per-row weights (bootstrap counts; nil means 1).
type treeTarget struct {
	yk []int32
	yv []float64
	w  []float64
}

func (t *treeTarget) weight(r int32) float64 {
	if t.w == nil {
		return 1
	}
	return t.w[r]
}

// treeScratch is per-goroutine working memory.
type treeScratch struct {
	hist  []float64
	cnt   []int32
	keys  []uint64
	l, r  []float64
	feats []int
}

type nodeItem struct {
	lo, hi, depth int
	parent        int32
	isLeft        bool
	stats         nodeStats
}

type nodeStats struct {
	W, impurity float64
	value       []float64
}

type split struct {
	feature   int
	code      uint32
	threshold float64
	proxy     float64
	found     bool
}

type treeBuilder struct {
	cfg  treeConfig
	data *binnedData
	tgt  *treeTarget
	rng  *rand.Rand
	s    *treeScratch
	t    treeState
}

const leafEps = 2.220446049250313e-16

func buildTree(cfg treeConfig, data *binnedData, tgt *treeTarget, rows []int32, rng *rand.Rand, s *treeScratch) treeState {
	b := &treeBuilder{cfg: cfg, data: data, tgt: tgt, rng: rng, s: s}
	nout := 1
	if cfg.classes > 0 {
		nout = cfg.classes
	}
	b.t.NOut = nout
	b.t.Importance = make([]float64, data.p)
	if len(s.l) < nout {
		s.l, s.r = make([]float64, nout), make([]float64, nout)
	}
	// Reset the feature order: a recycled scratch must not carry another
	// tree's permutation, or results would depend on scheduling.
	s.feats = s.feats[:0]
	for f := 0; f < data.p; f++ {
		s.feats = append(s.feats, f)
	}
	stack := []nodeItem{{lo: 0, hi: len(rows), parent: -1, stats: b.stats(rows)}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		id := int32(len(b.t.Feature))
		b.t.Feature = append(b.t.Feature, -1)
		b.t.Threshold = append(b.t.Threshold, 0)
		b.t.Left = append(b.t.Left, -1)
		b.t.Right = append(b.t.Right, -1)
		b.t.Value = append(b.t.Value, it.stats.value...)
		if it.parent >= 0 {
			if it.isLeft {
				b.t.Left[it.parent] = id
			} else {
				b.t.Right[it.parent] = id
			}
		}
		node := rows[it.lo:it.hi]
		m := len(node)
		if (cfg.maxDepth > 0 && it.depth >= cfg.maxDepth) || m < cfg.minSplit || m < 2*cfg.minLeaf || it.stats.impurity <= leafEps {
			continue
		}
		sp := b.bestSplit(node, it.stats)
		if !sp.found {
			continue
		}
		// Partition rows: code <= sp.code goes left.
		codes := b.data.codes[sp.feature]
		i, j := 0, m-1
		for i <= j {
			if codes[node[i]] <= sp.code {
				i++
			} else {
				node[i], node[j] = node[j], node[i]
				j--
			}
		}
		ls, rs := b.stats(node[:i]), b.stats(node[i:])
		b.t.Feature[id] = int32(sp.feature)
		b.t.Threshold[id] = sp.threshold
		b.t.Importance[sp.feature] += it.stats.W*it.stats.impurity - ls.W*ls.impurity - rs.W*rs.impurity
		// Push right first so the left subtree is built (and numbered)
		// first.
		stack = append(stack,
			nodeItem{lo: it.lo + i, hi: it.hi, depth: it.depth + 1, parent: id, stats: rs},
			nodeItem{lo: it.lo, hi: it.lo + i, depth: it.depth + 1, parent: id, isLeft: true, stats: ls})
	}
	return b.t
}

func xlogx(x float64) float64 {
	if x <= 0 {
		return 0
	}
	return x * math.Log(x)
}

// stats computes a node's weight, impurity and value.
func (b *treeBuilder) stats(rows []int32) nodeStats {
	tg := b.tgt
	if K := b.cfg.classes; K > 0 {
		v := make([]float64, K)
		for _, r := range rows {
			v[tg.yk[r]] += tg.weight(r)
		}
		var W float64
		for _, c := range v {
			W += c
		}
		imp := 0.0
		if W > 0 {
			if b.cfg.entropy {
				for _, c := range v {
					if c > 0 {
						p := c / W
						imp -= p * math.Log2(p)
					}
				}
			} else {
				var sq float64
				for _, c := range v {
					sq += c * c
				}
				imp = 1 - sq/(W*W)
			}
			for k := range v {
				v[k] /= W
			}
		}
		return nodeStats{W: W, impurity: imp, value: v}
	}
	var W, S, SS float64
	for _, r := range rows {
		w, y := tg.weight(r), tg.yv[r]
		W += w
		S += w * y
		SS += w * y * y
	}
	mean, imp := 0.0, 0.0
	if W > 0 {
		mean = S / W
		imp = max(SS/W-mean*mean, 0)
	}
	return nodeStats{W: W, impurity: imp, value: []float64{mean}}
}

// bestSplit examines features in random order until maxFeatures
// non-constant ones were tried, as scikit-learn does.
func (b *treeBuilder) bestSplit(node []int32, st nodeStats) split {
	feats := b.s.feats
	p := len(feats)
	best := split{proxy: math.Inf(-1)}
	tried := 0
	for i := 0; i < p && tried < b.cfg.maxFeatures; i++ {
		j := i + b.rng.IntN(p-i)
		feats[i], feats[j] = feats[j], feats[i]
		f := feats[i]
		var sp split
		var constant bool
		if b.cfg.classes > 0 {
			sp, constant = b.splitClass(f, node, st)
		} else {
			sp, constant = b.splitReg(f, node, st)
		}
		if constant {
			continue
		}
		tried++
		if sp.found && sp.proxy > best.proxy {
			best = sp
		}
	}
	return best
}

// useHist reports whether a feature with nb bins is scanned by histogram
// (cost m + nb) rather than by sorting the node's codes (cost m log m).
func useHist(nb, m int) bool {
	return nb <= m*bits.Len(uint(m))/2
}

func (b *treeBuilder) threshold(f int, lo, hi uint32) float64 {
	a, c := b.data.binMax[f][lo], b.data.binMin[f][hi]
	t := a/2 + c/2
	if t >= c || math.IsInf(t, 0) || math.IsNaN(t) {
		t = a
	}
	return t
}

// clsAcc accumulates class weights left and right of a candidate split,
// updating the Gini sums of squares or entropy terms incrementally.
type clsAcc struct {
	l, r       []float64
	lW, rW     float64
	lq, rq     float64 // Σ l_k², Σ r_k² (gini) or Σ l_k ln l_k (entropy)
	lcnt, rcnt int
	entropy    bool
}

func (a *clsAcc) move(k int32, w float64) {
	lk, rk := a.l[k], a.r[k]
	if a.entropy {
		a.lq += xlogx(lk+w) - xlogx(lk)
		a.rq += xlogx(rk-w) - xlogx(rk)
	} else {
		a.lq += 2*lk*w + w*w
		a.rq += -2*rk*w + w*w
	}
	a.l[k], a.r[k] = lk+w, rk-w
	a.lW += w
	a.rW -= w
}

func (a *clsAcc) proxy() float64 {
	if a.entropy {
		return a.lq - xlogx(a.lW) + a.rq - xlogx(a.rW)
	}
	return a.lq/a.lW + a.rq/a.rW
}

func (b *treeBuilder) newClsAcc(st nodeStats) *clsAcc {
	K := b.cfg.classes
	a := &clsAcc{l: b.s.l[:K], r: b.s.r[:K], entropy: b.cfg.entropy, rW: st.W}
	clear(a.l)
	for k := 0; k < K; k++ {
		a.r[k] = st.value[k] * st.W
		if a.entropy {
			a.rq += xlogx(a.r[k])
		} else {
			a.rq += a.r[k] * a.r[k]
		}
	}
	return a
}

func (b *treeBuilder) splitClass(f int, node []int32, st nodeStats) (split, bool) {
	codes := b.data.codes[f]
	nb := len(b.data.binMin[f])
	K := b.cfg.classes
	m := len(node)
	minLeaf := b.cfg.minLeaf
	a := b.newClsAcc(st)
	a.rcnt = m
	best := split{feature: f, proxy: math.Inf(-1)}
	tg := b.tgt
	if useHist(nb, m) {
		need := nb * K
		if len(b.s.hist) < need {
			b.s.hist = make([]float64, need)
		}
		if len(b.s.cnt) < nb {
			b.s.cnt = make([]int32, nb)
		}
		h, cnt := b.s.hist[:need], b.s.cnt[:nb]
		clear(h)
		clear(cnt)
		for _, r := range node {
			c := codes[r]
			h[int(c)*K+int(tg.yk[r])] += tg.weight(r)
			cnt[c]++
		}
		prev, nonEmpty := -1, 0
		for c := 0; c < nb; c++ {
			if cnt[c] == 0 {
				continue
			}
			nonEmpty++
			if prev >= 0 && a.lcnt >= minLeaf && a.rcnt >= minLeaf {
				if p := a.proxy(); p > best.proxy {
					best.proxy, best.code, best.found = p, uint32(prev), true
					best.threshold = b.threshold(f, uint32(prev), uint32(c))
				}
			}
			for k := 0; k < K; k++ {
				if w := h[c*K+k]; w != 0 {
					a.move(int32(k), w)
				}
			}
			a.lcnt += int(cnt[c])
			a.rcnt -= int(cnt[c])
			prev = c
		}
		return best, nonEmpty == 1
	}
	keys := b.s.keys[:0]
	for _, r := range node {
		keys = append(keys, uint64(codes[r])<<32|uint64(r))
	}
	slices.Sort(keys)
	b.s.keys = keys
	if keys[0]>>32 == keys[len(keys)-1]>>32 {
		return best, true
	}
	for i, key := range keys {
		c := uint32(key >> 32)
		if i > 0 {
			pc := uint32(keys[i-1] >> 32)
			if c != pc && a.lcnt >= minLeaf && a.rcnt >= minLeaf {
				if p := a.proxy(); p > best.proxy {
					best.proxy, best.code, best.found = p, pc, true
					best.threshold = b.threshold(f, pc, c)
				}
			}
		}
		r := int32(uint32(key))
		a.move(tg.yk[r], tg.weight(r))
		a.lcnt++
		a.rcnt--
	}
	return best, false
}

func (b *treeBuilder) splitReg(f int, node []int32, st nodeStats) (split, bool) {
	codes := b.data.codes[f]
	nb := len(b.data.binMin[f])
	m := len(node)
	minLeaf := b.cfg.minLeaf
	totW := st.W
	totS := st.value[0] * st.W
	var lW, lS float64
	lcnt := 0
	best := split{feature: f, proxy: math.Inf(-1)}
	tg := b.tgt
	eval := func(prev, c uint32) {
		rW := totW - lW
		if lcnt < minLeaf || m-lcnt < minLeaf || lW <= 0 || rW <= 0 {
			return
		}
		rS := totS - lS
		if p := lS*lS/lW + rS*rS/rW; p > best.proxy {
			best.proxy, best.code, best.found = p, prev, true
			best.threshold = b.threshold(f, prev, c)
		}
	}
	if useHist(nb, m) {
		need := nb * 2
		if len(b.s.hist) < need {
			b.s.hist = make([]float64, need)
		}
		if len(b.s.cnt) < nb {
			b.s.cnt = make([]int32, nb)
		}
		h, cnt := b.s.hist[:need], b.s.cnt[:nb]
		clear(h)
		clear(cnt)
		for _, r := range node {
			c := int(codes[r])
			w := tg.weight(r)
			h[2*c] += w
			h[2*c+1] += w * tg.yv[r]
			cnt[c]++
		}
		prev, nonEmpty := -1, 0
		for c := 0; c < nb; c++ {
			if cnt[c] == 0 {
				continue
			}
			nonEmpty++
			if prev >= 0 {
				eval(uint32(prev), uint32(c))
			}
			lW += h[2*c]
			lS += h[2*c+1]
			lcnt += int(cnt[c])
			prev = c
		}
		return best, nonEmpty == 1
	}
	keys := b.s.keys[:0]
	for _, r := range node {
		keys = append(keys, uint64(codes[r])<<32|uint64(r))
	}
	slices.Sort(keys)
	b.s.keys = keys
	if keys[0]>>32 == keys[len(keys)-1]>>32 {
		return best, true
	}
	for i, key := range keys {
		c := uint32(key >> 32)
		if i > 0 {
			if pc := uint32(keys[i-1] >> 32); c != pc {
				eval(pc, c)
			}
		}
		r := int32(uint32(key))
		w := tg.weight(r)
		lW += w
		lS += w * tg.yv[r]
		lcnt++
	}
	return best, false
}

// treeParams are the parameters shared by trees and forests.
type treeParams struct {
	criterion                 string
	maxDepth, minSplit, minLf int
	maxFeatures, maxBins      int
}

func resolveTree(op string, tp treeParams, classes, p int, defaultFeatures int) (treeConfig, error) {
	cfg := treeConfig{classes: classes, maxDepth: tp.maxDepth, minSplit: tp.minSplit, minLeaf: tp.minLf, maxFeatures: tp.maxFeatures}
	switch tp.criterion {
	case "", "gini", "squared_error", "mse":
	case "entropy", "log_loss":
		cfg.entropy = true
	default:
		return cfg, fmt.Errorf("experiments: %s: unknown Criterion %q (want gini or entropy)", op, tp.criterion)
	}
	if cfg.entropy && classes == 0 {
		return cfg, fmt.Errorf("experiments: %s: Criterion %q is for classification", op, tp.criterion)
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

// fitTrees grows n trees on X, y. Tree t draws its randomness from
// Seed+t, so the result does not depend on the number of workers.
func fitTrees(op string, X *mat.Dense, y []float64, classify bool, tp treeParams, n int, bootstrap bool, seed int64, nw int, defaultFeatures func(p int) int) (treeModel, error) {
	if err := checkFit(op, X, y); err != nil {
		return treeModel{}, err
	}
	rows, p := X.Dims()
	if rows >= 1<<31 {
		return treeModel{}, fmt.Errorf("experiments: %s: too many rows (%d)", op, rows)
	}
	var tm treeModel
	tgt := &treeTarget{}
	K := 0
	if classify {
		classes, idx := encodeClasses(y)
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
	err = parallel(n, nw, func(t int) error {
		rng := newRand(seed + int64(t))
		s := scratchPool.Get().(*treeScratch)
		defer scratchPool.Put(s)
		tt := *tgt
		var idx []int32
		if bootstrap {
			counts := make([]float64, rows)
			for range rows {
				counts[rng.IntN(rows)]++
			}
			tt.w = counts
			idx = make([]int32, 0, rows)
			for i, c := range counts {
				if c > 0 {
					idx = append(idx, int32(i))
				}
			}
		} else {
			idx = make([]int32, rows)
			for i := range idx {
				idx[i] = int32(i)
			}
		}
		tm.Trees[t] = buildTree(cfg, data, &tt, idx, rng, s)
		return nil
	})
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
	Seed            int64  // breaks ties between equally good splits

	st treeModel
}

func (m *DecisionTreeClassifier) state() any { return &m.st }

func (m *DecisionTreeClassifier) params() treeParams {
	return treeParams{m.Criterion, m.MaxDepth, m.MinSamplesSplit, m.MinSamplesLeaf, m.MaxFeatures, m.MaxBins}
}

// Fit grows the tree.
func (m *DecisionTreeClassifier) Fit(X *mat.Dense, y []float64) error {
	tm, err := fitTrees("fit decision tree classifier", X, y, true, m.params(), 1, false, m.Seed, 1, allFeatures)
	if err != nil {
		return err
	}
	m.st = tm
	return nil
}

// Predict returns the majority class of each row's leaf.
func (m *DecisionTreeClassifier) Predict(X *mat.Dense) ([]float64, error) {
	return m.st.predict("predict decision tree classifier", X, 1)
}

// PredictProba returns the class proportions of each row's leaf.
func (m *DecisionTreeClassifier) PredictProba(X *mat.Dense) (*mat.Dense, error) {
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
	MaxDepth        int
	MinSamplesSplit int
	MinSamplesLeaf  int
	MaxFeatures     int
	MaxBins         int
	Seed            int64

	st treeModel
}

func (m *DecisionTreeRegressor) state() any { return &m.st }

// Fit grows the tree.
func (m *DecisionTreeRegressor) Fit(X *mat.Dense, y []float64) error {
	tp := treeParams{"", m.MaxDepth, m.MinSamplesSplit, m.MinSamplesLeaf, m.MaxFeatures, m.MaxBins}
	tm, err := fitTrees("fit decision tree regressor", X, y, false, tp, 1, false, m.Seed, 1, allFeatures)
	if err != nil {
		return err
	}
	m.st = tm
	return nil
}

// Predict returns the mean target of each row's leaf.
func (m *DecisionTreeRegressor) Predict(X *mat.Dense) ([]float64, error) {
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
	MaxDepth        int
	MinSamplesSplit int
	MinSamplesLeaf  int
	MaxFeatures     int // 0 means √p
	MaxBins         int // 0: exact splits
	NoBootstrap     bool
	Seed            int64
	Workers         int // 0 uses every core

	st treeModel
}

func (m *RandomForestClassifier) state() any { return &m.st }

// Fit grows the forest.
func (m *RandomForestClassifier) Fit(X *mat.Dense, y []float64) error {
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
func (m *RandomForestClassifier) Predict(X *mat.Dense) ([]float64, error) {
	return m.st.predict("predict random forest classifier", X, m.Workers)
}

// PredictProba returns the mean class proportions over the trees.
func (m *RandomForestClassifier) PredictProba(X *mat.Dense) (*mat.Dense, error) {
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
	NTrees          int
	MaxDepth        int
	MinSamplesSplit int
	MinSamplesLeaf  int
	MaxFeatures     int
	MaxBins         int
	NoBootstrap     bool
	Seed            int64
	Workers         int

	st treeModel
}

func (m *RandomForestRegressor) state() any { return &m.st }

// Fit grows the forest.
func (m *RandomForestRegressor) Fit(X *mat.Dense, y []float64) error {
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
func (m *RandomForestRegressor) Predict(X *mat.Dense) ([]float64, error) {
	return m.st.predict("predict random forest regressor", X, m.Workers)
}

// FeatureImportances returns the mean normalized impurity decrease per
// feature.
func (m *RandomForestRegressor) FeatureImportances() []float64 { return m.st.importances() }
