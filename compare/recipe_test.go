package compare

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sproutml/sprout/trainer"
)

func TestRecipeOf(t *testing.T) {
	got := RecipeOf(trainer.Config{Optimizer: trainer.OptMuon, Steps: 100})
	want := Recipe{Optimizer: "muon", LR: 8e-3, WeightDecay: 0.1, GradClip: 1, Batch: 16, Warmup: 0.02, Decay: 0.1, DecayShape: "linear", ValFraction: 0.1, EvalWindows: 64, MuonScale: "rms"}
	if got != want {
		t.Errorf("RecipeOf(muon) = %+v, want %+v", got, want)
	}
	if s, want := got.String(), "muon, lr 0.008, weight decay 0.1, grad clip 1, batch 16, warmup 0.02, decay 0.1 (linear), validation 0.1 of the data in at most 64 windows"; s != want {
		t.Errorf("String() = %q, want %q", s, want)
	}
	paper := RecipeOf(trainer.Config{Optimizer: trainer.OptMuon, MuonScale: "mup", MuonEmbed: true, Steps: 100})
	if s, want := paper.String(), "muon (mup scale, embeddings on muon), lr 0.008,"; !strings.HasPrefix(s, want) {
		t.Errorf("String() = %q, want it to start %q", s, want)
	}
	old := want
	old.MuonScale = "" // a file from before the scale was recorded
	if f, _, _ := recipeDiff(old, want, trainer.ScheduleWSD, trainer.ScheduleWSD); f != "" {
		t.Errorf("a muon recipe without a scale differs from rms in %s", f)
	}
	if f, va, vb := recipeDiff(got, paper, trainer.ScheduleWSD, trainer.ScheduleWSD); f != "muon scale" || va != "rms" || vb != "mup" {
		t.Errorf("rms against mup: differs in %q (%s, %s)", f, va, vb)
	}
	paper.MuonScale = "rms"
	if f, _, _ := recipeDiff(got, paper, trainer.ScheduleWSD, trainer.ScheduleWSD); f != "muon on embeddings" {
		t.Errorf("embeddings on muon or not: differs in %q", f)
	}
	cos := RecipeOf(trainer.Config{Schedule: trainer.ScheduleCosine, WeightDecay: -1, GradClip: -1, LR: 1e-3, ValFraction: 0.05, EvalWindows: 512})
	if s, want := cos.String(), "adamw, lr 0.001, weight decay none, grad clip none, batch 16, warmup 0.02, validation 0.05 of the data in at most 512 windows"; s != want {
		t.Errorf("cosine String() = %q, want %q", s, want)
	}
}

// recipeReport runs specs on tinyBase changed by edit, without the baseline
// unless baseline is set, and reads its JSON Lines back.
func recipeReport(t *testing.T, specs string, baseline bool, edit func(*trainer.Config)) *Report {
	t.Helper()
	base := tinyBase()
	edit(&base)
	e := Experiment{Base: base, Specs: mustSpecs(t, specs), NoBaseline: !baseline}
	rep, err := e.Run(context.Background(), Options{Train: (&fakeTrainer{loss: func(trainer.Config) float64 { return 2 }}).train})
	if err != nil {
		t.Fatal(err)
	}
	var jl bytes.Buffer
	if err := rep.WriteJSONL(&jl); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSONL(&jl, 0, 0)
	if err != nil {
		t.Fatalf("ReadJSONL: %v\n%s", err, jl.String())
	}
	for i, run := range back.Runs {
		if run.Recipe == nil || *run.Recipe != *rep.Runs[i].Recipe {
			t.Errorf("run %q: recipe %v read back, want %+v", run.Name, run.Recipe, *rep.Runs[i].Recipe)
		}
	}
	return back
}

func TestMergeRecipes(t *testing.T) {
	same := func(*trainer.Config) {}
	fixed := recipeReport(t, "fixed,fixed-cosine", true, same)
	if r := fixed.Runs[0].Recipe; r.LR != 3e-3 || r.Optimizer != "adamw" || r.Batch != 4 || r.Decay != 0.1 {
		t.Fatalf("fixed run's recipe %+v", *r)
	}
	if _, err := Merge(fixed, recipeReport(t, "0-random", false, same)); err != nil {
		t.Errorf("same recipe: %v", err)
	}
	// The decay belongs to WSD: a cosine run joins WSD runs of any decay,
	// but two WSD runs must agree.
	cosine := recipeReport(t, "0-random-cosine", false, func(c *trainer.Config) { c.Decay = 0.2 })
	if _, err := Merge(fixed, cosine); err != nil {
		t.Errorf("cosine run with another decay: %v", err)
	}
	for _, c := range []struct {
		edit func(*trainer.Config)
		want string
	}{
		{func(c *trainer.Config) { c.LR = 6e-3 }, `runs "fixed" (seed 7) and "0-random" (seed 7) were trained with different lr (0.003 and 0.006)`},
		{func(c *trainer.Config) { c.Optimizer = trainer.OptMuon }, "different optimizer (adamw and muon)"},
		{func(c *trainer.Config) { c.WeightDecay = -1 }, "different weight decay (0.1 and none)"},
		{func(c *trainer.Config) { c.GradClip = 0.5 }, "different grad clip (1 and 0.5)"},
		{func(c *trainer.Config) { c.Batch = 8; c.Steps = 50 }, "different batch (4 and 8)"},
		{func(c *trainer.Config) { c.Warmup = 0.05 }, "different warmup (0.02 and 0.05)"},
		{func(c *trainer.Config) { c.Decay = 0.2 }, "different decay (0.1 and 0.2)"},
		{func(c *trainer.Config) { c.DecayShape = trainer.DecaySqrt }, "different decay shape (linear and 1-sqrt)"},
		{func(c *trainer.Config) { c.ValFraction = 0.2 }, "different validation fraction (0.1 and 0.2)"},
		{func(c *trainer.Config) { c.EvalWindows = 512 }, "different eval windows (64 and 512)"},
	} {
		_, err := Merge(fixed, recipeReport(t, "0-random", false, c.edit))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Merge: %v, want %q", err, c.want)
		}
	}

	// A file written before runs recorded their recipe joins any.
	old := recipeReport(t, "1-copy", false, func(c *trainer.Config) { c.LR = 6e-3 })
	old.Runs[0].Recipe = nil
	m, err := Merge(fixed, old)
	if err != nil {
		t.Fatalf("run without a recipe: %v", err)
	}
	var table bytes.Buffer
	if err := m.WriteTable(&table); err != nil || !strings.Contains(table.String(), "\nrecipe: adamw, lr 0.003, weight decay 0.1, grad clip 1, batch 4, warmup 0.02, decay 0.1 (linear), validation 0.1 of the data in at most 64 windows\n") {
		t.Errorf("table (%v) does not give the recipe:\n%s", err, table.String())
	}
	old.Runs[0].Recipe = nil
	if err := old.WriteTable(&table); err != nil || strings.Count(table.String(), "recipe:") != 1 {
		t.Errorf("a table of runs without a recipe names one (%v):\n%s", err, table.String())
	}

	// One file of mixed recipes (joined by hand) is refused too.
	var jl bytes.Buffer
	for _, rep := range []*Report{fixed, recipeReport(t, "0-random", false, func(c *trainer.Config) { c.LR = 6e-3 })} {
		if err := rep.WriteJSONL(&jl); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ReadJSONL(&jl, 0, 0); err == nil || !strings.Contains(err.Error(), "different lr (0.003 and 0.006)") {
		t.Errorf("ReadJSONL of mixed recipes: %v", err)
	}
}
