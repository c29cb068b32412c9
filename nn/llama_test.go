package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/sproutml/sprout/asm"
)

// tinyLlama is a llama or moe config small enough for finite differences:
// grouped-query attention (2 query heads share 1 key/value head), an untied
// head, and for moe 4 experts, top-2, one shared expert.
func tinyLlama(arch string, layers int) Config {
	c := Config{Arch: arch, Vocab: 11, Ctx: 8, Dim: 8, Heads: 2, KVHeads: 1, FFNHidden: 12, Layers: layers}
	if arch == ArchMoE {
		c.Experts, c.TopK, c.SharedExperts, c.FFNHidden = 4, 2, 1, 6
	}
	return c
}

func TestLlamaConfigValidate(t *testing.T) {
	base := Config{Arch: ArchLlama, Vocab: 10, Ctx: 8, Dim: 8, Heads: 2}
	moe := base
	moe.Arch = ArchMoE
	with := func(c Config, f func(*Config)) Config { f(&c); return c }
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{with(base, func(c *Config) { c.KVHeads = 3; c.Heads = 4 }), "kv_heads (3) must divide heads (4)"},
		{with(base, func(c *Config) { c.KVHeads = -1 }), "kv_heads must be >= 1"},
		{with(base, func(c *Config) { c.Dim, c.Heads = 6, 2 }), "must be even for rotary"},
		{with(base, func(c *Config) { c.RopeBase = 0.5 }), "rope_base must be > 1"},
		{with(base, func(c *Config) { c.FFNHidden = -3 }), "ffn_hidden must be >= 1"},
		{with(base, func(c *Config) { c.Experts = 4 }), "experts applies to moe only"},
		{with(base, func(c *Config) { c.Gate = GateSigmoid }), "gate applies to moe only"},
		{with(base, func(c *Config) { c.Balance = BalanceBias }), "balance applies to moe only"},
		{Config{Vocab: 10, Ctx: 8, Dim: 8, Heads: 2, KVHeads: 1}, "kv_heads applies to llama and moe only"},
		{Config{Vocab: 10, Ctx: 8, Dim: 8, Heads: 2, TiedHead: true}, "tied_head applies to llama and moe"},
		{Config{Vocab: 10, Ctx: 8, Dim: 8, Heads: 2, RopeBase: 500}, "rope_base applies"},
		{with(moe, func(c *Config) { c.Experts = -2 }), "experts must be >= 1"},
		{with(moe, func(c *Config) { c.Experts, c.TopK = 4, 5 }), "top_k must be between 1 and the number of experts (4)"},
		{with(moe, func(c *Config) { c.Gate = "relu" }), `unknown gate "relu"`},
		{with(moe, func(c *Config) { c.SharedExperts = -1 }), "shared_experts must be >= 0"},
		{with(moe, func(c *Config) { c.Balance = "magic" }), `unknown balance "magic"`},
		{with(moe, func(c *Config) { c.AuxCoef = -1 }), "aux_coef must be >= 0"},
		{with(moe, func(c *Config) { c.Balance, c.AuxCoef = BalanceBias, 0.1 }), `aux_coef applies to balance "aux" only`},
		{with(moe, func(c *Config) { c.BiasRate = 0.1 }), `bias_rate applies to balance "bias" only`},
	} {
		err := tc.c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one mentioning %q", tc.c, err, tc.want)
		}
		if _, err := NewModel(tc.c, 1); err == nil {
			t.Errorf("%+v: NewModel accepted it", tc.c)
		}
	}
	// every problem is reported, not only the first
	err := with(moe, func(c *Config) { c.Gate, c.Balance = "x", "y" }).Validate()
	if err == nil || !strings.Contains(err.Error(), "gate") || !strings.Contains(err.Error(), "balance") {
		t.Errorf("two problems: %v", err)
	}
	for _, c := range []Config{base, moe, tinyLlama(ArchMoE, 2), with(moe, func(c *Config) { c.Balance, c.BiasRate = BalanceBias, 0.01 })} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	// defaults
	m, _ := NewModel(moe, 1)
	if m.KVHeads != 2 || m.RopeBase != 10000 || m.FFNHidden != 64 || m.Experts != 8 || m.TopK != 2 ||
		m.Gate != GateSoftmax || m.Balance != BalanceAux || m.AuxCoef != 0.01 || m.BiasRate != 0 {
		t.Errorf("moe defaults: %+v", m.Config)
	}
	if err := m.Config.Validate(); err != nil {
		t.Errorf("a config with its defaults filled in must validate: %v", err)
	}
}

func TestDefaultFFNHidden(t *testing.T) {
	for d, want := range map[int]int{4096: 10944, 128: 384, 64: 192, 8: 64, 5120: 13696, 768: 2048} {
		if got := DefaultFFNHidden(d); got != want {
			t.Errorf("DefaultFFNHidden(%d) = %d, want %d", d, got, want)
		}
	}
}

func TestLlamaParamCountMatchesFormula(t *testing.T) {
	var cfgs []Config
	for _, arch := range []string{ArchLlama, ArchMoE} {
		for _, L := range []int{0, 1, 3} {
			c := tinyLlama(arch, L)
			cfgs = append(cfgs, c)
			c.TiedHead = true
			c.KVHeads = 2
			cfgs = append(cfgs, c)
		}
	}
	cfgs = append(cfgs, Config{Arch: ArchMoE, Vocab: 256, Ctx: 32, Dim: 32, Heads: 4, KVHeads: 2, Layers: 2, Experts: 5, TopK: 3, SharedExperts: 2, Gate: GateSigmoid, Balance: BalanceBias})
	for _, c := range cfgs {
		m, err := NewModel(c, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := m.NumParams(), ParamCount(c); got != want {
			t.Errorf("%+v: %d params, formula says %d", c, got, want)
		}
		if got, want := m.NumParams()-m.Layers*BlockParamCount(c), ParamCount(Config{Arch: c.Arch, Vocab: c.Vocab, Ctx: c.Ctx, Dim: c.Dim, Heads: c.Heads, TiedHead: c.TiedHead}); got != want {
			t.Errorf("%+v: %d params outside the blocks, formula %d", c, got, want)
		}
	}
	// Published sizes. LLaMA-2 7B (its MLP rounds to 256, not 64):
	// 6,738,415,616 parameters.
	l2 := Config{Arch: ArchLlama, Vocab: 32000, Ctx: 4096, Dim: 4096, Heads: 32, Layers: 32, FFNHidden: 11008}
	if n := ParamCount(l2); n != 6738415616 {
		t.Errorf("LLaMA-2 7B: formula gives %d, want 6738415616", n)
	}
	// Mixtral 8x7B (GQA 32/8, 8 experts of 14336, top-2): 46.7B in all,
	// 12.9B active.
	mx := Config{Arch: ArchMoE, Vocab: 32000, Ctx: 4096, Dim: 4096, Heads: 32, KVHeads: 8, FFNHidden: 14336, Layers: 32, Experts: 8, TopK: 2}
	if n, a := ParamCount(mx), ActiveParamCount(mx); math.Round(float64(n)/1e8) != 467 || math.Round(float64(a)/1e8) != 129 {
		t.Errorf("Mixtral 8x7B: %d total, %d active; want 46.7B and 12.9B", n, a)
	}
	// By hand: attention 2*4096^2 + 2*4096*1024, experts 3*4096*14336 each,
	// router 4096*8, norms 2*4096; embedding and head 2*32000*4096, final norm.
	perBlock := 2*4096*4096 + 2*4096*1024 + 8*3*4096*14336 + 4096*8 + 2*4096
	if n := ParamCount(mx); n != 32*perBlock+2*32000*4096+4096 {
		t.Errorf("Mixtral by hand: %d vs %d", n, 32*perBlock+2*32000*4096+4096)
	}
	if a := ActiveParamCount(mx); a != ParamCount(mx)-32*6*3*4096*14336 {
		t.Errorf("Mixtral active by hand: %d", a)
	}
	if ActiveParamCount(l2) != ParamCount(l2) {
		t.Error("a dense model's active parameters are all of them")
	}
}

func TestLlamaParamNamesStable(t *testing.T) {
	m, _ := NewModel(tinyLlama(ArchLlama, 2), 1)
	want := []string{"tok_emb.weight"}
	for i := 0; i < 2; i++ {
		for _, s := range []string{"attn_norm.weight", "attn.q.weight", "attn.k.weight", "attn.v.weight", "attn.o.weight",
			"mlp_norm.weight", "mlp.gate.weight", "mlp.up.weight", "mlp.down.weight"} {
			want = append(want, fmt.Sprintf("blocks.%d.%s", i, s))
		}
	}
	want = append(want, "norm.weight", "head.weight")
	if got := names(m.Params()); !slices.Equal(got, want) {
		t.Fatalf("llama names\n got %v\nwant %v", got, want)
	}
	c := tinyLlama(ArchMoE, 1)
	c.Experts, c.SharedExperts, c.TiedHead = 2, 1, true
	m, _ = NewModel(c, 1)
	want = []string{"tok_emb.weight", "blocks.0.attn_norm.weight", "blocks.0.attn.q.weight", "blocks.0.attn.k.weight", "blocks.0.attn.v.weight",
		"blocks.0.attn.o.weight", "blocks.0.mlp_norm.weight", "blocks.0.mlp.router.weight", "blocks.0.mlp.router.balance_bias",
		"blocks.0.mlp.experts.0.gate.weight", "blocks.0.mlp.experts.0.up.weight", "blocks.0.mlp.experts.0.down.weight",
		"blocks.0.mlp.experts.1.gate.weight", "blocks.0.mlp.experts.1.up.weight", "blocks.0.mlp.experts.1.down.weight",
		"blocks.0.mlp.shared.0.gate.weight", "blocks.0.mlp.shared.0.up.weight", "blocks.0.mlp.shared.0.down.weight",
		"norm.weight"}
	if got := names(m.Params()); !slices.Equal(got, want) {
		t.Fatalf("moe names\n got %v\nwant %v", got, want)
	}
	for name, want := range map[string]struct {
		kind  ParamKind
		decay bool
		shape []int
	}{
		"tok_emb.weight":                     {Embedding, false, []int{11, 8}},
		"blocks.0.attn.q.weight":             {Matrix, true, []int{8, 8}},
		"blocks.0.attn.k.weight":             {Matrix, true, []int{8, 4}},
		"blocks.0.attn.o.weight":             {Matrix, true, []int{8, 8}},
		"blocks.0.mlp.router.weight":         {Matrix, true, []int{8, 2}},
		"blocks.0.mlp.router.balance_bias":   {Buffer, false, []int{2}},
		"blocks.0.mlp.experts.1.down.weight": {Matrix, true, []int{6, 8}},
		"blocks.0.mlp_norm.weight":           {Vector, false, []int{8}},
	} {
		p := m.Param(name)
		if p == nil || p.Kind != want.kind || p.Decay != want.decay || !slices.Equal(p.Shape, want.shape) {
			t.Errorf("%s: %+v, want kind %v decay %v shape %v", name, p, want.kind, want.decay, want.shape)
		}
	}
	if m.Param("blocks.0.mlp.experts.1.up.weight") != m.Blocks[0].Experts[1].Up {
		t.Error("Param lookup by name")
	}
}

func names(ps []*Param) []string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Name
	}
	return s
}

func TestGradRoPE(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	tab := NewRopeTable(6, 4, 100)
	x := randParam(rng, "x", 1, 2*5, 3*4) // B=2, T=5, 3 heads of 4
	gradCheck(t, []*Param{x}, func(tp *Tape, in []V) V { return tp.RoPE(in[0], 5, tab) }, fdEps, fdAtol, fdRtol, 0)
	// used twice: the gradient accumulates
	gradCheck(t, []*Param{x}, func(tp *Tape, in []V) V {
		return tp.Add(tp.RoPE(in[0], 5, tab), tp.Mul(in[0], in[0]))
	}, fdEps, fdAtol, fdRtol, 0)
}

// RoPE against the definition in float64: pair (i, i+hd/2) of each head at
// position p rotated by p * base^(-2i/hd).
func TestRoPEMatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	const B, T, heads, hd, base = 2, 37, 3, 8, 500.0
	x := randParam(rng, "x", 1, B*T, heads*hd)
	tp := NewParamTape([]*Param{x})
	y := tp.Data(tp.RoPE(tp.Param(x), T, NewRopeTable(40, hd, base)))
	for r := 0; r < B*T; r++ {
		p := float64(r % T)
		for h := 0; h < heads; h++ {
			for i := 0; i < hd/2; i++ {
				a := p * math.Pow(base, -2*float64(i)/hd)
				j1, j2 := r*heads*hd+h*hd+i, r*heads*hd+h*hd+i+hd/2
				x1, x2 := float64(x.Data[j1]), float64(x.Data[j2])
				w1, w2 := x1*math.Cos(a)-x2*math.Sin(a), x2*math.Cos(a)+x1*math.Sin(a)
				if math.Abs(float64(y[j1])-w1) > 1e-5 || math.Abs(float64(y[j2])-w2) > 1e-5 {
					t.Fatalf("row %d head %d pair %d: got %v %v, want %v %v", r, h, i, y[j1], y[j2], w1, w2)
				}
			}
		}
	}
	// position 0 is the identity; rotations keep the norm
	for j := 0; j < heads*hd; j++ {
		if y[j] != x.Data[j] {
			t.Fatal("position 0 changed")
		}
	}
}

func TestGradSwiGLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	g, u := randParam(rng, "g", 2, 3, 7), randParam(rng, "u", 1, 3, 7)
	g.Data[0], g.Data[1] = 9, -9
	gradCheck(t, []*Param{g, u}, func(tp *Tape, in []V) V { return tp.SwiGLU(in[0], in[1]) }, fdEps, fdAtol, fdRtol, 0)
	// the same value on both sides, and longer than one chunk
	y := randParam(rng, "y", 2, 2, actChunk+3)
	gradCheck(t, []*Param{y}, func(tp *Tape, in []V) V { return tp.SwiGLU(in[0], in[0]) }, fdEps, fdAtol, fdRtol, 40)
	// equals SiLU(g) * u
	tp := NewParamTape([]*Param{g, u})
	a := tp.Data(tp.SwiGLU(tp.Param(g), tp.Param(u)))
	b := tp.Data(tp.Mul(tp.SiLU(tp.Param(g)), tp.Param(u)))
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-6*(1+math.Abs(float64(b[i]))) {
			t.Fatalf("SwiGLU[%d] = %v, SiLU*u = %v", i, a[i], b[i])
		}
	}
}

func TestGradAttentionGQA(t *testing.T) {
	for _, tc := range []struct{ B, T, H, KVH, hd, tile int }{{2, 5, 4, 2, 2, 64}, {1, 9, 4, 1, 2, 4}, {2, 6, 2, 2, 3, 3}} {
		t.Run(fmt.Sprintf("B%dT%dH%dKVH%dhd%dtile%d", tc.B, tc.T, tc.H, tc.KVH, tc.hd, tc.tile), func(t *testing.T) {
			old := attnTile
			attnTile = tc.tile
			defer func() { attnTile = old }()
			rng := rand.New(rand.NewPCG(14, uint64(tc.T)))
			q := randParam(rng, "q", 1, tc.B*tc.T, tc.H*tc.hd)
			k := randParam(rng, "k", 1, tc.B*tc.T, tc.KVH*tc.hd)
			v := randParam(rng, "v", 1, tc.B*tc.T, tc.KVH*tc.hd)
			scale := float32(1 / math.Sqrt(float64(tc.hd)))
			gradCheck(t, []*Param{q, k, v}, func(tp *Tape, in []V) V {
				return tp.AttentionGQA(in[0], in[1], in[2], tc.B, tc.T, tc.H, tc.KVH, scale)
			}, fdEps, fdAtol, fdRtol, 0)
		})
	}
}

// With KVHeads == Heads, grouped-query attention is multi-head attention:
// the same bits as the fused-qkv op, forward and backward. With fewer kv
// heads it equals multi-head attention on k and v heads repeated per group.
func TestGQAEqualsMultiHead(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	const B, T, H, hd = 2, 7, 4, 3
	D := H * hd
	old := attnTile
	attnTile = 4
	defer func() { attnTile = old }()
	q, k, v := randParam(rng, "q", 1, B*T, D), randParam(rng, "k", 1, B*T, D), randParam(rng, "v", 1, B*T, D)
	qkv := newParam("qkv", Matrix, B*T, 3*D)
	for r := 0; r < B*T; r++ {
		copy(qkv.Data[r*3*D:], q.Data[r*D:(r+1)*D])
		copy(qkv.Data[r*3*D+D:], k.Data[r*D:(r+1)*D])
		copy(qkv.Data[r*3*D+2*D:], v.Data[r*D:(r+1)*D])
	}
	seed := make([]float32, B*T*D)
	randn(rng, seed, 1)
	t1 := NewParamTape([]*Param{q, k, v})
	o1 := t1.AttentionGQA(t1.Param(q), t1.Param(k), t1.Param(v), B, T, H, H, 0.4)
	t2 := NewParamTape([]*Param{qkv})
	o2 := t2.Attention(t2.Param(qkv), B, T, H, 0.4)
	if !slices.Equal(t1.Data(o1), t2.Data(o2)) {
		t.Fatal("GQA with kv_heads == heads differs from multi-head attention")
	}
	t1.BackwardFrom(o1, seed)
	t2.BackwardFrom(o2, seed)
	g := t2.Grads()[0]
	for r := 0; r < B*T; r++ {
		if !slices.Equal(t1.Grads()[0][r*D:(r+1)*D], g[r*3*D:r*3*D+D]) ||
			!slices.Equal(t1.Grads()[1][r*D:(r+1)*D], g[r*3*D+D:r*3*D+2*D]) ||
			!slices.Equal(t1.Grads()[2][r*D:(r+1)*D], g[r*3*D+2*D:(r+1)*3*D]) {
			t.Fatalf("row %d: gradients differ", r)
		}
	}
	// KVH = 2: repeat each kv head twice and compare with multi-head.
	const KVH = 2
	k2, v2 := randParam(rng, "k2", 1, B*T, KVH*hd), randParam(rng, "v2", 1, B*T, KVH*hd)
	kr, vr := newParam("kr", Matrix, B*T, D), newParam("vr", Matrix, B*T, D)
	for r := 0; r < B*T; r++ {
		for h := 0; h < H; h++ {
			kh := h / (H / KVH)
			copy(kr.Data[r*D+h*hd:r*D+(h+1)*hd], k2.Data[r*KVH*hd+kh*hd:])
			copy(vr.Data[r*D+h*hd:r*D+(h+1)*hd], v2.Data[r*KVH*hd+kh*hd:])
		}
	}
	t3 := NewParamTape([]*Param{q, k2, v2})
	a := t3.Data(t3.AttentionGQA(t3.Param(q), t3.Param(k2), t3.Param(v2), B, T, H, KVH, 0.4))
	t4 := NewParamTape([]*Param{q, kr, vr})
	b := t4.Data(t4.AttentionGQA(t4.Param(q), t4.Param(kr), t4.Param(vr), B, T, H, H, 0.4))
	if !slices.Equal(a, b) {
		t.Fatal("GQA differs from multi-head attention on repeated kv heads")
	}
}

func TestLlamaModelGradCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"llama0", tinyLlama(ArchLlama, 0)},
		{"llama2", tinyLlama(ArchLlama, 2)},
		{"llama-tied-mha", func() Config { c := tinyLlama(ArchLlama, 1); c.TiedHead, c.KVHeads = true, 2; return c }()},
		{"moe-softmax-aux", func() Config { c := tinyLlama(ArchMoE, 1); c.AuxCoef = 0.3; return c }()},
		{"moe-sigmoid-bias", func() Config {
			c := tinyLlama(ArchMoE, 2)
			c.Gate, c.Balance, c.SharedExperts = GateSigmoid, BalanceBias, 0
			return c
		}()},
		{"moe-sigmoid-aux-mup", func() Config {
			c := tinyLlama(ArchMoE, 1)
			c.Gate, c.AuxCoef, c.MuP, c.MuPBaseDim = GateSigmoid, 0.5, true, 4
			return c
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.InitStd = 0.3
			modelGradCheck(t, tc.cfg, 2, 5)
		})
	}
}

// refLlama is an independent float64 llama/moe forward written from the
// definition, one token row at a time: RoPE from cos/sin of p*base^(-2i/hd),
// grouped-query attention by head index, SwiGLU, top-k routing.
func refLlama(m *Model, tokens []int32, B, T int) [][]float64 {
	d, H, KVH, V := m.Dim, m.Heads, m.KVHeads, m.Vocab
	hd, kd := d/H, m.KVDim()
	rms := func(x []float64, w []float32) []float64 {
		var ss float64
		for _, v := range x {
			ss += v * v
		}
		r := 1 / math.Sqrt(ss/float64(len(x))+float64(m.NormEps))
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = v * r * float64(w[i])
		}
		return y
	}
	lin := func(x []float64, w *Param) []float64 {
		in, out := w.Shape[0], w.Shape[1]
		y := make([]float64, out)
		for j := 0; j < out; j++ {
			for i := 0; i < in; i++ {
				y[j] += x[i] * float64(w.Data[i*out+j])
			}
		}
		return y
	}
	rope := func(x []float64, p int) {
		for h := 0; h < len(x)/hd; h++ {
			for i := 0; i < hd/2; i++ {
				a := float64(p) * math.Pow(m.RopeBase, -2*float64(i)/float64(hd))
				x1, x2 := x[h*hd+i], x[h*hd+i+hd/2]
				x[h*hd+i], x[h*hd+i+hd/2] = x1*math.Cos(a)-x2*math.Sin(a), x2*math.Cos(a)+x1*math.Sin(a)
			}
		}
	}
	ffn := func(x []float64, f *FFN) []float64 {
		g, u := lin(x, f.Gate), lin(x, f.Up)
		for i := range g {
			g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
		}
		return lin(g, f.Down)
	}
	var logits [][]float64
	for b := 0; b < B; b++ {
		xs := make([][]float64, T)
		for t := range xs {
			tok := int(tokens[b*T+t])
			xs[t] = make([]float64, d)
			for i := range xs[t] {
				xs[t][i] = float64(m.WTE.Data[tok*d+i])
			}
		}
		for _, blk := range m.Blocks {
			q, k, v := make([][]float64, T), make([][]float64, T), make([][]float64, T)
			for t := range xs {
				h := rms(xs[t], blk.AttnNorm.Data)
				q[t], k[t], v[t] = lin(h, blk.Q), lin(h, blk.K), lin(h, blk.V)
				rope(q[t], t)
				rope(k[t], t)
			}
			for t := 0; t < T; t++ {
				att := make([]float64, d)
				for h := 0; h < H; h++ {
					kh := h * KVH / H
					w := make([]float64, t+1)
					var z float64
					for s := range w {
						var dot float64
						for i := 0; i < hd; i++ {
							dot += q[t][h*hd+i] * k[s][kh*hd+i]
						}
						w[s] = math.Exp(dot * float64(m.AttnScale()))
						z += w[s]
					}
					for s := range w {
						for i := 0; i < hd; i++ {
							att[h*hd+i] += w[s] / z * v[s][kh*hd+i]
						}
					}
				}
				o := lin(att, blk.O)
				for i := range o {
					xs[t][i] += o[i]
				}
				h := rms(xs[t], blk.MLPNorm.Data)
				var add []float64
				if blk.Arch == ArchLlama {
					add = ffn(h, &blk.FFN)
				} else {
					add = refMoE(m, blk, h, ffn)
				}
				for i := range add {
					xs[t][i] += add[i]
				}
			}
			_ = kd
		}
		head := m.WTE
		if m.Head != nil {
			head = m.Head
		}
		for t := 0; t < T; t++ {
			x := rms(xs[t], m.LNFW.Data)
			row := make([]float64, V)
			for j := range row {
				for i := 0; i < d; i++ {
					row[j] += x[i] * float64(head.Data[j*d+i])
				}
				row[j] *= float64(m.LogitScale())
			}
			logits = append(logits, row)
		}
	}
	return logits
}

// refMoE is the routed MLP of one token in float64.
func refMoE(m *Model, b *Block, h []float64, ffn func([]float64, *FFN) []float64) []float64 {
	E := m.Experts
	out := make([]float64, len(h))
	for i := range b.Shared {
		for j, v := range ffn(h, &b.Shared[i]) {
			out[j] += v
		}
	}
	score := make([]float64, E)
	logit := make([]float64, E)
	for e := 0; e < E; e++ {
		for i, v := range h {
			logit[e] += v * float64(b.Router.Data[i*E+e])
		}
	}
	if m.Gate == GateSigmoid {
		for e, l := range logit {
			score[e] = 1 / (1 + math.Exp(-l))
		}
	} else {
		var z float64
		for e, l := range logit {
			score[e] = math.Exp(l)
			z += score[e]
		}
		for e := range score {
			score[e] /= z
		}
	}
	// selection: sort by score + bias, lower index first among equals
	order := make([]int, E)
	for i := range order {
		order[i] = i
	}
	key := func(e int) float64 {
		if m.Balance == BalanceBias {
			return score[e] + float64(b.Balance.Data[e])
		}
		return score[e]
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch ka, kb := key(a), key(b); {
		case ka > kb:
			return -1
		case ka < kb:
			return 1
		}
		return 0
	})
	sel := order[:m.TopK]
	var z float64
	for _, e := range sel {
		z += score[e]
	}
	for _, e := range sel {
		g := score[e]
		if m.Gate == GateSigmoid {
			g /= z
		}
		for j, v := range ffn(h, &b.Experts[e]) {
			out[j] += g * v
		}
	}
	return out
}

func TestLlamaLogitsMatchFloat64Reference(t *testing.T) {
	for _, cfg := range []Config{
		tinyLlama(ArchLlama, 0),
		{Arch: ArchLlama, Vocab: 13, Ctx: 9, Dim: 16, Heads: 4, KVHeads: 2, Layers: 2, InitStd: 0.2, RopeBase: 50},
		{Arch: ArchLlama, Vocab: 13, Ctx: 9, Dim: 12, Heads: 2, Layers: 1, InitStd: 0.2, TiedHead: true, MuP: true, MuPBaseDim: 6},
		{Arch: ArchMoE, Vocab: 13, Ctx: 9, Dim: 16, Heads: 4, KVHeads: 1, Layers: 2, InitStd: 0.2, Experts: 5, TopK: 2, SharedExperts: 1, FFNHidden: 8},
		{Arch: ArchMoE, Vocab: 13, Ctx: 9, Dim: 16, Heads: 2, Layers: 1, InitStd: 0.2, Experts: 4, TopK: 3, FFNHidden: 8, Gate: GateSigmoid, Balance: BalanceBias},
	} {
		m, err := NewModel(cfg, 9)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for _, b := range m.Blocks {
			if b.Balance != nil {
				randn(rng, b.Balance.Data, 0.3) // a bias that changes the selection
			}
		}
		B, T := 2, cfg.Ctx
		tokens := randTokens(rng, B*T, cfg.Vocab)
		got, err := m.Logits(tokens, B, T)
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range refLlama(m, tokens, B, T) {
			for v, w := range row {
				if g := float64(got[i*cfg.Vocab+v]); math.Abs(g-w) > 1e-4*(1+math.Abs(w)) {
					t.Fatalf("%+v: logit[%d][%d] = %v, reference %v", cfg, i, v, g, w)
				}
			}
		}
	}
}

func TestLlamaKVCacheMatchesForward(t *testing.T) {
	for _, cfg := range []Config{
		tinyLlama(ArchLlama, 0),
		{Arch: ArchLlama, Vocab: 17, Ctx: 12, Dim: 16, Heads: 4, KVHeads: 2, Layers: 3, InitStd: 0.1},
		{Arch: ArchLlama, Vocab: 17, Ctx: 12, Dim: 16, Heads: 4, Layers: 1, InitStd: 0.1, TiedHead: true},
		{Arch: ArchMoE, Vocab: 17, Ctx: 12, Dim: 16, Heads: 4, KVHeads: 1, Layers: 2, InitStd: 0.1, Experts: 4, TopK: 2, SharedExperts: 1, FFNHidden: 8},
		{Arch: ArchMoE, Vocab: 17, Ctx: 12, Dim: 16, Heads: 4, Layers: 2, InitStd: 0.1, Experts: 3, TopK: 1, FFNHidden: 8, Gate: GateSigmoid, Balance: BalanceBias},
	} {
		m, _ := NewModel(cfg, 4)
		rng := rand.New(rand.NewPCG(4, 4))
		for _, b := range m.Blocks {
			if b.Balance != nil {
				randn(rng, b.Balance.Data, 0.3)
			}
		}
		checkDecodeMatchesForward(t, m, rng)
	}
}

// Zero-output blocks keep the function for every arch; SetBlocks refuses a
// block of another arch or shape; clones are deep.
func TestLlamaBlocksGrowAndRename(t *testing.T) {
	for _, arch := range []string{ArchLlama, ArchMoE} {
		cfg := tinyLlama(arch, 1)
		cfg.InitStd = 0.2
		m, _ := NewModel(cfg, 1)
		rng := rand.New(rand.NewPCG(9, 9))
		tok := randTokens(rng, 16, cfg.Vocab)
		before, _ := m.Logits(tok, 2, 8)
		z, err := m.NewBlock(rng, 3, InitZeroOutput)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.SetBlocks([]*Block{z, m.Blocks[0], z.Clone()}); err != nil {
			t.Fatal(err)
		}
		after, _ := m.Logits(tok, 2, 8)
		for i := range before {
			if math.Abs(float64(before[i]-after[i])) > 1e-6 {
				t.Fatalf("%s: zero-output block changed logit %d: %v -> %v", arch, i, before[i], after[i])
			}
		}
		if m.NumParams() != ParamCount(m.Config) || m.Layers != 3 {
			t.Fatalf("%s: %d params after growth, formula %d", arch, m.NumParams(), ParamCount(m.Config))
		}
		if p := m.Blocks[2].Params()[3]; p.Name != "blocks.2.attn.v.weight" {
			t.Fatalf("%s: renamed to %s", arch, p.Name)
		}
		cp := m.Blocks[1].Clone()
		for i, p := range cp.Params() {
			if &p.Data[0] == &m.Blocks[1].Params()[i].Data[0] {
				t.Fatalf("%s: Clone shares %s", arch, p.Name)
			}
			if !slices.Equal(p.Data, m.Blocks[1].Params()[i].Data) {
				t.Fatalf("%s: Clone changed %s", arch, p.Name)
			}
		}
		gpt, _ := NewBlock(Config{Vocab: 11, Ctx: 8, Dim: 8, Heads: 2, Layers: 1}, rng, InitRandom)
		if err := m.SetBlocks([]*Block{gpt}); err == nil || !strings.Contains(err.Error(), "gpt2 block") {
			t.Fatalf("%s: a gpt2 block accepted: %v", arch, err)
		}
		other := cfg
		other.KVHeads = 2
		wrong, _ := NewBlock(other, rng, InitRandom)
		if err := m.SetBlocks([]*Block{wrong}); err == nil || !strings.Contains(err.Error(), "attn.k.weight") {
			t.Fatalf("%s: a block with other kv heads accepted: %v", arch, err)
		}
		if m.Layers != 3 {
			t.Fatal("failed SetBlocks changed the model")
		}
	}
	// a moe model refuses a moe block with another number of experts
	cfg := tinyLlama(ArchMoE, 1)
	m, _ := NewModel(cfg, 1)
	cfg.Experts = 3
	b, _ := NewBlock(cfg, rand.New(rand.NewPCG(1, 1)), InitRandom)
	if err := m.SetBlocks([]*Block{b}); err == nil {
		t.Fatal("a block with 3 experts accepted by a 4-expert model")
	}
}

func TestLlamaOverfit(t *testing.T) {
	for _, cfg := range []Config{
		{Arch: ArchLlama, Vocab: 16, Ctx: 16, Dim: 32, Heads: 4, KVHeads: 2, Layers: 2},
		{Arch: ArchMoE, Vocab: 16, Ctx: 16, Dim: 32, Heads: 4, KVHeads: 2, Layers: 2, Experts: 4, TopK: 2, SharedExperts: 1, FFNHidden: 32},
		{Arch: ArchMoE, Vocab: 16, Ctx: 16, Dim: 32, Heads: 4, Layers: 1, Experts: 4, TopK: 1, FFNHidden: 32, Gate: GateSigmoid, Balance: BalanceBias},
	} {
		m, _ := NewModel(cfg, 2)
		rng := rand.New(rand.NewPCG(7, 7))
		tok := randTokens(rng, 4*16+1, cfg.Vocab)
		opt := NewAdamW(AdamWConfig{})
		tape := NewTape(m)
		first := trainStep(m, tape, opt, tok[:64], tok[1:], 4, 16, 1e-2)
		var last float32
		for i := 0; i < 150; i++ {
			last = trainStep(m, tape, opt, tok[:64], tok[1:], 4, 16, 1e-2)
			if err := m.UpdateBalanceBias(tape.ExpertLoad()); err != nil {
				t.Fatal(err)
			}
		}
		if !(last < 0.2*first) || !(last < 0.5) {
			t.Errorf("%s %s: loss %v -> %v, did not overfit one batch", cfg.Arch, cfg.Gate, first, last)
		}
	}
}

// Same seed, same losses; and a moe step is bit-identical whatever the asm
// thread count (experts run in parallel with more than one).
func TestLlamaDeterminism(t *testing.T) {
	for _, cfg := range []Config{tinyLlama(ArchLlama, 2), tinyLlama(ArchMoE, 2)} {
		run := func(threads int) ([]float32, []float32) {
			old := asm.Threads()
			asm.SetThreads(threads)
			defer asm.SetThreads(old)
			m, _ := NewModel(cfg, 5)
			rng := rand.New(rand.NewPCG(3, 3))
			tok := randTokens(rng, 4*8+1, cfg.Vocab)
			opt := NewAdamW(AdamWConfig{WeightDecay: 0.1})
			tape := NewTape(m)
			var ls []float32
			for i := 0; i < 5; i++ {
				ls = append(ls, trainStep(m, tape, opt, tok[:32], tok[1:], 4, 8, 3e-3))
			}
			return ls, slices.Clone(m.Params()[3].Data)
		}
		l1, w1 := run(1)
		l2, w2 := run(1)
		l4, w4 := run(4)
		if !slices.Equal(l1, l2) || !slices.Equal(w1, w2) {
			t.Errorf("%s: two runs differ: %v vs %v", cfg.Arch, l1, l2)
		}
		if !slices.Equal(l1, l4) || !slices.Equal(w1, w4) {
			t.Errorf("%s: 1 vs 4 threads differ: %v vs %v", cfg.Arch, l1, l4)
		}
	}
}

// Once warm, a llama or moe training step allocates nothing (with one GEMM
// thread; more run the experts on goroutines).
func TestLlamaTrainStepAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	old := asm.Threads()
	asm.SetThreads(1)
	defer asm.SetThreads(old)
	for _, cfg := range []Config{
		{Arch: ArchLlama, Vocab: 32, Ctx: 16, Dim: 16, Heads: 2, KVHeads: 1, Layers: 2},
		{Arch: ArchMoE, Vocab: 32, Ctx: 16, Dim: 16, Heads: 2, Layers: 2, Experts: 4, SharedExperts: 1, FFNHidden: 16},
		{Arch: ArchMoE, Vocab: 32, Ctx: 16, Dim: 16, Heads: 2, Layers: 2, Experts: 4, FFNHidden: 16, Gate: GateSigmoid, Balance: BalanceBias},
	} {
		m, _ := NewModel(cfg, 1)
		opt := NewAdamW(AdamWConfig{WeightDecay: 0.1})
		rng := rand.New(rand.NewPCG(1, 1))
		tok := randTokens(rng, 4*16+1, 32)
		tape := NewTape(m)
		step := func() {
			trainStep(m, tape, opt, tok[:64], tok[1:], 4, 16, 1e-3)
			m.UpdateBalanceBias(tape.ExpertLoad())
		}
		for i := 0; i < 3; i++ {
			step()
		}
		if a := testing.AllocsPerRun(10, step); a != 0 {
			t.Errorf("%s: %v allocations per training step, want 0", cfg.Arch, a)
		}
		eval := NewEvalTape(m)
		if a := testing.AllocsPerRun(10, func() { m.Forward(eval, tok[:64], tok[1:], 4, 16) }); a != 0 {
			t.Errorf("%s: eval forward: %v allocations, want 0", cfg.Arch, a)
		}
	}
}

func TestLlamaModelClone(t *testing.T) {
	for _, cfg := range []Config{tinyLlama(ArchLlama, 2), tinyLlama(ArchMoE, 2)} {
		m, _ := NewModel(cfg, 3)
		c := m.Clone()
		tok := randTokens(rand.New(rand.NewPCG(1, 1)), 16, cfg.Vocab)
		a, _ := m.Logits(tok, 2, 8)
		b, _ := c.Logits(tok, 2, 8)
		if !slices.Equal(a, b) || !slices.Equal(names(m.Params()), names(c.Params())) {
			t.Fatalf("%s: clone differs", cfg.Arch)
		}
		for i, p := range c.Params() {
			if &p.Data[0] == &m.Params()[i].Data[0] {
				t.Fatalf("%s: clone shares %s", cfg.Arch, p.Name)
			}
		}
	}
}
