package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/sproutml/sprout/nn"
)

// Train a zero-block GPT on a repeating sequence, then grow it to two blocks
// with function-preserving (zero-output) blocks and keep training.
func Example() {
	cfg := nn.Config{Vocab: 8, Ctx: 8, Dim: 16, Heads: 2, Layers: 0}
	m, err := nn.NewModel(cfg, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	seq := []int32{0, 1, 2, 3, 4, 5, 6, 7, 0}
	tokens, targets := seq[:8], seq[1:]

	tape := nn.NewTape(m)
	opt := nn.NewAdamW(nn.AdamWConfig{})
	step := func() float32 {
		tape.ZeroGrad()
		loss, err := m.Forward(tape, tokens, targets, 1, 8)
		if err != nil {
			panic(err)
		}
		tape.Backward()
		nn.ReduceGrads(m.Params(), 1, tape)
		nn.ClipGradNorm(m.Params(), 1)
		opt.Step(m.Params(), 0.05)
		return loss
	}
	first := step()
	for i := 0; i < 10; i++ {
		step()
	}
	before, _ := m.Loss(tokens, targets, 1, 8)

	// Grow: two identity blocks keep the function exactly.
	rng := rand.New(rand.NewPCG(2, 2))
	var blocks []*nn.Block
	for i := 0; i < 2; i++ {
		b, err := m.NewBlock(rng, 2, nn.InitZeroOutput) // initialised for a 2-block model
		if err != nil {
			panic(err)
		}
		blocks = append(blocks, b)
	}
	m.SetBlocks(blocks)
	after, _ := m.Loss(tokens, targets, 1, 8)
	for i := 0; i < 20; i++ {
		step()
	}
	final, _ := m.Loss(tokens, targets, 1, 8)

	fmt.Printf("start %.1f (ln 8 = 2.1)\n", first)
	fmt.Println("learned:", before < 0.8*first)
	fmt.Println("growth kept the loss:", before == after, m.Layers, "blocks,", m.NumParams() == nn.ParamCount(m.Config))
	fmt.Println("still learning:", final < before)
	fmt.Println(m.Params()[2].Name)
	// Output:
	// start 2.1 (ln 8 = 2.1)
	// learned: true
	// growth kept the loss: true 2 blocks, true
	// still learning: true
	// blocks.0.ln1.weight
}

// A mixture-of-experts model (LLaMA attention with grouped-query heads, 4
// SwiGLU experts, top-2 sigmoid gates, DeepSeek-V3's bias balancing): its
// parameters in all and per token, and a training loop that moves the
// balancing biases from each step's expert counts.
func Example_moe() {
	cfg := nn.Config{Arch: nn.ArchMoE, Vocab: 8, Ctx: 8, Dim: 16, Heads: 4, KVHeads: 2, Layers: 1,
		Experts: 4, TopK: 2, FFNHidden: 16, Gate: nn.GateSigmoid, Balance: nn.BalanceBias}
	m, err := nn.NewModel(cfg, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("parameters:", nn.ParamCount(cfg), "active per token:", nn.ActiveParamCount(cfg))
	seq := []int32{0, 1, 2, 3, 4, 5, 6, 7, 0}
	tape := nn.NewTape(m)
	opt := nn.NewAdamW(nn.AdamWConfig{})
	var first, loss float32
	for i := 0; i < 30; i++ {
		tape.ZeroGrad()
		loss, _ = m.Forward(tape, seq[:8], seq[1:], 1, 8)
		if i == 0 {
			first = loss
		}
		tape.Backward()
		nn.ReduceGrads(m.Params(), 1, tape)
		opt.Step(m.Params(), 0.02)
		m.UpdateBalanceBias(tape.ExpertLoad()) // one tape: its load is the step's
	}
	load := tape.ExpertLoad()
	fmt.Println("token-slots routed:", load[0]+load[1]+load[2]+load[3], "(8 tokens x top-2)")
	fmt.Println("learned:", loss < first/2)
	fmt.Println(m.Blocks[0].Experts[3].Down.Name)
	// Output:
	// parameters: 4208 active per token: 2672
	// token-slots routed: 16 (8 tokens x top-2)
	// learned: true
	// blocks.0.mlp.experts.3.down.weight
}
