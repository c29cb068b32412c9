package tokenizer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

type refCase struct {
	Name    string   `json:"name"`
	Text    string   `json:"text"`
	Raw     string   `json:"raw"` // base64 bytes that are not UTF-8; Text has U+FFFD for each bad byte
	Special bool     `json:"special"`
	IDs     []uint32 `json:"ids"`
}

func loadRef(t testing.TB) []refCase {
	t.Helper()
	b, err := os.ReadFile("testdata/gpt2_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []refCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 500 {
		t.Fatalf("only %d reference cases", len(cases))
	}
	return cases
}

func gpt2(t testing.TB) *BPE {
	t.Helper()
	g, err := GPT2()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// checkRef compares tok's ids with npm tiktoken's on every reference case.
func checkRef(t *testing.T, tok Tokenizer, cases []refCase) {
	t.Helper()
	for _, c := range cases {
		enc := tok.Encode
		if c.Special {
			enc = tok.EncodeSpecial
		}
		got := enc(nil, []byte(c.Text))
		if !slices.Equal(got, c.IDs) && !(len(got) == 0 && len(c.IDs) == 0) {
			t.Errorf("%s: %q\n got %v\nwant %v", c.Name, c.Text, got, c.IDs)
		}
	}
}

func TestGPT2MatchesTiktoken(t *testing.T) {
	g := gpt2(t)
	if g.VocabSize() != 50257 || g.Special()[EndOfText] != 50256 {
		t.Fatalf("vocab %d, special %v", g.VocabSize(), g.Special())
	}
	cases := loadRef(t)
	checkRef(t, g, cases)
	for _, c := range cases {
		if c.Raw == "" {
			continue
		}
		// Bad bytes split as U+FFFD does: the same pre-tokens, the same
		// ones where no bad byte is, and the bytes come back.
		raw, _ := base64.StdEncoding.DecodeString(c.Raw)
		pr, pt := pieces(g, raw), pieces(g, []byte(c.Text))
		if len(pr) != len(pt) {
			t.Fatalf("%s: %d pre-tokens, %d for the text with U+FFFD", c.Name, len(pr), len(pt))
		}
		for i := range pr {
			if utf8.Valid(pr[i]) && !bytes.Equal(pr[i], pt[i]) {
				t.Errorf("%s: pre-token %d is %q, want %q", c.Name, i, pr[i], pt[i])
			}
		}
		back, err := g.Decode(nil, g.Encode(nil, raw))
		if err != nil || !bytes.Equal(back, raw) {
			t.Errorf("%s: decoded %q, %v; want %q", c.Name, back, err, raw)
		}
	}
}

func pieces(t *BPE, text []byte) [][]byte {
	var out [][]byte
	i := 0
	for _, j := range t.split.split(nil, text) {
		out = append(out, text[i:j])
		i = j
	}
	return out
}

// The files sprout reads GPT-2 from all give tiktoken's ids: its
// tokenizer.json (merges derived from ranks, Hugging Face's merge rule) and
// vocab.json with merges.txt.
func TestGPT2Formats(t *testing.T) {
	g := gpt2(t)
	cases := loadRef(t)
	var js bytes.Buffer
	if err := WriteHFJSON(&js, g); err != nil {
		t.Fatal(err)
	}
	h, err := ReadHFJSON(bytes.NewReader(js.Bytes()), "gpt2")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("tokenizer.json", func(t *testing.T) { checkRef(t, h, cases) })
	var again bytes.Buffer
	if err := WriteHFJSON(&again, h); err != nil || !bytes.Equal(again.Bytes(), js.Bytes()) {
		t.Errorf("tokenizer.json written from a read one differs (%v)", err)
	}

	merges, _ := g.Merges()
	if len(merges) != 50000 {
		t.Fatalf("%d merges, GPT-2 has 50000", len(merges))
	}
	vocab := map[string]uint32{}
	for id := range uint32(g.VocabSize()) {
		vocab[ByteLevelString(g.Token(id))] = id
	}
	vj, _ := json.Marshal(vocab)
	var mt strings.Builder
	mt.WriteString("#version: 0.2\n")
	for _, m := range merges {
		mt.WriteString(ByteLevelString(g.Token(m[0])) + " " + ByteLevelString(g.Token(m[1])) + "\n")
	}
	v, err := ReadVocabMerges(bytes.NewReader(vj), strings.NewReader(mt.String()), "gpt2")
	if err != nil {
		t.Fatal(err)
	}
	if sp := v.Special(); len(sp) != 1 || sp[EndOfText] != 50256 {
		t.Fatalf("vocab.json special tokens %v, want only %s", sp, EndOfText)
	}
	t.Run("vocab.json+merges.txt", func(t *testing.T) { checkRef(t, v, cases) })
}

// The first merges of GPT-2's merges.txt, as OpenAI published it.
func TestGPT2FirstMerges(t *testing.T) {
	merges, err := gpt2(t).Merges()
	if err != nil {
		t.Fatal(err)
	}
	g := gpt2(t)
	want := []string{"Ġ t", "Ġ a", "h e", "i n", "r e", "o n", "Ġt he", "e r"}
	for i, w := range want {
		got := ByteLevelString(g.Token(merges[i][0])) + " " + ByteLevelString(g.Token(merges[i][1]))
		if got != w {
			t.Errorf("merge %d is %q, want %q", i, got, w)
		}
	}
}

func TestSpecialNeverFromPlainText(t *testing.T) {
	g := gpt2(t)
	text := []byte("a<|endoftext|>b <|endoftext|><|endoftext|>")
	if slices.Contains(g.Encode(nil, text), 50256) {
		t.Fatal("Encode produced <|endoftext|> from plain text")
	}
	got := g.EncodeSpecial(nil, text)
	n := 0
	for _, id := range got {
		if id == 50256 {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("EncodeSpecial gave %d end-of-text tokens, want 3: %v", n, got)
	}
	back, _ := g.Decode(nil, got)
	if !bytes.Equal(back, text) {
		t.Fatalf("decoded %q", back)
	}
}

func TestBytes(t *testing.T) {
	var b Bytes
	in := []byte("hi\x00\xff")
	ids := b.Encode(nil, in)
	if !slices.Equal(ids, []uint32{'h', 'i', 0, 255}) {
		t.Fatalf("ids %v", ids)
	}
	out, err := b.Decode(nil, ids)
	if err != nil || !bytes.Equal(out, in) {
		t.Fatalf("%q %v", out, err)
	}
	if _, err := b.Decode(nil, []uint32{256}); err == nil || !strings.Contains(err.Error(), "id 256") {
		t.Fatalf("want an error naming id 256, got %v", err)
	}
}

func TestDecodeOutOfVocab(t *testing.T) {
	_, err := gpt2(t).Decode(nil, []uint32{31373, 50257})
	if err == nil || !strings.Contains(err.Error(), "id 50257 at position 1") {
		t.Fatalf("got %v", err)
	}
}

// randomText draws strings from an alphabet that exercises every branch of
// the patterns, invalid UTF-8 included.
func randomText(r *rand.Rand, n int) []byte {
	alphabet := []string{"a", "b", "s", "S", "t", "T", "l", "L", "r", "e", "E", "v", "d", "D", "m", "ſ", " ", " ", "  ", "\n", "\r", "\t", "\v",
		"'", "'", "1", "2", "½", "\n\n", "x\ny", ".\n\n/", "٣", ".", "!", "\"", "é", "Ж", "世", "😁", "\u00a0", "\u3000", "\u0085", "\u2028", "\xff", "\xe2\x82", "\xc0"}
	var b []byte
	for range n {
		b = append(b, alphabet[r.IntN(len(alphabet))]...)
	}
	return b
}

// The hand-rolled splitters cut exactly where regexp2 running the pattern
// does. One known difference: under (?i), Rust's regex (tiktoken) and
// Oniguruma (Hugging Face) fold ſ to s, so 'ſ is a contraction, and
// regexp2 does not fold it; the LLaMA-3 comparison leaves ſ out.
func TestSplittersMatchRegexp2(t *testing.T) {
	for _, pat := range []string{PatternGPT2, PatternLlama3} {
		hand, _ := newSplitter(pat)
		re, err := newRegexpSplitter(pat)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for i := range 3000 {
			text := randomText(r, 1+r.IntN(30))
			if pat == PatternLlama3 {
				text = bytes.ReplaceAll(text, []byte("ſ"), []byte("s"))
			}
			if a, b := hand.split(nil, text), re.split(nil, text); !slices.Equal(a, b) {
				t.Fatalf("pattern %d, case %d %q:\nhand-rolled %v\n    regexp2 %v", len(pat), i, text, a, b)
			}
		}
	}
}

func TestLongPiecesUseTheHeap(t *testing.T) {
	g := gpt2(t)
	// A long piece merged by the heap must equal the scan's result, which
	// the reference cases check for short pieces: compare the two directly.
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		p := bytes.Repeat([]byte{"ab e1"[r.IntN(5)]}, 1+r.IntN(shortPiece))
		for len(p) < shortPiece {
			p = append(p, "abcde "[r.IntN(6)])
		}
		if a, b := g.merge(nil, p, noRank), g.mergeLong(nil, p, noRank); !slices.Equal(a, b) {
			t.Fatalf("%q: scan %v, heap %v", p, a, b)
		}
	}
}

func TestBadFiles(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"model": {"type": "Unigram", "vocab": []}}`, `model type "Unigram" is not supported`},
		{`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Whitespace"}}`, "pre_tokenizer Whitespace is not supported"},
		{`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}}`, "no token for byte 0x00"},
		{`{"model": {"type": "BPE", "byte_fallback": true}}`, "byte_fallback"},
		{`{"model": {`, "tokenizer.json: unexpected EOF"},
	} {
		_, err := ReadHFJSON(strings.NewReader(c.json), "x")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", c.json, err, c.want)
		}
	}
	if _, err := ReadTiktoken(strings.NewReader("YQ== x\n"), "x", PatternGPT2, nil); err == nil || !strings.Contains(err.Error(), "bad rank") {
		t.Errorf("bad rank: %v", err)
	}
	if _, err := Load("/nonexistent/tok"); err == nil || !strings.Contains(err.Error(), "not bytes, gpt2") {
		t.Errorf("Load: %v", err)
	}
}

func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"", "hello world", "a\xffb", " \n\n  x", "I'm 😁 1234", "<|endoftext|>"} {
		f.Add([]byte(s))
	}
	g := gpt2(f)
	re, _ := newRegexpSplitter(PatternGPT2)
	l3, _ := newRegexpSplitter(PatternLlama3)
	f.Fuzz(func(t *testing.T, text []byte) {
		ids := g.Encode(nil, text)
		back, err := g.Decode(nil, ids)
		if err != nil || !bytes.Equal(back, text) {
			t.Fatalf("%q: decoded %q, %v", text, back, err)
		}
		if a, b := (gpt2Splitter{}).split(nil, text), re.split(nil, text); !slices.Equal(a, b) {
			t.Fatalf("gpt2 %q: hand-rolled %v, regexp2 %v", text, a, b)
		}
		if bytes.Contains(text, []byte("ſ")) {
			return // regexp2 does not fold ſ to s under (?i); see above
		}
		if a, b := (llama3Splitter{}).split(nil, text), l3.split(nil, text); !slices.Equal(a, b) {
			t.Fatalf("llama3 %q: hand-rolled %v, regexp2 %v", text, a, b)
		}
	})
}

// recount counts every pair of the trainer's words from scratch.
func recount(tr *trainer) map[uint64]int64 {
	m := map[uint64]int64{}
	for i, w := range tr.words {
		for j := 0; j+1 < len(w); j++ {
			m[pairKey(w[j], w[j+1])] += tr.counts[i]
		}
	}
	return m
}

// The incremental pair counts equal a recount after every merge, runs of
// one byte (aaaa, abab) included.
func TestTrainIncrementalCounts(t *testing.T) {
	text := []byte("aaaa abab ababab aaaaa aab abba the then there these\n'tis a test, a test! 1234 12 1 ")
	split, _ := newSplitter(PatternGPT2)
	words, counts := countWords(bytes.Repeat(text, 3), split, 2)
	tr := newTrainer(words, counts, 2)
	for id := uint32(256); id < 300; id++ {
		pair, n := tr.best()
		if n == 0 {
			break
		}
		tr.merge(pair, id)
		want := recount(tr)
		for k, v := range tr.pairs {
			if want[k] != v {
				t.Fatalf("after merge %d: pair %x counted %d, recount %d", id, k, v, want[k])
			}
		}
		if len(want) != len(tr.pairs) {
			t.Fatalf("after merge %d: %d pairs counted, recount %d", id, len(tr.pairs), len(want))
		}
	}
}

func TestTrain(t *testing.T) {
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog; the dog sleeps.\n"), 50)
	tok, err := Train(text, TrainOptions{Vocab: 300, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() > 300 || tok.Special()[EndOfText] != uint32(tok.VocabSize()-1) {
		t.Fatalf("vocab %d, special %v", tok.VocabSize(), tok.Special())
	}
	for b := range 256 {
		if got := tok.Encode(nil, []byte{byte(b)}); len(got) != 1 || got[0] != uint32(b) {
			t.Fatalf("byte %d is %v, want id %d", b, got, b)
		}
	}
	ids := tok.Encode(nil, text)
	if len(ids) > len(text)/4 {
		t.Errorf("%d tokens for %d bytes of repeated text", len(ids), len(text))
	}
	if got := tok.Encode(nil, []byte(" the")); len(got) != 1 {
		t.Errorf(`" the" is %v, want one token`, got)
	}
	// Deterministic: the same text gives the same tokenizer.json.
	var a, b bytes.Buffer
	WriteHFJSON(&a, tok)
	tok2, _ := Train(text, TrainOptions{Vocab: 300, Workers: 1})
	WriteHFJSON(&b, tok2)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two trainings on the same text differ")
	}
	back, err := ReadHFJSON(&a, "x")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Encode(nil, text), ids) {
		t.Error("the written tokenizer.json encodes differently")
	}
	if _, err := Train(text, TrainOptions{Vocab: 100}); err == nil || !strings.Contains(err.Error(), "below") {
		t.Errorf("vocab 100: %v", err)
	}
}

// Encoding chunk by chunk at Cut's places gives the ids of the whole.
func TestCutIsSafe(t *testing.T) {
	g := gpt2(t)
	l3 := *g
	l3.split, l3.next = llama3Splitter{}, llama3Next
	r := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		text := randomText(r, 200)
		for _, tok := range []*BPE{g, &l3} {
			whole := tok.Encode(nil, text)
			var parts []uint32
			for rest := text; len(rest) > 0; {
				k := Cut(rest, 1+r.IntN(40))
				parts = tok.Encode(parts, rest[:k])
				rest = rest[k:]
			}
			if !slices.Equal(whole, parts) {
				t.Fatalf("%q: chunked ids differ", text)
			}
		}
		if k := LastCut(text); k > 0 && Cut(text[:k+1], k) != k {
			t.Fatalf("LastCut %d is not a Cut place", k)
		}
	}
	if !slices.Equal(EncodeParallel(g, bytes.Repeat([]byte("a.\n\nb\n"), 1e5), 2, false), g.Encode(nil, bytes.Repeat([]byte("a.\n\nb\n"), 1e5))) {
		t.Fatal("EncodeParallel differs from Encode")
	}
}
