package trainer

import (
	"fmt"
	"math/rand/v2"
)

// Sampler draws seeded random training windows of Ctx+1 tokens (Ctx inputs
// and, shifted by one, Ctx targets). Its whole state is a SamplerState, so a
// resumed run draws exactly the windows an uninterrupted run would have.
type Sampler struct {
	tokens []uint16
	ctx    int
	pcg    *rand.PCG
	seed   uint64
	draws  uint64
}

// SamplerState is a Sampler's state for a checkpoint manifest.
type SamplerState struct {
	Seed  uint64 `json:"seed"`
	Draws uint64 `json:"draws"` // windows drawn so far
	// PCG is the generator state after Draws windows (hex of
	// math/rand/v2.PCG's binary form).
	PCG    string `json:"pcg"`
	Tokens int    `json:"tokens"` // length of the token stream sampled
	Ctx    int    `json:"ctx"`
}

// NewSampler samples windows of ctx+1 tokens from tokens, seeded by seed.
func NewSampler(tokens []uint16, ctx int, seed uint64) (*Sampler, error) {
	if ctx <= 0 {
		return nil, fmt.Errorf("sampler: context length must be positive, got %d", ctx)
	}
	if len(tokens) < ctx+1 {
		return nil, fmt.Errorf("sampler: %d tokens cannot hold one window of %d (context %d + 1)", len(tokens), ctx+1, ctx)
	}
	return &Sampler{tokens: tokens, ctx: ctx, pcg: newPCG(seed, streamSampler), seed: seed}, nil
}

// RestoreSampler continues the sampler whose state st was saved, on the same
// tokens and context length; a mismatch is an error.
func RestoreSampler(tokens []uint16, ctx int, st SamplerState) (*Sampler, error) {
	s, err := NewSampler(tokens, ctx, st.Seed)
	if err != nil {
		return nil, err
	}
	if st.Tokens != len(tokens) || st.Ctx != ctx {
		return nil, fmt.Errorf("sampler: saved state is for %d tokens and context %d, but the data has %d tokens and the context is %d", st.Tokens, st.Ctx, len(tokens), ctx)
	}
	g, err := DecodePCG(st.PCG)
	if err != nil {
		return nil, fmt.Errorf("sampler: %v", err)
	}
	s.pcg, s.draws = g, st.Draws
	return s, nil
}

// Next returns the next window: a slice of the tokens, not a copy.
func (s *Sampler) Next() []uint16 {
	i := int(bounded(s.pcg, uint64(len(s.tokens)-s.ctx)))
	s.draws++
	return s.tokens[i : i+s.ctx+1]
}

// Batch fills dst with the next len(dst) windows and returns it.
func (s *Sampler) Batch(dst [][]uint16) [][]uint16 {
	for i := range dst {
		dst[i] = s.Next()
	}
	return dst
}

// State returns the sampler's state.
func (s *Sampler) State() SamplerState {
	return SamplerState{Seed: s.seed, Draws: s.draws, PCG: EncodePCG(s.pcg), Tokens: len(s.tokens), Ctx: s.ctx}
}
