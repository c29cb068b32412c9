//go:build !(amd64 || arm64) || !gc || purego || noasm

package asm

// Without assembly every vector kernel is its pure-Go twin.

func vecDot(x, y []float32) float32                     { return vecDotGeneric(x, y) }
func vecSum(x []float32) float32                        { return vecSumGeneric(x) }
func vecMax(x []float32) float32                        { return vecMaxGeneric(x) }
func vecAxpy(alpha float32, x, y []float32)             { vecAxpyGeneric(alpha, x, y) }
func vecScale(alpha float32, x []float32)               { vecScaleGeneric(alpha, x) }
func vecAdd(dst, x, y []float32)                        { vecAddGeneric(dst, x, y) }
func vecMul(dst, x, y []float32)                        { vecMulGeneric(dst, x, y) }
func vecExpSum(dst, x []float32, shift float32) float32 { return vecExpSumGeneric(dst, x, shift) }

func vecGELU(dst, x []float32)                   { vecGELUGeneric(dst, x) }
func vecGELUBackward(dx, x, dy []float32)        { vecGELUBackwardGeneric(dx, x, dy) }
func vecAdamW(w, g, m, v []float32, k *adamCoef) { vecAdamWGeneric(w, g, m, v, k) }
func vecSqDev(x []float32, mean float32) float32 { return vecSqDevGeneric(x, mean) }
func vecLNForward(y, x, w, b []float32, mean, rstd float32) {
	vecLNForwardGeneric(y, x, w, b, mean, rstd)
}
func vecLNSums(dw, db, x, dy, w []float32, mean, rstd float32) (s1, s2 float32) {
	return vecLNSumsGeneric(dw, db, x, dy, w, mean, rstd)
}
func vecLNDx(dx, x, dy, w []float32, mean, rstd, a, c float32) {
	vecLNDxGeneric(dx, x, dy, w, mean, rstd, a, c)
}
