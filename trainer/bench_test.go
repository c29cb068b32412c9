package trainer

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/sproutml/sprout/nn"
)

// BenchmarkStep measures the trainer's step (sharded forward/backward on W
// workers, ordered reduction, clipping, AdamW) on nn's benchmark model
// (6 layers, width 256, 8 heads, context 256, batch 16), to compare with
// `go test -bench TrainStep ./nn/`.
func BenchmarkStep(b *testing.B) {
	cfg := nn.Config{Vocab: 256, Ctx: 256, Dim: 256, Heads: 8, Layers: 6}
	for _, tc := range []struct{ workers, shard int }{{1, 1}, {2, 1}, {2, 4}, {2, 8}} {
		b.Run(fmt.Sprintf("workers=%d/shard=%d", tc.workers, tc.shard), func(b *testing.B) {
			benchStep(b, cfg, 16, tc.shard, tc.workers)
		})
	}
	// The reference: nn's benchmark loop (one tape per worker, a half batch
	// each, nn.ReduceGrads), whose losses depend on the number of workers.
	b.Run("nn-loop/workers=2", func(b *testing.B) { benchNNLoop(b, cfg, 16, 2) })
}

func benchNNLoop(b *testing.B, cfg nn.Config, B, workers int) {
	m, err := nn.NewModel(cfg, 0)
	if err != nil {
		b.Fatal(err)
	}
	T := cfg.Ctx
	rng := rand.New(rand.NewPCG(0, 0))
	tok := make([]int32, B*T+1)
	for i := range tok {
		tok[i] = int32(rng.IntN(cfg.Vocab))
	}
	tapes := make([]*nn.Tape, workers)
	for i := range tapes {
		tapes[i] = nn.NewTape(m)
		tapes[i].SetGemmThreads(1)
	}
	opt := nn.NewAdamW(nn.AdamWConfig{WeightDecay: 0.1})
	bw := B / workers
	step := func() {
		var g errgroup.Group
		for w, tape := range tapes {
			g.Go(func() error {
				tape.ZeroGrad()
				x, y := tok[w*bw*T:(w+1)*bw*T], tok[w*bw*T+1:(w+1)*bw*T+1]
				if _, err := m.Forward(tape, x, y, bw, T); err != nil {
					return err
				}
				return tape.Backward()
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		nn.ReduceGrads(m.Params(), 1/float32(workers), tapes...)
		nn.ClipGradNorm(m.Params(), 1)
		opt.Step(m.Params(), 3e-4)
	}
	step()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(float64(B*T)/(b.Elapsed().Seconds()/float64(b.N)), "tokens/s")
}

func benchStep(b *testing.B, cfg nn.Config, B, shard, workers int) {
	m, err := nn.NewModel(cfg, 0)
	if err != nil {
		b.Fatal(err)
	}
	T := cfg.Ctx
	rng := rand.New(rand.NewPCG(0, 0))
	windows := make([][]uint16, B)
	for i := range windows {
		windows[i] = make([]uint16, T+1)
		for j := range windows[i] {
			windows[i][j] = uint16(rng.IntN(cfg.Vocab))
		}
	}
	st := newStepper(m, B, shard, T, workers)
	opt := nn.NewAdamW(nn.AdamWConfig{WeightDecay: 0.1})
	step := func() float64 {
		loss, err := st.step(windows)
		if err != nil {
			b.Fatal(err)
		}
		nn.ClipGradNorm(m.Params(), 1)
		opt.Step(m.Params(), 3e-4)
		return loss
	}
	loss := step()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		loss = step()
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(B*T)/sec, "tokens/s")
	b.ReportMetric(loss, "loss")
}
