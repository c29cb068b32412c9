package nn

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/sproutml/sprout/asm"
)

// The routed mixture-of-experts MLP of a moe block, read top to bottom:
//
//	x      = x + sum over shared experts S of  S(h)              (every token)
//	logits = h Wrouter                                      N x E
//	score  = softmax(logits) or sigmoid(logits)              per token
//	sel    = top-k experts of score + balance_bias          (bias: selection only)
//	gate   = softmax: score[sel]            (probabilities over all E experts)
//	         sigmoid: score[sel] / sum score[sel]            (DeepSeek-V3)
//	x      = x + sum over the k selected e of gate_e * expert_e(h)
//
// Each expert is a SwiGLU MLP. The routed part runs per expert: the tokens
// routed to it are gathered into one matrix, go through its three GEMMs, and
// the results are scatter-added, weighted by their gates, in token order (so
// the sum does not depend on how the experts were scheduled). Experts run in
// parallel when asm has more than one thread.
//
// Load balancing (Config.Balance):
//   - "aux": the Switch Transformer's auxiliary loss AuxCoef * E * sum_i f_i
//     P_i, f_i the fraction of the tape's token-slots routed to expert i and
//     P_i the mean routing probability of i (for sigmoid gates the scores
//     normalised over all experts), over the tokens of one tape: in the
//     trainer a shard of Config.Shard sequences, so by default DeepSeek-V3's
//     sequence-wise form.
//     Its gradient is added in the router's backward; its value is
//     Tape.AuxLoss, kept out of the loss Forward returns.
//   - "bias": DeepSeek-V3's auxiliary-loss-free balancing: a per-expert bias
//     (the Buffer mlp.router.balance_bias) added to the scores for the
//     selection only, moved after each step by BiasRate * sign(mean load -
//     load) from the step's token counts (UpdateBalanceBias).
//   - "none".
//
// Tape.ExpertLoad gives the token counts of the last forward.

// moeState is a tape's routing record of its last forward.
type moeState struct {
	layer   int     // next MoE block of the forward
	load    []int64 // per MoE block and expert: token-slots routed
	aux     float64 // the auxiliary loss, summed over blocks
	scratch []float64
	selHash uint64 // FNV-1a of every selection, so tests can tell when routing changed
	job     expertsJob
}

// beginMoE resets the routing record at the start of a forward of m.
func (t *Tape) beginMoE(m *Model) {
	t.moe.layer, t.moe.aux, t.moe.selHash = 0, 0, 14695981039346656037
	if m.Arch != ArchMoE {
		t.moe.load = t.moe.load[:0]
		return
	}
	n := len(m.Blocks) * m.Experts
	if cap(t.moe.load) < n {
		t.moe.load = make([]int64, n)
	}
	t.moe.load = t.moe.load[:n]
	clear(t.moe.load)
}

// ExpertLoad returns the number of tokens routed to each expert of each moe
// block in the tape's last forward (block-major: load[l*E+e]; a token counts
// once for each of its top-k experts), or nil for other archs. The slice
// belongs to the tape.
func (t *Tape) ExpertLoad() []int64 { return t.moe.load }

// AuxLoss returns the load-balancing auxiliary loss of the tape's last
// forward (0 unless balance is "aux"). Backward includes its gradient.
func (t *Tape) AuxLoss() float32 { return float32(t.moe.aux) }

// moeMLP records x + shared(h) + routed(h) for moe block b.
func (m *Model) moeMLP(t *Tape, b *Block, h, x V) V {
	for i := range b.Shared {
		x = t.ffn(&b.Shared[i], h, x)
	}
	logits := t.Linear(h, t.Param(b.Router), -1, -1)
	var coef float32
	if m.Balance == BalanceAux {
		coef = float32(m.AuxCoef)
	}
	var bias []float32
	if m.Balance == BalanceBias {
		bias = b.Balance.Data
	}
	gates, sel := t.Route(logits, m.TopK, m.Gate, bias, coef)
	if l := t.moe.layer; (l+1)*m.Experts <= len(t.moe.load) {
		load := t.moe.load[l*m.Experts : (l+1)*m.Experts]
		for _, e := range sel {
			load[e]++
		}
	}
	for _, e := range sel {
		t.moe.selHash = (t.moe.selHash ^ uint64(e)) * 1099511628211
	}
	t.moe.layer++
	return t.Experts(h, gates, sel, b.Experts, x)
}

// Route is a top-k router on logits (N x E): per row it scores the experts
// (gate GateSoftmax: softmax over all E; GateSigmoid: sigmoid), selects the k
// highest of score + bias (bias may be nil; ties go to the lower index), and
// returns the selected experts' gates (N x k; softmax: the scores, sigmoid:
// the scores normalised over the k) and the selection (N*k expert ids,
// row-major, tape-owned). With auxCoef > 0 it adds the auxiliary balancing
// loss auxCoef * E * sum_i f_i P_i to the tape's AuxLoss and its gradient to
// the logits' in backward. The selection is piecewise constant: gradients
// flow through the gates' values only.
func (t *Tape) Route(logits V, k int, gate string, bias []float32, auxCoef float32) (V, []int32) {
	vl := &t.vals[logits]
	N, E := vl.rows, vl.cols
	sig := gate == GateSigmoid
	if k < 1 || k > E || (gate != GateSoftmax && !sig) || (bias != nil && len(bias) != E) {
		panic(fmt.Sprintf("nn: Route over %d experts with k=%d, gate %q, %d biases", E, k, gate, len(bias)))
	}
	out := t.newValue(N, k, vl.needGrad)
	scores := t.act.get(N * E)
	sel := t.ints.get(N * k)
	g := t.vals[out].data
	x := vl.data
	if k > maxTopK {
		panic(fmt.Sprintf("nn: Route with k=%d > %d", k, maxTopK))
	}
	for r := 0; r < N; r++ {
		routeRow(g[r*k:(r+1)*k], sel[r*k:(r+1)*k], scores[r*E:(r+1)*E], x[r*E:(r+1)*E], bias, sig)
	}
	var auxGrad []float32
	if auxCoef > 0 {
		auxGrad = t.act.get(E)
		t.moe.aux += routeAux(auxGrad, scores, sel, N, E, k, sig, auxCoef, &t.moe.scratch)
	}
	t.push(op{kind: opRoute, out: out, a: logits, ids: sel, n0: k, n1: b2i(sig), s0: scores, s1: auxGrad})
	return out, sel
}

// maxTopK bounds Route's k (a stack buffer per row).
const maxTopK = 64

// routeRow routes one token: it writes the expert scores of its router
// logits row into sc, the k = len(sel) selected experts (top scores + bias,
// ties to the lower index) into sel and their gates into g.
func routeRow(g []float32, sel []int32, sc, row, bias []float32, sig bool) {
	k := len(sel)
	if sig {
		for j, v := range row {
			sc[j] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	} else {
		copy(sc, row)
		mx := asm.Max(sc)
		sum := asm.ExpSum(sc, sc, mx)
		asm.Scale(1/sum, sc)
	}
	// top-k of score + bias by insertion into a list sorted descending;
	// a later expert must be strictly better to pass an earlier one
	var pick [maxTopK]float32
	ps := pick[:k]
	n := 0
	for j, v := range sc {
		if bias != nil {
			v += bias[j]
		}
		if n == k && v <= ps[k-1] {
			continue
		}
		i := min(n, k-1)
		for i > 0 && v > ps[i-1] {
			ps[i], sel[i] = ps[i-1], sel[i-1]
			i--
		}
		ps[i], sel[i] = v, int32(j)
		n = min(n+1, k)
	}
	var z float32
	for i, e := range sel {
		g[i] = sc[e]
		z += sc[e]
	}
	if sig {
		for i := range g {
			g[i] /= z
		}
	}
}

// routeAux returns auxCoef * E * sum_i f_i P_i and writes into c the loss's
// gradient with respect to each token's routing probabilities,
// c_i = auxCoef * E * f_i / N.
func routeAux(c, scores []float32, sel []int32, N, E, k int, sig bool, auxCoef float32, scratch *[]float64) float64 {
	if cap(*scratch) < 2*E {
		*scratch = make([]float64, 2*E)
	}
	f, P := (*scratch)[:E], (*scratch)[E:2*E]
	clear(f)
	clear(P)
	for _, e := range sel {
		f[e]++
	}
	for r := 0; r < N; r++ {
		sc := scores[r*E : (r+1)*E]
		inv := 1.0
		if sig {
			var s float64
			for _, v := range sc {
				s += float64(v)
			}
			inv = 1 / s
		}
		for j, v := range sc {
			P[j] += float64(v) * inv
		}
	}
	var loss float64
	for i := range f {
		f[i] /= float64(N * k)
		P[i] /= float64(N)
		loss += f[i] * P[i]
		c[i] = float32(float64(auxCoef) * float64(E) * f[i] / float64(N))
	}
	return float64(auxCoef) * float64(E) * loss
}

func (t *Tape) routeBackward(o *op) {
	vl, vo := &t.vals[o.a], &t.vals[o.out]
	N, E := vl.rows, vl.cols
	k, sig := o.n0, o.n1 == 1
	scores, sel, c := o.s0, o.ids, o.s1
	g, dg := vo.data, vo.grad
	dl, acc := t.gradDst(o.a)
	ds := t.pool.get(E)
	for r := 0; r < N; r++ {
		sc := scores[r*E : (r+1)*E]
		s, gr, dgr := sel[r*k:(r+1)*k], g[r*k:(r+1)*k], dg[r*k:(r+1)*k]
		d := dl[r*E : (r+1)*E]
		clear(ds)
		if !sig {
			// dL/dp_j: the gate gradients and the auxiliary term
			for i, e := range s {
				ds[e] += dgr[i]
			}
			if c != nil {
				asm.Add(ds, ds, c)
			}
			// softmax: dlogit_j = p_j (dp_j - sum_i p_i dp_i)
			dot := asm.Dot(sc, ds)
			for j, p := range sc {
				v := p * (ds[j] - dot)
				if acc {
					d[j] += v
				} else {
					d[j] = v
				}
			}
			continue
		}
		// sigmoid gates g_a = s_a / Z over the selected: ds_b = (dg_b - sum_a dg_a g_a) / Z
		var z, gsum float32
		for i, e := range s {
			z += sc[e]
			gsum += dgr[i] * gr[i]
		}
		for i, e := range s {
			ds[e] += (dgr[i] - gsum) / z
		}
		if c != nil {
			// q_j = s_j / S over all experts: ds_j += (c_j - sum_i c_i q_i) / S
			S := asm.Sum(sc)
			cq := asm.Dot(c, sc) / S
			for j := range ds {
				ds[j] += (c[j] - cq) / S
			}
		}
		for j, p := range sc {
			v := ds[j] * p * (1 - p)
			if acc {
				d[j] += v
			} else {
				d[j] = v
			}
		}
	}
	t.pool.put(ds)
}

// Experts returns resid + sum over each row's k selected experts e of
// gate * expert_e(h): h is N x d, gates N x k and sel N*k expert ids (from
// Route), experts the SwiGLU MLPs. resid may be -1 (none).
//
// The tokens of each expert are gathered (in token order) into a matrix
// that goes through the expert's GEMMs; the expert inputs, gate and up
// activations and outputs are kept for the backward.
func (t *Tape) Experts(h, gates V, sel []int32, experts []FFN, resid V) V {
	vh, vg := &t.vals[h], &t.vals[gates]
	N, d, k, E := vh.rows, vh.cols, vg.cols, len(experts)
	if E == 0 || vg.rows != N || len(sel) != N*k {
		panic(fmt.Sprintf("nn: Experts: h %dx%d, gates %dx%d, %d selections, %d experts", N, d, vg.rows, k, len(sel), E))
	}
	F := experts[0].Gate.Cols()
	base := V(len(t.vals))
	need := vh.needGrad || vg.needGrad || t.needs(resid)
	for _, f := range experts {
		if f.Gate.Rows() != d || f.Gate.Cols() != F || f.Up.Rows() != d || f.Up.Cols() != F || f.Down.Rows() != F || f.Down.Cols() != d {
			panic(fmt.Sprintf("nn: Experts: expert shapes %v %v %v for width %d, hidden %d", f.Gate.Shape, f.Up.Shape, f.Down.Shape, d, F))
		}
		for _, p := range [3]*Param{f.Gate, f.Up, f.Down} {
			need = t.needs(t.Param(p)) || need
		}
	}
	out := t.newValue(N, d, need)
	vh, vg = &t.vals[h], &t.vals[gates] // t.vals grew
	y := t.vals[out].data
	if resid >= 0 {
		vr := &t.vals[resid]
		if vr.rows != N || vr.cols != d {
			panic(fmt.Sprintf("nn: Experts residual is %dx%d, want %dx%d", vr.rows, vr.cols, N, d))
		}
		copy(y, vr.data)
	} else {
		clear(y)
	}
	Nk := N * k
	ints := t.ints.get(E + 1 + 2*Nk)
	saved := t.act.get(Nk * (2*d + 2*F))
	j := t.expertsJob(ints, saved, E, k, d, F, base)
	routeOrder(j.off, j.perm, j.inv, sel, E)
	hd := vh.data
	for r, p := range j.perm {
		tok := int(p) / k
		copy(j.X[r*d:(r+1)*d], hd[tok*d:(tok+1)*d])
	}
	j.A = t.pool.get(Nk * F)
	j.run(E, (*expertsJob).forward)
	t.pool.put(j.A)
	gv := vg.data
	for p := 0; p < Nk; p++ {
		tok, r := p/k, int(j.inv[p])
		asm.Axpy(gv[p], j.Y[r*d:(r+1)*d], y[tok*d:(tok+1)*d])
	}
	t.push(op{kind: opExperts, out: out, a: h, b: gates, c: base, d: resid, ids: ints, n0: E, n1: k, n2: F, s0: saved})
	return out
}

// expertsJob is the per-expert work of one Experts op, forward or backward:
// expert e owns rows off[e]:off[e+1] of every matrix below (its token-slots
// in token order), so experts can run at once. The tape keeps one and
// reuses it, so a step allocates nothing.
type expertsJob struct {
	t              *Tape
	base           V // the experts' parameters on the tape: base + 3e + {gate, up, down}
	d, F           int
	off, perm, inv []int32
	X, G, U, Y     []float32 // saved: gathered inputs, gate and up activations, outputs
	A              []float32 // scratch: silu(G)*U, then its gradient
	dG, dU, dY     []float32 // backward scratch; dY's rows become dX's
	needX          bool
}

// expertsJob lays out the op's saved buffers (ints: off | perm | inv;
// saved: X | G | U | Y) in the tape's job.
func (t *Tape) expertsJob(ints []int32, saved []float32, E, k, d, F int, base V) *expertsJob {
	Nk := (len(ints) - E - 1) / 2
	j := &t.moe.job
	*j = expertsJob{t: t, base: base, d: d, F: F,
		off: ints[:E+1], perm: ints[E+1 : E+1+Nk], inv: ints[E+1+Nk:],
		X: saved[:Nk*d], G: saved[Nk*d : Nk*(d+F)], U: saved[Nk*(d+F) : Nk*(d+2*F)], Y: saved[Nk*(d+2*F):]}
	return j
}

// run calls f(j, e) for every expert e, on up to the tape's GEMM threads
// when that is more than one. Each call writes only its own expert's rows
// and parameter gradients, and no call's result depends on the others.
func (j *expertsJob) run(E int, f func(*expertsJob, int)) {
	w := min(j.t.gemm.Threads(), E)
	if w <= 1 {
		for e := 0; e < E; e++ {
			f(j, e)
		}
		return
	}
	var next atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				e := int(next.Add(1)) - 1
				if e >= E {
					return
				}
				f(j, e)
			}
		}()
	}
	wg.Wait()
}

// forward computes expert e's outputs Y = (silu(X Wg) * (X Wu)) Wd.
func (j *expertsJob) forward(e int) {
	r0, r1 := int(j.off[e]), int(j.off[e+1])
	n, d, F := r1-r0, j.d, j.F
	if n == 0 {
		return
	}
	t := j.t
	wg, wu, wd := t.vals[j.base+V(3*e)].data, t.vals[j.base+V(3*e+1)].data, t.vals[j.base+V(3*e+2)].data
	Xe, Ge, Ue, Ae := j.X[r0*d:r1*d], j.G[r0*F:r1*F], j.U[r0*F:r1*F], j.A[r0*F:r1*F]
	j.t.gemm.Sgemm(false, false, n, F, d, 1, Xe, d, wg, F, 0, Ge, F)
	j.t.gemm.Sgemm(false, false, n, F, d, 1, Xe, d, wu, F, 0, Ue, F)
	swigluForward(Ae, Ge, Ue)
	j.t.gemm.Sgemm(false, false, n, d, F, 1, Ae, F, wd, d, 0, j.Y[r0*d:r1*d], d)
}

// backward accumulates expert e's weight gradients from dY (its rows hold
// gate * dout) and, when needX, overwrites those rows with dX.
func (j *expertsJob) backward(e int) {
	r0, r1 := int(j.off[e]), int(j.off[e+1])
	n, d, F := r1-r0, j.d, j.F
	if n == 0 {
		return
	}
	t := j.t
	pg, pu, pd := j.base+V(3*e), j.base+V(3*e+1), j.base+V(3*e+2)
	wg, wu, wd := t.vals[pg].data, t.vals[pu].data, t.vals[pd].data
	Xe, Ge, Ue := j.X[r0*d:r1*d], j.G[r0*F:r1*F], j.U[r0*F:r1*F]
	Ae, dGe, dUe, dYe := j.A[r0*F:r1*F], j.dG[r0*F:r1*F], j.dU[r0*F:r1*F], j.dY[r0*d:r1*d]
	swigluForward(Ae, Ge, Ue)
	if t.needs(pd) { // dWd += A^T dY
		dW, acc := t.gradDst(pd)
		j.t.gemm.Sgemm(true, false, F, d, n, 1, Ae, F, dYe, d, b2f(acc), dW, d)
	}
	// dA = dY Wd^T, then through silu(G) * U
	j.t.gemm.Sgemm(false, true, n, F, d, 1, dYe, d, wd, d, 0, Ae, F)
	swigluGrads(dGe, dUe, Ae, Ge, Ue, false, false)
	if t.needs(pg) {
		dW, acc := t.gradDst(pg)
		j.t.gemm.Sgemm(true, false, d, F, n, 1, Xe, d, dGe, F, b2f(acc), dW, F)
	}
	if t.needs(pu) {
		dW, acc := t.gradDst(pu)
		j.t.gemm.Sgemm(true, false, d, F, n, 1, Xe, d, dUe, F, b2f(acc), dW, F)
	}
	if j.needX { // dX = dG Wg^T + dU Wu^T, over dY's rows
		j.t.gemm.Sgemm(false, true, n, d, F, 1, dGe, F, wg, F, 0, dYe, d)
		j.t.gemm.Sgemm(false, true, n, d, F, 1, dUe, F, wu, F, 1, dYe, d)
	}
}

// routeOrder sorts the token-slots p = row*k + slot by expert (stably, so
// in token order within an expert): expert e's slots are perm[off[e]:off[e+1]],
// and slot p sits at position inv[p].
func routeOrder(off, perm, inv, sel []int32, E int) {
	clear(off)
	for _, e := range sel {
		off[e+1]++
	}
	for e := 0; e < E; e++ {
		off[e+1] += off[e]
	}
	// fill each expert's range in order; off[e] temporarily advances to
	// the next free position, then is restored to the range start
	for p, e := range sel {
		r := off[e]
		off[e]++
		perm[r] = int32(p)
		inv[p] = r
	}
	for e := E; e > 0; e-- {
		off[e] = off[e-1]
	}
	off[0] = 0
}

func (t *Tape) expertsBackward(o *op) {
	vh, vg, vo := &t.vals[o.a], &t.vals[o.b], &t.vals[o.out]
	N, d := vh.rows, vh.cols
	E, k, F := o.n0, o.n1, o.n2
	Nk := N * k
	j := t.expertsJob(o.ids, o.s0, E, k, d, F, o.c)
	dy, gv := vo.grad, vg.data
	if vg.needGrad { // d gate = dout . expert output
		dg, acc := t.gradDst(o.b)
		for p := 0; p < Nk; p++ {
			tok, r := p/k, int(j.inv[p])
			v := asm.Dot(dy[tok*d:(tok+1)*d], j.Y[r*d:(r+1)*d])
			if acc {
				dg[p] += v
			} else {
				dg[p] = v
			}
		}
	}
	needW := false
	for e := 0; e < 3*E; e++ {
		needW = needW || t.needs(o.c+V(e))
	}
	if needW || vh.needGrad {
		j.needX = vh.needGrad
		j.dY, j.A, j.dG, j.dU = t.pool.get(Nk*d), t.pool.get(Nk*F), t.pool.get(Nk*F), t.pool.get(Nk*F)
		for r, p := range j.perm {
			tok := int(p) / k
			row := j.dY[r*d : (r+1)*d]
			clear(row)
			asm.Axpy(gv[p], dy[tok*d:(tok+1)*d], row)
		}
		j.run(E, (*expertsJob).backward)
		if vh.needGrad { // scatter-add in token order
			dh, acc := t.gradDst(o.a)
			if !acc {
				clear(dh)
			}
			for p := 0; p < Nk; p++ {
				tok, r := p/k, int(j.inv[p])
				addTo(dh[tok*d:(tok+1)*d], j.dY[r*d:(r+1)*d])
			}
		}
		t.pool.put(j.dY)
		t.pool.put(j.A)
		t.pool.put(j.dG)
		t.pool.put(j.dU)
	}
	t.moe.job = expertsJob{} // drop references to the buffers
	if t.needs(o.d) {
		t.passGrad(o.d, o.out)
	}
}

// UpdateBalanceBias applies one step of DeepSeek-V3's auxiliary-loss-free
// load balancing (balance "bias") from load, the token counts of a training
// step summed over its tapes in the layout of Tape.ExpertLoad: each expert's
// balance_bias moves by BiasRate towards balance, up when the expert got
// fewer tokens than the mean, down when more. The counts are integers, so
// the update is the same however the step was split over tapes. It does
// nothing for other archs or balance modes.
func (m *Model) UpdateBalanceBias(load []int64) error {
	if m.Arch != ArchMoE || m.Balance != BalanceBias {
		return nil
	}
	E := m.Experts
	if len(load) != len(m.Blocks)*E {
		return fmt.Errorf("nn: UpdateBalanceBias: %d counts for %d blocks of %d experts", len(load), len(m.Blocks), E)
	}
	rate := float32(m.BiasRate)
	for l, b := range m.Blocks {
		c := load[l*E : (l+1)*E]
		var total int64
		for _, v := range c {
			total += v
		}
		for e, v := range c {
			// sign(mean - v), compared as total vs E*v to stay in integers
			switch diff := total - int64(E)*v; {
			case diff > 0:
				b.Balance.Data[e] += rate
			case diff < 0:
				b.Balance.Data[e] -= rate
			}
		}
	}
	return nil
}

// SumExpertLoad adds the ExpertLoad of each tape into dst (resized to fit
// and cleared first) and returns it: the load of a step split over tapes.
func SumExpertLoad(dst []int64, tapes ...*Tape) []int64 {
	n := 0
	if len(tapes) > 0 {
		n = len(tapes[0].moe.load)
	}
	if cap(dst) < n {
		dst = make([]int64, n)
	}
	dst = dst[:n]
	clear(dst)
	for _, t := range tapes {
		for i, v := range t.moe.load[:min(n, len(t.moe.load))] {
			dst[i] += v
		}
	}
	return dst
}
