package asm

import "math"

// AdamWStep applies one AdamW update, in place, to the parameters w with
// gradients g and moment estimates m and v, for i < len(w) (g, m and v must
// be at least as long, and none may overlap another):
//
//	m[i] = b1*m[i] + (1-b1)*g[i]
//	v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
//	w[i] = w[i]*decay - step*m[i] / (sqrt(v[i])*vscale + eps)
//
// The caller folds the bias corrections and decoupled weight decay into the
// scalars: step = lr/(1-b1^t), vscale = 1/sqrt(1-b2^t), decay = 1-lr*wd
// (1 for no decay). Every operation is a separately rounded float32 one,
// evaluated left to right as written (no fused multiply-add; sqrt and
// division correctly rounded), so every path gives the same bits.
func AdamWStep(w, g, m, v []float32, b1, b2, decay, step, vscale, eps float32) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	vecAdamW(w, g, m, v, &adamCoef{b1, 1 - b1, b2, 1 - b2, decay, step, vscale, eps})
}

// adamCoef is AdamWStep's scalars in the order the assembly reads them.
type adamCoef struct {
	b1, c1, b2, c2, decay, step, vscale, eps float32
}

// vecAdamWGeneric is the pure-Go twin. The float32 conversions forbid the
// compiler from fusing a multiply and an add (Go may on arm64), which would
// change the bits.
func vecAdamWGeneric(w, g, m, v []float32, k *adamCoef) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i, gi := range g {
		mi := float32(k.b1*m[i]) + float32(k.c1*gi)
		vi := float32(k.b2*v[i]) + float32(float32(k.c2*gi)*gi)
		m[i], v[i] = mi, vi
		den := float32(float32(math.Sqrt(float64(vi)))*k.vscale) + k.eps
		w[i] = float32(w[i]*k.decay) - float32(k.step*mi)/den
	}
}
