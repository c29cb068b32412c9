package trainer

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/sproutml/sprout/nn"
)

// StartCheckpoint writes to dir the checkpoint of the run cfg at step 0 with
// m as its starting weights instead of a fresh initialisation (a model
// imported from Hugging Face, say), so that Resume trains it: the data is
// read to record its digest and starting position, the optimizer state
// starts fresh, and the schedule starts at its first step. Resuming it is
// bit for bit Run(cfg) with the initialisation replaced by m.
//
// cfg.Model is replaced by m.Config; with a growth plan, cfg.Model.Layers
// stays the target depth and the plan must start at m's depth. cfg.Out is
// set to dir (Resume sets it anyway). A checkpoint already at dir is
// replaced only with cfg.Replace set. m's weights are shared, not copied.
func StartCheckpoint(dir string, cfg Config, m *nn.Model) error {
	if m == nil {
		return fmt.Errorf("trainer: StartCheckpoint needs a model")
	}
	target := cfg.Model.Layers
	cfg.Model = m.Config
	if cfg.Grow != nil {
		if cfg.Grow.From != m.Layers {
			return fmt.Errorf("trainer: the growth plan starts at %d blocks but the model has %d", cfg.Grow.From, m.Layers)
		}
		cfg.Model.Layers = target
	}
	cfg.Out = filepath.Clean(dir)
	cfg.Defaults()
	if err := cfg.absData(); err != nil {
		return err
	}
	r, err := prepare(cfg, nil, 0, "", nil)
	if err != nil {
		return err
	}
	defer r.lock.Unlock()
	r.m = m
	if r.sampler, err = NewSampler(r.data.Train, m.Ctx, r.cfg.Seed); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	r.layersStart, r.depth = m.Layers, m.Layers
	r.start = time.Now()
	c, err := r.checkpoint()
	if err != nil {
		return err
	}
	c.Manifest.WallSeconds = 0
	if err := SaveCheckpoint(dir, c); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}
