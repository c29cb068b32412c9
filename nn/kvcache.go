package nn

import (
	"errors"
	"fmt"

	"github.com/sproutml/sprout/asm"
)

// KVCache holds the keys and values of the tokens decoded so far, per block,
// so that each new token costs one step (matrix-vector products and one
// attention row per head) instead of a forward over the whole prefix. For
// llama and moe the keys are stored rotated, KVHeads heads wide.
type KVCache struct {
	m   *Model
	gen uint64
	pos int
	k   [][]float32 // per block, Ctx x (Dim for gpt2, KVDim for llama/moe)
	v   [][]float32

	x, h, qkv, att, fc, up, router, scores, logits []float32
	gates                                          []float32
	sel                                            []int32
}

// NewKVCache returns an empty cache for m at its current depth.
func (m *Model) NewKVCache() *KVCache {
	d, kd := m.Dim, m.Dim
	if m.Arch != ArchGPT2 {
		kd = m.KVDim()
	}
	c := &KVCache{m: m, gen: m.gen,
		x: make([]float32, d), h: make([]float32, d), qkv: make([]float32, d+2*kd),
		att: make([]float32, d), scores: make([]float32, m.Ctx), logits: make([]float32, m.Vocab)}
	if m.Arch == ArchGPT2 {
		c.fc = make([]float32, 4*d)
	} else {
		c.fc, c.up = make([]float32, m.FFNHidden), make([]float32, m.FFNHidden)
	}
	if m.Arch == ArchMoE {
		c.router = make([]float32, 2*m.Experts) // logits, scores
		c.gates, c.sel = make([]float32, m.TopK), make([]int32, m.TopK)
	}
	c.k = make([][]float32, len(m.Blocks))
	c.v = make([][]float32, len(m.Blocks))
	for i := range c.k {
		c.k[i] = make([]float32, m.Ctx*kd)
		c.v[i] = make([]float32, m.Ctx*kd)
	}
	return c
}

// Len returns the number of tokens in the cache.
func (c *KVCache) Len() int { return c.pos }

// Reset empties the cache.
func (c *KVCache) Reset() { c.pos = 0 }

// ErrContextFull is returned by DecodeStep when the cache holds Ctx tokens.
var ErrContextFull = errors.New("nn: KV cache is full (context length reached)")

// DecodeStep appends token at the next position and returns the logits for
// the token after it. The slice belongs to the cache and is overwritten by the
// next step. The model's weights must not change between steps.
func (m *Model) DecodeStep(c *KVCache, token int32) ([]float32, error) {
	if c.m != m || c.gen != m.gen {
		return nil, errors.New("nn: KV cache was made for another model or depth (make a new one)")
	}
	if token < 0 || int(token) >= m.Vocab {
		return nil, fmt.Errorf("nn: token %d outside the vocabulary [0,%d)", token, m.Vocab)
	}
	if c.pos >= m.Ctx {
		return nil, ErrContextFull
	}
	if m.Arch == ArchGPT2 {
		m.decodeGPT2(c, token)
	} else {
		m.decodeLlama(c, token)
	}
	c.pos++
	return c.logits, nil
}

func (m *Model) decodeGPT2(c *KVCache, token int32) {
	d, H, pos := m.Dim, m.Heads, c.pos
	hd, n := d/H, c.pos+1
	eps, scale := m.NormEps, m.AttnScale()
	x := c.x
	asm.Add(x, m.WTE.Data[int(token)*d:int(token+1)*d], m.WPE.Data[pos*d:(pos+1)*d])
	for l, b := range m.Blocks {
		asm.LayerNorm(c.h, x, b.LN1W.Data, b.LN1B.Data, eps)
		copy(c.qkv, b.QKVB.Data)
		asm.Sgemm(false, false, 1, 3*d, d, 1, c.h, d, b.QKVW.Data, 3*d, 1, c.qkv, 3*d)
		K, Vv := c.k[l], c.v[l]
		copy(K[pos*d:(pos+1)*d], c.qkv[d:2*d])
		copy(Vv[pos*d:(pos+1)*d], c.qkv[2*d:])
		for h := 0; h < H; h++ {
			s := c.scores[:n]
			asm.Sgemm(false, true, 1, n, hd, scale, c.qkv[h*hd:], 3*d, K[h*hd:], d, 0, s, n)
			softmaxCausalRow(s, n)
			asm.Sgemm(false, false, 1, hd, n, 1, s, n, Vv[h*hd:], d, 0, c.att[h*hd:], d)
		}
		asm.Add(x, x, b.ProjB.Data)
		asm.Sgemm(false, false, 1, d, d, 1, c.att, d, b.ProjW.Data, d, 1, x, d)
		asm.LayerNorm(c.h, x, b.LN2W.Data, b.LN2B.Data, eps)
		copy(c.fc, b.FCB.Data)
		asm.Sgemm(false, false, 1, 4*d, d, 1, c.h, d, b.FCW.Data, 4*d, 1, c.fc, 4*d)
		asm.GELU(c.fc, c.fc)
		asm.Add(x, x, b.FC2B.Data)
		asm.Sgemm(false, false, 1, d, 4*d, 1, c.fc, 4*d, b.FC2W.Data, d, 1, x, d)
	}
	asm.LayerNorm(c.h, x, m.LNFW.Data, m.LNFB.Data, eps)
	asm.Sgemm(false, true, 1, m.Vocab, d, m.LogitScale(), c.h, d, m.WTE.Data, d, 0, c.logits, m.Vocab)
}

func (m *Model) decodeLlama(c *KVCache, token int32) {
	d, H, kd, pos := m.Dim, m.Heads, m.KVDim(), c.pos
	hd, n, group := d/H, c.pos+1, m.Heads/m.KVHeads
	eps, scale := m.NormEps, m.AttnScale()
	half := hd / 2
	cos, sin := m.rope.cos[pos*half:(pos+1)*half], m.rope.sin[pos*half:(pos+1)*half]
	x := c.x
	copy(x, m.WTE.Data[int(token)*d:int(token+1)*d])
	q, k, v := c.qkv[:d], c.qkv[d:d+kd], c.qkv[d+kd:]
	for l, b := range m.Blocks {
		rmsNormRow(c.h, x, b.AttnNorm.Data, eps)
		asm.Sgemm(false, false, 1, d, d, 1, c.h, d, b.Q.Data, d, 0, q, d)
		asm.Sgemm(false, false, 1, kd, d, 1, c.h, d, b.K.Data, kd, 0, k, kd)
		asm.Sgemm(false, false, 1, kd, d, 1, c.h, d, b.V.Data, kd, 0, v, kd)
		ropeApply(q, q, 1, d, 1, cos, sin, half, 1, false)
		K, Vv := c.k[l], c.v[l]
		ropeApply(K[pos*kd:(pos+1)*kd], k, 1, kd, 1, cos, sin, half, 1, false)
		copy(Vv[pos*kd:(pos+1)*kd], v)
		for h := 0; h < H; h++ {
			kh := h / group
			s := c.scores[:n]
			asm.Sgemm(false, true, 1, n, hd, scale, q[h*hd:], d, K[kh*hd:], kd, 0, s, n)
			softmaxCausalRow(s, n)
			asm.Sgemm(false, false, 1, hd, n, 1, s, n, Vv[kh*hd:], kd, 0, c.att[h*hd:], d)
		}
		asm.Sgemm(false, false, 1, d, d, 1, c.att, d, b.O.Data, d, 1, x, d)
		rmsNormRow(c.h, x, b.MLPNorm.Data, eps)
		if b.Arch == ArchMoE {
			m.decodeMoE(c, b)
		} else {
			c.ffn(&b.FFN)
		}
	}
	rmsNormRow(c.h, x, m.LNFW.Data, eps)
	head := m.WTE
	if m.Head != nil {
		head = m.Head
	}
	asm.Sgemm(false, true, 1, m.Vocab, d, m.LogitScale(), c.h, d, head.Data, d, 0, c.logits, m.Vocab)
}

// ffn adds f(c.h) to c.x for one SwiGLU MLP.
func (c *KVCache) ffn(f *FFN) {
	d, F := len(c.x), f.Gate.Cols()
	asm.Sgemm(false, false, 1, F, d, 1, c.h, d, f.Gate.Data, F, 0, c.fc, F)
	asm.Sgemm(false, false, 1, F, d, 1, c.h, d, f.Up.Data, F, 0, c.up, F)
	swigluForward(c.fc, c.fc, c.up)
	asm.Sgemm(false, false, 1, d, F, 1, c.fc, F, f.Down.Data, d, 1, c.x, d)
}

// decodeMoE adds block b's shared and routed experts of c.h to c.x.
func (m *Model) decodeMoE(c *KVCache, b *Block) {
	d, E := m.Dim, m.Experts
	for i := range b.Shared {
		c.ffn(&b.Shared[i])
	}
	logits, sc := c.router[:E], c.router[E:]
	asm.Sgemm(false, false, 1, E, d, 1, c.h, d, b.Router.Data, E, 0, logits, E)
	var bias []float32
	if m.Balance == BalanceBias {
		bias = b.Balance.Data
	}
	routeRow(c.gates, c.sel, sc, logits, bias, m.Gate == GateSigmoid)
	for i, e := range c.sel {
		c.ffnOut(&b.Experts[e], c.gates[i])
	}
}

// ffnOut adds weight * f(c.h) to c.x, computing f(c.h) before scaling it
// (as Experts does: gate * expert output).
func (c *KVCache) ffnOut(f *FFN, weight float32) {
	d, F := len(c.x), f.Gate.Cols()
	asm.Sgemm(false, false, 1, F, d, 1, c.h, d, f.Gate.Data, F, 0, c.fc, F)
	asm.Sgemm(false, false, 1, F, d, 1, c.h, d, f.Up.Data, F, 0, c.up, F)
	swigluForward(c.fc, c.fc, c.up)
	y := c.att // free after attention
	asm.Sgemm(false, false, 1, d, F, 1, c.fc, F, f.Down.Data, d, 0, y, d)
	asm.Axpy(weight, y, c.x)
}
