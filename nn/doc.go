// Package nn is sprout's neural-network layer: reverse-mode autograd on a
// tape, the ops a transformer needs (each with forward and backward), three
// model families at any depth including zero blocks - GPT-2, LLaMA and LLaMA
// with a routed mixture of experts - and the AdamW, Muon and SGD optimizers
// with per-parameter state.
//
// It sits on tensor and asm (every large product is an asm.Sgemm call) and
// knows nothing of growth plans, trainers, data or files.
//
// # Model
//
// A Model is plain data: an embedded Config, named parameters (*Param) and
// Blocks as a slice, the same type for every arch (Config.Arch). NewModel(cfg,
// seed) builds and initialises one; Params() lists every parameter in a fixed
// order with stable names ("wte.weight", "blocks.3.attn.qkv.weight",
// "tok_emb.weight", "blocks.3.mlp.experts.5.up.weight", ...; the full list
// is below), ParamCount(cfg) is the closed-form count (ParamCount64 saturates
// instead of overflowing, for configs of any size) and ActiveParamCount(cfg)
// what one token goes through (moe: top-k of the experts). Growth
// builds blocks with NewBlock (InitRandom, or InitZeroOutput for a
// function-preserving identity block) or Block.Clone, and installs them with
// SetBlocks, which renames parameters to their new indices; a Block holds
// its arch's parameters and clones deeply (a moe block's experts, router and
// balancing bias). Param.Kind (Matrix, Vector, Embedding, Buffer),
// Param.Decay and Param.LRMult tell optimizers what each tensor is;
// Config.MuP switches on muP.
//
// # Architectures and parameter names
//
// Config.Arch selects the family; all three share the Model API above, and a
// Block holds its arch's parameters (Block.Arch says which). Weights are
// stored [in, out] (y = x W) in every arch, so a Hugging Face nn.Linear
// weight ([out, in]) is the transpose; embeddings and the head are
// [vocab, d] as in HF. Names ("N" is the block index):
//
//	gpt2              wte.weight [V,d]  wpe.weight [ctx,d]  lnf.weight lnf.bias [d]
//	                  blocks.N.ln1.weight  blocks.N.ln1.bias             [d]
//	                  blocks.N.attn.qkv.weight [d,3d]  .attn.qkv.bias [3d]   (columns q | k | v)
//	                  blocks.N.attn.proj.weight [d,d]  .attn.proj.bias [d]
//	                  blocks.N.ln2.weight  blocks.N.ln2.bias             [d]
//	                  blocks.N.mlp.fc.weight [d,4d]  .mlp.fc.bias [4d]
//	                  blocks.N.mlp.proj.weight [4d,d]  .mlp.proj.bias [d]
//	                  (head tied to wte)
//
//	llama             tok_emb.weight [V,d]  norm.weight [d]  head.weight [V,d] (absent with TiedHead)
//	                  blocks.N.attn_norm.weight [d]
//	                  blocks.N.attn.q.weight [d, H*hd]       HF self_attn.q_proj (transposed)
//	                  blocks.N.attn.k.weight [d, KVH*hd]     HF self_attn.k_proj
//	                  blocks.N.attn.v.weight [d, KVH*hd]     HF self_attn.v_proj
//	                  blocks.N.attn.o.weight [H*hd, d]       HF self_attn.o_proj
//	                  blocks.N.mlp_norm.weight [d]           HF post_attention_layernorm
//	                  blocks.N.mlp.gate.weight [d,F]  .mlp.up.weight [d,F]  .mlp.down.weight [F,d]
//
//	moe               as llama, with the MLP replaced by
//	                  blocks.N.mlp.router.weight [d,E]           HF mlp.gate (transposed)
//	                  blocks.N.mlp.router.balance_bias [E]       Kind Buffer: DeepSeek-V3's
//	                                                             e_score_correction_bias (selection only)
//	                  blocks.N.mlp.experts.I.gate.weight [d,F]  .up.weight [d,F]  .down.weight [F,d]
//	                  blocks.N.mlp.shared.S.gate.weight [d,F]   .up.weight  .down.weight  (SharedExperts)
//
// hd = Dim/Heads; H*hd = Dim. RoPE rotates pairs (i, i+hd/2) of each q and k
// head (the "rotate half" convention of HF's LLaMA), with frequencies
// RopeBase^(-2i/hd), so HF q_proj/k_proj weights need no permutation (GGUF
// wants the interleaved order, as llama.cpp's converter permutes). Params()
// order: embeddings, blocks in order (each as Block.Params, in the order
// listed above; experts by index), final norm, head. A Buffer parameter is
// saved and copied like any other but no optimizer steps it and NumParams
// does not count it.
//
// # Training
//
// Each worker owns a Tape:
//
//	tape := nn.NewTape(m)
//	tape.ZeroGrad()
//	loss, err := m.Forward(tape, tokens, targets, B, T) // mean cross-entropy
//	err = tape.Backward()                               // += into tape.Grads()
//
// Gradients go into buffers owned by the tape, aligned with m.Params(), never
// into Param.Grad, so several workers may run Forward/Backward on one model at
// once (the weights are only read). ReduceGrads then sums the tapes in a fixed
// order into Param.Grad, ClipGradNorm clips, and an Optimizer steps. After
// SetBlocks a tape rebinds itself (zeroed) on its next Forward.
//
// Once warm, a training step allocates nothing: a tape's i-th buffer request
// gets the same memory as in the previous step, ops are recorded as plain
// structs in a reused slice, and activation gradients come from a pool they
// return to as soon as they are consumed.
//
// # Evaluation and sampling
//
// m.Loss and m.Logits run without recording (pooled eval tapes, safe for
// concurrent use); NewEvalTape with Forward or ForwardLogits gives an
// allocation-free loop. For generation, m.NewKVCache and m.DecodeStep cost one
// step per token and match the full forward's logits.
//
// # Ops
//
// Tape methods record ops on rows x cols values (V): MatMul (all transposes),
// Linear (x W + bias, with an optional fused residual), Add, Mul, Embedding
// (scatter-add backward), LayerNorm and RMSNorm (fused), GELU (tanh form),
// SiLU, SwiGLU (silu(g)*u), RoPE (rotary embeddings from a RopeTable),
// Attention (fused causal multi-head self-attention over query tiles,
// keeping only the output and each row's log-sum-exp) and AttentionGQA (the
// same kernel on separate q, k, v with fewer key/value heads), Route (top-k
// router with softmax or sigmoid gates and the auxiliary balancing loss),
// Experts (per-expert gathered SwiGLU GEMMs, scatter-added by gate), and
// CrossEntropy (fused with log-softmax). Each has a finite-difference
// gradient check.
//
// # Mixture of experts
//
// A moe forward records on its tape the tokens routed to each expert
// (Tape.ExpertLoad) and the auxiliary loss (Tape.AuxLoss; its gradient is in
// Backward, its value is not in the loss Forward returns). With balance
// "bias", a training loop sums the loads of its tapes (SumExpertLoad) and
// calls Model.UpdateBalanceBias after each optimizer step.
//
// # Optimizers
//
// NewAdamW, NewMuon and NewSGD return an Optimizer: Step(params, lr), a step
// counter, and per-parameter state by *Param (State, SetState, ResetState), so
// growth can keep, copy or reset it and checkpoints can save it under the
// parameter's name. Muon orthogonalises the momentum of hidden matrices with
// five Newton-Schulz steps on asm.Sgemm and hands every other tensor to AdamW
// or normalised SGD (MuonConfig.NonMatrix).
package nn
