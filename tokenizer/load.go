package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// EndOfText is GPT-2's one special token.
const EndOfText = "<|endoftext|>"

// ReadTiktoken reads a tiktoken rank file (one "base64-bytes rank" line per
// token; the rank is the id) and adds the special tokens.
func ReadTiktoken(r io.Reader, name, pattern string, special map[string]uint32) (*BPE, error) {
	var tokens [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		b64, rank, ok := strings.Cut(s, " ")
		if !ok {
			return nil, fmt.Errorf("tokenizer: rank file line %d: want \"base64 rank\", got %q", line, s)
		}
		tok, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(tok) == 0 {
			return nil, fmt.Errorf("tokenizer: rank file line %d: %q is not base64 token bytes", line, b64)
		}
		id, err := strconv.ParseUint(rank, 10, 32)
		if err != nil || id >= 1<<31 {
			return nil, fmt.Errorf("tokenizer: rank file line %d: bad rank %q", line, rank)
		}
		for int(id) >= len(tokens) {
			tokens = append(tokens, nil)
		}
		if tokens[id] != nil {
			return nil, fmt.Errorf("tokenizer: rank file line %d: rank %d appears twice", line, id)
		}
		tokens[id] = tok
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: reading rank file: %w", err)
	}
	tokens, err := addSpecial(tokens, special)
	if err != nil {
		return nil, err
	}
	return New(Spec{Name: name, Tokens: tokens, Special: special, Pattern: pattern, WholeFirst: true})
}

func addSpecial(tokens [][]byte, special map[string]uint32) ([][]byte, error) {
	for text, id := range special {
		for int(id) >= len(tokens) {
			tokens = append(tokens, nil)
		}
		if tokens[id] != nil && string(tokens[id]) != text {
			return nil, fmt.Errorf("tokenizer: special token %q has id %d, which is already %q", text, id, tokens[id])
		}
		tokens[id] = []byte(text)
	}
	return tokens, nil
}

// ReadVocabMerges reads GPT-2's vocab.json (byte-level text to id) and
// merges.txt ("a b" per line, by priority, after an optional #version
// line). Tokens that are longer than one byte and that no merge makes (GPT-2's
// <|endoftext|>) are special.
func ReadVocabMerges(vocabJSON, mergesTxt io.Reader, name string) (*BPE, error) {
	var vocab map[string]uint32
	if err := json.NewDecoder(vocabJSON).Decode(&vocab); err != nil {
		return nil, fmt.Errorf("tokenizer: vocab.json: %v", err)
	}
	tokens, ids, err := vocabTokens(vocab, nil)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: vocab.json: %v", err)
	}
	var pairs [][2]string
	sc := bufio.NewScanner(mergesTxt)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		if s == "" || (line == 1 && strings.HasPrefix(s, "#version")) {
			continue
		}
		a, b, ok := strings.Cut(s, " ")
		if !ok || strings.Contains(b, " ") {
			return nil, fmt.Errorf("tokenizer: merges.txt line %d: want two tokens separated by one space, got %q", line, s)
		}
		pairs = append(pairs, [2]string{a, b})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: merges.txt: %w", err)
	}
	merges, made, err := mergeIDs(pairs, ids)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: merges.txt: %v", err)
	}
	special := map[string]uint32{}
	for id, tok := range tokens {
		if len(tok) > 1 && !made[string(tok)] {
			special[string(tok)] = uint32(id)
		}
	}
	return New(Spec{Name: name, Tokens: tokens, Merges: merges, Special: special, Pattern: PatternGPT2})
}

// vocabTokens turns a byte-level vocabulary into token bytes by id; raw
// names ids whose text is taken as it is (added tokens).
func vocabTokens(vocab map[string]uint32, raw map[uint32]string) ([][]byte, map[string]uint32, error) {
	var tokens [][]byte
	for text, id := range vocab {
		if id >= 1<<31 {
			return nil, nil, fmt.Errorf("token %q has id %d, too large", text, id)
		}
		for int(id) >= len(tokens) {
			tokens = append(tokens, nil)
		}
		if tokens[id] != nil {
			return nil, nil, fmt.Errorf("id %d is given to two tokens", id)
		}
		if r, ok := raw[id]; ok {
			tokens[id] = []byte(r)
			continue
		}
		b, err := ByteLevelBytes(text)
		if err != nil {
			return nil, nil, err
		}
		tokens[id] = b
	}
	return tokens, vocab, nil
}

// mergeIDs turns merges of byte-level texts into merges of ids, and says
// which texts merges make.
func mergeIDs(pairs [][2]string, ids map[string]uint32) ([][2]uint32, map[string]bool, error) {
	merges := make([][2]uint32, len(pairs))
	made := make(map[string]bool, len(pairs))
	for r, p := range pairs {
		a, okA := ids[p[0]]
		b, okB := ids[p[1]]
		if !okA || !okB {
			return nil, nil, fmt.Errorf("merge %d (%q %q) names a token that is not in the vocabulary", r, p[0], p[1])
		}
		merges[r] = [2]uint32{a, b}
		bs, err := ByteLevelBytes(p[0] + p[1])
		if err != nil {
			return nil, nil, err
		}
		made[string(bs)] = true
	}
	return merges, made, nil
}

// hfJSON is the part of a Hugging Face tokenizer.json that byte-level BPE
// uses.
type hfJSON struct {
	AddedTokens []struct {
		ID      uint32 `json:"id"`
		Content string `json:"content"`
	} `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer *hfPre          `json:"pre_tokenizer"`
	Model        struct {
		Type         string            `json:"type"`
		Vocab        json.RawMessage   `json:"vocab"`
		Merges       []json.RawMessage `json:"merges"`
		IgnoreMerges bool              `json:"ignore_merges"`
		Prefix       *string           `json:"continuing_subword_prefix"`
		Suffix       *string           `json:"end_of_word_suffix"`
		ByteFallback bool              `json:"byte_fallback"`
		Dropout      *float64          `json:"dropout"`
	} `json:"model"`
}

type hfPre struct {
	Type           string  `json:"type"`
	AddPrefixSpace bool    `json:"add_prefix_space"`
	UseRegex       *bool   `json:"use_regex"`
	Pretokenizers  []hfPre `json:"pretokenizers"`
	Pattern        struct {
		Regex  *string `json:"Regex"`
		String *string `json:"String"`
	} `json:"pattern"`
	Behavior string `json:"behavior"`
	Invert   bool   `json:"invert"`
}

// ReadHFJSON reads a Hugging Face tokenizer.json with a BPE model and a
// byte-level pre-tokenizer: ByteLevel with its regex (GPT-2), or a Split by
// a pattern then ByteLevel without one (LLaMA-3). Every added token is
// special.
func ReadHFJSON(r io.Reader, name string) (*BPE, error) {
	var h hfJSON
	if err := json.NewDecoder(r).Decode(&h); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %v", err)
	}
	m := &h.Model
	switch {
	case m.Type != "BPE":
		return nil, fmt.Errorf("tokenizer.json: model type %q is not supported (sprout reads byte-level BPE)", m.Type)
	case m.Prefix != nil && *m.Prefix != "", m.Suffix != nil && *m.Suffix != "":
		return nil, errors.New("tokenizer.json: a continuing_subword_prefix or end_of_word_suffix is not byte-level BPE")
	case m.ByteFallback:
		return nil, errors.New("tokenizer.json: byte_fallback BPE (SentencePiece style) is not supported; sprout reads byte-level BPE")
	case m.Dropout != nil && *m.Dropout != 0:
		return nil, errors.New("tokenizer.json: BPE dropout is not supported")
	case len(h.Normalizer) > 0 && string(h.Normalizer) != "null":
		return nil, errors.New("tokenizer.json: a normalizer is not supported (byte-level BPE has none)")
	}
	var modelVocab map[string]uint32
	if err := json.Unmarshal(m.Vocab, &modelVocab); err != nil {
		return nil, fmt.Errorf("tokenizer.json: model.vocab: %v", err)
	}
	pattern, err := h.PreTokenizer.pattern()
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json: %v", err)
	}
	raw := map[uint32]string{}
	special := map[string]uint32{}
	for _, a := range h.AddedTokens {
		raw[a.ID] = a.Content
		special[a.Content] = a.ID
	}
	vocab := make(map[string]uint32, len(modelVocab)+len(raw))
	for text, id := range modelVocab {
		vocab[text] = id
	}
	for id, text := range raw {
		if old, ok := vocab[text]; ok && old != id {
			return nil, fmt.Errorf("tokenizer.json: added token %q has id %d but the vocabulary gives it %d", text, id, old)
		}
		vocab[text] = id
	}
	tokens, ids, err := vocabTokens(vocab, raw)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json: %v", err)
	}
	pairs := make([][2]string, len(m.Merges))
	for i, raw := range m.Merges {
		var s string
		var ab []string
		if json.Unmarshal(raw, &s) == nil {
			a, b, ok := strings.Cut(s, " ")
			if !ok || strings.Contains(b, " ") {
				return nil, fmt.Errorf("tokenizer.json: merge %d is %q, want two tokens separated by one space", i, s)
			}
			ab = []string{a, b}
		} else if json.Unmarshal(raw, &ab) != nil || len(ab) != 2 {
			return nil, fmt.Errorf("tokenizer.json: merge %d is %s, want \"a b\" or [\"a\", \"b\"]", i, raw)
		}
		pairs[i] = [2]string{ab[0], ab[1]}
	}
	merges, _, err := mergeIDs(pairs, ids)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json: %v", err)
	}
	if merges == nil {
		merges = [][2]uint32{}
	}
	return New(Spec{Name: name, Tokens: tokens, Merges: merges, Special: special, Pattern: pattern, WholeFirst: m.IgnoreMerges})
}

func (p *hfPre) pattern() (string, error) {
	if p == nil {
		return "", errors.New("no pre_tokenizer; sprout reads byte-level BPE, which needs ByteLevel")
	}
	switch p.Type {
	case "ByteLevel":
		if p.AddPrefixSpace {
			return "", errors.New("ByteLevel pre-tokenizer with add_prefix_space is not supported")
		}
		if p.UseRegex != nil && !*p.UseRegex {
			return "", errors.New("ByteLevel pre-tokenizer without a regex and without a Split before it is not supported")
		}
		return PatternGPT2, nil
	case "Sequence":
		if len(p.Pretokenizers) == 2 && p.Pretokenizers[0].Type == "Split" && p.Pretokenizers[1].Type == "ByteLevel" {
			s, b := p.Pretokenizers[0], p.Pretokenizers[1]
			if s.Pattern.Regex != nil && s.Behavior == "Isolated" && !s.Invert && !b.AddPrefixSpace && b.UseRegex != nil && !*b.UseRegex {
				return *s.Pattern.Regex, nil
			}
		}
		if len(p.Pretokenizers) == 1 {
			return p.Pretokenizers[0].pattern()
		}
	}
	return "", fmt.Errorf("pre_tokenizer %s is not supported (want ByteLevel, or Sequence of Split(Regex, Isolated) and ByteLevel(use_regex false))", p.describe())
}

func (p *hfPre) describe() string {
	if p.Type != "Sequence" {
		return p.Type
	}
	var parts []string
	for i := range p.Pretokenizers {
		parts = append(parts, p.Pretokenizers[i].describe())
	}
	return "Sequence[" + strings.Join(parts, ", ") + "]"
}

// WriteHFJSON writes t as a Hugging Face tokenizer.json (GPT-2's layout:
// ByteLevel pre-tokenizer, post-processor and decoder, or a Split before
// ByteLevel for other patterns). The output is deterministic, so its digest
// names the tokenizer.
func WriteHFJSON(w io.Writer, t *BPE) error {
	merges, err := t.Merges()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [")
	var specials []uint32
	for _, id := range t.special {
		specials = append(specials, id)
	}
	sort.Slice(specials, func(i, j int) bool { return specials[i] < specials[j] })
	for i, id := range specials {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n    {\"id\": %d, \"content\": %s, \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}", id, jsonString(string(t.Token(id))))
	}
	b.WriteString("\n  ],\n  \"normalizer\": null,\n")
	if t.Pattern() == PatternGPT2 {
		b.WriteString("  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true},\n")
	} else {
		fmt.Fprintf(&b, "  \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": %s}, \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}]},\n", jsonString(t.Pattern()))
	}
	b.WriteString("  \"post_processor\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": false, \"use_regex\": true},\n")
	b.WriteString("  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},\n")
	fmt.Fprintf(&b, "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": %v,\n    \"vocab\": {", t.wholeFirst)
	first := true
	for id := range t.present {
		if !t.present[id] || t.isSpec[uint32(id)] {
			continue
		}
		if !first {
			b.WriteString(",")
		}
		first = false
		fmt.Fprintf(&b, "\n      %s: %d", jsonString(ByteLevelString(t.Token(uint32(id)))), id)
	}
	b.WriteString("\n    },\n    \"merges\": [")
	for i, m := range merges {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n      %s", jsonString(ByteLevelString(t.Token(m[0]))+" "+ByteLevelString(t.Token(m[1]))))
	}
	b.WriteString("\n    ]\n  }\n}\n")
	_, err = w.Write(b.Bytes())
	return err
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// Load returns the tokenizer a command line names: "bytes" (or ""), "gpt2"
// (GPT-2's vocabulary, built in), a tokenizer.json file, a *.tiktoken rank
// file (GPT-2's pattern and no special tokens), or a directory holding
// tokenizer.json or vocab.json and merges.txt.
func Load(name string) (Tokenizer, error) {
	switch name {
	case "", "bytes":
		return Bytes{}, nil
	case "gpt2":
		return GPT2()
	}
	st, err := os.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %q: not bytes, gpt2, or a file or directory: %v", name, err)
	}
	path := name
	if st.IsDir() {
		path = filepath.Join(name, "tokenizer.json")
		if _, err := os.Stat(path); err != nil {
			v, m := filepath.Join(name, "vocab.json"), filepath.Join(name, "merges.txt")
			vf, err1 := os.Open(v)
			mf, err2 := os.Open(m)
			if err1 != nil || err2 != nil {
				if vf != nil {
					vf.Close()
				}
				if mf != nil {
					mf.Close()
				}
				return nil, fmt.Errorf("tokenizer %q: the directory has neither tokenizer.json nor vocab.json and merges.txt", name)
			}
			defer vf.Close()
			defer mf.Close()
			return ReadVocabMerges(vf, mf, filepath.Base(filepath.Clean(name)))
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %v", err)
	}
	defer f.Close()
	if strings.HasSuffix(path, ".tiktoken") {
		return ReadTiktoken(f, strings.TrimSuffix(filepath.Base(path), ".tiktoken"), PatternGPT2, nil)
	}
	t, err := ReadHFJSON(f, filepath.Base(filepath.Dir(filepath.Clean(path))))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return t, nil
}

// WriteVocabMerges writes t as GPT-2's vocab.json (byte-level text to id,
// special tokens included, as GPT-2's has <|endoftext|>) and merges.txt,
// which ReadVocabMerges and older tools read.
func WriteVocabMerges(vocabJSON, mergesTxt io.Writer, t *BPE) error {
	merges, err := t.Merges()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("{")
	first := true
	for id := range t.present {
		if !t.present[id] {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		s := ByteLevelString(t.Token(uint32(id)))
		if t.isSpec[uint32(id)] {
			s = string(t.Token(uint32(id)))
		}
		fmt.Fprintf(&b, "%s: %d", jsonString(s), id)
	}
	b.WriteString("}\n")
	if _, err := vocabJSON.Write(b.Bytes()); err != nil {
		return err
	}
	b.Reset()
	b.WriteString("#version: 0.2\n")
	for _, m := range merges {
		b.WriteString(ByteLevelString(t.Token(m[0])) + " " + ByteLevelString(t.Token(m[1])) + "\n")
	}
	_, err = mergesTxt.Write(b.Bytes())
	return err
}
