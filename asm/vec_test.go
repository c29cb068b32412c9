package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// The vector kernels are checked on every path this build and CPU support,
// against simple float64 references, on every length 0..70 and a few large
// odd ones, at start offsets 0..7 (so SIMD loads are unaligned and tails of
// every size occur), with guard elements around each slice that must come
// back unchanged.

const (
	vecU      = 1.0 / (1 << 24) // unit roundoff of float32
	vecGuard  = 9               // guard elements after each slice (offset ones before)
	vecExpTol = 1e-6            // Exp's promised max relative error
)

var vecLengths = func() []int {
	var ls []int
	for n := 0; n <= 70; n++ {
		ls = append(ls, n)
	}
	return append(ls, 127, 255, 256, 257, 1000, 4099)
}()

// vecForEachPath runs f once per supported kernel path, as a subtest, and
// restores the active path afterwards.
func vecForEachPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	prev := Kernel()
	defer SetKernel(prev)
	for _, p := range Supported() {
		if err := SetKernel(p); err != nil {
			t.Fatal(err)
		}
		t.Run(p, f)
	}
}

// vecSentinel fills the guard regions; its bit pattern is compared, so a
// kernel that writes any value there, even the same NaN class, is caught.
var vecSentinel = math.Float32frombits(0x7fa11ce5)

// vecSlice returns a slice of n elements at offset off inside a larger
// buffer, filled by gen, with sentinel guards on both sides, and a function
// that reports any change to the guards.
func vecSlice(n, off int, gen func() float32) ([]float32, func(t *testing.T, what string)) {
	buf := make([]float32, off+n+vecGuard)
	for i := range buf {
		buf[i] = vecSentinel
	}
	s := buf[off : off+n : off+n]
	for i := range s {
		s[i] = gen()
	}
	check := func(t *testing.T, what string) {
		t.Helper()
		for i, v := range buf {
			if (i < off || i >= off+n) && math.Float32bits(v) != math.Float32bits(vecSentinel) {
				t.Fatalf("%s n=%d off=%d: guard element %d overwritten with %v", what, n, off, i-off, v)
			}
		}
	}
	return s, check
}

func vecUniform(rng *rand.Rand, lo, hi float32) func() float32 {
	return func() float32 { return lo + (hi-lo)*rng.Float32() }
}

func vecSmallInt(rng *rand.Rand) func() float32 {
	return func() float32 { return float32(rng.IntN(17) - 8) }
}

// vecReduceTol bounds the rounding error of a float32 sum of n terms kept in
// at least four partial sums (every path does), relative to sum |terms|.
func vecReduceTol(n int, absSum float64) float64 {
	return float64(n/4+16) * vecU * absSum
}

func TestVecDot(t *testing.T) {
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, n := range vecLengths {
			for off := range 8 {
				x, cx := vecSlice(n, off, vecUniform(rng, -1, 1))
				y, cy := vecSlice(n, 7-off, vecUniform(rng, -1, 1))
				var want, abs float64
				for i := range x {
					p := float64(x[i]) * float64(y[i])
					want += p
					abs += math.Abs(p)
				}
				got := Dot(x, y)
				if d := math.Abs(float64(got) - want); !(d <= vecReduceTol(n, abs)) {
					t.Fatalf("Dot n=%d off=%d: got %v, want %v (err %g > %g)", n, off, got, want, d, vecReduceTol(n, abs))
				}
				if got, want := SumSquares(x), vecRefDot(x, x); math.Abs(float64(got)-want) > vecReduceTol(n, want) {
					t.Fatalf("SumSquares n=%d off=%d: got %v, want %v", n, off, got, want)
				}
				cx(t, "Dot x")
				cy(t, "Dot y")
			}
		}
	})
}

func vecRefDot(x, y []float32) float64 {
	var s float64
	for i := range x {
		s += float64(x[i]) * float64(y[i])
	}
	return s
}

func vecRefSum(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s
}

// TestVecReduceExact uses small integers, whose sums are exact in float32
// whatever the order: a dropped, doubled or misplaced term shows at once.
func TestVecReduceExact(t *testing.T) {
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, n := range vecLengths {
			for off := range 8 {
				x, _ := vecSlice(n, off, vecSmallInt(rng))
				y, _ := vecSlice(n, off^5, vecSmallInt(rng))
				if got, want := Dot(x, y), vecRefDot(x, y); float64(got) != want {
					t.Fatalf("Dot n=%d off=%d: got %v, want %v", n, off, got, want)
				}
				if got, want := SumSquares(x), vecRefDot(x, x); float64(got) != want {
					t.Fatalf("SumSquares n=%d off=%d: got %v, want %v", n, off, got, want)
				}
				if got, want := Sum(x), vecRefSum(x); float64(got) != want {
					t.Fatalf("Sum n=%d off=%d: got %v, want %v", n, off, got, want)
				}
			}
		}
		// Dot reads only len(x) elements of a longer y.
		x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
		y := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 100, 100}
		if got := Dot(x, y); got != 45 {
			t.Fatalf("Dot with longer y: got %v, want 45", got)
		}
	})
}

func TestVecSum(t *testing.T) {
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, n := range vecLengths {
			for off := range 8 {
				x, cx := vecSlice(n, off, vecUniform(rng, -3, 1))
				var want, abs float64
				for _, v := range x {
					want += float64(v)
					abs += math.Abs(float64(v))
				}
				got := Sum(x)
				if d := math.Abs(float64(got) - want); !(d <= vecReduceTol(n, abs)) {
					t.Fatalf("Sum n=%d off=%d: got %v, want %v (err %g > %g)", n, off, got, want, d, vecReduceTol(n, abs))
				}
				cx(t, "Sum")
			}
		}
	})
}

func TestVecMax(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, n := range vecLengths {
			for off := range 8 {
				// All negative, so a kernel that starts from 0 fails.
				x, cx := vecSlice(n, off, vecUniform(rng, -100, -1))
				want := float32(math.Inf(-1))
				for _, v := range x {
					want = max(want, v)
				}
				if got := Max(x); got != want {
					t.Fatalf("Max n=%d off=%d: got %v, want %v", n, off, got, want)
				}
				cx(t, "Max")
				if n == 0 {
					continue
				}
				// The maximum, +Inf and NaN at every position (one position
				// per stride on the long slices).
				stride := 1
				if n > 70 {
					stride = n/37 + 1
				}
				for i := 0; i < n; i += stride {
					saved := x[i]
					x[i] = -0.5
					if got := Max(x); got != -0.5 {
						t.Fatalf("Max n=%d off=%d, max at %d: got %v, want -0.5", n, off, i, got)
					}
					x[i] = inf
					if got := Max(x); got != inf {
						t.Fatalf("Max n=%d off=%d, +Inf at %d: got %v", n, off, i, got)
					}
					x[i] = nan
					if got := Max(x); !math.IsNaN(float64(got)) {
						t.Fatalf("Max n=%d off=%d, NaN at %d: got %v, want NaN", n, off, i, got)
					}
					if j := (i + n/2) % n; j != i {
						x[j] = inf // a NaN wins over +Inf, wherever each is
						if got := Max(x); !math.IsNaN(float64(got)) {
							t.Fatalf("Max n=%d off=%d, NaN at %d and +Inf at %d: got %v, want NaN", n, off, i, j, got)
						}
						x[j] = -1
					}
					x[i] = saved
				}
			}
		}
		if got := Max(nil); !math.IsInf(float64(got), -1) {
			t.Fatalf("Max(nil) = %v, want -Inf", got)
		}
		negInf := make([]float32, 19)
		for i := range negInf {
			negInf[i] = float32(math.Inf(-1))
		}
		if got := Max(negInf); !math.IsInf(float64(got), -1) {
			t.Fatalf("Max(all -Inf) = %v, want -Inf", got)
		}
	})
}

func TestVecAxpy(t *testing.T) {
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		for _, n := range vecLengths {
			for off := range 8 {
				alpha := 4*rng.Float32() - 2
				x, cx := vecSlice(n, off, vecUniform(rng, -1, 1))
				y, cy := vecSlice(n, (off+3)%8, vecUniform(rng, -1, 1))
				y0 := append([]float32(nil), y...)
				Axpy(alpha, x, y)
				for i := range y {
					ax := float64(alpha) * float64(x[i])
					want := float64(y0[i]) + ax
					if d := math.Abs(float64(y[i]) - want); d > 2*vecU*(math.Abs(ax)+math.Abs(want)) {
						t.Fatalf("Axpy n=%d off=%d i=%d: got %v, want %v", n, off, i, y[i], want)
					}
				}
				cx(t, "Axpy x")
				cy(t, "Axpy y")
			}
		}
		// Only len(x) elements of a longer y change.
		x := make([]float32, 17)
		y := make([]float32, 20)
		for i := range x {
			x[i] = 1
		}
		Axpy(2, x, y)
		for i, v := range y {
			if want := float32(2); i >= len(x) {
				want = 0
				if v != want {
					t.Fatalf("Axpy changed y[%d] beyond len(x): %v", i, v)
				}
			} else if v != want {
				t.Fatalf("Axpy y[%d] = %v, want %v", i, v, want)
			}
		}
	})
}

// vecSame reports a == b, treating NaNs as equal to each other.
func vecSame(a, b float32) bool {
	return a == b || (a != a && b != b)
}

func TestVecScale(t *testing.T) {
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, n := range vecLengths {
			for off := range 8 {
				alpha := 4*rng.Float32() - 2
				x, cx := vecSlice(n, off, vecUniform(rng, -5, 5))
				x0 := append([]float32(nil), x...)
				Scale(alpha, x)
				for i := range x {
					// A float32 product is exact in float64; one rounding.
					if want := float32(float64(alpha) * float64(x0[i])); !vecSame(x[i], want) {
						t.Fatalf("Scale n=%d off=%d i=%d: got %v, want %v", n, off, i, x[i], want)
					}
				}
				cx(t, "Scale")
			}
		}
	})
}

func TestVecAddMul(t *testing.T) {
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 14))
		for _, n := range vecLengths {
			for off := range 8 {
				x, cx := vecSlice(n, off, vecUniform(rng, -5, 5))
				y, cy := vecSlice(n, (off+1)%8, vecUniform(rng, -5, 5))
				d, cd := vecSlice(n, (off+6)%8, vecUniform(rng, -5, 5))
				Add(d, x, y)
				for i := range d {
					// Operands within 2^24 of each other: the float64 sum is
					// exact, so this is one rounding.
					if want := float32(float64(x[i]) + float64(y[i])); d[i] != want {
						t.Fatalf("Add n=%d off=%d i=%d: got %v, want %v", n, off, i, d[i], want)
					}
				}
				Mul(d, x, y)
				for i := range d {
					if want := float32(float64(x[i]) * float64(y[i])); d[i] != want {
						t.Fatalf("Mul n=%d off=%d i=%d: got %v, want %v", n, off, i, d[i], want)
					}
				}
				// In place: dst is x, then y.
				x0 := append([]float32(nil), x...)
				y0 := append([]float32(nil), y...)
				Add(x, x, y)
				Mul(y, x0, y)
				for i := range x {
					if want := float32(float64(x0[i]) + float64(y0[i])); x[i] != want {
						t.Fatalf("Add in place n=%d off=%d i=%d: got %v, want %v", n, off, i, x[i], want)
					}
					if want := float32(float64(x0[i]) * float64(y0[i])); y[i] != want {
						t.Fatalf("Mul in place n=%d off=%d i=%d: got %v, want %v", n, off, i, y[i], want)
					}
				}
				cx(t, "Add/Mul x")
				cy(t, "Add/Mul y")
				cd(t, "Add/Mul dst")
			}
		}
		// Only len(dst) elements are written.
		x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
		dst := make([]float32, 9)
		Add(dst[:8], x, x)
		Mul(dst[:8], x, x)
		if dst[8] != 0 || dst[7] != 64 {
			t.Fatalf("Mul into dst[:8]: got %v", dst)
		}
	})
}

// vecExpCheck reports the first element of got = exp(x) outside Exp's
// contract, or "" if all are within.
func vecExpCheck(x, got []float32) string {
	for i, v := range x {
		g := float64(got[i])
		w := math.Exp(float64(v))
		switch {
		case math.IsNaN(float64(v)):
			if !math.IsNaN(g) {
				return fmt.Sprintf("exp(NaN) = %v, want NaN", g)
			}
		case v >= -87 && v <= 87:
			if e := math.Abs(g-w) / w; !(e <= vecExpTol) {
				return fmt.Sprintf("exp(%v) = %v, want %v (relative error %.3g)", v, g, w, e)
			}
		case v > 88.73:
			if !math.IsInf(g, 1) {
				return fmt.Sprintf("exp(%v) = %v, want +Inf", v, g)
			}
		case v < -104:
			if g != 0 {
				return fmt.Sprintf("exp(%v) = %v, want 0", v, g)
			}
		case v > 87:
			// Up to the overflow threshold, still Exp's relative accuracy
			// unless the exact result is within an ulp of MaxFloat32.
			if e := math.Abs(g-w) / w; !(e <= vecExpTol) && w < math.MaxFloat32*(1-2*vecU) {
				return fmt.Sprintf("exp(%v) = %v, want %v (relative error %.3g)", v, g, w, e)
			}
		default:
			// Subnormal results: within two subnormal ulps.
			if d := math.Abs(g - w); !(d <= vecExpTol*w+2*0x1p-149) {
				return fmt.Sprintf("exp(%v) = %v, want %v (error %.3g)", v, g, w, d)
			}
		}
	}
	return ""
}

// TestVecExpDense checks Exp's accuracy contract on about 4.3 million points
// of [-87, 87] on every path, and logs the largest error seen: 2^21 evenly
// spaced points, every 1021st float32 of either sign (so every binade down
// to the subnormals), and the floats next to both ends and to 0.
func TestVecExpDense(t *testing.T) {
	const m = 1 << 21
	x := make([]float32, 0, 2*m+2*(1<<30)/1021+64)
	for i := range m {
		x = append(x, float32(-87+174*float64(i)/float64(m-1)))
	}
	for b := uint32(0); b <= math.Float32bits(87); b += 1021 {
		x = append(x, math.Float32frombits(b), -math.Float32frombits(b))
	}
	for _, v := range []float32{-87, 87, 0, 0x1p-149, -0x1p-149, 0x1p-24, -0x1p-24} {
		for k, w := 0, v; k < 4; k++ {
			x = append(x, w, math.Nextafter32(w, 0))
			w = math.Nextafter32(w, 0)
		}
	}
	want := make([]float64, len(x))
	for i, v := range x {
		want[i] = math.Exp(float64(v))
	}
	got := make([]float32, len(x))
	vecForEachPath(t, func(t *testing.T) {
		Exp(got, x)
		if msg := vecExpCheck(x, got); msg != "" {
			t.Fatal(msg)
		}
		worst := 0.0
		for i := range x {
			worst = max(worst, math.Abs(float64(got[i])-want[i])/want[i])
		}
		t.Logf("max relative error %.3g (%.2f ulp of 1) on %d points of [-87, 87]", worst, worst/0x1p-23, len(x))
	})
}

// TestVecExpRandom draws float32 bit patterns over the whole range (NaNs,
// infinities, subnormals included) and every length and offset.
func TestVecExpRandom(t *testing.T) {
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 16))
		gens := []func() float32{
			vecUniform(rng, -110, 95),
			vecUniform(rng, -1, 1),
			func() float32 { return math.Float32frombits(rng.Uint32()) },
		}
		for _, n := range vecLengths {
			for off := range 8 {
				for g, gen := range gens {
					x, cx := vecSlice(n, off, gen)
					dst, cd := vecSlice(n, 7-off, gen)
					Exp(dst, x)
					if msg := vecExpCheck(x, dst); msg != "" {
						t.Fatalf("Exp n=%d off=%d gen=%d: %s", n, off, g, msg)
					}
					x0 := append([]float32(nil), x...)
					Exp(x, x) // in place
					if msg := vecExpCheck(x0, x); msg != "" {
						t.Fatalf("Exp in place n=%d off=%d gen=%d: %s", n, off, g, msg)
					}
					cx(t, "Exp x")
					cd(t, "Exp dst")
				}
			}
		}
	})
}

// TestVecExpSpecial puts each special input at every lane position of
// vectors and tails.
func TestVecExpSpecial(t *testing.T) {
	inf := float32(math.Inf(1))
	specials := []float32{inf, -inf, float32(math.NaN()), 0, float32(math.Copysign(0, -1)),
		88.72, 88.7228, 88.73, 89, 89.5, 100, 1e30, math.MaxFloat32,
		-87.3, -87.4, -88, -95, -100, -103, -103.9, -103.98, -104, -104.5, -1e30, -math.MaxFloat32,
		0x1p-149, -0x1p-126, 1, -1, 0.34657359, -0.34657359}
	vecForEachPath(t, func(t *testing.T) {
		for _, n := range []int{1, 7, 8, 9, 16, 17, 31, 33} {
			for _, s := range specials {
				for pos := range n {
					x := make([]float32, n)
					for i := range x {
						x[i] = float32(i%5) - 2
					}
					x[pos] = s
					dst := make([]float32, n)
					Exp(dst, x)
					if msg := vecExpCheck(x, dst); msg != "" {
						t.Fatalf("Exp n=%d special %v at %d: %s", n, s, pos, msg)
					}
				}
			}
		}
		for _, c := range []struct{ x, want float32 }{{0, 1}, {inf, inf}, {-inf, 0}, {89, inf}, {-104, 0}} {
			dst := []float32{-1}
			if Exp(dst, []float32{c.x}); dst[0] != c.want {
				t.Fatalf("exp(%v) = %v, want %v", c.x, dst[0], c.want)
			}
		}
	})
}

func TestVecExpSum(t *testing.T) {
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(17, 18))
		for _, n := range vecLengths {
			for off := range 8 {
				// The conversion stops arm64 from fusing this multiply into
				// the x[i]-shift below, which would then differ from ExpSum's.
				shift := float32(20 * (rng.Float32() - 0.5))
				x, cx := vecSlice(n, off, vecUniform(rng, -30, 30))
				dst, cd := vecSlice(n, (off+2)%8, vecUniform(rng, -1, 1))
				got := ExpSum(dst, x, shift)
				xs := make([]float32, n)
				var want float64
				for i, v := range x {
					xs[i] = v - shift // rounded as ExpSum rounds it
					want += math.Exp(float64(xs[i]))
				}
				if msg := vecExpCheck(xs, dst); msg != "" {
					t.Fatalf("ExpSum n=%d off=%d: %s", n, off, msg)
				}
				if d := math.Abs(float64(got) - want); !(d <= vecReduceTol(n, want)+vecExpTol*want) {
					t.Fatalf("ExpSum n=%d off=%d: sum %v, want %v", n, off, got, want)
				}
				cx(t, "ExpSum x")
				cd(t, "ExpSum dst")
			}
		}
	})
}

// vecSoftmaxCheck reports the first element of got = softmax(x) outside
// the error bound, or "" if all are within. x must be finite or -Inf, with
// at least one finite element.
func vecSoftmaxCheck(x, got []float32) string {
	n := len(x)
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, float64(v))
	}
	ref := make([]float64, n)
	var s float64
	for i, v := range x {
		ref[i] = math.Exp(float64(v) - m)
		s += ref[i]
	}
	var total float64
	for i := range x {
		want := ref[i] / s
		// Exp's error, the rounding of x-max, the sum's and 1/s's, and
		// two subnormal ulps for terms that underflow float32.
		tol := want*(vecExpTol+vecU*math.Abs(float64(x[i])-m)+float64(n/4+20)*vecU) + 0x1p-148
		if want == 0 { // a -Inf logit, or one so far below the max
			tol = 0
		}
		if d := math.Abs(float64(got[i]) - want); !(d <= tol) {
			return fmt.Sprintf("softmax(x)[%d] = %v, want %v (err %.3g > %.3g)", i, got[i], want, d, tol)
		}
		total += float64(got[i])
	}
	if math.Abs(total-1) > float64(n/4+20)*vecU*2+vecExpTol {
		return fmt.Sprintf("softmax(x) sums to %v", total)
	}
	return ""
}

func TestVecSoftmax(t *testing.T) {
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(19, 20))
		for _, n := range vecLengths[1:] {
			for off := range 8 {
				// Large logits too: exp of them would overflow without
				// the max subtracted.
				lo := []float32{-20, 1000, -5000}[off%3]
				x, cx := vecSlice(n, off, vecUniform(rng, lo, lo+40))
				if off == 7 && n > 2 {
					x[n/2] = float32(math.Inf(-1)) // a masked position
				}
				x0 := append([]float32(nil), x...)
				Softmax(x)
				if msg := vecSoftmaxCheck(x0, x); msg != "" {
					t.Fatalf("Softmax n=%d off=%d: %s", n, off, msg)
				}
				cx(t, "Softmax")
			}
		}
		Softmax(nil) // must not panic
		inf := float32(math.Inf(1))
		for _, c := range []struct {
			name string
			x    []float32
		}{
			{"NaN", []float32{1, 2, float32(math.NaN()), 3, 4, 5, 6, 7, 8, 9}},
			{"+Inf", []float32{1, 2, 3, 4, 5, 6, 7, 8, inf, 9}},
			{"all -Inf", []float32{-inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf}},
		} {
			Softmax(c.x)
			for i, v := range c.x {
				if !math.IsNaN(float64(v)) {
					t.Fatalf("Softmax with %s: x[%d] = %v, want NaN", c.name, i, v)
				}
			}
		}
	})
}

// TestVecShortOperands checks that a short operand panics in Go (index out
// of range) before any assembly can read or write past it.
func TestVecShortOperands(t *testing.T) {
	long, short := make([]float32, 40), make([]float32, 39)
	cases := map[string]func(){
		"Dot":    func() { Dot(long, short) },
		"Axpy":   func() { Axpy(1, long, short) },
		"Add x":  func() { Add(long, short, long) },
		"Add y":  func() { Add(long, long, short) },
		"Mul x":  func() { Mul(long, short, long) },
		"Mul y":  func() { Mul(long, long, short) },
		"Exp":    func() { Exp(long, short) },
		"ExpSum": func() { ExpSum(long, short, 0) },
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

// TestVecExpExhaustive checks Exp on every float32 in [-87, 87] (2.2e9 of
// them), on every path. It takes minutes, so it runs only when
// SPROUT_EXHAUSTIVE is set.
func TestVecExpExhaustive(t *testing.T) {
	if os.Getenv("SPROUT_EXHAUSTIVE") == "" {
		t.Skip("set SPROUT_EXHAUSTIVE=1 to check every float32 in [-87, 87]")
	}
	const chunk = 1 << 20
	x := make([]float32, chunk)
	got := make([]float32, chunk)
	vecForEachPath(t, func(t *testing.T) {
		worst := 0.0
		for _, sign := range []float32{1, -1} {
			for b := uint32(0); b <= math.Float32bits(87); b += chunk {
				n := min(chunk, int(math.Float32bits(87)-b)+1)
				for i := range n {
					x[i] = sign * math.Float32frombits(b+uint32(i))
				}
				Exp(got[:n], x[:n])
				for i, v := range x[:n] {
					w := math.Exp(float64(v))
					worst = max(worst, math.Abs(float64(got[i])-w)/w)
				}
				if !(worst <= vecExpTol) {
					t.Fatal(vecExpCheck(x[:n], got[:n]))
				}
			}
		}
		t.Logf("max relative error %.3g (%.2f ulp of 1) on every float32 in [-87, 87]", worst, worst/0x1p-23)
	})
}

// FuzzVecExpSoftmax checks Exp's contract, and Softmax against a float64
// reference, on rows built from three fuzzed values, on every path.
func FuzzVecExpSoftmax(f *testing.F) {
	f.Add(float32(0), float32(1), float32(-1), uint8(9))
	f.Add(float32(88.7), float32(-103.9), float32(-87.4), uint8(17))
	f.Add(float32(1e30), float32(-1e30), float32(3), uint8(33))
	f.Fuzz(func(t *testing.T, a, b, c float32, n uint8) {
		x := make([]float32, int(n)%40+1)
		for i := range x {
			x[i] = [3]float32{a, b, c}[i%3]
		}
		got := make([]float32, len(x))
		vecForEachPath(t, func(t *testing.T) {
			Exp(got, x)
			if msg := vecExpCheck(x, got); msg != "" {
				t.Fatal(msg)
			}
			finite := true
			for _, v := range x {
				finite = finite && !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
			}
			copy(got, x)
			Softmax(got)
			if finite {
				if msg := vecSoftmaxCheck(x, got); msg != "" {
					t.Fatal(msg)
				}
			}
		})
	})
}
