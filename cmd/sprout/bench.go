package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

func init() {
	commands["bench"] = command{"measure the GEMM kernels (gemm), training throughput and MFU (train), or tokenizing (tokenize)", runBench}
}

// runBench dispatches `sprout bench gemm|train [flags]`.
func runBench(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("bench: want a benchmark: gemm, train or tokenize (see 'sprout bench -h')")
	}
	switch args[0] {
	case "gemm":
		return runBenchGEMM(args[1:], stdout)
	case "train":
		return runBenchTrain(args[1:], stdout, stderr)
	case "tokenize":
		return runBenchTokenize(args[1:], stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, "Usage: sprout bench gemm|train|tokenize [flags]")
		fmt.Fprintln(stdout, "\n  gemm   asm.Sgemm GFLOP/s and % of the measured FMA peak, next to gonum's Sgemm")
		fmt.Fprintln(stdout, "  train  training tokens/s and model-FLOPs utilisation of a fixed-depth model (gpt2, llama or moe)")
		fmt.Fprintln(stdout, "  tokenize  encoding MB/s of a tokenizer (gpt2) on one core and on all")
		fmt.Fprintln(stdout, "\nRun 'sprout bench gemm -h', 'sprout bench train -h' or 'sprout bench tokenize -h' for their flags.")
		return flag.ErrHelp
	}
	if strings.HasPrefix(args[0], "-") {
		return usagef("bench: flag %s before the benchmark name; want 'sprout bench gemm|train|tokenize [flags]'", args[0])
	}
	return usagef("bench: unknown benchmark %q (want gemm, train or tokenize)", args[0])
}

func runBenchGEMM(args []string, stdout io.Writer) error {
	fs := newFlagSet("bench gemm", "bench gemm [flags]", stdout)
	jsonOut := fs.Bool("json", false, "print one JSON object per shape (JSON Lines)")
	threads := fs.Int("threads", 0, "GEMM threads (0: all cores)")
	shapes := fs.String("shapes", "", "comma-separated shapes: N or MxKxN with an optional NN/NT/TN/TT suffix (default: squares 128..2048 and transformer shapes)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *threads < 0 {
		return usagef("bench gemm: --threads must be >= 0, got %d", *threads)
	}
	if _, err := parseGEMMShapes(*shapes); err != nil {
		return usagef("bench gemm: --shapes: %v", err)
	}
	return benchGEMM(stdout, *jsonOut, *threads, *shapes)
}
