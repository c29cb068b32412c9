package main

import (
	"flag"

	"github.com/sproutml/sprout/nn"
)

// addModelFlags registers the model flags that train, compare and bench
// train share on fs, writing into c; the size flags start at the defaults
// c holds when called. layersHelp describes --layers.
func addModelFlags(fs *flag.FlagSet, c *nn.Config, layersHelp string) {
	if c.Arch == "" {
		c.Arch = nn.ArchGPT2
	}
	fs.StringVar(&c.Arch, "arch", c.Arch, "architecture: gpt2, llama (RMSNorm, RoPE, SwiGLU, grouped-query attention) or moe (llama with routed experts)")
	fs.IntVar(&c.Layers, "layers", c.Layers, layersHelp)
	fs.IntVar(&c.Dim, "dim", c.Dim, "model width")
	fs.IntVar(&c.Heads, "heads", c.Heads, "attention heads (must divide --dim)")
	fs.IntVar(&c.Ctx, "ctx", c.Ctx, "context length in tokens")
	fs.IntVar(&c.KVHeads, "kv-heads", 0, "llama/moe: key/value heads of grouped-query attention, dividing --heads (0: --heads)")
	fs.Float64Var(&c.RopeBase, "rope-base", 0, "llama/moe: rotary embedding base (0: 10000)")
	fs.IntVar(&c.FFNHidden, "ffn-hidden", 0, "llama/moe: SwiGLU hidden size, per expert for moe (0: 8/3 of --dim rounded up to a multiple of 64)")
	fs.BoolVar(&c.TiedHead, "tied-head", false, "llama/moe: tie the output head to the token embedding")
	fs.IntVar(&c.Experts, "experts", 0, "moe: routed experts (0: 8)")
	fs.IntVar(&c.TopK, "top-k", 0, "moe: experts per token (0: 2, or 1 with one expert)")
	fs.StringVar(&c.Gate, "gate", "", "moe: gate: softmax (default; probabilities over all experts) or sigmoid (normalised over the selected, DeepSeek-V3)")
	fs.IntVar(&c.SharedExperts, "shared-experts", 0, "moe: experts every token goes through")
	fs.StringVar(&c.Balance, "balance", "", "moe: load balancing: aux (default; auxiliary loss), bias (DeepSeek-V3's auxiliary-loss-free bias) or none")
	fs.Float64Var(&c.AuxCoef, "aux-coef", 0, "moe: auxiliary-loss coefficient with --balance aux (0: 0.01)")
	fs.Float64Var(&c.BiasRate, "bias-rate", 0, "moe: per-step bias update with --balance bias (0: 0.001)")
}
