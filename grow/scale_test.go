package grow

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sproutml/sprout/nn"
)

// Placement puts the trained blocks at the bottom, top or middle of the
// grown model, as themselves (same *Param, so their optimizer state).
func TestExpandPlace(t *testing.T) {
	cases := []struct {
		place    Place
		s        Strategy
		from, to int
		want     []int
	}{
		{PlaceBottom, Random, 1, 4, []int{0, -1, -1, -1}},
		{PlaceTop, Random, 1, 4, []int{-1, -1, -1, 0}},
		{PlaceTop, Zero, 2, 5, []int{-1, -1, -1, 0, 1}},
		{PlaceMiddle, Random, 1, 4, []int{-1, 0, -1, -1}},
		{PlaceMiddle, Random, 2, 6, []int{-1, -1, 0, 1, -1, -1}},
		{PlaceTop, Random, 0, 3, []int{-1, -1, -1}},
	}
	for _, c := range cases {
		m, _ := trained(t, c.from)
		old := slices.Clone(m.Blocks)
		res, err := ExpandWith(m, nil, c.to, Options{Strategy: c.s, Place: c.place, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Source, c.want) {
			t.Errorf("%s %s %d->%d: sources %v, want %v", c.place, c.s, c.from, c.to, res.Source, c.want)
		}
		for j, src := range res.Source {
			if src >= 0 && (m.Blocks[j] != old[src] || !res.Original[j]) {
				t.Errorf("%s %s: block %d is not trained block %d itself", c.place, c.s, j, src)
			}
			if src >= 0 && m.Blocks[j].Params()[0].Name != "blocks."+itoa(j)+".ln1.weight" {
				t.Errorf("%s %s: block %d named %s", c.place, c.s, j, m.Blocks[j].Params()[0].Name)
			}
		}
	}
	m, _ := trained(t, 1)
	if _, err := ExpandWith(m, nil, 3, Options{Strategy: Copy, Place: PlaceTop}); err == nil || !strings.Contains(err.Error(), "placement") {
		t.Errorf("copy with placement top: error %v", err)
	}
	if _, err := ExpandWith(m, nil, 3, Options{Place: "left"}); err == nil || !strings.Contains(err.Error(), `unknown placement "left"`) {
		t.Errorf("unknown placement: error %v", err)
	}
	if _, err := ExpandWith(m, nil, 3, Options{Scale: "huge"}); err == nil || !strings.Contains(err.Error(), `unknown init scale "huge"`) {
		t.Errorf("unknown scale: error %v", err)
	}
	if len(m.Blocks) != 1 {
		t.Errorf("failed expansions changed the model: %d blocks", len(m.Blocks))
	}
}

// ScaleTrained gives every weight matrix of a new block the mean RMS of the
// trained blocks' same matrix, keeps the random directions of the depth init
// (same seed), and leaves vectors and zero output projections alone.
func TestExpandScaleTrained(t *testing.T) {
	for _, s := range []Strategy{Random, Zero} {
		a, _ := trained(t, 2)
		for _, b := range a.Blocks { // grow the trained weights well past init
			for _, p := range b.Params() {
				if p.Kind == nn.Matrix {
					for i := range p.Data {
						p.Data[i] *= 5
					}
				}
			}
		}
		b := a.Clone()
		if _, err := ExpandWith(a, nil, 5, Options{Strategy: s, Scale: ScaleDepth, Seed: 4}); err != nil {
			t.Fatal(err)
		}
		if _, err := ExpandWith(b, nil, 5, Options{Strategy: s, Scale: ScaleTrained, Seed: 4}); err != nil {
			t.Fatal(err)
		}
		for j := 2; j < 5; j++ {
			pa, pb := a.Blocks[j].Params(), b.Blocks[j].Params()
			for q := range pb {
				if pb[q].Kind != nn.Matrix || rms(pa[q].Data) == 0 {
					if !slices.Equal(bits(pa[q].Data), bits(pb[q].Data)) {
						t.Errorf("%s: %s changed by the trained scale", s, pb[q].Name)
					}
					continue
				}
				want := (rms(b.Blocks[0].Params()[q].Data) + rms(b.Blocks[1].Params()[q].Data)) / 2
				if got := rms(pb[q].Data); math.Abs(got-want) > 1e-5*want {
					t.Errorf("%s: %s RMS %v, want the trained blocks' %v", s, pb[q].Name, got, want)
				}
				f := pb[q].Data[0] / pa[q].Data[0] // same direction: a constant ratio
				for i := range pb[q].Data {
					if d := pb[q].Data[i] - f*pa[q].Data[i]; math.Abs(float64(d)) > 1e-5*math.Abs(float64(pb[q].Data[i]))+1e-9 {
						t.Fatalf("%s: %s[%d] = %v is not %v x the depth init %v", s, pb[q].Name, i, pb[q].Data[i], f, pa[q].Data[i])
					}
				}
			}
		}
		if s == Zero { // still the identity: zero output projections stay zero
			for _, blk := range b.Blocks[2:] {
				if rms(blk.ProjW.Data) != 0 || rms(blk.FC2W.Data) != 0 {
					t.Errorf("zero + trained scale: %s is not zero", blk.ProjW.Name)
				}
			}
		}
	}
	// From zero blocks there is nothing to match: the depth init.
	a, _ := trained(t, 0)
	b, _ := trained(t, 0)
	ExpandWith(a, nil, 3, Options{Seed: 2})
	ExpandWith(b, nil, 3, Options{Scale: ScaleTrained, Seed: 2})
	for i, p := range a.Params() {
		if !slices.Equal(bits(p.Data), bits(b.Params()[i].Data)) {
			t.Fatalf("0 blocks: %s differs with the trained scale", p.Name)
		}
	}
}

func TestParseScalePlace(t *testing.T) {
	for in, want := range map[string]Scale{"": ScaleDepth, "depth": ScaleDepth, "trained": ScaleTrained} {
		if got, err := ParseScale(in); err != nil || got != want {
			t.Errorf("ParseScale(%q) = %q, %v", in, got, err)
		}
	}
	for in, want := range map[string]Place{"": PlaceBottom, "bottom": PlaceBottom, "top": PlaceTop, "middle": PlaceMiddle} {
		if got, err := ParsePlace(in); err != nil || got != want {
			t.Errorf("ParsePlace(%q) = %q, %v", in, got, err)
		}
	}
}

func TestPlanRewarmup(t *testing.T) {
	p := Plan{From: 1, To: 4, Rewarmup: 0.05}
	if w := p.RewarmupSteps(200); w != 10 {
		t.Fatalf("RewarmupSteps(200) = %d, want 10", w)
	}
	for _, c := range []struct {
		step, grewAt int
		want         float64
	}{
		{99, -1, 1}, {99, 100, 1}, {100, 100, 0.1}, {104, 100, 0.5}, {109, 100, 1}, {110, 100, 1},
	} {
		if got := p.RewarmupFactor(c.step, c.grewAt, 200); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("factor at step %d after growth at %d = %v, want %v", c.step, c.grewAt, got, c.want)
		}
	}
	if f := (Plan{From: 1, To: 4}).RewarmupFactor(100, 100, 200); f != 1 {
		t.Errorf("no re-warmup: factor %v", f)
	}
	o := Plan{From: 1, To: 4, Scale: ScaleTrained, Place: PlaceTop, OptimState: ResetAll}.Options(Stage{At: 5, Layers: 4, Strategy: Random}, 9)
	if o != (Options{Strategy: Random, OptimState: ResetAll, Scale: ScaleTrained, Place: PlaceTop, Seed: 9}) {
		t.Errorf("Options = %+v", o)
	}
}
