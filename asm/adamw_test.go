package asm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// adamRef is AdamWStep written out one float32 operation at a time, as its
// doc comment states it; every path must match it bit for bit.
func adamRef(w, g, m, v []float32, b1, b2, decay, step, vscale, eps float32) {
	for i := range w {
		c1, c2 := 1-b1, 1-b2
		mi := float32(b1*m[i]) + float32(c1*g[i])
		gg := float32(float32(c2*g[i]) * g[i]) // conversions: no fused multiply-add
		vi := float32(b2*v[i]) + gg
		m[i], v[i] = mi, vi
		s := float32(math.Sqrt(float64(vi)))
		den := float32(s*vscale) + eps
		upd := float32(step*mi) / den
		w[i] = float32(w[i]*decay) - upd
	}
}

func TestAdamWStep(t *testing.T) {
	vecForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(31, 32))
		for _, n := range vecLengths {
			for off := range 8 {
				w, cw := vecSlice(n, off, vecUniform(rng, -1, 1))
				g, cg := vecSlice(n, (off+1)%8, func() float32 { return float32(rng.NormFloat64()) * 1e-2 })
				m, cm := vecSlice(n, (off+2)%8, func() float32 { return float32(rng.NormFloat64()) * 1e-2 })
				v, cv := vecSlice(n, (off+5)%8, func() float32 { return float32(rng.ExpFloat64()) * 1e-4 })
				if off == 3 && n > 0 {
					g[0], m[0], v[0] = 0, 0, 0 // a fresh state with a zero gradient: den = eps
				}
				b1, b2 := float32(0.9), []float32{0.95, 0.999}[off%2]
				decay := []float32{1, 1 - 3e-4*0.1}[(off/2)%2]
				tstep := float64(1 + rng.IntN(50))
				step := float32(3e-4 / (1 - math.Pow(float64(b1), tstep)))
				vscale := float32(1 / math.Sqrt(1-math.Pow(float64(b2), tstep)))
				eps := float32(1e-8)
				ws, gs := append([]float32(nil), w...), append([]float32(nil), g...)
				ms, vs := append([]float32(nil), m...), append([]float32(nil), v...)
				adamRef(ws, gs, ms, vs, b1, b2, decay, step, vscale, eps)
				w0, m0, v0 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
				AdamWStep(w, g, m, v, b1, b2, decay, step, vscale, eps)
				for i := range w {
					if math.Float32bits(w[i]) != math.Float32bits(ws[i]) || m[i] != ms[i] || v[i] != vs[i] {
						t.Fatalf("n=%d off=%d i=%d: w, m, v = %v, %v, %v; want %v, %v, %v", n, off, i, w[i], m[i], v[i], ws[i], ms[i], vs[i])
					}
					// The reference is AdamW: compare with float64 arithmetic.
					mi := float64(b1)*float64(m0[i]) + float64(1-b1)*float64(g[i])
					vi := float64(b2)*float64(v0[i]) + float64(1-b2)*float64(g[i])*float64(g[i])
					wi := float64(w0[i])*float64(decay) - float64(step)*mi/(math.Sqrt(vi)*float64(vscale)+float64(eps))
					if math.Abs(float64(w[i])-wi) > 1e-6*math.Abs(wi)+8*vecU*float64(step) {
						t.Fatalf("n=%d off=%d i=%d: w = %v, float64 AdamW gives %v", n, off, i, w[i], wi)
					}
				}
				for i := range g {
					if g[i] != gs[i] {
						t.Fatalf("n=%d off=%d: AdamWStep changed g[%d]", n, off, i)
					}
				}
				cw(t, "AdamW w")
				cg(t, "AdamW g")
				cm(t, "AdamW m")
				cv(t, "AdamW v")
			}
		}
		// Only len(w) elements change.
		w, g, m, v := make([]float32, 12), make([]float32, 12), make([]float32, 12), make([]float32, 12)
		for i := range g {
			g[i] = 1
		}
		AdamWStep(w[:9], g, m, v, 0.9, 0.95, 1, 1, 1, 1e-8)
		for i := 9; i < 12; i++ {
			if w[i] != 0 || m[i] != 0 || v[i] != 0 {
				t.Fatalf("AdamWStep changed element %d beyond len(w)", i)
			}
		}
		if w[8] == 0 || m[8] == 0 || v[8] == 0 {
			t.Fatal("AdamWStep left element 8 unchanged")
		}
	})
}

func TestAdamWShortOperands(t *testing.T) {
	long, short := make([]float32, 40), make([]float32, 39)
	cases := map[string]func(){
		"g": func() { AdamWStep(long, short, long, long, 0.9, 0.95, 1, 1, 1, 1e-8) },
		"m": func() { AdamWStep(long, long, short, long, 0.9, 0.95, 1, 1, 1, 1e-8) },
		"v": func() { AdamWStep(long, long, long, short, 0.9, 0.95, 1, 1, 1, 1e-8) },
	}
	vecForEachPath(t, func(t *testing.T) {
		for name, f := range cases {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("AdamWStep with a short %s did not panic", name)
					}
				}()
				f()
			}()
		}
	})
}
