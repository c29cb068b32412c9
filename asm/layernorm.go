package asm

import "math"

// LayerNorm normalises one row: with n = len(y) (x, w and b at least as
// long),
//
//	mean = sum(x)/n,  rstd = 1/sqrt(sum((x-mean)^2)/n + eps),
//	y[i] = (x[i]-mean)*rstd*w[i] + b[i],
//
// and returns mean and rstd for LayerNormBackward. The variance is taken
// about the mean (two passes), so rows with a large common offset keep
// their accuracy. An empty row returns 0, 0. y may be x.
//
// Accuracy, with u = 2^-24 and k = n/4+16 (the float32 sums' roundoff
// bound), against float64 evaluation: mean within k·u·mean(|x|), rstd
// within k·u relative, and y[i] within (k+8)·u·(|(x[i]-mean)·rstd·w[i]| +
// |b[i]|) + k·u·mean(|x|)·rstd·|w[i]| (the last term is the mean's error
// carried through). The tests check these bounds on every path.
func LayerNorm(y, x, w, b []float32, eps float32) (mean, rstd float32) {
	n := len(y)
	if n == 0 {
		return 0, 0
	}
	x, w, b = x[:n], w[:n], b[:n]
	mean = vecSum(x) / float32(n)
	ss := vecSqDev(x, mean)
	rstd = float32(1 / math.Sqrt(float64(ss/float32(n)+eps)))
	vecLNForward(y, x, w, b, mean, rstd)
	return mean, rstd
}

// LayerNormBackward adds one row's gradients, given the row x, the gain w,
// the gradient dy of the output and the mean and rstd LayerNorm returned
// for the row. With n = len(x), xh = (x-mean)*rstd and gw = dy*w:
//
//	dw[i] += dy[i]*xh[i],  db[i] += dy[i],
//	dx[i] += rstd*(gw[i] - sum(gw)/n - xh[i]*sum(gw*xh)/n).
//
// dy, w, dw and db must be at least n long; dx is nil (no input gradient
// wanted) or at least n long. dx must not overlap the others. Two passes
// over the row: the first accumulates dw, db and both sums, the second dx.
func LayerNormBackward(dx, dw, db, x, dy, w []float32, mean, rstd float32) {
	n := len(x)
	if n == 0 {
		return
	}
	dw, db, dy, w = dw[:n], db[:n], dy[:n], w[:n]
	s1, s2 := vecLNSums(dw, db, x, dy, w, mean, rstd)
	if dx == nil {
		return
	}
	dx = dx[:n]
	inv := 1 / float32(n)
	vecLNDx(dx, x, dy, w, mean, rstd, s1*inv, s2*inv)
}

// The pure-Go twins. Reductions keep four partial sums, as vec_generic.go's
// do; the SIMD forms keep more and fuse the multiply-adds.

// vecSqDevGeneric returns sum((x[i]-mean)^2).
func vecSqDevGeneric(x []float32, mean float32) float32 {
	var s0, s1, s2, s3 float32
	for len(x) >= 4 {
		d0, d1, d2, d3 := x[0]-mean, x[1]-mean, x[2]-mean, x[3]-mean
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
		x = x[4:]
	}
	for _, v := range x {
		d := v - mean
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// vecLNForwardGeneric writes y[i] = (x[i]-mean)*rstd*w[i] + b[i].
func vecLNForwardGeneric(y, x, w, b []float32, mean, rstd float32) {
	x, w, b = x[:len(y)], w[:len(y)], b[:len(y)]
	for i, v := range x {
		y[i] = (v-mean)*rstd*w[i] + b[i]
	}
}

// vecLNSumsGeneric adds dy*xh to dw and dy to db and returns sum(dy*w) and
// sum(dy*w*xh), xh = (x-mean)*rstd.
func vecLNSumsGeneric(dw, db, x, dy, w []float32, mean, rstd float32) (s1, s2 float32) {
	n := len(x)
	dw, db, dy, w = dw[:n], db[:n], dy[:n], w[:n]
	var a0, a1, c0, c1 float32
	i := 0
	for ; i+2 <= n; i += 2 {
		xh0, xh1 := (x[i]-mean)*rstd, (x[i+1]-mean)*rstd
		g0, g1 := dy[i]*w[i], dy[i+1]*w[i+1]
		a0 += g0
		a1 += g1
		c0 += g0 * xh0
		c1 += g1 * xh1
		dw[i] += dy[i] * xh0
		dw[i+1] += dy[i+1] * xh1
		db[i] += dy[i]
		db[i+1] += dy[i+1]
	}
	for ; i < n; i++ {
		xh := (x[i] - mean) * rstd
		g := dy[i] * w[i]
		a0 += g
		c0 += g * xh
		dw[i] += dy[i] * xh
		db[i] += dy[i]
	}
	return a0 + a1, c0 + c1
}

// vecLNDxGeneric adds rstd*(dy*w - a - xh*c) to dx, xh = (x-mean)*rstd.
func vecLNDxGeneric(dx, x, dy, w []float32, mean, rstd, a, c float32) {
	x, dy, w = x[:len(dx)], dy[:len(dx)], w[:len(dx)]
	for i, v := range x {
		xh := (v - mean) * rstd
		u := dy[i]*w[i] - a
		u -= xh * c
		dx[i] += rstd * u
	}
}
