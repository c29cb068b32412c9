//go:build arm64 && gc && !purego && !noasm

package asm

// sgemmKernelNEON is the 8x12 NEON micro-kernel (see microKernel for the
// contract): a holds kc*8 floats, b kc*12, c an 8x12 tile with row stride ldc.
//
//go:noescape
func sgemmKernelNEON(kc int, a, b, c *float32, ldc, flags int)

// peakNEON runs iters rounds of 24 independent 4-lane FMA chains on
// registers only (192 flops a round); it exists to be timed.
func peakNEON(iters int)

var neonKernel = gemmKernel{name: NEON, mr: 8, nr: 12, mc: 128, kc: 256, nc: 4092, fn: sgemmKernelNEON}

func asmKernel() *gemmKernel {
	if useNEON {
		return &neonKernel
	}
	return nil
}

// asmPeak returns the active path's FMA probe and its flops per round.
func asmPeak() (func(iters int), float64) {
	if useNEON {
		return peakNEON, 24 * 4 * 2
	}
	return nil, 0
}
