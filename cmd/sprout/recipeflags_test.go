package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sproutml/sprout/trainer"
)

// trainConfig parses train's flags as runTrain does and returns the config.
func trainConfig(t *testing.T, args ...string) (trainer.Config, error) {
	t.Helper()
	f := newTrainFlags(io.Discard)
	if err := parseFlags(f.fs, args); err != nil {
		t.Fatal(err)
	}
	if err := f.recipe.resolve(); err != nil {
		return trainer.Config{}, err
	}
	return f.config()
}

func TestRecipeFlags(t *testing.T) {
	def, err := trainConfig(t)
	if err != nil {
		t.Fatal(err)
	}
	if def.Optimizer != trainer.OptMuon || def.WeightDecay != trainer.DefaultWeightDecay || def.GradClip != trainer.DefaultGradClip || def.MuonScale != "" || def.MuonEmbed || def.Model.MuP {
		t.Errorf("default recipe: %+v", def)
	}
	paper, err := trainConfig(t, "--recipe", "paper")
	if err != nil {
		t.Fatal(err)
	}
	if paper.Optimizer != trainer.OptMuon || paper.LR != 0.016 || paper.MuonScale != "mup" || !paper.MuonEmbed || paper.WeightDecay != 0.01 || paper.GradClip >= 0 ||
		paper.Warmup != 0.02 || paper.Decay != 0.1 || paper.Schedule != trainer.ScheduleWSD {
		t.Errorf("--recipe paper: %+v", paper)
	}
	// A flag given on the command line wins over the recipe's.
	mixed, err := trainConfig(t, "--recipe", "paper", "--weight-decay", "0.1", "--muon-scale", "rms", "--mup-base-dim", "64")
	if err != nil {
		t.Fatal(err)
	}
	if mixed.WeightDecay != 0.1 || mixed.MuonScale != "rms" || !mixed.MuonEmbed || mixed.GradClip >= 0 || !mixed.Model.MuP || mixed.Model.MuPBaseDim != 64 {
		t.Errorf("--recipe paper with flags: %+v", mixed)
	}
	// The paper's schedule fractions do not turn a cosine schedule into an error.
	if _, err := trainConfig(t, "--recipe", "paper", "--schedule", "cosine"); err != nil {
		t.Errorf("--recipe paper --schedule cosine: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--recipe", "nanogpt"}, `--recipe "nanogpt" is unknown (want paper, sprout)`},
		{[]string{"--optimizer", "adamw", "--muon-embed"}, "--muon-scale and --muon-embed apply to --optimizer muon only"},
		{[]string{"--muon-scale", "huge"}, `--muon-scale "huge" is unknown (want rms, spectral, mup)`},
		{[]string{"--weight-decay", "-1"}, "--weight-decay must be a finite number >= 0"},
		{[]string{"--mup-base-dim", "-2"}, "--mup-base-dim must be a width >= 0"},
	} {
		_, err := trainConfig(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestRecipeFlagsShared checks that train, compare and bench train take the
// same recipe flags with the same defaults, and that -h says what --recipe
// paper sets.
func TestRecipeFlagsShared(t *testing.T) {
	var helps []string
	for _, cmd := range [][]string{{"train"}, {"compare"}, {"bench", "train"}} {
		code, out, _ := runSprout(append(cmd, "-h")...)
		if code != 0 {
			t.Fatalf("%v -h: exit %d", cmd, code)
		}
		for _, flag := range []string{"recipe", "optimizer", "lr", "weight-decay", "grad-clip", "muon-scale", "muon-embed", "mup-base-dim"} {
			if !strings.Contains(out, "  -"+flag+" ") && !strings.Contains(out, "  -"+flag+"\n") {
				t.Errorf("%v -h lacks --%s", cmd, flag)
			}
		}
		if !strings.Contains(out, "--muon-embed true --muon-scale mup") || !strings.Contains(out, `(default "muon")`) {
			t.Errorf("%v -h does not say what --recipe paper sets, or muon is not the default:\n%s", cmd, out)
		}
		helps = append(helps, out)
	}
	if !strings.Contains(helps[1], "  -warmup float") || strings.Contains(helps[1], "  -schedule ") || strings.Contains(helps[2], "  -warmup float") {
		t.Errorf("compare takes the fractions but no schedule, bench train neither")
	}
}

// TestTrainGrowAtAuto calibrates a tiny run, expands it where the
// calibration says and records the calibration in the checkpoint.
func TestTrainGrowAtAuto(t *testing.T) {
	data := compareCorpus(t)
	out := filepath.Join(t.TempDir(), "run")
	args := append([]string{"train", "--data", data, "--steps", "60", "--eval-every", "10", "--eval-windows", "4",
		"--grow-from", "1", "--grow-init", "random", "--grow-at", "auto", "--calibrate-steps", "30", "--sample-tokens", "0", "--out", out}, tinyModelFlags...)
	code, stdout, stderr := runSprout(args...)
	if code != 0 || !strings.Contains(stderr, "calibration (2 runs of 30 steps)") || !strings.Contains(stderr, "[calibrate 2/2]") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	man, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(man), `"auto": {`) || !strings.Contains(string(man), `"calib_steps": 30,`) {
		t.Errorf("the manifest does not record the calibration:\n%s", man)
	}
	code, _, stderr = runSprout(append(args[:len(args):len(args)], "--calibrate-steps", "59")...)
	if code != 1 || !strings.Contains(stderr, "at most the 54 before the decay") {
		t.Errorf("a calibration into the decay: exit %d, %s", code, stderr)
	}
	code, _, stderr = runSprout("train", "--calibrate-steps", "30")
	if code != 2 || !strings.Contains(stderr, "--calibrate-steps needs --grow-at auto") {
		t.Errorf("--calibrate-steps alone: exit %d, %s", code, stderr)
	}
}

func TestBenchTrainSweep(t *testing.T) {
	code, out, stderr := runSprout("bench", "train", "--sweep", "16,32", "--layers", "1", "--ctx", "16", "--batch", "2", "--steps", "2", "--warmup-steps", "0")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 5 || !strings.Contains(lines[1], "1 core tok/s") ||
		!strings.HasPrefix(strings.TrimSpace(lines[2]), "16      2") || !strings.HasPrefix(strings.TrimSpace(lines[3]), "32      2") {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, _ = runSprout("bench", "train", "--sweep", "16", "--layers", "1", "--ctx", "16", "--batch", "2", "--steps", "2", "--warmup-steps", "0", "--json")
	if n := strings.Count(out, "\n"); code != 0 || n != 2 || !strings.Contains(out, `"cores":1,`) {
		t.Errorf("--json: exit %d, %d lines\n%s", code, n, out)
	}
	for _, args := range [][]string{{"--sweep", "64,x"}, {"--sweep", "64", "--dim", "128"}, {"--sweep", "64", "--workers", "1"}} {
		if code, _, stderr := runSprout(append([]string{"bench", "train"}, args...)...); code != 2 || !strings.Contains(stderr, "--sweep") {
			t.Errorf("%v: exit %d, %s", args, code, stderr)
		}
	}
}
