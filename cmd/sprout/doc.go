// Command sprout trains transformer language models on CPUs with zero/one-layer
// progressive depth training. Run `sprout help` for the commands and
// `sprout COMMAND -h` for each one's flags.
//
// One file per command (train.go, sample.go, eval.go, grow.go, inspect.go,
// compare.go, bench*.go, import.go, export.go, version.go), each registering
// itself in init; main.go holds the dispatch and the exit codes: 0 success, 1
// failure, 2 usage error, 130 for a run stopped by Ctrl-C after its
// checkpoint. The command owns flags, terminal output and exit codes only:
// training, evaluation and file formats live in the library packages
// (trainer, compare, interop), so everything here can also be done from Go.
package main
