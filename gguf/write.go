package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/sproutml/sprout/internal/half"
)

// KV is one metadata entry. Value holds a Go value of one of the types listed
// in the package documentation.
type KV struct {
	Key   string
	Value any
}

// Tensor is a named tensor. Shape is row-major (slowest-varying dimension
// first); the file stores it reversed, as ggml's ne.
type Tensor struct {
	Name  string
	Shape []int
	Type  TensorType // F32, F16 or BF16
	Data  []float32
	// Offset is the tensor's byte offset within the data section. Decode sets
	// it; Write ignores it and lays the tensors out in order.
	Offset int64
}

// Write writes a GGUF v3 file of the metadata kv (in order) and the tensors
// (in order, each padded to the alignment) to w. Everything is checked before
// the first byte is written: keys must be non-empty and unique, values of a
// supported type, "general.alignment" (if present) a uint32 power of two,
// tensor names non-empty, unique and under MaxNameLen bytes, shapes of at
// most MaxDims dimensions matching len(Data), types F32, F16 or BF16.
func Write(w io.Writer, kv []KV, tensors []Tensor) error {
	align, err := checkKV(kv)
	if err != nil {
		return err
	}
	if err := checkTensors(tensors); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	e := &encoder{w: bw}
	e.raw([]byte(magic))
	e.u32(Version)
	e.u64(uint64(len(tensors)))
	e.u64(uint64(len(kv)))
	for _, p := range kv {
		e.str(p.Key)
		e.value(p.Value)
	}
	var off int64
	for _, t := range tensors {
		e.str(t.Name)
		e.u32(uint32(len(t.Shape)))
		for i := len(t.Shape) - 1; i >= 0; i-- {
			e.u64(uint64(t.Shape[i]))
		}
		e.u32(uint32(t.Type))
		e.u64(uint64(off))
		off += pad(int64(len(t.Data))*int64(t.Type.size()), align)
	}
	if len(tensors) > 0 {
		e.zeros(pad(e.n, align) - e.n)
	}
	for _, t := range tensors {
		start := e.n
		for _, v := range t.Data {
			switch t.Type {
			case F32:
				e.u32(math.Float32bits(v))
			case F16:
				e.u16(half.F32ToF16(v))
			case BF16:
				e.u16(half.F32ToBF16(v))
			}
		}
		e.zeros(pad(e.n-start, align) - (e.n - start))
	}
	if e.err == nil {
		e.err = bw.Flush()
	}
	if e.err != nil {
		return fmt.Errorf("gguf: write: %w", e.err)
	}
	return nil
}

// pad rounds n up to a multiple of align (a power of two).
func pad(n, align int64) int64 { return (n + align - 1) &^ (align - 1) }

// checkKV validates the metadata and returns the alignment it sets.
func checkKV(kv []KV) (int64, error) {
	seen := make(map[string]bool, len(kv))
	align := int64(DefaultAlignment)
	for _, p := range kv {
		if p.Key == "" {
			return 0, errors.New("gguf: metadata key is empty")
		}
		if seen[p.Key] {
			return 0, fmt.Errorf("gguf: metadata key %q appears twice", p.Key)
		}
		seen[p.Key] = true
		if _, _, err := typeOf(p.Value); err != nil {
			return 0, fmt.Errorf("gguf: metadata %q: %w", p.Key, err)
		}
		if p.Key == AlignmentKey {
			a, ok := p.Value.(uint32)
			if !ok {
				return 0, fmt.Errorf("gguf: %s must be a uint32, got %T", AlignmentKey, p.Value)
			}
			if a == 0 || a&(a-1) != 0 {
				return 0, fmt.Errorf("gguf: %s %d is not a power of two", AlignmentKey, a)
			}
			align = int64(a)
		}
	}
	return align, nil
}

// checkTensors validates the tensors.
func checkTensors(tensors []Tensor) error {
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		if err := checkName(t.Name, seen); err != nil {
			return err
		}
		if t.Type.size() == 0 {
			return fmt.Errorf("gguf: tensor %q: type %s is not supported (want F32, F16 or BF16)", t.Name, t.Type)
		}
		if len(t.Shape) > MaxDims {
			return fmt.Errorf("gguf: tensor %q has %d dimensions; ggml allows at most %d", t.Name, len(t.Shape), MaxDims)
		}
		n := int64(1)
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("gguf: tensor %q: negative dimension in shape %v", t.Name, t.Shape)
			}
			if d != 0 && n > maxElements/int64(d) {
				return fmt.Errorf("gguf: tensor %q: shape %v has too many elements", t.Name, t.Shape)
			}
			n *= int64(d)
		}
		if n != int64(len(t.Data)) {
			return fmt.Errorf("gguf: tensor %q: shape %v holds %d values but Data has %d", t.Name, t.Shape, n, len(t.Data))
		}
	}
	return nil
}

// maxElements bounds a tensor's element count so that its padded byte size
// fits in an int64.
const maxElements = math.MaxInt64 / 16

func checkName(name string, seen map[string]bool) error {
	switch {
	case name == "":
		return errors.New("gguf: tensor with an empty name")
	case len(name) >= MaxNameLen:
		return fmt.Errorf("gguf: tensor name %q is %d bytes; ggml allows at most %d", name, len(name), MaxNameLen-1)
	case seen[name]:
		return fmt.Errorf("gguf: tensor %q appears twice", name)
	}
	seen[name] = true
	return nil
}

// typeOf returns the GGUF type of a Go value: its type, and for an array the
// element type.
func typeOf(v any) (t, elem ValueType, err error) {
	switch v.(type) {
	case uint8:
		return TypeUint8, 0, nil
	case int8:
		return TypeInt8, 0, nil
	case uint16:
		return TypeUint16, 0, nil
	case int16:
		return TypeInt16, 0, nil
	case uint32:
		return TypeUint32, 0, nil
	case int32:
		return TypeInt32, 0, nil
	case float32:
		return TypeFloat32, 0, nil
	case bool:
		return TypeBool, 0, nil
	case string:
		return TypeString, 0, nil
	case uint64:
		return TypeUint64, 0, nil
	case int64:
		return TypeInt64, 0, nil
	case float64:
		return TypeFloat64, 0, nil
	case []uint8:
		return TypeArray, TypeUint8, nil
	case []int8:
		return TypeArray, TypeInt8, nil
	case []uint16:
		return TypeArray, TypeUint16, nil
	case []int16:
		return TypeArray, TypeInt16, nil
	case []uint32:
		return TypeArray, TypeUint32, nil
	case []int32:
		return TypeArray, TypeInt32, nil
	case []float32:
		return TypeArray, TypeFloat32, nil
	case []bool:
		return TypeArray, TypeBool, nil
	case []string:
		return TypeArray, TypeString, nil
	case []uint64:
		return TypeArray, TypeUint64, nil
	case []int64:
		return TypeArray, TypeInt64, nil
	case []float64:
		return TypeArray, TypeFloat64, nil
	}
	return 0, 0, fmt.Errorf("value of Go type %T has no GGUF type", v)
}

// encoder writes little-endian values, remembering the first error and the
// number of bytes written.
type encoder struct {
	w   *bufio.Writer
	n   int64
	err error
	b   [8]byte
}

func (e *encoder) raw(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
		e.n += int64(len(p))
	}
}

func (e *encoder) zeros(n int64) {
	var z [64]byte
	for n > 0 {
		k := min(n, int64(len(z)))
		e.raw(z[:k])
		n -= k
	}
}

func (e *encoder) u8(v uint8) { e.b[0] = v; e.raw(e.b[:1]) }
func (e *encoder) u16(v uint16) {
	binary.LittleEndian.PutUint16(e.b[:], v)
	e.raw(e.b[:2])
}
func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.b[:], v)
	e.raw(e.b[:4])
}
func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.b[:], v)
	e.raw(e.b[:8])
}
func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
		e.n += int64(len(s))
	}
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// value writes a value's type tag(s) and payload; v has passed typeOf.
func (e *encoder) value(v any) {
	t, elem, _ := typeOf(v)
	e.u32(uint32(t))
	if t == TypeArray {
		e.u32(uint32(elem))
	}
	switch x := v.(type) {
	case uint8:
		e.u8(x)
	case int8:
		e.u8(uint8(x))
	case uint16:
		e.u16(x)
	case int16:
		e.u16(uint16(x))
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case float32:
		e.u32(math.Float32bits(x))
	case bool:
		e.u8(b2u(x))
	case string:
		e.str(x)
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float64:
		e.u64(math.Float64bits(x))
	case []uint8:
		e.u64(uint64(len(x)))
		e.raw(x)
	case []int8:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.u8(uint8(y))
		}
	case []uint16:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.u16(y)
		}
	case []int16:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.u16(uint16(y))
		}
	case []uint32:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.u32(y)
		}
	case []int32:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.u32(uint32(y))
		}
	case []float32:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.u32(math.Float32bits(y))
		}
	case []bool:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.u8(b2u(y))
		}
	case []string:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.str(y)
		}
	case []uint64:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.u64(y)
		}
	case []int64:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.u64(uint64(y))
		}
	case []float64:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.u64(math.Float64bits(y))
		}
	}
}
