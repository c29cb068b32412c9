package asm

import "math"

// Pure-Go twins of the vector kernels. They serve the generic path and the
// tails (fewer than one SIMD register's worth of elements) of the SIMD paths,
// and are the reference the SIMD forms are tested against. Slices arrive
// with their lengths already checked by the exported functions; the
// `len(y) >= 4` style loop conditions only help the compiler drop bounds
// checks. Reductions keep four partial sums: it shortens the dependency chain
// and, like the SIMD forms, bounds the rounding error by about n/4 ulp
// rather than n.

func vecDotGeneric(x, y []float32) float32 {
	var s0, s1, s2, s3 float32
	for len(x) >= 4 && len(y) >= 4 {
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		x, y = x[4:], y[4:]
	}
	for i := 0; i < len(x) && i < len(y); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func vecSumGeneric(x []float32) float32 {
	var s0, s1, s2, s3 float32
	for len(x) >= 4 {
		s0 += x[0]
		s1 += x[1]
		s2 += x[2]
		s3 += x[3]
		x = x[4:]
	}
	for _, v := range x {
		s0 += v
	}
	return (s0 + s1) + (s2 + s3)
}

// vecMaxGeneric returns -Inf for an empty slice and NaN as soon as it meets
// one (a comparison alone would skip NaNs).
func vecMaxGeneric(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		} else if v != v {
			return float32(math.NaN())
		}
	}
	return m
}

func vecAxpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func vecScaleGeneric(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

func vecAddGeneric(dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] + y[i]
	}
}

func vecMulGeneric(dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] * y[i]
	}
}

func vecExpSumGeneric(dst, x []float32, shift float32) float32 {
	x = x[:len(dst)]
	var s float32
	for i, v := range x {
		e := vecExp1(v - shift)
		dst[i] = e
		s += e
	}
	return s
}

// Constants of the exponential shared by every path (the assembly holds the
// same values as bit patterns, noted beside each).
const (
	vecExpLo    float32 = -104                // 0xc2d00000: below it exp rounds to 0
	vecExpHi    float32 = 89                  // 0x42b20000: above it exp overflows
	vecExpLog2e float32 = 1.44269504088896341 // 0x3fb8aa3b
	vecExpMagic float32 = 12582912            // 0x4b400000 = 1.5*2^23: adding it rounds to an integer
	vecExpLn2Hi float32 = 0.693359375         // 0x3f318000: 9 significant bits, so n*ln2Hi is exact
	vecExpLn2Lo float32 = -2.12194440e-4      // 0xb95e8083: ln2 - ln2Hi
	vecExpP0    float32 = 1.9875691500e-4     // 0x39506967
	vecExpP1    float32 = 1.3981999507e-3     // 0x3ab743ce
	vecExpP2    float32 = 8.3334519073e-3     // 0x3c088908
	vecExpP3    float32 = 4.1665795894e-2     // 0x3d2aa9c1
	vecExpP4    float32 = 1.6666665459e-1     // 0x3e2aaaaa
	vecExpP5    float32 = 5.0000001201e-1     // 0x3f000000
)

// vecExp1 is the scalar exponential, step for step what the SIMD forms do
// on each lane:
//
//	x clamped to [-104, 89] (NaN stays NaN),
//	n = round(x*log2e) by the 1.5*2^23 trick, which also leaves n in the
//	    low bits of the sum, r = x - n*ln2Hi - n*ln2Lo, |r| <= ln2/2 (+tiny),
//	exp(r) = 1 + r + r^2*P(r), P of degree 5 (Cephes expf),
//	exp(x) = exp(r) * 2^n1 * 2^n2 with n1 = n>>1, n2 = n-n1, each factor a
//	    normal float built in the exponent bits; two factors reach the
//	    subnormal results down to 2^-149 and overflow cleanly to +Inf.
func vecExp1(x float32) float32 {
	x = min(max(x, vecExpLo), vecExpHi)
	t := x*vecExpLog2e + vecExpMagic
	n := t - vecExpMagic
	ni := int32(math.Float32bits(t) - math.Float32bits(vecExpMagic))
	r := x - n*vecExpLn2Hi
	r -= n * vecExpLn2Lo
	p := vecExpP0
	p = p*r + vecExpP1
	p = p*r + vecExpP2
	p = p*r + vecExpP3
	p = p*r + vecExpP4
	p = p*r + vecExpP5
	y := p*(r*r) + r + 1
	n1 := ni >> 1
	n2 := ni - n1
	return y * math.Float32frombits(uint32(n1+127)<<23) * math.Float32frombits(uint32(n2+127)<<23)
}
