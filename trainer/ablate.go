package trainer

import (
	"fmt"

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
		c := m.Clone()
		blocks := append(c.Blocks[:i:i], c.Blocks[i+1:]...)
		if err := c.SetBlocks(blocks); err != nil {
			return 0, nil, fmt.Errorf("trainer: ablate block %d: %w", i, err)
		}
		loss, err := Evaluate(c, windows, batch)
		if err != nil {
			return 0, nil, err
		}
		delta[i] = loss - base
	}
	return base, delta, nil
}
