package compare

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/sproutml/sprout/trainer"
)

// Row is one run's line of the comparison table. Ratios are baseline/run,
// so a ratio of 4 means the run cost a quarter of the baseline; they and
// DeltaPct are NaN when there is no baseline to compare with.
type Row struct {
	Name         string
	Seed         uint64
	Grow         string // "1->12 @ step 1600 (copy)", "" for a fixed-depth run, "none, 640 steps" for a shortened one
	FinalValLoss float64
	DeltaPct     float64 // 100 * (loss - baseline) / baseline
	FLOPs        float64
	FLOPsRatio   float64
	WallS        float64
	WallRatio    float64
	Mixed        bool // final loss within the tolerance of the baseline's

	// Check is the run's last mixing check (its new blocks in use or idle),
	// nil for fixed-depth runs and runs without one.
	Check *trainer.MixCheck

	// Iso-loss ratios: what the baseline spent (FLOPs, wall time) until its
	// validation loss first reached this run's final loss, over what this
	// run spent in all; NaN when the baseline never got that low.
	IsoFLOPsRatio float64
	IsoWallRatio  float64

	// EqualLossFLOPsRatio, for a progressive run: what a fixed-depth run on
	// its own whole schedule would spend to end at this run's final loss,
	// over what this run spent. It is read off the final losses of the
	// report's fixed-depth runs of the run's seed, the full one and those
	// cut to other runs' compute ("fixed=SPEC"), linearly in log FLOPs
	// between the two that bracket the loss; NaN when none do. Unlike the
	// iso-loss ratios, which read the baseline's curve before its decay, it
	// compares finished runs with finished runs.
	EqualLossFLOPsRatio float64
}

// Rows computes the table, one row per run in order. Each run is compared
// with the baseline, or in a report of several seeds with the fixed-depth
// run of its own seed where there is one.
func (r *Report) Rows() []Row {
	rows := make([]Row, len(r.Runs))
	type endsKey struct {
		seed     uint64
		schedule string
	}
	ends := map[endsKey][]Point{} // fixedEnds, once per seed
	for i, run := range r.Runs {
		var base *Run
		if b := r.baselineOf(i); b >= 0 {
			base = &r.Runs[b]
		}
		s := run.Summary
		row := Row{Name: run.Name, Seed: run.Seed(), FinalValLoss: run.FinalValLoss(), FLOPs: s.FLOPs, WallS: s.WallS,
			DeltaPct: math.NaN(), FLOPsRatio: math.NaN(), WallRatio: math.NaN(), IsoFLOPsRatio: math.NaN(), IsoWallRatio: math.NaN(),
			EqualLossFLOPsRatio: math.NaN(), Check: s.Mixing}
		if len(run.Grows) > 0 {
			g := run.Grows[len(run.Grows)-1]
			row.Grow = fmt.Sprintf("%d->%d @ %d (%s)", run.Grows[0].From, g.To, g.Step, g.Init)
		} else if run.Spec.Match != nil {
			row.Grow = fmt.Sprintf("none, %d steps", run.Config.Steps)
		}
		if base != nil {
			bl := base.FinalValLoss()
			row.DeltaPct = 100 * (row.FinalValLoss - bl) / bl
			row.FLOPsRatio = ratio(base.Summary.FLOPs, s.FLOPs)
			row.WallRatio = ratio(base.Summary.WallS, s.WallS)
			row.Mixed = Mixed(row.FinalValLoss, bl, r.Tolerance)
			if f, w, ok := reachCost(base.Evals, row.FinalValLoss); ok {
				row.IsoFLOPsRatio, row.IsoWallRatio = ratio(f, s.FLOPs), ratio(w, s.WallS)
			}
			if run.Spec.Progressive() {
				k := endsKey{run.Seed(), base.Config.Schedule}
				if _, ok := ends[k]; !ok {
					ends[k] = r.fixedEnds(k.seed, k.schedule)
				}
				if f, ok := equalLossFLOPs(ends[k], row.FinalValLoss); ok {
					row.EqualLossFLOPsRatio = ratio(f, s.FLOPs)
				}
			}
		}
		rows[i] = row
	}
	return rows
}

// reachCost is the FLOPs and wall time at which the curve first reaches
// loss, interpolated linearly between evaluations.
func reachCost(evals []Point, loss float64) (flops, wall float64, ok bool) {
	if math.IsNaN(loss) {
		return 0, 0, false
	}
	var prev Point // the run's start: nothing spent, loss unknown
	for i, p := range evals {
		if p.ValLoss <= loss {
			if i == 0 {
				return p.FLOPs, p.WallS, true
			}
			f := (prev.ValLoss - loss) / (prev.ValLoss - p.ValLoss)
			return prev.FLOPs + f*(p.FLOPs-prev.FLOPs), prev.WallS + f*(p.WallS-prev.WallS), true
		}
		prev = p
	}
	return 0, 0, false
}

// fixedEnds is the final FLOPs and validation loss of every finished
// fixed-depth run of seed on schedule, in order of FLOPs.
func (r *Report) fixedEnds(seed uint64, schedule string) []Point {
	var ends []Point
	for _, run := range r.Runs {
		if !run.Spec.Progressive() && run.Seed() == seed && run.Config.Schedule == schedule && !math.IsNaN(run.FinalValLoss()) && run.Summary.FLOPs > 0 {
			ends = append(ends, Point{FLOPs: run.Summary.FLOPs, ValLoss: run.FinalValLoss()})
		}
	}
	slices.SortFunc(ends, func(a, b Point) int { return cmp.Compare(a.FLOPs, b.FLOPs) })
	return ends
}

// equalLossFLOPs is the compute at which fixed-depth runs ending at ends
// (in order of FLOPs) would end at loss: the first pair that brackets it,
// interpolated linearly in log FLOPs.
func equalLossFLOPs(ends []Point, loss float64) (float64, bool) {
	for i := 1; i < len(ends); i++ {
		a, b := ends[i-1], ends[i]
		if min(a.ValLoss, b.ValLoss) <= loss && loss <= max(a.ValLoss, b.ValLoss) {
			if a.ValLoss == b.ValLoss {
				return a.FLOPs, true
			}
			t := (a.ValLoss - loss) / (a.ValLoss - b.ValLoss)
			return math.Exp(math.Log(a.FLOPs) + t*(math.Log(b.FLOPs)-math.Log(a.FLOPs))), true
		}
	}
	return 0, false
}

func ratio(a, b float64) float64 {
	if b <= 0 || a <= 0 {
		return math.NaN()
	}
	return a / b
}

var tableHeader = []string{"run", "growth", "final val loss", "delta %", "FLOPs", "FLOPs ratio", "wall s", "wall ratio"}

func (row Row) cells(multiSeed bool) []string {
	grow := row.Grow
	if grow == "" {
		grow = "-"
	}
	return []string{label(row.Name, row.Seed, multiSeed), grow, fmtLoss(row.FinalValLoss), fmtNum("%+.2f", row.DeltaPct),
		fmtNum("%.3g", row.FLOPs), fmtNum("%.2fx", row.FLOPsRatio), fmtNum("%.1f", row.WallS), fmtNum("%.2fx", row.WallRatio)}
}

func fmtNum(format string, x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	return fmt.Sprintf(format, x)
}

// runTable is the table of runs, header first: a row per run, named with
// its seed when the report has several, the FLOPs ratio at equal loss
// when the report has fixed-depth runs of more than one length, and the
// last mixing check of the progressive runs that have one.
func (r *Report) runTable() [][]string {
	multi := len(r.Seeds()) > 1
	rs := r.Rows()
	equal := slices.ContainsFunc(rs, func(row Row) bool { return !math.IsNaN(row.EqualLossFLOPsRatio) })
	checked := slices.ContainsFunc(rs, func(row Row) bool { return row.Check != nil })
	rows := [][]string{slices.Clip(tableHeader)}
	if equal {
		rows[0] = append(rows[0], "FLOPs ratio at equal loss")
	}
	if checked {
		rows[0] = append(rows[0], "new blocks")
	}
	for _, row := range rs {
		cells := row.cells(multi)
		if equal {
			cells = append(cells, fmtNum("%.2fx", row.EqualLossFLOPsRatio))
		}
		if checked {
			c := "-"
			if row.Check != nil {
				c = row.Check.Use()
			}
			cells = append(cells, c)
		}
		rows = append(rows, cells)
	}
	return rows
}

// WriteTable prints the comparison as an aligned text table, followed by the
// runs' recipe (when known), the tau sweep's outcome when there was one and,
// for several seeds, a table of each variant's means over its seeds.
func (r *Report) WriteTable(w io.Writer) error {
	var sb strings.Builder
	writeAligned(&sb, r.runTable())
	if rc, ok := r.recipe(); ok {
		fmt.Fprintf(&sb, "recipe: %s\n", rc)
	}
	r.writeSweep(&sb)
	if seeds := r.seedTable(); seeds != nil {
		fmt.Fprintf(&sb, "\nover seeds (%s):\n", r.seedCaption())
		writeAligned(&sb, seeds)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// writeAligned writes rows of cells as columns, the first two left-aligned
// (names) and the rest right-aligned (numbers).
func writeAligned(sb *strings.Builder, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, cells := range rows {
		for j, c := range cells {
			widths[j] = max(widths[j], len(c))
		}
	}
	for _, cells := range rows {
		for j, c := range cells {
			if j > 0 {
				sb.WriteString("  ")
			}
			if j < 2 {
				fmt.Fprintf(sb, "%-*s", widths[j], c)
			} else {
				fmt.Fprintf(sb, "%*s", widths[j], c)
			}
		}
		sb.WriteString("\n")
	}
}

// WriteMarkdown prints the comparison as a Markdown table (for a README),
// followed by the runs' recipe (when known), the tau sweep's outcome when
// there was one and, for several seeds, the table over seeds.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var sb strings.Builder
	writeMarkdown(&sb, r.runTable())
	if rc, ok := r.recipe(); ok {
		fmt.Fprintf(&sb, "\nRecipe: %s.\n", rc)
	}
	if r.Sweep != nil {
		sb.WriteString("\n")
		r.writeSweep(&sb)
	}
	if seeds := r.seedTable(); seeds != nil {
		fmt.Fprintf(&sb, "\nOver seeds (%s):\n\n", r.seedCaption())
		writeMarkdown(&sb, seeds)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// writeMarkdown writes rows of cells (header first) as a Markdown table,
// names left-aligned and numbers right-aligned.
func writeMarkdown(sb *strings.Builder, rows [][]string) {
	sb.WriteString("| " + strings.Join(rows[0], " | ") + " |\n|")
	for j := range rows[0] {
		if j < 2 {
			sb.WriteString(" --- |")
		} else {
			sb.WriteString(" ---: |")
		}
	}
	sb.WriteString("\n")
	for _, cells := range rows[1:] {
		sb.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}

func (r *Report) writeSweep(sb *strings.Builder) {
	sw := r.Sweep
	if sw == nil {
		return
	}
	fmt.Fprintf(sb, "tau sweep of %s (mixed: final val loss within %.3g%% of the baseline's):", sw.Of, 100*r.Tolerance)
	for _, t := range sw.Tried {
		verdict := "no"
		if t.Mixed {
			verdict = "mixed"
		}
		fmt.Fprintf(sb, " tau %g %s (%s);", t.Tau, fmtLoss(t.FinalValLoss), verdict)
	}
	if sw.Found {
		fmt.Fprintf(sb, " latest tau that mixes: %g\n", sw.Tau)
	} else {
		sb.WriteString(" none of these taus mixes\n")
	}
}
