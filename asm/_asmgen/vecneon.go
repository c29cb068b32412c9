package main

import (
	"bytes"
	"fmt"
	"log"
	"strings"
)

// The arm64 vector kernels, in NEON. Loads and stores move a block of up to
// four registers at once and advance their pointer (VLD1.P, VST1.P), and
// every constant lives in a register (VDUP from a general register).

// vecNEON writes the NEON vector kernels.
type vecNEON struct {
	w     bytes.Buffer
	f     frame
	regs  regs
	bound map[string]int // constants broadcast in registers
	hi    string         // exp's upper clamp
}

func genVecNEON(w *bytes.Buffer) {
	k := &vecNEON{}
	for _, kernel := range []func(){
		k.dot, k.sum, k.max, k.axpy, k.scale, k.add, k.mul, k.expSum, k.gelu, k.geluBackward,
		k.adamW, k.sqDev, k.lnForward, k.lnSums, k.lnDx,
	} {
		kernel()
	}
	fmt.Fprintf(w, `//go:build arm64 && gc && !purego && !noasm

#include "textflag.h"

// NEON vector kernels. Every count n is a positive multiple of 4 (one
// register); the loops take 16 (or 8) elements at a time, then 4. Operand
// order is Go's: the destination is last, and VFMLA Vm, Vn, Vd is Vd +=
// Vn*Vm. Go's assembler has no other floating-point vector arithmetic:
// those instructions are WORDs, the instruction (in Arm's order) beside.
`)
	w.Write(k.w.Bytes())
}

func (k *vecNEON) p(format string, args ...any) { fmt.Fprintf(&k.w, format+"\n", args...) }

func (k *vecNEON) text(name, sig string, notes ...string) {
	k.f = newFrame("vec"+name+"NEON", sig)
	k.f.text(&k.w, notes...)
	k.regs = regs{}
	k.bound = map[string]int{}
}

// args loads arguments: pairs of a name and a general register (MOVD) or,
// for a float32, a vector register number as "V<n>" (broadcast).
func (k *vecNEON) args(pairs ...string) {
	for i := 0; i < len(pairs); i += 2 {
		a, r := k.f.arg(pairs[i]), pairs[i+1]
		if r[0] == 'V' {
			k.p("\tFMOVS %s, F%s", a, r[1:])
			k.p("\tVDUP %s.S[0], %s.S4", r, r)
			continue
		}
		k.p("\tMOVD %s, %s", a, r)
	}
}

// seq is n registers from first.
func seq(first, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = first + i
	}
	return s
}

// list is a register list, e.g. [V0.S4, V1.S4].
func list(rs []int) string {
	var s []string
	for _, r := range rs {
		s = append(s, fmt.Sprintf("V%d.S4", r))
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// ld loads registers rs from ptr, advancing it.
func (k *vecNEON) ld(ptr string, rs []int) {
	k.p("\tVLD1.P %d(%s), %s", 16*len(rs), ptr, list(rs))
}

// ld0 loads registers rs from ptr, leaving it.
func (k *vecNEON) ld0(ptr string, rs []int) { k.p("\tVLD1 (%s), %s", ptr, list(rs)) }

// st stores registers rs at ptr, advancing it.
func (k *vecNEON) st(rs []int, ptr string) {
	k.p("\tVST1.P %s, %d(%s)", list(rs), 16*len(rs), ptr)
}

// note is an instruction's comment: what it computes.
func note(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return ": " + s[0]
}

// op is a three-register WORD instruction, e.g. op("FADD", d, n, m): d = n+m.
func (k *vecNEON) op(op string, d, n, m int, what ...string) {
	k.p("%s%s", neon3(op, d, n, m), note(what))
}

// fmla: d += n*m; fmls: d -= n*m.
func (k *vecNEON) fmla(d, n, m int, what ...string) {
	k.p("\tVFMLA V%d.S4, V%d.S4, V%d.S4%s", m, n, d, comment(what))
}

func (k *vecNEON) fmls(d, n, m int, what ...string) {
	k.p("\tVFMLS V%d.S4, V%d.S4, V%d.S4%s", m, n, d, comment(what))
}

// comment is an instruction's comment, if any.
func comment(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return " // " + s[0]
}

// mov copies register s to d.
func (k *vecNEON) mov(d, s int, what ...string) {
	k.p("\tVORR V%d.B16, V%d.B16, V%d.B16%s", s, s, d, comment(what))
}

// movc copies constant name to d.
func (k *vecNEON) movc(d int, name string) { k.mov(d, k.c(name), lookup(name).note) }

// zero clears registers ns and holds them.
func (k *vecNEON) zero(ns ...int) {
	k.regs.hold(ns...)
	for _, n := range ns {
		k.p("\tVEOR V%d.B16, V%d.B16, V%d.B16", n, n, n)
	}
}

// bind broadcasts constant name into register n, through R3.
func (k *vecNEON) bind(name string, n int) {
	c := lookup(name)
	k.regs.hold(n)
	k.bound[name] = n
	k.p("\tMOVD $0x%x, R3 // %s", c.bits, c.note)
	k.p("\tVDUP R3, V%d.S4", n)
}

// c is the register of constant name.
func (k *vecNEON) c(name string) int {
	r, ok := k.bound[name]
	if !ok {
		log.Fatalf("%s: constant %s is not in a register", k.f.decl, name)
	}
	return r
}

// loop is the body of a streaming kernel over cnt elements, a positive
// multiple of 4, as vecX86.loop: body(unroll) per block while at least
// unroll vectors remain, then body(1) per vector (once when unroll is 2).
// The body's loads and stores advance the pointers. It ends at label done.
func (k *vecNEON) loop(unroll int, cnt string, body func(n int)) {
	if unroll > 1 {
		k.p("\tCMP $%d, %s", 4*unroll, cnt)
		k.p("\tBLT tail")
		k.p("")
		k.p("loop:")
		body(unroll)
		k.p("\tSUB $%d, %s", 4*unroll, cnt)
		k.p("\tCMP $%d, %s", 4*unroll, cnt)
		k.p("\tBGE loop")
		k.p("")
		k.p("tail:")
		k.p("\tCBZ %s, done", cnt)
		if unroll == 2 {
			body(1)
			k.p("")
			k.p("done:")
			return
		}
		k.p("")
	}
	k.p("loop1:")
	body(1)
	k.p("\tSUBS $4, %s", cnt)
	k.p("\tBNE loop1")
	k.p("")
	k.p("done:")
}

// ret4 folds the accumulators 16-19 with op (FADD or FMAX) and returns the
// result.
func (k *vecNEON) ret4(op string) {
	k.op(op, 16, 16, 17)
	k.op(op, 18, 18, 19)
	k.op(op, 16, 16, 18)
	if op == "FMAX" {
		k.p("%s", neon2("FMAXV", 16, 16))
	} else {
		k.hsum(16)
	}
	k.p("\tFMOVS F16, %s", k.f.arg("ret"))
	k.p("\tRET")
}

// hsum adds the lanes of register n into its lane 0.
func (k *vecNEON) hsum(n int) {
	k.op("FADDP", n, n, n)
	k.p("%s", neon2("FADDP.2S", n, n))
}

// dot: accumulators 16-19, x in 0-3, y in 4-7.
func (k *vecNEON) dot() {
	k.text("Dot", "(x, y *float32, n int) float32")
	k.args("x", "R0", "y", "R1", "n", "R2")
	k.zero(16, 17, 18, 19)
	k.loop(4, "R2", func(n int) {
		k.ld("R0", seq(0, n))
		k.ld("R1", seq(4, n))
		for v := range n {
			k.fmla(16+v, 4+v, v)
		}
	})
	k.ret4("FADD")
}

func (k *vecNEON) sum() {
	k.text("Sum", "(x *float32, n int) float32")
	k.args("x", "R0", "n", "R2")
	k.zero(16, 17, 18, 19)
	k.loop(4, "R2", func(n int) {
		k.ld("R0", seq(0, n))
		for v := range n {
			k.op("FADD", 16+v, 16+v, v)
		}
	})
	k.ret4("FADD")
}

func (k *vecNEON) max() {
	k.text("Max", "(x *float32, n int) float32",
		"FMAX and FMAXV return NaN when an operand is NaN, so a NaN anywhere",
		"reaches the result with no extra work.")
	k.args("x", "R0", "n", "R2")
	k.bind("-inf", 16)
	for v := 17; v < 20; v++ {
		k.mov(v, 16)
	}
	k.loop(4, "R2", func(n int) {
		k.ld("R0", seq(0, n))
		for v := range n {
			k.op("FMAX", 16+v, 16+v, v)
		}
	})
	k.ret4("FMAX")
}

func (k *vecNEON) axpy() {
	k.text("Axpy", "(alpha float32, x, y *float32, n int)")
	k.args("alpha", "V31", "x", "R0", "y", "R1", "n", "R2")
	k.loop(4, "R2", func(n int) {
		k.ld("R0", seq(0, n))
		k.ld0("R1", seq(4, n))
		for v := range n {
			k.fmla(4+v, v, 31)
		}
		k.st(seq(4, n), "R1")
	})
	k.p("\tRET")
}

func (k *vecNEON) scale() {
	k.text("Scale", "(alpha float32, x *float32, n int)")
	k.args("alpha", "V31", "x", "R0", "n", "R2")
	k.loop(4, "R2", func(n int) {
		k.ld0("R0", seq(0, n))
		for v := range n {
			k.op("FMUL", v, v, 31)
		}
		k.st(seq(0, n), "R0")
	})
	k.p("\tRET")
}

func (k *vecNEON) add() { k.binary("Add", "FADD") }
func (k *vecNEON) mul() { k.binary("Mul", "FMUL") }

// binary: dst = x op y.
func (k *vecNEON) binary(name, op string) {
	k.text(name, "(dst, x, y *float32, n int)")
	k.args("dst", "R0", "x", "R1", "y", "R2", "n", "R3")
	k.loop(4, "R3", func(n int) {
		k.ld("R1", seq(0, n))
		k.ld("R2", seq(4, n))
		for v := range n {
			k.op(op, v, v, 4+v)
		}
		k.st(seq(0, n), "R0")
	})
	k.p("\tRET")
}

// expConsts broadcasts exp's constants into 16-29, with hi the upper clamp.
func (k *vecNEON) expConsts(hi string) {
	k.hi = hi
	for i, c := range append([]string{"expLo", hi, "log2e", "magic", "ln2Hi", "ln2Lo"}, append(expPoly, "one", "bias")...) {
		k.bind(c, 16+i)
	}
}

// exp replaces the lanes of x with exp(x), exactly as vecExp1 in
// vec_generic.go (with FMAs); t, n and p are scratch. FMAX/FMIN return NaN
// for a NaN, so NaN flows through.
func (k *vecNEON) exp(x, t, n, p int) {
	k.op("FMAX", x, x, k.c("expLo"), "max(x, lo)")
	k.op("FMIN", x, x, k.c(k.hi), "min(x, hi)")
	k.movc(t, "magic")
	k.fmla(t, x, k.c("log2e"), "t = x*log2e + magic")
	k.op("FSUB", n, t, k.c("magic"), "n = t - magic, float")
	k.p("\tVSUB V%d.S4, V%d.S4, V%d.S4 // n as int32: bits(t) - bits(magic)", k.c("magic"), t, t)
	k.fmls(x, n, k.c("ln2Hi"), "x -= n*ln2Hi")
	k.fmls(x, n, k.c("ln2Lo"), "r = x - n*ln2Lo")
	// Horner's rule, alternating between p and n: p = P1 + P0*r, ...
	acc, next := p, n
	k.movc(acc, expPoly[1])
	k.fmla(acc, x, k.c(expPoly[0]), "p = P1 + P0*r")
	for _, c := range expPoly[2:] {
		k.movc(next, c)
		k.fmla(next, x, acc, "p = "+c+" + p*r")
		acc, next = next, acc
	}
	if acc != p {
		log.Fatal("exp: the polynomial must end in p")
	}
	k.op("FMUL", n, x, x, "r*r")
	k.fmla(x, n, p, "r + p*r*r")
	k.op("FADD", x, x, k.c("one"), "+ 1")
	k.p("%s: n1 = n >> 1", neon2("SSHR1", n, t))
	k.p("\tVSUB V%d.S4, V%d.S4, V%d.S4 // n2 = n - n1", n, t, t)
	k.p("\tVADD V%d.S4, V%d.S4, V%d.S4", k.c("bias"), n, n)
	k.p("\tVADD V%d.S4, V%d.S4, V%d.S4", k.c("bias"), t, t)
	k.p("\tVSHL $23, V%d.S4, V%d.S4 // 2^n1", n, n)
	k.p("\tVSHL $23, V%d.S4, V%d.S4 // 2^n2", t, t)
	k.op("FMUL", x, x, n, "* 2^n1")
	k.op("FMUL", x, x, t, "* 2^n2")
}

// expSum: dst[i] = exp(x[i]-shift), summed in 12 and 13; x in 0-1.
func (k *vecNEON) expSum() {
	k.text("ExpSum", "(shift float32, dst, x *float32, n int) float32")
	k.regs.hold(30, 0, 1)
	k.args("shift", "V30", "dst", "R0", "x", "R1", "n", "R2")
	k.expConsts("expHi")
	k.zero(12, 13)
	var vr [2][]int // exp's scratch
	for v := range vr {
		vr[v] = k.regs.take(3, 32)
	}
	k.loop(2, "R2", func(n int) {
		k.ld("R1", seq(0, n))
		for v := range n {
			k.op("FSUB", v, v, 30, "x - shift")
		}
		for v := range n {
			k.exp(v, vr[v][0], vr[v][1], vr[v][2])
		}
		k.st(seq(0, n), "R0")
		for v := range n {
			k.op("FADD", 12+v, 12+v, v)
		}
	})
	k.op("FADD", 12, 12, 13)
	k.hsum(12)
	k.p("\tFMOVS F12, %s", k.f.arg("ret"))
	k.p("\tRET")
}

// geluConsts broadcasts exp's constants with the clamp geluZMax (exp's min
// is then the clamp of -2u) and GELU's own.
func (k *vecNEON) geluConsts(backward bool) {
	k.expConsts("zMax")
	k.bind("K0", 30)
	k.bind("K1", 31)
	if backward {
		k.bind("K3", 13)
		k.bind("xMax", 14)
		k.bind("-xMax", 15)
	}
}

// geluOne replaces the lanes of x with gelu(x), as vecGELUGeneric in gelu.go
// (with FMAs); z, t, n and p are scratch.
func (k *vecNEON) geluOne(x, z, t, n, p int) {
	k.op("FMUL", t, x, x, "x^2")
	k.movc(z, "K0")
	k.fmla(z, t, k.c("K1"), "K0 + K1 x^2")
	k.op("FMUL", z, z, x, "z = -2u")
	k.exp(z, t, n, p) // e = exp(min(z, 80))
	k.op("FADD", z, z, k.c("one"), "1+e")
	k.op("FDIV", z, k.c("one"), z, "s = 1/(1+e)")
	k.op("FMUL", x, x, z, "x*s")
}

// geluGrad sets p to gelu'(x) for the lanes of x, as
// vecGELUBackwardGeneric (with FMAs), clamping x to [-20, 20] in place; d,
// t, n and s are scratch. K2 = -K0, so w' is formed negated (FMLS from K0)
// and the last step subtracts.
func (k *vecNEON) geluGrad(x, d, t, n, p, s int) {
	k.op("FMAX", x, x, k.c("-xMax"), "max(x, -20), NaN kept")
	k.op("FMIN", x, x, k.c("xMax"), "min(x, 20)")
	k.op("FMUL", t, x, x, "x^2")
	k.movc(d, "K0")
	k.fmla(d, t, k.c("K1"), "K0 + K1 x^2")
	k.op("FMUL", d, d, x, "z = -2u")
	k.exp(d, t, n, p) // e
	k.op("FADD", t, d, k.c("one"), "1+e")
	k.op("FDIV", s, k.c("one"), t, "s = 1/(1+e)")
	k.op("FMUL", d, d, s, "e*s = 1-s")
	k.op("FMUL", t, x, x, "x^2")
	k.movc(n, "K0")
	k.fmls(n, t, k.c("K3"), "K0 - K3 x^2 = -w'")
	k.op("FMUL", n, n, x, "-x w'")
	k.op("FMUL", d, d, n, "-r = (e*s)(-x w')")
	k.mov(p, s)
	k.fmls(p, d, s, "s + s*r")
}

func (k *vecNEON) gelu() {
	k.text("GELU", "(dst, x *float32, n int)")
	k.regs.hold(0, 1)
	k.args("dst", "R0", "x", "R1", "n", "R2")
	k.geluConsts(false)
	var vr [2][]int
	for v := range vr {
		vr[v] = k.regs.take(4, 32)
	}
	k.loop(2, "R2", func(n int) {
		k.ld("R1", seq(0, n))
		for v := range n {
			k.geluOne(v, vr[v][0], vr[v][1], vr[v][2], vr[v][3])
		}
		k.st(seq(0, n), "R0")
	})
	k.p("\tRET")
}

func (k *vecNEON) geluBackward() {
	k.text("GELUBackward", "(dx, x, dy *float32, n int)")
	k.regs.hold(0, 1)
	k.args("dx", "R0", "x", "R1", "dy", "R2", "n", "R4")
	k.geluConsts(true)
	var vr [2][]int // d, t, n, p = gelu'(x), s
	for v := range vr {
		vr[v] = k.regs.take(5, 32)
	}
	k.loop(2, "R4", func(n int) {
		k.ld("R1", seq(0, n))
		for v := range n {
			r := vr[v]
			k.geluGrad(v, r[0], r[1], r[2], r[3], r[4])
		}
		dy := seq(vr[0][0], n) // vector 0's d and t, free again
		k.ld("R2", dy)
		for v := range n {
			k.op("FMUL", vr[v][3], vr[v][3], dy[v])
		}
		for v := range n {
			k.st(vr[v][3:4], "R0")
		}
	})
	k.p("\tRET")
}

func (k *vecNEON) adamW() {
	k.text("AdamW", "(w, grad, m, v *float32, n int, k *adamCoef)",
		"Plain multiplies and adds, in vecAdamWGeneric's order, so the bits match",
		"the generic path's.")
	k.args("w", "R0", "grad", "R1", "m", "R2", "v", "R3", "n", "R4", "k", "R5")
	k.ld0("R5", seq(0, 2))
	for i, f := range []string{"b1", "c1 = 1-b1", "b2", "c2 = 1-b2", "decay", "step", "vscale", "eps"} {
		k.p("\tVDUP V%d.S[%d], V%d.S4 // %s", i/4, i%4, 24+i, f)
	}
	k.loop(1, "R4", func(int) {
		k.ld("R1", seq(0, 1)) // g
		k.ld0("R2", seq(1, 1))
		k.ld0("R3", seq(2, 1))
		k.op("FMUL", 1, 1, 24, "b1*m")
		k.op("FMUL", 3, 0, 25, "c1*g")
		k.op("FADD", 1, 1, 3, "m")
		k.st(seq(1, 1), "R2")
		k.op("FMUL", 3, 0, 27, "c2*g")
		k.op("FMUL", 3, 3, 0, "c2*g*g")
		k.op("FMUL", 2, 2, 26, "b2*v")
		k.op("FADD", 2, 2, 3, "v")
		k.st(seq(2, 1), "R3")
		k.p("%s", neon2("FSQRT", 2, 2))
		k.op("FMUL", 2, 2, 30, "sqrt(v)*vscale")
		k.op("FADD", 2, 2, 31, "+ eps")
		k.op("FMUL", 1, 1, 29, "step*m")
		k.op("FDIV", 1, 1, 2, "/ den")
		k.ld0("R0", seq(4, 1))
		k.op("FMUL", 4, 4, 28, "w*decay")
		k.op("FSUB", 4, 4, 1)
		k.st(seq(4, 1), "R0")
	})
	k.p("\tRET")
}

func (k *vecNEON) sqDev() {
	k.text("SqDev", "(x *float32, n int, mean float32) float32")
	k.args("x", "R0", "n", "R2", "mean", "V31")
	k.zero(16, 17, 18, 19)
	k.loop(4, "R2", func(n int) {
		k.ld("R0", seq(0, n))
		for v := range n {
			k.op("FSUB", v, v, 31)
		}
		for v := range n {
			k.fmla(16+v, v, v)
		}
	})
	k.ret4("FADD")
}

func (k *vecNEON) lnForward() {
	k.text("LNForward", "(y, x, w, b *float32, n int, mean, rstd float32)")
	k.args("y", "R0", "x", "R1", "w", "R2", "b", "R3", "n", "R4", "mean", "V30", "rstd", "V31")
	k.loop(2, "R4", func(n int) {
		k.ld("R1", seq(0, n))
		k.ld("R2", seq(2, n))
		k.ld("R3", seq(4, n))
		for v := range n {
			k.op("FSUB", v, v, 30, "x - mean")
		}
		for v := range n {
			k.op("FMUL", v, v, 31, "* rstd")
		}
		for v := range n {
			k.fmla(4+v, v, 2+v, "b + xh*w")
		}
		k.st(seq(4, n), "R0")
	})
	k.p("\tRET")
}

// lnSums: per vector of a block, five scratch registers and the running
// sums s1, s2 (16, 17 and 18, 19, added at the end).
func (k *vecNEON) lnSums() {
	k.text("LNSums", "(dw, db, x, dy, w *float32, n int, mean, rstd float32) (s1, s2 float32)")
	k.regs.hold(30, 31)
	k.args("dw", "R0", "db", "R1", "x", "R2", "dy", "R3", "w", "R4", "n", "R5", "mean", "V30", "rstd", "V31")
	k.zero(16, 17, 18, 19)
	var vr [2][]int
	for v := range vr {
		vr[v] = k.regs.take(5, 32)
	}
	k.loop(2, "R5", func(n int) {
		for v := range n {
			xh, dy, gw, dw, db := vr[v][0], vr[v][1], vr[v][2], vr[v][3], vr[v][4]
			s1, s2 := 16+2*v, 17+2*v
			k.ld("R2", []int{xh}) // x
			k.op("FSUB", xh, xh, 30)
			k.op("FMUL", xh, xh, 31, "xh = (x-mean)*rstd")
			k.ld("R3", []int{dy})
			k.ld("R4", []int{gw})
			k.op("FMUL", gw, dy, gw, "gw = dy*w")
			k.op("FADD", s1, s1, gw)
			k.fmla(s2, gw, xh, "s2 += gw*xh")
			k.ld0("R0", []int{dw})
			k.fmla(dw, dy, xh, "dw += dy*xh")
			k.st([]int{dw}, "R0")
			k.ld0("R1", []int{db})
			k.op("FADD", db, db, dy, "db += dy")
			k.st([]int{db}, "R1")
		}
	})
	k.op("FADD", 16, 16, 18)
	k.op("FADD", 17, 17, 19)
	k.hsum(16)
	k.hsum(17)
	k.p("\tFMOVS F16, %s", k.f.arg("s1"))
	k.p("\tFMOVS F17, %s", k.f.arg("s2"))
	k.p("\tRET")
}

func (k *vecNEON) lnDx() {
	k.text("LNDx", "(dx, x, dy, w *float32, n int, mean, rstd, a, c float32)")
	k.regs.hold(28, 29, 30, 31)
	k.args("dx", "R0", "x", "R1", "dy", "R2", "w", "R3", "n", "R4",
		"mean", "V28", "rstd", "V29", "a", "V30", "c", "V31")
	var vr [2][]int
	for v := range vr {
		vr[v] = k.regs.take(4, 32)
	}
	k.loop(2, "R4", func(n int) {
		for v := range n {
			xh, u, w, d := vr[v][0], vr[v][1], vr[v][2], vr[v][3]
			k.ld("R1", []int{xh}) // x
			k.op("FSUB", xh, xh, 28)
			k.op("FMUL", xh, xh, 29, "xh")
			k.ld("R2", []int{u}) // dy
			k.ld("R3", []int{w})
			k.op("FMUL", u, u, w, "gw = dy*w")
			k.op("FSUB", u, u, 30, "gw - a")
			k.fmls(u, xh, 31, "- xh*c")
			k.ld0("R0", []int{d})
			k.fmla(d, u, 29, "dx += rstd*u")
			k.st([]int{d}, "R0")
		}
	})
	k.p("\tRET")
}
