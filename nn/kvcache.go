package nn

import (
	"errors"
	"fmt"

	"github.com/sproutml/sprout/asm"
)

// KVCache holds the keys and values of the tokens decoded so far, per block,
// so that each new token costs one step (matrix-vector products and one
// attention row per head) instead of a forward over the whole prefix.
type KVCache struct {
	m   *Model
	gen uint64
	pos int
	k   [][]float32 // per block, Ctx x Dim
	v   [][]float32

	x, h, qkv, att, fc, scores, logits []float32
}

// NewKVCache returns an empty cache for m at its current depth.
func (m *Model) NewKVCache() *KVCache {
	d := m.Dim
	c := &KVCache{m: m, gen: m.gen,
		x: make([]float32, d), h: make([]float32, d), qkv: make([]float32, 3*d),
		att: make([]float32, d), fc: make([]float32, 4*d),
		scores: make([]float32, m.Ctx), logits: make([]float32, m.Vocab)}
	c.k = make([][]float32, len(m.Blocks))
	c.v = make([][]float32, len(m.Blocks))
	for i := range c.k {
		c.k[i] = make([]float32, m.Ctx*d)
		c.v[i] = make([]float32, m.Ctx*d)
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
	c.pos++
	return c.logits, nil
}
