package trainer

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
)

// A plan without an expansion point takes the default for the model's size
// and schedule (grow.DefaultAtFor); one that gives a point keeps it.
func TestConfigDefaultGrowAt(t *testing.T) {
	for _, c := range []struct {
		layers, dim int
		schedule    string
		decay       float64
		plan        grow.Plan
		at          float64
		atStep      int
	}{
		{12, 64, "", 0, grow.Plan{From: 0}, 0.6, 0},
		{12, 256, "", 0, grow.Plan{From: 0}, 0.8, 0},
		{6, 64, "", 0, grow.Plan{From: 1}, 0.8, 0},
		{12, 64, "", 0, grow.Plan{From: 1, At: 0.7}, 0.7, 0},
		{12, 64, "", 0, grow.Plan{From: 1, AtStep: 50}, 0, 50},
		// A decay of 20% would hold 0.8: the default moves before it.
		{6, 64, ScheduleWSD, 0.2, grow.Plan{From: 1}, 0.79, 0},
		{6, 64, "", 0.3, grow.Plan{From: 0}, 0.69, 0},
		{12, 64, "", 0.2, grow.Plan{From: 0}, 0.6, 0},
		{6, 64, ScheduleCosine, 0, grow.Plan{From: 1}, 0.8, 0}, // the cosine ablation
	} {
		plan := c.plan
		cfg := Config{Model: nn.Config{Layers: c.layers, Dim: c.dim, Heads: 2, Ctx: 16}, Steps: 100,
			Schedule: c.schedule, Decay: c.decay, Grow: &plan}
		cfg.Defaults()
		if g := cfg.Grow; g.At != c.at || g.AtStep != c.atStep || g.To != c.layers {
			t.Errorf("depth %d width %d, %s decay %v, plan %+v: defaults gave at %v, step %d, to %d; want %v, %d, %d",
				c.layers, c.dim, c.schedule, c.decay, c.plan, g.At, g.AtStep, g.To, c.at, c.atStep, c.layers)
		}
		s, err := cfg.schedule()
		if err == nil {
			_, err = cfg.stages(s)
		}
		if err != nil {
			t.Errorf("depth %d, %s decay %v: the default point is refused: %v", c.layers, c.schedule, c.decay, err)
		}
	}
}

// Every float field of a run, the model's included, refuses NaN and
// infinities up front with an error naming the field.
func TestConfigRejectsNonFinite(t *testing.T) {
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, tc := range []struct {
			field string
			set   func(*Config)
		}{
			{"val_fraction", func(c *Config) { c.ValFraction = x }},
			{"lr", func(c *Config) { c.LR = x }},
			{"weight_decay", func(c *Config) { c.WeightDecay = x }},
			{"grad_clip", func(c *Config) { c.GradClip = x }},
			{"warmup", func(c *Config) { c.Warmup = x }},
			{"decay", func(c *Config) { c.Decay = x }},
			{"rope_base", func(c *Config) { c.Model.Arch, c.Model.RopeBase = nn.ArchLlama, x }},
			{"aux_coef", func(c *Config) { c.Model.Arch, c.Model.AuxCoef = nn.ArchMoE, x }},
		} {
			cfg := tinyConfig(t)
			tc.set(&cfg)
			cfg.Defaults()
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.field+" must") {
				t.Errorf("%s = %v: error %v, want one naming %s", tc.field, x, err, tc.field)
			}
		}
	}
}

// MinMemory against a count by hand: a one-block gpt2 of width 32 on text.
func TestMinMemoryHandCount(t *testing.T) {
	cfg := Config{Model: nn.Config{Layers: 1, Dim: 32, Heads: 2, Ctx: 16}, Batch: 4, Shard: 2, Steps: 5, Optimizer: OptAdamW}
	// 256*32 token and 16*32 position embeddings, the final LayerNorm 2*32,
	// one block 12*32^2 + 13*32
	const params = 8192 + 512 + 64 + 12288 + 416
	got := cfg.MinMemory()
	want := MemoryNeed{
		Params:      params,
		Model:       4 * params * (1 + 1 + 2), // weights, gradients, AdamW's two moments
		Shards:      4 * params * 2,           // 4 sequences in shards of 2
		Activations: 4 * 16 * (4*(32+256) + 8),
	}
	if got != want {
		t.Errorf("MinMemory = %+v, want %+v", got, want)
	}
	cfg.Optimizer = OptMuon
	if got := cfg.MinMemory().Model; got != 4*params*3 {
		t.Errorf("muon: model bytes %v, want %v", got, 4*params*3)
	}
	cfg.Data = "tokens.bin" // the data sets the vocabulary: count its least
	if got := cfg.MinMemory().Params; got != params-255*32 {
		t.Errorf("token file: %d parameters, want %d", got, params-255*32)
	}
}

// A run that cannot fit in memory is refused with the numbers; one that
// fits exactly is not; an unknown machine size checks nothing.
func TestCheckMemory(t *testing.T) {
	const machine = 23.4 * (1 << 30)
	huge := Config{Model: nn.Config{Layers: 6, Dim: 65536, Heads: 8, Ctx: 128}, Batch: 16, Shard: 1, Steps: 5, Optimizer: OptAdamW}
	err := huge.checkMemory(machine)
	if err == nil {
		t.Fatal("a 6-block model of width 65536 passed a 23.4 GiB machine")
	}
	for _, want := range []string{"the run needs at least ", "(309.3G parameters: ", "adamw state", "16 batch shards", "more than this machine's 23.4 GiB; use a smaller dim or layers"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if err := huge.checkMemory(0); err != nil {
		t.Errorf("unknown machine memory: %v", err)
	}
	tiny := tinyConfig(t)
	tiny.Defaults()
	need := tiny.MinMemory().Total()
	if err := tiny.checkMemory(need); err != nil {
		t.Errorf("a run that just fits was refused: %v", err)
	}
	if err := tiny.checkMemory(need - 1); err == nil {
		t.Error("a run one byte over was accepted")
	}
	// Sizes whose products overflow an int64 count as huge, not as small.
	over := tiny
	over.Batch = 1 << 62
	if err := over.checkMemory(machine); err == nil || !strings.Contains(err.Error(), "GiB for the gradients of 4611686018427387904 batch shards") ||
		!strings.HasSuffix(err.Error(), "use a smaller batch or a larger shard") {
		t.Errorf("batch 2^62: %v", err)
	}
}

// Validate checks against this machine's memory, before anything is
// allocated: Run fails at once.
func TestRunRefusesWhatCannotFit(t *testing.T) {
	if machineMemory() == 0 {
		t.Skip("the machine's memory is unknown here")
	}
	for _, f := range []func(*Config){
		func(c *Config) { c.Model.Layers, c.Grow = 10_000_000, nil },
		func(c *Config) { c.Batch = 100_000_000 },
		func(c *Config) { c.Model.Arch, c.Model.Experts = nn.ArchMoE, 100_000 },
		func(c *Config) { c.Model.Arch, c.Model.FFNHidden = nn.ArchLlama, 10_000_000 },
	} {
		cfg := tinyConfig(t)
		f(&cfg)
		if _, err := Run(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "the run needs at least") {
			t.Errorf("%+v: err = %v", cfg, err)
		}
	}
}

func TestMemTotal(t *testing.T) {
	info := []byte("MemFree:  1000 kB\nMemTotal:       24684100 kB\nBuffers: 3 kB\n")
	if got := memTotal(info); got != 24684100*1024 {
		t.Errorf("memTotal = %v", got)
	}
	if got := memTotal([]byte("MemFree: 1 kB\n")); got != 0 {
		t.Errorf("no MemTotal: %v", got)
	}
}

// An offline expansion that cannot fit is refused before it allocates.
func TestCheckGrowMemory(t *testing.T) {
	mc := nn.Config{Vocab: 256, Ctx: 16, Dim: 32, Heads: 2, Layers: 1}
	if err := checkGrowMemory(mc, 2, 1<<30); err != nil {
		t.Errorf("2 blocks of width 32 in 1 GiB: %v", err)
	}
	err := checkGrowMemory(mc, 10_000_000, 1<<30)
	if err == nil || !strings.Contains(err.Error(), "10000000 blocks need at least 946.5 GiB of memory (127.0G parameters") {
		t.Errorf("10M blocks in 1 GiB: %v", err)
	}
	if err := checkGrowMemory(mc, 1<<30, 0); err == nil || !strings.Contains(err.Error(), "layers must be at most") {
		t.Errorf("2^30 blocks: %v", err)
	}
}
