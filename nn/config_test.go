package nn

import (
	"math"
	"strings"
	"testing"
)

// Every float field of a config must be finite: an infinite RoPE base or
// balancing coefficient only surfaced as a diverged run, or as a checkpoint
// that JSON could not encode.
func TestConfigRejectsNonFinite(t *testing.T) {
	gpt2 := Config{Vocab: 10, Ctx: 8, Dim: 8, Heads: 2}
	moe := Config{Arch: ArchMoE, Vocab: 10, Ctx: 8, Dim: 8, Heads: 2}
	bias := moe
	bias.Balance = BalanceBias
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, tc := range []struct {
			field string
			c     Config
			set   func(*Config)
		}{
			{"init_std", gpt2, func(c *Config) { c.InitStd = float32(x) }},
			{"norm_eps", gpt2, func(c *Config) { c.NormEps = float32(x) }},
			{"rope_base", moe, func(c *Config) { c.RopeBase = x }},
			{"aux_coef", moe, func(c *Config) { c.AuxCoef = x }},
			{"bias_rate", bias, func(c *Config) { c.BiasRate = x }},
		} {
			c := tc.c
			tc.set(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.field+" must be") {
				t.Errorf("%s = %v: error %v, want one naming %s", tc.field, x, err, tc.field)
			}
		}
	}
}

// Counting the parameters of an absurd config saturates instead of wrapping
// around to a small or negative number, and Validate rejects sizes whose
// shapes could overflow.
func TestParamCountSaturates(t *testing.T) {
	huge := Config{Arch: ArchMoE, Vocab: MaxSize, Ctx: MaxSize, Dim: MaxSize, Heads: 2, Layers: MaxSize, Experts: MaxSize, TopK: 2, FFNHidden: MaxSize}
	if n := ParamCount64(huge); n != math.MaxInt64 {
		t.Errorf("ParamCount64 = %d, want math.MaxInt64", n)
	}
	if n := ParamCount(huge); n != math.MaxInt {
		t.Errorf("ParamCount = %d, want math.MaxInt", n)
	}
	if n := ActiveParamCount(huge); n <= 0 {
		t.Errorf("ActiveParamCount = %d", n)
	}
	if err := huge.Validate(); err == nil || !strings.Contains(err.Error(), "more parameters than this platform can index") {
		t.Errorf("Validate: %v", err)
	}
	// 2^32 squared wraps an int64 to 0.
	wide := Config{Vocab: 256, Ctx: 8, Dim: 1 << 32, Heads: 1 << 31, Layers: 1}
	if n := ParamCount64(wide); n != math.MaxInt64 {
		t.Errorf("width 2^32: ParamCount64 = %d", n)
	}
	if err := wide.Validate(); err == nil || !strings.Contains(err.Error(), "dim must be at most 16777216, got 4294967296") {
		t.Errorf("width 2^32: %v", err)
	}
	// The largest sizes of a plain model still count exactly.
	c := Config{Vocab: MaxSize, Ctx: MaxSize, Dim: MaxSize, Heads: 1, Layers: 1}
	if n, want := ParamCount64(c), int64(MaxSize)*MaxSize*14+15*MaxSize; n != want {
		t.Errorf("ParamCount64 = %d, want %d", n, want)
	}
}
