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
	n, p := X.Dims()
	if K < 1 || K > n {
		return fmt.Errorf("experiments: %s: K=%d clusters for %d rows", op, K, n)
	}
	if nInit < 0 || maxIter < 0 || tol < 0 {
		return fmt.Errorf("experiments: %s: NInit, MaxIter and Tol must not be negative", op)
	}
	// Tolerance relative to the data's mean feature variance.
	tol *= floats.Sum(columnVariances(X)) / float64(p)
	var best kmeansState
	best.Inertia = math.Inf(1)
	for run := 0; run < nInit; run++ {
		rng := newRand(m.Seed + int64(run))
		centers := kmeansPlusPlus(X, K, rng)
		st, err := lloyd(X, centers, K, maxIter, tol, m.Workers)
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
func kmeansPlusPlus(X *mat.Dense, K int, rng *rand.Rand) []float64 {
	n, p := X.Dims()
	centers := make([]float64, 0, K*p)
	first := rng.IntN(n)
	centers = append(centers, X.RawRowView(first)...)
	closest := make([]float64, n)
	for i := range closest {
		closest[i] = sqDist(X.RawRowView(i), X.RawRowView(first))
	}
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
	}
	return centers
}

// lloyd runs Lloyd's iterations with Hamerly's bounds: each row keeps an
// upper bound on the distance to its center and a lower bound on the
// distance to any other, moved by how far centers move, so most rows skip
// the distance computations once clusters settle. The assignments are
// Lloyd's; only the work differs.
func lloyd(X *mat.Dense, centers []float64, K, maxIter int, tol float64, nw int) (kmeansState, error) {
	n, p := X.Dims()
	labels := make([]int32, n)
	upper := make([]float64, n)
	lower := make([]float64, n)
	for i := range labels {
		labels[i] = -1
		upper[i] = math.Inf(1)
	}
	parts := fixedChunks(n, 4096) // fixed, so sums do not depend on the worker count
	half := make([]float64, K)
	move := make([]float64, K)
	changes := make([]int, len(parts))
	psums := make([][]float64, len(parts))
	pcounts := make([][]float64, len(parts))
	sums := make([]float64, K*p)
	counts := make([]float64, K)

	// step assigns every row to its nearest center and updates the sums
	// of each cluster's rows by the rows that moved (recomputing them from
	// scratch when rebuild is set, to stop rounding drift); it returns
	// how many rows changed cluster.
	step := func(rebuild bool) (int, error) {
		for j := 0; j < K; j++ {
			half[j] = math.Inf(1)
			for jj := 0; jj < K; jj++ {
				if jj != j {
					half[j] = min(half[j], math.Sqrt(sqDist(centers[j*p:(j+1)*p], centers[jj*p:(jj+1)*p]))/2)
				}
			}
		}
		err := parallel(len(parts), nw, func(c int) error {
			if psums[c] == nil {
				psums[c], pcounts[c] = make([]float64, K*p), make([]float64, K)
			}
			s, cnt := psums[c], pcounts[c]
			clear(s)
			clear(cnt)
			changed := 0
			for i := parts[c][0]; i < parts[c][1]; i++ {
				x := X.RawRowView(i)
				a := labels[i]
				full := true
				if a >= 0 {
					m := max(half[a], lower[i])
					if upper[i] > m {
						upper[i] = math.Sqrt(sqDist(x, centers[int(a)*p:int(a+1)*p]))
						full = upper[i] > m
					} else {
						full = false
					}
				}
				if full {
					b1, d1, d2 := int32(-1), math.Inf(1), math.Inf(1)
					for j := 0; j < K; j++ {
						d := sqDist(x, centers[j*p:(j+1)*p])
						if d < d1 {
							b1, d1, d2 = int32(j), d, d1
						} else if d < d2 {
							d2 = d
						}
					}
					upper[i], lower[i] = math.Sqrt(d1), math.Sqrt(d2)
					if b1 != a {
						changed++
						labels[i] = b1
						if !rebuild {
							if a >= 0 {
								floats.Sub(s[int(a)*p:int(a+1)*p], x)
								cnt[a]--
							}
							floats.Add(s[int(b1)*p:int(b1+1)*p], x)
							cnt[b1]++
						}
					}
				}
				if rebuild {
					l := int(labels[i])
					floats.Add(s[l*p:(l+1)*p], x)
					cnt[l]++
				}
			}
			changes[c] = changed
			return nil
		})
		if err != nil {
			return 0, err
		}
		if rebuild {
			clear(sums)
			clear(counts)
		}
		total := 0
		for c := range parts {
			floats.Add(sums, psums[c])
			floats.Add(counts, pcounts[c])
			total += changes[c]
		}
		return total, nil
	}

	iter := 0
	for iter < maxIter {
		iter++
		changed, err := step(iter%20 == 0)
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
			for i, d := range upper {
				if !used[i] && (far < 0 || d > upper[far]) {
					far = i
				}
			}
			used[far] = true
			copy(newC[k*p:(k+1)*p], X.RawRowView(far))
		}
		var shift float64
		first, second := 0.0, 0.0
		argFirst := -1
		for k := 0; k < K; k++ {
			d2 := sqDist(newC[k*p:(k+1)*p], centers[k*p:(k+1)*p])
			shift += d2
			move[k] = math.Sqrt(d2)
			if move[k] > first {
				first, second, argFirst = move[k], first, k
			} else if move[k] > second {
				second = move[k]
			}
		}
		for i, l := range labels {
			upper[i] += move[l]
			if int(l) == argFirst {
				lower[i] -= second
			} else {
				lower[i] -= first
			}
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
