package half

import (
	"math"
	"testing"
)

// TestHalf checks the half-precision conversions against the exact values:
// every F16 and BF16 value survives float32, and the midpoint between two
// neighbours rounds to the even one, anything off it to the nearer one.
func TestHalf(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		if got := F32ToF16(F16ToF32(uint16(h))); got != uint16(h) {
			t.Fatalf("F16 %#04x -> %#04x", h, got)
		}
		if got := F32ToBF16(BF16ToF32(uint16(h))); got != uint16(h) {
			t.Fatalf("BF16 %#04x -> %#04x", h, got)
		}
	}
	conv := []struct {
		name string
		to   func(float32) uint16
		from func(uint16) float32
		max  uint16
	}{{"F16", F32ToF16, F16ToF32, 0x7bff}, {"BF16", F32ToBF16, BF16ToF32, 0x7f7f}}
	for _, c := range conv {
		for h := uint16(0); h < c.max; h++ {
			a, b := c.from(h), c.from(h+1)
			mid := float32((float64(a) + float64(b)) / 2)
			even := h + h&1
			if got := c.to(mid); got != even {
				t.Fatalf("%s: midpoint of %#04x and %#04x -> %#04x", c.name, h, h+1, got)
			}
			if got := c.to(-math.Nextafter32(mid, 0)); got != 0x8000|h {
				t.Fatalf("%s: below the midpoint of %#04x -> %#04x", c.name, h, got)
			}
			if got := c.to(math.Nextafter32(mid, float32(math.Inf(1)))); got != h+1 {
				t.Fatalf("%s: above the midpoint of %#04x -> %#04x", c.name, h, got)
			}
		}
	}
	if F32ToF16(65520) != 0x7c00 || F32ToF16(65519.996) != 0x7bff || F32ToF16(1e-30) != 0 {
		t.Error("F16 range ends wrong")
	}
}

// TestF32ToF16 checks the rounding of float32 to half precision against the
// exact half values: every half converts back to itself, the midpoint of two
// neighbours goes to the even one, and anything off the midpoint goes to the
// nearer one.
func TestF32ToF16(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		if got := F32ToF16(f); got != uint16(h) { // NaNs included
			t.Fatalf("half %#04x (%g) -> %#04x", h, f, got)
		}
	}
	// Neighbours a < b among the positive finite halves (the step to
	// infinity is checked below).
	for h := uint16(0); h < 0x7bff; h++ {
		a, b := F16ToF32(h), F16ToF32(h+1)
		mid := float32((float64(a) + float64(b)) / 2) // exact: one more bit than a half
		even := h
		if h&1 == 1 {
			even = h + 1
		}
		for _, s := range []float32{1, -1} {
			sign := uint16(0)
			if s < 0 {
				sign = 0x8000
			}
			if got := F32ToF16(s * mid); got != sign|even {
				t.Fatalf("midpoint of %#04x and %#04x (%g): got %#04x, want %#04x", h, h+1, mid, got, sign|even)
			}
			below := math.Nextafter32(mid, 0)
			above := math.Nextafter32(mid, float32(math.Inf(1)))
			if got := F32ToF16(s * below); got != sign|h {
				t.Fatalf("just below the midpoint of %#04x and %#04x: got %#04x", h, h+1, got)
			}
			if got := F32ToF16(s * above); got != sign|(h+1) {
				t.Fatalf("just above the midpoint of %#04x and %#04x: got %#04x", h, h+1, got)
			}
		}
	}
	for _, c := range []struct {
		f    float32
		want uint16
	}{
		{65504, 0x7bff}, {65519.996, 0x7bff}, {65520, 0x7c00}, {1e10, 0x7c00}, {-1e10, 0xfc00},
		{float32(math.Inf(1)), 0x7c00}, {float32(math.Inf(-1)), 0xfc00},
		{0x1p-25, 0}, {math.Nextafter32(0x1p-25, 1), 1}, {1e-30, 0}, {-1e-30, 0x8000},
		{float32(math.Copysign(0, -1)), 0x8000},
	} {
		if got := F32ToF16(c.f); got != c.want {
			t.Errorf("F32ToF16(%g) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}

func TestF32ToBF16(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		if got := F32ToBF16(BF16ToF32(uint16(h))); got != uint16(h) { // NaNs included
			t.Fatalf("bf16 %#04x -> %#04x", h, got)
		}
	}
	for h := uint16(0); h < 0x7f80; h += 7 {
		a, b := BF16ToF32(h), BF16ToF32(h+1)
		mid := float32((float64(a) + float64(b)) / 2)
		even := h
		if h&1 == 1 {
			even = h + 1
		}
		if got := F32ToBF16(mid); got != even {
			t.Fatalf("midpoint of %#04x and %#04x: got %#04x, want %#04x", h, h+1, got, even)
		}
		if got := F32ToBF16(math.Nextafter32(mid, 0)); got != h {
			t.Fatalf("below the midpoint of %#04x: got %#04x", h, got)
		}
		if got := F32ToBF16(math.Nextafter32(mid, float32(math.Inf(1)))); got != h+1 {
			t.Fatalf("above the midpoint of %#04x: got %#04x", h, got)
		}
	}
	// A float32 NaN whose payload lies below bfloat16's bits stays a NaN.
	if got := F32ToBF16(math.Float32frombits(0x7f800001)); got != 0x7fc0 {
		t.Errorf("NaN 0x7f800001 -> %#04x, want 0x7fc0", got)
	}
	if got := F32ToF16(math.Float32frombits(0xff800001)); got != 0xfe00 {
		t.Errorf("NaN 0xff800001 -> %#04x, want 0xfe00", got)
	}
	if got := F32ToBF16(math.MaxFloat32); got != 0x7f80 {
		t.Errorf("MaxFloat32 -> %#04x, want +Inf", got)
	}
}

// TestF16AllValues checks every half-precision bit pattern against a
// float64 evaluation of the IEEE 754 definition.
func TestF16AllValues(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		sign := 1.0
		if h&0x8000 != 0 {
			sign = -1
		}
		exp := (h >> 10) & 0x1f
		mant := float64(h & 0x3ff)
		var want float64
		switch exp {
		case 0:
			want = sign * mant * math.Pow(2, -24)
		case 31:
			if mant == 0 {
				want = math.Inf(int(sign))
			} else {
				want = math.NaN()
			}
		default:
			want = sign * (1 + mant/1024) * math.Pow(2, float64(exp-15))
		}
		got := F16ToF32(uint16(h))
		switch {
		case math.IsNaN(want):
			if !math.IsNaN(float64(got)) {
				t.Fatalf("f16 %#04x: got %v, want NaN", h, got)
			}
			if math.Float32bits(got)&0x7fffff != uint32(h&0x3ff)<<13 {
				t.Fatalf("f16 %#04x: NaN payload lost: %#08x", h, math.Float32bits(got))
			}
		case float64(got) != want || math.Signbit(float64(got)) != (sign < 0):
			t.Fatalf("f16 %#04x: got %v, want %v", h, got, want)
		}
	}
}

func TestBF16(t *testing.T) {
	for _, v := range []float32{1, -3.140625, float32(math.Inf(-1)), 0, 1e38} {
		b := uint16(math.Float32bits(v) >> 16)
		if got := BF16ToF32(b); math.Float32bits(got) != math.Float32bits(v)&0xffff0000 {
			t.Errorf("bf16(%v) = %v", v, got)
		}
	}
}
