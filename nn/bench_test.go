package nn

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/sproutml/sprout/asm"
)

// benchConfig is the benchmark model: byte-level GPT, 6 layers, width
// 256, 8 heads, context 256 (batch 16), the shape torch_gpt.py runs.
var benchConfig = Config{Vocab: 256, Ctx: 256, Dim: 256, Heads: 8, Layers: 6}

// benchLlama and benchMoE are the llama and moe models of the benchmark's
// size: width 256, 8 heads (4 key/value heads), 6 blocks, context 256.
// llama's SwiGLU (hidden 640) has 0.69M parameters per block against
// GPT-2's 0.79M; moe has 8 experts of hidden 320, top-2, so a token goes
// through the same 3*256*640 MLP weights as llama's (2.2M per block in all).
var (
	benchLlama = Config{Arch: ArchLlama, Vocab: 256, Ctx: 256, Dim: 256, Heads: 8, KVHeads: 4, Layers: 6}
	benchMoE   = Config{Arch: ArchMoE, Vocab: 256, Ctx: 256, Dim: 256, Heads: 8, KVHeads: 4, Layers: 6, Experts: 8, TopK: 2, FFNHidden: 320}
)

// flopsPerToken counts as torch_gpt.py does: 6*N (N without the position
// embedding; the tied head counted once) + 12*L*T*d for attention. For llama
// and moe N is the active parameters that enter a product (no embedding
// lookup, no norm gains).
func flopsPerToken(c Config, T int) float64 {
	n := ParamCount(c) - c.Ctx*c.Dim
	if c.Arch == ArchLlama || c.Arch == ArchMoE {
		n = ActiveParamCount(c) - (2*c.Layers+1)*c.Dim
		if !c.TiedHead {
			n -= c.Vocab * c.Dim
		}
	}
	return 6*float64(n) + 12*float64(c.Layers*T*c.Dim)
}

// BenchmarkTrainStepArch measures a training step of the three archs at the
// benchmark size (see benchConfig, benchLlama, benchMoE), as
// BenchmarkTrainStep does: "threads=N" one tape, "workers=2" two.
func BenchmarkTrainStepArch(b *testing.B) {
	for _, arch := range []struct {
		name string
		cfg  Config
	}{{"gpt2", benchConfig}, {"llama", benchLlama}, {"moe", benchMoE}} {
		for _, tc := range []struct{ threads, workers int }{{1, 1}, {2, 1}, {1, 2}} {
			name := fmt.Sprintf("%s/threads=%d", arch.name, tc.threads)
			if tc.workers > 1 {
				name = fmt.Sprintf("%s/workers=%d", arch.name, tc.workers)
			}
			b.Run(name, func(b *testing.B) {
				old := asm.Threads()
				asm.SetThreads(tc.threads)
				defer asm.SetThreads(old)
				benchTrain(b, arch.cfg, 16, 256, tc.workers, NewAdamW(AdamWConfig{WeightDecay: 0.1}))
			})
		}
	}
}

// BenchmarkTrainStep measures forward + backward + AdamW step of the benchmark
// model, reporting tokens/s and GFLOP/s. "threads=N" is one tape with asm's
// GEMMs on N threads; "workers=2" splits the batch over two tapes on two
// goroutines with single-threaded GEMMs and reduces their gradients, as the
// trainer does. Compare with
// `python3 bench/reference/torch_gpt.py --threads N --n_layer 6`.
func BenchmarkTrainStep(b *testing.B) {
	for _, tc := range []struct{ threads, workers int }{{1, 1}, {2, 1}, {1, 2}} {
		name := fmt.Sprintf("threads=%d", tc.threads)
		if tc.workers > 1 {
			name = fmt.Sprintf("workers=%d", tc.workers)
		}
		b.Run(name, func(b *testing.B) {
			old := asm.Threads()
			asm.SetThreads(tc.threads)
			defer asm.SetThreads(old)
			benchTrain(b, benchConfig, 16, 256, tc.workers, NewAdamW(AdamWConfig{WeightDecay: 0.1}))
		})
	}
}

func benchTrain(b *testing.B, cfg Config, B, T, workers int, opt Optimizer) {
	m, err := NewModel(cfg, 0)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(0, 0))
	tok := randTokens(rng, B*T+1, cfg.Vocab)
	tapes := make([]*Tape, workers)
	for i := range tapes {
		tapes[i] = NewTape(m)
	}
	losses := make([]float32, workers)
	bw := B / workers
	step := func() float32 {
		var wg sync.WaitGroup
		for w, tape := range tapes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tape.ZeroGrad()
				x, y := tok[w*bw*T:(w+1)*bw*T], tok[w*bw*T+1:(w+1)*bw*T+1]
				l, err := m.Forward(tape, x, y, bw, T)
				if err != nil {
					panic(err)
				}
				tape.Backward()
				losses[w] = l
			}()
		}
		wg.Wait()
		ReduceGrads(m.Params(), 1/float32(workers), tapes...)
		ClipGradNorm(m.Params(), 1)
		opt.Step(m.Params(), 3e-4)
		var l float32
		for _, v := range losses {
			l += v / float32(workers)
		}
		return l
	}
	loss := step() // warm the arenas
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		loss = step()
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(B*T)/sec, "tokens/s")
	b.ReportMetric(flopsPerToken(cfg, T)*float64(B*T)/sec/1e9, "GFLOP/s")
	b.ReportMetric(float64(loss), "loss")
}

// BenchmarkAttention measures the fused attention op alone (forward and
// backward) at the benchmark model's shape, one layer, one thread.
func BenchmarkAttention(b *testing.B) {
	for _, tile := range []int{16, 32, 64} {
		b.Run(fmt.Sprintf("tile=%d", tile), func(b *testing.B) {
			old := attnTile
			attnTile = tile
			defer func() { attnTile = old }()
			oldT := asm.Threads()
			asm.SetThreads(1)
			defer asm.SetThreads(oldT)
			B, T, H, D := 16, 256, 8, 256
			rng := rand.New(rand.NewPCG(1, 1))
			p := newParam("qkv", Matrix, B*T, 3*D)
			randn(rng, p.Data, 1)
			tape := NewParamTape([]*Param{p})
			seed := make([]float32, B*T*D)
			randn(rng, seed, 1)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tape.Reset()
				out := tape.Attention(tape.Param(p), B, T, H, 0.17)
				tape.BackwardFrom(out, seed)
			}
			// causal FLOPs actually needed: fwd 2 GEMMs, bwd 4, each B*H*T*T/2*hd*2
			fl := 6 * float64(B*H*T*T/2*(D/H)*2)
			b.ReportMetric(fl*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkPointwise measures the non-GEMM ops of one block at the benchmark
// shape (B*T = 4096 rows), forward and backward.
func BenchmarkPointwise(b *testing.B) {
	N, d := 4096, 256
	rng := rand.New(rand.NewPCG(1, 1))
	x := newParam("x", Matrix, N, 4*d)
	randn(rng, x.Data, 1)
	w, bias := newParam("w", Vector, d), newParam("b", Vector, d)
	randn(rng, w.Data, 1)
	ln := newParam("ln", Matrix, N, d)
	randn(rng, ln.Data, 1)
	for _, tc := range []struct {
		name string
		f    func(t *Tape, in []V) V
	}{
		{"gelu", func(t *Tape, in []V) V { return t.GELU(in[0]) }},
		{"layernorm", func(t *Tape, in []V) V { return t.LayerNorm(in[3], in[1], in[2], 1e-5) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ps := []*Param{x, w, bias, ln}
			tape := NewParamTape(ps)
			for i := 0; i < b.N; i++ {
				tape.Reset()
				in := []V{tape.Param(x), tape.Param(w), tape.Param(bias), tape.Param(ln)}
				out := tc.f(tape, in)
				tape.BackwardFrom(out, nil)
			}
		})
	}
}
