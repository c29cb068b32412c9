package asm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// LayerNorm and LayerNormBackward are checked on every path against float64
// references, with error bounds derived from the float32 sums they take
// (vecReduceTol's n/4+16 units of roundoff) plus a few roundings per
// element.

// lnRef returns mean, rstd and y of one row in float64.
func lnRef(x, w, b []float32, eps float32) (mean, rstd float64, y []float64) {
	n := float64(len(x))
	for _, v := range x {
		mean += float64(v)
	}
	mean /= n
	var ss float64
	for _, v := range x {
		ss += (float64(v) - mean) * (float64(v) - mean)
	}
	rstd = 1 / math.Sqrt(ss/n+float64(eps))
	y = make([]float64, len(x))
	for i, v := range x {
		y[i] = (float64(v)-mean)*rstd*float64(w[i]) + float64(b[i])
	}
	return mean, rstd, y
}

func TestLayerNorm(t *testing.T) {
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(41, 42))
		for _, n := range vecLengths {
			for off := range 8 {
				// An offset of 0 or 50: the variance must be taken about
				// the mean, or the offset's square swamps it.
				shift := float32(50 * (off % 2))
				x, cx := vecSlice(n, off, vecUniform(rng, shift-2, shift+3))
				w, cw := vecSlice(n, (off+1)%8, vecUniform(rng, 0.5, 1.5))
				b, cb := vecSlice(n, (off+4)%8, vecUniform(rng, -1, 1))
				y, cy := vecSlice(n, 7-off, vecUniform(rng, -1, 1))
				const eps = 1e-5
				mean, rstd := LayerNorm(y, x, w, b, eps)
				cx(t, "LayerNorm x")
				cw(t, "LayerNorm w")
				cb(t, "LayerNorm b")
				cy(t, "LayerNorm y")
				if n == 0 {
					if mean != 0 || rstd != 0 {
						t.Fatalf("LayerNorm of an empty row returned %v, %v", mean, rstd)
					}
					continue
				}
				rm, rr, ry := lnRef(x, w, b, eps)
				var absMean float64
				for _, v := range x {
					absMean += math.Abs(float64(v)) / float64(n)
				}
				k := float64(n/4 + 16)
				if d := math.Abs(float64(mean) - rm); !(d <= k*vecU*absMean) {
					t.Fatalf("LayerNorm n=%d off=%d: mean %v, want %v", n, off, mean, rm)
				}
				if d := math.Abs(float64(rstd)-rr) / rr; !(d <= k*vecU) {
					t.Fatalf("LayerNorm n=%d off=%d: rstd %v, want %v (relative error %.3g)", n, off, rstd, rr, d)
				}
				for i := range y {
					// The mean's error, scaled by rstd*w, and a few
					// roundings of each term.
					tol := (k+8)*vecU*(math.Abs(ry[i]-float64(b[i]))+math.Abs(float64(b[i]))) + k*vecU*absMean*rr*math.Abs(float64(w[i]))
					if d := math.Abs(float64(y[i]) - ry[i]); !(d <= tol) {
						t.Fatalf("LayerNorm n=%d off=%d i=%d: y %v, want %v (err %.3g > %.3g)", n, off, i, y[i], ry[i], d, tol)
					}
				}
				// In place, y = x: the same values.
				y0 := append([]float32(nil), y...)
				m2, r2 := LayerNorm(x, x, w, b, eps)
				if m2 != mean || r2 != rstd {
					t.Fatalf("LayerNorm in place n=%d off=%d: mean, rstd %v, %v; want %v, %v", n, off, m2, r2, mean, rstd)
				}
				for i := range x {
					if x[i] != y0[i] {
						t.Fatalf("LayerNorm in place n=%d off=%d i=%d: %v, want %v", n, off, i, x[i], y0[i])
					}
				}
			}
		}
	})
}

func TestLayerNormBackward(t *testing.T) {
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(43, 44))
		for _, n := range vecLengths {
			for off := range 8 {
				gen := vecUniform(rng, -1, 1)
				x, cx := vecSlice(n, off, vecUniform(rng, -3, 2))
				dy, cdy := vecSlice(n, (off+1)%8, gen)
				w, cw := vecSlice(n, (off+2)%8, vecUniform(rng, 0.5, 1.5))
				dx, cdx := vecSlice(n, (off+3)%8, gen)
				dw, cdw := vecSlice(n, (off+4)%8, gen)
				db, cdb := vecSlice(n, (off+5)%8, gen)
				var mean, rstd float32
				if n > 0 {
					b := make([]float32, n)
					mean, rstd = LayerNorm(make([]float32, n), x, w, b, 1e-5)
				}
				dx0 := append([]float32(nil), dx...)
				dw0 := append([]float32(nil), dw...)
				db0 := append([]float32(nil), db...)
				LayerNormBackward(dx, dw, db, x, dy, w, mean, rstd)
				// float64 reference from the same mean and rstd.
				m, r := float64(mean), float64(rstd)
				xh := make([]float64, n)
				var s1, s2, a1, a2 float64
				for i := range x {
					xh[i] = (float64(x[i]) - m) * r
					gw := float64(dy[i]) * float64(w[i])
					s1 += gw
					s2 += gw * xh[i]
					a1 += math.Abs(gw)
					a2 += math.Abs(gw * xh[i])
				}
				k := float64(n/4 + 16)
				for i := range x {
					wdw := float64(dw0[i]) + float64(dy[i])*xh[i]
					if d := math.Abs(float64(dw[i]) - wdw); !(d <= 4*vecU*(math.Abs(float64(dw0[i]))+math.Abs(float64(dy[i])*xh[i]))) {
						t.Fatalf("LayerNormBackward n=%d off=%d i=%d: dw %v, want %v", n, off, i, dw[i], wdw)
					}
					if want := float32(float64(db0[i]) + float64(dy[i])); db[i] != want {
						t.Fatalf("LayerNormBackward n=%d off=%d i=%d: db %v, want %v", n, off, i, db[i], want)
					}
					gw := float64(dy[i]) * float64(w[i])
					u := gw - s1/float64(n) - xh[i]*s2/float64(n)
					wdx := float64(dx0[i]) + r*u
					tol := r*(k*vecU*(a1+math.Abs(xh[i])*a2)/float64(n)+6*vecU*(math.Abs(gw)+a1/float64(n)+math.Abs(xh[i])*a2/float64(n))) + 2*vecU*(math.Abs(float64(dx0[i]))+math.Abs(r*u))
					if d := math.Abs(float64(dx[i]) - wdx); !(d <= tol) {
						t.Fatalf("LayerNormBackward n=%d off=%d i=%d: dx %v, want %v (err %.3g > %.3g)", n, off, i, dx[i], wdx, d, tol)
					}
				}
				// Without dx, dw and db still accumulate.
				dw1 := append([]float32(nil), dw...)
				db1 := append([]float32(nil), db...)
				LayerNormBackward(nil, dw, db, x, dy, w, mean, rstd)
				for i := range dw {
					wdw := float64(dw1[i]) + float64(dy[i])*xh[i]
					if d := math.Abs(float64(dw[i]) - wdw); !(d <= 4*vecU*(math.Abs(float64(dw1[i]))+math.Abs(float64(dy[i])*xh[i]))) {
						t.Fatalf("LayerNormBackward without dx n=%d off=%d i=%d: dw %v, want %v", n, off, i, dw[i], wdw)
					}
					if want := float32(float64(db1[i]) + float64(dy[i])); db[i] != want {
						t.Fatalf("LayerNormBackward without dx n=%d off=%d i=%d: db %v, want %v", n, off, i, db[i], want)
					}
				}
				cx(t, "LayerNormBackward x")
				cdy(t, "LayerNormBackward dy")
				cw(t, "LayerNormBackward w")
				cdx(t, "LayerNormBackward dx")
				cdw(t, "LayerNormBackward dw")
				cdb(t, "LayerNormBackward db")
			}
		}
	})
}

// TestLayerNormGradient checks LayerNormBackward against central
// differences of LayerNorm in float64 arithmetic on the float32 kernels'
// own formula: sum(dy*y) as a function of x, w and b.
func TestLayerNormGradient(t *testing.T) {
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(45, 46))
		for _, n := range []int{3, 8, 19, 64} {
			x := make([]float32, n)
			w := make([]float32, n)
			b := make([]float32, n)
			dy := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
				w[i] = float32(1 + 0.3*rng.NormFloat64())
				b[i] = float32(rng.NormFloat64())
				dy[i] = float32(rng.NormFloat64())
			}
			f := func(x []float32) float64 {
				_, _, y := lnRef(x, w, b, 1e-5)
				var s float64
				for i := range y {
					s += float64(dy[i]) * y[i]
				}
				return s
			}
			mean, rstd := LayerNorm(make([]float32, n), x, w, b, 1e-5)
			dx, dw, db := make([]float32, n), make([]float32, n), make([]float32, n)
			LayerNormBackward(dx, dw, db, x, dy, w, mean, rstd)
			for i := range x {
				const h = 1e-3
				xp := append([]float32(nil), x...)
				xm := append([]float32(nil), x...)
				xp[i] += h
				xm[i] -= h
				num := (f(xp) - f(xm)) / float64(xp[i]-xm[i])
				if d := math.Abs(float64(dx[i]) - num); d > 1e-3*(1+math.Abs(num)) {
					t.Fatalf("n=%d: dx[%d] = %v, central difference %v", n, i, dx[i], num)
				}
			}
		}
	})
}

func TestLayerNormShortOperands(t *testing.T) {
	long, short := make([]float32, 40), make([]float32, 39)
	cases := map[string]func(){
		"x":     func() { LayerNorm(long, short, long, long, 1e-5) },
		"w":     func() { LayerNorm(long, long, short, long, 1e-5) },
		"b":     func() { LayerNorm(long, long, long, short, 1e-5) },
		"bw dx": func() { LayerNormBackward(short, long, long, long, long, long, 0, 1) },
		"bw dw": func() { LayerNormBackward(long, short, long, long, long, long, 0, 1) },
		"bw db": func() { LayerNormBackward(long, long, short, long, long, long, 0, 1) },
		"bw dy": func() { LayerNormBackward(long, long, long, long, short, long, 0, 1) },
		"bw w":  func() { LayerNormBackward(long, long, long, long, long, short, 0, 1) },
	}
	vecForEachPath(t, func(t *testing.T) {
		for name, f := range cases {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("LayerNorm with a short %s did not panic", name)
					}
				}()
				f()
			}()
		}
	})
}
