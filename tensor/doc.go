// Package tensor is sprout's shaped float32 data: a Tensor is a shape and a
// contiguous row-major []float32, with constructors, reshaping views that share
// their data, (batched) matrix multiply with transpose flags on top of
// asm.Sgemm, and a few elementwise operations.
//
// It is deliberately small. The nn package drives what lives here, and its hot
// loops work on the Data slices directly. The package knows nothing of
// autograd, models or training: it sits on asm and nothing above it.
package tensor
