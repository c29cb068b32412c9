package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/sproutml/sprout/trainer"
)

// outExistsError words a trainer.CheckpointExistsError for the command line
// of cmd, whose --out is out; canResume says whether --resume is a way on.
func outExistsError(cmd, out string, e *trainer.CheckpointExistsError, canResume bool) error {
	if e.Dir != filepath.Clean(out) { // a pre-grow directory of out
		return fmt.Errorf("%s: --out %s: %s already holds a checkpoint (%s): --force to replace it, or choose another --out",
			cmd, out, e.Dir, e.Detail())
	}
	resume := ""
	if canResume {
		resume = fmt.Sprintf("--resume %s to continue it, ", out)
	}
	return fmt.Errorf("%s: --out %s already holds a checkpoint (%s): %s--force to replace it, or choose another --out",
		cmd, out, e.Detail(), resume)
}

// outsideCheckpoint refuses an output path equal to or inside the checkpoint
// directory ckpt: writing there would change the checkpoint being read.
func outsideCheckpoint(cmd, out, ckpt string) error {
	rel, err := filepath.Rel(resolve(ckpt), resolve(out))
	switch {
	case err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)):
		return nil // elsewhere
	case rel == ".":
		return fmt.Errorf("%s: --out %s is the checkpoint --ckpt %s itself; choose an --out outside it", cmd, out, ckpt)
	}
	return fmt.Errorf("%s: --out %s is inside the checkpoint --ckpt %s; choose an --out outside it", cmd, out, ckpt)
}

// resolve makes p absolute and follows the links in it, as far as it exists,
// so that two names of one place compare equal.
func resolve(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	var rest []string
	for dir := abs; ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(append([]string{real}, rest...)...)
		}
		if filepath.Dir(dir) == dir {
			return abs
		}
		rest = append([]string{filepath.Base(dir)}, rest...)
	}
}

// blocks is "1 block" or "N blocks".
func blocks(n int) string {
	if n == 1 {
		return "1 block"
	}
	return fmt.Sprintf("%d blocks", n)
}
