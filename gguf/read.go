package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/sproutml/sprout/internal/half"
)

// File is a decoded GGUF file.
type File struct {
	Version uint32 // 2 or 3
	KV      []KV   // in file order
	Tensors []Tensor
	// Alignment is the data alignment ("general.alignment" or 32).
	Alignment int64
	// DataOffset is the file offset of the data section.
	DataOffset int64
}

// Value returns the metadata value of key.
func (f *File) Value(key string) (any, bool) {
	for _, p := range f.KV {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

// Tensor returns the tensor named name, or nil.
func (f *File) Tensor(name string) *Tensor {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i]
		}
	}
	return nil
}

// ReadFile reads and decodes the GGUF file at path. See Decode.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	f, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return f, nil
}

// Decode parses a whole GGUF file (version 2 or 3) and converts its tensors
// to float32. It validates what llama.cpp's loader validates (see the
// package documentation); tensors of types other than F32, F16 and BF16 are
// an error naming the tensor and its type. Padding bytes are not checked;
// bytes after the data section are an error.
func Decode(b []byte) (*File, error) {
	d := &decoder{b: b}
	if len(b) < 4 || string(b[:4]) != magic {
		return nil, errors.New("gguf: not a GGUF file (no \"GGUF\" magic)")
	}
	d.off = 4
	f := &File{Version: d.u32()}
	nt, nkv := d.u64(), d.u64()
	if d.err != nil {
		return nil, fmt.Errorf("gguf: header: %w", d.err)
	}
	switch {
	case f.Version == 1:
		return nil, errors.New("gguf: version 1 is not supported (llama.cpp dropped it too)")
	case f.Version != 2 && f.Version != 3:
		return nil, fmt.Errorf("gguf: version %d is not supported (want 2 or 3)", f.Version)
	}
	// Every entry takes at least 8+1+4+1 bytes and every tensor info
	// 8+1+4+4+8: counts beyond that cannot be honest.
	if nkv > uint64(d.left()/14) {
		return nil, fmt.Errorf("gguf: header claims %d metadata entries, more than the file can hold", nkv)
	}
	if nt > uint64(d.left()/25) {
		return nil, fmt.Errorf("gguf: header claims %d tensors, more than the file can hold", nt)
	}
	f.KV = make([]KV, 0, nkv)
	seen := map[string]bool{}
	for i := uint64(0); i < nkv; i++ {
		key := d.str()
		if d.err != nil {
			return nil, fmt.Errorf("gguf: metadata entry %d: %w", i, d.err)
		}
		if key == "" {
			return nil, fmt.Errorf("gguf: metadata entry %d has an empty key", i)
		}
		if seen[key] {
			return nil, fmt.Errorf("gguf: metadata key %q appears twice", key)
		}
		seen[key] = true
		v := d.value()
		if d.err != nil {
			return nil, fmt.Errorf("gguf: metadata %q: %w", key, d.err)
		}
		f.KV = append(f.KV, KV{key, v})
	}
	align, err := checkKV(f.KV)
	if err != nil {
		return nil, err
	}
	f.Alignment = align
	f.Tensors = make([]Tensor, 0, nt)
	names := map[string]bool{}
	var claimed int64 // bytes of data the infos so far need
	for i := uint64(0); i < nt; i++ {
		t, n, err := d.tensorInfo(names)
		if err != nil {
			return nil, fmt.Errorf("gguf: tensor info %d: %w", i, err)
		}
		// All the data must fit in what is left of the file: check before
		// allocating.
		size := n * int64(t.Type.size())
		if size > int64(d.left()) || claimed > int64(d.left())-size {
			return nil, fmt.Errorf("gguf: tensor %q: shape %v of %s needs %d bytes, more than the file holds", t.Name, t.Shape, t.Type, size)
		}
		claimed += size
		t.Data = make([]float32, n)
		f.Tensors = append(f.Tensors, t)
	}
	headerEnd := int64(d.off)
	if len(f.Tensors) == 0 {
		if int64(len(b)) > pad(headerEnd, align) {
			return nil, fmt.Errorf("gguf: %d bytes after the header of a file without tensors", int64(len(b))-headerEnd)
		}
		f.DataOffset = headerEnd
		return f, nil
	}
	f.DataOffset = pad(headerEnd, align)
	var want int64
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if t.Offset != want {
			return nil, fmt.Errorf("gguf: tensor %q is at offset %d of the data section but the tensors before it end at %d (they must follow each other, padded to %d bytes)", t.Name, t.Offset, want, align)
		}
		size := int64(len(t.Data)) * int64(t.Type.size())
		start := f.DataOffset + t.Offset
		if start > int64(len(b)) || size > int64(len(b))-start {
			return nil, fmt.Errorf("gguf: tensor %q: its %d bytes at file offset %d run past the end of the %d-byte file", t.Name, size, start, len(b))
		}
		decodeData(t.Data, b[start:start+size], t.Type)
		want = t.Offset + pad(size, align)
	}
	if int64(len(b)) > f.DataOffset+want {
		return nil, fmt.Errorf("gguf: %d bytes after the data section", int64(len(b))-f.DataOffset-want)
	}
	return f, nil
}

// decodeData fills dst with the elements of type t in src.
func decodeData(dst []float32, src []byte, t TensorType) {
	switch t {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case F16:
		for i := range dst {
			dst[i] = half.F16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = half.BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	}
}

// decoder reads little-endian values from b, remembering the first error.
type decoder struct {
	b   []byte
	off int
	err error
}

var errShort = errors.New("file ends early")

func (d *decoder) left() int { return len(d.b) - d.off }

func (d *decoder) take(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(d.left()) {
		d.err = errShort
		return nil
	}
	p := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return p
}

func (d *decoder) u8() uint8 {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if p := d.take(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) str() string {
	n := d.u64()
	if d.err == nil && n > uint64(d.left()) {
		d.err = fmt.Errorf("string of %d bytes runs past the end of the file", n)
		return ""
	}
	return string(d.take(n))
}

func (d *decoder) boolean() bool {
	v := d.u8()
	if v > 1 && d.err == nil {
		d.err = fmt.Errorf("bool value %d is neither 0 nor 1", v)
	}
	return v == 1
}

// value reads a type tag and the value it announces.
func (d *decoder) value() any {
	t := ValueType(d.u32())
	if d.err != nil {
		return nil
	}
	if t != TypeArray {
		return d.scalar(t)
	}
	elem := ValueType(d.u32())
	n := d.u64()
	if d.err != nil {
		return nil
	}
	min := elem.size()
	switch {
	case elem == TypeArray:
		d.err = errors.New("arrays of arrays are not supported")
		return nil
	case elem == TypeString:
		min = 8
	case min == 0:
		d.err = fmt.Errorf("array of unknown value type %d", uint32(elem))
		return nil
	}
	if n > uint64(d.left()/min) {
		d.err = fmt.Errorf("array of %d %s values runs past the end of the file", n, elem)
		return nil
	}
	return d.array(elem, int(n))
}

func (d *decoder) scalar(t ValueType) any {
	switch t {
	case TypeUint8:
		return d.u8()
	case TypeInt8:
		return int8(d.u8())
	case TypeUint16:
		return d.u16()
	case TypeInt16:
		return int16(d.u16())
	case TypeUint32:
		return d.u32()
	case TypeInt32:
		return int32(d.u32())
	case TypeFloat32:
		return math.Float32frombits(d.u32())
	case TypeBool:
		return d.boolean()
	case TypeString:
		return d.str()
	case TypeUint64:
		return d.u64()
	case TypeInt64:
		return int64(d.u64())
	case TypeFloat64:
		return math.Float64frombits(d.u64())
	}
	d.err = fmt.Errorf("unknown value type %d", uint32(t))
	return nil
}

// array reads n elements of type t (n already checked against the bytes
// left).
func (d *decoder) array(t ValueType, n int) any {
	switch t {
	case TypeUint8:
		return append([]uint8{}, d.take(uint64(n))...)
	case TypeInt8:
		return fill(n, func() int8 { return int8(d.u8()) })
	case TypeUint16:
		return fill(n, d.u16)
	case TypeInt16:
		return fill(n, func() int16 { return int16(d.u16()) })
	case TypeUint32:
		return fill(n, d.u32)
	case TypeInt32:
		return fill(n, func() int32 { return int32(d.u32()) })
	case TypeFloat32:
		return fill(n, func() float32 { return math.Float32frombits(d.u32()) })
	case TypeBool:
		return fill(n, d.boolean)
	case TypeString:
		return fill(n, d.str)
	case TypeUint64:
		return fill(n, d.u64)
	case TypeInt64:
		return fill(n, func() int64 { return int64(d.u64()) })
	case TypeFloat64:
		return fill(n, func() float64 { return math.Float64frombits(d.u64()) })
	}
	return nil
}

func fill[T any](n int, next func() T) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = next()
	}
	return s
}

// tensorInfo reads one tensor info; it returns the tensor without Data and
// its element count.
func (d *decoder) tensorInfo(seen map[string]bool) (Tensor, int64, error) {
	name := d.str()
	if d.err != nil {
		return Tensor{}, 0, d.err
	}
	if err := checkName(name, seen); err != nil {
		return Tensor{}, 0, err
	}
	nd := d.u32()
	if d.err != nil {
		return Tensor{}, 0, fmt.Errorf("tensor %q: %w", name, d.err)
	}
	if nd > MaxDims {
		return Tensor{}, 0, fmt.Errorf("tensor %q has %d dimensions; ggml allows at most %d", name, nd, MaxDims)
	}
	shape := make([]int, nd)
	n := int64(1)
	for j := int(nd) - 1; j >= 0; j-- { // ne[0] is the last row-major dimension
		v := d.u64()
		if d.err != nil {
			return Tensor{}, 0, fmt.Errorf("tensor %q: %w", name, d.err)
		}
		if v > math.MaxInt64 {
			return Tensor{}, 0, fmt.Errorf("tensor %q: dimension %d is negative as ggml reads it", name, int64(v))
		}
		if v != 0 && n > maxElements/int64(v) {
			return Tensor{}, 0, fmt.Errorf("tensor %q: too many elements", name)
		}
		n *= int64(v)
		shape[j] = int(v)
	}
	typ := TensorType(d.u32())
	off := d.u64()
	if d.err != nil {
		return Tensor{}, 0, fmt.Errorf("tensor %q: %w", name, d.err)
	}
	if typ.size() == 0 {
		return Tensor{}, 0, fmt.Errorf("tensor %q has ggml type %s; only F32, F16 and BF16 are supported", name, typ)
	}
	if off > math.MaxInt64 {
		return Tensor{}, 0, fmt.Errorf("tensor %q: offset %d out of range", name, off)
	}
	return Tensor{Name: name, Shape: shape, Type: typ, Offset: int64(off)}, n, nil
}
