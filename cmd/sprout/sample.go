package main

import (
	"fmt"
	"io"
	"math"

	"github.com/sproutml/sprout/trainer"
)

func init() {
	commands["sample"] = command{"generate text from a checkpoint (key/value cache: one step per token)", runSample}
}

func runSample(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sample", "sample --ckpt DIR [flags]", stdout)
	ckpt := fs.String("ckpt", "", "checkpoint directory (required)")
	prompt := fs.String("prompt", "", "text to continue (default: a newline, or token 0 for a vocabulary without one)")
	tokens := fs.Int("tokens", 200, "tokens to generate (bytes for a byte-level model)")
	temperature := fs.Float64("temperature", 0.8, "softmax temperature (0: greedy)")
	topK := fs.Int("top-k", 0, "sample from the K most likely tokens only (0: all)")
	topP := fs.Float64("top-p", 0.95, "sample from the smallest set of tokens whose probability reaches P (1: all)")
	seed := fs.Uint64("seed", 1, "sampling seed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *ckpt == "":
		return usagef("sample: --ckpt DIR is required")
	case *tokens < 0:
		return usagef("sample: --tokens must not be negative, got %d", *tokens)
	case !validTemperature(*temperature):
		return usagef("sample: --temperature must be a finite number >= 0, got %v", *temperature)
	case *topK < 0:
		return usagef("sample: --top-k must not be negative, got %d", *topK)
	case !(*topP >= 0 && *topP <= 1): // NaN too
		return usagef("sample: --top-p must be in [0, 1], got %v", *topP)
	}
	m, man, tok, err := trainer.LoadModelTokenizer(*ckpt)
	if err != nil {
		return err
	}
	if tok == nil {
		return fmt.Errorf("sample: checkpoint %s names tokenizer %q (%s) but does not hold its %s, so text cannot be encoded or decoded", *ckpt, man.Tokenizer.Name, man.Tokenizer.Digest, trainer.TokenizerFile)
	}
	in := trainer.DefaultPrompt(tok, m.Vocab)
	if *prompt != "" {
		// The checkpoint's tokenizer: byte-level for checkpoints without one.
		if in, err = trainer.EncodePrompt(tok, *prompt, m.Vocab); err != nil {
			return fmt.Errorf("sample: %w", err)
		}
	}
	out, err := trainer.Generate(m, in, trainer.SampleOptions{Tokens: *tokens, Temperature: *temperature, TopK: *topK, TopP: *topP, Seed: *seed})
	if err != nil {
		return err
	}
	text := trainer.DecodeText(tok, out)
	if *prompt != "" {
		text = *prompt + text
	}
	_, err = fmt.Fprintln(stdout, text)
	return err
}

// validTemperature reports whether t is a sampling temperature: a finite
// number >= 0 (0 is greedy).
func validTemperature(t float64) bool { return t >= 0 && !math.IsInf(t, 1) }
