package interop

import (
	"bufio"
	"fmt"

	"github.com/sproutml/sprout/gguf"
	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/tokenizer"
)

// GGUFOptions are the choices of a GGUF export.
type GGUFOptions struct {
	// DType is the precision of matrices and embeddings; norms and biases
	// are always F32, as llama.cpp's converter writes them.
	DType DType
	// Name is general.name (default "sprout").
	Name string
	// Tokenizer is the model's BPE vocabulary; nil writes sprout's
	// byte-level one.
	Tokenizer *tokenizer.BPE
}

// llama.cpp's general.file_type values (llama_ftype).
const (
	ftypeAllF32    = 0
	ftypeMostlyF16 = 1
	ftypeMostlyBF  = 32
)

// ToGGUF returns m as llama.cpp's GGUF metadata and tensors: architecture
// "llama" for a LLaMA model, "gpt2" for a GPT-2. Tensors are named as
// llama.cpp's convert_hf_to_gguf.py names them, stored [out, in] (ggml dims
// (in, out)), with LLaMA's q and k rows permuted to llama.cpp's interleaved
// RoPE pairs. A tied LLaMA head is left out (llama.cpp then uses
// token_embd.weight); GPT-2's is written as output.weight, as the converter
// does. A muP model is made plain first.
func ToGGUF(m *nn.Model, opt GGUFOptions) ([]gguf.KV, []gguf.Tensor, error) {
	if opt.DType == "" {
		opt.DType = F32
	}
	if _, err := ParseDType(string(opt.DType)); err != nil {
		return nil, nil, err
	}
	if opt.Name == "" {
		opt.Name = "sprout"
	}
	m = plain(m)
	c := m.Config
	mtype, ftype := gguf.F32, uint32(ftypeAllF32)
	switch opt.DType {
	case F16:
		mtype, ftype = gguf.F16, ftypeMostlyF16
	case BF16:
		mtype, ftype = gguf.BF16, ftypeMostlyBF
	}
	u32 := func(n int) uint32 { return uint32(n) }
	kv := []gguf.KV{
		{Key: "general.architecture", Value: c.Arch},
		{Key: "general.name", Value: opt.Name},
		{Key: "general.file_type", Value: ftype},
		{Key: gguf.AlignmentKey, Value: uint32(gguf.DefaultAlignment)},
	}
	a := c.Arch + "."
	switch c.Arch {
	case nn.ArchLlama:
		kv = append(kv,
			gguf.KV{Key: a + "vocab_size", Value: u32(c.Vocab)},
			gguf.KV{Key: a + "context_length", Value: u32(c.Ctx)},
			gguf.KV{Key: a + "embedding_length", Value: u32(c.Dim)},
			gguf.KV{Key: a + "block_count", Value: u32(c.Layers)},
			gguf.KV{Key: a + "feed_forward_length", Value: u32(c.FFNHidden)},
			gguf.KV{Key: a + "rope.dimension_count", Value: u32(c.HeadDim())},
			gguf.KV{Key: a + "rope.freq_base", Value: float32(c.RopeBase)},
			gguf.KV{Key: a + "attention.head_count", Value: u32(c.Heads)},
			gguf.KV{Key: a + "attention.head_count_kv", Value: u32(c.KVHeads)},
			gguf.KV{Key: a + "attention.layer_norm_rms_epsilon", Value: c.NormEps},
		)
	case nn.ArchGPT2:
		kv = append(kv,
			gguf.KV{Key: a + "vocab_size", Value: u32(c.Vocab)},
			gguf.KV{Key: a + "context_length", Value: u32(c.Ctx)},
			gguf.KV{Key: a + "embedding_length", Value: u32(c.Dim)},
			gguf.KV{Key: a + "block_count", Value: u32(c.Layers)},
			gguf.KV{Key: a + "feed_forward_length", Value: u32(4 * c.Dim)},
			gguf.KV{Key: a + "attention.head_count", Value: u32(c.Heads)},
			gguf.KV{Key: a + "attention.layer_norm_epsilon", Value: c.NormEps},
		)
	default:
		return nil, nil, fmt.Errorf("interop: arch %q cannot be written as GGUF (gpt2 and llama can)", c.Arch)
	}
	if opt.Tokenizer != nil {
		tkv, err := bpeTokenizerKV(opt.Tokenizer, c.Vocab)
		if err != nil {
			return nil, nil, err
		}
		kv = append(kv, tkv...)
	} else {
		kv = append(kv, byteTokenizerKV(c.Vocab)...)
	}

	var ts []gguf.Tensor
	for _, p := range m.Params() {
		mp, err := ggufMapping(c, p.Name)
		if err != nil {
			return nil, nil, err
		}
		t := gguf.Tensor{Name: mp.name, Shape: append([]int(nil), p.Shape...), Type: gguf.F32, Data: p.Data}
		if len(p.Shape) == 2 {
			t.Type = mtype
		}
		if mp.transpose {
			t.Shape = []int{p.Cols(), p.Rows()}
			t.Data = transpose(p.Data, p.Rows(), p.Cols())
		}
		if mp.ropeHeads > 0 {
			t.Data = ropeInterleave(t.Data, mp.ropeHeads, t.Shape[1])
		}
		ts = append(ts, t)
		if c.Arch == nn.ArchGPT2 && p.Name == "wte.weight" {
			out := t
			out.Name = "output.weight"
			ts = append(ts, out)
		}
	}
	return kv, ts, nil
}

// WriteGGUF writes m as a GGUF file at path (see ToGGUF), through a
// temporary file renamed into place. An existing file is replaced only
// with replace set.
func WriteGGUF(path string, m *nn.Model, opt GGUFOptions, replace bool) error {
	kv, ts, err := ToGGUF(m, opt)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, replace, func(w *bufio.Writer) error {
		return gguf.Write(w, kv, ts)
	})
}
