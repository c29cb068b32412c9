package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Sentinels: guards around every buffer and the padding between rows hold
// NaNs with a recognisable payload. A stray write changes them; a stray read
// of A, B or C padding turns a result into NaN.
var (
	guardBits = uint32(0x7fc0dead)
	padBits   = uint32(0x7fc0beef)
)

const guardLen = 37 // odd, so guards end at odd alignments

// gmat is a row-major matrix stored with leading dimension ld inside a
// buffer guarded on both sides. data is exactly (rows-1)*ld+cols long, so a
// read past the last element leaves the slice.
type gmat struct {
	buf        []float32
	data       []float32
	rows, cols int
	ld         int
}

func newGmat(rng *rand.Rand, rows, cols, ld int) *gmat {
	n := 0
	if rows > 0 && cols > 0 {
		n = (rows-1)*ld + cols
	}
	g := &gmat{buf: make([]float32, n+2*guardLen), rows: rows, cols: cols, ld: ld}
	for i := range g.buf {
		g.buf[i] = math.Float32frombits(guardBits)
	}
	g.data = g.buf[guardLen : guardLen+n : guardLen+n]
	for i := range g.data {
		if i%ld < cols {
			g.data[i] = rng.Float32()*2 - 1
		} else {
			g.data[i] = math.Float32frombits(padBits)
		}
	}
	return g
}

func (g *gmat) at(i, j int) float32 { return g.data[i*g.ld+j] }

// checkFrame reports any change to the guards or the row padding.
func (g *gmat) checkFrame(name string) error {
	for i := 0; i < guardLen; i++ {
		if b := math.Float32bits(g.buf[i]); b != guardBits {
			return fmt.Errorf("%s: guard before the data changed at -%d: %#x", name, guardLen-i, b)
		}
		if b := math.Float32bits(g.buf[len(g.buf)-1-i]); b != guardBits {
			return fmt.Errorf("%s: guard after the data changed at +%d: %#x", name, i, b)
		}
	}
	for i, v := range g.data {
		if i%g.ld >= g.cols && math.Float32bits(v) != padBits {
			return fmt.Errorf("%s: padding changed at row %d col %d: %v", name, i/g.ld, i%g.ld, v)
		}
	}
	return nil
}

func (g *gmat) clone() *gmat {
	c := *g
	c.buf = append([]float32(nil), g.buf...)
	c.data = c.buf[guardLen : guardLen+len(g.data) : guardLen+len(g.data)]
	return &c
}

func sameBits(x, y []float32) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
			return false
		}
	}
	return true
}

// gemmCase is one Sgemm call with its operands.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        *gmat
}

func (tc *gemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s m=%d n=%d k=%d alpha=%v beta=%v lda=%d ldb=%d ldc=%d",
		t(tc.transA), t(tc.transB), tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.a.ld, tc.b.ld, tc.c.ld)
}

// newCase builds operands; pad adds that many unused columns to each leading
// dimension. With cNaN, C starts as NaN (beta must then be 0 for a finite
// result).
func newCase(rng *rand.Rand, transA, transB bool, m, n, k int, alpha, beta float32, pad int, cNaN bool) *gemmCase {
	tc := &gemmCase{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	padOf := func() int {
		if pad == 0 {
			return 0
		}
		return rng.IntN(pad + 1)
	}
	tc.a = newGmat(rng, ar, ac, max(1, ac)+padOf())
	tc.b = newGmat(rng, br, bc, max(1, bc)+padOf())
	tc.c = newGmat(rng, m, n, max(1, n)+padOf())
	if cNaN {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				tc.c.data[i*tc.c.ld+j] = float32(math.NaN())
			}
		}
	}
	return tc
}

func (tc *gemmCase) run() {
	Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.a.data, tc.a.ld, tc.b.data, tc.b.ld, tc.beta, tc.c.data, tc.c.ld)
}

// check runs Sgemm on a copy of C and compares it with a float64 reference,
// element by element, within a bound on float32 rounding error.
func (tc *gemmCase) check() error {
	a0, b0 := tc.a.clone(), tc.b.clone()
	c := tc.c.clone()
	saved := tc.c
	tc.c = c
	tc.run()
	tc.c = saved
	if !sameBits(a0.buf, tc.a.buf) {
		return fmt.Errorf("%v: A changed", tc)
	}
	if !sameBits(b0.buf, tc.b.buf) {
		return fmt.Errorf("%v: B changed", tc)
	}
	if err := c.checkFrame("C"); err != nil {
		return fmt.Errorf("%v: %v", tc, err)
	}
	// op(A) by rows and op(B) by columns, in float64, so that each
	// reference element is one contiguous dot product.
	ra := make([]float64, tc.m*tc.k)
	rb := make([]float64, tc.n*tc.k)
	for i := 0; i < tc.m; i++ {
		for p := 0; p < tc.k; p++ {
			if tc.transA {
				ra[i*tc.k+p] = float64(tc.a.at(p, i))
			} else {
				ra[i*tc.k+p] = float64(tc.a.at(i, p))
			}
		}
	}
	for j := 0; j < tc.n; j++ {
		for p := 0; p < tc.k; p++ {
			if tc.transB {
				rb[j*tc.k+p] = float64(tc.b.at(j, p))
			} else {
				rb[j*tc.k+p] = float64(tc.b.at(p, j))
			}
		}
	}
	const eps = 1.0 / (1 << 23)
	for i := 0; i < tc.m; i++ {
		ar := ra[i*tc.k : i*tc.k+tc.k]
		for j := 0; j < tc.n; j++ {
			var s, sa float64
			if tc.alpha != 0 {
				br := rb[j*tc.k : j*tc.k+tc.k]
				for p, x := range ar {
					x *= br[p]
					s += x
					sa += math.Abs(x)
				}
			}
			want := float64(tc.alpha) * s
			bound := math.Abs(float64(tc.alpha)) * sa
			if tc.beta != 0 {
				cv := float64(tc.c.at(i, j))
				want += float64(tc.beta) * cv
				bound += math.Abs(float64(tc.beta) * cv)
			}
			bound = bound*float64(tc.k+4)*eps + 1e-30
			got := float64(c.at(i, j))
			if math.IsNaN(got) || math.Abs(got-want) > bound {
				return fmt.Errorf("%v: C[%d][%d] = %v, want %v (bound %.3g)", tc, i, j, got, want, bound)
			}
		}
	}
	return nil
}

// forEachPath runs f with every kernel path this build supports on this CPU,
// restoring the active path and thread bound afterwards.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	prev, prevThreads := Kernel(), int(threads.Load())
	defer func() {
		if err := SetKernel(prev); err != nil {
			t.Fatal(err)
		}
		threads.Store(int32(prevThreads))
	}()
	for _, p := range Supported() {
		if err := SetKernel(p); err != nil {
			t.Fatal(err)
		}
		if got := activeKernel().name; got != p {
			t.Fatalf("SetKernel(%q): Sgemm would use the %q micro-kernel", p, got)
		}
		t.Run(p, f)
	}
}

var transposes = [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}}

// thinSweeps reports whether the long sweeps should be thinned: in -short
// runs off amd64 (CI runs arm64 under qemu) and under the race detector,
// which checks the threading, not the arithmetic.
func thinSweeps() bool { return sgemmRaceBuild || (testing.Short() && runtime.GOARCH != "amd64") }

// TestSgemmSmallShapes checks every m, n, k in 1..33 without transposes (C
// starts as NaN, beta = 0), and a random third of them for the other
// transposes with random alpha, beta and leading dimensions.
func TestSgemmSmallShapes(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		step := 1
		if sgemmRaceBuild {
			step = 4
		} else if thinSweeps() {
			step = 2 // still meets every residue of MR and NR
		}
		failures := 0
		for m := 1; m <= 33; m += step {
			for n := 1; n <= 33; n += step {
				for k := 1; k <= 33; k++ {
					tc := newCase(rng, false, false, m, n, k, 1, 0, 0, true)
					if err := tc.check(); err != nil {
						t.Error(err)
						failures++
					}
					if rng.IntN(3*step*step) == 0 {
						tr := transposes[1+rng.IntN(3)]
						betas := []float32{0, 1, -0.5, 2}
						tc := newCase(rng, tr[0], tr[1], m, n, k, []float32{1, -0.5, 2}[rng.IntN(3)], betas[rng.IntN(4)], 3, false)
						if err := tc.check(); err != nil {
							t.Error(err)
							failures++
						}
					}
					if failures > 10 {
						t.Fatal("too many failures")
					}
				}
			}
		}
	})
}

// TestSgemmLargeShapes crosses every blocking boundary (MC, KC, NC and the
// parallel split) with odd sizes, all transposes and padded strides.
func TestSgemmLargeShapes(t *testing.T) {
	shapes := [][3]int{{257, 129, 511}, {300, 37, 800}, {5, 4200, 3}, {31, 4099, 17}}
	if testing.Short() || thinSweeps() {
		shapes = [][3]int{{257, 129, 511}, {5, 4200, 3}}
	}
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, s := range shapes {
			for ti, tr := range transposes {
				alpha := []float32{1, -0.5, 2, 1}[ti]
				beta := []float32{0, 1, -0.5, 2}[ti]
				tc := newCase(rng, tr[0], tr[1], s[0], s[1], s[2], alpha, beta, 5, beta == 0)
				if err := tc.check(); err != nil {
					t.Error(err)
				}
			}
		}
	})
}

// TestSgemmAlphaBeta crosses alpha and beta in {0, 1, -0.5, 2}, including
// alpha = 0 with NaNs in A and B (which must then go unread).
func TestSgemmAlphaBeta(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		vals := []float32{0, 1, -0.5, 2}
		for _, alpha := range vals {
			for _, beta := range vals {
				for _, s := range [][3]int{{7, 9, 5}, {70, 50, 90}} {
					tr := transposes[rng.IntN(4)]
					tc := newCase(rng, tr[0], tr[1], s[0], s[1], s[2], alpha, beta, 4, false)
					if alpha == 0 {
						for i := range tc.a.data {
							tc.a.data[i] = float32(math.NaN())
						}
					}
					if err := tc.check(); err != nil {
						t.Error(err)
					}
				}
			}
		}
		// k == 0: C = beta*C, and beta == 0 clears NaNs.
		tc := newCase(rng, false, false, 4, 5, 0, 1, 0, 2, true)
		if err := tc.check(); err != nil {
			t.Error(err)
		}
	})
}

// TestSgemmThreadInvariance requires bit-identical results for every thread
// count, on shapes that split by rows, by columns and both.
func TestSgemmThreadInvariance(t *testing.T) {
	shapes := [][3]int{{200, 300, 400}, {13, 1000, 300}, {300, 64, 800}, {3, 4100, 150}}
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for si, s := range shapes {
			tr := transposes[si%4]
			tc := newCase(rng, tr[0], tr[1], s[0], s[1], s[2], 0.75, -0.5, 3, false)
			var ref []float32
			for _, nth := range []int{1, 2, 3, 4, 7} {
				SetThreads(nth)
				c := tc.c.clone()
				Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.a.data, tc.a.ld, tc.b.data, tc.b.ld, tc.beta, c.data, c.ld)
				if err := c.checkFrame("C"); err != nil {
					t.Fatalf("%v threads=%d: %v", tc, nth, err)
				}
				if ref == nil {
					ref = c.data
				} else if !sameBits(ref, c.data) {
					t.Errorf("%v: %d threads differ from 1 thread", tc, nth)
				}
			}
			SetThreads(0)
			if !sgemmRaceBuild {
				if err := tc.check(); err != nil {
					t.Error(err)
				}
			}
		}
	})
}

// TestSgemmConcurrentCallers runs several goroutines calling Sgemm at once,
// some single-threaded as the trainer's workers are, and checks each result
// against the same call made alone.
func TestSgemmConcurrentCallers(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		const callers = 6
		cases := make([]*gemmCase, callers)
		want := make([][]float32, callers)
		for i := range cases {
			tr := transposes[i%4]
			cases[i] = newCase(rng, tr[0], tr[1], 60+17*i, 150-13*i, 120+9*i, 1, 0.5, 2, false)
			c := cases[i].c.clone()
			Sgemm(tr[0], tr[1], cases[i].m, cases[i].n, cases[i].k, 1, cases[i].a.data, cases[i].a.ld, cases[i].b.data, cases[i].b.ld, 0.5, c.data, c.ld)
			want[i] = c.data
		}
		for _, nth := range []int{1, 0} {
			SetThreads(nth)
			for _, err := range callConcurrently(cases, want, 3) {
				t.Error(err)
			}
		}
		SetThreads(0)
	})
}

// callConcurrently makes reps calls of each case (alpha 1, beta 0.5) from a
// goroutine of its own, all at once, and reports each case whose result
// differs from want, bit for bit.
func callConcurrently(cases []*gemmCase, want [][]float32, reps int) []error {
	var wg sync.WaitGroup
	errs := make([]error, len(cases))
	for i, tc := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < reps; rep++ {
				c := tc.c.clone()
				Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, tc.a.data, tc.a.ld, tc.b.data, tc.b.ld, 0.5, c.data, c.ld)
				if !sameBits(c.data, want[i]) {
					errs[i] = fmt.Errorf("%v: call %d of %d made at once with others differs from the call made alone", tc, rep+1, reps)
					return
				}
			}
		}()
	}
	wg.Wait()
	return slices.DeleteFunc(errs, func(err error) bool { return err == nil })
}

// TestMicroKernelsMatchGeneric compares each SIMD micro-kernel with a direct
// evaluation of the microKernel contract, in both store and accumulate mode,
// writing into a padded C so that stray stores show.
func TestMicroKernelsMatchGeneric(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		K := activeKernel()
		rng := rand.New(rand.NewPCG(11, 12))
		for _, kc := range []int{1, 2, 3, 4, 5, 8, 9, 31, 64, 257} {
			for _, flags := range []int{0, kernelAccum} {
				a := make([]float32, kc*K.mr)
				b := make([]float32, kc*K.nr)
				for i := range a {
					a[i] = rng.Float32() - 0.5
				}
				for i := range b {
					b[i] = rng.Float32() - 0.5
				}
				ldc := K.nr + 3
				c := newGmat(rng, K.mr, K.nr, ldc)
				c0 := c.clone()
				K.fn(kc, &a[0], &b[0], &c.data[0], ldc, flags)
				if err := c.checkFrame("C"); err != nil {
					t.Fatalf("kc=%d flags=%d: %v", kc, flags, err)
				}
				for i := 0; i < K.mr; i++ {
					for j := 0; j < K.nr; j++ {
						var s, sa float64
						for p := 0; p < kc; p++ {
							x := float64(a[p*K.mr+i]) * float64(b[p*K.nr+j])
							s += x
							sa += math.Abs(x)
						}
						if flags&kernelAccum != 0 {
							s += float64(c0.at(i, j))
							sa += math.Abs(float64(c0.at(i, j)))
						}
						got := float64(c.at(i, j))
						if math.Abs(got-s) > sa*float64(kc+2)/(1<<23)+1e-30 {
							t.Fatalf("kc=%d flags=%d: c[%d][%d] = %v, want %v", kc, flags, i, j, got, s)
						}
					}
				}
			}
		}
	})
}

// TestSgemmBadArguments checks that bad arguments panic with a message that
// names the problem.
func TestSgemmBadArguments(t *testing.T) {
	buf := make([]float32, 100)
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, 1, buf, 2, buf, 2, 0, buf, 2) }, "m = -1"},
		{"negative k", func() { Sgemm(false, false, 2, 2, -3, 1, buf, 2, buf, 2, 0, buf, 2) }, "k = -3"},
		{"small lda", func() { Sgemm(false, false, 2, 2, 5, 1, buf, 4, buf, 2, 0, buf, 2) }, "lda = 4"},
		{"small lda transA", func() { Sgemm(true, false, 6, 2, 5, 1, buf, 5, buf, 2, 0, buf, 2) }, "lda = 5"},
		{"small ldb transB", func() { Sgemm(false, true, 2, 2, 5, 1, buf, 5, buf, 4, 0, buf, 2) }, "ldb = 4"},
		{"small ldc", func() { Sgemm(false, false, 2, 3, 2, 1, buf, 2, buf, 3, 0, buf, 2) }, "ldc = 2"},
		{"short a", func() { Sgemm(false, false, 10, 2, 11, 1, buf, 11, buf, 2, 0, buf, 2) }, "len(a) = 100"},
		{"short b", func() { Sgemm(false, false, 2, 20, 6, 1, buf, 6, buf, 20, 0, buf[:60], 20) }, "len(b) = 100"},
		{"short c", func() { Sgemm(false, false, 2, 2, 2, 1, buf, 2, buf, 2, 0, buf[:3], 2) }, "len(c) = 3"},
	}
	for _, tc := range cases {
		func() {
			defer func() {
				r := recover()
				if r == nil {
					t.Errorf("%s: no panic", tc.name)
					return
				}
				if msg := fmt.Sprint(r); !strings.Contains(msg, tc.want) {
					t.Errorf("%s: panic %q does not mention %q", tc.name, msg, tc.want)
				}
			}()
			tc.call()
		}()
	}
	// Empty products are fine with empty slices.
	Sgemm(false, false, 0, 5, 5, 1, nil, 5, nil, 5, 0, nil, 5)
	Sgemm(true, true, 3, 0, 5, 1, nil, 3, nil, 5, 0, nil, 1)
}

// TestSetKernelUnsupported checks that forcing a path the CPU lacks fails
// with an error naming it and leaves Sgemm's kernel alone.
func TestSetKernelUnsupported(t *testing.T) {
	prev := Kernel()
	saved := [3]bool{cpuAVX2FMA, cpuAVX512, cpuASIMD}
	defer func() {
		cpuAVX2FMA, cpuAVX512, cpuASIMD = saved[0], saved[1], saved[2]
		if err := SetKernel(prev); err != nil {
			t.Fatal(err)
		}
	}()
	cpuAVX2FMA, cpuAVX512, cpuASIMD = false, false, false
	for _, p := range []string{AVX2, AVX512, NEON} {
		err := SetKernel(p)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("SetKernel(%q) on a CPU without it: err = %v", p, err)
		}
		if Kernel() != prev || activeKernel().name != prev {
			t.Errorf("failed SetKernel(%q) changed the path to %q/%q", p, Kernel(), activeKernel().name)
		}
	}
	if err := SetKernel("sse9"); err == nil || !strings.Contains(err.Error(), "sse9") {
		t.Errorf("SetKernel(sse9): err = %v", err)
	}
}

func TestSetThreads(t *testing.T) {
	defer SetThreads(0)
	SetThreads(3)
	if Threads() != 3 {
		t.Errorf("Threads() = %d after SetThreads(3)", Threads())
	}
	SetThreads(-1)
	if Threads() != runtime.GOMAXPROCS(0) {
		t.Errorf("Threads() = %d after SetThreads(-1), want GOMAXPROCS %d", Threads(), runtime.GOMAXPROCS(0))
	}
}

// FuzzSgemm checks random shapes, transposes, scalars and strides on every
// path against the float64 reference.
func FuzzSgemm(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(1), uint8(0), uint64(1))
	f.Add(uint8(33), uint8(17), uint8(65), uint8(3), uint64(2))
	f.Add(uint8(150), uint8(40), uint8(9), uint8(14), uint64(3))
	f.Fuzz(func(t *testing.T, m, n, k, flags uint8, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 99))
		scal := []float32{0, 1, -0.5, 2}
		prev := Kernel()
		defer SetKernel(prev)
		for _, p := range Supported() {
			if err := SetKernel(p); err != nil {
				t.Fatal(err)
			}
			tc := newCase(rng, flags&1 != 0, flags&2 != 0, int(m), int(n), int(k),
				scal[(flags>>2)&3], scal[(flags>>4)&3], int(flags>>6), (flags>>4)&3 == 0)
			if err := tc.check(); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
		}
	})
}

// TestPeakGFLOPS checks that the probe runs on every path and reports a
// plausible rate (above 0.01 GFLOP/s even under emulation on a busy machine: 0.09 has been seen).
func TestPeakGFLOPS(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		if g := PeakGFLOPS(5 * time.Millisecond); !(g > 0.01 && g < 1e5) {
			t.Errorf("PeakGFLOPS on %s = %v", Kernel(), g)
		}
	})
}

// TestSgemmSteadyStateAllocs checks that repeated calls reuse their pack
// buffers and helpers instead of allocating. It counts mallocs itself
// because testing.AllocsPerRun sets GOMAXPROCS to 1.
func TestSgemmSteadyStateAllocs(t *testing.T) {
	if sgemmRaceBuild {
		t.Skip("the race detector allocates")
	}
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(13, 14))
	// Just large enough for two threads (m*n*k >= 2*workPerThread).
	tc := newCase(rng, false, true, 120, 100, 100, 1, 0, 0, false)
	for _, nth := range []int{1, 2} {
		if nth > runtime.GOMAXPROCS(0) {
			continue
		}
		SetThreads(nth)
		for i := 0; i < 30; i++ {
			tc.run()
		}
		const calls = 100
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := 0; i < calls; i++ {
			tc.run()
		}
		runtime.ReadMemStats(&after)
		// A fresh job costs about 7 allocations. One thread must never need
		// one; with two, a helper still inside the previous call (a busy
		// machine) makes the next call take a fresh job now and then, but
		// not every time.
		limit := 0.5
		if nth > 1 {
			limit = 3
		}
		if n := float64(after.Mallocs-before.Mallocs) / calls; n >= limit {
			t.Errorf("%d thread(s): %.2f allocations per call", nth, n)
		}
	}
}

// TestKernelBlocking checks each path's blocking invariants: mc a multiple
// of MR, nc of NR, and SIMD packers only for panel widths they handle
// (blocks of 8 and at most one final block of 6).
func TestKernelBlocking(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		K := activeKernel()
		if K.mc%K.mr != 0 || K.nc%K.nr != 0 || K.kc < 1 {
			t.Errorf("%s: mc=%d mr=%d nc=%d nr=%d kc=%d", K.name, K.mc, K.mr, K.nc, K.nr, K.kc)
		}
		if K.packT != nil || K.packC != nil {
			for _, w := range []int{K.mr, K.nr} {
				if r := w % 8; r != 0 && r != 6 {
					t.Errorf("%s: SIMD packers cannot pack panels %d wide", K.name, w)
				}
			}
		}
	})
}
