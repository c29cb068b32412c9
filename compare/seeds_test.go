package compare

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/sproutml/sprout/trainer"
)

// seedLoss gives fixed runs 2.0 on seed 1 and 2.2 on seed 2 (so comparing
// across seeds would be 10% off), and progressive runs +1% on seed 1, +2%
// on seed 2 and +0.5% on any other seed, against their own seed's fixed run.
func seedLoss(cfg trainer.Config) float64 {
	base := map[uint64]float64{1: 2.0, 2: 2.2}[cfg.Seed]
	if base == 0 {
		base = 2.0
	}
	if cfg.Grow == nil {
		return base
	}
	pct := map[uint64]float64{1: 1, 2: 2}[cfg.Seed]
	if pct == 0 {
		pct = 0.5
	}
	return base * (1 + pct/100)
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestSeeds(t *testing.T) {
	f := &fakeTrainer{loss: seedLoss}
	var seedsCalled []uint64
	train := func(ctx context.Context, cfg trainer.Config, sink trainer.Sink) (*trainer.Result, error) {
		seedsCalled = append(seedsCalled, cfg.Seed)
		return f.train(ctx, cfg, sink)
	}
	e := Experiment{Base: tinyBase(), Specs: mustSpecs(t, "fixed,0-random"), Seeds: []uint64{1, 2}}
	vs, err := e.Variants()
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 4 || vs[0].Config.Seed != 1 || vs[2].Config.Seed != 2 || vs[3].Name != "0-random" {
		t.Fatalf("variants %d (seeds %d, %d); want 4, seed 1's first", len(vs), vs[0].Config.Seed, vs[len(vs)-1].Config.Seed)
	}
	var progress bytes.Buffer
	rep, err := e.Run(context.Background(), Options{Train: train, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{1, 1, 2, 2}; len(seedsCalled) != 4 || seedsCalled[0] != want[0] || seedsCalled[1] != want[1] || seedsCalled[2] != want[2] || seedsCalled[3] != want[3] {
		t.Errorf("trainer called with seeds %v, want %v", seedsCalled, want)
	}
	if !strings.Contains(progress.String(), "[4/4] 0-random: 0 -> 4 blocks (random) at step 80, wsd schedule, 100 steps x 4 x 16 tokens, seed 2") {
		t.Errorf("progress does not name the seed:\n%s", progress.String())
	}
	if got := rep.Seeds(); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("Seeds() = %v", got)
	}
	rows := rep.Rows()
	if !near(rows[1].DeltaPct, 1) || !near(rows[3].DeltaPct, 2) || !near(rows[2].DeltaPct, 0) || rows[3].Seed != 2 {
		t.Errorf("deltas %v %v %v; want each run against its own seed's fixed run: +1, 0, +2", rows[1].DeltaPct, rows[2].DeltaPct, rows[3].DeltaPct)
	}
	if !rows[1].Mixed || rows[3].Mixed {
		t.Errorf("mixed %v, %v; want true (+1%%), false (+2%%)", rows[1].Mixed, rows[3].Mixed)
	}

	sr := rep.SeedRows()
	if len(sr) != 2 || sr[0].Name != "fixed" || sr[1].Name != "0-random" || len(sr[1].Seeds) != 2 {
		t.Fatalf("seed rows %+v", sr)
	}
	g := sr[1]
	meanLoss, meanBase := (2.02+2.244)/2, 2.1
	if !near(g.FinalValLoss, meanLoss) || !near(g.BaselineLoss, meanBase) || !near(g.DeltaPct, 100*(meanLoss-meanBase)/meanBase) {
		t.Errorf("0-random over seeds: loss %v base %v delta %v; want %v %v %v", g.FinalValLoss, g.BaselineLoss, g.DeltaPct, meanLoss, meanBase, 100*(meanLoss-meanBase)/meanBase)
	}
	if !near(g.MinDeltaPct, 1) || !near(g.MaxDeltaPct, 2) || g.Mixed || !near(g.FLOPsRatio, rows[1].FLOPsRatio) {
		t.Errorf("0-random over seeds: range %v..%v mixed %v ratio %v", g.MinDeltaPct, g.MaxDeltaPct, g.Mixed, g.FLOPsRatio)
	}
	if sr[0].DeltaPct != 0 || !sr[0].Mixed {
		t.Errorf("fixed over seeds %+v", sr[0])
	}
	rep.Tolerance = 0.016 // the mean, +1.52%, mixes at 1.6%
	if !rep.SeedRows()[1].Mixed {
		t.Error("mean +1.52% not mixed at a 1.6% tolerance")
	}
	rep.Tolerance = DefaultTolerance

	var table, md bytes.Buffer
	rep.WriteTable(&table)
	rep.WriteMarkdown(&md)
	for _, want := range []string{"0-random s2", "over seeds", "1 2", "+1.52", "+1.00..+2.00"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if !strings.Contains(md.String(), "| 0-random | 1 2 | 2.1320 | +1.52 | +1.00..+2.00 |") {
		t.Errorf("markdown lacks the row over seeds:\n%s", md.String())
	}

	var img bytes.Buffer
	if err := rep.WriteChart(&img, ChartOptions{Width: 600, Height: 300}); err != nil || img.Len() == 0 {
		t.Errorf("chart over seeds: %v", err)
	}

	// The seeds survive the JSON Lines, and so does the table.
	var jl bytes.Buffer
	if err := rep.WriteJSONL(&jl); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSONL(bytes.NewReader(jl.Bytes()), 0, 9)
	if err != nil {
		t.Fatal(err)
	}
	var table2 bytes.Buffer
	back.WriteTable(&table2)
	if table2.String() != table.String() {
		t.Errorf("read back:\n%s\nwant\n%s", table2.String(), table.String())
	}

	// A comparison per seed, merged, is the comparison over seeds.
	var parts []*Report
	for _, s := range []uint64{1, 2} {
		base := tinyBase()
		base.Seed = s
		p, err := Experiment{Base: base, Specs: mustSpecs(t, "fixed,0-random")}.Run(context.Background(), Options{Train: f.train})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	merged, err := Merge(parts...)
	if err != nil {
		t.Fatal(err)
	}
	var table3 bytes.Buffer
	merged.WriteTable(&table3)
	if table3.String() != table.String() {
		t.Errorf("merged per-seed comparisons:\n%s\nwant\n%s", table3.String(), table.String())
	}
}

// A run of a seed without its own fixed run is compared with the report's
// baseline, and a file that does not record seeds takes the reader's.
func TestSeedFallbacks(t *testing.T) {
	f := &fakeTrainer{loss: seedLoss}
	fixed, err := Experiment{Base: tinyBase(), Specs: mustSpecs(t, "fixed"), Seeds: []uint64{1}}.Run(context.Background(), Options{Train: f.train})
	if err != nil {
		t.Fatal(err)
	}
	base3 := tinyBase()
	base3.Seed = 3
	prog, err := Experiment{Base: base3, Specs: mustSpecs(t, "0-random"), NoBaseline: true}.Run(context.Background(), Options{Train: f.train})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Merge(fixed, prog)
	if err != nil {
		t.Fatal(err)
	}
	if d := rep.Rows()[1].DeltaPct; !near(d, 0.5) { // 2.01 against seed 1's 2.0
		t.Errorf("seed-3 run without a seed-3 baseline: delta %v, want 0.5 against the report's baseline", d)
	}

	// Strip the seeds, as files written before they were recorded lack them.
	var jl bytes.Buffer
	fixed.WriteJSONL(&jl)
	var obj map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(jl.Bytes()), &obj); err != nil {
		t.Fatal(err)
	}
	if obj["seed"] != 1.0 {
		t.Fatalf("seed written as %v, want 1", obj["seed"])
	}
	delete(obj, "seed")
	old, _ := json.Marshal(obj)
	back, err := ReadJSONL(bytes.NewReader(old), 0, 5)
	if err != nil || back.Runs[0].Seed() != 5 {
		t.Errorf("a line without a seed read with seed 5: %v, %v", back, err)
	}
	if _, err := Merge(fixed, fixed); err == nil || !strings.Contains(err.Error(), "seed 1") {
		t.Errorf("a run of the same seed merged twice: %v", err)
	}
}

func TestSeedsErrors(t *testing.T) {
	e := Experiment{Base: tinyBase(), Specs: mustSpecs(t, "fixed,1-random"), Seeds: []uint64{1, 2, 1}}
	if _, err := e.Variants(); err == nil || !strings.Contains(err.Error(), "seed 1 is listed twice") {
		t.Errorf("a seed listed twice: %v", err)
	}
	e.Seeds, e.TauSweep = []uint64{1, 2}, []float64{0.5}
	if _, err := e.Variants(); err == nil || !strings.Contains(err.Error(), "tau sweep runs on one seed") {
		t.Errorf("a tau sweep over two seeds: %v", err)
	}

	// One seed in Seeds sweeps on that seed.
	f := &fakeTrainer{loss: seedLoss}
	var seeds []uint64
	train := func(ctx context.Context, cfg trainer.Config, sink trainer.Sink) (*trainer.Result, error) {
		seeds = append(seeds, cfg.Seed)
		return f.train(ctx, cfg, sink)
	}
	e.Seeds, e.TauSweep = []uint64{2}, []float64{0.5}
	rep, err := e.Run(context.Background(), Options{Train: train})
	if err != nil {
		t.Fatal(err)
	}
	if len(seeds) != 3 || seeds[2] != 2 || rep.Sweep == nil || len(rep.Sweep.Tried) != 1 || rep.Sweep.Tried[0].Run != "1-random@0.5" {
		t.Errorf("sweep on seed 2: trainer seeds %v, sweep %+v", seeds, rep.Sweep)
	}
}

// A seed without a fixed run of its own is compared with the report's
// baseline, and the table over seeds says so.
func TestSeedTableBorrowedBaseline(t *testing.T) {
	run := func(name string, seed uint64, loss float64) Run {
		r := fakeRun(name, loss, 1e12)
		r.Config.Seed = seed
		return r
	}
	rep := &Report{Baseline: 0, Tolerance: DefaultTolerance, Runs: []Run{
		run("fixed", 1, 2), run("0-random", 1, 2.02), run("0-random", 2, 2.04)}}
	if d := rep.Rows()[2].DeltaPct; math.Abs(d-2) > 1e-9 {
		t.Errorf("seed 2 without a fixed run: delta %v%%, want +2%% against seed 1's", d)
	}
	const borrowed = "or seed 1's where its seed has none"
	var table, md bytes.Buffer
	rep.WriteTable(&table)
	rep.WriteMarkdown(&md)
	if !strings.Contains(table.String(), borrowed) || !strings.Contains(md.String(), borrowed) {
		t.Errorf("the tables over seeds do not say seed 2 borrows seed 1's fixed run:\n%s\n%s", table.String(), md.String())
	}

	rep.Runs = append(rep.Runs, run("fixed", 2, 2.04))
	table.Reset()
	rep.WriteTable(&table)
	if strings.Contains(table.String(), borrowed) || !strings.Contains(table.String(), "(each run against the fixed run of its seed):") {
		t.Errorf("every seed has its fixed run, yet:\n%s", table.String())
	}
	if d := rep.Rows()[2].DeltaPct; d != 0 {
		t.Errorf("seed 2 with its own fixed run: delta %v%%, want 0", d)
	}
}
