// Command sprout trains transformer language models on CPUs with zero/one-layer
// progressive depth training. Run `sprout help` for the commands and
// `sprout COMMAND -h` for each one's flags; docs/cli.md describes them all.
//
// Each command registers itself in init with its summary; run dispatches
// and maps errors to exit codes: 0 success, 1 failure, 2 usage error,
// 128+signal for a run stopped by a signal after its checkpoint (130 for
// Ctrl-C). The command owns flags, terminal output, exit codes and signals
// only: training, evaluation and file formats live in the library packages
// (trainer, compare, interop), so everything here can also be done from Go.
package main
