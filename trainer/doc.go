// Package trainer runs one training job: it reads and splits the data,
// draws batches, follows the learning-rate schedule, evaluates, writes
// checkpoints and reports events; it owns the clock and the files.
//
// The pieces, one file each:
//
//   - data.go, sampler.go: the byte-level tokenizer, datasets from a text
//     file, a directory or a uint16 token file (.bin), the train/validation
//     split, seeded training windows whose state resumes exactly, and the
//     fixed validation windows.
//   - corpus.go: the embedded default corpus, a synthetic language generated
//     from a seed (see GenerateCorpus).
//   - schedule.go: WSD, cosine and constant learning-rate schedules.
//   - checkpoint.go, manifest.go: checkpoint directories (safetensors
//     weights and optimizer state, a JSON manifest with SHA-256 digests),
//     written atomically and verified on load.
//   - events.go, metrics.go, progress.go: the events a run emits and their
//     two consumers, the JSON Lines writer and the terminal progress line.
//
// The trainer sits above grow and nn; it knows nothing of the command line,
// which belongs to cmd/sprout.
package trainer
