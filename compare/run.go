package compare

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/trainer"
)

// TrainFunc runs one training job; trainer.Run is the real one.
type TrainFunc func(ctx context.Context, cfg trainer.Config, sink trainer.Sink) (*trainer.Result, error)

// Options control how an experiment runs.
type Options struct {
	// Progress receives a header per run, the trainer's live progress line
	// and a closing line per run (for example os.Stderr); nil prints nothing.
	Progress io.Writer
	// Sink, if set, also receives every event of every run.
	Sink trainer.Sink
	// Train runs one job (default trainer.Run); tests replace it.
	Train TrainFunc
}

// Point is one evaluation of a run.
type Point struct {
	Step    int64   `json:"step"`
	Tokens  int64   `json:"tokens"`
	FLOPs   float64 `json:"flops"`
	WallS   float64 `json:"wall_s"`
	ValLoss float64 `json:"val_loss"`
	Layers  int     `json:"layers"`
}

// GrowPoint is one expansion of a run.
type GrowPoint struct {
	Step  int64   `json:"step"`
	From  int     `json:"from"`
	To    int     `json:"to"`
	Init  string  `json:"init"`
	FLOPs float64 `json:"flops"` // spent before the expansion
	WallS float64 `json:"wall_s"`
}

// Run is one finished run of an experiment.
type Run struct {
	Name    string
	Spec    Spec
	Config  trainer.Config
	Evals   []Point
	Grows   []GrowPoint
	Summary trainer.SummaryEvent
	// Recipe is what the run shares with every run it is compared with
	// (RecipeOf its Config); nil when unknown, for a run read back from a
	// file written before runs recorded it.
	Recipe *Recipe
}

// FinalValLoss is the run's final validation loss, NaN when it has none.
func (r Run) FinalValLoss() float64 {
	if r.Summary.FinalValLoss == nil {
		return math.NaN()
	}
	return *r.Summary.FinalValLoss
}

// Tau is the run's (last) expansion point as a fraction of its steps, 0 for
// a fixed-depth run.
func (r Run) Tau() float64 {
	steps := r.Config.Steps
	switch {
	case steps > 0 && r.Summary.GrowStep != nil:
		return float64(*r.Summary.GrowStep) / float64(steps)
	case r.Config.Grow == nil:
		return 0
	case r.Config.Grow.AtStep > 0 && steps > 0:
		return float64(r.Config.Grow.AtStep) / float64(steps)
	}
	return r.Config.Grow.At
}

// Report is the outcome of an experiment.
type Report struct {
	Runs      []Run
	Baseline  int     // index of the baseline in Runs, -1 when it has not run
	Tolerance float64 // relative loss gap that counts as mixed
	Sweep     *Sweep  // nil without a tau sweep
}

// Sweep is the outcome of a tau sweep.
type Sweep struct {
	Of    string     // the swept spec, without its expansion point
	Tried []TauTrial // latest tau first
	Tau   float64    // the latest tau that mixed, when Found
	Found bool
}

// TauTrial is one expansion point of a sweep.
type TauTrial struct {
	Tau          float64
	Run          string // the run's name in the report
	FinalValLoss float64
	Mixed        bool
}

// Run trains every variant one after another, then the tau sweep if asked.
// On an error (a failed run, a cancelled context) it returns the report of
// the runs finished so far together with the error.
func (e Experiment) Run(ctx context.Context, opt Options) (*Report, error) {
	vs, err := e.Variants()
	if err != nil {
		return nil, err
	}
	e, _ = e.withDefaults()
	rep := &Report{Baseline: -1, Tolerance: e.Tolerance}
	total := len(vs)
	for i, v := range vs {
		r, err := runOne(ctx, v, opt, fmt.Sprintf("%d/%d", i+1, total))
		if err != nil {
			return rep, err
		}
		rep.Runs = append(rep.Runs, r)
		if rep.Baseline < 0 && v.Spec.fullFixed() && v.Config.Schedule == scheduleOf(e.Base) {
			rep.Baseline = len(rep.Runs) - 1
		}
	}
	if len(e.TauSweep) == 0 {
		return rep, nil
	}
	return rep, e.sweep(ctx, rep, opt)
}

// sweep reruns the best progressive variant at the sweep's expansion points,
// latest first, and stops at the first that mixes.
func (e Experiment) sweep(ctx context.Context, rep *Report, opt Options) error {
	best := bestProgressive(rep.Runs, scheduleOf(e.Base))
	if best < 0 || rep.Baseline < 0 {
		return fmt.Errorf("compare: tau sweep: no finished progressive run or baseline to sweep from")
	}
	base := rep.Runs[rep.Baseline].FinalValLoss()
	spec := rep.Runs[best].Spec
	spec.At = 0
	sw := &Sweep{Of: spec.Name()}
	rep.Sweep = sw
	taus := append([]float64(nil), e.TauSweep...)
	sort.Sort(sort.Reverse(sort.Float64Slice(taus)))
	for i, tau := range taus {
		if i > 0 && tau == taus[i-1] {
			continue
		}
		s := spec
		s.At = tau
		v, err := e.variant(s)
		if err != nil {
			return fmt.Errorf("compare: tau sweep: %w", err)
		}
		r, ok := findSame(rep.Runs, v)
		if !ok {
			r, err = runOne(ctx, v, opt, fmt.Sprintf("sweep %d/%d", i+1, len(taus)))
			if err != nil {
				return err
			}
			rep.Runs = append(rep.Runs, r)
		}
		t := TauTrial{Tau: tau, Run: r.Name, FinalValLoss: r.FinalValLoss()}
		t.Mixed = Mixed(t.FinalValLoss, base, rep.Tolerance)
		sw.Tried = append(sw.Tried, t)
		if t.Mixed {
			sw.Tau, sw.Found = tau, true
			break
		}
	}
	return nil
}

// Mixed reports whether a final validation loss is within tol (relative) of
// the baseline's, or below it.
func Mixed(loss, baseline, tol float64) bool {
	return !math.IsNaN(loss) && !math.IsNaN(baseline) && loss <= baseline*(1+tol)
}

// LatestMixingTau returns the latest expansion point whose run's final
// validation loss mixed (see Mixed): taus[i] gave losses[i].
func LatestMixingTau(taus, losses []float64, baseline, tol float64) (tau float64, ok bool) {
	for i := range taus {
		if i < len(losses) && Mixed(losses[i], baseline, tol) && (!ok || taus[i] > tau) {
			tau, ok = taus[i], true
		}
	}
	return tau, ok
}

// bestProgressive is the index of the progressive run on the given schedule
// with the lowest final validation loss, or -1.
func bestProgressive(runs []Run, schedule string) int {
	best := -1
	for i, r := range runs {
		if !r.Spec.Progressive() || r.Config.Schedule != schedule || math.IsNaN(r.FinalValLoss()) {
			continue
		}
		if best < 0 || r.FinalValLoss() < runs[best].FinalValLoss() {
			best = i
		}
	}
	return best
}

// findSame finds a finished run that v would repeat: same seed, source,
// strategy, schedule and expansion steps.
func findSame(runs []Run, v Variant) (Run, bool) {
	for _, r := range runs {
		if r.Seed() == v.Config.Seed && r.Spec.From == v.Spec.From && r.Spec.Strategy == v.Spec.Strategy && r.Config.Schedule == v.Config.Schedule &&
			r.Config.Grow != nil && sameStages(r, v.Stages) {
			return r, true
		}
	}
	return Run{}, false
}

func sameStages(r Run, stages []grow.Stage) bool {
	if len(r.Grows) != len(stages) {
		return false
	}
	for i, g := range r.Grows {
		if g.Step != int64(stages[i].At) || g.To != stages[i].Layers {
			return false
		}
	}
	return true
}

// runOne trains one variant and collects its evaluations and expansions.
func runOne(ctx context.Context, v Variant, opt Options, tag string) (Run, error) {
	train := opt.Train
	if train == nil {
		train = trainer.Run
	}
	recipe := RecipeOf(v.Config)
	c := &collector{v: v, run: Run{Name: v.Name, Spec: v.Spec, Config: v.Config, Recipe: &recipe}}
	sinks := trainer.Sinks{c}
	if opt.Sink != nil {
		sinks = append(sinks, opt.Sink)
	}
	if opt.Progress != nil {
		fmt.Fprintf(opt.Progress, "[%s] %s: %s\n", tag, v.Name, describe(v))
		sinks = append(sinks, trainer.NewProgress(opt.Progress, int64(v.Config.Steps)))
	}
	res, err := train(ctx, v.Config, sinks)
	if res != nil {
		c.run.Summary = res.Summary
	}
	if err != nil {
		return c.run, fmt.Errorf("compare: run %q: %w", v.Name, err)
	}
	if opt.Progress != nil {
		s := c.run.Summary
		fmt.Fprintf(opt.Progress, "[%s] %s: final val loss %s, %.3g FLOPs, %.1fs\n", tag, v.Name, fmtLoss(c.run.FinalValLoss()), s.FLOPs, s.WallS)
	}
	return c.run, nil
}

// describe says what a variant does, for the progress header.
func describe(v Variant) string {
	cfg := v.Config
	var sb strings.Builder
	if len(v.Stages) == 0 {
		fmt.Fprintf(&sb, "fixed depth %d", cfg.Model.Layers)
	} else {
		fmt.Fprintf(&sb, "%d -> %d blocks (%s) at step %d", v.Spec.From, cfg.Model.Layers, v.Stages[len(v.Stages)-1].Strategy, v.Stages[len(v.Stages)-1].At)
	}
	fmt.Fprintf(&sb, ", %s schedule, %d steps x %d x %d tokens, seed %d", cfg.Schedule, cfg.Steps, cfg.Batch, cfg.Model.Ctx, cfg.Seed)
	return sb.String()
}

// collector is the sink that records a run's curve.
type collector struct {
	v         Variant
	run       Run
	lastStep  int64 // the last step event seen
	lastFLOPs float64
}

func (c *collector) Emit(e trainer.Event) error {
	switch e := e.(type) {
	case trainer.StepEvent:
		c.lastStep, c.lastFLOPs = e.Step, e.FLOPs
		if e.ValLoss != nil {
			c.run.Evals = append(c.run.Evals, Point{Step: e.Step, Tokens: e.Tokens, FLOPs: e.FLOPs, WallS: e.WallS, ValLoss: *e.ValLoss, Layers: e.Layers})
		}
	case trainer.GrowEvent:
		c.run.Grows = append(c.run.Grows, GrowPoint{Step: e.Step, From: e.From, To: e.To, Init: e.Init, FLOPs: c.flopsAt(e.Step), WallS: e.WallS})
	case trainer.SummaryEvent:
		c.run.Summary = e
	}
	return nil
}

// flopsAt is the FLOPs the variant spent in its first step steps: the
// trainer's own count when it reported that step, else grow's FLOP
// accounting (which the trainer uses too).
func (c *collector) flopsAt(step int64) float64 {
	if c.lastStep == step {
		return c.lastFLOPs
	}
	cfg := c.v.Config
	var stages []grow.Stage
	for _, s := range c.v.Stages {
		if int64(s.At) < step {
			stages = append(stages, s)
		}
	}
	spent, _ := grow.RunFLOPs(cfg.Model, c.v.Spec.From, stages, int(step), cfg.Batch, cfg.Model.Ctx)
	return spent
}

func fmtLoss(l float64) string {
	if math.IsNaN(l) {
		return "-"
	}
	return fmt.Sprintf("%.4f", l)
}
