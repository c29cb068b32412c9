package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/sproutml/sprout/asm"
)

// gemmBenchShapes are written MxKxN (op(A) is MxK, op(B) KxN) with the
// transposes, as bench/reference/openblas_sgemm.c prints them, so that rows
// compare directly with OpenBLAS.
var gemmBenchShapes = []struct {
	m, k, n        int
	transA, transB bool
}{
	{128, 128, 128, false, false},
	{256, 256, 256, false, false},
	{512, 512, 512, false, false},
	{1024, 1024, 1024, false, false},
	{2048, 2048, 2048, false, false},
	{4096, 256, 768, false, true},   // QKV projection, d=256
	{4096, 1024, 256, false, false}, // MLP down projection
	{4096, 256, 1024, false, true},  // MLP up projection
}

// BenchmarkSgemm measures asm.Sgemm on the active kernel path with 1 and 2
// threads, and gonum's blas/gonum Sgemm with GOMAXPROCS 1 and 2, reporting
// GFLOP/s. Run:
//
//	go test -run '^$' -bench Sgemm ./bench/
//	SPROUT_KERNEL=avx512 go test -run '^$' -bench 'Sgemm/.*/sprout' ./bench/
func BenchmarkSgemm(b *testing.B) {
	for _, s := range gemmBenchShapes {
		tr := func(t bool) string {
			if t {
				return "T"
			}
			return "N"
		}
		name := fmt.Sprintf("%dx%dx%d%s%s", s.m, s.k, s.n, tr(s.transA), tr(s.transB))
		rng := rand.New(rand.NewPCG(1, 2))
		a, bm := randMatrix(rng, s.m*s.k), randMatrix(rng, s.k*s.n)
		c := make([]float32, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		flops := 2 * float64(s.m) * float64(s.k) * float64(s.n)
		report := func(b *testing.B) {
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/sprout-%s-%dt", name, asm.Kernel(), threads), func(b *testing.B) {
				prev := asm.Threads()
				asm.SetThreads(threads)
				defer asm.SetThreads(prev)
				for b.Loop() {
					asm.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
				}
				report(b)
			})
		}
		tA, tB := blas.NoTrans, blas.NoTrans
		if s.transA {
			tA = blas.Trans
		}
		if s.transB {
			tB = blas.Trans
		}
		for _, procs := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/gonum-%dt", name, procs), func(b *testing.B) {
				prev := runtime.GOMAXPROCS(procs)
				defer runtime.GOMAXPROCS(prev)
				for b.Loop() {
					gonum.Implementation{}.Sgemm(tA, tB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
				}
				report(b)
			})
		}
	}
}

func randMatrix(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	return x
}
