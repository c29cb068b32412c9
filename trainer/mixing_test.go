package trainer

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
)

// zeroOutputs zeroes the residual output projections of b, so that it adds
// nothing to the residual stream: the block computes the identity.
func zeroOutputs(b *nn.Block, arch string) {
	switch arch {
	case nn.ArchLlama, nn.ArchMoE:
		clear(b.O.Data)
		if b.Down != nil {
			clear(b.Down.Data)
		}
		for _, e := range append(append([]nn.FFN(nil), b.Experts...), b.Shared...) {
			clear(e.Down.Data)
		}
	default:
		for _, p := range []*nn.Param{b.ProjW, b.ProjB, b.FC2W, b.FC2B} {
			clear(p.Data)
		}
	}
}

// randomWindows is n windows of ctx+1 random tokens.
func randomWindows(ctx, n int) [][]uint16 {
	rng := rand.New(rand.NewPCG(1, 2))
	tokens := make([]uint16, (ctx+1)*n*2)
	for i := range tokens {
		tokens[i] = uint16(rng.IntN(256))
	}
	return EvalWindows(tokens, ctx, n)
}

// A fixed-depth model trained briefly, with its upper blocks marked new,
// reports them in use; the same model with those blocks zeroed (identity)
// reports them idle, with a delta of exactly 0. Neither changes the model.
func TestCheckMixingInUseAndIdle(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Grow, cfg.Model.Layers, cfg.Steps = nil, 3, 60
	res := mustRun(t, cfg, nil)
	data, err := loadData(&res.Config)
	if err != nil {
		t.Fatal(err)
	}
	win := EvalWindows(data.Val, cfg.Model.Ctx, 8)
	m := res.Model
	before, err := Evaluate(m, win, 4)
	if err != nil {
		t.Fatal(err)
	}
	c, err := CheckMixing(m, []int{1, 2}, win, 4)
	if err != nil {
		t.Fatal(err)
	}
	if c.State() != "in use" || !(c.Delta >= MixIdleNats) || c.Windows != 8 || !slices.Equal(c.NewBlocks, []int{1, 2}) {
		t.Errorf("trained blocks marked new: %+v (%s), want in use", c, c.State())
	}
	if after, err := Evaluate(m, win, 4); err != nil || after != before || len(m.Blocks) != 3 {
		t.Errorf("the check changed the model: loss %v then %v (%v), %d blocks", before, after, err, len(m.Blocks))
	}
	for _, i := range []int{1, 2} {
		zeroOutputs(m.Blocks[i], m.Arch)
	}
	c, err = CheckMixing(m, []int{1, 2}, win, 4)
	if err != nil {
		t.Fatal(err)
	}
	if c.State() != "idle" || c.Delta != 0 {
		t.Errorf("zeroed blocks marked new: delta %v (%s), want exactly 0, idle", c.Delta, c.State())
	}
}

// Zeroed new blocks are idle for every arch and placement, and the same
// blocks with their weights are not.
func TestCheckMixingArchs(t *testing.T) {
	for _, arch := range []string{nn.ArchGPT2, nn.ArchLlama, nn.ArchMoE} {
		for _, newBlocks := range [][]int{{1, 2}, {0, 1}, {0, 2}} {
			m, err := nn.NewModel(nn.Config{Arch: arch, Vocab: 256, Ctx: 16, Dim: 32, Heads: 2, Layers: 3}, 5)
			if err != nil {
				t.Fatal(err)
			}
			win := randomWindows(16, 6)
			c, err := CheckMixing(m, newBlocks, win, 3)
			if err != nil {
				t.Fatal(err)
			}
			if c.Delta == 0 {
				t.Errorf("%s %v: random blocks leave the loss exactly unchanged", arch, newBlocks)
			}
			for _, i := range newBlocks {
				zeroOutputs(m.Blocks[i], arch)
			}
			if c, err = CheckMixing(m, newBlocks, win, 3); err != nil || c.Delta != 0 || c.State() != "idle" {
				t.Errorf("%s %v: zeroed new blocks: delta %v (%s), %v; want 0, idle", arch, newBlocks, c.Delta, c.State(), err)
			}
		}
	}
	m, _ := nn.NewModel(nn.Config{Vocab: 256, Ctx: 16, Dim: 32, Heads: 2, Layers: 2}, 5)
	if _, err := CheckMixing(m, []int{2}, randomWindows(16, 2), 2); err == nil || !strings.Contains(err.Error(), "block 2") {
		t.Errorf("a block out of range: %v", err)
	}
}

// The new blocks come from the last expansion's record and the plan's
// placement; copies count as new, the trained blocks carried over do not.
func TestNewBlocks(t *testing.T) {
	for _, c := range []struct {
		history []GrowthRecord
		plan    *grow.Plan
		want    []int
	}{
		{nil, &grow.Plan{From: 1, To: 4}, nil},
		{[]GrowthRecord{{Step: 5, From: 1, To: 4, Init: "copy"}}, &grow.Plan{From: 1, To: 4, Strategy: grow.Copy}, []int{1, 2, 3}},
		{[]GrowthRecord{{Step: 5, From: 1, To: 4, Init: "random"}}, &grow.Plan{From: 1, To: 4, Place: grow.PlaceTop}, []int{0, 1, 2}},
		{[]GrowthRecord{{Step: 5, From: 2, To: 6, Init: "zero"}}, &grow.Plan{From: 2, To: 6, Strategy: grow.Zero, Place: grow.PlaceMiddle}, []int{0, 1, 4, 5}},
		{[]GrowthRecord{{Step: 5, From: 0, To: 3, Init: "random"}}, &grow.Plan{From: 0, To: 3, Strategy: grow.Copy}, []int{0, 1, 2}},
		// Two stages: the last one's blocks are the new ones.
		{[]GrowthRecord{{Step: 5, From: 0, To: 2, Init: "random"}, {Step: 9, From: 2, To: 6, Init: "copy"}}, &grow.Plan{From: 0, To: 6, Strategy: grow.Copy}, []int{2, 3, 4, 5}},
		// Grown offline (no plan): the default placement.
		{[]GrowthRecord{{Step: 5, From: 1, To: 3, Init: "random"}}, nil, []int{1, 2}},
	} {
		got, err := NewBlocks(c.history, c.plan)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("history %+v, plan %+v: new blocks %v (%v), want %v", c.history, c.plan, got, err, c.want)
		}
	}
	if _, err := NewBlocks([]GrowthRecord{{Step: 5, From: 1, To: 3, Init: "sideways"}}, nil); err == nil || !strings.Contains(err.Error(), "step 5") {
		t.Errorf("an unknown strategy in the history: %v", err)
	}
}

// mixingOf returns the mixing checks of a run's eval events by step, and
// fails if a step event's check differs from its eval event's.
func mixingOf(t *testing.T, rec *recorder) map[int64]*MixCheck {
	t.Helper()
	out := map[int64]*MixCheck{}
	stepMix := map[int64]*MixCheck{}
	for _, e := range rec.events {
		switch e := e.(type) {
		case StepEvent:
			stepMix[e.Step] = e.Mixing
		case EvalEvent:
			out[e.Step] = e.Mixing
			if !reflect.DeepEqual(stepMix[e.Step], e.Mixing) {
				t.Errorf("step %d: the step event's check %+v differs from the eval event's %+v", e.Step, stepMix[e.Step], e.Mixing)
			}
		}
	}
	return out
}

// In a run, every evaluation after the expansion carries a check of the
// blocks it added, in the step, eval and summary events and their JSON
// (est_gap absent, the gap unknown); none before it, none with the check
// off, and a run resumed after the expansion (from a checkpoint or after
// Ctrl-C) reports the same checks.
func TestMixingInRun(t *testing.T) {
	tmp := t.TempDir()
	cfg := tinyConfig(t)
	cfg.Model.Layers = 3
	cfg.Grow = &grow.Plan{From: 1, AtStep: 10, Strategy: grow.Copy}
	cfg.Out = filepath.Join(tmp, "full")
	cfg.CheckpointEvery = 15
	mid := filepath.Join(tmp, "mid")
	full := &recorder{on: func(e Event) {
		if c, ok := e.(CheckpointEvent); ok && c.Step == 15 {
			copyDir(t, c.Path, mid)
		}
	}}
	res := mustRun(t, cfg, full)
	checks := mixingOf(t, full)
	for _, step := range []int64{5, 10, 15, 20} {
		c, ok := checks[step]
		switch {
		case !ok:
			t.Fatalf("no evaluation at step %d", step)
		case step <= 10 && c != nil:
			t.Errorf("step %d, before the expansion: check %+v", step, c)
		case step > 10 && (c == nil || c.Step != step || !slices.Equal(c.NewBlocks, []int{1, 2}) || c.Windows != DefaultMixWindows):
			t.Errorf("step %d: check %+v, want blocks 1-2", step, c)
		}
	}
	last := checks[20]
	if last == nil || res.Summary.Mixing == nil || res.Summary.Mixing.Delta != last.Delta || res.Summary.Mixing.Step != 20 {
		t.Fatalf("summary check %+v, want the last evaluation's %+v", res.Summary.Mixing, last)
	}
	if last.EstGap != nil || last.GapBasis != NoCalibration {
		t.Errorf("gap %v (%q), want unknown with no calibration", last.EstGap, last.GapBasis)
	}
	for _, e := range []Event{EvalEvent{Step: 20, Mixing: last}, StepEvent{Step: 20, Mixing: last}, res.Summary} {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var o struct {
			Mixing map[string]any `json:"mixing"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			t.Fatal(err)
		}
		want := []string{"check_s", "delta_nats", "gap_basis", "idle_below_nats", "new_blocks", "state", "step", "windows"}
		got := keys(t, mustJSON(t, o.Mixing))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s mixing fields %v, want %v", e.EventName(), got, want)
		}
		if o.Mixing["state"] != last.State() || o.Mixing["gap_basis"] != NoCalibration {
			t.Errorf("%s: %s", e.EventName(), b)
		}
	}

	for _, tc := range []struct{ name, dir string }{
		{"resumed after the expansion", mid},
		{"resumed before it", PreGrowDir(cfg.Out, 10)},
	} {
		rec := &recorder{}
		r, err := Resume(context.Background(), tc.dir, rec, func(c *Config) error { c.Out = filepath.Join(tmp, "again"); c.Replace = true; return nil })
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := mixingOf(t, rec)
		for step, c := range got {
			w := checks[step]
			if (c == nil) != (w == nil) || c != nil && (c.Delta != w.Delta || !slices.Equal(c.NewBlocks, w.NewBlocks)) {
				t.Errorf("%s: step %d check %+v, want %+v", tc.name, step, c, w)
			}
		}
		if got[20] == nil || r.Summary.Mixing == nil || r.Summary.Mixing.Delta != last.Delta {
			t.Errorf("%s: summary check %+v, want %+v", tc.name, r.Summary.Mixing, last)
		}
	}

	off := cfg
	off.Out, off.MixWindows = "", -1
	rec := &recorder{}
	if r := mustRun(t, off, rec); r.Summary.Mixing != nil {
		t.Errorf("check off: summary check %+v", r.Summary.Mixing)
	}
	for step, c := range mixingOf(t, rec) {
		if c != nil {
			t.Errorf("check off: step %d check %+v", step, c)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The check's words: "in use" or "idle" (with what to do), the gap unknown
// until something estimates it, never a claim that the run mixed; on the
// progress line from its evaluation on, and in the summary.
func TestMixCheckText(t *testing.T) {
	use := MixCheck{Step: 1500, NewBlocks: []int{1, 2, 3, 4, 5}, Delta: 0.4123, Windows: 16, GapBasis: NoCalibration}
	idle := MixCheck{Step: 1500, NewBlocks: []int{0, 1, 4, 5}, Delta: 0.0031, Windows: 16}
	gap := 0.012
	est := use
	est.EstGap, est.GapBasis = &gap, "calibration"
	for _, c := range []struct {
		got, want string
	}{
		{use.Short(), "new blocks +0.412 in use, gap unknown"},
		{use.String(), "new blocks 1-5 +0.412 nats, in use; gap to fixed depth unknown (no calibration)"},
		{idle.String(), "new blocks 0,1,4,5 +0.003 nats, idle: expand earlier or train longer; gap to fixed depth unknown (no calibration)"},
		{est.Short(), "new blocks +0.412 in use, est. +1.2% vs fixed depth (calibration)"},
		{MixCheck{Delta: -0.2}.State(), "idle"},
	} {
		if c.got != c.want {
			t.Errorf("got  %q\nwant %q", c.got, c.want)
		}
	}
	b := mustJSON(t, est)
	if !strings.Contains(string(b), `"est_gap":0.012,"gap_basis":"calibration"`) || strings.Contains(string(mustJSON(t, idle)), "est_gap") {
		t.Errorf("est_gap: %s / %s", b, mustJSON(t, idle))
	}

	var back MixCheck
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, est) {
		t.Errorf("read back %+v (%v), want %+v", back, err, est)
	}

	p, buf, _ := newTestProgress(false, 100)
	v := 1.5
	p.Emit(StepEvent{Step: 50, Loss: 2, ValLoss: &v, Layers: 6, Mixing: &idle})
	p.Emit(EvalEvent{Step: 50, ValLoss: v, Mixing: &idle})
	p.Emit(GrowEvent{Step: 60, From: 6, To: 8, Init: "copy"})
	p.Emit(StepEvent{Step: 100, Loss: 1.9, ValLoss: &v, Layers: 8})
	s := SummaryEvent{Steps: 100, LayersStart: 1, LayersEnd: 6, Mixing: &use}
	out := buf.String() + FormatSummary(s)
	for _, want := range []string{
		"step 50/100  loss 2.0000  val 1.5000  depth 6  new blocks +0.003 idle, gap unknown  0 tok/s",
		"step 100/100  loss 1.9000  val 1.5000  depth 8  0 tok/s", // an earlier expansion's check is gone
		"mixing check at step 1500 (16 windows): new blocks 1-5 +0.412 nats, in use; gap to fixed depth unknown (no calibration)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	for _, bad := range []string{"mixed", "caught up"} {
		if strings.Contains(out, bad) {
			t.Errorf("the output claims %q:\n%s", bad, out)
		}
	}
}
