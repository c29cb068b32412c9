package main

import (
	"log"
	"math"
)

// vconst is a 32-bit constant of the vector kernels: its bits and the note
// printed beside it. The float values are those of vec_generic.go and
// gelu.go, written the same way.
type vconst struct {
	bits uint32
	note string
}

func f32(x float32, note string) vconst { return vconst{math.Float32bits(x), note} }

const geluC, geluA = 0.7978845608028654, 0.044715 // sqrt(2/pi), a

var vconsts = map[string]vconst{
	"expLo": f32(-104, "vecExpLo = -104"),
	"expHi": f32(89, "vecExpHi = 89"),
	"log2e": f32(1.44269504088896341, "vecExpLog2e"),
	"magic": f32(12582912, "vecExpMagic = 1.5*2^23"),
	"ln2Hi": f32(0.693359375, "vecExpLn2Hi"),
	"ln2Lo": f32(-2.12194440e-4, "vecExpLn2Lo"),
	"P0":    f32(1.9875691500e-4, "vecExpP0"),
	"P1":    f32(1.3981999507e-3, "vecExpP1"),
	"P2":    f32(8.3334519073e-3, "vecExpP2"),
	"P3":    f32(4.1665795894e-2, "vecExpP3"),
	"P4":    f32(1.6666665459e-1, "vecExpP4"),
	"P5":    f32(5.0000001201e-1, "vecExpP5"),
	"one":   f32(1, "1.0"),
	"bias":  {127, "int32 127, the exponent bias"},
	"-inf":  {0xff800000, "-Inf"},
	"K0":    f32(-2*geluC, "geluK0 = -2c"),
	"K1":    f32(-2*geluC*geluA, "geluK1 = -2ca"),
	"K2":    f32(2*geluC, "geluK2 = 2c"),
	"K3":    f32(6*geluC*geluA, "geluK3 = 6ca"),
	"zMax":  f32(80, "geluZMax = 80"),
	"xMax":  f32(20, "geluXMax = 20"),
	"-xMax": f32(-20, "-geluXMax"),
}

func lookup(name string) vconst {
	c, ok := vconsts[name]
	if !ok {
		log.Fatalf("no constant %s", name)
	}
	return c
}

// expPoly lists exp's polynomial coefficients, highest degree first.
var expPoly = []string{"P0", "P1", "P2", "P3", "P4", "P5"}
