package trainer

import (
	"fmt"
	"os"
	"path/filepath"
)

// manifestAllowance is room for a checkpoint's manifest and the
// safetensors headers: a few kilobytes in practice.
const manifestAllowance = 1 << 20

// CheckpointBytes estimates the size of a checkpoint of the run c at its
// final depth (call after Defaults): weights and optimizer state in F32,
// and the manifest.
func (c *Config) CheckpointBytes() int64 {
	need := c.MinMemory()
	return 4*need.Params*int64(1+optimizerSlots(c.Optimizer)) + manifestAllowance
}

// freeSpace returns the bytes available to this user on the file system
// holding path, or -1 where it cannot tell (tests replace it).
var freeSpace = diskFree

// checkSpace refuses, before the first step, a run whose checkpoints cannot
// fit beside cfg.Out: a save writes the new checkpoint before it removes
// the old one, so two must fit, less a checkpoint already there (whose
// space the swap reuses). A disk that fills later is the final save's to
// handle (see rescue).
func checkSpace(cfg Config) error {
	if cfg.Out == "" {
		return nil
	}
	out := filepath.Clean(cfg.Out)
	free := freeSpace(filepath.Dir(out))
	if free < 0 {
		return nil
	}
	size := cfg.CheckpointBytes()
	need := 2*size - dirBytes(heldCheckpoint(out))
	if free >= need {
		return nil
	}
	return fmt.Errorf("trainer: %s has %s free, but a checkpoint of this run takes about %s and a save needs room for two (%s in all, less the checkpoint there now): free some space or choose another output directory",
		filepath.Dir(out), mb(free), mb(size), mb(2*size))
}

// dirBytes is the size of the regular files in dir (0 for "").
func dirBytes(dir string) int64 {
	if dir == "" {
		return 0
	}
	entries, _ := os.ReadDir(dir)
	var n int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
	}
	return n
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
