package grow

import (
	"fmt"
	"math/rand/v2"

	"github.com/sproutml/sprout/nn"
)

// Result describes one expansion.
type Result struct {
	From, To int
	Strategy Strategy
	// Source[j] is the index (in the model before expansion) of the trained
	// block that block j now is or was copied from, or -1 for a fresh block.
	Source []int
	// Original[j] reports whether block j is the trained block itself (its
	// parameters, and so its optimizer state, carried over unchanged).
	Original []bool
}

// Expand grows m in place to layers blocks with strategy s and brings opt's
// state along according to mode (see OptimState); opt may be nil. seed drives
// the initialisation of random and zero blocks, so an expansion is
// reproducible. New random blocks are initialised for a model of the target
// depth (GPT-2's residual scaling by 1/sqrt(2*layers), muP-scaled when the
// model's config says so).
//
// The trained blocks keep their *nn.Param values, so an optimizer's state for
// them carries over by itself; copies are deep (Block.Clone).
func Expand(m *nn.Model, opt nn.Optimizer, layers int, s Strategy, mode OptimState, seed uint64) (Result, error) {
	old := m.Blocks
	k := len(old)
	if _, err := ParseStrategy(string(s)); err != nil {
		return Result{}, err
	}
	if mode == "" {
		mode = FreshNew
	}
	if _, err := ParseOptimState(string(mode)); err != nil {
		return Result{}, err
	}
	if layers <= k {
		return Result{}, fmt.Errorf("grow: cannot expand a %d-block model to %d blocks: the target must be deeper", k, layers)
	}
	if s.copies() && k == 0 {
		return Result{}, fmt.Errorf("grow: strategy %q copies trained blocks, but the model has none", s)
	}

	res := Result{From: k, To: layers, Strategy: s, Source: make([]int, layers), Original: make([]bool, layers)}
	for j := range layers {
		switch {
		case s == Copy:
			res.Source[j] = j % k
		case s == CopyInterleave:
			res.Source[j] = j * k / layers
		case j < k:
			res.Source[j] = j
		case s == CopyLast:
			res.Source[j] = k - 1
		default:
			res.Source[j] = -1
		}
	}

	rng := rand.New(rand.NewPCG(seed, uint64(layers)))
	blocks := make([]*nn.Block, layers)
	used := make([]bool, k)
	for j, src := range res.Source {
		switch {
		case src >= 0 && !used[src]:
			blocks[j], used[src], res.Original[j] = old[src], true, true
		case src >= 0:
			blocks[j] = old[src].Clone()
		default:
			init := nn.InitRandom
			if s == Zero {
				init = nn.InitZeroOutput
			}
			b, err := m.NewBlock(rng, layers, init)
			if err != nil {
				return Result{}, fmt.Errorf("grow: new block %d: %w", j, err)
			}
			blocks[j] = b
		}
	}
	if err := m.SetBlocks(blocks); err != nil {
		return Result{}, fmt.Errorf("grow: %w", err)
	}
	if opt == nil {
		return res, nil
	}
	switch mode {
	case ResetAll:
		for _, p := range m.Params() {
			opt.ResetState(p)
		}
	case CopySource:
		for j, src := range res.Source {
			if src < 0 || res.Original[j] {
				continue
			}
			from, to := old[src].Params(), blocks[j].Params()
			for q := range from {
				if st := opt.State(from[q]); st != nil {
					if err := opt.SetState(to[q], st); err != nil {
						return Result{}, fmt.Errorf("grow: copying optimizer state to %s: %w", to[q].Name, err)
					}
				}
			}
		}
	}
	return res, nil
}
