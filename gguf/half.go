package gguf

import "math"

// f16ToF32 converts IEEE 754 binary16 bits to float32 exactly.
func f16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant * 2^-24
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(v))
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	default:
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	}
}

// f32ToF16 rounds a float32 to the nearest binary16 (ties to even):
// overflow gives infinities, underflow signed zeros, and NaNs keep the top
// of their payload (quieted only if nothing of it would be left), so every
// half survives a round trip through float32.
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff:
		if mant == 0 {
			return sign | 0x7c00
		}
		if p := uint16(mant >> 13); p != 0 {
			return sign | 0x7c00 | p
		}
		return sign | 0x7e00
	case exp > 142:
		return sign | 0x7c00
	case exp >= 113: // normal
		h := uint32(exp-112)<<10 | mant>>13
		rest := mant & 0x1fff
		if rest > 0x1000 || rest == 0x1000 && h&1 == 1 {
			h++ // a carry into the exponent is still right, up to infinity
		}
		return sign | uint16(h)
	case exp >= 102: // subnormal
		m := mant | 0x800000
		shift := uint32(126 - exp)
		h := m >> shift
		rest := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rest > half || rest == half && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	}
	return sign
}

// bf16ToF32 converts bfloat16 bits to float32.
func bf16ToF32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// f32ToBF16 rounds a float32 to the nearest bfloat16 (ties to even); NaNs
// stay NaNs.
func f32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		if h := uint16(b >> 16); h&0x7f != 0 {
			return h
		}
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// RoundF16 returns x rounded to half precision, as Write stores an F16
// tensor.
func RoundF16(x float32) float32 { return f16ToF32(f32ToF16(x)) }

// RoundBF16 returns x rounded to bfloat16, as Write stores a BF16 tensor.
func RoundBF16(x float32) float32 { return bf16ToF32(f32ToBF16(x)) }
