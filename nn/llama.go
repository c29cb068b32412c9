package nn

import "math/rand/v2"

// A LLaMA-style model, read top to bottom:
//
//	x      = tok_emb[tokens]                   (no learned positions)
//	for each block:
//	  h    = rmsnorm(x) * attn_norm
//	  q    = rope(h Wq)    k = rope(h Wk)    v = h Wv
//	  x    = x + attention(q, k, v) Wo        (grouped-query: KVHeads k/v heads)
//	  h    = rmsnorm(x) * mlp_norm
//	  x    = x + (silu(h Wgate) * (h Wup)) Wdown          (llama)
//	  x    = x + shared experts(h) + routed experts(h)     (moe, see moe.go)
//	logits = (rmsnorm(x) * norm) head^T      (head: head.weight, or tok_emb if TiedHead)
//	loss   = mean cross-entropy(logits, targets)
//
// No biases anywhere. Zero blocks is a valid model. Weights are stored
// [in, out] (y = x W); q/k/v/o are separate matrices so that grouped-query
// attention's narrower k and v are plain tensors. RoPE (rope.go) rotates the
// halves of each head; the attention kernel is the GPT-2 one reading q, k and
// v from separate buffers (attention.go).

// initLlama creates the embedding, final norm and head of a llama or moe
// model and returns its blocks, drawing from rng in a fixed order.
func (m *Model) initLlama(rng *rand.Rand) []*Block {
	cfg, d := m.Config, m.Dim
	m.WTE = newParam("tok_emb.weight", Embedding, cfg.Vocab, d)
	randn(rng, m.WTE.Data, cfg.InitStd)
	blocks := make([]*Block, cfg.Layers)
	for i := range blocks {
		blocks[i] = newLlamaBlock(cfg, rng, InitRandom)
	}
	m.LNFW = newParam("norm.weight", Vector, d)
	fill(m.LNFW.Data, 1)
	if !cfg.TiedHead {
		m.Head = newParam("head.weight", Embedding, cfg.Vocab, d)
		randn(rng, m.Head.Data, cfg.InitStd)
	}
	return blocks
}

// newLlamaBlock returns a llama block, or a moe block when cfg.Arch is moe.
// Matrices are N(0, std) as in GPT-2 (muP-scaled per config); the residual
// outputs (attn.o and every MLP's down) are scaled by 1/sqrt(2*Layers).
func newLlamaBlock(cfg Config, rng *rand.Rand, init BlockInit) *Block {
	d, F := cfg.Dim, cfg.FFNHidden
	hidden, resid, lr := cfg.hiddenStd(), cfg.residualStd(), cfg.hiddenLRMult()
	if init == InitZeroOutput {
		resid = 0
	}
	matrix := func(std float32, rows, cols int) *Param {
		p := newParam("", Matrix, rows, cols)
		if std != 0 {
			randn(rng, p.Data, std)
		}
		p.LRMult = lr
		return p
	}
	gain := func() *Param {
		p := newParam("", Vector, d)
		fill(p.Data, 1)
		return p
	}
	ffn := func() FFN {
		return FFN{Gate: matrix(hidden, d, F), Up: matrix(hidden, d, F), Down: matrix(resid, F, d)}
	}
	b := &Block{Arch: cfg.Arch}
	b.AttnNorm = gain()
	b.Q = matrix(hidden, d, d)
	b.K = matrix(hidden, d, cfg.KVDim())
	b.V = matrix(hidden, d, cfg.KVDim())
	b.O = matrix(resid, d, d)
	b.MLPNorm = gain()
	if cfg.Arch == ArchLlama {
		b.FFN = ffn()
	} else {
		b.Router = matrix(hidden, d, cfg.Experts)
		b.Balance = newParam("", Buffer, cfg.Experts)
		b.Experts = make([]FFN, cfg.Experts)
		for i := range b.Experts {
			b.Experts[i] = ffn()
		}
		b.Shared = make([]FFN, cfg.SharedExperts)
		for i := range b.Shared {
			b.Shared[i] = ffn()
		}
	}
	for _, s := range b.slots() {
		(*s.p).Name = s.name
	}
	return b
}

// llamaLogits records a llama or moe forward up to the head's logits.
func (m *Model) llamaLogits(t *Tape, tokens []int32, B, T int) V {
	emb := t.Param(m.WTE)
	x := t.Embedding(emb, tokens)
	eps, scale := m.NormEps, m.AttnScale()
	for _, b := range m.Blocks {
		h := t.RMSNorm(x, t.Param(b.AttnNorm), eps)
		q := t.RoPE(t.Linear(h, t.Param(b.Q), -1, -1), T, &m.rope)
		k := t.RoPE(t.Linear(h, t.Param(b.K), -1, -1), T, &m.rope)
		v := t.Linear(h, t.Param(b.V), -1, -1)
		a := t.AttentionGQA(q, k, v, B, T, m.Heads, m.KVHeads, scale)
		x = t.Linear(a, t.Param(b.O), -1, x)
		h = t.RMSNorm(x, t.Param(b.MLPNorm), eps)
		if b.Arch == ArchMoE {
			x = m.moeMLP(t, b, h, x)
		} else {
			x = t.ffn(&b.FFN, h, x)
		}
	}
	x = t.RMSNorm(x, t.Param(m.LNFW), eps)
	head := emb
	if m.Head != nil {
		head = t.Param(m.Head)
	}
	return t.MatMul(x, head, false, true, m.LogitScale())
}

// ffn records resid + down(silu(h gate) * (h up)).
func (t *Tape) ffn(f *FFN, h, resid V) V {
	g := t.Linear(h, t.Param(f.Gate), -1, -1)
	u := t.Linear(h, t.Param(f.Up), -1, -1)
	return t.Linear(t.SwiGLU(g, u), t.Param(f.Down), -1, resid)
}
