//go:build !amd64 || purego

package experiments

func kern32Asm(nr int) func(k int, a []float32, lda int, b []float32, ldb, bstep, nb int, c []float32, ldc int) {
	return nil
}
