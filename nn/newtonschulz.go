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
	gemm        asm.Bound
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// nsFLOPs is the floating-point work of newtonSchulz on a rows x cols matrix
// (Gram matrix, its square and the product with X, per step), counting the
// two symmetric products in full: it orders Muon's matrices by size.
func nsFLOPs(rows, cols, steps int) float64 {
	s, l := float64(min(rows, cols)), float64(max(rows, cols))
	return float64(steps) * (4*s*s*l + 2*s*s*s)
}

// symMin is the order above which symmetric products skip their lower
// half: below it the smaller products lose what the skipped work saves
// (docs/experiments.md, "Symmetric products in Newton-Schulz"); symBlock is
// the least block-row height.
const (
	symMin   = 384
	symBlock = 32
)

// symmetric computes C = alpha*op(A)*op(B) + beta*C for an r x r product
// that the caller knows is symmetric (X X^T, X^T X, or the square of a
// symmetric matrix), as asm.Sgemm would with m = n = r, but only the block
// rows' upper parts, C[i:i+h, i:r], and copies the upper triangle into the
// lower one: about half the work once r is a few blocks. C must hold a
// symmetric matrix when beta != 0. The rows of op(A) are rows of A (or
// columns with transA), the columns of op(B) columns of B (rows with
// transB), so a block row starts at an offset into each.
func symmetric(g asm.Bound, transA, transB bool, r, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32) {
	if r <= symMin {
		g.Sgemm(transA, transB, r, r, k, alpha, a, lda, b, ldb, beta, c, r)
		return
	}
	// Up to six block rows of at least symBlock: fewer, larger products
	// run nearer the kernels' peak; more skip more of the lower half.
	h := max(symBlock, (r+5)/6)
	h = (h + 15) &^ 15
	for i := 0; i < r; i += h {
		m := min(h, r-i)
		ao, bo := i*lda, i
		if transA {
			ao = i
		}
		if transB {
			bo = i * ldb
		}
		g.Sgemm(transA, transB, m, r-i, k, alpha, a[ao:], lda, b[bo:], ldb, beta, c[i*r+i:], r)
	}
	for i := 1; i < r; i++ {
		row := c[i*r : i*r+i]
		for j := range row {
			row[j] = c[j*r+i]
		}
	}
}

// newtonSchulz writes into out (rows x cols; it may be g) an approximately
// orthogonal matrix with the singular vectors of g (rows x cols):
// X = g/||g||_F, then steps iterations of X <- a X + (b A + c A^2) X with
// A = X X^T. It works on the smaller Gram matrix without transposing X: for
// a tall X (rows > cols) the step is X <- X (a I + b A + c A^2) with
// A = X^T X (the same map, as A's polynomial is symmetric). a is folded into
// the diagonal, so each step is three products and no other pass over X;
// the two whose results are symmetric (A and A^2) compute half of them.
func newtonSchulz(out, g []float32, rows, cols, steps int, w *nsWork) {
	n := rows * cols
	r := min(rows, cols)
	tall := rows > cols
	w.x = grow(w.x, n)
	w.xn = grow(w.xn, n)
	w.a = grow(w.a, r*r)
	w.b = grow(w.b, r*r)
	x, xn, A, Bm := w.x, w.xn, w.a, w.b
	norm := float32(math.Sqrt(sumSquares64(g[:n]))) + 1e-7
	inv := 1 / norm
	for i, v := range g[:n] {
		x[i] = v * inv
	}
	if steps == 0 {
		copy(out, x)
		return
	}
	for s := 0; s < steps; s++ {
		if tall { // A = X^T X (r x r)
			symmetric(w.gemm, true, false, r, rows, 1, x, cols, x, cols, 0, A)
		} else { // A = X X^T
			symmetric(w.gemm, false, true, r, cols, 1, x, cols, x, cols, 0, A)
		}
		// B = a I + b A + c A A
		for i, v := range A {
			Bm[i] = nsB * v
		}
		for i := 0; i < r; i++ {
			Bm[i*r+i] += nsA
		}
		symmetric(w.gemm, false, false, r, r, nsC, A, r, A, r, 1, Bm)
		dst := xn
		if s == steps-1 {
			dst = out // g is no longer needed, even if out is g
		}
		if tall { // X' = X B
			w.gemm.Sgemm(false, false, rows, cols, cols, 1, x, cols, Bm, r, 0, dst, cols)
		} else { // X' = B X
			w.gemm.Sgemm(false, false, rows, cols, rows, 1, Bm, r, x, cols, 0, dst, cols)
		}
		x, xn = xn, x
	}
	w.x, w.xn = x, xn
}
