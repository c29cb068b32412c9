// Package tokenizer turns text into token ids and back: sprout's byte-level
// ids (byte b is id b), and byte-level BPE exactly as GPT-2 defines it.
//
// One interface, Tokenizer (Encode, EncodeSpecial, Decode, VocabSize,
// Special), has two implementations:
//
//   - Bytes: the byte-level tokenizer every existing checkpoint uses.
//   - BPE: GPT-2's byte-level BPE. Text is cut into pre-tokens by GPT-2's
//     pattern (or LLaMA-3's), each pre-token's bytes start as single-byte
//     tokens, and the adjacent pair of lowest rank merges until none has a
//     rank. Ranks come from a tiktoken rank file (ReadTiktoken: tiktoken's
//     rule, a pair merges when its concatenation is a token), from GPT-2's
//     vocab.json and merges.txt (ReadVocabMerges), or from a Hugging Face
//     tokenizer.json with a BPE model and a ByteLevel pre-tokenizer
//     (ReadHFJSON; merges by priority, Hugging Face's rule). GPT2 returns
//     GPT-2's vocabulary, embedded gzipped (366 KB for 835 KB of ranks) so
//     that --tokenizer gpt2 works offline.
//
// Special tokens (<|endoftext|>, a tokenizer.json's added tokens) come only
// from EncodeSpecial: Encode treats their text as text, so a corpus cannot
// forge them. Invalid UTF-8 splits as U+FFFD would, one rune a byte, and
// its bytes are kept, so Decode(Encode(x)) == x for every byte string.
//
// GPT-2's pattern uses a look-ahead, \s+(?!\S), that Go's regexp lacks. The
// package splits GPT-2's and LLaMA-3's patterns by hand (split.go), checked
// against github.com/dlclark/regexp2 running the pattern itself, which
// handles any other pattern a tokenizer.json brings. The hand-rolled
// splitter is several times faster than regexp2 (bench_test.go).
//
// Why not github.com/pkoukk/tiktoken-go: it gives tiktoken's ids on valid
// UTF-8 (bench/tokenize_test.go checks that), but it converts text to runes,
// so invalid UTF-8 comes back as U+FFFD and Decode(Encode(x)) != x; it
// pre-tokenizes with regexp2 and merges by scanning string-keyed maps,
// which makes it several times slower than this package; it reads neither
// vocab.json/merges.txt nor tokenizer.json, and does not train. This
// package adds regexp2 alone as a dependency.
//
// Train learns a byte-level BPE vocabulary (GPT-2 pre-tokenization, merges
// by pair frequency with incremental pair counts) and WriteHFJSON writes any
// BPE as a tokenizer.json that Hugging Face's tokenizers load.
// EncodeParallel encodes large texts on all cores, cut where no pre-token
// spans (Cut).
package tokenizer
