package nn

import (
	"fmt"
	"math"
)

// RopeTable holds cos and sin of every position p < ctx and frequency
// i < headDim/2 of rotary position embeddings: angle p * base^(-2i/headDim),
// computed in float64.
type RopeTable struct {
	cos, sin []float32 // ctx x half, row-major
	ctx      int
	half     int
}

// NewRopeTable returns the table for contexts up to ctx and heads of
// headDim (even) columns.
func NewRopeTable(ctx, headDim int, base float64) *RopeTable {
	t := newRopeTable(ctx, headDim, base)
	return &t
}

func newRopeTable(ctx, headDim int, base float64) RopeTable {
	half := headDim / 2
	t := RopeTable{cos: make([]float32, ctx*half), sin: make([]float32, ctx*half), ctx: ctx, half: half}
	for i := 0; i < half; i++ {
		freq := math.Pow(base, -float64(2*i)/float64(headDim))
		for p := 0; p < ctx; p++ {
			s, c := math.Sincos(float64(p) * freq)
			t.cos[p*half+i], t.sin[p*half+i] = float32(c), float32(s)
		}
	}
	return t
}

// RoPE applies rotary position embeddings to x, (B*T) x (n*headDim) with n
// heads of headDim = 2*half contiguous columns: row r is at position r mod T,
// and each head's pair (i, i+half) is rotated by that position's angle i
// ("rotate half", as Hugging Face's LLaMA does):
//
//	y[i]      = x[i] cos - x[i+half] sin
//	y[i+half] = x[i+half] cos + x[i] sin
//
// The backward rotates the gradient by the opposite angle.
func (t *Tape) RoPE(x V, T int, tab *RopeTable) V {
	vx := &t.vals[x]
	hd := 2 * tab.half
	if hd == 0 || vx.cols%hd != 0 || vx.rows%T != 0 || T > tab.ctx {
		panic(fmt.Sprintf("nn: RoPE on %dx%d with T=%d, head dim %d, table for %d positions", vx.rows, vx.cols, T, hd, tab.ctx))
	}
	out := t.newValue(vx.rows, vx.cols, vx.needGrad)
	ropeApply(t.vals[out].data, vx.data, vx.rows, vx.cols, T, tab.cos, tab.sin, tab.half, 1, false)
	t.push(op{kind: opRoPE, out: out, a: x, n0: T, s0: tab.cos, s1: tab.sin, n1: tab.half})
	return out
}

// ropeApply writes (or with acc adds) into y the rotation of x, rows x cols,
// row r at position r mod T, by each position's angles times sign (1
// forward, -1 for the inverse rotation). cosT and sinT start at position 0.
func ropeApply(y, x []float32, rows, cols, T int, cosT, sinT []float32, half int, sign float32, acc bool) {
	hd := 2 * half
	for r := 0; r < rows; r++ {
		p := r % T
		c, s := cosT[p*half:(p+1)*half], sinT[p*half:(p+1)*half]
		for h := 0; h < cols; h += hd {
			base := r*cols + h
			x1, x2 := x[base:base+half], x[base+half:base+hd]
			y1, y2 := y[base:base+half], y[base+half:base+hd]
			for i := range c {
				a, b := x1[i], x2[i]
				si := sign * s[i]
				u, v := a*c[i]-b*si, b*c[i]+a*si
				if acc {
					y1[i] += u
					y2[i] += v
				} else {
					y1[i], y2[i] = u, v
				}
			}
		}
	}
}

func (t *Tape) ropeBackward(o *op) {
	vx, vo := &t.vals[o.a], &t.vals[o.out]
	dx, acc := t.gradDst(o.a)
	ropeApply(dx, vo.grad, vx.rows, vx.cols, o.n0, o.s0, o.s1, o.n1, -1, acc)
}
