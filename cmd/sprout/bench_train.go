package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sproutml/sprout/asm"
	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/trainer"
)

// benchTrainResult is one `sprout bench train` measurement.
type benchTrainResult struct {
	Arch      string `json:"arch"`
	Layers    int    `json:"layers"`
	Dim       int    `json:"dim"`
	Heads     int    `json:"heads"`
	Ctx       int    `json:"ctx"`
	Batch     int    `json:"batch"`
	Optimizer string `json:"optimizer"`
	Workers   int    `json:"workers"`
	Cores     int    `json:"cores"` // GOMAXPROCS: the cores the run may use
	Kernel    string `json:"kernel"`

	Params      int `json:"params"`
	ParamsNoPos int `json:"params_nonpos"` // a token's active parameters (moe: top-k experts), without the position embedding

	Steps        int     `json:"steps"`        // timed steps
	WarmupSteps  int     `json:"warmup_steps"` // untimed steps before them
	StepMedianMS float64 `json:"step_median_ms"`
	StepMinMS    float64 `json:"step_min_ms"`
	TokensPerS   float64 `json:"tokens_per_s"` // batch*ctx / median step

	// FLOPs per token: nanoGPT/PaLM's 6N + 12*L*T*d (the count of
	// bench/reference/torch_gpt.py) and sprout's exact count (grow.StepFLOPs).
	FLOPsPerToken      float64 `json:"flops_per_token"`
	FLOPsPerTokenExact float64 `json:"flops_per_token_exact"`
	GFLOPS             float64 `json:"gflops"`
	GFLOPSExact        float64 `json:"gflops_exact"`

	PeakGFLOPS float64 `json:"peak_gflops"` // FMA peak of one core times Cores
	MFU        float64 `json:"mfu"`         // GFLOPS / PeakGFLOPS

	// GEMMSolo is the fraction of GEMMs large enough to split across
	// threads that ran on one because the machine was busy (asm.Crowding).
	GEMMSolo  float64 `json:"gemm_solo"`
	MFUExact  float64 `json:"mfu_exact"`
	FinalLoss float64 `json:"final_loss"`
}

func runBenchTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench train", "bench train [flags]", stdout)
	model := nn.Config{Vocab: 256, Layers: 6, Dim: 256, Heads: 8, Ctx: 256}
	addModelFlags(fs, &model, "depth in blocks")
	batch := fs.Int("batch", 16, "sequences per step")
	workers := fs.Int("workers", 0, "workers (0: all cores)")
	steps := fs.Int("steps", 20, "timed steps")
	warm := fs.Int("warmup-steps", 3, "untimed steps before the timed ones")
	recipe := addRecipeFlags(fs, "bench train", recipeNoSchedule)
	data := fs.String("data", "", "training data (default: the embedded corpus)")
	jsonOut := fs.Bool("json", false, "print the result as one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed steps to this file (read it with go tool pprof)")
	sweep := fs.String("sweep", "", "widths to measure one after another, e.g. 64,128,256,768 (heads: width/64, at least 2), each on one core (GOMAXPROCS 1) and on all cores, printed as one table (with --json: one object per run)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var widths []int
	if *sweep != "" {
		for _, w := range strings.Split(*sweep, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(w))
			if err != nil || n < 2 {
				return usagef("bench train: --sweep: %q is not a width >= 2", w)
			}
			widths = append(widths, n)
		}
		if *cpuProfile != "" || flagGiven(fs, "workers") || flagGiven(fs, "dim") || flagGiven(fs, "heads") {
			return usagef("bench train: --sweep sets the width, heads and workers itself and takes no --cpuprofile")
		}
	}
	if err := recipe.resolve(); err != nil {
		return err
	}
	var prof io.Writer
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("bench train: --cpuprofile: %w", err)
		}
		defer f.Close()
		prof = f
	}
	if *steps < 2 {
		return usagef("bench train: --steps must be at least 2, got %d", *steps)
	}
	if *warm < 0 {
		return usagef("bench train: --warmup-steps must be >= 0, got %d", *warm)
	}
	if *workers < 0 {
		return usagef("bench train: --workers must be >= 0, got %d", *workers)
	}
	if err := model.Validate(); err != nil {
		return usagef("bench train: %v", err)
	}
	if *batch < 1 {
		return usagef("bench train: --batch must be at least 1, got %d", *batch)
	}
	if *data != "" {
		if _, err := os.Stat(*data); err != nil {
			return fmt.Errorf("bench train: --data: %w", err)
		}
	}
	cfg := trainer.Config{
		Model:     model,
		Data:      *data,
		Batch:     *batch,
		Steps:     *warm + *steps,
		Schedule:  trainer.ScheduleConstant,
		Workers:   *workers,
		Seed:      1,
		EvalEvery: -1,
		LogEvery:  1,
	}
	recipe.apply(&cfg)
	// The whole run, memory included, is checked before anything is
	// allocated, as train does.
	check := cfg
	check.Defaults()
	if err := check.Validate(); err != nil {
		return usagef("bench train: %v", err)
	}
	ctx, stop := interruptContext(stderr, "stopping after the current step")
	defer stop()
	if widths != nil {
		err := benchSweep(ctx, cfg, widths, *warm, *jsonOut, stdout, stderr)
		stop()
		return withSignal(ctx, err)
	}
	r, err := benchTrain(ctx, cfg, *warm, prof)
	stop() // the timed run is over: a signal now ends the process
	if err != nil {
		return withSignal(ctx, err)
	}
	if *jsonOut {
		return json.NewEncoder(stdout).Encode(r)
	}
	_, err = fmt.Fprintf(stdout, "sprout bench train: %s L=%d d=%d heads=%d T=%d B=%d, %s, %d workers on %d cores, kernel %s\n"+
		"params %d (active non-positional %d); FLOPs/token %.2fM (6N+12LTd), %.2fM (exact)\n"+
		"step median %.1f ms (min %.1f) over %d steps after %d warm-up: %.0f tokens/s\n"+
		"%.1f GFLOP/s = %.1f%% MFU (exact count: %.1f GFLOP/s = %.1f%%) of %.1f GFLOP/s peak (%d x %.1f)\n",
		r.Arch, r.Layers, r.Dim, r.Heads, r.Ctx, r.Batch, r.Optimizer, r.Workers, r.Cores, r.Kernel,
		r.Params, r.ParamsNoPos, r.FLOPsPerToken/1e6, r.FLOPsPerTokenExact/1e6,
		r.StepMedianMS, r.StepMinMS, r.Steps, r.WarmupSteps, r.TokensPerS,
		r.GFLOPS, 100*r.MFU, r.GFLOPSExact, 100*r.MFUExact, r.PeakGFLOPS, r.Cores, r.PeakGFLOPS/float64(r.Cores))
	if err == nil && r.GEMMSolo > 0 {
		_, err = fmt.Fprintf(stdout, "the machine was busy: %.1f%% of the GEMMs worth splitting ran on one thread\n", 100*r.GEMMSolo)
	}
	return err
}

// benchTrain runs cfg (fixed depth, no evaluation, no checkpoint) through
// the trainer, as a user's run would go, and times the steps after the first
// warm ones from the trainer's own step events.
func benchTrain(ctx context.Context, cfg trainer.Config, warm int, prof io.Writer) (*benchTrainResult, error) {
	var walls []float64 // WallS of step events 1, 2, ...
	var profErr error
	profiling := false
	sink := benchSink(func(e trainer.Event) {
		if s, ok := e.(trainer.StepEvent); ok {
			walls = append(walls, s.WallS)
			// Events come from the training loop between steps: the profile
			// covers exactly the timed ones.
			if prof != nil && len(walls) == warm && profErr == nil {
				profErr = pprof.StartCPUProfile(prof)
				profiling = profErr == nil
			}
		}
	})
	if prof != nil && warm == 0 {
		profErr = pprof.StartCPUProfile(prof)
		profiling = profErr == nil
	}
	split0, solo0 := asm.Crowding()
	res, err := trainer.Run(ctx, cfg, sink)
	if profiling {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return nil, err
	}
	if profErr != nil {
		return nil, fmt.Errorf("bench train: --cpuprofile: %w", profErr)
	}
	split1, solo1 := asm.Crowding()
	if len(walls) < warm+2 {
		return nil, fmt.Errorf("bench train: the trainer reported %d steps, want %d", len(walls), cfg.Steps)
	}
	var dts []float64
	for i := warm; i < len(walls); i++ {
		prev := 0.0
		if i > 0 {
			prev = walls[i-1]
		}
		dts = append(dts, walls[i]-prev)
	}
	slices.Sort(dts)
	med := dts[len(dts)/2]
	if len(dts)%2 == 0 {
		med = (dts[len(dts)/2-1] + dts[len(dts)/2]) / 2
	}

	m := res.Config.Model
	if m.Dim == 0 {
		m = cfg.Model
	}
	d, L, T, B := m.Dim, m.Layers, m.Ctx, res.Config.Batch
	if B == 0 {
		B = cfg.Batch
	}
	n := nn.ParamCount(m)
	nNoPos := nn.ActiveParamCount(m)
	if m.Arch == "" || m.Arch == nn.ArchGPT2 {
		nNoPos -= m.Ctx * d // learned positions: no FLOPs
	}
	tokens := float64(B * T)
	r := &benchTrainResult{
		Arch: cmp.Or(m.Arch, nn.ArchGPT2), Layers: L, Dim: d, Heads: m.Heads, Ctx: T, Batch: B, Optimizer: cfg.Optimizer,
		Workers: res.Summary.Workers, Cores: runtime.GOMAXPROCS(0), Kernel: res.Summary.Kernel,
		Params: n, ParamsNoPos: nNoPos, Steps: len(dts), WarmupSteps: warm,
		StepMedianMS: 1e3 * med, StepMinMS: 1e3 * dts[0], TokensPerS: tokens / med,
		FLOPsPerToken:      6*float64(nNoPos) + 12*float64(L*T*d),
		FLOPsPerTokenExact: grow.StepFLOPs(m, L, B, T) / tokens,
		FinalLoss:          res.Summary.FinalTrainLoss,
	}
	if r.Kernel == "" {
		r.Kernel = asm.Kernel()
	}
	r.GFLOPS = r.TokensPerS * r.FLOPsPerToken / 1e9
	r.GFLOPSExact = r.TokensPerS * r.FLOPsPerTokenExact / 1e9
	r.PeakGFLOPS = asm.PeakGFLOPS(300*time.Millisecond) * float64(r.Cores)
	r.MFU = r.GFLOPS / r.PeakGFLOPS
	r.MFUExact = r.GFLOPSExact / r.PeakGFLOPS
	if split1 > split0 {
		r.GEMMSolo = float64(solo1-solo0) / float64(split1-split0)
	}
	return r, nil
}

// benchSink adapts a function to trainer.Sink.
type benchSink func(trainer.Event)

func (f benchSink) Emit(e trainer.Event) error { f(e); return nil }

// benchSweep runs cfg at each width, on one core and on all of them, and
// prints a table (or JSON Lines) of tokens/s and MFU.
func benchSweep(ctx context.Context, cfg trainer.Config, widths []int, warm int, jsonOut bool, stdout, stderr io.Writer) error {
	all := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(all)
	type row struct{ one, many *benchTrainResult }
	var rows []row
	for _, w := range widths {
		c := cfg
		c.Model.Dim, c.Model.Heads = w, max(2, w/64)
		if w%c.Model.Heads != 0 {
			c.Model.Heads = 1
		}
		check := c
		check.Defaults()
		if err := check.Validate(); err != nil {
			return usagef("bench train: --sweep width %d: %v", w, err)
		}
		var rw row
		for _, cores := range []int{1, all} {
			runtime.GOMAXPROCS(cores)
			c.Workers = cores
			fmt.Fprintf(stderr, "bench train: width %d, %d heads, %d core(s)...\n", w, c.Model.Heads, cores)
			r, err := benchTrain(ctx, c, warm, nil)
			if err != nil {
				return err
			}
			if jsonOut {
				if err := json.NewEncoder(stdout).Encode(r); err != nil {
					return err
				}
			}
			if cores == 1 {
				rw.one = r
			} else {
				rw.many = r
			}
		}
		rows = append(rows, rw)
	}
	if jsonOut {
		return nil
	}
	r0 := rows[0].one
	fmt.Fprintf(stdout, "sprout bench train --sweep: %s L=%d T=%d B=%d, %s, kernel %s, %d timed steps after %d warm-up; one core's peak %.1f GFLOP/s\n",
		r0.Arch, r0.Layers, r0.Ctx, r0.Batch, r0.Optimizer, r0.Kernel, r0.Steps, r0.WarmupSteps, r0.PeakGFLOPS)
	fmt.Fprintf(stdout, "%6s %6s %14s %9s %14s %9s %8s\n", "width", "heads", "1 core tok/s", "MFU", fmt.Sprintf("%d cores tok/s", all), "MFU", "scaling")
	for _, rw := range rows {
		scaling := "-"
		if rw.many != nil && rw.many.Cores > 1 {
			scaling = fmt.Sprintf("%.2fx", rw.many.TokensPerS/rw.one.TokensPerS)
		}
		fmt.Fprintf(stdout, "%6d %6d %14.0f %8.1f%% %14.0f %8.1f%% %8s\n", rw.one.Dim, rw.one.Heads, rw.one.TokensPerS, 100*rw.one.MFUExact,
			rw.many.TokensPerS, 100*rw.many.MFUExact, scaling)
	}
	fmt.Fprintln(stdout, "MFU counts the exact model FLOPs (grow.StepFLOPs) against the FMA peak of the cores used")
	return nil
}
