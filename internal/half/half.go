package half

import "math"

// F16ToF32 converts IEEE 754 binary16 bits to float32 exactly (every
// half-precision value, subnormals, infinities and NaN payloads included, is
// representable in single precision).
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant * 2^-24, exact in float32
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(v))
	case exp == 0x1f: // Inf or NaN, payload kept
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	default: // rebias 15 -> 127
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	}
}

// BF16ToF32 converts bfloat16 bits (the top half of a float32) to float32.
func BF16ToF32(b uint16) float32 {
	return math.Float32frombits(uint32(b) << 16)
}

// F32ToF16 rounds a float32 to the nearest IEEE 754 binary16 value (ties to
// even). Values beyond the half range become infinities, values below its
// smallest subnormal become signed zeros, and NaNs stay NaNs (with the top
// of their payload, so that every half survives a round trip through float32).
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if mant == 0 {
			return sign | 0x7c00
		}
		if p := uint16(mant >> 13); p != 0 {
			return sign | 0x7c00 | p // payload kept: f16 -> f32 -> f16 is the identity
		}
		return sign | 0x7e00 // the payload was all in the dropped bits: quiet NaN
	case exp > 142: // >= 2^16: beyond the largest half (65504 rounds up at 65520)
		return sign | 0x7c00
	case exp >= 113: // normal half: rebias 127 -> 15, round 13 dropped bits
		h := uint32(exp-112)<<10 | mant>>13
		rest := mant & 0x1fff
		if rest > 0x1000 || rest == 0x1000 && h&1 == 1 {
			h++ // may carry into the exponent, up to infinity: still correct
		}
		return sign | uint16(h)
	case exp >= 102: // subnormal half: shift the full significand
		m := mant | 0x800000
		shift := uint32(126 - exp) // 14..24
		h := m >> shift
		rest := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rest > half || rest == half && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	}
	return sign // underflows to zero
}

// F32ToBF16 rounds a float32 to the nearest bfloat16 (ties to even); NaNs
// stay NaNs.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN: keep its top bits, quiet it if they hold no payload
		if h := uint16(b >> 16); h&0x7f != 0 {
			return h
		}
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// RoundF16 returns x rounded to half precision, as a file stores an F16
// tensor.
func RoundF16(x float32) float32 { return F16ToF32(F32ToF16(x)) }

// RoundBF16 returns x rounded to bfloat16, as a file stores a BF16 tensor.
func RoundBF16(x float32) float32 { return BF16ToF32(F32ToBF16(x)) }
