// Package shard reads and writes token shards: llm.c's .bin layout (a
// 1024-byte header of int32s: magic 20240520, version 1 for uint16 tokens or
// 2 for uint32, the token count) with sprout's tokenizer line in the
// header's unused tail, so a shard names the tokenizer that made it while
// llm.c and nanoGPT-style readers still load it. Headerless uint16 files
// (nanoGPT's) read as before.
package shard
