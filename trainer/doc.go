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
// The pieces, one file each:
//
//   - config.go: the run's Config, its Defaults and Validate, and each
//     optimizer's default learning rate (DefaultLR).
//   - memory.go: MinMemory, a lower bound on a run's memory, which Validate
//     compares with the machine's so that a run too big for it fails at
//     once instead of crashing out of memory.
//   - trainer.go: the loop. Each step: growth if due (checkpoints just before,
//     to PreGrowDir, and just after), a batch of windows, sharded forward and
//     backward, gradient clipping, the optimizer step (then, for a moe model
//     balanced by bias, nn.Model.UpdateBalanceBias from the step's expert
//     counts summed over the shards: integers, so worker-count-invariant;
//     the biases are saved with the weights), evaluation, events (moe steps
//     carry expert_tokens), checkpoints. A non-finite loss, gradient norm, validation loss or
//     weight stops the run with an error naming the step and writes nothing,
//     so the last good checkpoint stays. Cancelling the context stops after
//     the current step and checkpoints (ErrInterrupted).
//   - step.go: parallel steps. The batch is cut into shards of Config.Shard
//     sequences (default 1), each with its own nn.Tape; Workers goroutines
//     (errgroup) run whole shards, and the shards' gradients are summed in
//     shard order (the sum split across workers by parameter), so losses and
//     weights are bit-identical for any number of workers. asm's GEMM threads
//     are set to GOMAXPROCS/Workers so the two levels do not oversubscribe.
//     Evaluate runs fixed validation windows in fixed chunks.
//   - resume.go: Resume, LoadModel, GrowCheckpoint.
//   - start.go: StartCheckpoint, the step-0 checkpoint of a run that starts
//     from given weights (an imported model) for Resume to train.
//   - optim.go: the optimizers (AdamW, Muon, SGD) and their state as
//     "<param>.<key>" tensors.
//   - ablate.go: AblateBlocks, each block's contribution to the validation
//     loss (sprout eval --ablate), and AblateGroup, several blocks' together.
//   - mixing.go: the mixing check. After an expansion, each evaluation also
//     measures on MixWindows validation windows how much the blocks the last
//     expansion added (NewBlocks, from the growth history and the plan's
//     placement, so a resumed run knows them) contribute together: "in use"
//     or "idle" (below MixIdleNats). The gap to the fixed-depth run is
//     reported as unknown until a calibration can estimate it (est_gap).
//   - generate.go: sampling with the model's key/value cache.
//   - data.go, sampler.go: the byte-level tokenizer, datasets from a text
//     file, a directory or a uint16 token file (.bin), the train/validation
//     split, seeded training windows whose state resumes exactly, and the
//     fixed validation windows.
//   - rng.go: the seeded generators (one stream per use) and their saved
//     state.
//   - corpus.go: the embedded default corpus, a synthetic language generated
//     from a seed (see GenerateCorpus).
//   - schedule.go: WSD, cosine and constant learning-rate schedules.
//   - checkpoint.go, manifest.go: checkpoint directories (safetensors
//     weights and optimizer state, a JSON manifest with the model config, the
//     whole run Config, step, tokens, FLOPs, sampler state, schedule, growth
//     plan and history, last losses and SHA-256 digests), written atomically
//     and verified on load.
//   - events.go, metrics.go, progress.go: the events a run emits and their
//     two consumers, the JSON Lines writer and the terminal progress line.
//
// The trainer sits above grow and nn; it knows nothing of the command line,
// which belongs to cmd/sprout.
package trainer
