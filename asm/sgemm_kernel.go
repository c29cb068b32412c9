package asm

// microKernel computes an MR x NR tile from packed panels:
//
//	acc[i][j] = sum_{p<kc} a[p*MR+i] * b[p*NR+j]
//	c[i*ldc+j] = acc[i][j]      when flags&kernelAccum == 0
//	c[i*ldc+j] += acc[i][j]     otherwise
//
// a holds kc*MR floats, b kc*NR floats, and c an MR x NR tile with row
// stride ldc; kc >= 1. Each element's sum runs over p in order, so a tile's
// values do not depend on where the tile sits or which thread runs it.
type microKernel func(kc int, a, b, c *float32, ldc, flags int)

const kernelAccum = 1

// gemmKernel is one micro-kernel with the blocking that suits it: panels of
// A are MR rows, of B NR columns; mc x kc blocks of A stay in L2, kc x NR
// micro-panels of B in L1, kc x nc blocks of B in L3. mc is a multiple of mr
// and nc of nr.
type gemmKernel struct {
	name       string
	mr, nr     int
	mc, kc, nc int
	fn         microKernel

	// Optional SIMD packers for full panels (see packFunc); nil: pure Go.
	packT, packC packFunc
}

// packFunc packs a full panel of width rows or columns, kc long:
// transposing, d[p*width+i] = alpha*src[i*ld+p]; copying,
// d[p*width+i] = alpha*src[p*ld+i]; for p < kc, i < width.
type packFunc func(d, src []float32, ld, kc, width int, alpha float32)

// activeKernel is the micro-kernel of the active path.
func activeKernel() *gemmKernel {
	if k := asmKernel(); k != nil {
		return k
	}
	return &genericKernel
}
