package trainer

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/minio/sha256-simd"

	"github.com/sproutml/sprout/shard"
	"github.com/sproutml/sprout/tokenizer"
)

// ByteVocab is the vocabulary size of the default byte-level tokenizer.
const ByteVocab = 256

// DefaultValFraction is the share of the tokens, taken from the end, that
// validates.
const DefaultValFraction = 0.1

// EncodeBytes is the byte-level tokenizer: each byte is one token.
func EncodeBytes(b []byte) []uint16 {
	t := make([]uint16, len(b))
	for i, c := range b {
		t[i] = uint16(c)
	}
	return t
}

// DecodeBytes inverts EncodeBytes. Tokens outside 0..255 become U+FFFD.
func DecodeBytes(t []uint16) string {
	var sb strings.Builder
	sb.Grow(len(t))
	for _, v := range t {
		if v < ByteVocab {
			sb.WriteByte(byte(v))
		} else {
			sb.WriteRune('\uFFFD')
		}
	}
	return sb.String()
}

// Data formats.
const (
	FormatAuto   = ""       // tokens for a file ending in .bin, text otherwise
	FormatText   = "text"   // bytes, tokenised byte-level
	FormatTokens = "tokens" // little-endian uint16 token ids
)

// DataOptions says how to read and split a dataset.
type DataOptions struct {
	// Format is FormatAuto, FormatText or FormatTokens. A directory is
	// always text.
	Format string
	// Vocab is the vocabulary size every token must be below. Zero means
	// ByteVocab for text, and for token files the largest token plus one.
	Vocab int
	// ValFraction of the tokens, taken from the end, validate. Zero means
	// DefaultValFraction; 1 makes every token validation data (for
	// evaluating, not training: a run refuses it).
	ValFraction float64
	// Ctx is the model's context length: each split must hold at least one
	// window of Ctx+1 tokens.
	Ctx int
	// Tokenizer, when not nil, encodes text (on all cores), and must be the
	// one a token file's header names, if it names one. Its vocabulary is
	// the default Vocab.
	Tokenizer tokenizer.Tokenizer
}

// Dataset is a tokenised corpus split into training and validation tokens.
type Dataset struct {
	Source string   // the path, or a description of the embedded corpus
	Vocab  int      // every token is below it
	Train  []uint16 // the first part of the tokens
	Val    []uint16 // the last ValFraction of them
	// ValFraction is the validation share used for the split.
	ValFraction float64
	// Digest is the SHA-256 of all tokens as little-endian uint16, so a
	// resumed run can tell that its data changed.
	Digest string
	// Tokenizer is the digest of the tokenizer a shard's header names
	// (tokenizer.Digest), or of the one that encoded the text; "" when the
	// data does not say.
	Tokenizer string
	// TokenizerName is the name a shard's header gives its tokenizer.
	TokenizerName string
	// Tok is the tokenizer of the data when it is known: the one given,
	// GPT-2's for a shard whose header names it, nil otherwise.
	Tok tokenizer.Tokenizer
}

// DataState records which data a run trained on, for its checkpoints.
type DataState struct {
	Source      string  `json:"source"`
	Tokens      int     `json:"tokens"`
	Vocab       int     `json:"vocab"`
	ValFraction float64 `json:"val_fraction"`
	Digest      string  `json:"sha256"`
}

// State describes d for a manifest.
func (d *Dataset) State() DataState {
	return DataState{Source: d.Source, Tokens: len(d.Train) + len(d.Val), Vocab: d.Vocab, ValFraction: d.ValFraction, Digest: d.Digest}
}

// LoadDataset reads the text file, directory or token file at path,
// tokenises and splits it. A directory contributes every regular file below
// it, in lexical path order, concatenated; symbolic links are not followed.
// A token file (.bin, or FormatTokens) holds little-endian uint16 tokens,
// either bare (nanoGPT) or after llm.c's 1024-byte header (magic 20240520).
func LoadDataset(path string, opt DataOptions) (*Dataset, error) {
	if path == "" {
		return nil, errors.New("data: no path given")
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	format := opt.Format
	switch format {
	case FormatAuto:
		format = FormatText
		if !st.IsDir() && strings.EqualFold(filepath.Ext(path), ".bin") {
			format = FormatTokens
		}
	case FormatText, FormatTokens:
	default:
		return nil, fmt.Errorf("data: unknown format %q (want %q or %q)", opt.Format, FormatText, FormatTokens)
	}
	var raw []byte
	if st.IsDir() {
		if format == FormatTokens {
			return nil, fmt.Errorf("data: %s is a directory; token files must be given one at a time", path)
		}
		raw, err = readTree(path)
	} else {
		raw, err = os.ReadFile(path)
		if err != nil {
			err = fmt.Errorf("data: %w", err)
		}
	}
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("data: %s is empty", path)
	}
	var toks []uint16
	var hdr shard.Header
	tok := opt.Tokenizer
	if format == FormatTokens {
		toks, hdr, err = decodeTokenFile(raw)
		if err != nil {
			return nil, fmt.Errorf("data: %s: %w", path, err)
		}
		if tok, err = shardTokenizer(path, hdr, tok); err != nil {
			return nil, err
		}
	} else if !isBytes(tok) {
		if toks, err = encodeText(raw, tok, path); err != nil {
			return nil, err
		}
		hdr.Name, hdr.Digest = tok.Name(), tokenizer.Digest(tok)
	} else {
		toks = EncodeBytes(raw)
	}
	if opt.Vocab == 0 && !isBytes(tok) {
		opt.Vocab = tok.VocabSize()
	}
	opt.Format = format
	d, err := NewDataset(toks, path, opt)
	if err != nil {
		return nil, err
	}
	d.Tokenizer, d.TokenizerName = hdr.Digest, hdr.Name
	if !isBytes(tok) {
		d.Tok = tok
	}
	return d, nil
}

// encodeText encodes text with a BPE tokenizer on all cores.
func encodeText(raw []byte, tok tokenizer.Tokenizer, source string) ([]uint16, error) {
	if tok.VocabSize() > 1<<16 {
		return nil, fmt.Errorf("data: tokenizer %s has %d tokens; sprout trains vocabularies up to 65536", tok.Name(), tok.VocabSize())
	}
	toks, err := ToUint16(tokenizer.EncodeParallel(tok, raw, 0, false), tok.VocabSize())
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", source, err)
	}
	return toks, nil
}

// shardTokenizer checks the tokenizer given for a token file against the
// one its header names, and returns the data's tokenizer: the one given,
// or GPT-2's when the header names it and none was given.
func shardTokenizer(path string, hdr shard.Header, tok tokenizer.Tokenizer) (tokenizer.Tokenizer, error) {
	if tok != nil && hdr.Digest != "" {
		if d := tokenizer.Digest(tok); d != hdr.Digest {
			return nil, fmt.Errorf("data: %s was tokenized by %s (%s), not by %s (%s), the tokenizer of the run or checkpoint", path, hdr.Name, hdr.Digest, tok.Name(), d)
		}
	}
	if tok == nil && hdr.Name == "gpt2" {
		if g, err := tokenizer.GPT2(); err == nil && tokenizer.Digest(g) == hdr.Digest {
			return g, nil
		}
	}
	return tok, nil
}

// readTree concatenates every regular file below dir in lexical order.
func readTree(dir string) ([]byte, error) {
	var out []byte
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("data: %w", err)
		}
		if !e.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("data: %w", err)
		}
		out = append(out, b...)
		return nil
	})
	return out, err
}

// decodeTokenFile decodes a token file: bare little-endian uint16 tokens
// (nanoGPT), or after llm.c's 1024-byte header (magic 20240520), version 1
// (uint16) or 2 (uint32, ids must still fit uint16 here), as `sprout
// tokenize` writes them with the tokenizer's digest in the header.
func decodeTokenFile(b []byte) ([]uint16, shard.Header, error) {
	h, ids, err := shard.Decode(b)
	if err != nil {
		return nil, h, err
	}
	t := make([]uint16, len(ids))
	for i, id := range ids {
		if id > math.MaxUint16 {
			return nil, h, fmt.Errorf("token %d at position %d does not fit uint16; sprout trains vocabularies up to 65536", id, i)
		}
		t[i] = uint16(id)
	}
	return t, h, nil
}

// NewDataset validates and splits tokens read from source (a description
// for messages). With opt.Vocab zero the vocabulary is inferred from the
// tokens when opt.Format is FormatTokens and is ByteVocab otherwise.
func NewDataset(tokens []uint16, source string, opt DataOptions) (*Dataset, error) {
	if opt.Ctx <= 0 {
		return nil, fmt.Errorf("data: context length must be positive, got %d", opt.Ctx)
	}
	frac := opt.ValFraction
	if frac == 0 {
		frac = DefaultValFraction
	}
	if math.IsNaN(frac) || frac <= 0 || frac > 1 {
		return nil, fmt.Errorf("data: validation fraction must be in (0, 1], got %v", opt.ValFraction)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("data: %s holds no tokens", source)
	}
	vocab := opt.Vocab
	if vocab < 0 || vocab > 1<<16 {
		return nil, fmt.Errorf("data: vocabulary size %d is outside 1..65536", vocab)
	}
	if vocab == 0 {
		vocab = ByteVocab
		if opt.Format == FormatTokens {
			vocab = 0
			for _, t := range tokens {
				vocab = max(vocab, int(t)+1)
			}
		}
	}
	for i, t := range tokens {
		if int(t) >= vocab {
			return nil, fmt.Errorf("data: %s: token %d at position %d is outside the vocabulary of %d", source, t, i, vocab)
		}
	}
	nVal := int(float64(len(tokens)) * frac)
	nTrain := len(tokens) - nVal
	need := opt.Ctx + 1
	if frac == 1 && nVal < need {
		return nil, fmt.Errorf("data: %s is too short: %d tokens, but a window of context %d needs at least %d", source, len(tokens), opt.Ctx, need)
	}
	if frac < 1 && (nTrain < need || nVal < need) {
		return nil, fmt.Errorf("data: %s is too short: %d tokens split into %d for training and %d for validation (fraction %v), but each split needs at least %d (context %d + 1); need at least %d tokens",
			source, len(tokens), nTrain, nVal, frac, need, opt.Ctx, minTokens(need, frac))
	}
	h := sha256.New()
	var buf [2]byte
	for _, t := range tokens {
		binary.LittleEndian.PutUint16(buf[:], t)
		h.Write(buf[:])
	}
	return &Dataset{
		Source: source,
		Vocab:  vocab,
		Train:  tokens[:nTrain],
		Val:    tokens[nTrain:],
		Digest: hex.EncodeToString(h.Sum(nil)),

		ValFraction: frac,
	}, nil
}

// minTokens is the smallest total for which both splits hold need tokens.
func minTokens(need int, frac float64) int {
	// Both split sizes grow with n; start just below the analytic bound.
	n := max(2*need, int(float64(need-1)/min(frac, 1-frac))-1)
	for int(float64(n)*frac) < need || n-int(float64(n)*frac) < need {
		n++
	}
	return n
}

// EvalWindows returns the fixed validation windows of ctx+1 tokens that
// every evaluation uses: non-overlapping windows tiling tokens from the
// start (consecutive windows share one token, the last target of one being
// the first input of the next), at most maxN of them, spread evenly when more
// fit. The windows are slices of tokens, not copies.
func EvalWindows(tokens []uint16, ctx, maxN int) [][]uint16 {
	if ctx <= 0 || maxN <= 0 || len(tokens) < ctx+1 {
		return nil
	}
	fit := (len(tokens) - 1) / ctx
	n := min(fit, maxN)
	out := make([][]uint16, n)
	for i := range out {
		k := i * fit / n // evenly spread over the windows that fit
		out[i] = tokens[k*ctx : k*ctx+ctx+1]
	}
	return out
}
