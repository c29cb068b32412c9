package trainer

import (
	"encoding/hex"
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// Stream constants keep the generators seeded from one run seed independent.
const (
	streamSampler = 0x73616d706c6572 // "sampler"
	streamCorpus  = 0x636f72707573   // "corpus"
)

// newPCG returns a PCG generator for seed on the given stream.
func newPCG(seed, stream uint64) *rand.PCG {
	return rand.NewPCG(seed, stream)
}

// bounded returns a uniform value in [0, n) from src (n > 0) by Lemire's
// multiply-and-reject method. It is written out here, rather than taken from
// math/rand/v2's Rand, so that the sequence a seed gives is fixed by this
// code alone: data windows and the generated corpus must not change between
// Go releases, or a resumed run would diverge.
func bounded(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// EncodePCG returns the state of g as text for a manifest.
func EncodePCG(g *rand.PCG) string {
	b, _ := g.MarshalBinary() // cannot fail
	return hex.EncodeToString(b)
}

// DecodePCG restores a generator saved by EncodePCG.
func DecodePCG(s string) (*rand.PCG, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("generator state %q is not hex: %v", s, err)
	}
	g := new(rand.PCG)
	if err := g.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("generator state %q: %v", s, err)
	}
	return g, nil
}
