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
