package nn

import (
	"fmt"
)

// MatMul returns alpha * op(a) x op(b), where op transposes its argument when
// the flag is set. All four transpose cases have a backward.
func (t *Tape) MatMul(a, b V, transA, transB bool, alpha float32) V {
	va, vb := &t.vals[a], &t.vals[b]
	m, k := va.rows, va.cols
	if transA {
		m, k = k, m
	}
	kb, n := vb.rows, vb.cols
	if transB {
		kb, n = n, kb
	}
	if k != kb {
		panic(fmt.Sprintf("nn: MatMul inner dimensions differ: op(a) %dx%d, op(b) %dx%d", m, k, kb, n))
	}
	out := t.newValue(m, n, va.needGrad || vb.needGrad)
	t.gemm.Sgemm(transA, transB, m, n, k, alpha, va.data, va.cols, vb.data, vb.cols, 0, t.vals[out].data, n)
	t.push(op{kind: opMatMul, out: out, a: a, b: b, n0: b2i(transA), n1: b2i(transB), f0: alpha})
	return out
}

func (t *Tape) matMulBackward(o *op) {
	va, vb, vo := &t.vals[o.a], &t.vals[o.b], &t.vals[o.out]
	transA, transB, alpha := o.n0 == 1, o.n1 == 1, o.f0
	m, n := vo.rows, vo.cols
	k := va.cols
	if transA {
		k = va.rows
	}
	dC := vo.grad
	if va.needGrad {
		dA, acc := t.gradDst(o.a)
		beta := b2f(acc)
		if !transA { // dA (m x k) = dC op(B)^T
			t.gemm.Sgemm(false, !transB, m, k, n, alpha, dC, n, vb.data, vb.cols, beta, dA, k)
		} else { // dA (k x m) = op(B) dC^T
			t.gemm.Sgemm(transB, true, k, m, n, alpha, vb.data, vb.cols, dC, n, beta, dA, m)
		}
	}
	if vb.needGrad {
		dB, acc := t.gradDst(o.b)
		beta := b2f(acc)
		if !transB { // dB (k x n) = op(A)^T dC
			t.gemm.Sgemm(!transA, false, k, n, m, alpha, va.data, va.cols, dC, n, beta, dB, n)
		} else { // dB (n x k) = dC^T op(A)
			t.gemm.Sgemm(true, transA, n, k, m, alpha, dC, n, va.data, va.cols, beta, dB, k)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}
