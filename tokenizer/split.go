package tokenizer

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// The pre-tokenization patterns sprout splits by hand. Any other pattern in
// a tokenizer.json goes to regexp2.
const (
	// PatternGPT2 is GPT-2's pattern (tiktoken's r50k/gpt2, Hugging Face's
	// ByteLevel pre-tokenizer).
	PatternGPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	// PatternLlama3 is LLaMA-3's pattern, which is tiktoken's cl100k_base.
	PatternLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// splitter cuts text into pre-tokens, appending each one's end offset.
type splitter interface {
	split(ends []int, text []byte) []int
	pattern() string
}

// newSplitter returns the hand-rolled splitter for a known pattern and
// regexp2 for any other.
func newSplitter(pattern string) (splitter, error) {
	switch pattern {
	case PatternGPT2:
		return gpt2Splitter{}, nil
	case PatternLlama3:
		return llama3Splitter{}, nil
	}
	return newRegexpSplitter(pattern)
}

type class uint8

const (
	other class = iota // [^\s\p{L}\p{N}], and every invalid UTF-8 byte
	letter
	number
	space
)

var asciiClass = func() (t [128]class) {
	for c := range t {
		r := rune(c)
		switch {
		case unicode.IsLetter(r):
			t[c] = letter
		case unicode.IsNumber(r):
			t[c] = number
		case unicode.IsSpace(r):
			t[c] = space
		}
	}
	return t
}()

// classAt returns the class of the rune at t[i] and its width. An invalid
// byte is one rune of class other, as U+FFFD would be, so bytes that are
// not UTF-8 still split and round-trip.
func classAt(t []byte, i int) (class, int) {
	if c := t[i]; c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, w := utf8.DecodeRune(t[i:])
	switch {
	case unicode.IsLetter(r):
		return letter, w
	case unicode.IsNumber(r):
		return number, w
	case unicode.IsSpace(r):
		return space, w
	}
	return other, w
}

// run returns the end of the run of class c starting at i.
func run(t []byte, i int, c class) int {
	for i < len(t) {
		c2, w := classAt(t, i)
		if c2 != c {
			break
		}
		i += w
	}
	return i
}

// contraction returns the length of 's 't 're 've 'm 'll 'd at the start
// of t (which begins with the apostrophe), or 0. With fold, case does not
// matter (and ſ counts as s, as Unicode case folding has it).
func contraction(t []byte, fold bool) int {
	if len(t) < 2 || t[0] != '\'' {
		return 0
	}
	lower := func(c byte) byte {
		if fold && c >= 'A' && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	switch lower(t[1]) {
	case 's', 't', 'm', 'd':
		return 2
	case 'r', 'v':
		if len(t) > 2 && lower(t[2]) == 'e' {
			return 3
		}
	case 'l':
		if len(t) > 2 && lower(t[2]) == 'l' {
			return 3
		}
	case 0xC5: // ſ is C5 BF
		if fold && len(t) > 2 && t[2] == 0xBF {
			return 3
		}
	}
	return 0
}

// spaceEnd is where `\s+(?!\S)|\s+` ends for the whitespace run at i: the
// whole run at the end of the text or when it is one rune long, else the run
// less its last rune, which then joins the word after it.
func spaceEnd(t []byte, i int) int {
	last, n := i, 0
	for i < len(t) {
		c, w := classAt(t, i)
		if c != space {
			break
		}
		last = i
		i += w
		n++
	}
	if i == len(t) || n == 1 {
		return i
	}
	return last
}

// gpt2Splitter is PatternGPT2 by hand: Go's regexp has no look-ahead.
type gpt2Splitter struct{}

func (gpt2Splitter) pattern() string { return PatternGPT2 }

func (gpt2Splitter) split(ends []int, t []byte) []int {
	for i := 0; i < len(t); {
		i = gpt2Next(t, i)
		ends = append(ends, i)
	}
	return ends
}

func gpt2Next(t []byte, i int) int {
	if t[i] == '\'' {
		if n := contraction(t[i:], false); n > 0 {
			return i + n
		}
	}
	c, w := classAt(t, i)
	if t[i] == ' ' && i+1 < len(t) {
		// ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
		if c2, _ := classAt(t, i+1); c2 != space {
			return run(t, i+1, c2)
		}
	}
	if c != space {
		return run(t, i+w, c)
	}
	return spaceEnd(t, i)
}

// llama3Splitter is PatternLlama3 by hand.
type llama3Splitter struct{}

func (llama3Splitter) pattern() string { return PatternLlama3 }

func (llama3Splitter) split(ends []int, t []byte) []int {
	for i := 0; i < len(t); {
		i = llama3Next(t, i)
		ends = append(ends, i)
	}
	return ends
}

func llama3Next(t []byte, i int) int {
	if t[i] == '\'' {
		if n := contraction(t[i:], true); n > 0 {
			return i + n
		}
	}
	c, w := classAt(t, i)
	switch c {
	case letter: // [^\r\n\p{L}\p{N}]?\p{L}+ without the prefix
		return run(t, i+w, letter)
	case number: // \p{N}{1,3}
		j := i + w
		for k := 1; k < 3 && j < len(t); k++ {
			c2, w2 := classAt(t, j)
			if c2 != number {
				break
			}
			j += w2
		}
		return j
	}
	if t[i] != '\r' && t[i] != '\n' && i+w < len(t) {
		if c2, _ := classAt(t, i+w); c2 == letter { // with the prefix
			return run(t, i+w, letter)
		}
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	j := i
	if t[i] == ' ' && i+1 < len(t) {
		if c2, _ := classAt(t, i+1); c2 == other {
			j = i + 1
		}
	}
	if c2, _ := classAt(t, j); c2 == other {
		j = run(t, j, other)
		for j < len(t) && (t[j] == '\r' || t[j] == '\n') {
			j++
		}
		return j
	}
	// c is space. `\s*[\r\n]+`: up to the run's last line break.
	nl, j := -1, i
	for j < len(t) {
		c2, w2 := classAt(t, j)
		if c2 != space {
			break
		}
		if t[j] == '\r' || t[j] == '\n' {
			nl = j
		}
		j += w2
	}
	if nl >= 0 {
		return nl + 1
	}
	return spaceEnd(t, i)
}

// regexpSplitter runs any other pattern through regexp2 (a backtracking
// engine with look-around, on runes).
type regexpSplitter struct {
	re  *regexp2.Regexp
	src string
}

func newRegexpSplitter(pattern string) (*regexpSplitter, error) {
	re, err := regexp2.Compile(pattern, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: pre-tokenizer pattern %q: %v", pattern, err)
	}
	return &regexpSplitter{re: re, src: pattern}, nil
}

func (s *regexpSplitter) pattern() string { return s.src }

// split keeps text the pattern does not match as pieces of their own, as
// Hugging Face's Split with behavior Isolated does.
func (s *regexpSplitter) split(ends []int, t []byte) []int {
	// regexp2 works on runes; an invalid byte is one U+FFFD rune.
	runes := make([]rune, 0, len(t))
	offs := make([]int, 0, len(t)+1)
	for i := 0; i < len(t); {
		r, w := utf8.DecodeRune(t[i:])
		runes = append(runes, r)
		offs = append(offs, i)
		i += w
	}
	offs = append(offs, len(t))
	prev := 0
	m, err := s.re.FindRunesMatch(runes)
	for err == nil && m != nil {
		a, b := offs[m.Index], offs[m.Index+m.Length]
		if a > prev {
			ends = append(ends, a)
		}
		if b > a {
			ends = append(ends, b)
		}
		prev = b
		m, err = s.re.FindNextMatch(m)
	}
	if prev < len(t) {
		ends = append(ends, len(t))
	}
	return ends
}
