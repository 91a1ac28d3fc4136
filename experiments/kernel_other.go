//go:build !amd64 || purego

package experiments

const haveAsmKernel = false

// kernFast reports that there is no assembly kernel on this platform.
func kernFast(k int, a []float64, lda int, b []float64, ldb, bstep, nb int, c []float64, ldc int, acc bool) bool {
	return false
}
