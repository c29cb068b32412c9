// Package half converts between float32 and the two 16-bit floating-point
// formats that model files use: IEEE 754 binary16 (F16) and bfloat16 (BF16),
// rounding to nearest, ties to even. The safetensors and gguf packages share
// it; it knows nothing of files or tensors.
package half
