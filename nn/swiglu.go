package nn

import "fmt"

// SwiGLU returns silu(g) * u elementwise (same shapes): the gated unit of a
// LLaMA MLP, down(silu(x gate) * (x up)), fused so that neither silu(g) nor
// its product is stored.
func (t *Tape) SwiGLU(g, u V) V {
	vg, vu := &t.vals[g], &t.vals[u]
	if vg.rows != vu.rows || vg.cols != vu.cols {
		panic(fmt.Sprintf("nn: SwiGLU of %dx%d and %dx%d", vg.rows, vg.cols, vu.rows, vu.cols))
	}
	out := t.newValue(vg.rows, vg.cols, vg.needGrad || vu.needGrad)
	swigluForward(t.vals[out].data, vg.data, vu.data)
	t.push(op{kind: opSwiGLU, out: out, a: g, b: u})
	return out
}

// swigluForward writes y = silu(g) * u.
func swigluForward(y, g, u []float32) {
	var buf [actChunk]float32
	for off := 0; off < len(g); off += actChunk {
		gs := g[off:min(off+actChunk, len(g))]
		us := u[off : off+len(gs)]
		ys := y[off : off+len(gs)]
		e := buf[:len(gs)]
		negExpSiLU(e, gs)
		for j, v := range gs {
			ys[j] = v / (1 + e[j]) * us[j]
		}
	}
}

// swigluGrads writes dg = dy * u * silu'(g) and du = dy * silu(g) (or adds
// them when accG, accU). dg or du may be nil.
func swigluGrads(dg, du, dy, g, u []float32, accG, accU bool) {
	var buf [actChunk]float32
	for off := 0; off < len(g); off += actChunk {
		gs := g[off:min(off+actChunk, len(g))]
		n := len(gs)
		us, dys := u[off:off+n], dy[off:off+n]
		e := buf[:n]
		negExpSiLU(e, gs)
		for j, v := range gs {
			s := 1 / (1 + e[j])
			if dg != nil {
				d := dys[j] * us[j] * s * (1 + v*(1-s))
				if accG {
					dg[off+j] += d
				} else {
					dg[off+j] = d
				}
			}
			if du != nil {
				d := dys[j] * v * s
				if accU {
					du[off+j] += d
				} else {
					du[off+j] = d
				}
			}
		}
	}
}

func (t *Tape) swigluBackward(o *op) {
	vg, vu, vo := &t.vals[o.a], &t.vals[o.b], &t.vals[o.out]
	var dg, du []float32
	var accG, accU bool
	if vg.needGrad {
		dg, accG = t.gradDst(o.a)
	}
	if vu.needGrad {
		du, accU = t.gradDst(o.b)
	}
	swigluGrads(dg, du, vo.grad, vg.data, vu.data, accG, accU)
}
