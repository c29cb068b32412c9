package compare

import (
	"bytes"
	"math"
	"testing"

	"github.com/sproutml/sprout/trainer"
)

// chartRun is a run whose curve has the given losses at steps 1, 2, ...
func chartRun(name string, losses ...float64) Run {
	r := Run{Name: name, Config: trainer.Config{Steps: len(losses)}}
	for i, l := range losses {
		r.Evals = append(r.Evals, Point{Step: int64(i + 1), FLOPs: float64(i+1) * 1e9, WallS: float64(i + 1), ValLoss: l})
	}
	return r
}

// Edited or extreme reports (a --replot of a hand-edited file) draw or fail
// with an error; they never panic.
func TestChartExtremeValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		runs []Run
	}{
		{"huge", []Run{chartRun("a", 1e16, 1e16+2, 1e16), chartRun("b", 1e16, 1e16, 1e16)}},
		{"flat", []Run{chartRun("a", 2, 2, 2)}},
		{"flat and huge", []Run{chartRun("a", 1e16, 1e16), chartRun("b", 1e16, 1e16)}},
		{"at zero", []Run{{Name: "z", Config: trainer.Config{Steps: 1}, Evals: []Point{{Step: 1, ValLoss: 2}}}}},
		{"one point", []Run{chartRun("a", 3)}},
		{"overflowing", []Run{chartRun("a", 1e308, -1e308, 1e308)}},
		{"not finite", []Run{chartRun("a", 2, math.Inf(1), math.NaN(), 1.5)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var img bytes.Buffer
			err := (&Report{Runs: tc.runs, Baseline: 0}).WriteChart(&img, ChartOptions{Width: 400, Height: 200})
			if err == nil && !bytes.HasPrefix(img.Bytes(), []byte("\x89PNG")) {
				t.Errorf("no error and no PNG")
			}
		})
	}
}

// Runs that end at the same loss (the progressive run mixed) still get a
// y range that shows their curves, not one squeezed onto the final values.
func TestChartRangeWhenRunsMix(t *testing.T) {
	r := &Report{Runs: []Run{
		chartRun("fixed", 4, 3, 2, 1.6, 1.4, 1.2, 1.1, 1.0),
		chartRun("grown", 4, 3.5, 3, 2.9, 2.8, 2.0, 1.5, 1.0001),
	}, Baseline: 0}
	p, err := r.panel(func(p Point) float64 { return p.FLOPs }, func(g GrowPoint) float64 { return g.FLOPs }, "x")
	if err != nil {
		t.Fatal(err)
	}
	if p.Y.Min > 1.0 || p.Y.Max < 1.9 {
		t.Errorf("y range [%g, %g]: want it to reach from below 1.0 to above 1.9", p.Y.Min, p.Y.Max)
	}
}
