package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/sproutml/sprout/tokenizer"
	"github.com/sproutml/sprout/trainer"
)

// tokName names a checkpoint's tokenizer in eval's report.
func tokName(t tokenizer.Tokenizer) string {
	if t == nil {
		return "unknown"
	}
	return t.Name()
}

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
	m, man, tok, err := trainer.LoadModelTokenizer(*ckpt)
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
	if _, bytes := tok.(tokenizer.Bytes); !bytes && tok != nil {
		opt.Tokenizer = tok // text is encoded as the model was trained; a shard must match
	}
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
	// Bits per byte: the total over the scored tokens, over the bytes they
	// decode to, so that byte-level and subword models compare.
	nBytes := 0
	if tok != nil {
		for _, w := range win {
			nBytes += trainer.TextBytes(tok, w[1:])
		}
	}
	bpb := math.NaN()
	if nBytes > 0 {
		bpb = loss * float64(len(win)*m.Ctx) / math.Ln2 / float64(nBytes)
	}
	if *jsonOut {
		out := map[string]any{
			"checkpoint": *ckpt, "data": source, "windows": len(win), "tokens": len(win) * m.Ctx,
			"loss": loss, "bits_per_token": bits, "byte_level": m.Vocab == trainer.ByteVocab,
			"tokenizer": tokName(tok),
		}
		if nBytes > 0 {
			out["bits_per_byte"], out["bytes"] = bpb, nBytes
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
	per := "bits/byte unknown: the checkpoint does not hold its tokenizer"
	if nBytes > 0 {
		per = fmt.Sprintf("%.4f bits/byte", bpb)
	}
	if _, err = fmt.Fprintf(stdout, "loss %.4f  %s  %.4f bits/token  (%d windows of %d tokens, %d bytes, from %s; tokenizer %s)\n", loss, per, bits, len(win), m.Ctx, nBytes, source, tokName(tok)); err != nil {
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
