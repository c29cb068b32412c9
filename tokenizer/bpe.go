package tokenizer

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// BPE is a byte-level byte-pair-encoding tokenizer: text is cut into
// pre-tokens by a pattern, each pre-token's bytes start as single-byte
// tokens, and the adjacent pair of lowest rank merges until no pair has a
// rank.
type BPE struct {
	name    string
	bytes   []byte   // every token's bytes, concatenated
	offs    []uint32 // token id's bytes are bytes[offs[id]:offs[id+1]]
	present []bool   // ids that are tokens (tokenizer.json may skip some)
	byteID  [256]uint32
	pairs   pairTable
	merges  [][2]uint32 // by rank; nil for a rank file, derived on demand
	whole   map[string]uint32
	special map[string]uint32
	isSpec  map[uint32]bool
	specs   specialSplitter
	split   splitter
	next    func(t []byte, i int) int // the hand-rolled splitter, when there is one

	wholeFirst bool
}

// Spec describes a byte-level BPE vocabulary.
type Spec struct {
	Name string
	// Tokens holds each id's bytes (raw bytes, not byte-level text); nil
	// marks an id that is not a token.
	Tokens [][]byte
	// Merges lists the merges by priority, each a pair of ids whose
	// concatenation is a token (Hugging Face's and GPT-2's merges.txt). Nil
	// means tiktoken's rule: two adjacent parts merge when their
	// concatenation is a token, lowest id first.
	Merges [][2]uint32
	// Special maps special tokens' texts to their ids, which must be in
	// Tokens (with the text as bytes).
	Special map[string]uint32
	// Pattern is the pre-tokenization pattern.
	Pattern string
	// WholeFirst looks a pre-token up whole before merging (tiktoken, and
	// Hugging Face's ignore_merges). Without it a whole lookup is still
	// used, for the tokens that merging their own bytes gives back.
	WholeFirst bool
}

const noRank = math.MaxUint32

// New builds a BPE tokenizer from s.
func New(s Spec) (*BPE, error) {
	if len(s.Tokens) == 0 {
		return nil, errors.New("tokenizer: empty vocabulary")
	}
	if len(s.Tokens) > math.MaxUint32-1 {
		return nil, fmt.Errorf("tokenizer: vocabulary of %d tokens is too large", len(s.Tokens))
	}
	split, err := newSplitter(s.Pattern)
	if err != nil {
		return nil, err
	}
	t := &BPE{name: s.Name, split: split, special: map[string]uint32{}, isSpec: map[uint32]bool{}, wholeFirst: s.WholeFirst}
	switch split.(type) {
	case gpt2Splitter:
		t.next = gpt2Next
	case llama3Splitter:
		t.next = llama3Next
	}
	t.offs = make([]uint32, len(s.Tokens)+1)
	t.present = make([]bool, len(s.Tokens))
	ids := make(map[string]uint32, len(s.Tokens))
	for id, b := range s.Tokens {
		t.offs[id] = uint32(len(t.bytes))
		if b == nil {
			continue
		}
		if len(b) == 0 {
			return nil, fmt.Errorf("tokenizer: token %d is empty", id)
		}
		t.present[id] = true
		t.bytes = append(t.bytes, b...)
		if _, dup := ids[string(b)]; !dup {
			ids[string(b)] = uint32(id)
		}
	}
	t.offs[len(s.Tokens)] = uint32(len(t.bytes))
	for text, id := range s.Special {
		if int(id) >= len(s.Tokens) || string(t.Token(id)) != text {
			return nil, fmt.Errorf("tokenizer: special token %q (id %d) is not in the vocabulary", text, id)
		}
		t.special[text] = id
		t.isSpec[id] = true
	}
	t.specs = newSpecialSplitter(t.special)
	for b := range 256 {
		id, ok := ids[string([]byte{byte(b)})]
		if !ok || t.isSpec[id] {
			return nil, fmt.Errorf("tokenizer: the vocabulary has no token for byte 0x%02x; byte-level BPE needs all 256", b)
		}
		t.byteID[b] = id
	}
	if s.Merges != nil {
		t.merges = s.Merges
		t.pairs = newPairTable(len(s.Merges))
		for r, m := range s.Merges {
			if int(m[0]) >= len(s.Tokens) || int(m[1]) >= len(s.Tokens) || !t.present[m[0]] || !t.present[m[1]] {
				return nil, fmt.Errorf("tokenizer: merge %d (%d, %d) names an id that is not a token", r, m[0], m[1])
			}
			joined := string(t.Token(m[0])) + string(t.Token(m[1]))
			id, ok := ids[joined]
			if !ok {
				return nil, fmt.Errorf("tokenizer: merge %d gives %q, which is not in the vocabulary", r, joined)
			}
			t.pairs.putFirst(m[0], m[1], uint32(r), id)
		}
	} else {
		// Every way to cut every token in two is a pair, ranked by the
		// token's id: tiktoken's rule exactly.
		n := 0
		for _, b := range s.Tokens {
			n += max(len(b)-1, 0)
		}
		t.pairs = newPairTable(n)
		for id, b := range s.Tokens {
			if b == nil || t.isSpec[uint32(id)] {
				continue
			}
			for k := 1; k < len(b); k++ {
				l, okl := ids[string(b[:k])]
				r, okr := ids[string(b[k:])]
				if okl && okr {
					t.pairs.putFirst(l, r, uint32(id), uint32(id))
				}
			}
		}
	}
	t.whole = make(map[string]uint32, len(ids))
	var buf []uint32
	for text, id := range ids {
		if t.isSpec[id] {
			continue
		}
		if !t.wholeFirst {
			buf = t.merge(buf[:0], []byte(text), noRank)
			if len(buf) != 1 || buf[0] != id {
				continue
			}
		}
		t.whole[text] = id
	}
	return t, nil
}

// Name says which vocabulary this is.
func (t *BPE) Name() string { return t.name }

// VocabSize is one more than the largest id.
func (t *BPE) VocabSize() int { return len(t.present) }

// Special maps special tokens' texts to their ids.
func (t *BPE) Special() map[string]uint32 {
	m := make(map[string]uint32, len(t.special))
	for k, v := range t.special {
		m[k] = v
	}
	return m
}

// IsSpecial reports whether id is a special token.
func (t *BPE) IsSpecial(id uint32) bool { return t.isSpec[id] }

// Pattern is the pre-tokenization pattern.
func (t *BPE) Pattern() string { return t.split.pattern() }

// Token returns id's bytes, nil for an id that is not a token.
func (t *BPE) Token(id uint32) []byte {
	if int(id) >= len(t.present) || !t.present[id] {
		return nil
	}
	return t.bytes[t.offs[id]:t.offs[id+1]:t.offs[id+1]]
}

// Encode appends the ids of text, special tokens' texts included as plain
// text.
func (t *BPE) Encode(dst []uint32, text []byte) []uint32 {
	if t.next != nil {
		for i := 0; i < len(text); {
			j := t.next(text, i)
			dst = t.encodePiece(dst, text[i:j])
			i = j
		}
		return dst
	}
	ends := t.split.split(nil, text)
	i := 0
	for _, j := range ends {
		dst = t.encodePiece(dst, text[i:j])
		i = j
	}
	return dst
}

// EncodeSpecial is Encode with special tokens' texts as their ids.
func (t *BPE) EncodeSpecial(dst []uint32, text []byte) []uint32 {
	return t.specs.encodeSpecial(dst, text, t.Encode)
}

// Decode appends the bytes of ids.
func (t *BPE) Decode(dst []byte, ids []uint32) ([]byte, error) {
	for i, id := range ids {
		if int(id) >= len(t.present) || !t.present[id] {
			return dst, fmt.Errorf("tokenizer: id %d at position %d is not in the %s vocabulary of %d", id, i, t.name, len(t.present))
		}
		dst = append(dst, t.bytes[t.offs[id]:t.offs[id+1]]...)
	}
	return dst, nil
}

func (t *BPE) encodePiece(dst []uint32, p []byte) []uint32 {
	if len(p) == 1 {
		return append(dst, t.byteID[p[0]])
	}
	if id, ok := t.whole[string(p)]; ok {
		return append(dst, id)
	}
	return t.merge(dst, p, noRank)
}

// shortPiece is the longest pre-token merged by scanning for the lowest
// rank; longer ones use a heap.
const shortPiece = 64

// merge appends p's tokens, merging only pairs of rank below limit.
func (t *BPE) merge(dst []uint32, p []byte, limit uint32) []uint32 {
	if len(p) > shortPiece {
		return t.mergeLong(dst, p, limit)
	}
	var idBuf, rankBuf, nextBuf [shortPiece]uint32
	n := len(p)
	ids, ranks, nexts := idBuf[:n], rankBuf[:n-1], nextBuf[:n-1]
	for i, c := range p {
		ids[i] = t.byteID[c]
	}
	for i := range ranks {
		ranks[i], nexts[i] = t.pairs.get(ids[i], ids[i+1], limit)
	}
	for len(ranks) > 0 {
		best, bi := uint32(noRank), -1
		for i, r := range ranks {
			if r < best {
				best, bi = r, i
			}
		}
		if bi < 0 {
			break
		}
		ids[bi] = nexts[bi]
		ids = append(ids[:bi+1], ids[bi+2:]...)
		ranks = append(ranks[:bi], ranks[bi+1:]...)
		nexts = append(nexts[:bi], nexts[bi+1:]...)
		if bi < len(ranks) {
			ranks[bi], nexts[bi] = t.pairs.get(ids[bi], ids[bi+1], limit)
		}
		if bi > 0 {
			ranks[bi-1], nexts[bi-1] = t.pairs.get(ids[bi-1], ids[bi], limit)
		}
	}
	return append(dst, ids...)
}

// mergeLong is merge for long pre-tokens (whitespace runs, long numbers):
// a linked list of parts and a heap of candidate pairs, so a pre-token of n
// bytes takes O(n log n), not O(n²).
func (t *BPE) mergeLong(dst []uint32, p []byte, limit uint32) []uint32 {
	n := len(p)
	ids := make([]uint32, n)
	next := make([]int32, n)
	prev := make([]int32, n)
	for i, c := range p {
		ids[i], next[i], prev[i] = t.byteID[c], int32(i+1), int32(i-1)
	}
	next[n-1] = -1
	h := pairHeap{}
	push := func(i int32) {
		j := next[i]
		if j < 0 {
			return
		}
		if r, id := t.pairs.get(ids[i], ids[j], limit); r != noRank {
			h.push(heapPair{rank: r, pos: i, left: ids[i], right: ids[j], id: id})
		}
	}
	for i := range int32(n - 1) {
		push(i)
	}
	const dead = math.MaxUint32
	for len(h) > 0 {
		e := h.pop()
		i := e.pos
		j := next[i]
		if ids[i] != e.left || j < 0 || ids[j] != e.right {
			continue // stale: a part of the pair merged since
		}
		ids[i] = e.id
		ids[j] = dead
		next[i] = next[j]
		if next[j] >= 0 {
			prev[next[j]] = i
		}
		if prev[i] >= 0 {
			push(prev[i])
		}
		push(i)
	}
	for i := int32(0); i >= 0; i = next[i] {
		dst = append(dst, ids[i])
	}
	return dst
}

type heapPair struct {
	rank, left, right, id uint32
	pos                   int32
}

func (a heapPair) less(b heapPair) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

// pairHeap is a binary min-heap by (rank, position): the leftmost of equal
// ranks merges first, as in tiktoken and Hugging Face.
type pairHeap []heapPair

func (h *pairHeap) push(e heapPair) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].less(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *pairHeap) pop() heapPair {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(s) && s[l].less(s[m]) {
			m = l
		}
		if r := l + 1; r < len(s) && s[r].less(s[m]) {
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

// Merges returns the merges by priority, each a pair of ids. For a
// vocabulary from a rank file they are derived as Hugging Face's converter
// does: each token of two or more bytes is the merge of the two parts that
// merging its bytes with lower ranks leaves.
func (t *BPE) Merges() ([][2]uint32, error) {
	if t.merges != nil {
		return t.merges, nil
	}
	type ranked struct{ rank, id uint32 }
	var order []ranked
	for id := range t.present {
		if t.present[id] && !t.isSpec[uint32(id)] && len(t.Token(uint32(id))) >= 2 {
			order = append(order, ranked{uint32(id), uint32(id)})
		}
	}
	sort.Slice(order, func(i, j int) bool { return order[i].rank < order[j].rank })
	out := make([][2]uint32, 0, len(order))
	var buf []uint32
	for _, o := range order {
		buf = t.merge(buf[:0], t.Token(o.id), o.rank)
		if len(buf) != 2 {
			return nil, fmt.Errorf("tokenizer: token %d (%q) is not the merge of two lower-ranked tokens", o.id, t.Token(o.id))
		}
		out = append(out, [2]uint32{buf[0], buf[1]})
	}
	return out, nil
}

// pairTable maps a pair of ids to the merge's rank and the merged id: open
// addressing on one 64-bit key, faster than a Go map on the hot path.
type pairTable struct {
	keys []uint64
	vals []uint64 // rank<<32 | id
	mask uint64
}

const emptyKey = math.MaxUint64

func newPairTable(n int) pairTable {
	size := 16
	for size < 2*n {
		size *= 2
	}
	t := pairTable{keys: make([]uint64, size), vals: make([]uint64, size), mask: uint64(size - 1)}
	for i := range t.keys {
		t.keys[i] = emptyKey
	}
	return t
}

func pairHash(k uint64) uint64 {
	k *= 0x9E3779B97F4A7C15
	return k ^ k>>31
}

// putFirst records a pair unless it is already there.
func (t *pairTable) putFirst(a, b, rank, id uint32) {
	k := uint64(a)<<32 | uint64(b)
	for i := pairHash(k) & t.mask; ; i = (i + 1) & t.mask {
		switch t.keys[i] {
		case k:
			return
		case emptyKey:
			t.keys[i], t.vals[i] = k, uint64(rank)<<32|uint64(id)
			return
		}
	}
}

// get returns the rank and merged id of (a, b), or noRank when the pair
// does not merge or its rank is not below limit.
func (t *pairTable) get(a, b, limit uint32) (rank, id uint32) {
	k := uint64(a)<<32 | uint64(b)
	for i := pairHash(k) & t.mask; ; i = (i + 1) & t.mask {
		switch t.keys[i] {
		case k:
			v := t.vals[i]
			if r := uint32(v >> 32); r < limit {
				return r, uint32(v)
			}
			return noRank, 0
		case emptyKey:
			return noRank, 0
		}
	}
}
