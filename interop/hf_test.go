package interop

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/safetensors"
)

// Small models of each exportable shape.
var (
	gpt2Cfg      = nn.Config{Arch: nn.ArchGPT2, Vocab: 40, Ctx: 12, Dim: 16, Heads: 4, Layers: 2}
	gpt2Zero     = nn.Config{Arch: nn.ArchGPT2, Vocab: 40, Ctx: 12, Dim: 16, Heads: 4, Layers: 0}
	llamaCfg     = nn.Config{Arch: nn.ArchLlama, Vocab: 40, Ctx: 12, Dim: 16, Heads: 4, KVHeads: 2, Layers: 2, FFNHidden: 24, RopeBase: 500}
	llamaTiedCfg = nn.Config{Arch: nn.ArchLlama, Vocab: 40, Ctx: 12, Dim: 16, Heads: 2, Layers: 1, FFNHidden: 40, TiedHead: true, NormEps: 1e-6}
)

// randomModel builds a model and gives every parameter random values (norm
// gains near 1), so that no tensor is left at an initial constant.
func randomModel(t testing.TB, cfg nn.Config, seed uint64) *nn.Model {
	t.Helper()
	m, err := nn.NewModel(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	for _, p := range m.Params() {
		gain := strings.Contains(p.Name, "norm.weight") || strings.HasSuffix(p.Name, "ln1.weight") ||
			strings.HasSuffix(p.Name, "ln2.weight") || p.Name == "lnf.weight"
		for i := range p.Data {
			v := 0.3 * rng.NormFloat64()
			if gain {
				v = 1 + 0.2*rng.NormFloat64()
			}
			p.Data[i] = float32(v)
		}
	}
	return m
}

func testTokens(vocab, n int, seed uint64) []int32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	t := make([]int32, n)
	for i := range t {
		t[i] = int32(rng.IntN(vocab))
	}
	return t
}

func logitsOf(t testing.TB, m *nn.Model, tokens []int32) []float32 {
	t.Helper()
	l, err := m.Logits(tokens, 1, len(tokens))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func sameModel(t *testing.T, what string, a, b *nn.Model) {
	t.Helper()
	if a.Config != b.Config {
		t.Fatalf("%s: config %+v, want %+v", what, b.Config, a.Config)
	}
	pa, pb := a.Params(), b.Params()
	if len(pa) != len(pb) {
		t.Fatalf("%s: %d parameters, want %d", what, len(pb), len(pa))
	}
	for i := range pa {
		if pa[i].Name != pb[i].Name || !slices.Equal(pa[i].Shape, pb[i].Shape) {
			t.Fatalf("%s: parameter %s %v, want %s %v", what, pb[i].Name, pb[i].Shape, pa[i].Name, pa[i].Shape)
		}
		for j := range pa[i].Data {
			if math.Float32bits(pa[i].Data[j]) != math.Float32bits(pb[i].Data[j]) {
				t.Fatalf("%s: %s[%d] = %v, want %v", what, pa[i].Name, j, pb[i].Data[j], pa[i].Data[j])
			}
		}
	}
}

// refFromTensors turns float32 tensors into a reference, dropping prefix
// from the names.
func refFromTensors(ts []safetensors.Tensor, prefix string) ref {
	r := ref{t: map[string][]float64{}, shape: map[string][]int{}}
	for _, t := range ts {
		v := make([]float64, len(t.Data))
		for i, x := range t.Data {
			v[i] = float64(x)
		}
		name := strings.TrimPrefix(t.Name, prefix)
		r.t[name], r.shape[name] = v, t.Shape
	}
	return r
}

func dimsOf(c nn.Config) llamaDims {
	kv := c.KVHeads
	if kv == 0 {
		kv = c.Heads
	}
	eps := float64(c.NormEps)
	if eps == 0 {
		eps = 1e-5
	}
	base := c.RopeBase
	if base == 0 {
		base = 10000
	}
	return llamaDims{d: c.Dim, H: c.Heads, KVH: kv, L: c.Layers, F: c.FFNHidden, vocab: c.Vocab, eps: eps, base: base, tied: c.TiedHead}
}

// referenceLogits runs the float64 forward pass of the HF tensors ts.
func referenceLogits(t *testing.T, c nn.Config, ts []safetensors.Tensor, tokens []int32) [][]float64 {
	if c.Arch == nn.ArchGPT2 {
		eps := float64(c.NormEps)
		if eps == 0 {
			eps = 1e-5
		}
		return gpt2Forward(t, refFromTensors(ts, "transformer."), hfGPT2Names, c.Dim, c.Heads, c.Layers, c.Vocab, eps, tokens)
	}
	return llamaForward(t, refFromTensors(ts, ""), hfLlamaNames, dimsOf(c), tokens)
}

// TestHFRoundTrip: sprout -> HF directory -> sprout gives identical weights
// and logits, the files are laid out as transformers saves them, and the
// exported tensors compute sprout's logits in an independent forward pass.
func TestHFRoundTrip(t *testing.T) {
	for i, cfg := range []nn.Config{gpt2Cfg, gpt2Zero, llamaCfg, llamaTiedCfg} {
		m := randomModel(t, cfg, uint64(i+1))
		tokens := testTokens(cfg.Vocab, 9, uint64(i))
		dir := filepath.Join(t.TempDir(), "hf")
		if err := WriteHF(dir, m, F32, false); err != nil {
			t.Fatal(err)
		}
		back, src, err := ReadHF(dir)
		if err != nil {
			t.Fatalf("%s: %v", cfg.Arch, err)
		}
		sameModel(t, cfg.Arch, m, back)
		if src.ModelType != cfg.Arch || len(src.DTypes) != 1 || src.DTypes[0] != "F32" {
			t.Errorf("source %+v", src)
		}
		want, got := logitsOf(t, m, tokens), logitsOf(t, back, tokens)
		for j := range want {
			if math.Float32bits(want[j]) != math.Float32bits(got[j]) {
				t.Fatalf("%s: logit %d = %v after the round trip, want %v", cfg.Arch, j, got[j], want[j])
			}
		}

		// The files as transformers writes them.
		var c map[string]any
		b, err := os.ReadFile(filepath.Join(dir, HFConfigFile))
		if err != nil || json.Unmarshal(b, &c) != nil {
			t.Fatalf("config.json: %v", err)
		}
		f, err := os.Open(filepath.Join(dir, HFWeightsFile))
		if err != nil {
			t.Fatal(err)
		}
		h, err := safetensors.ReadHeader(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, ti := range h.Tensors {
			names[ti.Name] = true
		}
		if h.Metadata["format"] != "pt" {
			t.Errorf("metadata %v lacks format pt", h.Metadata)
		}
		switch cfg.Arch {
		case nn.ArchGPT2:
			if c["model_type"] != "gpt2" || fmt.Sprint(c["architectures"]) != "[GPT2LMHeadModel]" || c["n_embd"] != 16.0 || c["activation_function"] != "gelu_new" || c["layer_norm_epsilon"] != 1e-5 {
				t.Errorf("gpt2 config.json: %s", b)
			}
			if cfg.Layers > 0 && !names["transformer.h.1.attn.c_attn.weight"] || !names["transformer.wte.weight"] || names["lm_head.weight"] {
				t.Errorf("gpt2 tensor names: %v", sortedKeys(names))
			}
		case nn.ArchLlama:
			if c["model_type"] != "llama" || fmt.Sprint(c["architectures"]) != "[LlamaForCausalLM]" || c["num_key_value_heads"] != float64(dimsOf(cfg).KVH) ||
				c["intermediate_size"] != float64(cfg.FFNHidden) || c["tie_word_embeddings"] != cfg.TiedHead || c["hidden_act"] != "silu" {
				t.Errorf("llama config.json: %s", b)
			}
			if !names["model.layers.0.self_attn.k_proj.weight"] || names["lm_head.weight"] == cfg.TiedHead {
				t.Errorf("llama tensor names: %v", sortedKeys(names))
			}
		}
		_, ts, err := ToHF(m, F32)
		if err != nil {
			t.Fatal(err)
		}
		closeLogits(t, cfg.Arch+" export", want, referenceLogits(t, cfg, ts, tokens), 2e-5)
	}
}

// gpt2Published is the config.json of a GPT-2 in the form of the published
// gpt2 checkpoint, shrunk.
const gpt2Published = `{
  "activation_function": "gelu_new",
  "architectures": ["GPT2LMHeadModel"],
  "attn_pdrop": 0.1,
  "bos_token_id": 50256,
  "embd_pdrop": 0.1,
  "eos_token_id": 50256,
  "initializer_range": 0.02,
  "layer_norm_epsilon": 1e-05,
  "model_type": "gpt2",
  "n_ctx": 10,
  "n_embd": 16,
  "n_head": 4,
  "n_layer": 2,
  "n_positions": 10,
  "resid_pdrop": 0.1,
  "summary_activation": null,
  "summary_first_dropout": 0.1,
  "summary_proj_to_labels": true,
  "summary_type": "cls_index",
  "summary_use_proj": true,
  "task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
  "vocab_size": 30
}`

// gpt2Fixture returns the tensors of a published-layout GPT-2 (no
// "transformer." prefix, Conv1D [in, out] weights, the attn.bias mask
// buffers) in dtype, and their exact values.
func gpt2Fixture(seed uint64, dtype string) ([]stTensor, ref) {
	const d, P, V, L = 16, 10, 30, 2
	rng := rand.New(rand.NewPCG(seed, 1))
	r := ref{t: map[string][]float64{}, shape: map[string][]int{}}
	var ts []stTensor
	add := func(name string, shape []int, std, mean float64) {
		st, v := randomTensor(rng, name, dtype, shape, std, mean)
		ts = append(ts, st)
		r.t[name], r.shape[name] = v, shape
	}
	add("wte.weight", []int{V, d}, 0.3, 0)
	add("wpe.weight", []int{P, d}, 0.1, 0)
	for l := 0; l < L; l++ {
		p := fmt.Sprintf("h.%d.", l)
		add(p+"ln_1.weight", []int{d}, 0.1, 1)
		add(p+"ln_1.bias", []int{d}, 0.1, 0)
		mask := stTensor{name: p + "attn.bias", dtype: "F32", shape: []int{1, 1, P, P}}
		for i := 0; i < P; i++ {
			for j := 0; j < P; j++ {
				v := float32(0)
				if j <= i {
					v = 1
				}
				mask.raw = binary.LittleEndian.AppendUint32(mask.raw, math.Float32bits(v))
			}
		}
		ts = append(ts, mask)
		add(p+"attn.c_attn.weight", []int{d, 3 * d}, 0.3, 0)
		add(p+"attn.c_attn.bias", []int{3 * d}, 0.1, 0)
		add(p+"attn.c_proj.weight", []int{d, d}, 0.3, 0)
		add(p+"attn.c_proj.bias", []int{d}, 0.1, 0)
		add(p+"ln_2.weight", []int{d}, 0.1, 1)
		add(p+"ln_2.bias", []int{d}, 0.1, 0)
		add(p+"mlp.c_fc.weight", []int{d, 4 * d}, 0.3, 0)
		add(p+"mlp.c_fc.bias", []int{4 * d}, 0.1, 0)
		add(p+"mlp.c_proj.weight", []int{4 * d, d}, 0.2, 0)
		add(p+"mlp.c_proj.bias", []int{d}, 0.1, 0)
	}
	add("ln_f.weight", []int{d}, 0.1, 1)
	add("ln_f.bias", []int{d}, 0.1, 0)
	return ts, r
}

func writeHFDir(t *testing.T, config string, ts []stTensor) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, HFConfigFile), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	writeST(t, filepath.Join(dir, HFWeightsFile), ts)
	return dir
}

// TestHFGPT2Published imports GPT-2 checkpoints laid out exactly as the
// published ones, in F32, F16 and BF16 and with and without the
// "transformer." prefix (and a tied lm_head.weight, and masks stored as
// BOOL), and checks the logits against a float64 forward pass of the same
// tensors.
func TestHFGPT2Published(t *testing.T) {
	tokens := []int32{3, 17, 0, 29, 8, 8, 21, 5, 12, 1}
	for _, v := range []struct {
		dtype    string
		prefixed bool
	}{{"F32", false}, {"F16", false}, {"BF16", true}, {"F32", true}} {
		ts, r := gpt2Fixture(7, v.dtype)
		if v.prefixed {
			for i := range ts {
				ts[i].name = "transformer." + ts[i].name
				if strings.HasSuffix(ts[i].name, ".attn.bias") { // as a newer transformers would store a mask
					ts[i].dtype = "BOOL"
					raw := make([]byte, len(ts[i].raw)/4)
					for j := range raw {
						raw[j] = ts[i].raw[4*j+3] >> 6 & 1 // 1.0f has 0x3f in its top byte
					}
					ts[i].raw = raw
				}
			}
			wte := ts[0]
			wte.name = "lm_head.weight"
			ts = append(ts, wte, stTensor{name: "transformer.h.0.attn.masked_bias", dtype: "F32", shape: []int{}, raw: binary.LittleEndian.AppendUint32(nil, math.Float32bits(-1e4))})
		}
		dir := writeHFDir(t, gpt2Published, ts)
		m, src, err := ReadHF(dir)
		if err != nil {
			t.Fatalf("%s prefixed=%v: %v", v.dtype, v.prefixed, err)
		}
		if m.Arch != nn.ArchGPT2 || m.Dim != 16 || m.Heads != 4 || m.Layers != 2 || m.Vocab != 30 || m.Ctx != 10 || m.NormEps != 1e-5 {
			t.Fatalf("config %+v", m.Config)
		}
		if len(src.Skipped) < 2 {
			t.Errorf("skipped %v, want the attention masks", src.Skipped)
		}
		want := gpt2Forward(t, r, hfGPT2Names, 16, 4, 2, 30, 1e-5, tokens)
		closeLogits(t, v.dtype, logitsOf(t, m, tokens), want, 2e-5)
	}
}

const llamaPublished = `{
  "architectures": ["LlamaForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_act": "silu",
  "hidden_size": 16,
  "initializer_range": 0.02,
  "intermediate_size": 24,
  "max_position_embeddings": 32,
  "model_type": "llama",
  "num_attention_heads": 4,
  "num_hidden_layers": 2,
  "num_key_value_heads": %d,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": null,
  "rope_theta": %s,
  "tie_word_embeddings": %v,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.40.0",
  "use_cache": true,
  "vocab_size": 30
}`

// llamaFixture returns the tensors of a LlamaForCausalLM checkpoint
// (nn.Linear [out, in] weights) in dtype, and their exact values.
func llamaFixture(seed uint64, dtype string, kvHeads int, tied, invFreq bool) ([]stTensor, ref) {
	const d, V, L, F = 16, 30, 2, 24
	kd := kvHeads * 4
	rng := rand.New(rand.NewPCG(seed, 2))
	r := ref{t: map[string][]float64{}, shape: map[string][]int{}}
	var ts []stTensor
	add := func(name string, shape []int, std, mean float64) {
		st, v := randomTensor(rng, name, dtype, shape, std, mean)
		ts = append(ts, st)
		r.t[name], r.shape[name] = v, shape
	}
	add("model.embed_tokens.weight", []int{V, d}, 0.5, 0)
	for l := 0; l < L; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", []int{d}, 0.1, 1)
		add(p+"self_attn.q_proj.weight", []int{d, d}, 0.4, 0)
		add(p+"self_attn.k_proj.weight", []int{kd, d}, 0.4, 0)
		add(p+"self_attn.v_proj.weight", []int{kd, d}, 0.3, 0)
		add(p+"self_attn.o_proj.weight", []int{d, d}, 0.3, 0)
		if invFreq {
			st, _ := randomTensor(rng, p+"self_attn.rotary_emb.inv_freq", "F32", []int{2}, 1, 0)
			ts = append(ts, st)
		}
		add(p+"post_attention_layernorm.weight", []int{d}, 0.1, 1)
		add(p+"mlp.gate_proj.weight", []int{F, d}, 0.3, 0)
		add(p+"mlp.up_proj.weight", []int{F, d}, 0.3, 0)
		add(p+"mlp.down_proj.weight", []int{d, F}, 0.3, 0)
	}
	add("model.norm.weight", []int{d}, 0.1, 1)
	if !tied {
		add("lm_head.weight", []int{V, d}, 0.3, 0)
	}
	return ts, r
}

// TestHFLlamaPublished imports LlamaForCausalLM checkpoints (untied and
// tied heads, grouped-query and plain attention, F32, F16, BF16) and checks
// the logits against a float64 forward pass with transformers' rotate_half
// RoPE: no permutation of q and k is needed, and none may happen.
func TestHFLlamaPublished(t *testing.T) {
	tokens := []int32{4, 9, 29, 0, 13, 13, 7, 22, 18, 2, 11, 6}
	for _, v := range []struct {
		dtype   string
		kv      int
		tied    bool
		invFreq bool
		theta   string
	}{{"F32", 2, false, true, "10000.0"}, {"BF16", 4, true, false, "500000.0"}, {"F16", 1, false, false, "10000"}} {
		ts, r := llamaFixture(11, v.dtype, v.kv, v.tied, v.invFreq)
		dir := writeHFDir(t, fmt.Sprintf(llamaPublished, v.kv, v.theta, v.tied), ts)
		m, _, err := ReadHF(dir)
		if err != nil {
			t.Fatalf("%+v: %v", v, err)
		}
		base := 10000.0
		if v.theta == "500000.0" {
			base = 500000
		}
		if m.Arch != nn.ArchLlama || m.KVHeads != v.kv || m.TiedHead != v.tied || m.RopeBase != base || m.FFNHidden != 24 || m.Ctx != 32 {
			t.Fatalf("config %+v", m.Config)
		}
		c := llamaDims{d: 16, H: 4, KVH: v.kv, L: 2, F: 24, vocab: 30, eps: 1e-5, base: base, tied: v.tied}
		closeLogits(t, v.dtype, logitsOf(t, m, tokens), llamaForward(t, r, hfLlamaNames, c, tokens), 2e-5)
	}
}

// TestHFErrors: each problem gets an error naming it.
func TestHFErrors(t *testing.T) {
	base, _ := gpt2Fixture(3, "F32")
	edit := func(f func(ts []stTensor) []stTensor) []stTensor {
		c := append([]stTensor(nil), base...)
		return f(c)
	}
	find := func(ts []stTensor, name string) int {
		for i, x := range ts {
			if x.name == name {
				return i
			}
		}
		panic(name)
	}
	llamaTs, _ := llamaFixture(1, "F32", 2, false, false)
	llamaCfgJSON := fmt.Sprintf(llamaPublished, 2, "10000.0", false)
	cases := []struct {
		name   string
		config string
		ts     []stTensor
		want   string
	}{
		{"unknown tensor", gpt2Published, edit(func(ts []stTensor) []stTensor {
			return append(ts, stTensor{name: "h.0.attn.q_norm.weight", dtype: "F32", shape: []int{1}, raw: make([]byte, 4)})
		}), `unknown tensor "h.0.attn.q_norm.weight"`},
		{"wrong shape", gpt2Published, edit(func(ts []stTensor) []stTensor {
			ts[find(ts, "h.1.attn.c_attn.weight")].shape = []int{48, 16} // an nn.Linear layout
			return ts
		}), `"h.1.attn.c_attn.weight" has shape [48 16], but config.json makes it [16 48]`},
		{"I8", gpt2Published, edit(func(ts []stTensor) []stTensor {
			i := find(ts, "h.0.mlp.c_fc.bias")
			ts[i].dtype, ts[i].raw = "I8", make([]byte, 64)
			return ts
		}), `"h.0.mlp.c_fc.bias" has dtype I8`},
		{"missing tensor", gpt2Published, edit(func(ts []stTensor) []stTensor {
			i := find(ts, "ln_f.bias")
			return append(ts[:i], ts[i+1:]...)
		}), `"ln_f.bias" is missing`},
		{"twice", gpt2Published, edit(func(ts []stTensor) []stTensor {
			w := ts[0]
			w.name = "transformer.wte.weight"
			return append(ts, w)
		}), `appears twice`},
		{"untied head", gpt2Published, edit(func(ts []stTensor) []stTensor {
			h := ts[0]
			h.name, h.raw = "lm_head.weight", append([]byte(nil), h.raw...)
			h.raw[0] ^= 1
			return append(ts, h)
		}), "lm_head.weight differs from wte.weight"},
		{"NaN weight", gpt2Published, edit(func(ts []stTensor) []stTensor {
			i := find(ts, "h.1.mlp.c_proj.weight")
			ts[i].raw = append([]byte(nil), ts[i].raw...)
			binary.LittleEndian.PutUint32(ts[i].raw[4*7:], math.Float32bits(float32(math.NaN())))
			return ts
		}), `tensor "h.1.mlp.c_proj.weight" holds NaN at index 7 of 1024`},
		{"infinite bias", gpt2Published, edit(func(ts []stTensor) []stTensor {
			i := find(ts, "ln_f.bias")
			ts[i].raw = append([]byte(nil), ts[i].raw...)
			binary.LittleEndian.PutUint32(ts[i].raw, math.Float32bits(float32(math.Inf(-1))))
			return ts
		}), `tensor "ln_f.bias" holds -Inf at index 0 of 16`},
		{"missing field", strings.Replace(gpt2Published, `"n_embd": 16,`, "", 1), base, "missing n_embd"},
		{"missing positions", strings.NewReplacer(`"n_positions": 10,`, "", `"n_ctx": 10,`, "").Replace(gpt2Published), base, "missing n_positions"},
		{"non-integer", strings.Replace(gpt2Published, `"n_head": 4`, `"n_head": 4.5`, 1), base, "n_head must be a positive integer"},
		{"activation", strings.Replace(gpt2Published, `"gelu_new"`, `"relu"`, 1), base, `activation_function "relu"`},
		{"heads", strings.Replace(gpt2Published, `"n_head": 4`, `"n_head": 5`, 1), base, "must divide dim"},
		{"n_inner", strings.Replace(gpt2Published, `"n_layer": 2,`, `"n_layer": 2, "n_inner": 32,`, 1), base, "n_inner 32"},
		{"huge", strings.Replace(gpt2Published, `"n_embd": 16`, `"n_embd": 1000000`, 1), base, "describes a model of about"},
		{"absurd", strings.Replace(gpt2Published, `"n_embd": 16`, `"n_embd": 1000000000`, 1), base, "dim must be at most 16777216"},
		{"model type", strings.Replace(gpt2Published, `"model_type": "gpt2"`, `"model_type": "bert"`, 1), base, `model_type "bert" is not supported`},
		{"not json", "{", base, "not a JSON object"},
		{"llama rope scaling", strings.Replace(llamaCfgJSON, `"rope_scaling": null`, `"rope_scaling": {"type": "linear", "factor": 2.0}`, 1), llamaTs, "rope_scaling"},
		{"llama bias", strings.Replace(llamaCfgJSON, `"attention_bias": false`, `"attention_bias": true`, 1), llamaTs, "attention_bias"},
		{"llama act", strings.Replace(llamaCfgJSON, `"silu"`, `"gelu"`, 1), llamaTs, `hidden_act "gelu"`},
		{"llama no head", llamaCfgJSON, llamaTs[:len(llamaTs)-1], `"lm_head.weight" is missing`},
		{"llama kv", strings.Replace(llamaCfgJSON, `"num_key_value_heads": 2`, `"num_key_value_heads": 3`, 1), llamaTs, "kv_heads (3) must divide heads (4)"},
		{"llama k shape", strings.Replace(llamaCfgJSON, `"num_key_value_heads": 2`, `"num_key_value_heads": 4`, 1), llamaTs, `"model.layers.0.self_attn.k_proj.weight" has shape [8 16], but config.json makes it [16 16]`},
	}
	for _, c := range cases {
		dir := writeHFDir(t, c.config, c.ts)
		_, _, err := ReadHF(dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}

	// Directories without safetensors weights.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, HFConfigFile), []byte(gpt2Published), 0o644)
	if _, _, err := ReadHF(dir); err == nil || !strings.Contains(err.Error(), "neither model.safetensors") {
		t.Errorf("no weights: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "pytorch_model.bin"), []byte("x"), 0o644)
	if _, _, err := ReadHF(dir); err == nil || !strings.Contains(err.Error(), "only safetensors") {
		t.Errorf("pytorch weights: %v", err)
	}
	if _, _, err := ReadHF(t.TempDir()); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("no config: %v", err)
	}
}

// TestHFSharded reads weights split over shards listed by an index.
func TestHFSharded(t *testing.T) {
	m := randomModel(t, llamaCfg, 5)
	cfg, ts, err := ToHF(m, F32)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, HFConfigFile), cfg, 0o644)
	idx := map[string]map[string]string{"weight_map": {}}
	shards := [][]safetensors.Tensor{nil, nil}
	for i, x := range ts {
		shards[i%2] = append(shards[i%2], x)
		idx["weight_map"][x.Name] = fmt.Sprintf("model-%05d-of-00002.safetensors", i%2+1)
	}
	for i, s := range shards {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("model-%05d-of-00002.safetensors", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		if err := safetensors.WriteAs(f, s, map[string]string{"format": "pt"}, safetensors.BF16); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	b, _ := json.Marshal(idx)
	os.WriteFile(filepath.Join(dir, HFIndexFile), b, 0o644)
	back, src, err := ReadHF(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(src.Files) != 2 || src.DTypes[0] != "BF16" {
		t.Errorf("source %+v", src)
	}
	for _, p := range m.Params() {
		q := back.Param(p.Name)
		for i, v := range p.Data {
			if d := math.Abs(float64(q.Data[i] - v)); d > math.Abs(float64(v))/128 {
				t.Fatalf("%s[%d] = %v, want %v within bf16", p.Name, i, q.Data[i], v)
			}
		}
	}
	// An index naming a file outside the directory is refused.
	os.WriteFile(filepath.Join(dir, HFIndexFile), []byte(`{"weight_map": {"a": "../x.safetensors"}}`), 0o644)
	os.Rename(filepath.Join(dir, "model-00001-of-00002.safetensors"), filepath.Join(dir, "moved"))
	if _, _, err := ReadHF(dir); err == nil || !strings.Contains(err.Error(), "not a file of the directory") {
		t.Errorf("escaping index: %v", err)
	}
}

// TestMuPExport: a muP model exports to a plain one that computes the same
// logits (up to rounding), in both formats' terms.
func TestMuPExport(t *testing.T) {
	for _, cfg := range []nn.Config{gpt2Cfg, llamaCfg, llamaTiedCfg} {
		cfg.MuP, cfg.MuPBaseDim = true, cfg.Dim/2
		m := randomModel(t, cfg, 9)
		tokens := testTokens(cfg.Vocab, 8, 2)
		conf, ts, err := ToHF(m, F32)
		if err != nil {
			t.Fatal(err)
		}
		back, err := FromHF(conf, ts)
		if err != nil {
			t.Fatal(err)
		}
		if back.MuP {
			t.Errorf("%s: exported model still has muP", cfg.Arch)
		}
		want := logitsOf(t, m, tokens)
		var ref [][]float64
		for i := 0; i < len(tokens); i++ {
			row := make([]float64, cfg.Vocab)
			for j := range row {
				row[j] = float64(want[i*cfg.Vocab+j])
			}
			ref = append(ref, row)
		}
		closeLogits(t, cfg.Arch+" muP", logitsOf(t, back, tokens), ref, 1e-5)
		closeLogits(t, cfg.Arch+" muP reference", want, referenceLogits(t, back.Config, ts, tokens), 2e-5)
	}
}

// TestWriteHFRefuses: an export never damages a directory it was not meant
// to replace.
func TestWriteHFRefuses(t *testing.T) {
	m := randomModel(t, gpt2Zero, 1)
	dir := t.TempDir()
	keep := filepath.Join(dir, "notes.txt")
	os.WriteFile(keep, []byte("mine"), 0o644)
	for _, replace := range []bool{false, true} {
		if err := WriteHF(dir, m, F16, replace); err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Errorf("replace=%v: %v", replace, err)
		}
	}
	if b, _ := os.ReadFile(keep); string(b) != "mine" {
		t.Fatal("the directory was damaged")
	}
	out := filepath.Join(dir, "model")
	if err := WriteHF(out, m, F16, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteHF(out, m, F32, false); err == nil {
		t.Error("an existing export was replaced without replace")
	}
	if err := WriteHF(out, m, F32, true); err != nil {
		t.Fatal(err)
	}
	back, src, err := ReadHF(out)
	if err != nil || src.DTypes[0] != "F32" {
		t.Fatalf("%v %+v", err, src)
	}
	sameModel(t, "replaced", m, back)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("left behind: %v", entries)
	}
	if _, _, err := ToHF(m, "f8"); err == nil {
		t.Error("dtype f8 accepted")
	}
}

func TestWithContext(t *testing.T) {
	for _, cfg := range []nn.Config{gpt2Cfg, llamaCfg} {
		m := randomModel(t, cfg, 3)
		short, err := WithContext(m, 5)
		if err != nil {
			t.Fatal(err)
		}
		if short.Ctx != 5 {
			t.Fatalf("ctx %d", short.Ctx)
		}
		tokens := testTokens(cfg.Vocab, 5, 1)
		a, b := logitsOf(t, m, tokens), logitsOf(t, short, tokens)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s: logit %d changed: %v vs %v", cfg.Arch, i, a[i], b[i])
			}
		}
	}
	if _, err := WithContext(randomModel(t, gpt2Cfg, 1), 13); err == nil || !strings.Contains(err.Error(), "cannot grow") {
		t.Errorf("gpt2 longer: %v", err)
	}
	if _, err := WithContext(randomModel(t, llamaCfg, 1), 64); err != nil {
		t.Errorf("llama longer: %v", err)
	}
}
