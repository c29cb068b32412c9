package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sproutml/sprout/asm"
)

// routeF returns f = sum(gates * R) + the auxiliary loss, and the selection.
func routeF(logits *Param, k int, gate string, bias []float32, coef float32, R []float32) (float64, []int32) {
	tp := NewParamTape([]*Param{logits})
	tp.moe.aux = 0
	g, sel := tp.Route(tp.Param(logits), k, gate, bias, coef)
	var f float64
	for i, v := range tp.Data(g) {
		f += float64(v) * float64(R[i])
	}
	return f + tp.moe.aux, slices.Clone(sel)
}

// Route's gradient (gates and auxiliary loss) against central differences,
// away from ties: a perturbation that changes the selection is skipped (and
// must be rare).
func TestGradRoute(t *testing.T) {
	for _, gate := range []string{GateSoftmax, GateSigmoid} {
		for _, coef := range []float32{0, 0.7} {
			for _, withBias := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s-aux%v-bias%v", gate, coef, withBias), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(21, 21))
					const N, E, k = 7, 5, 2
					logits := randParam(rng, "logits", 1.5, N, E)
					var bias []float32
					if withBias {
						bias = make([]float32, E)
						randn(rng, bias, 0.2)
					}
					R := make([]float32, N*k)
					randn(rng, R, 1)
					tp := NewParamTape([]*Param{logits})
					g, sel0 := tp.Route(tp.Param(logits), k, gate, bias, coef)
					sel0 = slices.Clone(sel0)
					if err := tp.BackwardFrom(g, R); err != nil {
						t.Fatal(err)
					}
					ana := tp.Grads()[0]
					const eps = 1e-3
					skipped := 0
					var maxG float64
					for j := range logits.Data {
						orig := logits.Data[j]
						logits.Data[j] = orig + eps
						fp, sp := routeF(logits, k, gate, bias, coef, R)
						logits.Data[j] = orig - eps
						fm, sm := routeF(logits, k, gate, bias, coef, R)
						logits.Data[j] = orig
						if !slices.Equal(sp, sel0) || !slices.Equal(sm, sel0) {
							skipped++
							continue
						}
						num := (fp - fm) / (float64(orig+eps) - float64(orig-eps))
						maxG = math.Max(maxG, math.Abs(num))
						if math.Abs(num-float64(ana[j])) > 1e-3+1e-2*math.Abs(num) {
							t.Errorf("logits[%d]: analytic %.6g numeric %.6g", j, ana[j], num)
						}
					}
					if skipped > 2 || maxG < 1e-2 {
						t.Errorf("%d perturbations changed the selection; largest gradient %g", skipped, maxG)
					}
				})
			}
		}
	}
}

// The selection is the top k of score + bias, ties to the lower index, and
// the gates are the scores (softmax) or the scores normalised over the k
// (sigmoid).
func TestRouteSelection(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 22))
	const N, E = 40, 6
	logits := randParam(rng, "logits", 1, N, E)
	for r := 0; r < 5; r++ { // exact ties
		logits.Data[r*E+1] = logits.Data[r*E+4]
		logits.Data[r*E+2] = logits.Data[r*E+4]
	}
	bias := make([]float32, E)
	randn(rng, bias, 0.1)
	for _, gate := range []string{GateSoftmax, GateSigmoid} {
		for _, b := range [][]float32{nil, bias} {
			for k := 1; k <= E; k++ {
				tp := NewEvalTape(nil)
				g, sel := tp.Route(tp.Input(logits.Data, N, E, false), k, gate, b, 0)
				gates := tp.Data(g)
				for r := 0; r < N; r++ {
					sc := make([]float64, E)
					var z float64
					for j := range sc {
						l := float64(logits.Data[r*E+j])
						if gate == GateSigmoid {
							sc[j] = 1 / (1 + math.Exp(-l))
						} else {
							sc[j] = math.Exp(l)
							z += sc[j]
						}
					}
					if gate == GateSoftmax {
						for j := range sc {
							sc[j] /= z
						}
					}
					key := func(j int) float32 {
						v := float32(sc[j])
						if b != nil {
							v += b[j]
						}
						return v
					}
					// brute force: expert j is selected iff fewer than k experts beat it
					var want []int32
					for j := 0; j < E; j++ {
						better := 0
						for i := 0; i < E; i++ {
							if key(i) > key(j)+1e-6 || (math.Abs(float64(key(i)-key(j))) <= 1e-6 && i < j) {
								better++
							}
						}
						if better < k {
							want = append(want, int32(j))
						}
					}
					got := slices.Clone(sel[r*k : (r+1)*k])
					slices.Sort(got)
					if !slices.Equal(got, want) {
						t.Fatalf("%s k=%d bias=%v row %d: selected %v, want %v", gate, k, b != nil, r, sel[r*k:(r+1)*k], want)
					}
					var zs float64
					for _, e := range sel[r*k : (r+1)*k] {
						zs += sc[e]
					}
					for i, e := range sel[r*k : (r+1)*k] {
						w := sc[e]
						if gate == GateSigmoid {
							w /= zs
						}
						if math.Abs(float64(gates[r*k+i])-w) > 1e-6 {
							t.Fatalf("%s k=%d row %d: gate %v, want %v", gate, k, r, gates[r*k+i], w)
						}
					}
				}
			}
		}
	}
}

// With uniform routing probabilities every token picks experts 0..k-1 (ties
// go low), f_i = 1/k for those, P_i = 1/E: the loss is exactly its
// coefficient. A perfectly balanced router scores the same.
func TestAuxLossValue(t *testing.T) {
	for _, gate := range []string{GateSoftmax, GateSigmoid} {
		tp := NewEvalTape(nil)
		zero := make([]float32, 8*4)
		tp.Route(tp.Input(zero, 8, 4, false), 2, gate, nil, 0.25)
		if math.Abs(tp.moe.aux-0.25) > 1e-6 {
			t.Errorf("%s: aux loss %v, want 0.25", gate, tp.moe.aux)
		}
	}
	// all tokens sure of expert 0 (top-1): f_0 = 1, P_0 ~ 1 -> aux ~ E * coef
	tp := NewEvalTape(nil)
	l := make([]float32, 8*4)
	for r := 0; r < 8; r++ {
		l[r*4] = 30
	}
	tp.Route(tp.Input(l, 8, 4, false), 1, GateSoftmax, nil, 0.5)
	if math.Abs(tp.moe.aux-2) > 1e-6 {
		t.Errorf("collapsed routing: aux loss %v, want 2", tp.moe.aux)
	}
}

func TestGradExperts(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 23))
	const N, d, F, E, k = 6, 5, 4, 4, 2
	// expert 3 gets no token; expert 1 gets several, also twice from nowhere
	sel := []int32{0, 1, 1, 2, 2, 0, 1, 0, 2, 1, 0, 2}
	experts := make([]FFN, E)
	params := []*Param{randParam(rng, "h", 1, N, d), randParam(rng, "gates", 1, N, k), randParam(rng, "resid", 1, N, d)}
	for e := range experts {
		experts[e] = FFN{Gate: randParam(rng, fmt.Sprintf("e%d.gate", e), 0.7, d, F), Up: randParam(rng, fmt.Sprintf("e%d.up", e), 0.7, d, F),
			Down: randParam(rng, fmt.Sprintf("e%d.down", e), 0.7, F, d)}
		params = append(params, experts[e].Gate, experts[e].Up, experts[e].Down)
	}
	for _, threads := range []int{1, 3} {
		old := asm.Threads()
		asm.SetThreads(threads)
		gradCheck(t, params, func(tp *Tape, in []V) V {
			return tp.Experts(in[0], in[1], sel, experts, in[2])
		}, fdEps, fdAtol, fdRtol, 0)
		// without a residual, h used twice
		gradCheck(t, params[:2], func(tp *Tape, in []V) V {
			return tp.Add(tp.Experts(in[0], in[1], sel, experts, -1), in[0])
		}, fdEps, fdAtol, fdRtol, 0)
		asm.SetThreads(old)
	}
}

// A moe model with one expert and top-1 routing is the dense llama model
// with that expert's weights: the gate is exactly 1 (softmax over one expert,
// or a sigmoid normalised over itself). Logits and gradients agree.
func TestMoEOneExpertEqualsDense(t *testing.T) {
	for _, gate := range []string{GateSoftmax, GateSigmoid} {
		dense := Config{Arch: ArchLlama, Vocab: 13, Ctx: 8, Dim: 16, Heads: 4, KVHeads: 2, Layers: 2, FFNHidden: 24, InitStd: 0.2}
		mc := dense
		mc.Arch, mc.Experts, mc.TopK, mc.Gate, mc.Balance = ArchMoE, 1, 1, gate, BalanceNone
		dm, _ := NewModel(dense, 3)
		mm, _ := NewModel(mc, 4)
		copyP := func(dst, src *Param) { copy(dst.Data, src.Data) }
		copyP(mm.WTE, dm.WTE)
		copyP(mm.Head, dm.Head)
		copyP(mm.LNFW, dm.LNFW)
		for i, db := range dm.Blocks {
			b := mm.Blocks[i]
			for _, pr := range [][2]*Param{{b.AttnNorm, db.AttnNorm}, {b.Q, db.Q}, {b.K, db.K}, {b.V, db.V}, {b.O, db.O}, {b.MLPNorm, db.MLPNorm},
				{b.Experts[0].Gate, db.Gate}, {b.Experts[0].Up, db.Up}, {b.Experts[0].Down, db.Down}} {
				copyP(pr[0], pr[1])
			}
		}
		rng := rand.New(rand.NewPCG(5, 5))
		tok, tgt := randTokens(rng, 16, 13), randTokens(rng, 16, 13)
		td, tm := NewTape(dm), NewTape(mm)
		ld, _ := dm.Forward(td, tok, tgt, 2, 8)
		lm, _ := mm.Forward(tm, tok, tgt, 2, 8)
		if math.Abs(float64(ld-lm)) > 1e-6 {
			t.Fatalf("%s: loss %v (moe) vs %v (dense)", gate, lm, ld)
		}
		a, _ := dm.Logits(tok, 2, 8)
		b, _ := mm.Logits(tok, 2, 8)
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-6*(1+math.Abs(float64(a[i]))) {
				t.Fatalf("%s: logit %d: %v (moe) vs %v (dense)", gate, i, b[i], a[i])
			}
		}
		td.Backward()
		tm.Backward()
		for i, db := range dm.Blocks {
			b := mm.Blocks[i]
			for _, pr := range [][2]*Param{{b.Q, db.Q}, {b.Experts[0].Gate, db.Gate}, {b.Experts[0].Down, db.Down}, {b.AttnNorm, db.AttnNorm}} {
				gm, gd := tm.Grad(pr[0]), td.Grad(pr[1])
				for j := range gd {
					if math.Abs(float64(gm[j]-gd[j])) > 1e-5+1e-3*math.Abs(float64(gd[j])) {
						t.Fatalf("%s: grad %s[%d]: %v (moe) vs %v (dense)", gate, pr[0].Name, j, gm[j], gd[j])
					}
				}
			}
			for _, g := range tm.Grad(b.Router) { // one expert: the gate is constant 1
				if g != 0 {
					t.Fatalf("%s: router gradient %v with a single expert", gate, g)
				}
			}
		}
	}
}

// Bias balancing moves each expert's bias by the rate towards the mean load,
// and the load of a batch split over tapes sums to the load of one tape.
func TestUpdateBalanceBias(t *testing.T) {
	cfg := tinyLlama(ArchMoE, 2)
	cfg.Balance, cfg.BiasRate = BalanceBias, 0.5
	m, _ := NewModel(cfg, 1)
	load := []int64{4, 2, 1, 1, 2, 2, 2, 2}
	if err := m.UpdateBalanceBias(load); err != nil {
		t.Fatal(err)
	}
	if got := m.Blocks[0].Balance.Data; !slices.Equal(got, []float32{-0.5, 0, 0.5, 0.5}) {
		t.Errorf("block 0 bias %v", got)
	}
	if got := m.Blocks[1].Balance.Data; !slices.Equal(got, []float32{0, 0, 0, 0}) {
		t.Errorf("balanced block 1 bias %v", got)
	}
	if err := m.UpdateBalanceBias(load[:3]); err == nil {
		t.Error("wrong number of counts accepted")
	}
	// not bias balancing: nothing moves
	m2, _ := NewModel(tinyLlama(ArchMoE, 2), 1)
	m2.UpdateBalanceBias(load)
	for _, b := range m2.Blocks {
		if slices.ContainsFunc(b.Balance.Data, func(v float32) bool { return v != 0 }) {
			t.Error("aux-balanced model's bias moved")
		}
	}
	// a split batch: loads add up exactly; optimizers never touch the bias
	rng := rand.New(rand.NewPCG(2, 2))
	tok := randTokens(rng, 4*8, cfg.Vocab)
	whole, half1, half2 := NewTape(m), NewTape(m), NewTape(m)
	m.Forward(whole, tok, tok, 4, 8)
	m.Forward(half1, tok[:16], tok[:16], 2, 8)
	m.Forward(half2, tok[16:], tok[16:], 2, 8)
	sum := SumExpertLoad(nil, half1, half2)
	if !slices.Equal(sum, whole.ExpertLoad()) || len(sum) != 2*4 {
		t.Errorf("split load %v, whole %v", sum, whole.ExpertLoad())
	}
	var total int64
	for _, v := range sum {
		total += v
	}
	if total != 2*32*2 { // 2 blocks, 32 tokens, top-2
		t.Errorf("total load %d", total)
	}
	before := slices.Clone(m.Blocks[0].Balance.Data)
	whole.Backward()
	ReduceGrads(m.Params(), 1, whole)
	for _, p := range m.Params() {
		for i := range p.Grad {
			p.Grad[i] += 1 // even with a gradient, a Buffer is not stepped
		}
	}
	muon, _ := NewMuon(MuonConfig{})
	for _, opt := range []Optimizer{NewAdamW(AdamWConfig{WeightDecay: 0.1}), muon, NewSGD(SGDConfig{Momentum: 0.9})} {
		opt.Step(m.Params(), 0.1)
		if !slices.Equal(before, m.Blocks[0].Balance.Data) || opt.State(m.Blocks[0].Balance) != nil {
			t.Errorf("%s stepped the balancing bias", opt.Name())
		}
	}
}
