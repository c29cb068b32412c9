package trainer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
)

// Resume continues the run checkpointed in dir exactly where it stopped: the
// same weights, optimizer state, data position, schedule and growth plan, so
// the steps that follow are bit for bit those of the uninterrupted run. The
// config comes from the checkpoint's manifest, with Out set to dir; override
// (may be nil) may then change it, for example extend Steps, change Out,
// Workers or the logging. The model, batch, shard size, seed and data must
// stay as they were. A checkpoint at another Out is replaced only with
// Replace set (see Config.Replace).
func Resume(ctx context.Context, dir string, sink Sink, override func(*Config) error) (*Result, error) {
	// Out is dir unless override changes it: lock it before reading, so
	// that a run still writing it is refused rather than read mid-save.
	lock, err := lockToRead(dir)
	if err != nil {
		return nil, err
	}
	c, err := LoadCheckpoint(dir)
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	man := &c.Manifest
	if len(man.Run) == 0 {
		return nil, unlocked(lock, fmt.Errorf("trainer: checkpoint %s records no run configuration, so it cannot be resumed (train a new run from it instead)", dir))
	}
	var saved Config
	if err := strictJSON(man.Run, &saved); err != nil {
		return nil, unlocked(lock, fmt.Errorf("trainer: checkpoint %s: run configuration: %w", dir, err))
	}
	cfg := saved
	cfg.Out = filepath.Clean(dir)
	if override != nil {
		if err := override(&cfg); err != nil {
			return nil, unlocked(lock, err)
		}
	}
	cfg.Defaults()
	// A checkpoint from before data paths were stored absolute reads its
	// relative path from the working directory, as it always did.
	if err := cfg.absData(); err != nil {
		return nil, unlocked(lock, err)
	}
	if err := sameRun(&saved, &cfg); err != nil {
		return nil, unlocked(lock, err)
	}
	if int64(cfg.Steps) < man.Step {
		return nil, unlocked(lock, fmt.Errorf("config: steps %d ends before the checkpoint's step %d", cfg.Steps, man.Step))
	}
	r, err := prepare(cfg, sink, int(man.Step), dir, lock)
	if err != nil {
		return nil, err
	}
	defer r.lock.Unlock()
	if man.Data == nil || man.Data.Digest != r.data.Digest {
		return nil, fmt.Errorf("trainer: the data (%s) is not the data the checkpoint was trained on", r.data.Source)
	}
	if err := checkResumeTokenizer(man, r.data); err != nil {
		return nil, err
	}
	if r.m, err = modelFromCheckpoint(c); err != nil {
		return nil, err
	}
	if man.Optimizer == nil || man.Optimizer.Name != r.opt.Name() {
		return nil, fmt.Errorf("trainer: checkpoint %s has no %s optimizer state", dir, r.opt.Name())
	}
	if err := restoreOptim(r.opt, r.m, c.Optim, c.OptimMeta); err != nil {
		return nil, err
	}
	if man.Sampler == nil {
		return nil, fmt.Errorf("trainer: checkpoint %s records no data position", dir)
	}
	if r.sampler, err = RestoreSampler(r.data.Train, cfg.Model.Ctx, *man.Sampler); err != nil {
		return nil, fmt.Errorf("trainer: checkpoint %s: %w", dir, err)
	}
	r.step, r.tokens = int(man.Step), man.Tokens
	r.resumed, r.resumedAt, r.lastGood = true, r.step, filepath.Clean(dir)
	r.flopsDone, r.segStart, r.depth = man.FLOPs, r.step, len(r.m.Blocks)
	r.history = append([]GrowthRecord(nil), man.Growth.History...)
	r.layersStart = r.depth
	if len(r.history) > 0 {
		r.layersStart = r.history[0].From
	}
	r.wall0 = man.WallSeconds
	r.lastLoss, r.lastVal = man.TrainLoss, man.ValLoss
	if err := r.checkDepth(); err != nil {
		return nil, fmt.Errorf("trainer: checkpoint %s: %w", dir, err)
	}
	return r.loop(ctx)
}

// unlocked releases l and returns err.
func unlocked(l *Lock, err error) error {
	l.Unlock()
	return err
}

// sameRun reports what an override may not change on resume.
func sameRun(saved, cfg *Config) error {
	a, _ := json.Marshal(saved.Model)
	b, _ := json.Marshal(cfg.Model)
	switch {
	case !bytes.Equal(a, b):
		return fmt.Errorf("config: the model cannot change on resume (checkpoint %s, asked %s)", a, b)
	case saved.Batch != cfg.Batch || saved.Shard != cfg.Shard:
		return fmt.Errorf("config: batch and shard cannot change on resume (checkpoint %d/%d, asked %d/%d)", saved.Batch, saved.Shard, cfg.Batch, cfg.Shard)
	case saved.Seed != cfg.Seed:
		return fmt.Errorf("config: the seed cannot change on resume (checkpoint %d, asked %d)", saved.Seed, cfg.Seed)
	}
	return nil
}

// checkDepth checks that the resumed model's depth is where the growth plan
// says it should be at this step, and that no expansion was missed.
func (r *run) checkDepth() error {
	if r.cfg.Grow == nil {
		if r.depth != r.cfg.Model.Layers {
			return fmt.Errorf("the model has %d blocks but the run trains %d", r.depth, r.cfg.Model.Layers)
		}
		return nil
	}
	done := len(r.history)
	want := r.cfg.Grow.From
	if done > len(r.stages) {
		return fmt.Errorf("the model grew %d times but the plan has %d expansions", done, len(r.stages))
	}
	if done > 0 {
		want = r.stages[done-1].Layers
	}
	if r.depth != want {
		return fmt.Errorf("the model has %d blocks but the growth plan says %d after %d expansions", r.depth, want, done)
	}
	if done < len(r.stages) && r.stages[done].At < r.step {
		return fmt.Errorf("the plan expands at step %d, before the checkpoint's step %d", r.stages[done].At, r.step)
	}
	return nil
}

// strictJSON decodes b into v, rejecting unknown fields.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// modelFromCheckpoint builds the model a checkpoint describes and loads its
// weights, checking every name and shape.
func modelFromCheckpoint(c *Checkpoint) (*nn.Model, error) {
	var mc nn.Config
	if err := strictJSON(c.Manifest.Config, &mc); err != nil {
		return nil, fmt.Errorf("checkpoint: model config: %w", err)
	}
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	m, err := nn.NewModel(mc, 0)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	want := make(map[string][]int, len(m.Params()))
	for _, p := range m.Params() {
		want[p.Name] = p.Shape
	}
	if err := CheckTensors("model", c.Model, want); err != nil {
		return nil, err
	}
	for _, t := range c.Model {
		copy(m.Param(t.Name).Data, t.Data)
	}
	return m, nil
}

// LoadModel loads the weights of the checkpoint in dir, verified (digests,
// names, shapes), and returns the model with the manifest.
func LoadModel(dir string) (*nn.Model, *Manifest, error) {
	c, err := LoadCheckpoint(dir)
	if err != nil {
		return nil, nil, err
	}
	m, err := modelFromCheckpoint(c)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	return m, &c.Manifest, nil
}

// GrowCheckpoint expands the checkpoint in src offline to layers blocks
// with strategy s, bringing the optimizer state along per mode, and writes
// the result to dst (which must not be src). A checkpoint already at dst is
// replaced only with replace set (otherwise a *CheckpointExistsError). The
// new checkpoint resumes as a fixed-depth run of layers blocks from the same
// step, data position and schedule; its growth history records the
// expansion.
func GrowCheckpoint(src, dst string, layers int, s grow.Strategy, mode grow.OptimState, seed uint64, replace bool) error {
	if filepath.Clean(src) == filepath.Clean(dst) {
		return fmt.Errorf("trainer: grow: the output %s must differ from the input checkpoint", dst)
	}
	if _, err := grow.ParseStrategy(string(s)); err != nil {
		return err
	}
	if _, err := grow.ParseOptimState(string(mode)); err != nil {
		return err
	}
	lock, err := LockDir(dst)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	if err := checkTarget(dst, replace); err != nil {
		return err
	}
	c, err := LoadCheckpoint(src)
	if err != nil {
		return err
	}
	m, err := modelFromCheckpoint(c)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	man := c.Manifest
	from := len(m.Blocks)
	if layers <= from {
		return fmt.Errorf("trainer: grow: the checkpoint has %d blocks; the target (%d) must be deeper", from, layers)
	}
	if err := checkGrowMemory(m.Config, layers, machineMemory()); err != nil {
		return err
	}
	var cfg *Config
	var opt nn.Optimizer
	if len(man.Run) > 0 {
		cfg = new(Config)
		if err := strictJSON(man.Run, cfg); err != nil {
			return fmt.Errorf("trainer: checkpoint %s: run configuration: %w", src, err)
		}
		var info *OptimizerInfo
		if opt, info, err = newOptimizer(cfg); err != nil {
			return err
		}
		if man.Optimizer != nil && c.Optim != nil {
			if err := restoreOptim(opt, m, c.Optim, c.OptimMeta); err != nil {
				return err
			}
		}
		man.Optimizer = info
	}
	if _, err := grow.Expand(m, opt, layers, s, mode, seed); err != nil {
		return err
	}
	man.Growth.History = append(man.Growth.History, GrowthRecord{Step: man.Step, From: from, To: layers, Init: string(s)})
	if man.Config, err = json.Marshal(m.Config); err != nil {
		return err
	}
	out := &Checkpoint{Manifest: man, Model: modelTensors(m), ModelMeta: c.ModelMeta, Tokenizer: c.Tokenizer}
	if cfg != nil {
		// Resume as a fixed-depth run at the new depth.
		cfg.Model.Layers = layers
		cfg.Grow = nil
		cfg.Out = ""
		if man.Run, err = json.Marshal(cfg); err != nil {
			return err
		}
		man.Growth.Plan = nil
		out.Manifest = man
		if opt != nil {
			out.Optim, out.OptimMeta = optimTensors(opt, m.Params())
		}
	}
	if err := SaveCheckpoint(dst, out); err != nil {
		return err
	}
	return nil
}
