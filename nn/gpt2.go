package nn

import "math/rand/v2"

// A GPT-2 model, read top to bottom:
//
//	x      = wte[tokens] + wpe[positions]
//	for each block:
//	  x    = x + proj(attention(qkv(ln1(x))))
//	  x    = x + mlp.proj(gelu(mlp.fc(ln2(x))))
//	logits = lnf(x) @ wte^T        (head tied to the token embedding)
//	loss   = mean cross-entropy(logits, targets)
//
// Zero blocks is a valid model (embeddings -> final norm -> head). Weights
// are stored [in, out] (y = x W), the layout of GPT-2's checkpoints.

// initGPT2 creates the embeddings and final norm of a GPT-2 model and returns
// its blocks, drawing from rng in a fixed order.
func (m *Model) initGPT2(rng *rand.Rand) []*Block {
	cfg, d := m.Config, m.Dim
	m.WTE = newParam("wte.weight", Embedding, cfg.Vocab, d)
	m.WPE = newParam("wpe.weight", Embedding, cfg.Ctx, d)
	randn(rng, m.WTE.Data, cfg.InitStd)
	randn(rng, m.WPE.Data, cfg.InitStd)
	blocks := make([]*Block, cfg.Layers)
	for i := range blocks {
		blocks[i] = newGPT2Block(cfg, rng, InitRandom)
	}
	m.LNFW = newParam("lnf.weight", Vector, d)
	m.LNFB = newParam("lnf.bias", Vector, d)
	fill(m.LNFW.Data, 1)
	return blocks
}

// newGPT2Block returns a pre-LN GPT-2 block (one of pre-LN attention and a 4x
// GELU MLP, with biases).
func newGPT2Block(cfg Config, rng *rand.Rand, init BlockInit) *Block {
	d := cfg.Dim
	b := &Block{Arch: ArchGPT2}
	shapes := [][]int{{d}, {d}, {d, 3 * d}, {3 * d}, {d, d}, {d}, {d}, {d}, {d, 4 * d}, {4 * d}, {4 * d, d}, {d}}
	for i, s := range b.slots() {
		kind := Vector
		if len(shapes[i]) == 2 {
			kind = Matrix
		}
		*s.p = newParam(s.name, kind, shapes[i]...)
	}
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

// gpt2Logits records a GPT-2 forward up to the head's logits.
func (m *Model) gpt2Logits(t *Tape, tokens []int32, B, T int) V {
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
