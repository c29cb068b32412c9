package nn

import "github.com/sproutml/sprout/asm"

// actChunk is the block size of activations computed through a stack
// buffer (SiLU's exponentials, GELU's accumulated gradients).
const actChunk = 256

// GELU applies the tanh approximation of GELU elementwise, as GPT-2 does:
// 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3))), by asm.GELU (x*sigmoid(2u)
// through the SIMD exponential; error at most 3e-7·|x|). The backward
// recomputes the exponential from x (asm.GELUBackward) instead of keeping
// sigmoid(2u): a pass over x costs less than a saved buffer the size of the
// activation, written in the forward and read back in the backward.
//
// Both go row by row: which elements a SIMD kernel takes and which its
// scalar tail (the two may round differently) then depends only on the
// column, so splitting a batch across workers never changes a bit.
func (t *Tape) GELU(x V) V {
	vx := &t.vals[x]
	out := t.newValue(vx.rows, vx.cols, vx.needGrad)
	y, xd, c := t.vals[out].data, vx.data, vx.cols
	for i := 0; i < vx.rows; i++ {
		asm.GELU(y[i*c:(i+1)*c], xd[i*c:(i+1)*c])
	}
	t.push(op{kind: opGELU, out: out, a: x})
	return out
}

func (t *Tape) geluBackward(o *op) {
	vx := &t.vals[o.a]
	x, c := vx.data, vx.cols
	g := t.vals[o.out].grad[:len(x)]
	dx, acc := t.gradDst(o.a)
	var buf [actChunk]float32
	for r := 0; r < vx.rows; r++ {
		xr, gr, dr := x[r*c:(r+1)*c], g[r*c:(r+1)*c], dx[r*c:(r+1)*c]
		if !acc {
			asm.GELUBackward(dr, xr, gr)
			continue
		}
		for off := 0; off < c; off += actChunk {
			n := min(actChunk, c-off)
			asm.GELUBackward(buf[:n], xr[off:off+n], gr[off:off+n])
			addTo(dr[off:off+n], buf[:n])
		}
	}
}
