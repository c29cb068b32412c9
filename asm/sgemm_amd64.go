//go:build amd64 && gc && !purego && !noasm

package asm

// sgemmKernelAVX2 is the 6x16 AVX2+FMA micro-kernel (see microKernel for the
// contract): a holds kc*6 floats, b kc*16, c a 6x16 tile with row stride ldc.
//
//go:noescape
func sgemmKernelAVX2(kc int, a, b, c *float32, ldc, flags int)

// sgemmKernelAVX512 is the 14x32 AVX-512F micro-kernel (see microKernel): a
// holds kc*14 floats, b kc*32, c a 14x32 tile with row stride ldc.
//
//go:noescape
func sgemmKernelAVX512(kc int, a, b, c *float32, ldc, flags int)

// peakAVX2 runs iters rounds of 12 independent 8-lane FMA chains on
// registers only (192 flops a round); it exists to be timed.
func peakAVX2(iters int)

// peakAVX512 runs iters rounds of 24 independent 16-lane FMA chains on
// registers only (768 flops a round); it exists to be timed.
func peakAVX512(iters int)

// packTrans8AVX2 writes dst[p*width+i] = alpha*src[i*ld+p] for i < 8 and
// p < kc8, a multiple of 8 (8x8 transposes in ymm registers).
//
//go:noescape
func packTrans8AVX2(dst, src *float32, ld, kc8, width int, alpha float32)

// packTrans6AVX2 is packTrans8AVX2 for 6 rows (i < 6).
//
//go:noescape
func packTrans6AVX2(dst, src *float32, ld, kc8, width int, alpha float32)

// packCopy8AVX2 writes dst[p*width+i] = alpha*src[p*ld+i] for i < 8, p < kc.
//
//go:noescape
func packCopy8AVX2(dst, src *float32, ld, kc, width int, alpha float32)

// packCopy6AVX2 is packCopy8AVX2 for 6 columns (i < 6).
//
//go:noescape
func packCopy6AVX2(dst, src *float32, ld, kc, width int, alpha float32)

// packTransAVX2 is a packFunc for widths made of blocks of 8 and at most one
// final block of 6 (6, 14, 16, 32). The slices are checked before the
// assembly touches them.
func packTransAVX2(d, src []float32, ld, kc, width int, alpha float32) {
	_ = d[kc*width-1]
	_ = src[(width-1)*ld+kc-1]
	kc8 := kc &^ 7
	if kc8 > 0 {
		for r := 0; r < width; r += 8 {
			if width-r >= 8 {
				packTrans8AVX2(&d[r], &src[r*ld], ld, kc8, width, alpha)
			} else {
				packTrans6AVX2(&d[r], &src[r*ld], ld, kc8, width, alpha)
			}
		}
	}
	for i := 0; i < width; i++ {
		for p, v := range src[i*ld+kc8 : i*ld+kc] {
			d[(kc8+p)*width+i] = alpha * v
		}
	}
}

// packCopyAVX2 is a packFunc for the same widths as packTransAVX2.
func packCopyAVX2(d, src []float32, ld, kc, width int, alpha float32) {
	_ = d[kc*width-1]
	_ = src[(kc-1)*ld+width-1]
	for r := 0; r < width; r += 8 {
		if width-r >= 8 {
			packCopy8AVX2(&d[r], &src[r], ld, kc, width, alpha)
		} else {
			packCopy6AVX2(&d[r], &src[r], ld, kc, width, alpha)
		}
	}
}

var (
	avx2Kernel = gemmKernel{name: AVX2, mr: 6, nr: 16, mc: 144, kc: 384, nc: 4096, fn: sgemmKernelAVX2,
		packT: packTransAVX2, packC: packCopyAVX2}
	// mc 112, kc 512: a deeper kc halves the passes over C, and the
	// 112 x 512 block of A (224 KiB) still sits in L2. Measured against
	// mc 168, kc 256: docs/experiments.md#blocking-of-the-avx-512-kernel.
	avx512Kernel = gemmKernel{name: AVX512, mr: 14, nr: 32, mc: 112, kc: 512, nc: 4096, fn: sgemmKernelAVX512,
		packT: packTransAVX2, packC: packCopyAVX2}
)

func asmKernel() *gemmKernel {
	switch {
	case useAVX512:
		return &avx512Kernel
	case useAVX2:
		return &avx2Kernel
	}
	return nil
}

// asmPeak returns the active path's FMA probe and its flops per round.
func asmPeak() (func(iters int), float64) {
	switch {
	case useAVX512:
		return peakAVX512, 24 * 16 * 2
	case useAVX2:
		return peakAVX2, 12 * 8 * 2
	}
	return nil, 0
}
