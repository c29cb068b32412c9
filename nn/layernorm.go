package nn

import (
	"fmt"

	"github.com/sproutml/sprout/asm"
)

// LayerNorm normalises each row of x to zero mean and unit variance, then
// scales by w and shifts by b (both 1 x cols). Fused: one op, mean and
// 1/std saved per row for the backward. Each row is one asm.LayerNorm call
// (sum, centred sum of squares, affine write: three SIMD passes).
func (t *Tape) LayerNorm(x, w, b V, eps float32) V {
	vx := &t.vals[x]
	N, d := vx.rows, vx.cols
	if len(t.vals[w].data) != d || len(t.vals[b].data) != d {
		panic(fmt.Sprintf("nn: LayerNorm over %d columns with %d gains and %d biases", d, len(t.vals[w].data), len(t.vals[b].data)))
	}
	out := t.newValue(N, d, vx.needGrad || t.needs(w) || t.needs(b))
	mean, rstd := t.act.get(N), t.act.get(N)
	y, xd, wd, bd := t.vals[out].data, t.vals[x].data, t.vals[w].data, t.vals[b].data
	for i := 0; i < N; i++ {
		mean[i], rstd[i] = asm.LayerNorm(y[i*d:(i+1)*d], xd[i*d:(i+1)*d], wd, bd, eps)
	}
	t.push(op{kind: opLayerNorm, out: out, a: x, b: w, c: b, s0: mean, s1: rstd})
	return out
}

// layerNormBackward runs asm.LayerNormBackward on each row: it accumulates
// into dx, dw and db, so a fresh dx is cleared first, and a gain or shift
// that wants no gradient gets a scratch row instead.
func (t *Tape) layerNormBackward(o *op) {
	vx := &t.vals[o.a]
	N, d := vx.rows, vx.cols
	g := t.vals[o.out].grad
	w := t.vals[o.b].data[:d]
	var tmp []float32
	if !t.needs(o.b) || !t.needs(o.c) {
		tmp = t.pool.get(2 * d)
	}
	var dw, db []float32
	if t.needs(o.b) {
		dw = t.gradZeroed(o.b)[:d]
	} else {
		dw = tmp[:d]
	}
	if t.needs(o.c) {
		db = t.gradZeroed(o.c)[:d]
	} else {
		db = tmp[d : 2*d]
	}
	var dx []float32
	if vx.needGrad {
		dx = t.gradZeroed(o.a)
	}
	for i := 0; i < N; i++ {
		var dxr []float32
		if dx != nil {
			dxr = dx[i*d : (i+1)*d]
		}
		asm.LayerNormBackward(dxr, dw, db, vx.data[i*d:(i+1)*d], g[i*d:(i+1)*d], w, o.s0[i], o.s1[i])
	}
	if tmp != nil {
		t.pool.put(tmp)
	}
}
