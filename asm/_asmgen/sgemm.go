package main

import (
	"bytes"
	"fmt"
	"log"
)

// x86 describes one amd64 vector extension's kernel.
type x86 struct {
	name     string // Go function name suffix
	tag      string // build tag line
	reg      string // register prefix: Y or Z
	vbytes   int    // bytes per vector register
	mr       int    // rows of the micro-tile (A elements broadcast per k step)
	nv       int    // vectors per row of the micro-tile; NR = nv*lanes
	unroll   int    // k steps per loop iteration
	pfA      int    // prefetch distance into packed A, bytes (0: none)
	peakRegs int    // independent FMA chains in the peak probe
}

var (
	avx2 = x86{name: "AVX2", reg: "Y", vbytes: 32, mr: 6, nv: 2, unroll: 4, pfA: 512, peakRegs: 12,
		tag: "//go:build amd64 && gc && !purego && !noasm"}
	avx512 = x86{name: "AVX512", reg: "Z", vbytes: 64, mr: 14, nv: 2, unroll: 4, pfA: 1024, peakRegs: 24,
		tag: "//go:build amd64 && gc && !purego && !noasm"}
)

// zero names the instruction that clears a register: VXORPS on zmm
// registers needs AVX512DQ, VPXORD only AVX512F.
func (k x86) zero() string {
	if k.reg == "Z" {
		return "VPXORD"
	}
	return "VXORPS"
}

func genX86(w *bytes.Buffer, k x86) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	lanes := k.vbytes / 4
	nr := k.nv * lanes
	acc := func(i, j int) string { return fmt.Sprintf("%s%d", k.reg, 4+i*k.nv+j) }
	breg := func(j int) string { return fmt.Sprintf("%s%d", k.reg, j) } // B vectors: regs 0..nv-1
	areg := func(i int) string { return fmt.Sprintf("%s%d", k.reg, k.nv+i%2) }
	if 4+k.mr*k.nv > map[string]int{"Y": 16, "Z": 32}[k.reg] || k.nv > 2 {
		log.Fatalf("%s: %dx%d tile does not fit the register file", k.name, k.mr, nr)
	}
	aStep, bStep := 4*k.mr, 4*nr // bytes per k step

	p("%s", k.tag)
	p("")
	p(`#include "textflag.h"`)
	p("")
	p("// func sgemmKernel%s(kc int, a, b, c *float32, ldc int, flags int)", k.name)
	p("//")
	p("// %dx%d micro-kernel: acc[i][j] = sum_{p<kc} a[p*%d+i]*b[p*%d+j] over packed", k.mr, nr, k.mr, nr)
	p("// panels, then c[i*ldc+j] = acc (flags&1 == 0) or c[i*ldc+j] += acc.")
	p("// Accumulators: %s%d-%s%d (row i in %s, ...); B vectors in %s0-%s%d; A broadcasts alternate %s%d/%s%d.",
		k.reg, 4, k.reg, 4+k.mr*k.nv-1, acc(0, 0), k.reg, k.reg, k.nv-1, k.reg, k.nv, k.reg, k.nv+1)
	p("TEXT ·sgemmKernel%s(SB), NOSPLIT, $0-48", k.name)
	p("\tMOVQ kc+0(FP), CX")
	p("\tMOVQ a+8(FP), AX")
	p("\tMOVQ b+16(FP), BX")
	p("\tMOVQ c+24(FP), DI")
	p("\tMOVQ ldc+32(FP), DX")
	p("\tSHLQ $2, DX")
	p("")
	p("\t// Pull the C tile towards L1 while the k loop runs.")
	p("\tMOVQ DI, R8")
	for i := 0; i < k.mr; i++ {
		p("\tPREFETCHT0 (R8)")
		p("\tPREFETCHT0 %d(R8)", 4*nr-4)
		if i < k.mr-1 {
			p("\tADDQ DX, R8")
		}
	}
	p("")
	for i := 0; i < k.mr; i++ {
		for j := 0; j < k.nv; j++ {
			r := acc(i, j)
			p("\t%s %s, %s, %s", k.zero(), r, r, r)
		}
	}
	p("")
	p("\tMOVQ CX, R9")
	p("\tSHRQ $%d, R9", log2(k.unroll))
	p("\tANDQ $%d, CX", k.unroll-1)
	p("\tTESTQ R9, R9")
	p("\tJZ tail")
	p("")
	p("loop:")
	step := func(s int) {
		for j := 0; j < k.nv; j++ {
			p("\tVMOVUPS %d(BX), %s", s*bStep+j*k.vbytes, breg(j))
		}
		for i := 0; i < k.mr; i++ {
			p("\tVBROADCASTSS %d(AX), %s", s*aStep+4*i, areg(i))
			for j := 0; j < k.nv; j++ {
				p("\tVFMADD231PS %s, %s, %s", breg(j), areg(i), acc(i, j))
			}
		}
	}
	for s := 0; s < k.unroll; s++ {
		if k.pfA > 0 && s%2 == 0 {
			p("\tPREFETCHT0 %d(AX)", k.pfA+s*aStep)
		}
		step(s)
	}
	p("\tADDQ $%d, AX", k.unroll*aStep)
	p("\tADDQ $%d, BX", k.unroll*bStep)
	p("\tDECQ R9")
	p("\tJNZ loop")
	p("")
	p("tail:")
	p("\tTESTQ CX, CX")
	p("\tJZ done")
	p("")
	p("tailloop:")
	step(0)
	p("\tADDQ $%d, AX", aStep)
	p("\tADDQ $%d, BX", bStep)
	p("\tDECQ CX")
	p("\tJNZ tailloop")
	p("")
	p("done:")
	p("\tMOVQ flags+40(FP), R10")
	p("\tTESTQ $1, R10")
	p("\tJZ store")
	for i := 0; i < k.mr; i++ {
		for j := 0; j < k.nv; j++ {
			p("\tVADDPS %d(DI), %s, %s", j*k.vbytes, acc(i, j), acc(i, j))
			p("\tVMOVUPS %s, %d(DI)", acc(i, j), j*k.vbytes)
		}
		if i < k.mr-1 {
			p("\tADDQ DX, DI")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
	p("store:")
	for i := 0; i < k.mr; i++ {
		for j := 0; j < k.nv; j++ {
			p("\tVMOVUPS %s, %d(DI)", acc(i, j), j*k.vbytes)
		}
		if i < k.mr-1 {
			p("\tADDQ DX, DI")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")

	p("// func peak%s(iters int)", k.name)
	p("//")
	p("// Runs iters rounds of %d independent %d-lane FMA chains (%d flops per round).", k.peakRegs, lanes, 2*lanes*k.peakRegs)
	p("TEXT ·peak%s(SB), NOSPLIT, $0-8", k.name)
	p("\tMOVQ iters+0(FP), CX")
	src1, src2 := k.peakRegs, k.peakRegs+1
	for r := 0; r < k.peakRegs+2; r++ {
		p("\t%s %s%d, %s%d, %s%d", k.zero(), k.reg, r, k.reg, r, k.reg, r)
	}
	p("\tTESTQ CX, CX")
	p("\tJZ peakdone")
	p("peakloop:")
	for r := 0; r < k.peakRegs; r++ {
		p("\tVFMADD231PS %s%d, %s%d, %s%d", k.reg, src1, k.reg, src2, k.reg, r)
	}
	p("\tDECQ CX")
	p("\tJNZ peakloop")
	p("peakdone:")
	p("\tVZEROUPPER")
	p("\tRET")
}

func log2(n int) int {
	r := 0
	for 1<<r < n {
		r++
	}
	if 1<<r != n {
		log.Fatalf("unroll %d is not a power of two", n)
	}
	return r
}

// NEON: an 8x12 tile, 24 accumulators V0-V23 (row i in V(3i), V(3i+1),
// V(3i+2)), A in V24-V25, B in V26-V28, V29-V31 scratch for the C update.
const (
	neonMR     = 8
	neonNV     = 3
	neonUnroll = 2
)

func genNEON(w *bytes.Buffer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	nr := 4 * neonNV
	p("//go:build arm64 && gc && !purego && !noasm")
	p("")
	p(`#include "textflag.h"`)
	p("")
	p("// func sgemmKernelNEON(kc int, a, b, c *float32, ldc int, flags int)")
	p("//")
	p("// %dx%d micro-kernel: acc[i][j] = sum_{p<kc} a[p*%d+i]*b[p*%d+j] over packed", neonMR, nr, neonMR, nr)
	p("// panels, then c[i*ldc+j] = acc (flags&1 == 0) or c[i*ldc+j] += acc.")
	p("// Accumulators V0-V23 (row i in V(3i)..V(3i+2)), A in V24-V25, B in V26-V28.")
	p("// FMLA (by element) and vector FADD have no form in Go's assembler and are")
	p("// emitted as WORDs with the instruction in the comment.")
	p("TEXT ·sgemmKernelNEON(SB), NOSPLIT, $0-48")
	p("\tMOVD kc+0(FP), R0")
	p("\tMOVD a+8(FP), R1")
	p("\tMOVD b+16(FP), R2")
	p("\tMOVD c+24(FP), R3")
	p("\tMOVD ldc+32(FP), R4")
	p("\tLSL $2, R4, R4")
	p("")
	p("\tMOVD R3, R6")
	for i := 0; i < neonMR; i++ {
		p("\tPRFM (R6), PLDL1KEEP")
		p("\tPRFM %d(R6), PLDL1KEEP", 4*nr-4)
		if i < neonMR-1 {
			p("\tADD R4, R6, R6")
		}
	}
	for r := 0; r < neonMR*neonNV; r++ {
		p("\tVEOR V%d.B16, V%d.B16, V%d.B16", r, r, r)
	}
	p("")
	p("\tLSR $%d, R0, R5", log2(neonUnroll))
	p("\tAND $%d, R0, R0", neonUnroll-1)
	p("\tCBZ R5, tail")
	p("")
	step := func() {
		p("\tVLD1.P 32(R1), [V24.S4, V25.S4]")
		p("\tVLD1.P %d(R2), [V26.S4, V27.S4, V28.S4]", 4*nr)
		for i := 0; i < neonMR; i++ {
			av, idx := 24+i/4, i%4
			for j := 0; j < neonNV; j++ {
				d := 3*i + j
				p("%s", fmlaElem(d, 26+j, av, idx))
			}
		}
	}
	p("loop:")
	p("\tPRFM 256(R1), PLDL1KEEP")
	for s := 0; s < neonUnroll; s++ {
		step()
	}
	p("\tSUBS $1, R5, R5")
	p("\tBNE loop")
	p("")
	p("tail:")
	p("\tCBZ R0, done")
	p("tailloop:")
	step()
	p("\tSUBS $1, R0, R0")
	p("\tBNE tailloop")
	p("")
	p("done:")
	p("\tMOVD flags+40(FP), R5")
	p("\tTBZ $0, R5, store")
	for i := 0; i < neonMR; i++ {
		p("\tVLD1 (R3), [V29.S4, V30.S4, V31.S4]")
		for j := 0; j < neonNV; j++ {
			d := 3*i + j
			p("%s", neon3("FADD", d, d, 29+j))
		}
		p("\tVST1 [V%d.S4, V%d.S4, V%d.S4], (R3)", 3*i, 3*i+1, 3*i+2)
		if i < neonMR-1 {
			p("\tADD R4, R3, R3")
		}
	}
	p("\tRET")
	p("")
	p("store:")
	for i := 0; i < neonMR; i++ {
		p("\tVST1 [V%d.S4, V%d.S4, V%d.S4], (R3)", 3*i, 3*i+1, 3*i+2)
		if i < neonMR-1 {
			p("\tADD R4, R3, R3")
		}
	}
	p("\tRET")
	p("")

	const chains = 24
	p("// func peakNEON(iters int)")
	p("//")
	p("// Runs iters rounds of %d independent 4-lane FMA chains (%d flops per round).", chains, 8*chains)
	p("TEXT ·peakNEON(SB), NOSPLIT, $0-8")
	p("\tMOVD iters+0(FP), R0")
	for r := 0; r < chains+2; r++ {
		p("\tVEOR V%d.B16, V%d.B16, V%d.B16", r, r, r)
	}
	p("\tCBZ R0, peakdone")
	p("peakloop:")
	for r := 0; r < chains; r++ {
		p("\tVFMLA V%d.S4, V%d.S4, V%d.S4", chains, chains+1, r)
	}
	p("\tSUBS $1, R0, R0")
	p("\tBNE peakloop")
	p("peakdone:")
	p("\tRET")
}
