package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/sproutml/sprout/asm"
	"github.com/sproutml/sprout/trainer"
)

// usageError marks errors in how the command was called; they exit with 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// command is one sub-command: run parses its own flags from args.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one sprout invocation and returns its exit code: 0 on
// success, 1 on failure, 2 on a usage error, 128+signal when a signal
// stopped a run (after it wrote its checkpoint): 130 for Ctrl-C, 143 for
// SIGTERM, 129 for SIGHUP.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return exitCode(c.run([]string{"-h"}, stdout, stderr), stderr)
			}
		}
		printUsage(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sprout: unknown command %q (run 'sprout help' for the list)\n", args[0])
		return 2
	}
	if err := checkKernelEnv(); err != nil {
		return exitCode(err, stderr)
	}
	return exitCode(c.run(args[1:], stdout, stderr), stderr)
}

// checkKernelEnv refuses a SPROUT_KERNEL that this build cannot run here.
// The asm package then only warns and keeps the best path, which suits a
// library; a benchmark that silently ran another path would mislead.
func checkKernelEnv() error {
	env := strings.TrimSpace(os.Getenv("SPROUT_KERNEL"))
	if env == "" || slices.Contains(asm.Supported(), env) {
		return nil
	}
	return usagef("SPROUT_KERNEL=%s cannot run here; unset it or use one of: %s", env, strings.Join(asm.Supported(), ", "))
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	fmt.Fprintf(stderr, "sprout: %s\n", msg)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	var sig signalled
	if errors.As(err, &sig) {
		return sig.exitCode()
	}
	if errors.Is(err, trainer.ErrInterrupted) {
		return 130 // the shell's code for a run stopped by SIGINT
	}
	return 1
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "sprout trains transformer language models on CPUs with zero/one-layer progressive depth training.")
	fmt.Fprintln(w, "\nUsage: sprout COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'sprout COMMAND -h' for a command's flags and their defaults.")
}

// newFlagSet returns a flag set that reports parse errors as usage errors
// instead of exiting, and prints its help to stdout.
func newFlagSet(name, synopsis string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fs.SetOutput(stdout)
		fmt.Fprintf(stdout, "Usage: sprout %s\n", synopsis)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(stdout, "\nFlags:")
			fs.PrintDefaults()
		}
		fs.SetOutput(io.Discard)
	}
	return fs
}

// flagGiven reports whether the flag was given on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == name {
			found = true
		}
	})
	return found
}

// parseFlags parses args, turning flag errors into usage errors and
// rejecting stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	// The flag package calls Usage on every parse error; print it only for
	// -h, once: a bad flag gets one line on stderr and nothing on stdout.
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return err
		}
		return usagef("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}
