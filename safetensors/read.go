package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"unicode/utf8"

	"github.com/sproutml/sprout/internal/half"
)

// maxHeader is the largest header accepted, the limit of the reference
// implementation (100 MB).
const maxHeader = 100_000_000

// Info describes one tensor of a file as its header declares it.
type Info struct {
	Name  string
	DType DType
	Shape []int
	// Begin and End are the tensor's byte range [Begin, End) within the data
	// buffer that follows the header.
	Begin, End int64
}

// Header is a validated safetensors header.
type Header struct {
	// Tensors in the order of their data in the file.
	Tensors []Info
	// Metadata is the "__metadata__" map, nil when the file has none.
	Metadata map[string]string
	// DataSize is the length in bytes of the data buffer the tensors tile.
	DataSize int64
}

// ReadFile reads a safetensors file, converting every tensor to float32.
// See Read.
func ReadFile(path string) ([]Tensor, map[string]string, error) {
	return ReadFileFunc(path, nil)
}

// ReadFileFunc is ReadFile limited to the tensors keep accepts (all of them
// when keep is nil). The others are skipped unread whatever their dtype, so
// a file whose unwanted tensors are, say, boolean masks can still be read.
// The whole header is validated as for ReadFile.
func ReadFileFunc(path string, keep func(Info) bool) ([]Tensor, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	size := int64(-1)
	if st.Mode().IsRegular() {
		size = st.Size()
	}
	ts, meta, err := read(f, size, keep)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return ts, meta, nil
}

// Read reads a whole safetensors stream and returns its tensors in file
// order, converted to float32, and its metadata (nil when absent). F32, F16
// and BF16 tensors are supported; any other dtype is an error naming the
// tensor. The header is fully validated before any data is read, and bytes
// after the data buffer are an error. If r has a Len method (bytes.Reader,
// strings.Reader, bytes.Buffer), sizes are checked against it up front.
func Read(r io.Reader) ([]Tensor, map[string]string, error) {
	size := int64(-1)
	if l, ok := r.(interface{ Len() int }); ok {
		size = int64(l.Len())
	}
	return read(r, size, nil)
}

// ReadHeader reads and validates the header at the start of r, without
// reading any tensor data. Unlike Read it accepts every dtype whose size is
// known, so it can list any well-formed file.
func ReadHeader(r io.Reader) (*Header, error) {
	h, _, err := readHeader(r, -1)
	return h, err
}

func read(r io.Reader, size int64, keep func(Info) bool) ([]Tensor, map[string]string, error) {
	h, hlen, err := readHeader(r, size)
	if err != nil {
		return nil, nil, err
	}
	if size >= 0 && size-hlen != h.DataSize {
		return nil, nil, fmt.Errorf("safetensors: data buffer is %d bytes but the header describes %d", size-hlen, h.DataSize)
	}
	wanted := make([]bool, len(h.Tensors))
	for i, t := range h.Tensors {
		wanted[i] = keep == nil || keep(t)
		if wanted[i] && !t.DType.convertible() {
			return nil, nil, fmt.Errorf("safetensors: tensor %q has dtype %s; only F32, F16 and BF16 can be read as float32", t.Name, t.DType)
		}
	}
	out := make([]Tensor, 0, len(h.Tensors))
	chunk := make([]byte, 1<<16)
	for i, t := range h.Tensors {
		if !wanted[i] {
			if n, err := io.CopyN(io.Discard, r, t.End-t.Begin); err != nil {
				return nil, nil, fmt.Errorf("safetensors: tensor %q: data ends early after %d of its %d bytes: %w", t.Name, n, t.End-t.Begin, noEOF(err))
			}
			continue
		}
		n := (t.End - t.Begin) / int64(t.DType.Size())
		o := Tensor{Name: t.Name, Shape: t.Shape}
		if size >= 0 {
			o.Data = make([]float32, 0, n) // the whole buffer is known to be there
		} else {
			o.Data = make([]float32, 0, min(n, int64(len(chunk))))
		}
		for left := t.End - t.Begin; left > 0; {
			c := chunk[:min(left, int64(len(chunk)))]
			if _, err := io.ReadFull(r, c); err != nil {
				return nil, nil, fmt.Errorf("safetensors: tensor %q: data ends early: %w", t.Name, noEOF(err))
			}
			o.Data = appendConverted(o.Data, c, t.DType)
			left -= int64(len(c))
		}
		out = append(out, o)
	}
	if size < 0 {
		var b [1]byte
		if n, _ := io.ReadFull(r, b[:]); n != 0 {
			return nil, nil, fmt.Errorf("safetensors: unexpected bytes after the %d-byte data buffer", h.DataSize)
		}
	}
	return out, h.Metadata, nil
}

// appendConverted decodes little-endian elements of dtype d from b.
func appendConverted(dst []float32, b []byte, d DType) []float32 {
	switch d {
	case F32:
		for i := 0; i+4 <= len(b); i += 4 {
			dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
		}
	case F16:
		for i := 0; i+2 <= len(b); i += 2 {
			dst = append(dst, half.F16ToF32(binary.LittleEndian.Uint16(b[i:])))
		}
	case BF16:
		for i := 0; i+2 <= len(b); i += 2 {
			dst = append(dst, half.BF16ToF32(binary.LittleEndian.Uint16(b[i:])))
		}
	}
	return dst
}

// readHeader reads the length prefix and the header; size is the total
// stream length when known, or -1. It returns the header and the number of
// bytes it occupies including the prefix.
func readHeader(r io.Reader, size int64) (*Header, int64, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, 0, fmt.Errorf("safetensors: too short for the 8-byte header length: %w", noEOF(err))
	}
	n := binary.LittleEndian.Uint64(pre[:])
	switch {
	case n > maxHeader:
		return nil, 0, fmt.Errorf("safetensors: header length %d exceeds the limit of %d bytes", n, maxHeader)
	case size >= 0 && n > uint64(size-8):
		return nil, 0, fmt.Errorf("safetensors: header length %d exceeds the %d bytes that follow it", n, size-8)
	}
	var hb []byte
	if size >= 0 {
		hb = make([]byte, n)
		if _, err := io.ReadFull(r, hb); err != nil {
			return nil, 0, fmt.Errorf("safetensors: header: %w", noEOF(err))
		}
	} else {
		// Unknown length: grow with the bytes actually present rather than
		// trusting the prefix with a large allocation.
		var err error
		hb, err = io.ReadAll(io.LimitReader(r, int64(n)))
		if err != nil {
			return nil, 0, fmt.Errorf("safetensors: header: %w", err)
		}
		if uint64(len(hb)) != n {
			return nil, 0, fmt.Errorf("safetensors: header length %d but only %d bytes follow", n, len(hb))
		}
	}
	h, err := parseHeader(hb)
	if err != nil {
		return nil, 0, err
	}
	return h, 8 + int64(n), nil
}

// rawInfo is a tensor entry as it appears in the JSON header.
type rawInfo struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// parseHeader decodes and validates the JSON header.
func parseHeader(b []byte) (*Header, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("safetensors: header is not valid UTF-8")
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, errors.New("safetensors: header does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("safetensors: header: %v", err)
	}
	h := &Header{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("safetensors: header: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("safetensors: header: unexpected %v", tok)
		}
		if name == "" {
			return nil, errors.New("safetensors: header has a tensor with an empty name")
		}
		if seen[name] {
			return nil, fmt.Errorf("safetensors: header names %q twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("safetensors: header entry %q: %v", name, err)
		}
		if name == metadataKey {
			if err := json.Unmarshal(raw, &h.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors: __metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		info, err := parseInfo(name, raw)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, info)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("safetensors: header: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("safetensors: header has content after its JSON object")
	}
	sort.SliceStable(h.Tensors, func(i, j int) bool {
		a, b := h.Tensors[i], h.Tensors[j]
		if a.Begin != b.Begin {
			return a.Begin < b.Begin
		}
		if a.End != b.End {
			return a.End < b.End
		}
		return a.Name < b.Name
	})
	var end int64
	for _, t := range h.Tensors {
		if t.Begin != end {
			if t.Begin < end {
				return nil, fmt.Errorf("safetensors: tensor %q at bytes [%d,%d) overlaps the tensor before it, which ends at %d", t.Name, t.Begin, t.End, end)
			}
			return nil, fmt.Errorf("safetensors: gap in the data buffer: bytes [%d,%d) belong to no tensor (next is %q)", end, t.Begin, t.Name)
		}
		end = t.End
	}
	h.DataSize = end
	return h, nil
}

// parseInfo validates one tensor entry.
func parseInfo(name string, raw json.RawMessage) (Info, error) {
	var ri rawInfo
	if err := json.Unmarshal(raw, &ri); err != nil {
		return Info{}, fmt.Errorf("safetensors: tensor %q: malformed entry: %v", name, err)
	}
	switch {
	case ri.DType == nil:
		return Info{}, fmt.Errorf("safetensors: tensor %q: no dtype", name)
	case ri.Shape == nil:
		return Info{}, fmt.Errorf("safetensors: tensor %q: no shape", name)
	case ri.DataOffsets == nil || len(*ri.DataOffsets) != 2:
		return Info{}, fmt.Errorf("safetensors: tensor %q: data_offsets must be [begin, end]", name)
	}
	dt := DType(*ri.DType)
	es := dt.Size()
	if es == 0 {
		return Info{}, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, *ri.DType)
	}
	shape := make([]int, len(*ri.Shape))
	n := int64(1)
	for i, d := range *ri.Shape {
		if d < 0 {
			return Info{}, fmt.Errorf("safetensors: tensor %q: negative dimension in shape %v", name, *ri.Shape)
		}
		if d > math.MaxInt || d != 0 && n > maxElements/d {
			return Info{}, fmt.Errorf("safetensors: tensor %q: shape %v has too many elements", name, *ri.Shape)
		}
		n *= d
		shape[i] = int(d)
	}
	begin, end := (*ri.DataOffsets)[0], (*ri.DataOffsets)[1]
	if begin < 0 || end < begin {
		return Info{}, fmt.Errorf("safetensors: tensor %q: invalid data_offsets [%d,%d]", name, begin, end)
	}
	if want := n * int64(es); end-begin != want {
		return Info{}, fmt.Errorf("safetensors: tensor %q: data_offsets [%d,%d] hold %d bytes but shape %v of %s needs %d", name, begin, end, end-begin, shape, dt, want)
	}
	return Info{Name: name, DType: dt, Shape: shape, Begin: begin, End: end}, nil
}

// noEOF turns a bare io.EOF into io.ErrUnexpectedEOF: running out of input
// inside a file is always a truncation.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
