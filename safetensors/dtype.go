package safetensors

// DType is a safetensors element type, spelled as in the header ("F32").
type DType string

// The dtypes of the safetensors format. Only F32, F16 and BF16 can be
// converted to float32 by this package; the others are known so that their
// sizes can be validated and errors can name them.
const (
	BOOL   DType = "BOOL"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3"
	F8E8M0 DType = "F8_E8M0"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
	C64    DType = "C64"
)

// Size returns the bytes per element of d, or 0 if d is not a dtype with a
// whole number of bytes per element that this package knows.
func (d DType) Size() int {
	switch d {
	case BOOL, U8, I8, F8E5M2, F8E4M3, F8E8M0:
		return 1
	case I16, U16, F16, BF16:
		return 2
	case I32, U32, F32:
		return 4
	case F64, I64, U64, C64:
		return 8
	}
	return 0
}

// convertible reports whether the readers can turn d into float32.
func (d DType) convertible() bool {
	return d == F32 || d == F16 || d == BF16
}
