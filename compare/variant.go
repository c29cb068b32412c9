package compare

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/trainer"
)

// DefaultTolerance is the relative gap in final validation loss within which
// a progressive run counts as having caught up with the baseline (mixed).
const DefaultTolerance = 0.01

// Experiment is one comparison.
type Experiment struct {
	// Base is the fixed-depth run every variant derives from: its model (at
	// the target depth), data, seed, batch, steps, optimizer, learning rate,
	// schedule and evaluation settings are shared by all. Its Grow plan and
	// checkpoint directory are ignored: variants set their own plan and
	// write no checkpoints.
	Base trainer.Config

	// Specs are the runs, in order; the first fixed-depth run with the base
	// schedule is the baseline. Empty selects DefaultSpecs.
	Specs []Spec

	// At is the expansion point of specs that do not give one (default
	// Base.DefaultGrowAt: 0.8, or 0.6 for 12 or more blocks of width 128
	// or less, and never later than 1% of the steps before the decay).
	At float64

	// Grow holds the expansion options every progressive variant shares:
	// its OptimState, Scale, Place and Rewarmup are copied into each
	// variant's plan (the source depth, target, point and strategy come
	// from the spec; the other fields are ignored). The zero value keeps
	// grow's defaults.
	Grow grow.Plan

	// TauSweep, when set, reruns the best progressive variant (lowest final
	// validation loss, base schedule) at these expansion points, latest
	// first, until one mixes. Runs already done are reused.
	TauSweep []float64

	// Tolerance is the relative loss gap that counts as mixed (default
	// DefaultTolerance, 1%).
	Tolerance float64

	// Seeds, when set, runs every spec once per seed (Base.Seed is then
	// ignored), seed after seed, so that a comparison stopped early holds
	// whole seeds. Each run is compared with the fixed-depth run of its own
	// seed, and Report.SeedRows averages every variant over its seeds.
	Seeds []uint64

	// NoBaseline allows specs without the fixed-depth baseline, for a
	// comparison split across processes or machines: each part writes its
	// JSON Lines and Merge joins them, baseline included. Without it a
	// missing baseline is an error, since the table would have no deltas.
	NoBaseline bool
}

// Variant is one run of an experiment, ready for trainer.Run.
type Variant struct {
	Name   string
	Spec   Spec
	Config trainer.Config
	Stages []grow.Stage // expansions, nil for a fixed-depth run
}

func (e Experiment) withDefaults() (Experiment, error) {
	if len(e.Specs) == 0 {
		specs, err := ParseSpecs(DefaultSpecs)
		if err != nil {
			return e, err
		}
		e.Specs = specs
	}
	if e.At == 0 {
		e.At = e.Base.DefaultGrowAt()
	}
	if e.Tolerance == 0 {
		e.Tolerance = DefaultTolerance
	}
	if len(e.Seeds) == 1 { // the tau sweep's runs take it from Base
		e.Base.Seed = e.Seeds[0]
	}
	return e, nil
}

// Variants builds and checks every run of the experiment (the tau sweep's
// runs are built later, from the best variant): each is Base with its own
// growth plan and schedule, the same data, seed, token budget and
// evaluation, and no checkpoints; with Seeds, the specs once per seed, seed
// after seed. Every problem is reported.
func (e Experiment) Variants() ([]Variant, error) {
	if len(e.Seeds) == 0 {
		return e.variants()
	}
	var errs []error
	for i, s := range e.Seeds {
		if slices.Contains(e.Seeds[:i], s) {
			errs = append(errs, fmt.Errorf("compare: seed %d is listed twice", s))
		}
	}
	if len(e.TauSweep) > 0 && len(e.Seeds) > 1 {
		errs = append(errs, errors.New("compare: the tau sweep runs on one seed; for several, list the points as variants (0-random@0.6,0-random@0.5) and read the table over seeds"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var all []Variant
	for _, s := range e.Seeds {
		e.Base.Seed = s
		vs, err := e.variants()
		if err != nil {
			return nil, err // the same for every seed
		}
		all = append(all, vs...)
	}
	return all, nil
}

// variants builds and checks the runs of Base's seed.
func (e Experiment) variants() ([]Variant, error) {
	e, err := e.withDefaults()
	if err != nil {
		return nil, err
	}
	var errs []error
	if e.Base.Steps < 1 {
		errs = append(errs, fmt.Errorf("compare: the run needs at least 1 step, got %d", e.Base.Steps))
	}
	if e.Base.Model.Layers < 1 {
		errs = append(errs, fmt.Errorf("compare: the target depth must be at least 1 block, got %d", e.Base.Model.Layers))
	}
	if e.Base.EvalEvery < 0 {
		errs = append(errs, errors.New("compare: evaluation is off (eval every < 0), but the comparison is of validation losses"))
	}
	if !(e.Tolerance > 0) {
		errs = append(errs, fmt.Errorf("compare: tolerance must be positive, got %v", e.Tolerance))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	var vs []Variant
	seen := map[string]bool{}
	baseline := false
	// The same problem (a tau inside the decay, say) in several variants is
	// reported once, naming them all.
	var problems []string
	culprits := map[string][]string{}
	for _, s := range e.Specs {
		v, err := e.variant(s)
		if err != nil {
			msg := err.Error()
			if p := fmt.Sprintf("compare: variant %q: ", s.Name()); strings.HasPrefix(msg, p) {
				msg = strings.TrimPrefix(msg, p)
			}
			if culprits[msg] == nil {
				problems = append(problems, msg)
			}
			culprits[msg] = append(culprits[msg], s.Name())
			continue
		}
		if seen[v.Name] {
			errs = append(errs, fmt.Errorf("compare: variant %q is listed twice", v.Name))
		}
		seen[v.Name] = true
		if s.fullFixed() && v.Config.Schedule == scheduleOf(e.Base) {
			baseline = true
		}
		vs = append(vs, v)
	}
	for _, msg := range problems {
		names := culprits[msg]
		if len(names) == 1 {
			errs = append(errs, fmt.Errorf("compare: variant %q: %s", names[0], msg))
		} else {
			errs = append(errs, fmt.Errorf("compare: variants %s: %s", strings.Join(names, ", "), msg))
		}
	}
	if len(errs) == 0 && !baseline && !e.NoBaseline {
		errs = append(errs, fmt.Errorf("compare: the variants need a fixed-depth baseline on the base schedule (add \"fixed\")"))
	}
	if len(errs) == 0 && len(e.TauSweep) > 0 {
		// Check the sweep's points now rather than after hours of training.
		probe, ok := Spec{}, false
		for _, s := range e.Specs {
			if s.Progressive() && (s.Schedule == "" || s.Schedule == scheduleOf(e.Base)) {
				probe, ok = s, true
				break
			}
		}
		if !ok {
			errs = append(errs, errors.New("compare: the tau sweep needs a progressive variant on the base schedule"))
		}
		if !baseline {
			errs = append(errs, errors.New("compare: the tau sweep needs the fixed-depth baseline in the same run"))
		}
		for _, tau := range e.TauSweep {
			probe.At = tau
			if _, err := e.variant(probe); ok && err != nil {
				errs = append(errs, fmt.Errorf("compare: tau sweep: %w", err))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return vs, nil
}

// variant builds the run of spec s, with the trainer's defaults filled in
// and checked.
func (e Experiment) variant(s Spec) (Variant, error) {
	cfg := e.Base
	cfg.Grow = nil
	cfg.Out = ""
	cfg.CheckpointEvery = 0
	if s.Schedule != "" && s.Schedule != scheduleOf(e.Base) {
		cfg.Schedule = s.Schedule
		if s.Schedule != trainer.ScheduleWSD {
			// The decay fraction and shape belong to WSD.
			cfg.Decay, cfg.DecayShape = 0, ""
		}
	}
	v := Variant{Name: s.Name(), Spec: s}
	if s.Match != nil {
		steps, err := e.matchedSteps(*s.Match)
		if err != nil {
			return Variant{}, fmt.Errorf("compare: variant %q: %w", v.Name, err)
		}
		if cfg.EvalEvery > 0 { // as many evaluations as the full run
			cfg.EvalEvery = max(1, int(math.Round(float64(cfg.EvalEvery)*float64(steps)/float64(cfg.Steps))))
		}
		cfg.Steps = steps
	}
	if s.Progressive() {
		if s.From >= cfg.Model.Layers {
			return Variant{}, fmt.Errorf("compare: variant %q: source depth %d is not below the target depth %d", v.Name, s.From, cfg.Model.Layers)
		}
		at := s.At
		if at == 0 {
			at = e.At
		}
		cfg.Grow = &grow.Plan{From: s.From, To: cfg.Model.Layers, At: at, Strategy: s.Strategy,
			OptimState: e.Grow.OptimState, Scale: e.Grow.Scale, Place: e.Grow.Place, Rewarmup: e.Grow.Rewarmup}
		if s.Strategy != grow.Random && s.Strategy != grow.Zero {
			cfg.Grow.Place = "" // the copy strategies fix their own order
		}
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return Variant{}, fmt.Errorf("compare: variant %q: %w", v.Name, err)
	}
	if cfg.Grow != nil {
		stages, err := cfg.Grow.Stages(cfg.Steps, decayStart(cfg))
		if err != nil {
			return Variant{}, fmt.Errorf("compare: variant %q: %w", v.Name, err)
		}
		v.Stages = stages
	}
	v.Config = cfg
	return v, nil
}

// matchedSteps is the number of steps of the fixed-depth target model that
// spends the most FLOPs not above those of the progressive run m.
func (e Experiment) matchedSteps(m Spec) (int, error) {
	mv, err := e.variant(m)
	if err != nil {
		return 0, fmt.Errorf("the run to match: %s", strings.TrimPrefix(err.Error(), "compare: "))
	}
	spent, fixed, err := mv.Config.PlannedFLOPs()
	if err != nil {
		return 0, err
	}
	// The nudge keeps an exact whole number of steps from rounding down.
	steps := int(math.Floor(spent / (fixed / float64(mv.Config.Steps)) * (1 + 1e-12)))
	if steps < 1 {
		return 0, fmt.Errorf("%s spends less than one step of the fixed-depth model", m.Name())
	}
	return steps, nil
}

// scheduleOf is the config's schedule kind with the trainer's default.
func scheduleOf(c trainer.Config) string {
	if c.Schedule == "" {
		return trainer.ScheduleWSD
	}
	return c.Schedule
}

// decayStart is the step before which a run of cfg (defaults filled in) must
// expand, as the trainer reckons it: the start of WSD's decay phase; other
// schedules have no stable phase to keep to (the cosine ablation grows
// wherever it is told), so the end of the run.
func decayStart(cfg trainer.Config) int {
	if cfg.Schedule != trainer.ScheduleWSD {
		return cfg.Steps
	}
	s := trainer.Schedule{Kind: cfg.Schedule, Steps: cfg.Steps, Peak: cfg.LR, Warmup: max(cfg.Warmup, 0), Decay: max(cfg.Decay, 0), DecayShape: cfg.DecayShape}
	return s.DecayStart()
}
