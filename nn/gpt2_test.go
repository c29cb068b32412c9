package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func tinyConfig(layers int) Config {
	return Config{Vocab: 11, Ctx: 8, Dim: 8, Heads: 2, Layers: layers}
}

func randTokens(rng *rand.Rand, n, vocab int) []int32 {
	t := make([]int32, n)
	for i := range t {
		t[i] = int32(rng.IntN(vocab))
	}
	return t
}

func TestParamCountMatchesFormula(t *testing.T) {
	for _, c := range []Config{
		{Vocab: 11, Ctx: 8, Dim: 8, Heads: 2, Layers: 0},
		{Vocab: 11, Ctx: 8, Dim: 8, Heads: 2, Layers: 1},
		{Vocab: 256, Ctx: 64, Dim: 32, Heads: 4, Layers: 3},
		{Vocab: 50257, Ctx: 1024, Dim: 48, Heads: 6, Layers: 2},
	} {
		m, err := NewModel(c, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := m.NumParams(), ParamCount(c); got != want {
			t.Errorf("%+v: %d params, formula says %d", c, got, want)
		}
		if got := len(m.Params()); got != 4+12*c.Layers {
			t.Errorf("%d tensors for %d layers", got, c.Layers)
		}
	}
	// GPT-2 small: 124,439,808 parameters with the tied head.
	if n := ParamCount(Config{Vocab: 50257, Ctx: 1024, Dim: 768, Heads: 12, Layers: 12}); n != 124439808 {
		t.Errorf("GPT-2 small: formula gives %d, want 124439808", n)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Vocab: 10, Ctx: 8, Dim: 10, Heads: 3, Layers: 1}, "must divide dim"},
		{Config{Vocab: 10, Ctx: 8, Dim: 8, Heads: 2, Layers: -1}, "layers must be >= 0"},
		{Config{Vocab: 0, Ctx: 8, Dim: 8, Heads: 2}, "vocab"},
		{Config{Vocab: 10, Ctx: 0, Dim: 8, Heads: 2}, "ctx"},
		{Config{Vocab: 10, Ctx: 8, Dim: 8, Heads: 0}, "heads must be >= 1"},
		{Config{Arch: "bert", Vocab: 10, Ctx: 8, Dim: 8, Heads: 2}, "unknown arch"},
	} {
		err := tc.c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one mentioning %q", tc.c, err, tc.want)
		}
		if _, err := NewModel(tc.c, 1); err == nil {
			t.Errorf("%+v: NewModel accepted it", tc.c)
		}
	}
	if err := tinyConfig(0).Validate(); err != nil {
		t.Fatal(err)
	}
	// JSON round trip keeps the config.
	c := Config{Arch: "gpt2", Vocab: 256, Ctx: 64, Dim: 32, Heads: 4, Layers: 2, MuP: true, MuPBaseDim: 16}
	b, _ := json.Marshal(c)
	var d Config
	if err := json.Unmarshal(b, &d); err != nil || d != c {
		t.Fatalf("round trip: %s -> %+v (%v)", b, d, err)
	}
}

func TestParamNamesStable(t *testing.T) {
	m, _ := NewModel(tinyConfig(2), 1)
	want := []string{"wte.weight", "wpe.weight"}
	for i := 0; i < 2; i++ {
		for _, s := range blockSuffixes {
			want = append(want, fmt.Sprintf("blocks.%d.%s", i, s))
		}
	}
	want = append(want, "lnf.weight", "lnf.bias")
	ps := m.Params()
	for i, w := range want {
		if ps[i].Name != w {
			t.Fatalf("param %d is %q, want %q", i, ps[i].Name, w)
		}
	}
	if m.Param("blocks.1.attn.qkv.weight") != m.Blocks[1].QKVW {
		t.Fatal("Param lookup by name")
	}
	if p := m.Param("blocks.0.attn.qkv.weight"); p.Kind != Matrix || !p.Decay || p.Shape[0] != 8 || p.Shape[1] != 24 {
		t.Fatalf("qkv flags %+v", p)
	}
	if p := m.Param("wte.weight"); p.Kind != Embedding || p.Decay {
		t.Fatalf("wte flags %+v", p)
	}
	if p := m.Param("blocks.0.ln1.bias"); p.Kind != Vector || p.Decay {
		t.Fatalf("bias flags %+v", p)
	}
}

// modelGradCheck compares the tape's gradients of the mean cross-entropy with
// central differences, for every parameter entry.
func modelGradCheck(t *testing.T, cfg Config, B, T int) {
	m, err := NewModel(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	tokens := randTokens(rng, B*T, cfg.Vocab)
	targets := randTokens(rng, B*T, cfg.Vocab)
	targets[1] = -1 // an ignored position
	tape := NewTape(m)
	if _, err := m.Forward(tape, tokens, targets, B, T); err != nil {
		t.Fatal(err)
	}
	if err := tape.Backward(); err != nil {
		t.Fatal(err)
	}
	eval := NewEvalTape(m)
	loss := func() float64 { // what Backward differentiates: with the auxiliary loss
		l, err := m.Forward(eval, tokens, targets, B, T)
		if err != nil {
			t.Fatal(err)
		}
		return float64(l) + eval.moe.aux
	}
	// eps: small enough that curvature (weights of std 0.3 through several
	// LayerNorms) does not dominate, large enough for float32 losses.
	const eps = 3e-3
	bad, jumps, checked := 0, 0, 0
	var maxG float64
	loss()
	routing := eval.moe.selHash
	for i, p := range m.Params() {
		if p.Kind == Buffer {
			continue // not differentiated (the moe balancing bias)
		}
		g := tape.Grads()[i]
		for j := range p.Data {
			orig := p.Data[j]
			p.Data[j] = orig + eps
			fp := loss()
			hp := eval.moe.selHash
			p.Data[j] = orig - eps
			fm := loss()
			hm := eval.moe.selHash
			p.Data[j] = orig
			checked++
			if hp != routing || hm != routing {
				jumps++ // a moe token changed experts: the loss jumps here
				continue
			}
			num := (fp - fm) / (float64(orig+eps) - float64(orig-eps))
			maxG = math.Max(maxG, math.Abs(num))
			if d := math.Abs(num - float64(g[j])); d > 3e-4+3e-2*math.Abs(num) {
				if bad++; bad <= 10 {
					t.Errorf("%s[%d]: analytic %.6g numeric %.6g", p.Name, j, g[j], num)
				}
			}
		}
	}
	if jumps > 0 {
		t.Logf("%d of %d perturbations changed the routing (skipped)", jumps, checked)
	}
	if jumps*50 > checked {
		t.Errorf("routing changed for %d of %d perturbations: too many for the check to mean anything", jumps, checked)
	}
	if maxG < 1e-2 {
		t.Errorf("largest gradient %g: too small for the check to mean anything", maxG)
	}
}

func TestModelGradCheck(t *testing.T) {
	for _, L := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("layers%d", L), func(t *testing.T) {
			cfg := tinyConfig(L)
			cfg.InitStd = 0.3 // larger weights: gradients well above float32 noise
			modelGradCheck(t, cfg, 2, 5)
		})
	}
	t.Run("mup", func(t *testing.T) {
		cfg := tinyConfig(1)
		cfg.InitStd, cfg.MuP, cfg.MuPBaseDim = 0.3, true, 4
		modelGradCheck(t, cfg, 2, 5)
	})
}

// refForward is an independent float64 GPT-2 forward written from the
// definition, one token row at a time.
func refForward(m *Model, tokens []int32, B, T int) [][]float64 {
	d, H, V := m.Dim, m.Heads, m.Vocab
	hd := d / H
	f := func(x []float32) []float64 {
		r := make([]float64, len(x))
		for i, v := range x {
			r[i] = float64(v)
		}
		return r
	}
	ln := func(x []float64, w, b []float32) []float64 {
		var mu, va float64
		for _, v := range x {
			mu += v
		}
		mu /= float64(len(x))
		for _, v := range x {
			va += (v - mu) * (v - mu)
		}
		va /= float64(len(x))
		out := make([]float64, len(x))
		for i, v := range x {
			out[i] = (v-mu)/math.Sqrt(va+float64(m.NormEps))*float64(w[i]) + float64(b[i])
		}
		return out
	}
	lin := func(x []float64, w *Param, b *Param) []float64 {
		in, out := w.Shape[0], w.Shape[1]
		y := make([]float64, out)
		for j := 0; j < out; j++ {
			s := float64(b.Data[j])
			for i := 0; i < in; i++ {
				s += x[i] * float64(w.Data[i*out+j])
			}
			y[j] = s
		}
		return y
	}
	gelu := func(x float64) float64 {
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}
	var logits [][]float64
	for b := 0; b < B; b++ {
		xs := make([][]float64, T)
		for t := 0; t < T; t++ {
			tok := int(tokens[b*T+t])
			xs[t] = f(m.WTE.Data[tok*d : (tok+1)*d])
			for i, v := range m.WPE.Data[t*d : (t+1)*d] {
				xs[t][i] += float64(v)
			}
		}
		for _, blk := range m.Blocks {
			qkv := make([][]float64, T)
			for t := range xs {
				qkv[t] = lin(ln(xs[t], blk.LN1W.Data, blk.LN1B.Data), blk.QKVW, blk.QKVB)
			}
			for t := 0; t < T; t++ {
				att := make([]float64, d)
				for h := 0; h < H; h++ {
					w := make([]float64, t+1)
					mx := math.Inf(-1)
					for s := 0; s <= t; s++ {
						var dot float64
						for i := 0; i < hd; i++ {
							dot += qkv[t][h*hd+i] * qkv[s][d+h*hd+i]
						}
						w[s] = dot * float64(m.AttnScale())
						mx = math.Max(mx, w[s])
					}
					var z float64
					for s := range w {
						w[s] = math.Exp(w[s] - mx)
						z += w[s]
					}
					for s := range w {
						for i := 0; i < hd; i++ {
							att[h*hd+i] += w[s] / z * qkv[s][2*d+h*hd+i]
						}
					}
				}
				defer func(t int, att []float64) {}(t, att)
				qkv[t] = append(qkv[t], att...) // keep att beside its row until all rows are done
			}
			for t := 0; t < T; t++ {
				p := lin(qkv[t][3*d:], blk.ProjW, blk.ProjB)
				for i := range p {
					xs[t][i] += p[i]
				}
				hid := lin(ln(xs[t], blk.LN2W.Data, blk.LN2B.Data), blk.FCW, blk.FCB)
				for i := range hid {
					hid[i] = gelu(hid[i])
				}
				o := lin(hid, blk.FC2W, blk.FC2B)
				for i := range o {
					xs[t][i] += o[i]
				}
			}
		}
		for t := 0; t < T; t++ {
			x := ln(xs[t], m.LNFW.Data, m.LNFB.Data)
			row := make([]float64, V)
			for v := 0; v < V; v++ {
				var s float64
				for i := 0; i < d; i++ {
					s += x[i] * float64(m.WTE.Data[v*d+i])
				}
				row[v] = s * float64(m.LogitScale())
			}
			logits = append(logits, row)
		}
	}
	return logits
}

func TestLogitsMatchFloat64Reference(t *testing.T) {
	for _, cfg := range []Config{
		tinyConfig(0),
		{Vocab: 13, Ctx: 9, Dim: 12, Heads: 3, Layers: 2, InitStd: 0.2},
		{Vocab: 13, Ctx: 9, Dim: 12, Heads: 3, Layers: 1, InitStd: 0.2, MuP: true, MuPBaseDim: 6},
	} {
		m, err := NewModel(cfg, 9)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		B, T := 2, cfg.Ctx
		tokens := randTokens(rng, B*T, cfg.Vocab)
		got, err := m.Logits(tokens, B, T)
		if err != nil {
			t.Fatal(err)
		}
		want := refForward(m, tokens, B, T)
		for i, row := range want {
			for v, w := range row {
				g := float64(got[i*cfg.Vocab+v])
				if math.Abs(g-w) > 1e-4*(1+math.Abs(w)) {
					t.Fatalf("%+v: logit[%d][%d] = %v, reference %v", cfg, i, v, g, w)
				}
			}
		}
	}
}

func TestInitialLossNearLogVocab(t *testing.T) {
	cfg := Config{Vocab: 256, Ctx: 32, Dim: 32, Heads: 4, Layers: 2}
	m, _ := NewModel(cfg, 1)
	rng := rand.New(rand.NewPCG(3, 3))
	tok := randTokens(rng, 4*32, 256)
	l, err := m.Loss(tok, randTokens(rng, 4*32, 256), 4, 32)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(l)-math.Log(256)) > 0.05 {
		t.Fatalf("initial loss %v, want about ln 256 = %.3f", l, math.Log(256))
	}
}

func TestForwardRejectsBadInput(t *testing.T) {
	m, _ := NewModel(tinyConfig(1), 1)
	tape := NewTape(m)
	ok := make([]int32, 2*4)
	for _, tc := range []struct {
		tok, tgt []int32
		B, T     int
		want     string
	}{
		{ok, ok, 2, 3, "tokens for"},
		{ok, ok[:7], 2, 4, "targets for"},
		{make([]int32, 20), make([]int32, 20), 2, 10, "exceeds the context"},
		{[]int32{0, 1, 99, 2}, []int32{0, 0, 0, 0}, 1, 4, "outside the vocabulary"},
		{[]int32{0, 1, 2, 3}, []int32{0, 0, 11, 0}, 1, 4, "outside the vocabulary"},
		{ok, ok, 0, 4, "must be >= 1"},
	} {
		if _, err := m.Forward(tape, tc.tok, tc.tgt, tc.B, tc.T); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
	if err := NewEvalTape(m).Backward(); err == nil {
		t.Error("Backward on an eval tape accepted")
	}
}

func TestKVCacheMatchesForward(t *testing.T) {
	for _, cfg := range []Config{tinyConfig(0), {Vocab: 17, Ctx: 12, Dim: 16, Heads: 4, Layers: 3, InitStd: 0.1}} {
		m, _ := NewModel(cfg, 4)
		rng := rand.New(rand.NewPCG(4, 4))
		c := checkDecodeMatchesForward(t, m, rng)
		c.Reset()
		if _, err := m.DecodeStep(c, int32(cfg.Vocab)); err == nil {
			t.Fatal("out-of-vocabulary token accepted")
		}
	}
}

// checkDecodeMatchesForward decodes random tokens one at a time with a
// KV cache and checks every step's logits against one full forward pass,
// then that a full cache refuses another token. It returns the cache.
func checkDecodeMatchesForward(t *testing.T, m *Model, rng *rand.Rand) *KVCache {
	t.Helper()
	cfg := m.Config
	T := cfg.Ctx
	tokens := randTokens(rng, T, cfg.Vocab)
	full, err := m.Logits(tokens, 1, T)
	if err != nil {
		t.Fatal(err)
	}
	c := m.NewKVCache()
	for p := 0; p < T; p++ {
		got, err := m.DecodeStep(c, tokens[p])
		if err != nil {
			t.Fatal(err)
		}
		for v := range got {
			w := full[p*cfg.Vocab+v]
			if math.Abs(float64(got[v]-w)) > 1e-5*(1+math.Abs(float64(w))) {
				t.Fatalf("%+v: pos %d logit %d: decode %v, full forward %v", cfg, p, v, got[v], w)
			}
		}
	}
	if _, err := m.DecodeStep(c, 0); err != ErrContextFull {
		t.Fatalf("full cache: %v", err)
	}
	return c
}
