// Package asm holds sprout's compute kernels: a BLAS-shaped single-precision
// matrix multiply (Sgemm) and the vector kernels the engine's hot loops need.
//
// Every kernel has a pure-Go twin with the same contract. The SIMD paths
// (AVX2+FMA and AVX-512 on amd64, NEON on arm64) are chosen once at start-up
// from the CPU's features (github.com/klauspost/cpuid/v2) and can be forced
// with the SPROUT_KERNEL environment variable or SetKernel, so that tests can
// exercise every path the machine supports. Build with -tags noasm (or purego)
// to compile the pure-Go code only.
//
// The assembly is generated: each kernel is a Go function in the _asmgen
// module that prints it (the AVX2 and AVX-512 forms from the same code, the
// register width a parameter). Edit the generator and run go generate, never
// the .s files.
//
// The package knows nothing of tensors or models: it works on []float32.
package asm

//go:generate sh -c "cd _asmgen && go run . .."
