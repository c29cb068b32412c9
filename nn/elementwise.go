package nn

import (
	"fmt"

	"github.com/sproutml/sprout/asm"
)

func (t *Tape) sameShape(name string, a, b V) {
	va, vb := &t.vals[a], &t.vals[b]
	if va.rows != vb.rows || va.cols != vb.cols {
		panic(fmt.Sprintf("nn: %s of %dx%d and %dx%d", name, va.rows, va.cols, vb.rows, vb.cols))
	}
}

// Add returns a + b (same shapes).
func (t *Tape) Add(a, b V) V {
	t.sameShape("Add", a, b)
	va, vb := &t.vals[a], &t.vals[b]
	out := t.newValue(va.rows, va.cols, va.needGrad || vb.needGrad)
	asm.Add(t.vals[out].data, t.vals[a].data, t.vals[b].data)
	t.push(op{kind: opAdd, out: out, a: a, b: b})
	return out
}

func (t *Tape) addBackward(o *op) {
	g := t.vals[o.out].grad
	if t.needs(o.b) {
		gb, acc := t.gradDst(o.b)
		if acc {
			addTo(gb, g)
		} else {
			copy(gb, g)
		}
	}
	if t.needs(o.a) {
		t.passGrad(o.a, o.out)
	}
}

// Mul returns a * b elementwise (same shapes).
func (t *Tape) Mul(a, b V) V {
	t.sameShape("Mul", a, b)
	va, vb := &t.vals[a], &t.vals[b]
	out := t.newValue(va.rows, va.cols, va.needGrad || vb.needGrad)
	asm.Mul(t.vals[out].data, t.vals[a].data, t.vals[b].data)
	t.push(op{kind: opMul, out: out, a: a, b: b})
	return out
}

func (t *Tape) mulBackward(o *op) {
	g := t.vals[o.out].grad
	// each side's gradient is g times the other side's value
	for _, s := range [2][2]V{{o.a, o.b}, {o.b, o.a}} {
		if !t.needs(s[0]) {
			continue
		}
		other := t.vals[s[1]].data
		d, acc := t.gradDst(s[0])
		if acc {
			d = d[:len(g)]
			other = other[:len(g)]
			for i, gv := range g {
				d[i] += gv * other[i]
			}
		} else {
			asm.Mul(d, g, other)
		}
	}
}

// addTo computes dst += src.
func addTo(dst, src []float32) { asm.Add(dst, dst, src) }
