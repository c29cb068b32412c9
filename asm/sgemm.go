package asm

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C with BLAS semantics on
// row-major matrices: op(A) is m x k, op(B) is k x n, C is m x n. With transA,
// A is stored k x m (op(A) = A^T); with transB, B is stored n x k. lda, ldb and
// ldc are the row strides in elements. beta == 0 overwrites C: NaNs already in
// C do not leak into the result. alpha == 0 or k == 0 leaves A and B unread.
//
// Bad arguments (negative sizes, leading dimensions too small, slices too
// short) panic with a message naming the problem, as gonum's BLAS does; no
// kernel ever touches memory outside the slices.
//
// Large problems run on up to Threads() goroutines (see Bound for a bound
// of the caller's own). The result is bit-identical whatever the thread
// count: every element of C is summed in the same order. Sgemm may be
// called from several goroutines at once.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Bound(0).Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// A Bound is a thread bound for Sgemm that belongs to its caller rather
// than to the process: two training runs in one program each keep their
// own. Bound(0), or any value below 1, follows SetThreads.
type Bound int

// Threads is the bound: b itself, or Threads() when b < 1.
func (b Bound) Threads() int {
	if b > 0 {
		return int(b)
	}
	return Threads()
}

// Sgemm is the package's Sgemm on up to b.Threads() goroutines.
func (bd Bound) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if err := checkSgemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc); err != nil {
		panic(err)
	}
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleTile(c, ldc, m, n, beta)
		return
	}
	j := getJob()
	j.args = gemmArgs{transA: transA, transB: transB, m: m, n: n, k: k,
		alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	j.kern = activeKernel()
	j.run(bd.Threads())
}

// checkSgemm validates Sgemm's arguments the way gonum's blas/gonum does.
func checkSgemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) error {
	switch {
	case m < 0:
		return fmt.Errorf("asm: Sgemm: m = %d < 0", m)
	case n < 0:
		return fmt.Errorf("asm: Sgemm: n = %d < 0", n)
	case k < 0:
		return fmt.Errorf("asm: Sgemm: k = %d < 0", k)
	}
	aRows, aCols := m, k
	if transA {
		aRows, aCols = k, m
	}
	bRows, bCols := k, n
	if transB {
		bRows, bCols = n, k
	}
	switch {
	case lda < max(1, aCols):
		return fmt.Errorf("asm: Sgemm: lda = %d < %d (columns of A as stored)", lda, max(1, aCols))
	case ldb < max(1, bCols):
		return fmt.Errorf("asm: Sgemm: ldb = %d < %d (columns of B as stored)", ldb, max(1, bCols))
	case ldc < max(1, n):
		return fmt.Errorf("asm: Sgemm: ldc = %d < %d (columns of C)", ldc, max(1, n))
	}
	if m == 0 || n == 0 {
		return nil
	}
	need := func(rows, cols, ld int) int {
		if rows == 0 || cols == 0 {
			return 0
		}
		return (rows-1)*ld + cols
	}
	switch {
	case la < need(aRows, aCols, lda):
		return fmt.Errorf("asm: Sgemm: len(a) = %d, need %d for a %dx%d matrix with lda %d", la, need(aRows, aCols, lda), aRows, aCols, lda)
	case lb < need(bRows, bCols, ldb):
		return fmt.Errorf("asm: Sgemm: len(b) = %d, need %d for a %dx%d matrix with ldb %d", lb, need(bRows, bCols, ldb), bRows, bCols, ldb)
	case lc < need(m, n, ldc):
		return fmt.Errorf("asm: Sgemm: len(c) = %d, need %d for a %dx%d matrix with ldc %d", lc, need(m, n, ldc), m, n, ldc)
	}
	return nil
}

// scaleTile computes C = beta*C on an m x n tile; beta == 0 writes zeros.
func scaleTile(c []float32, ldc, m, n int, beta float32) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

type gemmArgs struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
}

// gemmJob is one Sgemm call: its arguments, its blocking, and the buffers and
// counters its threads share. Jobs are pooled so that steady-state calls do
// not allocate.
//
// Threads coordinate through four counters that only grow during a call:
// the i-th kc x nc block of B (the jc/pc loops, walked in the same order by
// every thread) owns panel numbers [pBase, pBase+panels) and task numbers
// [tBase, tBase+tasks). A thread claims work by advancing panelNext or
// taskNext within its block's range and counts it in panelDone or taskDone
// when finished. Nobody waits for a thread, only for claimed work, so the
// caller never waits for a helper to wake. When the caller is done it closes
// the job: helpers that have not joined by then never will (see join), and
// the job goes back to the pool when the last participant leaves.
type gemmJob struct {
	args gemmArgs
	kern *gemmKernel
	nth  int // threads working on this call, the caller included

	bufB []float32       // packed kc x nc block of B, shared
	thr  []threadBuffers // per-thread packed A block and edge scratch

	panelNext, panelDone atomic.Int64
	taskNext, taskDone   atomic.Int64

	// state packs the job's epoch (high 32 bits, one per call), a closed
	// flag (bit 31) and the number of threads inside the call (low bits).
	state atomic.Uint64

	// Waits that outlast a short spin sleep on cond.
	mu       sync.Mutex
	cond     sync.Cond
	sleepers atomic.Int32
}

type threadBuffers struct {
	bufA    []float32
	scratch []float32
	// The A block last packed into bufA, to skip repacking it when a thread
	// takes consecutive tasks on the same rows.
	lastI, lastP, lastJC int
}

var jobPool = sync.Pool{New: func() any {
	j := new(gemmJob)
	j.cond.L = &j.mu
	return j
}}

func getJob() *gemmJob { return jobPool.Get().(*gemmJob) }

const (
	stateClosed = 1 << 31
	stateActive = stateClosed - 1
)

// open starts a call on a job fresh from the pool, with the caller inside.
func (j *gemmJob) open() uint32 {
	s := openState(j.state.Load())
	j.state.Store(s)
	return uint32(s >> 32)
}

// join lets a helper into the call of the given epoch; it fails once the
// caller has closed that call or the job has moved on to another one.
func (j *gemmJob) join(epoch uint32) bool {
	for {
		s := j.state.Load()
		next, ok := joinState(s, epoch)
		if !ok {
			return false
		}
		handoff(stepJoin)
		if j.state.CompareAndSwap(s, next) {
			return true
		}
	}
}

// leave takes a thread out of the call; the last one out of a closed call
// drops the caller's slices and returns the job to the pool.
func (j *gemmJob) leave() {
	if lastOut(j.state.Add(^uint64(0))) {
		j.args = gemmArgs{}
		jobPool.Put(j)
	}
}

// close shuts the call to helpers that have not joined, then leaves.
func (j *gemmJob) close() {
	j.state.Or(stateClosed)
	j.leave()
}

// The state word's transitions, shared with the model check in the tests
// (TestJobStateModel).

// openState is a new call's state: the next epoch, open, the caller inside.
func openState(s uint64) uint64 { return (s>>32+1)<<32 | 1 }

// joinState is s with one more thread inside, if s is the open call of the
// given epoch.
func joinState(s uint64, epoch uint32) (uint64, bool) {
	if uint32(s>>32) != epoch || s&stateClosed != 0 {
		return s, false
	}
	return s + 1, true
}

// lastOut reports whether s, the state just after a thread left, is a
// closed call with nobody inside.
func lastOut(s uint64) bool { return s&stateClosed != 0 && s&stateActive == 0 }

// workPerThread is the least m*n*k worth handing to one more thread (about
// 8 us of AVX2 work): waking a helper costs microseconds, so smaller
// products stay on fewer threads, the smallest on the caller alone.
const workPerThread = 2 * 64 * 64 * 64

// run computes the call on the caller and, when it is large enough, on
// helpers from the worker pool.
func (j *gemmJob) run(bound int) {
	g := &j.args
	K := j.kern
	nth := threadsFor(bound, g.m, g.n, g.k, K)
	j.nth = nth
	j.prepare()
	j.panelNext.Store(0)
	j.panelDone.Store(0)
	j.taskNext.Store(0)
	j.taskDone.Store(0)
	epoch := j.open()
	if nth > 1 {
		postHelpers(j, nth, epoch)
	}
	j.work(0)
	handoff(stepClose)
	j.close()
}

// threadsFor is the number of threads, at most bound, an m x n x k product
// runs on.
func threadsFor(bound, m, n, k int, K *gemmKernel) int {
	// More threads than Ps would only take turns.
	nth := min(bound, runtime.GOMAXPROCS(0))
	if w := float64(m) * float64(n) * float64(k) / workPerThread; w < float64(nth) {
		nth = max(1, int(w))
	}
	// No more threads than micro-tiles.
	if tiles := ceilDiv(m, K.mr) * ceilDiv(n, K.nr); nth > tiles {
		nth = tiles
	}
	if nth > 1 {
		splitCalls.Add(1)
		if solo() {
			nth = 1
		}
	}
	return nth
}

// prepare sizes the pack buffers for this call.
func (j *gemmJob) prepare() {
	g := &j.args
	K := j.kern
	kc := min(K.kc, g.k)
	nc := min(K.nc, g.n)
	j.bufB = growAligned(j.bufB, roundUp(nc, K.nr)*kc)
	if cap(j.thr) < j.nth {
		j.thr = append(j.thr[:cap(j.thr)], make([]threadBuffers, j.nth-cap(j.thr))...)
	}
	j.thr = j.thr[:j.nth]
	mb, _, _, _ := j.grid(nc)
	for t := range j.thr {
		tb := &j.thr[t]
		tb.bufA = growAligned(tb.bufA, roundUp(mb, K.mr)*kc)
		tb.scratch = growAligned(tb.scratch, K.mr*K.nr)
		tb.lastI = -1
	}
}

// grid splits an m x nc block of C into tasks of mb rows by nb columns (mb a
// multiple of MR no larger than MC, nb a multiple of NR). Rows are split
// first, into a multiple of the thread count; columns too when the row split
// alone would leave threads idle (few rows). The split depends on the thread
// count, the arithmetic does not.
func (j *gemmJob) grid(nc int) (mb, nb, rowTasks, colTasks int) {
	m, K, T := j.args.m, j.kern, j.nth
	rowTiles := ceilDiv(m, K.mr)
	rowTasks = ceilDiv(m, K.mc)
	if T > 1 {
		// At least 4 tasks a thread where the rows allow it, so that a
		// helper that starts late still finds a fair share to take.
		rowTasks = min(roundUp(max(rowTasks, 4*T), T), rowTiles)
	}
	mb = roundUp(ceilDiv(m, rowTasks), K.mr)
	rowTasks = ceilDiv(m, mb)
	nb, colTasks = nc, 1
	if T > 1 {
		// The busiest thread's row tiles against a fair share: below 90%
		// efficiency, cut the columns as well, into about 4 tasks a thread.
		busiest := ceilDiv(rowTasks, T) * (mb / K.mr)
		if 10*rowTiles < 9*T*busiest {
			colTasks = min(ceilDiv(4*T, rowTasks), ceilDiv(nc, K.nr))
			nb = roundUp(ceilDiv(nc, colTasks), K.nr)
			colTasks = ceilDiv(nc, nb)
		}
	}
	return mb, nb, rowTasks, colTasks
}

// work is one thread's share of the call. All threads walk the same jc/pc
// loops; within each kc x nc block of B they pack its panels together, then
// claim tasks until none are left (see gemmJob). The caller (tid 0) returns
// only when every task is done.
func (j *gemmJob) work(tid int) {
	g := &j.args
	K := j.kern
	tb := &j.thr[tid]
	var pBase, tBase int64
	for jc := 0; jc < g.n; jc += K.nc {
		nc := min(K.nc, g.n-jc)
		panels := int64(ceilDiv(nc, K.nr))
		mb, nb, rowTasks, colTasks := j.grid(nc)
		tasks := int64(rowTasks * colTasks)
		for pc := 0; pc < g.k; pc += K.kc {
			kc := min(K.kc, g.k-pc)
			if j.nth == 1 {
				packB(K, j.bufB, g.b, g.ldb, g.transB, pc, kc, jc, nc)
				for t := 0; t < rowTasks*colTasks; t++ {
					j.task(tb, t/colTasks, t%colTasks, mb, nb, jc, nc, pc, kc)
				}
				continue
			}
			// bufB is free once every task reading the previous block is done.
			j.waitFor(&j.taskDone, tBase)
			for {
				q, ok := claim(&j.panelNext, pBase+panels)
				if !ok {
					break
				}
				jr := int(q-pBase) * K.nr
				packBPanel(K, j.bufB[jr*kc:jr*kc+K.nr*kc], g.b, g.ldb, g.transB, pc, kc, jc+jr, min(K.nr, nc-jr))
				j.done(&j.panelDone)
			}
			j.waitFor(&j.panelDone, pBase+panels)
			for {
				t, ok := claim(&j.taskNext, tBase+tasks)
				if !ok {
					break
				}
				i := int(t - tBase)
				j.task(tb, i/colTasks, i%colTasks, mb, nb, jc, nc, pc, kc)
				j.done(&j.taskDone)
			}
			pBase += panels
			tBase += tasks
		}
	}
	if tid == 0 && j.nth > 1 {
		j.waitFor(&j.taskDone, tBase)
	}
}

// claim takes the next number from ctr if it is below end.
func claim(ctr *atomic.Int64, end int64) (int64, bool) {
	for {
		q := ctr.Load()
		if q >= end {
			return 0, false
		}
		if ctr.CompareAndSwap(q, q+1) {
			return q, true
		}
	}
}

// done counts one finished piece of work and wakes sleeping waiters.
func (j *gemmJob) done(ctr *atomic.Int64) {
	ctr.Add(1)
	if j.sleepers.Load() > 0 {
		j.mu.Lock()
		j.cond.Broadcast()
		j.mu.Unlock()
	}
}

// waitFor returns once ctr >= target: it spins briefly (other threads' work
// usually ends within microseconds; see spin), then sleeps until done wakes
// it.
func (j *gemmJob) waitFor(ctr *atomic.Int64, target int64) {
	if spin(func() bool {
		for s := 0; s < 64; s++ {
			if ctr.Load() >= target {
				return true
			}
		}
		return false
	}) {
		return
	}
	j.mu.Lock()
	j.sleepers.Add(1)
	for ctr.Load() < target {
		j.cond.Wait()
	}
	j.sleepers.Add(-1)
	j.mu.Unlock()
}

// task computes rows [ri*mb, +mb) x columns [jc + ci*nb, +nb) of C for the
// kc-block at pc, with B's block already packed.
func (j *gemmJob) task(tb *threadBuffers, ri, ci, mb, nb, jc, nc, pc, kc int) {
	g := &j.args
	K := j.kern
	i0 := ri * mb
	rows := min(mb, g.m-i0)
	j0 := ci * nb
	cols := min(nb, nc-j0)
	if tb.lastI != i0 || tb.lastP != pc || tb.lastJC != jc {
		packA(K, tb.bufA, g.a, g.lda, g.transA, i0, rows, pc, kc, g.alpha)
		tb.lastI, tb.lastP, tb.lastJC = i0, pc, jc
	}
	flags := kernelAccum
	if pc == 0 {
		switch g.beta {
		case 0:
			flags = 0
		case 1:
		default:
			scaleTile(g.c[i0*g.ldc+jc+j0:], g.ldc, rows, cols, g.beta)
		}
	}
	for jr := j0; jr < j0+cols; jr += K.nr {
		w := min(K.nr, nc-jr)
		bp := &j.bufB[jr*kc]
		for ir := 0; ir < rows; ir += K.mr {
			h := min(K.mr, rows-ir)
			ap := &tb.bufA[ir*kc]
			off := (i0+ir)*g.ldc + jc + jr
			if h == K.mr && w == K.nr {
				K.fn(kc, ap, bp, &g.c[off], g.ldc, flags)
				continue
			}
			// Edge tile: compute the whole tile into scratch, then touch only
			// the valid part of C.
			K.fn(kc, ap, bp, &tb.scratch[0], K.nr, 0)
			for i := 0; i < h; i++ {
				s := tb.scratch[i*K.nr : i*K.nr+w]
				cr := g.c[off+i*g.ldc : off+i*g.ldc+w]
				if flags&kernelAccum == 0 {
					copy(cr, s)
				} else {
					for q, v := range s {
						cr[q] += v
					}
				}
			}
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// growAligned returns a slice of n floats starting on a 64-byte boundary,
// reusing buf's memory when it is large enough.
func growAligned(buf []float32, n int) []float32 {
	if cap(buf) >= n && uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%64 == 0 {
		return buf[:n]
	}
	raw := make([]float32, n+16)
	off := int((64 - uintptr(unsafe.Pointer(&raw[0]))%64) % 64 / 4)
	return raw[off : off+n : off+n]
}
