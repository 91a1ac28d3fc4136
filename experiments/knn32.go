package experiments

import (
	"cmp"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// The neighbor search in two precisions. Distances by matrix product in
// float32 run twice the lanes of float64 per instruction, but rounding
// to float32 could pick the wrong neighbors. So the float32 pass only
// bounds every distance (each approximate distance ± a proven error
// bound), keeps every training row whose lower bound can still beat the
// k-th smallest upper bound, and the float64 distances of those few
// rows decide. The result is the float64 search's: the k rows of
// smallest sqDist, ties to the lower index.
//
// The bound: for rows q and x of p values, rounded to float32 and
// multiplied with p fused multiply-adds in float32,
// |ĝ - q·x| ≤ (γ_p(1+u)² + 2u + u²)·Σ|q_k x_k| + (underflow terms),
// u = 2⁻²⁴ and γ_p = pu/(1-pu); Σ|q_k x_k| ≤ ‖q‖‖x‖ ≤ (‖q‖²+‖x‖²)/2. So
// the distance ‖q‖²+‖x‖²-2ĝ is off by at most c·(‖q‖²+‖x‖²) with c a
// little over (p+3)u, to which the slack adds the float64 rounding of
// the norms, of the bound's own arithmetic and of sqDist (each a
// multiple of 2⁻⁵² of the same sum), and the absolute error of values
// that underflow in float32 (gradual underflow, the CPU's default: a
// library that turns on flush-to-zero for the process would void this
// term). Values beyond 1e15 (products that could
// overflow float32) or NaN send the search to float64 throughout.

// kernNR32 is the columns of a float32 panel: 48 with AVX-512, 24 with
// AVX2 (set at init); 0 where there is no float32 kernel, and the search
// stays in float64.
var kernNR32 = 0

// knn32MaxAbs is the largest magnitude the float32 pass takes: products
// of two stay far below float32's 3.4e38.
const knn32MaxAbs = 1e15

// knn32Slack returns c, the relative slack per unit of ‖q‖²+‖x‖², and
// the absolute slack a, for p features of magnitude at most m.
func knn32Slack(p int, m float64) (c, a float64) {
	fp := float64(p)
	c = (1.05*fp+4)*0x1p-24 + (4*fp+64)*0x1p-52
	// Each of 2p roundings to float32, p products and p additions can
	// lose up to 2⁻¹⁴⁹ absolutely in the subnormal range, scaled by at
	// most 2m+2 where it meets other terms.
	a = 4 * fp * (2*m + 2) * 0x1p-149
	return c, a
}

// Blocking of the float32 product: knn32TrainRows training rows (230 KB
// for 50 features) stay in cache while the strips of a query block pass.
const knn32TrainRows = 1152 // a multiple of 48 and 24

// neighbors32 fills idx (k per query, unordered) with each query's k
// nearest training rows by sqDist, ties to the lower index. It reports
// false, having done nothing, when the data is outside what the float32
// pass bounds (or there is no float32 kernel).
func (st *knnState) neighbors32(Q *mat.Dense, k, nw int, idx []int32) (bool, error) {
	nr := kernNR32
	// The error bound assumes p·2⁻²⁴ well below 1 (p < 10⁵ keeps the
	// 1.05 factor above 1/(1-p·2⁻²⁴)).
	if nr == 0 || k <= 0 || st.N == 0 || st.P > 100000 {
		return false, nil
	}
	nq, p := Q.Dims()
	qmax := 0.0
	for i := 0; i < nq; i++ {
		for _, v := range Q.RawRowView(i) {
			if !(math.Abs(v) <= knn32MaxAbs) {
				return false, nil
			}
			qmax = max(qmax, math.Abs(v))
		}
	}
	packed, xn, xmax, ok := packPanels32(st.X, st.N, p, nr, nw)
	if !ok {
		return false, nil
	}
	c, a := knn32Slack(p, max(qmax, xmax))
	n := st.N
	npan := (n + nr - 1) / nr
	// tn holds (1-c)·‖x‖²: the filter's test is a row's lower bound
	// against the query's k-th upper bound; padding rows never pass.
	tn := make([]float64, npan*nr)
	for j := range tn {
		if j < n {
			tn[j] = (1 - c) * xn[j]
		} else {
			tn[j] = math.Inf(1)
		}
	}
	panSize := p * nr
	nblocks := (nq + knnQueryBlock - 1) / knnQueryBlock
	err := parallel(nblocks, nw, func(b int) error {
		if err := interrupted(); err != nil {
			return err
		}
		q0, q1 := b*knnQueryBlock, min((b+1)*knnQueryBlock, nq)
		m := q1 - q0
		nstrips := (m + kernMR - 1) / kernMR
		qa := make([]float32, nstrips*p*kernMR)
		qn := make([]float64, m)
		for i := 0; i < m; i++ {
			row := Q.RawRowView(q0 + i)
			s, r := i/kernMR, i%kernMR
			for kk, v := range row {
				qa[s*p*kernMR+kk*kernMR+r] = float32(v)
			}
			qn[i] = floats.Dot(row, row)
		}
		// Per query: the k smallest upper bounds (ascending; the last is
		// the limit T) and the rows whose lower bound is within T.
		ub := make([]float64, m*k)
		for i := range ub {
			ub[i] = math.Inf(1)
		}
		cands := make([][]knnCand, m)
		// A query's list is pruned when it reaches pruneAt, which then
		// doubles past what is left, so pruning costs linear time even
		// when many rows tie within the bound (binary or one-hot
		// features, duplicates); past knn32MaxCands the float32 pass
		// cannot tell enough rows apart for that query, and it is
		// searched in float64 at the end instead (exact).
		pruneAt := make([]int, m)
		for i := range pruneAt {
			pruneAt[i] = 4*k + 64
		}
		exact := make([]bool, m)
		blockPanels := knn32TrainRows / nr
		ldc := knn32TrainRows
		G := make([]float32, kernMR*ldc)
		hit := make([]int32, ldc)
		for p0 := 0; p0 < npan; p0 += blockPanels {
			np := min(blockPanels, npan-p0)
			t0 := p0 * nr
			tb := tn[t0 : t0+np*nr]
			xb := xn[t0:min(t0+np*nr, n)]
			_ = G[(kernMR-1)*ldc+np*nr-1]
			_ = packed[(p0+np)*panSize-1]
			for s := 0; s < nstrips; s++ {
				kern32(p, qa[s*p*kernMR:(s+1)*p*kernMR], kernMR, packed[p0*panSize:], nr, panSize, np, G, ldc)
				for r := 0; r < kernMR && s*kernMR+r < m; r++ {
					i := s*kernMR + r
					if exact[i] {
						continue
					}
					u := ub[i*k : (i+1)*k]
					g := G[r*ldc : r*ldc+len(tb)]
					qi := qn[i]
					// Lower bound (1-c)(‖q‖²+‖x‖²) - 2ĝ - a ≤ T, the
					// filter's side wider than its own rounding; what
					// passes is tested again below.
					t := u[k-1]
					nh := filter32(g, tb, t-(1-c)*qi+a+0x1p-44*(math.Abs(t)+qi), hit)
					for _, j := range hit[:nh] {
						x := xb[j]
						d := qi + x - 2*float64(g[j])
						sl := c*(qi+x) + a
						lo := d - sl
						if lo > u[k-1] {
							continue
						}
						if hi := d + sl; hi < u[k-1] {
							pos := k - 1
							for pos > 0 && u[pos-1] > hi {
								u[pos] = u[pos-1]
								pos--
							}
							u[pos] = hi
						}
						cs := append(cands[i], knnCand{lo: lo, row: int32(t0) + j})
						if len(cs) >= pruneAt[i] {
							cs = pruneCands(cs, u[k-1])
							pruneAt[i] = max(4*k+64, 2*len(cs))
							if len(cs) > knn32MaxCands(k) {
								exact[i], cs = true, nil
							}
						}
						cands[i] = cs
						if exact[i] {
							break
						}
					}
				}
			}
		}
		for i := 0; i < m; i++ {
			q := Q.RawRowView(q0 + i)
			out := idx[(q0+i)*k : (q0+i+1)*k]
			if exact[i] {
				copy(out, st.bruteTopK(q, k))
				continue
			}
			cs := pruneCands(cands[i], ub[i*k+k-1])
			for j := range cs {
				t := int(cs[j].row)
				cs[j].lo = sqDist(q, st.X[t*p:(t+1)*p])
			}
			slices.SortFunc(cs, func(x, y knnCand) int {
				return cmp.Or(cmp.Compare(x.lo, y.lo), cmp.Compare(x.row, y.row))
			})
			for j := range out {
				out[j] = -1
				if j < len(cs) {
					out[j] = cs[j].row
				}
			}
		}
		return nil
	})
	return err == nil, err
}

// knn32MaxCands is the most rows a query keeps from the float32 pass.
func knn32MaxCands(k int) int { return 8*k + 1024 }

// knnCand is a training row that may be among a query's neighbors, with
// the lower bound of its distance (its exact distance at the end).
type knnCand struct {
	lo  float64
	row int32
}

// pruneCands drops, in place, the candidates whose lower bound is above t.
func pruneCands(cs []knnCand, t float64) []knnCand {
	return slices.DeleteFunc(cs, func(c knnCand) bool { return c.lo > t })
}

// packPanels32 packs the n rows of p values of data (row-major) into
// float32 panels of nr rows stored k-major, zero padded, and returns the
// rows' squared norms (in float64) and the largest magnitude; ok is
// false, and nothing else meaningful, when a value is beyond
// knn32MaxAbs or NaN.
func packPanels32(data []float64, n, p, nr, nw int) (packed []float32, norms []float64, maxAbs float64, ok bool) {
	npan := (n + nr - 1) / nr
	size := p * nr
	packed = make([]float32, npan*size)
	norms = make([]float64, n)
	parts := chunks(npan, (npan+255)/256, 256)
	mx := make([]float64, len(parts))
	bad := make([]bool, len(parts))
	parallel(len(parts), nw, func(c int) error {
		m := 0.0
		for q := parts[c][0]; q < parts[c][1]; q++ {
			dst := packed[q*size : (q+1)*size]
			for j := 0; j < nr && q*nr+j < n; j++ {
				row := data[(q*nr+j)*p : (q*nr+j+1)*p]
				norms[q*nr+j] = floats.Dot(row, row)
				for kk, v := range row {
					av := math.Abs(v)
					if !(av <= knn32MaxAbs) {
						bad[c] = true
						return nil
					}
					m = max(m, av)
					dst[kk*nr+j] = float32(v)
				}
			}
		}
		mx[c] = m
		return nil
	})
	if slices.Contains(bad, true) {
		return nil, nil, 0, false
	}
	return packed, norms, slices.Max(append(mx, 0)), true
}

// kern32Go is the float32 strip product in portable Go (the reference
// for the assembly kernels): C[i][q·nr+j] = Σ_k a[k·lda+i]·b[q·bstep+k·ldb+j].
func kern32Go(k int, a []float32, lda int, b []float32, ldb, bstep, nb int, c []float32, ldc int) {
	nr := ldb
	for q := 0; q < nb; q++ {
		for i := 0; i < kernMR; i++ {
			for j := 0; j < nr; j++ {
				var s float32
				for kk := 0; kk < k; kk++ {
					s = float32(math.FMA(float64(a[kk*lda+i]), float64(b[q*bstep+kk*ldb+j]), float64(s)))
				}
				c[i*ldc+q*nr+j] = s
			}
		}
	}
}

// filter32Go is filterBelow32 in portable Go.
func filter32Go(g []float32, tn []float64, limit float64, out []int32) int {
	c := 0
	for j, t := range tn {
		if t-2*float64(g[j]) < limit {
			out[c] = int32(j)
			c++
		}
	}
	return c
}
