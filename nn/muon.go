package nn

import (
	"fmt"
	"math"
)

// MuonConfig configures Muon. Zero values select the defaults noted.
type MuonConfig struct {
	Momentum    float32 // default 0.95
	NoNesterov  bool    // Nesterov momentum is the default, as in Muon's reference code
	NSSteps     int     // Newton-Schulz iterations, default 5
	WeightDecay float32 // decoupled, on matrices (and where Param.Decay for the AdamW branch)

	// Scale is how the orthogonalised update is scaled for a fanIn x fanOut
	// matrix (our weights are stored [in, out]):
	//   "rms" (default): 0.2*sqrt(max(fanIn, fanOut)), which gives the update
	//     the RMS of a typical AdamW update (Moonlight, "Muon is scalable for
	//     LLM training"), so one learning rate serves matrices and the AdamW
	//     (or NSGD) branch alike;
	//   "spectral": sqrt(max(1, fanOut/fanIn)), Keller Jordan's original
	//     (his max(1, rows/cols) on PyTorch's [out, in] weights); it wants a
	//     larger learning rate for matrices (~0.02) than the other branch.
	Scale string

	// NonMatrix picks the update of every tensor that is not a hidden matrix
	// (embeddings, the tied head, norms, biases):
	//   "nsgd" (default, as the zero/one-layer expansion paper ran Muon):
	//     normalised SGD - momentum buffer m (same momentum and Nesterov
	//     rule), update m/RMS(m) scaled by NSGDScale (default 0.2, the RMS
	//     the "rms" matrix scaling targets), at lr*LRMult;
	//   "adamw": AdamW with AdamW's settings below, at lr*LRMult.
	NonMatrix string
	NSGDScale float32
	AdamW     AdamWConfig
}

func (c MuonConfig) withDefaults() MuonConfig {
	if c.Momentum == 0 {
		c.Momentum = 0.95
	}
	if c.NSSteps == 0 {
		c.NSSteps = 5
	}
	if c.Scale == "" {
		c.Scale = "rms"
	}
	if c.NonMatrix == "" {
		c.NonMatrix = "nsgd"
	}
	if c.NSGDScale == 0 {
		c.NSGDScale = 0.2
	}
	c.AdamW = c.AdamW.withDefaults()
	if c.AdamW.WeightDecay == 0 {
		c.AdamW.WeightDecay = c.WeightDecay
	}
	return c
}

// Muon is MomentUm Orthogonalized by Newton-Schulz (Jordan et al., 2024) for
// hidden weight matrices (Param.Kind == Matrix):
//
//	buf = momentum*buf + g
//	u   = g + momentum*buf (Nesterov) or buf
//	O   = NewtonSchulz5(u)           (on asm.Sgemm)
//	p   = p*(1 - lr*wd) - lr*scale(shape)*O
//
// LRMult is ignored for matrices (the shape scaling is already width-aware).
// Every other tensor gets AdamW or normalised SGD, per NonMatrix.
type Muon struct {
	cfg   MuonConfig
	state stateStore
	steps int
	work  nsWork
	upd   []float32
}

// NewMuon returns a Muon optimizer, or an error for an unknown option.
func NewMuon(cfg MuonConfig) (*Muon, error) {
	cfg = cfg.withDefaults()
	if cfg.Scale != "rms" && cfg.Scale != "spectral" {
		return nil, fmt.Errorf("nn: muon scale %q unknown (want rms or spectral)", cfg.Scale)
	}
	if cfg.NonMatrix != "adamw" && cfg.NonMatrix != "nsgd" {
		return nil, fmt.Errorf("nn: muon non-matrix optimizer %q unknown (want adamw or nsgd)", cfg.NonMatrix)
	}
	if cfg.NSSteps < 0 || cfg.Momentum < 0 || cfg.Momentum >= 1 {
		return nil, fmt.Errorf("nn: muon needs ns_steps >= 0 and momentum in [0,1), got %d and %v", cfg.NSSteps, cfg.Momentum)
	}
	return &Muon{cfg: cfg}, nil
}

func (o *Muon) Name() string   { return "muon" }
func (o *Muon) Steps() int     { return o.steps }
func (o *Muon) SetSteps(n int) { o.steps = n }

func (o *Muon) State(p *Param) map[string][]float32 { return o.state.get(p) }
func (o *Muon) ResetState(p *Param)                 { o.state.reset(p) }
func (o *Muon) SetState(p *Param, s map[string][]float32) error {
	if p.Kind == Matrix || o.cfg.NonMatrix == "nsgd" {
		return o.state.set(p, s, map[string]int{"momentum": p.Len()})
	}
	return o.state.set(p, s, map[string]int{"m": p.Len(), "v": p.Len(), "step": 1})
}

// shapeScale returns the update multiplier for a fanIn x fanOut matrix.
func (o *Muon) shapeScale(fanIn, fanOut int) float32 {
	if o.cfg.Scale == "spectral" {
		return float32(math.Sqrt(max(1, float64(fanOut)/float64(fanIn))))
	}
	return float32(0.2 * math.Sqrt(float64(max(fanIn, fanOut))))
}

// momentum updates p's buffer and writes the (Nesterov) update into u.
func (o *Muon) momentum(p *Param, u []float32) {
	var sizes [1]int
	sizes[0] = p.Len()
	buf := o.state.ensure(p, momentumNames, sizes[:])["momentum"]
	mu := o.cfg.Momentum
	g := p.Grad[:len(buf)]
	u = u[:len(buf)]
	for i, gi := range g {
		b := mu*buf[i] + gi
		buf[i] = b
		if o.cfg.NoNesterov {
			u[i] = b
		} else {
			u[i] = gi + mu*b
		}
	}
}

// Step updates every parameter in params (Buffers excepted).
func (o *Muon) Step(params []*Param, lr float32) {
	for _, p := range params {
		switch {
		case p.Kind == Buffer:
		case p.Kind == Matrix && len(p.Shape) == 2:
			o.upd = grow(o.upd, p.Len())
			u := o.upd
			o.momentum(p, u)
			rows, cols := p.Shape[0], p.Shape[1]
			newtonSchulz(u, u, rows, cols, o.cfg.NSSteps, &o.work)
			s := lr * o.shapeScale(rows, cols)
			decay := 1 - lr*o.cfg.WeightDecay
			w := p.Data[:len(u)]
			for i, v := range u {
				w[i] = w[i]*decay - s*v
			}
		case o.cfg.NonMatrix == "nsgd":
			o.upd = grow(o.upd, p.Len())
			u := o.upd
			o.momentum(p, u)
			rms := float32(math.Sqrt(sumSquares64(u)/float64(len(u)))) + 1e-8
			lrp := lr * p.LRMult
			s := lrp * o.cfg.NSGDScale / rms
			decay := float32(1)
			if p.Decay {
				decay = 1 - lrp*o.cfg.WeightDecay
			}
			w := p.Data[:len(u)]
			for i, v := range u {
				w[i] = w[i]*decay - s*v
			}
		default:
			adamUpdate(&o.state, &o.cfg.AdamW, p, lr*p.LRMult)
		}
	}
	o.steps++
}
