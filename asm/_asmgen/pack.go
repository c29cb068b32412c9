package main

import (
	"bytes"
	"fmt"
)

// genPackAMD64 writes AVX2 packing routines for blocks of 8 or 6 rows (the
// panel widths 6, 14, 16 and 32 of the AVX2 and AVX-512 kernels split into
// such blocks). Both kernels' paths use them: AVX-512 CPUs have AVX2.
func genPackAMD64(w *bytes.Buffer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("//go:build amd64 && gc && !purego && !noasm")
	p("")
	p(`#include "textflag.h"`)
	for _, h := range []int{8, 6} {
		genPackTrans(p, h)
		genPackCopy(p, h)
	}
}

// genPackTrans: dst[p*width+i] = alpha*src[i*ld+p] for i < h, p < kc8 (a
// multiple of 8), by 8x8 transposes in ymm registers.
func genPackTrans(p func(string, ...any), h int) {
	p("")
	p("// func packTrans%dAVX2(dst, src *float32, ld, kc8, width int, alpha float32)", h)
	p("TEXT ·packTrans%dAVX2(SB), NOSPLIT, $0-44", h)
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ ld+16(FP), DX")
	p("\tMOVQ kc8+24(FP), CX")
	p("\tMOVQ width+32(FP), R8")
	p("\tVBROADCASTSS alpha+40(FP), Y15")
	p("\tSHLQ $2, DX")
	p("\tSHLQ $2, R8")
	p("\tLEAQ (DX)(DX*2), R9")  // 3*ld
	p("\tLEAQ (SI)(DX*4), R10") // row 4
	p("\tLEAQ (R8)(R8*2), R11") // 3*width
	p("\tSHRQ $3, CX")
	p("\tJZ done")
	p("loop:")
	for r := h; r < 8; r++ { // missing rows read as zeros
		p("\tVXORPS Y%d, Y%d, Y%d", r, r, r)
	}
	rowAddr := []string{"(SI)", "(SI)(DX*1)", "(SI)(DX*2)", "(SI)(R9*1)", "(R10)", "(R10)(DX*1)", "(R10)(DX*2)", "(R10)(R9*1)"}
	for r := 0; r < h; r++ {
		p("\tVMULPS %s, Y15, Y%d", rowAddr[r], r)
	}
	// Unpack pairs of rows: t0..t7 in Y8..Y14, Y0.
	p("\tVUNPCKLPS Y1, Y0, Y8")  // t0 = a0 b0 a1 b1 | a4 b4 a5 b5
	p("\tVUNPCKHPS Y1, Y0, Y9")  // t1 = a2 b2 a3 b3 | a6 b6 a7 b7
	p("\tVUNPCKLPS Y3, Y2, Y10") // t2
	p("\tVUNPCKHPS Y3, Y2, Y11") // t3
	p("\tVUNPCKLPS Y5, Y4, Y12") // t4
	p("\tVUNPCKHPS Y5, Y4, Y13") // t5
	p("\tVUNPCKLPS Y7, Y6, Y14") // t6
	p("\tVUNPCKHPS Y7, Y6, Y0")  // t7
	// Quads: s0..s7 in Y1..Y8.
	p("\tVSHUFPS $0x44, Y10, Y8, Y1")  // s0 = a0 b0 c0 d0 | a4 b4 c4 d4
	p("\tVSHUFPS $0xEE, Y10, Y8, Y2")  // s1 = a1 b1 c1 d1 | a5 ...
	p("\tVSHUFPS $0x44, Y11, Y9, Y3")  // s2
	p("\tVSHUFPS $0xEE, Y11, Y9, Y4")  // s3
	p("\tVSHUFPS $0x44, Y14, Y12, Y5") // s4 = e0 f0 g0 h0 | e4 ...
	p("\tVSHUFPS $0xEE, Y14, Y12, Y6") // s5
	p("\tVSHUFPS $0x44, Y0, Y13, Y7")  // s6
	p("\tVSHUFPS $0xEE, Y0, Y13, Y8")  // s7
	// Columns: c0..c7 = low/high halves of (s_q, s_q+4).
	cols := []string{"Y9", "Y11", "Y13", "Y0", "Y10", "Y12", "Y14", "Y1"}
	for q := 0; q < 4; q++ {
		p("\tVPERM2F128 $0x20, Y%d, Y%d, %s", 5+q, 1+q, cols[q])
		p("\tVPERM2F128 $0x31, Y%d, Y%d, %s", 5+q, 1+q, cols[q+4])
	}
	colAddr := []string{"(DI)", "(DI)(R8*1)", "(DI)(R8*2)", "(DI)(R11*1)", "(R12)", "(R12)(R8*1)", "(R12)(R8*2)", "(R12)(R11*1)"}
	p("\tLEAQ (DI)(R8*4), R12")
	for q := 0; q < 8; q++ {
		if h == 8 {
			p("\tVMOVUPS %s, %s", cols[q], colAddr[q])
			continue
		}
		x := "X" + cols[q][1:]
		p("\tVMOVUPS %s, %s", x, colAddr[q])
		p("\tVEXTRACTF128 $1, %s, X2", cols[q])
		p("\tVMOVQ X2, 16%s", colAddr[q])
	}
	p("\tADDQ $32, SI")
	p("\tADDQ $32, R10")
	p("\tLEAQ (DI)(R8*8), DI")
	p("\tDECQ CX")
	p("\tJNZ loop")
	p("done:")
	p("\tVZEROUPPER")
	p("\tRET")
}

// genPackCopy: dst[p*width+i] = alpha*src[p*ld+i] for i < h, p < kc.
func genPackCopy(p func(string, ...any), h int) {
	p("")
	p("// func packCopy%dAVX2(dst, src *float32, ld, kc, width int, alpha float32)", h)
	p("TEXT ·packCopy%dAVX2(SB), NOSPLIT, $0-44", h)
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ ld+16(FP), DX")
	p("\tMOVQ kc+24(FP), CX")
	p("\tMOVQ width+32(FP), R8")
	p("\tVBROADCASTSS alpha+40(FP), Y15")
	p("\tSHLQ $2, DX")
	p("\tSHLQ $2, R8")
	p("\tTESTQ CX, CX")
	p("\tJZ done")
	p("loop:")
	if h == 8 {
		p("\tVMULPS (SI), Y15, Y0")
		p("\tVMOVUPS Y0, (DI)")
	} else {
		p("\tVMULPS (SI), X15, X0")
		p("\tVMOVQ 16(SI), X1")
		p("\tVMULPS X1, X15, X1")
		p("\tVMOVUPS X0, (DI)")
		p("\tVMOVQ X1, 16(DI)")
	}
	p("\tADDQ DX, SI")
	p("\tADDQ R8, DI")
	p("\tDECQ CX")
	p("\tJNZ loop")
	p("done:")
	p("\tVZEROUPPER")
	p("\tRET")
}
