package tokenizer

import (
	"runtime"
	"sync"
)

// Cut returns the end of the first chunk of text at least n bytes long
// whose end is a pre-token boundary: just after a line break that a
// printable ASCII byte precedes and another follows (a lone line break
// between text: a longer whitespace run gives its last rune to the word
// after it). Neither the GPT-2 nor the LLaMA-3 pattern matches across such
// a place, so chunks encode independently to the same ids as the whole.
// With no such place after n it returns len(text).
func Cut(text []byte, n int) int {
	for i := max(n, 2); i < len(text); i++ {
		if safeCut(text, i) {
			return i
		}
	}
	return len(text)
}

// LastCut is the last place Cut could return in text, or 0.
func LastCut(text []byte) int {
	for i := len(text) - 1; i >= 2; i-- {
		if safeCut(text, i) {
			return i
		}
	}
	return 0
}

func safeCut(t []byte, i int) bool {
	return t[i-1] == '\n' && t[i] > ' ' && t[i] < 0x7f && t[i-2] > ' ' && t[i-2] < 0x7f
}

// chunkSize is the text each worker encodes at a time.
const chunkSize = 256 << 10

// EncodeParallel encodes text on workers goroutines (0: one per core) and
// returns the same ids as tok.Encode, or tok.EncodeSpecial with special.
func EncodeParallel(tok Tokenizer, text []byte, workers int, special bool) []uint32 {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	enc := tok.Encode
	if special {
		enc = tok.EncodeSpecial
	}
	var chunks [][]byte
	for len(text) > 0 {
		k := Cut(text, chunkSize)
		chunks = append(chunks, text[:k])
		text = text[k:]
	}
	if workers == 1 || len(chunks) == 1 {
		var out []uint32
		for _, c := range chunks {
			out = enc(out, c)
		}
		return out
	}
	outs := make([][]uint32, len(chunks))
	var wg sync.WaitGroup
	next := make(chan int, len(chunks))
	for i := range chunks {
		next <- i
	}
	close(next)
	for range min(workers, len(chunks)) {
		wg.Go(func() {
			for i := range next {
				outs[i] = enc(make([]uint32, 0, len(chunks[i])/3), chunks[i])
			}
		})
	}
	wg.Wait()
	n := 0
	for _, o := range outs {
		n += len(o)
	}
	out := make([]uint32, 0, n)
	for _, o := range outs {
		out = append(out, o...)
	}
	return out
}
