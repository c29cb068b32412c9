// Package trainer runs one training job: it reads and splits the data,
// draws batches, runs parallel steps, follows the learning-rate schedule,
// grows the model when its plan says so, evaluates, writes checkpoints and
// reports events; it owns the clock and the files.
//
// Run(ctx, cfg, sink) trains per a Config and returns a Result; Resume
// continues a checkpointed run bit for bit; LoadModel, Evaluate, AblateBlocks,
// Generate, GrowCheckpoint and StartCheckpoint serve the command line (sample,
// eval, grow, inspect, import).
//
// # Configuration
//
// A Config names the model, the data, the recipe (optimizer, learning rate
// with DefaultLR per optimizer, weight decay, clipping, schedule), the growth
// plan, the workers and the outputs; Defaults fills in what is left out and
// Validate checks it before any work, including MinMemory, a lower bound on
// the run's memory compared with the machine's, so that a run too big for it
// fails at once instead of crashing out of memory.
//
// # The loop
//
// Each step: growth if due (checkpoints just before, to PreGrowDir, and just
// after), a batch of windows, sharded forward and backward, gradient
// clipping, the optimizer step (then, for a moe model balanced by bias,
// nn.Model.UpdateBalanceBias from the step's expert counts summed over the
// shards: integers, so worker-count-invariant; the biases are saved with the
// weights), evaluation, events (moe steps carry expert_tokens), checkpoints.
// A non-finite loss, gradient norm, validation loss or weight stops the run
// with an error naming the step and writes nothing, so the last good
// checkpoint stays. Cancelling the context stops after the current step and
// checkpoints (ErrInterrupted).
//
// Steps run in parallel without changing a bit: the batch is cut into shards
// of Config.Shard sequences (default 1), each with its own nn.Tape; Workers
// goroutines run whole shards, and the shards' gradients are summed in shard
// order (the sum split across workers by parameter), so losses and weights
// are bit-identical for any number of workers. Each worker's GEMMs are bounded
// to GOMAXPROCS/Workers threads (asm.Bound, per caller; asm's process-wide
// setting is left alone) so the two levels do not oversubscribe. Evaluate runs
// fixed validation windows in fixed chunks; AblateBlocks measures each
// block's contribution to the validation loss, AblateGroup several blocks'
// together.
//
// # The mixing check
//
// After an expansion, each evaluation also measures on MixWindows validation
// windows how much the blocks the last expansion added (NewBlocks, from the
// growth history and the plan's placement, so a resumed run knows them)
// contribute together: "in use" or "idle" (below MixIdleNats). The gap to
// the fixed-depth run is reported as unknown until a calibration can
// estimate it (est_gap).
//
// # Data
//
// Datasets come from a text file, a directory or a uint16 token file (.bin),
// tokenised byte by byte, or from the embedded default corpus, a synthetic
// language generated from a seed (GenerateCorpus); the last ValFraction of
// the tokens validate. A Sampler draws seeded training windows whose state
// resumes exactly; the seeded generators (one stream per use) save their
// state too. Schedules are WSD, cosine or constant.
//
// # Checkpoints and events
//
// A checkpoint is a directory of safetensors weights and optimizer state
// ("<param>.<key>" tensors) and a JSON manifest with the model config, the
// whole run Config, step, tokens, FLOPs, sampler state, schedule, growth plan
// and history, last losses and SHA-256 digests, written atomically under a
// directory lock and verified on load (SaveCheckpoint, LoadCheckpoint,
// LockDir; docs/checkpoints.md describes the format and the protocol). A run
// emits events (StepEvent, EvalEvent, GrowEvent, CheckpointEvent,
// SummaryEvent) to a Sink; the JSON Lines writer and the terminal progress
// line are two consumers.
//
// The trainer sits above grow and nn; it knows nothing of the command line,
// which belongs to cmd/sprout.
package trainer
