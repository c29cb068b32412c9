package grow

import "github.com/sproutml/sprout/nn"

// FLOP accounting. A FLOP is one multiply or one add (a fused multiply-add is
// two). We count the model FLOPs of the matrix products, which are all but a
// few percent of the work:
//
// Forward, per sequence of T tokens, for a model of width d, vocabulary V and
// L blocks:
//
//	each block   qkv 2*T*d*3d + attention proj 2*T*d*d + mlp fc 2*T*d*4d
//	             + mlp proj 2*T*4d*d                       = 24*T*d^2
//	attention    scores Q K^T and values P V, causal: query t meets t+1 keys,
//	             2 * 2*d * T(T+1)/2                        = 2*d*T(T+1)
//	head         logits x wte^T                            = 2*T*d*V
//
// For llama and moe (GQA with KVH key/value heads of hd = d/H columns, SwiGLU
// hidden F, E experts of which k are routed per token, S shared):
//
//	attention    q and o 2*T*d*d each, k and v 2*T*d*(KVH*hd) each
//	             + the causal terms 2*d*T(T+1) (every query head scores its
//	             keys, so GQA saves no attention FLOPs, only k/v projections)
//	llama mlp    gate, up, down: 3 * 2*T*d*F
//	moe mlp      router 2*T*d*E + (k + S) * 3 * 2*T*d*F: only the active
//	             experts, the parameters a token actually goes through
//	head         2*T*d*V (tied or not)
//
// Backward is twice the forward for every product (the gradient with respect
// to each operand is one product of the same size): for a linear layer dX and
// dW; for attention dP = dO V^T, dV = P^T dO, dQ = dS K and dK = dS^T Q.
// Elementwise work (norms, activations, RoPE, softmax, routing, the
// optimizer) and the recomputation a fused kernel may do are not counted, so
// these are model FLOPs, the usual basis of model-FLOPs utilisation; for
// GPT-2 they equal 6*N_matmul per token plus the causal attention terms, for
// moe 6*N_active (without embeddings).

// ForwardFLOPs returns the forward FLOPs of batch sequences of T tokens through
// a model with cfg's arch, width, heads and vocabulary and the given depth.
func ForwardFLOPs(cfg nn.Config, layers, batch, T int) float64 {
	d, V, L, t := float64(cfg.Dim), float64(cfg.Vocab), float64(layers), float64(T)
	switch cfg.Arch {
	case nn.ArchLlama, nn.ArchMoE:
		perSeq := L*(t*BlockMatmulFLOPs(cfg)+2*d*t*(t+1)) + 2*t*d*V
		return float64(batch) * perSeq
	}
	perSeq := L*(24*t*d*d+2*d*t*(t+1)) + 2*t*d*V
	return float64(batch) * perSeq
}

// BlockMatmulFLOPs is the forward FLOPs per token of one block's weight
// products (2 per multiply-add of each active weight), attention scores
// excluded: 24d^2 for gpt2; for llama and moe see the table above.
func BlockMatmulFLOPs(cfg nn.Config) float64 {
	d := float64(cfg.Dim)
	switch cfg.Arch {
	case nn.ArchLlama, nn.ArchMoE:
		c := cfg.WithDefaults()
		kv, F := float64(c.KVDim()), float64(c.FFNHidden)
		attn := 2*d*d*2 + 2*d*kv*2
		if c.Arch == nn.ArchLlama {
			return attn + 3*2*d*F
		}
		return attn + 2*d*float64(c.Experts) + float64(c.TopK+c.SharedExperts)*3*2*d*F
	}
	return 24 * d * d
}

// StepFLOPs returns the FLOPs of one training step (forward and backward) on
// batch sequences of T tokens at the given depth: three times the forward.
func StepFLOPs(cfg nn.Config, layers, batch, T int) float64 {
	return 3 * ForwardFLOPs(cfg, layers, batch, T)
}

// RunFLOPs returns the FLOPs of a run of totalSteps steps that starts at
// depth from and grows through stages, and what the same run costs at the
// fixed final depth (stages' last depth, or from when there are none).
func RunFLOPs(cfg nn.Config, from int, stages []Stage, totalSteps, batch, T int) (spent, fixed float64) {
	depth, target := from, from
	if len(stages) > 0 {
		target = stages[len(stages)-1].Layers
	}
	prev := 0
	for _, s := range stages {
		spent += float64(s.At-prev) * StepFLOPs(cfg, depth, batch, T)
		prev, depth = s.At, s.Layers
	}
	spent += float64(totalSteps-prev) * StepFLOPs(cfg, depth, batch, T)
	fixed = float64(totalSteps) * StepFLOPs(cfg, target, batch, T)
	return spent, fixed
}
