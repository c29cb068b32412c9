package compare_test

import (
	"fmt"

	"github.com/sproutml/sprout/compare"
	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/trainer"
)

// Build the runs of a depth-12 comparison: every variant shares the base
// run's data, seed, token budget and schedule; the progressive ones expand
// at 60% of the steps (the default for 12 blocks of width 128 or less,
// grow.DefaultAtFor) unless their name gives a point (@0.8, the paper's),
// always before WSD's decay (the last 10%). Experiment.Run
// would then train them one after another and return a Report for
// WriteTable, WriteJSONL and WriteChart.
func ExampleExperiment_Variants() {
	specs, err := compare.ParseSpecs("fixed,0-random,1-copy,1-copy-cosine,1-copy@0.8")
	if err != nil {
		panic(err)
	}
	e := compare.Experiment{
		Base: trainer.Config{
			Model: nn.Config{Vocab: 256, Ctx: 128, Dim: 128, Heads: 4, Layers: 12},
			Data:  "tinyshakespeare.txt",
			Batch: 16, Steps: 1000, LR: 2e-3, Seed: 1,
		},
		Specs: specs,
	}
	vs, err := e.Variants()
	if err != nil {
		panic(err)
	}
	for _, v := range vs {
		if v.Stages == nil {
			fmt.Printf("%-14s %s, %d blocks throughout\n", v.Name, v.Config.Schedule, v.Config.Model.Layers)
			continue
		}
		st := v.Stages[0]
		fmt.Printf("%-14s %s, %d -> %d blocks (%s) at step %d\n", v.Name, v.Config.Schedule, v.Spec.From, st.Layers, st.Strategy, st.At)
	}
	// Output:
	// fixed          wsd, 12 blocks throughout
	// 0-random       wsd, 0 -> 12 blocks (random) at step 600
	// 1-copy         wsd, 1 -> 12 blocks (copy) at step 600
	// 1-copy-cosine  cosine, 1 -> 12 blocks (copy) at step 600
	// 1-copy@0.8     wsd, 1 -> 12 blocks (copy) at step 800
}
