package asm

// Sgemm computes C = alpha*op(A)*op(B) + beta*C with BLAS semantics on
// row-major matrices: op(A) is m x k, op(B) is k x n, C is m x n. With transA,
// A is stored k x m (op(A) = A^T); with transB, B is stored n x k. lda, ldb and
// ldc are the row strides in elements. beta == 0 overwrites C: NaNs already in
// C do not leak into the result.
//
// PLACEHOLDER: a correct but slow triple loop, to be replaced by the packed,
// register-tiled, multi-threaded implementation.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// SetThreads bounds the number of goroutines Sgemm uses (n < 1 means
// GOMAXPROCS). PLACEHOLDER.
func SetThreads(n int) {}

// Threads reports the bound set by SetThreads. PLACEHOLDER.
func Threads() int { return 1 }
