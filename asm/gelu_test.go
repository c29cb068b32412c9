package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// GELU and GELUBackward are checked on every path against float64
// evaluations of the tanh form and its derivative, with vec_test.go's
// lengths, offsets and guards, on dense grids, on random values of every
// magnitude and on special values at every lane position.

// The promised bounds, in units of |x| (GELU) and |dy| (GELUBackward).
const (
	geluTol  = 3e-7
	geluDTol = 4e-7
)

// geluRef and geluDRef are gelu and gelu' in float64, from tanh.
func geluRef(x float64) float64 {
	const c, a = 0.7978845608028654, 0.044715
	return 0.5 * x * (1 + math.Tanh(c*(x+a*x*x*x)))
}

func geluDRef(x float64) float64 {
	const c, a = 0.7978845608028654, 0.044715
	th := math.Tanh(c * (x + a*x*x*x))
	return 0.5*(1+th) + 0.5*x*(1-th*th)*c*(1+3*a*x*x)
}

// geluErr returns GELU's error at x in units of |x| (the subnormal spacing
// allowed for: a result below 2^-126 may be off by it).
func geluErr(x, got float32) float64 {
	d := math.Abs(float64(got) - geluRef(float64(x)))
	return max(d-0x1p-149, 0) / math.Abs(float64(x))
}

// geluCheck reports the first element of got = GELU(x) outside the
// contract, or "" if all are within.
func geluCheck(x, got []float32) string {
	for i, v := range x {
		g := got[i]
		switch {
		case v != v:
			if g == g {
				return fmt.Sprintf("gelu(NaN) = %v, want NaN", g)
			}
		case math.IsInf(float64(v), 0):
			if g != v {
				return fmt.Sprintf("gelu(%v) = %v, want %v", v, g, v)
			}
		case v == 0:
			if g != 0 {
				return fmt.Sprintf("gelu(0) = %v", g)
			}
		default:
			if e := geluErr(v, g); !(e <= geluTol) {
				return fmt.Sprintf("gelu(%v) = %v, want %v (error %.3g|x|)", v, g, geluRef(float64(v)), e)
			}
		}
	}
	return ""
}

// geluDCheck reports the first element of got = GELUBackward(x, dy) outside
// the contract, or "".
func geluDCheck(x, dy, got []float32) string {
	for i, v := range x {
		g := float64(got[i])
		switch {
		case v != v || dy[i] != dy[i]:
			if g == g {
				return fmt.Sprintf("GELUBackward(%v, %v) = %v, want NaN", v, dy[i], g)
			}
		default:
			// gelu'(±Inf) is the limit: 1 or 0.
			w := float64(dy[i]) * geluDRef(max(min(float64(v), 1e10), -1e10))
			if d := math.Abs(g - w); !(d <= geluDTol*math.Abs(float64(dy[i]))+0x1p-149) {
				return fmt.Sprintf("GELUBackward(%v, %v) = %v, want %v (error %.3g|dy|)", v, dy[i], g, w, d/math.Abs(float64(dy[i])))
			}
		}
	}
	return ""
}

func TestGELU(t *testing.T) {
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		for _, n := range vecLengths {
			for off := range 8 {
				x, cx := vecSlice(n, off, vecUniform(rng, -8, 8))
				dy, cdy := vecSlice(n, (off+3)%8, vecUniform(rng, -2, 2))
				dst, cd := vecSlice(n, 7-off, vecUniform(rng, -1, 1))
				GELU(dst, x)
				if msg := geluCheck(x, dst); msg != "" {
					t.Fatalf("GELU n=%d off=%d: %s", n, off, msg)
				}
				GELUBackward(dst, x, dy)
				if msg := geluDCheck(x, dy, dst); msg != "" {
					t.Fatalf("GELUBackward n=%d off=%d: %s", n, off, msg)
				}
				// In place: dx is dy, then x; GELU's dst is x.
				x0 := append([]float32(nil), x...)
				dy0 := append([]float32(nil), dy...)
				GELUBackward(dy, x, dy)
				if msg := geluDCheck(x0, dy0, dy); msg != "" {
					t.Fatalf("GELUBackward into dy n=%d off=%d: %s", n, off, msg)
				}
				copy(dy, dy0)
				GELUBackward(x, x, dy)
				if msg := geluDCheck(x0, dy0, x); msg != "" {
					t.Fatalf("GELUBackward into x n=%d off=%d: %s", n, off, msg)
				}
				copy(x, x0)
				GELU(x, x)
				if msg := geluCheck(x0, x); msg != "" {
					t.Fatalf("GELU in place n=%d off=%d: %s", n, off, msg)
				}
				cx(t, "GELU x")
				cdy(t, "GELU dy")
				cd(t, "GELU dst")
			}
		}
		// Only len(dst) elements are written.
		x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
		dst := make([]float32, 10)
		GELU(dst[:9], x)
		GELUBackward(dst[:9], x, x)
		if dst[9] != 0 {
			t.Fatalf("GELU wrote past len(dst): %v", dst)
		}
	})
}

// TestGELUDense checks both kernels on 2^19 evenly spaced points of
// [-12, 12], every 4093rd float32 of either sign (every binade, subnormals
// included) and 2^16 random bit patterns, and logs the largest errors.
func TestGELUDense(t *testing.T) {
	const m = 1 << 19
	rng := rand.New(rand.NewPCG(23, 24))
	x := make([]float32, 0, m+2*(1<<31)/4093+1<<16)
	for i := range m {
		x = append(x, float32(-12+24*float64(i)/float64(m-1)))
	}
	for b := uint32(0); b < 0x7f800000; b += 4093 {
		x = append(x, math.Float32frombits(b), -math.Float32frombits(b))
	}
	for range 1 << 16 {
		x = append(x, math.Float32frombits(rng.Uint32()))
	}
	dy := make([]float32, len(x))
	for i := range dy {
		dy[i] = float32(rng.NormFloat64())
	}
	got := make([]float32, len(x))
	vecForEachPath(t, func(t *testing.T) {
		GELU(got, x)
		if msg := geluCheck(x, got); msg != "" {
			t.Fatal(msg)
		}
		worst, worstX := 0.0, float32(0)
		for i, v := range x {
			if v == v && !math.IsInf(float64(v), 0) && v != 0 {
				if e := geluErr(v, got[i]); e > worst {
					worst, worstX = e, v
				}
			}
		}
		GELUBackward(got, x, dy)
		if msg := geluDCheck(x, dy, got); msg != "" {
			t.Fatal(msg)
		}
		worstD, worstDX := 0.0, float32(0)
		for i, v := range x {
			if v == v && !math.IsInf(float64(v), 0) {
				if e := math.Abs(float64(got[i])-float64(dy[i])*geluDRef(float64(v))) / math.Abs(float64(dy[i])); e > worstD {
					worstD, worstDX = e, v
				}
			}
		}
		t.Logf("GELU max error %.3g|x| (at %v), GELUBackward max error %.3g|dy| (at %v), %d points", worst, worstX, worstD, worstDX, len(x))
	})
}

// TestGELUSpecial puts special inputs at every lane position of vectors
// and tails.
func TestGELUSpecial(t *testing.T) {
	inf := float32(math.Inf(1))
	specials := []float32{inf, -inf, float32(math.NaN()), 0, float32(math.Copysign(0, -1)),
		1e-40, -1e-40, 0x1p-126, 1e-20, -1e-20, 9.6, -9.6, -9.7, -10, -12, 12, -19.9, -20, -20.1, 20.1,
		-30, 30, 1e5, -1e5, 1e13, -1e13, 1e20, -1e20, math.MaxFloat32, -math.MaxFloat32}
	vecForEachPath(t, func(t *testing.T) {
		for _, n := range []int{1, 7, 8, 9, 16, 17, 31, 33} {
			for _, s := range specials {
				for pos := range n {
					x := make([]float32, n)
					dy := make([]float32, n)
					for i := range x {
						x[i] = float32(i%5) - 2
						dy[i] = float32(i%3) - 1.5
					}
					x[pos] = s
					got := make([]float32, n)
					GELU(got, x)
					if msg := geluCheck(x, got); msg != "" {
						t.Fatalf("GELU n=%d special %v at %d: %s", n, s, pos, msg)
					}
					GELUBackward(got, x, dy)
					if msg := geluDCheck(x, dy, got); msg != "" {
						t.Fatalf("GELUBackward n=%d special %v at %d: %s", n, s, pos, msg)
					}
				}
			}
		}
		for _, c := range []struct{ x, y, d float32 }{{0, 0, 0.5}, {inf, inf, 1}, {-inf, -inf, 0}, {30, 30, 1}} {
			y, d := []float32{-1}, []float32{-1}
			GELU(y, []float32{c.x})
			GELUBackward(d, []float32{c.x}, []float32{1})
			if y[0] != c.y || math.Abs(float64(d[0]-c.d)) > 1e-30 {
				t.Fatalf("gelu(%v) = %v, gelu' = %v; want %v, %v", c.x, y[0], d[0], c.y, c.d)
			}
		}
	})
}

// TestGELUCheckers shows the checks can fail: the exact (erf) GELU, a
// result one part in a million off, and a wrong derivative are all flagged.
func TestGELUCheckers(t *testing.T) {
	x := []float32{-3, -1, -0.5, 0.25, 1, 2.5}
	erf := make([]float32, len(x))
	for i, v := range x {
		erf[i] = float32(0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2)))
	}
	if geluCheck(x, erf) == "" {
		t.Fatal("the erf form of GELU passed the tanh form's check")
	}
	got := make([]float32, len(x))
	GELU(got, x)
	got[3] *= 1 + 1e-6
	if geluCheck(x, got) == "" {
		t.Fatal("an error of 1e-6 relative passed")
	}
	dy := []float32{1, 1, 1, 1, 1, 1}
	GELUBackward(got, x, dy)
	got[1] += 1e-6
	if geluDCheck(x, dy, got) == "" {
		t.Fatal("a derivative off by 1e-6 passed")
	}
}

func TestGELUShortOperands(t *testing.T) {
	long, short := make([]float32, 40), make([]float32, 39)
	cases := map[string]func(){
		"GELU":            func() { GELU(long, short) },
		"GELUBackward x":  func() { GELUBackward(long, short, long) },
		"GELUBackward dy": func() { GELUBackward(long, long, short) },
	}
	vecForEachPath(t, func(t *testing.T) {
		for name, f := range cases {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s with a short operand did not panic", name)
					}
				}()
				f()
			}()
		}
	})
}
