package nn

import "fmt"

// Embedding gathers rows of table: out[i] = table[ids[i]]. Its backward
// scatter-adds into the table's gradient (in id order, so deterministic).
// ids must stay unchanged until Backward; they are checked by the caller
// (Model.Forward) and here again.
func (t *Tape) Embedding(table V, ids []int32) V {
	vt := &t.vals[table]
	rows, d := vt.rows, vt.cols
	out := t.newValue(len(ids), d, vt.needGrad)
	y, w := t.vals[out].data, vt.data
	for i, id := range ids {
		if id < 0 || int(id) >= rows {
			panic(fmt.Sprintf("nn: Embedding id %d at %d outside [0,%d)", id, i, rows))
		}
		copy(y[i*d:(i+1)*d], w[int(id)*d:int(id)*d+d])
	}
	t.push(op{kind: opEmbedding, out: out, a: table, ids: ids})
	return out
}

func (t *Tape) embeddingBackward(o *op) {
	vt := &t.vals[o.a]
	d := vt.cols
	g := t.vals[o.out].grad
	dw := t.gradZeroed(o.a)
	for i, id := range o.ids {
		addTo(dw[int(id)*d:int(id)*d+d], g[i*d:(i+1)*d])
	}
}
