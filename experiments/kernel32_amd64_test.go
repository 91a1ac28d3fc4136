//go:build amd64 && !purego

package experiments

// kern32Asm returns the assembly float32 kernel for panels of nr columns
// when this CPU runs it, so the tests cover both, whichever the search
// picked.
func kern32Asm(nr int) func(k int, a []float32, lda int, b []float32, ldb, bstep, nb int, c []float32, ldc int) {
	switch {
	case nr == 48 && haveAVX512:
		return func(k int, a []float32, lda int, b []float32, ldb, bstep, nb int, c []float32, ldc int) {
			kern4x48s(k, &a[0], lda, &b[0], ldb, bstep, nb, &c[0], ldc)
		}
	case nr == 24 && haveAsmKernel:
		return func(k int, a []float32, lda int, b []float32, ldb, bstep, nb int, c []float32, ldc int) {
			kern4x24s(k, &a[0], lda, &b[0], ldb, bstep, nb, &c[0], ldc)
		}
	}
	return nil
}
