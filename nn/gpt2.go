package nn

import (
	"fmt"
	"math/rand/v2"
	"sync"
)

// A GPT-2 model, read top to bottom:
//
//	x      = wte[tokens] + wpe[positions]
//	for each block:
//	  x    = x + proj(attention(qkv(ln1(x))))
//	  x    = x + mlp.proj(gelu(mlp.fc(ln2(x))))
//	logits = lnf(x) @ wte^T        (head tied to the token embedding)
//	loss   = mean cross-entropy(logits, targets)
//
// Zero blocks is a valid model (embeddings -> final norm -> head).

// Block is one pre-LN transformer block. Weights are stored [in, out] (y = x W),
// the layout of GPT-2's checkpoints.
type Block struct {
	LN1W, LN1B *Param // ln1.weight, ln1.bias: [d]
	QKVW, QKVB *Param // attn.qkv: [d, 3d], [3d]; columns are [q | k | v], heads contiguous
	ProjW      *Param // attn.proj.weight [d, d]
	ProjB      *Param // attn.proj.bias [d]
	LN2W, LN2B *Param // ln2: [d]
	FCW, FCB   *Param // mlp.fc: [d, 4d], [4d]
	FC2W, FC2B *Param // mlp.proj: [4d, d], [d]
}

// blockSuffixes are the parameter names inside a block, in Params() order.
var blockSuffixes = [...]string{
	"ln1.weight", "ln1.bias",
	"attn.qkv.weight", "attn.qkv.bias",
	"attn.proj.weight", "attn.proj.bias",
	"ln2.weight", "ln2.bias",
	"mlp.fc.weight", "mlp.fc.bias",
	"mlp.proj.weight", "mlp.proj.bias",
}

// Params returns the block's parameters in a fixed order.
func (b *Block) Params() []*Param {
	return []*Param{b.LN1W, b.LN1B, b.QKVW, b.QKVB, b.ProjW, b.ProjB, b.LN2W, b.LN2B, b.FCW, b.FCB, b.FC2W, b.FC2B}
}

// Clone returns a deep copy of the block (same names until SetBlocks renames).
func (b *Block) Clone() *Block {
	ps := b.Params()
	c := make([]*Param, len(ps))
	for i, p := range ps {
		c[i] = p.Clone()
	}
	return blockFrom(c)
}

func blockFrom(p []*Param) *Block {
	return &Block{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11]}
}

// rename gives the block's parameters the names of block i.
func (b *Block) rename(i int) {
	for j, p := range b.Params() {
		p.Name = fmt.Sprintf("blocks.%d.%s", i, blockSuffixes[j])
	}
}

// dim returns the block's width.
func (b *Block) dim() int { return b.LN1W.Len() }

// BlockInit selects how NewBlock initialises a block.
type BlockInit int

const (
	// InitRandom is GPT-2's init (or muP's, per config) for a model of
	// cfg.Layers blocks: N(0, std) matrices, residual output projections
	// scaled by 1/sqrt(2*Layers), zero biases, unit norm gains.
	InitRandom BlockInit = iota
	// InitZeroOutput is InitRandom with the attention and MLP output
	// projections (weights and biases) zero: the block computes the identity,
	// so inserting it preserves the model's function.
	InitZeroOutput
)

// NewBlock returns a fresh block for a model with config cfg (cfg.Layers is the
// depth the block is initialised for), drawing from rng.
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

func newBlock(cfg Config, rng *rand.Rand, init BlockInit) *Block {
	d := cfg.Dim
	ps := make([]*Param, len(blockSuffixes))
	shapes := [][]int{{d}, {d}, {d, 3 * d}, {3 * d}, {d, d}, {d}, {d}, {d}, {d, 4 * d}, {4 * d}, {4 * d, d}, {d}}
	for i, s := range blockSuffixes {
		kind := Vector
		if len(shapes[i]) == 2 {
			kind = Matrix
		}
		ps[i] = newParam(s, kind, shapes[i]...)
	}
	b := blockFrom(ps)
	fill(b.LN1W.Data, 1)
	fill(b.LN2W.Data, 1)
	hidden, resid, lr := cfg.hiddenStd(), cfg.residualStd(), cfg.hiddenLRMult()
	randn(rng, b.QKVW.Data, hidden)
	randn(rng, b.ProjW.Data, resid)
	randn(rng, b.FCW.Data, hidden)
	randn(rng, b.FC2W.Data, resid)
	if init == InitZeroOutput {
		clear(b.ProjW.Data)
		clear(b.FC2W.Data)
	}
	for _, p := range []*Param{b.QKVW, b.ProjW, b.FCW, b.FC2W} {
		p.LRMult = lr
	}
	return b
}

func fill(x []float32, v float32) {
	for i := range x {
		x[i] = v
	}
}

func randn(rng *rand.Rand, x []float32, std float32) {
	for i := range x {
		x[i] = float32(rng.NormFloat64()) * std
	}
}

// Model is a GPT-2 language model: a config, named parameters, and the blocks
// as a slice (replace it with SetBlocks).
type Model struct {
	Config
	WTE    *Param // wte.weight [vocab, d]; also the output head
	WPE    *Param // wpe.weight [ctx, d]
	Blocks []*Block
	LNFW   *Param // lnf.weight [d]
	LNFB   *Param // lnf.bias [d]

	params []*Param
	byName map[string]*Param
	gen    uint64 // bumped when the parameter list changes; tapes rebind

	evalTapes sync.Pool
}

// NewModel validates cfg and returns a model initialised from seed.
func NewModel(cfg Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	d := cfg.Dim
	m := &Model{Config: cfg}
	m.WTE = newParam("wte.weight", Embedding, cfg.Vocab, d)
	m.WPE = newParam("wpe.weight", Embedding, cfg.Ctx, d)
	randn(rng, m.WTE.Data, cfg.InitStd)
	randn(rng, m.WPE.Data, cfg.InitStd)
	blocks := make([]*Block, cfg.Layers)
	for i := range blocks {
		blocks[i] = newBlock(cfg, rng, InitRandom)
	}
	m.LNFW = newParam("lnf.weight", Vector, d)
	m.LNFB = newParam("lnf.bias", Vector, d)
	fill(m.LNFW.Data, 1)
	if err := m.SetBlocks(blocks); err != nil {
		return nil, err
	}
	return m, nil
}

// SetBlocks replaces the model's blocks (growth inserts, copies or removes
// them), renames their parameters to their new indices and sets Layers. Tapes
// bound to the model rebind (with zeroed gradients) on their next Forward.
func (m *Model) SetBlocks(blocks []*Block) error {
	seen := make(map[*Param]bool)
	for i, b := range blocks {
		if b == nil {
			return fmt.Errorf("nn: SetBlocks: block %d is nil", i)
		}
		if b.dim() != m.Dim || b.QKVW.Rows() != m.Dim || b.QKVW.Cols() != 3*m.Dim || b.FCW.Cols() != 4*m.Dim {
			return fmt.Errorf("nn: SetBlocks: block %d has width %d, model has %d", i, b.dim(), m.Dim)
		}
		for _, p := range b.Params() {
			if seen[p] {
				return fmt.Errorf("nn: SetBlocks: block %d shares parameter %s with another block (Clone it)", i, p.Name)
			}
			seen[p] = true
		}
	}
	m.Blocks = append([]*Block(nil), blocks...)
	m.Layers = len(blocks)
	for i, b := range m.Blocks {
		b.rename(i)
	}
	m.params = m.params[:0:0]
	m.params = append(m.params, m.WTE, m.WPE)
	for _, b := range m.Blocks {
		m.params = append(m.params, b.Params()...)
	}
	m.params = append(m.params, m.LNFW, m.LNFB)
	m.byName = make(map[string]*Param, len(m.params))
	for _, p := range m.params {
		m.byName[p.Name] = p
	}
	m.gen++
	return nil
}

// Params returns every parameter in a fixed order: wte, wpe, the blocks in
// order (each as Block.Params), lnf.weight, lnf.bias. The slice is shared:
// do not modify it.
func (m *Model) Params() []*Param { return m.params }

// Param returns the parameter with the given name, or nil.
func (m *Model) Param(name string) *Param { return m.byName[name] }

// NumParams returns the number of parameters (equal to ParamCount(m.Config)).
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.Len()
	}
	return n
}

// Clone returns a deep copy of the model.
func (m *Model) Clone() *Model {
	c := &Model{Config: m.Config, WTE: m.WTE.Clone(), WPE: m.WPE.Clone(), LNFW: m.LNFW.Clone(), LNFB: m.LNFB.Clone()}
	blocks := make([]*Block, len(m.Blocks))
	for i, b := range m.Blocks {
		blocks[i] = b.Clone()
	}
	if err := c.SetBlocks(blocks); err != nil {
		panic(err) // cloned blocks always fit
	}
	return c
}

// NewBlock returns a fresh block for this model's width, initialised as for a
// model of `layers` blocks (the target depth when growing).
func (m *Model) NewBlock(rng *rand.Rand, layers int, init BlockInit) (*Block, error) {
	cfg := m.Config
	cfg.Layers = layers
	return NewBlock(cfg, rng, init)
}

// checkBatch validates a batch before any work is done.
func (m *Model) checkBatch(tokens, targets []int32, B, T int) error {
	if B < 1 || T < 1 {
		return fmt.Errorf("nn: batch %dx%d: B and T must be >= 1", B, T)
	}
	if T > m.Ctx {
		return fmt.Errorf("nn: sequence length %d exceeds the context %d", T, m.Ctx)
	}
	if len(tokens) != B*T {
		return fmt.Errorf("nn: %d tokens for a %dx%d batch", len(tokens), B, T)
	}
	for i, v := range tokens {
		if v < 0 || int(v) >= m.Vocab {
			return fmt.Errorf("nn: token %d at %d outside the vocabulary [0,%d)", v, i, m.Vocab)
		}
	}
	if targets != nil {
		if len(targets) != B*T {
			return fmt.Errorf("nn: %d targets for a %dx%d batch", len(targets), B, T)
		}
		for i, v := range targets {
			if int(v) >= m.Vocab {
				return fmt.Errorf("nn: target %d at %d outside the vocabulary [0,%d)", v, i, m.Vocab)
			}
		}
	}
	return nil
}

// logits records the network up to the head on t.
func (m *Model) logits(t *Tape, tokens []int32, B, T int) V {
	pos := t.ints.get(B * T)
	for i := range pos {
		pos[i] = int32(i % T)
	}
	wte := t.Param(m.WTE)
	x := t.Add(t.Embedding(wte, tokens), t.Embedding(t.Param(m.WPE), pos))
	eps, scale := m.NormEps, m.AttnScale()
	for _, b := range m.Blocks {
		h := t.LayerNorm(x, t.Param(b.LN1W), t.Param(b.LN1B), eps)
		qkv := t.Linear(h, t.Param(b.QKVW), t.Param(b.QKVB), -1)
		a := t.Attention(qkv, B, T, m.Heads, scale)
		x = t.Linear(a, t.Param(b.ProjW), t.Param(b.ProjB), x)
		h = t.LayerNorm(x, t.Param(b.LN2W), t.Param(b.LN2B), eps)
		h = t.GELU(t.Linear(h, t.Param(b.FCW), t.Param(b.FCB), -1))
		x = t.Linear(h, t.Param(b.FC2W), t.Param(b.FC2B), x)
	}
	x = t.LayerNorm(x, t.Param(m.LNFW), t.Param(m.LNFB), eps)
	return t.MatMul(x, wte, false, true, m.LogitScale())
}

// Forward runs the model on a B x T batch (row-major tokens and next-token
// targets; a negative target is ignored) and returns the mean cross-entropy.
// On a recording tape, Backward then accumulates the gradients. The tape is
// reset first and rebinds itself if the model's blocks changed.
func (m *Model) Forward(t *Tape, tokens, targets []int32, B, T int) (float32, error) {
	if targets == nil {
		return 0, fmt.Errorf("nn: Forward needs targets (use ForwardLogits for logits only)")
	}
	if err := m.checkBatch(tokens, targets, B, T); err != nil {
		return 0, err
	}
	t.sync(m)
	t.Reset()
	loss := t.CrossEntropy(m.logits(t, tokens, B, T), targets)
	t.loss = loss
	return t.vals[loss].data[0], nil
}

// ForwardLogits runs the model and returns its (B*T) x Vocab logits, owned by
// the tape (valid until its next forward). Use an eval tape.
func (m *Model) ForwardLogits(t *Tape, tokens []int32, B, T int) ([]float32, error) {
	if err := m.checkBatch(tokens, nil, B, T); err != nil {
		return nil, err
	}
	t.sync(m)
	t.Reset()
	return t.vals[m.logits(t, tokens, B, T)].data, nil
}

func (m *Model) evalTape() *Tape {
	if t, ok := m.evalTapes.Get().(*Tape); ok {
		return t
	}
	return NewEvalTape(m)
}

// Loss returns the mean cross-entropy of a batch without recording anything
// (evaluation). Safe for concurrent use.
func (m *Model) Loss(tokens, targets []int32, B, T int) (float32, error) {
	t := m.evalTape()
	defer m.evalTapes.Put(t)
	return m.Forward(t, tokens, targets, B, T)
}

// Logits returns a fresh copy of the (B*T) x Vocab logits of a batch.
func (m *Model) Logits(tokens []int32, B, T int) ([]float32, error) {
	t := m.evalTape()
	defer m.evalTapes.Put(t)
	l, err := m.ForwardLogits(t, tokens, B, T)
	if err != nil {
		return nil, err
	}
	return append([]float32(nil), l...), nil
}
