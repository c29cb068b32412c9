package compare

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/trainer"
)

func curve(steps []int64, losses []float64) []Point {
	p := make([]Point, len(steps))
	for i := range steps {
		p[i] = Point{Step: steps[i], ValLoss: losses[i]}
	}
	return p
}

func TestMixSteps(t *testing.T) {
	steps := []int64{10, 20, 30, 40, 50}
	fixed := curve(steps, []float64{3, 2.5, 2.2, 2.0, 1.9})
	for _, tc := range []struct {
		grown []float64
		want  int
	}{
		{[]float64{3.5, 3.0, 2.25, 2.01, 1.9}, 35},  // 2.25 > 2.2*1.01; 2.01 <= 2.02 at step 40
		{[]float64{3.5, 3.0, 2.5, 2.3, 2.0}, -1},    // never within 1%
		{[]float64{2.9, 2.4, 2.1, 1.9, 1.8}, 0 + 5}, // below fixed at the first evaluation after step 5
		{[]float64{3.0, 2.6, 2.2, 2.1, 1.9}, 45},    // within at step 10 and 30, behind at 40: mixed from 50
		{[]float64{3.0, 2.5, 2.2, 2.0, 2.0}, -1},    // behind again at the last evaluation
	} {
		if got := mixSteps(fixed, curve(steps, tc.grown), 5, 0.01); got != tc.want {
			t.Errorf("grown %v: mix steps %d, want %d", tc.grown, got, tc.want)
		}
	}
}

func TestCalibrationPick(t *testing.T) {
	for _, tc := range []struct {
		mix, want int
		clamped   string
	}{
		{2000, 8000, ""},
		{500, 9000 - 100, "kept before the decay"},
		{9900, 200, "not before the end of warmup"},
		{-1, 200, "no later point is known to mix"},
	} {
		c := &Calibration{Steps: 10000, GrowStep: 200, MixSteps: tc.mix}
		c.pick(9000, true)
		if c.At != tc.want || c.Clamped != tc.clamped {
			t.Errorf("t_mix %d: at %d (%q), want %d (%q)", tc.mix, c.At, c.Clamped, tc.want, tc.clamped)
		}
	}
}

// TestCalibrate runs a real calibration of a tiny model: two runs that stop
// at the calibration's length, evaluated at the same steps, and a pick
// inside the stable phase.
func TestCalibrate(t *testing.T) {
	path := t.TempDir() + "/corpus.txt"
	if err := os.WriteFile(path, trainer.GenerateCorpus(5, 30000), 0o644); err != nil {
		t.Fatal(err)
	}
	base := tinyBase()
	base.Data, base.Steps, base.Workers, base.EvalWindows = path, 200, 1, 4
	base.Grow = &grow.Plan{From: 1, Strategy: grow.Random}
	var progress strings.Builder
	c, err := Calibrate(context.Background(), base, 60, 0.01, Options{Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if c.GrowStep != 4 || c.CalibSteps != 60 || len(c.Fixed) == 0 || len(c.Fixed) != len(c.Grown) || c.FLOPs <= 0 {
		t.Fatalf("calibration %+v", c)
	}
	for i := range c.Fixed {
		if c.Fixed[i].Step != c.Grown[i].Step || c.Fixed[i].Step > 60 {
			t.Fatalf("evaluations at steps %d and %d", c.Fixed[i].Step, c.Grown[i].Step)
		}
	}
	if last := c.Fixed[len(c.Fixed)-1].Step; last < 56 {
		t.Errorf("the runs stopped at step %d, want 60", last)
	}
	if g := c.Grown[len(c.Grown)-1]; g.Layers != 4 || c.Grown[0].Step < 4 && c.Grown[0].Layers != 1 {
		t.Errorf("the grown run: depth %d at step %d, %d at step %d", c.Grown[0].Layers, c.Grown[0].Step, g.Layers, g.Step)
	}
	// 200 steps with a 10% decay: the stable phase ends at step 180, and
	// the latest point is 1% of the run before it.
	if c.At < c.GrowStep || c.At > 178 || !strings.Contains(c.String(), "calibration (2 runs of 60 steps)") {
		t.Errorf("picked step %d: %s", c.At, c)
	}
	if !strings.Contains(progress.String(), "[calibrate 2/2] calibration grown") {
		t.Errorf("progress:\n%s", progress.String())
	}
	if _, err := Calibrate(context.Background(), base, 190, 0.01, Options{}); err == nil || !strings.Contains(err.Error(), "before the decay") {
		t.Errorf("a calibration into the decay: %v", err)
	}
	base.Grow = nil
	if _, err := Calibrate(context.Background(), base, 60, 0.01, Options{}); err == nil {
		t.Error("a calibration of a fixed-depth run")
	}
}
