//go:build arm64 && gc && !purego && !noasm

package asm

// NEON (Advanced SIMD) forms of the vector kernels (vec_arm64.s). Each
// takes a count n that is a positive multiple of 4 (one 128-bit register);
// the dispatchers below pass the largest such prefix and finish the tail
// with the pure-Go twin.

// Go equivalents of the stubs, with xs = unsafe.Slice(x, n) and so on, n a
// positive multiple of 4 (the reductions differ from the generic
// twins only in summation order, Axpy and Exp in using fused multiply-adds):

// vecDotNEON(x, y, n) == vecDotGeneric(xs, ys)
//
//go:noescape
func vecDotNEON(x, y *float32, n int) float32

// vecSumNEON(x, n) == vecSumGeneric(xs)
//
//go:noescape
func vecSumNEON(x *float32, n int) float32

// vecMaxNEON(x, n) == vecMaxGeneric(xs): NaN if any element is NaN
//
//go:noescape
func vecMaxNEON(x *float32, n int) float32

// vecAxpyNEON(alpha, x, y, n): vecAxpyGeneric(alpha, xs, ys)
//
//go:noescape
func vecAxpyNEON(alpha float32, x, y *float32, n int)

// vecScaleNEON(alpha, x, n): vecScaleGeneric(alpha, xs)
//
//go:noescape
func vecScaleNEON(alpha float32, x *float32, n int)

// vecAddNEON(dst, x, y, n): vecAddGeneric(dsts, xs, ys)
//
//go:noescape
func vecAddNEON(dst, x, y *float32, n int)

// vecMulNEON(dst, x, y, n): vecMulGeneric(dsts, xs, ys)
//
//go:noescape
func vecMulNEON(dst, x, y *float32, n int)

// vecExpSumNEON(shift, dst, x, n) == vecExpSumGeneric(dsts, xs, shift):
// dst[i] = vecExp1(x[i]-shift), returns the sum of the dst[i]
//
//go:noescape
func vecExpSumNEON(shift float32, dst, x *float32, n int) float32

func vecDot(x, y []float32) float32 {
	if useNEON && len(x) >= 4 {
		n := len(x) &^ 3
		return vecDotNEON(&x[0], &y[0], n) + vecDotGeneric(x[n:], y[n:])
	}
	return vecDotGeneric(x, y)
}

func vecSum(x []float32) float32 {
	if useNEON && len(x) >= 4 {
		n := len(x) &^ 3
		return vecSumNEON(&x[0], n) + vecSumGeneric(x[n:])
	}
	return vecSumGeneric(x)
}

func vecMax(x []float32) float32 {
	if useNEON && len(x) >= 4 {
		n := len(x) &^ 3
		return max(vecMaxNEON(&x[0], n), vecMaxGeneric(x[n:])) // max keeps a NaN
	}
	return vecMaxGeneric(x)
}

func vecAxpy(alpha float32, x, y []float32) {
	if useNEON && len(x) >= 4 {
		n := len(x) &^ 3
		vecAxpyNEON(alpha, &x[0], &y[0], n)
		x, y = x[n:], y[n:]
	}
	vecAxpyGeneric(alpha, x, y)
}

func vecScale(alpha float32, x []float32) {
	if useNEON && len(x) >= 4 {
		n := len(x) &^ 3
		vecScaleNEON(alpha, &x[0], n)
		x = x[n:]
	}
	vecScaleGeneric(alpha, x)
}

func vecAdd(dst, x, y []float32) {
	if useNEON && len(dst) >= 4 {
		n := len(dst) &^ 3
		vecAddNEON(&dst[0], &x[0], &y[0], n)
		dst, x, y = dst[n:], x[n:], y[n:]
	}
	vecAddGeneric(dst, x, y)
}

func vecMul(dst, x, y []float32) {
	if useNEON && len(dst) >= 4 {
		n := len(dst) &^ 3
		vecMulNEON(&dst[0], &x[0], &y[0], n)
		dst, x, y = dst[n:], x[n:], y[n:]
	}
	vecMulGeneric(dst, x, y)
}

func vecExpSum(dst, x []float32, shift float32) float32 {
	if useNEON && len(dst) >= 4 {
		n := len(dst) &^ 3
		s := vecExpSumNEON(shift, &dst[0], &x[0], n)
		return s + vecExpSumGeneric(dst[n:], x[n:], shift)
	}
	return vecExpSumGeneric(dst, x, shift)
}

// Stubs of the fused kernels (gelu.go, adamw.go, layernorm.go), n a positive
// multiple of 4 as above; they differ from the twins only in fusing
// multiply-adds and, for the reductions, in summation order (AdamW not even
// that: its bits match):

// vecGELUNEON(dst, x, n): vecGELUGeneric(dsts, xs)
//
//go:noescape
func vecGELUNEON(dst, x *float32, n int)

// vecGELUBackwardNEON(dx, x, dy, n): vecGELUBackwardGeneric(dxs, xs, dys)
//
//go:noescape
func vecGELUBackwardNEON(dx, x, dy *float32, n int)

// vecAdamWNEON(w, grad, m, v, n, k): vecAdamWGeneric(ws, grads, ms, vs, k)
//
//go:noescape
func vecAdamWNEON(w, grad, m, v *float32, n int, k *adamCoef)

// vecSqDevNEON(x, n, mean) == vecSqDevGeneric(xs, mean)
//
//go:noescape
func vecSqDevNEON(x *float32, n int, mean float32) float32

// vecLNForwardNEON(y, x, w, b, n, mean, rstd): vecLNForwardGeneric(ys, xs, ws, bs, mean, rstd)
//
//go:noescape
func vecLNForwardNEON(y, x, w, b *float32, n int, mean, rstd float32)

// vecLNSumsNEON(dw, db, x, dy, w, n, mean, rstd) == vecLNSumsGeneric(dws, dbs, xs, dys, ws, mean, rstd)
//
//go:noescape
func vecLNSumsNEON(dw, db, x, dy, w *float32, n int, mean, rstd float32) (s1, s2 float32)

// vecLNDxNEON(dx, x, dy, w, n, mean, rstd, a, c): vecLNDxGeneric(dxs, xs, dys, ws, mean, rstd, a, c)
//
//go:noescape
func vecLNDxNEON(dx, x, dy, w *float32, n int, mean, rstd, a, c float32)

func vecGELU(dst, x []float32) {
	if useNEON && len(dst) >= 4 {
		n := len(dst) &^ 3
		vecGELUNEON(&dst[0], &x[0], n)
		dst, x = dst[n:], x[n:]
	}
	vecGELUGeneric(dst, x)
}

func vecGELUBackward(dx, x, dy []float32) {
	if useNEON && len(dx) >= 4 {
		n := len(dx) &^ 3
		vecGELUBackwardNEON(&dx[0], &x[0], &dy[0], n)
		dx, x, dy = dx[n:], x[n:], dy[n:]
	}
	vecGELUBackwardGeneric(dx, x, dy)
}

func vecAdamW(w, g, m, v []float32, k *adamCoef) {
	if useNEON && len(w) >= 4 {
		n := len(w) &^ 3
		vecAdamWNEON(&w[0], &g[0], &m[0], &v[0], n, k)
		w, g, m, v = w[n:], g[n:], m[n:], v[n:]
	}
	vecAdamWGeneric(w, g, m, v, k)
}

func vecSqDev(x []float32, mean float32) float32 {
	if useNEON && len(x) >= 4 {
		n := len(x) &^ 3
		return vecSqDevNEON(&x[0], n, mean) + vecSqDevGeneric(x[n:], mean)
	}
	return vecSqDevGeneric(x, mean)
}

func vecLNForward(y, x, w, b []float32, mean, rstd float32) {
	if useNEON && len(y) >= 4 {
		n := len(y) &^ 3
		vecLNForwardNEON(&y[0], &x[0], &w[0], &b[0], n, mean, rstd)
		y, x, w, b = y[n:], x[n:], w[n:], b[n:]
	}
	vecLNForwardGeneric(y, x, w, b, mean, rstd)
}

func vecLNSums(dw, db, x, dy, w []float32, mean, rstd float32) (s1, s2 float32) {
	if useNEON && len(x) >= 4 {
		n := len(x) &^ 3
		s1, s2 = vecLNSumsNEON(&dw[0], &db[0], &x[0], &dy[0], &w[0], n, mean, rstd)
		dw, db, x, dy, w = dw[n:], db[n:], x[n:], dy[n:], w[n:]
	}
	t1, t2 := vecLNSumsGeneric(dw, db, x, dy, w, mean, rstd)
	return s1 + t1, s2 + t2
}

func vecLNDx(dx, x, dy, w []float32, mean, rstd, a, c float32) {
	if useNEON && len(dx) >= 4 {
		n := len(dx) &^ 3
		vecLNDxNEON(&dx[0], &x[0], &dy[0], &w[0], n, mean, rstd, a, c)
		dx, x, dy, w = dx[n:], x[n:], dy[n:], w[n:]
	}
	vecLNDxGeneric(dx, x, dy, w, mean, rstd, a, c)
}
