//go:build amd64 && !purego

#include "textflag.h"

// func kern4x12(k int, a *float64, lda int, b *float64, ldb, bstep, nb int, c *float64, ldc int, acc int)
//
// For each of nb panels of B: twelve accumulators Y0-Y11 hold a 4×12
// block of C (row i in Y(3i)..Y(3i+2)); each step over k loads twelve
// values of B, broadcasts four of A and issues twelve FMAs.
TEXT ·kern4x12(SB), NOSPLIT, $0-80
	MOVQ k+0(FP), R8
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R9
	SHLQ $3, R9
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R10
	SHLQ $3, R10
	MOVQ bstep+40(FP), R11
	SHLQ $3, R11
	MOVQ nb+48(FP), R12
	MOVQ c+56(FP), DX
	MOVQ ldc+64(FP), R13
	SHLQ $3, R13

panel:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R8, CX

loop:
	VMOVUPD (BX), Y12
	VMOVUPD 32(BX), Y13
	VMOVUPD 64(BX), Y14
	VBROADCASTSD (AX), Y15
	VFMADD231PD Y12, Y15, Y0
	VFMADD231PD Y13, Y15, Y1
	VFMADD231PD Y14, Y15, Y2
	VBROADCASTSD 8(AX), Y15
	VFMADD231PD Y12, Y15, Y3
	VFMADD231PD Y13, Y15, Y4
	VFMADD231PD Y14, Y15, Y5
	VBROADCASTSD 16(AX), Y15
	VFMADD231PD Y12, Y15, Y6
	VFMADD231PD Y13, Y15, Y7
	VFMADD231PD Y14, Y15, Y8
	VBROADCASTSD 24(AX), Y15
	VFMADD231PD Y12, Y15, Y9
	VFMADD231PD Y13, Y15, Y10
	VFMADD231PD Y14, Y15, Y11
	ADDQ R9, AX
	ADDQ R10, BX
	DECQ CX
	JNZ  loop

	MOVQ DX, AX
	CMPQ acc+72(FP), $0
	JEQ  store
	VADDPD (AX), Y0, Y0
	VADDPD 32(AX), Y1, Y1
	VADDPD 64(AX), Y2, Y2
	ADDQ   R13, AX
	VADDPD (AX), Y3, Y3
	VADDPD 32(AX), Y4, Y4
	VADDPD 64(AX), Y5, Y5
	ADDQ   R13, AX
	VADDPD (AX), Y6, Y6
	VADDPD 32(AX), Y7, Y7
	VADDPD 64(AX), Y8, Y8
	ADDQ   R13, AX
	VADDPD (AX), Y9, Y9
	VADDPD 32(AX), Y10, Y10
	VADDPD 64(AX), Y11, Y11
	MOVQ   DX, AX

store:
	VMOVUPD Y0, (AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 64(AX)
	ADDQ    R13, AX
	VMOVUPD Y3, (AX)
	VMOVUPD Y4, 32(AX)
	VMOVUPD Y5, 64(AX)
	ADDQ    R13, AX
	VMOVUPD Y6, (AX)
	VMOVUPD Y7, 32(AX)
	VMOVUPD Y8, 64(AX)
	ADDQ    R13, AX
	VMOVUPD Y9, (AX)
	VMOVUPD Y10, 32(AX)
	VMOVUPD Y11, 64(AX)

	ADDQ $96, DX
	ADDQ R11, DI
	DECQ R12
	JNZ  panel

	VZEROUPPER
	RET

// func dot4(x *float64, stride int, w *float64, n int, out *[4]float64)
//
// out[r] = Σ_k x[r·stride+k]·w[k] for the four rows r: four lanes at a
// time into one accumulator per row, then a scalar tail.
TEXT ·dot4(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ stride+8(FP), R8
	SHLQ $3, R8
	MOVQ w+16(FP), DI
	MOVQ n+24(FP), CX
	MOVQ out+32(FP), DX
	LEAQ (SI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-4, BX
	JZ   dot4tail

dot4loop:
	VMOVUPD     (DI)(AX*8), Y4
	VFMADD231PD (SI)(AX*8), Y4, Y0
	VFMADD231PD (R9)(AX*8), Y4, Y1
	VFMADD231PD (R10)(AX*8), Y4, Y2
	VFMADD231PD (R11)(AX*8), Y4, Y3
	ADDQ        $4, AX
	CMPQ        AX, BX
	JLT         dot4loop

dot4tail:
	// Lane sums: [a b c d] in Y0.
	VHADDPD    Y1, Y0, Y0
	VHADDPD    Y3, Y2, Y2
	VPERM2F128 $0x20, Y2, Y0, Y5
	VPERM2F128 $0x31, Y2, Y0, Y6
	VADDPD     Y6, Y5, Y0
	VXORPD     X8, X8, X8
	VXORPD     X9, X9, X9
	VXORPD     X10, X10, X10
	VXORPD     X11, X11, X11
	CMPQ       AX, CX
	JGE        dot4done

dot4scalar:
	VMOVSD      (DI)(AX*8), X4
	VFMADD231SD (SI)(AX*8), X4, X8
	VFMADD231SD (R9)(AX*8), X4, X9
	VFMADD231SD (R10)(AX*8), X4, X10
	VFMADD231SD (R11)(AX*8), X4, X11
	INCQ        AX
	CMPQ        AX, CX
	JLT         dot4scalar

dot4done:
	VMOVUPD Y0, (DX)
	VADDSD  (DX), X8, X8
	VMOVSD  X8, (DX)
	VADDSD  8(DX), X9, X9
	VMOVSD  X9, 8(DX)
	VADDSD  16(DX), X10, X10
	VMOVSD  X10, 16(DX)
	VADDSD  24(DX), X11, X11
	VMOVSD  X11, 24(DX)
	VZEROUPPER
	RET

// func axpy4(x *float64, stride int, d *[4]float64, dst *float64, n int)
//
// dst[k] += d[0]·x[k] + d[1]·x[stride+k] + d[2]·x[2·stride+k] + d[3]·x[3·stride+k].
TEXT ·axpy4(SB), NOSPLIT, $0-40
	MOVQ         x+0(FP), SI
	MOVQ         stride+8(FP), R8
	SHLQ         $3, R8
	MOVQ         d+16(FP), DX
	MOVQ         dst+24(FP), DI
	MOVQ         n+32(FP), CX
	LEAQ         (SI)(R8*1), R9
	LEAQ         (R9)(R8*1), R10
	LEAQ         (R10)(R8*1), R11
	VBROADCASTSD (DX), Y0
	VBROADCASTSD 8(DX), Y1
	VBROADCASTSD 16(DX), Y2
	VBROADCASTSD 24(DX), Y3
	XORQ         AX, AX
	MOVQ         CX, BX
	ANDQ         $-4, BX
	JZ           axpy4tail

axpy4loop:
	VMOVUPD     (DI)(AX*8), Y4
	VFMADD231PD (SI)(AX*8), Y0, Y4
	VFMADD231PD (R9)(AX*8), Y1, Y4
	VFMADD231PD (R10)(AX*8), Y2, Y4
	VFMADD231PD (R11)(AX*8), Y3, Y4
	VMOVUPD     Y4, (DI)(AX*8)
	ADDQ        $4, AX
	CMPQ        AX, BX
	JLT         axpy4loop

axpy4tail:
	CMPQ AX, CX
	JGE  axpy4done

axpy4scalar:
	VMOVSD      (DI)(AX*8), X4
	VFMADD231SD (SI)(AX*8), X0, X4
	VFMADD231SD (R9)(AX*8), X1, X4
	VFMADD231SD (R10)(AX*8), X2, X4
	VFMADD231SD (R11)(AX*8), X3, X4
	VMOVSD      X4, (DI)(AX*8)
	INCQ        AX
	CMPQ        AX, CX
	JLT         axpy4scalar

axpy4done:
	VZEROUPPER
	RET
