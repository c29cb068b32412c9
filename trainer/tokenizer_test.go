package trainer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sproutml/sprout/shard"
	"github.com/sproutml/sprout/tokenizer"
)

// trainTok learns a small BPE from the test corpus and writes it to a
// directory as tokenizer.json.
func trainTok(t *testing.T, text []byte, vocab int) (*tokenizer.BPE, string) {
	t.Helper()
	tok, err := tokenizer.Train(text, tokenizer.TrainOptions{Vocab: vocab, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tokenizer.WriteHFJSON(f, tok); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return tok, dir
}

// writeShard writes ids as a shard whose header names name and digest.
func writeShard(t *testing.T, path string, ids []uint32, name, digest string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := shard.NewWriter(f, shard.Header{Width: 2, Name: name, Digest: digest})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ids); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestCheckpointCarriesTokenizer(t *testing.T) {
	corpus := testCorpus(t)
	text, err := os.ReadFile(corpus)
	if err != nil {
		t.Fatal(err)
	}
	tok, dir := trainTok(t, text, 300)
	cfg := tinyConfig(t)
	cfg.Grow, cfg.Steps, cfg.EvalEvery = nil, 4, 2
	cfg.Tokenizer = dir
	cfg.Out = filepath.Join(t.TempDir(), "ck")
	res := mustRun(t, cfg, nil)
	if res.Model.Vocab != tok.VocabSize() {
		t.Fatalf("model vocab %d, want the tokenizer's %d", res.Model.Vocab, tok.VocabSize())
	}
	c, err := LoadCheckpoint(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	want := tokenizer.Digest(tok)
	if c.Manifest.Tokenizer == nil || c.Manifest.Tokenizer.Digest != want || c.Manifest.Tokenizer.Vocab != tok.VocabSize() {
		t.Fatalf("manifest tokenizer %+v, want digest %s", c.Manifest.Tokenizer, want)
	}
	if _, ok := c.Manifest.Files[TokenizerFile]; !ok || c.Tokenizer == nil {
		t.Fatalf("the checkpoint does not list or hold %s", TokenizerFile)
	}
	m, _, got, err := LoadModelTokenizer(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	if tokenizer.Digest(got) != want || m.Vocab != tok.VocabSize() {
		t.Fatalf("loaded tokenizer %s (%s), want %s", got.Name(), tokenizer.Digest(got), want)
	}
	// The prompt is encoded with the checkpoint's tokenizer: fewer tokens
	// than bytes, and it decodes back.
	p := "func main() {\n\treturn\n}"
	ids, err := EncodePrompt(got, p, m.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) >= len(p) || DecodeText(got, ids) != p || TextBytes(got, ids) != len(p) {
		t.Fatalf("prompt %q: %d ids decode to %q (%d bytes)", p, len(ids), DecodeText(got, ids), TextBytes(got, ids))
	}
	// A tampered tokenizer.json is caught by the manifest's digest.
	if err := os.WriteFile(filepath.Join(cfg.Out, TokenizerFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := LoadModelTokenizer(cfg.Out); err == nil || !strings.Contains(err.Error(), TokenizerFile) {
		t.Fatalf("tampered %s: %v", TokenizerFile, err)
	}
}

func TestCheckpointWithoutTokenizerIsBytes(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Grow, cfg.Steps = nil, 2
	cfg.Out = filepath.Join(t.TempDir(), "ck")
	mustRun(t, cfg, nil)
	c, err := LoadCheckpoint(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	if c.Manifest.Tokenizer != nil || c.Tokenizer != nil {
		t.Fatalf("a byte-level run recorded tokenizer %+v", c.Manifest.Tokenizer)
	}
	if _, err := os.Stat(filepath.Join(cfg.Out, TokenizerFile)); err == nil {
		t.Fatalf("a byte-level run wrote %s", TokenizerFile)
	}
	_, _, tok, err := LoadModelTokenizer(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tok.(tokenizer.Bytes); !ok {
		t.Fatalf("tokenizer %s, want bytes", tok.Name())
	}
}

func TestResumeRefusesOtherTokenizer(t *testing.T) {
	text, err := os.ReadFile(testCorpus(t))
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := trainTok(t, text, 300)
	ids := tok.Encode(nil, text)
	bin := filepath.Join(t.TempDir(), "data.bin")
	writeShard(t, bin, ids, tok.Name(), tokenizer.Digest(tok))
	cfg := tinyConfig(t)
	cfg.Grow, cfg.Steps, cfg.EvalEvery = nil, 2, 2
	cfg.Data = bin
	cfg.Out = filepath.Join(t.TempDir(), "ck")
	mustRun(t, cfg, nil)
	c, err := LoadCheckpoint(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	if c.Manifest.Tokenizer == nil || c.Manifest.Tokenizer.Digest != tokenizer.Digest(tok) || c.Tokenizer != nil {
		t.Fatalf("a shard naming an unknown tokenizer: manifest %+v, file %v", c.Manifest.Tokenizer, c.Tokenizer != nil)
	}
	// The same tokens, but the header names another tokenizer.
	other := "sha256:" + strings.Repeat("ab", 32)
	writeShard(t, bin, ids, "other", other)
	_, err = Resume(context.Background(), cfg.Out, nil, func(c *Config) error { c.Steps = 4; return nil })
	if err == nil || !strings.Contains(err.Error(), other) || !strings.Contains(err.Error(), "checkpoint was trained with") {
		t.Fatalf("resume on data of another tokenizer: %v", err)
	}
}

func TestTokenIDsPastVocabulary(t *testing.T) {
	if _, err := ToUint16([]uint32{1, 300}, 256); err == nil || !strings.Contains(err.Error(), "token 300 at position 1") {
		t.Fatalf("id past the vocabulary: %v", err)
	}
	// GPT-2 encodes <|endoftext|> as 50256, past a byte-level model.
	g, err := tokenizer.GPT2()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EncodePrompt(g, "hi<|endoftext|>", 1000); err == nil || !strings.Contains(err.Error(), "vocabulary of 1000") {
		t.Fatalf("prompt past the vocabulary: %v", err)
	}
	// A shard whose ids pass the model's vocabulary is refused.
	bin := filepath.Join(t.TempDir(), "big.bin")
	writeShard(t, bin, []uint32{1, 2, 5000, 3}, "", "")
	if _, err := LoadDataset(bin, DataOptions{Ctx: 1, Vocab: 4096, ValFraction: 0.5}); err == nil || !strings.Contains(err.Error(), "outside the vocabulary") {
		t.Fatalf("shard past the vocabulary: %v", err)
	}
	// Text whose ids pass the model's vocabulary is refused; so is a model
	// smaller than its tokenizer, even when this data's ids fit (plain
	// text never makes <|endoftext|>, GPT-2's last id).
	cfg := tinyConfig(t)
	cfg.Grow, cfg.Steps = nil, 2
	cfg.Tokenizer = "gpt2"
	for vocab, want := range map[int]string{1000: "outside the vocabulary of 1000", 50256: "smaller than tokenizer gpt2's 50257"} {
		cfg.Model.Vocab = vocab
		if _, err := Run(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("model vocab %d with gpt2: %v, want %q", vocab, err, want)
		}
	}
}
