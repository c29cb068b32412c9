package nn

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sproutml/sprout/asm"
)

// MuonConfig configures Muon. Zero values select the defaults noted.
type MuonConfig struct {
	Momentum    float32 // default 0.95
	NoNesterov  bool    // Nesterov momentum is the default, as in Muon's reference code
	NSSteps     int     // Newton-Schulz iterations, default 5
	WeightDecay float32 // decoupled, on matrices (and where Param.Decay for the AdamW branch)

	// Scale is how the orthogonalised update is scaled for a fanIn x fanOut
	// matrix (our weights are stored [in, out]):
	//   "rms" (default): 0.2*sqrt(max(fanIn, fanOut)), which gives the update
	//     the RMS of a typical AdamW update (Moonlight, "Muon is scalable for
	//     LLM training"), so one learning rate serves matrices and the AdamW
	//     (or NSGD) branch alike;
	//   "spectral": sqrt(max(1, fanOut/fanIn)), Keller Jordan's original
	//     (his max(1, rows/cols) on PyTorch's [out, in] weights); it wants a
	//     larger learning rate for matrices (~0.02) than the other branch;
	//   "mup": sqrt(fanOut/fanIn), the spectral form of muP (Yang, Simon and
	//     Bernstein): an orthogonalised update has spectral norm 1, so every
	//     matrix moves by lr*sqrt(fanOut/fanIn) in spectral norm whatever the
	//     width, and the learning rate transfers across widths.
	Scale string

	// Embeddings puts the 2-D embeddings (token and position tables, the
	// tied or untied head) on Muon too, as the zero/one-layer expansion
	// paper runs it ("Muon on every matrix"); by default they take the
	// NonMatrix branch. A table of V rows counts as a V x width matrix
	// (fanIn V). Weight decay applies to them only where Param.Decay is set.
	Embeddings bool

	// NonMatrix picks the update of every tensor that is not a hidden matrix
	// (embeddings, the tied head, norms, biases):
	//   "nsgd" (default, as the zero/one-layer expansion paper ran Muon):
	//     normalised SGD - momentum buffer m (same momentum and Nesterov
	//     rule), update m/RMS(m) scaled by NSGDScale (default 0.2, the RMS
	//     the "rms" matrix scaling targets), at lr*LRMult;
	//   "adamw": AdamW with AdamW's settings below, at lr*LRMult.
	NonMatrix string
	NSGDScale float32
	AdamW     AdamWConfig
}

func (c MuonConfig) withDefaults() MuonConfig {
	if c.Momentum == 0 {
		c.Momentum = 0.95
	}
	if c.NSSteps == 0 {
		c.NSSteps = 5
	}
	if c.Scale == "" {
		c.Scale = "rms"
	}
	if c.NonMatrix == "" {
		c.NonMatrix = "nsgd"
	}
	if c.NSGDScale == 0 {
		c.NSGDScale = 0.2
	}
	c.AdamW = c.AdamW.withDefaults()
	if c.AdamW.WeightDecay == 0 {
		c.AdamW.WeightDecay = c.WeightDecay
	}
	return c
}

// Muon is MomentUm Orthogonalized by Newton-Schulz (Jordan et al., 2024) for
// hidden weight matrices (Param.Kind == Matrix, and embeddings with
// MuonConfig.Embeddings):
//
//	buf = momentum*buf + g
//	u   = g + momentum*buf (Nesterov) or buf
//	O   = NewtonSchulz5(u)           (on asm.Sgemm)
//	p   = p*(1 - lr*wd) - lr*scale(shape)*O
//
// LRMult is ignored for matrices (the shape scaling is already width-aware).
// Every other tensor gets AdamW or normalised SGD, per NonMatrix.
//
// The matrices are independent, so a step runs them side by side on
// GOMAXPROCS/(GEMM threads) lanes (the trainer runs two or more workers with
// single-threaded GEMMs, so every core gets matrices of its own); results
// are bit-identical for any number of lanes and GEMM threads.
type Muon struct {
	cfg   MuonConfig
	state stateStore
	steps int
	upd   []float32 // non-matrix update scratch

	// The hidden matrices of a step are independent: lanes (the caller and
	// goroutines of muonPool) take them in turn, each with its own scratch.
	// A matrix's update does not depend on which lane runs it, nor on
	// asm's thread count, so results are bit-identical for any parallelism.
	jobs  []muonJob
	lanes []muonLane
	next  atomic.Int64 // index of the next job to take
	wg    sync.WaitGroup
	lr    float32
	gemm  asm.Bound // see SetGemmThreads
}

// muonJob is one hidden matrix of a step.
type muonJob struct {
	p     *Param
	buf   []float32 // momentum
	flops float64
}

// muonLane is one lane's scratch.
type muonLane struct {
	work nsWork
	upd  []float32
}

// NewMuon returns a Muon optimizer, or an error for an unknown option.
func NewMuon(cfg MuonConfig) (*Muon, error) {
	cfg = cfg.withDefaults()
	if !slices.Contains(MuonScales, cfg.Scale) {
		return nil, fmt.Errorf("nn: muon scale %q unknown (want rms, spectral or mup)", cfg.Scale)
	}
	if cfg.NonMatrix != "adamw" && cfg.NonMatrix != "nsgd" {
		return nil, fmt.Errorf("nn: muon non-matrix optimizer %q unknown (want adamw or nsgd)", cfg.NonMatrix)
	}
	if cfg.NSSteps < 0 || cfg.Momentum < 0 || cfg.Momentum >= 1 {
		return nil, fmt.Errorf("nn: muon needs ns_steps >= 0 and momentum in [0,1), got %d and %v", cfg.NSSteps, cfg.Momentum)
	}
	return &Muon{cfg: cfg}, nil
}

// SetGemmThreads bounds the threads of each GEMM of the Newton-Schulz
// iterations (n < 1: asm's process-wide bound, the default); the lanes that
// run matrices side by side follow it.
func (o *Muon) SetGemmThreads(n int) { o.gemm = asm.Bound(n) }

func (o *Muon) Name() string   { return "muon" }
func (o *Muon) Steps() int     { return o.steps }
func (o *Muon) SetSteps(n int) { o.steps = n }

func (o *Muon) State(p *Param) map[string][]float32 { return o.state.get(p) }
func (o *Muon) ResetState(p *Param)                 { o.state.reset(p) }
func (o *Muon) SetState(p *Param, s map[string][]float32) error {
	if o.orthogonal(p) || o.cfg.NonMatrix == "nsgd" {
		return o.state.set(p, s, map[string]int{"momentum": p.Len()})
	}
	return o.state.set(p, s, map[string]int{"m": p.Len(), "v": p.Len(), "step": 1})
}

// MuonScales are the values of MuonConfig.Scale.
var MuonScales = []string{"rms", "spectral", "mup"}

// orthogonal reports whether p's update is orthogonalised.
func (o *Muon) orthogonal(p *Param) bool {
	return len(p.Shape) == 2 && (p.Kind == Matrix || p.Kind == Embedding && o.cfg.Embeddings)
}

// shapeScale returns the update multiplier for a fanIn x fanOut matrix.
func (o *Muon) shapeScale(fanIn, fanOut int) float32 {
	switch o.cfg.Scale {
	case "spectral":
		return float32(math.Sqrt(max(1, float64(fanOut)/float64(fanIn))))
	case "mup":
		return float32(math.Sqrt(float64(fanOut) / float64(fanIn)))
	}
	return float32(0.2 * math.Sqrt(float64(max(fanIn, fanOut))))
}

// buffer returns p's momentum buffer, creating it at zero.
func (o *Muon) buffer(p *Param) []float32 {
	var sizes [1]int
	sizes[0] = p.Len()
	return o.state.ensure(p, momentumNames, sizes[:])["momentum"]
}

// momentum updates buf from g and writes the (Nesterov) update into u.
func (o *Muon) momentum(buf, g, u []float32) {
	mu := o.cfg.Momentum
	g = g[:len(buf)]
	u = u[:len(buf)]
	for i, gi := range g {
		b := mu*buf[i] + gi
		buf[i] = b
		if o.cfg.NoNesterov {
			u[i] = b
		} else {
			u[i] = gi + mu*b
		}
	}
}

// Step updates every parameter in params (Buffers excepted).
func (o *Muon) Step(params []*Param, lr float32) {
	o.jobs = o.jobs[:0]
	for _, p := range params {
		if o.orthogonal(p) {
			o.jobs = append(o.jobs, muonJob{p, o.buffer(p), nsFLOPs(p.Shape[0], p.Shape[1], o.cfg.NSSteps)})
		}
	}
	o.matrices(lr)
	clear(o.jobs) // keep no parameter alive
	for _, p := range params {
		switch {
		case p.Kind == Buffer, o.orthogonal(p):
		case o.cfg.NonMatrix == "nsgd":
			o.upd = grow(o.upd, p.Len())
			u := o.upd
			o.momentum(o.buffer(p), p.Grad, u)
			rms := float32(math.Sqrt(sumSquares64(u)/float64(len(u)))) + 1e-8
			lrp := lr * p.LRMult
			s := lrp * o.cfg.NSGDScale / rms
			decay := float32(1)
			if p.Decay {
				decay = 1 - lrp*o.cfg.WeightDecay
			}
			w := p.Data[:len(u)]
			for i, v := range u {
				w[i] = w[i]*decay - s*v
			}
		default:
			adamUpdate(&o.state, &o.cfg.AdamW, p, lr*p.LRMult)
		}
	}
	o.steps++
}

// matrices updates the step's hidden matrices (o.jobs) on
// GOMAXPROCS/(GEMM threads) lanes: with single-threaded GEMMs (the trainer's
// setting for two or more workers) the matrices run side by side, which
// beats splitting each small product across threads; with GEMMs on every
// core one lane runs them in turn.
func (o *Muon) matrices(lr float32) {
	nl := min(len(o.jobs), max(1, runtime.GOMAXPROCS(0)/o.gemm.Threads()))
	if nl == 0 {
		return
	}
	for len(o.lanes) < nl {
		o.lanes = append(o.lanes, muonLane{})
	}
	if nl > 1 { // largest first, so the lanes finish together
		slices.SortStableFunc(o.jobs, func(a, b muonJob) int { return cmp.Compare(b.flops, a.flops) })
	}
	o.lr = lr
	o.next.Store(0)
	if nl > 1 {
		startMuonPool(nl - 1)
		o.wg.Add(nl - 1)
		for i := 1; i < nl; i++ {
			muonTasks <- muonTask{o, i}
		}
	}
	o.lane(0)
	o.wg.Wait()
}

// lane takes jobs until none are left.
func (o *Muon) lane(i int) {
	l := &o.lanes[i]
	for {
		k := int(o.next.Add(1)) - 1
		if k >= len(o.jobs) {
			return
		}
		o.update(&o.jobs[k], l)
	}
}

// update applies Muon to one hidden matrix with lane l's scratch.
func (o *Muon) update(j *muonJob, l *muonLane) {
	p, lr := j.p, o.lr
	l.upd = grow(l.upd, len(j.buf))
	u := l.upd
	o.momentum(j.buf, p.Grad, u)
	rows, cols := p.Shape[0], p.Shape[1]
	l.work.gemm = o.gemm
	newtonSchulz(u, u, rows, cols, o.cfg.NSSteps, &l.work)
	s := lr * o.shapeScale(rows, cols)
	decay := float32(1)
	if p.Decay {
		decay = 1 - lr*o.cfg.WeightDecay
	}
	w := p.Data[:len(u)]
	for i, v := range u {
		w[i] = w[i]*decay - s*v
	}
}

// muonTask asks a pool goroutine to run lane i of o's step.
type muonTask struct {
	o *Muon
	i int
}

// muonPool is a set of long-lived goroutines, shared by every Muon, that run
// lanes (so a step starts no goroutine and allocates nothing). A step never
// needs a pool goroutine to make progress: its caller takes every job the
// others do not, and only waits for lanes already handed out, which end
// without waiting on anything.
var (
	muonTasks   = make(chan muonTask, 64)
	muonPoolMu  sync.Mutex
	muonWorkers int
)

// startMuonPool makes sure at least n pool goroutines run.
func startMuonPool(n int) {
	muonPoolMu.Lock()
	defer muonPoolMu.Unlock()
	for ; muonWorkers < n; muonWorkers++ {
		go func() {
			for t := range muonTasks {
				t.o.lane(t.i)
				t.o.wg.Done()
			}
		}()
	}
}
