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

// New lists the blocks of the expanded model that are not a trained block
// carried over: the fresh blocks and the copies.
func (r Result) New() []int {
	var out []int
	for j, orig := range r.Original {
		if !orig {
			out = append(out, j)
		}
	}
	return out
}

// Layout is the arrangement an expansion of a from-block model to `to`
// blocks with strategy s and placement place gives (Source and Original of
// the Result ExpandWith returns), without a model: a run's record of an
// expansion says which of its blocks are new.
func Layout(from, to int, s Strategy, place Place) (Result, error) {
	if s == "" {
		s = Random
	}
	if _, err := ParseStrategy(string(s)); err != nil {
		return Result{}, err
	}
	place, err := ParsePlace(string(place))
	if err != nil {
		return Result{}, err
	}
	switch {
	case place != PlaceBottom && s.copies():
		return Result{}, fmt.Errorf("grow: placement %q applies to the random and zero strategies, not %q (which fixes its own order)", place, s)
	case from < 0 || to <= from:
		return Result{}, fmt.Errorf("grow: cannot expand a %d-block model to %d blocks: the target must be deeper", from, to)
	case s.copies() && from == 0:
		return Result{}, fmt.Errorf("grow: strategy %q copies trained blocks, but the model has none", s)
	}
	return layout(from, to, s, place), nil
}

// layout places k trained blocks in a model of layers blocks (arguments
// checked): the first use of a trained block is the block itself, later ones
// are copies.
func layout(k, layers int, s Strategy, place Place) Result {
	res := Result{From: k, To: layers, Strategy: s, Source: make([]int, layers), Original: make([]bool, layers)}
	first := place.first(k, layers) // index of the first trained block (random, zero)
	used := make([]bool, k)
	for j := range layers {
		switch {
		case s == Copy:
			res.Source[j] = j % k
		case s == CopyInterleave:
			res.Source[j] = j * k / layers
		case s == CopyLast && j < k:
			res.Source[j] = j
		case s == CopyLast:
			res.Source[j] = k - 1
		case j >= first && j < first+k:
			res.Source[j] = j - first
		default:
			res.Source[j] = -1
		}
		if src := res.Source[j]; src >= 0 && !used[src] {
			used[src], res.Original[j] = true, true
		}
	}
	return res
}

// Options are the choices of one expansion besides its depth. The zero
// value of a field selects the default in its comment.
type Options struct {
	Strategy   Strategy   // default Random
	OptimState OptimState // default FreshNew
	Scale      Scale      // init scale of new random blocks; default ScaleDepth
	Place      Place      // where random/zero expansion keeps the trained blocks; default PlaceBottom
	Seed       uint64     // drives the initialisation of random and zero blocks
}

// Expand grows m in place to layers blocks with strategy s and brings opt's
// state along according to mode; it is ExpandWith with the default scale and
// placement.
func Expand(m *nn.Model, opt nn.Optimizer, layers int, s Strategy, mode OptimState, seed uint64) (Result, error) {
	return ExpandWith(m, opt, layers, Options{Strategy: s, OptimState: mode, Seed: seed})
}

// ExpandWith grows m in place to layers blocks per o and brings opt's state
// along according to o.OptimState (see OptimState); opt may be nil. o.Seed
// drives the initialisation of random and zero blocks, so an expansion is
// reproducible. New random blocks are initialised for a model of the target
// depth (GPT-2's residual scaling by 1/sqrt(2*layers), muP-scaled when the
// model's config says so), then rescaled per o.Scale.
//
// The trained blocks keep their *nn.Param values, so an optimizer's state for
// them carries over by itself; copies are deep (Block.Clone).
func ExpandWith(m *nn.Model, opt nn.Optimizer, layers int, o Options) (Result, error) {
	old := m.Blocks
	k := len(old)
	s, mode := o.Strategy, o.OptimState
	if s == "" {
		s = Random
	}
	if mode == "" {
		mode = FreshNew
	}
	if _, err := ParseStrategy(string(s)); err != nil {
		return Result{}, err
	}
	if _, err := ParseOptimState(string(mode)); err != nil {
		return Result{}, err
	}
	scale, err := ParseScale(string(o.Scale))
	if err != nil {
		return Result{}, err
	}
	place, err := ParsePlace(string(o.Place))
	if err != nil {
		return Result{}, err
	}
	if place != PlaceBottom && s.copies() {
		return Result{}, fmt.Errorf("grow: placement %q applies to the random and zero strategies, not %q (which fixes its own order)", place, s)
	}
	if layers <= k {
		return Result{}, fmt.Errorf("grow: cannot expand a %d-block model to %d blocks: the target must be deeper", k, layers)
	}
	if s.copies() && k == 0 {
		return Result{}, fmt.Errorf("grow: strategy %q copies trained blocks, but the model has none", s)
	}

	res := layout(k, layers, s, place)

	rng := rand.New(rand.NewPCG(o.Seed, uint64(layers)))
	blocks := make([]*nn.Block, layers)
	for j, src := range res.Source {
		switch {
		case res.Original[j]:
			blocks[j] = old[src]
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
			if scale == ScaleTrained {
				matchScale(b, old)
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
