package experiments

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// naiveStrip is the definition kernStrip implements.
func naiveStrip(k int, a []float64, lda int, b []float64, ldb, bstep, nb int, c []float64, ldc int, acc bool) {
	for i := 0; i < kernMR; i++ {
		for q := 0; q < nb; q++ {
			for j := 0; j < kernNR; j++ {
				var s float64
				for kk := 0; kk < k; kk++ {
					s += a[kk*lda+i] * b[q*bstep+kk*ldb+j]
				}
				if acc {
					c[i*ldc+q*kernNR+j] += s
				} else {
					c[i*ldc+q*kernNR+j] = s
				}
			}
		}
	}
}

func TestKernStrip(t *testing.T) {
	widths := []int{12}
	if haveAVX512 {
		widths = append(widths, 24)
	}
	saved := kernNR
	defer func() { kernNR = saved }()
	for _, nr := range widths {
		kernNR = nr
		t.Run(fmt.Sprintf("NR=%d", nr), testKernStrip)
	}
}

func testKernStrip(t *testing.T) {
	r := newRand(3)
	fill := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = r.NormFloat64()
		}
		return v
	}
	cases := []struct {
		name                 string
		k, lda, ldb, nb, ldc int
		bstep                int // 0 means packed panels (k·ldb)
		acc                  bool
	}{
		{"packed", 50, kernMR, kernNR, 7, 7 * kernNR, 0, false},
		{"packed accumulate", 33, kernMR, kernNR, 3, 3*kernNR + 4, 0, true},
		{"one step", 1, kernMR, kernNR, 1, kernNR, 0, false},
		{"empty k clears", 0, kernMR, kernNR, 2, 2 * kernNR, 0, false},
		{"empty k accumulates nothing", 0, kernMR, kernNR, 2, 2 * kernNR, 0, true},
		// Gram layout: A and B are column ranges of one row-major matrix.
		{"strided", 129, 60 + kernNR, 60 + kernNR, 4, 4 * kernNR, kernNR, true},
		{"odd stride", 17, 53, 61, 2, 2*kernNR + 6, 5, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bstep := tc.bstep
			if bstep == 0 {
				bstep = tc.k * tc.ldb
			}
			a := fill(max(tc.k, 1)*tc.lda + kernMR)
			b := fill((tc.nb-1)*bstep + max(tc.k, 1)*tc.ldb + kernNR)
			c0 := fill(kernMR * tc.ldc)
			want := append([]float64(nil), c0...)
			naiveStrip(tc.k, a, tc.lda, b, tc.ldb, bstep, tc.nb, want, tc.ldc, tc.acc)
			for _, impl := range []struct {
				name string
				f    func(int, []float64, int, []float64, int, int, int, []float64, int, bool)
			}{{"kernStrip", kernStrip}, {"kernGo", kernGo}} {
				got := append([]float64(nil), c0...)
				impl.f(tc.k, a, tc.lda, b, tc.ldb, bstep, tc.nb, got, tc.ldc, tc.acc)
				for i := range got {
					if math.Abs(got[i]-want[i]) > 1e-9*(1+math.Abs(want[i])) {
						t.Fatalf("%s: c[%d] = %v, want %v", impl.name, i, got[i], want[i])
					}
				}
			}
		})
	}
	t.Logf("assembly kernel: %v, AVX-512: %v", haveAsmKernel, haveAVX512)
}

func BenchmarkKernStrip(b *testing.B) {
	const k, nb = 50, 64
	a := make([]float64, k*kernMR)
	bb := make([]float64, nb*k*kernNR)
	c := make([]float64, kernMR*nb*kernNR)
	for i := range bb {
		bb[i] = float64(i%7) - 3
	}
	for i := range a {
		a[i] = float64(i%5) - 2
	}
	b.SetBytes(int64(2 * k * kernMR * kernNR * nb)) // flops, as "bytes"
	for i := 0; i < b.N; i++ {
		kernStrip(k, a, kernMR, bb, kernNR, k*kernNR, nb, c, nb*kernNR, false)
	}
}

func TestRows4(t *testing.T) {
	r := newRand(5)
	for _, n := range []int{1, 3, 4, 5, 8, 50, 63} {
		stride := n + 3
		x := make([]float64, 3*stride+n)
		w := make([]float64, n)
		for i := range x {
			x[i] = r.NormFloat64()
		}
		for i := range w {
			w[i] = r.NormFloat64()
		}
		var got [4]float64
		dotRows4(x, stride, w, &got)
		d := [4]float64{0.5, -1, 2, 0.25}
		g := make([]float64, n)
		for i := range g {
			g[i] = float64(i)
		}
		want := append([]float64(nil), g...)
		axpyRows4(x, stride, &d, g)
		for row := 0; row < 4; row++ {
			var s float64
			for k := 0; k < n; k++ {
				s += x[row*stride+k] * w[k]
				want[k] += d[row] * x[row*stride+k]
			}
			if math.Abs(got[row]-s) > 1e-12*(1+math.Abs(s)) {
				t.Errorf("n=%d dot row %d = %v, want %v", n, row, got[row], s)
			}
		}
		for k := range g {
			if math.Abs(g[k]-want[k]) > 1e-12*(1+math.Abs(want[k])) {
				t.Errorf("n=%d axpy [%d] = %v, want %v", n, k, g[k], want[k])
			}
		}
	}
}

// TestRows8 checks that dotRows8 gives each of its eight rows dotRows4's
// result bit for bit (the logistic loss batches rows by eight).
func TestRows8(t *testing.T) {
	r := newRand(7)
	for _, n := range []int{1, 3, 4, 5, 8, 50, 63} {
		stride := n + 3
		x := make([]float64, 7*stride+n)
		w := make([]float64, n)
		for i := range x {
			x[i] = r.NormFloat64()
		}
		for i := range w {
			w[i] = r.NormFloat64()
		}
		x[2*stride] = math.Copysign(0, -1)
		var got [8]float64
		dotRows8(x, stride, w, &got)
		for h := 0; h < 2; h++ {
			var want [4]float64
			dotRows4(x[4*h*stride:], stride, w, &want)
			for row := range want {
				if math.Float64bits(got[4*h+row]) != math.Float64bits(want[row]) {
					t.Errorf("n=%d row %d: dotRows8 %v, dotRows4 %v", n, 4*h+row, got[4*h+row], want[row])
				}
			}
		}
	}
}

// TestKernelWidthsAgree checks that the AVX-512 kernel (panels of 24)
// gives the same fits as the AVX2 one (panels of 12), bit for bit.
func TestKernelWidthsAgree(t *testing.T) {
	if !haveAVX512 {
		t.Skip("no AVX-512 on this machine")
	}
	X, y := blobs(7000, 4, 9, 3, 41)
	Q, _ := blobs(50, 4, 9, 3, 42)
	fit := func() []float64 {
		var out []float64
		km := &KMeans{K: 6, NInit: 2}
		if err := km.Fit(X, nil); err != nil {
			t.Fatal(err)
		}
		out = append(out, km.Centers().RawMatrix().Data...)
		r := &Ridge{Alpha: 2}
		if err := r.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		out = append(append(out, r.Coef()...), r.Intercept())
		kn := &KNeighborsRegressor{K: 5, Weights: "distance"}
		if err := kn.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		pred, err := kn.Predict(Q)
		if err != nil {
			t.Fatal(err)
		}
		return append(out, pred...)
	}
	saved := kernNR
	defer func() { kernNR = saved }()
	kernNR = 12
	a := fit()
	kernNR = 24
	b := fit()
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("value %d: %v with panels of 12, %v with 24", i, a[i], b[i])
		}
	}
}

func TestArgminCols(t *testing.T) {
	r := newRand(9)
	for _, tc := range []struct{ K, n, ldc int }{{1, 4, 4}, {3, 8, 11}, {8, 192, 192}, {13, 36, 40}} {
		g := make([]float64, tc.K*tc.ldc)
		for i := range g {
			g[i] = float64(r.IntN(7)) // many ties: the first k must win
		}
		cn := make([]float64, tc.K)
		for k := range cn {
			cn[k] = float64(r.IntN(5))
		}
		bd, bk := make([]float64, tc.n), make([]float64, tc.n)
		argminCols(g, tc.ldc, cn, bd, bk)
		for j := 0; j < tc.n; j++ {
			wb, wd := 0, cn[0]-2*g[j]
			for k := 1; k < tc.K; k++ {
				if v := cn[k] - 2*g[k*tc.ldc+j]; v < wd {
					wb, wd = k, v
				}
			}
			if bd[j] != wd || bk[j] != float64(wb) {
				t.Fatalf("K=%d column %d: (%v, %v), want (%v, %v)", tc.K, j, bd[j], bk[j], wd, wb)
			}
		}
	}
}

func TestFilterCols(t *testing.T) {
	r := newRand(19)
	for _, n := range []int{4, 12, 576, 7} {
		g, tn := make([]float64, n), make([]float64, n)
		for j := range g {
			g[j], tn[j] = r.NormFloat64(), r.NormFloat64()
		}
		tn[n-1] = math.Inf(1) // padding rows never pass
		for _, limit := range []float64{-10, -1, 0, 3, math.Inf(1)} {
			out := make([]int32, n)
			c := filterCols(g, tn, limit, out)
			var want []int32
			for j := range tn {
				if tn[j]-2*g[j] < limit {
					want = append(want, int32(j))
				}
			}
			if !slices.Equal(out[:c], want) {
				t.Errorf("n=%d limit %v: %v, want %v", n, limit, out[:c], want)
			}
		}
	}
}

func TestLabelCodes(t *testing.T) {
	r := newRand(23)
	for _, tc := range []struct{ n, levels int }{{0, 1}, {1, 1}, {100, 2}, {1000, 3}, {5000, 64}, {5000, 65}, {3000, 1000}} {
		y := make([]float64, tc.n)
		for i := range y {
			y[i] = float64(r.IntN(tc.levels))*1.5 - 7
		}
		gc, gi := labelCodes(y)
		wc, wi := encodeClasses(y)
		if !slices.Equal(gc, wc) || !slices.Equal(gi, wi) {
			t.Errorf("%d rows, %d levels: labelCodes differs from encodeClasses", tc.n, tc.levels)
		}
	}
}
