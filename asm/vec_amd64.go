//go:build amd64 && gc && !purego && !noasm

package asm

// AVX2+FMA forms of the vector kernels (vec_amd64.s). They also serve the
// AVX-512 path, where useAVX2 is true as well. Each takes a count n that is
// a positive multiple of 8 (one ymm register); the dispatchers below pass
// the largest such prefix and finish the tail with the pure-Go twin.

// Go equivalents of the stubs, with xs = unsafe.Slice(x, n) and so on, n a
// positive multiple of 8 (the reductions differ from the generic
// twins only in summation order, Axpy and Exp in using fused multiply-adds):

// vecDotAVX2(x, y, n) == vecDotGeneric(xs, ys)
//
//go:noescape
func vecDotAVX2(x, y *float32, n int) float32

// vecSumAVX2(x, n) == vecSumGeneric(xs)
//
//go:noescape
func vecSumAVX2(x *float32, n int) float32

// vecMaxAVX2(x, n) == vecMaxGeneric(xs): NaN if any element is NaN
//
//go:noescape
func vecMaxAVX2(x *float32, n int) float32

// vecAxpyAVX2(alpha, x, y, n): vecAxpyGeneric(alpha, xs, ys)
//
//go:noescape
func vecAxpyAVX2(alpha float32, x, y *float32, n int)

// vecScaleAVX2(alpha, x, n): vecScaleGeneric(alpha, xs)
//
//go:noescape
func vecScaleAVX2(alpha float32, x *float32, n int)

// vecAddAVX2(dst, x, y, n): vecAddGeneric(dsts, xs, ys)
//
//go:noescape
func vecAddAVX2(dst, x, y *float32, n int)

// vecMulAVX2(dst, x, y, n): vecMulGeneric(dsts, xs, ys)
//
//go:noescape
func vecMulAVX2(dst, x, y *float32, n int)

// vecExpSumAVX2(shift, dst, x, n) == vecExpSumGeneric(dsts, xs, shift):
// dst[i] = vecExp1(x[i]-shift), returns the sum of the dst[i]
//
//go:noescape
func vecExpSumAVX2(shift float32, dst, x *float32, n int) float32

func vecDot(x, y []float32) float32 {
	if useAVX2 && len(x) >= 8 {
		n := len(x) &^ 7
		return vecDotAVX2(&x[0], &y[0], n) + vecDotGeneric(x[n:], y[n:])
	}
	return vecDotGeneric(x, y)
}

func vecSum(x []float32) float32 {
	if useAVX2 && len(x) >= 8 {
		n := len(x) &^ 7
		return vecSumAVX2(&x[0], n) + vecSumGeneric(x[n:])
	}
	return vecSumGeneric(x)
}

func vecMax(x []float32) float32 {
	if useAVX2 && len(x) >= 8 {
		n := len(x) &^ 7
		return max(vecMaxAVX2(&x[0], n), vecMaxGeneric(x[n:])) // max keeps a NaN
	}
	return vecMaxGeneric(x)
}

func vecAxpy(alpha float32, x, y []float32) {
	if useAVX2 && len(x) >= 8 {
		n := len(x) &^ 7
		vecAxpyAVX2(alpha, &x[0], &y[0], n)
		x, y = x[n:], y[n:]
	}
	vecAxpyGeneric(alpha, x, y)
}

func vecScale(alpha float32, x []float32) {
	if useAVX2 && len(x) >= 8 {
		n := len(x) &^ 7
		vecScaleAVX2(alpha, &x[0], n)
		x = x[n:]
	}
	vecScaleGeneric(alpha, x)
}

func vecAdd(dst, x, y []float32) {
	if useAVX2 && len(dst) >= 8 {
		n := len(dst) &^ 7
		vecAddAVX2(&dst[0], &x[0], &y[0], n)
		dst, x, y = dst[n:], x[n:], y[n:]
	}
	vecAddGeneric(dst, x, y)
}

func vecMul(dst, x, y []float32) {
	if useAVX2 && len(dst) >= 8 {
		n := len(dst) &^ 7
		vecMulAVX2(&dst[0], &x[0], &y[0], n)
		dst, x, y = dst[n:], x[n:], y[n:]
	}
	vecMulGeneric(dst, x, y)
}

func vecExpSum(dst, x []float32, shift float32) float32 {
	var s float32
	if useAVX512 && len(dst) >= 16 {
		n := len(dst) &^ 15
		s = vecExpSumAVX512(shift, &dst[0], &x[0], n)
		dst, x = dst[n:], x[n:]
	}
	if useAVX2 && len(dst) >= 8 {
		n := len(dst) &^ 7
		s += vecExpSumAVX2(shift, &dst[0], &x[0], n)
		dst, x = dst[n:], x[n:]
	}
	return s + vecExpSumGeneric(dst, x, shift)
}

// Stubs of the fused kernels (gelu.go, adamw.go, layernorm.go), n a positive
// multiple of 8 as above; they differ from the twins only in fusing
// multiply-adds and, for the reductions, in summation order (AdamW not even
// that: its bits match):

// vecGELUAVX2(dst, x, n): vecGELUGeneric(dsts, xs)
//
//go:noescape
func vecGELUAVX2(dst, x *float32, n int)

// vecGELUBackwardAVX2(dx, x, dy, n): vecGELUBackwardGeneric(dxs, xs, dys)
//
//go:noescape
func vecGELUBackwardAVX2(dx, x, dy *float32, n int)

// vecAdamWAVX2(w, grad, m, v, n, k): vecAdamWGeneric(ws, grads, ms, vs, k)
//
//go:noescape
func vecAdamWAVX2(w, grad, m, v *float32, n int, k *adamCoef)

// vecSqDevAVX2(x, n, mean) == vecSqDevGeneric(xs, mean)
//
//go:noescape
func vecSqDevAVX2(x *float32, n int, mean float32) float32

// vecLNForwardAVX2(y, x, w, b, n, mean, rstd): vecLNForwardGeneric(ys, xs, ws, bs, mean, rstd)
//
//go:noescape
func vecLNForwardAVX2(y, x, w, b *float32, n int, mean, rstd float32)

// vecLNSumsAVX2(dw, db, x, dy, w, n, mean, rstd) == vecLNSumsGeneric(dws, dbs, xs, dys, ws, mean, rstd)
//
//go:noescape
func vecLNSumsAVX2(dw, db, x, dy, w *float32, n int, mean, rstd float32) (s1, s2 float32)

// vecLNDxAVX2(dx, x, dy, w, n, mean, rstd, a, c): vecLNDxGeneric(dxs, xs, dys, ws, mean, rstd, a, c)
//
//go:noescape
func vecLNDxAVX2(dx, x, dy, w *float32, n int, mean, rstd, a, c float32)

// AVX-512 forms (vec_avx512_amd64.s) of the kernels bound by the
// exponential, n a positive multiple of 16; the dispatchers finish with the
// AVX2 form and the twin. Only the exponential's final scaling differs
// (VSCALEFPS, which rounds as the two exact factors do):

// vecExpSumAVX512(shift, dst, x, n) == vecExpSumGeneric(dsts, xs, shift)
//
//go:noescape
func vecExpSumAVX512(shift float32, dst, x *float32, n int) float32

// vecGELUAVX512(dst, x, n): vecGELUGeneric(dsts, xs)
//
//go:noescape
func vecGELUAVX512(dst, x *float32, n int)

// vecGELUBackwardAVX512(dx, x, dy, n): vecGELUBackwardGeneric(dxs, xs, dys)
//
//go:noescape
func vecGELUBackwardAVX512(dx, x, dy *float32, n int)

func vecGELU(dst, x []float32) {
	if useAVX512 && len(dst) >= 16 {
		n := len(dst) &^ 15
		vecGELUAVX512(&dst[0], &x[0], n)
		dst, x = dst[n:], x[n:]
	}
	if useAVX2 && len(dst) >= 8 {
		n := len(dst) &^ 7
		vecGELUAVX2(&dst[0], &x[0], n)
		dst, x = dst[n:], x[n:]
	}
	vecGELUGeneric(dst, x)
}

func vecGELUBackward(dx, x, dy []float32) {
	if useAVX512 && len(dx) >= 16 {
		n := len(dx) &^ 15
		vecGELUBackwardAVX512(&dx[0], &x[0], &dy[0], n)
		dx, x, dy = dx[n:], x[n:], dy[n:]
	}
	if useAVX2 && len(dx) >= 8 {
		n := len(dx) &^ 7
		vecGELUBackwardAVX2(&dx[0], &x[0], &dy[0], n)
		dx, x, dy = dx[n:], x[n:], dy[n:]
	}
	vecGELUBackwardGeneric(dx, x, dy)
}

func vecAdamW(w, g, m, v []float32, k *adamCoef) {
	if useAVX2 && len(w) >= 8 {
		n := len(w) &^ 7
		vecAdamWAVX2(&w[0], &g[0], &m[0], &v[0], n, k)
		w, g, m, v = w[n:], g[n:], m[n:], v[n:]
	}
	vecAdamWGeneric(w, g, m, v, k)
}

func vecSqDev(x []float32, mean float32) float32 {
	if useAVX2 && len(x) >= 8 {
		n := len(x) &^ 7
		return vecSqDevAVX2(&x[0], n, mean) + vecSqDevGeneric(x[n:], mean)
	}
	return vecSqDevGeneric(x, mean)
}

func vecLNForward(y, x, w, b []float32, mean, rstd float32) {
	if useAVX2 && len(y) >= 8 {
		n := len(y) &^ 7
		vecLNForwardAVX2(&y[0], &x[0], &w[0], &b[0], n, mean, rstd)
		y, x, w, b = y[n:], x[n:], w[n:], b[n:]
	}
	vecLNForwardGeneric(y, x, w, b, mean, rstd)
}

func vecLNSums(dw, db, x, dy, w []float32, mean, rstd float32) (s1, s2 float32) {
	if useAVX2 && len(x) >= 8 {
		n := len(x) &^ 7
		s1, s2 = vecLNSumsAVX2(&dw[0], &db[0], &x[0], &dy[0], &w[0], n, mean, rstd)
		dw, db, x, dy, w = dw[n:], db[n:], x[n:], dy[n:], w[n:]
	}
	t1, t2 := vecLNSumsGeneric(dw, db, x, dy, w, mean, rstd)
	return s1 + t1, s2 + t2
}

func vecLNDx(dx, x, dy, w []float32, mean, rstd, a, c float32) {
	if useAVX2 && len(dx) >= 8 {
		n := len(dx) &^ 7
		vecLNDxAVX2(&dx[0], &x[0], &dy[0], &w[0], n, mean, rstd, a, c)
		dx, x, dy, w = dx[n:], x[n:], dy[n:], w[n:]
	}
	vecLNDxGeneric(dx, x, dy, w, mean, rstd, a, c)
}
