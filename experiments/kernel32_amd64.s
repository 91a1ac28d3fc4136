//go:build amd64 && !purego

#include "textflag.h"

// Single-precision kernels of the neighbor search's first pass
// (knn32.go): the same strips as kern4x12 and kern4x24, in float32, so
// twice the lanes per instruction; the search then checks what they let
// through in float64.

// func kern4x24s(k int, a *float32, lda int, b *float32, ldb, bstep, nb int, c *float32, ldc int)
//
// AVX2/FMA: panels of 24 columns, twelve 8-lane accumulators Y0-Y11
// (row i in Y(3i)..Y(3i+2)); C is overwritten.
TEXT ·kern4x24s(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), R8
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R9
	SHLQ $2, R9
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R10
	SHLQ $2, R10
	MOVQ bstep+40(FP), R11
	SHLQ $2, R11
	MOVQ nb+48(FP), R12
	MOVQ c+56(FP), DX
	MOVQ ldc+64(FP), R13
	SHLQ $2, R13

kern4x24spanel:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R8, CX

kern4x24sloop:
	VMOVUPS (BX), Y12
	VMOVUPS 32(BX), Y13
	VMOVUPS 64(BX), Y14
	VBROADCASTSS (AX), Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VBROADCASTSS 4(AX), Y15
	VFMADD231PS Y12, Y15, Y3
	VFMADD231PS Y13, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VBROADCASTSS 8(AX), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VBROADCASTSS 12(AX), Y15
	VFMADD231PS Y12, Y15, Y9
	VFMADD231PS Y13, Y15, Y10
	VFMADD231PS Y14, Y15, Y11
	ADDQ R9, AX
	ADDQ R10, BX
	DECQ CX
	JNZ  kern4x24sloop

	MOVQ DX, AX
	VMOVUPS Y0, (AX)
	VMOVUPS Y1, 32(AX)
	VMOVUPS Y2, 64(AX)
	ADDQ    R13, AX
	VMOVUPS Y3, (AX)
	VMOVUPS Y4, 32(AX)
	VMOVUPS Y5, 64(AX)
	ADDQ    R13, AX
	VMOVUPS Y6, (AX)
	VMOVUPS Y7, 32(AX)
	VMOVUPS Y8, 64(AX)
	ADDQ    R13, AX
	VMOVUPS Y9, (AX)
	VMOVUPS Y10, 32(AX)
	VMOVUPS Y11, 64(AX)

	ADDQ $96, DX
	ADDQ R11, DI
	DECQ R12
	JNZ  kern4x24spanel

	VZEROUPPER
	RET

// func kern4x48s(k int, a *float32, lda int, b *float32, ldb, bstep, nb int, c *float32, ldc int)
//
// AVX-512: panels of 48 columns, twelve 16-lane accumulators Z0-Z11.
TEXT ·kern4x48s(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), R8
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R9
	SHLQ $2, R9
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R10
	SHLQ $2, R10
	MOVQ bstep+40(FP), R11
	SHLQ $2, R11
	MOVQ nb+48(FP), R12
	MOVQ c+56(FP), DX
	MOVQ ldc+64(FP), R13
	SHLQ $2, R13

kern4x48spanel:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R8, CX

kern4x48sloop:
	VMOVUPS (BX), Z12
	VMOVUPS 64(BX), Z13
	VMOVUPS 128(BX), Z14
	VBROADCASTSS (AX), Z15
	VFMADD231PS Z12, Z15, Z0
	VFMADD231PS Z13, Z15, Z1
	VFMADD231PS Z14, Z15, Z2
	VBROADCASTSS 4(AX), Z15
	VFMADD231PS Z12, Z15, Z3
	VFMADD231PS Z13, Z15, Z4
	VFMADD231PS Z14, Z15, Z5
	VBROADCASTSS 8(AX), Z15
	VFMADD231PS Z12, Z15, Z6
	VFMADD231PS Z13, Z15, Z7
	VFMADD231PS Z14, Z15, Z8
	VBROADCASTSS 12(AX), Z15
	VFMADD231PS Z12, Z15, Z9
	VFMADD231PS Z13, Z15, Z10
	VFMADD231PS Z14, Z15, Z11
	ADDQ R9, AX
	ADDQ R10, BX
	DECQ CX
	JNZ  kern4x48sloop

	MOVQ DX, AX
	VMOVUPS Z0, (AX)
	VMOVUPS Z1, 64(AX)
	VMOVUPS Z2, 128(AX)
	ADDQ    R13, AX
	VMOVUPS Z3, (AX)
	VMOVUPS Z4, 64(AX)
	VMOVUPS Z5, 128(AX)
	ADDQ    R13, AX
	VMOVUPS Z6, (AX)
	VMOVUPS Z7, 64(AX)
	VMOVUPS Z8, 128(AX)
	ADDQ    R13, AX
	VMOVUPS Z9, (AX)
	VMOVUPS Z10, 64(AX)
	VMOVUPS Z11, 128(AX)

	ADDQ $192, DX
	ADDQ R11, DI
	DECQ R12
	JNZ  kern4x48spanel

	VZEROUPPER
	RET

// func filterBelow32(gm *float32, tn *float64, n int, limit float64, out *int32) int
//
// filterBelow with float32 products: writes to out, in increasing order,
// every j < n (n a multiple of 4) with tn[j] - 2·float64(gm[j]) < limit,
// and returns how many.
TEXT ·filterBelow32(SB), NOSPLIT, $0-48
	MOVQ         gm+0(FP), SI
	MOVQ         tn+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSD limit+24(FP), Y3
	MOVQ         out+32(FP), DX
	XORQ         AX, AX
	XORQ         BX, BX

f32loop:
	VCVTPS2PD (SI)(AX*4), Y0
	VADDPD    Y0, Y0, Y0
	VMOVUPD   (DI)(AX*8), Y1
	VSUBPD    Y0, Y1, Y1 // tn - 2g
	VCMPPD    $1, Y3, Y1, Y2 // < limit
	VMOVMSKPD Y2, R8
	TESTQ     R8, R8
	JNZ       f32found

f32next:
	ADDQ $4, AX
	CMPQ AX, CX
	JLT  f32loop
	MOVQ BX, ret+40(FP)
	VZEROUPPER
	RET

f32found:
	BSFQ R8, R9
	LEAQ (AX)(R9*1), R10
	MOVL R10, (DX)(BX*4)
	INCQ BX
	LEAQ -1(R8), R11
	ANDQ R11, R8
	JNZ  f32found
	JMP  f32next
