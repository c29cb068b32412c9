package interop

import (
	"fmt"

	"github.com/sproutml/sprout/nn"
)

// WithContext returns a copy of m whose context length is ctx. A GPT-2's
// learned positions are cut to the first ctx (it cannot be lengthened); a
// LLaMA's rotary positions have no weights, so any length works (beyond the
// trained one, quality is another matter). Sequences that fit both give the
// same logits.
func WithContext(m *nn.Model, ctx int) (*nn.Model, error) {
	if ctx < 1 {
		return nil, fmt.Errorf("interop: context %d must be at least 1", ctx)
	}
	if m.Arch == nn.ArchGPT2 && ctx > m.Ctx {
		return nil, fmt.Errorf("interop: a GPT-2's context (%d learned positions) cannot grow to %d", m.Ctx, ctx)
	}
	cfg := m.Config
	cfg.Ctx = ctx
	c, err := nn.NewModel(cfg, 0)
	if err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	for _, p := range c.Params() {
		src := m.Param(p.Name)
		if src == nil {
			return nil, fmt.Errorf("interop: parameter %s has no source", p.Name)
		}
		copy(p.Data, src.Data) // wpe: its first ctx rows
	}
	return c, nil
}
