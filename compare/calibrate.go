package compare

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/trainer"
)

// DefaultCalibrateFrac is the share of a run's steps each calibration run
// trains by default.
const DefaultCalibrateFrac = 0.2

// Calibration is what Calibrate measured and the expansion point it picks.
//
// The model, as the zero/one-layer expansion paper states it: after an
// expansion the grown run needs a mixing time t_mix, in optimizer steps, to
// come within the tolerance of the fixed-depth run, about the same wherever
// the expansion happens. So a run of T steps that expands at T - t_mix ends
// mixed, and t_mix is measured on a run that expands right after warmup.
// At depth 6, width 64 it does not hold: t_mix grows with the expansion
// point (docs/experiments.md, "Mixing time against tau"), so the point
// picked comes too late there.
type Calibration struct {
	Steps      int     `json:"steps"`       // T: the budget calibrated for
	CalibSteps int     `json:"calib_steps"` // steps each calibration run trained
	GrowStep   int     `json:"grow_step"`   // where its progressive run grew (the end of warmup)
	Tolerance  float64 `json:"tolerance"`

	// MixSteps is t_mix: the steps after GrowStep from which on the
	// progressive run's validation loss stayed within Tolerance of the
	// fixed run's at every evaluation to the end of the calibration; -1
	// when it did not by its last evaluation (t_mix > CalibSteps -
	// GrowStep). A run that touches the fixed one once and falls behind
	// again has not mixed: right after warmup both models are near their
	// start, and their first evaluations can be close by chance.
	MixSteps int `json:"mix_steps"`

	// At is the expansion point picked, as a step of the T-step run:
	// T - MixSteps, kept inside the stable phase (after warmup, at most
	// grow.BeforeDecay before a WSD decay). Clamped says why it moved, ""
	// when it did not; with MixSteps -1 it is GrowStep (the calibration
	// gives no later point that would mix).
	At      int    `json:"at"`
	Clamped string `json:"clamped,omitempty"`

	FLOPs float64 `json:"flops"` // spent by the two calibration runs
	Fixed []Point `json:"fixed"` // the calibration runs' curves
	Grown []Point `json:"grown"`
}

// Tau is the picked expansion point as a fraction of the run.
func (c *Calibration) Tau() float64 { return float64(c.At) / float64(c.Steps) }

// String says what the calibration found, in a sentence.
func (c *Calibration) String() string {
	mix := fmt.Sprintf("the grown run came within %g%% of fixed depth %d steps after its expansion", 100*c.Tolerance, c.MixSteps)
	if c.MixSteps < 0 {
		mix = fmt.Sprintf("the grown run did not come within %g%% of fixed depth in the %d steps after its expansion", 100*c.Tolerance, c.CalibSteps-c.GrowStep)
	}
	s := fmt.Sprintf("calibration (2 runs of %d steps): %s; expanding at step %d of %d (tau %.3f)", c.CalibSteps, mix, c.At, c.Steps, c.Tau())
	if c.Clamped != "" {
		s += " (" + c.Clamped + ")"
	}
	return s
}

// Calibrate measures the mixing time of base's growth plan for base's
// budget: a fixed-depth run and a run grown (base.Grow's source depth and
// strategy) right after warmup, each trained for the first calSteps steps
// of base's schedule and evaluated at the same steps on base's validation
// windows; then it picks the expansion point (see Calibration). calSteps 0
// takes DefaultCalibrateFrac of the steps. base.Out is ignored: the
// calibration runs write no checkpoints.
func Calibrate(ctx context.Context, base trainer.Config, calSteps int, tol float64, opt Options) (*Calibration, error) {
	if base.Grow == nil {
		return nil, errors.New("compare: calibrate: the run has no growth plan")
	}
	base.Defaults()
	if err := base.Validate(); err != nil {
		return nil, fmt.Errorf("compare: calibrate: %w", err)
	}
	if calSteps == 0 {
		calSteps = int(math.Round(DefaultCalibrateFrac * float64(base.Steps)))
	}
	sched := trainer.Schedule{Kind: base.Schedule, Steps: base.Steps, Peak: base.LR, Warmup: max(base.Warmup, 0), Decay: max(base.Decay, 0), DecayShape: base.DecayShape}
	warm := max(1, sched.WarmupSteps())
	end := decayStart(base)
	if calSteps <= warm || calSteps > end {
		return nil, fmt.Errorf("compare: calibrate: %d calibration steps: want more than the %d warmup steps and at most the %d before the decay", calSteps, warm, end)
	}
	c := &Calibration{Steps: base.Steps, CalibSteps: calSteps, GrowStep: warm, Tolerance: tol, MixSteps: -1}

	base.Out, base.CheckpointEvery = "", 0
	base.EvalEvery = max(1, (calSteps-warm)/20)
	fixed := base
	fixed.Grow = nil
	grown := base
	plan := *base.Grow
	plan.At, plan.AtStep, plan.Extra = 0, warm, nil
	grown.Grow = &plan
	for i, cfg := range []trainer.Config{fixed, grown} {
		name := []string{"fixed", "grown"}[i]
		v := Variant{Name: "calibration " + name, Config: cfg}
		if i == 1 {
			v.Spec = Spec{From: plan.From, Strategy: plan.Strategy}
			v.Stages = []grow.Stage{{At: warm, Layers: cfg.Model.Layers, Strategy: plan.Strategy}}
		}
		r, err := runFirst(ctx, v, calSteps, opt, fmt.Sprintf("calibrate %d/2", i+1))
		if err != nil {
			return nil, err
		}
		c.FLOPs += r.Summary.FLOPs
		if i == 0 {
			c.Fixed = r.Evals
		} else {
			c.Grown = r.Evals
		}
	}
	c.MixSteps = mixSteps(c.Fixed, c.Grown, warm, tol)
	c.pick(end, base.Schedule == trainer.ScheduleWSD)
	return c, nil
}

// mixSteps is the steps after growStep from which on grown's validation
// loss stays within tol of fixed's at every common evaluation, or -1 when
// the last one is not.
func mixSteps(fixed, grown []Point, growStep int, tol float64) int {
	at := make(map[int64]float64, len(fixed))
	for _, p := range fixed {
		at[p.Step] = p.ValLoss
	}
	mix := -1
	for _, p := range grown {
		f, ok := at[p.Step]
		switch {
		case !ok || p.Step <= int64(growStep):
		case !Mixed(p.ValLoss, f, tol):
			mix = -1
		case mix < 0:
			mix = int(p.Step) - growStep
		}
	}
	return mix
}

// pick sets At from MixSteps, inside [GrowStep, the latest point before
// end (the decay's start)].
func (c *Calibration) pick(end int, wsd bool) {
	if c.MixSteps < 0 {
		c.At, c.Clamped = c.GrowStep, "no later point is known to mix"
		return
	}
	latest := end
	if wsd {
		latest = end - int(math.Ceil(grow.BeforeDecay*float64(c.Steps)))
	}
	c.At = c.Steps - c.MixSteps
	switch {
	case c.At > latest:
		c.At, c.Clamped = latest, "kept before the decay"
	case c.At < c.GrowStep:
		c.At, c.Clamped = c.GrowStep, "not before the end of warmup"
	}
}

// runFirst trains the first steps steps of v's run and stops it there.
func runFirst(ctx context.Context, v Variant, steps int, opt Options, tag string) (Run, error) {
	cut, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := stopAt{int64(steps), cancel}
	o := opt
	o.Sink = trainer.Sinks{stop}
	if opt.Sink != nil {
		o.Sink = trainer.Sinks{opt.Sink, stop}
	}
	r, err := runOne(cut, v, o, tag)
	if err != nil && ctx.Err() == nil && errors.Is(err, trainer.ErrInterrupted) && r.Summary.Steps >= int64(steps) {
		err = nil // stopped where asked
	}
	return r, err
}

// stopAt is a sink that cancels a run once it has taken step steps.
type stopAt struct {
	step   int64
	cancel context.CancelFunc
}

func (s stopAt) Emit(e trainer.Event) error {
	if e, ok := e.(trainer.StepEvent); ok && e.Step >= s.step {
		s.cancel()
	}
	return nil
}
