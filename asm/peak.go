package asm

import (
	"runtime"
	"time"
)

// PeakGFLOPS measures the single-thread float32 FMA throughput of the active
// kernel path, in GFLOP/s, by timing a register-only loop of independent FMA
// chains (12 ymm chains on AVX2, 24 zmm on AVX-512, 24 q-register chains on
// NEON) for about dur. It reports the best of many short windows, so a busy
// machine lowers it less than it lowers a single long timing.
//
// On the generic path there is no SIMD probe: the figure is an estimate from
// a Go loop of independent scalar multiply-adds, the best pure-Go code can do.
func PeakGFLOPS(dur time.Duration) float64 {
	fn, flopsPerIter := asmPeak()
	if fn == nil {
		fn, flopsPerIter = goPeak, goPeakFlops
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// Size a window to about 2 ms.
	iters := 1 << 10
	for {
		t0 := time.Now()
		fn(iters)
		if el := time.Since(t0); el > time.Millisecond || iters > 1<<30 {
			iters = int(float64(iters) * float64(2*time.Millisecond) / float64(max(el, 1)))
			break
		}
		iters *= 4
	}
	iters = max(iters, 1)
	best := 0.0
	for start := time.Now(); time.Since(start) < dur || best == 0; {
		t0 := time.Now()
		fn(iters)
		if el := time.Since(t0).Seconds(); el > 0 {
			best = max(best, float64(iters)*flopsPerIter/el/1e9)
		}
	}
	return best
}

// goPeakFlops is the flops of one goPeak round: 8 chains, a multiply and an
// add each.
const goPeakFlops = 8 * 2

var goPeakSink float32

// goPeak runs iters rounds of 8 independent scalar multiply-add chains.
func goPeak(iters int) {
	x0, x1, x2, x3 := float32(0), float32(1), float32(2), float32(3)
	x4, x5, x6, x7 := float32(4), float32(5), float32(6), float32(7)
	const a, b = 0.999999, 1e-7
	for i := 0; i < iters; i++ {
		x0 = x0*a + b
		x1 = x1*a + b
		x2 = x2*a + b
		x3 = x3*a + b
		x4 = x4*a + b
		x5 = x5*a + b
		x6 = x6*a + b
		x7 = x7*a + b
	}
	goPeakSink = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7
}
