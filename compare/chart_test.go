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
