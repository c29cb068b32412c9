package nn

import (
	"errors"
	"fmt"
	"math"
)

// Architectures (Config.Arch).
const (
	ArchGPT2  = "gpt2"  // pre-LN GPT-2: LayerNorm, learned positions, GELU MLP, biases, tied head
	ArchLlama = "llama" // LLaMA: RMSNorm, RoPE, SwiGLU, grouped-query attention, no biases
	ArchMoE   = "moe"   // LLaMA attention with a routed mixture-of-experts SwiGLU MLP
)

// Gates (Config.Gate) and load balancing (Config.Balance) of a MoE model.
const (
	GateSoftmax = "softmax" // gate = softmax over all experts, at the selected ones
	GateSigmoid = "sigmoid" // gate = sigmoid, normalised over the selected ones (DeepSeek-V3)

	BalanceAux  = "aux"  // Switch-style auxiliary loss AuxCoef * E * sum_i f_i P_i
	BalanceBias = "bias" // DeepSeek-V3's auxiliary-loss-free per-expert selection bias
	BalanceNone = "none"
)

// Defaults of the optional fields.
const (
	DefaultRopeBase = 10000
	DefaultExperts  = 8
	DefaultTopK     = 2
	DefaultAuxCoef  = 0.01
	DefaultBiasRate = 1e-3
)

// Config describes a model. The zero values of the optional fields select the
// defaults given in their comments. It round-trips through JSON, and a
// checkpoint's manifest carries it. Fields marked llama apply to llama and
// moe, fields marked moe to moe only; Validate rejects them elsewhere.
type Config struct {
	Arch   string `json:"arch"`   // "gpt2" ("" means gpt2), "llama" or "moe"
	Vocab  int    `json:"vocab"`  // vocabulary size, e.g. 256 for bytes
	Ctx    int    `json:"ctx"`    // context length (learned positions in gpt2, RoPE table otherwise)
	Dim    int    `json:"dim"`    // width d
	Heads  int    `json:"heads"`  // attention (query) heads; must divide Dim
	Layers int    `json:"layers"` // blocks; 0 is valid (embeddings -> final norm -> head)

	InitStd float32 `json:"init_std,omitempty"` // weight init std, default 0.02 (GPT-2)
	NormEps float32 `json:"norm_eps,omitempty"` // LayerNorm/RMSNorm epsilon, default 1e-5

	// MuP switches on maximal-update parametrisation relative to a base width
	// MuPBaseDim (default: Dim, which makes it a no-op). See mup.go.
	MuP        bool `json:"mup,omitempty"`
	MuPBaseDim int  `json:"mup_base_dim,omitempty"`

	KVHeads   int     `json:"kv_heads,omitempty"`   // llama: key/value heads (grouped-query attention), divides Heads; default Heads
	RopeBase  float64 `json:"rope_base,omitempty"`  // llama: RoPE base, default 10000
	FFNHidden int     `json:"ffn_hidden,omitempty"` // llama: SwiGLU hidden size (per expert in moe); default 8d/3 rounded up to a multiple of 64
	TiedHead  bool    `json:"tied_head,omitempty"`  // llama: the head is tok_emb (default: a separate head.weight)

	Experts       int     `json:"experts,omitempty"`        // moe: routed experts E, default 8
	TopK          int     `json:"top_k,omitempty"`          // moe: experts per token, default min(2, E)
	Gate          string  `json:"gate,omitempty"`           // moe: "softmax" (default) or "sigmoid"
	SharedExperts int     `json:"shared_experts,omitempty"` // moe: experts every token goes through, default 0
	Balance       string  `json:"balance,omitempty"`        // moe: "aux" (default), "bias" or "none"
	AuxCoef       float64 `json:"aux_coef,omitempty"`       // moe: auxiliary-loss coefficient (balance aux), default 0.01
	BiasRate      float64 `json:"bias_rate,omitempty"`      // moe: bias update rate gamma (balance bias), default 1e-3
}

// WithDefaults returns c with every optional field left at zero filled in
// with its default, as NewModel does (a model's Config has them filled).
func (c Config) WithDefaults() Config { return c.withDefaults() }

// withDefaults returns c with the optional fields filled in.
func (c Config) withDefaults() Config {
	if c.Arch == "" {
		c.Arch = ArchGPT2
	}
	if c.InitStd == 0 {
		c.InitStd = 0.02
	}
	if c.NormEps == 0 {
		c.NormEps = 1e-5
	}
	if c.MuPBaseDim == 0 {
		c.MuPBaseDim = c.Dim
	}
	if c.Arch == ArchGPT2 {
		return c
	}
	if c.KVHeads == 0 {
		c.KVHeads = c.Heads
	}
	if c.RopeBase == 0 {
		c.RopeBase = DefaultRopeBase
	}
	if c.FFNHidden == 0 {
		c.FFNHidden = DefaultFFNHidden(c.Dim)
	}
	if c.Arch != ArchMoE {
		return c
	}
	if c.Experts == 0 {
		c.Experts = DefaultExperts
	}
	if c.TopK == 0 {
		c.TopK = min(DefaultTopK, c.Experts)
	}
	if c.Gate == "" {
		c.Gate = GateSoftmax
	}
	if c.Balance == "" {
		c.Balance = BalanceAux
	}
	if c.Balance == BalanceAux && c.AuxCoef == 0 {
		c.AuxCoef = DefaultAuxCoef
	}
	if c.Balance == BalanceBias && c.BiasRate == 0 {
		c.BiasRate = DefaultBiasRate
	}
	return c
}

// DefaultFFNHidden is LLaMA's SwiGLU hidden size for width d: 8d/3 (2/3 of
// the 4d MLP, so that its three matrices cost what two did) rounded up to a
// multiple of 64.
func DefaultFFNHidden(d int) int {
	h := 8 * d / 3
	return (h + 63) / 64 * 64
}

// MaxSize bounds every size field of a config (vocab, ctx, dim, heads,
// layers, ...): far beyond any model sprout can train, and small enough that
// no shape's element count (a product of two sizes) overflows.
const MaxSize = 1 << 24

// Validate reports every problem with c, or nil.
func (c Config) Validate() error {
	err := c.validateFields()
	if err == nil && ParamCount64(c) >= math.MaxInt {
		err = errors.New("nn: config: the model has more parameters than this platform can index")
	}
	return err
}

// validateFields checks each field of c and how they fit together.
func (c Config) validateFields() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("nn: config: "+format, a...)) }
	for _, f := range []struct {
		name string
		n    int
	}{{"vocab", c.Vocab}, {"ctx", c.Ctx}, {"dim", c.Dim}, {"heads", c.Heads}, {"layers", c.Layers}, {"mup_base_dim", c.MuPBaseDim},
		{"kv_heads", c.KVHeads}, {"ffn_hidden", c.FFNHidden}, {"experts", c.Experts}, {"shared_experts", c.SharedExperts}} {
		if f.n > MaxSize {
			bad("%s must be at most %d, got %d", f.name, MaxSize, f.n)
		}
	}
	arch := c.Arch
	switch arch {
	case "", ArchGPT2, ArchLlama, ArchMoE:
	default:
		bad("unknown arch %q (want %q, %q or %q)", c.Arch, ArchGPT2, ArchLlama, ArchMoE)
	}
	if c.Vocab < 1 {
		bad("vocab must be >= 1, got %d", c.Vocab)
	}
	if c.Ctx < 1 {
		bad("ctx must be >= 1, got %d", c.Ctx)
	}
	if c.Dim < 1 {
		bad("dim must be >= 1, got %d", c.Dim)
	}
	if c.Heads < 1 {
		bad("heads must be >= 1, got %d", c.Heads)
	} else if c.Dim >= 1 && c.Dim%c.Heads != 0 {
		bad("heads (%d) must divide dim (%d)", c.Heads, c.Dim)
	}
	if c.Layers < 0 {
		bad("layers must be >= 0, got %d", c.Layers)
	}
	if !nonNegative(float64(c.InitStd)) {
		bad("init_std must be >= 0 and finite, got %v", c.InitStd)
	}
	if !nonNegative(float64(c.NormEps)) {
		bad("norm_eps must be >= 0 and finite, got %v", c.NormEps)
	}
	if c.MuPBaseDim < 0 {
		bad("mup_base_dim must be >= 0, got %d", c.MuPBaseDim)
	}
	llama := arch == ArchLlama || arch == ArchMoE
	notFor := func(field, archs string) { bad("%s applies to %s only, not arch %q", field, archs, c.Arch) }
	// llama and moe fields
	switch {
	case !llama:
		if c.KVHeads != 0 {
			notFor("kv_heads", "llama and moe")
		}
		if c.RopeBase != 0 {
			notFor("rope_base", "llama and moe")
		}
		if c.FFNHidden != 0 {
			notFor("ffn_hidden", "llama and moe")
		}
		if c.TiedHead {
			notFor("tied_head", "llama and moe (gpt2's head is always tied)")
		}
	default:
		if c.KVHeads < 0 {
			bad("kv_heads must be >= 1, got %d", c.KVHeads)
		} else if c.KVHeads > 0 && c.Heads >= 1 && c.Heads%c.KVHeads != 0 {
			bad("kv_heads (%d) must divide heads (%d)", c.KVHeads, c.Heads)
		}
		if c.Heads >= 1 && c.Dim >= 1 && c.Dim%c.Heads == 0 && (c.Dim/c.Heads)%2 != 0 {
			bad("head dim dim/heads = %d must be even for rotary embeddings", c.Dim/c.Heads)
		}
		if c.RopeBase != 0 && !(c.RopeBase > 1 && !math.IsInf(c.RopeBase, 1)) {
			bad("rope_base must be > 1 and finite, got %v", c.RopeBase)
		}
		if c.FFNHidden < 0 {
			bad("ffn_hidden must be >= 1, got %d", c.FFNHidden)
		}
	}
	// moe fields
	if arch != ArchMoE {
		for _, f := range []struct {
			name string
			set  bool
		}{{"experts", c.Experts != 0}, {"top_k", c.TopK != 0}, {"gate", c.Gate != ""}, {"shared_experts", c.SharedExperts != 0},
			{"balance", c.Balance != ""}, {"aux_coef", c.AuxCoef != 0}, {"bias_rate", c.BiasRate != 0}} {
			if f.set {
				notFor(f.name, "moe")
			}
		}
		return errors.Join(errs...)
	}
	if c.Experts < 0 {
		bad("experts must be >= 1, got %d", c.Experts)
	}
	experts := c.Experts
	if experts == 0 {
		experts = DefaultExperts
	}
	if c.TopK < 0 || c.TopK > experts {
		bad("top_k must be between 1 and the number of experts (%d), got %d", experts, c.TopK)
	} else if c.TopK > maxTopK {
		bad("top_k must be at most %d, got %d", maxTopK, c.TopK)
	}
	if c.Gate != "" && c.Gate != GateSoftmax && c.Gate != GateSigmoid {
		bad("unknown gate %q (want %q or %q)", c.Gate, GateSoftmax, GateSigmoid)
	}
	if c.SharedExperts < 0 {
		bad("shared_experts must be >= 0, got %d", c.SharedExperts)
	}
	balance := c.Balance
	switch balance {
	case "":
		balance = BalanceAux
	case BalanceAux, BalanceBias, BalanceNone:
	default:
		bad("unknown balance %q (want %q, %q or %q)", c.Balance, BalanceAux, BalanceBias, BalanceNone)
	}
	if !nonNegative(c.AuxCoef) {
		bad("aux_coef must be >= 0 and finite, got %v", c.AuxCoef)
	} else if c.AuxCoef != 0 && balance != BalanceAux {
		bad("aux_coef applies to balance %q only, not %q", BalanceAux, balance)
	}
	if !nonNegative(c.BiasRate) {
		bad("bias_rate must be >= 0 and finite, got %v", c.BiasRate)
	} else if c.BiasRate != 0 && balance != BalanceBias {
		bad("bias_rate applies to balance %q only, not %q", BalanceBias, balance)
	}
	return errors.Join(errs...)
}

// nonNegative reports whether x is a finite number >= 0 (not NaN, not Inf):
// an infinite coefficient would only surface as a diverged run or a
// checkpoint JSON cannot encode.
func nonNegative(x float64) bool { return x >= 0 && !math.IsInf(x, 1) }

// HeadDim returns Dim/Heads.
func (c Config) HeadDim() int { return c.Dim / c.Heads }

// ParamCount is the closed-form number of (trained) parameters of a model
// with config c; Buffer parameters (the MoE balancing bias) are not counted.
// A count beyond math.MaxInt reads as math.MaxInt (see ParamCount64).
//
//	gpt2:  token and position embeddings, final LayerNorm (2d), blocks; the
//	       head is tied to the token embedding and adds nothing.
//	llama: token embedding, final RMSNorm (d), head (Vd unless tied), blocks.
//	moe:   as llama; every expert counts (see ActiveParamCount).
func ParamCount(c Config) int { return clampInt(ParamCount64(c)) }

// ParamCount64 is ParamCount in int64 arithmetic that saturates at
// math.MaxInt64 instead of wrapping around, so that a config of any size,
// even one Validate rejects, counts at least as big as it is: a memory check
// must never see an absurd model as a small (or negative) one.
func ParamCount64(c Config) int64 {
	c = c.withDefaults()
	return satSum(topParams(c), satProd(int64(c.Layers), blockParams(c, c.Experts)))
}

// ActiveParamCount is the number of parameters a token goes through: for moe
// the top-k routed experts, the shared experts and the router, not the other
// experts; for gpt2 and llama all of ParamCount.
func ActiveParamCount(c Config) int {
	c = c.withDefaults()
	return clampInt(satSum(topParams(c), satProd(int64(c.Layers), blockParams(c, c.TopK))))
}

// BlockParamCount is the number of parameters of one block:
//
//	gpt2:  12d^2 + 13d (two LayerNorms 4d, qkv 3d^2+3d, projection d^2+d,
//	       4x MLP 8d^2+5d)
//	llama: 2d (RMSNorm gains) + attention d*(H + 2 KVH)*hd + (H*hd)*d
//	       + SwiGLU 3dF
//	moe:   2d + attention + router dE + (E + shared) * 3dF
func BlockParamCount(c Config) int {
	c = c.withDefaults()
	return clampInt(blockParams(c, c.Experts))
}

// topParams counts the parameters outside the blocks (c has its defaults).
func topParams(c Config) int64 {
	d, V := int64(c.Dim), int64(c.Vocab)
	if c.Arch == ArchGPT2 {
		return satSum(satProd(V, d), satProd(int64(c.Ctx), d), satProd(2, d))
	}
	n := satSum(satProd(V, d), d)
	if !c.TiedHead {
		n = satSum(n, satProd(V, d))
	}
	return n
}

// blockParams counts one block (c has its defaults) whose MLP holds routed
// of the moe experts: all of them, or the top-k a token goes through.
func blockParams(c Config, routed int) int64 {
	d := int64(c.Dim)
	switch c.Arch {
	case ArchLlama:
		return satSum(satProd(2, d), attnParams(c), ffnParams(c))
	case ArchMoE:
		experts := satSum(int64(routed), int64(c.SharedExperts))
		return satSum(satProd(2, d), attnParams(c), satProd(d, int64(c.Experts)), satProd(experts, ffnParams(c)))
	}
	return satSum(satProd(12, d, d), satProd(13, d))
}

// attnParams counts q, k, v and o of a llama block.
func attnParams(c Config) int64 {
	d, h, kvh, hd := int64(c.Dim), int64(c.Heads), int64(c.KVHeads), int64(0)
	if c.Heads > 0 {
		hd = int64(c.HeadDim())
	}
	return satSum(satProd(d, h, hd), satProd(2, d, kvh, hd), satProd(h, hd, d))
}

// ffnParams counts one SwiGLU MLP (gate, up, down).
func ffnParams(c Config) int64 { return satProd(3, int64(c.Dim), int64(c.FFNHidden)) }

// satProd multiplies non-negative xs, saturating at math.MaxInt64.
func satProd(xs ...int64) int64 {
	p := int64(1)
	for _, x := range xs {
		if x <= 0 {
			return 0
		}
		if p > math.MaxInt64/x {
			p = math.MaxInt64 // keep looking for a zero factor
			continue
		}
		p *= x
	}
	return p
}

// satSum adds non-negative xs, saturating at math.MaxInt64.
func satSum(xs ...int64) int64 {
	s := int64(0)
	for _, x := range xs {
		if s > math.MaxInt64-max(x, 0) {
			return math.MaxInt64
		}
		s += max(x, 0)
	}
	return s
}

// clampInt converts n to an int, saturating where int is narrower.
func clampInt(n int64) int {
	if n > int64(math.MaxInt) {
		return math.MaxInt
	}
	return int(n)
}

// KVDim returns KVHeads * HeadDim, the width of a llama block's k and v.
func (c Config) KVDim() int { return c.KVHeads * c.HeadDim() }
