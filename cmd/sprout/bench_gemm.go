package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/sproutml/sprout/asm"
)

// gemmShape is one benchmark product: op(A) is m x k, op(B) is k x n.
type gemmShape struct {
	m, k, n        int
	transA, transB bool
}

// String writes the shape as MxKxN plus the transposes, the notation of
// bench/reference/openblas_sgemm.c, so rows compare line for line.
func (s gemmShape) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%dx%dx%d %s%s", s.m, s.k, s.n, t(s.transA), t(s.transB))
}

// defaultGEMMShapes: squares 128..2048 and the transformer shapes (d=256,
// 4096 tokens): QKV projection, MLP down and up projections.
const defaultGEMMShapes = "128,256,512,1024,2048,4096x256x768NT,4096x1024x256NN,4096x256x1024NT"

// parseGEMMShapes reads a comma-separated list of N (an N x N x N product) or
// MxKxN with an optional NN, NT, TN or TT suffix (default NN).
func parseGEMMShapes(list string) ([]gemmShape, error) {
	if strings.TrimSpace(list) == "" {
		list = defaultGEMMShapes
	}
	var out []gemmShape
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		s := gemmShape{}
		body := item
		if len(body) > 2 {
			switch suf := strings.ToUpper(body[len(body)-2:]); suf {
			case "NN", "NT", "TN", "TT":
				s.transA, s.transB = suf[0] == 'T', suf[1] == 'T'
				body = strings.TrimSpace(body[:len(body)-2])
			}
		}
		dims := strings.Split(strings.ToLower(body), "x")
		if len(dims) != 1 && len(dims) != 3 {
			return nil, fmt.Errorf("bad GEMM shape %q: want N or MxKxN, optionally followed by NN, NT, TN or TT", item)
		}
		vals := make([]int, len(dims))
		for i, d := range dims {
			v, err := strconv.Atoi(d)
			if err != nil || v < 1 || v > 1<<16 {
				return nil, fmt.Errorf("bad GEMM shape %q: %q is not a size between 1 and 65536", item, d)
			}
			vals[i] = v
		}
		if len(vals) == 1 {
			s.m, s.k, s.n = vals[0], vals[0], vals[0]
		} else {
			s.m, s.k, s.n = vals[0], vals[1], vals[2]
		}
		if float64(s.m)*float64(s.k)+float64(s.k)*float64(s.n)+float64(s.m)*float64(s.n) > 1<<30 {
			return nil, fmt.Errorf("GEMM shape %q needs more than 4 GiB of matrices", item)
		}
		out = append(out, s)
	}
	return out, nil
}

// gemmResult is one row of `sprout bench gemm`, also its JSON Lines record.
type gemmResult struct {
	Shape        string  `json:"shape"`
	M            int     `json:"m"`
	K            int     `json:"k"`
	N            int     `json:"n"`
	Trans        string  `json:"trans"`
	Kernel       string  `json:"kernel"`
	Threads      int     `json:"threads"`
	SproutGFLOPS float64 `json:"sprout_gflops"`
	GonumGFLOPS  float64 `json:"gonum_gflops"`
	PeakGFLOPS   float64 `json:"peak_gflops"` // FMA peak of one thread times Threads
	PctPeak      float64 `json:"pct_peak"`
	VsGonum      float64 `json:"speedup_vs_gonum"`
}

// benchGEMM measures asm.Sgemm and gonum's Sgemm side by side on each shape
// (a comma-separated list, see parseGEMMShapes; empty for the default set)
// with the given number of threads (< 1: GOMAXPROCS), and writes a table, or
// JSON Lines with jsonOut. Each figure is the median of repeated runs; the
// percentage is of the active path's FMA peak (asm.PeakGFLOPS) times the
// thread count. gonum runs with GOMAXPROCS set to the same thread count.
func benchGEMM(w io.Writer, jsonOut bool, threads int, shapes string) error {
	list, err := parseGEMMShapes(shapes)
	if err != nil {
		return err
	}
	if threads < 1 {
		threads = runtime.GOMAXPROCS(0)
	}
	prevThreads := asm.Threads()
	asm.SetThreads(threads)
	defer asm.SetThreads(prevThreads)

	peak1 := asm.PeakGFLOPS(300 * time.Millisecond)
	peak := peak1 * float64(threads)
	if !jsonOut {
		probe := "asm FMA probe"
		if asm.Kernel() == asm.Generic {
			probe = "estimate from a Go loop, no SIMD"
		}
		fmt.Fprintf(w, "sprout bench gemm: kernel %s, %d thread(s), peak %.1f GFLOP/s per thread (%s)\n",
			asm.Kernel(), threads, peak1, probe)
		fmt.Fprintf(w, "shape MxKxN            sprout GFLOP/s  %% of peak   gonum GFLOP/s   vs gonum\n")
	}
	enc := json.NewEncoder(w)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range list {
		a := randMatrix(rng, s.m*s.k)
		b := randMatrix(rng, s.k*s.n)
		c := make([]float32, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		flops := 2 * float64(s.m) * float64(s.k) * float64(s.n)
		ours := medianGFLOPS(flops, func() {
			asm.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n)
		})
		tA, tB := blas.NoTrans, blas.NoTrans
		if s.transA {
			tA = blas.Trans
		}
		if s.transB {
			tB = blas.Trans
		}
		prevProcs := runtime.GOMAXPROCS(threads)
		theirs := medianGFLOPS(flops, func() {
			gonum.Implementation{}.Sgemm(tA, tB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n)
		})
		runtime.GOMAXPROCS(prevProcs)
		r := gemmResult{Shape: s.String(), M: s.m, K: s.k, N: s.n, Trans: s.String()[len(s.String())-2:],
			Kernel: asm.Kernel(), Threads: threads, SproutGFLOPS: ours, GonumGFLOPS: theirs,
			PeakGFLOPS: peak, PctPeak: 100 * ours / peak, VsGonum: ours / theirs}
		if jsonOut {
			if err := enc.Encode(r); err != nil {
				return err
			}
			continue
		}
		if _, err := fmt.Fprintf(w, "%-22s %14.1f %9.0f%% %15.1f %9.1fx\n", r.Shape, ours, r.PctPeak, theirs, r.VsGonum); err != nil {
			return err
		}
	}
	return nil
}

func randMatrix(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	return x
}

// medianGFLOPS runs f once to warm up, then repeatedly for about half a
// second (at least 3 runs, fewer only when one run takes over a second), and
// returns the median rate.
func medianGFLOPS(flops float64, f func()) float64 {
	t0 := time.Now()
	f()
	first := time.Since(t0)
	var ts []float64
	for start := time.Now(); len(ts) < 3 || time.Since(start) < 500*time.Millisecond; {
		if first > time.Second && len(ts) >= 1 {
			break
		}
		t := time.Now()
		f()
		ts = append(ts, time.Since(t).Seconds())
	}
	slices.Sort(ts)
	return flops / ts[len(ts)/2] / 1e9
}
