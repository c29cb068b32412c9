package trainer

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
)

// archRun is tinyConfig with a llama or moe model: 1 block grown to 2 at
// step 10 of 20 (copying the block, so a moe copy brings its experts).
func archRun(t *testing.T, model nn.Config) Config {
	cfg := tinyConfig(t)
	model.Ctx, model.Dim, model.Heads, model.Layers = 16, 32, 4, 2
	cfg.Model = model
	cfg.Grow = &grow.Plan{From: 1, AtStep: 10, Strategy: grow.Copy}
	return cfg
}

var (
	llamaModel  = nn.Config{Arch: nn.ArchLlama, KVHeads: 2, FFNHidden: 64}
	moeAuxModel = nn.Config{Arch: nn.ArchMoE, KVHeads: 2, FFNHidden: 32, Experts: 4, TopK: 2, SharedExperts: 1}
	moeBias     = nn.Config{Arch: nn.ArchMoE, KVHeads: 1, FFNHidden: 32, Experts: 4, TopK: 2, Gate: nn.GateSigmoid, Balance: nn.BalanceBias, BiasRate: 0.01}
)

// llama and moe runs grow, lower the loss, count their FLOPs as grow does
// for the arch (active experts for moe) and report expert loads for moe.
func TestRunLlamaAndMoE(t *testing.T) {
	for _, model := range []nn.Config{llamaModel, moeAuxModel, moeBias} {
		cfg := archRun(t, model)
		rec := &recorder{}
		res := mustRun(t, cfg, rec)
		mc := res.Model.Config
		if mc.Arch != model.Arch || len(res.Model.Blocks) != 2 || res.Model.NumParams() != nn.ParamCount(mc) {
			t.Fatalf("%s: final model %s with %d blocks, %d parameters (formula %d)", model.Arch, mc.Arch, len(res.Model.Blocks), res.Model.NumParams(), nn.ParamCount(mc))
		}
		steps := rec.steps()
		if first, last := steps[0].Loss, steps[len(steps)-1].Loss; !(last < first-0.5) {
			t.Errorf("%s: loss %v -> %v", model.Arch, first, last)
		}
		stages, err := res.Config.Grow.Stages(cfg.Steps, cfg.Steps)
		if err != nil {
			t.Fatal(err)
		}
		spent, fixed := grow.RunFLOPs(mc, 1, stages, cfg.Steps, cfg.Batch, cfg.Model.Ctx)
		if s := res.Summary; s.FLOPs != spent || s.FixedFLOPs != fixed {
			t.Errorf("%s: summary FLOPs %v / fixed %v, want %v / %v", model.Arch, s.FLOPs, s.FixedFLOPs, spent, fixed)
		}
		for _, s := range steps {
			if model.Arch != nn.ArchMoE {
				if s.ExpertTokens != nil {
					t.Fatalf("llama step %d reports expert tokens", s.Step)
				}
				continue
			}
			if len(s.ExpertTokens) != s.Layers {
				t.Fatalf("%s step %d: expert tokens for %d blocks at depth %d", model.Balance, s.Step, len(s.ExpertTokens), s.Layers)
			}
			for _, blk := range s.ExpertTokens {
				var n int64
				for _, c := range blk {
					n += c
				}
				if len(blk) != 4 || n != int64(cfg.Batch*cfg.Model.Ctx*2) {
					t.Fatalf("step %d: block load %v, want 4 experts summing to batch*T*top-k", s.Step, blk)
				}
			}
		}
		if model.Arch == nn.ArchMoE {
			b, _ := json.Marshal(steps[0])
			if !strings.Contains(string(b), `"expert_tokens":[[`) {
				t.Errorf("step JSON lacks expert_tokens: %s", b)
			}
		}
		// bias balancing moved the biases (not an optimizer: by the rate)
		if model.Balance == nn.BalanceBias {
			moved := false
			for _, blk := range res.Model.Blocks {
				for _, v := range blk.Balance.Data {
					moved = moved || v != 0
				}
			}
			if !moved {
				t.Errorf("bias balancing left every bias at zero")
			}
		}
	}
	// llama fields on a gpt2 model are a config error naming them
	cfg := tinyConfig(t)
	cfg.Model.KVHeads = 1
	if _, err := Run(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "kv_heads") {
		t.Errorf("gpt2 with kv_heads: %v", err)
	}
}

// The balancing bias is updated from counts summed over shards: runs with 1
// and 3 workers are bit-identical, bias included.
func TestMoEWorkersBitIdentical(t *testing.T) {
	var ref *Result
	var refLoss map[int64]float64
	for _, w := range []int{1, 3} {
		cfg := archRun(t, moeBias)
		cfg.Workers = w
		rec := &recorder{}
		res := mustRun(t, cfg, rec)
		if ref == nil {
			ref, refLoss = res, rec.losses()
			continue
		}
		sameLosses(t, "moe workers", refLoss, rec.losses(), 1)
		sameWeights(t, "moe workers", ref.Model, res.Model)
	}
}

// A moe run (bias balancing, growth by copying) stopped by Ctrl-C, or at
// the checkpoints just before and after the expansion, resumes bit for bit:
// the balancing biases travel in the checkpoint.
func TestMoEResumeExact(t *testing.T) {
	tmp := t.TempDir()
	cfg := archRun(t, moeBias)
	cfg.Out = filepath.Join(tmp, "full")
	full := &recorder{}
	ref := mustRun(t, cfg, full)
	want := full.losses()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cut := cfg
	cut.Out = filepath.Join(tmp, "cut")
	stop := &recorder{on: func(e Event) {
		if s, ok := e.(StepEvent); ok && s.Step == 7 {
			cancel()
		}
	}}
	if _, err := Run(ctx, cut, stop); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("cancelled run: %v", err)
	}
	m, _, err := LoadModel(cut.Out)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(m.Blocks[0].Balance.Data, make([]float32, 4)) {
		t.Fatal("checkpointed balancing bias is zero after 7 steps")
	}
	for _, tc := range []struct {
		name, dir string
		from      int64
	}{
		{"ctrl-c at step 7", cut.Out, 8},
		{"pre-grow checkpoint", PreGrowDir(cfg.Out, 10), 11},
	} {
		rec := &recorder{}
		res, err := Resume(context.Background(), tc.dir, rec, func(c *Config) error { c.Workers = 2; return nil })
		if err != nil {
			t.Fatalf("%s: resume: %v", tc.name, err)
		}
		sameLosses(t, tc.name, want, rec.losses(), tc.from)
		sameWeights(t, tc.name, ref.Model, res.Model)
		if *res.Summary.FinalValLoss != *ref.Summary.FinalValLoss || res.Summary.FLOPs != ref.Summary.FLOPs {
			t.Errorf("%s: summary %+v, want %+v", tc.name, res.Summary, ref.Summary)
		}
	}
}
