package tokenizer

import (
	"fmt"
	"unicode/utf8"
)

// GPT-2 stores byte-level tokens as text: each byte becomes a printable
// rune (bytes_to_unicode in OpenAI's encoder.py), so vocab.json, merges.txt
// and tokenizer.json hold no control characters or spaces. The printable
// Latin-1 bytes map to themselves; the other 68 map to U+0100 onwards, in
// byte order.
var byteToRune, runeToByte = byteLevelTables()

func byteLevelTables() ([256]rune, map[rune]byte) {
	var b2r [256]rune
	r2b := make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		r := rune(b)
		if !printable {
			r = rune(256 + n)
			n++
		}
		b2r[b] = r
		r2b[r] = byte(b)
	}
	return b2r, r2b
}

// ByteLevelString is the text form of raw token bytes: one rune per byte.
func ByteLevelString(b []byte) string {
	buf := make([]byte, 0, 2*len(b))
	for _, c := range b {
		buf = utf8.AppendRune(buf, byteToRune[c])
	}
	return string(buf)
}

// ByteLevelBytes inverts ByteLevelString; a rune outside the table is an
// error.
func ByteLevelBytes(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		b, ok := runeToByte[r]
		if !ok {
			return nil, fmt.Errorf("%q is not byte-level text (rune %U is none of the 256 byte runes)", s, r)
		}
		out = append(out, b)
	}
	return out, nil
}
