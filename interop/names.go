package interop

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sproutml/sprout/nn"
)

// mapping ties a sprout parameter to a tensor of another format.
type mapping struct {
	name string // the other format's tensor name
	// transpose: the other format stores the [out, in] transpose of
	// sprout's [in, out] matrix (nn.Linear and ggml layout).
	transpose bool
	// ropeHeads > 0: GGUF q or k weight whose rows (after the transpose) are
	// permuted per head from rotate-half pairs (i, i+hd/2) to the interleaved
	// pairs (2i, 2i+1) llama.cpp's "llama" arch rotates.
	ropeHeads int
}

// splitBlock splits "blocks.N.rest" into N and rest.
func splitBlock(name string) (int, string, bool) {
	rest, ok := strings.CutPrefix(name, "blocks.")
	if !ok {
		return 0, "", false
	}
	num, rest, ok := strings.Cut(rest, ".")
	if !ok {
		return 0, "", false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || strconv.Itoa(n) != num {
		return 0, "", false
	}
	return n, rest, true
}

// The Hugging Face names, per architecture: top-level parameters, and block
// parameters (after the block prefix). GPT-2 names are given without the
// "transformer." prefix that GPT2LMHeadModel adds (the published gpt2
// checkpoint has none); transposed tensors are marked.
var (
	hfGPT2Top = map[string]string{
		"wte.weight": "wte.weight", "wpe.weight": "wpe.weight",
		"lnf.weight": "ln_f.weight", "lnf.bias": "ln_f.bias",
	}
	hfGPT2Block = map[string]string{
		"ln1.weight": "ln_1.weight", "ln1.bias": "ln_1.bias",
		"attn.qkv.weight": "attn.c_attn.weight", "attn.qkv.bias": "attn.c_attn.bias",
		"attn.proj.weight": "attn.c_proj.weight", "attn.proj.bias": "attn.c_proj.bias",
		"ln2.weight": "ln_2.weight", "ln2.bias": "ln_2.bias",
		"mlp.fc.weight": "mlp.c_fc.weight", "mlp.fc.bias": "mlp.c_fc.bias",
		"mlp.proj.weight": "mlp.c_proj.weight", "mlp.proj.bias": "mlp.c_proj.bias",
	}
	hfLlamaTop = map[string]string{
		"tok_emb.weight": "model.embed_tokens.weight", "norm.weight": "model.norm.weight", "head.weight": "lm_head.weight",
	}
	hfLlamaBlock = map[string]mapping{
		"attn_norm.weight": {name: "input_layernorm.weight"},
		"attn.q.weight":    {name: "self_attn.q_proj.weight", transpose: true},
		"attn.k.weight":    {name: "self_attn.k_proj.weight", transpose: true},
		"attn.v.weight":    {name: "self_attn.v_proj.weight", transpose: true},
		"attn.o.weight":    {name: "self_attn.o_proj.weight", transpose: true},
		"mlp_norm.weight":  {name: "post_attention_layernorm.weight"},
		"mlp.gate.weight":  {name: "mlp.gate_proj.weight", transpose: true},
		"mlp.up.weight":    {name: "mlp.up_proj.weight", transpose: true},
		"mlp.down.weight":  {name: "mlp.down_proj.weight", transpose: true},
	}
)

// hfMapping returns the Hugging Face tensor of the sprout parameter name in
// a model of architecture arch.
func hfMapping(arch, name string) (mapping, error) {
	switch arch {
	case nn.ArchGPT2:
		if n, ok := hfGPT2Top[name]; ok {
			return mapping{name: n}, nil
		}
		if i, rest, ok := splitBlock(name); ok {
			if n, ok := hfGPT2Block[rest]; ok {
				return mapping{name: fmt.Sprintf("h.%d.%s", i, n)}, nil
			}
		}
	case nn.ArchLlama:
		if n, ok := hfLlamaTop[name]; ok {
			return mapping{name: n}, nil
		}
		if i, rest, ok := splitBlock(name); ok {
			if m, ok := hfLlamaBlock[rest]; ok {
				m.name = fmt.Sprintf("model.layers.%d.%s", i, m.name)
				return m, nil
			}
		}
	default:
		return mapping{}, fmt.Errorf("interop: arch %q has no Hugging Face layout (gpt2 and llama do)", arch)
	}
	return mapping{}, fmt.Errorf("interop: sprout parameter %q of a %s model has no Hugging Face counterpart", name, arch)
}

// The GGUF (llama.cpp) names, as its converter writes them.
var (
	ggufGPT2Top = map[string]string{
		"wte.weight": "token_embd.weight", "wpe.weight": "position_embd.weight",
		"lnf.weight": "output_norm.weight", "lnf.bias": "output_norm.bias",
	}
	ggufGPT2Block = map[string]mapping{
		"ln1.weight":       {name: "attn_norm.weight"},
		"ln1.bias":         {name: "attn_norm.bias"},
		"attn.qkv.weight":  {name: "attn_qkv.weight", transpose: true},
		"attn.qkv.bias":    {name: "attn_qkv.bias"},
		"attn.proj.weight": {name: "attn_output.weight", transpose: true},
		"attn.proj.bias":   {name: "attn_output.bias"},
		"ln2.weight":       {name: "ffn_norm.weight"},
		"ln2.bias":         {name: "ffn_norm.bias"},
		"mlp.fc.weight":    {name: "ffn_up.weight", transpose: true},
		"mlp.fc.bias":      {name: "ffn_up.bias"},
		"mlp.proj.weight":  {name: "ffn_down.weight", transpose: true},
		"mlp.proj.bias":    {name: "ffn_down.bias"},
	}
	ggufLlamaTop = map[string]string{
		"tok_emb.weight": "token_embd.weight", "norm.weight": "output_norm.weight", "head.weight": "output.weight",
	}
	ggufLlamaBlock = map[string]mapping{
		"attn_norm.weight": {name: "attn_norm.weight"},
		"attn.q.weight":    {name: "attn_q.weight", transpose: true, ropeHeads: -1}, // -1: Heads
		"attn.k.weight":    {name: "attn_k.weight", transpose: true, ropeHeads: -2}, // -2: KVHeads
		"attn.v.weight":    {name: "attn_v.weight", transpose: true},
		"attn.o.weight":    {name: "attn_output.weight", transpose: true},
		"mlp_norm.weight":  {name: "ffn_norm.weight"},
		"mlp.gate.weight":  {name: "ffn_gate.weight", transpose: true},
		"mlp.up.weight":    {name: "ffn_up.weight", transpose: true},
		"mlp.down.weight":  {name: "ffn_down.weight", transpose: true},
	}
)

// ggufMapping returns the GGUF tensor of the sprout parameter name in a
// model with config c.
func ggufMapping(c nn.Config, name string) (mapping, error) {
	switch c.Arch {
	case nn.ArchGPT2:
		if n, ok := ggufGPT2Top[name]; ok {
			return mapping{name: n}, nil
		}
		if i, rest, ok := splitBlock(name); ok {
			if m, ok := ggufGPT2Block[rest]; ok {
				m.name = fmt.Sprintf("blk.%d.%s", i, m.name)
				return m, nil
			}
		}
	case nn.ArchLlama:
		if n, ok := ggufLlamaTop[name]; ok {
			return mapping{name: n}, nil
		}
		if i, rest, ok := splitBlock(name); ok {
			if m, ok := ggufLlamaBlock[rest]; ok {
				m.name = fmt.Sprintf("blk.%d.%s", i, m.name)
				switch m.ropeHeads {
				case -1:
					m.ropeHeads = c.Heads
				case -2:
					m.ropeHeads = c.KVHeads
				}
				return m, nil
			}
		}
	default:
		return mapping{}, fmt.Errorf("interop: arch %q cannot be written as GGUF (gpt2 and llama can)", c.Arch)
	}
	return mapping{}, fmt.Errorf("interop: sprout parameter %q of a %s model has no GGUF counterpart", name, c.Arch)
}
