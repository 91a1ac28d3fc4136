package experiments

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/gopherlab/gopherlab/internal/interrupt"
)

// binnedData is a feature matrix turned into per-column integer codes and
// each column's row order, computed once and shared by the trees of a
// forest. In exact mode (MaxBins 0, or fewer distinct values than
// MaxBins) each distinct value is its own code and the trees are CART on
// raw values, as scikit-learn grows them; otherwise values fall into
// MaxBins quantile bins.
type binnedData struct {
	n, p   int
	codes  [][]uint32  // per feature, per row
	order  [][]int32   // per feature, rows sorted by value
	binMin [][]float64 // per feature, per code: smallest value
	binMax [][]float64 // largest value
	// meanBins is the mean number of codes per feature.
	meanBins float64
}

// sortedOrder returns the rows of col sorted by value (ties by row), by
// LSD radix sort on order-preserving integer keys: digits of 16 bits for
// long columns, of 8 bits for short ones (whose count table is cheap to
// clear). A pass where every key has the same digit is skipped, so
// columns of small integers (pixel values, counts, codes) take two or
// three passes. Stable, like the comparison sort it replaces.
func sortedOrder(col []float64) []int32 {
	n := len(col)
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	keys := make([]uint64, n)
	for i, v := range col {
		b := math.Float64bits(v + 0) // +0 folds -0 into 0
		if b>>63 == 1 {
			b = ^b
		} else {
			b |= 1 << 63
		}
		keys[i] = b
	}
	// 16-bit digits take half the passes; 8-bit ones a count table that
	// is cheap to clear, which is what short columns need.
	bits := uint(16)
	if n < 2048 {
		bits = 8
	}
	return radixSort(keys, idx, make([]int32, n), bits)
}

// radixSort sorts idx stably by keys[idx[i]], bits at a time from the
// lowest, using tmp (as long as idx) as the other buffer, and skips a
// pass where every key has the same digit.
func radixSort(keys []uint64, idx, tmp []int32, bits uint) []int32 {
	n := len(idx)
	if n == 0 {
		return idx
	}
	mask := uint64(1)<<bits - 1
	count := make([]int, 1<<bits)
	for shift := uint(0); shift < 64; shift += bits {
		clear(count)
		for _, i := range idx {
			count[(keys[i]>>shift)&mask]++
		}
		if count[(keys[idx[0]]>>shift)&mask] == n {
			continue
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for _, i := range idx {
			d := (keys[i] >> shift) & mask
			tmp[count[d]] = i
			count[d]++
		}
		idx, tmp = tmp, idx
	}
	return idx
}

func binData(X *mat.Dense, maxBins, nw int) (*binnedData, error) {
	n, p := X.Dims()
	b := &binnedData{n: n, p: p, codes: make([][]uint32, p), order: make([][]int32, p),
		binMin: make([][]float64, p), binMax: make([][]float64, p)}
	err := parallel(p, nw, func(f int) error {
		col := mat.Col(nil, f, X)
		order := sortedOrder(col)
		codes := make([]uint32, n)
		// Distinct values in order (counted first: appending to a slice
		// grown by doubling copies and reallocates it many times).
		nu := 0
		for k, i := range order {
			if k == 0 || col[i] != col[order[k-1]] {
				nu++
			}
		}
		uniq := make([]float64, 0, nu)
		for _, i := range order {
			if v := col[i]; len(uniq) == 0 || v != uniq[len(uniq)-1] {
				uniq = append(uniq, v)
			}
		}
		b.order[f] = order
		if maxBins <= 0 || len(uniq) <= maxBins {
			k := -1
			var last float64
			for _, i := range order {
				if k < 0 || col[i] != last {
					k++
					last = col[i]
				}
				codes[i] = uint32(k)
			}
			b.codes[f], b.binMin[f], b.binMax[f] = codes, uniq, uniq
			return nil
		}
		// Quantile bins: bin c holds values in (edges[c-1], edges[c]].
		var edges []float64
		for q := 1; q < maxBins; q++ {
			e := col[order[q*n/maxBins]]
			if len(edges) == 0 || e > edges[len(edges)-1] {
				edges = append(edges, e)
			}
		}
		if len(edges) > 0 && edges[len(edges)-1] == uniq[len(uniq)-1] {
			edges = edges[:len(edges)-1]
		}
		nb := len(edges) + 1
		bmin, bmax := make([]float64, nb), make([]float64, nb)
		c := 0
		for k, i := range order {
			v := col[i]
			for c < len(edges) && v > edges[c] {
				c++
			}
			codes[i] = uint32(c)
			if k == 0 || codes[order[k-1]] != uint32(c) {
				bmin[c] = v // first value of the bin in sorted order
			}
			bmax[c] = v
		}
		b.codes[f], b.binMin[f], b.binMax[f] = codes, bmin, bmax
		return nil
	})
	for _, bm := range b.binMin {
		b.meanBins += float64(len(bm)) / float64(max(p, 1))
	}
	return b, err
}

// treeState is a fitted tree as flat node arrays, nodes numbered depth
// first (children after their parent). Feature -1 marks a leaf, whose
// Left is its row in Value and Right -1. Value holds NOut numbers per
// leaf: class proportions or the mean target. Internal nodes keep no
// value (pipeline format versions 1 and 2 kept one per node, which
// upgrade drops): prediction never reads them, and for a classifier
// they were about half of a forest's memory.
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
	k := int(t.Left[n])
	return t.Value[k*t.NOut : (k+1)*t.NOut]
}

// upgrade checks a decoded tree for nfeat features and turns the layout
// of pipeline format versions 1 and 2 (a value per node, leaves' Left
// -1) into the current one. A tree that does not hold together is an
// error, not a panic or an endless walk at prediction: every child comes
// after its parent and within the arrays, every leaf's row within Value.
func (t *treeState) upgrade(nfeat int) error {
	n := len(t.Feature)
	if n == 0 || len(t.Threshold) != n || len(t.Left) != n || len(t.Right) != n || t.NOut < 1 {
		return fmt.Errorf("tree of %d nodes has %d thresholds, %d left and %d right children, %d outputs", n, len(t.Threshold), len(t.Left), len(t.Right), t.NOut)
	}
	leaves, old := 0, false
	for i, f := range t.Feature {
		if f < 0 {
			leaves++
			old = old || t.Left[i] < 0
		}
	}
	if old {
		if len(t.Value) != n*t.NOut {
			return fmt.Errorf("tree of %d nodes (format version 2) has %d values, want %d", n, len(t.Value), n*t.NOut)
		}
		v := make([]float64, 0, leaves*t.NOut)
		for i, f := range t.Feature {
			if f < 0 {
				t.Left[i], t.Right[i] = int32(len(v)/t.NOut), -1
				v = append(v, t.Value[i*t.NOut:(i+1)*t.NOut]...)
			}
		}
		t.Value = v
	}
	if len(t.Value) != leaves*t.NOut {
		return fmt.Errorf("tree of %d leaves has %d values, want %d", leaves, len(t.Value), leaves*t.NOut)
	}
	for i, f := range t.Feature {
		switch l, r := int(t.Left[i]), int(t.Right[i]); {
		case f < 0 && (l >= leaves || r != -1):
			return fmt.Errorf("tree leaf %d has value row %d of %d", i, l, leaves)
		case f >= 0 && (int(f) >= nfeat || l <= i || r <= i || l >= n || r >= n):
			return fmt.Errorf("tree node %d splits feature %d (of %d) into nodes %d and %d (of %d)", i, f, nfeat, l, r, n)
		}
	}
	return nil
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

// treeScratch is per-goroutine working memory, recycled across trees.
type treeScratch struct {
	// sorted holds, per feature, the tree's rows in value order, each
	// packed with its code (code<<32 | row) so scans read sequentially.
	sorted [][]uint64
	tmp    []uint64
	keys   []uint64  // small-node mode: one feature's keys being sorted
	keys2  []uint64  // small-node mode: radix sort buffer
	hist   []float64 // small-node mode: per-code class weights or sums
	cnt    []int32   // small-node mode: rows per code
	goLeft []uint8   // 1 for rows going left, by row
	l, r   []float64
	// counts and in are a forest tree's bootstrap sample: each row's
	// weight, and whether it is drawn.
	counts []float64
	in     []bool
	feats  []int
	// The tree is grown in these and copied out at the end, so a forest
	// allocates each tree's arrays once, at their final size: growing
	// them node by node cost a tenth of a forest's fit, and more with
	// several workers allocating at once.
	tree  treeState
	stack []nodeItem
	// vals holds the value vectors of the nodes on the stack, in stack
	// order.
	vals []float64
}

type nodeItem struct {
	lo, hi, depth int
	// small marks nodes grown by sorting their rows per feature tried,
	// with only list 0 kept: in small nodes that beats partitioning
	// every feature's list (see smallNode).
	small  bool
	parent int32
	isLeft bool
	stats  nodeStats
}

type nodeStats struct {
	W, impurity float64
	value       []float64
}

type split struct {
	feature int
	code    uint32 // rows with code <= code go left
	hiCode  uint32 // the next code present in the node (threshold between)
	pos     int    // rows of the node going left
	proxy   float64
	found   bool
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

// buildTree grows one tree depth first. Every node is a range [lo,hi) of
// the per-feature sorted row lists: split search scans a feature's range
// in value order (no sorting), and a split stably partitions every list,
// so children stay sorted. in marks the rows the tree learns from
// (bootstrap rows with weight > 0; nil means all).
func buildTree(cfg treeConfig, data *binnedData, tgt *treeTarget, in []bool, rng *rand.Rand, s *treeScratch) treeState {
	b := &treeBuilder{cfg: cfg, data: data, tgt: tgt, rng: rng, s: s}
	nout := 1
	if cfg.classes > 0 {
		nout = cfg.classes
	}
	b.t = treeState{
		Feature:   s.tree.Feature[:0],
		Threshold: s.tree.Threshold[:0],
		Left:      s.tree.Left[:0],
		Right:     s.tree.Right[:0],
		Value:     s.tree.Value[:0],
		NOut:      nout,
	}
	s.vals = s.vals[:0]
	if len(s.l) < nout {
		s.l, s.r = make([]float64, nout), make([]float64, nout)
	}
	// Reset the feature order: a recycled scratch must not carry another
	// tree's permutation, or results would depend on scheduling.
	s.feats = s.feats[:0]
	for f := 0; f < data.p; f++ {
		s.feats = append(s.feats, f)
	}
	if len(s.sorted) < data.p {
		s.sorted = make([][]uint64, data.p)
	}
	m := data.n
	if in != nil {
		m = 0
		for _, ok := range in {
			if ok {
				m++
			}
		}
	}
	rootSmall := b.smallNode(m)
	for f := 0; f < data.p; f++ {
		if cap(s.sorted[f]) < m {
			s.sorted[f] = make([]uint64, 0, m)
		}
		if rootSmall {
			// Nodes worked on alone need only the rows, in list 0.
			dst := s.sorted[0][:0]
			for r := 0; r < data.n; r++ {
				if in == nil || in[r] {
					dst = append(dst, uint64(r))
				}
			}
			s.sorted[0] = dst
			break
		}
		dst := s.sorted[f][:0]
		codes := data.codes[f]
		for _, r := range data.order[f] {
			if in == nil || in[r] {
				dst = append(dst, uint64(codes[r])<<32|uint64(r))
			}
		}
		s.sorted[f] = dst
	}
	if cap(s.tmp) < m {
		s.tmp = make([]uint64, m)
	}
	if len(s.goLeft) < data.n {
		s.goLeft = make([]uint8, data.n)
	}
	importance := make([]float64, data.p)
	stack := append(s.stack[:0], nodeItem{lo: 0, hi: m, parent: -1, small: rootSmall, stats: b.stats(s.sorted[0][:m])})
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		id := int32(len(b.t.Feature))
		b.t.Feature = append(b.t.Feature, -1)
		b.t.Threshold = append(b.t.Threshold, 0)
		// A leaf until split: Left is its row in Value.
		b.t.Left = append(b.t.Left, int32(len(b.t.Value)/nout))
		b.t.Right = append(b.t.Right, -1)
		b.t.Value = append(b.t.Value, it.stats.value...)
		// The node's value now lives in the tree: its place on top of
		// the value stack goes to its children.
		s.vals = s.vals[:len(s.vals)-nout]
		it.stats.value = b.t.Value[len(b.t.Value)-nout:]
		if it.parent >= 0 {
			if it.isLeft {
				b.t.Left[it.parent] = id
			} else {
				b.t.Right[it.parent] = id
			}
		}
		n := it.hi - it.lo
		if (cfg.maxDepth > 0 && it.depth >= cfg.maxDepth) || n < cfg.minSplit || n < 2*cfg.minLeaf || it.stats.impurity <= leafEps {
			continue
		}
		if interrupt.Requested() {
			continue // the rest are leaves: fitTrees discards the tree
		}
		small := it.small || b.smallNode(n)
		var sp split
		if small {
			sp = b.bestSplitSorted(it.lo, it.hi, it.stats)
		} else {
			sp = b.bestSplit(it.lo, it.hi, it.stats)
		}
		if !sp.found {
			continue
		}
		if small {
			b.partitionSmall(it.lo, it.hi, sp)
		} else {
			b.partition(it.lo, it.hi, sp)
		}
		mid := it.lo + sp.pos
		left := s.sorted[0][it.lo:mid]
		right := s.sorted[0][mid:it.hi]
		// Right first, as the children are pushed (the value stack
		// follows the node stack).
		rs := b.stats(right)
		ls := b.stats(left)
		b.t.Feature[id] = int32(sp.feature)
		b.t.Threshold[id] = b.threshold(sp.feature, sp.code, sp.hiCode)
		// Not a leaf: its value, the last in Value, goes (its children
		// set Left and Right when they are made).
		b.t.Value = b.t.Value[:len(b.t.Value)-nout]
		importance[sp.feature] += it.stats.W*it.stats.impurity - ls.W*ls.impurity - rs.W*rs.impurity
		// Push right first so the left subtree is built (and numbered)
		// first.
		stack = append(stack,
			nodeItem{lo: mid, hi: it.hi, depth: it.depth + 1, parent: id, stats: rs, small: small},
			nodeItem{lo: it.lo, hi: mid, depth: it.depth + 1, parent: id, isLeft: true, stats: ls, small: small})
	}
	s.stack = stack
	s.tree = b.t
	return treeState{
		Feature:    slices.Clone(b.t.Feature),
		Threshold:  slices.Clone(b.t.Threshold),
		Left:       slices.Clone(b.t.Left),
		Right:      slices.Clone(b.t.Right),
		Value:      slices.Clone(b.t.Value),
		NOut:       nout,
		Importance: importance,
	}
}

// partition splits every feature's rows [lo,hi) stably into the rows
// going left, then right. Each row is written to both places and only
// one position advances: whether a row goes left is a coin toss in
// another feature's order, which a branch predictor would miss half the
// time.
func (b *treeBuilder) partition(lo, hi int, sp split) {
	s := b.s
	best := s.sorted[sp.feature][lo:hi]
	for i, key := range best {
		var l uint8
		if i < sp.pos {
			l = 1
		}
		s.goLeft[uint32(key)] = l
	}
	gl := s.goLeft
	tmp := s.tmp[:hi-lo]
	for f := range s.sorted {
		if f == sp.feature || f >= b.data.p {
			continue
		}
		rows := s.sorted[f][lo:hi]
		j, k := 0, 0
		for _, key := range rows {
			l := int(gl[uint32(key)])
			rows[j] = key
			tmp[k] = key
			j += l
			k += 1 - l
		}
		copy(rows[j:], tmp[:k])
	}
}

// treeMode forces how nodes are split, for tests: 0 chooses by cost,
// 1 always keeps sorted lists, 2 always works on the node's rows alone.
var treeMode = 0

// smallNode reports whether a node of m rows is cheaper to split working
// on its rows alone — a histogram of codes, or sorting the rows, for each
// of the maxFeatures features tried — than by keeping every feature's
// sorted list (a partition of all p lists per split). Forests, which try
// few features, and features with few distinct values favour the former.
func (b *treeBuilder) smallNode(m int) bool {
	switch treeMode {
	case 1:
		return false
	case 2:
		return true
	}
	// The choice holds for the whole subtree, so it must also pay for the
	// smaller nodes below (where a histogram of many codes does not).
	return b.cheaperAlone(m) && b.cheaperAlone(max(m/64, 2))
}

func (b *treeBuilder) cheaperAlone(m int) bool {
	if m <= 1 {
		return true
	}
	fm := float64(m)
	kk := float64(max(b.cfg.classes, 2))
	perFeature := min(sortCost(m), 3*fm+b.data.meanBins*kk)
	small := float64(b.cfg.maxFeatures) * perFeature
	lists := 2*float64(b.data.p)*fm + float64(b.cfg.maxFeatures)*fm
	return small < lists
}

// bestSplitSorted is bestSplit for nodes worked on alone: the node's rows
// are in list 0; each feature tried is histogrammed by code when it has
// few codes for the node's size, else sorted on the spot.
func (b *treeBuilder) bestSplitSorted(lo, hi int, st nodeStats) split {
	s := b.s
	rows := s.sorted[0][lo:hi]
	m := len(rows)
	feats := s.feats
	p := len(feats)
	kk := max(b.cfg.classes, 2)
	best := split{proxy: math.Inf(-1)}
	tried := 0
	for i := 0; i < p && tried < b.cfg.maxFeatures; i++ {
		j := i + b.rng.IntN(p-i)
		feats[i], feats[j] = feats[j], feats[i]
		f := feats[i]
		var sp split
		var constant bool
		if nb := len(b.data.binMin[f]); float64(nb*kk) < 1.5*float64(m)*math.Log2(float64(m)) {
			sp, constant = b.splitHist(f, rows, st)
		} else {
			codes := b.data.codes[f]
			keys := s.keys[:0]
			for _, key := range rows {
				r := uint32(key)
				keys = append(keys, uint64(codes[r])<<32|uint64(r))
			}
			s.keys = keys
			if cap(s.keys2) < len(keys) {
				s.keys2 = make([]uint64, len(keys), cap(keys))
			}
			sortKeys(keys, s.keys2[:len(keys)], bits.Len(uint(len(b.data.binMin[f])-1)))
			if constant = keys[0]>>32 == keys[len(keys)-1]>>32; !constant {
				if b.cfg.classes > 0 {
					sp = b.splitClass(f, keys, st)
				} else {
					sp = b.splitReg(f, keys, st)
				}
			}
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

// splitHist finds a feature's best split from a histogram of the node's
// rows by code, scanning codes in order exactly as splitClass and
// splitReg scan sorted rows. It also reports a feature constant in the
// node.
func (b *treeBuilder) splitHist(f int, rows []uint64, st nodeStats) (split, bool) {
	s := b.s
	codes := b.data.codes[f]
	nb := len(b.data.binMin[f])
	K := b.cfg.classes
	width := K
	if K == 0 {
		width = 2 // weight, weighted sum
	}
	if len(s.hist) < nb*width {
		s.hist = make([]float64, nb*width)
	}
	if len(s.cnt) < nb {
		s.cnt = make([]int32, nb)
	}
	h, cnt := s.hist[:nb*width], s.cnt[:nb]
	clear(h)
	clear(cnt)
	yk, yv, wts := b.tgt.yk, b.tgt.yv, b.tgt.w
	for _, key := range rows {
		r := uint32(key)
		c := codes[r]
		w := 1.0
		if wts != nil {
			w = wts[r]
		}
		if K > 0 {
			h[int(c)*K+int(yk[r])] += w
		} else {
			h[2*c] += w
			h[2*c+1] += w * yv[r]
		}
		cnt[c]++
	}
	m := len(rows)
	minLeaf := b.cfg.minLeaf
	bestProxy, bestPos := math.Inf(-1), -1
	var bestLo, bestHi uint32
	prev, pos, nonEmpty := -1, 0, 0
	if K > 0 {
		l, r := s.l[:K], s.r[:K]
		clear(l)
		var lq, rq float64
		entropy := b.cfg.entropy
		for k := 0; k < K; k++ {
			r[k] = st.value[k] * st.W
			if entropy {
				rq += xlogx(r[k])
			} else {
				rq += r[k] * r[k]
			}
		}
		lW, rW := 0.0, st.W
		for c := 0; c < nb; c++ {
			if cnt[c] == 0 {
				continue
			}
			nonEmpty++
			if prev >= 0 && pos >= minLeaf && m-pos >= minLeaf {
				var p float64
				if entropy {
					p = lq - xlogx(lW) + rq - xlogx(rW)
				} else {
					p = lq/lW + rq/rW
				}
				if p > bestProxy {
					bestProxy, bestPos, bestLo, bestHi = p, pos, uint32(prev), uint32(c)
				}
			}
			for k := 0; k < K; k++ {
				w := h[c*K+k]
				if w == 0 {
					continue
				}
				lk, rk := l[k], r[k]
				if entropy {
					lq += xlogx(lk+w) - xlogx(lk)
					rq += xlogx(rk-w) - xlogx(rk)
				} else {
					lq += (2*lk + w) * w
					rq -= (2*rk - w) * w
				}
				l[k], r[k] = lk+w, rk-w
				lW += w
				rW -= w
			}
			pos += int(cnt[c])
			prev = c
		}
	} else {
		totW, totS := st.W, st.value[0]*st.W
		var lW, lS float64
		for c := 0; c < nb; c++ {
			if cnt[c] == 0 {
				continue
			}
			nonEmpty++
			if rW := totW - lW; prev >= 0 && pos >= minLeaf && m-pos >= minLeaf && lW > 0 && rW > 0 {
				rS := totS - lS
				if p := lS*lS/lW + rS*rS/rW; p > bestProxy {
					bestProxy, bestPos, bestLo, bestHi = p, pos, uint32(prev), uint32(c)
				}
			}
			lW += h[2*c]
			lS += h[2*c+1]
			pos += int(cnt[c])
			prev = c
		}
	}
	if nonEmpty <= 1 {
		return split{}, true
	}
	if bestPos < 0 {
		return split{}, false
	}
	return split{feature: f, code: bestLo, pos: bestPos, proxy: bestProxy, found: true, hiCode: bestHi}, false
}

// sortCost estimates the work of sortKeys on m keys: a comparison sort
// below its radix threshold, else a fixed number of passes over the keys
// (building them, three radix passes, the run of ties).
func sortCost(m int) float64 {
	fm := float64(m)
	if m < 96 {
		return 1.5 * fm * math.Log2(fm)
	}
	return 12 * fm
}

// sortKeys sorts keys (code<<32 | row, codes below 2^codeBits) in
// increasing order, as slices.Sort would: an LSD radix sort on the code's
// bytes (passes where every key has the same byte are skipped), then each
// run of equal codes sorted by row. tmp is scratch of len(keys).
func sortKeys(keys, tmp []uint64, codeBits int) {
	m := len(keys)
	if m < 96 {
		slices.Sort(keys)
		return
	}
	src, dst := keys, tmp[:m]
	var cnt [256]int
	for shift := 32; shift < 32+codeBits; shift += 8 {
		clear(cnt[:])
		for _, k := range src {
			cnt[(k>>shift)&255]++
		}
		if cnt[(src[0]>>shift)&255] == m {
			continue
		}
		sum := 0
		for i, c := range cnt {
			cnt[i] = sum
			sum += c
		}
		for _, k := range src {
			d := (k >> shift) & 255
			dst[cnt[d]] = k
			cnt[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
	for i := 0; i < m; {
		j := i + 1
		for j < m && keys[j]>>32 == keys[i]>>32 {
			j++
		}
		if j-i > 1 {
			slices.Sort(keys[i:j])
		}
		i = j
	}
}

// partitionSmall splits list 0's rows [lo,hi) by the split's code.
func (b *treeBuilder) partitionSmall(lo, hi int, sp split) {
	s := b.s
	codes := b.data.codes[sp.feature]
	rows := s.sorted[0][lo:hi]
	j := 0
	tmp := s.tmp[:0]
	for _, key := range rows {
		if codes[uint32(key)] <= sp.code {
			rows[j] = key
			j++
		} else {
			tmp = append(tmp, key)
		}
	}
	copy(rows[j:], tmp)
}

func xlogx(x float64) float64 {
	if x <= 0 {
		return 0
	}
	return x * math.Log(x)
}

// stats computes a node's weight, impurity and value.
func (b *treeBuilder) stats(rows []uint64) nodeStats {
	tg := b.tgt
	if K := b.cfg.classes; K > 0 {
		v := b.pushValue(K)
		for _, key := range rows {
			r := int32(uint32(key))
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
	for _, key := range rows {
		r := int32(uint32(key))
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
	v := b.pushValue(1)
	v[0] = mean
	return nodeStats{W: W, impurity: imp, value: v}
}

// pushValue returns a zeroed vector of n values on top of the value
// stack.
func (b *treeBuilder) pushValue(n int) []float64 {
	s := b.s
	off := len(s.vals)
	s.vals = slices.Grow(s.vals, n)[:off+n]
	v := s.vals[off : off+n : off+n]
	clear(v)
	return v
}

// bestSplit examines features in random order until maxFeatures
// non-constant ones were tried, as scikit-learn does.
func (b *treeBuilder) bestSplit(lo, hi int, st nodeStats) split {
	feats := b.s.feats
	p := len(feats)
	best := split{proxy: math.Inf(-1)}
	tried := 0
	for i := 0; i < p && tried < b.cfg.maxFeatures; i++ {
		j := i + b.rng.IntN(p-i)
		feats[i], feats[j] = feats[j], feats[i]
		f := feats[i]
		rows := b.s.sorted[f][lo:hi]
		if rows[0]>>32 == rows[len(rows)-1]>>32 {
			continue // constant in this node
		}
		tried++
		var sp split
		if b.cfg.classes > 0 {
			sp = b.splitClass(f, rows, st)
		} else {
			sp = b.splitReg(f, rows, st)
		}
		if sp.found && sp.proxy > best.proxy {
			best = sp
		}
	}
	return best
}

func (b *treeBuilder) threshold(f int, lo, hi uint32) float64 {
	a, c := b.data.binMax[f][lo], b.data.binMin[f][hi]
	t := a/2 + c/2
	if t >= c || math.IsInf(t, 0) || math.IsNaN(t) {
		t = a
	}
	return t
}

// splitClass scans a feature's node rows in value order and returns the
// best classification split. The Gini criterion keeps Σ l_k² and Σ r_k²
// up to date in O(1) per row; entropy keeps Σ l_k ln l_k likewise.
func (b *treeBuilder) splitClass(f int, rows []uint64, st nodeStats) split {
	K := b.cfg.classes
	l, r := b.s.l[:K], b.s.r[:K]
	clear(l)
	var lq, rq float64
	entropy := b.cfg.entropy
	for k := 0; k < K; k++ {
		r[k] = st.value[k] * st.W
		if entropy {
			rq += xlogx(r[k])
		} else {
			rq += r[k] * r[k]
		}
	}
	lW, rW := 0.0, st.W
	yk, wts := b.tgt.yk, b.tgt.w
	m := len(rows)
	minLeaf := b.cfg.minLeaf
	bestProxy, bestPos := math.Inf(-1), -1
	var bestLo, bestHi uint32
	prev := uint32(rows[0] >> 32)
	for i, key := range rows {
		c := uint32(key >> 32)
		if c != prev {
			if i >= minLeaf && m-i >= minLeaf {
				var p float64
				if entropy {
					p = lq - xlogx(lW) + rq - xlogx(rW)
				} else {
					p = lq/lW + rq/rW
				}
				if p > bestProxy {
					bestProxy, bestPos, bestLo, bestHi = p, i, prev, c
				}
			}
			prev = c
		}
		row := uint32(key)
		k := yk[row]
		w := 1.0
		if wts != nil {
			w = wts[row]
		}
		lk, rk := l[k], r[k]
		if entropy {
			lq += xlogx(lk+w) - xlogx(lk)
			rq += xlogx(rk-w) - xlogx(rk)
		} else {
			lq += (2*lk + w) * w
			rq -= (2*rk - w) * w
		}
		l[k], r[k] = lk+w, rk-w
		lW += w
		rW -= w
	}
	if bestPos < 0 {
		return split{}
	}
	return split{feature: f, code: bestLo, pos: bestPos, proxy: bestProxy, found: true, hiCode: bestHi}
}

// splitReg returns the best squared-error split of a feature.
func (b *treeBuilder) splitReg(f int, rows []uint64, st nodeStats) split {
	yv, wts := b.tgt.yv, b.tgt.w
	m := len(rows)
	minLeaf := b.cfg.minLeaf
	totW := st.W
	totS := st.value[0] * st.W
	var lW, lS float64
	bestProxy, bestPos := math.Inf(-1), -1
	var bestLo, bestHi uint32
	prev := uint32(rows[0] >> 32)
	for i, key := range rows {
		c := uint32(key >> 32)
		if c != prev {
			rW := totW - lW
			if i >= minLeaf && m-i >= minLeaf && lW > 0 && rW > 0 {
				rS := totS - lS
				if p := lS*lS/lW + rS*rS/rW; p > bestProxy {
					bestProxy, bestPos, bestLo, bestHi = p, i, prev, c
				}
			}
			prev = c
		}
		row := uint32(key)
		w := 1.0
		if wts != nil {
			w = wts[row]
		}
		lW += w
		lS += w * yv[row]
	}
	if bestPos < 0 {
		return split{}
	}
	return split{feature: f, code: bestLo, pos: bestPos, proxy: bestProxy, found: true, hiCode: bestHi}
}
