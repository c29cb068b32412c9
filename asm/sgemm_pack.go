package asm

// Packing copies a block of op(A) or op(B) into the panel order the
// micro-kernels read, so that the kernels stream contiguous memory whatever
// the transposes and leading dimensions. alpha is folded into A's panels.
// Panels at the matrix edge are padded with zeros to a full MR or NR, which
// the kernels then multiply harmlessly; those tiles go through a scratch
// tile so that nothing outside C is read or written.

// packA packs rows [i0, i0+rows) and columns [p0, p0+kc) of op(A), scaled by
// alpha, as panels of mr rows: dst[(ir/mr)*mr*kc + p*mr + i] = alpha*op(A)[i0+ir+i][p0+p].
func packA(K *gemmKernel, dst, a []float32, lda int, trans bool, i0, rows, p0, kc int, alpha float32) {
	mr := K.mr
	for ir := 0; ir < rows; ir += mr {
		h := min(mr, rows-ir)
		d := dst[ir*kc : ir*kc+mr*kc]
		if trans {
			// A is stored k x m: each k step is a contiguous run of h values.
			src := a[p0*lda+i0+ir:]
			if h == mr && K.packC != nil {
				K.packC(d, src, lda, kc, mr, alpha)
			} else {
				packRowsCopy(d, src, lda, h, kc, mr, alpha)
			}
		} else {
			src := a[(i0+ir)*lda+p0:]
			if h == mr && K.packT != nil {
				K.packT(d, src, lda, kc, mr, alpha)
			} else {
				packRowsTranspose(d, src, lda, h, kc, mr, alpha)
			}
		}
	}
}

// packB packs rows [p0, p0+kc) and columns [j0, j0+cols) of op(B) as panels of
// nr columns: dst[(jr/nr)*nr*kc + p*nr + j] = op(B)[p0+p][j0+jr+j].
func packB(K *gemmKernel, dst, b []float32, ldb int, trans bool, p0, kc, j0, cols int) {
	nr := K.nr
	for jr := 0; jr < cols; jr += nr {
		packBPanel(K, dst[jr*kc:jr*kc+nr*kc], b, ldb, trans, p0, kc, j0+jr, min(nr, cols-jr))
	}
}

// packBPanel packs one panel of w <= nr columns starting at column j.
func packBPanel(K *gemmKernel, d, b []float32, ldb int, trans bool, p0, kc, j, w int) {
	nr := K.nr
	if trans {
		// B is stored n x k: column j of op(B) is row j of B.
		src := b[j*ldb+p0:]
		if w == nr && K.packT != nil {
			K.packT(d, src, ldb, kc, nr, 1)
		} else {
			packRowsTranspose(d, src, ldb, w, kc, nr, 1)
		}
	} else {
		src := b[p0*ldb+j:]
		if w == nr && K.packC != nil {
			K.packC(d, src, ldb, kc, nr, 1)
		} else {
			packRowsCopy(d, src, ldb, w, kc, nr, 1)
		}
	}
}

// packRowsCopy writes d[p*width+i] = alpha*src[p*ld+i] for p < kc, i < h,
// and zeros for h <= i < width.
func packRowsCopy(d, src []float32, ld, h, kc, width int, alpha float32) {
	d = d[:kc*width]
	if h == width && alpha == 1 {
		for p := 0; p < kc; p++ {
			copy(d[p*width:p*width+width], src[p*ld:p*ld+width])
		}
		return
	}
	for p := 0; p < kc; p++ {
		dp := d[p*width : p*width+width]
		sp := src[p*ld : p*ld+h]
		for i, v := range sp {
			dp[i] = alpha * v
		}
		clear(dp[h:])
	}
}

// packRowsTranspose writes d[p*width+i] = alpha*src[i*ld+p] for p < kc,
// i < h, and zeros for h <= i < width: h rows of src become h interleaved
// columns of d.
func packRowsTranspose(d, src []float32, ld, h, kc, width int, alpha float32) {
	d = d[:kc*width]
	i := 0
	for ; i+4 <= h; i += 4 {
		r0 := src[i*ld : i*ld+kc]
		r1 := src[(i+1)*ld : (i+1)*ld+kc]
		r2 := src[(i+2)*ld : (i+2)*ld+kc]
		r3 := src[(i+3)*ld : (i+3)*ld+kc]
		dd := d[i:]
		if alpha == 1 {
			for p := 0; p < kc; p++ {
				q := dd[p*width : p*width+4 : p*width+4]
				q[0], q[1], q[2], q[3] = r0[p], r1[p], r2[p], r3[p]
			}
		} else {
			for p := 0; p < kc; p++ {
				q := dd[p*width : p*width+4 : p*width+4]
				q[0], q[1], q[2], q[3] = alpha*r0[p], alpha*r1[p], alpha*r2[p], alpha*r3[p]
			}
		}
	}
	for ; i < h; i++ {
		r := src[i*ld : i*ld+kc]
		for p, v := range r {
			d[p*width+i] = alpha * v
		}
	}
	if h < width {
		for p := 0; p < kc; p++ {
			clear(d[p*width+h : p*width+width])
		}
	}
}
