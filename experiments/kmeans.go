package experiments

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
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
	Seed    int64
	Workers int

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
func (m *KMeans) Fit(X *mat.Dense, _ []float64) error {
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
	n, p := X.Dims()
	if K < 1 || K > n {
		return fmt.Errorf("experiments: %s: K=%d clusters for %d rows", op, K, n)
	}
	if nInit < 0 || maxIter < 0 || tol < 0 {
		return fmt.Errorf("experiments: %s: NInit, MaxIter and Tol must not be negative", op)
	}
	// Tolerance relative to the data's mean feature variance.
	var meanVar float64
	for j := 0; j < p; j++ {
		var s, ss float64
		for i := 0; i < n; i++ {
			v := X.At(i, j)
			s += v
			ss += v * v
		}
		mu := s / float64(n)
		meanVar += ss/float64(n) - mu*mu
	}
	tol *= meanVar / float64(p)
	norms := make([]float64, n)
	for i := range norms {
		r := X.RawRowView(i)
		norms[i] = floats.Dot(r, r)
	}
	var best kmeansState
	best.Inertia = math.Inf(1)
	for run := 0; run < nInit; run++ {
		rng := newRand(m.Seed + int64(run))
		centers := kmeansPlusPlus(X, norms, K, rng)
		st, err := lloyd(X, norms, centers, K, maxIter, tol, m.Workers)
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

// kmeansPlusPlus picks K starting centers: the first uniformly, each next
// among 2+ln(K) candidates drawn with probability proportional to the
// squared distance to the nearest center, keeping the candidate that
// lowers the total most.
func kmeansPlusPlus(X *mat.Dense, norms []float64, K int, rng *rand.Rand) []float64 {
	n, p := X.Dims()
	centers := make([]float64, 0, K*p)
	first := rng.IntN(n)
	centers = append(centers, X.RawRowView(first)...)
	closest := make([]float64, n)
	for i := range closest {
		closest[i] = sqDist(X.RawRowView(i), X.RawRowView(first))
	}
	pot := floats.Sum(closest)
	trials := 2 + int(math.Log(float64(K)))
	cum := make([]float64, n)
	cand := make([]float64, n)
	bestD := make([]float64, n)
	for c := 1; c < K; c++ {
		floats.CumSum(cum, closest)
		bestPot, bestIdx := math.Inf(1), -1
		for t := 0; t < trials; t++ {
			r := rng.Float64() * cum[n-1]
			idx := min(sort.SearchFloat64s(cum, r), n-1)
			if cum[n-1] == 0 {
				idx = rng.IntN(n)
			}
			cr := X.RawRowView(idx)
			var s float64
			for i := range cand {
				d := min(closest[i], sqDist(X.RawRowView(i), cr))
				cand[i] = d
				s += d
			}
			if s < bestPot {
				bestPot, bestIdx = s, idx
				copy(bestD, cand)
			}
		}
		centers = append(centers, X.RawRowView(bestIdx)...)
		copy(closest, bestD)
		pot = bestPot
	}
	_ = pot
	return centers
}

// assign labels each row with its nearest center (dot-product distances
// over row blocks in parallel) and accumulates per-center sums.
func assign(X *mat.Dense, norms, centers []float64, K, nw int, labels []int32, sums []float64, counts []float64, mind []float64) error {
	n, p := X.Dims()
	cn := make([]float64, K)
	for k := 0; k < K; k++ {
		c := centers[k*p : (k+1)*p]
		cn[k] = floats.Dot(c, c)
	}
	parts := chunks(n, workers(nw), 1024)
	psums := make([][]float64, len(parts))
	pcounts := make([][]float64, len(parts))
	C := blas64.General{Rows: K, Cols: p, Stride: p, Data: centers}
	raw := X.RawMatrix()
	err := parallel(len(parts), nw, func(c int) error {
		s := make([]float64, K*p)
		cnt := make([]float64, K)
		const block = 256
		G := make([]float64, block*K)
		for lo := parts[c][0]; lo < parts[c][1]; lo += block {
			hi := min(lo+block, parts[c][1])
			b := hi - lo
			Xb := blas64.General{Rows: b, Cols: p, Stride: raw.Stride, Data: raw.Data[lo*raw.Stride:]}
			Gg := blas64.General{Rows: b, Cols: K, Stride: K, Data: G[:b*K]}
			blas64.Gemm(blas.NoTrans, blas.Trans, 1, Xb, C, 0, Gg)
			for i := 0; i < b; i++ {
				g := G[i*K : (i+1)*K]
				bk, bd := 0, math.Inf(1)
				for k, gv := range g {
					if d := cn[k] - 2*gv; d < bd {
						bk, bd = k, d
					}
				}
				labels[lo+i] = int32(bk)
				mind[lo+i] = max(bd+norms[lo+i], 0)
				floats.Add(s[bk*p:(bk+1)*p], X.RawRowView(lo+i))
				cnt[bk]++
			}
		}
		psums[c], pcounts[c] = s, cnt
		return nil
	})
	if err != nil {
		return err
	}
	clear(sums)
	clear(counts)
	for c := range parts {
		floats.Add(sums, psums[c])
		floats.Add(counts, pcounts[c])
	}
	return nil
}

func lloyd(X *mat.Dense, norms, centers []float64, K, maxIter int, tol float64, nw int) (kmeansState, error) {
	n, p := X.Dims()
	labels := make([]int32, n)
	prev := make([]int32, n)
	sums := make([]float64, K*p)
	counts := make([]float64, K)
	mind := make([]float64, n)
	iter := 0
	for iter < maxIter {
		iter++
		if err := assign(X, norms, centers, K, nw, labels, sums, counts, mind); err != nil {
			return kmeansState{}, err
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
			for i, d := range mind {
				if !used[i] && (far < 0 || d > mind[far]) {
					far = i
				}
			}
			used[far] = true
			copy(newC[k*p:(k+1)*p], X.RawRowView(far))
		}
		var shift float64
		for i := range newC {
			d := newC[i] - centers[i]
			shift += d * d
		}
		centers = newC
		if slices.Equal(labels, prev) || shift <= tol {
			break
		}
		copy(prev, labels)
	}
	// Final assignment so labels and inertia match the returned centers.
	if err := assign(X, norms, centers, K, nw, labels, sums, counts, mind); err != nil {
		return kmeansState{}, err
	}
	st := kmeansState{K: K, P: p, Centers: centers, NIter: iter, Labels: make([]float64, n)}
	for i, l := range labels {
		st.Labels[i] = float64(l)
		st.Inertia += sqDist(X.RawRowView(i), centers[int(l)*p:int(l+1)*p])
	}
	return st, nil
}

// Predict returns the index of the nearest center of each row.
func (m *KMeans) Predict(X *mat.Dense) ([]float64, error) {
	if err := checkPredict("predict kmeans", X, m.st.P); err != nil {
		return nil, err
	}
	n, p := X.Dims()
	out := make([]float64, n)
	for i := range out {
		row := X.RawRowView(i)
		bk, bd := 0, math.Inf(1)
		for k := 0; k < m.st.K; k++ {
			if d := sqDist(row, m.st.Centers[k*p:(k+1)*p]); d < bd {
				bk, bd = k, d
			}
		}
		out[i] = float64(bk)
	}
	return out, nil
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
