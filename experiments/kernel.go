package experiments

// A small matrix-product kernel for the models whose cost is dense
// products of skinny matrices (neighbor distances, Gram matrices, k-means
// assignment). gonum's pure-Go BLAS runs these at a fraction of what the
// hardware does; on amd64 with AVX2 and FMA the kernel is assembly
// (kernel_amd64.s), elsewhere kernGo.
//
// The kernel computes a kernMR×(kernNR·nb) strip of C = AᵀB, where A and
// B are stored k-major: element (k, i) of A is a[k·lda+i] and element
// (k, j) of B's panel q is b[q·bstep+k·ldb+j]. With acc set it adds to C.
// Every element is one sum over k in increasing order, so results do not
// depend on how callers split the work between goroutines.

// kernMR is the rows of a strip (columns of A).
const kernMR = 4

// kernNR is the columns of a panel (columns of B): 12, or 24 where the
// AVX-512 kernel runs (set at init). Callers block by rows in multiples
// of 24 (kernRowUnit), so their partial sums do not depend on it.
var kernNR = 12

// kernRowUnit is a multiple of every kernNR.
const kernRowUnit = 24

// kernStrip computes the strip into C[0:kernMR, 0:kernNR·nb] with row
// stride ldc, after checking every index the kernel will touch.
func kernStrip(k int, a []float64, lda int, b []float64, ldb, bstep, nb int, c []float64, ldc int, acc bool) {
	if nb <= 0 {
		return
	}
	_ = c[(kernMR-1)*ldc+kernNR*nb-1]
	if k <= 0 {
		if !acc {
			for i := 0; i < kernMR; i++ {
				clear(c[i*ldc : i*ldc+kernNR*nb])
			}
		}
		return
	}
	_ = a[(k-1)*lda+kernMR-1]
	_ = b[(nb-1)*bstep+(k-1)*ldb+kernNR-1]
	if kernFast(k, a, lda, b, ldb, bstep, nb, c, ldc, acc) {
		return
	}
	kernGo(k, a, lda, b, ldb, bstep, nb, c, ldc, acc)
}

// kernGo is the portable kernel: a 4×4 register block at a time, so the
// compiler keeps sixteen sums in registers.
func kernGo(k int, a []float64, lda int, b []float64, ldb, bstep, nb int, c []float64, ldc int, acc bool) {
	for q := 0; q < nb; q++ {
		bq := b[q*bstep:]
		for j0 := 0; j0 < kernNR; j0 += 4 {
			var s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33 float64
			for kk := 0; kk < k; kk++ {
				av := a[kk*lda : kk*lda+4 : kk*lda+4]
				bv := bq[kk*ldb+j0 : kk*ldb+j0+4 : kk*ldb+j0+4]
				a0, a1, a2, a3 := av[0], av[1], av[2], av[3]
				b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
				s00 += a0 * b0
				s01 += a0 * b1
				s02 += a0 * b2
				s03 += a0 * b3
				s10 += a1 * b0
				s11 += a1 * b1
				s12 += a1 * b2
				s13 += a1 * b3
				s20 += a2 * b0
				s21 += a2 * b1
				s22 += a2 * b2
				s23 += a2 * b3
				s30 += a3 * b0
				s31 += a3 * b1
				s32 += a3 * b2
				s33 += a3 * b3
			}
			col := q*kernNR + j0
			rows := [4][4]float64{{s00, s01, s02, s03}, {s10, s11, s12, s13}, {s20, s21, s22, s23}, {s30, s31, s32, s33}}
			for i := 0; i < 4; i++ {
				out := c[i*ldc+col : i*ldc+col+4 : i*ldc+col+4]
				if acc {
					out[0] += rows[i][0]
					out[1] += rows[i][1]
					out[2] += rows[i][2]
					out[3] += rows[i][3]
				} else {
					out[0], out[1], out[2], out[3] = rows[i][0], rows[i][1], rows[i][2], rows[i][3]
				}
			}
		}
	}
}

// packPanels copies the n rows of p values at data[i·stride:] into panels
// of kernNR rows stored k-major (panel q, value k of its row j at
// q·p·kernNR + k·kernNR + j), zero padding the last panel; this is the B
// layout of kernStrip with ldb kernNR and bstep p·kernNR. It also returns
// the squared norm of every row (0 for padding). Panels are packed in
// parallel; the output does not depend on nw.
func packPanels(data []float64, stride, n, p, nw int) (packed, norms []float64, err error) {
	npan := (n + kernNR - 1) / kernNR
	size := p * kernNR
	packed = make([]float64, npan*size)
	norms = make([]float64, npan*kernNR)
	parts := chunks(npan, (npan+255)/256, 256)
	err = parallel(len(parts), nw, func(c int) error {
		for q := parts[c][0]; q < parts[c][1]; q++ {
			dst := packed[q*size : (q+1)*size]
			for j := 0; j < kernNR && q*kernNR+j < n; j++ {
				i := q*kernNR + j
				row := data[i*stride : i*stride+p]
				var s float64
				for k, v := range row {
					dst[k*kernNR+j] = v
					s += v * v
				}
				norms[i] = s
			}
		}
		return nil
	})
	return packed, norms, err
}

// packStrips packs up to kernMR·nstrips rows (each p values, given by
// row(i)) k-major in strips of kernMR: the A layout of kernStrip with lda
// kernMR, strip s at s·p·kernMR. Missing rows are zero.
func packStrips(dst []float64, m, p int, row func(i int) []float64) {
	clear(dst)
	for i := 0; i < m; i++ {
		s, r := i/kernMR, i%kernMR
		base := s * p * kernMR
		for k, v := range row(i)[:p] {
			dst[base+k*kernMR+r] = v
		}
	}
}

// dotRows4 sets out[r] to the dot product of w with the row
// x[r·stride : r·stride+len(w)], for four rows.
func dotRows4(x []float64, stride int, w []float64, out *[4]float64) {
	n := len(w)
	if n == 0 {
		*out = [4]float64{}
		return
	}
	_ = x[3*stride+n-1]
	if dot4Fast(x, stride, w, out) {
		return
	}
	x0, x1, x2, x3 := x[:n], x[stride:stride+n], x[2*stride:2*stride+n], x[3*stride:3*stride+n]
	var s0, s1, s2, s3 float64
	for k, v := range w {
		s0 += x0[k] * v
		s1 += x1[k] * v
		s2 += x2[k] * v
		s3 += x3[k] * v
	}
	*out = [4]float64{s0, s1, s2, s3}
}

// dotRows8 is dotRows4 for eight rows, the result of each exactly
// dotRows4's.
func dotRows8(x []float64, stride int, w []float64, out *[8]float64) {
	n := len(w)
	if n == 0 {
		*out = [8]float64{}
		return
	}
	_ = x[7*stride+n-1]
	if dot8Fast(x, stride, w, out) {
		return
	}
	dotRows4(x, stride, w, (*[4]float64)(out[:4]))
	dotRows4(x[4*stride:], stride, w, (*[4]float64)(out[4:]))
}

// axpyRows4 adds Σ_r d[r]·x[r·stride : r·stride+len(g)] to g.
func axpyRows4(x []float64, stride int, d *[4]float64, g []float64) {
	n := len(g)
	if n == 0 {
		return
	}
	_ = x[3*stride+n-1]
	if axpy4Fast(x, stride, d, g) {
		return
	}
	x0, x1, x2, x3 := x[:n], x[stride:stride+n], x[2*stride:2*stride+n], x[3*stride:3*stride+n]
	for k := range g {
		g[k] += d[0]*x0[k] + d[1]*x1[k] + d[2]*x2[k] + d[3]*x3[k]
	}
}

// logTermsRows4 is logisticTerm for four rows: d[r] gets the derivative
// and the sum of the four losses is returned (lanes added in order).
func logTermsRows4(z, s, d *[4]float64) float64 {
	var loss [4]float64
	logTermsRows(z[:], s[:], d[:], loss[:])
	return ((loss[0] + loss[1]) + loss[2]) + loss[3]
}

// expNegRows sets e[i] = expNeg(a[i]) (a ≥ 0), four lanes at a time in
// assembly where the CPU has it; len(a) is a multiple of 4. A NaN gives
// NaN in Go and e^-700 in assembly (as in logTermsN): callers keep NaN
// elsewhere in what they compute (the multinomial loss adds a itself).
func expNegRows(a, e []float64) {
	if len(a) == 0 || expNegFast(a, e) {
		return
	}
	for i, v := range a {
		e[i] = expNeg(v)
	}
}

// logTermsRows is logisticTerm for each row: loss[r] and d[r] get the
// loss and derivative of score z[r] with sign s[r]. len(z) is a multiple
// of 4.
func logTermsRows(z, s, d, loss []float64) {
	if len(z) == 0 || logTermsFast(z, s, d, loss) {
		return
	}
	for r := range z {
		loss[r], d[r] = logisticTerm(z[r], s[r])
	}
}

// argminCols sets, for each column j < len(bd) of the K = len(cn) rows of
// g (row stride ldc), bd[j] = min_k cn[k] - 2·g[k·ldc+j] and bk[j] = the
// first k reaching it. len(bd) must be a multiple of 4 (columns past the
// caller's are computed and ignored).
func argminCols(g []float64, ldc int, cn []float64, bd, bk []float64) {
	n, K := len(bd), len(cn)
	if n == 0 || K == 0 {
		return
	}
	_ = g[(K-1)*ldc+n-1]
	_ = bk[n-1]
	if n%4 == 0 && argminFast(g, ldc, cn, bd, bk) {
		return
	}
	for j := range bd {
		b, d := 0, cn[0]-2*g[j]
		for k := 1; k < K; k++ {
			if v := cn[k] - 2*g[k*ldc+j]; v < d {
				b, d = k, v
			}
		}
		bd[j], bk[j] = d, float64(b)
	}
}

// filterCols writes to out, in increasing order, every j < len(tn) with
// tn[j] - 2·g[j] < limit, and returns how many. out needs len(tn) room.
func filterCols(g, tn []float64, limit float64, out []int32) int {
	n := len(tn)
	if n == 0 {
		return 0
	}
	_ = g[n-1]
	_ = out[n-1]
	if n%4 == 0 {
		if c, ok := filterFast(g, tn, limit, out); ok {
			return c
		}
	}
	c := 0
	for j, t := range tn {
		if t-2*g[j] < limit {
			out[c] = int32(j)
			c++
		}
	}
	return c
}
