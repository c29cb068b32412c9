//go:build arm64 && gc && !purego && !noasm

#include "textflag.h"

// NEON vector kernels. Every count n is a positive multiple of 4; the loops
// take 16 (or 8) elements at a time, then 4. Operand order is Go's: the
// destination is last, and VFMLA Vm, Vn, Vd is Vd += Vn*Vm.
//
// Go's arm64 assembler has no floating-point vector arithmetic besides
// FMLA/FMLS, so these instructions are encoded with WORD (arguments are
// register numbers, in Arm's order: destination first):
//
//	FADD4S(d, n, m)   FADD  Vd.4S, Vn.4S, Vm.4S
//	FSUB4S(d, n, m)   FSUB  Vd.4S, Vn.4S, Vm.4S
//	FMUL4S(d, n, m)   FMUL  Vd.4S, Vn.4S, Vm.4S
//	FMAX4S(d, n, m)   FMAX  Vd.4S, Vn.4S, Vm.4S  (NaN if either is NaN)
//	FMIN4S(d, n, m)   FMIN  Vd.4S, Vn.4S, Vm.4S  (NaN if either is NaN)
//	FADDP4S(d, n, m)  FADDP Vd.4S, Vn.4S, Vm.4S
//	FADDP2S(d, n)     FADDP Sd, Vn.2S
//	FMAXV4S(d, n)     FMAXV Sd, Vn.4S            (NaN if any lane is NaN)
//	SSHR4S1(d, n)     SSHR  Vd.4S, Vn.4S, #1
//	FDIV4S(d, n, m)   FDIV  Vd.4S, Vn.4S, Vm.4S
//	FSQRT4S(d, n)     FSQRT Vd.4S, Vn.4S
#define FADD4S(d, n, m) WORD $(0x4E20D400 | (m)<<16 | (n)<<5 | (d))
#define FSUB4S(d, n, m) WORD $(0x4EA0D400 | (m)<<16 | (n)<<5 | (d))
#define FMUL4S(d, n, m) WORD $(0x6E20DC00 | (m)<<16 | (n)<<5 | (d))
#define FMAX4S(d, n, m) WORD $(0x4E20F400 | (m)<<16 | (n)<<5 | (d))
#define FMIN4S(d, n, m) WORD $(0x4EA0F400 | (m)<<16 | (n)<<5 | (d))
#define FADDP4S(d, n, m) WORD $(0x6E20D400 | (m)<<16 | (n)<<5 | (d))
#define FADDP2S(d, n) WORD $(0x7E30D800 | (n)<<5 | (d))
#define FMAXV4S(d, n) WORD $(0x6E30F800 | (n)<<5 | (d))
#define SSHR4S1(d, n) WORD $(0x4F3F0400 | (n)<<5 | (d))
#define FDIV4S(d, n, m) WORD $(0x6E20FC00 | (m)<<16 | (n)<<5 | (d))
#define FSQRT4S(d, n) WORD $(0x6EA1F800 | (n)<<5 | (d))

// func vecDotNEON(x, y *float32, n int) float32
TEXT ·vecDotNEON(SB), NOSPLIT, $0-28
	MOVD x+0(FP), R0
	MOVD y+8(FP), R1
	MOVD n+16(FP), R2
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	CMP  $16, R2
	BLT  dot4

dot16:
	VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]
	VFMLA  V0.S4, V4.S4, V16.S4
	VFMLA  V1.S4, V5.S4, V17.S4
	VFMLA  V2.S4, V6.S4, V18.S4
	VFMLA  V3.S4, V7.S4, V19.S4
	SUB    $16, R2
	CMP    $16, R2
	BGE    dot16

dot4:
	CBZ R2, dotdone

dot4loop:
	VLD1.P 16(R0), [V0.S4]
	VLD1.P 16(R1), [V4.S4]
	VFMLA  V0.S4, V4.S4, V16.S4
	SUBS   $4, R2
	BNE    dot4loop

dotdone:
	FADD4S(16, 16, 17)
	FADD4S(18, 18, 19)
	FADD4S(16, 16, 18)
	FADDP4S(16, 16, 16)
	FADDP2S(16, 16)
	FMOVS F16, ret+24(FP)
	RET

// func vecSumNEON(x *float32, n int) float32
TEXT ·vecSumNEON(SB), NOSPLIT, $0-20
	MOVD x+0(FP), R0
	MOVD n+8(FP), R2
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	CMP  $16, R2
	BLT  sum4

sum16:
	VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	FADD4S(16, 16, 0)
	FADD4S(17, 17, 1)
	FADD4S(18, 18, 2)
	FADD4S(19, 19, 3)
	SUB    $16, R2
	CMP    $16, R2
	BGE    sum16

sum4:
	CBZ R2, sumdone

sum4loop:
	VLD1.P 16(R0), [V0.S4]
	FADD4S(16, 16, 0)
	SUBS   $4, R2
	BNE    sum4loop

sumdone:
	FADD4S(16, 16, 17)
	FADD4S(18, 18, 19)
	FADD4S(16, 16, 18)
	FADDP4S(16, 16, 16)
	FADDP2S(16, 16)
	FMOVS F16, ret+16(FP)
	RET

// func vecMaxNEON(x *float32, n int) float32
//
// FMAX and FMAXV return NaN when an operand is NaN, so a NaN anywhere
// reaches the result with no extra work.
TEXT ·vecMaxNEON(SB), NOSPLIT, $0-20
	MOVD x+0(FP), R0
	MOVD n+8(FP), R2
	MOVD $0xff800000, R3           // -Inf
	VDUP R3, V16.S4
	VORR V16.B16, V16.B16, V17.B16
	VORR V16.B16, V16.B16, V18.B16
	VORR V16.B16, V16.B16, V19.B16
	CMP  $16, R2
	BLT  max4

max16:
	VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMAX4S(16, 16, 0)
	FMAX4S(17, 17, 1)
	FMAX4S(18, 18, 2)
	FMAX4S(19, 19, 3)
	SUB    $16, R2
	CMP    $16, R2
	BGE    max16

max4:
	CBZ R2, maxdone

max4loop:
	VLD1.P 16(R0), [V0.S4]
	FMAX4S(16, 16, 0)
	SUBS   $4, R2
	BNE    max4loop

maxdone:
	FMAX4S(16, 16, 17)
	FMAX4S(18, 18, 19)
	FMAX4S(16, 16, 18)
	FMAXV4S(16, 16)
	FMOVS F16, ret+16(FP)
	RET

// func vecAxpyNEON(alpha float32, x, y *float32, n int)
TEXT ·vecAxpyNEON(SB), NOSPLIT, $0-32
	FMOVS alpha+0(FP), F31
	VDUP  V31.S[0], V31.S4
	MOVD  x+8(FP), R0
	MOVD  y+16(FP), R1
	MOVD  n+24(FP), R2
	CMP   $16, R2
	BLT   axpy4

axpy16:
	VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1   (R1), [V4.S4, V5.S4, V6.S4, V7.S4]
	VFMLA  V31.S4, V0.S4, V4.S4
	VFMLA  V31.S4, V1.S4, V5.S4
	VFMLA  V31.S4, V2.S4, V6.S4
	VFMLA  V31.S4, V3.S4, V7.S4
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R1)
	SUB    $16, R2
	CMP    $16, R2
	BGE    axpy16

axpy4:
	CBZ R2, axpydone

axpy4loop:
	VLD1.P 16(R0), [V0.S4]
	VLD1   (R1), [V4.S4]
	VFMLA  V31.S4, V0.S4, V4.S4
	VST1.P [V4.S4], 16(R1)
	SUBS   $4, R2
	BNE    axpy4loop

axpydone:
	RET

// func vecScaleNEON(alpha float32, x *float32, n int)
TEXT ·vecScaleNEON(SB), NOSPLIT, $0-24
	FMOVS alpha+0(FP), F31
	VDUP  V31.S[0], V31.S4
	MOVD  x+8(FP), R0
	MOVD  n+16(FP), R2
	CMP   $16, R2
	BLT   scale4

scale16:
	VLD1   (R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMUL4S(0, 0, 31)
	FMUL4S(1, 1, 31)
	FMUL4S(2, 2, 31)
	FMUL4S(3, 3, 31)
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUB    $16, R2
	CMP    $16, R2
	BGE    scale16

scale4:
	CBZ R2, scaledone

scale4loop:
	VLD1   (R0), [V0.S4]
	FMUL4S(0, 0, 31)
	VST1.P [V0.S4], 16(R0)
	SUBS   $4, R2
	BNE    scale4loop

scaledone:
	RET

// BINARY is the body of an elementwise dst = x OP y kernel, OP one of the
// WORD macros above: R0 dst, R1 x, R2 y, R3 n.
#define BINARY(OP, L16, L4, L4LOOP, DONE) \
	CMP    $16, R3                                     \
	BLT    L4                                          \
L16:                                                   \
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]        \
	VLD1.P 64(R2), [V4.S4, V5.S4, V6.S4, V7.S4]        \
	OP(0, 0, 4)                                        \
	OP(1, 1, 5)                                        \
	OP(2, 2, 6)                                        \
	OP(3, 3, 7)                                        \
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)        \
	SUB    $16, R3                                     \
	CMP    $16, R3                                     \
	BGE    L16                                         \
L4:                                                    \
	CBZ    R3, DONE                                    \
L4LOOP:                                                \
	VLD1.P 16(R1), [V0.S4]                             \
	VLD1.P 16(R2), [V4.S4]                             \
	OP(0, 0, 4)                                        \
	VST1.P [V0.S4], 16(R0)                             \
	SUBS   $4, R3                                      \
	BNE    L4LOOP                                      \
DONE:                                                  \
	RET

// func vecAddNEON(dst, x, y *float32, n int)
TEXT ·vecAddNEON(SB), NOSPLIT, $0-32
	MOVD dst+0(FP), R0
	MOVD x+8(FP), R1
	MOVD y+16(FP), R2
	MOVD n+24(FP), R3
	BINARY(FADD4S, add16, add4, add4loop, adddone)

// func vecMulNEON(dst, x, y *float32, n int)
TEXT ·vecMulNEON(SB), NOSPLIT, $0-32
	MOVD dst+0(FP), R0
	MOVD x+8(FP), R1
	MOVD y+16(FP), R2
	MOVD n+24(FP), R3
	BINARY(FMUL4S, mul16, mul4, mul4loop, muldone)

// EXP4 replaces the four lanes of X with exp(X), exactly as vecExp1 in
// vec_generic.go (with FMAs). T, N and P are scratch registers; x, t and
// n are the numbers of X, T and N, for the WORD macros. It expects
// the constants of vecExp1 broadcast in V16 (lo), V17 (hi), V18 (log2e),
// V19 (magic), V20 (ln2Hi), V21 (ln2Lo), V22..V27 (P0..P5), V28 (1.0) and
// V29 (int32 127). FMAX/FMIN return NaN for a NaN, so NaN flows through.
#define EXP4(X, T, N, P, x, t, n) \
	FMAX4S(x, x, 16)              \ // max(x, lo)
	FMIN4S(x, x, 17)              \ // min(x, hi)
	VORR   V19.B16, V19.B16, T.B16 \
	VFMLA  V18.S4, X.S4, T.S4     \ // t = x*log2e + magic
	FSUB4S(n, t, 19)              \ // n = t - magic, float
	VSUB   V19.S4, T.S4, T.S4     \ // n as int32: bits(t) - bits(magic)
	VFMLS  V20.S4, N.S4, X.S4     \ // x -= n*ln2Hi
	VFMLS  V21.S4, N.S4, X.S4     \ // r = x - n*ln2Lo
	VORR   V23.B16, V23.B16, P.B16 \
	VFMLA  V22.S4, X.S4, P.S4     \ // p = P1 + P0*r
	VORR   V24.B16, V24.B16, N.B16 \
	VFMLA  P.S4, X.S4, N.S4       \ // p = P2 + p*r (in N)
	VORR   V25.B16, V25.B16, P.B16 \
	VFMLA  N.S4, X.S4, P.S4       \ // P3 + p*r
	VORR   V26.B16, V26.B16, N.B16 \
	VFMLA  P.S4, X.S4, N.S4       \ // P4 + p*r
	VORR   V27.B16, V27.B16, P.B16 \
	VFMLA  N.S4, X.S4, P.S4       \ // P5 + p*r
	FMUL4S(n, x, x)               \ // r*r
	VFMLA  P.S4, N.S4, X.S4       \ // r + p*r*r
	FADD4S(x, x, 28)              \ // + 1
	SSHR4S1(n, t)                 \ // n1 = n >> 1
	VSUB   N.S4, T.S4, T.S4       \ // n2 = n - n1
	VADD   V29.S4, N.S4, N.S4     \
	VADD   V29.S4, T.S4, T.S4     \
	VSHL   $23, N.S4, N.S4        \ // 2^n1
	VSHL   $23, T.S4, T.S4        \ // 2^n2
	FMUL4S(x, x, n)               \
	FMUL4S(x, x, t)

// func vecExpSumNEON(shift float32, dst, x *float32, n int) float32
TEXT ·vecExpSumNEON(SB), NOSPLIT, $0-36
	FMOVS shift+0(FP), F30
	VDUP  V30.S[0], V30.S4
	MOVD  dst+8(FP), R0
	MOVD  x+16(FP), R1
	MOVD  n+24(FP), R2
	MOVD  $0xc2d00000, R3          // vecExpLo = -104
	VDUP  R3, V16.S4
	MOVD  $0x42b20000, R3          // vecExpHi = 89
	VDUP  R3, V17.S4
	MOVD  $0x3fb8aa3b, R3          // vecExpLog2e
	VDUP  R3, V18.S4
	MOVD  $0x4b400000, R3          // vecExpMagic = 1.5*2^23
	VDUP  R3, V19.S4
	MOVD  $0x3f318000, R3          // vecExpLn2Hi
	VDUP  R3, V20.S4
	MOVD  $0xb95e8083, R3          // vecExpLn2Lo
	VDUP  R3, V21.S4
	MOVD  $0x39506967, R3          // vecExpP0
	VDUP  R3, V22.S4
	MOVD  $0x3ab743ce, R3          // vecExpP1
	VDUP  R3, V23.S4
	MOVD  $0x3c088908, R3          // vecExpP2
	VDUP  R3, V24.S4
	MOVD  $0x3d2aa9c1, R3          // vecExpP3
	VDUP  R3, V25.S4
	MOVD  $0x3e2aaaaa, R3          // vecExpP4
	VDUP  R3, V26.S4
	MOVD  $0x3f000000, R3          // vecExpP5
	VDUP  R3, V27.S4
	MOVD  $0x3f800000, R3          // 1.0
	VDUP  R3, V28.S4
	MOVD  $127, R3                 // exponent bias
	VDUP  R3, V29.S4
	VEOR  V12.B16, V12.B16, V12.B16
	VEOR  V13.B16, V13.B16, V13.B16
	CMP   $8, R2
	BLT   exp4

exp8:
	VLD1.P 32(R1), [V0.S4, V1.S4]
	FSUB4S(0, 0, 30)
	FSUB4S(1, 1, 30)
	EXP4(V0, V2, V3, V4, 0, 2, 3)
	EXP4(V1, V5, V6, V7, 1, 5, 6)
	VST1.P [V0.S4, V1.S4], 32(R0)
	FADD4S(12, 12, 0)
	FADD4S(13, 13, 1)
	SUB    $8, R2
	CMP    $8, R2
	BGE    exp8

exp4:
	CBZ    R2, expdone
	VLD1.P 16(R1), [V0.S4]
	FSUB4S(0, 0, 30)
	EXP4(V0, V2, V3, V4, 0, 2, 3)
	VST1.P [V0.S4], 16(R0)
	FADD4S(12, 12, 0)

expdone:
	FADD4S(12, 12, 13)
	FADDP4S(12, 12, 12)
	FADDP2S(12, 12)
	FMOVS F12, ret+32(FP)
	RET

// EXPCONST loads the constants EXP4 expects, with HI (bits) as the upper
// clamp; it clobbers R3.
#define EXPCONST(HI) \
	MOVD $0xc2d00000, R3 \ // vecExpLo = -104
	VDUP R3, V16.S4      \
	MOVD $HI, R3         \
	VDUP R3, V17.S4      \
	MOVD $0x3fb8aa3b, R3 \ // vecExpLog2e
	VDUP R3, V18.S4      \
	MOVD $0x4b400000, R3 \ // vecExpMagic
	VDUP R3, V19.S4      \
	MOVD $0x3f318000, R3 \ // vecExpLn2Hi
	VDUP R3, V20.S4      \
	MOVD $0xb95e8083, R3 \ // vecExpLn2Lo
	VDUP R3, V21.S4      \
	MOVD $0x39506967, R3 \ // vecExpP0
	VDUP R3, V22.S4      \
	MOVD $0x3ab743ce, R3 \ // vecExpP1
	VDUP R3, V23.S4      \
	MOVD $0x3c088908, R3 \ // vecExpP2
	VDUP R3, V24.S4      \
	MOVD $0x3d2aa9c1, R3 \ // vecExpP3
	VDUP R3, V25.S4      \
	MOVD $0x3e2aaaaa, R3 \ // vecExpP4
	VDUP R3, V26.S4      \
	MOVD $0x3f000000, R3 \ // vecExpP5
	VDUP R3, V27.S4      \
	MOVD $0x3f800000, R3 \ // 1.0
	VDUP R3, V28.S4      \
	MOVD $127, R3        \
	VDUP R3, V29.S4      \
	MOVD $0xbfcc422a, R3 \ // geluK0 = -2c
	VDUP R3, V30.S4      \
	MOVD $0xbd922279, R3 \ // geluK1 = -2ca
	VDUP R3, V31.S4

// GELU4 replaces the four lanes of X with gelu(X), as vecGELUGeneric in
// gelu.go does (with FMAs); Z, T, N and P are scratch, lower-case the
// register numbers. It expects EXPCONST(geluZMax): EXP4's min is then the
// clamp of -2u.
#define GELU4(X, Z, T, N, P, x, z, t, n) \
	FMUL4S(t, x, x)                \ // x^2
	VORR   V30.B16, V30.B16, Z.B16 \
	VFMLA  V31.S4, T.S4, Z.S4      \ // K0 + K1 x^2
	FMUL4S(z, z, x)                \ // z = -2u
	EXP4(Z, T, N, P, z, t, n)      \ // e = exp(min(z, 80))
	FADD4S(z, z, 28)               \ // 1+e
	FDIV4S(z, 28, z)               \ // s = 1/(1+e)
	FMUL4S(x, x, z)                  // x*s

// GELUD4 sets P to gelu'(X) for the four lanes of X, as
// vecGELUBackwardGeneric does (with FMAs), clamping X to [-20, 20] in
// place; D, T, N and S are scratch. Besides GELU4's constants it expects
// V13 = geluK3, V14 = 20 and V15 = -20. K2 = -K0, so w' is formed
// negated (FMLS from K0) and the last step subtracts.
#define GELUD4(X, D, T, N, P, S, x, d, t, n, p, s) \
	FMAX4S(x, x, 15)               \ // max(x, -20), NaN kept
	FMIN4S(x, x, 14)               \ // min(x, 20)
	FMUL4S(t, x, x)                \ // x^2
	VORR   V30.B16, V30.B16, D.B16 \
	VFMLA  V31.S4, T.S4, D.S4      \ // K0 + K1 x^2
	FMUL4S(d, d, x)                \ // z = -2u
	EXP4(D, T, N, P, d, t, n)      \ // e
	FADD4S(t, d, 28)               \ // 1+e
	FDIV4S(s, 28, t)               \ // s = 1/(1+e)
	FMUL4S(d, d, s)                \ // e*s = 1-s
	FMUL4S(t, x, x)                \ // x^2
	VORR   V30.B16, V30.B16, N.B16 \
	VFMLS  V13.S4, T.S4, N.S4      \ // K0 - K3 x^2 = -w'
	FMUL4S(n, n, x)                \ // -x w'
	FMUL4S(d, d, n)                \ // -r = (e*s)(-x w')
	VORR   S.B16, S.B16, P.B16     \
	VFMLS  S.S4, D.S4, P.S4          // s + s*r

// func vecGELUNEON(dst, x *float32, n int)
TEXT ·vecGELUNEON(SB), NOSPLIT, $0-24
	MOVD dst+0(FP), R0
	MOVD x+8(FP), R1
	MOVD n+16(FP), R2
	EXPCONST(0x42a00000) // geluZMax = 80
	CMP  $8, R2
	BLT  gelu4

gelu8:
	VLD1.P 32(R1), [V0.S4, V1.S4]
	GELU4(V0, V2, V3, V4, V5, 0, 2, 3, 4)
	GELU4(V1, V6, V7, V8, V9, 1, 6, 7, 8)
	VST1.P [V0.S4, V1.S4], 32(R0)
	SUB    $8, R2
	CMP    $8, R2
	BGE    gelu8

gelu4:
	CBZ    R2, geludone
	VLD1.P 16(R1), [V0.S4]
	GELU4(V0, V2, V3, V4, V5, 0, 2, 3, 4)
	VST1.P [V0.S4], 16(R0)

geludone:
	RET

// func vecGELUBackwardNEON(dx, x, dy *float32, n int)
TEXT ·vecGELUBackwardNEON(SB), NOSPLIT, $0-32
	MOVD dx+0(FP), R0
	MOVD x+8(FP), R1
	MOVD dy+16(FP), R2
	MOVD n+24(FP), R4
	EXPCONST(0x42a00000) // geluZMax = 80
	MOVD $0x3e5b33b6, R3 // geluK3 = 6ca
	VDUP R3, V13.S4
	MOVD $0x41a00000, R3 // 20
	VDUP R3, V14.S4
	MOVD $0xc1a00000, R3 // -20
	VDUP R3, V15.S4
	CMP  $8, R4
	BLT  geluBwd4

geluBwd8:
	VLD1.P 32(R1), [V0.S4, V1.S4]
	GELUD4(V0, V2, V3, V4, V5, V6, 0, 2, 3, 4, 5, 6)
	GELUD4(V1, V7, V8, V9, V10, V11, 1, 7, 8, 9, 10, 11)
	VLD1.P 32(R2), [V2.S4, V3.S4]
	FMUL4S(5, 5, 2)
	FMUL4S(10, 10, 3)
	VST1.P [V5.S4], 16(R0)
	VST1.P [V10.S4], 16(R0)
	SUB    $8, R4
	CMP    $8, R4
	BGE    geluBwd8

geluBwd4:
	CBZ    R4, geluBwdDone
	VLD1.P 16(R1), [V0.S4]
	GELUD4(V0, V2, V3, V4, V5, V6, 0, 2, 3, 4, 5, 6)
	VLD1.P 16(R2), [V2.S4]
	FMUL4S(5, 5, 2)
	VST1.P [V5.S4], 16(R0)

geluBwdDone:
	RET

// func vecAdamWNEON(w, grad, m, v *float32, n int, k *adamCoef)
//
// Plain multiplies and adds, in vecAdamWGeneric's order, so the bits match
// the generic path's.
TEXT ·vecAdamWNEON(SB), NOSPLIT, $0-48
	MOVD w+0(FP), R0
	MOVD grad+8(FP), R1
	MOVD m+16(FP), R2
	MOVD v+24(FP), R3
	MOVD n+32(FP), R4
	MOVD k+40(FP), R5
	VLD1 (R5), [V0.S4, V1.S4]
	VDUP V0.S[0], V24.S4 // b1
	VDUP V0.S[1], V25.S4 // c1 = 1-b1
	VDUP V0.S[2], V26.S4 // b2
	VDUP V0.S[3], V27.S4 // c2 = 1-b2
	VDUP V1.S[0], V28.S4 // decay
	VDUP V1.S[1], V29.S4 // step
	VDUP V1.S[2], V30.S4 // vscale
	VDUP V1.S[3], V31.S4 // eps

adam4:
	VLD1.P 16(R1), [V0.S4] // g
	VLD1   (R2), [V1.S4]   // m
	VLD1   (R3), [V2.S4]   // v
	FMUL4S(1, 1, 24)       // b1*m
	FMUL4S(3, 0, 25)       // c1*g
	FADD4S(1, 1, 3)        // m
	VST1.P [V1.S4], 16(R2)
	FMUL4S(3, 0, 27)       // c2*g
	FMUL4S(3, 3, 0)        // c2*g*g
	FMUL4S(2, 2, 26)       // b2*v
	FADD4S(2, 2, 3)        // v
	VST1.P [V2.S4], 16(R3)
	FSQRT4S(2, 2)
	FMUL4S(2, 2, 30)       // sqrt(v)*vscale
	FADD4S(2, 2, 31)       // + eps
	FMUL4S(1, 1, 29)       // step*m
	FDIV4S(1, 1, 2)        // / den
	VLD1   (R0), [V4.S4]
	FMUL4S(4, 4, 28)       // w*decay
	FSUB4S(4, 4, 1)
	VST1.P [V4.S4], 16(R0)
	SUBS   $4, R4
	BNE    adam4
	RET

// func vecSqDevNEON(x *float32, n int, mean float32) float32
TEXT ·vecSqDevNEON(SB), NOSPLIT, $0-28
	MOVD  x+0(FP), R0
	MOVD  n+8(FP), R2
	FMOVS mean+16(FP), F31
	VDUP  V31.S[0], V31.S4
	VEOR  V16.B16, V16.B16, V16.B16
	VEOR  V17.B16, V17.B16, V17.B16
	VEOR  V18.B16, V18.B16, V18.B16
	VEOR  V19.B16, V19.B16, V19.B16
	CMP   $16, R2
	BLT   sqdev4

sqdev16:
	VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	FSUB4S(0, 0, 31)
	FSUB4S(1, 1, 31)
	FSUB4S(2, 2, 31)
	FSUB4S(3, 3, 31)
	VFMLA  V0.S4, V0.S4, V16.S4
	VFMLA  V1.S4, V1.S4, V17.S4
	VFMLA  V2.S4, V2.S4, V18.S4
	VFMLA  V3.S4, V3.S4, V19.S4
	SUB    $16, R2
	CMP    $16, R2
	BGE    sqdev16

sqdev4:
	CBZ R2, sqdevdone

sqdev4loop:
	VLD1.P 16(R0), [V0.S4]
	FSUB4S(0, 0, 31)
	VFMLA  V0.S4, V0.S4, V16.S4
	SUBS   $4, R2
	BNE    sqdev4loop

sqdevdone:
	FADD4S(16, 16, 17)
	FADD4S(18, 18, 19)
	FADD4S(16, 16, 18)
	FADDP4S(16, 16, 16)
	FADDP2S(16, 16)
	FMOVS F16, ret+24(FP)
	RET

// func vecLNForwardNEON(y, x, w, b *float32, n int, mean, rstd float32)
TEXT ·vecLNForwardNEON(SB), NOSPLIT, $0-48
	MOVD  y+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  w+16(FP), R2
	MOVD  b+24(FP), R3
	MOVD  n+32(FP), R4
	FMOVS mean+40(FP), F30
	VDUP  V30.S[0], V30.S4
	FMOVS rstd+44(FP), F31
	VDUP  V31.S[0], V31.S4
	CMP   $8, R4
	BLT   lnf4

lnf8:
	VLD1.P 32(R1), [V0.S4, V1.S4]
	VLD1.P 32(R2), [V2.S4, V3.S4]
	VLD1.P 32(R3), [V4.S4, V5.S4]
	FSUB4S(0, 0, 30)             // x - mean
	FSUB4S(1, 1, 30)
	FMUL4S(0, 0, 31)             // * rstd
	FMUL4S(1, 1, 31)
	VFMLA  V2.S4, V0.S4, V4.S4   // b + xh*w
	VFMLA  V3.S4, V1.S4, V5.S4
	VST1.P [V4.S4, V5.S4], 32(R0)
	SUB    $8, R4
	CMP    $8, R4
	BGE    lnf8

lnf4:
	CBZ    R4, lnfdone
	VLD1.P 16(R1), [V0.S4]
	VLD1.P 16(R2), [V2.S4]
	VLD1.P 16(R3), [V4.S4]
	FSUB4S(0, 0, 30)
	FMUL4S(0, 0, 31)
	VFMLA  V2.S4, V0.S4, V4.S4
	VST1.P [V4.S4], 16(R0)

lnfdone:
	RET

// LNSUMS4 is one step of vecLNSumsNEON on four lanes: XH, DY, GW, DW and
// DB are scratch (lower-case: their numbers), S1 and S2 the running sums.
#define LNSUMS4(XH, DY, GW, DW, DB, S1, S2, xh, dy, gw, db, s1) \
	VLD1.P 16(R2), [XH.S4]    \ // x
	FSUB4S(xh, xh, 30)        \
	FMUL4S(xh, xh, 31)        \ // xh = (x-mean)*rstd
	VLD1.P 16(R3), [DY.S4]    \
	VLD1.P 16(R4), [GW.S4]    \
	FMUL4S(gw, dy, gw)        \ // gw = dy*w
	FADD4S(s1, s1, gw)        \
	VFMLA  XH.S4, GW.S4, S2.S4 \ // s2 += gw*xh
	VLD1   (R0), [DW.S4]      \
	VFMLA  XH.S4, DY.S4, DW.S4 \ // dw += dy*xh
	VST1.P [DW.S4], 16(R0)    \
	VLD1   (R1), [DB.S4]      \
	FADD4S(db, db, dy)        \ // db += dy
	VST1.P [DB.S4], 16(R1)

// func vecLNSumsNEON(dw, db, x, dy, w *float32, n int, mean, rstd float32) (s1, s2 float32)
TEXT ·vecLNSumsNEON(SB), NOSPLIT, $0-64
	MOVD  dw+0(FP), R0
	MOVD  db+8(FP), R1
	MOVD  x+16(FP), R2
	MOVD  dy+24(FP), R3
	MOVD  w+32(FP), R4
	MOVD  n+40(FP), R5
	FMOVS mean+48(FP), F30
	VDUP  V30.S[0], V30.S4
	FMOVS rstd+52(FP), F31
	VDUP  V31.S[0], V31.S4
	VEOR  V16.B16, V16.B16, V16.B16
	VEOR  V17.B16, V17.B16, V17.B16
	VEOR  V18.B16, V18.B16, V18.B16
	VEOR  V19.B16, V19.B16, V19.B16
	CMP   $8, R5
	BLT   lns4

lns8:
	LNSUMS4(V0, V1, V2, V3, V4, V16, V17, 0, 1, 2, 4, 16)
	LNSUMS4(V5, V6, V7, V8, V9, V18, V19, 5, 6, 7, 9, 18)
	SUB $8, R5
	CMP $8, R5
	BGE lns8

lns4:
	CBZ R5, lnsdone
	LNSUMS4(V0, V1, V2, V3, V4, V16, V17, 0, 1, 2, 4, 16)

lnsdone:
	FADD4S(16, 16, 18)
	FADD4S(17, 17, 19)
	FADDP4S(16, 16, 16)
	FADDP2S(16, 16)
	FADDP4S(17, 17, 17)
	FADDP2S(17, 17)
	FMOVS F16, s1+56(FP)
	FMOVS F17, s2+60(FP)
	RET

// LNDX4 is one step of vecLNDxNEON on four lanes; XH, U, W and D are
// scratch (lower-case: their numbers).
#define LNDX4(XH, U, W, D, xh, u, w) \
	VLD1.P 16(R1), [XH.S4]     \ // x
	FSUB4S(xh, xh, 28)         \
	FMUL4S(xh, xh, 29)         \ // xh
	VLD1.P 16(R2), [U.S4]      \ // dy
	VLD1.P 16(R3), [W.S4]      \
	FMUL4S(u, u, w)            \ // gw = dy*w
	FSUB4S(u, u, 30)           \ // gw - a
	VFMLS  V31.S4, XH.S4, U.S4 \ // - xh*c
	VLD1   (R0), [D.S4]        \
	VFMLA  V29.S4, U.S4, D.S4  \ // dx += rstd*u
	VST1.P [D.S4], 16(R0)

// func vecLNDxNEON(dx, x, dy, w *float32, n int, mean, rstd, a, c float32)
TEXT ·vecLNDxNEON(SB), NOSPLIT, $0-56
	MOVD  dx+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  dy+16(FP), R2
	MOVD  w+24(FP), R3
	MOVD  n+32(FP), R4
	FMOVS mean+40(FP), F28
	VDUP  V28.S[0], V28.S4
	FMOVS rstd+44(FP), F29
	VDUP  V29.S[0], V29.S4
	FMOVS a+48(FP), F30
	VDUP  V30.S[0], V30.S4
	FMOVS c+52(FP), F31
	VDUP  V31.S[0], V31.S4
	CMP   $8, R4
	BLT   lndx4

lndx8:
	LNDX4(V0, V1, V2, V3, 0, 1, 2)
	LNDX4(V4, V5, V6, V7, 4, 5, 6)
	SUB $8, R4
	CMP $8, R4
	BGE lndx8

lndx4:
	CBZ R4, lndxdone
	LNDX4(V0, V1, V2, V3, 0, 1, 2)

lndxdone:
	RET
