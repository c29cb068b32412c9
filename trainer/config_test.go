package trainer

import (
	"math"
	"strings"
	"testing"

	"github.com/sproutml/sprout/nn"
)

// Every float field of a run, the model's included, refuses NaN and
// infinities up front with an error naming the field.
func TestConfigRejectsNonFinite(t *testing.T) {
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, tc := range []struct {
			field string
			set   func(*Config)
		}{
			{"val_fraction", func(c *Config) { c.ValFraction = x }},
			{"lr", func(c *Config) { c.LR = x }},
			{"weight_decay", func(c *Config) { c.WeightDecay = x }},
			{"grad_clip", func(c *Config) { c.GradClip = x }},
			{"warmup", func(c *Config) { c.Warmup = x }},
			{"decay", func(c *Config) { c.Decay = x }},
			{"rope_base", func(c *Config) { c.Model.Arch, c.Model.RopeBase = nn.ArchLlama, x }},
			{"aux_coef", func(c *Config) { c.Model.Arch, c.Model.AuxCoef = nn.ArchMoE, x }},
		} {
			cfg := tinyConfig(t)
			tc.set(&cfg)
			cfg.Defaults()
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.field+" must") {
				t.Errorf("%s = %v: error %v, want one naming %s", tc.field, x, err, tc.field)
			}
		}
	}
}
