// Package nn is sprout's neural-network layer: reverse-mode autograd on a
// tape, the ops a transformer needs (each with forward and backward), the
// GPT-2 model at any depth including zero blocks, and the AdamW, Muon and SGD
// optimizers with per-parameter state.
//
// It sits on tensor and asm (every large product is an asm.Sgemm call) and
// knows nothing of growth plans, trainers, data or files.
//
// # Model
//
// A Model is plain data: an embedded Config, named parameters (*Param) and
// Blocks as a slice. NewModel(cfg, seed) builds and initialises one;
// Params() lists every parameter in a fixed order with stable names
// ("wte.weight", "wpe.weight", "blocks.3.attn.qkv.weight", "blocks.3.ln1.weight",
// "lnf.weight", ...), and ParamCount(cfg) is the closed-form count. Growth
// builds blocks with NewBlock (InitRandom, or InitZeroOutput for a
// function-preserving identity block) or Block.Clone, and installs them with
// SetBlocks, which renames parameters to their new indices. Param.Kind
// (Matrix, Vector, Embedding), Param.Decay and Param.LRMult tell optimizers
// what each tensor is; Config.MuP switches on muP (see mup.go).
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
// SiLU, Attention (fused causal multi-head self-attention over query tiles,
// keeping only the output and each row's log-sum-exp), and CrossEntropy (fused
// with log-softmax). Each has a finite-difference gradient check.
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
