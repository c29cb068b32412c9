package nn

import (
	"math"

	"github.com/sproutml/sprout/asm"
)

// Newton-Schulz quintic coefficients from Muon (Keller Jordan, 2024): chosen
// to maximise the slope at zero, so small singular values grow fast, at the
// price of not converging exactly to 1: after 5 steps the singular values lie
// roughly in [0.7, 1.2] rather than at 1, which works as well in practice.
const (
	nsA = 3.4445
	nsB = -4.7750
	nsC = 2.0315
)

// nsWork holds the scratch of newtonSchulz, grown on demand and reused.
type nsWork struct {
	x, xn, a, b []float32
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// newtonSchulz writes into out (rows x cols) an approximately orthogonal
// matrix with the singular vectors of g (rows x cols): X = g/||g||_F, then
// steps iterations of X <- a X + (b A + c A^2) X with A = X X^T, run on the
// smaller Gram matrix (transposing when rows > cols). All products go
// through asm.Sgemm.
func newtonSchulz(out, g []float32, rows, cols, steps int, w *nsWork) {
	r, c := rows, cols
	trans := rows > cols
	if trans {
		r, c = cols, rows
	}
	w.x = grow(w.x, r*c)
	w.xn = grow(w.xn, r*c)
	w.a = grow(w.a, r*r)
	w.b = grow(w.b, r*r)
	x, xn, A, Bm := w.x, w.xn, w.a, w.b
	norm := float32(math.Sqrt(sumSquares64(g))) + 1e-7
	inv := 1 / norm
	if trans { // x = g^T / norm
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				x[j*c+i] = g[i*cols+j] * inv
			}
		}
	} else {
		for i, v := range g[:r*c] {
			x[i] = v * inv
		}
	}
	for s := 0; s < steps; s++ {
		// A = X X^T (r x r)
		asm.Sgemm(false, true, r, r, c, 1, x, c, x, c, 0, A, r)
		// B = b A + c A A
		asm.Sgemm(false, false, r, r, r, nsC, A, r, A, r, 0, Bm, r)
		for i, v := range A {
			Bm[i] += nsB * v
		}
		// X' = a X + B X
		copy(xn, x)
		asm.Sgemm(false, false, r, c, r, 1, Bm, r, x, c, nsA, xn, c)
		x, xn = xn, x
	}
	if trans {
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				out[i*cols+j] = x[j*c+i]
			}
		}
	} else {
		copy(out, x)
	}
	w.x, w.xn = x, xn
}
