package asm

// GELU, tanh form (GPT-2's):
//
//	gelu(x) = 0.5x(1 + tanh(u)),  u = sqrt(2/pi)(x + 0.044715x^3),
//
// computed as x*sigmoid(2u) = x/(1+e) with e = exp(-2u), since
// 0.5(1+tanh(u)) = sigmoid(2u). The exponential is vecExp1, the one Exp
// uses, so no path needs a tanh. The derivative is
//
//	gelu'(x) = s(1 + x(1-s)w'(x)),  s = sigmoid(w), w = 2u, w' = 2c + 6ca x^2,
//
// with 1-s = e*s (e/(1+e)), which keeps its relative accuracy where s is
// close to 1 (1-s computed by subtraction would lose it).

// GELU computes dst[i] = gelu(x[i]) = 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3)))
// for i < len(dst); len(x) >= len(dst).
//
// Accuracy: |GELU(x) - gelu(x)| <= 3e-7·|x| for every finite x on every
// path, gelu evaluated in float64 (measured on every float32 with |x| in
// [1/8, 16]: at most 1.5e-7·|x|; the tests check the bound on a dense grid
// of [-12, 12], every binade and special values). For moderate x this is a relative error of
// a few ulp; where gelu(x) is tiny (x below about -5) it is an absolute
// one. -2u is clamped to at most 80 before the exponential, so for x below
// about -9.6 the result is x*1.8e-35 rather than something smaller still.
// x = +Inf gives +Inf, x = -Inf gives -Inf (not the limit 0: an infinite
// activation means training has diverged, and it stays visible), NaN gives
// NaN.
func GELU(dst, x []float32) {
	x = x[:len(dst)]
	vecGELU(dst, x)
}

// GELUBackward computes dx[i] = dy[i] * gelu'(x[i]) for i < len(dx); x and
// dy must be at least as long as dx. It recomputes the exponential rather
// than taking a saved sigmoid: that costs less than the memory traffic of
// keeping one.
//
// Accuracy: |GELUBackward - dy·gelu'(x)| <= 4e-7·|dy| for every finite x
// on every path, about 3 ulp of gelu' (which lies in [-0.17, 1.13]);
// measured: at most 2.2e-7 for dy = 1 on every float32 with |x| in [1/8,
// 16], 2.5e-7·|dy| with the rounding of the product by a random dy.
// x is clamped to [-20, 20] first (beyond it gelu' is 1 or below 1e-30),
// so any finite x, and ±Inf, give a finite derivative; NaN gives NaN.
func GELUBackward(dx, x, dy []float32) {
	x, dy = x[:len(dx)], dy[:len(dx)]
	vecGELUBackward(dx, x, dy)
}

// Constants of GELU shared by every path (the assembly holds the same
// values as bit patterns, noted beside each). c = sqrt(2/pi), a = 0.044715.
const (
	geluK0   float32 = -2 * 0.7978845608028654            // 0xbfcc422a: -2c
	geluK1   float32 = -2 * 0.7978845608028654 * 0.044715 // 0xbd922279: -2ca
	geluK2   float32 = 2 * 0.7978845608028654             // 0x3fcc422a: 2c
	geluK3   float32 = 6 * 0.7978845608028654 * 0.044715  // 0x3e5b33b6: 6ca
	geluZMax float32 = 80                                 // 0x42a00000: e <= exp(80), so s >= 1.8e-35 stays normal
	geluXMax float32 = 20                                 // 0x41a00000: the backward's clamp on |x|
)

// geluSig returns e = exp(z) and s = 1/(1+e) = sigmoid(2u(x)) with
// z = -2u(x) = x(K0 + K1 x^2), clamped to at most 80, step for step as the
// SIMD forms do (which fuse K1*x^2 + K0). A NaN stays NaN (Go's min keeps
// it; the assembly puts z where its min returns a NaN).
func geluSig(x float32) (e, s float32) {
	z := x * (geluK1*(x*x) + geluK0)
	e = vecExp1(min(z, geluZMax))
	return e, 1 / (1 + e)
}

func vecGELUGeneric(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		_, s := geluSig(v)
		dst[i] = v * s
	}
}

func vecGELUBackwardGeneric(dx, x, dy []float32) {
	x, dy = x[:len(dx)], dy[:len(dx)]
	for i, v := range x {
		v = min(max(v, -geluXMax), geluXMax)
		e, s := geluSig(v)
		r := (e * s) * (v * (geluK3*(v*v) + geluK2)) // x(1-s)w'
		dx[i] = dy[i] * (s*r + s)
	}
}
