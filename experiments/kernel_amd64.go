//go:build amd64 && !purego

package experiments

import "golang.org/x/sys/cpu"

var haveAsmKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kern4x12 is kernStrip's body in AVX2/FMA assembly (kernel_amd64.s),
// with element strides instead of slices.
//
//go:noescape
func kern4x12(k int, a *float64, lda int, b *float64, ldb, bstep, nb int, c *float64, ldc int, acc int)

// kernFast runs the assembly kernel when the CPU has it.
func kernFast(k int, a []float64, lda int, b []float64, ldb, bstep, nb int, c []float64, ldc int, acc bool) bool {
	if !haveAsmKernel {
		return false
	}
	ac := 0
	if acc {
		ac = 1
	}
	kern4x12(k, &a[0], lda, &b[0], ldb, bstep, nb, &c[0], ldc, ac)
	return true
}
