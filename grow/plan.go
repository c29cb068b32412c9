package grow

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Strategy names how the blocks of an expanded model are initialised.
type Strategy string

// The strategies Expand knows.
const (
	Random         Strategy = "random"          // keep the trained blocks, add fresh random (muP-scaled) blocks above them
	Copy           Strategy = "copy"            // stack copies of the trained blocks: b0 b1 .. bk-1 b0 b1 ..
	CopyInterleave Strategy = "copy-interleave" // repeat each trained block in place: b0 b0 .. b1 b1 ..
	CopyLast       Strategy = "copy-last"       // keep the trained blocks, add copies of the last one
	Zero           Strategy = "zero"            // keep the trained blocks, add identity blocks (zero output projections)
)

// Strategies lists every strategy, the default first.
var Strategies = []Strategy{Random, Copy, CopyInterleave, CopyLast, Zero}

// ParseStrategy returns the named strategy or an error listing the known ones.
func ParseStrategy(s string) (Strategy, error) {
	for _, k := range Strategies {
		if string(k) == s {
			return k, nil
		}
	}
	names := make([]string, len(Strategies))
	for i, k := range Strategies {
		names[i] = string(k)
	}
	return "", fmt.Errorf("grow: unknown strategy %q (want %s)", s, strings.Join(names, ", "))
}

// copies reports whether the strategy copies trained blocks (and so needs at
// least one).
func (s Strategy) copies() bool { return s == Copy || s == CopyInterleave || s == CopyLast }

// OptimState says what the optimizer state of an expanded model starts from.
// Old parameters always keep theirs unless the mode is ResetAll.
type OptimState string

const (
	// FreshNew (default): trained parameters keep their optimizer state, new
	// blocks start with none (their first step initialises it).
	FreshNew OptimState = "fresh"
	// CopySource: a block copied from a trained block also copies that
	// block's optimizer state (moments, momentum, step counts); random and
	// zero blocks start fresh.
	CopySource OptimState = "copy"
	// ResetAll: every parameter's optimizer state is forgotten at expansion.
	ResetAll OptimState = "reset"
)

// ParseOptimState returns the named mode or an error.
func ParseOptimState(s string) (OptimState, error) {
	switch OptimState(s) {
	case FreshNew, CopySource, ResetAll:
		return OptimState(s), nil
	case "":
		return FreshNew, nil
	}
	return "", fmt.Errorf("grow: unknown optimizer-state mode %q (want fresh, copy or reset)", s)
}

// Stage is one expansion: at the start of step At (0-based: after At
// optimizer steps have been taken), the model grows to Layers blocks with
// Strategy. A stage that grows from zero blocks always uses Random (there is
// nothing to copy); Zero stays Zero.
type Stage struct {
	At       int      `json:"at"`
	Layers   int      `json:"layers"`
	Strategy Strategy `json:"strategy"`
}

// Plan describes a progressive run. The zero value of an optional field
// selects the default in its comment.
type Plan struct {
	From int `json:"from"` // source depth: 0, 1 or any
	To   int `json:"to"`   // target depth, deeper than From

	// When the (last) expansion happens: At as a fraction of the run's steps
	// in (0, 1), or AtStep as a step number when > 0. With neither, the
	// trainer takes DefaultAtFor the model's depth and width and the
	// schedule's decay; Stages alone, which knows no width, takes DefaultAt.
	At     float64 `json:"at,omitempty"`
	AtStep int     `json:"at_step,omitempty"`

	Strategy   Strategy   `json:"strategy,omitempty"`    // default Random
	OptimState OptimState `json:"optim_state,omitempty"` // default FreshNew
	Scale      Scale      `json:"scale,omitempty"`       // init scale of new random blocks, default ScaleDepth
	Place      Place      `json:"place,omitempty"`       // where random/zero keep the trained blocks, default PlaceBottom

	// Rewarmup, when > 0, ramps the learning rate linearly back up over
	// this fraction of the run's steps after each expansion (from 1/W of the
	// scheduled rate on the first step after it to the full rate on step W),
	// for the whole model. 0 keeps the scheduled rate (the paper's rule).
	Rewarmup float64 `json:"rewarmup,omitempty"`

	// Auto records how an automatic expansion point (AtStep) was picked:
	// nil when the user gave it or took the default.
	Auto *Auto `json:"auto,omitempty"`

	// Extra earlier stages for multi-stage ablations (e.g. 0 -> 2 at 0.5,
	// then -> 12 at 0.8): each is (fraction of the run, depth), strictly
	// increasing in both, all before the final expansion and shallower than To.
	Extra []ExtraStage `json:"extra,omitempty"`
}

// Auto is what a calibration (compare.Calibrate) measured for a plan's
// expansion point: a fixed-depth and a grown run of CalibSteps steps each,
// the grown one expanded at GrowStep, came within Tolerance of each other
// MixSteps steps after the expansion (-1: never), for FLOPs.
type Auto struct {
	CalibSteps int     `json:"calib_steps"`
	GrowStep   int     `json:"grow_step"`
	MixSteps   int     `json:"mix_steps"`
	Tolerance  float64 `json:"tolerance"`
	FLOPs      float64 `json:"flops"`
}

// ExtraStage is an intermediate expansion of a multi-stage plan.
type ExtraStage struct {
	At     float64 `json:"at"`
	Layers int     `json:"layers"`
}

// DefaultAt is the paper's expansion point: 80% of the run.
const DefaultAt = 0.8

// NarrowDeepAt is the default expansion point for 12 or more blocks of
// width 128 or less (see DefaultAtFor).
const NarrowDeepAt = 0.6

// BeforeDecay is how close to the decay phase of a WSD schedule the default
// expansion point may come, as a fraction of the run's steps. The paper grows
// in the stable phase, and with a long decay (say the last 20% of the run)
// its 0.8 would fall inside the decay; the default then moves to 1% before it.
const BeforeDecay = 0.01

// DefaultAtFor is the default expansion point for a target of layers blocks
// of width dim, in a run whose last decay fraction of the steps is the decay
// phase of a WSD schedule (0 for a schedule without one): the point measured
// to come closest to mixing at that size, or the paper's DefaultAt where
// nothing here says otherwise, and never later than BeforeDecay before the
// decay.
//
// Targets of 12 or more blocks of width 128 or less grow at NarrowDeepAt:
// there tau 0.8 ended well above the fixed-depth run and 0.6 came closest
// (the gap stopped shrinking below it), so they trade some of the compute
// saved for the final loss. Shallower or wider targets keep DefaultAt,
// which mixed at depth 6 here and at the paper's depth-12 width-768 GPT-2;
// depths 7 to 11 were not measured and keep it too. The runs behind the
// rule: docs/experiments.md#the-default-tau-for-that-scale.
func DefaultAtFor(layers, dim int, decay float64) float64 {
	at := DefaultAt
	if layers >= 12 && dim <= 128 {
		at = NarrowDeepAt
	}
	if latest := latestBefore(decay); decay > 0 && latest > 0 && at > latest {
		at = latest
	}
	return at
}

// latestBefore is the latest default expansion point in a run whose last
// decay fraction of the steps is the decay phase: BeforeDecay before it,
// rounded to a millionth so that 1 - 0.2 - 0.01 reads 0.79.
func latestBefore(decay float64) float64 {
	return math.Round((1-decay-BeforeDecay)*1e6) / 1e6
}

func (p Plan) withDefaults() Plan {
	if p.At == 0 && p.AtStep == 0 {
		p.At = DefaultAt
	}
	if p.Strategy == "" {
		p.Strategy = Random
	}
	if p.OptimState == "" {
		p.OptimState = FreshNew
	}
	if p.Scale == "" {
		p.Scale = ScaleDepth
	}
	if p.Place == "" {
		p.Place = PlaceBottom
	}
	return p
}

// Stages validates the plan against a run of totalSteps optimizer steps whose
// learning-rate decay begins at step decayStart (pass totalSteps when the
// schedule has no decay phase to respect, e.g. for cosine ablations), and
// returns its expansions in order. Every problem is reported, each naming
// what is wrong.
func (p Plan) Stages(totalSteps, decayStart int) ([]Stage, error) {
	p = p.withDefaults()
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("grow: plan: "+format, a...)) }

	if totalSteps < 1 {
		bad("the run has %d steps; it needs at least 1", totalSteps)
	}
	if p.From < 0 {
		bad("source depth %d is negative", p.From)
	}
	if p.To <= p.From {
		bad("target depth %d is not deeper than the source depth %d", p.To, p.From)
	}
	if _, err := ParseStrategy(string(p.Strategy)); err != nil {
		errs = append(errs, err)
	} else if p.Strategy.copies() && p.From == 0 && len(p.Extra) == 0 {
		bad("strategy %q copies trained blocks, but the source has none (use random or zero from 0 blocks)", p.Strategy)
	}
	if _, err := ParseOptimState(string(p.OptimState)); err != nil {
		errs = append(errs, err)
	}
	if _, err := ParseScale(string(p.Scale)); err != nil {
		errs = append(errs, err)
	}
	if pl, err := ParsePlace(string(p.Place)); err != nil {
		errs = append(errs, err)
	} else if pl != PlaceBottom && p.Strategy.copies() {
		bad("placement %q applies to the random and zero strategies, not %q", pl, p.Strategy)
	}
	if p.Rewarmup < 0 || p.Rewarmup >= 1 || math.IsNaN(p.Rewarmup) {
		bad("re-warmup %v is not a fraction of the run in [0, 1)", p.Rewarmup)
	}
	if p.AtStep < 0 {
		bad("expansion step %d is negative", p.AtStep)
	}
	if p.AtStep == 0 && (p.At <= 0 || p.At >= 1 || math.IsNaN(p.At)) {
		bad("expansion point %v is not a fraction of the run in (0, 1)", p.At)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	at := p.AtStep
	if at == 0 {
		at = int(math.Round(p.At * float64(totalSteps)))
	}
	var stages []Stage
	prevAt, prevDepth := 0, p.From
	for i, e := range p.Extra {
		s := Stage{At: int(math.Round(e.At * float64(totalSteps))), Layers: e.Layers, Strategy: stageStrategy(p.Strategy, prevDepth)}
		switch {
		case e.At <= 0 || e.At >= 1 || math.IsNaN(e.At):
			bad("extra stage %d: point %v is not a fraction of the run in (0, 1)", i+1, e.At)
		case s.At <= prevAt || s.At >= at:
			bad("extra stage %d: step %d is not after step %d and before the final expansion at step %d", i+1, s.At, prevAt, at)
		case s.Layers <= prevDepth || s.Layers >= p.To:
			bad("extra stage %d: depth %d is not between %d and the target %d", i+1, s.Layers, prevDepth, p.To)
		}
		stages = append(stages, s)
		prevAt, prevDepth = s.At, s.Layers
	}
	if at < 1 || at >= totalSteps {
		bad("expansion at step %d is outside the run (steps 1..%d)", at, totalSteps-1)
	} else if at >= decayStart {
		bad("expansion at step %d is inside or after the decay phase (which starts at step %d); expand in the stable phase", at, decayStart)
	}
	stages = append(stages, Stage{At: at, Layers: p.To, Strategy: stageStrategy(p.Strategy, prevDepth)})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return stages, nil
}

// RewarmupSteps is the length in steps of the learning-rate re-warmup after
// each expansion of a run of totalSteps steps (0: none).
func (p Plan) RewarmupSteps(totalSteps int) int {
	if !(p.Rewarmup > 0) {
		return 0
	}
	return max(1, int(math.Round(p.Rewarmup*float64(totalSteps))))
}

// RewarmupFactor is the multiplier of the scheduled learning rate at step
// (0-based) of a run whose last expansion happened at step grewAt (< 0:
// none yet): (step-grewAt+1)/W during the W = RewarmupSteps steps that
// follow it, else 1.
func (p Plan) RewarmupFactor(step, grewAt, totalSteps int) float64 {
	w := p.RewarmupSteps(totalSteps)
	if w == 0 || grewAt < 0 || step < grewAt || step >= grewAt+w {
		return 1
	}
	return float64(step-grewAt+1) / float64(w)
}

// Options returns the expansion options of the plan's stage s, with seed.
func (p Plan) Options(s Stage, seed uint64) Options {
	p = p.withDefaults()
	o := Options{Strategy: s.Strategy, OptimState: p.OptimState, Scale: p.Scale, Seed: seed}
	if !s.Strategy.copies() {
		o.Place = p.Place
	}
	return o
}

// Validate reports whether the plan fits a run; see Stages.
func (p Plan) Validate(totalSteps, decayStart int) error {
	_, err := p.Stages(totalSteps, decayStart)
	return err
}

// Normalized returns the plan with its defaults filled in.
func (p Plan) Normalized() Plan { return p.withDefaults() }

// stageStrategy is the strategy of a stage that grows a model of from blocks.
func stageStrategy(s Strategy, from int) Strategy {
	if from == 0 && s.copies() {
		return Random
	}
	return s
}
