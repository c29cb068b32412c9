package tokenizer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
)

// Digest names a tokenizer by its content: "bytes" for the byte-level one,
// "sha256:" and the SHA-256 of its tokenizer.json (as WriteHFJSON writes
// it) for a BPE, so shards and checkpoints can tell tokenizers apart.
func Digest(t Tokenizer) string {
	b, ok := t.(*BPE)
	if !ok {
		return t.Name()
	}
	var buf bytes.Buffer
	if err := WriteHFJSON(&buf, b); err != nil {
		return "unknown"
	}
	sum := sha256.Sum256(buf.Bytes())
	return "sha256:" + hex.EncodeToString(sum[:])
}
