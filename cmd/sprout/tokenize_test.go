package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sproutml/sprout/shard"
	"github.com/sproutml/sprout/tokenizer"
	"github.com/sproutml/sprout/trainer"
)

// Train a vocabulary, tokenize with it and with gpt2, and train a model on
// the shard: the ids are the library's, the header names the tokenizer.
func TestTokenizerTrainAndTokenize(t *testing.T) {
	dir := t.TempDir()
	tk := filepath.Join(dir, "tok")
	code, out, errOut := sprout(t, "tokenizer", "train", "--data", cliCorpus, "--vocab", "400", "--out", tk)
	if code != 0 || !strings.Contains(out, "tokenizer.json: 400 tokens") || !strings.Contains(errOut, "merges") {
		t.Fatalf("train: %d %q %q", code, out, errOut)
	}
	text, _ := os.ReadFile(cliCorpus)
	for _, name := range []string{tk, "gpt2"} {
		bin := filepath.Join(dir, filepath.Base(name)+".bin")
		code, out, errOut = sprout(t, "tokenize", "--tokenizer", name, "--data", cliCorpus, "--out", bin, "--block-mb", "1")
		if code != 0 || !strings.Contains(out, "uint16") || !strings.Contains(errOut, "MB/s") {
			t.Fatalf("tokenize %s: %d %q %q", name, code, out, errOut)
		}
		tok, err := tokenizer.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(bin)
		h, ids, err := shard.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids, tok.Encode(nil, text)) || h.Digest != tokenizer.Digest(tok) {
			t.Fatalf("%s: shard ids or digest (%s) differ from the library's", name, h.Digest)
		}
		d, err := trainer.LoadDataset(bin, trainer.DataOptions{Ctx: 16})
		if err != nil || d.Tokenizer != h.Digest {
			t.Fatalf("%s: LoadDataset: %v (tokenizer %q)", name, err, d.Tokenizer)
		}
	}
	code, _, errOut = sprout(t, append(tinyTrain(filepath.Join(dir, "run")), "--data", filepath.Join(dir, "tok.bin"))...)
	if code != 0 {
		t.Fatalf("train on a shard: %d %s", code, errOut)
	}
}

func TestTokenizeErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "tokenizer.json")
	os.WriteFile(bad, []byte(`{"model": {"type": "WordPiece", "vocab": {}}}`), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"tokenize", "--data", cliCorpus}, 2, "--out is required"},
		{[]string{"tokenize", "--tokenizer", dir, "--data", cliCorpus, "--out", filepath.Join(dir, "x.bin")}, 1, `model type "WordPiece" is not supported`},
		{[]string{"tokenize", "--tokenizer", "nope", "--data", cliCorpus, "--out", filepath.Join(dir, "x.bin")}, 1, "not bytes, gpt2"},
		{[]string{"tokenizer", "train", "--data", cliCorpus, "--vocab", "10", "--out", dir}, 2, "--vocab 10 is below"},
		{[]string{"tokenizer", "fit"}, 2, `unknown sub-command "fit"`},
		{[]string{"bench", "tokenize", "--runs", "0"}, 2, "must be positive"},
	} {
		code, _, errOut := sprout(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want %d and one line with %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

func TestBenchTokenize(t *testing.T) {
	code, out, errOut := sprout(t, "bench", "tokenize", "--data", cliCorpus, "--runs", "1", "--json")
	if code != 0 || !strings.Contains(out, `"one_core_mb_s"`) || !strings.Contains(out, `"tokenizer":"gpt2"`) {
		t.Fatalf("%d %q %q", code, out, errOut)
	}
}

// A BPE run downstream: train --tokenizer, sample --prompt, eval's bits per
// byte, export to Hugging Face and back with import --hf, and GGUF export.
func TestTokenizerDownstream(t *testing.T) {
	dir := t.TempDir()
	tk, ck := filepath.Join(dir, "tok"), filepath.Join(dir, "ck")
	if code, out, errOut := sprout(t, "tokenizer", "train", "--data", cliCorpus, "--vocab", "300", "--out", tk); code != 0 {
		t.Fatalf("tokenizer train: %d %q %q", code, out, errOut)
	}
	tok, err := tokenizer.Load(tk)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := sprout(t, "train", "--data", cliCorpus, "--tokenizer", tk, "--steps", "2", "--layers", "1", "--dim", "16", "--heads", "2",
		"--ctx", "16", "--batch", "2", "--grow-from", "off", "--sample-tokens", "5", "--out", ck)
	if code != 0 || !strings.Contains(errOut+out, "sample (5 tokens") {
		t.Fatalf("train --tokenizer: %d %q %q", code, out, errOut)
	}
	_, man, got, err := trainer.LoadModelTokenizer(ck)
	if err != nil || man.Tokenizer == nil || tokenizer.Digest(got) != tokenizer.Digest(tok) {
		t.Fatalf("checkpoint tokenizer: %v %+v", err, man.Tokenizer)
	}
	code, out, errOut = sprout(t, "sample", "--ckpt", ck, "--prompt", "the dogs", "--tokens", "3", "--temperature", "0")
	if code != 0 || !strings.HasPrefix(out, "the dogs") {
		t.Fatalf("sample --prompt: %d %q %q", code, out, errOut)
	}
	code, out, errOut = sprout(t, "eval", "--ckpt", ck, "--json", "--windows", "4")
	var ev map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &ev) != nil {
		t.Fatalf("eval: %d %q %q", code, out, errOut)
	}
	loss, bpb, n := ev["loss"].(float64), ev["bits_per_byte"].(float64), ev["bytes"].(float64)
	if want := loss * 4 * 16 / math.Ln2 / n; math.Abs(bpb-want) > 1e-9 || n <= 4*16 {
		t.Fatalf("eval: %v bits/byte over %v bytes, want %v (more bytes than tokens)", bpb, n, want)
	}
	hf, imp := filepath.Join(dir, "hf"), filepath.Join(dir, "imp")
	if code, out, errOut = sprout(t, "export", "--ckpt", ck, "--format", "hf", "--out", hf); code != 0 {
		t.Fatalf("export hf: %d %q %q", code, out, errOut)
	}
	for _, f := range []string{"tokenizer.json", "vocab.json", "merges.txt"} {
		if _, err := os.Stat(filepath.Join(hf, f)); err != nil {
			t.Fatalf("export hf: %v", err)
		}
	}
	if code, out, errOut = sprout(t, "import", "--hf", hf, "--out", imp, "--weights-only"); code != 0 {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	if _, man, _, err := trainer.LoadModelTokenizer(imp); err != nil || man.Tokenizer == nil || man.Tokenizer.Digest != tokenizer.Digest(tok) {
		t.Fatalf("imported tokenizer: %v %+v", err, man)
	}
	if code, out, errOut = sprout(t, "export", "--ckpt", ck, "--format", "gguf", "--out", filepath.Join(dir, "m.gguf")); code != 0 {
		t.Fatalf("export gguf: %d %q %q", code, out, errOut)
	}
}
