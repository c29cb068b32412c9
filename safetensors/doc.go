// Package safetensors reads and writes the safetensors tensor file format of
// Hugging Face (https://github.com/huggingface/safetensors), so that weights
// sprout writes can be read by other tools and weights they write can be read
// by sprout.
//
// A file is an 8-byte little-endian header length N, then N bytes of JSON
// mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end)}
// plus an optional "__metadata__" object of string values, padded with spaces
// to a multiple of 8 bytes, then the data buffer. Offsets are relative to the
// start of the buffer; the tensors must tile the buffer exactly, with no
// overlaps and no holes. Data is little-endian and row-major.
//
// Write emits F32 tensors in sorted name order, so equal inputs give equal
// bytes; WriteAs stores them as F16 or BF16 instead (rounded to nearest
// even). The readers accept F32, F16 and BF16 data and convert it to float32;
// any other dtype gives an error naming the tensor and the dtype, unless
// ReadFileFunc is told to skip that tensor. Every field
// of the header is validated before any tensor data is trusted, and malformed
// input of any kind returns an error, never a panic.
//
// The package imports nothing else from sprout but internal/half (the
// 16-bit float conversions).
package safetensors
