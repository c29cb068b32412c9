package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/sproutml/sprout/compare"
	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/tokenizer"
	"github.com/sproutml/sprout/trainer"
)

func init() {
	commands["train"] = command{"train a model (no flags: the progressive main job on the embedded corpus, 2-3 minutes on two cores)", runTrain}
}

// The main job: what `sprout train` runs with no flags. A byte-level GPT
// (width 192, 6 heads, context 128, batch 16) trained with Muon for 2000
// steps of a WSD schedule on the embedded corpus (4.1M tokens, about 1.45
// passes over its training split): one block until step 1600, then copied
// into 6 blocks and finished. It costs 35% of the FLOPs of training 6 blocks
// throughout and takes a few minutes on two cores. Its timings and the runs
// that chose these settings: docs/experiments.md#the-main-job.
const (
	defaultLayers   = 6
	defaultDim      = 192
	defaultHeads    = 6
	defaultCtx      = 128
	defaultBatch    = 16
	defaultSteps    = 2000
	defaultGrowFrom = "1"
	// Copying the trained block: the paper found it slightly better than
	// random blocks from one block (here the two tie).
	defaultGrowInit = "copy"
	defaultOut      = "runs/latest"
)

// trainFlags are the flags of `sprout train`.
type trainFlags struct {
	fs *flag.FlagSet

	model                                    nn.Config
	data, dataFormat, tokenizer              string
	batch, steps                             int
	shard                                    int
	growFrom, growAt, growInit, growOptState string
	growScale, growPlace                     string
	growRewarmup                             float64
	calibSteps                               int
	recipe                                   *recipeFlags
	valFraction                              float64
	workers                                  int
	seed                                     uint64
	evalEvery, evalWindows, logEvery         int
	mixWindows                               int
	checkpointEvery                          int
	out, resume, metrics                     string
	force, jsonOut                           bool
	sampleTokens                             int
	temperature                              float64
}

func newTrainFlags(stdout io.Writer) *trainFlags {
	f := &trainFlags{}
	fs := newFlagSet("train", "train [flags]", stdout)
	f.fs = fs
	fs.StringVar(&f.data, "data", "", "training text file, directory of text files, or .bin file of uint16 tokens (default: the embedded generated corpus)")
	fs.StringVar(&f.dataFormat, "data-format", "", "data format: text or bin (default: by file extension)")
	fs.StringVar(&f.tokenizer, "tokenizer", "", "tokenize text data with gpt2, bytes, or DIR (tokenizer.json or vocab.json + merges.txt); the checkpoint carries it (default: byte-level, or a shard's own)")
	fs.Float64Var(&f.valFraction, "val-fraction", trainer.DefaultValFraction, "share of the data, taken from its end, that validates")
	f.model = nn.Config{Layers: defaultLayers, Dim: defaultDim, Heads: defaultHeads, Ctx: defaultCtx}
	addModelFlags(fs, &f.model, "depth in blocks (the target depth when growing)")
	fs.IntVar(&f.batch, "batch", defaultBatch, "sequences per optimizer step")
	fs.IntVar(&f.steps, "steps", defaultSteps, "optimizer steps")
	fs.IntVar(&f.shard, "shard", 1, "sequences per gradient shard (must divide --batch; results do not depend on --workers)")
	fs.StringVar(&f.growFrom, "grow-from", defaultGrowFrom, "progressive training: source depth 0 or 1 (or any below --layers), or off for fixed depth")
	fs.StringVar(&f.growAt, "grow-at", "", "expansion point: a fraction of the steps in (0, 1), a step number, or auto (experimental: the paper's rule, which at depth 6 width 64 picked a point that did not mix; docs/experiments.md): measure the mixing time first with a fixed-depth and a grown run of --calibrate-steps steps each and expand that long before the end (default "+defaultAtRule+")")
	fs.IntVar(&f.calibSteps, "calibrate-steps", 0, "with --grow-at auto: steps of each calibration run (0: "+strconv.FormatFloat(100*compare.DefaultCalibrateFrac, 'g', -1, 64)+"% of --steps)")
	fs.StringVar(&f.growInit, "grow-init", defaultGrowInit, "new blocks: random, copy, copy-interleave, copy-last or zero (copying from 0 blocks falls back to random)")
	fs.StringVar(&f.growOptState, "grow-optim-state", "fresh", "optimizer state at expansion: fresh (new blocks start fresh), copy (copied blocks copy it) or reset (all)")
	fs.StringVar(&f.growScale, "grow-scale", string(grow.ScaleDepth), "weight scale of new random blocks: depth (the init for the target depth) or trained (each matrix at the trained blocks' RMS)")
	fs.StringVar(&f.growPlace, "grow-place", string(grow.PlaceBottom), "random/zero growth: where the trained blocks go among the new ones: bottom, top or middle")
	fs.Float64Var(&f.growRewarmup, "grow-rewarmup", 0, "after each expansion, ramp the learning rate back up over this fraction of the steps (0: none)")
	f.recipe = addRecipeFlags(fs, "train", recipeSchedule)
	fs.IntVar(&f.workers, "workers", 0, "goroutines sharing each batch (0: one per core)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the initialisation, the data order and the expansion")
	fs.IntVar(&f.evalEvery, "eval-every", 0, "steps between validation evaluations (0: steps/10; -1: never)")
	fs.IntVar(&f.evalWindows, "eval-windows", trainer.DefaultEvalWindows, "fixed validation windows per evaluation")
	fs.IntVar(&f.mixWindows, "mix-windows", trainer.DefaultMixWindows, "after an expansion, validation windows on which each evaluation also measures the new blocks' contribution, reported as in use or idle (0: off)")
	fs.IntVar(&f.logEvery, "log-every", 1, "steps between step events (JSON Lines)")
	fs.IntVar(&f.checkpointEvery, "checkpoint-every", trainer.CheckpointAtEval, "steps between checkpoints (-1: at every evaluation, or every steps/10 with --eval-every -1, skipping one while saves would take over 1% of the time; 0: only at the end, around each expansion and on a signal)")
	fs.StringVar(&f.out, "out", defaultOut, "checkpoint directory (\"\": none); the state before an expansion goes to OUT.pre-grow-STEP")
	fs.BoolVar(&f.force, "force", false, "replace --out if it holds a checkpoint of another run, and its OUT.pre-grow-STEP ones (the default --out is replaced without it)")
	fs.StringVar(&f.resume, "resume", "", "continue the run checkpointed in this directory (its config; --steps may extend it)")
	fs.StringVar(&f.metrics, "metrics", "", "write JSON Lines events to this file (appended to when resuming)")
	fs.BoolVar(&f.jsonOut, "json", false, "print JSON Lines events on stdout (progress stays on stderr; the summary and sample go to stderr)")
	fs.IntVar(&f.sampleTokens, "sample-tokens", 200, "bytes to sample from the trained model at the end (0: none)")
	fs.Float64Var(&f.temperature, "temperature", 0.8, "sampling temperature of the closing sample")
	return f
}

// config builds the run's config from the flags.
func (f *trainFlags) config() (trainer.Config, error) {
	cfg := trainer.Config{
		Model:           f.model,
		Data:            f.data,
		DataFormat:      f.dataFormat,
		Tokenizer:       f.tokenizer,
		ValFraction:     f.valFraction,
		Batch:           f.batch,
		Steps:           f.steps,
		Shard:           f.shard,
		Workers:         f.workers,
		Seed:            f.seed,
		EvalEvery:       f.evalEvery,
		EvalWindows:     f.evalWindows,
		MixWindows:      mixWindows(f.mixWindows),
		LogEvery:        f.logEvery,
		Out:             f.out,
		CheckpointEvery: f.checkpointEvery,
		// The default output is the scratch place of `sprout train` run
		// again and again; a directory the user named is replaced only
		// with --force.
		Replace: f.force || !f.set("out"),
	}
	f.recipe.apply(&cfg)
	if cfg.Schedule != trainer.ScheduleWSD {
		if f.set("decay") || f.set("decay-shape") {
			return cfg, usagef("train: --decay and --decay-shape apply to --schedule wsd only")
		}
		cfg.Decay, cfg.DecayShape = 0, ""
	}
	if f.steps < 1 {
		return cfg, usagef("train: --steps must be at least 1, got %d", f.steps)
	}
	if f.workers < 0 {
		return cfg, usagef("train: --workers must not be negative, got %d", f.workers)
	}
	if f.set("calibrate-steps") && (f.growAt != "auto" || f.calibSteps < 1) {
		return cfg, usagef("train: --calibrate-steps needs --grow-at auto and a number of steps >= 1")
	}
	if f.growFrom == "off" || f.growFrom == "" {
		if f.growAt == "auto" {
			return cfg, usagef("train: --grow-at auto needs a growing run (--grow-from 0, 1, ...)")
		}
		return cfg, nil
	}
	from, err := strconv.Atoi(f.growFrom)
	if err != nil || from < 0 {
		return cfg, usagef("train: --grow-from must be a depth (0, 1, ...) or off, got %q", f.growFrom)
	}
	plan := &grow.Plan{From: from, To: f.model.Layers, Strategy: grow.Strategy(f.growInit), OptimState: grow.OptimState(f.growOptState),
		Scale: grow.Scale(f.growScale), Place: grow.Place(f.growPlace), Rewarmup: f.growRewarmup}
	if _, err := grow.ParseStrategy(f.growInit); err != nil {
		return cfg, usagef("train: --grow-init: %v", err)
	}
	if _, err := grow.ParseOptimState(f.growOptState); err != nil {
		return cfg, usagef("train: --grow-optim-state: %v", err)
	}
	if _, err := grow.ParseScale(f.growScale); err != nil {
		return cfg, usagef("train: --grow-scale: %v", err)
	}
	if _, err := grow.ParsePlace(f.growPlace); err != nil {
		return cfg, usagef("train: --grow-place: %v", err)
	}
	if !(f.growRewarmup >= 0 && f.growRewarmup < 1) {
		return cfg, usagef("train: --grow-rewarmup must be a fraction of the steps in [0, 1), got %v", f.growRewarmup)
	}
	if from == 0 && plan.Strategy != grow.Random && plan.Strategy != grow.Zero {
		plan.Strategy = grow.Random // nothing to copy from zero blocks
	}
	if f.growAt == "" || f.growAt == "auto" {
		cfg.Grow = plan // the trainer picks the point for the model's size, or runTrain calibrates
		return cfg, nil
	}
	at, err := strconv.ParseFloat(f.growAt, 64)
	switch {
	case err != nil || at <= 0:
		return cfg, usagef("train: --grow-at must be a fraction in (0, 1) or a step number, got %q", f.growAt)
	case at < 1:
		plan.At = at
	case at == float64(int(at)):
		plan.AtStep = int(at)
	default:
		return cfg, usagef("train: --grow-at must be a fraction in (0, 1) or a whole step number, got %q", f.growAt)
	}
	cfg.Grow = plan
	return cfg, nil
}

// checkCounts rejects a zero where the help promises no default for it:
// the trainer would silently replace it (--batch 0 trained batches of 16).
func (f *trainFlags) checkCounts() error {
	for _, v := range []struct {
		name string
		n    int
	}{{"batch", f.batch}, {"shard", f.shard}, {"eval-windows", f.evalWindows}, {"log-every", f.logEvery}} {
		if v.n < 1 {
			return usagef("train: --%s must be at least 1, got %d", v.name, v.n)
		}
	}
	if f.mixWindows < 0 {
		return usagef("train: --mix-windows must be a number of windows, or 0 (off), got %d", f.mixWindows)
	}
	if f.evalEvery < -1 {
		return usagef("train: --eval-every must be a number of steps, 0 (steps/10) or -1 (never), got %d", f.evalEvery)
	}
	if f.checkpointEvery < trainer.CheckpointAtEval {
		return usagef("train: --checkpoint-every must be a number of steps, 0 (only at the end) or -1 (at every evaluation), got %d", f.checkpointEvery)
	}
	if !(f.valFraction > 0 && f.valFraction < 1) {
		return usagef("train: --val-fraction must be a fraction in (0, 1), got %v", f.valFraction)
	}
	return nil
}

// orNone maps a flag's 0 ("none") to the config's "negative disables".
func orNone(x float64) float64 {
	if x == 0 {
		return -1
	}
	return x
}

// mixWindows maps --mix-windows 0 (off) to the config's "negative: off".
func mixWindows(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

func (f *trainFlags) set(name string) bool { return flagGiven(f.fs, name) }

func runTrain(args []string, stdout, stderr io.Writer) error {
	f := newTrainFlags(stdout)
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	if f.sampleTokens < 0 {
		return usagef("train: --sample-tokens must not be negative")
	}
	if err := f.recipe.resolve(); err != nil {
		return err
	}
	if err := f.checkCounts(); err != nil {
		return err
	}
	if f.sampleTokens > 0 && !validTemperature(f.temperature) { // not after the training
		return usagef("train: --temperature must be a finite number >= 0, got %v", f.temperature)
	}
	var cfg trainer.Config
	var plannedFLOPs float64
	if f.resume == "" {
		var err error
		if cfg, err = f.config(); err != nil {
			return err
		}
		check := cfg
		check.Defaults()
		if plannedFLOPs, _, err = check.PlannedFLOPs(); err != nil { // validates
			return usagef("train: %v", err)
		}
		if f.data != "" {
			if _, err := os.Stat(f.data); err != nil {
				return fmt.Errorf("train: --data: %w", err)
			}
		}
	}

	// Events: progress on stderr; JSON Lines on stdout and/or to a file.
	human := stdout
	if f.jsonOut {
		human = stderr
	}
	var sinks trainer.Sinks
	progress := trainer.NewProgress(stderr, int64(cfg.Steps))
	sinks = append(sinks, progress)
	if f.jsonOut {
		sinks = append(sinks, trainer.NewJSONLWriter(stdout))
	}
	if f.metrics != "" {
		mw, err := trainer.CreateMetricsFile(f.metrics, f.resume != "")
		if err != nil {
			return err
		}
		defer mw.Close()
		sinks = append(sinks, mw)
	}

	ctx, stop := interruptContext(stderr, "finishing the current step and writing a checkpoint")
	defer stop()
	var res *trainer.Result
	var err error
	if f.resume != "" {
		res, err = trainer.Resume(ctx, f.resume, sinks, func(c *trainer.Config) error {
			if err := f.override(c); err != nil {
				return err
			}
			progress.SetTotal(int64(c.Steps))
			if total, _, err := c.PlannedFLOPs(); err == nil {
				progress.SetTotalFLOPs(total)
			}
			return nil
		})
	} else {
		if f.growAt == "auto" && cfg.Grow != nil {
			c, err := compare.Calibrate(ctx, cfg, f.calibSteps, compare.DefaultTolerance, compare.Options{Progress: stderr})
			if err != nil {
				return withSignal(ctx, fmt.Errorf("train: --grow-at auto: %w", err))
			}
			cfg.Grow.AtStep = c.At
			cfg.Grow.Auto = &grow.Auto{CalibSteps: c.CalibSteps, GrowStep: c.GrowStep, MixSteps: c.MixSteps, Tolerance: c.Tolerance, FLOPs: c.FLOPs}
			check := cfg
			check.Defaults()
			if plannedFLOPs, _, err = check.PlannedFLOPs(); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "%s; the calibration cost %.3g FLOPs, %.0f%% of the run's own\n", c, c.FLOPs, 100*c.FLOPs/plannedFLOPs)
		}
		progress.SetTotalFLOPs(plannedFLOPs)
		// Say what is being trained once the data has loaded (the first
		// event), so that a bad input gets its error line alone.
		first := sync.OnceFunc(func() { describe(stderr, cfg) })
		res, err = trainer.Run(ctx, cfg, append(trainer.Sinks{sinkFunc(func(trainer.Event) { first() })}, sinks...))
	}
	// Training is over: a signal from now on ends the process at once
	// rather than being taken for a request to checkpoint.
	stop()
	err = withSignal(ctx, err)
	if err != nil {
		var exists *trainer.CheckpointExistsError
		if errors.As(err, &exists) {
			return outExistsError("train", f.out, exists, true)
		}
		if errors.Is(err, trainer.ErrInterrupted) && res != nil && res.Checkpoint != "" {
			return fmt.Errorf("%w; continue with: sprout train --resume %s", err, res.Checkpoint)
		}
		return err
	}
	fmt.Fprint(human, trainer.FormatSummary(res.Summary))
	if res.Checkpoint != "" {
		fmt.Fprintf(human, "checkpoint: %s\n", res.Checkpoint)
	}
	if f.sampleTokens > 0 {
		return printSample(human, res.Model, res.Tokenizer, f.sampleTokens, f.temperature, f.seed)
	}
	return nil
}

// override applies the flags given on a --resume command line to the
// checkpoint's config; the trainer rejects changes that would break exact
// continuation (model, batch, seed, data).
func (f *trainFlags) override(c *trainer.Config) error {
	var errs []error
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "resume", "metrics", "json", "sample-tokens", "temperature":
		case "steps":
			c.Steps = f.steps
		case "workers":
			c.Workers = f.workers
		case "eval-every":
			c.EvalEvery = f.evalEvery
		case "eval-windows":
			c.EvalWindows = f.evalWindows
		case "mix-windows":
			c.MixWindows = mixWindows(f.mixWindows)
		case "log-every":
			c.LogEvery = f.logEvery
		case "checkpoint-every":
			c.CheckpointEvery = f.checkpointEvery
		case "out":
			c.Out = f.out
		case "force":
			c.Replace = f.force
		case "lr":
			c.LR = f.recipe.lr
		case "data": // the same file may be named from another directory
			if !samePath(f.data, c.Data) {
				errs = append(errs, usagef("train: --data cannot change when resuming (the checkpoint trained on %s)", c.Data))
			}
		case "tokenizer":
			if f.tokenizer != c.Tokenizer && !samePath(f.tokenizer, c.Tokenizer) {
				errs = append(errs, usagef("train: --tokenizer cannot change when resuming (the checkpoint trained with %q)", c.Tokenizer))
			}
		default:
			errs = append(errs, usagef("train: --%s cannot change when resuming (the checkpoint fixes it)", fl.Name))
		}
	})
	return errors.Join(errs...)
}

// samePath reports whether a and b name the same path once made absolute
// and clean ("" is the embedded corpus).
func samePath(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	return errA == nil && errB == nil && absA == absB
}

// sinkFunc adapts a function to trainer.Sink.
type sinkFunc func(trainer.Event)

func (f sinkFunc) Emit(e trainer.Event) error { f(e); return nil }

// The size rule of grow.DefaultAtFor, for help and start lines.
const narrowDeep = "12 or more blocks of width 128 or less"

var defaultAtRule = fmt.Sprintf("%g; %g for %s; at most %g of the steps before a WSD decay", grow.DefaultAt, grow.NarrowDeepAt, narrowDeep, grow.BeforeDecay)

// describe prints what is about to be trained, with its defaults filled in.
func describe(w io.Writer, cfg trainer.Config) {
	var why string // why a default expansion point is not the paper's
	if g := cfg.Grow; g != nil && g.At == 0 && g.AtStep == 0 {
		switch at := cfg.DefaultGrowAt(); at {
		case grow.DefaultAt:
		case grow.DefaultAtFor(cfg.Model.Layers, cfg.Model.Dim, 0):
			why = fmt.Sprintf(" (the default for %s; --grow-at %g for the paper's)", narrowDeep, grow.DefaultAt)
		default:
			why = fmt.Sprintf(" (the default: %g%% of the steps before the decay)", 100*grow.BeforeDecay)
		}
	}
	cfg.Defaults()
	data := cfg.Data
	if data == "" {
		data = "the embedded corpus"
	}
	depth := blocks(cfg.Model.Layers)
	if g := cfg.Grow; g != nil {
		when := fmt.Sprintf("%.0f%% of the steps", 100*g.At)
		if g.AtStep > 0 {
			when = fmt.Sprintf("step %d", g.AtStep)
		}
		depth = fmt.Sprintf("%d -> %d blocks (%s) at %s%s", g.From, cfg.Model.Layers, g.Strategy, when, why)
	}
	arch := cfg.Model.Arch
	if arch == "" {
		arch = nn.ArchGPT2
	}
	m := cfg.Model.WithDefaults()
	switch arch {
	case nn.ArchLlama:
		arch = fmt.Sprintf("llama (kv heads %d, ffn %d)", m.KVHeads, m.FFNHidden)
	case nn.ArchMoE:
		arch = fmt.Sprintf("moe (kv heads %d, %d experts of %d, top-%d %s, %d shared, balance %s)",
			m.KVHeads, m.Experts, m.FFNHidden, m.TopK, m.Gate, m.SharedExperts, m.Balance)
	}
	fmt.Fprintf(w, "training %s d=%d heads=%d ctx=%d, %s, on %s: %d steps of %d sequences\n",
		arch, cfg.Model.Dim, cfg.Model.Heads, cfg.Model.Ctx, depth, data, cfg.Steps, cfg.Batch)
}

// printSample prints a sample of the model's text.
func printSample(w io.Writer, m *nn.Model, tok tokenizer.Tokenizer, n int, temperature float64, seed uint64) error {
	out, err := trainer.Generate(m, trainer.DefaultPrompt(tok, m.Vocab), trainer.SampleOptions{Tokens: n, Temperature: temperature, Seed: seed})
	if err != nil {
		return err
	}
	text := trainer.DecodeText(tok, out)
	unit := "tokens"
	if _, ok := tok.(tokenizer.Bytes); ok {
		unit = "bytes"
	}
	fmt.Fprintf(w, "sample (%d %s, temperature %g):\n%s\n", n, unit, temperature, strings.TrimRight(text, "\n"))
	return nil
}
