package nn

import (
	"fmt"

	"github.com/sproutml/sprout/asm"
)

// Linear returns x W + bias (+ resid): x is N x in, W in x out, bias 1 x out
// (or -1 for none), resid N x out (or -1). Folding the residual add into the
// GEMM's beta saves a pass over the activations and a buffer.
func (t *Tape) Linear(x, w, bias, resid V) V {
	vx, vw := &t.vals[x], &t.vals[w]
	N, in, outC := vx.rows, vx.cols, vw.cols
	if vw.rows != in {
		panic(fmt.Sprintf("nn: Linear input has %d columns, weight is %dx%d", in, vw.rows, vw.cols))
	}
	need := vx.needGrad || vw.needGrad || t.needs(bias) || t.needs(resid)
	out := t.newValue(N, outC, need)
	y := t.vals[out].data
	var r, b []float32
	if resid >= 0 {
		vr := &t.vals[resid]
		if vr.rows != N || vr.cols != outC {
			panic(fmt.Sprintf("nn: Linear residual is %dx%d, want %dx%d", vr.rows, vr.cols, N, outC))
		}
		r = vr.data
	}
	if bias >= 0 {
		b = t.vals[bias].data
		if len(b) != outC {
			panic(fmt.Sprintf("nn: Linear bias has %d values, want %d", len(b), outC))
		}
	}
	// y starts as resid + bias (one pass), and the GEMM adds x W with beta 1.
	beta := float32(1)
	switch {
	case r != nil && b != nil:
		for i := 0; i < N; i++ {
			asm.Add(y[i*outC:(i+1)*outC], r[i*outC:(i+1)*outC], b)
		}
	case r != nil:
		copy(y, r)
	case b != nil:
		for i := 0; i < N; i++ {
			copy(y[i*outC:(i+1)*outC], b)
		}
	default:
		beta = 0
	}
	t.gemm.Sgemm(false, false, N, outC, in, 1, vx.data, in, t.vals[w].data, outC, beta, y, outC)
	t.push(op{kind: opLinear, out: out, a: x, b: w, c: bias, d: resid})
	return out
}

func (t *Tape) linearBackward(o *op) {
	vx, vw, vo := &t.vals[o.a], &t.vals[o.b], &t.vals[o.out]
	N, in, outC := vx.rows, vx.cols, vw.cols
	g := vo.grad
	if t.needs(o.c) {
		db, acc := t.gradDst(o.c)
		if !acc {
			clear(db)
		}
		for i := 0; i < N; i++ {
			row := g[i*outC : (i+1)*outC]
			asm.Add(db, db, row)
		}
	}
	if vw.needGrad { // dW += x^T g
		dW, acc := t.gradDst(o.b)
		t.gemm.Sgemm(true, false, in, outC, N, 1, vx.data, in, g, outC, b2f(acc), dW, outC)
	}
	if vx.needGrad { // dx = g W^T
		dx, acc := t.gradDst(o.a)
		t.gemm.Sgemm(false, true, N, in, outC, 1, g, outC, vw.data, outC, b2f(acc), dx, in)
	}
	if t.needs(o.d) {
		t.passGrad(o.d, o.out)
	}
}
