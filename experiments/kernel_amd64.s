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
	// R12: the same place eight rows on, where the loop prefetches.
	LEAQ (R8)(R8*1), R12
	SHLQ $2, R12
	ADDQ SI, R12
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-4, BX
	JZ   dot4tail

dot4loop:
	PREFETCHT0  (R12)
	PREFETCHT0  64(R12)
	ADDQ        $128, R12
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

// func dot8(x *float64, stride int, w *float64, n int, out *[8]float64)
//
// dot4 for eight rows at once, each row's sums exactly as dot4 makes
// them (the same lanes, order and tail), so the results are dot4's; the
// eight accumulator chains are independent, so the FMAs are not held up
// by each other's latency as dot4's four are. The row pointers advance
// with the loop: rows 0-7 sit at SI, SI+s, R10 = SI+2s, R9 = SI+3s, SI+4s,
// R9+2s, R10+4s and R9+4s (s the stride in bytes).
TEXT ·dot8(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ stride+8(FP), R8
	SHLQ $3, R8
	MOVQ w+16(FP), DI
	MOVQ n+24(FP), CX
	MOVQ out+32(FP), DX
	LEAQ (SI)(R8*2), R10
	LEAQ (R10)(R8*1), R9
	// R12: sixteen rows on, where the loop prefetches.
	MOVQ R8, R12
	SHLQ $4, R12
	ADDQ SI, R12
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   dot8hsum

dot8loop:
	PREFETCHT0  (R12)
	PREFETCHT0  64(R12)
	PREFETCHT0  128(R12)
	PREFETCHT0  192(R12)
	ADDQ        $256, R12
	VMOVUPD     (DI), Y8
	VFMADD231PD (SI), Y8, Y0
	VFMADD231PD (SI)(R8*1), Y8, Y1
	VFMADD231PD (R10), Y8, Y2
	VFMADD231PD (R9), Y8, Y3
	VFMADD231PD (SI)(R8*4), Y8, Y4
	VFMADD231PD (R9)(R8*2), Y8, Y5
	VFMADD231PD (R10)(R8*4), Y8, Y6
	VFMADD231PD (R9)(R8*4), Y8, Y7
	ADDQ        $32, SI
	ADDQ        $32, R9
	ADDQ        $32, R10
	ADDQ        $32, DI
	DECQ        BX
	JNZ         dot8loop

dot8hsum:
	// Lane sums as dot4's: rows 0-3 from Y0-Y3, rows 4-7 from Y4-Y7.
	VHADDPD    Y1, Y0, Y0
	VHADDPD    Y3, Y2, Y2
	VPERM2F128 $0x20, Y2, Y0, Y9
	VPERM2F128 $0x31, Y2, Y0, Y10
	VADDPD     Y10, Y9, Y0
	VMOVUPD    Y0, (DX)
	VHADDPD    Y5, Y4, Y4
	VHADDPD    Y7, Y6, Y6
	VPERM2F128 $0x20, Y6, Y4, Y9
	VPERM2F128 $0x31, Y6, Y4, Y10
	VADDPD     Y10, Y9, Y4
	VMOVUPD    Y4, 32(DX)
	VXORPD     X0, X0, X0
	VXORPD     X1, X1, X1
	VXORPD     X2, X2, X2
	VXORPD     X3, X3, X3
	VXORPD     X4, X4, X4
	VXORPD     X5, X5, X5
	VXORPD     X6, X6, X6
	VXORPD     X7, X7, X7
	ANDQ       $3, CX
	JZ         dot8done

dot8scalar:
	VMOVSD      (DI), X8
	VFMADD231SD (SI), X8, X0
	VFMADD231SD (SI)(R8*1), X8, X1
	VFMADD231SD (R10), X8, X2
	VFMADD231SD (R9), X8, X3
	VFMADD231SD (SI)(R8*4), X8, X4
	VFMADD231SD (R9)(R8*2), X8, X5
	VFMADD231SD (R10)(R8*4), X8, X6
	VFMADD231SD (R9)(R8*4), X8, X7
	ADDQ        $8, SI
	ADDQ        $8, R9
	ADDQ        $8, R10
	ADDQ        $8, DI
	DECQ        CX
	JNZ         dot8scalar

dot8done:
	VADDSD  (DX), X0, X0
	VMOVSD  X0, (DX)
	VADDSD  8(DX), X1, X1
	VMOVSD  X1, 8(DX)
	VADDSD  16(DX), X2, X2
	VMOVSD  X2, 16(DX)
	VADDSD  24(DX), X3, X3
	VMOVSD  X3, 24(DX)
	VADDSD  32(DX), X4, X4
	VMOVSD  X4, 32(DX)
	VADDSD  40(DX), X5, X5
	VMOVSD  X5, 40(DX)
	VADDSD  48(DX), X6, X6
	VMOVSD  X6, 48(DX)
	VADDSD  56(DX), X7, X7
	VMOVSD  X7, 56(DX)
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

// Four-lane logistic loss terms: the vector form of logisticTerm
// (expNeg and log1pUnit, fastmath.go), one lane per row.
DATA logc<>+0(SB)/8, $0x7fffffffffffffff
DATA logc<>+8(SB)/8, $0x7fffffffffffffff
DATA logc<>+16(SB)/8, $0x7fffffffffffffff
DATA logc<>+24(SB)/8, $0x7fffffffffffffff
DATA logc<>+32(SB)/8, $0x4085e00000000000
DATA logc<>+40(SB)/8, $0x4085e00000000000
DATA logc<>+48(SB)/8, $0x4085e00000000000
DATA logc<>+56(SB)/8, $0x4085e00000000000
DATA logc<>+64(SB)/8, $0x3ff71547652b82fe
DATA logc<>+72(SB)/8, $0x3ff71547652b82fe
DATA logc<>+80(SB)/8, $0x3ff71547652b82fe
DATA logc<>+88(SB)/8, $0x3ff71547652b82fe
DATA logc<>+96(SB)/8, $0x3fe62e42fee00000
DATA logc<>+104(SB)/8, $0x3fe62e42fee00000
DATA logc<>+112(SB)/8, $0x3fe62e42fee00000
DATA logc<>+120(SB)/8, $0x3fe62e42fee00000
DATA logc<>+128(SB)/8, $0x3dea39ef35793c76
DATA logc<>+136(SB)/8, $0x3dea39ef35793c76
DATA logc<>+144(SB)/8, $0x3dea39ef35793c76
DATA logc<>+152(SB)/8, $0x3dea39ef35793c76
DATA logc<>+160(SB)/8, $0x3fc5555555555555
DATA logc<>+168(SB)/8, $0x3fc5555555555555
DATA logc<>+176(SB)/8, $0x3fc5555555555555
DATA logc<>+184(SB)/8, $0x3fc5555555555555
DATA logc<>+192(SB)/8, $0xbf66c16c16bebd93
DATA logc<>+200(SB)/8, $0xbf66c16c16bebd93
DATA logc<>+208(SB)/8, $0xbf66c16c16bebd93
DATA logc<>+216(SB)/8, $0xbf66c16c16bebd93
DATA logc<>+224(SB)/8, $0x3f11566aaf25de2c
DATA logc<>+232(SB)/8, $0x3f11566aaf25de2c
DATA logc<>+240(SB)/8, $0x3f11566aaf25de2c
DATA logc<>+248(SB)/8, $0x3f11566aaf25de2c
DATA logc<>+256(SB)/8, $0xbebbbd41c5d26bf1
DATA logc<>+264(SB)/8, $0xbebbbd41c5d26bf1
DATA logc<>+272(SB)/8, $0xbebbbd41c5d26bf1
DATA logc<>+280(SB)/8, $0xbebbbd41c5d26bf1
DATA logc<>+288(SB)/8, $0x3e66376972bea4d0
DATA logc<>+296(SB)/8, $0x3e66376972bea4d0
DATA logc<>+304(SB)/8, $0x3e66376972bea4d0
DATA logc<>+312(SB)/8, $0x3e66376972bea4d0
DATA logc<>+320(SB)/8, $0x3ff0000000000000
DATA logc<>+328(SB)/8, $0x3ff0000000000000
DATA logc<>+336(SB)/8, $0x3ff0000000000000
DATA logc<>+344(SB)/8, $0x3ff0000000000000
DATA logc<>+352(SB)/8, $0x4000000000000000
DATA logc<>+360(SB)/8, $0x4000000000000000
DATA logc<>+368(SB)/8, $0x4000000000000000
DATA logc<>+376(SB)/8, $0x4000000000000000
DATA logc<>+384(SB)/8, $0x43300000000003ff
DATA logc<>+392(SB)/8, $0x43300000000003ff
DATA logc<>+400(SB)/8, $0x43300000000003ff
DATA logc<>+408(SB)/8, $0x43300000000003ff
DATA logc<>+416(SB)/8, $0x3fda827999fcef32
DATA logc<>+424(SB)/8, $0x3fda827999fcef32
DATA logc<>+432(SB)/8, $0x3fda827999fcef32
DATA logc<>+440(SB)/8, $0x3fda827999fcef32
DATA logc<>+448(SB)/8, $0x3fe0000000000000
DATA logc<>+456(SB)/8, $0x3fe0000000000000
DATA logc<>+464(SB)/8, $0x3fe0000000000000
DATA logc<>+472(SB)/8, $0x3fe0000000000000
DATA logc<>+480(SB)/8, $0x3fe5555555555593
DATA logc<>+488(SB)/8, $0x3fe5555555555593
DATA logc<>+496(SB)/8, $0x3fe5555555555593
DATA logc<>+504(SB)/8, $0x3fe5555555555593
DATA logc<>+512(SB)/8, $0x3fd999999997fa04
DATA logc<>+520(SB)/8, $0x3fd999999997fa04
DATA logc<>+528(SB)/8, $0x3fd999999997fa04
DATA logc<>+536(SB)/8, $0x3fd999999997fa04
DATA logc<>+544(SB)/8, $0x3fd2492494229359
DATA logc<>+552(SB)/8, $0x3fd2492494229359
DATA logc<>+560(SB)/8, $0x3fd2492494229359
DATA logc<>+568(SB)/8, $0x3fd2492494229359
DATA logc<>+576(SB)/8, $0x3fcc71c51d8e78af
DATA logc<>+584(SB)/8, $0x3fcc71c51d8e78af
DATA logc<>+592(SB)/8, $0x3fcc71c51d8e78af
DATA logc<>+600(SB)/8, $0x3fcc71c51d8e78af
DATA logc<>+608(SB)/8, $0x3fc7466496cb03de
DATA logc<>+616(SB)/8, $0x3fc7466496cb03de
DATA logc<>+624(SB)/8, $0x3fc7466496cb03de
DATA logc<>+632(SB)/8, $0x3fc7466496cb03de
DATA logc<>+640(SB)/8, $0x3fc39a09d078c69f
DATA logc<>+648(SB)/8, $0x3fc39a09d078c69f
DATA logc<>+656(SB)/8, $0x3fc39a09d078c69f
DATA logc<>+664(SB)/8, $0x3fc39a09d078c69f
DATA logc<>+672(SB)/8, $0x3fc2f112df3e5244
DATA logc<>+680(SB)/8, $0x3fc2f112df3e5244
DATA logc<>+688(SB)/8, $0x3fc2f112df3e5244
DATA logc<>+696(SB)/8, $0x3fc2f112df3e5244
GLOBL logc<>(SB), RODATA|NOPTR, $704

// EXPNEG turns x ≤ 0 in Y4 into e^x, four lanes, with Y5-Y14 as
// scratch (Y5 keeps k): e = 2^k·exp(r), k = round(x·log2e), r = x -
// k·ln2 in two parts (hi Y6, lo Y7), r in Y8, r² in Y9, c = r - r²·P(r²)
// in Y11, then y = 1 - ((lo - r·c/(2-c)) - hi) in Y13 and 2^k in Y14:
// expNeg's steps (fastmath.go), shared by logTermsN and expNegN.
#define EXPNEG \
	VMULPD       logc<>+64(SB), Y4, Y5; \
	VROUNDPD     $0, Y5, Y5; \
	VMOVAPD      Y4, Y6; \
	VFNMADD231PD logc<>+96(SB), Y5, Y6; \
	VMULPD       logc<>+128(SB), Y5, Y7; \
	VSUBPD       Y7, Y6, Y8; \
	VMULPD       Y8, Y8, Y9; \
	VMOVUPD      logc<>+288(SB), Y10; \
	VFMADD213PD  logc<>+256(SB), Y9, Y10; \
	VFMADD213PD  logc<>+224(SB), Y9, Y10; \
	VFMADD213PD  logc<>+192(SB), Y9, Y10; \
	VFMADD213PD  logc<>+160(SB), Y9, Y10; \
	VMOVAPD      Y8, Y11; \
	VFNMADD231PD Y10, Y9, Y11; \
	VMOVUPD      logc<>+352(SB), Y12; \
	VSUBPD       Y11, Y12, Y12; \
	VMULPD       Y11, Y8, Y13; \
	VDIVPD       Y12, Y13, Y13; \
	VSUBPD       Y13, Y7, Y13; \
	VSUBPD       Y6, Y13, Y13; \
	VMOVUPD      logc<>+320(SB), Y14; \
	VSUBPD       Y13, Y14, Y13; \
	VADDPD       logc<>+384(SB), Y5, Y14; \
	VPSLLQ       $52, Y14, Y14; \
	VMULPD       Y14, Y13, Y4

// func logTermsN(z, s, d, loss *float64, n int)
//
// For each of n values (n a multiple of 4, four lanes at a time): t =
// s·z, a = |t|, e = e^-min(a,700), loss = (t+a)/2 + log1p(e), d = s·σ(t)
// with σ(t) = 1/(1+e) for t ≥ 0 and e/(1+e) below. The groups are
// independent, so the core overlaps their long chains of dependent
// operations.
TEXT ·logTermsN(SB), NOSPLIT, $0-40
	MOVQ z+0(FP), SI
	MOVQ s+8(FP), DI
	MOVQ d+16(FP), DX
	MOVQ loss+24(FP), CX
	MOVQ n+32(FP), BX
	SHRQ $2, BX
	JZ   logtermsdone

logtermsloop:
	VMOVUPD (SI), Y0
	VMOVUPD (DI), Y1
	VMULPD  Y0, Y1, Y2 // t
	VANDPD  logc<>+0(SB), Y2, Y3 // a
	VMINPD  logc<>+32(SB), Y3, Y4
	VXORPD  Y5, Y5, Y5
	VSUBPD  Y4, Y5, Y4 // x = -min(a, 700)

	EXPNEG // e = e^x

	// log1p(e): 1+e = 2^k'·(1+f), k' = 1 and f = (e-1)/2 above √2-1.
	VCMPPD      $0x1e, logc<>+416(SB), Y4, Y15 // e > √2-1
	VSUBPD      logc<>+320(SB), Y4, Y6
	VMULPD      logc<>+448(SB), Y6, Y6
	VBLENDVPD   Y15, Y6, Y4, Y7 // f
	VANDPD      logc<>+320(SB), Y15, Y8 // k'
	VADDPD      logc<>+352(SB), Y7, Y9
	VDIVPD      Y9, Y7, Y10 // s = f/(2+f)
	VMULPD      Y10, Y10, Y11 // s²
	VMULPD      Y11, Y11, Y12 // s⁴
	VMOVUPD     logc<>+672(SB), Y13
	VFMADD213PD logc<>+608(SB), Y12, Y13
	VFMADD213PD logc<>+544(SB), Y12, Y13
	VFMADD213PD logc<>+480(SB), Y12, Y13
	VMULPD      Y11, Y13, Y13 // t1
	VMOVUPD     logc<>+640(SB), Y14
	VFMADD213PD logc<>+576(SB), Y12, Y14
	VFMADD213PD logc<>+512(SB), Y12, Y14
	VFMADD213PD Y13, Y12, Y14 // R = t1 + s⁴·(...)
	VMULPD      Y7, Y7, Y13
	VMULPD      logc<>+448(SB), Y13, Y13 // hfsq
	VADDPD      Y14, Y13, Y14 // hfsq + R
	VMULPD      Y14, Y10, Y14 // s·(hfsq+R)
	VFMADD231PD logc<>+128(SB), Y8, Y14 // + k'·ln2Lo
	VSUBPD      Y14, Y13, Y14 // hfsq - (...)
	VSUBPD      Y7, Y14, Y14 // ... - f
	VMULPD      logc<>+96(SB), Y8, Y12
	VSUBPD      Y14, Y12, Y12 // log1p(e)

	VADDPD      Y3, Y2, Y9 // t + a
	VFMADD132PD logc<>+448(SB), Y12, Y9 // (t+a)/2 + log1p(e)
	VMOVUPD     Y9, (CX)

	VMOVUPD   logc<>+320(SB), Y14
	VADDPD    Y4, Y14, Y10 // 1 + e
	VDIVPD    Y10, Y14, Y11 // 1/(1+e)
	VBLENDVPD Y2, Y4, Y14, Y12 // e where t < 0, else 1
	VMULPD    Y11, Y12, Y12
	VMULPD    Y12, Y1, Y12
	VMOVUPD   Y12, (DX)
	ADDQ      $32, SI
	ADDQ      $32, DI
	ADDQ      $32, DX
	ADDQ      $32, CX
	DECQ      BX
	JNZ       logtermsloop

logtermsdone:
	VZEROUPPER
	RET

// func expNegN(a, e *float64, n int)
//
// e[i] = e^-min(a[i],700) for n values (n a multiple of 4, a ≥ 0): the
// exponential of logTermsN (and of expNeg, fastmath.go), four lanes at a
// time, for the softmax of the multinomial loss.
TEXT ·expNegN(SB), NOSPLIT, $0-24
	MOVQ a+0(FP), SI
	MOVQ e+8(FP), DX
	MOVQ n+16(FP), BX
	SHRQ $2, BX
	JZ   expnegdone

expnegloop:
	VMOVUPD (SI), Y3
	VMINPD  logc<>+32(SB), Y3, Y4
	VXORPD  Y5, Y5, Y5
	VSUBPD  Y4, Y5, Y4 // x = -min(a, 700)
	EXPNEG          // e = e^x
	VMOVUPD Y4, (DX)
	ADDQ    $32, SI
	ADDQ    $32, DX
	DECQ    BX
	JNZ     expnegloop

expnegdone:
	VZEROUPPER
	RET

// func kern4x24(k int, a *float64, lda int, b *float64, ldb, bstep, nb int, c *float64, ldc int, acc int)
//
// kern4x12 for AVX-512: panels of 24 columns, twelve 8-lane
// accumulators Z0-Z11 (row i in Z(3i)..Z(3i+2)). Each element is the
// same sequence of FMAs over k as in kern4x12, so results are identical.
TEXT ·kern4x24(SB), NOSPLIT, $0-80
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

panel24:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R8, CX

loop24:
	VMOVUPD (BX), Z12
	VMOVUPD 64(BX), Z13
	VMOVUPD 128(BX), Z14
	VBROADCASTSD 0(AX), Z15
	VFMADD231PD Z12, Z15, Z0
	VFMADD231PD Z13, Z15, Z1
	VFMADD231PD Z14, Z15, Z2
	VBROADCASTSD 8(AX), Z15
	VFMADD231PD Z12, Z15, Z3
	VFMADD231PD Z13, Z15, Z4
	VFMADD231PD Z14, Z15, Z5
	VBROADCASTSD 16(AX), Z15
	VFMADD231PD Z12, Z15, Z6
	VFMADD231PD Z13, Z15, Z7
	VFMADD231PD Z14, Z15, Z8
	VBROADCASTSD 24(AX), Z15
	VFMADD231PD Z12, Z15, Z9
	VFMADD231PD Z13, Z15, Z10
	VFMADD231PD Z14, Z15, Z11
	ADDQ R9, AX
	ADDQ R10, BX
	DECQ CX
	JNZ  loop24

	MOVQ DX, AX
	CMPQ acc+72(FP), $0
	JEQ  store24
	VADDPD 0(AX), Z0, Z0
	VADDPD 64(AX), Z1, Z1
	VADDPD 128(AX), Z2, Z2
	ADDQ   R13, AX
	VADDPD 0(AX), Z3, Z3
	VADDPD 64(AX), Z4, Z4
	VADDPD 128(AX), Z5, Z5
	ADDQ   R13, AX
	VADDPD 0(AX), Z6, Z6
	VADDPD 64(AX), Z7, Z7
	VADDPD 128(AX), Z8, Z8
	ADDQ   R13, AX
	VADDPD 0(AX), Z9, Z9
	VADDPD 64(AX), Z10, Z10
	VADDPD 128(AX), Z11, Z11
	MOVQ   DX, AX

store24:
	VMOVUPD Z0, 0(AX)
	VMOVUPD Z1, 64(AX)
	VMOVUPD Z2, 128(AX)
	ADDQ    R13, AX
	VMOVUPD Z3, 0(AX)
	VMOVUPD Z4, 64(AX)
	VMOVUPD Z5, 128(AX)
	ADDQ    R13, AX
	VMOVUPD Z6, 0(AX)
	VMOVUPD Z7, 64(AX)
	VMOVUPD Z8, 128(AX)
	ADDQ    R13, AX
	VMOVUPD Z9, 0(AX)
	VMOVUPD Z10, 64(AX)
	VMOVUPD Z11, 128(AX)

	ADDQ $192, DX
	ADDQ R11, DI
	DECQ R12
	JNZ  panel24

	VZEROUPPER
	RET

// func argminRows(gm *float64, ldc int, cn *float64, K int, n int, bd, bk *float64)
//
// For each of n columns j (n a multiple of 4): bd[j] = min over k < K of
// cn[k] - 2·gm[k·ldc+j] and bk[j] = the first k reaching it (as a float),
// four columns at a time with compares and blends instead of branches.
TEXT ·argminRows(SB), NOSPLIT, $0-56
	MOVQ    gm+0(FP), SI
	MOVQ    ldc+8(FP), R8
	SHLQ    $3, R8
	MOVQ    cn+16(FP), DI
	MOVQ    K+24(FP), R9
	MOVQ    n+32(FP), CX
	MOVQ    bd+40(FP), DX
	MOVQ    bk+48(FP), BX
	VMOVUPD logc<>+320(SB), Y5 // 1.0 in every lane
	XORQ    AX, AX

argminj:
	LEAQ         (SI)(AX*8), R11
	VBROADCASTSD (DI), Y2
	VMOVUPD      (R11), Y1
	VADDPD       Y1, Y1, Y1
	VSUBPD       Y1, Y2, Y0 // bd = cn[0] - 2g
	VXORPD       Y3, Y3, Y3 // bk = 0
	VXORPD       Y4, Y4, Y4 // k as a float
	MOVQ         $1, R10

argmink:
	CMPQ         R10, R9
	JGE          argmindone
	ADDQ         R8, R11
	VADDPD       Y5, Y4, Y4
	VBROADCASTSD (DI)(R10*8), Y2
	VMOVUPD      (R11), Y1
	VADDPD       Y1, Y1, Y1
	VSUBPD       Y1, Y2, Y1 // v
	VCMPPD       $1, Y0, Y1, Y7 // v < bd
	VBLENDVPD    Y7, Y1, Y0, Y0
	VBLENDVPD    Y7, Y4, Y3, Y3
	INCQ         R10
	JMP          argmink

argmindone:
	VMOVUPD Y0, (DX)(AX*8)
	VMOVUPD Y3, (BX)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, CX
	JLT     argminj
	VZEROUPPER
	RET

// func filterBelow(gm, tn *float64, n int, limit float64, out *int32) int
//
// Writes to out, in increasing order, every j < n (n a multiple of 4)
// with tn[j] - 2·gm[j] < limit, and returns how many: the neighbor
// search's first test, four columns per compare.
TEXT ·filterBelow(SB), NOSPLIT, $0-48
	MOVQ         gm+0(FP), SI
	MOVQ         tn+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSD limit+24(FP), Y3
	MOVQ         out+32(FP), DX
	XORQ         AX, AX
	XORQ         BX, BX

filterloop:
	VMOVUPD   (SI)(AX*8), Y0
	VADDPD    Y0, Y0, Y0
	VMOVUPD   (DI)(AX*8), Y1
	VSUBPD    Y0, Y1, Y1 // tn - 2g
	VCMPPD    $1, Y3, Y1, Y2 // < limit
	VMOVMSKPD Y2, R8
	TESTQ     R8, R8
	JNZ       filterfound

filternext:
	ADDQ $4, AX
	CMPQ AX, CX
	JLT  filterloop
	MOVQ BX, ret+40(FP)
	VZEROUPPER
	RET

filterfound:
	BSFQ R8, R9
	LEAQ (AX)(R9*1), R10
	MOVL R10, (DX)(BX*4)
	INCQ BX
	LEAQ -1(R8), R11
	ANDQ R11, R8
	JNZ  filterfound
	JMP  filternext
