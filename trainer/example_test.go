package trainer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/safetensors"
	"github.com/sproutml/sprout/trainer"
)

// A dataset from the embedded corpus, a sampler of training windows, and
// the fixed validation windows.
func Example_data() {
	d, err := trainer.CorpusDataset(trainer.DataOptions{Ctx: 64})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, _ := trainer.NewSampler(d.Train, 64, 1)
	batch := s.Batch(make([][]uint16, 4)) // 4 windows of 65 tokens
	fmt.Println(len(batch), len(batch[0]), d.Vocab)
	fmt.Println(len(trainer.EvalWindows(d.Val, 64, 32)))
	// Output:
	// 4 65 256
	// 32
}

func ExampleGenerateCorpus() {
	fmt.Print(string(trainer.GenerateCorpus(3, 200)))
	// Output:
	// 49 - 27 = 22.
	// { [ ] } { } { ( ( < ( ) { ( ) ( ) } > ) < > [ ] < < > > ) }.
	// every cat is tall because many brave cats that find the dog hide.
	// 74 - 21 = 53.
	// 3 * 12 = 36.
	// two teachers watch this green bird.
}

func ExampleSchedule() {
	s, _ := trainer.NewSchedule(trainer.ScheduleWSD, 1000, 3e-3)
	s.DecayShape = trainer.DecaySqrt
	for _, step := range []int{0, 19, 500, 900, 950, 999} {
		fmt.Printf("step %3d: lr %.6f\n", step, s.LR(step))
	}
	fmt.Println("decay starts at", s.DecayStart())
	// Output:
	// step   0: lr 0.000150
	// step  19: lr 0.003000
	// step 500: lr 0.003000
	// step 900: lr 0.002700
	// step 950: lr 0.000858
	// step 999: lr 0.000000
	// decay starts at 900
}

func ExampleSaveCheckpoint() {
	dir, _ := os.MkdirTemp("", "sprout-example")
	defer os.RemoveAll(dir)
	ckpt := filepath.Join(dir, "ckpt")

	c := &trainer.Checkpoint{
		Manifest: trainer.Manifest{Config: json.RawMessage(`{"layers":1}`), Step: 100},
		Model:    []safetensors.Tensor{{Name: "wte.weight", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}},
	}
	if err := trainer.SaveCheckpoint(ckpt, c); err != nil {
		fmt.Println(err)
		return
	}
	back, err := trainer.LoadCheckpoint(ckpt)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = trainer.CheckTensors("model", back.Model, map[string][]int{"wte.weight": {2, 2}})
	fmt.Println(back.Manifest.Step, back.Model[0].Data, err)
	// Output:
	// 100 [1 2 3 4] <nil>
}

func ExampleJSONLWriter() {
	w := trainer.NewJSONLWriter(os.Stdout)
	val := 2.25
	w.Emit(trainer.StepEvent{Step: 50, Tokens: 12800, FLOPs: 3.2e11, LR: 1e-3, Loss: 2.5, ValLoss: &val, Layers: 1, WallS: 2, TokensPerS: 6400})
	w.Emit(trainer.SummaryEvent{Steps: 50, Tokens: 12800, FLOPs: 3.2e11, FixedFLOPs: 3.2e11, FinalTrainLoss: 2.5, FinalValLoss: &val,
		WallS: 2, TokensPerS: 6400, LayersStart: 1, LayersEnd: 1, Kernel: "avx2", Workers: 2})
	// Output:
	// {"event":"step","step":50,"tokens":12800,"flops":320000000000,"lr":0.001,"loss":2.5,"val_loss":2.25,"layers":1,"wall_s":2,"tokens_per_s":6400}
	// {"event":"summary","steps":50,"tokens":12800,"flops":320000000000,"fixed_flops":320000000000,"flops_saved_frac":0,"final_train_loss":2.5,"final_val_loss":2.25,"wall_s":2,"tokens_per_s":6400,"layers_start":1,"layers_end":1,"grow_step":null,"kernel":"avx2","workers":2}
}

// A progressive run: one block trained for 8 steps, grown to two, trained
// on to 10 steps; then a checkpoint loaded back and sampled.
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "sprout-example")
	defer os.RemoveAll(dir)
	cfg := trainer.Config{
		Model:   nn.Config{Ctx: 32, Dim: 32, Heads: 2, Layers: 2},
		Batch:   4,
		Steps:   10,
		Grow:    &grow.Plan{From: 1, AtStep: 8, Strategy: grow.Copy},
		Out:     filepath.Join(dir, "run"),
		Workers: 2,
	}
	res, err := trainer.Run(context.Background(), cfg, nil) // the embedded corpus
	if err != nil {
		fmt.Println(err)
		return
	}
	s := res.Summary
	fmt.Printf("%d steps, %d -> %d blocks at step %d, %.0f%% of the fixed-depth FLOPs saved\n",
		s.Steps, s.LayersStart, s.LayersEnd, *s.GrowStep, 100*s.SavedFrac())

	m, man, err := trainer.LoadModel(res.Checkpoint)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := trainer.Generate(m, trainer.EncodeBytes([]byte("the ")), trainer.SampleOptions{Tokens: 20, Temperature: 0.8})
	fmt.Println(man.Step, len(m.Blocks), len(out))
	// Output:
	// 10 steps, 1 -> 2 blocks at step 8, 31% of the fixed-depth FLOPs saved
	// 10 2 20
}
