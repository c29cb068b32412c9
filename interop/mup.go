package interop

import (
	"math"

	"github.com/sproutml/sprout/nn"
)

// plain returns m as a model without muP's forward-pass multipliers, which
// other tools do not have: the attention scale is folded into the query
// weights (and bias) and the logit multiplier into the head, or into the
// final norm when the head is tied to the embedding. The function is
// unchanged up to rounding. A model without muP is returned as it is.
func plain(m *nn.Model) *nn.Model {
	if !m.MuP || m.MuPBaseDim == 0 || m.MuPBaseDim == m.Dim {
		return m
	}
	c := m.Clone()
	hd := c.HeadDim()
	qs := float32(float64(m.AttnScale()) * math.Sqrt(float64(hd)))
	ls := m.LogitScale()
	scale := func(x []float32, s float32) {
		for i := range x {
			x[i] *= s
		}
	}
	for _, p := range c.Params() {
		_, rest, ok := splitBlock(p.Name)
		switch {
		case ok && rest == "attn.qkv.weight": // gpt2: the q columns of [d, 3d]
			cols := p.Cols()
			for r := 0; r < p.Rows(); r++ {
				scale(p.Data[r*cols:r*cols+c.Dim], qs)
			}
		case ok && rest == "attn.qkv.bias":
			scale(p.Data[:c.Dim], qs)
		case ok && rest == "attn.q.weight": // llama
			scale(p.Data, qs)
		case !ok && (p.Name == "lnf.weight" || p.Name == "lnf.bias" || p.Name == "head.weight"):
			scale(p.Data, ls)
		case !ok && p.Name == "norm.weight" && c.TiedHead:
			scale(p.Data, ls)
		}
	}
	c.MuP, c.MuPBaseDim = false, c.Dim
	return c
}
