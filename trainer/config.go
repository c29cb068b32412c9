package trainer

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
)

// Config is one training run. The zero value of an optional field selects the
// default in its comment; Defaults fills them in and Validate checks the
// result, reporting every problem with a message naming the field.
type Config struct {
	// Model is the architecture at its final (target) depth: with Grow set,
	// the run starts at Grow.From blocks and ends at Model.Layers. Vocab 0
	// takes the data's vocabulary (256 for text).
	Model nn.Config `json:"model"`

	// Data is a text file, a directory of files, or a .bin file of uint16
	// tokens; "" selects the embedded generated corpus. Run makes a
	// relative path absolute, so that checkpoints record where it is.
	Data       string `json:"data,omitempty"`
	DataFormat string `json:"data_format,omitempty"` // "" (by extension), "text" or "bin"
	// Tokenizer encodes text data ("gpt2", "bytes", a tokenizer.json, a
	// directory holding one or vocab.json + merges.txt); "" is byte-level,
	// or for a shard the tokenizer its header names. Checkpoints carry it.
	Tokenizer   string  `json:"tokenizer,omitempty"`
	ValFraction float64 `json:"val_fraction,omitempty"` // default 0.1 (last 10% validate)

	Batch int `json:"batch"` // sequences per optimizer step, default 16
	Steps int `json:"steps"` // optimizer steps, > 0

	// Shard is the number of sequences per gradient shard, the unit of
	// gradient accumulation (default 1). Each shard has its own tape and its
	// gradients are summed in shard order, whatever the number of workers,
	// so losses are bit-identical for every Workers. It must divide Batch.
	Shard int `json:"shard,omitempty"`

	Optimizer   string  `json:"optimizer,omitempty"`    // "adamw" (default), "muon" or "sgd"
	LR          float64 `json:"lr"`                     // peak learning rate; default per optimizer (DefaultLR)
	WeightDecay float64 `json:"weight_decay,omitempty"` // decoupled, on matrices; default 0.1, < 0 disables
	GradClip    float64 `json:"grad_clip,omitempty"`    // global norm; default 1, < 0 disables

	// Muon only: how an orthogonalised update is scaled (nn.MuonConfig.Scale:
	// "rms" default, "spectral" or "mup"), and whether the embeddings and the
	// head are on Muon too (nn.MuonConfig.Embeddings; default: normalised SGD).
	MuonScale string `json:"muon_scale,omitempty"`
	MuonEmbed bool   `json:"muon_embed,omitempty"`

	// Schedule kind ("wsd" default, "cosine", "constant") and its fractions;
	// zero fractions take the paper's defaults (2% warmup, 10% decay), and a
	// negative fraction means none.
	Schedule   string  `json:"schedule,omitempty"`
	Warmup     float64 `json:"warmup,omitempty"`
	Decay      float64 `json:"decay,omitempty"`
	DecayShape string  `json:"decay_shape,omitempty"` // "linear" (default), "cosine", "1-sqrt"

	// Grow is the progressive-training plan; nil trains at fixed depth.
	// Grow.To 0 means Model.Layers; otherwise the two must agree.
	Grow *grow.Plan `json:"grow,omitempty"`

	// Workers split each batch (default GOMAXPROCS, at most the number of
	// shards). Losses are bit-identical whatever the number of workers.
	Workers int `json:"workers,omitempty"`

	Seed uint64 `json:"seed"`

	EvalEvery   int `json:"eval_every,omitempty"`   // steps between evaluations; default Steps/10; < 0 never
	EvalWindows int `json:"eval_windows,omitempty"` // fixed validation windows; default 64
	LogEvery    int `json:"log_every,omitempty"`    // steps between step events; default 1

	// MixWindows is the number of validation windows of the mixing check
	// that runs at each evaluation after an expansion (see MixCheck);
	// default DefaultMixWindows, < 0 turns the check off.
	MixWindows int `json:"mix_windows,omitempty"`

	// Out is the checkpoint directory ("" writes none); a checkpoint is
	// written every CheckpointEvery steps (CheckpointAtEval: at every
	// evaluation, or every Steps/10 steps when evaluation is off; 0: only at
	// the end, and before and after each expansion), on Ctrl-C (context
	// cancellation) and at the end. The checkpoint before an expansion goes
	// to PreGrowDir(Out, step).
	Out             string `json:"out,omitempty"`
	CheckpointEvery int    `json:"checkpoint_every,omitempty"`

	// Replace replaces a checkpoint of another run found at Out (or at one
	// of its pre-grow directories); without it the run stops before
	// training with a *CheckpointExistsError. A run resumed from Out itself
	// replaces its own checkpoints without it. It is the caller's decision,
	// not part of the run, so checkpoints do not record it.
	Replace bool `json:"-"`
}

// Optimizer names.
const (
	OptAdamW = "adamw"
	OptMuon  = "muon"
	OptSGD   = "sgd"
)

// CheckpointAtEval as Config.CheckpointEvery checkpoints at every
// evaluation: what a crash (OOM killer, power loss) costs is then at most
// the steps since the last one, at the price of one save per evaluation. An
// evaluation's save is skipped while the last save took more than 1% of the
// time since it ended, so saves never cost much more than 1% of a run.
const CheckpointAtEval = -1

// Defaults of a run.
const (
	DefaultBatch       = 16
	DefaultEvalWindows = 64
	DefaultWeightDecay = 0.1
	DefaultGradClip    = 1.0
)

// DefaultLR is the peak learning rate of each optimizer for the small
// byte-level GPTs sprout trains, picked by short sweeps on the embedded
// corpus: AdamW 2e-3; Muon 8e-3 with its "rms" update scaling, which gives
// matrix updates AdamW's RMS, so its rate is of AdamW's order (Muon's
// reference 0.02 belongs to its "spectral" scaling); SGD (Nesterov momentum
// 0.9) 0.3. Long fixed-depth runs do better with a lower rate. The sweeps:
// docs/experiments.md#the-default-learning-rates.
func DefaultLR(optimizer string) float64 {
	switch optimizer {
	case OptMuon:
		return 8e-3
	case OptSGD:
		return 0.3
	}
	return 2e-3
}

// DefaultGrowAt is the expansion point a growth plan without one takes:
// grow.DefaultAtFor the target's depth and width and the WSD schedule's
// decay, whose default applies when Decay is 0 (a cosine or constant
// schedule has no stable phase to keep to).
func (c Config) DefaultGrowAt() float64 {
	decay := 0.0
	if c.Schedule == "" || c.Schedule == ScheduleWSD {
		decay = c.Decay
		if decay == 0 {
			decay = DefaultDecay
		}
	}
	return grow.DefaultAtFor(c.Model.Layers, c.Model.Dim, decay)
}

// Defaults fills in every optional field left at its zero value. Fields that
// depend on the data (Model.Vocab) are filled by Run.
func (c *Config) Defaults() {
	if c.Model.Arch == "" {
		c.Model.Arch = "gpt2"
	}
	if c.ValFraction == 0 {
		c.ValFraction = DefaultValFraction
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.Shard == 0 {
		c.Shard = 1
	}
	if c.Optimizer == "" {
		c.Optimizer = OptAdamW
	}
	if c.LR == 0 {
		c.LR = DefaultLR(c.Optimizer)
	}
	if c.WeightDecay == 0 {
		c.WeightDecay = DefaultWeightDecay
	}
	if c.GradClip == 0 {
		c.GradClip = DefaultGradClip
	}
	if c.Optimizer == OptMuon && c.MuonScale == "" {
		c.MuonScale = "rms"
	}
	if c.Schedule == "" {
		c.Schedule = ScheduleWSD
	}
	if c.Warmup == 0 && c.Schedule != ScheduleConstant {
		c.Warmup = DefaultWarmup
	}
	if c.Schedule == ScheduleWSD {
		if c.Decay == 0 {
			c.Decay = DefaultDecay
		}
		if c.DecayShape == "" {
			c.DecayShape = DecayLinear
		}
	}
	if c.Grow != nil {
		p := *c.Grow
		if p.At == 0 && p.AtStep == 0 {
			p.At = c.DefaultGrowAt()
		}
		p = p.Normalized()
		if p.To == 0 {
			p.To = c.Model.Layers
		}
		c.Grow = &p
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.EvalEvery == 0 {
		c.EvalEvery = max(1, c.Steps/10)
	}
	if c.EvalWindows == 0 {
		c.EvalWindows = DefaultEvalWindows
	}
	if c.LogEvery == 0 {
		c.LogEvery = 1
	}
	if c.MixWindows == 0 {
		c.MixWindows = DefaultMixWindows
	}
}

// Validate reports every problem with c (after Defaults), each naming its
// field, and refuses a run whose lower bound on memory (MinMemory) exceeds
// the machine's. Problems that depend on the data (a context longer than the
// data, a vocabulary too small for its tokens) are reported by Run.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("config: "+format, a...)) }
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

	mc := c.Model
	if mc.Vocab == 0 {
		mc.Vocab = ByteVocab // filled from the data by Run
	}
	if err := mc.Validate(); err != nil {
		errs = append(errs, err)
	}
	if mc.Vocab > 1<<16 {
		bad("model vocab %d is more than uint16 tokens can address (65536)", mc.Vocab)
	}
	if c.Steps < 1 {
		bad("steps must be at least 1, got %d", c.Steps)
	}
	if c.Batch < 1 {
		bad("batch must be at least 1, got %d", c.Batch)
	}
	if c.Shard < 1 {
		bad("shard must be at least 1 sequence, got %d", c.Shard)
	} else if c.Batch >= 1 && c.Batch%c.Shard != 0 {
		bad("shard (%d sequences) must divide batch (%d)", c.Shard, c.Batch)
	}
	switch c.DataFormat {
	case "", FormatText, FormatTokens, "bin":
	default:
		bad("data_format %q is unknown (want text or bin)", c.DataFormat)
	}
	if !finite(c.ValFraction) || c.ValFraction <= 0 || c.ValFraction >= 1 {
		bad("val_fraction must be between 0 and 1, got %v", c.ValFraction)
	}
	switch c.Optimizer {
	case OptAdamW, OptMuon, OptSGD:
	default:
		bad("optimizer %q is unknown (want adamw, muon or sgd)", c.Optimizer)
	}
	if !finite(c.LR) || c.LR <= 0 {
		bad("lr must be positive and finite, got %v", c.LR)
	}
	switch {
	case c.Optimizer != OptMuon && (c.MuonScale != "" || c.MuonEmbed):
		bad("muon_scale and muon_embed apply to the muon optimizer only, not %s", c.Optimizer)
	case c.Optimizer == OptMuon && !slices.Contains(nn.MuonScales, c.MuonScale):
		bad("muon_scale %q is unknown (want %s)", c.MuonScale, strings.Join(nn.MuonScales, ", "))
	}
	if !finite(c.WeightDecay) {
		bad("weight_decay must be finite, got %v", c.WeightDecay)
	}
	if !finite(c.GradClip) {
		bad("grad_clip must be finite, got %v", c.GradClip)
	}
	if !finite(c.Warmup) || c.Warmup >= 1 {
		bad("warmup must be a fraction of the run below 1, got %v", c.Warmup)
	}
	if !finite(c.Decay) || c.Decay > 1 {
		bad("decay must be a fraction of the run of at most 1, got %v", c.Decay)
	}
	if c.Workers < 1 {
		bad("workers must be at least 1, got %d", c.Workers)
	}
	if c.EvalWindows < 1 {
		bad("eval_windows must be at least 1, got %d", c.EvalWindows)
	}
	if c.LogEvery < 1 {
		bad("log_every must be at least 1, got %d", c.LogEvery)
	}
	if c.CheckpointEvery < CheckpointAtEval {
		bad("checkpoint_every must be >= 0, or %d for every evaluation, got %d", CheckpointAtEval, c.CheckpointEvery)
	}
	if len(errs) == 0 {
		// The schedule and the plan need the fields above to be sane.
		s, err := c.schedule()
		if err != nil {
			errs = append(errs, fmt.Errorf("config: %w", err))
		} else if c.Grow != nil {
			if c.Grow.To != c.Model.Layers {
				bad("grow target depth %d differs from model layers %d", c.Grow.To, c.Model.Layers)
			}
			if _, err := c.stages(s); err != nil {
				errs = append(errs, fmt.Errorf("config: %w", err))
			}
		}
	}
	if len(errs) == 0 {
		// Last, as it needs sane sizes: refuse what cannot fit in memory
		// before anything is allocated.
		if err := c.checkMemory(machineMemory()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// absData makes c.Data absolute (relative paths are to the working
// directory), so that the checkpoints' record of it serves eval and resume
// from any directory.
func (c *Config) absData() error {
	var err error
	if c.Tokenizer, err = absTokenizer(c.Tokenizer); err != nil {
		return err
	}
	if c.Data == "" {
		return nil
	}
	abs, err := filepath.Abs(c.Data)
	if err != nil {
		return fmt.Errorf("config: data: %w", err)
	}
	c.Data = abs
	return nil
}

// schedule builds the run's learning-rate schedule.
func (c *Config) schedule() (Schedule, error) {
	frac := func(x float64) float64 { return max(x, 0) } // negative: none
	s := Schedule{Kind: c.Schedule, Steps: c.Steps, Peak: c.LR, Warmup: frac(c.Warmup)}
	switch c.Schedule {
	case ScheduleWSD:
		s.Decay, s.DecayShape = frac(c.Decay), c.DecayShape
	case ScheduleCosine:
		s.MinRatio = 0.1
	}
	if c.Schedule != ScheduleWSD && (c.Decay > 0 || c.DecayShape != "") {
		return s, fmt.Errorf("decay and decay_shape apply to the wsd schedule only, not %q", c.Schedule)
	}
	return s, s.Validate()
}

// stages returns the growth plan's expansions for schedule s. Growth must
// happen before a WSD run's decay; cosine and constant schedules have no
// stable phase to respect (growth under cosine is an ablation).
func (c *Config) stages(s Schedule) ([]grow.Stage, error) {
	if c.Grow == nil {
		return nil, nil
	}
	decayStart := c.Steps
	if s.Kind == ScheduleWSD {
		decayStart = s.DecayStart()
	}
	return c.Grow.Stages(c.Steps, decayStart)
}

// startDepth is the number of blocks the run starts with.
func (c *Config) startDepth() int {
	if c.Grow != nil {
		return c.Grow.From
	}
	return c.Model.Layers
}

// PlannedFLOPs returns the training FLOPs the whole run will spend (growth
// included) and what it would spend at its final depth throughout, as
// grow.RunFLOPs counts them. Call it after Defaults; a zero Model.Vocab
// counts as ByteVocab.
func (c *Config) PlannedFLOPs() (spent, fixed float64, err error) {
	if err := c.Validate(); err != nil {
		return 0, 0, err
	}
	s, _ := c.schedule()
	stages, _ := c.stages(s)
	mc := c.Model
	if mc.Vocab == 0 {
		mc.Vocab = ByteVocab
	}
	spent, fixed = grow.RunFLOPs(mc, c.startDepth(), stages, c.Steps, c.Batch, mc.Ctx)
	return spent, fixed, nil
}
