package experiments

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestKern32 checks the float32 strip product (assembly where the CPU
// has it) against float64 products of the same float32 inputs.
func TestKern32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, nr := range []int{24, 48} {
		for _, p := range []int{1, 3, 50} {
			nb := 3
			a := make([]float32, p*kernMR)
			b := make([]float32, nb*p*nr)
			for i := range a {
				a[i] = float32(r.NormFloat64())
			}
			for i := range b {
				b[i] = float32(r.NormFloat64())
			}
			ldc := nb*nr + 5
			c := make([]float32, kernMR*ldc)
			for i := range c {
				c[i] = 99 // overwritten
			}
			kern := kern32Asm(nr)
			if kern == nil {
				kern = kern32Go
			}
			kern(p, a, kernMR, b, nr, p*nr, nb, c, ldc)
			for i := 0; i < kernMR; i++ {
				for q := 0; q < nb; q++ {
					for j := 0; j < nr; j++ {
						var want, abs float64
						for k := 0; k < p; k++ {
							v := float64(a[k*kernMR+i]) * float64(b[q*p*nr+k*nr+j])
							want += v
							abs += math.Abs(v)
						}
						got := float64(c[i*ldc+q*nr+j])
						if math.Abs(got-want) > float64(p+1)*0x1p-24*abs {
							t.Fatalf("nr=%d p=%d: C[%d][%d] = %v, want %v", nr, p, i, q*nr+j, got, want)
						}
					}
				}
			}
			for i := 0; i < kernMR; i++ {
				if c[i*ldc+nb*nr] != 99 {
					t.Fatalf("nr=%d p=%d: wrote past the strip", nr, p)
				}
			}
		}
	}
}

func TestFilter32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 96
	g := make([]float32, n)
	tn := make([]float64, n)
	for j := range g {
		g[j] = float32(r.NormFloat64())
		tn[j] = r.NormFloat64()
	}
	tn[5] = math.Inf(1)
	for _, limit := range []float64{math.Inf(-1), -1, 0, 1, math.Inf(1)} {
		got := make([]int32, n)
		want := make([]int32, n)
		gc := filter32(g, tn, limit, got)
		wc := filter32Go(g, tn, limit, want)
		if !slices.Equal(got[:gc], want[:wc]) {
			t.Fatalf("limit %v: %v, want %v", limit, got[:gc], want[:wc])
		}
	}
}

// TestNeighbors32 checks that the two-precision search returns exactly
// the k rows of smallest sqDist (ties to the lower index), on data made
// to defeat float32: near-ties below its resolution, duplicates, large
// and subnormal magnitudes.
func TestNeighbors32(t *testing.T) {
	gauss := func(r *rand.Rand, n, p int, scale float64) *mat.Dense {
		X := mat.NewDense(n, p, nil)
		d := X.RawMatrix().Data
		for i := range d {
			d[i] = scale * r.NormFloat64()
		}
		return X
	}
	cases := []struct {
		name     string
		make     func(r *rand.Rand) (X, Q *mat.Dense)
		float32s bool // whether the float32 pass takes it
	}{
		{"gaussian", func(r *rand.Rand) (*mat.Dense, *mat.Dense) { return gauss(r, 3000, 50, 1), gauss(r, 70, 50, 1) }, true},
		{"few features", func(r *rand.Rand) (*mat.Dense, *mat.Dense) { return gauss(r, 500, 2, 1), gauss(r, 20, 2, 1) }, true},
		{"near ties", func(r *rand.Rand) (*mat.Dense, *mat.Dense) {
			// Rows a relative 1e-9 apart around a few centres: float32
			// cannot tell them apart, sqDist can.
			X := mat.NewDense(2000, 8, nil)
			for i := 0; i < 2000; i++ {
				c := float64(i % 5)
				for j := 0; j < 8; j++ {
					X.Set(i, j, c+1e-9*r.NormFloat64())
				}
			}
			Q := mat.NewDense(12, 8, nil)
			for i := 0; i < 12; i++ {
				for j := 0; j < 8; j++ {
					Q.Set(i, j, float64(i%5)+0.3)
				}
			}
			return X, Q
		}, true},
		{"duplicates", func(r *rand.Rand) (*mat.Dense, *mat.Dense) {
			X := gauss(r, 400, 6, 1)
			for i := 100; i < 400; i++ {
				copy(X.RawRowView(i), X.RawRowView(i%7))
			}
			Q := mat.DenseCopyOf(X.Slice(0, 16, 0, 6))
			return X, Q
		}, true},
		{"large", func(r *rand.Rand) (*mat.Dense, *mat.Dense) { return gauss(r, 800, 10, 1e12), gauss(r, 16, 10, 1e12) }, true},
		{"subnormal in float32", func(r *rand.Rand) (*mat.Dense, *mat.Dense) {
			return gauss(r, 800, 10, 1e-41), gauss(r, 16, 10, 1e-41)
		}, true},
		{"mixed scales", func(r *rand.Rand) (*mat.Dense, *mat.Dense) {
			X, Q := gauss(r, 800, 10, 1), gauss(r, 16, 10, 1)
			for _, M := range []*mat.Dense{X, Q} {
				n, _ := M.Dims()
				for i := 0; i < n; i++ {
					M.Set(i, 0, M.At(i, 0)*1e9)
					M.Set(i, 1, M.At(i, 1)*1e-30)
				}
			}
			return X, Q
		}, true},
		{"binary features, rows tied by the thousand", func(r *rand.Rand) (*mat.Dense, *mat.Dense) {
			// Four distinct rows, 1500 copies each: more ties within
			// the bound than a query keeps (knn32MaxCands), so the
			// queries are searched in float64.
			X := mat.NewDense(6000, 2, nil)
			for i, d := 0, X.RawMatrix().Data; i < len(d); i++ {
				d[i] = float64(r.IntN(2))
			}
			Q := mat.NewDense(16, 2, nil)
			for i, d := 0, Q.RawMatrix().Data; i < len(d); i++ {
				d[i] = float64(r.IntN(2))
			}
			return X, Q
		}, true},
		{"beyond float32", func(r *rand.Rand) (*mat.Dense, *mat.Dense) { return gauss(r, 300, 4, 1e20), gauss(r, 16, 4, 1e20) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, 6))
			X, Q := tc.make(r)
			n, p := X.Dims()
			y := make([]float64, n)
			st, err := newKNNState("test", X, y, false)
			if err != nil {
				t.Fatal(err)
			}
			nq, _ := Q.Dims()
			for _, k := range []int{1, 5, 40} {
				want := make([]int32, nq*k)
				for i := 0; i < nq; i++ {
					q := Q.RawRowView(i)
					rows := make([]int32, n)
					d := make([]float64, n)
					for j := range rows {
						rows[j] = int32(j)
						d[j] = sqDist(q, st.X[j*p:(j+1)*p])
					}
					sortNeighbors(rows, d)
					copy(want[i*k:], rows[:k])
				}
				got := make([]int32, nq*k)
				done, err := st.neighbors32(Q, k, 2, got)
				if err != nil {
					t.Fatal(err)
				}
				if kernNR32 == 0 {
					if done {
						t.Fatal("float32 pass ran without a float32 kernel")
					}
					continue
				}
				if done != tc.float32s {
					t.Fatalf("k=%d: float32 pass took it: %v, want %v", k, done, tc.float32s)
				}
				if !done {
					continue
				}
				for i := 0; i < nq; i++ {
					g := slices.Clone(got[i*k : (i+1)*k])
					w := slices.Clone(want[i*k : (i+1)*k])
					slices.Sort(g)
					slices.Sort(w)
					if !slices.Equal(g, w) {
						t.Fatalf("k=%d query %d: rows %v, want %v", k, i, g, w)
					}
				}
				// And through the search callers use: nearest first.
				idx, _, err := st.neighbors(Q, k, 1)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(idx, want) {
					t.Fatalf("k=%d: neighbors %v, want %v", k, idx[:min(len(idx), 20)], want[:min(len(want), 20)])
				}
			}
		})
	}
}
