package shard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// Header layout, after llm.c.
const (
	Magic      = 20240520
	HeaderSize = 256 * 4
	// tokLineAt is where sprout's "tokenizer NAME DIGEST" line starts; llm.c
	// reads only the first three int32s.
	tokLineAt = 512
)

// Header describes a shard.
type Header struct {
	Width  int    // bytes per token: 2 or 4
	Tokens int64  // how many tokens follow the header
	Name   string // the tokenizer's name ("gpt2", "bpe 4096"), "" when unknown
	Digest string // tokenizer.Digest of the tokenizer, "" when unknown
}

// WidthFor is the token width a vocabulary needs: 2 bytes while ids fit
// uint16, 4 beyond.
func WidthFor(vocab int) int {
	if vocab <= 1<<16 {
		return 2
	}
	return 4
}

// Encode returns h as a 1024-byte header.
func (h Header) Encode() ([]byte, error) {
	if h.Width != 2 && h.Width != 4 {
		return nil, fmt.Errorf("shard: token width %d, want 2 or 4", h.Width)
	}
	if h.Tokens < 0 || h.Tokens > math.MaxInt32 {
		return nil, fmt.Errorf("shard: %d tokens do not fit llm.c's int32 count; write several shards", h.Tokens)
	}
	b := make([]byte, HeaderSize)
	binary.LittleEndian.PutUint32(b, Magic)
	binary.LittleEndian.PutUint32(b[4:], uint32(h.Width/2)) // 1: uint16, 2: uint32
	binary.LittleEndian.PutUint32(b[8:], uint32(h.Tokens))
	line := "tokenizer " + strings.ReplaceAll(h.Name, " ", "_") + " " + h.Digest + "\n"
	if strings.ContainsAny(h.Digest, " \n") || len(line) > HeaderSize-tokLineAt {
		return nil, fmt.Errorf("shard: tokenizer name %q or digest %q does not fit the header", h.Name, h.Digest)
	}
	copy(b[tokLineAt:], line)
	return b, nil
}

// Parse reads a shard's header from the start of b (the whole file or at
// least its first 1024 bytes) and the size of the file. A file without
// llm.c's magic is a bare uint16 file (nanoGPT's): Width 2, no tokenizer.
func Parse(b []byte, size int64) (Header, int, error) {
	if len(b) < HeaderSize || binary.LittleEndian.Uint32(b) != Magic {
		if size%2 != 0 {
			return Header{}, 0, fmt.Errorf("token file has an odd number of bytes (%d); want little-endian uint16 tokens", size)
		}
		return Header{Width: 2, Tokens: size / 2}, 0, nil
	}
	var h Header
	switch v := binary.LittleEndian.Uint32(b[4:]); v {
	case 1:
		h.Width = 2
	case 2:
		h.Width = 4
	default:
		return Header{}, 0, fmt.Errorf("token file header has version %d; want 1 (uint16 tokens) or 2 (uint32)", v)
	}
	h.Tokens = int64(binary.LittleEndian.Uint32(b[8:]))
	if want := HeaderSize + int64(h.Width)*h.Tokens; size != want {
		return Header{}, 0, fmt.Errorf("llm.c token file header promises %d tokens (%d bytes) but %d bytes follow it", h.Tokens, int64(h.Width)*h.Tokens, size-HeaderSize)
	}
	if line, ok := strings.CutPrefix(string(b[tokLineAt:HeaderSize]), "tokenizer "); ok {
		line, _, _ = strings.Cut(line, "\n")
		name, digest, _ := strings.Cut(line, " ")
		h.Name, h.Digest = strings.ReplaceAll(name, "_", " "), digest
	}
	return h, HeaderSize, nil
}

// Writer streams tokens into a shard: a header, then the tokens; Close
// writes the count into the header.
type Writer struct {
	w   io.WriteSeeker
	h   Header
	buf []byte
}

// NewWriter writes a provisional header to w.
func NewWriter(w io.WriteSeeker, h Header) (*Writer, error) {
	h.Tokens = 0
	b, err := h.Encode()
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	return &Writer{w: w, h: h}, nil
}

// Write appends ids; an id too wide for the shard is an error.
func (w *Writer) Write(ids []uint32) error {
	w.buf = w.buf[:0]
	for _, id := range ids {
		if w.h.Width == 2 {
			if id > math.MaxUint16 {
				return fmt.Errorf("shard: id %d does not fit a uint16 shard", id)
			}
			w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(id))
		} else {
			w.buf = binary.LittleEndian.AppendUint32(w.buf, id)
		}
	}
	if _, err := w.w.Write(w.buf); err != nil {
		return err
	}
	w.h.Tokens += int64(len(ids))
	return nil
}

// Tokens is how many tokens were written.
func (w *Writer) Tokens() int64 { return w.h.Tokens }

// Close rewrites the header with the final count.
func (w *Writer) Close() error {
	b, err := w.h.Encode()
	if err != nil {
		return err
	}
	if _, err := w.w.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err = w.w.Write(b)
	return err
}

// Decode returns the tokens of a whole shard file.
func Decode(b []byte) (Header, []uint32, error) {
	h, off, err := Parse(b, int64(len(b)))
	if err != nil {
		return h, nil, err
	}
	body := b[off:]
	if len(body) == 0 {
		return h, nil, errors.New("token file holds no tokens")
	}
	out := make([]uint32, len(body)/h.Width)
	if h.Width == 2 {
		for i := range out {
			out[i] = uint32(binary.LittleEndian.Uint16(body[2*i:]))
		}
	} else {
		for i := range out {
			out[i] = binary.LittleEndian.Uint32(body[4*i:])
		}
	}
	return h, out, nil
}
