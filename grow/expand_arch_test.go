package grow

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sproutml/sprout/nn"
)

// archConfigs are small llama and moe configs (GQA, untied and tied heads,
// shared experts, bias balancing) at depth `layers`.
func archConfigs(layers int) []nn.Config {
	return []nn.Config{
		{Arch: nn.ArchLlama, Vocab: 32, Ctx: 8, Dim: 16, Heads: 4, KVHeads: 2, FFNHidden: 24, Layers: layers},
		{Arch: nn.ArchLlama, Vocab: 32, Ctx: 8, Dim: 16, Heads: 2, TiedHead: true, Layers: layers},
		{Arch: nn.ArchMoE, Vocab: 32, Ctx: 8, Dim: 16, Heads: 4, KVHeads: 1, FFNHidden: 12, Experts: 4, TopK: 2, SharedExperts: 1, Layers: layers},
		{Arch: nn.ArchMoE, Vocab: 32, Ctx: 8, Dim: 16, Heads: 2, FFNHidden: 12, Experts: 3, TopK: 1, Gate: nn.GateSigmoid, Balance: nn.BalanceBias, Layers: layers},
	}
}

// trainedArch is trained() for any config: weights and balancing biases
// perturbed away from their init, and one AdamW step taken.
func trainedArch(t *testing.T, cfg nn.Config) (*nn.Model, nn.Optimizer) {
	t.Helper()
	m, err := nn.NewModel(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range m.Params() {
		for i := range p.Data {
			p.Data[i] += float32(rng.NormFloat64() * 0.05)
			p.Grad[i] = float32(rng.NormFloat64())
		}
	}
	opt := nn.NewAdamW(nn.AdamWConfig{})
	opt.Step(m.Params(), 1e-3)
	return m, opt
}

func withLayers(c nn.Config, l int) nn.Config {
	c.Layers = l
	return c
}

// Growth from 0, 1 and 2 blocks with every strategy, for llama and moe: the
// target depth, the parameter count of the formula, unique names, and a model
// that trains (forward and backward) at its new depth.
func TestExpandArchShapesAndCounts(t *testing.T) {
	for ci := range archConfigs(0) {
		for _, from := range []int{0, 1, 2} {
			for _, s := range Strategies {
				if from == 0 && s.copies() {
					continue
				}
				cfg := archConfigs(from)[ci]
				m, opt := trainedArch(t, cfg)
				const to = 5
				res, err := Expand(m, opt, to, s, CopySource, 3)
				if err != nil {
					t.Fatalf("%s %d->%d %s: %v", cfg.Arch, from, to, s, err)
				}
				if len(m.Blocks) != to || m.Layers != to || res.To != to {
					t.Fatalf("%s %d->%d %s: %d blocks", cfg.Arch, from, to, s, len(m.Blocks))
				}
				if got, want := m.NumParams(), nn.ParamCount(withLayers(cfg, to)); got != want {
					t.Errorf("%s %d->%d %s: %d parameters, formula %d", cfg.Arch, from, to, s, got, want)
				}
				seen := map[string]bool{}
				for _, p := range m.Params() {
					if seen[p.Name] {
						t.Fatalf("%s %d->%d %s: duplicate %s", cfg.Arch, from, to, s, p.Name)
					}
					seen[p.Name] = true
				}
				if !seen["blocks.4.attn.o.weight"] {
					t.Errorf("%s %d->%d %s: no blocks.4.attn.o.weight", cfg.Arch, from, to, s)
				}
				tok := make([]int32, 16)
				for i := range tok {
					tok[i] = int32(i*5) % 32
				}
				tape := nn.NewTape(m)
				l, err := m.Forward(tape, tok, tok, 2, 8)
				if err != nil || math.IsNaN(float64(l)) || tape.Backward() != nil {
					t.Fatalf("%s %d->%d %s: forward after growth: %v %v", cfg.Arch, from, to, s, l, err)
				}
			}
		}
	}
}

// Copied blocks equal their source bit for bit, a moe block's experts,
// router and balancing bias included, with their own memory; copied
// optimizer state (CopySource) reaches every expert.
func TestExpandArchCopiesAreExact(t *testing.T) {
	for _, cfg := range archConfigs(2) {
		for _, s := range []Strategy{Copy, CopyInterleave, CopyLast} {
			m, opt := trainedArch(t, cfg)
			old := slices.Clone(m.Blocks)
			want := make([][][]float32, len(old))
			for i, b := range old {
				for _, p := range b.Params() {
					want[i] = append(want[i], slices.Clone(p.Data))
				}
			}
			res, err := Expand(m, opt, 5, s, CopySource, 1)
			if err != nil {
				t.Fatal(err)
			}
			for j, b := range m.Blocks {
				src := res.Source[j]
				ps := b.Params()
				if len(ps) != len(want[src]) {
					t.Fatalf("%s %s: block %d has %d parameters, source %d", cfg.Arch, s, j, len(ps), len(want[src]))
				}
				for q, p := range ps {
					if !slices.Equal(bits(p.Data), bits(want[src][q])) {
						t.Errorf("%s %s: block %d %s differs from source %d", cfg.Arch, s, j, p.Name, src)
					}
					if p.Kind == nn.Buffer {
						if opt.State(p) != nil {
							t.Errorf("%s %s: buffer %s has optimizer state", cfg.Arch, s, p.Name)
						}
						continue
					}
					if !equalState(opt.State(p), opt.State(old[src].Params()[q])) {
						t.Errorf("%s %s: block %d %s optimizer state differs from its source's", cfg.Arch, s, j, p.Name)
					}
				}
				if !res.Original[j] {
					for q, p := range ps {
						if &p.Data[0] == &old[src].Params()[q].Data[0] {
							t.Fatalf("%s %s: block %d %s shares memory with its source", cfg.Arch, s, j, p.Name)
						}
					}
				}
			}
			if cfg.Arch == nn.ArchMoE {
				b := m.Blocks[4]
				if len(b.Experts) != cfg.Experts || b.Router == nil || b.Balance == nil {
					t.Fatalf("%s: copied moe block lacks experts or router", s)
				}
				if slices.Equal(bits(b.Balance.Data), bits(make([]float32, cfg.Experts))) {
					t.Fatalf("%s: copied balancing bias is zero (the source's was perturbed)", s)
				}
			}
		}
	}
}

// Zero-output growth keeps the function for llama and moe.
func TestExpandArchZeroPreservesFunction(t *testing.T) {
	for _, from := range []int{0, 1} {
		for _, cfg := range archConfigs(from) {
			m, _ := trainedArch(t, cfg)
			tok := make([]int32, 16)
			for i := range tok {
				tok[i] = int32(i*7) % 32
			}
			before, _ := m.Logits(tok, 2, 8)
			before = slices.Clone(before)
			if _, err := Expand(m, nil, 4, Zero, FreshNew, 5); err != nil {
				t.Fatal(err)
			}
			after, _ := m.Logits(tok, 2, 8)
			for i := range before {
				if d := math.Abs(float64(before[i] - after[i])); d > 1e-5 {
					t.Fatalf("%s from %d: logit %d changed by %g", cfg.Arch, from, i, d)
				}
			}
		}
	}
}
