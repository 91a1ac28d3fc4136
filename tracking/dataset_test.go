package tracking

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// appendNumber writes exactly what strconv's shortest 'g' format writes:
// the digests of stored snapshots depend on it.
func TestAppendNumber(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 16, 999999, -999999, 1e6, -1e6, 1e6 - 0.5, 123456,
		0.5, -0.25, 1e21, 1e-7, math.MaxInt64, math.MinInt64, math.NaN(), math.Inf(1), math.Inf(-1), 4503599627370497}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100000; i++ {
		vals = append(vals, float64(r.IntN(4e6)-2e6), r.NormFloat64()*1e3, math.Float64frombits(r.Uint64()))
	}
	for _, v := range vals {
		if got, want := appendNumber(nil, v), strconv.AppendFloat(nil, v, 'g', -1, 64); !bytes.Equal(got, want) {
			t.Fatalf("appendNumber(%v) = %q, want %q", v, got, want)
		}
	}
}

// BenchmarkDenseCSV formats a digits-sized table of whole numbers and
// one of measured values.
func BenchmarkDenseCSV(b *testing.B) {
	const nr, nc = 1797, 65
	for _, kind := range []string{"whole", "measured"} {
		b.Run(kind, func(b *testing.B) {
			data := make([]float64, nr*nc)
			for i := range data {
				data[i] = float64(i % 17)
				if kind == "measured" {
					data[i] = math.Sin(float64(i)) * 100
				}
			}
			cols := columnsOr(nil, nc)
			b.SetBytes(8 * nr * nc)
			for b.Loop() {
				denseCSV(cols, nr, nc, data, nil)
			}
		})
	}
}
