package interop

import (
	"fmt"

	"github.com/sproutml/sprout/gguf"
	"github.com/sproutml/sprout/tokenizer"
)

// byteToUnicode is GPT-2's bytes_to_unicode table: each byte's stand-in
// character in a byte-level BPE vocabulary. Printable bytes stand for
// themselves; the others (controls, space, 0x7f-0xa0, 0xad) map to U+0100
// onwards in byte order, so space is "Ġ" and newline "Ċ".
func byteToUnicode() [256]rune {
	var t [256]rune
	printable := func(b int) bool {
		return b >= '!' && b <= '~' || b >= 0xa1 && b <= 0xac || b >= 0xae && b <= 0xff
	}
	n := 0
	for b := 0; b < 256; b++ {
		if printable(b) {
			t[b] = rune(b)
		} else {
			t[b] = rune(256 + n)
			n++
		}
	}
	return t
}

// llama.cpp token types (llama_token_type).
const (
	tokenNormal  = 1
	tokenControl = 3
	tokenUnused  = 5
)

// byteTokenizerKV describes sprout's byte-level tokenizer (token id = byte
// value) to llama.cpp as a "gpt2" (byte-level BPE) vocabulary without
// merges: token b is byte b's bytes_to_unicode character, so llama.cpp's
// tokenizer maps each input byte to its own token and detokenizes exactly.
// Ids from 256 up (a vocabulary larger than bytes, e.g. from a token file)
// are unique unused placeholders. See the package documentation.
func byteTokenizerKV(vocab int) []gguf.KV {
	table := byteToUnicode()
	tokens := make([]string, vocab)
	types := make([]int32, vocab)
	for i := range tokens {
		if i < 256 {
			tokens[i] = string(table[i])
			types[i] = tokenNormal
			if i == 0 {
				// bos and eos (below). llama.cpp finds its end-of-generation
				// tokens by their text, and warns that eos is not one unless
				// it is a control token with such a name.
				tokens[i] = "<|endoftext|>"
				types[i] = tokenControl
			}
		} else {
			tokens[i] = fmt.Sprintf("<sprout_unused_%d>", i)
			types[i] = tokenUnused
		}
	}
	return []gguf.KV{
		{Key: "tokenizer.ggml.model", Value: "gpt2"},
		// With no merges the pre-tokenizer's split cannot change the tokens;
		// "qwen2" is one of the pre-tokenizers for which llama.cpp leaves
		// clean_spaces off, so detokenizing returns the bytes unchanged.
		{Key: "tokenizer.ggml.pre", Value: "qwen2"},
		{Key: "tokenizer.ggml.tokens", Value: tokens},
		{Key: "tokenizer.ggml.token_type", Value: types},
		{Key: "tokenizer.ggml.merges", Value: []string{}},
		// Byte 0 (NUL), which text does not contain, stands in for bos and
		// eos; neither is added to prompts.
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(0)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(0)},
		{Key: "tokenizer.ggml.add_bos_token", Value: false},
		{Key: "tokenizer.ggml.add_eos_token", Value: false},
	}
}

// bpeTokenizerKV describes a byte-level BPE to llama.cpp as its "gpt2"
// tokenizer model: tokens in bytes_to_unicode text, special tokens as
// control tokens, and the merges by priority, so llama.cpp's tokenizer gives
// sprout's ids. The pre-tokenizer is named by the split pattern (llama.cpp
// knows GPT-2's and LLaMA-3's); ids past the tokenizer's (a padded model)
// are unused placeholders.
func bpeTokenizerKV(t *tokenizer.BPE, vocab int) ([]gguf.KV, error) {
	if t.VocabSize() > vocab {
		return nil, fmt.Errorf("interop: tokenizer %s has %d tokens but the model %d", t.Name(), t.VocabSize(), vocab)
	}
	var pre string
	switch t.Pattern() {
	case tokenizer.PatternGPT2:
		pre = "gpt-2" // llama.cpp's name for GPT-2's split; "gpt2" is unknown to it
	case tokenizer.PatternLlama3:
		pre = "llama-bpe"
	default:
		return nil, fmt.Errorf("interop: tokenizer %s splits text by %q, for which llama.cpp has no pre-tokenizer (it has GPT-2's and LLaMA-3's)", t.Name(), t.Pattern())
	}
	merges, err := t.Merges()
	if err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	tokens := make([]string, vocab)
	types := make([]int32, vocab)
	for i := range tokens {
		id := uint32(i)
		tok := t.Token(id)
		switch {
		case i >= t.VocabSize() || tok == nil:
			tokens[i], types[i] = fmt.Sprintf("<sprout_unused_%d>", i), tokenUnused
		case t.IsSpecial(id):
			tokens[i], types[i] = string(tok), tokenControl
		default:
			tokens[i], types[i] = tokenizer.ByteLevelString(tok), tokenNormal
		}
	}
	ms := make([]string, len(merges))
	for i, m := range merges {
		ms[i] = tokenizer.ByteLevelString(t.Token(m[0])) + " " + tokenizer.ByteLevelString(t.Token(m[1]))
	}
	kv := []gguf.KV{
		{Key: "tokenizer.ggml.model", Value: "gpt2"},
		{Key: "tokenizer.ggml.pre", Value: pre},
		{Key: "tokenizer.ggml.tokens", Value: tokens},
		{Key: "tokenizer.ggml.token_type", Value: types},
		{Key: "tokenizer.ggml.merges", Value: ms},
		{Key: "tokenizer.ggml.add_bos_token", Value: false},
		{Key: "tokenizer.ggml.add_eos_token", Value: false},
	}
	// GPT-2's <|endoftext|> is bos and eos, as llama.cpp's converter says.
	if id, ok := t.Special()[tokenizer.EndOfText]; ok {
		kv = append(kv, gguf.KV{Key: "tokenizer.ggml.bos_token_id", Value: id}, gguf.KV{Key: "tokenizer.ggml.eos_token_id", Value: id})
	}
	return kv, nil
}
