package nn

import (
	"fmt"
	"math"
)

// RMSNorm scales each row of x by 1/rms(x) and by the gain w (1 x cols), as in
// LLaMA. Fused: 1/rms saved per row for the backward.
func (t *Tape) RMSNorm(x, w V, eps float32) V {
	vx := &t.vals[x]
	N, d := vx.rows, vx.cols
	if len(t.vals[w].data) != d {
		panic(fmt.Sprintf("nn: RMSNorm over %d columns with %d gains", d, len(t.vals[w].data)))
	}
	out := t.newValue(N, d, vx.needGrad || t.needs(w))
	rstd := t.act.get(N)
	y, wd := t.vals[out].data, t.vals[w].data[:d]
	for i := 0; i < N; i++ {
		rstd[i] = rmsNormRow(y[i*d:(i+1)*d], vx.data[i*d:(i+1)*d], wd, eps)
	}
	t.push(op{kind: opRMSNorm, out: out, a: x, b: w, s1: rstd})
	return out
}

func (t *Tape) rmsNormBackward(o *op) {
	vx := &t.vals[o.a]
	N, d := vx.rows, vx.cols
	g := t.vals[o.out].grad
	w := t.vals[o.b].data[:d]
	var dw []float32
	if t.needs(o.b) {
		dw = t.gradZeroed(o.b)[:d]
	}
	var dx []float32
	acc := false
	if vx.needGrad {
		dx, acc = t.gradDst(o.a)
	}
	for i := 0; i < N; i++ {
		x := vx.data[i*d : (i+1)*d]
		gy := g[i*d : (i+1)*d]
		r := o.s1[i]
		var s float32 // mean(g*w*xhat)
		for j, gv := range gy {
			s += gv * w[j] * x[j] * r
		}
		if dw != nil {
			for j, gv := range gy {
				dw[j] += gv * x[j] * r
			}
		}
		if dx == nil {
			continue
		}
		s /= float32(d)
		dxr := dx[i*d : (i+1)*d]
		for j, gv := range gy {
			v := r * (gv*w[j] - x[j]*r*s)
			if acc {
				dxr[j] += v
			} else {
				dxr[j] = v
			}
		}
	}
}

// rmsNormRow writes y = x / rms(x) * w for one row and returns 1/rms(x).
func rmsNormRow(y, x, w []float32, eps float32) float32 {
	var ss float32
	for _, v := range x {
		ss += v * v
	}
	r := float32(1 / math.Sqrt(float64(ss/float32(len(x))+eps)))
	for j, v := range x {
		y[j] = v * r * w[j]
	}
	return r
}
