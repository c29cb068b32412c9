package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"testing"
	"unicode/utf8"

	tiktoken "github.com/pkoukk/tiktoken-go"

	"github.com/sproutml/sprout/tokenizer"
)

// ranksLoader hands tiktoken-go GPT-2's ranks from sprout's embedded copy
// (tiktoken-go's offline loader ships the same file, r50k_base), so the
// comparison needs no network.
type ranksLoader struct{}

func (ranksLoader) LoadTiktokenBpe(string) (map[string]int, error) {
	g, err := tokenizer.GPT2()
	if err != nil {
		return nil, err
	}
	m := make(map[string]int, 50256)
	for id := range uint32(50256) {
		m[string(g.Token(id))] = int(id)
	}
	return m, nil
}

func tiktokenGPT2(tb testing.TB) *tiktoken.Tiktoken {
	tb.Helper()
	tiktoken.SetBpeLoader(ranksLoader{})
	t, err := tiktoken.GetEncoding("r50k_base") // GPT-2's ranks and pattern
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// goSource is up to n bytes of Go source from GOROOT, in path order.
func goSource(tb testing.TB, n int) []byte {
	tb.Helper()
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
		if buf.Len() >= n {
			break
		}
		if data, err := os.ReadFile(p); err == nil {
			buf.Write(data)
		}
	}
	if buf.Len() == 0 {
		tb.Skip("no Go source under GOROOT")
	}
	return buf.Bytes()
}

// tiktoken-go agrees with sprout (and so with npm tiktoken) on valid UTF-8;
// on invalid UTF-8 it works on runes, so the bad bytes come back as U+FFFD.
func TestTiktokenGoAgrees(t *testing.T) {
	g, err := tokenizer.GPT2()
	if err != nil {
		t.Fatal(err)
	}
	tk := tiktokenGPT2(t)
	b, err := os.ReadFile("../tokenizer/testdata/gpt2_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Text string `json:"text"`
	}
	json.Unmarshal(b, &cases)
	texts := [][]byte{goSource(t, 200<<10)}
	for _, c := range cases {
		texts = append(texts, []byte(c.Text))
	}
	for _, text := range texts {
		want := g.Encode(nil, text)
		got := tk.EncodeOrdinary(string(text))
		if len(got) != len(want) || !slices.EqualFunc(got, want, func(a int, b uint32) bool { return a == int(b) }) {
			t.Errorf("%.40q: tiktoken-go %d ids, sprout %d", text, len(got), len(want))
		}
	}
	bad := "a\xffb"
	if back := tk.Decode(tk.EncodeOrdinary(bad)); back == bad || !utf8.ValidString(back) {
		t.Errorf("tiktoken-go round-tripped %q as %q; the package doc says it cannot", bad, back)
	}
}

// BenchmarkTokenize encodes 1 MB of Go source as GPT-2 tokens with sprout
// and with tiktoken-go, on one goroutine. Run:
//
//	go test -run '^$' -bench Tokenize ./bench/
func BenchmarkTokenize(b *testing.B) {
	text := goSource(b, 1<<20)
	g, err := tokenizer.GPT2()
	if err != nil {
		b.Fatal(err)
	}
	tk := tiktokenGPT2(b)
	s := string(text)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"sprout", func() { g.Encode(nil, text) }},
		{"tiktoken-go", func() { tk.EncodeOrdinary(s) }},
	} {
		b.Run(fmt.Sprintf("%s/%dKB", c.name, len(text)>>10), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				c.f()
			}
		})
	}
}
