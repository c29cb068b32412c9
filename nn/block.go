package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Block is one transformer block of any arch. Arch says which group of
// fields it uses; the others are nil. Weights are stored [in, out] (y = x W).
// Growth handles blocks only through Params, Clone, NewBlock and
// Model.SetBlocks, so it works the same for every arch.
type Block struct {
	Arch string // ArchGPT2, ArchLlama or ArchMoE

	// gpt2 (gpt2.go)
	LN1W, LN1B *Param // ln1.weight, ln1.bias: [d]
	QKVW, QKVB *Param // attn.qkv: [d, 3d], [3d]; columns are [q | k | v], heads contiguous
	ProjW      *Param // attn.proj.weight [d, d]
	ProjB      *Param // attn.proj.bias [d]
	LN2W, LN2B *Param // ln2: [d]
	FCW, FCB   *Param // mlp.fc: [d, 4d], [4d]
	FC2W, FC2B *Param // mlp.proj: [4d, d], [d]

	// llama and moe attention (llama.go)
	AttnNorm *Param // attn_norm.weight [d]
	Q, K, V  *Param // attn.q.weight [d, H*hd], attn.k.weight and attn.v.weight [d, KVH*hd]
	O        *Param // attn.o.weight [H*hd, d]
	MLPNorm  *Param // mlp_norm.weight [d]

	// llama MLP: mlp.gate.weight, mlp.up.weight [d, F], mlp.down.weight [F, d]
	FFN

	// moe MLP (moe.go)
	Router  *Param // mlp.router.weight [d, E]
	Balance *Param // mlp.router.balance_bias [E], a Buffer: selection bias (balance "bias")
	Experts []FFN  // mlp.experts.I.{gate,up,down}.weight
	Shared  []FFN  // mlp.shared.S.{gate,up,down}.weight
}

// FFN is one SwiGLU MLP: down(silu(x gate) * (x up)).
type FFN struct {
	Gate, Up *Param // [d, F]
	Down     *Param // [F, d]
}

// blockSuffixes are the parameter names inside a gpt2 block, in Params() order.
var blockSuffixes = [...]string{
	"ln1.weight", "ln1.bias",
	"attn.qkv.weight", "attn.qkv.bias",
	"attn.proj.weight", "attn.proj.bias",
	"ln2.weight", "ln2.bias",
	"mlp.fc.weight", "mlp.fc.bias",
	"mlp.proj.weight", "mlp.proj.bias",
}

// slot is a parameter field of a block and its name inside the block.
type slot struct {
	name string
	p    **Param
}

// slots lists the block's parameter fields in Params() order.
func (b *Block) slots() []slot {
	if b.Arch == ArchGPT2 {
		ps := [...]**Param{&b.LN1W, &b.LN1B, &b.QKVW, &b.QKVB, &b.ProjW, &b.ProjB, &b.LN2W, &b.LN2B, &b.FCW, &b.FCB, &b.FC2W, &b.FC2B}
		s := make([]slot, len(ps))
		for i, p := range ps {
			s[i] = slot{blockSuffixes[i], p}
		}
		return s
	}
	s := []slot{
		{"attn_norm.weight", &b.AttnNorm},
		{"attn.q.weight", &b.Q}, {"attn.k.weight", &b.K}, {"attn.v.weight", &b.V}, {"attn.o.weight", &b.O},
		{"mlp_norm.weight", &b.MLPNorm},
	}
	ffn := func(prefix string, f *FFN) {
		s = append(s, slot{prefix + "gate.weight", &f.Gate}, slot{prefix + "up.weight", &f.Up}, slot{prefix + "down.weight", &f.Down})
	}
	if b.Arch == ArchLlama {
		ffn("mlp.", &b.FFN)
		return s
	}
	s = append(s, slot{"mlp.router.weight", &b.Router}, slot{"mlp.router.balance_bias", &b.Balance})
	for i := range b.Experts {
		ffn(fmt.Sprintf("mlp.experts.%d.", i), &b.Experts[i])
	}
	for i := range b.Shared {
		ffn(fmt.Sprintf("mlp.shared.%d.", i), &b.Shared[i])
	}
	return s
}

// Params returns the block's parameters in a fixed order (see the package
// documentation for the names).
func (b *Block) Params() []*Param {
	s := b.slots()
	ps := make([]*Param, len(s))
	for i, x := range s {
		ps[i] = *x.p
	}
	return ps
}

// Clone returns a deep copy of the block (same names until SetBlocks
// renames): a MoE block's copy has its own experts, router and balancing bias.
func (b *Block) Clone() *Block {
	c := *b
	c.Experts = slices.Clone(b.Experts)
	c.Shared = slices.Clone(b.Shared)
	for _, x := range c.slots() {
		*x.p = (*x.p).Clone()
	}
	return &c
}

// rename gives the block's parameters the names of block i.
func (b *Block) rename(i int) {
	for _, x := range b.slots() {
		(*x.p).Name = fmt.Sprintf("blocks.%d.%s", i, x.name)
	}
}

// BlockInit selects how NewBlock initialises a block.
type BlockInit int

const (
	// InitRandom is GPT-2's init (or muP's, per config) for a model of
	// cfg.Layers blocks: N(0, std) matrices, residual output projections
	// scaled by 1/sqrt(2*Layers), zero biases, unit norm gains. llama and
	// moe blocks follow the same rules (their residual outputs are attn.o
	// and every MLP's down).
	InitRandom BlockInit = iota
	// InitZeroOutput is InitRandom with the attention and MLP output
	// projections (weights and biases; every expert's down) zero: the block
	// computes the identity, so inserting it preserves the model's function.
	InitZeroOutput
)

// NewBlock returns a fresh block of cfg.Arch for a model with config cfg
// (cfg.Layers is the depth the block is initialised for), drawing from rng.
func NewBlock(cfg Config, rng *rand.Rand, init BlockInit) (*Block, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if init != InitRandom && init != InitZeroOutput {
		return nil, fmt.Errorf("nn: unknown block init %d", init)
	}
	if rng == nil {
		return nil, fmt.Errorf("nn: NewBlock needs a random source")
	}
	cfg = cfg.withDefaults()
	return newBlock(cfg, rng, init), nil
}

// newBlock builds a block of cfg.Arch; a nil rng leaves the matrices zero
// (for shapes only).
func newBlock(cfg Config, rng *rand.Rand, init BlockInit) *Block {
	switch cfg.Arch {
	case ArchLlama, ArchMoE:
		return newLlamaBlock(cfg, rng, init)
	}
	return newGPT2Block(cfg, rng, init)
}

// blockShapes returns the shapes of a fresh block's parameters, in Params()
// order, so SetBlocks can check that a block fits the model.
func blockShapes(cfg Config) [][]int {
	ps := newBlock(cfg, nil, InitZeroOutput).Params() // nil: shapes only, no init
	s := make([][]int, len(ps))
	for i, p := range ps {
		s[i] = p.Shape
	}
	return s
}

// checkFits reports why b cannot be a block of a model with config cfg.
func (b *Block) checkFits(cfg Config, want [][]int) error {
	if b.Arch != cfg.Arch {
		return fmt.Errorf("is a %s block, the model is %s", b.Arch, cfg.Arch)
	}
	ps := b.Params()
	if len(ps) != len(want) {
		return fmt.Errorf("has %d parameters, the model's blocks have %d", len(ps), len(want))
	}
	for i, p := range ps {
		if p == nil {
			return fmt.Errorf("parameter %d is nil", i)
		}
		if !slices.Equal(p.Shape, want[i]) || p.Len() != shapeLen(want[i]) {
			return fmt.Errorf("%s has shape %v, the model wants %v (width %d)", p.Name, p.Shape, want[i], cfg.Dim)
		}
	}
	return nil
}

func shapeLen(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func fill(x []float32, v float32) {
	for i := range x {
		x[i] = v
	}
}

func randn(rng *rand.Rand, x []float32, std float32) {
	if rng == nil {
		return
	}
	for i := range x {
		x[i] = float32(rng.NormFloat64()) * std
	}
}
