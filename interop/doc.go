// Package interop moves sprout models in and out of the formats other tools
// use: Hugging Face (transformers) GPT-2 and LLaMA checkpoints, read and
// written, and llama.cpp's GGUF, written.
//
// It sits on nn (models), safetensors and gguf (file formats), and knows
// nothing of trainers or checkpoints: the command line turns an imported
// model into a sprout checkpoint.
//
//	m, src, err := interop.ReadHF("gpt2")                    // config.json + model.safetensors
//	err = interop.WriteHF("out/hf", m, interop.F16, false)    // transformers loads it
//	err = interop.WriteGGUF("out/m.gguf", m, interop.GGUFOptions{DType: interop.F16}, false)
//	short, err := interop.WithContext(m, 256)                  // GPT-2 positions can only be cut
//
// Writes go through a temporary file or directory renamed into place, and
// never replace an existing output unless asked to.
//
// # Hugging Face GPT-2 (model_type "gpt2", GPT2LMHeadModel)
//
// Names are read with or without the "transformer." prefix (the published
// gpt2 checkpoint has none; save_pretrained writes it, and export does too).
// Conv1D weights are [in, out], as sprout stores them: nothing is transposed.
//
//	sprout                       Hugging Face
//	wte.weight        [V, d]     wte.weight
//	wpe.weight        [ctx, d]   wpe.weight
//	blocks.N.ln1.*    [d]        h.N.ln_1.{weight,bias}
//	blocks.N.attn.qkv.weight     h.N.attn.c_attn.weight  [d, 3d]  (columns q | k | v)
//	blocks.N.attn.qkv.bias       h.N.attn.c_attn.bias    [3d]
//	blocks.N.attn.proj.*         h.N.attn.c_proj.*       [d, d], [d]
//	blocks.N.ln2.*               h.N.ln_2.*
//	blocks.N.mlp.fc.*            h.N.mlp.c_fc.*          [d, 4d], [4d]
//	blocks.N.mlp.proj.*          h.N.mlp.c_proj.*        [4d, d], [d]
//	lnf.{weight,bias}            ln_f.{weight,bias}
//	(tied to wte)                lm_head.weight          optional on import, must equal wte; not exported
//	(skipped)                    h.N.attn.bias, h.N.attn.masked_bias  (mask buffers)
//
// config.json: n_embd, n_head, n_layer, vocab_size, n_positions (or n_ctx)
// are required; layer_norm_epsilon (1e-5) and initializer_range are read;
// activation_function must be a tanh GELU (gelu_new, gelu_pytorch_tanh,
// gelu_fast), n_inner null or 4*n_embd, scale_attn_weights true,
// scale_attn_by_inverse_layer_idx and add_cross_attention false.
//
// # Hugging Face LLaMA (model_type "llama", LlamaForCausalLM)
//
// nn.Linear weights are [out, in], the transpose of sprout's [in, out].
//
//	sprout                       Hugging Face                                    transposed
//	tok_emb.weight    [V, d]     model.embed_tokens.weight
//	blocks.N.attn_norm.weight    model.layers.N.input_layernorm.weight
//	blocks.N.attn.q.weight       model.layers.N.self_attn.q_proj.weight  [H*hd, d]   yes
//	blocks.N.attn.k.weight       model.layers.N.self_attn.k_proj.weight  [KVH*hd, d] yes
//	blocks.N.attn.v.weight       model.layers.N.self_attn.v_proj.weight  [KVH*hd, d] yes
//	blocks.N.attn.o.weight       model.layers.N.self_attn.o_proj.weight  [d, H*hd]   yes
//	blocks.N.mlp_norm.weight     model.layers.N.post_attention_layernorm.weight
//	blocks.N.mlp.gate.weight     model.layers.N.mlp.gate_proj.weight     [F, d]      yes
//	blocks.N.mlp.up.weight       model.layers.N.mlp.up_proj.weight       [F, d]      yes
//	blocks.N.mlp.down.weight     model.layers.N.mlp.down_proj.weight     [d, F]      yes
//	norm.weight                  model.norm.weight
//	head.weight       [V, d]     lm_head.weight        (absent, or equal to the embedding, when tied)
//	(skipped)                    model.layers.N.self_attn.rotary_emb.inv_freq
//
// sprout's RoPE rotates the pairs (i, i+hd/2) of each head, transformers'
// rotate_half convention, so q_proj and k_proj rows are used as they are.
// config.json: hidden_size, intermediate_size, num_attention_heads,
// num_hidden_layers, vocab_size, max_position_embeddings are required;
// num_key_value_heads (num_attention_heads), rms_norm_eps (1e-6),
// rope_theta (10000), tie_word_embeddings (false) and initializer_range are
// read; hidden_act must be silu, attention_bias and mlp_bias false,
// rope_scaling null, head_dim (if given) hidden_size/num_attention_heads.
//
// Every tensor is read as F32, F16 or BF16 (converted to float32) and
// written as F32, F16 or BF16 (rounded to nearest even). An unknown, missing,
// repeated or mis-shaped tensor, an unsupported dtype or config value, or a
// missing config field is an error naming it. A muP model is exported as the
// plain model computing the same function: its attention scale is folded
// into the query weights and its logit multiplier into the head (or the
// final norm when the head is tied). The mixture-of-experts arch has no
// export yet.
//
// # GGUF (llama.cpp)
//
// ToGGUF writes GGUF v3 (see package gguf) in the layout llama.cpp's
// convert_hf_to_gguf.py produces, so llama.cpp runs the file:
//
//	sprout (llama)               GGUF                     ggml ne (fastest first)
//	tok_emb.weight               token_embd.weight        (d, V)
//	blocks.N.attn_norm.weight    blk.N.attn_norm.weight   (d)
//	blocks.N.attn.q.weight       blk.N.attn_q.weight      (d, H*hd)    permuted for RoPE
//	blocks.N.attn.k.weight       blk.N.attn_k.weight      (d, KVH*hd)  permuted for RoPE
//	blocks.N.attn.v.weight       blk.N.attn_v.weight      (d, KVH*hd)
//	blocks.N.attn.o.weight       blk.N.attn_output.weight (H*hd, d)
//	blocks.N.mlp_norm.weight     blk.N.ffn_norm.weight    (d)
//	blocks.N.mlp.gate.weight     blk.N.ffn_gate.weight    (d, F)
//	blocks.N.mlp.up.weight       blk.N.ffn_up.weight      (d, F)
//	blocks.N.mlp.down.weight     blk.N.ffn_down.weight    (F, d)
//	norm.weight                  output_norm.weight       (d)
//	head.weight                  output.weight            (d, V)   left out when tied: llama.cpp
//	                                                               then reuses token_embd.weight
//
// Matrices are stored [out, in] row-major, which ggml lists as ne = (in,
// out). llama.cpp's "llama" arch rotates interleaved pairs (2i, 2i+1), so the
// rows of q and k are permuted per head, row 2i+s taking row s*hd/2+i, the
// permutation llama.cpp's converter applies to Hugging Face weights.
// Metadata: general.architecture "llama", general.name, general.file_type
// (0 all F32, 1 mostly F16, 32 mostly BF16), general.alignment 32,
// llama.vocab_size, llama.context_length, llama.embedding_length,
// llama.block_count, llama.feed_forward_length, llama.rope.dimension_count,
// llama.rope.freq_base, llama.attention.head_count,
// llama.attention.head_count_kv, llama.attention.layer_norm_rms_epsilon.
// Matrices and embeddings take the chosen precision; norms stay F32.
//
// A GPT-2 is written with llama.cpp's "gpt2" arch: token_embd, position_embd,
// blk.N.attn_norm.{weight,bias}, attn_qkv, attn_output, ffn_norm, ffn_up,
// ffn_down (weights transposed to [out, in], biases as they are),
// output_norm.{weight,bias}, and output.weight, a copy of the embedding (as
// the converter writes it); keys gpt2.context_length, embedding_length,
// feed_forward_length, block_count, attention.head_count,
// attention.layer_norm_epsilon.
//
// # The tokenizer in GGUF
//
// llama.cpp needs a vocabulary in the file. sprout's tokenizer is bytes
// (token id = byte value), and the faithful description of that to
// llama.cpp is a byte-level BPE ("gpt2" model) without merges: token b is
// the character GPT-2's bytes_to_unicode assigns to byte b ("Ġ" for space,
// "Ċ" for newline), so llama.cpp tokenizes every input byte to its own token
// and detokenizes back to the same bytes. The file has tokenizer.ggml.model
// "gpt2", tokenizer.ggml.tokens (the 256 characters, but "<|endoftext|>"
// for token 0, the bos and eos, so that llama.cpp knows it ends generation),
// token_type (1, normal, but 3, control, for token 0), an empty
// tokenizer.ggml.merges (llama.cpp requires the key),
// tokenizer.ggml.pre "qwen2" (with no merges the pre-tokenizer cannot change
// the tokens; this one keeps llama.cpp's clean_spaces off, so detokenizing
// is exact), bos and eos token 0 (NUL, which text does not contain) and
// add_bos_token/add_eos_token false (sprout trains without them). The
// alternative, a SentencePiece ("llama") vocabulary of <0xXX> byte tokens,
// would turn spaces into U+2581's three bytes. Ids from 256 up (a model
// trained on a token file) get unique placeholder tokens of type 5
// (unused): their real vocabulary is not known to sprout, and such a model
// is better exported with --format hf and converted with its own
// tokenizer.
package interop
