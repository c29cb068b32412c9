package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/sproutml/sprout/internal/half"
)

// Tensor is a named, shaped block of float32 values in row-major order.
// A nil or empty Shape is a scalar holding one value.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// metadataKey is the reserved header entry holding the string metadata.
const metadataKey = "__metadata__"

// Write writes tensors and optional metadata to w as a safetensors file of
// F32 tensors. Tensors are laid out in sorted name order, so equal inputs
// produce equal bytes. It checks its input first and writes nothing when a
// name is empty, repeated, reserved or not UTF-8, or when a shape has a
// negative dimension or disagrees with len(Data).
func Write(w io.Writer, tensors []Tensor, meta map[string]string) error {
	return WriteAs(w, tensors, meta, F32)
}

// WriteAs is Write with every tensor stored as dtype: F32, or F16 or BF16
// rounded to nearest (ties to even; beyond F16's range values become
// infinities).
func WriteAs(w io.Writer, tensors []Tensor, meta map[string]string, dtype DType) error {
	if dtype != F32 && dtype != F16 && dtype != BF16 {
		return fmt.Errorf("safetensors: write: dtype %s is not supported (want F32, F16 or BF16)", dtype)
	}
	order, err := checkWrite(tensors, meta)
	if err != nil {
		return err
	}
	header, err := encodeHeader(tensors, order, meta, dtype)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(header)))
	buf = append(buf, header...)
	for _, i := range order {
		for _, v := range tensors[i].Data {
			if len(buf)+4 > cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return fmt.Errorf("safetensors: write: %w", err)
				}
				buf = buf[:0]
			}
			switch dtype {
			case F32:
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			case F16:
				buf = binary.LittleEndian.AppendUint16(buf, half.F32ToF16(v))
			case BF16:
				buf = binary.LittleEndian.AppendUint16(buf, half.F32ToBF16(v))
			}
		}
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	return nil
}

// checkWrite validates Write's input and returns the tensor indices in name
// order.
func checkWrite(tensors []Tensor, meta map[string]string) ([]int, error) {
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		switch {
		case t.Name == "":
			return nil, fmt.Errorf("safetensors: write: tensor with an empty name")
		case t.Name == metadataKey:
			return nil, fmt.Errorf("safetensors: write: tensor name %q is reserved", t.Name)
		case !utf8.ValidString(t.Name):
			return nil, fmt.Errorf("safetensors: write: tensor name %q is not valid UTF-8", t.Name)
		case seen[t.Name]:
			return nil, fmt.Errorf("safetensors: write: tensor %q appears twice", t.Name)
		}
		seen[t.Name] = true
		n, err := numElements(t.Shape)
		if err != nil {
			return nil, fmt.Errorf("safetensors: write: tensor %q: %v", t.Name, err)
		}
		if n != int64(len(t.Data)) {
			return nil, fmt.Errorf("safetensors: write: tensor %q: shape %v holds %d values but Data has %d", t.Name, t.Shape, n, len(t.Data))
		}
	}
	for k, v := range meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("safetensors: write: metadata %q is not valid UTF-8", k)
		}
	}
	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return tensors[order[a]].Name < tensors[order[b]].Name })
	return order, nil
}

// numElements returns the product of shape's dimensions, rejecting negative
// dimensions and products that overflow what a float32 slice can hold.
func numElements(shape []int) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > maxElements/int64(d) {
			return 0, fmt.Errorf("shape %v has too many elements", shape)
		}
		n *= int64(d)
	}
	return n, nil
}

// maxElements bounds a tensor's element count so that its byte size fits in
// an int64 whatever its dtype.
const maxElements = math.MaxInt64 / 8

// encodeHeader builds the JSON header, metadata first and then tensors in
// order, padded with spaces to a multiple of 8 bytes.
func encodeHeader(tensors []Tensor, order []int, meta map[string]string, dtype DType) ([]byte, error) {
	var h bytes.Buffer
	h.WriteByte('{')
	first := true
	if len(meta) > 0 {
		keys := make([]string, 0, len(meta))
		for k := range meta {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		writeString(&h, metadataKey)
		h.WriteString(":{")
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			writeString(&h, k)
			h.WriteByte(':')
			writeString(&h, meta[k])
		}
		h.WriteByte('}')
		first = false
	}
	var off int64
	for _, i := range order {
		t := tensors[i]
		if !first {
			h.WriteByte(',')
		}
		first = false
		writeString(&h, t.Name)
		h.WriteString(`:{"dtype":"` + string(dtype) + `","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		end := off + int64(dtype.Size())*int64(len(t.Data))
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	if h.Len() > maxHeader {
		return nil, fmt.Errorf("safetensors: write: header of %d bytes exceeds the format's limit of %d", h.Len(), maxHeader)
	}
	return h.Bytes(), nil
}

// writeString appends s as a JSON string, without HTML escaping.
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)           // cannot fail for a string
	b.Truncate(b.Len() - 1) // Encode adds a newline
}
