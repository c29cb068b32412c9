package nn

import (
	"fmt"
	"math"

	"github.com/sproutml/sprout/asm"
)

// Optimizer updates parameters from their gradients (Param.Grad).
//
// State is kept per parameter, keyed by the *Param, as named buffers (for
// AdamW "m", "v" and "step"; for Muon "momentum", plus AdamW's for
// non-matrix tensors; for SGD "momentum"). Growth can keep, copy (State of
// one, SetState of another) or reset it, and checkpoints save it under the
// parameter's name. A parameter without state starts fresh at its first step.
type Optimizer interface {
	// Name is "adamw", "muon" or "sgd".
	Name() string
	// Step applies one update with base learning rate lr (each parameter's
	// LRMult applies on top where the optimizer says so) and counts it.
	Step(params []*Param, lr float32)
	// Steps is the number of Step calls so far (restored by SetSteps).
	Steps() int
	SetSteps(n int)
	// State returns p's state buffers (live, not copies), or nil if p has none.
	State(p *Param) map[string][]float32
	// SetState replaces p's state with copies of s; it checks names and sizes.
	SetState(p *Param, s map[string][]float32) error
	// ResetState forgets p's state (it starts fresh at the next step).
	ResetState(p *Param)
}

// ClipGradNorm scales every Param.Grad so that their global L2 norm is at
// most maxNorm, and returns the norm before clipping. maxNorm <= 0 only
// measures. The sum runs in float64 in parameter order (deterministic).
func ClipGradNorm(params []*Param, maxNorm float32) float32 {
	var ss float64
	for _, p := range params {
		ss += sumSquares64(p.Grad)
	}
	norm := float32(math.Sqrt(ss))
	if maxNorm > 0 && norm > maxNorm {
		s := maxNorm / (norm + 1e-6)
		for _, p := range params {
			asm.Scale(s, p.Grad)
		}
	}
	return norm
}

// sumSquares64 sums x^2 in float32 blocks of 1024 (asm.SumSquares, several
// partial sums each) folded into float64: fast, and accurate enough for a
// norm. The result depends on the kernel path's summation order, never on
// anything else.
func sumSquares64(x []float32) float64 {
	var total float64
	for len(x) > 0 {
		n := min(len(x), 1024)
		total += float64(asm.SumSquares(x[:n]))
		x = x[n:]
	}
	return total
}

// ReduceGrads sets Param.Grad = scale * (sum of the tapes' gradients), adding
// the tapes in the order given so the result does not depend on scheduling.
// Use scale 1/len(tapes) when each tape's loss is the mean over an equal
// shard. Every tape must be bound to params (same order).
func ReduceGrads(params []*Param, scale float32, tapes ...*Tape) error {
	for ti, t := range tapes {
		if len(t.grads) != len(params) {
			return fmt.Errorf("nn: ReduceGrads: tape %d holds %d gradients for %d parameters (run a Forward after the model changed)", ti, len(t.grads), len(params))
		}
		for i, p := range params {
			if t.params[i] != p {
				return fmt.Errorf("nn: ReduceGrads: tape %d is not bound to parameter %s at %d", ti, p.Name, i)
			}
		}
	}
	for i, p := range params {
		g := p.Grad
		if len(tapes) == 0 {
			clear(g)
			continue
		}
		copy(g, tapes[0].grads[i])
		for _, t := range tapes[1:] {
			addTo(g, t.grads[i])
		}
		if scale != 1 {
			asm.Scale(scale, g)
		}
	}
	return nil
}

// stateStore holds per-parameter named buffers.
type stateStore struct {
	m map[*Param]map[string][]float32
}

func (s *stateStore) get(p *Param) map[string][]float32 {
	if s.m == nil {
		return nil
	}
	return s.m[p]
}

// ensure returns p's state, creating zero buffers of the given sizes.
func (s *stateStore) ensure(p *Param, names []string, sizes []int) map[string][]float32 {
	if s.m == nil {
		s.m = make(map[*Param]map[string][]float32)
	}
	st := s.m[p]
	if st == nil {
		st = make(map[string][]float32, len(names))
		for i, n := range names {
			st[n] = make([]float32, sizes[i])
		}
		s.m[p] = st
	}
	return st
}

func (s *stateStore) set(p *Param, in map[string][]float32, want map[string]int) error {
	for name, size := range want {
		b, ok := in[name]
		if !ok {
			return fmt.Errorf("nn: optimizer state for %s lacks %q", p.Name, name)
		}
		if len(b) != size {
			return fmt.Errorf("nn: optimizer state %q for %s has %d values, want %d", name, p.Name, len(b), size)
		}
	}
	for name := range in {
		if _, ok := want[name]; !ok {
			return fmt.Errorf("nn: optimizer state for %s has unknown buffer %q", p.Name, name)
		}
	}
	if s.m == nil {
		s.m = make(map[*Param]map[string][]float32)
	}
	st := make(map[string][]float32, len(in))
	for name, b := range in {
		st[name] = append([]float32(nil), b...)
	}
	s.m[p] = st
	return nil
}

func (s *stateStore) reset(p *Param) {
	if s.m != nil {
		delete(s.m, p)
	}
}
