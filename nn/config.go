package nn

import (
	"errors"
	"fmt"
)

// Config describes a model. The zero values of the optional fields select the
// defaults given in their comments. It round-trips through JSON, and a
// checkpoint's manifest carries it.
type Config struct {
	Arch   string `json:"arch"`   // "gpt2" (the only one so far; "" means gpt2)
	Vocab  int    `json:"vocab"`  // vocabulary size, e.g. 256 for bytes
	Ctx    int    `json:"ctx"`    // context length (learned positions)
	Dim    int    `json:"dim"`    // width d
	Heads  int    `json:"heads"`  // attention heads; must divide Dim
	Layers int    `json:"layers"` // blocks; 0 is valid (embeddings -> final norm -> head)

	InitStd float32 `json:"init_std,omitempty"` // weight init std, default 0.02 (GPT-2)
	NormEps float32 `json:"norm_eps,omitempty"` // LayerNorm epsilon, default 1e-5

	// MuP switches on maximal-update parametrisation relative to a base width
	// MuPBaseDim (default: Dim, which makes it a no-op). See mup.go.
	MuP        bool `json:"mup,omitempty"`
	MuPBaseDim int  `json:"mup_base_dim,omitempty"`
}

// withDefaults returns c with the optional fields filled in.
func (c Config) withDefaults() Config {
	if c.Arch == "" {
		c.Arch = "gpt2"
	}
	if c.InitStd == 0 {
		c.InitStd = 0.02
	}
	if c.NormEps == 0 {
		c.NormEps = 1e-5
	}
	if c.MuPBaseDim == 0 {
		c.MuPBaseDim = c.Dim
	}
	return c
}

// Validate reports every problem with c, or nil.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("nn: config: "+format, a...)) }
	if c.Arch != "" && c.Arch != "gpt2" {
		bad("unknown arch %q (want \"gpt2\")", c.Arch)
	}
	if c.Vocab < 1 {
		bad("vocab must be >= 1, got %d", c.Vocab)
	}
	if c.Ctx < 1 {
		bad("ctx must be >= 1, got %d", c.Ctx)
	}
	if c.Dim < 1 {
		bad("dim must be >= 1, got %d", c.Dim)
	}
	if c.Heads < 1 {
		bad("heads must be >= 1, got %d", c.Heads)
	} else if c.Dim >= 1 && c.Dim%c.Heads != 0 {
		bad("heads (%d) must divide dim (%d)", c.Heads, c.Dim)
	}
	if c.Layers < 0 {
		bad("layers must be >= 0, got %d", c.Layers)
	}
	if c.InitStd < 0 || c.InitStd != c.InitStd {
		bad("init_std must be >= 0, got %v", c.InitStd)
	}
	if c.NormEps < 0 || c.NormEps != c.NormEps {
		bad("norm_eps must be >= 0, got %v", c.NormEps)
	}
	if c.MuPBaseDim < 0 {
		bad("mup_base_dim must be >= 0, got %d", c.MuPBaseDim)
	}
	return errors.Join(errs...)
}

// HeadDim returns Dim/Heads.
func (c Config) HeadDim() int { return c.Dim / c.Heads }

// ParamCount is the closed-form number of parameters of a GPT-2 model with
// config c: token and position embeddings, final LayerNorm, and per block two
// LayerNorms (4d), qkv (3d^2+3d), attention projection (d^2+d) and the 4x MLP
// (8d^2+5d). The head is tied to the token embedding and adds nothing.
func ParamCount(c Config) int {
	d := c.Dim
	return c.Vocab*d + c.Ctx*d + 2*d + c.Layers*BlockParamCount(c)
}

// BlockParamCount is the number of parameters of one block: 12d^2 + 13d.
func BlockParamCount(c Config) int {
	d := c.Dim
	return 12*d*d + 13*d
}
