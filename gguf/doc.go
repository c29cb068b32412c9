// Package gguf reads and writes GGUF, the model file format of llama.cpp and
// ggml (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md), version 3.
//
// A file is, all little-endian:
//
//	magic "GGUF", version uint32 (3), tensor count uint64, metadata count uint64
//	metadata: key (string), value type uint32, value       (count times)
//	tensor infos: name (string), n_dims uint32, ne[n_dims] uint64,
//	              ggml type uint32, offset uint64            (count times)
//	padding to the alignment, then the data section: each tensor's bytes at
//	its offset, padded with zeros to the alignment
//
// A string is a uint64 byte length and the bytes (no terminator). A value is
// one of the twelve scalar types or an array: element type uint32, count
// uint64, elements. The alignment is the uint32 "general.alignment" (a power
// of two), 32 when absent. Offsets are relative to the data section and,
// as llama.cpp requires, the tensors follow each other in info order, each
// padded to the alignment.
//
// Dimension order: ggml lists ne[0] first, the fastest-varying dimension, so
// a row-major [rows, cols] matrix is written with dims (cols, rows). In this
// package a Tensor's Shape is row-major, slowest first (as in safetensors and
// in nn), and Write and Decode reverse it to and from ggml's order.
//
// Metadata values are Go values of the matching type: uint8, int8, uint16,
// int16, uint32, int32, float32, bool, string, uint64, int64, float64, or a
// slice of one of them for an array (arrays of arrays, which llama.cpp
// rejects, are not supported). Tensors are F32, F16 or BF16 and are held as
// float32; F16 and BF16 are rounded to nearest even on writing.
//
// Decode checks everything llama.cpp's loader checks (magic, version, unique
// non-empty keys, value types, the alignment, tensor names under 64 bytes and
// unique, at most 4 dimensions, sizes that cannot overflow, contiguous
// offsets, data inside the file) and returns an error, never a panic, on
// malformed input. What Decode accepts, Write writes back byte for byte
// (FuzzGGUF checks it).
//
// The package imports nothing else from sprout but internal/half (the
// 16-bit float conversions).
package gguf
