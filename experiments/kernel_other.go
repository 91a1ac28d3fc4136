//go:build !amd64 || purego

package experiments

const (
	haveAsmKernel = false
	haveAVX512    = false
)

// kernFast reports that there is no assembly kernel on this platform.
func kernFast(k int, a []float64, lda int, b []float64, ldb, bstep, nb int, c []float64, ldc int, acc bool) bool {
	return false
}

func dot4Fast(x []float64, stride int, w []float64, out *[4]float64) bool { return false }

func dot8Fast(x []float64, stride int, w []float64, out *[8]float64) bool { return false }

func axpy4Fast(x []float64, stride int, d *[4]float64, g []float64) bool { return false }

func expNegFast(a, e []float64) bool { return false }

func logTermsFast(z, s, d, loss []float64) bool { return false }

func argminFast(g []float64, ldc int, cn []float64, bd, bk []float64) bool { return false }

func filterFast(g, tn []float64, limit float64, out []int32) (int, bool) { return 0, false }

// The neighbor search keeps to float64 here (kernNR32 stays 0); the
// float32 entry points are the portable versions.
func kern32(k int, a []float32, lda int, b []float32, ldb, bstep, nb int, c []float32, ldc int) {
	kern32Go(k, a, lda, b, ldb, bstep, nb, c, ldc)
}

func filter32(g []float32, tn []float64, limit float64, out []int32) int {
	return filter32Go(g, tn, limit, out)
}
