package tokenizer

import (
	"bytes"
	"fmt"
	"sort"
)

// Tokenizer turns text into token ids and back.
//
// Encode never produces a special token: a special token's text in the input
// is encoded as ordinary text, so data cannot forge control tokens.
// EncodeSpecial is the one way to get them.
type Tokenizer interface {
	// Encode appends the ids of text to dst and returns it.
	Encode(dst []uint32, text []byte) []uint32
	// EncodeSpecial is Encode, except that the special tokens' texts
	// become their ids.
	EncodeSpecial(dst []uint32, text []byte) []uint32
	// Decode appends the bytes of ids to dst. An id outside the
	// vocabulary is an error.
	Decode(dst []byte, ids []uint32) ([]byte, error)
	// VocabSize is one more than the largest id.
	VocabSize() int
	// Special maps each special token's text to its id.
	Special() map[string]uint32
	// Name says what the tokenizer is, for messages ("bytes", "gpt2",
	// "bpe 4096").
	Name() string
}

// Bytes is the byte-level tokenizer sprout has always used: byte b is id b.
type Bytes struct{}

// Encode appends one id per byte.
func (Bytes) Encode(dst []uint32, text []byte) []uint32 {
	for _, c := range text {
		dst = append(dst, uint32(c))
	}
	return dst
}

// EncodeSpecial is Encode: the byte-level tokenizer has no special tokens.
func (b Bytes) EncodeSpecial(dst []uint32, text []byte) []uint32 { return b.Encode(dst, text) }

// Decode appends byte id for each id.
func (Bytes) Decode(dst []byte, ids []uint32) ([]byte, error) {
	for i, id := range ids {
		if id >= 256 {
			return dst, fmt.Errorf("tokenizer: id %d at position %d is outside the byte vocabulary of 256", id, i)
		}
		dst = append(dst, byte(id))
	}
	return dst, nil
}

// VocabSize is 256.
func (Bytes) VocabSize() int { return 256 }

// Special is empty.
func (Bytes) Special() map[string]uint32 { return map[string]uint32{} }

// Name is "bytes".
func (Bytes) Name() string { return "bytes" }

// specialSplitter finds special tokens' texts in text, longest first where
// two start at the same place.
type specialSplitter struct {
	texts [][]byte // longest first
	ids   []uint32
}

func newSpecialSplitter(special map[string]uint32) specialSplitter {
	var texts []string
	for t := range special {
		if t != "" {
			texts = append(texts, t)
		}
	}
	sort.Slice(texts, func(i, j int) bool {
		if len(texts[i]) != len(texts[j]) {
			return len(texts[i]) > len(texts[j])
		}
		return texts[i] < texts[j]
	})
	var s specialSplitter
	for _, t := range texts {
		s.texts = append(s.texts, []byte(t))
		s.ids = append(s.ids, special[t])
	}
	return s
}

// next returns the first special token in text at or after 0: its start,
// its length and its id; start is -1 when there is none.
func (s *specialSplitter) next(text []byte) (start, n int, id uint32) {
	start = -1
	for i, t := range s.texts {
		k := bytes.Index(text, t)
		if k >= 0 && (start < 0 || k < start) {
			start, n, id = k, len(t), s.ids[i]
		}
	}
	return start, n, id
}

// encodeSpecial splits text at special tokens and encodes the pieces
// between them with plain.
func (s *specialSplitter) encodeSpecial(dst []uint32, text []byte, plain func([]uint32, []byte) []uint32) []uint32 {
	for len(text) > 0 {
		k, n, id := s.next(text)
		if k < 0 {
			return plain(dst, text)
		}
		dst = plain(dst, text[:k])
		dst = append(dst, id)
		text = text[k+n:]
	}
	return dst
}
