package trainer

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/sproutml/sprout/nn"
)

// SampleOptions controls Generate. Temperature 0 is greedy decoding; TopK 0
// and TopP 0 (or 1) switch those filters off.
type SampleOptions struct {
	Tokens      int     // tokens to generate
	Temperature float64 // softmax temperature, >= 0
	TopK        int     // keep the K most likely tokens
	TopP        float64 // keep the smallest set whose probability reaches P
	Seed        uint64
}

// Generate continues prompt (at least one token) by opt.Tokens tokens drawn
// from m, using its key/value cache so each new token costs one decoding
// step. When the context fills up, the cache restarts from the last half of
// the context. It returns the generated tokens (without the prompt).
func Generate(m *nn.Model, prompt []uint16, opt SampleOptions) ([]uint16, error) {
	switch {
	case len(prompt) == 0:
		return nil, errors.New("generate: the prompt is empty")
	case opt.Tokens < 0:
		return nil, fmt.Errorf("generate: token count %d is negative", opt.Tokens)
	case opt.Temperature < 0 || math.IsNaN(opt.Temperature) || math.IsInf(opt.Temperature, 0):
		return nil, fmt.Errorf("generate: temperature must be >= 0, got %v", opt.Temperature)
	case opt.TopK < 0:
		return nil, fmt.Errorf("generate: top-k must be >= 0, got %d", opt.TopK)
	case opt.TopP < 0 || opt.TopP > 1 || math.IsNaN(opt.TopP):
		return nil, fmt.Errorf("generate: top-p must be in [0, 1], got %v", opt.TopP)
	}
	for i, t := range prompt {
		if int(t) >= m.Vocab {
			return nil, fmt.Errorf("generate: prompt token %d at %d is outside the vocabulary of %d", t, i, m.Vocab)
		}
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x67656e6572617465)) // "generate"
	cache := m.NewKVCache()
	ctx := m.Ctx
	text := append([]uint16(nil), prompt...)
	// feed runs tokens through the cache and returns the last logits.
	feed := func(toks []uint16) ([]float32, error) {
		var logits []float32
		for _, t := range toks {
			var err error
			if logits, err = m.DecodeStep(cache, int32(t)); err != nil {
				return nil, err
			}
		}
		return logits, nil
	}
	start := text
	if len(start) > ctx {
		start = start[len(start)-ctx:]
	}
	logits, err := feed(start)
	if err != nil {
		return nil, err
	}
	probs := make([]float64, m.Vocab)
	order := make([]int, m.Vocab)
	out := make([]uint16, 0, opt.Tokens)
	for len(out) < opt.Tokens {
		// NaN logits would pick arbitrary tokens (or nothing printable):
		// say what is wrong instead.
		if i := firstNonFinite(logits); i >= 0 {
			return nil, fmt.Errorf("generate: the model's logit of token %d is %v after %d generated tokens: its weights are not finite", i, logits[i], len(out))
		}
		next := pick(logits, probs, order, opt, rng)
		out = append(out, uint16(next))
		text = append(text, uint16(next))
		if len(out) == opt.Tokens {
			break
		}
		if cache.Len() >= ctx {
			cache.Reset()
			keep := text[len(text)-max(1, ctx/2):]
			logits, err = feed(keep)
		} else {
			logits, err = feed(text[len(text)-1:])
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// firstNonFinite returns the index of the first NaN or infinity in x, or -1.
func firstNonFinite(x []float32) int {
	for i, v := range x {
		if !finite(float64(v)) {
			return i
		}
	}
	return -1
}

// pick draws a token from logits per opt, using probs and order as scratch.
func pick(logits []float32, probs []float64, order []int, opt SampleOptions, rng *rand.Rand) int {
	best := 0
	for i, l := range logits {
		if l > logits[best] {
			best = i
		}
	}
	if opt.Temperature == 0 {
		return best
	}
	mx := float64(logits[best])
	for i, l := range logits {
		probs[i] = math.Exp((float64(l) - mx) / opt.Temperature)
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return probs[order[a]] > probs[order[b]] })
	n := len(order)
	if opt.TopK > 0 && opt.TopK < n {
		n = opt.TopK
	}
	var total float64
	for _, i := range order[:n] {
		total += probs[i]
	}
	if opt.TopP > 0 && opt.TopP < 1 {
		var cum float64
		for k, i := range order[:n] {
			cum += probs[i]
			if cum >= opt.TopP*total {
				n = k + 1
				break
			}
		}
		total = 0
		for _, i := range order[:n] {
			total += probs[i]
		}
	}
	u := rng.Float64() * total
	for _, i := range order[:n] {
		u -= probs[i]
		if u < 0 {
			return i
		}
	}
	return order[n-1]
}
