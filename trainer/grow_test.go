package trainer

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sproutml/sprout/grow"
)

// After an expansion, the next optimizer step moves every parameter of the
// grown model, the new blocks' included: they are in Params(), the tapes
// rebind to them, their gradients are reduced and the optimizer steps them.
// The model the run trains is the one Expand made from the pre-grow state.
func TestGrowthTrainsEveryParam(t *testing.T) {
	for _, opt := range []string{OptAdamW, OptMuon} {
		for _, plan := range []grow.Plan{
			{From: 1, AtStep: 10},
			{From: 1, AtStep: 10, Scale: grow.ScaleTrained, Place: grow.PlaceTop, OptimState: grow.ResetAll},
			{From: 0, AtStep: 10},
		} {
			cfg := tinyConfig(t)
			cfg.Model.Layers = 3
			cfg.Optimizer, cfg.Steps, cfg.Schedule, cfg.Workers = opt, 11, ScheduleConstant, 2
			cfg.Grow = &plan
			cfg.Out = filepath.Join(t.TempDir(), "ckpt")
			res := mustRun(t, cfg, nil)

			m, _, err := LoadModel(PreGrowDir(cfg.Out, 10))
			if err != nil {
				t.Fatal(err)
			}
			stage := grow.Stage{At: 10, Layers: 3, Strategy: grow.Random}
			gr, err := grow.ExpandWith(m, nil, 3, res.Config.Grow.Options(stage, growSeed(cfg.Seed, 0)))
			if err != nil {
				t.Fatal(err)
			}
			got := res.Model.Params()
			if len(got) != len(m.Params()) {
				t.Fatalf("%s %+v: %d parameters after the run, %d after Expand", opt, plan, len(got), len(m.Params()))
			}
			for i, p := range m.Params() {
				q := got[i]
				if q.Name != p.Name {
					t.Fatalf("%s %+v: parameter %d is %s, Expand made %s", opt, plan, i, q.Name, p.Name)
				}
				if slices.Equal(q.Data, p.Data) {
					t.Errorf("%s %+v: %s did not move in the step after the expansion", opt, plan, p.Name)
				}
			}
			// The step after the expansion is a small one: the trained run
			// starts from Expand's model, not from something else.
			for j, src := range gr.Source {
				if src >= 0 {
					continue
				}
				a, b := m.Blocks[j].QKVW.Data, res.Model.Blocks[j].QKVW.Data
				var d, n float64
				for k := range a {
					d += float64(a[k]-b[k]) * float64(a[k]-b[k])
					n += float64(a[k]) * float64(a[k])
				}
				if !(d < 0.25*n) {
					t.Errorf("%s %+v: new block %d moved by %.3g of its norm in one step: not the block Expand made", opt, plan, j, math.Sqrt(d/n))
				}
			}
		}
	}
}

// The learning rate re-warms linearly over Plan.Rewarmup of the run after the
// expansion, and a run resumed inside the re-warmup continues it exactly.
func TestGrowthRewarmup(t *testing.T) {
	tmp := t.TempDir()
	cfg := tinyConfig(t)
	cfg.Grow = &grow.Plan{From: 1, AtStep: 10, Rewarmup: 0.2, Scale: grow.ScaleTrained} // 4 steps
	cfg.Out = filepath.Join(tmp, "full")
	mid := filepath.Join(tmp, "mid")
	cfg.CheckpointEvery = 12
	full := &recorder{on: func(e Event) {
		if c, ok := e.(CheckpointEvent); ok && c.Step == 12 {
			copyDir(t, c.Path, mid)
		}
	}}
	ref := mustRun(t, cfg, full)
	filled := cfg
	filled.Defaults()
	sched, err := filled.schedule()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range full.steps() {
		step := int(s.Step) - 1 // the event reports the 0-based step's rate after taking it
		want := sched.LR(step)
		if step >= 10 && step < 14 {
			want *= float64(step-9) / 4
		}
		if math.Abs(s.LR-want) > 1e-15 {
			t.Errorf("step %d: lr %v, want %v", step, s.LR, want)
		}
	}
	rec := &recorder{}
	res, err := Resume(context.Background(), mid, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameLosses(t, "resumed inside the re-warmup", full.losses(), rec.losses(), 13)
	sameWeights(t, "resumed inside the re-warmup", ref.Model, res.Model)
}
