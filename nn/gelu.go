package nn

import "github.com/sproutml/sprout/asm"

// GELU's tanh form is 0.5x(1+tanh(u)) = x*sigmoid(2u) with
// u = sqrt(2/pi)(x + 0.044715x^3) (SiLU, x*sigmoid(x), has the same shape; see
// silu.go). The exponentials go through asm.Exp in chunks so that the SIMD
// kernel does the heavy lifting; the rest is scalar Go.

const (
	actChunk  = 256
	geluC     = 0.7978845608028654 // sqrt(2/pi)
	geluA     = 0.044715
	geluTwoC  = 2 * geluC
	geluTwoCA = 2 * geluC * geluA
)

// No clamping is needed: asm.Exp returns +Inf above ~88.7 and 0 below ~-104,
// and 1/(1+Inf) = 0 is the right limit of the sigmoid.

// negExpGELU fills e[j] = exp(-2u(x[j])).
func negExpGELU(e, x []float32) {
	e = e[:len(x)]
	for j, v := range x {
		e[j] = -v * (geluTwoC + geluTwoCA*v*v)
	}
	asm.Exp(e, e)
}

// geluForward writes y = GELU(x) (tanh form) and, when sig is not nil,
// sig = sigmoid(2u(x)) for the backward.
func geluForward(y, sig, x []float32) {
	var buf [actChunk]float32
	for off := 0; off < len(x); off += actChunk {
		xs := x[off:min(off+actChunk, len(x))]
		ys := y[off : off+len(xs)]
		e := buf[:len(xs)]
		if sig != nil {
			e = sig[off : off+len(xs)]
		}
		negExpGELU(e, xs)
		for j, v := range e {
			e[j] = 1 / (1 + v)
		}
		asm.Mul(ys, xs, e)
	}
}

// GELU applies the tanh approximation of GELU elementwise, as GPT-2 does.
// When recording it keeps sigmoid(2u) for the backward, which then needs no
// exponential.
func (t *Tape) GELU(x V) V {
	vx := &t.vals[x]
	out := t.newValue(vx.rows, vx.cols, vx.needGrad)
	var sig []float32
	if t.record && vx.needGrad {
		sig = t.act.get(len(vx.data))
	}
	geluForward(t.vals[out].data, sig, t.vals[x].data)
	t.push(op{kind: opGELU, out: out, a: x, s0: sig})
	return out
}

func (t *Tape) geluBackward(o *op) {
	x := t.vals[o.a].data
	g := t.vals[o.out].grad[:len(x)]
	sig := o.s0[:len(x)]
	dx, acc := t.gradDst(o.a)
	dx = dx[:len(x)]
	// d/dx x*s(2u) = s * (1 + x*(1-s)*2u'(x))
	if acc {
		for j, v := range x {
			s := sig[j]
			dx[j] += g[j] * s * (1 + v*(1-s)*(geluTwoC+3*geluTwoCA*v*v))
		}
		return
	}
	for j, v := range x {
		s := sig[j]
		dx[j] = g[j] * s * (1 + v*(1-s)*(geluTwoC+3*geluTwoCA*v*v))
	}
}
