package tensor

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Tensor is a row-major array of float32 with a shape. Data holds exactly
// Len() elements; views made by Reshape, Row and Slice share it.
type Tensor struct {
	Shape []int
	Data  []float32
}

// numel returns the product of shape, or an error naming the bad dimension.
func numel(shape []int) (int, error) {
	n := 1
	for i, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("tensor: dimension %d of shape %v is negative", i, shape)
		}
		n *= d
	}
	return n, nil
}

// New returns a zero tensor of the given shape. It panics on a negative
// dimension, which is a programming error (use FromData for checked input).
func New(shape ...int) *Tensor {
	n, err := numel(shape)
	if err != nil {
		panic(err)
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// Zeros is New under the name most readers look for.
func Zeros(shape ...int) *Tensor { return New(shape...) }

// FromData wraps data (not copied) in a tensor of the given shape. The shape
// must account for every element.
func FromData(data []float32, shape ...int) (*Tensor, error) {
	n, err := numel(shape)
	if err != nil {
		return nil, err
	}
	if n != len(data) {
		return nil, fmt.Errorf("tensor: shape %v needs %d elements, data has %d", shape, n, len(data))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

// RandN returns a tensor of normal samples with mean 0 and the given standard
// deviation, drawn from rng in row-major order (the same rng state gives the
// same tensor).
func RandN(rng *rand.Rand, std float32, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64()) * std
	}
	return t
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Dims returns the number of dimensions.
func (t *Tensor) Dims() int { return len(t.Shape) }

// String describes the shape, not the data.
func (t *Tensor) String() string {
	parts := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		parts[i] = fmt.Sprint(d)
	}
	return "Tensor[" + strings.Join(parts, "x") + "]"
}

// offset converts an index to a flat offset, checking bounds.
func (t *Tensor) offset(idx []int) int {
	if len(idx) != len(t.Shape) {
		panic(fmt.Sprintf("tensor: %d indices for a %d-D tensor", len(idx), len(t.Shape)))
	}
	off := 0
	for i, x := range idx {
		if x < 0 || x >= t.Shape[i] {
			panic(fmt.Sprintf("tensor: index %v out of range for shape %v", idx, t.Shape))
		}
		off = off*t.Shape[i] + x
	}
	return off
}

// At returns the element at idx.
func (t *Tensor) At(idx ...int) float32 { return t.Data[t.offset(idx)] }

// Set stores v at idx.
func (t *Tensor) Set(v float32, idx ...int) { t.Data[t.offset(idx)] = v }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Reshape returns a view with a new shape over the same data. One dimension
// may be -1, inferred from the others.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	s := append([]int(nil), shape...)
	infer := -1
	known := 1
	for i, d := range s {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			return nil, fmt.Errorf("tensor: bad reshape %v (one -1 at most, no other negatives)", shape)
		default:
			known *= d
		}
	}
	if infer >= 0 {
		if known == 0 || len(t.Data)%known != 0 {
			return nil, fmt.Errorf("tensor: cannot reshape %v (%d elements) to %v", t.Shape, len(t.Data), shape)
		}
		s[infer] = len(t.Data) / known
		known *= s[infer]
	}
	if known != len(t.Data) {
		return nil, fmt.Errorf("tensor: cannot reshape %v (%d elements) to %v", t.Shape, len(t.Data), shape)
	}
	return &Tensor{Shape: s, Data: t.Data}, nil
}

// Row returns a view of t[i] (the sub-tensor at index i of the first
// dimension).
func (t *Tensor) Row(i int) *Tensor {
	if len(t.Shape) == 0 || i < 0 || i >= t.Shape[0] {
		panic(fmt.Sprintf("tensor: row %d out of range for shape %v", i, t.Shape))
	}
	inner := 1
	for _, d := range t.Shape[1:] {
		inner *= d
	}
	return &Tensor{Shape: append([]int(nil), t.Shape[1:]...), Data: t.Data[i*inner : (i+1)*inner : (i+1)*inner]}
}

// SameShape reports whether a and b have equal shapes.
func SameShape(a, b *Tensor) bool {
	if len(a.Shape) != len(b.Shape) {
		return false
	}
	for i := range a.Shape {
		if a.Shape[i] != b.Shape[i] {
			return false
		}
	}
	return true
}
