package tokenizer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
)

// gpt2Ranks is GPT-2's rank file (tiktoken's r50k_base, which its gpt2
// encoding uses), gzipped: 366 KB in the binary for 835 KB of ranks, so
// --tokenizer gpt2 works with no network. bench/tokenizer/gpt2_ranks.mjs
// made it from npm tiktoken.
//
//go:embed gpt2.tiktoken.gz
var gpt2Ranks []byte

// gpt2RanksSHA256 is the SHA-256 tiktoken checks r50k_base.tiktoken by.
const gpt2RanksSHA256 = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"

var gpt2Once = sync.OnceValues(func() (*BPE, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gpt2Ranks))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: embedded GPT-2 ranks: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: embedded GPT-2 ranks: %v", err)
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != gpt2RanksSHA256 {
		return nil, fmt.Errorf("tokenizer: embedded GPT-2 ranks have SHA-256 %x, want %s", sum, gpt2RanksSHA256)
	}
	return ReadTiktoken(bytes.NewReader(raw), "gpt2", PatternGPT2, map[string]uint32{EndOfText: 50256})
})

// GPT2 returns GPT-2's tokenizer: 50257 tokens, <|endoftext|> = 50256. It
// is built once and safe for concurrent use.
func GPT2() (*BPE, error) { return gpt2Once() }
