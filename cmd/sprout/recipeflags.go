package main

import (
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/trainer"
)

// recipeFlags are the optimizer and schedule flags that train, compare and
// bench train share, with one set of defaults, so that a comparison trains
// what train trains.
type recipeFlags struct {
	fs  *flag.FlagSet
	cmd string

	name                      string // --recipe
	optimizer, muonScale      string
	muonEmbed                 bool
	mupBase                   int
	lr, weightDecay, gradClip float64
	schedule, decayShape      string
	warmup, decay             float64
}

// Which schedule flags a command takes: train all of them, compare the
// fractions (its variants name the schedule), bench train none (its timed
// steps run at a constant rate).
const (
	recipeNoSchedule = iota
	recipeFractions
	recipeSchedule
)

// recipes are the named recipes of --recipe: the flags each sets, unless
// given on the command line.
var recipes = map[string]map[string]string{
	// sprout's defaults, the flags' own.
	"sprout": {},
	// The zero/one-layer expansion paper's Muon-NSGD set-up (arXiv
	// 2511.04981): Muon on every matrix, embeddings and head included, with
	// the spectral form of muP, weight decay 0.01, no clipping, WSD with 2%
	// warmup and 10% decay. Its batches of ~0.5M tokens are out of a CPU's
	// reach, so --batch stays the user's. The learning rate is the best of
	// a sweep at depth 6, width 64 (docs/experiments.md, "The paper's
	// recipe against sprout's").
	"paper": {
		"optimizer":    trainer.OptMuon,
		"lr":           "0.016",
		"muon-scale":   "mup",
		"muon-embed":   "true",
		"weight-decay": "0.01",
		"grad-clip":    "0",
		"schedule":     trainer.ScheduleWSD,
		"warmup":       "0.02",
		"decay":        "0.1",
		"decay-shape":  trainer.DecayLinear,
	},
}

// recipeNames lists the recipes for help and errors.
func recipeNames() string { return strings.Join(slices.Sorted(maps.Keys(recipes)), ", ") }

// addRecipeFlags registers the recipe flags on fs for command cmd.
func addRecipeFlags(fs *flag.FlagSet, cmd string, schedule int) *recipeFlags {
	r := &recipeFlags{fs: fs, cmd: cmd}
	paper := recipes["paper"]
	var sets []string
	for _, k := range slices.Sorted(maps.Keys(paper)) {
		sets = append(sets, "--"+k+" "+paper[k])
	}
	fs.StringVar(&r.name, "recipe", "sprout", "a named set of the recipe flags below, each unless given: sprout (their defaults) or paper (the zero/one-layer paper's Muon set-up: "+strings.Join(sets, " ")+")")
	// Muon, as the zero/one-layer paper ran it; at the main job's shape it
	// ends clearly below AdamW at its best rate (docs/experiments.md).
	fs.StringVar(&r.optimizer, "optimizer", trainer.OptMuon, "optimizer: adamw, muon or sgd")
	fs.Float64Var(&r.lr, "lr", 0, "peak learning rate (0: the optimizer's default: adamw 2e-3, muon 8e-3, sgd 0.3)")
	fs.Float64Var(&r.weightDecay, "weight-decay", trainer.DefaultWeightDecay, "decoupled weight decay on matrices (0: none)")
	fs.Float64Var(&r.gradClip, "grad-clip", trainer.DefaultGradClip, "clip the global gradient norm to this (0: no clipping)")
	fs.StringVar(&r.muonScale, "muon-scale", "", "muon: update scale of a fan_in x fan_out matrix: rms (0.2*sqrt(max(fan_in, fan_out)), the default), spectral (sqrt(max(1, fan_out/fan_in))) or mup (sqrt(fan_out/fan_in), muP's spectral form)")
	fs.BoolVar(&r.muonEmbed, "muon-embed", false, "muon: the embeddings and the head on Muon too (default: normalised SGD)")
	fs.IntVar(&r.mupBase, "mup-base-dim", 0, "maximal-update parametrisation relative to this base width: a learning rate tuned at the base width transfers to --dim (0: off)")
	if schedule == recipeSchedule {
		fs.StringVar(&r.schedule, "schedule", trainer.ScheduleWSD, "learning-rate schedule: wsd, cosine or constant")
	}
	if schedule >= recipeFractions {
		fs.Float64Var(&r.warmup, "warmup", trainer.DefaultWarmup, "warmup fraction of the steps")
		fs.Float64Var(&r.decay, "decay", trainer.DefaultDecay, "WSD decay fraction of the steps")
		fs.StringVar(&r.decayShape, "decay-shape", trainer.DecayLinear, "WSD decay shape: linear, cosine or 1-sqrt")
	}
	return r
}

// resolve applies --recipe to the flags not given (call it after parsing)
// and checks the values.
func (r *recipeFlags) resolve() error {
	preset, ok := recipes[r.name]
	if !ok {
		return usagef("%s: --recipe %q is unknown (want %s)", r.cmd, r.name, recipeNames())
	}
	for _, k := range slices.Sorted(maps.Keys(preset)) {
		fl := r.fs.Lookup(k)
		if fl == nil || flagGiven(r.fs, k) {
			continue
		}
		if err := fl.Value.Set(preset[k]); err != nil {
			return fmt.Errorf("%s: recipe %s: --%s %s: %w", r.cmd, r.name, k, preset[k], err)
		}
	}
	for _, v := range []struct {
		name string
		x    float64
	}{{"lr", r.lr}, {"weight-decay", r.weightDecay}, {"grad-clip", r.gradClip}, {"warmup", r.warmup}, {"decay", r.decay}} {
		if !(v.x >= 0) || v.x > 1e30 {
			return usagef("%s: --%s must be a finite number >= 0, got %v", r.cmd, v.name, v.x)
		}
	}
	if r.mupBase < 0 {
		return usagef("%s: --mup-base-dim must be a width >= 0 (0: off), got %d", r.cmd, r.mupBase)
	}
	if r.optimizer != trainer.OptMuon && (r.muonScale != "" || r.muonEmbed) {
		return usagef("%s: --muon-scale and --muon-embed apply to --optimizer muon only", r.cmd)
	}
	if r.muonScale != "" && !slices.Contains(nn.MuonScales, r.muonScale) {
		return usagef("%s: --muon-scale %q is unknown (want %s)", r.cmd, r.muonScale, strings.Join(nn.MuonScales, ", "))
	}
	return nil
}

// apply writes the recipe into cfg. The zero of a flag that means "none"
// (weight decay, clipping, fractions) becomes the config's negative.
func (r *recipeFlags) apply(cfg *trainer.Config) {
	cfg.Optimizer = r.optimizer
	cfg.LR = r.lr
	cfg.WeightDecay = orNone(r.weightDecay)
	cfg.GradClip = orNone(r.gradClip)
	cfg.MuonScale = r.muonScale
	cfg.MuonEmbed = r.muonEmbed
	if r.mupBase > 0 {
		cfg.Model.MuP, cfg.Model.MuPBaseDim = true, r.mupBase
	}
	if r.fs.Lookup("schedule") != nil {
		cfg.Schedule = r.schedule
	}
	if r.fs.Lookup("warmup") != nil {
		cfg.Warmup, cfg.Decay, cfg.DecayShape = orNone(r.warmup), orNone(r.decay), r.decayShape
	}
}
