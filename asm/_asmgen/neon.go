package main

import "fmt"

// Go's arm64 assembler has no floating-point vector arithmetic besides
// VFMLA and VFMLS (and no by-element form of those), so the instructions
// below are emitted as WORDs with the instruction in a comment. Register
// arguments are numbers, in Arm's order: the destination first.

// neon3ops holds the encodings of three-register instructions on .4S
// arrangements, to be ORed with Rm<<16 | Rn<<5 | Rd.
var neon3ops = map[string]uint32{
	"FADD":  0x4E20D400,
	"FSUB":  0x4EA0D400,
	"FMUL":  0x6E20DC00,
	"FDIV":  0x6E20FC00,
	"FMAX":  0x4E20F400, // NaN if either is NaN
	"FMIN":  0x4EA0F400, // NaN if either is NaN
	"FADDP": 0x6E20D400,
}

// neon3 is "op Vd.4S, Vn.4S, Vm.4S".
func neon3(op string, d, n, m int) string {
	enc, ok := neon3ops[op]
	if !ok {
		panic("no encoding for " + op)
	}
	return fmt.Sprintf("\tWORD $0x%08x // %s V%d.4S, V%d.4S, V%d.4S", enc|uint32(m)<<16|uint32(n)<<5|uint32(d), op, d, n, m)
}

// neon2ops holds two-register instructions: the encoding, to be ORed with
// Rn<<5 | Rd, and the assembly form.
var neon2ops = map[string]struct {
	enc  uint32
	form string
}{
	"FSQRT":    {0x6EA1F800, "FSQRT V%d.4S, V%d.4S"},
	"FMAXV":    {0x6E30F800, "FMAXV S%d, V%d.4S"}, // NaN if any lane is NaN
	"FADDP.2S": {0x7E30D800, "FADDP S%d, V%d.2S"},
	"SSHR1":    {0x4F3F0400, "SSHR V%d.4S, V%d.4S, #1"},
}

func neon2(op string, d, n int) string {
	o, ok := neon2ops[op]
	if !ok {
		panic("no encoding for " + op)
	}
	return fmt.Sprintf("\tWORD $0x%08x // %s", o.enc|uint32(n)<<5|uint32(d), fmt.Sprintf(o.form, d, n))
}

// fmlaElem is FMLA Vd.4S, Vn.4S, Vm.S[idx]:
// 0 1 0 01111 1 0 L M Rm 0001 H 0 Rn Rd (M:Rm names Vm).
func fmlaElem(d, n, m, idx int) string {
	enc := 0x4F801000 | uint32(idx&1)<<21 | uint32(m&31)<<16 | uint32(idx>>1)<<11 | uint32(n)<<5 | uint32(d)
	return fmt.Sprintf("\tWORD $0x%08x // FMLA V%d.4S, V%d.4S, V%d.S[%d]", enc, d, n, m, idx)
}
