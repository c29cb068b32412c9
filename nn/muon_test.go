package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/sproutml/sprout/asm"
)

// muonRun takes steps Muon steps on a fresh model with random gradients and
// returns every parameter's data and state afterwards.
func muonRun(t *testing.T, cfg Config, opt *Muon, steps int) [][]float32 {
	t.Helper()
	m, err := NewModel(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for s := 0; s < steps; s++ {
		for _, p := range m.Params() {
			randn(rng, p.Grad, 0.1)
		}
		opt.Step(m.Params(), 1e-2)
	}
	var out [][]float32
	for _, p := range m.Params() {
		out = append(out, append([]float32(nil), p.Data...))
		if st := opt.State(p); st != nil {
			out = append(out, append([]float32(nil), st["momentum"]...))
		}
	}
	return out
}

// TestMuonBitIdenticalParallelism checks that Muon's update is the same bits
// for any number of lanes (GOMAXPROCS/asm.Threads) and GEMM threads.
func TestMuonBitIdenticalParallelism(t *testing.T) {
	cfg := Config{Vocab: 32, Ctx: 16, Dim: 64, Heads: 4, Layers: 3} // 64x192, 64x64, 64x256, 256x64
	oldProcs, oldThreads := runtime.GOMAXPROCS(0), asm.Threads()
	defer func() {
		runtime.GOMAXPROCS(oldProcs)
		asm.SetThreads(oldThreads)
	}()
	configs := []MuonConfig{{WeightDecay: 0.1}, {NonMatrix: "adamw", NoNesterov: true}}
	refs := make([][][]float32, len(configs))
	for _, tc := range []struct{ procs, threads int }{{1, 1}, {2, 1}, {4, 1}, {4, 2}, {3, 3}, {8, 1}} {
		runtime.GOMAXPROCS(tc.procs)
		asm.SetThreads(tc.threads)
		for ci, mc := range configs {
			opt, err := NewMuon(mc)
			if err != nil {
				t.Fatal(err)
			}
			got := muonRun(t, cfg, opt, 3)
			if refs[ci] == nil {
				refs[ci] = got
				continue
			}
			for i, ref := range refs[ci] {
				for j := range ref {
					if math.Float32bits(got[i][j]) != math.Float32bits(ref[j]) {
						t.Fatalf("%+v, GOMAXPROCS=%d threads=%d: tensor %d [%d] = %v, want %v (1 lane, 1 thread)",
							mc, tc.procs, tc.threads, i, j, got[i][j], ref[j])
					}
				}
			}
		}
	}
}

// TestMuonLanesAllocateNothing checks the parallel path (several lanes) of a
// warm Muon step for allocations (TestTrainStepAllocatesNothing runs one).
func TestMuonLanesAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	oldProcs, oldThreads := runtime.GOMAXPROCS(0), asm.Threads()
	defer func() {
		runtime.GOMAXPROCS(oldProcs)
		asm.SetThreads(oldThreads)
	}()
	runtime.GOMAXPROCS(max(oldProcs, 2))
	asm.SetThreads(1)
	m, _ := NewModel(Config{Vocab: 32, Ctx: 16, Dim: 32, Heads: 2, Layers: 2}, 1)
	randn(rand.New(rand.NewPCG(1, 1)), m.Params()[2].Grad, 1)
	opt, _ := NewMuon(MuonConfig{})
	for i := 0; i < 3; i++ {
		opt.Step(m.Params(), 1e-3)
	}
	if a := testing.AllocsPerRun(20, func() { opt.Step(m.Params(), 1e-3) }); a != 0 {
		t.Errorf("%v allocations per Muon step on %d lanes, want 0", a, runtime.GOMAXPROCS(0))
	}
}

// TestNewtonSchulzTall checks that a tall matrix, run on X^T X without a
// transpose, gives the transpose of the wide run on its transpose.
func TestNewtonSchulzTall(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	var w nsWork
	for _, sh := range [][2]int{{48, 16}, {100, 37}, {256, 64}} {
		r, c := sh[0], sh[1]
		g := make([]float32, r*c)
		randn(rng, g, 1)
		gt := make([]float32, r*c)
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				gt[j*r+i] = g[i*c+j]
			}
		}
		tall := make([]float32, r*c)
		wide := make([]float32, r*c)
		newtonSchulz(tall, g, r, c, 5, &w)
		newtonSchulz(wide, gt, c, r, 5, &w)
		var worst float64
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				worst = max(worst, math.Abs(float64(tall[i*c+j]-wide[j*r+i])))
			}
		}
		if worst > 1e-4 {
			t.Errorf("%dx%d: tall and transposed wide results differ by %g", r, c, worst)
		}
	}
}

// BenchmarkMuonStep measures Muon's step alone on the benchmark model
// (24 hidden matrices, about 28 GFLOP of Newton-Schulz): "threads=1" runs
// GOMAXPROCS lanes of single-threaded GEMMs (the trainer's setting with two
// workers), "threads=N" one lane with N-thread GEMMs.
func BenchmarkMuonStep(b *testing.B) {
	for _, threads := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			old := asm.Threads()
			asm.SetThreads(threads)
			defer asm.SetThreads(old)
			m, err := NewModel(benchConfig, 0)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(0, 0))
			var flops float64
			for _, p := range m.Params() {
				randn(rng, p.Grad, 1)
				if p.Kind == Matrix {
					flops += nsFLOPs(p.Shape[0], p.Shape[1], 5)
				}
			}
			opt, _ := NewMuon(MuonConfig{WeightDecay: 0.1})
			opt.Step(m.Params(), 3e-4)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				opt.Step(m.Params(), 3e-4)
			}
			b.ReportMetric(flops/(b.Elapsed().Seconds()/float64(b.N))/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkTrainStepMuon is BenchmarkTrainStep's "workers=2" and
// "threads=N" cases with Muon in place of AdamW.
func BenchmarkTrainStepMuon(b *testing.B) {
	n := runtime.GOMAXPROCS(0)
	for _, tc := range []struct{ threads, workers int }{{1, n}, {n, 1}} {
		b.Run(fmt.Sprintf("threads=%d/workers=%d", tc.threads, tc.workers), func(b *testing.B) {
			old := asm.Threads()
			asm.SetThreads(tc.threads)
			defer asm.SetThreads(old)
			opt, _ := NewMuon(MuonConfig{WeightDecay: 0.1})
			benchTrain(b, benchConfig, 16, 256, tc.workers, opt)
		})
	}
}

// TestMuonEmbeddings checks that MuonConfig.Embeddings updates an embedding
// exactly as a hidden matrix without weight decay, and that without it the
// embedding takes the NSGD branch.
func TestMuonEmbeddings(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	mk := func(kind ParamKind) *Param {
		p := newParam("t", kind, 40, 24)
		p.Decay = false
		randn(rand.New(rand.NewPCG(1, 2)), p.Data, 0.02)
		return p
	}
	grads := make([][]float32, 3)
	for i := range grads {
		grads[i] = make([]float32, 40*24)
		randn(rng, grads[i], 1)
	}
	for _, scale := range MuonScales {
		emb, mat, plain := mk(Embedding), mk(Matrix), mk(Embedding)
		on, _ := NewMuon(MuonConfig{Scale: scale, Embeddings: true, WeightDecay: 0.1})
		ref, _ := NewMuon(MuonConfig{Scale: scale, WeightDecay: 0.1})
		off, _ := NewMuon(MuonConfig{Scale: scale, WeightDecay: 0.1})
		for _, g := range grads {
			copy(emb.Grad, g)
			copy(mat.Grad, g)
			copy(plain.Grad, g)
			on.Step([]*Param{emb}, 0.01)
			ref.Step([]*Param{mat}, 0.01)
			off.Step([]*Param{plain}, 0.01)
		}
		for i := range emb.Data {
			if math.Float32bits(emb.Data[i]) != math.Float32bits(mat.Data[i]) {
				t.Fatalf("scale %s: embedding on Muon [%d] = %v, a matrix without decay %v", scale, i, emb.Data[i], mat.Data[i])
			}
		}
		if slices.Equal(plain.Data, emb.Data) {
			t.Fatalf("scale %s: the embedding took Muon without Embeddings", scale)
		}
	}
}

// TestMuonShapeScale pins the three update scalings.
func TestMuonShapeScale(t *testing.T) {
	for _, tc := range []struct {
		scale         string
		fanIn, fanOut int
		want          float64
	}{
		{"rms", 64, 256, 0.2 * 16}, {"rms", 256, 64, 0.2 * 16},
		{"spectral", 64, 256, 2}, {"spectral", 256, 64, 1},
		{"mup", 64, 256, 2}, {"mup", 256, 64, 0.5}, {"mup", 64, 64, 1},
	} {
		o, err := NewMuon(MuonConfig{Scale: tc.scale})
		if err != nil {
			t.Fatal(err)
		}
		if got := float64(o.shapeScale(tc.fanIn, tc.fanOut)); math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("%s %dx%d: scale %v, want %v", tc.scale, tc.fanIn, tc.fanOut, got, tc.want)
		}
	}
}

// TestSymmetricProduct checks symmetric against a full product in float64 on
// odd sizes, both orientations of X and the square of a symmetric matrix.
func TestSymmetricProduct(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, r := range []int{1, 7, 33, 100, symMin, symMin + 1, 450, 517} {
		for _, k := range []int{1, 5, 64, 97} {
			x := make([]float32, r*k)
			randn(rng, x, 1)
			for _, tc := range []struct {
				name           string
				transA, transB bool
				ld             int
			}{{"X X^T", false, true, k}, {"X^T X", true, false, r}} {
				got := make([]float32, r*r)
				symmetric(asm.Bound(0), tc.transA, tc.transB, r, k, 1, x, tc.ld, x, tc.ld, 0, got)
				for i := 0; i < r; i++ {
					for j := 0; j < r; j++ {
						var want float64
						for l := 0; l < k; l++ {
							if tc.transA { // x is k x r
								want += float64(x[l*r+i]) * float64(x[l*r+j])
							} else { // x is r x k
								want += float64(x[i*k+l]) * float64(x[j*k+l])
							}
						}
						if d := math.Abs(float64(got[i*r+j]) - want); d > 1e-4*float64(k)+1e-5 {
							t.Fatalf("%s r=%d k=%d: [%d,%d] = %v, want %v", tc.name, r, k, i, j, got[i*r+j], want)
						}
					}
				}
			}
		}
		// C = 2*S*S + C for a symmetric S and C.
		s := make([]float32, r*r)
		c := make([]float32, r*r)
		for i := 0; i < r; i++ {
			for j := 0; j <= i; j++ {
				v, w := float32(rng.NormFloat64()), float32(rng.NormFloat64())
				s[i*r+j], s[j*r+i], c[i*r+j], c[j*r+i] = v, v, w, w
			}
		}
		want := make([]float64, r*r)
		for i := 0; i < r; i++ {
			for j := 0; j < r; j++ {
				want[i*r+j] = float64(c[i*r+j])
				for l := 0; l < r; l++ {
					want[i*r+j] += 2 * float64(s[i*r+l]) * float64(s[l*r+j])
				}
			}
		}
		symmetric(asm.Bound(0), false, false, r, r, 2, s, r, s, r, 1, c)
		for i, w := range want {
			if d := math.Abs(float64(c[i]) - w); d > 1e-4*float64(r)+1e-5 {
				t.Fatalf("S*S r=%d: [%d] = %v, want %v", r, i, c[i], w)
			}
		}
	}
}

// BenchmarkNewtonSchulz runs five iterations on one core at the shapes of a
// block's matrices for widths 64, 256 and 768.
func BenchmarkNewtonSchulz(b *testing.B) {
	for _, sh := range [][2]int{{64, 64}, {64, 256}, {256, 256}, {256, 1024}, {768, 768}, {768, 3072}} {
		b.Run(fmt.Sprintf("%dx%d", sh[0], sh[1]), func(b *testing.B) {
			r, c := sh[0], sh[1]
			g := make([]float32, r*c)
			randn(rand.New(rand.NewPCG(1, 1)), g, 1)
			out := make([]float32, r*c)
			w := nsWork{gemm: asm.Bound(1)}
			b.SetBytes(0)
			for b.Loop() {
				newtonSchulz(out, g, r, c, 5, &w)
			}
			b.ReportMetric(nsFLOPs(r, c, 5)*float64(b.N)/b.Elapsed().Seconds()/1e9, "full-GFLOP/s")
		})
	}
}
