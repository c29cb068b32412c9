package nn

import (
	"fmt"

	"github.com/sproutml/sprout/tensor"
)

// ParamKind tells optimizers what a parameter is.
type ParamKind uint8

const (
	// Matrix is a 2-D hidden weight (attention and MLP projections): Muon
	// orthogonalises its update, AdamW decays it.
	Matrix ParamKind = iota
	// Vector is a norm gain or a bias.
	Vector
	// Embedding is a lookup table (token and position embeddings; the token
	// table doubles as the tied output head; an untied head is one too).
	// Muon treats it as a non-matrix.
	Embedding
	// Buffer is model state that is saved, copied and grown with the
	// parameters but not trained: no optimizer steps it, NumParams does not
	// count it (the MoE balancing bias, updated by UpdateBalanceBias).
	Buffer
)

func (k ParamKind) String() string {
	switch k {
	case Matrix:
		return "matrix"
	case Vector:
		return "vector"
	case Embedding:
		return "embedding"
	case Buffer:
		return "buffer"
	}
	return fmt.Sprintf("ParamKind(%d)", k)
}

// Param is one named parameter: its values, the gradient the optimizer reads,
// and what optimizers need to know about it.
//
// Data is read (never written) by forward and backward passes, so several
// tapes may run on one model at once. Grad is filled by ReduceGrads (or by the
// caller) before an optimizer step; tapes keep their own gradient buffers.
type Param struct {
	Name  string // stable, e.g. "blocks.3.attn.qkv.weight"
	Shape []int  // [rows, cols] for matrices and embeddings, [n] for vectors
	Data  []float32
	Grad  []float32

	Kind   ParamKind
	Decay  bool    // weight decay applies (matrices by default)
	LRMult float32 // per-tensor learning-rate multiplier (muP), 1 by default
}

func newParam(name string, kind ParamKind, shape ...int) *Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Param{
		Name:   name,
		Shape:  append([]int(nil), shape...),
		Data:   make([]float32, n),
		Grad:   make([]float32, n),
		Kind:   kind,
		Decay:  kind == Matrix,
		LRMult: 1,
	}
}

// Len returns the number of elements.
func (p *Param) Len() int { return len(p.Data) }

// Rows and Cols view the parameter as a matrix (a vector is one row).
func (p *Param) Rows() int {
	if len(p.Shape) == 2 {
		return p.Shape[0]
	}
	return 1
}

// Cols returns the number of columns (the length of a vector).
func (p *Param) Cols() int { return p.Shape[len(p.Shape)-1] }

// Value returns a tensor view of Data (shared, not copied).
func (p *Param) Value() *tensor.Tensor {
	return &tensor.Tensor{Shape: append([]int(nil), p.Shape...), Data: p.Data}
}

// Clone returns a deep copy of p (data, gradient and flags) under the same name.
func (p *Param) Clone() *Param {
	q := *p
	q.Shape = append([]int(nil), p.Shape...)
	q.Data = append([]float32(nil), p.Data...)
	q.Grad = append([]float32(nil), p.Grad...)
	return &q
}

// ZeroGrad clears p.Grad for every parameter.
func ZeroGrad(params []*Param) {
	for _, p := range params {
		clear(p.Grad)
	}
}
