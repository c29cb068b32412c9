package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/sproutml/sprout/trainer"
)

func init() {
	commands["eval"] = command{"validation loss and bits per byte of a checkpoint on a dataset", runEval}
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", "eval --ckpt DIR [--data PATH] [flags]", stdout)
	ckpt := fs.String("ckpt", "", "checkpoint directory (required)")
	data := fs.String("data", "", "text file, directory or .bin token file (default: the checkpoint's training data, or the embedded corpus)")
	valFraction := fs.Float64("val-fraction", trainer.DefaultValFraction, "share of the data, from its end, that is evaluated (1: all of it)")
	windows := fs.Int("windows", 256, "most validation windows of context+1 tokens, spread evenly over the split")
	batch := fs.Int("batch", 8, "windows per forward pass")
	ablate := fs.Bool("ablate", false, "also leave out each block in turn, and the blocks of the last expansion together, and report how much the loss rises without them (near 0: they do no work)")
	jsonOut := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *ckpt == "":
		return usagef("eval: --ckpt DIR is required")
	case *windows < 1 || *batch < 1:
		return usagef("eval: --windows and --batch must be at least 1")
	case !(*valFraction > 0 && *valFraction <= 1):
		return usagef("eval: --val-fraction must be in (0, 1], got %v", *valFraction)
	}
	m, man, err := trainer.LoadModel(*ckpt)
	if err != nil {
		return err
	}
	path := *data
	if path == "" && len(man.Run) > 0 {
		var run trainer.Config
		if json.Unmarshal(man.Run, &run) == nil {
			path = run.Data // "" is the embedded corpus
		}
	}
	opt := trainer.DataOptions{Ctx: m.Ctx, Vocab: m.Vocab, ValFraction: *valFraction}
	var ds *trainer.Dataset
	if path == "" {
		ds, err = trainer.CorpusDataset(opt)
	} else {
		ds, err = trainer.LoadDataset(path, opt)
	}
	if err != nil {
		return err
	}
	tokens := ds.Val // all of them with --val-fraction 1
	source := ds.Source
	win := trainer.EvalWindows(tokens, m.Ctx, *windows)
	var loss float64
	var ablation []float64
	var newBlocks []int
	var mix trainer.MixCheck
	if *ablate {
		if newBlocks, err = man.NewBlocks(); err != nil {
			return fmt.Errorf("eval: %s: %w", *ckpt, err)
		}
		loss, ablation, err = trainer.AblateBlocks(m, win, *batch)
		if err == nil && newBlocks != nil {
			mix, err = trainer.CheckMixing(m, newBlocks, win, *batch)
		}
	} else {
		loss, err = trainer.Evaluate(m, win, *batch)
	}
	if err != nil {
		return err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		// The weights are finite (the load checks) but overflow on this data.
		return fmt.Errorf("eval: the loss of %s on %s is %v: the model overflows on this data", *ckpt, source, loss)
	}
	bits := loss / math.Ln2
	unit := "bits/byte"
	if m.Vocab != trainer.ByteVocab {
		unit = "bits/token"
	}
	if *jsonOut {
		out := map[string]any{
			"checkpoint": *ckpt, "data": source, "windows": len(win), "tokens": len(win) * m.Ctx,
			"loss": loss, "bits_per_token": bits, "byte_level": m.Vocab == trainer.ByteVocab,
		}
		if *ablate {
			out["ablation"] = ablation // loss rise without block i
			if newBlocks != nil {
				out["new_blocks"] = newBlocks
				out["new_blocks_delta"] = mix.Delta // loss rise without them all
				out["new_blocks_state"] = mix.State()
			}
		}
		return json.NewEncoder(stdout).Encode(out)
	}
	if _, err = fmt.Fprintf(stdout, "loss %.4f  %.4f %s  (%d windows of %d tokens from %s)\n", loss, bits, unit, len(win), m.Ctx, source); err != nil {
		return err
	}
	for i, d := range ablation {
		if _, err = fmt.Fprintf(stdout, "without block %d: loss %+.4f\n", i, d); err != nil {
			return err
		}
	}
	if newBlocks != nil {
		_, err = fmt.Fprintf(stdout, "without the new blocks %s together: loss %+.4f (%s)\n", mix.BlockList(), mix.Delta, mix.State())
	}
	return err
}
