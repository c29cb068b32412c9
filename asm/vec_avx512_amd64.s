//go:build amd64 && gc && !purego && !noasm

#include "textflag.h"

// AVX-512 forms of the exponential-bound vector kernels (ExpSum, GELU,
// GELUBackward). Every count n is a positive multiple of 16 (one zmm); the
// dispatchers in vec_amd64.go hand what is left to the AVX2 forms and the
// pure-Go twins. The algorithms are those of vec_generic.go and gelu.go,
// with one difference in the exponential: the final scaling by 2^n is one
// VSCALEFPS, which rounds p*2^n once, as the two exact power-of-two factors
// of the other paths do, so it gives the same result, subnormals included.

// Scalar constants, broadcast into registers at entry (values as in
// vec_generic.go and gelu.go).
DATA avxConst<>+0(SB)/4, $0xc2d00000  // vecExpLo = -104
DATA avxConst<>+4(SB)/4, $0x42b20000  // vecExpHi = 89
DATA avxConst<>+8(SB)/4, $0x4b400000  // vecExpMagic = 1.5*2^23
DATA avxConst<>+12(SB)/4, $0x3fb8aa3b // vecExpLog2e
DATA avxConst<>+16(SB)/4, $0x3f318000 // vecExpLn2Hi
DATA avxConst<>+20(SB)/4, $0xb95e8083 // vecExpLn2Lo
DATA avxConst<>+24(SB)/4, $0x39506967 // vecExpP0
DATA avxConst<>+28(SB)/4, $0x3ab743ce // vecExpP1
DATA avxConst<>+32(SB)/4, $0x3c088908 // vecExpP2
DATA avxConst<>+36(SB)/4, $0x3d2aa9c1 // vecExpP3
DATA avxConst<>+40(SB)/4, $0x3e2aaaaa // vecExpP4
DATA avxConst<>+44(SB)/4, $0x3f000000 // vecExpP5
DATA avxConst<>+48(SB)/4, $0x3f800000 // 1.0
DATA avxConst<>+52(SB)/4, $0xbfcc422a // geluK0 = -2c
DATA avxConst<>+56(SB)/4, $0xbd922279 // geluK1 = -2ca
DATA avxConst<>+60(SB)/4, $0x3e5b33b6 // geluK3 = 6ca
DATA avxConst<>+64(SB)/4, $0x42a00000 // geluZMax = 80
DATA avxConst<>+68(SB)/4, $0x41a00000 // geluXMax = 20
DATA avxConst<>+72(SB)/4, $0xc1a00000 // -geluXMax
GLOBL avxConst<>(SB), RODATA|NOPTR, $76

// EXPCONST16 broadcasts the exponential's constants: Z16 lo, Z17 the upper
// clamp (at byte offset HI of avxConst), Z18 magic, Z19 log2e, Z20 ln2Hi,
// Z21 ln2Lo, Z22..Z27 P0..P5, Z28 1.0.
#define EXPCONST16(HI) \
	VBROADCASTSS avxConst<>+0(SB), Z16  \
	VBROADCASTSS avxConst<>+HI(SB), Z17 \
	VBROADCASTSS avxConst<>+8(SB), Z18  \
	VBROADCASTSS avxConst<>+12(SB), Z19 \
	VBROADCASTSS avxConst<>+16(SB), Z20 \
	VBROADCASTSS avxConst<>+20(SB), Z21 \
	VBROADCASTSS avxConst<>+24(SB), Z22 \
	VBROADCASTSS avxConst<>+28(SB), Z23 \
	VBROADCASTSS avxConst<>+32(SB), Z24 \
	VBROADCASTSS avxConst<>+36(SB), Z25 \
	VBROADCASTSS avxConst<>+40(SB), Z26 \
	VBROADCASTSS avxConst<>+44(SB), Z27 \
	VBROADCASTSS avxConst<>+48(SB), Z28

// EXP16 replaces the sixteen lanes of X with exp(X), as vecExp1 (with FMAs
// and VSCALEFPS); T, N and P are scratch. The clamps put X second (Intel
// order), where MAXPS/MINPS return it when it is NaN.
#define EXP16(X, T, N, P) \
	VMAXPS       X, Z16, X \ // max(x, lo)
	VMINPS       X, Z17, X \ // min(x, hi)
	VMOVAPS      Z18, T    \
	VFMADD231PS  Z19, X, T \ // t = x*log2e + magic
	VSUBPS       Z18, T, N \ // n = t - magic
	VFNMADD231PS Z20, N, X \ // x -= n*ln2Hi
	VFNMADD231PS Z21, N, X \ // r = x - n*ln2Lo
	VMOVAPS      Z22, P    \ // p = P0
	VFMADD213PS  Z23, X, P \ // p = p*r + P1
	VFMADD213PS  Z24, X, P \
	VFMADD213PS  Z25, X, P \
	VFMADD213PS  Z26, X, P \
	VFMADD213PS  Z27, X, P \ // ... + P5
	VMULPS       X, X, T   \ // r*r
	VFMADD213PS  X, T, P   \ // p*r*r + r
	VADDPS       Z28, P, P \ // + 1
	VSCALEFPS    N, P, X     // * 2^n

// func vecExpSumAVX512(shift float32, dst, x *float32, n int) float32
TEXT ·vecExpSumAVX512(SB), NOSPLIT, $0-36
	VBROADCASTSS shift+0(FP), Z15
	MOVQ         dst+8(FP), DI
	MOVQ         x+16(FP), SI
	MOVQ         n+24(FP), CX
	EXPCONST16(4)
	VXORPS       Z12, Z12, Z12
	VXORPS       Z11, Z11, Z11
	CMPQ         CX, $32
	JLT          exp16

exp32:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z4
	VSUBPS  Z15, Z0, Z0 // x - shift
	VSUBPS  Z15, Z4, Z4
	EXP16(Z0, Z1, Z2, Z3)
	EXP16(Z4, Z5, Z6, Z7)
	VMOVUPS Z0, (DI)
	VMOVUPS Z4, 64(DI)
	VADDPS  Z0, Z12, Z12
	VADDPS  Z4, Z11, Z11
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JGE     exp32

exp16:
	TESTQ   CX, CX
	JEQ     expdone
	VMOVUPS (SI), Z0
	VSUBPS  Z15, Z0, Z0
	EXP16(Z0, Z1, Z2, Z3)
	VMOVUPS Z0, (DI)
	VADDPS  Z0, Z12, Z12

expdone:
	VADDPS        Z11, Z12, Z12
	VEXTRACTF64X4 $1, Z12, Y1
	VADDPS        Y1, Y12, Y12
	VEXTRACTF128  $1, Y12, X1
	VADDPS        X1, X12, X12
	VMOVHLPS      X12, X12, X1
	VADDPS        X1, X12, X12
	VMOVSHDUP     X12, X1
	VADDSS        X1, X12, X12
	VZEROUPPER
	MOVSS         X12, ret+32(FP)
	RET

// GELU16 replaces the sixteen lanes of X with gelu(X), as vecGELUGeneric
// (with FMAs); Z, T, N and P are scratch. It expects EXPCONST16 with the
// clamp geluZMax, Z29 = K0 and Z30 = K1.
#define GELU16(X, Z, T, N, P) \
	VMULPS      X, X, T   \ // x^2
	VMOVAPS     Z29, Z    \
	VFMADD231PS Z30, T, Z \ // K0 + K1 x^2
	VMULPS      Z, X, Z   \ // z = -2u
	EXP16(Z, T, N, P)     \ // e = exp(min(z, 80))
	VADDPS      Z28, Z, Z \ // 1+e
	VDIVPS      Z, Z28, Z \ // s = 1/(1+e)
	VMULPS      Z, X, X     // x*s

// GELUD16 sets D to gelu'(X) for the sixteen lanes of X, as
// vecGELUBackwardGeneric (with FMAs), clamping X to [-20, 20] in place; T,
// N, P and S are scratch. Besides GELU16's constants it expects Z31 = K3,
// Z14 = 20 and Z13 = -20. K2 = -K0: w' = K3 x^2 - K0.
#define GELUD16(X, D, T, N, P, S) \
	VMAXPS      X, Z13, X  \ // max(x, -20), NaN kept
	VMINPS      X, Z14, X  \ // min(x, 20)
	VMULPS      X, X, T    \ // x^2
	VMOVAPS     Z29, D     \
	VFMADD231PS Z30, T, D  \ // K0 + K1 x^2
	VMULPS      D, X, D    \ // z = -2u
	EXP16(D, T, N, P)      \ // e
	VADDPS      Z28, D, T  \ // 1+e
	VDIVPS      T, Z28, S  \ // s = 1/(1+e)
	VMULPS      S, D, D    \ // e*s = 1-s
	VMULPS      X, X, N    \ // x^2
	VFMSUB213PS Z29, Z31, N \ // w' = K3 x^2 - K0
	VMULPS      N, X, N    \ // x w'
	VMULPS      N, D, D    \ // r = (e*s)(x w')
	VFMADD213PS S, S, D      // s*r + s

// GELUCONST16 loads what GELU16 and GELUD16 expect.
#define GELUCONST16 \
	EXPCONST16(64)                      \ // upper clamp geluZMax
	VBROADCASTSS avxConst<>+52(SB), Z29 \
	VBROADCASTSS avxConst<>+56(SB), Z30 \
	VBROADCASTSS avxConst<>+60(SB), Z31 \
	VBROADCASTSS avxConst<>+68(SB), Z14 \
	VBROADCASTSS avxConst<>+72(SB), Z13

// func vecGELUAVX512(dst, x *float32, n int)
TEXT ·vecGELUAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	GELUCONST16
	CMPQ CX, $32
	JLT  gelu16

gelu32:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z5
	GELU16(Z0, Z1, Z2, Z3, Z4)
	GELU16(Z5, Z6, Z7, Z8, Z9)
	VMOVUPS Z0, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JGE     gelu32

gelu16:
	TESTQ   CX, CX
	JEQ     geludone
	VMOVUPS (SI), Z0
	GELU16(Z0, Z1, Z2, Z3, Z4)
	VMOVUPS Z0, (DI)

geludone:
	VZEROUPPER
	RET

// func vecGELUBackwardAVX512(dx, x, dy *float32, n int)
TEXT ·vecGELUBackwardAVX512(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ dy+16(FP), DX
	MOVQ n+24(FP), CX
	GELUCONST16
	CMPQ CX, $32
	JLT  geluBwd16

geluBwd32:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z6
	GELUD16(Z0, Z1, Z2, Z3, Z4, Z5)
	GELUD16(Z6, Z7, Z8, Z9, Z10, Z11)
	VMULPS  (DX), Z1, Z1
	VMULPS  64(DX), Z7, Z7
	VMOVUPS Z1, (DI)
	VMOVUPS Z7, 64(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JGE     geluBwd32

geluBwd16:
	TESTQ   CX, CX
	JEQ     geluBwdDone
	VMOVUPS (SI), Z0
	GELUD16(Z0, Z1, Z2, Z3, Z4, Z5)
	VMULPS  (DX), Z1, Z1
	VMOVUPS Z1, (DI)

geluBwdDone:
	VZEROUPPER
	RET
