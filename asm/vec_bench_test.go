package asm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Benchmarks of the vector kernels on every supported path, at lengths that
// stay in L1 (256), in L2 (4096) and spill to L3 (65536). The MB/s column
// counts each slice element read or written once (e.g. 12 bytes per
// element for Axpy: x, y in, y out).

var vecSink float32

func vecBench(b *testing.B, streams int, f func(x, y, d []float32)) {
	prev := Kernel()
	defer SetKernel(prev)
	for _, p := range Supported() {
		for _, n := range []int{256, 4096, 65536} {
			rng := rand.New(rand.NewPCG(uint64(n), 1))
			x := make([]float32, n)
			y := make([]float32, n)
			d := make([]float32, n)
			for i := range x {
				x[i] = 2*rng.Float32() - 1
				y[i] = 2*rng.Float32() - 1
			}
			b.Run(fmt.Sprintf("%s/%d", p, n), func(b *testing.B) {
				if err := SetKernel(p); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(4 * n * streams))
				for b.Loop() {
					f(x, y, d)
				}
			})
		}
	}
}

func BenchmarkVecDot(b *testing.B) {
	vecBench(b, 2, func(x, y, _ []float32) { vecSink = Dot(x, y) })
}

func BenchmarkVecSum(b *testing.B) {
	vecBench(b, 1, func(x, _, _ []float32) { vecSink = Sum(x) })
}

func BenchmarkVecMax(b *testing.B) {
	vecBench(b, 1, func(x, _, _ []float32) { vecSink = Max(x) })
}

func BenchmarkVecAxpy(b *testing.B) {
	vecBench(b, 3, func(x, y, _ []float32) { Axpy(1e-7, x, y) })
}

func BenchmarkVecScale(b *testing.B) {
	// Scaling by 1 keeps the data unchanged from one iteration to the next.
	vecBench(b, 2, func(x, _, _ []float32) { Scale(1, x) })
}

func BenchmarkVecAdd(b *testing.B) {
	vecBench(b, 3, func(x, y, d []float32) { Add(d, x, y) })
}

func BenchmarkVecMul(b *testing.B) {
	vecBench(b, 3, func(x, y, d []float32) { Mul(d, x, y) })
}

func BenchmarkVecExp(b *testing.B) {
	vecBench(b, 2, func(x, _, d []float32) { Exp(d, x) })
}

func BenchmarkVecSoftmax(b *testing.B) {
	// In place on d: after the first call every row is the same uniform
	// distribution, and no path's cost depends on the values.
	vecBench(b, 2, func(_, _, d []float32) { Softmax(d) })
}

func BenchmarkGELU(b *testing.B) {
	vecBench(b, 2, func(x, _, d []float32) { GELU(d, x) })
}

func BenchmarkGELUBackward(b *testing.B) {
	vecBench(b, 3, func(x, y, d []float32) { GELUBackward(d, x, y) })
}

func BenchmarkAdamWStep(b *testing.B) {
	// x is the gradient, y and d the moments (v = |d|: AdamW keeps it
	// non-negative), and a fixed w: 7 streams, 4 read and 3 written.
	w := make([]float32, 65536)
	vecBench(b, 7, func(x, y, d []float32) {
		if d[0] < 0 {
			for i := range d {
				d[i] = -d[i]
			}
		}
		AdamWStep(w[:len(x)], x, y, d, 0.9, 0.95, 1, 1e-4, 1.2, 1e-8)
	})
}

func BenchmarkLayerNorm(b *testing.B) {
	// One row of len(x), forward (x, w, b in, y out) and backward (x, dy,
	// w, dx, dw, db in; dx, dw, db out): 14 streams. w and dy are y, b is
	// x; dx, dw and db grow by small amounts.
	var dx, dw, db [65536]float32
	vecBench(b, 14, func(x, y, d []float32) {
		n := len(x)
		mean, rstd := LayerNorm(d, x, y, x, 1e-5)
		LayerNormBackward(dx[:n], dw[:n], db[:n], x, y, y, mean, rstd)
	})
}
