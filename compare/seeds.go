package compare

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// A comparison over several seeds (Experiment.Seeds, or files of different
// seeds merged) compares each run with the fixed-depth run of its own seed,
// and SeedRows averages each variant over its seeds: at these scales one
// seed can move a progressive run's gap by a point, so a verdict on mixing
// wants more than one.

// Seed is the seed of the run's initialisation and data order.
func (r Run) Seed() uint64 { return r.Config.Seed }

// Seeds are the distinct seeds of the report's runs, in order of first use.
func (r *Report) Seeds() []uint64 {
	var seeds []uint64
	for _, run := range r.Runs {
		if !slices.Contains(seeds, run.Seed()) {
			seeds = append(seeds, run.Seed())
		}
	}
	return seeds
}

// baselineOf is the index of run i's baseline: the report's baseline, or in
// a report of several seeds the first fixed-depth run of run i's seed on the
// baseline's schedule when there is one; -1 without a baseline.
func (r *Report) baselineOf(i int) int {
	b := r.Baseline
	if b < 0 || b >= len(r.Runs) || r.Runs[i].Seed() == r.Runs[b].Seed() {
		return b
	}
	for j, run := range r.Runs {
		if run.Spec.fullFixed() && run.Config.Schedule == r.Runs[b].Config.Schedule && run.Seed() == r.Runs[i].Seed() {
			return j
		}
	}
	return b // no fixed run of that seed: compare with the report's baseline
}

// label is how tables and charts name a run: its name, and its seed when the
// report has several.
func label(name string, seed uint64, multiSeed bool) string {
	if multiSeed {
		return fmt.Sprintf("%s s%d", name, seed)
	}
	return name
}

// SeedRow is one variant of a comparison over several seeds: its runs'
// means, each run compared with the fixed-depth run of its own seed.
type SeedRow struct {
	Name  string
	Seeds []uint64
	// FinalValLoss is the mean of the runs' final validation losses and
	// BaselineLoss the mean of their baselines'; DeltaPct compares the two.
	FinalValLoss float64
	BaselineLoss float64
	DeltaPct     float64
	// MinDeltaPct and MaxDeltaPct are the extremes of the runs' own deltas.
	MinDeltaPct float64
	MaxDeltaPct float64
	FLOPsRatio  float64 // the baselines' mean FLOPs over the runs'
	Mixed       bool    // the mean within the tolerance of the baselines' mean
}

// SeedRows averages each variant (runs of the same name) over its seeds, in
// order of first appearance. The deltas are NaN for runs without a
// baseline.
func (r *Report) SeedRows() []SeedRow {
	rows := r.Rows()
	var out []SeedRow
	at := map[string]int{}
	var sumBaseFLOPs, sumFLOPs []float64
	for i, run := range r.Runs {
		k, ok := at[run.Name]
		if !ok {
			k = len(out)
			at[run.Name] = k
			out = append(out, SeedRow{Name: run.Name, MinDeltaPct: math.Inf(1), MaxDeltaPct: math.Inf(-1)})
			sumBaseFLOPs, sumFLOPs = append(sumBaseFLOPs, 0), append(sumFLOPs, 0)
		}
		row := &out[k]
		row.Seeds = append(row.Seeds, run.Seed())
		row.FinalValLoss += run.FinalValLoss()
		if b := r.baselineOf(i); b >= 0 {
			row.BaselineLoss += r.Runs[b].FinalValLoss()
			sumBaseFLOPs[k] += r.Runs[b].Summary.FLOPs
		} else {
			row.BaselineLoss = math.NaN()
		}
		sumFLOPs[k] += run.Summary.FLOPs
		row.MinDeltaPct = min(row.MinDeltaPct, rows[i].DeltaPct)
		row.MaxDeltaPct = max(row.MaxDeltaPct, rows[i].DeltaPct)
	}
	for k := range out {
		row := &out[k]
		c := float64(len(row.Seeds))
		row.FinalValLoss /= c
		row.BaselineLoss /= c
		row.DeltaPct = 100 * (row.FinalValLoss - row.BaselineLoss) / row.BaselineLoss
		row.FLOPsRatio = ratio(sumBaseFLOPs[k], sumFLOPs[k])
		row.Mixed = Mixed(row.FinalValLoss, row.BaselineLoss, r.Tolerance)
		if math.IsNaN(row.DeltaPct) {
			row.MinDeltaPct, row.MaxDeltaPct = math.NaN(), math.NaN()
		}
	}
	return out
}

var seedHeader = []string{"run", "seeds", "mean final val loss", "mean delta %", "delta % range", "FLOPs ratio", "mixed"}

func (row SeedRow) cells() []string {
	seeds := make([]string, len(row.Seeds))
	for i, s := range row.Seeds {
		seeds[i] = fmt.Sprint(s)
	}
	mixed := "no"
	if row.Mixed {
		mixed = "yes"
	}
	if math.IsNaN(row.DeltaPct) {
		mixed = "-"
	}
	span := "-"
	if !math.IsNaN(row.MinDeltaPct) {
		span = fmt.Sprintf("%+.2f..%+.2f", row.MinDeltaPct, row.MaxDeltaPct)
	}
	return []string{row.Name, strings.Join(seeds, " "), fmtLoss(row.FinalValLoss), fmtNum("%+.2f", row.DeltaPct), span,
		fmtNum("%.2fx", row.FLOPsRatio), mixed}
}

// seedCaption says what the table over seeds compares each run with, and
// names the seed whose fixed run stands in for seeds that have none.
func (r *Report) seedCaption() string {
	c := "each run against the fixed run of its seed"
	if b := r.Baseline; b >= 0 && b < len(r.Runs) {
		for i, run := range r.Runs {
			if r.baselineOf(i) == b && run.Seed() != r.Runs[b].Seed() {
				return fmt.Sprintf("%s, or seed %d's where its seed has none", c, r.Runs[b].Seed())
			}
		}
	}
	return c
}

// seedTable is the table over seeds (header first), nil for a report of one
// seed.
func (r *Report) seedTable() [][]string {
	if len(r.Seeds()) < 2 {
		return nil
	}
	cells := [][]string{seedHeader}
	for _, row := range r.SeedRows() {
		cells = append(cells, row.cells())
	}
	return cells
}
