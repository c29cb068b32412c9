package trainer

import (
	"encoding/json"
	"strings"
	"testing"
)

func seqTokens(n int) []uint16 {
	t := make([]uint16, n)
	for i := range t {
		t[i] = uint16(i)
	}
	return t
}

func starts(s *Sampler, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = int(s.Next()[0])
	}
	return out
}

func TestSamplerWindows(t *testing.T) {
	toks := seqTokens(30)
	s, err := NewSampler(toks, 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]int{}
	for range 5000 {
		w := s.Next()
		if len(w) != 6 {
			t.Fatalf("window of %d tokens", len(w))
		}
		for i := 1; i < len(w); i++ {
			if w[i] != w[0]+uint16(i) {
				t.Fatalf("window not contiguous: %v", w)
			}
		}
		seen[int(w[0])]++
	}
	// Every start 0..24 is possible, none beyond.
	if len(seen) != 25 {
		t.Errorf("%d distinct starts, want 25", len(seen))
	}
	for st, n := range seen {
		if st > 24 || n < 120 || n > 280 { // 200 expected each
			t.Errorf("start %d drawn %d times", st, n)
		}
	}
	if s.State().Draws != 5000 {
		t.Errorf("draws = %d", s.State().Draws)
	}
}

// TestSamplerSequence pins the first draws so the windows a seed gives
// cannot change silently (a resumed run would diverge).
func TestSamplerSequence(t *testing.T) {
	s, _ := NewSampler(seqTokens(1<<16), 256, 42)
	got := starts(s, 6)
	want := []int{25144, 47325, 27102, 50149, 55055, 57797}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("seed 42 draws %v, want %v", got, want)
		}
	}
	b, _ := NewSampler(seqTokens(1<<16), 256, 43)
	if starts(b, 6)[0] == got[0] && starts(b, 1)[0] == got[1] {
		t.Error("seeds 42 and 43 give the same windows")
	}
}

func TestSamplerResume(t *testing.T) {
	toks := seqTokens(1000)
	a, _ := NewSampler(toks, 16, 3)
	starts(a, 37)
	st := a.State()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back SamplerState
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	r, err := RestoreSampler(toks, 16, back)
	if err != nil {
		t.Fatal(err)
	}
	want, got := starts(a, 50), starts(r, 50)
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("resumed sampler diverges at draw %d: %d vs %d", i, got[i], want[i])
		}
	}
	if r.State() != a.State() {
		t.Errorf("states differ: %+v vs %+v", r.State(), a.State())
	}
	batch := r.Batch(make([][]uint16, 4))
	if len(batch) != 4 || r.State().Draws != 37+50+4 {
		t.Errorf("batch of %d, draws %d", len(batch), r.State().Draws)
	}

	for _, c := range []struct {
		toks []uint16
		ctx  int
		st   SamplerState
		want string
	}{
		{toks[:999], 16, st, "saved state is for 1000 tokens and context 16, but the data has 999 tokens"},
		{toks, 8, st, "the context is 8"},
		{toks, 16, SamplerState{Tokens: 1000, Ctx: 16, PCG: "zz"}, "not hex"},
		{toks, 16, SamplerState{Tokens: 1000, Ctx: 16, PCG: "0011"}, "generator state"},
		{toks[:10], 16, st, "cannot hold one window"},
	} {
		if _, err := RestoreSampler(c.toks, c.ctx, c.st); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
}

func TestBoundedUniform(t *testing.T) {
	g := newPCG(1, 2)
	const n, draws = 7, 70000
	var c [n]int
	for range draws {
		v := bounded(g, n)
		if v >= n {
			t.Fatalf("bounded gave %d >= %d", v, n)
		}
		c[v]++
	}
	for i, k := range c {
		if k < 9500 || k > 10500 {
			t.Errorf("value %d drawn %d times of %d", i, k, draws)
		}
	}
}
