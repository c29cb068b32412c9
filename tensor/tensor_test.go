package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naive reference: c[b] = op(a[b]) x op(b[b]) in float64.
func refMatMul(a, b []float32, batch, m, n, k int, ta, tb, bBroadcast bool) []float64 {
	out := make([]float64, batch*m*n)
	for bi := 0; bi < batch; bi++ {
		ao := a[bi*m*k:]
		bo := b
		if !bBroadcast {
			bo = b[bi*k*n:]
		}
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for p := 0; p < k; p++ {
					av := ao[i*k+p]
					if ta {
						av = ao[p*m+i]
					}
					bv := bo[p*n+j]
					if tb {
						bv = bo[j*k+p]
					}
					s += float64(av) * float64(bv)
				}
				out[bi*m*n+i*n+j] = s
			}
		}
	}
	return out
}

func TestMatMulAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ batch, m, n, k int }{{1, 1, 1, 1}, {1, 3, 5, 7}, {2, 4, 3, 5}, {3, 7, 1, 9}, {1, 17, 13, 11}} {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for _, bcast := range []bool{false, true} {
					as := []int{tc.batch, tc.m, tc.k}
					if ta {
						as = []int{tc.batch, tc.k, tc.m}
					}
					bs := []int{tc.batch, tc.k, tc.n}
					if tb {
						bs = []int{tc.batch, tc.n, tc.k}
					}
					if bcast {
						bs = bs[1:]
					}
					a := RandN(rng, 1, as...)
					b := RandN(rng, 1, bs...)
					c, err := MatMul(a, b, ta, tb)
					if err != nil {
						t.Fatal(err)
					}
					want := refMatMul(a.Data, b.Data, tc.batch, tc.m, tc.n, tc.k, ta, tb, bcast)
					if got := c.Shape; got[0] != tc.batch || got[1] != tc.m || got[2] != tc.n {
						t.Fatalf("shape %v", got)
					}
					for i, w := range want {
						if math.Abs(float64(c.Data[i])-w) > 1e-4*(1+math.Abs(w)) {
							t.Fatalf("%+v ta=%v tb=%v bcast=%v: c[%d]=%v want %v", tc, ta, tb, bcast, i, c.Data[i], w)
						}
					}
				}
			}
		}
	}
}

func TestMatMulAlphaBeta(t *testing.T) {
	a, _ := FromData([]float32{1, 2, 3, 4}, 2, 2)
	b, _ := FromData([]float32{1, 0, 0, 1}, 2, 2)
	c, _ := FromData([]float32{10, 10, 10, 10}, 2, 2)
	if err := MatMulInto(c, a, b, false, false, 2, 0.5); err != nil {
		t.Fatal(err)
	}
	want := []float32{7, 9, 11, 13}
	for i := range want {
		if c.Data[i] != want[i] {
			t.Fatalf("got %v want %v", c.Data, want)
		}
	}
}

func TestMatMulErrors(t *testing.T) {
	a := New(2, 3)
	b := New(4, 5)
	if _, err := MatMul(a, b, false, false); err == nil {
		t.Fatal("inner dimension mismatch accepted")
	}
	if _, err := MatMul(New(3), b, false, false); err == nil {
		t.Fatal("1-D operand accepted")
	}
	if _, err := MatMul(New(2, 2, 3), New(3, 3, 4), false, false); err == nil {
		t.Fatal("batch mismatch accepted")
	}
	if err := MatMulInto(New(2, 5), a, New(3, 4), false, false, 1, 0); err == nil {
		t.Fatal("wrong dst shape accepted")
	}
}

func TestReshapeSharesData(t *testing.T) {
	x := New(2, 3, 4)
	v, err := x.Reshape(6, -1)
	if err != nil {
		t.Fatal(err)
	}
	if v.Shape[0] != 6 || v.Shape[1] != 4 {
		t.Fatalf("shape %v", v.Shape)
	}
	v.Set(5, 5, 3)
	if x.At(1, 2, 3) != 5 {
		t.Fatal("reshape does not share data")
	}
	if _, err := x.Reshape(5, 5); err == nil {
		t.Fatal("bad reshape accepted")
	}
	if _, err := x.Reshape(-1, -1); err == nil {
		t.Fatal("two -1 accepted")
	}
	if _, err := x.Reshape(7, -1); err == nil {
		t.Fatal("indivisible -1 accepted")
	}
	r := x.Row(1)
	r.Data[0] = 9
	if x.At(1, 0, 0) != 9 || len(r.Shape) != 2 {
		t.Fatal("Row is not a view")
	}
}

func TestFromDataAndRandN(t *testing.T) {
	if _, err := FromData(make([]float32, 5), 2, 3); err == nil {
		t.Fatal("size mismatch accepted")
	}
	if _, err := FromData(nil, -1); err == nil {
		t.Fatal("negative dimension accepted")
	}
	a := RandN(rand.New(rand.NewPCG(7, 7)), 0.5, 1000)
	b := RandN(rand.New(rand.NewPCG(7, 7)), 0.5, 1000)
	var s, ss float64
	for i := range a.Data {
		if a.Data[i] != b.Data[i] {
			t.Fatal("RandN not deterministic")
		}
		s += float64(a.Data[i])
		ss += float64(a.Data[i]) * float64(a.Data[i])
	}
	std := math.Sqrt(ss/1000 - (s/1000)*(s/1000))
	if std < 0.45 || std > 0.55 {
		t.Fatalf("std %v, want ~0.5", std)
	}
}

func TestElementwise(t *testing.T) {
	a, _ := FromData([]float32{1, 2, 3}, 3)
	b, _ := FromData([]float32{4, 5, 6}, 3)
	c := New(3)
	if err := Add(c, a, b); err != nil || c.Data[2] != 9 {
		t.Fatal("Add", c.Data, err)
	}
	if err := Mul(c, a, b); err != nil || c.Data[1] != 10 {
		t.Fatal("Mul", c.Data, err)
	}
	if err := Axpy(2, a, c); err != nil || c.Data[0] != 6 {
		t.Fatal("Axpy", c.Data, err)
	}
	c.Scale(0.5)
	if c.Data[0] != 3 || c.Sum() != 22 || c.Max() != 12 {
		t.Fatal("Scale/Sum/Max", c.Data)
	}
	if err := Add(c, a, New(4)); err == nil {
		t.Fatal("shape mismatch accepted")
	}
}
