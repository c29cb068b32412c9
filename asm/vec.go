package asm

import "math"

// Vector kernels. PLACEHOLDER pure-Go bodies, to be split into vec_generic.go
// and SIMD forms; the signatures and semantics are the contract.

// Dot returns sum_i x[i]*y[i] over len(x) elements; len(y) >= len(x).
func Dot(x, y []float32) float32 {
	var s float32
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

// Axpy computes y[i] += alpha*x[i] for i < len(x); len(y) >= len(x).
func Axpy(alpha float32, x, y []float32) {
	for i, v := range x {
		y[i] += alpha * v
	}
}

// Scale computes x[i] *= alpha.
func Scale(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// Add computes dst[i] = x[i] + y[i] for i < len(dst).
func Add(dst, x, y []float32) {
	for i := range dst {
		dst[i] = x[i] + y[i]
	}
}

// Mul computes dst[i] = x[i] * y[i] for i < len(dst).
func Mul(dst, x, y []float32) {
	for i := range dst {
		dst[i] = x[i] * y[i]
	}
}

// Sum returns sum_i x[i].
func Sum(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += v
	}
	return s
}

// Max returns max_i x[i]; -Inf for an empty slice.
func Max(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}

// Exp computes dst[i] = exp(x[i]) for i < len(dst).
func Exp(dst, x []float32) {
	for i := range dst {
		dst[i] = float32(math.Exp(float64(x[i])))
	}
}

// Softmax replaces x with exp(x - max(x)) / sum(exp(x - max(x))).
func Softmax(x []float32) {
	m := Max(x)
	var s float32
	for i, v := range x {
		e := float32(math.Exp(float64(v - m)))
		x[i] = e
		s += e
	}
	Scale(1/s, x)
}
