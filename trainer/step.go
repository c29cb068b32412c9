package trainer

import (
	"fmt"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/sproutml/sprout/asm"
	"github.com/sproutml/sprout/nn"
)

// stepper runs the forward and backward passes of one batch on several
// goroutines with results that do not depend on how many.
//
// The unit of work is a shard of a fixed number of sequences (Config.Shard),
// not a worker's share of the batch: every shard has its own tape (own
// activations, own gradient buffers), each worker runs whole shards, and the
// shards' gradients are then summed in shard order. A shard's gradient is
// the same bits whichever worker computed it (asm.Sgemm is bit-identical for
// any thread count), and the sum runs in the same order for any number of
// workers, so the losses and weights of a run are bit-identical whatever
// Workers is.
type stepper struct {
	m       *nn.Model
	shards  int // shards per batch
	seqs    int // sequences per shard
	T       int // tokens per sequence
	workers int
	gemm    int // GEMM threads of each worker (gemmThreads)

	tapes  []*nn.Tape
	tok    [][]int32 // per shard: inputs and targets
	tgt    [][]int32
	losses []float64

	// load is the step's tokens per expert of each moe block, summed over
	// the shards (integers: the same for any number of workers); nil for
	// other archs.
	load []int64

	// parts splits the parameters into one contiguous range per worker, of
	// about equal size, for the reduction (rebuilt when the model grows).
	parts [][2]int
	gen   []*nn.Param // the parameter list parts was built for
}

func newStepper(m *nn.Model, batch, shard, T, workers int) *stepper {
	k := batch / shard
	s := &stepper{m: m, shards: k, seqs: shard, T: T, workers: max(1, min(workers, k))}
	s.tapes = make([]*nn.Tape, k)
	s.tok = make([][]int32, k)
	s.tgt = make([][]int32, k)
	s.losses = make([]float64, k)
	s.gemm = gemmThreads(s.workers)
	for i := range s.tapes {
		s.tapes[i] = nn.NewTape(m)
		s.tapes[i].SetGemmThreads(s.gemm)
		s.tok[i] = make([]int32, shard*T)
		s.tgt[i] = make([]int32, shard*T)
	}
	return s
}

// gemmThreads is the asm thread count that keeps workers x threads within
// the cores Go may use.
func gemmThreads(workers int) int {
	return max(1, runtime.GOMAXPROCS(0)/workers)
}

// step runs forward and backward on the batch of windows (each T+1 tokens),
// leaves the mean gradient in every Param.Grad and returns the mean loss.
func (s *stepper) step(windows [][]uint16) (float64, error) {
	var g errgroup.Group
	per := (s.shards + s.workers - 1) / s.workers
	for w := 0; w < s.workers; w++ {
		lo, hi := w*per, min((w+1)*per, s.shards)
		if lo >= hi {
			break
		}
		g.Go(func() error {
			for i := lo; i < hi; i++ {
				if err := s.shard(i, windows[i*s.seqs:(i+1)*s.seqs]); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	var loss float64
	for _, l := range s.losses {
		loss += l
	}
	loss /= float64(s.shards)
	s.reduce()
	s.load = nn.SumExpertLoad(s.load, s.tapes...)
	return loss, nil
}

// shard runs shard i on its windows.
func (s *stepper) shard(i int, windows [][]uint16) error {
	tok, tgt, T := s.tok[i], s.tgt[i], s.T
	for j, w := range windows {
		for t := 0; t < T; t++ {
			tok[j*T+t] = int32(w[t])
			tgt[j*T+t] = int32(w[t+1])
		}
	}
	tape := s.tapes[i]
	tape.ZeroGrad()
	l, err := s.m.Forward(tape, tok, tgt, s.seqs, T)
	if err != nil {
		return err
	}
	if err := tape.Backward(); err != nil {
		return err
	}
	s.losses[i] = float64(l)
	return nil
}

// reduce sets every Param.Grad to the mean of the shards' gradients, summed
// in shard order; the workers take disjoint ranges of parameters.
func (s *stepper) reduce() {
	params := s.m.Params()
	if !sameParams(s.gen, params) {
		s.partition(params)
	}
	scale := 1 / float32(s.shards)
	var g errgroup.Group
	for _, r := range s.parts {
		g.Go(func() error {
			for i := r[0]; i < r[1]; i++ {
				dst := params[i].Grad
				copy(dst, s.tapes[0].Grads()[i])
				for _, t := range s.tapes[1:] {
					asm.Add(dst, dst, t.Grads()[i])
				}
				if scale != 1 {
					asm.Scale(scale, dst)
				}
			}
			return nil
		})
	}
	g.Wait()
}

func sameParams(a, b []*nn.Param) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// partition splits params into contiguous ranges of about equal size, one
// per worker.
func (s *stepper) partition(params []*nn.Param) {
	s.gen = append(s.gen[:0], params...)
	total := 0
	for _, p := range params {
		total += p.Len()
	}
	s.parts = s.parts[:0]
	lo, acc := 0, 0
	for i, p := range params {
		acc += p.Len()
		if len(s.parts) < s.workers-1 && acc*s.workers >= total*(len(s.parts)+1) {
			s.parts = append(s.parts, [2]int{lo, i + 1})
			lo = i + 1
		}
	}
	if lo < len(params) {
		s.parts = append(s.parts, [2]int{lo, len(params)})
	}
}

// Evaluate returns the mean cross-entropy of m over windows of equal length
// (T+1 tokens each: T inputs, T targets), run in chunks of batch windows.
// The chunks run on max(1, GOMAXPROCS/asm.Threads()) goroutines; the result
// depends on the windows and batch only (the chunks' losses are combined in
// order, weighted by their sizes).
func Evaluate(m *nn.Model, windows [][]uint16, batch int) (float64, error) {
	return evaluate(m, windows, batch, asm.Threads())
}

// evaluate is Evaluate with GEMMs of gemm threads each, on GOMAXPROCS/gemm
// goroutines.
func evaluate(m *nn.Model, windows [][]uint16, batch, gemm int) (float64, error) {
	if m == nil {
		return 0, fmt.Errorf("trainer: evaluate: no model")
	}
	if len(windows) == 0 {
		return 0, fmt.Errorf("trainer: evaluate: no windows")
	}
	if batch < 1 {
		return 0, fmt.Errorf("trainer: evaluate: batch must be at least 1, got %d", batch)
	}
	n := len(windows[0])
	if n < 2 {
		return 0, fmt.Errorf("trainer: evaluate: windows of %d tokens; need at least 2", n)
	}
	T := n - 1
	if T > m.Ctx {
		return 0, fmt.Errorf("trainer: evaluate: windows of %d tokens exceed the model's context %d + 1", n, m.Ctx)
	}
	for i, w := range windows {
		if len(w) != n {
			return 0, fmt.Errorf("trainer: evaluate: window %d has %d tokens, window 0 has %d", i, len(w), n)
		}
	}
	chunks := (len(windows) + batch - 1) / batch
	losses := make([]float64, chunks)
	lanes := max(1, min(chunks, runtime.GOMAXPROCS(0)/max(1, gemm)))
	tapes := make(chan *nn.Tape, lanes)
	for range lanes {
		t := nn.NewEvalTape(m)
		t.SetGemmThreads(gemm)
		tapes <- t
	}
	var g errgroup.Group
	g.SetLimit(lanes)
	for c := 0; c < chunks; c++ {
		g.Go(func() error {
			ws := windows[c*batch : min((c+1)*batch, len(windows))]
			tok := make([]int32, len(ws)*T)
			tgt := make([]int32, len(ws)*T)
			for j, w := range ws {
				for t := 0; t < T; t++ {
					tok[j*T+t], tgt[j*T+t] = int32(w[t]), int32(w[t+1])
				}
			}
			t := <-tapes
			l, err := m.Forward(t, tok, tgt, len(ws), T)
			tapes <- t
			if err != nil {
				return fmt.Errorf("trainer: evaluate: %w", err)
			}
			losses[c] = float64(l) * float64(len(ws))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	var sum float64
	for _, l := range losses {
		sum += l
	}
	return sum / float64(len(windows)), nil
}
