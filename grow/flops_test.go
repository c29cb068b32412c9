package grow

import (
	"testing"

	"github.com/sproutml/sprout/nn"
)

// A hand count for d=4, V=10, T=3, one block, batch 2:
//
//	block GEMMs per token: qkv 2*4*12=96, proj 2*4*4=32, fc 2*4*16=128,
//	  mlp proj 2*16*4=128 -> 384 per token, 1152 per sequence
//	attention: query t meets t+1 keys (1+2+3 = 6 pairs); scores and values
//	  cost 2*d each per pair -> 2 * 2*4 * 6 = 96 per sequence
//	head: 2*4*10 = 80 per token, 240 per sequence
//
// forward = 2 * (1152 + 96 + 240) = 2976; a training step is 3x that.
func TestFLOPsHandCount(t *testing.T) {
	cfg := nn.Config{Vocab: 10, Ctx: 3, Dim: 4, Heads: 2, Layers: 1}
	if got := ForwardFLOPs(cfg, 1, 2, 3); got != 2976 {
		t.Errorf("ForwardFLOPs = %v, want 2976", got)
	}
	if got := StepFLOPs(cfg, 1, 2, 3); got != 3*2976 {
		t.Errorf("StepFLOPs = %v, want %v", got, 3*2976)
	}
	// Zero blocks: only the head.
	if got := ForwardFLOPs(cfg, 0, 2, 3); got != 480 {
		t.Errorf("ForwardFLOPs at depth 0 = %v, want 480", got)
	}
}

// For GPT-2 the count equals 6*N_matmul per token plus the causal attention
// terms, the formula in the grow issue.
func TestFLOPsMatchesSixN(t *testing.T) {
	cfg := nn.Config{Vocab: 256, Ctx: 256, Dim: 256, Heads: 8, Layers: 6}
	B, T, L, d := 16, 256, 6, 256
	nMatmul := float64(L*12*d*d + 256*d)
	attn := 6 * float64(L*d*T*(T+1)) // 3 * 2*d*T(T+1) per layer per sequence
	want := float64(B) * (6*nMatmul*float64(T) + attn)
	if got := StepFLOPs(cfg, L, B, T); got != want {
		t.Errorf("StepFLOPs = %v, want %v", got, want)
	}
}

func TestRunFLOPs(t *testing.T) {
	cfg := nn.Config{Vocab: 10, Ctx: 3, Dim: 4, Heads: 2, Layers: 4}
	step := func(l int) float64 { return StepFLOPs(cfg, l, 2, 3) }
	spent, fixed := RunFLOPs(cfg, 1, []Stage{{At: 80, Layers: 4}}, 100, 2, 3)
	if want := 80*step(1) + 20*step(4); spent != want {
		t.Errorf("spent = %v, want %v", spent, want)
	}
	if want := 100 * step(4); fixed != want {
		t.Errorf("fixed = %v, want %v", fixed, want)
	}
	spent, fixed = RunFLOPs(cfg, 0, []Stage{{At: 50, Layers: 2}, {At: 80, Layers: 4}}, 100, 2, 3)
	if want := 50*step(0) + 30*step(2) + 20*step(4); spent != want {
		t.Errorf("multi-stage spent = %v, want %v", spent, want)
	}
	if spent >= fixed {
		t.Errorf("progressive run spent %v >= fixed %v", spent, fixed)
	}
	spent, fixed = RunFLOPs(cfg, 4, nil, 100, 2, 3)
	if spent != fixed || spent != 100*step(4) {
		t.Errorf("fixed-depth run: spent %v, fixed %v", spent, fixed)
	}
}

// Hand counts for llama and moe, d=4, V=10, T=3, one block, batch 2.
//
//	llama, H=2 KVH=1 (hd 2, k/v width 2), F=6: per token q 2*4*4=32,
//	  k 2*4*2=16, v 16, o 32, gate/up/down 3*2*4*6=144 -> 240, 720 per
//	  sequence; attention 2*2*4*(1+2+3)=96; head 2*4*10=80 per token, 240.
//	  forward = 2 * (720 + 96 + 240) = 2112
//	moe, H=KVH=2, F=3, E=4, top-2, one shared expert: q, k, v, o 32 each
//	  = 128, router 2*4*4 = 32, active experts (2+1)*3*2*4*3 = 216 -> 376
//	  per token, 1128 per sequence; attention 96, head 240.
//	  forward = 2 * (1128 + 96 + 240) = 2928
func TestFLOPsHandCountLlamaMoE(t *testing.T) {
	llama := nn.Config{Arch: nn.ArchLlama, Vocab: 10, Ctx: 3, Dim: 4, Heads: 2, KVHeads: 1, FFNHidden: 6, Layers: 1}
	if got := ForwardFLOPs(llama, 1, 2, 3); got != 2112 {
		t.Errorf("llama ForwardFLOPs = %v, want 2112", got)
	}
	moe := nn.Config{Arch: nn.ArchMoE, Vocab: 10, Ctx: 3, Dim: 4, Heads: 2, FFNHidden: 3, Experts: 4, TopK: 2, SharedExperts: 1, Layers: 1}
	if got := ForwardFLOPs(moe, 1, 2, 3); got != 2928 {
		t.Errorf("moe ForwardFLOPs = %v, want 2928", got)
	}
	if got := StepFLOPs(moe, 1, 2, 3); got != 3*2928 {
		t.Errorf("moe StepFLOPs = %v, want %v", got, 3*2928)
	}
	// zero blocks: only the head, whatever the arch
	if ForwardFLOPs(llama, 0, 2, 3) != 480 || ForwardFLOPs(moe, 0, 2, 3) != 480 {
		t.Errorf("depth 0: %v, %v, want 480", ForwardFLOPs(llama, 0, 2, 3), ForwardFLOPs(moe, 0, 2, 3))
	}
	// more experts at the same top-k cost nothing more
	wide := moe
	wide.Experts = 64
	if d := ForwardFLOPs(wide, 1, 2, 3) - ForwardFLOPs(moe, 1, 2, 3); d != 2*3*2*4*60 {
		t.Errorf("60 more experts cost %v FLOPs, want only their router columns %d", d, 2*3*2*4*60)
	}
}

// For llama and moe a step costs 6 FLOPs per token per active weight that
// takes part in a product (the active parameters without the embedding
// lookup and the norm gains) plus the causal attention terms.
func TestFLOPsMatchesSixNActive(t *testing.T) {
	for _, cfg := range []nn.Config{
		{Arch: nn.ArchLlama, Vocab: 256, Ctx: 128, Dim: 128, Heads: 4, KVHeads: 2, Layers: 4},
		{Arch: nn.ArchLlama, Vocab: 256, Ctx: 128, Dim: 128, Heads: 4, Layers: 4, TiedHead: true},
		{Arch: nn.ArchMoE, Vocab: 256, Ctx: 128, Dim: 128, Heads: 4, KVHeads: 1, Layers: 3, Experts: 8, TopK: 2, SharedExperts: 1, FFNHidden: 96},
		{Arch: nn.ArchMoE, Vocab: 256, Ctx: 128, Dim: 128, Heads: 4, Layers: 3, Experts: 6, TopK: 3, Gate: nn.GateSigmoid, Balance: nn.BalanceBias},
	} {
		B, T, L, d := 4, 128, cfg.Layers, cfg.Dim
		n := nn.ActiveParamCount(cfg) - L*2*d - d // norm gains
		if !cfg.TiedHead {
			n -= cfg.Vocab * d // the embedding lookup (the untied head is a product)
		}
		attn := 6 * float64(L*d*T*(T+1))
		want := float64(B) * (6*float64(n)*float64(T) + attn)
		if got := StepFLOPs(cfg, L, B, T); got != want {
			t.Errorf("%s: StepFLOPs = %v, want %v", cfg.Arch, got, want)
		}
	}
}
