package nn

import (
	"fmt"
	"math"

	"github.com/sproutml/sprout/asm"
)

// LayerNorm normalises each row of x to zero mean and unit variance, then
// scales by w and shifts by b (both 1 x cols). Fused: one op, mean and
// 1/std saved per row for the backward.
func (t *Tape) LayerNorm(x, w, b V, eps float32) V {
	vx := &t.vals[x]
	N, d := vx.rows, vx.cols
	if len(t.vals[w].data) != d || len(t.vals[b].data) != d {
		panic(fmt.Sprintf("nn: LayerNorm over %d columns with %d gains and %d biases", d, len(t.vals[w].data), len(t.vals[b].data)))
	}
	out := t.newValue(N, d, vx.needGrad || t.needs(w) || t.needs(b))
	mean, rstd := t.act.get(N), t.act.get(N)
	y := t.vals[out].data
	for i := 0; i < N; i++ {
		mean[i], rstd[i] = layerNormRow(y[i*d:(i+1)*d], t.vals[x].data[i*d:(i+1)*d], t.vals[w].data, t.vals[b].data, eps)
	}
	t.push(op{kind: opLayerNorm, out: out, a: x, b: w, c: b, s0: mean, s1: rstd})
	return out
}

// layerNormRow writes y = (x-mean)*rstd*w + b and returns mean and rstd.
// The sums go through the SIMD kernels; the loops left in Go are
// throughput-bound (no loop-carried dependency).
func layerNormRow(y, x, w, b []float32, eps float32) (mean, rstd float32) {
	n := len(x)
	y, w, b = y[:n], w[:n], b[:n]
	mean = asm.Sum(x) / float32(n)
	for j, xv := range x {
		y[j] = xv - mean
	}
	v := asm.Dot(y, y)
	rstd = float32(1 / math.Sqrt(float64(v/float32(n)+eps)))
	for j, yv := range y {
		y[j] = yv*rstd*w[j] + b[j]
	}
	return mean, rstd
}

func (t *Tape) layerNormBackward(o *op) {
	vx := &t.vals[o.a]
	N, d := vx.rows, vx.cols
	g := t.vals[o.out].grad
	w := t.vals[o.b].data[:d]
	var dw, db []float32
	if t.needs(o.b) {
		dw = t.gradZeroed(o.b)[:d]
	}
	if t.needs(o.c) {
		db = t.gradZeroed(o.c)[:d]
	}
	var dx []float32
	acc := false
	if vx.needGrad {
		dx, acc = t.gradDst(o.a)
	}
	tmp := t.pool.get(2 * d)
	xh, gw := tmp[:d], tmp[d:2*d]
	inv := 1 / float32(d)
	for i := 0; i < N; i++ {
		x := vx.data[i*d : (i+1)*d]
		gy := g[i*d : (i+1)*d]
		mean, rstd := o.s0[i], o.s1[i]
		for j, xv := range x {
			xh[j] = (xv - mean) * rstd
		}
		asm.Mul(gw, gy, w)
		if dw != nil {
			for j, gv := range gy {
				dw[j] += gv * xh[j]
			}
		}
		if db != nil {
			asm.Add(db, db, gy)
		}
		if dx == nil {
			continue
		}
		// dx = rstd * (g*w - mean(g*w) - xhat*mean(g*w*xhat))
		s1 := asm.Sum(gw) * inv
		s2 := asm.Dot(gw, xh) * inv
		dxr := dx[i*d : (i+1)*d]
		if acc {
			for j, v := range gw {
				dxr[j] += rstd * (v - s1 - xh[j]*s2)
			}
		} else {
			for j, v := range gw {
				dxr[j] = rstd * (v - s1 - xh[j]*s2)
			}
		}
	}
	t.pool.put(tmp)
}
