package compare

import (
	"bytes"
	"context"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/trainer"
)

func TestMatchedSpec(t *testing.T) {
	for _, name := range []string{"fixed=0-random", "fixed=0-random@0.6", "fixed=1-copy-cosine@0.7"} {
		s, err := ParseSpec(name)
		if err != nil {
			t.Fatalf("ParseSpec(%q): %v", name, err)
		}
		if got := s.Name(); got != name {
			t.Errorf("ParseSpec(%q).Name() = %q", name, got)
		}
		if s.Progressive() || s.Match == nil || !s.Match.Progressive() || s.fullFixed() {
			t.Errorf("ParseSpec(%q) = %+v: want a fixed-depth run matching a progressive one", name, s)
		}
	}
	s, _ := ParseSpec("fixed=1-random@0.6")
	if want := (Spec{From: 1, Strategy: grow.Random, At: 0.6}); *s.Match != want {
		t.Errorf("match %+v, want %+v", *s.Match, want)
	}
	for bad, want := range map[string]string{
		"fixed=":           "want \"fixed\" or FROM-STRATEGY",
		"fixed=fixed":      "must be progressive",
		"fixed=1-stack":    "unknown strategy",
		"fixed=0-copy":     "0-block source",
		"fixed=0-random@1": "not a fraction",
	} {
		_, err := ParseSpec(bad)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `variant "`+bad+`"`) {
			t.Errorf("ParseSpec(%q): error %v, want one naming the variant and saying %q", bad, err, want)
		}
	}
}

// The fixed-depth run on a progressive run's compute: the most steps of the
// target model whose FLOPs do not exceed the progressive run's, evaluated as
// often, and never taken for the baseline.
func TestMatchedVariants(t *testing.T) {
	base := tinyBase() // 4 blocks, 100 steps, an evaluation every 10
	e := Experiment{Base: base, Specs: mustSpecs(t, "fixed=0-random@0.8,fixed,0-random@0.8,fixed=1-copy@0.5")}
	vs, err := e.Variants()
	if err != nil {
		t.Fatal(err)
	}
	base.Defaults()
	m := base.Model
	step := func(layers int) float64 { return grow.StepFLOPs(m, layers, base.Batch, m.Ctx) }
	for _, c := range []struct {
		i     int
		spent float64
	}{
		{0, 80*step(0) + 20*step(4)},
		{3, 50*step(1) + 50*step(4)},
	} {
		v := vs[c.i]
		steps := v.Config.Steps
		if float64(steps)*step(4) > c.spent || float64(steps+1)*step(4) <= c.spent {
			t.Errorf("%s: %d steps (%g FLOPs); want the most steps within %g FLOPs", v.Name, steps, float64(steps)*step(4), c.spent)
		}
		if v.Config.Grow != nil || v.Stages != nil || v.Config.Model != base.Model || v.Config.Seed != base.Seed || v.Config.Schedule != "wsd" {
			t.Errorf("%s: config %+v is not the base model at fixed depth", v.Name, v.Config)
		}
		if want := int(math.Round(10 * float64(steps) / 100)); v.Config.EvalEvery != want {
			t.Errorf("%s: an evaluation every %d steps, want %d (ten, as in the full run)", v.Name, v.Config.EvalEvery, want)
		}
	}
	if vs[1].Config.Steps != 100 || vs[2].Config.Steps != 100 {
		t.Errorf("the full runs have %d and %d steps, want 100", vs[1].Config.Steps, vs[2].Config.Steps)
	}

	for name, c := range map[string]struct {
		specs, want string
	}{
		"no baseline":    {"fixed=0-random,0-random", "baseline"},
		"match in decay": {"fixed,fixed=1-copy@0.95", `variant "fixed=1-copy@0.95": the run to match: variant "1-copy@0.95"`},
		"twice":          {"fixed,fixed=0-random@0.8,fixed=0-random@0.8", "twice"},
	} {
		e := Experiment{Base: base, Specs: mustSpecs(t, c.specs)}
		if _, err := e.Variants(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, c.want)
		}
	}
}

// matchedLoss gives the full fixed runs 2.0 on seed 1 and 2.2 on seed 2,
// the shortened ones 4% more, and the progressive ones 1% more.
func matchedLoss(cfg trainer.Config) float64 {
	l := map[uint64]float64{1: 2.0, 2: 2.2}[cfg.Seed]
	switch {
	case cfg.Grow != nil:
		return l * 1.01
	case cfg.Steps < 100:
		return l * 1.04
	}
	return l
}

func TestMatchedReport(t *testing.T) {
	f := &fakeTrainer{loss: matchedLoss}
	e := Experiment{Base: tinyBase(), Specs: mustSpecs(t, "fixed=0-random@0.8,fixed,0-random@0.8"), Seeds: []uint64{1, 2}}
	rep, err := e.Run(context.Background(), Options{Train: f.train})
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, rep *Report) {
		t.Helper()
		if rep.Baseline != 1 {
			t.Fatalf("%s: baseline is run %d, want 1 (the full fixed run)", what, rep.Baseline)
		}
		rows := rep.Rows()
		for i, want := range []float64{4, 0, 1, 4, 0, 1} {
			if !near(rows[i].DeltaPct, want) {
				t.Errorf("%s: %s s%d: delta %v%%, want %v%% against its own seed's full fixed run", what, rows[i].Name, rows[i].Seed, rows[i].DeltaPct, want)
			}
		}
		m, p := rows[3], rows[5]
		if m.Grow != "none, "+strconv.Itoa(rep.Runs[3].Config.Steps)+" steps" || p.Grow == "" {
			t.Errorf("%s: growth column %q for the shortened run, %q for the progressive one", what, m.Grow, p.Grow)
		}
		if !(m.FLOPsRatio >= p.FLOPsRatio) || m.FLOPsRatio > p.FLOPsRatio*(1+1.0/17) {
			t.Errorf("%s: FLOPs ratios %v (shortened) and %v (progressive); want the shortened run within one step of the progressive's compute", what, m.FLOPsRatio, p.FLOPsRatio)
		}
		// Growing ends 1% above the full run, a quarter of the way from it
		// to the shortened run's 4%: in log FLOPs, 3/4 of the way from the
		// shortened run's compute to the full run's.
		for _, i := range []int{2, 5} {
			fm, ff := rep.Runs[i-2].Summary.FLOPs, rep.Runs[i-1].Summary.FLOPs
			want := math.Exp(math.Log(fm)+0.75*(math.Log(ff)-math.Log(fm))) / rep.Runs[i].Summary.FLOPs
			if got := rows[i].EqualLossFLOPsRatio; math.Abs(got-want) > 1e-9*want {
				t.Errorf("%s: %s s%d: FLOPs ratio at equal loss %v, want %v", what, rows[i].Name, rows[i].Seed, got, want)
			}
		}
		for _, i := range []int{0, 1, 3, 4} {
			if !math.IsNaN(rows[i].EqualLossFLOPsRatio) {
				t.Errorf("%s: fixed-depth run %s s%d has a FLOPs ratio at equal loss", what, rows[i].Name, rows[i].Seed)
			}
		}
		for _, sr := range rep.SeedRows() {
			if sr.Name == "fixed=0-random@0.8" && (!near(sr.DeltaPct, 4) || sr.Mixed) {
				t.Errorf("%s: over seeds %+v, want +4%%, not mixed", what, sr)
			}
		}
	}
	check("run", rep)
	if rep.Runs[0].Config.Steps >= 100 || len(rep.Runs[0].Evals) < 9 {
		t.Errorf("shortened run: %d steps, %d evaluations; want fewer than 100, about ten", rep.Runs[0].Config.Steps, len(rep.Runs[0].Evals))
	}

	var jl bytes.Buffer
	if err := rep.WriteJSONL(&jl); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSONL(bytes.NewReader(jl.Bytes()), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	check("read back", back)
	// Files without the baseline flag: the first full fixed run is it.
	noFlag := strings.ReplaceAll(jl.String(), `"baseline":true`, `"baseline":false`)
	back, err = ReadJSONL(strings.NewReader(noFlag), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	check("without the baseline flag", back)

	// The same comparison in two parts: the shortened runs' smaller budget
	// is no reason to refuse the merge.
	full, err := Experiment{Base: tinyBase(), Specs: mustSpecs(t, "fixed,0-random@0.8"), Seeds: []uint64{1, 2}}.Run(context.Background(), Options{Train: f.train})
	if err != nil {
		t.Fatal(err)
	}
	cut, err := Experiment{Base: tinyBase(), Specs: mustSpecs(t, "fixed=0-random@0.8"), Seeds: []uint64{1, 2}, NoBaseline: true}.Run(context.Background(), Options{Train: f.train})
	if err != nil {
		t.Fatal(err)
	}
	merged, err := Merge(cut, full)
	if err != nil {
		t.Fatalf("merging the shortened runs: %v", err)
	}
	// Put the runs in the one-part order (per seed: cut, fixed, grown) for check.
	merged.Runs = append(merged.Runs[:1:1], merged.Runs[2], merged.Runs[3], merged.Runs[1], merged.Runs[4], merged.Runs[5])
	merged.Baseline = 1
	check("merged", merged)

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "fixed=0-random@0.8 s2") || !strings.Contains(table.String(), "FLOPs ratio at equal loss") {
		t.Errorf("table lacks the shortened run:\n%s", table.String())
	}
	var png bytes.Buffer
	if err := rep.WriteChart(&png, ChartOptions{}); err != nil || png.Len() == 0 {
		t.Errorf("chart: %v, %d bytes", err, png.Len())
	}
}

func TestEqualLossFLOPs(t *testing.T) {
	ends := []Point{{FLOPs: 1e10, ValLoss: 2}, {FLOPs: 1e12, ValLoss: 1}, {FLOPs: 1e13, ValLoss: 1}}
	for _, c := range []struct {
		loss, want float64
		ok         bool
	}{
		{1.5, 1e11, true}, // halfway in loss, halfway in log FLOPs
		{2, 1e10, true},
		{1, 1e12, true}, // the least compute that gets there
		{2.5, 0, false},
		{0.9, 0, false},
	} {
		got, ok := equalLossFLOPs(ends, c.loss)
		if ok != c.ok || (ok && math.Abs(got-c.want) > 1e-9*c.want) {
			t.Errorf("loss %v: %g, %v; want %g, %v", c.loss, got, ok, c.want, c.ok)
		}
	}
	if _, ok := equalLossFLOPs(ends[:1], 2); ok {
		t.Error("one fixed-depth run gave a ratio at equal loss")
	}
	// A report with only the full fixed run has no such column.
	rep := &Report{Baseline: 0, Tolerance: DefaultTolerance, Runs: []Run{
		fakeRun("fixed", 2, 4e12), fakeRun("0-random", 2.1, 1e12)}}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(table.String(), "equal loss") || !math.IsNaN(rep.Rows()[1].EqualLossFLOPsRatio) {
		t.Errorf("a ratio at equal loss from one fixed-depth run:\n%s", table.String())
	}
}

func fakeRun(name string, loss, flops float64) Run {
	spec, _ := ParseSpec(name)
	run := Run{Name: name, Spec: spec}
	run.Config.Schedule = trainer.ScheduleWSD
	run.Summary = trainer.SummaryEvent{FLOPs: flops, FinalValLoss: &loss}
	return run
}
