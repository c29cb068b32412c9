package trainer

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/tokenizer"
)

// TokenizerFile is the checkpoint file holding a BPE tokenizer, in Hugging
// Face's tokenizer.json format, as tokenizer.WriteHFJSON writes it (so its
// SHA-256 is the digest the manifest and shard headers record).
const TokenizerFile = "tokenizer.json"

// TokenizerInfo names a checkpoint's tokenizer in its manifest. A manifest
// without one (every checkpoint before issue 22) is byte-level.
type TokenizerInfo struct {
	Name   string `json:"name"`
	Digest string `json:"digest"` // tokenizer.Digest
	Vocab  int    `json:"vocab"`
}

// resolveTokenizer loads the tokenizer a run's config names; "" is none.
// Relative paths were made absolute by absData.
func resolveTokenizer(name string) (tokenizer.Tokenizer, error) {
	if name == "" {
		return nil, nil
	}
	t, err := tokenizer.Load(name)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return t, nil
}

// isBytes reports whether t is the byte-level tokenizer (or none).
func isBytes(t tokenizer.Tokenizer) bool {
	if t == nil {
		return true
	}
	_, ok := t.(tokenizer.Bytes)
	return ok
}

// TokenizerFiles returns the manifest entry and tokenizer.json of t, or
// nothing for the byte-level tokenizer (or nil), which checkpoints have
// always implied.
func TokenizerFiles(t tokenizer.Tokenizer) (*TokenizerInfo, []byte, error) {
	b, ok := t.(*tokenizer.BPE)
	if !ok {
		return nil, nil, nil
	}
	var buf bytes.Buffer
	if err := tokenizer.WriteHFJSON(&buf, b); err != nil {
		return nil, nil, fmt.Errorf("trainer: tokenizer: %w", err)
	}
	return &TokenizerInfo{Name: t.Name(), Digest: tokenizer.Digest(t), Vocab: t.VocabSize()}, buf.Bytes(), nil
}

// CheckpointTokenizer returns c's tokenizer: byte-level when the manifest
// names none, the BPE in its tokenizer.json otherwise (checked against the
// manifest's digest), or GPT-2's built-in vocabulary when the manifest names
// it by digest without the file.
func CheckpointTokenizer(c *Checkpoint) (tokenizer.Tokenizer, error) {
	info := c.Manifest.Tokenizer
	if info == nil {
		return tokenizer.Bytes{}, nil
	}
	if c.Tokenizer == nil {
		if g, err := tokenizer.GPT2(); err == nil && tokenizer.Digest(g) == info.Digest {
			return g, nil
		}
		return nil, fmt.Errorf("checkpoint: the manifest names tokenizer %q (%s) but the checkpoint holds no %s; train with --tokenizer to store it", info.Name, info.Digest, TokenizerFile)
	}
	t, err := tokenizer.ReadHFJSON(bytes.NewReader(c.Tokenizer), info.Name)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", TokenizerFile, err)
	}
	if d := tokenizer.Digest(t); d != info.Digest {
		return nil, fmt.Errorf("checkpoint: %s has digest %s but the manifest records %s", TokenizerFile, d, info.Digest)
	}
	return t, nil
}

// LoadModelTokenizer is LoadModel that also returns the checkpoint's
// tokenizer (byte-level for checkpoints without one; nil when the manifest
// names a tokenizer, from a shard's header, that the checkpoint does not
// hold and sprout does not build in: losses still mean something, text
// cannot be made). A model whose
// vocabulary is smaller than its tokenizer's is an error: some ids the
// tokenizer makes would have no embedding.
func LoadModelTokenizer(dir string) (*nn.Model, *Manifest, tokenizer.Tokenizer, error) {
	c, err := LoadCheckpoint(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	m, err := modelFromCheckpoint(c)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	if c.Manifest.Tokenizer != nil && c.Tokenizer == nil {
		if g, err := tokenizer.GPT2(); err != nil || tokenizer.Digest(g) != c.Manifest.Tokenizer.Digest {
			return m, &c.Manifest, nil, nil
		}
	}
	t, err := CheckpointTokenizer(c)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	if c.Manifest.Tokenizer != nil && m.Vocab < t.VocabSize() {
		return nil, nil, nil, fmt.Errorf("%s: the model's vocabulary (%d) is smaller than its tokenizer's (%s, %d)", dir, m.Vocab, t.Name(), t.VocabSize())
	}
	return m, &c.Manifest, t, nil
}

// ToUint16 converts ids to the uint16 tokens models train on, refusing an
// id at or past vocab.
func ToUint16(ids []uint32, vocab int) ([]uint16, error) {
	out := make([]uint16, len(ids))
	for i, id := range ids {
		if int64(id) >= int64(vocab) || id > 0xffff {
			return nil, fmt.Errorf("token %d at position %d is outside the model's vocabulary of %d", id, i, vocab)
		}
		out[i] = uint16(id)
	}
	return out, nil
}

// absTokenizer makes a tokenizer path absolute, like absData, so a resumed
// run finds it from any directory; names (gpt2, bytes) stay.
func absTokenizer(name string) (string, error) {
	if name == "" || name == "gpt2" || name == "bytes" {
		return name, nil
	}
	if _, err := os.Stat(name); err != nil {
		return "", fmt.Errorf("config: tokenizer %q: not bytes, gpt2, or a file or directory: %v", name, err)
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return "", fmt.Errorf("config: tokenizer: %w", err)
	}
	return abs, nil
}

// tokenizerFiles returns the run's tokenizer entry and file for its
// checkpoints: the data's tokenizer when known; for a shard whose header
// names one sprout cannot load, its name and digest alone.
func (r *run) tokenizerFiles() (*TokenizerInfo, []byte, error) {
	if !r.tokMade {
		d := r.data
		switch {
		case d.Tok != nil:
			info, b, err := TokenizerFiles(d.Tok)
			if err != nil {
				return nil, nil, err
			}
			r.tokInfo, r.tokJSON = info, b
		case d.Tokenizer != "" && d.Tokenizer != "bytes":
			r.tokInfo = &TokenizerInfo{Name: d.TokenizerName, Digest: d.Tokenizer, Vocab: d.Vocab}
		}
		r.tokMade = true
	}
	return r.tokInfo, r.tokJSON, nil
}

// checkResumeTokenizer refuses data whose tokenizer differs from the one
// the checkpoint was trained with, where both are known. A checkpoint
// without an entry predates tokenizers: its data digest is the whole check.
func checkResumeTokenizer(man *Manifest, d *Dataset) error {
	if man.Tokenizer == nil || d.Tokenizer == "" || d.Tokenizer == man.Tokenizer.Digest {
		return nil
	}
	return fmt.Errorf("trainer: the data (%s) was tokenized by %s, but the checkpoint was trained with %s", d.Source, describeTok(d.TokenizerName, d.Tokenizer), describeTok(man.Tokenizer.Name, man.Tokenizer.Digest))
}

func describeTok(name, digest string) string {
	if digest == "bytes" || digest == "" {
		return "the byte-level tokenizer"
	}
	return fmt.Sprintf("tokenizer %q (%s)", name, digest)
}

// EncodePrompt encodes text with t for a model of vocab tokens (special
// tokens' texts become their ids, as a user typing <|endoftext|> means).
func EncodePrompt(t tokenizer.Tokenizer, text string, vocab int) ([]uint16, error) {
	ids := t.EncodeSpecial(nil, []byte(text))
	out, err := ToUint16(ids, vocab)
	if err != nil {
		return nil, fmt.Errorf("prompt: %w", err)
	}
	return out, nil
}

// DecodeText decodes ids with t. An id the tokenizer lacks (a model's
// vocabulary may be padded past its tokenizer's) becomes U+FFFD, as
// DecodeBytes does for byte-level models.
func DecodeText(t tokenizer.Tokenizer, ids []uint16) string {
	var out []byte
	one := make([]uint32, 1)
	for _, id := range ids {
		one[0] = uint32(id)
		b, err := t.Decode(out, one)
		if err != nil {
			b = append(out, "\uFFFD"...)
		}
		out = b
	}
	return string(out)
}

// DefaultPrompt is what a sample continues without a prompt: a newline in
// t's encoding, or token 0 when the vocabulary cannot hold it.
func DefaultPrompt(t tokenizer.Tokenizer, vocab int) []uint16 {
	if p, err := EncodePrompt(t, "\n", vocab); err == nil && len(p) > 0 {
		return p
	}
	return []uint16{0}
}

// TextBytes is the number of bytes ids decode to with t, for bits per
// byte; ids t lacks count as none.
func TextBytes(t tokenizer.Tokenizer, ids []uint16) int {
	n := 0
	var buf []byte
	one := make([]uint32, 1)
	for _, id := range ids {
		one[0] = uint32(id)
		b, err := t.Decode(buf[:0], one)
		if err == nil {
			n += len(b)
		}
		buf = b
	}
	return n
}
