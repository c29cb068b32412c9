package nn

import (
	"math"

	"github.com/sproutml/sprout/asm"
)

// AdamWConfig configures AdamW. Zero values select the defaults noted.
type AdamWConfig struct {
	Beta1       float32 // default 0.9
	Beta2       float32 // default 0.95
	Eps         float32 // default 1e-8
	WeightDecay float32 // decoupled; applied only where Param.Decay (matrices by default)
}

func (c AdamWConfig) withDefaults() AdamWConfig {
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.95
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
	return c
}

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter). Each
// parameter's learning rate is lr*Param.LRMult; decay is lr*LRMult*wd*p for
// parameters with Decay set. Bias correction uses the parameter's own step
// count (state "step"), so a parameter whose state was reset - a block added
// by growth - starts with a correct first update.
type AdamW struct {
	cfg   AdamWConfig
	state stateStore
	steps int
}

// NewAdamW returns an AdamW optimizer.
func NewAdamW(cfg AdamWConfig) *AdamW { return &AdamW{cfg: cfg.withDefaults()} }

func (o *AdamW) Name() string   { return "adamw" }
func (o *AdamW) Steps() int     { return o.steps }
func (o *AdamW) SetSteps(n int) { o.steps = n }

func (o *AdamW) State(p *Param) map[string][]float32 { return o.state.get(p) }
func (o *AdamW) ResetState(p *Param)                 { o.state.reset(p) }
func (o *AdamW) SetState(p *Param, s map[string][]float32) error {
	return o.state.set(p, s, map[string]int{"m": p.Len(), "v": p.Len(), "step": 1})
}

var adamNames = []string{"m", "v", "step"}

// Step updates every parameter in params (Buffers excepted).
func (o *AdamW) Step(params []*Param, lr float32) {
	for _, p := range params {
		if p.Kind == Buffer {
			continue
		}
		adamUpdate(&o.state, &o.cfg, p, lr*p.LRMult)
	}
	o.steps++
}

// adamUpdate applies one AdamW update to p at learning rate lr (shared with
// Muon's non-matrix branch).
func adamUpdate(store *stateStore, cfg *AdamWConfig, p *Param, lr float32) {
	var sizes [3]int
	sizes[0], sizes[1], sizes[2] = p.Len(), p.Len(), 1
	st := store.ensure(p, adamNames, sizes[:])
	m, v, stp := st["m"], st["v"], st["step"]
	stp[0]++
	t := float64(stp[0])
	b1, b2 := cfg.Beta1, cfg.Beta2
	bc1 := float32(1 - math.Pow(float64(b1), t))
	bc2 := float32(1 - math.Pow(float64(b2), t))
	// p -= lr * (mhat / (sqrt(vhat) + eps)) with mhat = m/bc1, vhat = v/bc2:
	// fold the corrections into a step size and an epsilon.
	stepSize := lr / bc1
	invSqrtBC2 := float32(1 / math.Sqrt(float64(bc2)))
	eps := cfg.Eps
	decay := float32(1)
	if p.Decay && cfg.WeightDecay != 0 {
		decay = 1 - lr*cfg.WeightDecay
	}
	// m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
	// w = w*decay - stepSize*m/(sqrt(v)*invSqrtBC2 + eps), fused in one SIMD
	// pass; every path gives the same bits.
	asm.AdamWStep(p.Data, p.Grad, m, v, b1, b2, decay, stepSize, invSqrtBC2, eps)
}
