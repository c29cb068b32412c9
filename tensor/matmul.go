package tensor

import (
	"fmt"

	"github.com/sproutml/sprout/asm"
)

// matShape returns the (rows, cols) of the last two dimensions and the batch
// count (product of the leading ones).
func matShape(t *Tensor, name string) (batch, rows, cols int, err error) {
	if len(t.Shape) < 2 {
		return 0, 0, 0, fmt.Errorf("tensor: matmul %s has shape %v, need at least 2 dimensions", name, t.Shape)
	}
	batch = 1
	for _, d := range t.Shape[:len(t.Shape)-2] {
		batch *= d
	}
	return batch, t.Shape[len(t.Shape)-2], t.Shape[len(t.Shape)-1], nil
}

// MatMul returns op(a) x op(b), where op transposes the last two dimensions
// when the flag is set. Leading (batch) dimensions of a and b must match, or b
// may be 2-D and is then used for every batch of a (a weight matrix).
func MatMul(a, b *Tensor, transA, transB bool) (*Tensor, error) {
	ba, ra, ca, err := matShape(a, "a")
	if err != nil {
		return nil, err
	}
	m, n := ra, 0
	if transA {
		m = ca
	}
	_, rb, cb, err := matShape(b, "b")
	if err != nil {
		return nil, err
	}
	n = cb
	if transB {
		n = rb
	}
	shape := append(append([]int(nil), a.Shape[:len(a.Shape)-2]...), m, n)
	_ = ba
	dst := New(shape...)
	if err := MatMulInto(dst, a, b, transA, transB, 1, 0); err != nil {
		return nil, err
	}
	return dst, nil
}

// MatMulInto computes dst = alpha*op(a) x op(b) + beta*dst batch by batch
// (see MatMul for the shapes). beta == 0 overwrites dst.
func MatMulInto(dst, a, b *Tensor, transA, transB bool, alpha, beta float32) error {
	ba, ra, ca, err := matShape(a, "a")
	if err != nil {
		return err
	}
	bb, rb, cb, err := matShape(b, "b")
	if err != nil {
		return err
	}
	bd, rd, cd, err := matShape(dst, "dst")
	if err != nil {
		return err
	}
	m, k := ra, ca
	if transA {
		m, k = ca, ra
	}
	kb, n := rb, cb
	if transB {
		kb, n = cb, rb
	}
	if k != kb {
		return fmt.Errorf("tensor: matmul inner dimensions differ: op(a) is %dx%d, op(b) is %dx%d", m, k, kb, n)
	}
	if bb != ba && len(b.Shape) != 2 {
		return fmt.Errorf("tensor: matmul batch shapes differ: a %v, b %v", a.Shape, b.Shape)
	}
	if bd != ba || rd != m || cd != n || len(dst.Shape) != len(a.Shape) {
		return fmt.Errorf("tensor: matmul dst has shape %v, want batch of %d %dx%d like a %v", dst.Shape, ba, m, n, a.Shape)
	}
	if m == 0 || n == 0 {
		return nil
	}
	sa, sb, sd := ra*ca, rb*cb, m*n
	if len(b.Shape) == 2 {
		sb = 0
	}
	for i := 0; i < ba; i++ {
		asm.Sgemm(transA, transB, m, n, k, alpha,
			a.Data[i*sa:], ca, b.Data[i*sb:], cb, beta, dst.Data[i*sd:], n)
	}
	return nil
}
