package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/trainer"
)

func init() {
	commands["grow"] = command{"expand a checkpoint offline to more blocks", runGrow}
}

func runGrow(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("grow", "grow --ckpt DIR --layers L --out DIR [flags]", stdout)
	ckpt := fs.String("ckpt", "", "checkpoint directory to expand (required; left unchanged)")
	layers := fs.Int("layers", 0, "target depth in blocks (required; deeper than the checkpoint)")
	init := fs.String("init", string(grow.Random), "new blocks: random, copy, copy-interleave, copy-last or zero")
	optState := fs.String("optim-state", string(grow.FreshNew), "optimizer state: fresh (new blocks start fresh), copy (copied blocks copy it) or reset")
	out := fs.String("out", "", "directory for the expanded checkpoint (required)")
	seed := fs.Uint64("seed", 1, "seed of the new blocks' initialisation")
	force := fs.Bool("force", false, "replace --out if it is an existing checkpoint")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *ckpt == "" || *out == "":
		return usagef("grow: --ckpt DIR and --out DIR are required")
	case *layers < 1:
		return usagef("grow: --layers L (the target depth) is required")
	}
	s, err := grow.ParseStrategy(*init)
	if err != nil {
		return usagef("grow: --init: %v", err)
	}
	mode, err := grow.ParseOptimState(*optState)
	if err != nil {
		return usagef("grow: --optim-state: %v", err)
	}
	if err := outsideCheckpoint("grow", *out, *ckpt); err != nil {
		return err
	}
	if err := trainer.GrowCheckpoint(*ckpt, *out, *layers, s, mode, *seed, *force); err != nil {
		var exists *trainer.CheckpointExistsError
		if errors.As(err, &exists) {
			return outExistsError("grow", *out, exists, false)
		}
		return err
	}
	m, man, err := trainer.LoadModel(*out)
	if err != nil {
		return fmt.Errorf("grow: reading back %s: %w", *out, err)
	}
	h := man.Growth.History[len(man.Growth.History)-1]
	_, err = fmt.Fprintf(stdout, "grew %s from %d to %d blocks (%s) at step %d: %d parameters, written to %s\n",
		*ckpt, h.From, h.To, h.Init, man.Step, m.NumParams(), *out)
	return err
}
