package tensor

import (
	"fmt"

	"github.com/sproutml/sprout/asm"
)

func sameLen(op string, ts ...*Tensor) error {
	for _, t := range ts[1:] {
		if !SameShape(ts[0], t) {
			return fmt.Errorf("tensor: %s needs equal shapes, got %v and %v", op, ts[0].Shape, t.Shape)
		}
	}
	return nil
}

// Add computes dst = a + b elementwise (dst may be a or b).
func Add(dst, a, b *Tensor) error {
	if err := sameLen("Add", dst, a, b); err != nil {
		return err
	}
	asm.Add(dst.Data, a.Data, b.Data)
	return nil
}

// Mul computes dst = a * b elementwise (dst may be a or b).
func Mul(dst, a, b *Tensor) error {
	if err := sameLen("Mul", dst, a, b); err != nil {
		return err
	}
	asm.Mul(dst.Data, a.Data, b.Data)
	return nil
}

// Axpy computes y += alpha*x.
func Axpy(alpha float32, x, y *Tensor) error {
	if err := sameLen("Axpy", x, y); err != nil {
		return err
	}
	asm.Axpy(alpha, x.Data, y.Data)
	return nil
}

// Scale multiplies every element of t by alpha.
func (t *Tensor) Scale(alpha float32) { asm.Scale(alpha, t.Data) }

// Fill sets every element of t to v.
func (t *Tensor) Fill(v float32) {
	for i := range t.Data {
		t.Data[i] = v
	}
}

// Sum returns the sum of all elements.
func (t *Tensor) Sum() float32 { return asm.Sum(t.Data) }

// Max returns the largest element (-Inf for an empty tensor).
func (t *Tensor) Max() float32 { return asm.Max(t.Data) }
