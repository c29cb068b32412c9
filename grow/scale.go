package grow

import (
	"fmt"
	"math"

	"github.com/sproutml/sprout/nn"
)

// Scale says how large the weight matrices of new random blocks start.
type Scale string

const (
	// ScaleDepth (default): the model's own init for the target depth
	// (hidden std InitStd, residual output projections divided by
	// sqrt(2*layers), muP-scaled when the config says so).
	ScaleDepth Scale = "depth"
	// ScaleTrained: the same random directions, each weight matrix rescaled
	// to the RMS of the same matrix in the trained blocks (their mean). A
	// trained model's weights have grown well past their init (Muon and
	// AdamW take steps of a fixed size), so blocks at init scale add almost
	// nothing to its residual stream and learn slowly; at the trained scale
	// they start as loud as the block they join. Norm gains and biases keep
	// their init. From zero blocks there is nothing to match: the depth
	// init is used.
	ScaleTrained Scale = "trained"
)

// ParseScale returns the named scale ("" is ScaleDepth) or an error.
func ParseScale(s string) (Scale, error) {
	switch Scale(s) {
	case ScaleDepth, ScaleTrained:
		return Scale(s), nil
	case "":
		return ScaleDepth, nil
	}
	return "", fmt.Errorf("grow: unknown init scale %q (want depth or trained)", s)
}

// Place says where the random and zero strategies put the trained blocks
// among the new ones (the copy strategies fix their own order).
type Place string

const (
	PlaceBottom Place = "bottom" // default: trained blocks first (next to the embeddings), new ones above
	PlaceTop    Place = "top"    // new blocks first, trained blocks last (next to the head)
	PlaceMiddle Place = "middle" // trained blocks in the middle, new ones split below and above
)

// ParsePlace returns the named placement ("" is PlaceBottom) or an error.
func ParsePlace(s string) (Place, error) {
	switch Place(s) {
	case PlaceBottom, PlaceTop, PlaceMiddle:
		return Place(s), nil
	case "":
		return PlaceBottom, nil
	}
	return "", fmt.Errorf("grow: unknown placement %q (want bottom, top or middle)", s)
}

// first is the index of the first of k trained blocks in a model of layers
// blocks.
func (p Place) first(k, layers int) int {
	switch p {
	case PlaceTop:
		return layers - k
	case PlaceMiddle:
		return (layers - k) / 2
	}
	return 0
}

// matchScale rescales every non-zero weight matrix of the new block b to the
// mean RMS of the same matrix in the trained blocks.
func matchScale(b *nn.Block, trained []*nn.Block) {
	if len(trained) == 0 {
		return
	}
	ps := b.Params()
	for q, p := range ps {
		if p.Kind != nn.Matrix {
			continue
		}
		var want float64
		for _, t := range trained {
			want += rms(t.Params()[q].Data)
		}
		want /= float64(len(trained))
		if have := rms(p.Data); have > 0 && want > 0 {
			f := float32(want / have)
			for i := range p.Data {
				p.Data[i] *= f
			}
		}
	}
}

func rms(x []float32) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}
