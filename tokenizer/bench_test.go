package tokenizer

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
)

// benchText is up to 3 MB of Go source from GOROOT, in path order: the
// text the tiktoken figure was measured on.
func benchText(b *testing.B) []byte {
	b.Helper()
	var paths []string
	filepath.WalkDir(filepath.Join(runtime.GOROOT(), "src"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".go" {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	var buf bytes.Buffer
	for _, p := range paths {
		if buf.Len() >= 3<<20 {
			break
		}
		if data, err := os.ReadFile(p); err == nil {
			buf.Write(data)
		}
	}
	if buf.Len() == 0 {
		b.Skip("no Go source under GOROOT to encode")
	}
	return buf.Bytes()
}

func benchEncode(b *testing.B, tok Tokenizer) {
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	var ids []uint32
	for b.Loop() {
		ids = tok.Encode(ids[:0], text)
	}
}

// GPT-2 encoding with the hand-rolled splitter (sprout's path).
func BenchmarkEncodeGPT2(b *testing.B) { benchEncode(b, gpt2(b)) }

// The same with regexp2 running GPT-2's pattern.
func BenchmarkEncodeGPT2Regexp2(b *testing.B) {
	g := *gpt2(b)
	re, _ := newRegexpSplitter(PatternGPT2)
	g.split, g.next = re, nil
	benchEncode(b, &g)
}

// Pre-tokenization alone: hand-rolled, then regexp2.
func BenchmarkSplitGPT2(b *testing.B) {
	text := benchText(b)
	for _, s := range []struct {
		name string
		sp   splitter
	}{{"hand", gpt2Splitter{}}, {"regexp2", must(newRegexpSplitter(PatternGPT2))}} {
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			var ends []int
			for b.Loop() {
				ends = s.sp.split(ends[:0], text)
			}
		})
	}
}

func BenchmarkEncodeGPT2Parallel(b *testing.B) {
	g := gpt2(b)
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		EncodeParallel(g, text, 0, false)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
