package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sproutml/sprout/interop"
	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/safetensors"
	"github.com/sproutml/sprout/tokenizer"
	"github.com/sproutml/sprout/trainer"
)

func init() {
	commands["import"] = command{"make a checkpoint of a Hugging Face GPT-2 or LLaMA (config.json + model.safetensors)", runImport}
}

// An imported checkpoint is step 0 of a run that `sprout train --resume`
// continues: fine-tuning on --data (default: the embedded corpus) for
// --steps steps. Its learning rate defaults to a tenth of the optimizer's
// from-scratch default (adamw 2e-4, muon 8e-4, sgd 0.03), a fine-tuning rate.
const importSteps = 1000

func runImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import", "import --hf DIR --out CKPT [flags]", stdout)
	hf := fs.String("hf", "", "Hugging Face model directory: config.json and model.safetensors, or its shards (required)")
	out := fs.String("out", "", "checkpoint directory to create (required)")
	ctx := fs.Int("ctx", 0, "context length of the checkpoint (0: the model's; a GPT-2's learned positions can only be cut)")
	force := fs.Bool("force", false, "replace --out if it is an existing checkpoint")
	weightsOnly := fs.Bool("weights-only", false, "write the weights without a run to resume (for grow, sample, eval and export only)")
	data := fs.String("data", "", "the run's data: text file, directory or .bin uint16 token file (default: the embedded corpus)")
	dataFormat := fs.String("data-format", "", "data format: text or bin (default: by file extension)")
	valFraction := fs.Float64("val-fraction", trainer.DefaultValFraction, "share of the data, from its end, that validates")
	steps := fs.Int("steps", importSteps, "optimizer steps of the run that train --resume continues")
	batch := fs.Int("batch", trainer.DefaultBatch, "sequences per optimizer step")
	optimizer := fs.String("optimizer", trainer.OptAdamW, "optimizer: adamw, muon or sgd")
	lr := fs.Float64("lr", 0, "peak learning rate (0: a tenth of the optimizer's default, for fine-tuning)")
	schedule := fs.String("schedule", trainer.ScheduleWSD, "learning-rate schedule: wsd, cosine or constant")
	seed := fs.Uint64("seed", 1, "seed of the data order")
	noTok := fs.Bool("no-tokenizer", false, "ignore the model directory's tokenizer.json / vocab.json + merges.txt (the checkpoint is then byte-level)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *hf == "" || *out == "":
		return usagef("import: --hf DIR and --out CKPT are required")
	case *ctx < 0:
		return usagef("import: --ctx must not be negative")
	case *steps < 1:
		return usagef("import: --steps must be at least 1")
	case *batch < 1:
		return usagef("import: --batch must be at least 1, got %d", *batch)
	case *lr < 0:
		return usagef("import: --lr must not be negative")
	}
	if err := importTarget(*out, *force); err != nil {
		return err
	}
	m, src, err := interop.ReadHF(*hf)
	if err != nil {
		return err
	}
	// The model's own tokenizer, when the directory has one: the checkpoint
	// carries it, and the fine-tuning run encodes its text with it.
	var tokDir string
	var tok tokenizer.Tokenizer
	if !*noTok && hasTokenizer(*hf) {
		if tok, err = tokenizer.Load(*hf); err != nil {
			return fmt.Errorf("import: %w (--no-tokenizer imports the weights without it)", err)
		}
		if tok.VocabSize() > m.Vocab {
			return fmt.Errorf("import: the tokenizer has %d tokens but the model's vocabulary %d", tok.VocabSize(), m.Vocab)
		}
		if tokDir, err = filepath.Abs(*hf); err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	if *ctx != 0 && *ctx != m.Ctx {
		if m, err = interop.WithContext(m, *ctx); err != nil {
			return err
		}
	}
	resumable := !*weightsOnly
	if resumable && m.Vocab > 1<<16 {
		fmt.Fprintf(stderr, "note: vocabulary %d is beyond the uint16 tokens sprout trains on: writing the weights only (grow, sample, eval and export work; train --resume does not)\n", m.Vocab)
		resumable = false
	}
	if resumable {
		if *lr == 0 {
			*lr = trainer.DefaultLR(*optimizer) / 10
		}
		cfg := trainer.Config{
			Data: *data, DataFormat: *dataFormat, ValFraction: *valFraction, Tokenizer: tokDir,
			Batch: *batch, Steps: *steps, Optimizer: *optimizer, LR: *lr, Schedule: *schedule, Seed: *seed,
			Replace: *force, // importTarget let only a checkpoint through
			// As a train run's default: a crash of the fine-tuning costs
			// at most the steps since its last evaluation.
			CheckpointEvery: trainer.CheckpointAtEval,
		}
		if err := trainer.StartCheckpoint(*out, cfg, m); err != nil {
			return err
		}
	} else if err := saveWeights(*out, m, tok); err != nil {
		return err
	}
	c := m.Config
	if tok != nil {
		fmt.Fprintf(stdout, "tokenizer: %s, %d tokens, %s\n", tok.Name(), tok.VocabSize(), tokenizer.Digest(tok))
	}
	fmt.Fprintf(stdout, "imported %s (%s, %s): %s, vocab %d, ctx %d, dim %d, heads %d, %s, %d parameters\n",
		*hf, src.ModelType, strings.Join(src.DTypes, "+"), c.Arch, c.Vocab, c.Ctx, c.Dim, c.Heads, blocks(c.Layers), m.NumParams())
	fmt.Fprintf(stdout, "checkpoint: %s\n", *out)
	if resumable {
		fmt.Fprintf(stdout, "train it:   sprout train --resume %s   (%d steps, %s, lr %g; --steps N changes the length)\n", *out, *steps, *optimizer, *lr)
	}
	fmt.Fprintf(stdout, "grow it:    sprout grow --ckpt %s --layers %d --out DIR\n", *out, c.Layers+1)
	return nil
}

// importTarget refuses to write over anything but an absent or empty
// directory, or, with force, a checkpoint.
func importTarget(out string, force bool) error {
	entries, err := os.ReadDir(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("import: --out %s: %w", out, err)
	case len(entries) == 0:
		return nil
	}
	if _, err := os.Stat(out + "/" + trainer.ManifestFile); err == nil && force {
		return nil
	}
	return fmt.Errorf("import: %s exists and is not empty; choose another --out (or --force to replace a checkpoint)", out)
}

// saveWeights writes a checkpoint of m alone: step 0, no run, no optimizer
// state.
func saveWeights(dir string, m *nn.Model, tok tokenizer.Tokenizer) error {
	mc, err := json.Marshal(m.Config)
	if err != nil {
		return err
	}
	info, tokJSON, err := trainer.TokenizerFiles(tok)
	if err != nil {
		return err
	}
	ps := m.Params()
	ts := make([]safetensors.Tensor, len(ps))
	for i, p := range ps {
		ts[i] = safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data}
	}
	return trainer.SaveCheckpoint(dir, &trainer.Checkpoint{
		Manifest:  trainer.Manifest{Config: mc, Growth: trainer.Growth{History: []trainer.GrowthRecord{}}, Tokenizer: info},
		Model:     ts,
		Tokenizer: tokJSON,
	})
}

// hasTokenizer reports whether a model directory holds tokenizer files.
func hasTokenizer(dir string) bool {
	for _, f := range []string{"tokenizer.json", "vocab.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}
