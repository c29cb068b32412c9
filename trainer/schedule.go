package trainer

import (
	"fmt"
	"math"
)

// Schedule kinds.
const (
	ScheduleWSD      = "wsd"      // warmup, stable at the peak, then decay
	ScheduleCosine   = "cosine"   // warmup, then a cosine from the peak down to MinRatio
	ScheduleConstant = "constant" // warmup, then the peak until the end
)

// Decay shapes of the WSD schedule's final phase.
const (
	DecayLinear = "linear"
	DecayCosine = "cosine"
	DecaySqrt   = "1-sqrt" // 1 - sqrt(progress), the shape of Hägele et al. (2024)
)

// Defaults of the zero/one-layer expansion paper's WSD runs.
const (
	DefaultWarmup = 0.02
	DefaultDecay  = 0.10
)

// Schedule gives the learning rate of every step of a run of Steps steps,
// numbered 0 to Steps-1. It is plain data so that a checkpoint's manifest
// can carry it; build one with NewSchedule and adjust its fields, then
// Validate it.
//
// Warmup rises linearly, LR(t) = Peak*(t+1)/W for t < W, reaching the peak
// on the last warmup step. WSD holds the peak until DecayStart and then falls
// to Peak*MinRatio on the last step, following DecayShape over the progress
// p = (t - DecayStart + 1)/(Steps - DecayStart). Cosine falls from the end of
// warmup to Peak*MinRatio on the last step. Constant stays at the peak.
// W and the decay length are the fractions times Steps, rounded to the
// nearest step.
type Schedule struct {
	Kind       string  `json:"kind"`
	Steps      int     `json:"steps"`
	Peak       float64 `json:"peak_lr"`
	Warmup     float64 `json:"warmup_frac"`
	Decay      float64 `json:"decay_frac,omitempty"`  // WSD only
	DecayShape string  `json:"decay_shape,omitempty"` // WSD only
	MinRatio   float64 `json:"min_ratio"`             // final LR / Peak; WSD and cosine
}

// NewSchedule returns the default schedule of the given kind: for WSD 2%
// warmup, 10% linear decay to zero; for cosine 2% warmup down to 10% of the
// peak; for constant no warmup. The result is validated.
func NewSchedule(kind string, steps int, peak float64) (Schedule, error) {
	s := Schedule{Kind: kind, Steps: steps, Peak: peak}
	switch kind {
	case ScheduleWSD:
		s.Warmup, s.Decay, s.DecayShape = DefaultWarmup, DefaultDecay, DecayLinear
	case ScheduleCosine:
		s.Warmup, s.MinRatio = DefaultWarmup, 0.1
	}
	return s, s.Validate()
}

// Validate reports the first problem with s, if any.
func (s Schedule) Validate() error {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case s.Kind != ScheduleWSD && s.Kind != ScheduleCosine && s.Kind != ScheduleConstant:
		return fmt.Errorf("schedule: unknown kind %q (want %s, %s or %s)", s.Kind, ScheduleWSD, ScheduleCosine, ScheduleConstant)
	case s.Steps <= 0:
		return fmt.Errorf("schedule: steps must be positive, got %d", s.Steps)
	case !finite(s.Peak) || s.Peak <= 0:
		return fmt.Errorf("schedule: learning rate must be positive and finite, got %v", s.Peak)
	case !finite(s.Warmup) || s.Warmup < 0 || s.Warmup > 1:
		return fmt.Errorf("schedule: warmup fraction must be in [0, 1], got %v", s.Warmup)
	case !finite(s.MinRatio) || s.MinRatio < 0 || s.MinRatio > 1:
		return fmt.Errorf("schedule: min ratio must be in [0, 1], got %v", s.MinRatio)
	}
	if s.Kind == ScheduleWSD {
		switch {
		case !finite(s.Decay) || s.Decay < 0 || s.Decay > 1:
			return fmt.Errorf("schedule: decay fraction must be in [0, 1], got %v", s.Decay)
		case s.DecayShape != DecayLinear && s.DecayShape != DecayCosine && s.DecayShape != DecaySqrt:
			return fmt.Errorf("schedule: unknown decay shape %q (want %s, %s or %s)", s.DecayShape, DecayLinear, DecayCosine, DecaySqrt)
		case s.WarmupSteps() > s.DecayStart():
			return fmt.Errorf("schedule: warmup (%d steps) runs into the decay phase (from step %d of %d): warmup %v + decay %v is more than the whole run", s.WarmupSteps(), s.DecayStart(), s.Steps, s.Warmup, s.Decay)
		}
	} else if s.Decay != 0 || s.DecayShape != "" {
		return fmt.Errorf("schedule: decay fraction and shape apply to %s only, not %s", ScheduleWSD, s.Kind)
	}
	return nil
}

// WarmupSteps is the number of warmup steps.
func (s Schedule) WarmupSteps() int {
	return int(math.Round(s.Warmup * float64(s.Steps)))
}

// DecayStart is the first step whose learning rate is below the peak: for
// WSD the start of the decay phase, for cosine the end of warmup, for
// constant Steps (it never decays). Growth must happen before it to keep the
// paper's rule of expanding in the stable phase.
func (s Schedule) DecayStart() int {
	switch s.Kind {
	case ScheduleWSD:
		return s.Steps - int(math.Round(s.Decay*float64(s.Steps)))
	case ScheduleCosine:
		return s.WarmupSteps()
	}
	return s.Steps
}

// LR is the learning rate of step t. Steps before 0 take step 0's rate and
// steps past the end the last step's.
func (s Schedule) LR(t int) float64 {
	return s.Peak * s.Multiplier(t)
}

// Multiplier is LR(t)/Peak.
func (s Schedule) Multiplier(t int) float64 {
	t = max(0, min(t, s.Steps-1))
	if w := s.WarmupSteps(); t < w {
		return float64(t+1) / float64(w)
	}
	var p float64 // progress through the decay, in (0, 1]
	switch s.Kind {
	case ScheduleConstant:
		return 1
	case ScheduleCosine:
		w := s.WarmupSteps()
		p = float64(t-w+1) / float64(s.Steps-w)
		return s.MinRatio + (1-s.MinRatio)*0.5*(1+math.Cos(math.Pi*p))
	}
	d := s.DecayStart()
	if t < d {
		return 1
	}
	p = float64(t-d+1) / float64(s.Steps-d)
	var f float64
	switch s.DecayShape {
	case DecayCosine:
		f = 0.5 * (1 + math.Cos(math.Pi*p))
	case DecaySqrt:
		f = 1 - math.Sqrt(p)
	default:
		f = 1 - p
	}
	return s.MinRatio + (1-s.MinRatio)*f
}
