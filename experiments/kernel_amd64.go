//go:build amd64 && !purego

package experiments

import "golang.org/x/sys/cpu"

var (
	haveAsmKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	haveAVX512    = haveAsmKernel && cpu.X86.HasAVX512F
)

func init() {
	if haveAVX512 {
		kernNR = 24 // kern4x24: twice the lanes per instruction
	}
}

//go:noescape
func kern4x24(k int, a *float64, lda int, b *float64, ldb, bstep, nb int, c *float64, ldc int, acc int)

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
	if kernNR == 24 {
		kern4x24(k, &a[0], lda, &b[0], ldb, bstep, nb, &c[0], ldc, ac)
	} else {
		kern4x12(k, &a[0], lda, &b[0], ldb, bstep, nb, &c[0], ldc, ac)
	}
	return true
}

//go:noescape
func dot4(x *float64, stride int, w *float64, n int, out *[4]float64)

//go:noescape
func dot8(x *float64, stride int, w *float64, n int, out *[8]float64)

//go:noescape
func axpy4(x *float64, stride int, d *[4]float64, dst *float64, n int)

// dot4Fast and axpy4Fast run the assembly versions of dotRows4 and
// axpyRows4 when the CPU has them.
func dot4Fast(x []float64, stride int, w []float64, out *[4]float64) bool {
	if !haveAsmKernel {
		return false
	}
	dot4(&x[0], stride, &w[0], len(w), out)
	return true
}

// dot8Fast runs dot8, two dot4s at once, when the CPU has it.
func dot8Fast(x []float64, stride int, w []float64, out *[8]float64) bool {
	if !haveAsmKernel {
		return false
	}
	dot8(&x[0], stride, &w[0], len(w), out)
	return true
}

func axpy4Fast(x []float64, stride int, d *[4]float64, g []float64) bool {
	if !haveAsmKernel {
		return false
	}
	axpy4(&x[0], stride, d, &g[0], len(g))
	return true
}

//go:noescape
func expNegN(a, e *float64, n int)

// expNegFast runs the assembly expNegN when the CPU has it (len(a) a
// multiple of 4, e at least as long).
func expNegFast(a, e []float64) bool {
	if !haveAsmKernel {
		return false
	}
	_ = e[len(a)-1]
	expNegN(&a[0], &e[0], len(a))
	return true
}

//go:noescape
func logTermsN(z, s, d, loss *float64, n int)

// logTermsFast runs the assembly logTermsN when the CPU has it (len(z) a
// multiple of 4; the other slices at least as long).
func logTermsFast(z, s, d, loss []float64) bool {
	if !haveAsmKernel {
		return false
	}
	_, _, _ = s[len(z)-1], d[len(z)-1], loss[len(z)-1]
	logTermsN(&z[0], &s[0], &d[0], &loss[0], len(z))
	return true
}

//go:noescape
func argminRows(gm *float64, ldc int, cn *float64, K int, n int, bd, bk *float64)

func argminFast(g []float64, ldc int, cn []float64, bd, bk []float64) bool {
	if !haveAsmKernel {
		return false
	}
	argminRows(&g[0], ldc, &cn[0], len(cn), len(bd), &bd[0], &bk[0])
	return true
}

//go:noescape
func filterBelow(gm, tn *float64, n int, limit float64, out *int32) int

func filterFast(g, tn []float64, limit float64, out []int32) (int, bool) {
	if !haveAsmKernel {
		return 0, false
	}
	return filterBelow(&g[0], &tn[0], len(tn), limit, &out[0]), true
}

func init() {
	switch {
	case haveAVX512:
		kernNR32 = 48
	case haveAsmKernel:
		kernNR32 = 24
	}
}

//go:noescape
func kern4x24s(k int, a *float32, lda int, b *float32, ldb, bstep, nb int, c *float32, ldc int)

//go:noescape
func kern4x48s(k int, a *float32, lda int, b *float32, ldb, bstep, nb int, c *float32, ldc int)

// kern32 is kernStrip in float32 (kernel32_amd64.s), overwriting C;
// callers check kernNR32 > 0 and the bounds first.
func kern32(k int, a []float32, lda int, b []float32, ldb, bstep, nb int, c []float32, ldc int) {
	if kernNR32 == 48 {
		kern4x48s(k, &a[0], lda, &b[0], ldb, bstep, nb, &c[0], ldc)
	} else {
		kern4x24s(k, &a[0], lda, &b[0], ldb, bstep, nb, &c[0], ldc)
	}
}

//go:noescape
func filterBelow32(gm *float32, tn *float64, n int, limit float64, out *int32) int

func filter32(g []float32, tn []float64, limit float64, out []int32) int {
	return filterBelow32(&g[0], &tn[0], len(tn), limit, &out[0])
}
