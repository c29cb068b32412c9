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
