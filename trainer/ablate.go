package trainer

import (
	"fmt"
	"slices"

	"github.com/sproutml/sprout/asm"
	"github.com/sproutml/sprout/nn"
)

// AblateBlocks measures how much each block of m contributes: Delta[i] is
// the validation loss on windows of m without block i minus the loss of m
// (Base). Blocks write into a residual stream, so leaving one out is the
// same as zeroing its output projections. A block near 0 does no work, the
// sign of a block that learned nothing (as the new blocks of a progressive
// run can stay: docs/experiments.md#why-the-new-blocks-stay-idle). m is not
// changed.
func AblateBlocks(m *nn.Model, windows [][]uint16, batch int) (base float64, delta []float64, err error) {
	base, err = Evaluate(m, windows, batch)
	if err != nil {
		return 0, nil, err
	}
	delta = make([]float64, len(m.Blocks))
	for i := range m.Blocks {
		c, err := withoutBlocks(m, []int{i})
		if err != nil {
			return 0, nil, err
		}
		loss, err := Evaluate(c, windows, batch)
		if err != nil {
			return 0, nil, err
		}
		delta[i] = loss - base
	}
	return base, delta, nil
}

// AblateGroup is AblateBlocks for the blocks skip left out together: the
// loss of m on windows and the loss without them (an empty skip leaves the
// model whole). m is not changed.
func AblateGroup(m *nn.Model, windows [][]uint16, batch int, skip []int) (base, without float64, err error) {
	return ablateGroup(m, windows, batch, skip, asm.Threads())
}

// ablateGroup is AblateGroup with GEMMs of gemm threads (see evaluate).
func ablateGroup(m *nn.Model, windows [][]uint16, batch int, skip []int, gemm int) (base, without float64, err error) {
	c, err := withoutBlocks(m, skip)
	if err != nil {
		return 0, 0, err
	}
	if base, err = evaluate(m, windows, batch, gemm); err != nil {
		return 0, 0, err
	}
	if without, err = evaluate(c, windows, batch, gemm); err != nil {
		return 0, 0, err
	}
	return base, without, nil
}

// withoutBlocks returns a copy of m without the blocks skip (indices into
// m.Blocks, each in range); m is not changed.
func withoutBlocks(m *nn.Model, skip []int) (*nn.Model, error) {
	for _, i := range skip {
		if i < 0 || i >= len(m.Blocks) {
			return nil, fmt.Errorf("trainer: ablate block %d: the model has %d blocks", i, len(m.Blocks))
		}
	}
	c := m.Clone()
	var keep []*nn.Block
	for i, b := range c.Blocks {
		if !slices.Contains(skip, i) {
			keep = append(keep, b)
		}
	}
	if err := c.SetBlocks(keep); err != nil {
		return nil, fmt.Errorf("trainer: ablate blocks %v: %w", skip, err)
	}
	return c, nil
}
