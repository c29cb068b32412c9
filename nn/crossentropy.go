package nn

import (
	"fmt"
	"math"

	"github.com/sproutml/sprout/asm"
)

// CrossEntropy is the mean over rows of -log softmax(logits)[target], fused
// with the log-softmax: logits is N x vocab, targets has N entries; a negative
// target marks a row to ignore (it counts in neither sum nor mean). The result
// is a 1 x 1 value. Its backward writes softmax - onehot (scaled) straight
// into the logits' gradient, so no probability matrix is kept.
func (t *Tape) CrossEntropy(logits V, targets []int32) V {
	vl := &t.vals[logits]
	N, C := vl.rows, vl.cols
	if len(targets) != N {
		panic(fmt.Sprintf("nn: CrossEntropy with %d targets for %d rows", len(targets), N))
	}
	out := t.newValue(1, 1, vl.needGrad)
	lse := t.act.get(N)
	tmp := t.act.get(C)
	x := vl.data
	var loss float64
	count := 0
	for i, tg := range targets {
		row := x[i*C : (i+1)*C]
		lse[i] = logSumExp(row, tmp)
		if tg < 0 {
			continue
		}
		if int(tg) >= C {
			panic(fmt.Sprintf("nn: CrossEntropy target %d at %d outside [0,%d)", tg, i, C))
		}
		loss += float64(lse[i] - row[tg])
		count++
	}
	if count > 0 {
		loss /= float64(count)
	}
	t.vals[out].data[0] = float32(loss)
	t.push(op{kind: opCrossEntropy, out: out, a: logits, ids: targets, n0: count, s0: lse})
	return out
}

// logSumExp returns log(sum(exp(row))) using tmp (len(row)) as scratch.
func logSumExp(row, tmp []float32) float32 {
	mx := asm.Max(row)
	return mx + float32(math.Log(float64(asm.ExpSum(tmp[:len(row)], row, mx))))
}

func (t *Tape) crossEntropyBackward(o *op) {
	vl := &t.vals[o.a]
	N, C := vl.rows, vl.cols
	if o.n0 == 0 {
		return
	}
	scale := t.vals[o.out].grad[0] / float32(o.n0)
	dl, acc := t.gradDst(o.a)
	var tmp []float32
	if acc {
		tmp = t.pool.get(C)
	}
	for i, tg := range o.ids {
		row := vl.data[i*C : (i+1)*C]
		d := dl[i*C : (i+1)*C]
		if tg < 0 {
			if !acc {
				clear(d)
			}
			continue
		}
		dst := d
		if acc {
			dst = tmp
		}
		asm.ExpSum(dst, row, o.s0[i])
		asm.Scale(scale, dst)
		dst[tg] -= scale
		if acc {
			addTo(d, dst)
		}
	}
	if acc {
		t.pool.put(tmp)
	}
	_ = N
}
