package trainer

import (
	"math/rand/v2"
	"testing"

	"github.com/sproutml/sprout/nn"
)

// A block whose output projections are zero adds nothing to the residual
// stream: leaving it out changes the loss by exactly 0, leaving out any
// other block does not, and the model is untouched.
func TestAblateBlocks(t *testing.T) {
	for _, arch := range []string{nn.ArchGPT2, nn.ArchLlama, nn.ArchMoE} {
		m, err := nn.NewModel(nn.Config{Arch: arch, Vocab: 256, Ctx: 16, Dim: 32, Heads: 2, Layers: 3}, 5)
		if err != nil {
			t.Fatal(err)
		}
		b := m.Blocks[1]
		switch arch {
		case nn.ArchGPT2:
			for _, p := range []*nn.Param{b.ProjW, b.ProjB, b.FC2W, b.FC2B} {
				clear(p.Data)
			}
		case nn.ArchLlama:
			clear(b.O.Data)
			clear(b.Down.Data)
		case nn.ArchMoE:
			clear(b.O.Data)
			for _, e := range append(append([]nn.FFN(nil), b.Experts...), b.Shared...) {
				clear(e.Down.Data)
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		tokens := make([]uint16, 400)
		for i := range tokens {
			tokens[i] = uint16(rng.IntN(256))
		}
		win := EvalWindows(tokens, 16, 8)
		base, delta, err := AblateBlocks(m, win, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(delta) != 3 || delta[1] != 0 || delta[0] == 0 || delta[2] == 0 {
			t.Errorf("%s: deltas %v, want [x 0 y] with x, y != 0", arch, delta)
		}
		again, err := Evaluate(m, win, 3)
		if err != nil || again != base || len(m.Blocks) != 3 || m.Blocks[2].Params()[0].Name[:9] != "blocks.2." {
			t.Errorf("%s: the model changed: loss %v then %v (%v), %d blocks", arch, base, again, err, len(m.Blocks))
		}
	}
}
