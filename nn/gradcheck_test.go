package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Finite-difference gradient checks. Forward passes run in float32 (the code
// under test); the checked function f = sum(out * R) for a fixed random R is
// accumulated in float64, and central differences are compared with the
// tape's gradients.

func randParam(rng *rand.Rand, name string, std float32, shape ...int) *Param {
	p := newParam(name, Matrix, shape...)
	randn(rng, p.Data, std)
	return p
}

// graph builds a computation from parameter values.
type graph func(t *Tape, in []V) V

// evalGraph runs g forward and returns f = sum(out*R) in float64.
func evalGraph(params []*Param, g graph, R []float64) float64 {
	t := NewParamTape(params)
	in := make([]V, len(params))
	for i, p := range params {
		in[i] = t.Param(p)
	}
	out := t.Data(g(t, in))
	var f float64
	for i, v := range out {
		f += float64(v) * R[i]
	}
	return f
}

// analyticGrads runs forward and backward with seed R.
func analyticGrads(params []*Param, g graph, rng *rand.Rand) ([][]float32, []float64) {
	t := NewParamTape(params)
	in := make([]V, len(params))
	for i, p := range params {
		in[i] = t.Param(p)
	}
	out := g(t, in)
	n := len(t.Data(out))
	R := make([]float64, n)
	seed := make([]float32, n)
	for i := range R {
		seed[i] = float32(rng.NormFloat64())
		R[i] = float64(seed[i])
	}
	if err := t.BackwardFrom(out, seed); err != nil {
		panic(err)
	}
	grads := make([][]float32, len(params))
	for i := range params {
		grads[i] = append([]float32(nil), t.Grads()[i]...)
	}
	return grads, R
}

// numericGrads returns central differences of f for every parameter entry
// (or a sample of at most maxPer entries per parameter).
func numericGrads(params []*Param, g graph, R []float64, eps float32, maxPer int, rng *rand.Rand) [][]int {
	idx := make([][]int, len(params))
	for i, p := range params {
		n := p.Len()
		if maxPer > 0 && n > maxPer {
			for _, j := range rng.Perm(n)[:maxPer] {
				idx[i] = append(idx[i], j)
			}
		} else {
			for j := 0; j < n; j++ {
				idx[i] = append(idx[i], j)
			}
		}
	}
	return idx
}

// compareGrads returns a description of every entry where the analytic and
// numeric gradients disagree by more than atol + rtol*|numeric|.
func compareGrads(params []*Param, g graph, R []float64, grads [][]float32, idx [][]int, eps float32, atol, rtol float64) []string {
	var bad []string
	for i, p := range params {
		for _, j := range idx[i] {
			orig := p.Data[j]
			p.Data[j] = orig + eps
			fp := evalGraph(params, g, R)
			p.Data[j] = orig - eps
			fm := evalGraph(params, g, R)
			p.Data[j] = orig
			// the perturbation actually applied, in float32
			h := float64(orig+eps) - float64(orig-eps)
			num := (fp - fm) / h
			ana := float64(grads[i][j])
			if math.Abs(num-ana) > atol+rtol*math.Abs(num) || math.IsNaN(ana) {
				bad = append(bad, fmt.Sprintf("%s[%d]: analytic %.6g numeric %.6g", p.Name, j, ana, num))
			}
		}
	}
	return bad
}

func gradCheck(t *testing.T, params []*Param, g graph, eps float32, atol, rtol float64, maxPer int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(42, 43))
	grads, R := analyticGrads(params, g, rng)
	idx := numericGrads(params, g, R, eps, maxPer, rng)
	bad := compareGrads(params, g, R, grads, idx, eps, atol, rtol)
	for k, b := range bad {
		if k == 10 {
			t.Errorf("... %d mismatches in all", len(bad))
			break
		}
		t.Error(b)
	}
}

const (
	fdEps  = 1e-2
	fdAtol = 2e-3
	fdRtol = 2e-2
)

func TestGradMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	m, k, n := 3, 4, 5
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			as := []int{m, k}
			if ta {
				as = []int{k, m}
			}
			bs := []int{k, n}
			if tb {
				bs = []int{n, k}
			}
			a, b := randParam(rng, "a", 1, as...), randParam(rng, "b", 1, bs...)
			t.Run(fmt.Sprintf("ta=%v,tb=%v", ta, tb), func(t *testing.T) {
				gradCheck(t, []*Param{a, b}, func(tp *Tape, in []V) V {
					return tp.MatMul(in[0], in[1], ta, tb, 0.7)
				}, fdEps, fdAtol, fdRtol, 0)
			})
		}
	}
	// a value used twice (both operands): gradients must accumulate
	x := randParam(rng, "x", 1, 3, 3)
	gradCheck(t, []*Param{x}, func(tp *Tape, in []V) V { return tp.MatMul(in[0], in[0], false, true, 1) }, fdEps, fdAtol, fdRtol, 0)
}

func TestGradLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	x := randParam(rng, "x", 1, 5, 4)
	w := randParam(rng, "w", 1, 4, 3)
	b := randParam(rng, "b", 1, 3)
	r := randParam(rng, "r", 1, 5, 3)
	gradCheck(t, []*Param{x, w, b, r}, func(tp *Tape, in []V) V {
		return tp.Linear(in[0], in[1], in[2], in[3])
	}, fdEps, fdAtol, fdRtol, 0)
	gradCheck(t, []*Param{x, w}, func(tp *Tape, in []V) V {
		return tp.Linear(in[0], in[1], -1, -1)
	}, fdEps, fdAtol, fdRtol, 0)
	// residual that is also the input (x W + x), W square
	sq := randParam(rng, "sq", 1, 4, 4)
	gradCheck(t, []*Param{x, sq, b}, func(tp *Tape, in []V) V {
		h := tp.Linear(in[0], in[1], -1, in[0])
		return tp.Linear(h, in[1], -1, h)
	}, fdEps, fdAtol, fdRtol, 0)
}

func TestGradAddMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	a, b := randParam(rng, "a", 1, 3, 4), randParam(rng, "b", 1, 3, 4)
	gradCheck(t, []*Param{a, b}, func(tp *Tape, in []V) V { return tp.Add(in[0], in[1]) }, fdEps, fdAtol, fdRtol, 0)
	gradCheck(t, []*Param{a, b}, func(tp *Tape, in []V) V { return tp.Mul(in[0], in[1]) }, fdEps, fdAtol, fdRtol, 0)
	// reuse: (a+a)*a + a, exercising gradient moves and accumulation
	gradCheck(t, []*Param{a}, func(tp *Tape, in []V) V {
		s := tp.Add(in[0], in[0])
		return tp.Add(tp.Mul(s, in[0]), in[0])
	}, fdEps, fdAtol, fdRtol, 0)
}

func TestGradEmbedding(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	table := randParam(rng, "table", 1, 5, 3)
	ids := []int32{0, 3, 3, 4, 1, 3} // repeats: scatter-add must accumulate
	gradCheck(t, []*Param{table}, func(tp *Tape, in []V) V { return tp.Embedding(in[0], ids) }, fdEps, fdAtol, fdRtol, 0)
}

func TestGradNorms(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	x := randParam(rng, "x", 1, 4, 6)
	w := randParam(rng, "w", 1, 6)
	b := randParam(rng, "b", 1, 6)
	gradCheck(t, []*Param{x, w, b}, func(tp *Tape, in []V) V { return tp.LayerNorm(in[0], in[1], in[2], 1e-5) }, fdEps, fdAtol, fdRtol, 0)
	gradCheck(t, []*Param{x, w}, func(tp *Tape, in []V) V { return tp.RMSNorm(in[0], in[1], 1e-5) }, fdEps, fdAtol, fdRtol, 0)
	// Gain and shift as constants (their gradients go to scratch), and a
	// fresh (not accumulated) input gradient.
	wd, bd := append([]float32(nil), w.Data...), append([]float32(nil), b.Data...)
	gradCheck(t, []*Param{x}, func(tp *Tape, in []V) V {
		h := tp.Mul(in[0], in[0])
		return tp.LayerNorm(h, tp.Input(wd, 1, 6, false), tp.Input(bd, 1, 6, false), 1e-5)
	}, fdEps, fdAtol, fdRtol, 0)
}

func TestGradActivations(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	x := randParam(rng, "x", 2, 3, 7)
	x.Data[0], x.Data[1] = 9, -9 // saturated regions
	gradCheck(t, []*Param{x}, func(tp *Tape, in []V) V { return tp.GELU(in[0]) }, fdEps, fdAtol, fdRtol, 0)
	gradCheck(t, []*Param{x}, func(tp *Tape, in []V) V { return tp.SiLU(in[0]) }, fdEps, fdAtol, fdRtol, 0)
	// longer than one exp chunk
	y := randParam(rng, "y", 2, 2, actChunk+3)
	gradCheck(t, []*Param{y}, func(tp *Tape, in []V) V { return tp.GELU(in[0]) }, fdEps, fdAtol, fdRtol, 40)
}

func TestGradAttention(t *testing.T) {
	for _, tc := range []struct{ B, T, H, hd, tile int }{{2, 5, 2, 3, 64}, {1, 11, 2, 2, 4}, {2, 7, 1, 4, 3}} {
		t.Run(fmt.Sprintf("B%dT%dH%dhd%dtile%d", tc.B, tc.T, tc.H, tc.hd, tc.tile), func(t *testing.T) {
			old := attnTile
			attnTile = tc.tile
			defer func() { attnTile = old }()
			rng := rand.New(rand.NewPCG(7, uint64(tc.T)))
			D := tc.H * tc.hd
			qkv := randParam(rng, "qkv", 1, tc.B*tc.T, 3*D)
			scale := float32(1 / math.Sqrt(float64(tc.hd)))
			gradCheck(t, []*Param{qkv}, func(tp *Tape, in []V) V {
				return tp.Attention(in[0], tc.B, tc.T, tc.H, scale)
			}, fdEps, fdAtol, fdRtol, 0)
		})
	}
}

func TestGradCrossEntropy(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	logits := randParam(rng, "logits", 2, 5, 7)
	targets := []int32{3, 0, -1, 6, 3}
	gradCheck(t, []*Param{logits}, func(tp *Tape, in []V) V { return tp.CrossEntropy(in[0], targets) }, fdEps, 2e-4, fdRtol, 0)
	// through a matmul (the accumulate path of the logits gradient)
	x := randParam(rng, "x", 1, 5, 3)
	w := randParam(rng, "w", 1, 7, 3)
	gradCheck(t, []*Param{x, w}, func(tp *Tape, in []V) V {
		l := tp.MatMul(in[0], in[1], false, true, 1)
		return tp.CrossEntropy(tp.Add(l, l), targets)
	}, fdEps, 2e-4, fdRtol, 0)
}

// The checker itself must be able to fail: corrupt one analytic entry.
func TestGradCheckDetectsErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	x := randParam(rng, "x", 1, 3, 4)
	w := randParam(rng, "w", 1, 4)
	b := randParam(rng, "b", 1, 4)
	g := func(tp *Tape, in []V) V { return tp.LayerNorm(in[0], in[1], in[2], 1e-5) }
	grads, R := analyticGrads([]*Param{x, w, b}, g, rng)
	idx := numericGrads([]*Param{x, w, b}, g, R, fdEps, 0, rng)
	if bad := compareGrads([]*Param{x, w, b}, g, R, grads, idx, fdEps, fdAtol, fdRtol); len(bad) != 0 {
		t.Fatalf("clean gradients flagged: %v", bad)
	}
	grads[0][5] *= 1.1
	grads[1][2] += 0.05
	if bad := compareGrads([]*Param{x, w, b}, g, R, grads, idx, fdEps, fdAtol, fdRtol); len(bad) != 2 {
		t.Fatalf("corrupted gradients: %d mismatches flagged, want 2: %v", len(bad), bad)
	}
}
