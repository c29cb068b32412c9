package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/sproutml/sprout/internal/half"
)

// le builds little-endian bytes from a list of values, for hand-made files.
func le(vals ...any) []byte {
	var b []byte
	for _, v := range vals {
		switch x := v.(type) {
		case string:
			b = binary.LittleEndian.AppendUint64(b, uint64(len(x)))
			b = append(b, x...)
		case []byte:
			b = append(b, x...)
		default:
			var buf bytes.Buffer
			if err := binary.Write(&buf, binary.LittleEndian, x); err != nil {
				panic(err)
			}
			b = append(b, buf.Bytes()...)
		}
	}
	return b
}

// TestWriteLayout pins the bytes of a small file, written out by hand from
// the format's description.
func TestWriteLayout(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, []KV{
		{"general.architecture", "llama"},
		{"llama.block_count", uint32(2)},
		{"tokenizer.ggml.scores", []float32{0.5, -1}},
	}, []Tensor{
		{Name: "w", Shape: []int{2, 3}, Type: F32, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Name: "h", Shape: []int{3}, Type: F16, Data: []float32{1, -2, 0.5}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := le([]byte("GGUF"), uint32(3), uint64(2), uint64(3),
		"general.architecture", uint32(8), "llama",
		"llama.block_count", uint32(4), uint32(2),
		"tokenizer.ggml.scores", uint32(9), uint32(6), uint64(2), float32(0.5), float32(-1),
		"w", uint32(2), uint64(3), uint64(2), uint32(0), uint64(0), // dims reversed: ne0 = 3 columns
		"h", uint32(1), uint64(3), uint32(1), uint64(32), // 24 bytes of w padded to 32
	)
	for len(want)%32 != 0 {
		want = append(want, 0)
	}
	want = append(want, le(float32(1), float32(2), float32(3), float32(4), float32(5), float32(6), make([]byte, 8))...)
	want = append(want, le(uint16(0x3c00), uint16(0xc000), uint16(0x3800), make([]byte, 26))...)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("got\n% x\nwant\n% x", buf.Bytes(), want)
	}
}

func allValues() []KV {
	return []KV{
		{"u8", uint8(200)}, {"i8", int8(-100)}, {"u16", uint16(60000)}, {"i16", int16(-30000)},
		{"u32", uint32(4e9)}, {"i32", int32(-2e9)}, {"f32", float32(1.5)}, {"b", true}, {"bf", false},
		{"s", "héllo"}, {"empty", ""}, {"u64", uint64(1 << 60)}, {"i64", int64(-1 << 60)}, {"f64", math.Pi},
		{"au8", []uint8{1, 2}}, {"ai8", []int8{-1}}, {"au16", []uint16{7}}, {"ai16", []int16{-7, 8}},
		{"au32", []uint32{1, 2, 3}}, {"ai32", []int32{-5}}, {"af32", []float32{0.25}}, {"ab", []bool{true, false}},
		{"as", []string{"a", "", "ccc"}}, {"au64", []uint64{9}}, {"ai64", []int64{-9}}, {"af64", []float64{-0.5}},
		{"none", []string{}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, align := range []uint32{0, 1, 8, 64} {
		kv := allValues()
		if align != 0 {
			kv = append(kv, KV{AlignmentKey, align})
		}
		ts := []Tensor{
			{Name: "scalar", Shape: nil, Type: F32, Data: []float32{3}},
			{Name: "m", Shape: []int{3, 5}, Type: F16, Data: make([]float32, 15)},
			{Name: "b", Shape: []int{2, 1, 3}, Type: BF16, Data: make([]float32, 6)},
			{Name: "e", Shape: []int{0, 4}, Type: F32, Data: []float32{}},
			{Name: "v", Shape: []int{1, 1, 1, 7}, Type: F32, Data: make([]float32, 7)},
		}
		for i := range ts {
			for j := range ts[i].Data {
				ts[i].Data[j] = float32(math.Sin(float64(i*100+j))) * 3
			}
		}
		var buf bytes.Buffer
		if err := Write(&buf, kv, ts); err != nil {
			t.Fatal(err)
		}
		f, err := Decode(buf.Bytes())
		if err != nil {
			t.Fatalf("align %d: %v", align, err)
		}
		wantAlign := int64(align)
		if align == 0 {
			wantAlign = DefaultAlignment
		}
		if f.Version != 3 || f.Alignment != wantAlign || f.DataOffset%wantAlign != 0 {
			t.Errorf("align %d: version %d, alignment %d, data at %d", align, f.Version, f.Alignment, f.DataOffset)
		}
		if !reflect.DeepEqual(f.KV, kv) {
			t.Errorf("align %d: metadata\n%v\nwant\n%v", align, f.KV, kv)
		}
		if v, ok := f.Value("s"); !ok || v != "héllo" {
			t.Errorf("Value(s) = %v, %v", v, ok)
		}
		if len(f.Tensors) != len(ts) {
			t.Fatalf("%d tensors", len(f.Tensors))
		}
		var off int64
		for i, g := range f.Tensors {
			w := ts[i]
			if g.Name != w.Name || g.Type != w.Type || !reflect.DeepEqual(g.Shape, append([]int{}, w.Shape...)) {
				t.Errorf("tensor %d: got %s %v %s, want %s %v %s", i, g.Name, g.Shape, g.Type, w.Name, w.Shape, w.Type)
			}
			if g.Offset != off {
				t.Errorf("tensor %s at %d, want %d", g.Name, g.Offset, off)
			}
			off += pad(int64(len(w.Data)*w.Type.size()), wantAlign)
			for j, v := range w.Data {
				switch w.Type {
				case F16:
					v = half.RoundF16(v)
				case BF16:
					v = half.RoundBF16(v)
				}
				if g.Data[j] != v {
					t.Errorf("%s[%d] = %g, want %g", g.Name, j, g.Data[j], v)
				}
			}
			if f.Tensor(w.Name) == nil {
				t.Errorf("Tensor(%q) not found", w.Name)
			}
		}
		if int64(buf.Len()) != f.DataOffset+off {
			t.Errorf("file is %d bytes, want %d", buf.Len(), f.DataOffset+off)
		}
	}
}

func TestNoTensors(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, []KV{{"a", uint8(1)}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Decode(buf.Bytes())
	if err != nil || len(f.Tensors) != 0 || f.DataOffset != int64(buf.Len()) {
		t.Fatalf("%+v %v", f, err)
	}
	// Padding to the alignment is tolerated, more is not.
	b := append(buf.Bytes(), make([]byte, pad(int64(buf.Len()), 32)-int64(buf.Len()))...)
	if _, err := Decode(b); err != nil {
		t.Errorf("padded: %v", err)
	}
	if _, err := Decode(append(b, make([]byte, 32)...)); err == nil {
		t.Error("trailing bytes accepted")
	}
}

// valid returns a small valid file and the offsets of some of its fields.
func valid(t *testing.T) []byte {
	var buf bytes.Buffer
	err := Write(&buf, []KV{{"k", uint32(1)}}, []Tensor{
		{Name: "a", Shape: []int{2, 2}, Type: F32, Data: []float32{1, 2, 3, 4}},
		{Name: "b", Shape: []int{2}, Type: F32, Data: []float32{5, 6}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeErrors(t *testing.T) {
	head := func(nt, nkv uint64, rest ...any) []byte {
		return append(le([]byte("GGUF"), uint32(3), nt, nkv), le(rest...)...)
	}
	info := func(name string, dims []uint64, typ uint32, off uint64) []byte {
		b := le(name, uint32(len(dims)))
		for _, d := range dims {
			b = append(b, le(d)...)
		}
		return append(b, le(typ, off)...)
	}
	withData := func(h []byte, n int) []byte {
		for len(h)%32 != 0 {
			h = append(h, 0)
		}
		return append(h, make([]byte, n)...)
	}
	good := valid(t)
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "magic"},
		{"magic", []byte("GGML\x03\x00\x00\x00"), "magic"},
		{"short header", []byte("GGUF\x03\x00"), "ends early"},
		{"v1", le([]byte("GGUF"), uint32(1), uint64(0), uint64(0)), "version 1"},
		{"v4", le([]byte("GGUF"), uint32(4), uint64(0), uint64(0)), "version 4"},
		{"big endian", le([]byte("GGUF"), uint32(3<<24), uint64(0), uint64(0)), "version"},
		{"kv count", head(0, 1<<40), "more than the file can hold"},
		{"tensor count", head(1<<40, 0), "more than the file can hold"},
		{"empty key", head(0, 1, "", uint32(4), uint32(1)), "empty key"},
		{"dup key", head(0, 2, "k", uint32(4), uint32(1), "k", uint32(4), uint32(1)), `"k" appears twice`},
		{"bad type", head(0, 1, "k", uint32(13), uint32(1)), "unknown value type 13"},
		{"nested", head(0, 1, "k", uint32(9), uint32(9), uint64(0)), "arrays of arrays"},
		{"array elem type", head(0, 1, "k", uint32(9), uint32(99), uint64(0)), "unknown value type 99"},
		{"array too long", head(0, 1, "k", uint32(9), uint32(5), uint64(1<<40)), "runs past the end"},
		{"string too long", head(0, 1, "k", uint32(8), uint64(1<<40)), "runs past the end"},
		{"bool 2", head(0, 1, "k", uint32(7), uint8(2)), "neither 0 nor 1"},
		{"align type", head(0, 1, AlignmentKey, uint32(10), uint64(32)), "must be a uint32"},
		{"align pow2", head(0, 1, AlignmentKey, uint32(4), uint32(24)), "not a power of two"},
		{"align zero", head(0, 1, AlignmentKey, uint32(4), uint32(0)), "not a power of two"},
		{"truncated kv", head(0, 1, "kkkkkkkkkk", uint32(4)), "ends early"},
		{"long name", withData(head(1, 0, info(strings.Repeat("x", 64), []uint64{1}, 0, 0)), 32), "at most 63"},
		{"empty name", withData(head(1, 0, info("", []uint64{1}, 0, 0)), 32), "empty name"},
		{"dup name", withData(head(2, 0, info("a", []uint64{1}, 0, 0), info("a", []uint64{1}, 0, 32)), 64), `"a" appears twice`},
		{"5 dims", withData(head(1, 0, info("a", []uint64{1, 1, 1, 1, 1}, 0, 0)), 32), "5 dimensions"},
		{"negative dim", withData(head(1, 0, info("a", []uint64{1 << 63}, 0, 0)), 32), "negative"},
		{"overflow", withData(head(1, 0, info("a", []uint64{1 << 40, 1 << 40}, 0, 0)), 32), "too many elements"},
		{"quantized", withData(head(1, 0, info("a", []uint64{32}, 2, 0)), 32), `"a" has ggml type Q4_0`},
		{"unknown type", withData(head(1, 0, info("a", []uint64{1}, 77, 0)), 32), "TensorType(77)"},
		{"too big", withData(head(1, 0, info("a", []uint64{1000}, 0, 0)), 32), "more than the file holds"},
		{"sum too big", withData(head(2, 0, info("a", []uint64{20}, 0, 0), info("b", []uint64{20}, 0, 96)), 100), "more than the file holds"},
		{"gap", withData(head(1, 0, info("a", []uint64{1}, 0, 32)), 64), "offset 32"},
		{"overlap", withData(head(2, 0, info("a", []uint64{16}, 0, 0), info("b", []uint64{1}, 0, 32)), 96), `"b" is at offset 32`},
		{"truncated data", good[:len(good)-40], "past the end"},
		{"trailing", append(append([]byte{}, good...), make([]byte, 32)...), "after the data section"},
	}
	for _, c := range cases {
		_, err := Decode(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
	// The last tensor's padding may be missing, as llama.cpp allows.
	if _, err := Decode(good[:len(good)-24]); err != nil {
		t.Errorf("unpadded last tensor: %v", err)
	}
}

func TestWriteErrors(t *testing.T) {
	ok := Tensor{Name: "t", Shape: []int{1}, Type: F32, Data: []float32{1}}
	cases := []struct {
		name string
		kv   []KV
		ts   []Tensor
		want string
	}{
		{"empty key", []KV{{"", uint8(1)}}, nil, "empty"},
		{"dup key", []KV{{"a", uint8(1)}, {"a", uint8(2)}}, nil, "twice"},
		{"bad value", []KV{{"a", 3}}, nil, "Go type int"},
		{"nested", []KV{{"a", [][]string{}}}, nil, "no GGUF type"},
		{"align type", []KV{{AlignmentKey, uint64(32)}}, nil, "uint32"},
		{"align", []KV{{AlignmentKey, uint32(3)}}, nil, "power of two"},
		{"name", nil, []Tensor{{Name: strings.Repeat("n", 64), Shape: []int{1}, Type: F32, Data: []float32{1}}}, "at most 63"},
		{"dup", nil, []Tensor{ok, ok}, "twice"},
		{"type", nil, []Tensor{{Name: "q", Shape: []int{1}, Type: 2, Data: []float32{1}}}, "Q4_0"},
		{"dims", nil, []Tensor{{Name: "d", Shape: []int{1, 1, 1, 1, 1}, Type: F32, Data: []float32{1}}}, "5 dimensions"},
		{"shape", nil, []Tensor{{Name: "s", Shape: []int{2, 2}, Type: F32, Data: []float32{1}}}, "holds 4 values but Data has 1"},
		{"negative", nil, []Tensor{{Name: "s", Shape: []int{-1}, Type: F32}}, "negative"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		err := Write(&buf, c.kv, c.ts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes", c.name, buf.Len())
		}
	}
}
