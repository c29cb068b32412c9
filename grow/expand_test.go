package grow

import (
	"math"
	"slices"
	"testing"

	"github.com/sproutml/sprout/nn"
)

func tinyConfig(layers int) nn.Config {
	return nn.Config{Vocab: 32, Ctx: 8, Dim: 16, Heads: 2, Layers: layers}
}

// trained returns a model of `from` blocks with weights perturbed away from
// their init (so that copies and zero blocks are told apart), and an AdamW
// optimizer that has taken one step on every parameter.
func trained(t *testing.T, from int) (*nn.Model, nn.Optimizer) {
	t.Helper()
	return trainedArch(t, tinyConfig(from))
}

func TestExpandShapesAndCounts(t *testing.T) {
	for _, from := range []int{0, 1, 2} {
		for _, s := range Strategies {
			if from == 0 && s.copies() {
				continue
			}
			for _, to := range []int{from + 1, 5, 7} {
				if to <= from {
					continue
				}
				m, opt := trained(t, from)
				res, err := Expand(m, opt, to, s, FreshNew, 3)
				if err != nil {
					t.Fatalf("%d->%d %s: %v", from, to, s, err)
				}
				if len(m.Blocks) != to || m.Layers != to || res.To != to || res.From != from {
					t.Fatalf("%d->%d %s: %d blocks, Layers %d, result %+v", from, to, s, len(m.Blocks), m.Layers, res)
				}
				if got, want := m.NumParams(), nn.ParamCount(tinyConfig(to)); got != want {
					t.Errorf("%d->%d %s: %d parameters, formula says %d", from, to, s, got, want)
				}
				names := map[string]bool{}
				for _, p := range m.Params() {
					if names[p.Name] {
						t.Fatalf("%d->%d %s: duplicate parameter name %s", from, to, s, p.Name)
					}
					names[p.Name] = true
				}
				if !names["blocks."+itoa(to-1)+".mlp.proj.weight"] {
					t.Errorf("%d->%d %s: last block not named blocks.%d", from, to, s, to-1)
				}
			}
		}
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestExpandSources(t *testing.T) {
	cases := []struct {
		s        Strategy
		from, to int
		want     []int
	}{
		{Copy, 2, 5, []int{0, 1, 0, 1, 0}},
		{CopyInterleave, 2, 5, []int{0, 0, 0, 1, 1}},
		{CopyInterleave, 2, 4, []int{0, 0, 1, 1}},
		{CopyLast, 2, 4, []int{0, 1, 1, 1}},
		{Random, 2, 4, []int{0, 1, -1, -1}},
		{Zero, 1, 3, []int{0, -1, -1}},
		{Random, 0, 2, []int{-1, -1}},
	}
	for _, c := range cases {
		m, _ := trained(t, c.from)
		res, err := Expand(m, nil, c.to, c.s, FreshNew, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Source, c.want) {
			t.Errorf("%s %d->%d: sources %v, want %v", c.s, c.from, c.to, res.Source, c.want)
		}
	}
}

// Copied blocks equal their source bit for bit and do not share memory; the
// trained block itself is kept (same *Param).
func TestExpandCopiesAreExact(t *testing.T) {
	for _, s := range []Strategy{Copy, CopyInterleave, CopyLast} {
		m, _ := trained(t, 2)
		old := slices.Clone(m.Blocks)
		want := make([][][]float32, len(old))
		for i, b := range old {
			for _, p := range b.Params() {
				want[i] = append(want[i], slices.Clone(p.Data))
			}
		}
		res, err := Expand(m, nil, 6, s, FreshNew, 1)
		if err != nil {
			t.Fatal(err)
		}
		originals := 0
		for j, b := range m.Blocks {
			src := res.Source[j]
			if res.Original[j] {
				originals++
				if b != old[src] {
					t.Errorf("%s: block %d should be trained block %d itself", s, j, src)
				}
			}
			for q, p := range b.Params() {
				if !slices.Equal(bits(p.Data), bits(want[src][q])) {
					t.Errorf("%s: block %d param %s differs from source block %d", s, j, p.Name, src)
				}
			}
		}
		if originals != 2 {
			t.Errorf("%s: %d original blocks, want 2", s, originals)
		}
		// Writing to a copy must not touch its source.
		m.Blocks[5].FCW.Data[0] += 1
		for j := 0; j < 5; j++ {
			if m.Blocks[j].FCW.Data[0] == m.Blocks[5].FCW.Data[0] && res.Source[j] == res.Source[5] {
				t.Errorf("%s: block %d shares memory with block 5", s, j)
			}
		}
	}
}

func bits(x []float32) []uint32 {
	out := make([]uint32, len(x))
	for i, v := range x {
		out[i] = math.Float32bits(v)
	}
	return out
}

// The zero strategy preserves the model's function: logits are unchanged.
func TestExpandZeroPreservesFunction(t *testing.T) {
	for _, from := range []int{0, 1} {
		m, _ := trained(t, from)
		B, T := 2, 8
		tokens := make([]int32, B*T)
		for i := range tokens {
			tokens[i] = int32(i*7) % 32
		}
		before, err := m.Logits(tokens, B, T)
		if err != nil {
			t.Fatal(err)
		}
		before = slices.Clone(before)
		if _, err := Expand(m, nil, 4, Zero, FreshNew, 5); err != nil {
			t.Fatal(err)
		}
		after, err := m.Logits(tokens, B, T)
		if err != nil {
			t.Fatal(err)
		}
		for i := range before {
			if d := math.Abs(float64(before[i] - after[i])); d > 1e-5 {
				t.Fatalf("from %d: logit %d changed by %g", from, i, d)
			}
		}
		// A random expansion does change the function (the check can fail).
		m2, _ := trained(t, from)
		if _, err := Expand(m2, nil, 4, Random, FreshNew, 5); err != nil {
			t.Fatal(err)
		}
		after2, _ := m2.Logits(tokens, B, T)
		same := true
		for i := range before {
			same = same && math.Abs(float64(before[i]-after2[i])) <= 1e-5
		}
		if same {
			t.Errorf("from %d: random expansion left logits unchanged", from)
		}
	}
}

func TestExpandOptimizerState(t *testing.T) {
	// FreshNew: old parameters keep their state, new ones have none.
	m, opt := trained(t, 1)
	oldState := map[*nn.Param]map[string][]float32{}
	for _, p := range m.Params() {
		oldState[p] = cloneState(opt.State(p))
	}
	res, err := Expand(m, opt, 3, Copy, FreshNew, 1)
	if err != nil {
		t.Fatal(err)
	}
	for j, b := range m.Blocks {
		for _, p := range b.Params() {
			st := opt.State(p)
			if res.Original[j] != (st != nil) {
				t.Errorf("fresh: block %d %s has state %v, original %v", j, p.Name, st != nil, res.Original[j])
			}
			if res.Original[j] && !equalState(st, oldState[p]) {
				t.Errorf("fresh: block %d %s state changed", j, p.Name)
			}
		}
	}

	// CopySource: copied blocks start from their source's state, as copies.
	m, opt = trained(t, 1)
	src := m.Blocks[0].Params()
	if _, err := Expand(m, opt, 3, Copy, CopySource, 1); err != nil {
		t.Fatal(err)
	}
	for j := 1; j < 3; j++ {
		for q, p := range m.Blocks[j].Params() {
			st := opt.State(p)
			if !equalState(st, opt.State(src[q])) {
				t.Fatalf("copy: block %d %s state differs from source", j, p.Name)
			}
			if len(st["m"]) > 0 && &st["m"][0] == &opt.State(src[q])["m"][0] {
				t.Fatalf("copy: block %d %s shares state memory with its source", j, p.Name)
			}
		}
	}

	// ResetAll: nobody has state.
	m, opt = trained(t, 1)
	if _, err := Expand(m, opt, 3, Random, ResetAll, 1); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		if opt.State(p) != nil {
			t.Fatalf("reset: %s still has state", p.Name)
		}
	}
}

func cloneState(s map[string][]float32) map[string][]float32 {
	if s == nil {
		return nil
	}
	c := map[string][]float32{}
	for k, v := range s {
		c[k] = slices.Clone(v)
	}
	return c
}

func equalState(a, b map[string][]float32) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(bits(v), bits(b[k])) {
			return false
		}
	}
	return true
}

func TestExpandErrors(t *testing.T) {
	m, _ := trained(t, 0)
	if _, err := Expand(m, nil, 3, Copy, FreshNew, 1); err == nil {
		t.Error("copy from 0 blocks accepted")
	}
	m, _ = trained(t, 2)
	if _, err := Expand(m, nil, 2, Random, FreshNew, 1); err == nil {
		t.Error("expansion to the same depth accepted")
	}
	if _, err := Expand(m, nil, 4, "bogus", FreshNew, 1); err == nil {
		t.Error("unknown strategy accepted")
	}
	if _, err := Expand(m, nil, 4, Random, "bogus", 1); err == nil {
		t.Error("unknown optimizer-state mode accepted")
	}
	if len(m.Blocks) != 2 {
		t.Errorf("failed expansions changed the model: %d blocks", len(m.Blocks))
	}
}

// Expansion is reproducible from its seed.
func TestExpandDeterministic(t *testing.T) {
	m1, _ := trained(t, 1)
	m2, _ := trained(t, 1)
	Expand(m1, nil, 4, Random, FreshNew, 9)
	Expand(m2, nil, 4, Random, FreshNew, 9)
	for i, p := range m1.Params() {
		if !slices.Equal(bits(p.Data), bits(m2.Params()[i].Data)) {
			t.Fatalf("%s differs between two expansions with the same seed", p.Name)
		}
	}
}

// Layout says, without a model, what ExpandWith does: for every strategy and
// placement its sources and originals match a real expansion's, and New
// lists the blocks that are not a trained block carried over.
func TestLayoutMatchesExpand(t *testing.T) {
	for _, from := range []int{0, 1, 2} {
		for _, s := range Strategies {
			for _, pl := range []Place{PlaceBottom, PlaceTop, PlaceMiddle} {
				if from == 0 && s.copies() || pl != PlaceBottom && s.copies() {
					continue
				}
				m, _ := trained(t, from)
				res, err := ExpandWith(m, nil, 5, Options{Strategy: s, Place: pl, Seed: 1})
				if err != nil {
					t.Fatal(err)
				}
				lay, err := Layout(from, 5, s, pl)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(lay.Source, res.Source) || !slices.Equal(lay.Original, res.Original) {
					t.Errorf("%d->5 %s %s: layout %v %v, expansion %v %v", from, s, pl, lay.Source, lay.Original, res.Source, res.Original)
				}
			}
		}
	}
	for _, c := range []struct {
		s     Strategy
		pl    Place
		from  int
		want  []int
		label string
	}{
		{Copy, "", 1, []int{1, 2, 3, 4, 5}, "copies of block 0"},
		{Copy, "", 2, []int{2, 3, 4, 5}, "second round of copies"},
		{CopyInterleave, "", 2, []int{1, 2, 4, 5}, "interleaved copies"},
		{Random, PlaceTop, 1, []int{0, 1, 2, 3, 4}, "trained block on top"},
		{Zero, PlaceMiddle, 2, []int{0, 1, 4, 5}, "trained blocks in the middle"},
		{Random, "", 0, []int{0, 1, 2, 3, 4, 5}, "from zero blocks"},
	} {
		lay, err := Layout(c.from, 6, c.s, c.pl)
		if err != nil {
			t.Fatal(err)
		}
		if got := lay.New(); !slices.Equal(got, c.want) {
			t.Errorf("%s: new blocks %v, want %v", c.label, got, c.want)
		}
	}
	for _, bad := range []struct {
		from, to int
		s        Strategy
		pl       Place
	}{{0, 3, Copy, ""}, {2, 2, Random, ""}, {1, 3, "bogus", ""}, {1, 3, Random, "side"}, {1, 3, Copy, PlaceTop}, {-1, 3, Random, ""}} {
		if _, err := Layout(bad.from, bad.to, bad.s, bad.pl); err == nil {
			t.Errorf("Layout(%d, %d, %q, %q) accepted", bad.from, bad.to, bad.s, bad.pl)
		}
	}
}
