package nn

import (
	"errors"
	"fmt"

	"github.com/sproutml/sprout/asm"
)

// V is a handle to a value (a rows x cols float32 matrix) on a Tape. It is
// valid until the tape is reset by the next forward pass.
type V int32

// value is one node of the recorded graph. data and grad are tape-owned
// buffers (or a parameter's Data and the tape's gradient for it).
type value struct {
	data, grad []float32
	rows, cols int
	param      int32 // index into Tape.grads, -1 when not a parameter
	needGrad   bool  // some parameter (or watched input) is upstream
	ownsGrad   bool  // grad came from the tape's pool and goes back there
}

// op is one recorded operation. Its fields mean what the kind's forward
// function says; backward switches on kind (no closures, so recording an op
// allocates nothing once the slice has grown).
type op struct {
	kind       opKind
	out        V
	a, b, c, d V
	ids        []int32 // token ids or targets (caller-owned, read in backward)
	n0, n1, n2 int
	n3         int
	f0         float32
	s0, s1     []float32 // saved statistics (mean/rstd, logsumexp)
}

type opKind uint8

const (
	opMatMul opKind = iota + 1
	opLinear
	opAdd
	opMul
	opEmbedding
	opLayerNorm
	opRMSNorm
	opGELU
	opSiLU
	opAttention
	opCrossEntropy
	opRoPE
	opSwiGLU
	opRoute
	opExperts
)

// Tape records a forward pass and replays it backwards. Every buffer it hands
// out comes from an arena whose i-th allocation gets the same memory as in the
// previous pass, and activation gradients come from a pool they return to as
// soon as they are consumed, so a training loop that repeats the same shapes
// allocates nothing per step once warm.
//
// Parameter gradients accumulate (+=) into buffers owned by the tape, aligned
// with the parameter list it was bound to (Grads); ZeroGrad clears them.
// A tape belongs to one goroutine; several tapes may share a model.
type Tape struct {
	record bool

	// parameters and their gradient buffers
	params []*Param
	index  map[*Param]int
	grads  [][]float32
	model  *Model
	gen    uint64

	vals []value
	ops  []op
	act  arena[float32] // forward buffers
	ints arena[int32]   // position ids and similar
	pool pool           // activation gradients
	loss V

	moe moeState // routing record of the last forward (moe models)

	gemm asm.Bound // GEMM threads of this tape's ops (see SetGemmThreads)
}

// SetGemmThreads bounds the threads each GEMM of the tape's ops uses (n < 1:
// asm's process-wide bound, the default), so that callers sharing a
// process keep bounds of their own.
func (t *Tape) SetGemmThreads(n int) { t.gemm = asm.Bound(n) }

// NewTape returns a recording tape bound to m's parameters.
func NewTape(m *Model) *Tape {
	t := &Tape{record: true, loss: -1}
	t.bindModel(m)
	return t
}

// NewEvalTape returns a tape that runs forward passes without recording them
// (evaluation and sampling): no gradient buffers, and Backward fails.
func NewEvalTape(m *Model) *Tape {
	t := &Tape{record: false, loss: -1}
	t.model = m
	if m != nil {
		t.gen = m.gen
	}
	return t
}

// NewParamTape returns a recording tape bound to an explicit parameter list,
// for graphs built op by op rather than by a Model.
func NewParamTape(params []*Param) *Tape {
	t := &Tape{record: true, loss: -1}
	t.bind(params)
	return t
}

func (t *Tape) bindModel(m *Model) {
	t.model = m
	if m == nil {
		t.bind(nil)
		return
	}
	t.gen = m.gen
	t.bind(m.Params())
}

// bind aligns the gradient buffers with params, reusing buffers of the same
// length, and zeroes them.
func (t *Tape) bind(params []*Param) {
	if !t.record {
		t.params = params
		return
	}
	old := t.grads
	t.params = append([]*Param(nil), params...)
	t.index = make(map[*Param]int, len(params))
	t.grads = make([][]float32, len(params))
	for i, p := range params {
		t.index[p] = i
		if i < len(old) && len(old[i]) == len(p.Data) {
			t.grads[i] = old[i]
			clear(t.grads[i])
		} else {
			t.grads[i] = make([]float32, len(p.Data))
		}
	}
}

// Rebind aligns the tape's gradients with m's current parameters (after
// SetBlocks), zeroing them. Model.Forward does this by itself when needed; call
// it to use Grads or ReduceGrads before the next forward.
func (t *Tape) Rebind(m *Model) { t.bindModel(m) }

// sync rebinds the tape when its model changed shape (SetBlocks). The new
// gradient buffers start at zero.
func (t *Tape) sync(m *Model) {
	if t.model != m || t.gen != m.gen {
		t.bindModel(m)
	}
}

// Recording reports whether the tape records ops for Backward.
func (t *Tape) Recording() bool { return t.record }

// Params returns the parameters the tape's gradients are aligned with.
func (t *Tape) Params() []*Param { return t.params }

// Grads returns the tape's parameter gradients, aligned with Params().
func (t *Tape) Grads() [][]float32 { return t.grads }

// Grad returns the tape's gradient buffer for p, or nil if p is not bound.
func (t *Tape) Grad(p *Param) []float32 {
	if i, ok := t.index[p]; ok {
		return t.grads[i]
	}
	return nil
}

// ZeroGrad clears the tape's parameter gradients.
func (t *Tape) ZeroGrad() {
	for _, g := range t.grads {
		clear(g)
	}
}

// Reset forgets the recorded graph; the next ops reuse the same buffers.
// Model.Forward calls it.
func (t *Tape) Reset() {
	for i := range t.vals {
		v := &t.vals[i]
		if v.ownsGrad {
			t.pool.put(v.grad)
		}
	}
	clear(t.vals) // drop references to caller slices
	t.vals = t.vals[:0]
	clear(t.ops)
	t.ops = t.ops[:0]
	t.act.reset()
	t.ints.reset()
	t.loss = -1
	t.moe.layer, t.moe.aux = 0, 0
}

// Data returns v's values (rows*cols, row-major). The slice is tape-owned.
func (t *Tape) Data(v V) []float32 { return t.vals[v].data }

// Shape returns v's rows and columns.
func (t *Tape) Shape(v V) (rows, cols int) { return t.vals[v].rows, t.vals[v].cols }

// GradOf returns v's gradient after Backward (nil if none reached it).
func (t *Tape) GradOf(v V) []float32 { return t.vals[v].grad }

// Param puts a parameter on the tape. A vector is a 1 x n value.
func (t *Tape) Param(p *Param) V {
	v := value{data: p.Data, rows: p.Rows(), cols: p.Cols(), param: -1}
	if t.record {
		if i, ok := t.index[p]; ok {
			v.param = int32(i)
			v.grad = t.grads[i]
			v.needGrad = true
		}
	}
	t.vals = append(t.vals, v)
	return V(len(t.vals) - 1)
}

// Input puts caller data on the tape (not copied; it must stay unchanged
// until Backward). With needGrad its gradient is kept: see GradOf.
func (t *Tape) Input(data []float32, rows, cols int, needGrad bool) V {
	if len(data) != rows*cols {
		panic(fmt.Sprintf("nn: Input of %d values for %dx%d", len(data), rows, cols))
	}
	t.vals = append(t.vals, value{data: data, rows: rows, cols: cols, param: -1, needGrad: needGrad && t.record})
	return V(len(t.vals) - 1)
}

// newValue allocates an output value from the arena (contents undefined).
func (t *Tape) newValue(rows, cols int, needGrad bool) V {
	t.vals = append(t.vals, value{data: t.act.get(rows * cols), rows: rows, cols: cols, param: -1, needGrad: needGrad && t.record})
	return V(len(t.vals) - 1)
}

// push records an op when recording and its output needs a gradient.
func (t *Tape) push(o op) {
	if t.record && t.vals[o.out].needGrad {
		t.ops = append(t.ops, o)
	}
}

// needs reports whether v wants a gradient.
func (t *Tape) needs(v V) bool { return v >= 0 && t.vals[v].needGrad }

// gradDst returns the buffer that receives v's gradient and whether it must
// be accumulated into (false: the buffer is fresh, overwrite it).
func (t *Tape) gradDst(v V) ([]float32, bool) {
	x := &t.vals[v]
	if x.grad != nil {
		return x.grad, true
	}
	x.grad = t.pool.get(len(x.data))
	x.ownsGrad = true
	return x.grad, false
}

// gradZeroed returns v's gradient buffer, cleared if it was fresh, for ops
// that scatter or accumulate piecewise.
func (t *Tape) gradZeroed(v V) []float32 {
	g, acc := t.gradDst(v)
	if !acc {
		clear(g)
	}
	return g
}

// passGrad hands gradient g (owned by the value out) to v: by moving the
// buffer when v has none yet, by adding otherwise. Call it last in an op's
// backward: after it, g may belong to v.
func (t *Tape) passGrad(v, out V) {
	x, o := &t.vals[v], &t.vals[out]
	if x.grad == nil && o.ownsGrad {
		x.grad, x.ownsGrad = o.grad, true
		o.ownsGrad = false
		return
	}
	g, acc := t.gradDst(v)
	if acc {
		addTo(g, o.grad)
	} else {
		copy(g, o.grad)
	}
}

var errNotRecording = errors.New("nn: Backward on a tape that does not record (NewEvalTape)")

// Backward back-propagates the loss of the last Model.Forward into the
// parameter gradients (accumulating).
func (t *Tape) Backward() error {
	if t.loss < 0 {
		return errors.New("nn: Backward before a Forward that computed a loss")
	}
	return t.BackwardFrom(t.loss, nil)
}

// BackwardFrom back-propagates from v with upstream gradient seed (len rows*cols;
// nil means all ones, the usual choice for a scalar loss).
func (t *Tape) BackwardFrom(v V, seed []float32) error {
	if !t.record {
		return errNotRecording
	}
	x := &t.vals[v]
	if seed != nil && len(seed) != len(x.data) {
		return fmt.Errorf("nn: backward seed has %d values, value has %d", len(seed), len(x.data))
	}
	if !x.needGrad {
		return nil
	}
	g, acc := t.gradDst(v)
	for i := range g {
		s := float32(1)
		if seed != nil {
			s = seed[i]
		}
		if acc {
			g[i] += s
		} else {
			g[i] = s
		}
	}
	for i := len(t.ops) - 1; i >= 0; i-- {
		o := &t.ops[i]
		if t.vals[o.out].grad == nil {
			continue // nothing downstream of this op reached the seed
		}
		t.backwardOp(o)
		// out's gradient is final and consumed: recycle it.
		out := &t.vals[o.out]
		if out.ownsGrad {
			t.pool.put(out.grad)
			out.ownsGrad = false
		}
		out.grad = nil
	}
	return nil
}

func (t *Tape) backwardOp(o *op) {
	switch o.kind {
	case opMatMul:
		t.matMulBackward(o)
	case opLinear:
		t.linearBackward(o)
	case opAdd:
		t.addBackward(o)
	case opMul:
		t.mulBackward(o)
	case opEmbedding:
		t.embeddingBackward(o)
	case opLayerNorm:
		t.layerNormBackward(o)
	case opRMSNorm:
		t.rmsNormBackward(o)
	case opGELU:
		t.geluBackward(o)
	case opSiLU:
		t.siluBackward(o)
	case opAttention:
		t.attentionBackward(o)
	case opCrossEntropy:
		t.crossEntropyBackward(o)
	case opRoPE:
		t.ropeBackward(o)
	case opSwiGLU:
		t.swigluBackward(o)
	case opRoute:
		t.routeBackward(o)
	case opExperts:
		t.expertsBackward(o)
	default:
		panic(fmt.Sprintf("nn: unknown op kind %d", o.kind))
	}
}

// arena hands out buffers; after reset, the i-th request gets the buffer
// the i-th request got before when it is big enough.
type arena[T float32 | int32] struct {
	bufs [][]T
	n    int
}

func (a *arena[T]) get(size int) []T {
	if a.n < len(a.bufs) && cap(a.bufs[a.n]) >= size {
		b := a.bufs[a.n][:size]
		a.n++
		return b
	}
	b := make([]T, size)
	if a.n < len(a.bufs) {
		a.bufs[a.n] = b
	} else {
		a.bufs = append(a.bufs, b)
	}
	a.n++
	return b
}

func (a *arena[T]) reset() { a.n = 0 }

// pool recycles gradient buffers: get returns the smallest free buffer that
// fits (best fit keeps the set of sizes stable from step to step).
type pool struct {
	free [][]float32
}

func (p *pool) get(size int) []float32 {
	best := -1
	for i, b := range p.free {
		if cap(b) >= size && (best < 0 || cap(b) < cap(p.free[best])) {
			best = i
			if cap(b) == size {
				break
			}
		}
	}
	if best < 0 {
		return make([]float32, size)
	}
	b := p.free[best]
	last := len(p.free) - 1
	p.free[best] = p.free[last]
	p.free[last] = nil
	p.free = p.free[:last]
	return b[:size]
}

func (p *pool) put(b []float32) {
	if cap(b) > 0 {
		p.free = append(p.free, b[:cap(b)])
	}
}

// Scratch returns a tape-owned buffer of n float32 (contents undefined) that
// lives until the next Reset.
func (t *Tape) scratch(n int) []float32 { return t.act.get(n) }
