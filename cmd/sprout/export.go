package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sproutml/sprout/interop"
	"github.com/sproutml/sprout/tokenizer"
	"github.com/sproutml/sprout/trainer"
)

func init() {
	commands["export"] = command{"write a checkpoint as a Hugging Face model directory or a llama.cpp GGUF file", runExport}
}

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", "export --ckpt DIR --format hf|gguf --out PATH [flags]", stdout)
	ckpt := fs.String("ckpt", "", "checkpoint directory (required)")
	format := fs.String("format", "", "hf (config.json + model.safetensors, for transformers) or gguf (for llama.cpp) (required)")
	dtype := fs.String("dtype", "f32", "precision of the weights: f32, f16 or bf16 (gguf keeps norms in f32)")
	out := fs.String("out", "", "output: a directory for hf, a file for gguf (required)")
	force := fs.Bool("force", false, "replace an existing export at --out")
	name := fs.String("name", "", "gguf general.name (default: the checkpoint directory's name)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *ckpt == "" || *out == "" || *format == "" {
		return usagef("export: --ckpt DIR, --format hf|gguf and --out PATH are required")
	}
	if *format != "hf" && *format != "gguf" {
		return usagef("export: --format must be hf or gguf, got %q", *format)
	}
	dt, err := interop.ParseDType(*dtype)
	if err != nil {
		return usagef("export: --dtype: %v", err)
	}
	m, man, tok, err := trainer.LoadModelTokenizer(*ckpt)
	if err != nil {
		return err
	}
	// A BPE checkpoint exports its vocabulary; a byte-level one gets the
	// byte vocabulary GGUF export has always written.
	bpe, _ := tok.(*tokenizer.BPE)
	if tok == nil {
		if *format == "gguf" {
			return fmt.Errorf("export: checkpoint %s names tokenizer %q (%s) but does not hold its %s, so llama.cpp could not tokenize for it", *ckpt, man.Tokenizer.Name, man.Tokenizer.Digest, trainer.TokenizerFile)
		}
		fmt.Fprintf(stderr, "export: note: checkpoint %s does not hold its tokenizer %q; the export has none\n", *ckpt, man.Tokenizer.Name)
	}
	if err := outsideCheckpoint("export", *out, *ckpt); err != nil {
		return err
	}
	// One writer at a time, as for checkpoints: two exports to one path
	// would interleave their files.
	lock, err := trainer.LockDir(*out)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	if *format == "hf" {
		err = interop.WriteHFTokenizer(*out, m, bpe, dt, *force)
	} else {
		n := *name
		if n == "" {
			n = filepath.Base(filepath.Clean(*ckpt))
		}
		err = interop.WriteGGUF(*out, m, interop.GGUFOptions{DType: dt, Name: n, Tokenizer: bpe}, *force)
	}
	if err != nil {
		return err
	}
	size := int64(0)
	filepath.Walk(*out, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			size += info.Size()
		}
		return nil
	})
	_, err = fmt.Fprintf(stdout, "exported %s (%s, %s, %d parameters, step %d) to %s as %s %s, %.1f MB\n",
		*ckpt, m.Arch, blocks(m.Layers), m.NumParams(), man.Step, *out, *format, dt, float64(size)/1e6)
	return err
}
