package main

import (
	"bytes"
	"fmt"
	"log"
)

// The amd64 vector kernels. Every function here writes one kernel for a
// register width (k.reg Y for AVX2, Z for AVX-512). AVX2 has all of them;
// AVX-512 only those bound by the exponential, where its 32 registers hold
// every constant and VSCALEFPS does the final scaling. The dispatchers in
// vec_amd64.go hand what is left to the AVX2 forms.
var vecX86Kernels = map[string][]func(*vecX86){
	"AVX2": {
		(*vecX86).dot, (*vecX86).sum, (*vecX86).max, (*vecX86).axpy, (*vecX86).scale,
		(*vecX86).add, (*vecX86).mul, (*vecX86).expSum, (*vecX86).gelu, (*vecX86).geluBackward,
		(*vecX86).adamW, (*vecX86).sqDev, (*vecX86).lnForward, (*vecX86).lnSums, (*vecX86).lnDx,
	},
	"AVX512": {(*vecX86).expSum, (*vecX86).gelu, (*vecX86).geluBackward},
}

// vecX86 writes the vector kernels of one width.
type vecX86 struct {
	x86
	w     bytes.Buffer // the kernels
	table []string     // constants in vecConst, in order of first use
	// Per kernel:
	f     frame
	regs  regs
	bound map[string]string // constants broadcast in registers
	hi    string            // exp's upper clamp
}

func genVecX86(w *bytes.Buffer, x x86) {
	k := &vecX86{x86: x}
	for _, kernel := range vecX86Kernels[x.name] {
		kernel(k)
	}
	lanes := k.vbytes / 4
	fmt.Fprintf(w, "%s\n\n#include \"textflag.h\"\n\n", k.tag)
	if k.avx512() {
		fmt.Fprintf(w, `// AVX-512 forms of the vector kernels bound by the exponential. Every
// count n is a positive multiple of %d (one zmm register); the loops take %d
// elements at a time, then %d. The algorithms are those of the AVX2 forms,
// with one difference in the exponential: the final scaling by 2^n is one
// VSCALEFPS, which rounds p*2^n once, as the two exact power-of-two factors
// of the other paths do, so it gives the same result, subnormals included.

// vecConst holds the scalar constants, broadcast into registers at entry.
`, lanes, 2*lanes, lanes)
		for i, name := range k.table {
			c := lookup(name)
			fmt.Fprintf(w, "DATA vecConst<>+%d(SB)/4, $0x%08x // %s\n", 4*i, c.bits, c.note)
		}
		fmt.Fprintf(w, "GLOBL vecConst<>(SB), RODATA|NOPTR, $%d\n", 4*len(k.table))
	} else {
		fmt.Fprintf(w, `// AVX2+FMA vector kernels. Every count n is a positive multiple of %d (one
// ymm register); the loops take %d (or %d) elements at a time, then %d. Loads
// and stores are unaligned. Operand order is Go's: the destination is last.

// vecConst holds each constant broadcast to a full ymm, so that it can be a
// memory operand of an AVX2 instruction (AVX2 has no embedded broadcast).
`, lanes, 4*lanes, 2*lanes, lanes)
		for i, name := range k.table {
			c := lookup(name)
			for j := 0; j < k.vbytes; j += 8 {
				note := ""
				if j == 0 {
					note = " // " + c.note
				}
				fmt.Fprintf(w, "DATA vecConst<>+%d(SB)/8, $0x%08x%08x%s\n", i*k.vbytes+j, c.bits, c.bits, note)
			}
		}
		fmt.Fprintf(w, "GLOBL vecConst<>(SB), RODATA|NOPTR, $%d\n", k.vbytes*len(k.table))
	}
	w.Write(k.w.Bytes())
}

func (k *vecX86) p(format string, args ...any) { fmt.Fprintf(&k.w, format+"\n", args...) }

func (k *vecX86) avx512() bool { return k.reg == "Z" }

// r names vector register n at the kernel's width.
func (k *vecX86) r(n int) string { return fmt.Sprintf("%s%d", k.reg, n) }

// x names the xmm register of n, where reductions end.
func (k *vecX86) x(n int) string { return fmt.Sprintf("X%d", n) }

// at is the operand of vector v (of a block) from pointer register ptr.
func (k *vecX86) at(ptr string, v int) string {
	if v == 0 {
		return "(" + ptr + ")"
	}
	return fmt.Sprintf("%d(%s)", v*k.vbytes, ptr)
}

// text starts kernel vec<name><width> with Go signature sig.
func (k *vecX86) text(name, sig string, notes ...string) {
	k.f = newFrame("vec"+name+k.name, sig)
	k.f.text(&k.w, notes...)
	k.regs = regs{}
	k.bound = map[string]string{}
}

// arg loads argument a into register r: MOVQ for an integer or pointer,
// VBROADCASTSS for a float32 (r a vector register number as a string).
func (k *vecX86) arg(a, r string) {
	if r[0] == 'Y' || r[0] == 'Z' {
		k.p("\tVBROADCASTSS %s, %s", k.f.arg(a), r)
		return
	}
	k.p("\tMOVQ %s, %s", k.f.arg(a), r)
}

func (k *vecX86) args(pairs ...string) {
	for i := 0; i < len(pairs); i += 2 {
		k.arg(pairs[i], pairs[i+1])
	}
}

// zero clears vector registers ns and holds them.
func (k *vecX86) zero(ns ...int) {
	k.regs.hold(ns...)
	for _, n := range ns {
		k.p("\t%s %s, %s, %s", k.x86.zero(), k.r(n), k.r(n), k.r(n))
	}
}

// mem is the memory operand of constant name: its broadcast ymm on AVX2, its
// scalar on AVX-512.
func (k *vecX86) mem(name string) string {
	lookup(name)
	i := 0
	for i < len(k.table) && k.table[i] != name {
		i++
	}
	if i == len(k.table) {
		k.table = append(k.table, name)
	}
	size := k.vbytes
	if k.avx512() {
		size = 4
	}
	return fmt.Sprintf("vecConst<>+%d(SB)", i*size)
}

// bind broadcasts constant name into register n for the rest of the kernel.
func (k *vecX86) bind(name string, n int) {
	k.regs.hold(n)
	k.bound[name] = k.r(n)
	op := "VMOVUPS"
	if k.avx512() {
		op = "VBROADCASTSS"
	}
	k.p("\t%s %s, %s // %s", op, k.mem(name), k.r(n), lookup(name).note)
}

// c is constant name as a source operand: its register if bound, else
// (AVX2) its memory operand.
func (k *vecX86) c(name string) string {
	if r, ok := k.bound[name]; ok {
		return r
	}
	if k.avx512() {
		log.Fatalf("%s: constant %s is not in a register", k.f.decl, name)
	}
	return k.mem(name)
}

// creg is constant name in a register, for the operands that must be one:
// its own if bound, else loaded into scratch.
func (k *vecX86) creg(name, scratch string) string {
	if r, ok := k.bound[name]; ok {
		return r
	}
	k.load(name, scratch)
	return scratch
}

// load copies constant name into register dst.
func (k *vecX86) load(name, dst string) {
	op := "VMOVUPS"
	if _, ok := k.bound[name]; ok {
		op = "VMOVAPS"
	}
	k.p("\t%s %s, %s // %s", op, k.c(name), dst, lookup(name).note)
}

// loop is the body of a streaming kernel over CX elements, a positive
// multiple of the vector width: while at least unroll vectors remain,
// body(unroll) processes a block of them, at offsets at(ptr, v) for v <
// unroll, and the pointers ptrs advance; then body(1) does one vector at a
// time (a single step when unroll is 2). Write each of body's steps for all
// n vectors before the next, so that the vectors' chains interleave. The
// loop ends at label done.
func (k *vecX86) loop(unroll int, ptrs []string, body func(n int)) {
	lanes := k.vbytes / 4
	step := func(n int) {
		body(n)
		for _, p := range ptrs {
			k.p("\tADDQ $%d, %s", n*k.vbytes, p)
		}
	}
	if unroll > 1 {
		k.p("\tCMPQ CX, $%d", unroll*lanes)
		k.p("\tJLT tail")
		k.p("")
		k.p("loop:")
		step(unroll)
		k.p("\tSUBQ $%d, CX", unroll*lanes)
		k.p("\tCMPQ CX, $%d", unroll*lanes)
		k.p("\tJGE loop")
		k.p("")
		k.p("tail:")
		k.p("\tTESTQ CX, CX")
		k.p("\tJEQ done")
		if unroll == 2 {
			body(1)
			k.p("")
			k.p("done:")
			return
		}
		k.p("")
	}
	k.p("loop1:")
	step(1)
	k.p("\tSUBQ $%d, CX", lanes)
	k.p("\tJNE loop1")
	k.p("")
	k.p("done:")
}

// hreduce folds the lanes of register n into lane 0 of Xn with the packed
// op ops and the scalar op opss; register t is scratch.
func (k *vecX86) hreduce(ops, opss string, n, t int) {
	if k.avx512() {
		k.p("\tVEXTRACTF64X4 $1, Z%d, Y%d", n, t)
		k.p("\t%s Y%d, Y%d, Y%d", ops, t, n, n)
	}
	k.p("\tVEXTRACTF128 $1, Y%d, X%d", n, t)
	k.p("\t%s X%d, X%d, X%d", ops, t, n, n)
	k.p("\tVMOVHLPS X%d, X%d, X%d", n, n, t)
	k.p("\t%s X%d, X%d, X%d", ops, t, n, n)
	k.p("\tVMOVSHDUP X%d, X%d", n, t)
	k.p("\t%s X%d, X%d, X%d", opss, t, n, n)
}

// ret4 folds the four accumulators 0-3 with op (opss on scalars) and
// returns the result.
func (k *vecX86) ret4(op, opss string) {
	k.p("\t%s %s, %s, %s", op, k.r(1), k.r(0), k.r(0))
	k.p("\t%s %s, %s, %s", op, k.r(3), k.r(2), k.r(2))
	k.p("\t%s %s, %s, %s", op, k.r(2), k.r(0), k.r(0))
	k.hreduce(op, opss, 0, 1)
	k.p("\tVZEROUPPER")
	k.p("\tMOVSS X0, %s", k.f.arg("ret"))
	k.p("\tRET")
}

func (k *vecX86) ret() {
	k.p("\tVZEROUPPER")
	k.p("\tRET")
}

// dot: four accumulators 0-3, x in 4-7.
func (k *vecX86) dot() {
	k.text("Dot", "(x, y *float32, n int) float32")
	k.args("x", "SI", "y", "DI", "n", "CX")
	k.zero(0, 1, 2, 3)
	k.loop(4, []string{"SI", "DI"}, func(n int) {
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.at("SI", v), k.r(4+v))
		}
		for v := range n {
			k.p("\tVFMADD231PS %s, %s, %s", k.at("DI", v), k.r(4+v), k.r(v))
		}
	})
	k.ret4("VADDPS", "VADDSS")
}

func (k *vecX86) sum() {
	k.text("Sum", "(x *float32, n int) float32")
	k.args("x", "SI", "n", "CX")
	k.zero(0, 1, 2, 3)
	k.loop(4, []string{"SI"}, func(n int) {
		for v := range n {
			k.p("\tVADDPS %s, %s, %s", k.at("SI", v), k.r(v), k.r(v))
		}
	})
	k.ret4("VADDPS", "VADDSS")
}

// max: running maxima in 0-3, x in 4-7, NaN mask in 8 (compares in 9-10).
func (k *vecX86) max() {
	k.text("Max", "(x *float32, n int) float32",
		"VMAXPS drops a NaN in one operand and not in the other, so NaNs are",
		"tracked apart: an unordered compare ORs a mask, and any NaN seen makes",
		"the result NaN.")
	k.args("x", "SI", "n", "CX")
	k.load("-inf", k.r(0))
	for v := 1; v < 4; v++ {
		k.p("\tVMOVAPS %s, %s", k.r(0), k.r(v))
	}
	k.zero(8)
	k.loop(4, []string{"SI"}, func(n int) {
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.at("SI", v), k.r(4+v))
		}
		// One compare per pair of vectors (unordered: either is NaN).
		var masks []string
		for v := 0; v < n; v += 2 {
			m := k.r(9 + v/2)
			k.p("\tVCMPPS $3, %s, %s, %s", k.r(4+min(v+1, n-1)), k.r(4+v), m)
			masks = append(masks, m)
		}
		for v := range n {
			k.p("\tVMAXPS %s, %s, %s", k.r(4+v), k.r(v), k.r(v))
		}
		for _, m := range masks {
			k.p("\tVORPS %s, %s, %s", m, k.r(8), k.r(8))
		}
	})
	k.p("\tVMOVMSKPS %s, AX", k.r(8))
	k.p("\tTESTL AX, AX")
	k.p("\tJNE nan")
	k.ret4("VMAXPS", "VMAXSS")
	k.p("")
	k.p("nan:")
	k.p("\tVZEROUPPER")
	k.p("\tMOVL $0x7fc00000, AX")
	k.p("\tMOVL AX, %s", k.f.arg("ret"))
	k.p("\tRET")
}

func (k *vecX86) axpy() {
	k.text("Axpy", "(alpha float32, x, y *float32, n int)")
	k.args("alpha", k.r(15), "x", "SI", "y", "DI", "n", "CX")
	k.loop(4, []string{"SI", "DI"}, func(n int) {
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.at("DI", v), k.r(v))
		}
		for v := range n {
			k.p("\tVFMADD231PS %s, %s, %s", k.at("SI", v), k.r(15), k.r(v))
		}
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.r(v), k.at("DI", v))
		}
	})
	k.ret()
}

func (k *vecX86) scale() {
	k.text("Scale", "(alpha float32, x *float32, n int)")
	k.args("alpha", k.r(15), "x", "SI", "n", "CX")
	k.loop(4, []string{"SI"}, func(n int) {
		for v := range n {
			k.p("\tVMULPS %s, %s, %s", k.at("SI", v), k.r(15), k.r(v))
		}
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.r(v), k.at("SI", v))
		}
	})
	k.ret()
}

func (k *vecX86) add() { k.binary("Add", "VADDPS") }
func (k *vecX86) mul() { k.binary("Mul", "VMULPS") }

// binary: dst = x op y.
func (k *vecX86) binary(name, op string) {
	k.text(name, "(dst, x, y *float32, n int)")
	k.args("dst", "DI", "x", "SI", "y", "DX", "n", "CX")
	k.loop(4, []string{"SI", "DX", "DI"}, func(n int) {
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.at("SI", v), k.r(v))
		}
		for v := range n {
			k.p("\t%s %s, %s, %s", op, k.at("DX", v), k.r(v), k.r(v))
		}
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.r(v), k.at("DI", v))
		}
	})
	k.ret()
}

// expConsts broadcasts the constants exp keeps in registers, with hi as the
// upper clamp: on AVX2 the four it uses most (the rest are memory
// operands), on AVX-512 all of them, in 16-28.
func (k *vecX86) expConsts(hi string) {
	k.hi = hi
	if !k.avx512() {
		k.bind("expLo", 15)
		k.bind(hi, 14)
		k.bind("magic", 10)
		k.bind("log2e", 9)
		return
	}
	for i, c := range append([]string{"expLo", hi, "magic", "log2e", "ln2Hi", "ln2Lo"}, append(expPoly, "one")...) {
		k.bind(c, 16+i)
	}
}

// exp replaces the lanes of register x with exp(x), exactly as vecExp1 in
// vec_generic.go (with FMAs); t, n and p are scratch. The clamps put x
// second (Intel order), where MINPS/MAXPS return it when it is NaN, so a
// NaN flows on and makes the result NaN.
func (k *vecX86) exp(x, t, n, p int) {
	X, T, N, P := k.r(x), k.r(t), k.r(n), k.r(p)
	k.p("\tVMAXPS %s, %s, %s // max(x, lo)", X, k.creg("expLo", T), X)
	k.p("\tVMINPS %s, %s, %s // min(x, hi)", X, k.creg(k.hi, T), X)
	k.load("magic", T)
	k.p("\tVFMADD231PS %s, %s, %s // t = x*log2e + magic", k.c("log2e"), X, T)
	k.p("\tVSUBPS %s, %s, %s // n = t - magic, float", k.c("magic"), T, N)
	if !k.avx512() {
		k.p("\tVPSUBD %s, %s, %s // n as int32: bits(t) - bits(magic)", k.c("magic"), T, T)
	}
	k.p("\tVFNMADD231PS %s, %s, %s // x -= n*ln2Hi", k.c("ln2Hi"), N, X)
	k.p("\tVFNMADD231PS %s, %s, %s // r = x - n*ln2Lo", k.c("ln2Lo"), N, X)
	k.load(expPoly[0], P)
	for _, c := range expPoly[1:] {
		k.p("\tVFMADD213PS %s, %s, %s // p = p*r + %s", k.c(c), X, P, c)
	}
	rr := N // AVX2 keeps the integer n in T for the scaling
	if k.avx512() {
		rr = T
	}
	k.p("\tVMULPS %s, %s, %s // r*r", X, X, rr)
	k.p("\tVFMADD213PS %s, %s, %s // p*r*r + r", X, rr, P)
	k.p("\tVADDPS %s, %s, %s // + 1", k.c("one"), P, P)
	if k.avx512() {
		k.p("\tVSCALEFPS %s, %s, %s // * 2^n", N, P, X)
		return
	}
	k.p("\tVPSRAD $1, %s, %s // n1 = n >> 1", T, N)
	k.p("\tVPSUBD %s, %s, %s // n2 = n - n1", N, T, T)
	k.p("\tVPADDD %s, %s, %s", k.c("bias"), N, N)
	k.p("\tVPADDD %s, %s, %s", k.c("bias"), T, T)
	k.p("\tVPSLLD $23, %s, %s // 2^n1", N, N)
	k.p("\tVPSLLD $23, %s, %s // 2^n2", T, T)
	k.p("\tVMULPS %s, %s, %s", N, P, P)
	k.p("\tVMULPS %s, %s, %s", T, P, X)
}

// expSum: dst[i] = exp(x[i]-shift), summed in 12 and 11; x in 0 and 4.
func (k *vecX86) expSum() {
	k.text("ExpSum", "(shift float32, dst, x *float32, n int) float32")
	k.regs.hold(13)
	k.args("shift", k.r(13), "dst", "DI", "x", "SI", "n", "CX")
	k.expConsts("expHi")
	k.zero(12, 11)
	var vr [2][]int // x, then exp's scratch
	for v := range vr {
		vr[v] = k.regs.take(4, 16)
	}
	k.loop(2, []string{"SI", "DI"}, func(n int) {
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.at("SI", v), k.r(vr[v][0]))
		}
		for v := range n {
			k.p("\tVSUBPS %s, %s, %s // x - shift", k.r(13), k.r(vr[v][0]), k.r(vr[v][0]))
		}
		for v := range n {
			k.exp(vr[v][0], vr[v][1], vr[v][2], vr[v][3])
		}
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.r(vr[v][0]), k.at("DI", v))
		}
		for v := range n {
			k.p("\tVADDPS %s, %s, %s", k.r(vr[v][0]), k.r(12-v), k.r(12-v))
		}
	})
	k.p("\tVADDPS %s, %s, %s", k.r(11), k.r(12), k.r(12))
	k.hreduce("VADDPS", "VADDSS", 12, 1)
	k.p("\tVZEROUPPER")
	k.p("\tMOVSS X12, %s", k.f.arg("ret"))
	k.p("\tRET")
}

// geluConsts broadcasts exp's constants with the clamp geluZMax (exp's min
// is then the clamp of -2u, the same value as vecExp1(min(z, 80))) and, on
// AVX-512, GELU's own; AVX2 takes those from memory.
func (k *vecX86) geluConsts(backward bool) {
	k.expConsts("zMax")
	if !k.avx512() {
		return
	}
	k.bind("K0", 29)
	k.bind("K1", 30)
	if backward {
		k.bind("K2", 31)
		k.bind("K3", 15)
		k.bind("xMax", 14)
		k.bind("-xMax", 13)
	}
}

// geluOne replaces the lanes of x with gelu(x), as vecGELUGeneric in gelu.go
// (with FMAs); z, t, n and p are scratch.
func (k *vecX86) geluOne(x, z, t, n, p int) {
	X, Z, T := k.r(x), k.r(z), k.r(t)
	k.p("\tVMULPS %s, %s, %s // x^2", X, X, T)
	k.load("K0", Z)
	k.p("\tVFMADD231PS %s, %s, %s // K0 + K1 x^2", k.c("K1"), T, Z)
	k.p("\tVMULPS %s, %s, %s // z = -2u", Z, X, Z)
	k.exp(z, t, n, p) // e = exp(min(z, 80))
	k.p("\tVADDPS %s, %s, %s // 1+e", k.c("one"), Z, Z)
	k.p("\tVDIVPS %s, %s, %s // s = 1/(1+e)", Z, k.creg("one", T), T)
	k.p("\tVMULPS %s, %s, %s // x*s", T, X, X)
}

// geluGrad sets d to gelu'(x) for the lanes of x, as
// vecGELUBackwardGeneric (with FMAs), clamping x to [-20, 20] in place; t,
// n, p and s are scratch.
func (k *vecX86) geluGrad(x, d, t, n, p, s int) {
	X, D, T, N, S := k.r(x), k.r(d), k.r(t), k.r(n), k.r(s)
	k.p("\tVMAXPS %s, %s, %s // max(x, -20), NaN kept", X, k.creg("-xMax", T), X)
	k.p("\tVMINPS %s, %s, %s // min(x, 20), NaN kept", X, k.creg("xMax", T), X)
	k.p("\tVMULPS %s, %s, %s // x^2", X, X, T)
	k.load("K0", D)
	k.p("\tVFMADD231PS %s, %s, %s // K0 + K1 x^2", k.c("K1"), T, D)
	k.p("\tVMULPS %s, %s, %s // z = -2u", D, X, D)
	k.exp(d, t, n, p) // e
	k.p("\tVADDPS %s, %s, %s // 1+e", k.c("one"), D, T)
	k.p("\tVDIVPS %s, %s, %s // s = 1/(1+e)", T, k.creg("one", S), S)
	k.p("\tVMULPS %s, %s, %s // e*s = 1-s", S, D, D)
	k.p("\tVMULPS %s, %s, %s // x^2", X, X, T)
	k.load("K2", N)
	k.p("\tVFMADD231PS %s, %s, %s // w' = K3 x^2 + K2", k.c("K3"), T, N)
	k.p("\tVMULPS %s, %s, %s // x w'", N, X, N)
	k.p("\tVMULPS %s, %s, %s // r = (e*s)(x w')", N, D, D)
	k.p("\tVFMADD213PS %s, %s, %s // s*r + s", S, S, D)
}

func (k *vecX86) gelu() {
	k.text("GELU", "(dst, x *float32, n int)")
	k.args("dst", "DI", "x", "SI", "n", "CX")
	k.geluConsts(false)
	var vr [2][]int // x, then scratch
	for v := range vr {
		vr[v] = k.regs.take(5, 16)
	}
	k.loop(2, []string{"SI", "DI"}, func(n int) {
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.at("SI", v), k.r(vr[v][0]))
		}
		for v := range n {
			k.geluOne(vr[v][0], vr[v][1], vr[v][2], vr[v][3], vr[v][4])
		}
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.r(vr[v][0]), k.at("DI", v))
		}
	})
	k.ret()
}

func (k *vecX86) geluBackward() {
	k.text("GELUBackward", "(dx, x, dy *float32, n int)")
	k.args("dx", "DI", "x", "SI", "dy", "DX", "n", "CX")
	k.geluConsts(true)
	var vr [2][]int // x, gelu'(x), then scratch
	for v := range vr {
		vr[v] = k.regs.take(6, 16)
	}
	k.loop(2, []string{"SI", "DX", "DI"}, func(n int) {
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.at("SI", v), k.r(vr[v][0]))
		}
		for v := range n {
			r := vr[v]
			k.geluGrad(r[0], r[1], r[2], r[3], r[4], r[5])
		}
		for v := range n {
			k.p("\tVMULPS %s, %s, %s", k.at("DX", v), k.r(vr[v][1]), k.r(vr[v][1]))
		}
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.r(vr[v][1]), k.at("DI", v))
		}
	})
	k.ret()
}

// adamW: one vector per iteration, the coefficients in 8-15.
func (k *vecX86) adamW() {
	k.text("AdamW", "(w, grad, m, v *float32, n int, k *adamCoef)",
		"Plain multiplies and adds, in vecAdamWGeneric's order, so the bits match",
		"the generic path's.")
	k.args("w", "DI", "grad", "SI", "m", "DX", "v", "R8", "n", "CX", "k", "AX")
	for i, f := range []string{"b1", "c1 = 1-b1", "b2", "c2 = 1-b2", "decay", "step", "vscale", "eps"} {
		k.p("\tVBROADCASTSS %d(AX), %s // %s", 4*i, k.r(8+i), f)
	}
	k.loop(1, []string{"SI", "DX", "R8", "DI"}, func(int) {
		k.p("\tVMOVUPS (SI), %s // g", k.r(0))
		k.p("\tVMULPS (DX), %s, %s // b1*m", k.r(8), k.r(1))
		k.p("\tVMULPS %s, %s, %s // c1*g", k.r(0), k.r(9), k.r(2))
		k.p("\tVADDPS %s, %s, %s // m", k.r(2), k.r(1), k.r(1))
		k.p("\tVMOVUPS %s, (DX)", k.r(1))
		k.p("\tVMULPS %s, %s, %s // c2*g", k.r(0), k.r(11), k.r(2))
		k.p("\tVMULPS %s, %s, %s // c2*g*g", k.r(0), k.r(2), k.r(2))
		k.p("\tVMULPS (R8), %s, %s // b2*v", k.r(10), k.r(3))
		k.p("\tVADDPS %s, %s, %s // v", k.r(2), k.r(3), k.r(3))
		k.p("\tVMOVUPS %s, (R8)", k.r(3))
		k.p("\tVSQRTPS %s, %s", k.r(3), k.r(3))
		k.p("\tVMULPS %s, %s, %s // sqrt(v)*vscale", k.r(14), k.r(3), k.r(3))
		k.p("\tVADDPS %s, %s, %s // + eps", k.r(15), k.r(3), k.r(3))
		k.p("\tVMULPS %s, %s, %s // step*m", k.r(1), k.r(13), k.r(1))
		k.p("\tVDIVPS %s, %s, %s // / den", k.r(3), k.r(1), k.r(1))
		k.p("\tVMULPS (DI), %s, %s // w*decay", k.r(12), k.r(4))
		k.p("\tVSUBPS %s, %s, %s", k.r(1), k.r(4), k.r(4))
		k.p("\tVMOVUPS %s, (DI)", k.r(4))
	})
	k.ret()
}

func (k *vecX86) sqDev() {
	k.text("SqDev", "(x *float32, n int, mean float32) float32")
	k.args("x", "SI", "n", "CX", "mean", k.r(15))
	k.zero(0, 1, 2, 3)
	k.loop(4, []string{"SI"}, func(n int) {
		for v := range n {
			k.p("\tVSUBPS %s, %s, %s // mean - x: the square is the same", k.at("SI", v), k.r(15), k.r(4+v))
		}
		for v := range n {
			k.p("\tVFMADD231PS %s, %s, %s", k.r(4+v), k.r(4+v), k.r(v))
		}
	})
	k.ret4("VADDPS", "VADDSS")
}

func (k *vecX86) lnForward() {
	k.text("LNForward", "(y, x, w, b *float32, n int, mean, rstd float32)")
	k.args("y", "DI", "x", "SI", "w", "DX", "b", "R8", "n", "CX", "mean", k.r(15), "rstd", k.r(14))
	k.loop(2, []string{"SI", "DX", "R8", "DI"}, func(n int) {
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.at("SI", v), k.r(v))
		}
		for v := range n {
			k.p("\tVSUBPS %s, %s, %s // x - mean", k.r(15), k.r(v), k.r(v))
		}
		for v := range n {
			k.p("\tVMULPS %s, %s, %s // * rstd", k.r(14), k.r(v), k.r(v))
		}
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.at("DX", v), k.r(2+v))
		}
		for v := range n {
			k.p("\tVFMADD213PS %s, %s, %s // * w + b", k.at("R8", v), k.r(2+v), k.r(v))
		}
		for v := range n {
			k.p("\tVMOVUPS %s, %s", k.r(v), k.at("DI", v))
		}
	})
	k.ret()
}

// lnSums: per vector of a block, five scratch registers and the running
// sums s1, s2 (8, 9 and 10, 11, added at the end).
func (k *vecX86) lnSums() {
	k.text("LNSums", "(dw, db, x, dy, w *float32, n int, mean, rstd float32) (s1, s2 float32)")
	k.regs.hold(15, 14)
	k.args("dw", "DI", "db", "R9", "x", "SI", "dy", "DX", "w", "R8", "n", "CX", "mean", k.r(15), "rstd", k.r(14))
	k.zero(8, 9, 10, 11)
	var vr [2][]int
	for v := range vr {
		vr[v] = k.regs.take(5, 16)
	}
	k.loop(2, []string{"SI", "DX", "R8", "DI", "R9"}, func(n int) {
		for v := range n {
			xh, dy, gw, dw, db := k.r(vr[v][0]), k.r(vr[v][1]), k.r(vr[v][2]), k.r(vr[v][3]), k.r(vr[v][4])
			s1, s2 := k.r(8+2*v), k.r(9+2*v)
			k.p("\tVMOVUPS %s, %s", k.at("SI", v), xh)
			k.p("\tVSUBPS %s, %s, %s", k.r(15), xh, xh)
			k.p("\tVMULPS %s, %s, %s // xh = (x-mean)*rstd", k.r(14), xh, xh)
			k.p("\tVMOVUPS %s, %s", k.at("DX", v), dy)
			k.p("\tVMULPS %s, %s, %s // gw = dy*w", k.at("R8", v), dy, gw)
			k.p("\tVADDPS %s, %s, %s", gw, s1, s1)
			k.p("\tVFMADD231PS %s, %s, %s // s2 += gw*xh", xh, gw, s2)
			k.p("\tVMOVUPS %s, %s", k.at("DI", v), dw)
			k.p("\tVFMADD231PS %s, %s, %s // dw += dy*xh", xh, dy, dw)
			k.p("\tVMOVUPS %s, %s", dw, k.at("DI", v))
			k.p("\tVADDPS %s, %s, %s // db += dy", k.at("R9", v), dy, db)
			k.p("\tVMOVUPS %s, %s", db, k.at("R9", v))
		}
	})
	k.p("\tVADDPS %s, %s, %s", k.r(10), k.r(8), k.r(8))
	k.p("\tVADDPS %s, %s, %s", k.r(11), k.r(9), k.r(9))
	k.hreduce("VADDPS", "VADDSS", 8, 1)
	k.hreduce("VADDPS", "VADDSS", 9, 1)
	k.p("\tVZEROUPPER")
	k.p("\tMOVSS X8, %s", k.f.arg("s1"))
	k.p("\tMOVSS X9, %s", k.f.arg("s2"))
	k.p("\tRET")
}

func (k *vecX86) lnDx() {
	k.text("LNDx", "(dx, x, dy, w *float32, n int, mean, rstd, a, c float32)")
	k.regs.hold(15, 14, 13, 12)
	k.args("dx", "DI", "x", "SI", "dy", "DX", "w", "R8", "n", "CX",
		"mean", k.r(15), "rstd", k.r(14), "a", k.r(13), "c", k.r(12))
	var vr [2][]int
	for v := range vr {
		vr[v] = k.regs.take(3, 16)
	}
	k.loop(2, []string{"SI", "DX", "R8", "DI"}, func(n int) {
		for v := range n {
			xh, u, d := k.r(vr[v][0]), k.r(vr[v][1]), k.r(vr[v][2])
			k.p("\tVMOVUPS %s, %s", k.at("SI", v), xh)
			k.p("\tVSUBPS %s, %s, %s", k.r(15), xh, xh)
			k.p("\tVMULPS %s, %s, %s // xh", k.r(14), xh, xh)
			k.p("\tVMOVUPS %s, %s", k.at("DX", v), u)
			k.p("\tVMULPS %s, %s, %s // gw = dy*w", k.at("R8", v), u, u)
			k.p("\tVSUBPS %s, %s, %s // gw - a", k.r(13), u, u)
			k.p("\tVFNMADD231PS %s, %s, %s // - xh*c", k.r(12), xh, u)
			k.p("\tVMOVUPS %s, %s", k.at("DI", v), d)
			k.p("\tVFMADD231PS %s, %s, %s // dx += rstd*u", u, k.r(14), d)
			k.p("\tVMOVUPS %s, %s", d, k.at("DI", v))
		}
	})
	k.ret()
}
