package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sproutml/sprout/compare"
	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/trainer"
)

func init() {
	commands["compare"] = command{"train a fixed-depth baseline and progressive variants; table, chart, JSON", runCompare}
}

func runCompare(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", "compare [flags]", stdout)
	data := fs.String("data", "", "training text file, directory or .bin token file (default: the embedded corpus)")
	model := nn.Config{Vocab: 256, Layers: 6, Dim: 128, Heads: 4, Ctx: 128}
	addModelFlags(fs, &model, "target depth in blocks (the fixed run's depth, and every progressive run's after growth)")
	batch := fs.Int("batch", 16, "sequences per step")
	steps := fs.Int("steps", 600, "optimizer steps of every run")
	recipe := addRecipeFlags(fs, "compare", recipeFractions)
	seed := fs.Uint64("seed", 1, "seed of initialisation and data order, shared by all runs (with --replot: the seed of runs whose file does not record one)")
	seedList := fs.String("seeds", "", "run every variant once per seed, e.g. 1,2,3 (instead of --seed): each run is compared with the fixed run of its seed, and a table over seeds gives every variant's mean")
	variants := fs.String("variants", compare.DefaultSpecs, "runs, comma-separated: fixed, FROM-STRATEGY (0-random, 1-random, 1-copy, 1-copy-interleave, 1-zero, ...), with optional -cosine and @TAU suffixes, and fixed=SPEC: the fixed-depth model cut to the FLOPs of the progressive run SPEC (fixed=0-random@0.6)")
	growAt := fs.Float64("grow-at", 0, "expansion point tau of the progressive runs, as a fraction of the steps (0: "+defaultAtRule+")")
	growOptState := fs.String("grow-optim-state", string(grow.FreshNew), "optimizer state at expansion: fresh (new blocks start fresh), copy (copied blocks copy it) or reset (all)")
	growScale := fs.String("grow-scale", string(grow.ScaleDepth), "weight scale of new random blocks: depth (the init for the target depth) or trained (each matrix at the trained blocks' RMS)")
	growPlace := fs.String("grow-place", string(grow.PlaceBottom), "random/zero variants: where the trained blocks go among the new ones: bottom, top or middle")
	growRewarmup := fs.Float64("grow-rewarmup", 0, "after the expansion, ramp the learning rate back up over this fraction of the steps (0: none)")
	tauSweep := fs.String("tau-sweep", "", "expansion points to try for the best progressive run, e.g. 0.8,0.7,0.6,0.5: reports the latest whose final val loss is within --tolerance of the baseline's")
	tolerance := fs.Float64("tolerance", compare.DefaultTolerance, "relative final-loss gap that counts as caught up (mixed)")
	evalEvery := fs.Int("eval-every", 0, "steps between evaluations (0: steps/20)")
	evalWindows := fs.Int("eval-windows", 0, "validation windows per evaluation (0: the trainer's default)")
	workers := fs.Int("workers", 0, "workers per run (0: all cores)")
	out := fs.String("out", "", "directory for compare.png, compare.txt, compare.md and compare.jsonl")
	jsonOut := fs.Bool("json", false, "print one JSON object per run (JSON Lines) instead of the table")
	replot := fs.String("replot", "", "train nothing: read a compare.jsonl (or several, comma-separated, joined into one comparison of one recipe: optimizer, lr, weight decay, clipping, batch, warmup, decay and validation set) and print its table (and with --out rewrite the chart and tables)")
	noBaseline := fs.Bool("no-baseline", false, "allow --variants without \"fixed\", to split a comparison across processes or machines (join the parts with --replot A,B)")
	title := fs.String("title", "", "chart title (default: depth and width)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := recipe.resolve(); err != nil {
		return err
	}
	if *batch < 1 {
		return usagef("compare: --batch must be at least 1, got %d", *batch)
	}
	if !(*tolerance >= 0) || math.IsInf(*tolerance, 1) {
		return usagef("compare: --tolerance must be a finite number >= 0, got %v", *tolerance)
	}
	if *replot != "" {
		return replotCompare(*replot, *out, *title, *tolerance, *seed, *jsonOut, stdout, stderr)
	}
	seeds, err := parseSeeds(*seedList)
	if err != nil {
		return usagef("compare: --seeds: %v", err)
	}
	if len(seeds) > 0 && flagGiven(fs, "seed") {
		return usagef("compare: give --seed or --seeds, not both")
	}
	if *title == "" {
		*title = chartTitle(model)
	}
	specs, err := compare.ParseSpecs(*variants)
	if err != nil {
		return usagef("%v", err)
	}
	taus, err := compare.ParseTaus(*tauSweep)
	if err != nil {
		return usagef("%v", err)
	}
	plan := grow.Plan{OptimState: grow.OptimState(*growOptState), Scale: grow.Scale(*growScale), Place: grow.Place(*growPlace), Rewarmup: *growRewarmup}
	if _, err := grow.ParseOptimState(*growOptState); err != nil {
		return usagef("compare: --grow-optim-state: %v", err)
	}
	if _, err := grow.ParseScale(*growScale); err != nil {
		return usagef("compare: --grow-scale: %v", err)
	}
	if _, err := grow.ParsePlace(*growPlace); err != nil {
		return usagef("compare: --grow-place: %v", err)
	}
	if !(*growRewarmup >= 0 && *growRewarmup < 1) {
		return usagef("compare: --grow-rewarmup must be a fraction of the steps in [0, 1), got %v", *growRewarmup)
	}
	if *data != "" {
		if _, err := os.Stat(*data); err != nil {
			return fmt.Errorf("compare: --data: %w", err)
		}
	}
	if *evalEvery == 0 {
		*evalEvery = max(1, *steps/20)
	}
	e := compare.Experiment{
		Base: trainer.Config{
			Model:       model,
			Data:        *data,
			Batch:       *batch,
			Steps:       *steps,
			Seed:        *seed,
			Workers:     *workers,
			EvalEvery:   *evalEvery,
			EvalWindows: *evalWindows,
		},
		Specs:      specs,
		At:         *growAt,
		Grow:       plan,
		TauSweep:   taus,
		Seeds:      seeds,
		Tolerance:  *tolerance,
		NoBaseline: *noBaseline,
	}
	recipe.apply(&e.Base)
	if err := e.Base.Model.Validate(); err != nil {
		return usagef("compare: %v", err)
	}
	if _, err := e.Variants(); err != nil {
		return usagef("%v", err)
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return fmt.Errorf("compare: --out: %w", err)
		}
	}

	ctx, stop := interruptContext(stderr, "finishing the current step and reporting the finished runs")
	defer stop()
	rep, runErr := e.Run(ctx, compare.Options{Progress: stderr})
	stop() // the runs are over: a signal now ends the process
	runErr = withSignal(ctx, runErr)
	if rep == nil || len(rep.Runs) == 0 {
		return runErr
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "sprout: compare stopped early (%v); reporting the %d finished run(s)\n", runErr, len(rep.Runs))
	}
	if *jsonOut {
		err = rep.WriteJSONL(stdout)
	} else {
		err = rep.WriteTable(stdout)
	}
	if err == nil && *out != "" {
		err = writeCompareOutputs(*out, rep, *title)
		if err == nil {
			fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(*out, "compare.{png,txt,md,jsonl}"))
		}
	}
	return errors.Join(runErr, err)
}

// parseSeeds reads a comma-separated list of seeds ("" gives none).
func parseSeeds(list string) ([]uint64, error) {
	var seeds []uint64
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		s, err := strconv.ParseUint(item, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("seed %q is not a whole number >= 0", item)
		}
		seeds = append(seeds, s)
	}
	if strings.TrimSpace(list) != "" && len(seeds) == 0 {
		return nil, errors.New("no seeds in the list")
	}
	return seeds, nil
}

// chartTitle is the default chart title: architecture, depth and width.
func chartTitle(m nn.Config) string {
	t := fmt.Sprintf("depth %d, d=%d", m.Layers, m.Dim)
	if m.Arch != "" && m.Arch != nn.ArchGPT2 {
		t = m.Arch + ", " + t
	}
	return t
}

// replotTitle is the default title of a redrawn chart: the runs' own model
// (the model flags' defaults would name another).
func replotTitle(rep *compare.Report) string {
	run := rep.Runs[max(rep.Baseline, 0)]
	if run.Config.Model.Dim == 0 { // a file from before models were recorded
		return fmt.Sprintf("depth %d", run.Summary.LayersEnd)
	}
	return chartTitle(run.Config.Model)
}

// replotCompare redraws a finished comparison from its JSON Lines: one
// file, or the comma-separated parts of a comparison split across processes.
func replotCompare(paths, out, title string, tolerance float64, seed uint64, jsonOut bool, stdout, stderr io.Writer) error {
	var parts []*compare.Report
	for _, path := range strings.Split(paths, ",") {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("compare: --replot: %w", err)
		}
		rep, err := compare.ReadJSONL(f, tolerance, seed)
		f.Close()
		if err != nil {
			return fmt.Errorf("compare: --replot %s: %s", path, strings.TrimPrefix(err.Error(), "compare: "))
		}
		parts = append(parts, rep)
	}
	rep, err := compare.Merge(parts...)
	if err != nil {
		return fmt.Errorf("compare: --replot: %s", strings.TrimPrefix(err.Error(), "compare: "))
	}
	if title == "" {
		title = replotTitle(rep)
	}
	if jsonOut {
		err = rep.WriteJSONL(stdout)
	} else {
		err = rep.WriteTable(stdout)
	}
	if err != nil || out == "" {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("compare: --out: %w", err)
	}
	if err := writeCompareOutputs(out, rep, title); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(out, "compare.{png,txt,md,jsonl}"))
	return nil
}

// writeCompareOutputs writes the JSON Lines, the table (text and Markdown)
// and the chart into dir, each through a temporary file renamed into place
// so that an existing file is never left half-written. The data goes first:
// a chart that cannot be drawn must not cost the runs' results.
func writeCompareOutputs(dir string, rep *compare.Report, title string) error {
	outputs := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"compare.jsonl", rep.WriteJSONL},
		{"compare.txt", rep.WriteTable},
		{"compare.md", rep.WriteMarkdown},
		{"compare.png", func(w io.Writer) error { return rep.WriteChart(w, compare.ChartOptions{Title: title}) }},
	}
	for _, o := range outputs {
		var buf bytes.Buffer
		if err := o.write(&buf); err != nil {
			return fmt.Errorf("compare: %s: %w", o.name, err)
		}
		if err := writeCompareFile(filepath.Join(dir, o.name), buf.Bytes()); err != nil {
			return fmt.Errorf("compare: %w", err)
		}
	}
	return nil
}

// writeCompareFile writes b to path via a temporary file in the same
// directory and a rename.
func writeCompareFile(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	merr := f.Chmod(0o644) // CreateTemp makes it private
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, merr, serr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
