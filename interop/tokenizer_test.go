package interop

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sproutml/sprout/gguf"
	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/tokenizer"
)

const tokText = "func (t *BPE) Encode(dst []uint32, text []byte) []uint32 {\n\treturn t.encode(dst, text)\n}\n// it's 2024: café → ok\n"

func smallBPE(t *testing.T) *tokenizer.BPE {
	t.Helper()
	tok, err := tokenizer.Train([]byte(strings.Repeat(tokText, 20)), tokenizer.TrainOptions{Vocab: 300, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func kvMap(kv []gguf.KV) map[string]any {
	m := map[string]any{}
	for _, p := range kv {
		m[p.Key] = p.Value
	}
	return m
}

func TestGGUFBPETokenizer(t *testing.T) {
	tok := smallBPE(t)
	vocab := tok.VocabSize() + 4 // padded past the tokenizer
	m, err := nn.NewModel(nn.Config{Vocab: vocab, Ctx: 8, Dim: 8, Heads: 2, Layers: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := WriteGGUF(path, m, GGUFOptions{Tokenizer: tok}, false); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	get := func(k string) any {
		v, ok := f.Value(k)
		if !ok {
			t.Fatalf("%s is missing", k)
		}
		return v
	}
	if get("tokenizer.ggml.model") != "gpt2" || get("tokenizer.ggml.pre") != "gpt-2" {
		t.Fatalf("model %v, pre %v", get("tokenizer.ggml.model"), get("tokenizer.ggml.pre"))
	}
	tokens := get("tokenizer.ggml.tokens").([]string)
	types := get("tokenizer.ggml.token_type").([]int32)
	merges := get("tokenizer.ggml.merges").([]string)
	if len(tokens) != vocab || len(types) != vocab {
		t.Fatalf("%d tokens, %d types, want %d", len(tokens), len(types), vocab)
	}
	want, _ := tok.Merges()
	if len(merges) != len(want) || len(merges) == 0 {
		t.Fatalf("%d merges, want %d", len(merges), len(want))
	}
	eot := tok.Special()[tokenizer.EndOfText]
	for i := range tokens {
		id := uint32(i)
		switch {
		case i >= tok.VocabSize():
			if types[i] != tokenUnused {
				t.Fatalf("padding id %d has type %d", i, types[i])
			}
		case id == eot:
			if tokens[i] != tokenizer.EndOfText || types[i] != tokenControl {
				t.Fatalf("id %d: %q type %d, want <|endoftext|> control", i, tokens[i], types[i])
			}
		default:
			if b, err := tokenizer.ByteLevelBytes(tokens[i]); err != nil || !bytes.Equal(b, tok.Token(id)) || types[i] != tokenNormal {
				t.Fatalf("id %d: %q (type %d) is not %q", i, tokens[i], types[i], tok.Token(id))
			}
		}
	}
	// The GGUF's tokens and merges, read back as vocab.json and merges.txt
	// would be, rebuild a tokenizer that encodes as sprout's does.
	var vj, mt bytes.Buffer
	vj.WriteString("{")
	for i, s := range tokens[:tok.VocabSize()] {
		if i > 0 {
			vj.WriteString(",")
		}
		vj.WriteString(jsonQuote(s) + ":" + itoa(i))
	}
	vj.WriteString("}")
	mt.WriteString(strings.Join(merges, "\n"))
	back, err := tokenizer.ReadVocabMerges(&vj, &mt, "back")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := tok.Encode(nil, []byte(tokText)), back.Encode(nil, []byte(tokText)); !slices.Equal(a, b) || len(a) >= len(tokText) {
		t.Fatalf("ids from the GGUF's vocabulary %v differ from sprout's %v", b, a)
	}
	if kv := kvMap(mustKV(t, m, tok)); kv["tokenizer.ggml.eos_token_id"] != eot {
		t.Fatalf("eos %v, want %d", kv["tokenizer.ggml.eos_token_id"], eot)
	}
	// A model smaller than its tokenizer is refused.
	small, err := nn.NewModel(nn.Config{Vocab: 260, Ctx: 8, Dim: 8, Heads: 2, Layers: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ToGGUF(small, GGUFOptions{Tokenizer: tok}); err == nil || !strings.Contains(err.Error(), "but the model 260") {
		t.Fatalf("model smaller than its tokenizer: %v", err)
	}
}

func mustKV(t *testing.T, m *nn.Model, tok *tokenizer.BPE) []gguf.KV {
	t.Helper()
	kv, _, err := ToGGUF(m, GGUFOptions{Tokenizer: tok})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func jsonQuote(s string) string { return tokenizerJSON(s) }

func TestHFExportTokenizer(t *testing.T) {
	tok := smallBPE(t)
	m, err := nn.NewModel(nn.Config{Vocab: tok.VocabSize(), Ctx: 8, Dim: 8, Heads: 2, Layers: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "hf")
	if err := WriteHFTokenizer(dir, m, tok, F32, false); err != nil {
		t.Fatal(err)
	}
	fromJSON, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tokenizer.Digest(fromJSON) != tokenizer.Digest(tok) {
		t.Fatalf("tokenizer.json digest %s, want %s", tokenizer.Digest(fromJSON), tokenizer.Digest(tok))
	}
	vf, err := os.Open(filepath.Join(dir, "vocab.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer vf.Close()
	mf, err := os.Open(filepath.Join(dir, "merges.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	fromVM, err := tokenizer.ReadVocabMerges(vf, mf, "hf")
	if err != nil {
		t.Fatal(err)
	}
	text := []byte(tokText + tokenizer.EndOfText)
	want := tok.EncodeSpecial(nil, text)
	for name, got := range map[string][]uint32{"tokenizer.json": fromJSON.EncodeSpecial(nil, text), "vocab.json+merges.txt": fromVM.EncodeSpecial(nil, text)} {
		if !slices.Equal(got, want) {
			t.Fatalf("%s encodes to %v, want %v", name, got, want)
		}
	}
	// Without a tokenizer (byte-level) no tokenizer files are written.
	dir2 := filepath.Join(t.TempDir(), "hf2")
	if err := WriteHF(dir2, m, F32, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir2, "tokenizer.json")); err == nil {
		t.Fatal("a byte-level export wrote tokenizer.json")
	}
}

func tokenizerJSON(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

func itoa(i int) string { return strconv.Itoa(i) }
