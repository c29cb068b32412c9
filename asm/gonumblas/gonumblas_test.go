package gonumblas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans}

// TestSgemmMatchesGonum compares Implementation.Sgemm with gonum's own on
// random shapes, transposes, scalars and strides.
func TestSgemmMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ours, ref := Implementation{}, gonum.Implementation{}
	for trial := 0; trial < 200; trial++ {
		tA, tB := transposes[rng.IntN(3)], transposes[rng.IntN(3)]
		m, n, k := 1+rng.IntN(70), 1+rng.IntN(70), rng.IntN(70)
		alpha := []float32{0, 1, -0.5, 2}[rng.IntN(4)]
		beta := []float32{0, 1, -0.5, 2}[rng.IntN(4)]
		ar, ac := m, k
		if tA != blas.NoTrans {
			ar, ac = k, m
		}
		br, bc := k, n
		if tB != blas.NoTrans {
			br, bc = n, k
		}
		lda, ldb, ldc := max(1, ac)+rng.IntN(3), max(1, bc)+rng.IntN(3), n+rng.IntN(3)
		a := randSlice(rng, max(0, (ar-1)*lda+ac))
		b := randSlice(rng, max(0, (br-1)*ldb+bc))
		c1 := randSlice(rng, (m-1)*ldc+n)
		c2 := append([]float32(nil), c1...)
		ours.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c1, ldc)
		ref.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c2, ldc)
		for i := range c1 {
			if d := math.Abs(float64(c1[i] - c2[i])); d > 1e-5*float64(k+1) {
				t.Fatalf("%c%c m=%d n=%d k=%d alpha=%v beta=%v: c[%d] = %v, gonum %v",
					tA, tB, m, n, k, alpha, beta, i, c1[i], c2[i])
			}
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// TestSgemmPanicsLikeGonum checks that bad arguments panic with the message
// gonum's own Sgemm gives.
func TestSgemmPanicsLikeGonum(t *testing.T) {
	buf := make([]float32, 50)
	calls := []struct {
		tA, tB        blas.Transpose
		m, n, k       int
		lda, ldb, ldc int
		la, lb, lc    int
	}{
		{'x', blas.NoTrans, 2, 2, 2, 2, 2, 2, 50, 50, 50},
		{blas.NoTrans, 'y', 2, 2, 2, 2, 2, 2, 50, 50, 50},
		{blas.NoTrans, blas.NoTrans, -1, 2, 2, 2, 2, 2, 50, 50, 50},
		{blas.NoTrans, blas.NoTrans, 2, -1, 2, 2, 2, 2, 50, 50, 50},
		{blas.NoTrans, blas.NoTrans, 2, 2, -1, 2, 2, 2, 50, 50, 50},
		{blas.NoTrans, blas.NoTrans, 2, 2, 3, 2, 2, 2, 50, 50, 50},
		{blas.Trans, blas.NoTrans, 3, 2, 2, 2, 2, 2, 50, 50, 50},
		{blas.NoTrans, blas.Trans, 2, 2, 3, 3, 2, 2, 50, 50, 50},
		{blas.NoTrans, blas.NoTrans, 2, 3, 2, 2, 3, 2, 50, 50, 50},
		{blas.NoTrans, blas.NoTrans, 5, 2, 5, 5, 2, 2, 10, 50, 50},
		{blas.NoTrans, blas.NoTrans, 2, 2, 5, 5, 2, 2, 50, 5, 50},
		{blas.NoTrans, blas.NoTrans, 2, 2, 2, 2, 2, 2, 50, 50, 3},
		{blas.NoTrans, blas.NoTrans, 0, 2, 2, 2, 2, 2, 0, 0, 0}, // no panic
	}
	catch := func(f func()) (msg string) {
		defer func() {
			if r := recover(); r != nil {
				msg = fmt.Sprint(r)
			}
		}()
		f()
		return ""
	}
	for _, c := range calls {
		got := catch(func() {
			Implementation{}.Sgemm(c.tA, c.tB, c.m, c.n, c.k, 1, buf[:c.la], c.lda, buf[:c.lb], c.ldb, 0, make([]float32, c.lc), c.ldc)
		})
		want := catch(func() {
			gonum.Implementation{}.Sgemm(c.tA, c.tB, c.m, c.n, c.k, 1, buf[:c.la], c.lda, buf[:c.lb], c.ldb, 0, make([]float32, c.lc), c.ldc)
		})
		if got != want {
			t.Errorf("%+v: panic %q, gonum %q", c, got, want)
		}
	}
}
