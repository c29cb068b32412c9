package compare

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/trainer"
)

// WriteJSONL writes one JSON object per run (JSON Lines): the run's name,
// how it was set up (seed, schedule, strategy, tau), its comparison with the
// baseline (baseline: true on the baseline itself; delta_pct, flops_ratio,
// wall_ratio, mixed; null without a
// baseline; iso_loss_flops_ratio and iso_loss_wall_ratio, what the baseline
// spent to first reach the run's final loss over what the run spent, null
// when it never did; equal_loss_flops_ratio, Row.EqualLossFLOPsRatio), the trainer's summary fields (final_val_loss, flops,
// fixed_flops, flops_saved_frac, wall_s, tokens, layers_start, layers_end,
// grow_step, ...), its growth plan (plan: source and target depth, point,
// strategy, optimizer-state mode, init scale, placement, re-warmup; absent
// for fixed-depth runs), its model (at the target depth), its recipe (the
// optimizer, learning rate and the rest of Recipe), and its evaluation and
// expansion points.
func (r *Report) WriteJSONL(w io.Writer) error {
	rows := r.Rows()
	for i, run := range r.Runs {
		b, err := runJSON(run, rows[i], i == r.Baseline)
		if err != nil {
			return err
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// jnum is a float64 that encodes as null when it is not finite.
type jnum float64

func (n jnum) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// knownModel is m, or nil for a run read back from a file that did not
// record its model.
func knownModel(m nn.Config) *nn.Config {
	if m.Dim == 0 {
		return nil
	}
	return &m
}

func runJSON(run Run, row Row, baseline bool) ([]byte, error) {
	var strategy string
	if run.Spec.Progressive() {
		strategy = string(run.Spec.Strategy)
	}
	head, err := json.Marshal(struct {
		Name       string     `json:"name"`
		Seed       uint64     `json:"seed"`
		Schedule   string     `json:"schedule"`
		Strategy   string     `json:"strategy,omitempty"`
		Tau        jnum       `json:"tau,omitempty"`
		DeltaPct   jnum       `json:"delta_pct"`
		FLOPsRatio jnum       `json:"flops_ratio"`
		WallRatio  jnum       `json:"wall_ratio"`
		IsoFLOPs   jnum       `json:"iso_loss_flops_ratio"`
		IsoWall    jnum       `json:"iso_loss_wall_ratio"`
		EqualLoss  jnum       `json:"equal_loss_flops_ratio"`
		Mixed      bool       `json:"mixed"`
		Baseline   bool       `json:"baseline"`
		Plan       *grow.Plan `json:"plan,omitempty"`
		Model      *nn.Config `json:"model,omitempty"`
		Recipe     *Recipe    `json:"recipe,omitempty"`
	}{run.Name, run.Seed(), run.Config.Schedule, strategy, jnum(run.Tau()), jnum(row.DeltaPct), jnum(row.FLOPsRatio), jnum(row.WallRatio),
		jnum(row.IsoFLOPsRatio), jnum(row.IsoWallRatio), jnum(row.EqualLossFLOPsRatio), row.Mixed, baseline, run.Config.Grow, knownModel(run.Config.Model),
		run.Recipe})
	if err != nil {
		return nil, fmt.Errorf("compare: encoding run %q: %w", run.Name, err)
	}
	summary, err := json.Marshal(run.Summary)
	if err != nil {
		return nil, fmt.Errorf("compare: encoding run %q: %w", run.Name, err)
	}
	// The summary's fields join the run's object; its "event" tag does not.
	summary = bytes.TrimPrefix(summary, []byte(`{"event":"summary",`))
	summary = bytes.TrimPrefix(summary, []byte(`{`))
	evals := make([]jpoint, len(run.Evals))
	for i, p := range run.Evals {
		evals[i] = jpoint{p.Step, p.Tokens, jnum(p.FLOPs), jnum(p.WallS), jnum(p.ValLoss), p.Layers}
	}
	tail, err := json.Marshal(struct {
		Evals []jpoint    `json:"evals"`
		Grows []GrowPoint `json:"grows"`
	}{evals, append([]GrowPoint{}, run.Grows...)})
	if err != nil {
		return nil, fmt.Errorf("compare: encoding run %q: %w", run.Name, err)
	}
	var b bytes.Buffer
	b.Write(head[:len(head)-1])
	b.WriteByte(',')
	b.Write(summary[:len(summary)-1])
	b.WriteByte(',')
	b.Write(tail[1:])
	return b.Bytes(), nil
}

type jpoint struct {
	Step    int64 `json:"step"`
	Tokens  int64 `json:"tokens"`
	FLOPs   jnum  `json:"flops"`
	WallS   jnum  `json:"wall_s"`
	ValLoss jnum  `json:"val_loss"`
	Layers  int   `json:"layers"`
}

// ReadJSONL reads a report written by WriteJSONL back (runs, their curves,
// summaries and the baseline; not the configs beyond seed, schedule, steps,
// model and recipe, nor the tau sweep's verdict), so that its table and
// chart can be redrawn without training again. Files written before runs
// recorded their model or recipe lack them; those written before they
// recorded their seed get seed. Runs of different recipes are an error.
func ReadJSONL(r io.Reader, tolerance float64, seed uint64) (*Report, error) {
	if tolerance == 0 {
		tolerance = DefaultTolerance
	}
	rep := &Report{Baseline: -1, Tolerance: tolerance}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var o struct {
			Name           string      `json:"name"`
			Seed           *uint64     `json:"seed"`
			Schedule       string      `json:"schedule"`
			Baseline       bool        `json:"baseline"`
			Steps          int64       `json:"steps"`
			Tokens         int64       `json:"tokens"`
			FLOPs          *float64    `json:"flops"`
			FixedFLOPs     *float64    `json:"fixed_flops"`
			FinalTrainLoss *float64    `json:"final_train_loss"`
			FinalValLoss   *float64    `json:"final_val_loss"`
			WallS          *float64    `json:"wall_s"`
			TokensPerS     *float64    `json:"tokens_per_s"`
			LayersStart    int         `json:"layers_start"`
			LayersEnd      int         `json:"layers_end"`
			GrowStep       *int64      `json:"grow_step"`
			Kernel         string      `json:"kernel"`
			Workers        int         `json:"workers"`
			Evals          []rpoint    `json:"evals"`
			Grows          []GrowPoint `json:"grows"`
			Model          nn.Config   `json:"model"`
			Recipe         *Recipe     `json:"recipe"`
		}
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			return nil, fmt.Errorf("compare: line %d: %w", line, err)
		}
		var mix struct {
			Check *trainer.MixCheck `json:"mixing"` // the summary's last mixing check
		}
		if err := json.Unmarshal(sc.Bytes(), &mix); err != nil {
			return nil, fmt.Errorf("compare: line %d: %w", line, err)
		}
		if o.Name == "" {
			return nil, fmt.Errorf("compare: line %d: a run without a name", line)
		}
		spec, err := ParseSpec(o.Name)
		if err != nil {
			return nil, fmt.Errorf("compare: line %d: %w", line, err)
		}
		run := Run{Name: o.Name, Spec: spec, Grows: o.Grows, Recipe: o.Recipe}
		run.Config.Schedule, run.Config.Steps, run.Config.Model, run.Config.Seed = o.Schedule, int(o.Steps), o.Model, seed
		if o.Seed != nil {
			run.Config.Seed = *o.Seed
		}
		run.Summary = trainer.SummaryEvent{Steps: o.Steps, Tokens: o.Tokens, FLOPs: orNaN(o.FLOPs), FixedFLOPs: orNaN(o.FixedFLOPs),
			FinalTrainLoss: orNaN(o.FinalTrainLoss), FinalValLoss: o.FinalValLoss, WallS: orNaN(o.WallS), TokensPerS: orNaN(o.TokensPerS),
			LayersStart: o.LayersStart, LayersEnd: o.LayersEnd, GrowStep: o.GrowStep, Kernel: o.Kernel, Workers: o.Workers}
		run.Summary.Mixing = mix.Check
		for _, p := range o.Evals {
			run.Evals = append(run.Evals, Point{Step: p.Step, Tokens: p.Tokens, FLOPs: orNaN(p.FLOPs), WallS: orNaN(p.WallS), ValLoss: orNaN(p.ValLoss), Layers: p.Layers})
		}
		if o.Baseline && rep.Baseline < 0 {
			rep.Baseline = len(rep.Runs)
		}
		rep.Runs = append(rep.Runs, run)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	if len(rep.Runs) == 0 {
		return nil, errors.New("compare: no runs in the JSON Lines")
	}
	for i, run := range rep.Runs { // files without the baseline flag
		if rep.Baseline < 0 && run.Spec.fullFixed() {
			rep.Baseline = i
		}
	}
	if err := checkRecipes(rep.Runs); err != nil {
		return nil, err
	}
	return rep, nil
}

// Merge joins the reports of a comparison that was split across processes
// or machines (Experiment.NoBaseline), or the comparisons of several seeds,
// in order. The baseline is the first run that was one in its report. Runs
// of the same seed must have distinct names, and all runs the same target
// model and Recipe (where recorded) and token budget (but for the
// fixed-depth runs cut to another run's compute), or the deltas would
// compare unlike runs.
func Merge(reports ...*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, errors.New("compare: nothing to merge")
	}
	out := &Report{Baseline: -1, Tolerance: reports[0].Tolerance}
	type key struct {
		name string
		seed uint64
	}
	where := map[key]bool{}
	var full *Run // the first run of the whole budget
	for _, rep := range reports {
		for i, run := range rep.Runs {
			k := key{run.Name, run.Seed()}
			if where[k] {
				return nil, fmt.Errorf("compare: run %q of seed %d appears twice", run.Name, run.Seed())
			}
			where[k] = true
			if run.Spec.Match == nil { // runs cut to another's compute train less
				if full == nil {
					full = &rep.Runs[i]
				} else if run.Summary.Tokens != full.Summary.Tokens {
					return nil, fmt.Errorf("compare: run %q trained %d tokens but %q trained %d: not the same budget",
						run.Name, run.Summary.Tokens, full.Name, full.Summary.Tokens)
				}
			}
			if len(out.Runs) > 0 {
				first := out.Runs[0]
				if m, fm := run.Config.Model, first.Config.Model; m.Dim != 0 && fm.Dim != 0 && m != fm {
					return nil, fmt.Errorf("compare: runs %q and %q are of different models", first.Name, run.Name)
				}
			}
			if i == rep.Baseline && out.Baseline < 0 {
				out.Baseline = len(out.Runs)
			}
			out.Runs = append(out.Runs, run)
		}
	}
	if err := checkRecipes(out.Runs); err != nil {
		return nil, err
	}
	return out, nil
}

// rpoint is an evaluation as read back (null numbers allowed).
type rpoint struct {
	Step    int64    `json:"step"`
	Tokens  int64    `json:"tokens"`
	FLOPs   *float64 `json:"flops"`
	WallS   *float64 `json:"wall_s"`
	ValLoss *float64 `json:"val_loss"`
	Layers  int      `json:"layers"`
}

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
