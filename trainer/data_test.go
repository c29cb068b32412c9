package trainer

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestByteTokenizer(t *testing.T) {
	s := "héllo\x00\xff"
	tok := EncodeBytes([]byte(s))
	if len(tok) != len(s) || tok[1] != 0xc3 || tok[len(tok)-1] != 255 {
		t.Fatalf("tokens = %v", tok)
	}
	if got := DecodeBytes(tok); got != s {
		t.Errorf("round trip = %q", got)
	}
	if got := DecodeBytes([]uint16{'a', 300}); got != "a\uFFFD" {
		t.Errorf("out of vocabulary = %q", got)
	}
}

func TestLoadTextFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.txt")
	text := strings.Repeat("abcdefghij", 10) // 100 bytes
	writeFile(t, path, []byte(text))
	d, err := LoadDataset(path, DataOptions{Ctx: 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Train) != 90 || len(d.Val) != 10 || d.Vocab != 256 || d.Source != path {
		t.Fatalf("train %d val %d vocab %d", len(d.Train), len(d.Val), d.Vocab)
	}
	if DecodeBytes(d.Train)+DecodeBytes(d.Val) != text {
		t.Error("split does not reassemble the text")
	}
	d2, err := LoadDataset(path, DataOptions{Ctx: 8, ValFraction: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	if len(d2.Val) != 25 {
		t.Errorf("val = %d tokens, want 25", len(d2.Val))
	}
	if st := d2.State(); st.ValFraction != 0.25 || st.Tokens != 100 || st.Vocab != 256 || st.Digest != d.Digest || d.ValFraction != 0.1 {
		t.Errorf("state = %+v", st)
	}
	if d2.Digest != d.Digest || len(d.Digest) != 64 {
		t.Errorf("digest depends on the split or is malformed: %q %q", d.Digest, d2.Digest)
	}
	writeFile(t, path, []byte(text[:99]+"X"))
	d3, _ := LoadDataset(path, DataOptions{Ctx: 8})
	if d3.Digest == d.Digest {
		t.Error("digest did not change with the data")
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b.txt"), []byte("BBBB"))
	writeFile(t, filepath.Join(dir, "a", "z.txt"), []byte("AZAZ"))
	writeFile(t, filepath.Join(dir, "a.txt"), []byte("aaaa"))
	writeFile(t, filepath.Join(dir, "c", "d", "e.bin"), []byte("eeee")) // text inside a directory
	if err := os.Symlink(filepath.Join(dir, "b.txt"), filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	d, err := LoadDataset(dir, DataOptions{Ctx: 1, ValFraction: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	// Lexical path order: a/z.txt, a.txt, b.txt, c/d/e.bin; the link is skipped.
	if got := DecodeBytes(d.Train) + DecodeBytes(d.Val); got != "AZAZaaaaBBBBeeee" {
		t.Errorf("directory text = %q", got)
	}
	if _, err := LoadDataset(dir, DataOptions{Ctx: 1, Format: FormatTokens}); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("tokens from a directory: err = %v", err)
	}
	empty := t.TempDir()
	os.Mkdir(filepath.Join(empty, "sub"), 0o755)
	if _, err := LoadDataset(empty, DataOptions{Ctx: 1}); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty directory: err = %v", err)
	}
}

func tokenBytes(toks []uint16) []byte {
	b := make([]byte, 2*len(toks))
	for i, t := range toks {
		binary.LittleEndian.PutUint16(b[2*i:], t)
	}
	return b
}

func TestLoadTokenFile(t *testing.T) {
	dir := t.TempDir()
	toks := make([]uint16, 40)
	for i := range toks {
		toks[i] = uint16(i * 1000)
	}
	bare := filepath.Join(dir, "train.bin")
	writeFile(t, bare, tokenBytes(toks))
	d, err := LoadDataset(bare, DataOptions{Ctx: 3})
	if err != nil {
		t.Fatal(err)
	}
	if d.Vocab != 39001 || len(d.Train) != 36 || d.Val[3] != 39000 {
		t.Errorf("vocab %d, train %d, val %v", d.Vocab, len(d.Train), d.Val)
	}
	// llm.c layout: 256 int32 header (magic, version, count) before the tokens.
	hdr := make([]byte, 1024)
	binary.LittleEndian.PutUint32(hdr[0:], 20240520)
	binary.LittleEndian.PutUint32(hdr[4:], 1)
	binary.LittleEndian.PutUint32(hdr[8:], uint32(len(toks)))
	llmc := filepath.Join(dir, "llmc.bin")
	writeFile(t, llmc, append(hdr, tokenBytes(toks)...))
	d2, err := LoadDataset(llmc, DataOptions{Ctx: 3, Vocab: 50257})
	if err != nil {
		t.Fatal(err)
	}
	if d2.Digest != d.Digest || d2.Vocab != 50257 {
		t.Error("llm.c file did not give the same tokens")
	}
	writeFile(t, llmc, append(hdr, tokenBytes(toks[:39])...))
	if _, err := LoadDataset(llmc, DataOptions{Ctx: 3}); err == nil || !strings.Contains(err.Error(), "promises 40 tokens") {
		t.Errorf("short llm.c file: err = %v", err)
	}
	// Explicit format for another extension.
	other := filepath.Join(dir, "tokens.u16")
	writeFile(t, other, tokenBytes(toks))
	if _, err := LoadDataset(other, DataOptions{Ctx: 3, Format: FormatTokens}); err != nil {
		t.Errorf("explicit tokens format: %v", err)
	}
	// Without the option or the .bin extension, the same bytes are text.
	if d, err := LoadDataset(other, DataOptions{Ctx: 3}); err != nil || len(d.Train)+len(d.Val) != 80 || d.Vocab != 256 {
		t.Errorf("tokens.u16 as text: %v", err)
	}
}

func TestDataErrors(t *testing.T) {
	dir := t.TempDir()
	odd := filepath.Join(dir, "odd.bin")
	writeFile(t, odd, []byte{1, 0, 2})
	big := filepath.Join(dir, "big.bin")
	writeFile(t, big, tokenBytes([]uint16{1, 2, 3, 300, 5, 6, 7, 8, 9, 10}))
	empty := filepath.Join(dir, "empty.txt")
	writeFile(t, empty, nil)
	short := filepath.Join(dir, "short.txt")
	writeFile(t, short, []byte(strings.Repeat("x", 100)))
	cases := []struct {
		path string
		opt  DataOptions
		want string
	}{
		{filepath.Join(dir, "missing.txt"), DataOptions{Ctx: 4}, "no such file"},
		{"", DataOptions{Ctx: 4}, "no path"},
		{odd, DataOptions{Ctx: 4}, "odd number of bytes (3)"},
		{big, DataOptions{Ctx: 2, Vocab: 256}, "token 300 at position 3 is outside the vocabulary of 256"},
		{empty, DataOptions{Ctx: 4}, "is empty"},
		{short, DataOptions{Ctx: 16}, "100 tokens split into 90 for training and 10 for validation (fraction 0.1), but each split needs at least 17 (context 16 + 1); need at least 170 tokens"},
		{short, DataOptions{Ctx: 0}, "context length must be positive"},
		{short, DataOptions{Ctx: 4, ValFraction: 1.5}, "validation fraction"},
		{short, DataOptions{Ctx: 128, ValFraction: 1}, "100 tokens, but a window of context 128 needs at least 129"},
		{short, DataOptions{Ctx: 4, Format: "csv"}, `unknown format "csv"`},
		{short, DataOptions{Ctx: 4, Vocab: 70000}, "vocabulary size 70000"},
	}
	for _, c := range cases {
		_, err := LoadDataset(c.path, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: err = %v, want %q", filepath.Base(c.path), c.opt, err, c.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "data: ") {
			t.Errorf("err = %v, want the data: prefix", err)
		}
	}
}

// TestMinTokens checks the "need at least" figure against brute force.
func TestMinTokens(t *testing.T) {
	for _, need := range []int{2, 17, 257, 1025} {
		for _, frac := range []float64{0.01, 0.1, 0.33, 0.5, 0.9, 0.999} {
			got := minTokens(need, frac)
			ok := func(n int) bool { v := int(float64(n) * frac); return v >= need && n-v >= need }
			if !ok(got) || ok(got-1) {
				t.Errorf("minTokens(%d, %v) = %d is not the least", need, frac, got)
			}
		}
	}
}

func TestUnreadable(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	path := filepath.Join(t.TempDir(), "secret.txt")
	writeFile(t, path, []byte(strings.Repeat("x", 100)))
	os.Chmod(path, 0)
	if _, err := LoadDataset(path, DataOptions{Ctx: 4}); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("err = %v", err)
	}
}

func TestEvalWindows(t *testing.T) {
	toks := make([]uint16, 101)
	for i := range toks {
		toks[i] = uint16(i)
	}
	all := EvalWindows(toks, 10, 100) // (101-1)/10 = 10 windows fit
	if len(all) != 10 {
		t.Fatalf("%d windows, want 10", len(all))
	}
	for i, w := range all {
		if len(w) != 11 || w[0] != uint16(10*i) {
			t.Errorf("window %d = %v", i, w)
		}
	}
	few := EvalWindows(toks, 10, 3)
	if len(few) != 3 || few[0][0] != 0 || few[1][0] != 30 || few[2][0] != 60 {
		t.Errorf("spread windows start at %d %d %d", few[0][0], few[1][0], few[2][0])
	}
	again := EvalWindows(toks, 10, 3)
	for i := range few {
		if &few[i][0] != &again[i][0] {
			t.Error("windows differ between calls")
		}
	}
	if EvalWindows(toks[:10], 10, 5) != nil {
		t.Error("windows from too few tokens")
	}
}
