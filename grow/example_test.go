package grow_test

import (
	"fmt"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
)

// A one-block model trained for 80% of a 1000-step WSD run (decay from step
// 900) is expanded to 12 blocks by stacking copies of its trained block.
func Example() {
	cfg := nn.Config{Vocab: 256, Ctx: 64, Dim: 64, Heads: 4, Layers: 1}
	m, err := nn.NewModel(cfg, 1)
	if err != nil {
		panic(err)
	}
	opt := nn.NewAdamW(nn.AdamWConfig{})

	plan := grow.Plan{From: 1, To: 12, Strategy: grow.Copy}
	stages, err := plan.Stages(1000, 900)
	if err != nil {
		panic(err)
	}
	for _, s := range stages {
		// ... train until step s.At, then:
		res, err := grow.Expand(m, opt, s.Layers, s.Strategy, grow.FreshNew, 42)
		if err != nil {
			panic(err)
		}
		fmt.Printf("step %d: %d -> %d blocks (%s), sources %v\n", s.At, res.From, res.To, res.Strategy, res.Source)
	}
	full := cfg
	full.Layers = 12
	spent, fixed := grow.RunFLOPs(full, 1, stages, 1000, 16, 64)
	fmt.Printf("parameters %d (formula %d), FLOPs saved %.0f%%\n", m.NumParams(), nn.ParamCount(full), 100*(1-spent/fixed))
	// Output:
	// step 800: 1 -> 12 blocks (copy), sources [0 0 0 0 0 0 0 0 0 0 0 0]
	// parameters 620416 (formula 620416), FLOPs saved 72%
}
