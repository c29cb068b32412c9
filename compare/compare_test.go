package compare

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/trainer"
)

func tinyBase() trainer.Config {
	return trainer.Config{
		Model:     nn.Config{Vocab: 256, Ctx: 16, Dim: 16, Heads: 2, Layers: 4},
		Data:      "corpus.txt",
		Batch:     4,
		Steps:     100,
		Optimizer: "adamw",
		LR:        3e-3,
		Seed:      7,
		EvalEvery: 10,
		Out:       "/should/not/be/used",
	}
}

func TestParseSpec(t *testing.T) {
	for _, name := range []string{"fixed", "fixed-cosine", "0-random", "1-random", "1-copy", "1-copy-interleave", "1-copy-last", "1-zero", "1-copy-cosine", "1-random@0.6", "2-copy-interleave-cosine@0.75", "0-zero"} {
		s, err := ParseSpec(name)
		if err != nil {
			t.Fatalf("ParseSpec(%q): %v", name, err)
		}
		if got := s.Name(); got != name {
			t.Errorf("ParseSpec(%q).Name() = %q", name, got)
		}
	}
	s, _ := ParseSpec("1-copy-cosine@0.7")
	if want := (Spec{From: 1, Strategy: grow.Copy, Schedule: "cosine", At: 0.7}); s != want {
		t.Errorf("ParseSpec = %+v, want %+v", s, want)
	}
	for _, bad := range []string{"", "fixd", "0-copy", "1-stack", "x-random", "-1-random", "1-random@0.9x", "1-random@1", "1-random@0", "fixed@0.5", "1"} {
		if _, err := ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q) accepted", bad)
		} else if !strings.Contains(err.Error(), "compare: variant") {
			t.Errorf("ParseSpec(%q): error %q does not name the variant", bad, err)
		}
	}
	specs, err := ParseSpecs("")
	if err != nil || len(specs) != 5 || specs[0].Progressive() {
		t.Fatalf("ParseSpecs(\"\") = %v, %v; want the 5 defaults, baseline first", specs, err)
	}
	if _, err := ParseSpecs("fixed,1-stack,0-copy"); err == nil || !strings.Contains(err.Error(), "1-stack") || !strings.Contains(err.Error(), "0-copy") {
		t.Errorf("ParseSpecs with two bad items: %v; want both named", err)
	}
	taus, err := ParseTaus("0.8, 0.7,0.5")
	if err != nil || len(taus) != 3 || taus[1] != 0.7 {
		t.Errorf("ParseTaus = %v, %v", taus, err)
	}
	if _, err := ParseTaus("0.8,1.2"); err == nil {
		t.Error("ParseTaus accepted 1.2")
	}
}

func TestVariantsShareBudget(t *testing.T) {
	base := tinyBase()
	e := Experiment{Base: base}
	vs, err := e.Variants()
	base.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"fixed", "0-random", "1-random", "1-copy", "1-copy-cosine"}
	if len(vs) != len(names) {
		t.Fatalf("%d variants, want %d", len(vs), len(names))
	}
	for i, v := range vs {
		c := v.Config
		if v.Name != names[i] {
			t.Errorf("variant %d is %q, want %q", i, v.Name, names[i])
		}
		if c.Data != base.Data || c.Seed != base.Seed || c.Steps != base.Steps || c.Batch != base.Batch ||
			c.Model != base.Model || c.LR != base.LR || c.Optimizer != base.Optimizer || c.EvalEvery != base.EvalEvery {
			t.Errorf("%s: config %+v differs from the base in data, seed, budget, model or optimizer", v.Name, c)
		}
		if c.Out != "" {
			t.Errorf("%s: writes checkpoints to %q", v.Name, c.Out)
		}
		wantSched := "wsd"
		if strings.HasSuffix(v.Name, "-cosine") {
			wantSched = "cosine"
			if c.Decay != 0 || c.DecayShape != "" {
				t.Errorf("%s: cosine run keeps WSD decay settings", v.Name)
			}
		}
		if c.Schedule != wantSched {
			t.Errorf("%s: schedule %q, want %q", v.Name, c.Schedule, wantSched)
		}
		if v.Name == "fixed" {
			if c.Grow != nil || v.Stages != nil {
				t.Errorf("fixed run has a growth plan")
			}
			continue
		}
		if c.Grow == nil || len(v.Stages) != 1 {
			t.Fatalf("%s: no growth plan", v.Name)
		}
		st := v.Stages[0]
		// Default tau 0.8 of 100 steps, before WSD's decay at step 90.
		if st.At != 80 || st.Layers != 4 || c.Grow.From != v.Spec.From || c.Grow.To != 4 {
			t.Errorf("%s: stage %+v, plan %+v; want 1 stage to 4 blocks at step 80", v.Name, st, *c.Grow)
		}
		if c.Schedule == "wsd" {
			if err := c.Grow.Validate(c.Steps, 90); err != nil {
				t.Errorf("%s: plan does not expand before the decay: %v", v.Name, err)
			}
		}
	}
	if vs[1].Stages[0].Strategy != grow.Random || vs[3].Stages[0].Strategy != grow.Copy {
		t.Errorf("strategies %s, %s; want random, copy", vs[1].Stages[0].Strategy, vs[3].Stages[0].Strategy)
	}

	// An explicit tau and the experiment's default tau.
	e = Experiment{Base: base, Specs: mustSpecs(t, "fixed,1-copy,1-random@0.5"), At: 0.7}
	vs, err = e.Variants()
	if err != nil {
		t.Fatal(err)
	}
	if vs[1].Stages[0].At != 70 || vs[2].Stages[0].At != 50 {
		t.Errorf("stages at %d and %d, want 70 and 50", vs[1].Stages[0].At, vs[2].Stages[0].At)
	}

	// Without a tau, a depth-12 target of width 128 or less grows at 0.6
	// (grow.DefaultAtFor), a wider one at 0.8, and none inside a decay of
	// 20% of the steps.
	for _, c := range []struct {
		layers, dim int
		decay       float64
		at          int
	}{{12, 32, 0, 60}, {12, 256, 0, 80}, {4, 32, 0.2, 79}, {12, 256, 0.25, 74}, {12, 32, 0.2, 60}} {
		deep := base
		deep.Model.Layers, deep.Model.Dim, deep.Decay = c.layers, c.dim, c.decay
		e = Experiment{Base: deep, Specs: mustSpecs(t, "fixed,0-random,1-copy@0.7")}
		vs, err = e.Variants()
		if err != nil {
			t.Fatalf("depth %d, width %d, decay %v: %v", c.layers, c.dim, c.decay, err)
		}
		if vs[1].Stages[0].At != c.at || vs[1].Config.Grow.At != float64(c.at)/100 || vs[2].Stages[0].At != 70 {
			t.Errorf("depth %d, width %d, decay %v: stages at %d (plan %v) and %d, want %d and 70",
				c.layers, c.dim, c.decay, vs[1].Stages[0].At, vs[1].Config.Grow.At, vs[2].Stages[0].At, c.at)
		}
	}
}

func mustSpecs(t *testing.T, list string) []Spec {
	t.Helper()
	s, err := ParseSpecs(list)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVariantsErrors(t *testing.T) {
	base := tinyBase()
	noEval := base
	noEval.EvalEvery = -1
	shallow := base
	shallow.Model.Layers = 1
	cases := []struct {
		name string
		e    Experiment
		want string
	}{
		{"tau in decay", Experiment{Base: base, Specs: mustSpecs(t, "fixed,1-copy@0.95")}, "decay"},
		{"default tau in decay", Experiment{Base: base, Specs: mustSpecs(t, "fixed,1-copy"), At: 0.92}, "decay"},
		{"no baseline", Experiment{Base: base, Specs: mustSpecs(t, "1-copy,fixed-cosine")}, "baseline"},
		{"twice", Experiment{Base: base, Specs: mustSpecs(t, "fixed,1-copy,1-copy")}, "twice"},
		{"too deep source", Experiment{Base: shallow, Specs: mustSpecs(t, "fixed,1-copy")}, "not below the target"},
		{"no eval", Experiment{Base: noEval}, "evaluation is off"},
		{"no steps", Experiment{Base: trainer.Config{Model: base.Model}}, "at least 1 step"},
		{"sweep in decay", Experiment{Base: base, Specs: mustSpecs(t, "fixed,1-copy"), TauSweep: []float64{0.8, 0.95}}, "tau sweep"},
		{"sweep without progressive", Experiment{Base: base, Specs: mustSpecs(t, "fixed,1-copy-cosine"), TauSweep: []float64{0.8}}, "tau sweep needs"},
	}
	for _, c := range cases {
		_, err := c.e.Variants()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	// A cosine run may expand anywhere (the ablation of the paper's rule).
	e := Experiment{Base: base, Specs: mustSpecs(t, "fixed,1-copy-cosine@0.95")}
	if _, err := e.Variants(); err != nil {
		t.Errorf("cosine run at 0.95: %v", err)
	}
}

// fakeTrainer emits the events of a run without training: FLOPs from grow's
// count, wall time proportional to FLOPs, and a final loss given by loss.
type fakeTrainer struct {
	calls []string
	loss  func(cfg trainer.Config) float64
}

func (f *fakeTrainer) train(ctx context.Context, cfg trainer.Config, sink trainer.Sink) (*trainer.Result, error) {
	f.calls = append(f.calls, cfgKey(cfg))
	from, to := cfg.Model.Layers, cfg.Model.Layers
	growAt := -1
	if cfg.Grow != nil {
		from = cfg.Grow.From
		growAt = int(math.Round(cfg.Grow.At * float64(cfg.Steps)))
	}
	depth := from
	final := f.loss(cfg)
	flops := 0.0
	var growStep *int64
	for step := 1; step <= cfg.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		flops += grow.StepFLOPs(cfg.Model, depth, cfg.Batch, cfg.Model.Ctx)
		ev := trainer.StepEvent{Step: int64(step), Tokens: int64(step * cfg.Batch * cfg.Model.Ctx), FLOPs: flops, Layers: depth, WallS: flops / 1e9, Loss: 3}
		if step%cfg.EvalEvery == 0 || step == cfg.Steps {
			v := final + 2*float64(cfg.Steps-step)/float64(cfg.Steps)
			ev.ValLoss = &v
		}
		if err := sink.Emit(ev); err != nil {
			return nil, err
		}
		if step == growAt {
			s := int64(step)
			growStep = &s
			if err := sink.Emit(trainer.GrowEvent{Step: s, From: from, To: to, Init: string(cfg.Grow.Strategy), WallS: flops / 1e9}); err != nil {
				return nil, err
			}
			depth = to
		}
	}
	_, fixed := grow.RunFLOPs(cfg.Model, cfg.Model.Layers, nil, cfg.Steps, cfg.Batch, cfg.Model.Ctx)
	sum := trainer.SummaryEvent{Steps: int64(cfg.Steps), Tokens: int64(cfg.Steps * cfg.Batch * cfg.Model.Ctx), FLOPs: flops, FixedFLOPs: fixed,
		FinalValLoss: &final, WallS: flops / 1e9, LayersStart: from, LayersEnd: to, GrowStep: growStep, Kernel: "fake", Workers: 1}
	if err := sink.Emit(sum); err != nil {
		return nil, err
	}
	return &trainer.Result{Summary: sum, Config: cfg}, nil
}

func cfgKey(cfg trainer.Config) string {
	b, _ := json.Marshal(cfg)
	return string(b)
}

func TestRunReport(t *testing.T) {
	f := &fakeTrainer{loss: func(cfg trainer.Config) float64 {
		switch {
		case cfg.Grow == nil:
			return 2.0
		case cfg.Schedule == "cosine":
			return 2.2
		case cfg.Grow.Strategy == grow.Copy:
			return 2.01
		}
		return 2.1
	}}
	var progress bytes.Buffer
	e := Experiment{Base: tinyBase()}
	rep, err := e.Run(context.Background(), Options{Train: f.train, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 5 || rep.Baseline != 0 || len(f.calls) != 5 {
		t.Fatalf("%d runs, baseline %d, %d trainer calls; want 5, 0, 5", len(rep.Runs), rep.Baseline, len(f.calls))
	}
	if !strings.Contains(progress.String(), "[4/5] 1-copy: 1 -> 4 blocks (copy) at step 80") {
		t.Errorf("progress lacks the run header:\n%s", progress.String())
	}
	cp := rep.Runs[3]
	if len(cp.Evals) != 10 || len(cp.Grows) != 1 {
		t.Fatalf("1-copy: %d evals, %d grows; want 10, 1", len(cp.Evals), len(cp.Grows))
	}
	cfg := cp.Config
	if want := 80 * grow.StepFLOPs(cfg.Model, 1, cfg.Batch, cfg.Model.Ctx); math.Abs(cp.Grows[0].FLOPs-want) > 1e-9*want {
		t.Errorf("FLOPs at expansion %g, want %g", cp.Grows[0].FLOPs, want)
	}
	if cp.Tau() != 0.8 || rep.Runs[0].Tau() != 0 {
		t.Errorf("tau %v and %v, want 0.8 and 0", cp.Tau(), rep.Runs[0].Tau())
	}

	rows := rep.Rows()
	base, r := rows[0], rows[3]
	if base.DeltaPct != 0 || base.FLOPsRatio != 1 || base.WallRatio != 1 || !base.Mixed {
		t.Errorf("baseline row %+v", base)
	}
	if math.Abs(r.DeltaPct-0.5) > 1e-9 || !r.Mixed || rows[2].Mixed {
		t.Errorf("1-copy delta %v mixed %v, 1-random mixed %v; want 0.5%%, true, false", r.DeltaPct, r.Mixed, rows[2].Mixed)
	}
	if want := rep.Runs[0].Summary.FLOPs / rep.Runs[3].Summary.FLOPs; r.FLOPsRatio != want || r.FLOPsRatio <= 1 {
		t.Errorf("FLOPs ratio %v, want %v (> 1)", r.FLOPsRatio, want)
	}
	// The baseline's curve (linear in steps) reaches 1-copy's 2.01 at step
	// 99.5 and 1-random's 2.1 at step 95.
	if want := 0.995 * r.FLOPsRatio; math.Abs(r.IsoFLOPsRatio-want) > 1e-9*want {
		t.Errorf("1-copy iso-loss FLOPs ratio %v, want %v", r.IsoFLOPsRatio, want)
	}
	if want := 0.95 * rows[2].WallRatio; math.Abs(rows[2].IsoWallRatio-want) > 1e-9*want {
		t.Errorf("1-random iso-loss wall ratio %v, want %v", rows[2].IsoWallRatio, want)
	}
	if _, _, ok := reachCost(rep.Runs[0].Evals, 1.9); ok {
		t.Error("reachCost found a loss below the curve")
	}
	if r.Grow != "1->4 @ 80 (copy)" {
		t.Errorf("growth column %q", r.Grow)
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(table.String(), "\n"), "\n")
	if len(lines) != 7 || !strings.HasPrefix(lines[0], "run ") || !strings.Contains(lines[4], "1-copy ") || !strings.Contains(lines[4], "+0.50") ||
		lines[6] != "recipe: adamw, lr 0.003, weight decay 0.1, grad clip 1, batch 4, warmup 0.02, decay 0.1 (linear), validation 0.1 of the data in at most 64 windows" {
		t.Errorf("table:\n%s", table.String())
	}
	for _, col := range tableHeader {
		if !strings.Contains(lines[0], col) {
			t.Errorf("table header lacks %q", col)
		}
	}
	var md bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil || !strings.Contains(md.String(), "| 1-copy | 1->4 @ 80 (copy) | 2.0100 | +0.50 |") {
		t.Errorf("markdown (%v):\n%s", err, md.String())
	}

	var jl bytes.Buffer
	if err := rep.WriteJSONL(&jl); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&jl)
	n := 0
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", n+1, err, sc.Text())
		}
		for _, k := range []string{"name", "schedule", "final_val_loss", "flops", "fixed_flops", "flops_saved_frac", "wall_s", "tokens", "layers_start", "layers_end", "grow_step", "delta_pct", "flops_ratio", "wall_ratio", "iso_loss_flops_ratio", "iso_loss_wall_ratio", "evals", "grows"} {
			if _, ok := obj[k]; !ok {
				t.Errorf("line %d lacks %q: %s", n+1, k, sc.Text())
			}
		}
		if _, ok := obj["event"]; ok {
			t.Errorf("line %d keeps the summary's event tag", n+1)
		}
		if obj["name"] != rep.Runs[n].Name {
			t.Errorf("line %d is %v, want %s", n+1, obj["name"], rep.Runs[n].Name)
		}
		if n == 3 {
			if obj["grow_step"] != 80.0 || obj["layers_start"] != 1.0 || obj["strategy"] != "copy" || obj["tau"] != 0.8 || obj["final_val_loss"] != 2.01 {
				t.Errorf("1-copy line: %s", sc.Text())
			}
			if fs := obj["flops_saved_frac"].(float64); fs <= 0 || fs >= 1 {
				t.Errorf("flops_saved_frac %v", fs)
			}
		}
		if n == 0 && obj["grow_step"] != nil {
			t.Errorf("fixed run's grow_step %v, want null", obj["grow_step"])
		}
		n++
	}
	if n != 5 {
		t.Errorf("%d JSON lines, want 5", n)
	}

	// Read back, the report gives the same table.
	var jl2, table2 bytes.Buffer
	rep.WriteJSONL(&jl2)
	back, err := ReadJSONL(&jl2, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	back.Sweep = rep.Sweep
	if back.WriteTable(&table2); table2.String() != table.String() || back.Baseline != 0 || len(back.Runs[3].Evals) != 10 || back.Runs[3].Grows[0] != rep.Runs[3].Grows[0] {
		t.Errorf("read back:\n%s\nwant\n%s", table2.String(), table.String())
	}
	for _, bad := range []string{"", "{\"name\":\"fixed\",\"flops\":\"x\"}\n", "{\"flops\":1}\n", "{\"name\":\"1-stack\"}\n"} {
		if _, err := ReadJSONL(strings.NewReader(bad), 0, 1); err == nil {
			t.Errorf("ReadJSONL(%q) accepted", bad)
		}
	}

	var img bytes.Buffer
	if err := rep.WriteChart(&img, ChartOptions{Title: "test", Width: 800, Height: 300}); err != nil {
		t.Fatal(err)
	}
	pic, err := png.Decode(&img)
	if err != nil {
		t.Fatalf("chart is not a PNG: %v", err)
	}
	if b := pic.Bounds(); b.Dx() != 800 || b.Dy() != 300 {
		t.Errorf("chart is %v, want 800x300", b)
	}
	if err := (&Report{Baseline: -1}).WriteChart(&img, ChartOptions{}); err == nil {
		t.Error("chart of an empty report: no error")
	}
}

// A comparison split in two (the variants in one process, the baseline in
// another) and merged gives the rows of the comparison run in one.
func TestSplitAndMerge(t *testing.T) {
	f := &fakeTrainer{loss: func(cfg trainer.Config) float64 {
		if cfg.Grow == nil {
			return 2.0
		}
		return 2.1
	}}
	whole, err := Experiment{Base: tinyBase(), Specs: mustSpecs(t, "fixed,1-copy,0-random")}.Run(context.Background(), Options{Train: f.train})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (Experiment{Base: tinyBase(), Specs: mustSpecs(t, "1-copy,0-random")}).Variants(); err == nil {
		t.Error("variants without a baseline accepted without NoBaseline")
	}
	if _, err := (Experiment{Base: tinyBase(), Specs: mustSpecs(t, "1-copy"), NoBaseline: true, TauSweep: []float64{0.5}}).Variants(); err == nil || !strings.Contains(err.Error(), "baseline") {
		t.Errorf("a tau sweep without the baseline: %v", err)
	}
	prog, err := Experiment{Base: tinyBase(), Specs: mustSpecs(t, "1-copy,0-random"), NoBaseline: true}.Run(context.Background(), Options{Train: f.train})
	if err != nil {
		t.Fatal(err)
	}
	if prog.Baseline != -1 || !math.IsNaN(prog.Rows()[0].DeltaPct) {
		t.Errorf("variants alone: baseline %d, delta %v; want -1, NaN", prog.Baseline, prog.Rows()[0].DeltaPct)
	}
	fixed, err := Experiment{Base: tinyBase(), Specs: mustSpecs(t, "fixed")}.Run(context.Background(), Options{Train: f.train})
	if err != nil {
		t.Fatal(err)
	}
	merged, err := Merge(prog, fixed)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Baseline != 2 || len(merged.Runs) != 3 {
		t.Fatalf("merged: baseline %d of %d runs, want 2 of 3", merged.Baseline, len(merged.Runs))
	}
	want, got := whole.Rows(), merged.Rows()
	// %v, since NaN (no ratio at equal loss) is unequal to itself.
	same := func(a, b Row) bool { return fmt.Sprintf("%v", a) == fmt.Sprintf("%v", b) }
	if !same(got[0], want[1]) || !same(got[1], want[2]) || !same(got[2], want[0]) {
		t.Errorf("merged rows\n%+v\nwant (reordered)\n%+v", got, want)
	}

	if _, err := Merge(fixed, fixed); err == nil || !strings.Contains(err.Error(), `"fixed" of seed 7 appears twice`) {
		t.Errorf("a run merged twice: %v", err)
	}
	longer := tinyBase()
	longer.Steps *= 2
	other, err := Experiment{Base: longer, Specs: mustSpecs(t, "1-copy,0-random"), NoBaseline: true}.Run(context.Background(), Options{Train: f.train})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(fixed, other); err == nil || !strings.Contains(err.Error(), "not the same budget") {
		t.Errorf("runs of different budgets merged: %v", err)
	}
	wider := tinyBase()
	wider.Model.Dim *= 2
	other, err = Experiment{Base: wider, Specs: mustSpecs(t, "1-copy"), NoBaseline: true}.Run(context.Background(), Options{Train: f.train})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(fixed, other); err == nil || !strings.Contains(err.Error(), "different models") {
		t.Errorf("runs of different models merged: %v", err)
	}
	// The model survives the JSON Lines, so that files merge with the check.
	var jl bytes.Buffer
	if err := other.WriteJSONL(&jl); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSONL(&jl, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Runs[0].Config.Model; got != other.Runs[0].Config.Model {
		t.Errorf("model read back: %+v", got)
	}
}

func TestTauSweep(t *testing.T) {
	// The final loss rises 4% per 0.1 of tau above 0.55: 0.8 -> +10%,
	// 0.7 -> +6%, 0.6 -> +2%, 0.55 -> +0%. Copy is 1.5 points better.
	f := &fakeTrainer{loss: func(cfg trainer.Config) float64 {
		if cfg.Grow == nil {
			return 2
		}
		pct := math.Max(0, 40*(cfg.Grow.At-0.55))
		if cfg.Grow.Strategy == grow.Copy {
			pct -= 1.5
		}
		return 2 * (1 + pct/100)
	}}
	e := Experiment{Base: tinyBase(), Specs: mustSpecs(t, "fixed,1-random,1-copy"), TauSweep: []float64{0.6, 0.8, 0.7, 0.5, 0.55}}
	rep, err := e.Run(context.Background(), Options{Train: f.train})
	if err != nil {
		t.Fatal(err)
	}
	sw := rep.Sweep
	if sw == nil || sw.Of != "1-copy" {
		t.Fatalf("sweep %+v, want one of 1-copy", sw)
	}
	// 0.8 reuses the 1-copy run; 0.7 misses (+4.5%); 0.6 mixes (+0.5%): stop.
	if len(sw.Tried) != 3 || sw.Tried[0].Tau != 0.8 || sw.Tried[0].Run != "1-copy" || sw.Tried[1].Tau != 0.7 || sw.Tried[2].Tau != 0.6 {
		t.Fatalf("tried %+v", sw.Tried)
	}
	if !sw.Found || sw.Tau != 0.6 || sw.Tried[1].Mixed || !sw.Tried[2].Mixed {
		t.Errorf("sweep found %v tau %v, tried %+v; want tau 0.6", sw.Found, sw.Tau, sw.Tried)
	}
	if len(f.calls) != 5 || len(rep.Runs) != 5 || rep.Runs[4].Name != "1-copy@0.6" {
		t.Errorf("%d trainer calls, runs %d (last %q); want 5 (3 + 2 sweep runs, 0.8 reused)", len(f.calls), len(rep.Runs), rep.Runs[len(rep.Runs)-1].Name)
	}
	var table bytes.Buffer
	rep.WriteTable(&table)
	if !strings.Contains(table.String(), "latest tau that mixes: 0.6") {
		t.Errorf("table lacks the sweep's verdict:\n%s", table.String())
	}

	// Nothing mixes.
	f.calls = nil
	e.TauSweep = []float64{0.8, 0.7}
	rep, err = e.Run(context.Background(), Options{Train: f.train})
	if err != nil || rep.Sweep.Found || len(rep.Sweep.Tried) != 2 {
		t.Errorf("sweep without mixing: %v, %+v", err, rep.Sweep)
	}
}

func TestLatestMixingTau(t *testing.T) {
	taus := []float64{0.8, 0.7, 0.6, 0.5}
	cases := []struct {
		losses []float64
		tau    float64
		ok     bool
	}{
		{[]float64{2.10, 2.03, 2.019, 2.0}, 0.6, true},
		{[]float64{2.02, 2.03, 2.0, 1.9}, 0.8, true}, // exactly 1%
		{[]float64{2.1, 2.1, 2.1, math.NaN()}, 0, false},
		{[]float64{2.1, 1.95, 2.5, 2.0}, 0.7, true}, // non-monotone: the latest wins
	}
	for _, c := range cases {
		tau, ok := LatestMixingTau(taus, c.losses, 2.0, 0.01)
		if tau != c.tau || ok != c.ok {
			t.Errorf("LatestMixingTau(%v) = %v, %v; want %v, %v", c.losses, tau, ok, c.tau, c.ok)
		}
	}
}

func TestRunError(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	train := func(ctx context.Context, cfg trainer.Config, sink trainer.Sink) (*trainer.Result, error) {
		if n++; n == 2 {
			return nil, boom
		}
		return (&fakeTrainer{loss: func(trainer.Config) float64 { return 2 }}).train(ctx, cfg, sink)
	}
	rep, err := Experiment{Base: tinyBase()}.Run(context.Background(), Options{Train: train})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), `"0-random"`) {
		t.Errorf("error %v, want boom naming the run", err)
	}
	if rep == nil || len(rep.Runs) != 1 || rep.Baseline != 0 {
		t.Errorf("partial report %+v, want the baseline", rep)
	}
}

// TestRealRuns runs a tiny comparison through the real trainer.
func TestRealRuns(t *testing.T) {
	path := t.TempDir() + "/corpus.txt"
	if err := os.WriteFile(path, trainer.GenerateCorpus(5, 30000), 0o644); err != nil {
		t.Fatal(err)
	}
	base := trainer.Config{
		Model: nn.Config{Vocab: 256, Ctx: 16, Dim: 16, Heads: 2, Layers: 3},
		Data:  path, Batch: 4, Steps: 30, Seed: 3, Workers: 1, EvalEvery: 5, EvalWindows: 4,
	}
	e := Experiment{Base: base, Specs: mustSpecs(t, "fixed,1-copy,0-random,fixed=0-random")}
	rep, err := e.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	fixed := rep.Runs[0]
	// The trainer's own count: the cut run spends the most whole steps of
	// the fixed-depth model within what 0-random spent.
	cut, grown := rep.Runs[3].Summary, rep.Runs[2].Summary
	perStep := fixed.Summary.FLOPs / 30
	if cut.FLOPs > grown.FLOPs || cut.FLOPs+perStep <= grown.FLOPs || cut.Steps >= 30 || cut.FixedFLOPs != cut.FLOPs {
		t.Errorf("fixed=0-random: %d steps, %g FLOPs; want the most steps within 0-random's %g (%g a step)", cut.Steps, cut.FLOPs, grown.FLOPs, perStep)
	}
	for _, r := range rep.Runs[:3] {
		s := r.Summary
		if s.Steps != 30 || s.Tokens != fixed.Summary.Tokens || s.FixedFLOPs != fixed.Summary.FLOPs || math.IsNaN(r.FinalValLoss()) {
			t.Errorf("%s: summary %+v; want 30 steps, the baseline's tokens and fixed FLOPs, a final val loss", r.Name, s)
		}
		if len(r.Evals) != 6 || r.Evals[5].Step != 30 || r.Evals[5].ValLoss != r.FinalValLoss() || r.Evals[5].FLOPs != s.FLOPs {
			t.Errorf("%s: evals %+v", r.Name, r.Evals)
		}
		if r.Spec.Progressive() {
			if len(r.Grows) != 1 || r.Grows[0].Step != 24 || r.Grows[0].To != 3 || s.FLOPs >= fixed.Summary.FLOPs {
				t.Errorf("%s: grows %+v, FLOPs %g vs fixed %g", r.Name, r.Grows, s.FLOPs, fixed.Summary.FLOPs)
			}
			spent, _ := grow.RunFLOPs(base.Model, r.Spec.From, nil, 24, base.Batch, base.Model.Ctx)
			if r.Grows[0].FLOPs != spent {
				t.Errorf("%s: FLOPs at expansion %g, want %g", r.Name, r.Grows[0].FLOPs, spent)
			}
		}
	}
	if rep.Runs[1].Evals[3].Layers != 1 || rep.Runs[1].Evals[4].Layers != 3 {
		t.Errorf("1-copy depths at steps 20/25: %d, %d", rep.Runs[1].Evals[3].Layers, rep.Runs[1].Evals[4].Layers)
	}
	// The progressive runs' last mixing checks show in the table, and come
	// back from its JSON Lines.
	rows := rep.Rows()
	for i, want := range []string{"", "1,2", "0-2", ""} {
		if c := rows[i].Check; (c == nil) != (want == "") || c != nil && (c.BlockList() != want || c.Step != 30) {
			t.Errorf("%s: check %+v, want new blocks %q at step 30", rows[i].Name, c, want)
		}
	}
	var table, jl, table2 bytes.Buffer
	rep.WriteTable(&table)
	if err := rep.WriteJSONL(&jl); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(table.String(), "\n")
	if !strings.HasSuffix(lines[0], "new blocks") || !strings.HasSuffix(lines[2], rows[1].Check.Use()) || !strings.HasSuffix(lines[1], "-") {
		t.Errorf("table:\n%s", table.String())
	}
	back, err := ReadJSONL(&jl, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if back.WriteTable(&table2); table2.String() != table.String() {
		t.Errorf("read back:\n%s\nwant\n%s", table2.String(), table.String())
	}
}
