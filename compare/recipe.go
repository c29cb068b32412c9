package compare

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sproutml/sprout/trainer"
)

// Recipe is the part of a run's set-up that every run of one comparison
// shares: the optimizer and its hyper-parameters, the batch, the schedule's
// fractions and the validation set. Runs may differ in growth, seed,
// schedule kind and (fixed=SPEC runs) length, never in these, or their
// deltas would measure the recipe, not the growth. It is recorded in the
// JSON Lines so that Merge and ReadJSONL can refuse to join runs of
// different recipes.
type Recipe struct {
	Optimizer   string  `json:"optimizer"`
	LR          float64 `json:"lr"`
	WeightDecay float64 `json:"weight_decay"` // < 0: none
	GradClip    float64 `json:"grad_clip"`    // < 0: none
	Batch       int     `json:"batch"`
	Warmup      float64 `json:"warmup"`
	Decay       float64 `json:"decay,omitempty"`       // WSD only
	DecayShape  string  `json:"decay_shape,omitempty"` // WSD only
	ValFraction float64 `json:"val_fraction"`
	EvalWindows int     `json:"eval_windows"`
	MuonScale   string  `json:"muon_scale,omitempty"` // muon; "" in files before it was recorded: rms
	MuonEmbed   bool    `json:"muon_embed,omitempty"` // muon: embeddings and head on Muon
}

// RecipeOf is cfg's recipe, with the trainer's defaults filled in.
func RecipeOf(cfg trainer.Config) Recipe {
	cfg.Defaults()
	return Recipe{cfg.Optimizer, cfg.LR, cfg.WeightDecay, cfg.GradClip, cfg.Batch, cfg.Warmup, cfg.Decay, cfg.DecayShape, cfg.ValFraction, cfg.EvalWindows,
		cfg.MuonScale, cfg.MuonEmbed}
}

// muonScale is r's Muon update scale ("" for another optimizer).
func (r Recipe) muonScale() string {
	if r.Optimizer == trainer.OptMuon && r.MuonScale == "" {
		return "rms"
	}
	return r.MuonScale
}

// optimizer names the optimizer with its Muon options where they are not
// the defaults, e.g. "muon (mup scale, embeddings on muon)".
func (r Recipe) optimizer() string {
	var opts []string
	if s := r.muonScale(); s != "" && s != "rms" {
		opts = append(opts, s+" scale")
	}
	if r.MuonEmbed {
		opts = append(opts, "embeddings on muon")
	}
	if len(opts) == 0 {
		return r.Optimizer
	}
	return r.Optimizer + " (" + strings.Join(opts, ", ") + ")"
}

// String is the recipe in a caption's words, e.g. "muon, lr 0.008, weight
// decay 0.1, grad clip 1, batch 16, warmup 0.02, decay 0.1 (linear),
// validation 0.1 of the data in at most 64 windows".
func (r Recipe) String() string {
	s := fmt.Sprintf("%s, lr %s, weight decay %s, grad clip %s, batch %d, warmup %s",
		r.optimizer(), num(r.LR), orNone(r.WeightDecay), orNone(r.GradClip), r.Batch, num(r.Warmup))
	if r.DecayShape != "" {
		s += fmt.Sprintf(", decay %s (%s)", orNone(r.Decay), r.DecayShape)
	}
	return s + fmt.Sprintf(", validation %s of the data in at most %d windows", num(r.ValFraction), r.EvalWindows)
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func orNone(x float64) string {
	if x < 0 {
		return "none"
	}
	return num(x)
}

// recipeDiff names the first hyper-parameter in which a and b differ, with
// both values, or returns "". The decay is compared only between two WSD
// runs (schedules s and t): another schedule has none.
func recipeDiff(a, b Recipe, s, t string) (field, va, vb string) {
	wsd := s == trainer.ScheduleWSD && t == trainer.ScheduleWSD
	switch {
	case a.Optimizer != b.Optimizer:
		return "optimizer", a.Optimizer, b.Optimizer
	case a.muonScale() != b.muonScale():
		return "muon scale", a.muonScale(), b.muonScale()
	case a.MuonEmbed != b.MuonEmbed:
		return "muon on embeddings", strconv.FormatBool(a.MuonEmbed), strconv.FormatBool(b.MuonEmbed)
	case a.LR != b.LR:
		return "lr", num(a.LR), num(b.LR)
	case a.WeightDecay != b.WeightDecay:
		return "weight decay", orNone(a.WeightDecay), orNone(b.WeightDecay)
	case a.GradClip != b.GradClip:
		return "grad clip", orNone(a.GradClip), orNone(b.GradClip)
	case a.Batch != b.Batch:
		return "batch", strconv.Itoa(a.Batch), strconv.Itoa(b.Batch)
	case a.Warmup != b.Warmup:
		return "warmup", num(a.Warmup), num(b.Warmup)
	case wsd && a.Decay != b.Decay:
		return "decay", num(a.Decay), num(b.Decay)
	case wsd && a.DecayShape != b.DecayShape:
		return "decay shape", a.DecayShape, b.DecayShape
	case a.ValFraction != b.ValFraction:
		return "validation fraction", num(a.ValFraction), num(b.ValFraction)
	case a.EvalWindows != b.EvalWindows:
		return "eval windows", strconv.Itoa(a.EvalWindows), strconv.Itoa(b.EvalWindows)
	}
	return "", "", ""
}

// checkRecipes returns an error naming the first two runs trained with
// different recipes; runs whose recipe is unknown (files written before runs
// recorded it) are not checked.
func checkRecipes(runs []Run) error {
	first := -1
	for i, run := range runs {
		if run.Recipe == nil {
			continue
		}
		if first < 0 {
			first = i
			continue
		}
		f := runs[first]
		if field, va, vb := recipeDiff(*f.Recipe, *run.Recipe, scheduleOf(f.Config), scheduleOf(run.Config)); field != "" {
			return fmt.Errorf("compare: runs %q (seed %d) and %q (seed %d) were trained with different %s (%s and %s): "+
				"a comparison holds one recipe, so compare them apart", f.Name, f.Seed(), run.Name, run.Seed(), field, va, vb)
		}
	}
	return nil
}

// recipe is the recipe the report's runs share, when any run knows it: a
// WSD run's if there is one, since only WSD runs have a decay to state.
func (r *Report) recipe() (Recipe, bool) {
	for _, run := range r.Runs {
		if run.Recipe != nil && scheduleOf(run.Config) == trainer.ScheduleWSD {
			return *run.Recipe, true
		}
	}
	for _, run := range r.Runs {
		if run.Recipe != nil {
			return *run.Recipe, true
		}
	}
	return Recipe{}, false
}
