package interop

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sproutml/sprout/gguf"
	"github.com/sproutml/sprout/nn"
)

func writeAndRead(t *testing.T, m *nn.Model, dtype DType) *ggufFile {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := WriteGGUF(path, m, GGUFOptions{DType: dtype}, false); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gguf.Decode(b); err != nil { // the package's reader agrees
		t.Fatal(err)
	}
	return readGGUF(t, b)
}

// checkKV checks metadata values and their GGUF types (4 uint32, 6
// float32, 8 string).
func checkKV(t *testing.T, f *ggufFile, want map[string]any) {
	t.Helper()
	for _, k := range sortedKeys(want) {
		w := want[k]
		got, ok := f.kv[k]
		if !ok {
			t.Errorf("metadata %s missing", k)
			continue
		}
		typ := map[string]uint32{"uint32": 4, "float32": 6, "string": 8, "bool": 7}
		var wt uint32
		switch w.(type) {
		case uint32:
			wt = typ["uint32"]
		case float32:
			wt = typ["float32"]
		case string:
			wt = typ["string"]
		case bool:
			wt = typ["bool"]
		}
		if got != w || f.kvType[k] != wt {
			t.Errorf("metadata %s = %v (type %d), want %v (type %d)", k, got, f.kvType[k], w, wt)
		}
	}
}

// TestGGUFLlama writes LLaMA models as GGUF, reads them back with the
// test's own reader, checks the metadata llama.cpp reads, the tensor names,
// ggml dimension order and types, and runs a float64 forward pass on the
// file's tensors the way llama.cpp does (weights [out, in], RoPE on
// interleaved pairs) to get sprout's logits: that checks the transposes and
// the q/k permutation.
func TestGGUFLlama(t *testing.T) {
	for i, cfg := range []nn.Config{llamaCfg, llamaTiedCfg} {
		m := randomModel(t, cfg, uint64(10+i))
		c := dimsOf(m.Config)
		f := writeAndRead(t, m, F32)
		checkKV(t, f, map[string]any{
			"general.architecture":                   "llama",
			"general.alignment":                      uint32(32),
			"general.file_type":                      uint32(0),
			"llama.context_length":                   uint32(cfg.Ctx),
			"llama.embedding_length":                 uint32(cfg.Dim),
			"llama.block_count":                      uint32(cfg.Layers),
			"llama.feed_forward_length":              uint32(cfg.FFNHidden),
			"llama.attention.head_count":             uint32(cfg.Heads),
			"llama.attention.head_count_kv":          uint32(c.KVH),
			"llama.rope.dimension_count":             uint32(cfg.Dim / cfg.Heads),
			"llama.rope.freq_base":                   float32(c.base),
			"llama.attention.layer_norm_rms_epsilon": float32(c.eps),
			"tokenizer.ggml.model":                   "gpt2",
			"tokenizer.ggml.add_bos_token":           false,
		})
		if f.kvElem["tokenizer.ggml.tokens"] != 8 || len(f.kv["tokenizer.ggml.tokens"].([]any)) != cfg.Vocab ||
			f.kvElem["tokenizer.ggml.token_type"] != 5 || f.kvElem["tokenizer.ggml.merges"] != 8 || len(f.kv["tokenizer.ggml.merges"].([]any)) != 0 {
			t.Errorf("tokenizer arrays: tokens %d/%d, types %d, merges %d", f.kvElem["tokenizer.ggml.tokens"], len(f.kv["tokenizer.ggml.tokens"].([]any)), f.kvElem["tokenizer.ggml.token_type"], f.kvElem["tokenizer.ggml.merges"])
		}
		kd := c.KVH * cfg.Dim / cfg.Heads
		wantNE := map[string][]uint64{
			"token_embd.weight":        {uint64(cfg.Dim), uint64(cfg.Vocab)},
			"output_norm.weight":       {uint64(cfg.Dim)},
			"blk.0.attn_norm.weight":   {uint64(cfg.Dim)},
			"blk.0.attn_q.weight":      {uint64(cfg.Dim), uint64(cfg.Dim)},
			"blk.0.attn_k.weight":      {uint64(cfg.Dim), uint64(kd)},
			"blk.0.attn_v.weight":      {uint64(cfg.Dim), uint64(kd)},
			"blk.0.attn_output.weight": {uint64(cfg.Dim), uint64(cfg.Dim)},
			"blk.0.ffn_norm.weight":    {uint64(cfg.Dim)},
			"blk.0.ffn_gate.weight":    {uint64(cfg.Dim), uint64(cfg.FFNHidden)},
			"blk.0.ffn_up.weight":      {uint64(cfg.Dim), uint64(cfg.FFNHidden)},
			"blk.0.ffn_down.weight":    {uint64(cfg.FFNHidden), uint64(cfg.Dim)},
		}
		if !cfg.TiedHead {
			wantNE["output.weight"] = []uint64{uint64(cfg.Dim), uint64(cfg.Vocab)}
		}
		if len(f.infos) != 2+9*cfg.Layers+map[bool]int{true: 0, false: 1}[cfg.TiedHead] {
			t.Errorf("%d tensors", len(f.infos))
		}
		for _, in := range f.infos {
			if in.typ != 0 {
				t.Errorf("%s has type %d in an f32 export", in.name, in.typ)
			}
			if w, ok := wantNE[in.name]; ok && (len(w) != len(in.ne) || w[0] != in.ne[0] || len(w) > 1 && w[1] != in.ne[1]) {
				t.Errorf("%s has ne %v, want %v", in.name, in.ne, w)
			}
		}
		for n := range wantNE {
			if _, ok := f.tensors[n]; !ok {
				t.Errorf("tensor %s missing", n)
			}
		}
		exactValues(t, m, f, map[string]string{
			"token_embd.weight": "tok_emb.weight", "output_norm.weight": "norm.weight", "output.weight": "head.weight",
			"attn_norm.weight": "attn_norm.weight", "attn_q.weight": "attn.q.weight", "attn_k.weight": "attn.k.weight",
			"attn_v.weight": "attn.v.weight", "attn_output.weight": "attn.o.weight", "ffn_norm.weight": "mlp_norm.weight",
			"ffn_gate.weight": "mlp.gate.weight", "ffn_up.weight": "mlp.up.weight", "ffn_down.weight": "mlp.down.weight",
		})
		tokens := testTokens(cfg.Vocab, 11, 4)
		got := logitsOf(t, m, tokens)
		closeLogits(t, "gguf f32", got, llamaForward(t, f.ref(), ggufLlamaNames, c, tokens), 2e-5)

		// F16: matrices in half precision, norms in F32; each value is the
		// f32 export's within half precision.
		h := writeAndRead(t, m, F16)
		if h.kv["general.file_type"] != uint32(1) {
			t.Errorf("f16 file_type %v", h.kv["general.file_type"])
		}
		for _, in := range h.infos {
			want := uint32(0)
			if len(in.ne) == 2 {
				want = 1
			}
			if in.typ != want {
				t.Errorf("f16 export: %s has type %d, want %d", in.name, in.typ, want)
			}
			for j, v := range h.tensors[in.name] {
				x := f.tensors[in.name][j]
				if math.Abs(v-x) > math.Abs(x)/2048+1e-7 {
					t.Fatalf("f16 export: %s[%d] = %v, f32 export has %v", in.name, j, v, x)
				}
			}
		}
		closeLogits(t, "gguf f16", got, llamaForward(t, h.ref(), ggufLlamaNames, c, tokens), 5e-3)
	}
}

// exactValues checks that every tensor of an F32 export holds exactly its
// sprout parameter's values: element (o, i) of a ggml matrix with ne = (in,
// out) is at o*in+i; sprout stores [in, out] matrices, so [rows, cols] =
// [in, out] there and element (i, o) is at i*out+o. Embeddings ([V, d] in
// both) and vectors are copied as they are. q and k rows are interleaved
// for RoPE: GGUF row h*hd+2j+s is sprout column h*hd+s*hd/2+j.
func exactValues(t *testing.T, m *nn.Model, f *ggufFile, names map[string]string) {
	t.Helper()
	checked := 0
	for _, in := range f.infos {
		suffix, layer := in.name, ""
		if strings.HasPrefix(in.name, "blk.") {
			parts := strings.SplitN(in.name, ".", 3)
			layer, suffix = parts[1], parts[2]
		}
		pname, ok := names[suffix]
		if !ok {
			t.Fatalf("tensor %s has no expected source", in.name)
		}
		if layer != "" {
			pname = "blocks." + layer + "." + pname
		}
		p := m.Param(pname)
		if p == nil {
			t.Fatalf("tensor %s: no parameter %s", in.name, pname)
		}
		data := f.tensors[in.name]
		matrix := len(in.ne) == 2 && !strings.Contains(in.name, "embd") && in.name != "output.weight"
		heads := 0
		switch suffix {
		case "attn_q.weight":
			heads = m.Heads
		case "attn_k.weight":
			heads = m.KVHeads
		}
		for k, v := range data {
			src := k
			if matrix {
				nin, nout := int(in.ne[0]), int(in.ne[1])
				o, i := k/nin, k%nin
				if heads > 0 {
					hd := nout / heads
					h, r := o/hd, o%hd
					o = h*hd + (r%2)*hd/2 + r/2
				}
				src = i*nout + o
			}
			if float32(v) != p.Data[src] || math.IsNaN(v) {
				t.Fatalf("%s[%d] = %v, want %s[%d] = %v", in.name, k, v, pname, src, p.Data[src])
			}
		}
		checked++
	}
	if checked != len(f.infos) {
		t.Fatalf("checked %d of %d tensors", checked, len(f.infos))
	}
}

// TestGGUFGPT2 checks a GPT-2 export the same way, with llama.cpp's gpt2
// names.
func TestGGUFGPT2(t *testing.T) {
	for i, cfg := range []nn.Config{gpt2Cfg, gpt2Zero} {
		m := randomModel(t, cfg, uint64(20+i))
		f := writeAndRead(t, m, F32)
		checkKV(t, f, map[string]any{
			"general.architecture":              "gpt2",
			"gpt2.context_length":               uint32(cfg.Ctx),
			"gpt2.embedding_length":             uint32(cfg.Dim),
			"gpt2.block_count":                  uint32(cfg.Layers),
			"gpt2.feed_forward_length":          uint32(4 * cfg.Dim),
			"gpt2.attention.head_count":         uint32(cfg.Heads),
			"gpt2.attention.layer_norm_epsilon": float32(1e-5),
		})
		if cfg.Layers > 0 {
			in := f.infos[0]
			for _, x := range f.infos {
				if x.name == "blk.1.attn_qkv.weight" {
					in = x
				}
			}
			if in.name != "blk.1.attn_qkv.weight" || in.ne[0] != uint64(cfg.Dim) || in.ne[1] != uint64(3*cfg.Dim) {
				t.Errorf("qkv info %+v", in)
			}
		}
		exactValues(t, m, f, map[string]string{
			"token_embd.weight": "wte.weight", "output.weight": "wte.weight", "position_embd.weight": "wpe.weight",
			"output_norm.weight": "lnf.weight", "output_norm.bias": "lnf.bias",
			"attn_norm.weight": "ln1.weight", "attn_norm.bias": "ln1.bias", "attn_qkv.weight": "attn.qkv.weight", "attn_qkv.bias": "attn.qkv.bias",
			"attn_output.weight": "attn.proj.weight", "attn_output.bias": "attn.proj.bias", "ffn_norm.weight": "ln2.weight", "ffn_norm.bias": "ln2.bias",
			"ffn_up.weight": "mlp.fc.weight", "ffn_up.bias": "mlp.fc.bias", "ffn_down.weight": "mlp.proj.weight", "ffn_down.bias": "mlp.proj.bias",
		})
		tokens := testTokens(cfg.Vocab, 10, 5)
		want := gpt2Forward(t, f.ref(), ggufGPT2Names, cfg.Dim, cfg.Heads, cfg.Layers, cfg.Vocab, 1e-5, tokens)
		closeLogits(t, "gpt2 gguf", logitsOf(t, m, tokens), want, 2e-5)
	}
}

// TestRopeInterleave pins the permutation on one head: llama.cpp's
// converter reshapes rows to (heads, 2, hd/2) and swaps the last two axes.
func TestRopeInterleave(t *testing.T) {
	x := []float32{0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13} // 2 heads of hd 6, one column... 12 rows
	got := ropeInterleave(x, 2, 1)
	want := []float32{0, 3, 1, 4, 2, 5, 6, 11, 7, 12, 10, 13}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	// Two columns: rows move whole.
	y := ropeInterleave([]float32{0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5}, 1, 2)
	if y[2] != 2 || y[3] != 2.5 || y[4] != 1 {
		t.Fatalf("got %v", y)
	}
}

// TestByteTokenizer: the vocabulary is GPT-2's byte-to-unicode table, one
// distinct token per byte, with unique placeholders beyond 256.
func TestByteTokenizer(t *testing.T) {
	tab := byteToUnicode()
	seen := map[rune]bool{}
	for b, r := range tab {
		if seen[r] {
			t.Fatalf("byte %d maps to %q, already taken", b, r)
		}
		seen[r] = true
	}
	for b, want := range map[int]rune{'A': 'A', '!': '!', '~': '~', ' ': 'Ġ', '\n': 'Ċ', 0: 'Ā', 0x7f: 'ġ', 0xad: 'Ń', 0xff: 'ÿ'} {
		if tab[b] != want {
			t.Errorf("byte %#x -> %q, want %q", b, tab[b], want)
		}
	}
	kv := byteTokenizerKV(300)
	var tokens []string
	var types []int32
	for _, p := range kv {
		switch p.Key {
		case "tokenizer.ggml.tokens":
			tokens = p.Value.([]string)
		case "tokenizer.ggml.token_type":
			types = p.Value.([]int32)
		}
	}
	uniq := map[string]bool{}
	for i, s := range tokens {
		if uniq[s] || s == "" || !utf8.ValidString(s) {
			t.Fatalf("token %d %q repeated, empty or not UTF-8", i, s)
		}
		uniq[s] = true
		want := map[bool]int32{true: 1, false: 5}[i < 256]
		if i == 0 {
			want = 3 // bos and eos: a control token, as llama.cpp wants its eos
		}
		if types[i] != want {
			t.Fatalf("token %d has type %d", i, types[i])
		}
	}
	if len(tokens) != 300 || tokens[32] != "Ġ" || !strings.HasPrefix(tokens[299], "<sprout_unused_") {
		t.Errorf("tokens: %d, %q, %q", len(tokens), tokens[32], tokens[299])
	}
	// llama.cpp recognises an end-of-generation token by its text (checked
	// against llama.cpp itself by .ci/llamacpp_check.mjs).
	if tokens[0] != "<|endoftext|>" {
		t.Errorf("token 0 (bos, eos) is %q, want <|endoftext|>", tokens[0])
	}
}

// TestGGUFRefuses: an existing file is replaced only when asked, and an
// architecture without a GGUF layout is an error.
func TestGGUFRefuses(t *testing.T) {
	m := randomModel(t, llamaTiedCfg, 1)
	path := filepath.Join(t.TempDir(), "m.gguf")
	os.WriteFile(path, []byte("keep"), 0o644)
	if err := WriteGGUF(path, m, GGUFOptions{}, false); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("overwrote: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep" {
		t.Fatal("file damaged")
	}
	if err := WriteGGUF(path, m, GGUFOptions{DType: BF16, Name: "tiny"}, true); err != nil {
		t.Fatal(err)
	}
	g, err := gguf.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := g.Value("general.name"); v != "tiny" || g.Tensor("token_embd.weight").Type != gguf.BF16 {
		t.Errorf("name %v, type %v", v, g.Tensor("token_embd.weight").Type)
	}
	moe, err := nn.NewModel(nn.Config{Arch: nn.ArchMoE, Vocab: 10, Ctx: 4, Dim: 8, Heads: 2, Layers: 1, FFNHidden: 8, Experts: 2, TopK: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ToGGUF(moe, GGUFOptions{}); err == nil || !strings.Contains(err.Error(), "moe") {
		t.Errorf("moe: %v", err)
	}
	if _, _, err := ToHF(moe, F32); err == nil || !strings.Contains(err.Error(), "moe") {
		t.Errorf("moe: %v", err)
	}
}
