package experiments

import (
	"math"
	"slices"
	"testing"
)

// sortedOrder sorts rows by value, ties by row, as a stable comparison
// sort does, on short and long columns, with many ties, negative values
// and -0.
func TestSortedOrderStable(t *testing.T) {
	r := newRand(7)
	for _, n := range []int{0, 1, 2, 17, 255, 256, 1797, 2047, 2048, 5000} {
		for _, gen := range []func(i int) float64{
			func(int) float64 { return float64(r.IntN(17)) },                                       // small integers, many ties
			func(int) float64 { return r.NormFloat64() },                                           // all distinct
			func(i int) float64 { return float64(r.IntN(5)-2) * 0.5 },                              // negatives and ties
			func(i int) float64 { return []float64{0, math.Copysign(0, -1), 1e300, -1e-300}[i%4] }, // -0, extremes
		} {
			col := make([]float64, n)
			for i := range col {
				col[i] = gen(i)
			}
			want := make([]int32, n)
			for i := range want {
				want[i] = int32(i)
			}
			slices.SortStableFunc(want, func(a, b int32) int {
				switch x, y := col[a], col[b]; {
				case x < y:
					return -1
				case x > y:
					return 1
				}
				return 0
			})
			if got := sortedOrder(col); !slices.Equal(got, want) {
				t.Fatalf("n=%d: order differs from a stable sort", n)
			}
		}
	}
}
