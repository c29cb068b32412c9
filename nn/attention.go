package nn

import (
	"fmt"
	"math"

	"github.com/sproutml/sprout/asm"
)

// attnTile is the number of query rows processed together. Each tile's
// scores against its causal key range (at most T keys) are computed with one
// GEMM, so scratch is attnTile*T floats however long the context: memory is
// O(T) per head row, and the masked upper triangle is skipped tile by tile.
var attnTile = 32

const maxAttnTile = 64 // bound of attnTile (tests lower attnTile to exercise tiling)

// Attention is fused causal multi-head self-attention. qkv is (B*T) x 3D, the
// output of the qkv projection, with columns [q heads | k heads | v heads] and
// each head's HeadDim columns contiguous; the result is (B*T) x D with the
// heads side by side, ready for the output projection.
//
// Q, K and V are read in place through GEMM leading dimensions (no
// transposes). For each (batch, head) and tile of query rows it computes
// S = scale * Q K^T against keys 0..end-of-tile, applies the causal mask and an
// exact row softmax, and multiplies by V. It keeps only the output and each
// row's log-sum-exp; the backward recomputes the probabilities from them, as
// FlashAttention does.
func (t *Tape) Attention(qkv V, B, T, H int, scale float32) V {
	vq := &t.vals[qkv]
	if vq.rows != B*T || vq.cols%3 != 0 || (vq.cols/3)%H != 0 {
		panic(fmt.Sprintf("nn: Attention input %dx%d for B=%d T=%d H=%d", vq.rows, vq.cols, B, T, H))
	}
	D := vq.cols / 3
	out := t.newValue(B*T, D, vq.needGrad)
	lse := t.act.get(B * H * T)
	s := t.act.get(min(attnTile, T) * T)
	x := t.vals[qkv].data
	l := attnLayout{q: x, k: x[D:], v: x[2*D:], ldq: 3 * D, ldk: 3 * D, ldv: 3 * D, B: B, T: T, H: H, KVH: H, hd: D / H}
	l.gemm = t.gemm
	attentionForward(t.vals[out].data, lse, s, &l, scale)
	t.push(op{kind: opAttention, out: out, a: qkv, b: -1, c: -1, d: -1, n0: B, n1: T, n2: H, f0: scale, s0: lse})
	return out
}

// AttentionGQA is fused causal grouped-query attention with separate inputs:
// q is (B*T) x (H*hd), k and v are (B*T) x (KVH*hd), heads contiguous; query
// head h reads key/value head h/(H/KVH). KVH == H is plain multi-head
// attention (the same kernel as Attention). The result is (B*T) x (H*hd).
func (t *Tape) AttentionGQA(q, k, v V, B, T, H, KVH int, scale float32) V {
	vq, vk, vv := &t.vals[q], &t.vals[k], &t.vals[v]
	if KVH < 1 || H%KVH != 0 || vq.rows != B*T || vq.cols%H != 0 ||
		vk.rows != B*T || vv.rows != B*T || vk.cols != vq.cols/H*KVH || vv.cols != vk.cols {
		panic(fmt.Sprintf("nn: AttentionGQA q %dx%d, k %dx%d, v %dx%d for B=%d T=%d H=%d KVH=%d",
			vq.rows, vq.cols, vk.rows, vk.cols, vv.rows, vv.cols, B, T, H, KVH))
	}
	D, KD := vq.cols, vk.cols
	out := t.newValue(B*T, D, vq.needGrad || vk.needGrad || vv.needGrad)
	lse := t.act.get(B * H * T)
	s := t.act.get(min(attnTile, T) * T)
	l := attnLayout{q: t.vals[q].data, k: t.vals[k].data, v: t.vals[v].data, ldq: D, ldk: KD, ldv: KD, B: B, T: T, H: H, KVH: KVH, hd: D / H}
	l.gemm = t.gemm
	attentionForward(t.vals[out].data, lse, s, &l, scale)
	t.push(op{kind: opAttention, out: out, a: q, b: k, c: v, n0: B, n1: T, n2: H, n3: KVH, f0: scale, s0: lse})
	return out
}

// attnLayout locates Q, K and V (or their gradients): row r of batch b, head
// h starts at q[(b*T+r)*ldq + h*hd], and query head h uses key/value head
// h/(H/KVH).
type attnLayout struct {
	q, k, v       []float32
	ldq, ldk, ldv int
	B, T, H, KVH  int
	hd            int
	gemm          asm.Bound
}

// attentionForward writes the attention output y ((B*T) x H*hd) and each
// row's log-sum-exp, with s (tile*T) as scratch.
func attentionForward(y, lse, s []float32, l *attnLayout, scale float32) {
	B, T, H, hd := l.B, l.T, l.H, l.hd
	D, group := H*hd, H/l.KVH
	for b := 0; b < B; b++ {
		for h := 0; h < H; h++ {
			kh := h / group
			q := l.q[b*T*l.ldq+h*hd:]
			k := l.k[b*T*l.ldk+kh*hd:]
			v := l.v[b*T*l.ldv+kh*hd:]
			o := y[b*T*D+h*hd:]
			ls := lse[(b*H+h)*T : (b*H+h+1)*T]
			for r0 := 0; r0 < T; r0 += attnTile {
				r1 := min(r0+attnTile, T)
				rows, n := r1-r0, r1
				S := s[:rows*n]
				l.gemm.Sgemm(false, true, rows, n, hd, scale, q[r0*l.ldq:], l.ldq, k, l.ldk, 0, S, n)
				for i := 0; i < rows; i++ {
					p := r0 + i
					row := S[i*n : (i+1)*n]
					ls[p] = softmaxCausalRow(row, p+1)
				}
				l.gemm.Sgemm(false, false, rows, hd, n, 1, S, n, v, l.ldv, 0, o[r0*D:], D)
			}
		}
	}
}

// softmaxCausalRow replaces row[:valid] by its softmax and zeroes the rest;
// it returns the log-sum-exp of row[:valid].
func softmaxCausalRow(row []float32, valid int) float32 {
	mx := asm.Max(row[:valid])
	x := row[:maskPad(row, valid)]
	sum := asm.ExpSum(x, x, mx)
	asm.Scale(1/sum, x)
	clear(row[len(x):])
	return mx + float32(math.Log(float64(sum)))
}

// maskPad sets row[valid:w] to -Inf, w being valid rounded up to a multiple
// of 8 (at most len(row)), and returns w. An exponential over row[:w] is
// then the same as over row[:valid] (exp(-Inf) = 0 adds nothing), but the
// SIMD kernels take all of it, with no scalar tail.
func maskPad(row []float32, valid int) int {
	w := min((valid+7)&^7, len(row))
	for j := valid; j < w; j++ {
		row[j] = float32(math.Inf(-1))
	}
	return w
}

func (t *Tape) attentionBackward(o *op) {
	B, T, H, scale := o.n0, o.n1, o.n2, o.f0
	vo := &t.vals[o.out]
	var l, dl attnLayout
	if o.b < 0 { // fused qkv (Attention)
		vq := &t.vals[o.a]
		D := vq.cols / 3
		x, dx := vq.data, t.gradZeroed(o.a)
		l = attnLayout{q: x, k: x[D:], v: x[2*D:], ldq: 3 * D, ldk: 3 * D, ldv: 3 * D, B: B, T: T, H: H, KVH: H, hd: D / H}
		dl = l
		dl.q, dl.k, dl.v = dx, dx[D:], dx[2*D:]
	} else { // separate q, k, v (AttentionGQA)
		vq, vk, vv := &t.vals[o.a], &t.vals[o.b], &t.vals[o.c]
		D, KD := vq.cols, vk.cols
		l = attnLayout{q: vq.data, k: vk.data, v: vv.data, ldq: D, ldk: KD, ldv: KD, B: B, T: T, H: H, KVH: o.n3, hd: D / H}
		dl = l
		// every input gets a gradient buffer; ones nobody needs are
		// dropped with the tape (they are rare: q, k and v come from
		// trained projections)
		dl.q, dl.k, dl.v = t.gradZeroed(o.a), t.gradZeroed(o.b), t.gradZeroed(o.c)
	}
	l.gemm = t.gemm
	attentionBackward(&l, &dl, vo.data, vo.grad, o.s0, scale, &t.pool)
}

// attentionBackward accumulates the gradients of Q, K and V (laid out as dl)
// from the output y, its gradient dy and the saved log-sum-exps.
func attentionBackward(l, dl *attnLayout, y, dy, lse []float32, scale float32, pl *pool) {
	B, T, H, hd := l.B, l.T, l.H, l.hd
	D, group := H*hd, H/l.KVH
	tile := min(attnTile, T)
	P := pl.get(tile * T)
	dP := pl.get(tile * T)
	var dvec [maxAttnTile]float32
	for b := 0; b < B; b++ {
		for h := 0; h < H; h++ {
			kh := h / group
			qo, ko, vo := b*T*l.ldq+h*hd, b*T*l.ldk+kh*hd, b*T*l.ldv+kh*hd
			q, k, v := l.q[qo:], l.k[ko:], l.v[vo:]
			dq, dk, dv := dl.q[qo:], dl.k[ko:], dl.v[vo:]
			yo, dyo := y[b*T*D+h*hd:], dy[b*T*D+h*hd:]
			ls := lse[(b*H+h)*T : (b*H+h+1)*T]
			for r0 := 0; r0 < T; r0 += attnTile {
				r1 := min(r0+attnTile, T)
				rows, n := r1-r0, r1
				S, G := P[:rows*n], dP[:rows*n]
				// P = softmax(scale Q K^T), recomputed from the saved lse.
				l.gemm.Sgemm(false, true, rows, n, hd, scale, q[r0*l.ldq:], l.ldq, k, l.ldk, 0, S, n)
				for i := 0; i < rows; i++ {
					p := r0 + i
					row := S[i*n : (i+1)*n]
					w := maskPad(row, p+1)
					asm.ExpSum(row[:w], row[:w], ls[p])
					clear(row[w:])
					// D_i = dO_i . O_i
					dvec[i] = asm.Dot(dyo[p*D:p*D+hd], yo[p*D:p*D+hd])
				}
				// dV[0:n] += P^T dO_tile
				l.gemm.Sgemm(true, false, n, hd, rows, 1, S, n, dyo[r0*D:], D, 1, dv, l.ldv)
				// dP = dO_tile V^T
				l.gemm.Sgemm(false, true, rows, n, hd, 1, dyo[r0*D:], D, v, l.ldv, 0, G, n)
				// dS = P * (dP - D_i) (zero where masked, since P is); the
				// score scale goes into the GEMMs' alpha.
				for i := 0; i < rows; i++ {
					// keys this query sees, padded as maskPad did (P is 0
					// in the padding, so dS is too)
					v := min((r0+i+1+7)&^7, n)
					pr := S[i*n : i*n+v]
					gr := G[i*n : (i+1)*n]
					asm.Mul(gr[:v], gr[:v], pr)
					asm.Axpy(-dvec[i], pr, gr[:v])
					clear(gr[v:])
				}
				// dQ_tile += scale dS K,  dK[0:n] += scale dS^T Q_tile
				l.gemm.Sgemm(false, false, rows, hd, n, scale, G, n, k, l.ldk, 1, dq[r0*l.ldq:], l.ldq)
				l.gemm.Sgemm(true, false, n, hd, rows, scale, G, n, q[r0*l.ldq:], l.ldq, 1, dk, l.ldk)
			}
		}
	}
	pl.put(P)
	pl.put(dP)
}
