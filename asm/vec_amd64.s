//go:build amd64 && gc && !purego && !noasm

#include "textflag.h"

// AVX2+FMA vector kernels. Every count n is a positive multiple of 8; the
// loops take 32 (or 16) elements at a time, then 8. Loads and stores are
// unaligned. Operand order is Go's: the destination is last.

// vecConst holds each constant broadcast to a full ymm, so that it can be a
// memory operand of an AVX2 instruction (AVX2 has no embedded broadcast).
// The float values are those of vec_generic.go.
#define BCAST8(off, v) DATA vecConst<>+(off)(SB)/4, $v; DATA vecConst<>+(off+4)(SB)/4, $v; DATA vecConst<>+(off+8)(SB)/4, $v; DATA vecConst<>+(off+12)(SB)/4, $v; DATA vecConst<>+(off+16)(SB)/4, $v; DATA vecConst<>+(off+20)(SB)/4, $v; DATA vecConst<>+(off+24)(SB)/4, $v; DATA vecConst<>+(off+28)(SB)/4, $v

BCAST8(0, 0xc2d00000)   // vecExpLo = -104
BCAST8(32, 0x42b20000)  // vecExpHi = 89
BCAST8(64, 0x3fb8aa3b)  // vecExpLog2e
BCAST8(96, 0x4b400000)  // vecExpMagic = 1.5*2^23
BCAST8(128, 0x3f318000) // vecExpLn2Hi
BCAST8(160, 0xb95e8083) // vecExpLn2Lo
BCAST8(192, 0x39506967) // vecExpP0
BCAST8(224, 0x3ab743ce) // vecExpP1
BCAST8(256, 0x3c088908) // vecExpP2
BCAST8(288, 0x3d2aa9c1) // vecExpP3
BCAST8(320, 0x3e2aaaaa) // vecExpP4
BCAST8(352, 0x3f000000) // vecExpP5
BCAST8(384, 0x3f800000) // 1.0
BCAST8(416, 0x0000007f) // int32 127, the exponent bias
BCAST8(448, 0xff800000) // -Inf
BCAST8(480, 0xbfcc422a) // geluK0 = -2c
BCAST8(512, 0xbd922279) // geluK1 = -2ca
BCAST8(544, 0x3fcc422a) // geluK2 = 2c
BCAST8(576, 0x3e5b33b6) // geluK3 = 6ca
BCAST8(608, 0x42a00000) // geluZMax = 80
BCAST8(640, 0x41a00000) // geluXMax = 20
BCAST8(672, 0xc1a00000) // -geluXMax
GLOBL vecConst<>(SB), RODATA|NOPTR, $704

// HREDUCE folds the eight lanes of ymm Y (whose low half is X) into lane 0
// of X with the packed op OPS and the scalar op OPSS; T is a scratch xmm.
#define HREDUCE(OPS, OPSS, Y, X, T) \
	VEXTRACTF128 $1, Y, T \
	OPS          T, X, X  \
	VMOVHLPS     X, X, T  \
	OPS          T, X, X  \
	VMOVSHDUP    X, T     \
	OPSS         T, X, X

// func vecDotAVX2(x, y *float32, n int) float32
TEXT ·vecDotAVX2(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $32
	JLT    dot8

dot32:
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JGE         dot32

dot8:
	TESTQ CX, CX
	JEQ   dotdone

dot8loop:
	VMOVUPS     (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JNE         dot8loop

dotdone:
	VADDPS  Y1, Y0, Y0
	VADDPS  Y3, Y2, Y2
	VADDPS  Y2, Y0, Y0
	HREDUCE(VADDPS, VADDSS, Y0, X0, X1)
	VZEROUPPER
	MOVSS   X0, ret+24(FP)
	RET

// func vecSumAVX2(x *float32, n int) float32
TEXT ·vecSumAVX2(SB), NOSPLIT, $0-20
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $32
	JLT    sum8

sum32:
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	ADDQ   $128, SI
	SUBQ   $32, CX
	CMPQ   CX, $32
	JGE    sum32

sum8:
	TESTQ CX, CX
	JEQ   sumdone

sum8loop:
	VADDPS (SI), Y0, Y0
	ADDQ   $32, SI
	SUBQ   $8, CX
	JNE    sum8loop

sumdone:
	VADDPS  Y1, Y0, Y0
	VADDPS  Y3, Y2, Y2
	VADDPS  Y2, Y0, Y0
	HREDUCE(VADDPS, VADDSS, Y0, X0, X1)
	VZEROUPPER
	MOVSS   X0, ret+16(FP)
	RET

// func vecMaxAVX2(x *float32, n int) float32
//
// VMAXPS drops a NaN in one operand and not in the other, so NaNs are
// tracked apart: an unordered compare ORs a mask, and any NaN seen makes
// the result NaN.
TEXT ·vecMaxAVX2(SB), NOSPLIT, $0-20
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	VMOVUPS vecConst<>+448(SB), Y0
	VMOVAPS Y0, Y1
	VMOVAPS Y0, Y2
	VMOVAPS Y0, Y3
	VXORPS  Y8, Y8, Y8
	CMPQ    CX, $32
	JLT     max8

max32:
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VCMPPS  $3, Y5, Y4, Y9  // unordered: Y4 or Y5 is NaN
	VCMPPS  $3, Y7, Y6, Y10
	VMAXPS  Y4, Y0, Y0
	VMAXPS  Y5, Y1, Y1
	VMAXPS  Y6, Y2, Y2
	VMAXPS  Y7, Y3, Y3
	VORPS   Y9, Y8, Y8
	VORPS   Y10, Y8, Y8
	ADDQ    $128, SI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JGE     max32

max8:
	TESTQ CX, CX
	JEQ   maxdone

max8loop:
	VMOVUPS (SI), Y4
	VCMPPS  $3, Y4, Y4, Y9
	VMAXPS  Y4, Y0, Y0
	VORPS   Y9, Y8, Y8
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNE     max8loop

maxdone:
	VMOVMSKPS Y8, AX
	TESTL     AX, AX
	JNE       maxnan
	VMAXPS    Y1, Y0, Y0
	VMAXPS    Y3, Y2, Y2
	VMAXPS    Y2, Y0, Y0
	HREDUCE(VMAXPS, VMAXSS, Y0, X0, X1)
	VZEROUPPER
	MOVSS     X0, ret+16(FP)
	RET

maxnan:
	VZEROUPPER
	MOVL $0x7fc00000, AX
	MOVL AX, ret+16(FP)
	RET

// func vecAxpyAVX2(alpha float32, x, y *float32, n int)
TEXT ·vecAxpyAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Y15
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DI
	MOVQ         n+24(FP), CX
	CMPQ         CX, $32
	JLT          axpy8

axpy32:
	VMOVUPS     (DI), Y0
	VMOVUPS     32(DI), Y1
	VMOVUPS     64(DI), Y2
	VMOVUPS     96(DI), Y3
	VFMADD231PS (SI), Y15, Y0
	VFMADD231PS 32(SI), Y15, Y1
	VFMADD231PS 64(SI), Y15, Y2
	VFMADD231PS 96(SI), Y15, Y3
	VMOVUPS     Y0, (DI)
	VMOVUPS     Y1, 32(DI)
	VMOVUPS     Y2, 64(DI)
	VMOVUPS     Y3, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JGE         axpy32

axpy8:
	TESTQ CX, CX
	JEQ   axpydone

axpy8loop:
	VMOVUPS     (DI), Y0
	VFMADD231PS (SI), Y15, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JNE         axpy8loop

axpydone:
	VZEROUPPER
	RET

// func vecScaleAVX2(alpha float32, x *float32, n int)
TEXT ·vecScaleAVX2(SB), NOSPLIT, $0-24
	VBROADCASTSS alpha+0(FP), Y15
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	CMPQ         CX, $32
	JLT          scale8

scale32:
	VMULPS  (SI), Y15, Y0
	VMULPS  32(SI), Y15, Y1
	VMULPS  64(SI), Y15, Y2
	VMULPS  96(SI), Y15, Y3
	VMOVUPS Y0, (SI)
	VMOVUPS Y1, 32(SI)
	VMOVUPS Y2, 64(SI)
	VMOVUPS Y3, 96(SI)
	ADDQ    $128, SI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JGE     scale32

scale8:
	TESTQ CX, CX
	JEQ   scaledone

scale8loop:
	VMULPS  (SI), Y15, Y0
	VMOVUPS Y0, (SI)
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNE     scale8loop

scaledone:
	VZEROUPPER
	RET

// BINARY is the body of an elementwise dst = x OP y kernel: DI dst, SI x,
// DX y, CX n.
#define BINARY(OP, L32, L8, L8LOOP, DONE) \
	CMPQ    CX, $32      \
	JLT     L8           \
L32:                     \
	VMOVUPS (SI), Y0     \
	VMOVUPS 32(SI), Y1   \
	VMOVUPS 64(SI), Y2   \
	VMOVUPS 96(SI), Y3   \
	OP      (DX), Y0, Y0 \
	OP      32(DX), Y1, Y1 \
	OP      64(DX), Y2, Y2 \
	OP      96(DX), Y3, Y3 \
	VMOVUPS Y0, (DI)     \
	VMOVUPS Y1, 32(DI)   \
	VMOVUPS Y2, 64(DI)   \
	VMOVUPS Y3, 96(DI)   \
	ADDQ    $128, SI     \
	ADDQ    $128, DX     \
	ADDQ    $128, DI     \
	SUBQ    $32, CX      \
	CMPQ    CX, $32      \
	JGE     L32          \
L8:                      \
	TESTQ   CX, CX       \
	JEQ     DONE         \
L8LOOP:                  \
	VMOVUPS (SI), Y0     \
	OP      (DX), Y0, Y0 \
	VMOVUPS Y0, (DI)     \
	ADDQ    $32, SI      \
	ADDQ    $32, DX      \
	ADDQ    $32, DI      \
	SUBQ    $8, CX       \
	JNE     L8LOOP       \
DONE:                    \
	VZEROUPPER           \
	RET

// func vecAddAVX2(dst, x, y *float32, n int)
TEXT ·vecAddAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	BINARY(VADDPS, add32, add8, add8loop, adddone)

// func vecMulAVX2(dst, x, y *float32, n int)
TEXT ·vecMulAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	BINARY(VMULPS, mul32, mul8, mul8loop, muldone)

// EXP8 replaces the eight lanes of X with exp(X), exactly as vecExp1 in
// vec_generic.go (with FMAs). T, N and P are scratch. It expects Y15 = lo,
// Y14 = hi, Y10 = magic and Y9 = log2e, broadcast.
//
// The clamps put X second (Intel order), where MINPS/MAXPS return it when
// it is NaN, so a NaN flows on and makes the result NaN.
#define EXP8(X, T, N, P) \
	VMAXPS       X, Y15, X                    \ // max(x, lo)
	VMINPS       X, Y14, X                    \ // min(x, hi)
	VMOVAPS      Y10, T                       \
	VFMADD231PS  Y9, X, T                     \ // t = x*log2e + magic
	VSUBPS       Y10, T, N                    \ // n = t - magic, float
	VPSUBD       Y10, T, T                    \ // n as int32: bits(t) - bits(magic)
	VFNMADD231PS vecConst<>+128(SB), N, X     \ // x -= n*ln2Hi
	VFNMADD231PS vecConst<>+160(SB), N, X     \ // r = x - n*ln2Lo
	VMOVUPS      vecConst<>+192(SB), P        \ // p = P0
	VFMADD213PS  vecConst<>+224(SB), X, P     \ // p = p*r + P1
	VFMADD213PS  vecConst<>+256(SB), X, P     \
	VFMADD213PS  vecConst<>+288(SB), X, P     \
	VFMADD213PS  vecConst<>+320(SB), X, P     \
	VFMADD213PS  vecConst<>+352(SB), X, P     \ // ... + P5
	VMULPS       X, X, N                      \ // r*r
	VFMADD213PS  X, N, P                      \ // p*r*r + r
	VADDPS       vecConst<>+384(SB), P, P     \ // + 1
	VPSRAD       $1, T, N                     \ // n1 = n >> 1
	VPSUBD       N, T, T                      \ // n2 = n - n1
	VPADDD       vecConst<>+416(SB), N, N     \
	VPADDD       vecConst<>+416(SB), T, T     \
	VPSLLD       $23, N, N                    \ // 2^n1
	VPSLLD       $23, T, T                    \ // 2^n2
	VMULPS       N, P, P                      \
	VMULPS       T, P, X

// func vecExpSumAVX2(shift float32, dst, x *float32, n int) float32
TEXT ·vecExpSumAVX2(SB), NOSPLIT, $0-36
	VBROADCASTSS shift+0(FP), Y13
	MOVQ         dst+8(FP), DI
	MOVQ         x+16(FP), SI
	MOVQ         n+24(FP), CX
	VMOVUPS      vecConst<>+0(SB), Y15
	VMOVUPS      vecConst<>+32(SB), Y14
	VMOVUPS      vecConst<>+96(SB), Y10
	VMOVUPS      vecConst<>+64(SB), Y9
	VXORPS       Y12, Y12, Y12
	VXORPS       Y11, Y11, Y11
	CMPQ         CX, $16
	JLT          exp8

exp16:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y4
	VSUBPS  Y13, Y0, Y0
	VSUBPS  Y13, Y4, Y4
	EXP8(Y0, Y1, Y2, Y3)
	EXP8(Y4, Y5, Y6, Y7)
	VMOVUPS Y0, (DI)
	VMOVUPS Y4, 32(DI)
	VADDPS  Y0, Y12, Y12
	VADDPS  Y4, Y11, Y11
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JGE     exp16

exp8:
	TESTQ   CX, CX
	JEQ     expdone
	VMOVUPS (SI), Y0
	VSUBPS  Y13, Y0, Y0
	EXP8(Y0, Y1, Y2, Y3)
	VMOVUPS Y0, (DI)
	VADDPS  Y0, Y12, Y12

expdone:
	VADDPS  Y11, Y12, Y12
	HREDUCE(VADDPS, VADDSS, Y12, X12, X1)
	VZEROUPPER
	MOVSS   X12, ret+32(FP)
	RET

// GELU8 replaces the eight lanes of X with gelu(X), as vecGELUGeneric in
// gelu.go does (with FMAs). Z, T, N and P are scratch. It expects EXP8's
// constants, with Y14 = geluZMax as the upper clamp (so EXP8's min is the
// clamp of -2u, the same value as vecExp1(min(z, 80))).
#define GELU8(X, Z, T, N, P) \
	VMULPS      X, X, T                  \ // x^2
	VMOVUPS     vecConst<>+480(SB), Z    \
	VFMADD231PS vecConst<>+512(SB), T, Z \ // K1 x^2 + K0
	VMULPS      Z, X, Z                  \ // z = -2u
	EXP8(Z, T, N, P)                     \ // e = exp(min(z, 80))
	VADDPS      vecConst<>+384(SB), Z, Z \ // 1+e
	VMOVUPS     vecConst<>+384(SB), T    \
	VDIVPS      Z, T, T                  \ // s = 1/(1+e)
	VMULPS      T, X, X                    // x*s

// GELUD8 sets D to gelu'(X) for the eight lanes of X, as
// vecGELUBackwardGeneric does (with FMAs); X is clamped to [-20, 20] in
// place. T, N, P and S are scratch; the constants are GELU8's.
#define GELUD8(X, D, T, N, P, S) \
	VMOVUPS     vecConst<>+672(SB), T    \
	VMAXPS      X, T, X                  \ // max(x, -20), NaN kept
	VMOVUPS     vecConst<>+640(SB), T    \
	VMINPS      X, T, X                  \ // min(x, 20), NaN kept
	VMULPS      X, X, T                  \ // x^2
	VMOVUPS     vecConst<>+480(SB), D    \
	VFMADD231PS vecConst<>+512(SB), T, D \ // K1 x^2 + K0
	VMULPS      D, X, D                  \ // z = -2u
	EXP8(D, T, N, P)                     \ // e
	VADDPS      vecConst<>+384(SB), D, T \ // 1+e
	VMOVUPS     vecConst<>+384(SB), S    \
	VDIVPS      T, S, S                  \ // s = 1/(1+e)
	VMULPS      S, D, D                  \ // e*s = 1-s
	VMULPS      X, X, T                  \ // x^2
	VMOVUPS     vecConst<>+544(SB), N    \
	VFMADD231PS vecConst<>+576(SB), T, N \ // w' = K3 x^2 + K2
	VMULPS      N, X, N                  \ // x w'
	VMULPS      N, D, D                  \ // r = (e*s)(x w')
	VFMADD213PS S, S, D                    // s*r + s

// GELUCONST loads the constants GELU8 and GELUD8 expect.
#define GELUCONST \
	VMOVUPS vecConst<>+0(SB), Y15   \ // vecExpLo
	VMOVUPS vecConst<>+608(SB), Y14 \ // geluZMax
	VMOVUPS vecConst<>+96(SB), Y10  \ // vecExpMagic
	VMOVUPS vecConst<>+64(SB), Y9     // vecExpLog2e

// func vecGELUAVX2(dst, x *float32, n int)
TEXT ·vecGELUAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	GELUCONST
	CMPQ CX, $16
	JLT  gelu8

gelu16:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y5
	GELU8(Y0, Y1, Y2, Y3, Y4)
	GELU8(Y5, Y6, Y7, Y8, Y11)
	VMOVUPS Y0, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JGE     gelu16

gelu8:
	TESTQ   CX, CX
	JEQ     geludone
	VMOVUPS (SI), Y0
	GELU8(Y0, Y1, Y2, Y3, Y4)
	VMOVUPS Y0, (DI)

geludone:
	VZEROUPPER
	RET

// func vecGELUBackwardAVX2(dx, x, dy *float32, n int)
TEXT ·vecGELUBackwardAVX2(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ dy+16(FP), DX
	MOVQ n+24(FP), CX
	GELUCONST
	CMPQ CX, $16
	JLT  geluBwd8

geluBwd16:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y6
	GELUD8(Y0, Y1, Y2, Y3, Y4, Y5)
	GELUD8(Y6, Y7, Y8, Y11, Y12, Y13)
	VMULPS  (DX), Y1, Y1
	VMULPS  32(DX), Y7, Y7
	VMOVUPS Y1, (DI)
	VMOVUPS Y7, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JGE     geluBwd16

geluBwd8:
	TESTQ   CX, CX
	JEQ     geluBwdDone
	VMOVUPS (SI), Y0
	GELUD8(Y0, Y1, Y2, Y3, Y4, Y5)
	VMULPS  (DX), Y1, Y1
	VMOVUPS Y1, (DI)

geluBwdDone:
	VZEROUPPER
	RET

// func vecAdamWAVX2(w, grad, m, v *float32, n int, k *adamCoef)
//
// Plain multiplies and adds, in vecAdamWGeneric's order, so the bits match
// the generic path's.
TEXT ·vecAdamWAVX2(SB), NOSPLIT, $0-48
	MOVQ         w+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         m+16(FP), DX
	MOVQ         v+24(FP), R8
	MOVQ         n+32(FP), CX
	MOVQ         k+40(FP), AX
	VBROADCASTSS 0(AX), Y8   // b1
	VBROADCASTSS 4(AX), Y9   // c1 = 1-b1
	VBROADCASTSS 8(AX), Y10  // b2
	VBROADCASTSS 12(AX), Y11 // c2 = 1-b2
	VBROADCASTSS 16(AX), Y12 // decay
	VBROADCASTSS 20(AX), Y13 // step
	VBROADCASTSS 24(AX), Y14 // vscale
	VBROADCASTSS 28(AX), Y15 // eps

adam8:
	VMOVUPS (SI), Y0     // g
	VMULPS  (DX), Y8, Y1 // b1*m
	VMULPS  Y0, Y9, Y2   // c1*g
	VADDPS  Y2, Y1, Y1   // m
	VMOVUPS Y1, (DX)
	VMULPS  Y0, Y11, Y2  // c2*g
	VMULPS  Y0, Y2, Y2   // c2*g*g
	VMULPS  (R8), Y10, Y3 // b2*v
	VADDPS  Y2, Y3, Y3   // v
	VMOVUPS Y3, (R8)
	VSQRTPS Y3, Y3
	VMULPS  Y14, Y3, Y3  // sqrt(v)*vscale
	VADDPS  Y15, Y3, Y3  // + eps
	VMULPS  Y1, Y13, Y1  // step*m
	VDIVPS  Y3, Y1, Y1   // / den
	VMULPS  (DI), Y12, Y4 // w*decay
	VSUBPS  Y1, Y4, Y4
	VMOVUPS Y4, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNE     adam8
	VZEROUPPER
	RET

// func vecSqDevAVX2(x *float32, n int, mean float32) float32
TEXT ·vecSqDevAVX2(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS mean+16(FP), Y15
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	CMPQ         CX, $32
	JLT          sqdev8

sqdev32:
	VSUBPS      (SI), Y15, Y4 // mean - x: the square is the same
	VSUBPS      32(SI), Y15, Y5
	VSUBPS      64(SI), Y15, Y6
	VSUBPS      96(SI), Y15, Y7
	VFMADD231PS Y4, Y4, Y0
	VFMADD231PS Y5, Y5, Y1
	VFMADD231PS Y6, Y6, Y2
	VFMADD231PS Y7, Y7, Y3
	ADDQ        $128, SI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JGE         sqdev32

sqdev8:
	TESTQ CX, CX
	JEQ   sqdevdone

sqdev8loop:
	VSUBPS      (SI), Y15, Y4
	VFMADD231PS Y4, Y4, Y0
	ADDQ        $32, SI
	SUBQ        $8, CX
	JNE         sqdev8loop

sqdevdone:
	VADDPS  Y1, Y0, Y0
	VADDPS  Y3, Y2, Y2
	VADDPS  Y2, Y0, Y0
	HREDUCE(VADDPS, VADDSS, Y0, X0, X1)
	VZEROUPPER
	MOVSS   X0, ret+24(FP)
	RET

// func vecLNForwardAVX2(y, x, w, b *float32, n int, mean, rstd float32)
TEXT ·vecLNForwardAVX2(SB), NOSPLIT, $0-48
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         w+16(FP), DX
	MOVQ         b+24(FP), R8
	MOVQ         n+32(FP), CX
	VBROADCASTSS mean+40(FP), Y15
	VBROADCASTSS rstd+44(FP), Y14
	CMPQ         CX, $16
	JLT          lnf8

lnf16:
	VMOVUPS     (SI), Y0
	VMOVUPS     32(SI), Y1
	VSUBPS      Y15, Y0, Y0 // x - mean
	VSUBPS      Y15, Y1, Y1
	VMULPS      Y14, Y0, Y0 // * rstd
	VMULPS      Y14, Y1, Y1
	VMOVUPS     (DX), Y2
	VMOVUPS     32(DX), Y3
	VFMADD213PS (R8), Y2, Y0 // * w + b
	VFMADD213PS 32(R8), Y3, Y1
	VMOVUPS     Y0, (DI)
	VMOVUPS     Y1, 32(DI)
	ADDQ        $64, SI
	ADDQ        $64, DX
	ADDQ        $64, R8
	ADDQ        $64, DI
	SUBQ        $16, CX
	CMPQ        CX, $16
	JGE         lnf16

lnf8:
	TESTQ       CX, CX
	JEQ         lnfdone
	VMOVUPS     (SI), Y0
	VSUBPS      Y15, Y0, Y0
	VMULPS      Y14, Y0, Y0
	VMOVUPS     (DX), Y2
	VFMADD213PS (R8), Y2, Y0
	VMOVUPS     Y0, (DI)

lnfdone:
	VZEROUPPER
	RET

// LNSUMS8 is one step of vecLNSumsAVX2 on eight lanes at byte offset OFF:
// XH, DY, GW, DW and DB are scratch, S1 and S2 the running sums.
#define LNSUMS8(OFF, XH, DY, GW, DW, DB, S1, S2) \
	VMOVUPS     OFF(SI), XH     \
	VSUBPS      Y15, XH, XH     \
	VMULPS      Y14, XH, XH     \ // xh = (x-mean)*rstd
	VMOVUPS     OFF(DX), DY     \
	VMULPS      OFF(R8), DY, GW \ // gw = dy*w
	VADDPS      GW, S1, S1      \
	VFMADD231PS XH, GW, S2      \ // s2 += gw*xh
	VMOVUPS     OFF(DI), DW     \
	VFMADD231PS XH, DY, DW      \ // dw += dy*xh
	VMOVUPS     DW, OFF(DI)     \
	VADDPS      OFF(R9), DY, DB \ // db += dy
	VMOVUPS     DB, OFF(R9)

// func vecLNSumsAVX2(dw, db, x, dy, w *float32, n int, mean, rstd float32) (s1, s2 float32)
TEXT ·vecLNSumsAVX2(SB), NOSPLIT, $0-64
	MOVQ         dw+0(FP), DI
	MOVQ         db+8(FP), R9
	MOVQ         x+16(FP), SI
	MOVQ         dy+24(FP), DX
	MOVQ         w+32(FP), R8
	MOVQ         n+40(FP), CX
	VBROADCASTSS mean+48(FP), Y15
	VBROADCASTSS rstd+52(FP), Y14
	VXORPS       Y8, Y8, Y8
	VXORPS       Y9, Y9, Y9
	VXORPS       Y10, Y10, Y10
	VXORPS       Y11, Y11, Y11
	CMPQ         CX, $16
	JLT          lns8

lns16:
	LNSUMS8(0, Y0, Y1, Y2, Y3, Y4, Y8, Y9)
	LNSUMS8(32, Y5, Y6, Y7, Y12, Y13, Y10, Y11)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, R8
	ADDQ $64, DI
	ADDQ $64, R9
	SUBQ $16, CX
	CMPQ CX, $16
	JGE  lns16

lns8:
	TESTQ CX, CX
	JEQ   lnsdone
	LNSUMS8(0, Y0, Y1, Y2, Y3, Y4, Y8, Y9)

lnsdone:
	VADDPS  Y10, Y8, Y8
	VADDPS  Y11, Y9, Y9
	HREDUCE(VADDPS, VADDSS, Y8, X8, X1)
	HREDUCE(VADDPS, VADDSS, Y9, X9, X1)
	VZEROUPPER
	MOVSS   X8, s1+56(FP)
	MOVSS   X9, s2+60(FP)
	RET

// LNDX8 is one step of vecLNDxAVX2 on eight lanes at byte offset OFF; XH,
// U and D are scratch.
#define LNDX8(OFF, XH, U, D) \
	VMOVUPS      OFF(SI), XH     \
	VSUBPS       Y15, XH, XH     \
	VMULPS       Y14, XH, XH     \ // xh
	VMOVUPS      OFF(DX), U      \
	VMULPS       OFF(R8), U, U   \ // gw = dy*w
	VSUBPS       Y13, U, U       \ // gw - a
	VFNMADD231PS Y12, XH, U      \ // - xh*c
	VMOVUPS      OFF(DI), D      \
	VFMADD231PS  U, Y14, D       \ // dx += rstd*u
	VMOVUPS      D, OFF(DI)

// func vecLNDxAVX2(dx, x, dy, w *float32, n int, mean, rstd, a, c float32)
TEXT ·vecLNDxAVX2(SB), NOSPLIT, $0-56
	MOVQ         dx+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         dy+16(FP), DX
	MOVQ         w+24(FP), R8
	MOVQ         n+32(FP), CX
	VBROADCASTSS mean+40(FP), Y15
	VBROADCASTSS rstd+44(FP), Y14
	VBROADCASTSS a+48(FP), Y13
	VBROADCASTSS c+52(FP), Y12
	CMPQ         CX, $16
	JLT          lndx8

lndx16:
	LNDX8(0, Y0, Y1, Y2)
	LNDX8(32, Y3, Y4, Y5)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, R8
	ADDQ $64, DI
	SUBQ $16, CX
	CMPQ CX, $16
	JGE  lndx16

lndx8:
	TESTQ CX, CX
	JEQ   lndxdone
	LNDX8(0, Y0, Y1, Y2)

lndxdone:
	VZEROUPPER
	RET
