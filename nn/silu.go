package nn

import "github.com/sproutml/sprout/asm"

// negExpSiLU fills e[j] = exp(-x[j]).
func negExpSiLU(e, x []float32) {
	e = e[:len(x)]
	for j, v := range x {
		e[j] = -v
	}
	asm.Exp(e, e)
}

// siluForward writes y = SiLU(x).
func siluForward(y, x []float32) {
	var buf [actChunk]float32
	for off := 0; off < len(x); off += actChunk {
		xs := x[off:min(off+actChunk, len(x))]
		ys := y[off : off+len(xs)]
		e := buf[:len(xs)]
		negExpSiLU(e, xs)
		for j, v := range xs {
			ys[j] = v / (1 + e[j])
		}
	}
}

// SiLU applies x*sigmoid(x) elementwise.
func (t *Tape) SiLU(x V) V {
	vx := &t.vals[x]
	out := t.newValue(vx.rows, vx.cols, vx.needGrad)
	siluForward(t.vals[out].data, t.vals[x].data)
	t.push(op{kind: opSiLU, out: out, a: x})
	return out
}

func (t *Tape) siluBackward(o *op) {
	x := t.vals[o.a].data
	g := t.vals[o.out].grad
	dx, acc := t.gradDst(o.a)
	var buf [actChunk]float32
	for off := 0; off < len(x); off += actChunk {
		xs := x[off:min(off+actChunk, len(x))]
		gs := g[off : off+len(xs)]
		ds := dx[off : off+len(xs)]
		e := buf[:len(xs)]
		negExpSiLU(e, xs)
		for j, v := range xs {
			s := 1 / (1 + e[j])
			d := gs[j] * s * (1 + v*(1-s))
			if acc {
				ds[j] += d
			} else {
				ds[j] = d
			}
		}
	}
}
