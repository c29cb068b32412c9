package tokenizer

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
)

// TrainOptions says what vocabulary Train learns.
type TrainOptions struct {
	// Vocab is the vocabulary size to reach: 256 bytes, the merges and the
	// special tokens.
	Vocab int
	// Special lists the special tokens, given the last ids. Nil means
	// <|endoftext|> alone.
	Special []string
	// Pattern is the pre-tokenization pattern; "" is GPT-2's.
	Pattern string
	// MinCount is the fewest occurrences a pair needs to merge; 0 means 2.
	MinCount int
	// Workers counts and pre-tokenizes in parallel; 0 is one per core.
	Workers int
	// Progress, when set, is called now and then with the merges made and
	// the merges wanted.
	Progress func(done, want int)
}

// Train learns a byte-level BPE vocabulary from text, GPT-2's way: byte b
// is id b, text is pre-tokenized by the pattern (no merge crosses a
// pre-token), and each step merges the most frequent adjacent pair (ties:
// the smaller pair of ids), keeping pair counts up to date incrementally
// from the words each merge touches. Counting runs on all workers; the
// merges themselves are sequential.
func Train(text []byte, opt TrainOptions) (*BPE, error) {
	special := opt.Special
	if special == nil {
		special = []string{EndOfText}
	}
	pattern := opt.Pattern
	if pattern == "" {
		pattern = PatternGPT2
	}
	if opt.Vocab < 256+len(special) {
		return nil, fmt.Errorf("tokenizer: --vocab %d is below the %d bytes and special tokens", opt.Vocab, 256+len(special))
	}
	if len(text) == 0 {
		return nil, errors.New("tokenizer: no text to train on")
	}
	split, err := newSplitter(pattern)
	if err != nil {
		return nil, err
	}
	minCount := int64(opt.MinCount)
	if minCount <= 0 {
		minCount = 2
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	words, counts := countWords(text, split, workers)

	tokens := make([][]byte, 256, opt.Vocab)
	for b := range tokens {
		tokens[b] = []byte{byte(b)}
	}
	tr := newTrainer(words, counts, workers)
	want := opt.Vocab - 256 - len(special)
	var merges [][2]uint32
	for len(merges) < want {
		pair, n := tr.best()
		if n < minCount {
			break
		}
		a, b := uint32(pair>>32), uint32(pair)
		id := uint32(len(tokens))
		tokens = append(tokens, append(append([]byte(nil), tokens[a]...), tokens[b]...))
		merges = append(merges, [2]uint32{a, b})
		tr.merge(pair, id)
		if opt.Progress != nil && (len(merges)%256 == 0 || len(merges) == want) {
			opt.Progress(len(merges), want)
		}
	}
	specials := map[string]uint32{}
	for _, s := range special {
		if _, dup := specials[s]; dup || s == "" {
			return nil, fmt.Errorf("tokenizer: special token %q is empty or given twice", s)
		}
		specials[s] = uint32(len(tokens))
		tokens = append(tokens, []byte(s))
	}
	return New(Spec{Name: fmt.Sprintf("bpe %d", len(tokens)), Tokens: tokens, Merges: merges, Special: specials, Pattern: pattern})
}

// countWords pre-tokenizes text on workers goroutines and returns each
// distinct pre-token once, as byte ids, with how often it occurs.
func countWords(text []byte, split splitter, workers int) ([][]uint32, []int64) {
	var chunks [][]byte
	for len(text) > 0 {
		k := Cut(text, 1<<20)
		chunks = append(chunks, text[:k])
		text = text[k:]
	}
	maps := make([]map[string]int64, workers)
	var wg sync.WaitGroup
	next := make(chan []byte, len(chunks))
	for _, c := range chunks {
		next <- c
	}
	close(next)
	for w := range maps {
		m := map[string]int64{}
		maps[w] = m
		wg.Go(func() {
			var ends []int
			for c := range next {
				ends = split.split(ends[:0], c)
				i := 0
				for _, j := range ends {
					m[string(c[i:j])]++
					i = j
				}
			}
		})
	}
	wg.Wait()
	all := maps[0]
	for _, m := range maps[1:] {
		for k, v := range m {
			all[k] += v
		}
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same words in the same order every run
	words := make([][]uint32, len(keys))
	counts := make([]int64, len(keys))
	for i, k := range keys {
		w := make([]uint32, len(k))
		for j := range len(k) {
			w[j] = uint32(k[j])
		}
		words[i], counts[i] = w, all[k]
	}
	return words, counts
}

// trainer holds the pair counts, which words hold each pair, and a
// max-heap of pairs by count whose stale entries are fixed when popped.
type trainer struct {
	words  [][]uint32
	counts []int64
	pairs  map[uint64]int64
	where  map[uint64][]int32
	heap   countHeap
	seen   []uint32 // the merge that last visited each word
	step   uint32
}

func pairKey(a, b uint32) uint64 { return uint64(a)<<32 | uint64(b) }

func newTrainer(words [][]uint32, counts []int64, workers int) *trainer {
	t := &trainer{words: words, counts: counts, seen: make([]uint32, len(words))}
	// Count the pairs of each share of the words in parallel, then add.
	type part struct {
		pairs map[uint64]int64
		where map[uint64][]int32
	}
	parts := make([]part, workers)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			pc, wh := map[uint64]int64{}, map[uint64][]int32{}
			for i := p; i < len(words); i += workers {
				w := words[i]
				for j := 0; j+1 < len(w); j++ {
					k := pairKey(w[j], w[j+1])
					pc[k] += counts[i]
					if l := wh[k]; len(l) == 0 || l[len(l)-1] != int32(i) {
						wh[k] = append(l, int32(i))
					}
				}
			}
			parts[p] = part{pc, wh}
		})
	}
	wg.Wait()
	t.pairs, t.where = parts[0].pairs, parts[0].where
	for _, p := range parts[1:] {
		for k, v := range p.pairs {
			t.pairs[k] += v
		}
		for k, v := range p.where {
			t.where[k] = append(t.where[k], v...)
		}
	}
	for k, v := range t.pairs {
		t.heap.push(countEntry{v, k})
	}
	return t
}

// best returns the most frequent pair and its count (0 when none is left).
func (t *trainer) best() (uint64, int64) {
	for len(t.heap) > 0 {
		e := t.heap.pop()
		cur := t.pairs[e.pair]
		if cur == e.count {
			return e.pair, cur
		}
		if cur > 0 {
			t.heap.push(countEntry{cur, e.pair})
		}
	}
	return 0, 0
}

// merge replaces pair by id in every word that holds it and updates the
// counts of the pairs around each replacement.
func (t *trainer) merge(pair uint64, id uint32) {
	t.step++
	a, b := uint32(pair>>32), uint32(pair)
	changed := map[uint64]bool{}
	for _, wi := range t.where[pair] {
		if t.seen[wi] == t.step {
			continue
		}
		t.seen[wi] = t.step
		w, c := t.words[wi], t.counts[wi]
		out := w[:0]
		for j := 0; j < len(w); j++ {
			if j+1 < len(w) && w[j] == a && w[j+1] == b {
				// x a b y becomes x id y.
				if len(out) > 0 {
					x := out[len(out)-1]
					if x != id {
						t.pairs[pairKey(x, a)] -= c
						changed[pairKey(x, a)] = true
					} // else the match before took (b, a) away already
					t.pairs[pairKey(x, id)] += c
					changed[pairKey(x, id)] = true
					t.note(pairKey(x, id), wi)
				}
				if j+2 < len(w) {
					y := w[j+2]
					if !(y == a && j+3 < len(w) && w[j+3] == b) {
						// When y starts the next match, that merge
						// counts (id, id) instead.
						t.pairs[pairKey(b, y)] -= c
						t.pairs[pairKey(id, y)] += c
						changed[pairKey(b, y)], changed[pairKey(id, y)] = true, true
						t.note(pairKey(id, y), wi)
					} else {
						t.pairs[pairKey(b, y)] -= c // (id, id) comes with the next match
						changed[pairKey(b, y)] = true
					}
				}
				t.pairs[pair] -= c
				out = append(out, id)
				j++
				continue
			}
			out = append(out, w[j])
		}
		t.words[wi] = out
	}
	delete(t.where, pair)
	delete(t.pairs, pair)
	for k := range changed {
		if k == pair {
			continue
		}
		if n := t.pairs[k]; n > 0 {
			t.heap.push(countEntry{n, k})
		} else {
			delete(t.pairs, k)
		}
	}
}

func (t *trainer) note(k uint64, wi int32) {
	if l := t.where[k]; len(l) == 0 || l[len(l)-1] != wi {
		t.where[k] = append(l, wi)
	}
}

type countEntry struct {
	count int64
	pair  uint64
}

// before: the larger count first, then the smaller pair.
func (a countEntry) before(b countEntry) bool {
	return a.count > b.count || (a.count == b.count && a.pair < b.pair)
}

type countHeap []countEntry

func (h *countHeap) push(e countEntry) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].before(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *countHeap) pop() countEntry {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(s) && s[l].before(s[m]) {
			m = l
		}
		if r := l + 1; r < len(s) && s[r].before(s[m]) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
