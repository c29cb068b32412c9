package nn

import "math"

// Maximal-update parametrisation (muP, Tensor Programs V), relative to a base
// width d0 = Config.MuPBaseDim, with width multiplier m = Dim/d0. With MuP off
// (or d0 == Dim) every factor below is 1 and the model is standard GPT-2.
//
//   - Embeddings (wte, wpe), norm gains and biases: init and learning rate
//     independent of width (LRMult 1).
//   - Hidden matrices (qkv, attention proj, MLP fc and proj): init std
//     InitStd/sqrt(m), so the variance scales as 1/fan_in; Adam-style
//     learning-rate multiplier 1/m (Param.LRMult). Muon ignores LRMult for
//     matrices: its own shape scaling already makes the update width-aware.
//   - Output logits: multiplied by 1/m (the head is tied to wte, so the
//     readout multiplier is applied in the forward instead of to a separate
//     head matrix).
//   - Attention scale: 1/head_dim, normalised to equal GPT-2's
//     1/sqrt(head_dim) at the base width: sqrt(hd0)/hd with hd0 = d0/Heads.
//
// GPT-2's depth rule (residual output projections' std divided by
// sqrt(2*Layers)) applies on top in both modes.

func (c Config) widthMult() float64 {
	if !c.MuP || c.MuPBaseDim <= 0 {
		return 1
	}
	return float64(c.Dim) / float64(c.MuPBaseDim)
}

// hiddenStd is the init std of hidden matrices.
func (c Config) hiddenStd() float32 {
	return float32(float64(c.InitStd) / math.Sqrt(c.widthMult()))
}

// residualStd is the init std of residual output projections for a model of
// c.Layers blocks.
func (c Config) residualStd() float32 {
	s := float64(c.hiddenStd())
	if c.Layers > 0 {
		s /= math.Sqrt(2 * float64(c.Layers))
	}
	return float32(s)
}

// hiddenLRMult is the Adam learning-rate multiplier of hidden matrices.
func (c Config) hiddenLRMult() float32 { return float32(1 / c.widthMult()) }

// LogitScale is the multiplier applied to the head's logits (1 without muP).
func (c Config) LogitScale() float32 { return float32(1 / c.widthMult()) }

// AttnScale is the attention score scale: 1/sqrt(head_dim), or its muP form.
func (c Config) AttnScale() float32 {
	hd := float64(c.Dim / c.Heads)
	if !c.MuP || c.MuPBaseDim <= 0 {
		return float32(1 / math.Sqrt(hd))
	}
	hd0 := float64(c.MuPBaseDim) / float64(c.Heads)
	return float32(math.Sqrt(hd0) / hd)
}
