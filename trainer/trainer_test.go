package trainer

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sproutml/sprout/asm"
	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
)

// recorder is a Sink that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []Event
	// on, when set, sees each event after it is recorded.
	on func(Event)
}

func (r *recorder) Emit(e Event) error {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	if r.on != nil {
		r.on(e)
	}
	return nil
}

// losses maps each logged step to its training loss.
func (r *recorder) losses() map[int64]float64 {
	out := map[int64]float64{}
	for _, e := range r.events {
		if s, ok := e.(StepEvent); ok {
			out[s.Step] = s.Loss
		}
	}
	return out
}

func (r *recorder) steps() []StepEvent {
	var out []StepEvent
	for _, e := range r.events {
		if s, ok := e.(StepEvent); ok {
			out = append(out, s)
		}
	}
	return out
}

var (
	corpusOnce sync.Once
	corpusPath string
)

// testCorpus writes a small generated corpus once per test binary.
func testCorpus(t *testing.T) string {
	t.Helper()
	corpusOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sprout-trainer-test")
		if err != nil {
			panic(err)
		}
		corpusPath = filepath.Join(dir, "corpus.txt")
		if err := os.WriteFile(corpusPath, GenerateCorpus(5, 40000), 0o644); err != nil {
			panic(err)
		}
	})
	return corpusPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if corpusPath != "" {
		os.RemoveAll(filepath.Dir(corpusPath))
	}
	os.Exit(code)
}

// tinyConfig is a unit-test-sized progressive run: 1 block grown to 2 at
// step 10 of 20.
func tinyConfig(t *testing.T) Config {
	return Config{
		Model:       nn.Config{Ctx: 16, Dim: 32, Heads: 2, Layers: 2},
		Data:        testCorpus(t),
		Batch:       6,
		Steps:       20,
		Seed:        7,
		EvalEvery:   5,
		EvalWindows: 6,
		Workers:     1,
		Grow:        &grow.Plan{From: 1, AtStep: 10},
	}
}

func mustRun(t *testing.T, cfg Config, sink Sink) *Result {
	t.Helper()
	res, err := Run(context.Background(), cfg, sink)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// sameWeights fails unless a and b have bit-identical parameters.
func sameWeights(t *testing.T, what string, a, b *nn.Model) {
	t.Helper()
	pa, pb := a.Params(), b.Params()
	if len(pa) != len(pb) {
		t.Fatalf("%s: %d vs %d parameters", what, len(pa), len(pb))
	}
	for i := range pa {
		if pa[i].Name != pb[i].Name {
			t.Fatalf("%s: parameter %d named %s vs %s", what, i, pa[i].Name, pb[i].Name)
		}
		for j := range pa[i].Data {
			if math.Float32bits(pa[i].Data[j]) != math.Float32bits(pb[i].Data[j]) {
				t.Fatalf("%s: %s[%d] = %v vs %v", what, pa[i].Name, j, pa[i].Data[j], pb[i].Data[j])
			}
		}
	}
}

// sameLosses fails unless every step of want from step `from` on has the
// bit-identical loss in got.
func sameLosses(t *testing.T, what string, want, got map[int64]float64, from int64) {
	t.Helper()
	n := 0
	for s, l := range want {
		if s < from {
			continue
		}
		g, ok := got[s]
		if !ok {
			t.Fatalf("%s: step %d missing", what, s)
		}
		if math.Float64bits(g) != math.Float64bits(l) {
			t.Fatalf("%s: step %d loss %v, want %v", what, s, g, l)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("%s: no steps compared", what)
	}
}

func TestWorkersBitIdentical(t *testing.T) {
	var ref *Result
	var refLoss map[int64]float64
	for _, w := range []int{1, 2, 3} {
		cfg := tinyConfig(t)
		cfg.Workers = w
		rec := &recorder{}
		res := mustRun(t, cfg, rec)
		if res.Summary.Workers != w {
			t.Errorf("workers=%d: summary says %d", w, res.Summary.Workers)
		}
		if ref == nil {
			ref, refLoss = res, rec.losses()
			continue
		}
		sameLosses(t, "workers", refLoss, rec.losses(), 1)
		sameWeights(t, "workers", ref.Model, res.Model)
		if *res.Summary.FinalValLoss != *ref.Summary.FinalValLoss {
			t.Errorf("workers=%d: val loss %v, want %v", w, *res.Summary.FinalValLoss, *ref.Summary.FinalValLoss)
		}
	}
}

func TestWorkersBitIdenticalMuon(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Optimizer, cfg.Steps, cfg.Grow, cfg.Batch = OptMuon, 6, nil, 4
	a := &recorder{}
	ra := mustRun(t, cfg, a)
	cfg.Workers = 4
	b := &recorder{}
	rb := mustRun(t, cfg, b)
	sameLosses(t, "muon", a.losses(), b.losses(), 1)
	sameWeights(t, "muon", ra.Model, rb.Model)
}

func TestTrainingLowersLoss(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Steps, cfg.Grow, cfg.EvalEvery = 40, nil, 40
	rec := &recorder{}
	res := mustRun(t, cfg, rec)
	first := rec.steps()[0].Loss
	if first < 5 || first > 6 { // ln 256 = 5.55 at initialisation
		t.Errorf("first loss %v, want about ln 256", first)
	}
	if v := *res.Summary.FinalValLoss; !(v < first-1) {
		t.Errorf("validation loss %v after 40 steps: no clear progress from %v", v, first)
	}
}

func TestGrowthInRun(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Out = filepath.Join(t.TempDir(), "ckpt")
	rec := &recorder{}
	res := mustRun(t, cfg, rec)

	var grows []GrowEvent
	for _, e := range rec.events {
		if g, ok := e.(GrowEvent); ok {
			grows = append(grows, g)
		}
	}
	if len(grows) != 1 || grows[0].Step != 10 || grows[0].From != 1 || grows[0].To != 2 || grows[0].Init != "random" {
		t.Fatalf("grow events %+v, want one at step 10 from 1 to 2 blocks (random)", grows)
	}
	for _, s := range rec.steps() {
		want := 1
		if s.Step > 10 {
			want = 2
		}
		if s.Layers != want {
			t.Errorf("step %d ran at depth %d, want %d", s.Step, s.Layers, want)
		}
	}
	mc := res.Model.Config
	if len(res.Model.Blocks) != 2 || res.Model.NumParams() != nn.ParamCount(mc) {
		t.Errorf("final model: %d blocks, %d parameters (formula %d)", len(res.Model.Blocks), res.Model.NumParams(), nn.ParamCount(mc))
	}

	// FLOPs: the summary equals grow.RunFLOPs for the plan.
	stages, err := res.Config.Grow.Stages(cfg.Steps, cfg.Steps)
	if err != nil {
		t.Fatal(err)
	}
	spent, fixed := grow.RunFLOPs(mc, 1, stages, cfg.Steps, cfg.Batch, cfg.Model.Ctx)
	s := res.Summary
	if s.FLOPs != spent || s.FixedFLOPs != fixed || s.FLOPs >= s.FixedFLOPs {
		t.Errorf("summary FLOPs %v / fixed %v, want %v / %v", s.FLOPs, s.FixedFLOPs, spent, fixed)
	}
	if s.GrowStep == nil || *s.GrowStep != 10 || s.LayersStart != 1 || s.LayersEnd != 2 || s.Steps != 20 || s.Tokens != 20*6*16 {
		t.Errorf("summary %+v", s)
	}
	// Per-step FLOPs grow by the step cost of the current depth.
	prev := 0.0
	for _, st := range rec.steps() {
		if want := grow.StepFLOPs(mc, st.Layers, cfg.Batch, cfg.Model.Ctx); st.FLOPs-prev != want {
			t.Errorf("step %d: FLOPs grew by %v, want %v", st.Step, st.FLOPs-prev, want)
		}
		prev = st.FLOPs
	}

	// Checkpoints: before the expansion (1 block) and the final one (2
	// blocks), with the history recorded.
	m, man, err := LoadModel(PreGrowDir(cfg.Out, 10))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Blocks) != 1 || man.Step != 10 || len(man.Growth.History) != 0 {
		t.Errorf("pre-grow checkpoint: %d blocks, step %d, history %v", len(m.Blocks), man.Step, man.Growth.History)
	}
	m, man, err = LoadModel(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	h := man.Growth.History
	if len(m.Blocks) != 2 || man.Step != 20 || len(h) != 1 || h[0] != (GrowthRecord{Step: 10, From: 1, To: 2, Init: "random"}) {
		t.Errorf("final checkpoint: %d blocks, step %d, history %+v", len(m.Blocks), man.Step, h)
	}
	sameWeights(t, "checkpoint", res.Model, m)
	if res.Checkpoint != cfg.Out {
		t.Errorf("result checkpoint %q, want %q", res.Checkpoint, cfg.Out)
	}
}

// copyDir copies a checkpoint directory (flat).
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestResumeExact stops a progressive run three ways - by Ctrl-C before the
// expansion, and at the checkpoints just before and just after it - and
// checks that resuming gives the uninterrupted run bit for bit.
func TestResumeExact(t *testing.T) {
	tmp := t.TempDir()
	cfg := tinyConfig(t)
	cfg.Workers = 2
	cfg.Out = filepath.Join(tmp, "full")
	post := filepath.Join(tmp, "post")
	grown := false
	full := &recorder{}
	full.on = func(e Event) {
		switch e := e.(type) {
		case GrowEvent:
			grown = true
		case CheckpointEvent:
			if grown && e.Step == 10 && e.Path == cfg.Out {
				copyDir(t, cfg.Out, post) // the checkpoint right after the expansion
			}
		}
	}
	ref := mustRun(t, cfg, full)
	want := full.losses()

	// Ctrl-C after step 6.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cut := cfg
	cut.Out = filepath.Join(tmp, "cut")
	cut.Workers = 1
	stop := &recorder{on: func(e Event) {
		if s, ok := e.(StepEvent); ok && s.Step == 6 {
			cancel()
		}
	}}
	part, err := Run(ctx, cut, stop)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("cancelled run: err = %v, want ErrInterrupted", err)
	}
	if part.Summary.Steps != 6 || part.Checkpoint != cut.Out {
		t.Fatalf("cancelled run stopped at step %d with checkpoint %q", part.Summary.Steps, part.Checkpoint)
	}
	cutLosses := stop.losses()
	if len(cutLosses) != 6 {
		t.Fatalf("cancelled run logged %d steps, want 6", len(cutLosses))
	}
	sameLosses(t, "before the cut", cutLosses, want, 1)

	for _, tc := range []struct {
		name, dir string
		from      int64
	}{
		{"ctrl-c at step 6", cut.Out, 7},
		{"pre-grow checkpoint", PreGrowDir(cfg.Out, 10), 11},
		{"post-grow checkpoint", post, 11},
	} {
		rec := &recorder{}
		res, err := Resume(context.Background(), tc.dir, rec, func(c *Config) error { c.Workers = 3; return nil })
		if err != nil {
			t.Fatalf("%s: resume: %v", tc.name, err)
		}
		got := rec.losses()
		if _, ok := got[tc.from-1]; ok {
			t.Errorf("%s: resumed run reported step %d again", tc.name, tc.from-1)
		}
		sameLosses(t, tc.name, want, got, tc.from)
		sameWeights(t, tc.name, ref.Model, res.Model)
		s, r := res.Summary, ref.Summary
		if s.Steps != r.Steps || s.Tokens != r.Tokens || s.FLOPs != r.FLOPs || s.FixedFLOPs != r.FixedFLOPs ||
			*s.FinalValLoss != *r.FinalValLoss || s.LayersStart != 1 || s.LayersEnd != 2 || *s.GrowStep != 10 {
			t.Errorf("%s: summary %+v, want %+v", tc.name, s, r)
		}
	}
}

func TestResumeFinishedAndExtended(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Grow, cfg.Steps = nil, 8
	cfg.Out = filepath.Join(t.TempDir(), "ckpt")
	ref := mustRun(t, cfg, nil)
	// Resuming a finished run does nothing and reports the same summary.
	res, err := Resume(context.Background(), cfg.Out, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Steps != 8 || res.Summary.FinalTrainLoss != ref.Summary.FinalTrainLoss || *res.Summary.FinalValLoss != *ref.Summary.FinalValLoss {
		t.Errorf("resumed finished run: %+v, want %+v", res.Summary, ref.Summary)
	}
	// Extending it trains on.
	res, err = Resume(context.Background(), cfg.Out, nil, func(c *Config) error { c.Steps = 12; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Steps != 12 {
		t.Errorf("extended run ended at step %d", res.Summary.Steps)
	}
	// What may not change.
	for name, f := range map[string]func(*Config){
		"model": func(c *Config) { c.Model.Dim = 64 },
		"batch": func(c *Config) { c.Batch = 3 },
		"seed":  func(c *Config) { c.Seed++ },
		"steps": func(c *Config) { c.Steps = 4 },
		"data":  func(c *Config) { c.Data = "" },
	} {
		_, err := Resume(context.Background(), cfg.Out, nil, func(c *Config) error { f(c); return nil })
		if err == nil {
			t.Errorf("resume changing %s: no error", name)
		}
	}
}

func TestDivergenceKeepsCheckpoint(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Grow, cfg.Steps = nil, 6
	cfg.Out = filepath.Join(t.TempDir(), "ckpt")
	mustRun(t, cfg, nil)
	before, err := os.ReadFile(filepath.Join(cfg.Out, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	// Continue with an absurd learning rate and no clipping, checkpointing
	// every step: the run must stop with an error naming the step, and the
	// checkpoint on disk must be the last one with finite numbers.
	rec := &recorder{}
	_, err = Resume(context.Background(), cfg.Out, rec, func(c *Config) error {
		c.Steps, c.LR, c.GradClip, c.Schedule, c.Warmup, c.Decay, c.DecayShape = 30, 1e30, -1, ScheduleConstant, 0, 0, ""
		c.CheckpointEvery = 1
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "diverged") || !strings.Contains(err.Error(), "step ") {
		t.Fatalf("err = %v, want a divergence naming the step", err)
	}
	t.Log(err)
	m, man, lerr := LoadModel(cfg.Out)
	if lerr != nil {
		t.Fatalf("checkpoint after divergence: %v", lerr)
	}
	for _, p := range m.Params() {
		for _, v := range p.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("checkpoint at step %d holds non-finite %s", man.Step, p.Name)
			}
		}
	}
	last := int64(0)
	for _, e := range rec.events {
		if c, ok := e.(CheckpointEvent); ok {
			last = c.Step
		}
	}
	if man.Step != max(last, 6) || !strings.Contains(err.Error(), cfg.Out) {
		t.Errorf("checkpoint holds step %d; last written %d; error %v", man.Step, last, err)
	}
	if last == 0 {
		after, _ := os.ReadFile(filepath.Join(cfg.Out, ManifestFile))
		if string(after) != string(before) {
			t.Errorf("the checkpoint changed although none was reported written")
		}
	}
}

func TestBadConfigs(t *testing.T) {
	short := filepath.Join(t.TempDir(), "short.txt")
	os.WriteFile(short, []byte("tiny text, far too short for a context of 16 in both splits"), 0o644)
	empty := filepath.Join(t.TempDir(), "empty.txt")
	os.WriteFile(empty, nil, 0o644)
	for _, tc := range []struct {
		name string
		f    func(*Config)
		want string
	}{
		{"heads", func(c *Config) { c.Model.Heads = 3 }, "heads (3) must divide dim (32)"},
		{"steps", func(c *Config) { c.Steps = 0 }, "steps must be at least 1"},
		{"lr", func(c *Config) { c.LR = -1 }, "lr must be positive"},
		{"nan lr", func(c *Config) { c.LR = math.NaN() }, "lr must be positive"},
		{"optimizer", func(c *Config) { c.Optimizer = "adam" }, `optimizer "adam" is unknown`},
		{"schedule", func(c *Config) { c.Schedule = "step" }, `unknown kind "step"`},
		{"grow target", func(c *Config) { c.Grow.From = 2 }, "not deeper than the source depth 2"},
		{"grow mismatch", func(c *Config) { c.Grow.To = 3 }, "grow target depth 3 differs from model layers 2"},
		{"tau in decay", func(c *Config) { c.Grow.AtStep = 19 }, "inside or after the decay phase"},
		{"strategy", func(c *Config) { c.Grow.Strategy = "clone" }, `unknown strategy "clone"`},
		{"shard", func(c *Config) { c.Shard = 4 }, "shard (4 sequences) must divide batch (6)"},
		{"warmup", func(c *Config) { c.Warmup = 1.5 }, "warmup"},
		{"val fraction", func(c *Config) { c.ValFraction = 1 }, "val_fraction"},
		{"data format", func(c *Config) { c.DataFormat = "csv" }, "data_format"},
		{"ctx vs data", func(c *Config) { c.Model.Ctx = 5000 }, "too short"},
		{"short data", func(c *Config) { c.Data = short }, "too short"},
		{"empty data", func(c *Config) { c.Data = empty }, "is empty"},
		{"missing data", func(c *Config) { c.Data = filepath.Join(t.TempDir(), "nope.txt") }, "no such file"},
		{"vocab", func(c *Config) { c.Model.Vocab = 100 }, "outside the vocabulary of 100"},
		{"out not a checkpoint", func(c *Config) { c.Out = filepath.Dir(short) }, "refusing to replace"},
	} {
		cfg := tinyConfig(t)
		tc.f(&cfg)
		res, err := Run(context.Background(), cfg, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
		if res != nil {
			t.Errorf("%s: a result for a run that never started", tc.name)
		}
	}
	// Several problems are reported together.
	cfg := tinyConfig(t)
	cfg.Steps, cfg.LR, cfg.Model.Heads = 0, -1, 5
	err := cfg.Validate()
	for _, want := range []string{"steps", "lr", "heads"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("joined errors %v lack %q", err, want)
		}
	}
	// More workers than shards is fine: they are clamped.
	cfg = tinyConfig(t)
	cfg.Workers, cfg.Batch, cfg.Steps, cfg.Grow = 16, 2, 2, nil
	if res := mustRun(t, cfg, nil); res.Summary.Workers != 2 {
		t.Errorf("16 workers on 2 shards: summary says %d workers", res.Summary.Workers)
	}
}

func TestCorruptCheckpoints(t *testing.T) {
	tmp := t.TempDir()
	cfg := tinyConfig(t)
	cfg.Grow, cfg.Steps = nil, 4
	cfg.Out = filepath.Join(tmp, "good")
	mustRun(t, cfg, nil)
	damage := map[string]func(dir string){
		"flipped byte": func(dir string) {
			p := filepath.Join(dir, ModelFile)
			b, _ := os.ReadFile(p)
			b[len(b)-3] ^= 0x40
			os.WriteFile(p, b, 0o644)
		},
		"truncated optimizer": func(dir string) {
			p := filepath.Join(dir, OptimFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		},
		"edited manifest": func(dir string) {
			p := filepath.Join(dir, ManifestFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(b), `"step": 4`, `"step": 3`, 1)), 0o644)
		},
		"missing weights": func(dir string) { os.Remove(filepath.Join(dir, ModelFile)) },
	}
	for name, f := range damage {
		dir := filepath.Join(tmp, strings.ReplaceAll(name, " ", "-"))
		copyDir(t, cfg.Out, dir)
		f(dir)
		if _, err := Resume(context.Background(), dir, nil, nil); err == nil {
			t.Errorf("%s: resume succeeded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
		if _, _, err := LoadModel(dir); err == nil {
			t.Errorf("%s: LoadModel succeeded", name)
		}
	}
	// Well-formed files whose tensors do not fit the model.
	c, err := LoadCheckpoint(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	for i := range c.Model {
		if c.Model[i].Name == "wte.weight" {
			c.Model[i].Shape = []int{c.Model[i].Shape[0] / 2, c.Model[i].Shape[1] * 2}
		}
	}
	bad := filepath.Join(tmp, "shapes")
	if err := SaveCheckpoint(bad, c); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadModel(bad); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("mismatched shapes: err = %v", err)
	}
	c, _ = LoadCheckpoint(cfg.Out)
	c.Optim = c.Optim[1:]
	c.Optim[0].Data = c.Optim[0].Data[:1]
	c.Optim[0].Shape = []int{1}
	if err := SaveCheckpoint(bad, c); err != nil {
		t.Fatal(err)
	}
	if _, err := Resume(context.Background(), bad, nil, nil); err == nil || !strings.Contains(err.Error(), OptimFile) {
		t.Errorf("mismatched optimizer state: err = %v", err)
	}
	// The good one is untouched and resumes.
	if _, err := Resume(context.Background(), cfg.Out, nil, func(c *Config) error { c.Steps = 5; return nil }); err != nil {
		t.Errorf("good checkpoint: %v", err)
	}
}

func TestGrowCheckpoint(t *testing.T) {
	tmp := t.TempDir()
	cfg := tinyConfig(t)
	cfg.Grow, cfg.Steps, cfg.Model.Layers = nil, 4, 1
	cfg.Out = filepath.Join(tmp, "src")
	src := mustRun(t, cfg, nil)
	dst := filepath.Join(tmp, "dst")
	if err := GrowCheckpoint(cfg.Out, dst, 3, grow.Copy, grow.CopySource, 9, false); err != nil {
		t.Fatal(err)
	}
	m, man, err := LoadModel(dst)
	if err != nil {
		t.Fatal(err)
	}
	mc := src.Model.Config
	mc.Layers = 3
	if len(m.Blocks) != 3 || m.NumParams() != nn.ParamCount(mc) || man.Step != 4 {
		t.Fatalf("grown: %d blocks, %d params (formula %d), step %d", len(m.Blocks), m.NumParams(), nn.ParamCount(mc), man.Step)
	}
	if h := man.Growth.History; len(h) != 1 || h[0] != (GrowthRecord{Step: 4, From: 1, To: 3, Init: "copy"}) {
		t.Errorf("history %+v", h)
	}
	for j := range 3 {
		for i, p := range m.Blocks[j].Params() {
			q := src.Model.Blocks[0].Params()[i]
			for k := range p.Data {
				if p.Data[k] != q.Data[k] {
					t.Fatalf("block %d %s differs from the source block", j, p.Name)
				}
			}
		}
	}
	// It resumes at the new depth, with the copied optimizer state.
	res, err := Resume(context.Background(), dst, nil, func(c *Config) error { c.Steps = 6; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Summary; s.Steps != 6 || s.LayersEnd != 3 || len(res.Model.Blocks) != 3 {
		t.Errorf("resumed grown checkpoint: %+v", s)
	}
	// dst now holds a checkpoint (step 6): replaced only when asked.
	err = GrowCheckpoint(cfg.Out, dst, 3, grow.Copy, grow.FreshNew, 1, false)
	wantExists(t, "grow over a checkpoint", err, dst, 6)
	if err := GrowCheckpoint(cfg.Out, dst, 3, grow.Copy, grow.FreshNew, 1, true); err != nil || manifestStep(t, dst) != 4 {
		t.Errorf("grow with replace: %v", err)
	}
	for _, tc := range []struct {
		layers int
		s      grow.Strategy
		dst    string
		want   string
	}{
		{1, grow.Copy, filepath.Join(tmp, "x"), "must be deeper"},
		{3, "sideways", filepath.Join(tmp, "x"), "unknown strategy"},
		{3, grow.Copy, cfg.Out, "must differ"},
	} {
		if err := GrowCheckpoint(cfg.Out, tc.dst, tc.layers, tc.s, grow.FreshNew, 1, false); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("GrowCheckpoint(%d, %s): err = %v, want %q", tc.layers, tc.s, err, tc.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	m, err := nn.NewModel(nn.Config{Vocab: 256, Ctx: 16, Dim: 32, Heads: 2, Layers: 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	toks := EncodeBytes(GenerateCorpus(2, 2000))
	win := EvalWindows(toks, 16, 10)
	var want float64
	for _, w := range win {
		tok, tgt := make([]int32, 16), make([]int32, 16)
		for i := range 16 {
			tok[i], tgt[i] = int32(w[i]), int32(w[i+1])
		}
		l, err := m.Loss(tok, tgt, 1, 16)
		if err != nil {
			t.Fatal(err)
		}
		want += float64(l)
	}
	want /= float64(len(win))
	got, err := Evaluate(m, win, 1)
	if err != nil || got != want {
		t.Errorf("Evaluate batch 1 = %v, %v; want %v", got, err, want)
	}
	got, err = Evaluate(m, win, 4) // chunks of 4, 4, 2
	if err != nil || math.Abs(got-want) > 1e-5 {
		t.Errorf("Evaluate batch 4 = %v, %v; want about %v", got, err, want)
	}
	for name, w := range map[string][][]uint16{
		"none":   nil,
		"ragged": {win[0], win[1][:10]},
		"long":   {EncodeBytes(make([]byte, 40))},
	} {
		if _, err := Evaluate(m, w, 2); err == nil {
			t.Errorf("Evaluate(%s): no error", name)
		}
	}
}

func TestGenerate(t *testing.T) {
	m, err := nn.NewModel(nn.Config{Vocab: 256, Ctx: 16, Dim: 32, Heads: 2, Layers: 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	prompt := EncodeBytes([]byte("the cat"))
	a, err := Generate(m, prompt, SampleOptions{Tokens: 40, Temperature: 1, TopK: 20, TopP: 0.9, Seed: 5})
	if err != nil || len(a) != 40 { // past the context of 16: the cache restarts
		t.Fatalf("Generate: %d tokens, %v", len(a), err)
	}
	b, _ := Generate(m, prompt, SampleOptions{Tokens: 40, Temperature: 1, TopK: 20, TopP: 0.9, Seed: 5})
	if DecodeBytes(a) != DecodeBytes(b) {
		t.Error("same seed, different samples")
	}
	// Greedy decoding follows the full forward's argmax.
	g, err := Generate(m, prompt, SampleOptions{Tokens: 1})
	if err != nil {
		t.Fatal(err)
	}
	tok := make([]int32, len(prompt))
	for i, p := range prompt {
		tok[i] = int32(p)
	}
	logits, _ := m.Logits(tok, 1, len(tok))
	last := logits[(len(tok)-1)*256:]
	best := 0
	for i, l := range last {
		if l > last[best] {
			best = i
		}
	}
	if int(g[0]) != best {
		t.Errorf("greedy token %d, argmax %d", g[0], best)
	}
	// Top-k 1 is greedy too.
	if k1, _ := Generate(m, prompt, SampleOptions{Tokens: 1, Temperature: 1, TopK: 1, Seed: 9}); k1[0] != g[0] {
		t.Errorf("top-k 1 drew %d, greedy %d", k1[0], g[0])
	}
	for name, o := range map[string]SampleOptions{
		"temperature": {Tokens: 1, Temperature: -1},
		"top-p":       {Tokens: 1, TopP: 2},
		"top-k":       {Tokens: 1, TopK: -1},
	} {
		if _, err := Generate(m, prompt, o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Generate(m, nil, SampleOptions{Tokens: 1}); err == nil {
		t.Error("empty prompt: no error")
	}
}

// TestRunLeavesGEMMThreads checks that a run keeps its GEMM thread bound to
// itself: asm's process-wide bound is the same during and after the run, so
// two runs in one program (or a library user's own Sgemm calls) do not
// undo each other's setting.
func TestRunLeavesGEMMThreads(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer asm.SetThreads(0)
	asm.SetThreads(3)
	cfg := tinyConfig(t)
	cfg.Workers, cfg.Batch = 2, 6 // gemmThreads(2) is 2 here, not 3
	var during []int
	rec := &recorder{on: func(Event) { during = append(during, asm.Threads()) }}
	mustRun(t, cfg, rec)
	for i, n := range during {
		if n != 3 {
			t.Fatalf("asm.Threads() = %d at event %d of the run, want the caller's 3", n, i)
		}
	}
	if n := asm.Threads(); n != 3 {
		t.Errorf("asm.Threads() = %d after the run, want 3", n)
	}
}

// TestCheckpointAtEval: with CheckpointAtEval a run checkpoints at every
// evaluation, so a crash (kill -9) loses at most the steps since the last
// one, and the checkpoint resumes to the uninterrupted run bit for bit; 0
// keeps saving only at the end.
func TestCheckpointAtEval(t *testing.T) {
	defer func(s float64) { saveShare = s }(saveShare)
	saveShare = math.Inf(1) // this tiny run is mostly saving
	tmp := t.TempDir()
	cfg := tinyConfig(t)
	cfg.Grow = nil
	cfg.CheckpointEvery = CheckpointAtEval
	cfg.Out = filepath.Join(tmp, "run")
	crashed := filepath.Join(tmp, "crashed")
	var saved []int64
	full := &recorder{on: func(e Event) {
		if c, ok := e.(CheckpointEvent); ok {
			saved = append(saved, c.Step)
			if c.Step == 15 {
				copyDir(t, cfg.Out, crashed) // what a kill -9 at step 17 leaves
			}
		}
	}}
	ref := mustRun(t, cfg, full)
	if want := []int64{5, 10, 15, 20}; !slices.Equal(saved, want) {
		t.Fatalf("checkpoints at steps %v, want %v (every evaluation)", saved, want)
	}
	rec := &recorder{}
	res, err := Resume(context.Background(), crashed, rec, nil)
	if err != nil {
		t.Fatalf("resume from the evaluation checkpoint: %v", err)
	}
	sameLosses(t, "resumed", full.losses(), rec.losses(), 16)
	sameWeights(t, "resumed", ref.Model, res.Model)

	saved = nil
	cfg.CheckpointEvery = 0
	cfg.Out = filepath.Join(tmp, "end-only")
	mustRun(t, cfg, full)
	if !slices.Equal(saved, []int64{20}) {
		t.Errorf("checkpoint_every 0: checkpoints at steps %v, want only the end", saved)
	}

	// Saves that would take more than saveShare of the run are skipped: the
	// first evaluation's is made, the next ones wait for the time since it
	// to grow a (here) billion times its length, and the end is always saved.
	saveShare = 1e-9
	saved = nil
	cfg.CheckpointEvery = CheckpointAtEval
	cfg.Out = filepath.Join(tmp, "capped")
	mustRun(t, cfg, full)
	if !slices.Equal(saved, []int64{5, 20}) {
		t.Errorf("saves capped at a share of 1e-9: checkpoints at steps %v, want [5 20]", saved)
	}
}
