package nn

import (
	"fmt"
	"math/rand/v2"
	"sync"
)

// Model is a language model of any arch (Config.Arch): a config, named
// parameters, and the blocks as a slice (replace it with SetBlocks). The
// forward pass of each arch reads top to bottom in its own file: gpt2.go,
// llama.go (llama and moe), moe.go (the routed MLP).
type Model struct {
	Config
	WTE    *Param // token embedding [vocab, d]: wte.weight (gpt2) or tok_emb.weight; the head when tied
	WPE    *Param // wpe.weight [ctx, d] (gpt2 only: learned positions)
	Blocks []*Block
	LNFW   *Param // final norm gain [d]: lnf.weight (gpt2) or norm.weight
	LNFB   *Param // lnf.bias [d] (gpt2 only)
	Head   *Param // head.weight [vocab, d] (llama and moe with an untied head, else nil)

	rope RopeTable // llama and moe: cos/sin of every position and frequency

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
	m := &Model{Config: cfg}
	var blocks []*Block
	switch cfg.Arch {
	case ArchLlama, ArchMoE:
		blocks = m.initLlama(rng)
	default:
		blocks = m.initGPT2(rng)
	}
	m.setup()
	if err := m.SetBlocks(blocks); err != nil {
		return nil, err
	}
	return m, nil
}

// setup derives what the model computes from its config (the RoPE table).
func (m *Model) setup() {
	if m.Arch == ArchLlama || m.Arch == ArchMoE {
		m.rope = newRopeTable(m.Ctx, m.HeadDim(), m.RopeBase)
	}
}

// topParams returns the parameters outside the blocks: those before the
// blocks and those after them, in Params() order.
func (m *Model) topParams() (before, after []*Param) {
	if m.Arch == ArchGPT2 {
		return []*Param{m.WTE, m.WPE}, []*Param{m.LNFW, m.LNFB}
	}
	after = []*Param{m.LNFW}
	if m.Head != nil {
		after = append(after, m.Head)
	}
	return []*Param{m.WTE}, after
}

// SetBlocks replaces the model's blocks (growth inserts, copies or removes
// them), renames their parameters to their new indices and sets Layers. Tapes
// bound to the model rebind (with zeroed gradients) on their next Forward.
// Every block must be of the model's arch and shapes.
func (m *Model) SetBlocks(blocks []*Block) error {
	seen := make(map[*Param]bool)
	var want [][]int
	if len(blocks) > 0 {
		want = blockShapes(m.Config)
	}
	for i, b := range blocks {
		if b == nil {
			return fmt.Errorf("nn: SetBlocks: block %d is nil", i)
		}
		if err := b.checkFits(m.Config, want); err != nil {
			return fmt.Errorf("nn: SetBlocks: block %d %w", i, err)
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
	before, after := m.topParams()
	m.params = m.params[:0:0]
	m.params = append(m.params, before...)
	for _, b := range m.Blocks {
		m.params = append(m.params, b.Params()...)
	}
	m.params = append(m.params, after...)
	m.byName = make(map[string]*Param, len(m.params))
	for _, p := range m.params {
		m.byName[p.Name] = p
	}
	m.gen++
	return nil
}

// Params returns every parameter in a fixed order: the embeddings, the blocks
// in order (each as Block.Params), then the final norm (and the untied head).
// The slice is shared: do not modify it.
func (m *Model) Params() []*Param { return m.params }

// Param returns the parameter with the given name, or nil.
func (m *Model) Param(name string) *Param { return m.byName[name] }

// NumParams returns the number of trained parameters (Buffers not counted),
// equal to ParamCount(m.Config).
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		if p.Kind != Buffer {
			n += p.Len()
		}
	}
	return n
}

// Clone returns a deep copy of the model.
func (m *Model) Clone() *Model {
	c := &Model{Config: m.Config}
	for _, f := range []struct{ dst, src **Param }{{&c.WTE, &m.WTE}, {&c.WPE, &m.WPE}, {&c.LNFW, &m.LNFW}, {&c.LNFB, &m.LNFB}, {&c.Head, &m.Head}} {
		if *f.src != nil {
			*f.dst = (*f.src).Clone()
		}
	}
	c.setup()
	blocks := make([]*Block, len(m.Blocks))
	for i, b := range m.Blocks {
		blocks[i] = b.Clone()
	}
	if err := c.SetBlocks(blocks); err != nil {
		panic(err) // cloned blocks always fit
	}
	return c
}

// NewBlock returns a fresh block for this model's arch and width, initialised
// as for a model of `layers` blocks (the target depth when growing).
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
	t.beginMoE(m)
	if m.Arch == ArchGPT2 {
		return m.gpt2Logits(t, tokens, B, T)
	}
	return m.llamaLogits(t, tokens, B, T)
}

// Forward runs the model on a B x T batch (row-major tokens and next-token
// targets; a negative target is ignored) and returns the mean cross-entropy.
// On a recording tape, Backward then accumulates the gradients (for a moe
// model with balance "aux", those of the auxiliary loss too: see
// Tape.AuxLoss). The tape is reset first and rebinds itself if the model's
// blocks changed.
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
