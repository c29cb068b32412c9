// Package grow expands models in depth: zero/one-layer progressive training
// (Bu et al., "Scaling depth capacity via zero/one-layer model expansion",
// arXiv 2511.04981).
//
// A run trains a source model of 0 or 1 blocks (or any depth) through most of
// the stable phase of a warmup-stable-decay schedule, then at step tau
// (always before the decay begins; by default the point DefaultAtFor gives
// for the target's depth and width) expands it in one step to the target
// depth and finishes training, decay included, with the same
// hyper-parameters.
//
// A Plan says when and how; Expand applies one stage of it to an nn.Model and
// its optimizer state. New blocks are initialised by a Strategy: "random"
// (muP-scaled fresh blocks, the only choice from zero blocks), "copy" (stack
// the trained blocks: b0 b1 b0 b1 ...), "copy-interleave" (b0 b0 b1 b1 ...),
// "copy-last" (repeat the last block) or "zero" (function-preserving blocks
// whose output projections are zero; an ablation: the paper found it stalls
// the new blocks' learning).
//
// Expansion works alike for every arch nn has (gpt2, llama, moe): blocks are
// handled only through nn.Block's Params, Clone and NewBlock, so a copied moe
// block brings its experts, router and balancing bias.
//
// FLOP accounting (StepFLOPs, RunFLOPs) gives the exact model FLOPs of a
// training step at a given depth (for moe, of the active experts only), so a
// run can report what it spent against what the same run would have cost at
// the fixed target depth.
//
// How grown runs compare with fixed-depth ones at the sizes sprout trains
// is measured in
// docs/experiments.md#does-a-grown-model-end-where-a-fixed-depth-one-does.
//
// grow knows nn (models, optimizers) and nothing of trainers, data or files.
package grow
