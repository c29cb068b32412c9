package nn

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// trainStep is one single-worker training step.
func trainStep(m *Model, tape *Tape, opt Optimizer, tok, tgt []int32, B, T int, lr float32) float32 {
	tape.ZeroGrad()
	loss, err := m.Forward(tape, tok, tgt, B, T)
	if err != nil {
		panic(err)
	}
	if err := tape.Backward(); err != nil {
		panic(err)
	}
	if err := ReduceGrads(m.Params(), 1, tape); err != nil {
		panic(err)
	}
	ClipGradNorm(m.Params(), 1)
	opt.Step(m.Params(), lr)
	return loss
}

func overfit(t *testing.T, opt Optimizer, lr float32, steps int) {
	cfg := Config{Vocab: 16, Ctx: 16, Dim: 32, Heads: 4, Layers: 1}
	m, err := NewModel(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	B, T := 2, 16
	tok := randTokens(rng, B*T+1, cfg.Vocab)
	x, y := tok[:B*T], tok[1:]
	tape := NewTape(m)
	var loss float32
	for i := 0; i < steps; i++ {
		loss = trainStep(m, tape, opt, x, y, B, T, lr)
		if loss < 0.05 {
			t.Logf("%s: loss %.4f after %d steps", opt.Name(), loss, i+1)
			return
		}
	}
	t.Fatalf("%s: loss %.4f after %d steps, want < 0.05", opt.Name(), loss, steps)
}

func TestOverfitAdamW(t *testing.T) {
	overfit(t, NewAdamW(AdamWConfig{}), 1e-2, 300)
}

func TestOverfitMuon(t *testing.T) {
	for _, cfg := range []MuonConfig{{}, {NonMatrix: "adamw"}} {
		opt, err := NewMuon(cfg)
		if err != nil {
			t.Fatal(err)
		}
		overfit(t, opt, 1e-2, 300)
	}
	opt, _ := NewMuon(MuonConfig{Scale: "spectral"})
	overfit(t, opt, 2e-2, 300)
	opt, _ = NewMuon(MuonConfig{Scale: "mup", Embeddings: true})
	overfit(t, opt, 2e-2, 300)
	if _, err := NewMuon(MuonConfig{Scale: "bogus"}); err == nil {
		t.Fatal("unknown scale accepted")
	}
}

func TestOverfitSGD(t *testing.T) {
	overfit(t, NewSGD(SGDConfig{Momentum: 0.9, Nesterov: true}), 0.3, 600)
}

func TestNewtonSchulzOrthogonal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var w nsWork
	for _, sh := range [][2]int{{16, 48}, {48, 16}, {32, 96}, {64, 256}, {96, 40}} {
		r, c := sh[0], sh[1]
		g := make([]float32, r*c)
		randn(rng, g, 1)
		out := make([]float32, r*c)
		newtonSchulz(out, g, r, c, 5, &w)
		d := make([]float64, r*c)
		for i, v := range out {
			d[i] = float64(v)
		}
		var svd mat.SVD
		if !svd.Factorize(mat.NewDense(r, c, d), mat.SVDNone) {
			t.Fatal("svd failed")
		}
		sv := svd.Values(nil)
		lo, hi := sv[len(sv)-1], sv[0]
		t.Logf("%dx%d: singular values in [%.3f, %.3f]", r, c, lo, hi)
		if lo < 0.65 || hi > 1.2 {
			t.Errorf("%dx%d: singular values in [%.3f, %.3f], want within [0.65, 1.2]", r, c, lo, hi)
		}
	}
	// With zero steps the output is only the normalised input: far from
	// orthogonal, so the band check above means something.
	g := make([]float32, 16*48)
	randn(rng, g, 1)
	out := make([]float32, len(g))
	newtonSchulz(out, g, 16, 48, 0, &w)
	d := make([]float64, len(g))
	for i, v := range out {
		d[i] = float64(v)
	}
	var svd mat.SVD
	svd.Factorize(mat.NewDense(16, 48, d), mat.SVDNone)
	if sv := svd.Values(nil); sv[0] > 0.65 {
		t.Errorf("unorthogonalised input already in band: %v", sv[0])
	}
}

func runLosses(t *testing.T, seed uint64, steps int) []float32 {
	cfg := Config{Vocab: 32, Ctx: 16, Dim: 16, Heads: 2, Layers: 2}
	m, _ := NewModel(cfg, seed)
	opt, _ := NewMuon(MuonConfig{})
	rng := rand.New(rand.NewPCG(seed, 1))
	tape := NewTape(m)
	var out []float32
	for i := 0; i < steps; i++ {
		tok := randTokens(rng, 2*16+1, cfg.Vocab)
		out = append(out, trainStep(m, tape, opt, tok[:32], tok[1:], 2, 16, 1e-2))
	}
	return out
}

func TestDeterminism(t *testing.T) {
	a, b := runLosses(t, 7, 5), runLosses(t, 7, 5)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("step %d: %v then %v", i, a[i], b[i])
		}
	}
	c := runLosses(t, 8, 5)
	if c[0] == a[0] {
		t.Fatal("a different seed gave the same loss")
	}
}

// Two goroutines, two tapes, one model: results equal the sequential ones
// bit for bit, and -race sees no conflicting access.
func TestConcurrentTapes(t *testing.T) {
	cfg := Config{Vocab: 32, Ctx: 16, Dim: 16, Heads: 2, Layers: 2}
	m, _ := NewModel(cfg, 1)
	rng := rand.New(rand.NewPCG(1, 1))
	toks := [2][]int32{randTokens(rng, 33, 32), randTokens(rng, 33, 32)}
	want := [2][]float32{}
	for w := 0; w < 2; w++ {
		tape := NewTape(m)
		if _, err := m.Forward(tape, toks[w][:32], toks[w][1:], 2, 16); err != nil {
			t.Fatal(err)
		}
		tape.Backward()
		want[w] = append([]float32(nil), tape.Grads()[2]...)
	}
	tapes := [2]*Tape{NewTape(m), NewTape(m)}
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 3; rep++ {
				tapes[w].ZeroGrad()
				m.Forward(tapes[w], toks[w][:32], toks[w][1:], 2, 16)
				tapes[w].Backward()
				m.Loss(toks[w][:32], toks[w][1:], 2, 16)
			}
		}()
	}
	wg.Wait()
	for w := 0; w < 2; w++ {
		for i, v := range tapes[w].Grads()[2] {
			if v != want[w][i] {
				t.Fatalf("worker %d grad[%d] = %v, sequential %v", w, i, v, want[w][i])
			}
		}
	}
	// Two half batches reduced with scale 1/2 give the full batch's gradient.
	full := NewTape(m)
	both := append(append([]int32(nil), toks[0][:32]...), toks[1][:32]...)
	tg := append(append([]int32(nil), toks[0][1:]...), toks[1][1:]...)
	m.Forward(full, both, tg, 4, 16)
	full.Backward()
	if err := ReduceGrads(m.Params(), 0.5, tapes[0], tapes[1]); err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Params() {
		for j, v := range p.Grad {
			if w := full.Grads()[i][j]; math.Abs(float64(v-w)) > 1e-5+1e-3*math.Abs(float64(w)) {
				t.Fatalf("%s[%d]: reduced %v, full batch %v", p.Name, j, v, w)
			}
		}
	}
}

func TestTrainStepAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	cfg := Config{Vocab: 32, Ctx: 16, Dim: 16, Heads: 2, Layers: 2}
	for _, name := range []string{"adamw", "muon", "sgd"} {
		m, _ := NewModel(cfg, 1)
		var opt Optimizer
		switch name {
		case "adamw":
			opt = NewAdamW(AdamWConfig{WeightDecay: 0.1})
		case "muon":
			opt, _ = NewMuon(MuonConfig{})
		case "sgd":
			opt = NewSGD(SGDConfig{Momentum: 0.9})
		}
		rng := rand.New(rand.NewPCG(1, 1))
		tok := randTokens(rng, 4*16+1, 32)
		tape := NewTape(m)
		step := func() { trainStep(m, tape, opt, tok[:64], tok[1:], 4, 16, 1e-3) }
		for i := 0; i < 3; i++ {
			step()
		}
		if a := testing.AllocsPerRun(10, step); a != 0 {
			t.Errorf("%s: %v allocations per training step, want 0", name, a)
		}
		eval := NewEvalTape(m)
		if a := testing.AllocsPerRun(10, func() { m.Forward(eval, tok[:64], tok[1:], 4, 16) }); a != 0 {
			t.Errorf("eval forward: %v allocations, want 0", a)
		}
	}
}

func TestOptimizerState(t *testing.T) {
	cfg := tinyConfig(1)
	rng := rand.New(rand.NewPCG(1, 1))
	tok := randTokens(rng, 9, cfg.Vocab)
	muon, _ := NewMuon(MuonConfig{})
	for _, opt := range []Optimizer{NewAdamW(AdamWConfig{}), muon, NewSGD(SGDConfig{Momentum: 0.9})} {
		m, _ := NewModel(cfg, 1)
		tape := NewTape(m)
		trainStep(m, tape, opt, tok[:8], tok[1:], 1, 8, 1e-3)
		if opt.Steps() != 1 {
			t.Fatalf("%s: steps %d", opt.Name(), opt.Steps())
		}
		q := m.Blocks[0].QKVW
		st := opt.State(q)
		if st == nil {
			t.Fatalf("%s: no state after a step", opt.Name())
		}
		// copy the state to another parameter of the same shape
		m2, _ := NewModel(cfg, 2)
		q2 := m2.Blocks[0].QKVW
		if err := opt.SetState(q2, st); err != nil {
			t.Fatal(err)
		}
		for k, v := range opt.State(q2) {
			for i := range v {
				if v[i] != st[k][i] {
					t.Fatalf("%s: copied state %q differs", opt.Name(), k)
				}
			}
			v[0] += 1 // a copy, not an alias
			if st[k][0] == v[0] {
				t.Fatalf("%s: SetState aliases the source", opt.Name())
			}
		}
		if err := opt.SetState(m.WTE, st); err == nil && opt.Name() != "sgd" {
			// sgd state is one buffer; the size check still must fail
			t.Fatalf("%s: state of the wrong size accepted", opt.Name())
		}
		bad := map[string][]float32{"bogus": nil}
		if err := opt.SetState(q2, bad); err == nil {
			t.Fatalf("%s: unknown state accepted", opt.Name())
		}
		opt.ResetState(q)
		if opt.State(q) != nil {
			t.Fatalf("%s: state survives reset", opt.Name())
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	p := newParam("p", Vector, 2)
	q := newParam("q", Vector, 1)
	p.Grad[0], p.Grad[1], q.Grad[0] = 3, 4, 12
	if n := ClipGradNorm([]*Param{p, q}, 0); n != 13 {
		t.Fatalf("norm %v want 13", n)
	}
	n := ClipGradNorm([]*Param{p, q}, 1.3)
	after := ClipGradNorm([]*Param{p, q}, 0)
	if n != 13 || math.Abs(float64(after)-1.3) > 1e-4 {
		t.Fatalf("clipped: before %v after %v", n, after)
	}
}

func TestBlocksGrowAndRename(t *testing.T) {
	cfg := Config{Vocab: 13, Ctx: 8, Dim: 8, Heads: 2, Layers: 1, InitStd: 0.2}
	m, _ := NewModel(cfg, 1)
	rng := rand.New(rand.NewPCG(9, 9))
	tok := randTokens(rng, 16, cfg.Vocab)
	before, _ := m.Logits(tok, 2, 8)
	tape := NewTape(m)
	if _, err := m.Forward(tape, tok, tok, 2, 8); err != nil {
		t.Fatal(err)
	}
	// Insert a zero-output block before and a copy after: function kept by the
	// zero block; the copy changes it.
	z, err := m.NewBlock(rng, 3, InitZeroOutput)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetBlocks([]*Block{z, m.Blocks[0]}); err != nil {
		t.Fatal(err)
	}
	after, _ := m.Logits(tok, 2, 8)
	for i := range before {
		if math.Abs(float64(before[i]-after[i])) > 1e-6 {
			t.Fatalf("zero-output block changed logit %d: %v -> %v", i, before[i], after[i])
		}
	}
	if m.Layers != 2 || m.Blocks[1].QKVW.Name != "blocks.1.attn.qkv.weight" || m.Blocks[0].FC2W.Name != "blocks.0.mlp.proj.weight" {
		t.Fatalf("renaming: layers %d, %s, %s", m.Layers, m.Blocks[1].QKVW.Name, m.Blocks[0].FC2W.Name)
	}
	if m.NumParams() != ParamCount(m.Config) {
		t.Fatal("param count after growth")
	}
	cp := m.Blocks[1].Clone()
	cp.QKVW.Data[0] += 1
	if m.Blocks[1].QKVW.Data[0] == cp.QKVW.Data[0] {
		t.Fatal("Clone shares data")
	}
	if err := m.SetBlocks([]*Block{m.Blocks[0], m.Blocks[0]}); err == nil {
		t.Fatal("shared block accepted")
	}
	wide, _ := NewBlock(Config{Vocab: 13, Ctx: 8, Dim: 16, Heads: 2, Layers: 1}, rng, InitRandom)
	if err := m.SetBlocks([]*Block{wide}); err == nil {
		t.Fatal("block of the wrong width accepted")
	}
	// The old tape rebinds on its next forward; gradients align with the new list.
	if err := m.SetBlocks([]*Block{m.Blocks[0], m.Blocks[1], cp}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Forward(tape, tok, tok, 2, 8); err != nil {
		t.Fatal(err)
	}
	tape.Backward()
	if len(tape.Grads()) != len(m.Params()) || tape.Grad(cp.QKVW) == nil {
		t.Fatal("tape did not rebind after SetBlocks")
	}
	if err := ReduceGrads(m.Params(), 1, tape); err != nil {
		t.Fatal(err)
	}
}
