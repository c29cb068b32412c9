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
	attentionForward(t.vals[out].data, lse, s, t.vals[qkv].data, B, T, H, D, scale)
	t.push(op{kind: opAttention, out: out, a: qkv, n0: B, n1: T, n2: H, f0: scale, s0: lse})
	return out
}

func attentionForward(y, lse, s, qkv []float32, B, T, H, D int, scale float32) {
	hd, D3 := D/H, 3*D
	for b := 0; b < B; b++ {
		base := b * T * D3
		for h := 0; h < H; h++ {
			q := qkv[base+h*hd:]
			k := qkv[base+D+h*hd:]
			v := qkv[base+2*D+h*hd:]
			o := y[b*T*D+h*hd:]
			l := lse[(b*H+h)*T : (b*H+h+1)*T]
			for r0 := 0; r0 < T; r0 += attnTile {
				r1 := min(r0+attnTile, T)
				rows, n := r1-r0, r1
				S := s[:rows*n]
				asm.Sgemm(false, true, rows, n, hd, scale, q[r0*D3:], D3, k, D3, 0, S, n)
				for i := 0; i < rows; i++ {
					p := r0 + i
					row := S[i*n : (i+1)*n]
					l[p] = softmaxCausalRow(row, p+1)
				}
				asm.Sgemm(false, false, rows, hd, n, 1, S, n, v, D3, 0, o[r0*D:], D)
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
	vq, vo := &t.vals[o.a], &t.vals[o.out]
	D := vq.cols / 3
	hd, D3 := D/H, 3*D
	qkv, y, dy, lse := vq.data, vo.data, vo.grad, o.s0
	dqkv := t.gradZeroed(o.a)
	tile := min(attnTile, T)
	P := t.pool.get(tile * T)
	dP := t.pool.get(tile * T)
	var dvec [maxAttnTile]float32
	for b := 0; b < B; b++ {
		base := b * T * D3
		for h := 0; h < H; h++ {
			off := base + h*hd
			q, k, v := qkv[off:], qkv[off+D:], qkv[off+2*D:]
			dq, dk, dv := dqkv[off:], dqkv[off+D:], dqkv[off+2*D:]
			yo, dyo := y[b*T*D+h*hd:], dy[b*T*D+h*hd:]
			l := lse[(b*H+h)*T : (b*H+h+1)*T]
			for r0 := 0; r0 < T; r0 += attnTile {
				r1 := min(r0+attnTile, T)
				rows, n := r1-r0, r1
				S, G := P[:rows*n], dP[:rows*n]
				// P = softmax(scale Q K^T), recomputed from the saved lse.
				asm.Sgemm(false, true, rows, n, hd, scale, q[r0*D3:], D3, k, D3, 0, S, n)
				for i := 0; i < rows; i++ {
					p := r0 + i
					row := S[i*n : (i+1)*n]
					w := maskPad(row, p+1)
					asm.ExpSum(row[:w], row[:w], l[p])
					clear(row[w:])
					// D_i = dO_i . O_i
					dvec[i] = asm.Dot(dyo[p*D:p*D+hd], yo[p*D:p*D+hd])
				}
				// dV[0:n] += P^T dO_tile
				asm.Sgemm(true, false, n, hd, rows, 1, S, n, dyo[r0*D:], D, 1, dv, D3)
				// dP = dO_tile V^T
				asm.Sgemm(false, true, rows, n, hd, 1, dyo[r0*D:], D, v, D3, 0, G, n)
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
				asm.Sgemm(false, false, rows, hd, n, scale, G, n, k, D3, 1, dq[r0*D3:], D3)
				asm.Sgemm(true, false, n, hd, rows, scale, G, n, q[r0*D3:], D3, 1, dk, D3)
			}
		}
	}
	t.pool.put(P)
	t.pool.put(dP)
}
