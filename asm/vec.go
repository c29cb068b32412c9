package asm

// Vector kernels for the engine's hot loops. Each exported function checks
// its lengths (a short operand panics with an index-out-of-range error, as a
// plain Go loop would) and hands full-width blocks to the active SIMD path;
// the few elements left over, and every element on the generic path, go
// through the pure-Go twins in vec_generic.go.
//
// Unless a doc comment says otherwise, dst may be the same slice as an input
// (in-place use) but must not partially overlap one.

// Dot returns sum_i x[i]*y[i] over len(x) elements; len(y) >= len(x).
// The summation order is unspecified (SIMD paths keep several partial sums).
func Dot(x, y []float32) float32 {
	y = y[:len(x)]
	return vecDot(x, y)
}

// SumSquares returns sum_i x[i]*x[i], e.g. for gradient norms. The
// summation order is unspecified.
func SumSquares(x []float32) float32 { return vecDot(x, x) }

// Axpy computes y[i] += alpha*x[i] for i < len(x); len(y) >= len(x). SIMD
// paths use a fused multiply-add (one rounding), the generic path may not.
func Axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	vecAxpy(alpha, x, y)
}

// Scale computes x[i] *= alpha.
func Scale(alpha float32, x []float32) { vecScale(alpha, x) }

// Add computes dst[i] = x[i] + y[i] for i < len(dst); x and y must be at
// least as long as dst.
func Add(dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	vecAdd(dst, x, y)
}

// Mul computes dst[i] = x[i] * y[i] for i < len(dst); x and y must be at
// least as long as dst.
func Mul(dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	vecMul(dst, x, y)
}

// Sum returns sum_i x[i]; 0 for an empty slice. The summation order is
// unspecified.
func Sum(x []float32) float32 { return vecSum(x) }

// Max returns max_i x[i]: -Inf for an empty slice, NaN if any element is NaN.
// Which zero it returns when the maximum is ±0 is unspecified.
func Max(x []float32) float32 { return vecMax(x) }

// Exp computes dst[i] = exp(x[i]) for i < len(dst); len(x) >= len(dst).
//
// Accuracy: for x in [-87, 87] the relative error against math.Exp is at
// most 1e-6 on every path, which the tests check on 4.3 million points per
// path. Measured on every float32 in [-87, 87] it is at most 8.5e-8 (0.71
// ulp of 1.0) on the generic, AVX2 and NEON paths. Elsewhere: results up to
// MaxFloat32 keep that accuracy, x above ln(MaxFloat32) ~ 88.7228 gives
// +Inf, results below 2^-126 (x < -87.34) are subnormal and within 2
// subnormal ulp, x below about -103.97 gives 0, -Inf gives 0, +Inf gives +Inf
// and NaN gives NaN.
//
// Every path runs the same algorithm (vecExp1 in vec_generic.go): x = n*ln2
// + r with ln2 split in two parts so that n*ln2Hi is exact, |r| <= ln2/2,
// exp(r) = 1 + r + r^2*P(r) with P of degree 5 (Cephes expf), and 2^n built
// in the exponent bits as two factors, so subnormal results and overflow
// come out right. Paths differ only in where they fuse a multiply-add.
func Exp(dst, x []float32) {
	x = x[:len(dst)]
	vecExpSum(dst, x, 0)
}

// ExpSum computes dst[i] = exp(x[i] - shift) for i < len(dst) and returns the
// sum of the dst[i]; len(x) >= len(dst). x[i]-shift is rounded to float32
// before the exponential, which has Exp's accuracy. With shift = max(x) it
// is the numerically stable core of softmax and log-sum-exp (cross-entropy):
// every term is in [0, 1] and the sum is at least 1.
func ExpSum(dst, x []float32, shift float32) float32 {
	x = x[:len(dst)]
	return vecExpSum(dst, x, shift)
}

// Softmax replaces x, in place, with exp(x - max(x)) / sum(exp(x - max(x))).
// Subtracting the maximum first keeps every exponential in [0, 1], so large
// inputs do not overflow. -Inf entries (masked positions) become 0. If x holds
// a NaN or +Inf, or every entry is -Inf, the result is all NaN.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	m := Max(x)
	s := ExpSum(x, x, m)
	Scale(1/s, x)
}
