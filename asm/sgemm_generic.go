package asm

import "unsafe"

// genericKernel is the pure-Go micro-kernel: a 4x4 tile keeps its 16
// accumulators in registers on arm64 and mostly so on amd64.
var genericKernel = gemmKernel{name: Generic, mr: 4, nr: 4, mc: 128, kc: 256, nc: 4096, fn: sgemmKernelGeneric}

// sgemmKernelGeneric is the pure-Go twin of the SIMD micro-kernels, with the
// same contract (see microKernel) for a 4x4 tile.
func sgemmKernelGeneric(kc int, a, b, c *float32, ldc, flags int) {
	ap := unsafe.Slice(a, kc*4)
	bp := unsafe.Slice(b, kc*4)
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	for p := 0; p < kc; p++ {
		av := ap[p*4 : p*4+4 : p*4+4]
		bv := bp[p*4 : p*4+4 : p*4+4]
		a0, a1, a2, a3 := av[0], av[1], av[2], av[3]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	cp := unsafe.Slice(c, 3*ldc+4)
	r0 := cp[0:4:4]
	r1 := cp[ldc : ldc+4 : ldc+4]
	r2 := cp[2*ldc : 2*ldc+4 : 2*ldc+4]
	r3 := cp[3*ldc : 3*ldc+4 : 3*ldc+4]
	if flags&kernelAccum != 0 {
		c00 += r0[0]
		c01 += r0[1]
		c02 += r0[2]
		c03 += r0[3]
		c10 += r1[0]
		c11 += r1[1]
		c12 += r1[2]
		c13 += r1[3]
		c20 += r2[0]
		c21 += r2[1]
		c22 += r2[2]
		c23 += r2[3]
		c30 += r3[0]
		c31 += r3[1]
		c32 += r3[2]
		c33 += r3[3]
	}
	r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
	r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
	r2[0], r2[1], r2[2], r2[3] = c20, c21, c22, c23
	r3[0], r3[1], r3[2], r3[3] = c30, c31, c32, c33
}
