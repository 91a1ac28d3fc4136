package experiments

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// KMeans clusters rows into K groups by Lloyd's algorithm from greedy
// k-means++ starts (as scikit-learn), keeping the best of NInit runs by
// inertia. Run r is seeded with Seed+r. Fit ignores y (pass nil), so
// KMeans fits in a Pipeline; Predict returns cluster indexes 0..K-1.
type KMeans struct {
	K       int     // 0 means 8
	NInit   int     // 0 means 10
	MaxIter int     // 0 means 300
	Tol     float64 // relative center movement; 0 means 1e-4
	Seed    int64   // run r of NInit starts from seed Seed+r
	Workers int     // goroutines; 0 uses every core

	st kmeansState
}

type kmeansState struct {
	K, P    int
	Centers []float64 // K×P
	Inertia float64
	NIter   int
	Labels  []float64
}

func (m *KMeans) state() any { return &m.st }

// Fit finds the clusters of X.
func (m *KMeans) Fit(X *mat.Dense, y []float64) error { return trackFit(m, X, y, m.fitRaw) }

func (m *KMeans) fitRaw(X *mat.Dense, _ []float64) error {
	const op = "fit kmeans"
	if X == nil || X.IsEmpty() {
		return fmt.Errorf("experiments: %s: X is empty", op)
	}
	if err := checkFinite(op, X); err != nil {
		return err
	}
	K, nInit, maxIter, tol := m.K, m.NInit, m.MaxIter, m.Tol
	if K == 0 {
		K = 8
	}
	if nInit == 0 {
		nInit = 10
	}
	if maxIter == 0 {
		maxIter = 300
	}
	if tol == 0 {
		tol = 1e-4
	}
	n, _ := X.Dims()
	if K < 1 || K > n {
		return fmt.Errorf("experiments: %s: K=%d clusters for %d rows", op, K, n)
	}
	if nInit < 0 || maxIter < 0 || tol < 0 {
		return fmt.Errorf("experiments: %s: NInit, MaxIter and Tol must not be negative", op)
	}
	data, err := newKMData(X, m.Workers)
	if err != nil {
		return fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
	}
	// Tolerance relative to the data's mean feature variance.
	tol *= data.meanVariance(X)
	var best kmeansState
	best.Inertia = math.Inf(1)
	for run := 0; run < nInit; run++ {
		rng := newRand(m.Seed + int64(run))
		centers, err := data.plusPlus(X, K, rng)
		if err != nil {
			return fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
		}
		st, err := data.lloyd(X, centers, K, maxIter, tol)
		if err != nil {
			return fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
		}
		if st.Inertia < best.Inertia {
			best = st
		}
	}
	m.st = best
	return nil
}

// kmData is X prepared for k-means: rows packed in kernel panels, with
// their squared norms, and a fixed split of the panels into ranges whose
// partial sums are added in order (so results do not depend on the
// number of workers).
type kmData struct {
	n, p   int
	nw     int
	packed []float64
	norms  []float64
	parts  [][2]int // panel ranges
	// bufs are each part's products and nearest centers, kept from one
	// assignment to the next: Lloyd's iterations assign every row
	// a hundred times or more, and allocating them each time made a fit
	// collect and fault in megabytes per iteration.
	bufs []kmBuf
}

type kmBuf struct{ G, best, bestK []float64 }

// kmChunkRows is the rows per partial sum (a multiple of every kernNR, so
// chunks do not depend on the kernel either).
const kmChunkRows = 128 * kernRowUnit

func newKMData(X *mat.Dense, nw int) (*kmData, error) {
	n, p := X.Dims()
	raw := X.RawMatrix()
	packed, norms, err := packPanels(raw.Data, raw.Stride, n, p, nw)
	if err != nil {
		return nil, err
	}
	npan := len(norms) / kernNR
	return &kmData{n: n, p: p, nw: nw, packed: packed, norms: norms, parts: fixedChunks(npan, kmChunkRows/kernNR)}, nil
}

// meanVariance is the mean of the columns' population variances.
func (d *kmData) meanVariance(X *mat.Dense) float64 {
	p := d.p
	sums := make([][]float64, len(d.parts))
	sq := make([][]float64, len(d.parts))
	d.each(func(c, lo, hi int) {
		s, q := make([]float64, p), make([]float64, p)
		for i := lo; i < hi; i++ {
			for j, v := range X.RawRowView(i) {
				s[j] += v
				q[j] += v * v
			}
		}
		sums[c], sq[c] = s, q
	})
	mean := make([]float64, p)
	for _, s := range sums {
		floats.Add(mean, s)
	}
	floats.Scale(1/float64(d.n), mean)
	// Second pass on deviations: sums of squares minus n·mean² cancel.
	d.each(func(c, lo, hi int) {
		q := sq[c]
		clear(q)
		for i := lo; i < hi; i++ {
			for j, v := range X.RawRowView(i) {
				dv := v - mean[j]
				q[j] += dv * dv
			}
		}
	})
	var total float64
	for j := 0; j < p; j++ {
		var v float64
		for c := range sq {
			v += sq[c][j]
		}
		total += v / float64(d.n)
	}
	return total / float64(p)
}

// each runs f on every chunk (index, first row, end row) in parallel.
func (d *kmData) each(f func(c, lo, hi int)) error {
	return parallel(len(d.parts), d.nw, func(c int) error {
		f(c, d.parts[c][0]*kernNR, min(d.parts[c][1]*kernNR, d.n))
		return nil
	})
}

// products computes the dot products of the centers packed in cp (nc of
// them, in strips) with the rows of panels [q0, q0+np), into G (one row
// of np·kernNR values per center, row stride ldc).
func (d *kmData) products(cp []float64, nc, q0, np int, G []float64, ldc int) {
	p, size := d.p, d.p*kernNR
	for s := 0; s*kernMR < nc; s++ {
		kernStrip(p, cp[s*p*kernMR:], kernMR, d.packed[q0*size:], kernNR, size, np, G[s*kernMR*ldc:], ldc, false)
	}
}

// kmBlockRows is the rows whose products are computed at once.
const kmBlockRows = 8 * kernRowUnit

// sqDistances fills out[t][i] with the squared distance of row i to each
// of the given rows (at most kernMR), ‖x‖² + ‖c‖² - 2x·c clamped at 0.
func (d *kmData) sqDistances(cands [][]float64, out [][]float64) error {
	p := d.p
	cp := make([]float64, p*kernMR)
	packStrips(cp, len(cands), p, func(i int) []float64 { return cands[i] })
	cn := make([]float64, len(cands))
	for t, c := range cands {
		cn[t] = floats.Dot(c, c)
	}
	ldc, bp := kmBlockRows, kmBlockRows/kernNR
	if len(d.bufs) != len(d.parts) {
		d.bufs = make([]kmBuf, len(d.parts))
	}
	return d.each(func(c, lo, hi int) {
		G := make([]float64, kernMR*ldc)
		for q := d.parts[c][0]; q < d.parts[c][1]; q += bp {
			np := min(bp, d.parts[c][1]-q)
			d.products(cp, len(cands), q, np, G, ldc)
			r0 := q * kernNR
			r1 := min(r0+np*kernNR, d.n)
			for t := range cands {
				g := G[t*ldc:]
				o := out[t]
				for i := r0; i < r1; i++ {
					o[i] = max(d.norms[i]+cn[t]-2*g[i-r0], 0)
				}
			}
		}
	})
}

// plusPlus picks K starting centers by greedy k-means++ (scikit-learn's):
// the first uniformly, each next among 2+ln(K) candidates drawn with
// probability proportional to the squared distance to the nearest center,
// keeping the candidate that lowers the total most. Distances to the
// candidates come from one kernel pass.
func (d *kmData) plusPlus(X *mat.Dense, K int, rng *rand.Rand) ([]float64, error) {
	n, p := d.n, d.p
	centers := make([]float64, 0, K*p)
	first := rng.IntN(n)
	centers = append(centers, X.RawRowView(first)...)
	closest := make([]float64, n)
	if err := d.sqDistances([][]float64{X.RawRowView(first)}, [][]float64{closest}); err != nil {
		return nil, err
	}
	trials := min(2+int(math.Log(float64(K))), kernMR)
	cum := make([]float64, n)
	cand := make([][]float64, trials)
	for t := range cand {
		cand[t] = make([]float64, n)
	}
	pots := make([][]float64, len(d.parts))
	for c := 1; c < K; c++ {
		floats.CumSum(cum, closest)
		idx := make([]int, trials)
		rows := make([][]float64, trials)
		for t := range idx {
			r := rng.Float64() * cum[n-1]
			idx[t] = min(sort.SearchFloat64s(cum, r), n-1)
			if cum[n-1] == 0 {
				idx[t] = rng.IntN(n)
			}
			rows[t] = X.RawRowView(idx[t])
		}
		if err := d.sqDistances(rows, cand); err != nil {
			return nil, err
		}
		if err := d.each(func(ch, lo, hi int) {
			pot := make([]float64, trials)
			for t := range pot {
				ct := cand[t]
				for i := lo; i < hi; i++ {
					ct[i] = min(ct[i], closest[i])
					pot[t] += ct[i]
				}
			}
			pots[ch] = pot
		}); err != nil {
			return nil, err
		}
		bestPot, best := math.Inf(1), 0
		for t := 0; t < trials; t++ {
			var s float64
			for ch := range pots {
				s += pots[ch][t]
			}
			if s < bestPot {
				bestPot, best = s, t
			}
		}
		centers = append(centers, rows[best]...)
		copy(closest, cand[best])
	}
	return centers, nil
}

// assignment is one labelling pass: per chunk, the changed labels and the
// change to the cluster sums and counts they cause.
type kmPartial struct {
	sums    []float64
	counts  []float64
	changed int
}

// assign labels every row with its nearest center (by ‖c‖² - 2x·c from
// the kernel; ties to the lower index), recording each row's squared
// distance in dist. With rebuild it returns per chunk the sums and counts
// of the clusters from scratch, else the changes from the rows that moved
// (parts nil: labels only).
func (d *kmData) assign(X *mat.Dense, centers []float64, K int, labels []int32, dist []float64, rebuild bool, parts []kmPartial) error {
	p := d.p
	nstrips := (K + kernMR - 1) / kernMR
	cp := make([]float64, nstrips*p*kernMR)
	packStrips(cp, K, p, func(i int) []float64 { return centers[i*p : (i+1)*p] })
	cn := make([]float64, K)
	for k := range cn {
		cn[k] = floats.Dot(centers[k*p:(k+1)*p], centers[k*p:(k+1)*p])
	}
	ldc, bp := kmBlockRows, kmBlockRows/kernNR
	if len(d.bufs) != len(d.parts) {
		d.bufs = make([]kmBuf, len(d.parts))
	}
	return d.each(func(c, lo, hi int) {
		var pt *kmPartial
		if parts != nil {
			pt = &parts[c]
			if pt.sums == nil {
				pt.sums, pt.counts = make([]float64, K*p), make([]float64, K)
			}
			clear(pt.sums)
			clear(pt.counts)
			pt.changed = 0
		}
		bf := &d.bufs[c]
		bf.G, bf.best, bf.bestK = buf(bf.G, nstrips*kernMR*ldc), buf(bf.best, ldc), buf(bf.bestK, ldc)
		G, best, bestK := bf.G, bf.best, bf.bestK
		for q := d.parts[c][0]; q < d.parts[c][1]; q += bp {
			np := min(bp, d.parts[c][1]-q)
			d.products(cp, K, q, np, G, ldc)
			argminCols(G, ldc, cn, best[:np*kernNR], bestK[:np*kernNR])
			r0 := q * kernNR
			r1 := min(r0+np*kernNR, d.n)
			for i := r0; i < r1; i++ {
				j := i - r0
				b, bd := int32(bestK[j]), best[j]
				dist[i] = max(d.norms[i]+bd, 0)
				a := labels[i]
				if pt == nil {
					labels[i] = b
					continue
				}
				if b != a {
					pt.changed++
					labels[i] = b
					if !rebuild {
						x := X.RawRowView(i)
						if a >= 0 {
							floats.Sub(pt.sums[int(a)*p:int(a+1)*p], x)
							pt.counts[a]--
						}
						floats.Add(pt.sums[int(b)*p:int(b+1)*p], x)
						pt.counts[b]++
					}
				}
				if rebuild {
					floats.Add(pt.sums[int(b)*p:int(b+1)*p], X.RawRowView(i))
					pt.counts[b]++
				}
			}
		}
	})
}

// lloyd runs Lloyd's iterations as scikit-learn does: label every row by
// its nearest center, move each center to the mean of its rows, stop when
// no label changes or the centers move less than tol in total (squared).
// Cluster sums are updated by the rows that changed cluster and rebuilt
// from scratch every 20 iterations to stop rounding drift.
func (d *kmData) lloyd(X *mat.Dense, centers []float64, K, maxIter int, tol float64) (kmeansState, error) {
	n, p := d.n, d.p
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = -1
	}
	dist := make([]float64, n)
	parts := make([]kmPartial, len(d.parts))
	sums := make([]float64, K*p)
	counts := make([]float64, K)
	step := func(rebuild bool) (int, error) {
		if err := d.assign(X, centers, K, labels, dist, rebuild, parts); err != nil {
			return 0, err
		}
		if rebuild {
			clear(sums)
			clear(counts)
		}
		total := 0
		for c := range parts {
			floats.Add(sums, parts[c].sums)
			floats.Add(counts, parts[c].counts)
			total += parts[c].changed
		}
		return total, nil
	}
	iter := 0
	for iter < maxIter {
		if err := interrupted(); err != nil {
			return kmeansState{}, err
		}
		iter++
		changed, err := step(iter == 1 || iter%20 == 0)
		if err != nil {
			return kmeansState{}, err
		}
		if changed == 0 {
			break // same labels, same centers
		}
		newC := make([]float64, K*p)
		used := map[int]bool{}
		for k := 0; k < K; k++ {
			if counts[k] > 0 {
				floats.ScaleTo(newC[k*p:(k+1)*p], 1/counts[k], sums[k*p:(k+1)*p])
				continue
			}
			// Empty cluster: move it to the row farthest from its center.
			far := -1
			for i, dv := range dist {
				if !used[i] && (far < 0 || dv > dist[far]) {
					far = i
				}
			}
			used[far] = true
			copy(newC[k*p:(k+1)*p], X.RawRowView(far))
		}
		var shift float64
		for k := 0; k < K; k++ {
			shift += sqDist(newC[k*p:(k+1)*p], centers[k*p:(k+1)*p])
		}
		centers = newC
		if shift <= tol {
			break
		}
	}
	// Final assignment so labels and inertia match the returned centers.
	if _, err := step(true); err != nil {
		return kmeansState{}, err
	}
	st := kmeansState{K: K, P: p, Centers: centers, NIter: iter, Labels: make([]float64, n)}
	inertia := make([]float64, len(d.parts))
	err := d.each(func(c, lo, hi int) {
		var s float64
		for i := lo; i < hi; i++ {
			l := int(labels[i])
			st.Labels[i] = float64(l)
			s += sqDist(X.RawRowView(i), centers[l*p:(l+1)*p])
		}
		inertia[c] = s
	})
	if err != nil {
		return kmeansState{}, err
	}
	for _, s := range inertia {
		st.Inertia += s
	}
	return st, nil
}

// Predict returns the index of the nearest center of each row, computed
// as in Fit (so Predict on the training rows gives Labels).
func (m *KMeans) Predict(X *mat.Dense) (pred []float64, err error) {
	defer func() {
		if err == nil {
			notePredict(m, X, pred) // for metrics computed on it (autolog)
		}
	}()
	const op = "predict kmeans"
	if err := checkPredict(op, X, m.st.P); err != nil {
		return nil, err
	}
	data, err := newKMData(X, m.Workers)
	if err != nil {
		return nil, fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
	}
	labels := make([]int32, data.n)
	if err := data.assign(X, m.st.Centers, m.st.K, labels, make([]float64, data.n), false, nil); err != nil {
		return nil, fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
	}
	out := make([]float64, data.n)
	for i, l := range labels {
		out[i] = float64(l)
	}
	return out, nil
}

// negInertia returns minus the sum of squared distances of X's rows to
// their nearest centers.
func (m *KMeans) negInertia(X *mat.Dense) (float64, error) {
	labels, err := m.Predict(X)
	if err != nil {
		return 0, err
	}
	p := m.st.P
	var s float64
	for i, l := range labels {
		k := int(l)
		s += sqDist(X.RawRowView(i), m.st.Centers[k*p:(k+1)*p])
	}
	return -s, nil
}

// Transform returns each row's distance to every center.
func (m *KMeans) Transform(X *mat.Dense) (*mat.Dense, error) {
	if err := checkPredict("kmeans transform", X, m.st.P); err != nil {
		return nil, err
	}
	n, p := X.Dims()
	out := mat.NewDense(n, m.st.K, nil)
	for i := 0; i < n; i++ {
		row := X.RawRowView(i)
		for k := 0; k < m.st.K; k++ {
			out.Set(i, k, math.Sqrt(sqDist(row, m.st.Centers[k*p:(k+1)*p])))
		}
	}
	return out, nil
}

// Centers returns the cluster centers, one per row.
func (m *KMeans) Centers() *mat.Dense {
	if m.st.K == 0 {
		return &mat.Dense{}
	}
	return mat.NewDense(m.st.K, m.st.P, slices.Clone(m.st.Centers))
}

// Inertia returns the sum of squared distances of the training rows to
// their centers.
func (m *KMeans) Inertia() float64 { return m.st.Inertia }

// Labels returns the cluster of each training row.
func (m *KMeans) Labels() []float64 { return slices.Clone(m.st.Labels) }

// NIter returns the number of Lloyd iterations of the best run.
func (m *KMeans) NIter() int { return m.st.NIter }
