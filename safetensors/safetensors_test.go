package safetensors

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// onlyReader hides Len so that Read takes its unknown-length path.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// readAll reads b through all three entry points and checks they agree.
func readAll(t *testing.T, b []byte) ([]Tensor, map[string]string, error) {
	t.Helper()
	ts, meta, err := Read(bytes.NewReader(b))
	ts2, _, err2 := Read(onlyReader{bytes.NewReader(b)})
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ts3, _, err3 := ReadFile(path)
	if (err == nil) != (err2 == nil) || (err == nil) != (err3 == nil) {
		t.Fatalf("entry points disagree: Read %v, stream %v, ReadFile %v", err, err2, err3)
	}
	if err == nil && (!sameTensors(ts, ts2) || !sameTensors(ts, ts3)) {
		t.Fatalf("entry points return different tensors")
	}
	return ts, meta, err
}

func sameTensors(a, b []Tensor) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !slices.Equal(a[i].Shape, b[i].Shape) || len(a[i].Data) != len(b[i].Data) {
			return false
		}
		for j := range a[i].Data {
			if math.Float32bits(a[i].Data[j]) != math.Float32bits(b[i].Data[j]) {
				return false
			}
		}
	}
	return true
}

// TestReadReference reads a file laid out by an independent encoder
// (testdata/make_fixture.py) with F32, F16 and BF16 tensors.
func TestReadReference(t *testing.T) {
	b, err := os.ReadFile("testdata/reference.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	ts, meta, err := readAll(t, b)
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" || len(meta) != 1 {
		t.Errorf("metadata = %v", meta)
	}
	inf := float32(math.Inf(1))
	want := []Tensor{
		{"a.f32", []int{2, 3}, []float32{1, -2, 0.5, 3.25, float32(math.Copysign(0, -1)), 1e-3}},
		{"d.scalar", []int{}, []float32{7}},
		{"b.f16", []int{5}, []float32{1, -2.5, 65504, 1.0 / (1 << 24), inf}},
		{"c.bf16", []int{2, 2}, []float32{1, 3.140625, -inf, -0.5}},
		{"e.empty", []int{0, 4}, []float32{}},
	}
	if !sameTensors(ts, want) {
		t.Errorf("got  %v\nwant %v", ts, want)
	}
	h, err := ReadHeader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if h.DataSize != 46 || h.Tensors[2].DType != F16 || h.Tensors[2].Begin != 28 || h.Tensors[2].End != 38 {
		t.Errorf("header = %+v", h)
	}
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	nan := math.Float32frombits(0x7fc01234) // NaN with a payload
	ts := []Tensor{
		{"z.weight", []int{3, 5}, nil},
		{"a.bias", []int{7}, nil},
		{"scalar", nil, []float32{nan}},
		{"empty", []int{4, 0, 2}, []float32{}},
		{"specials", []int{4}, []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32}},
		{"blocks.3.attn.<qkv>&\"quoted\"", []int{2, 2, 2}, nil},
		{"big", []int{20000}, nil}, // spans several write chunks
	}
	for i := range ts {
		if ts[i].Data == nil {
			n, _ := numElements(ts[i].Shape)
			ts[i].Data = make([]float32, n)
			for j := range ts[i].Data {
				ts[i].Data[j] = float32(rng.NormFloat64())
			}
		}
	}
	meta := map[string]string{"format": "pt", "step": "12", "ünïcode": "<&>"}
	var buf bytes.Buffer
	if err := Write(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if n := binary.LittleEndian.Uint64(b); n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	got, gotMeta, err := readAll(t, b)
	if err != nil {
		t.Fatal(err)
	}
	// Read returns file order, which Write makes name order.
	byName := map[string]Tensor{}
	for _, x := range ts {
		byName[x.Name] = x
	}
	for i, g := range got {
		if i > 0 && got[i-1].Name >= g.Name {
			t.Errorf("tensors not in name order: %q before %q", got[i-1].Name, g.Name)
		}
		w := byName[g.Name]
		if len(w.Shape) == 0 {
			w.Shape = []int{}
		}
		if !sameTensors([]Tensor{g}, []Tensor{w}) {
			t.Errorf("tensor %q did not round-trip", g.Name)
		}
	}
	if len(got) != len(ts) {
		t.Errorf("got %d tensors, want %d", len(got), len(ts))
	}
	if len(gotMeta) != len(meta) {
		t.Errorf("metadata = %v, want %v", gotMeta, meta)
	}
	for k, v := range meta {
		if gotMeta[k] != v {
			t.Errorf("metadata[%q] = %q, want %q", k, gotMeta[k], v)
		}
	}
	// Determinism: a permuted input gives the same bytes.
	perm := append([]Tensor(nil), ts...)
	rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	var buf2 bytes.Buffer
	if err := Write(&buf2, perm, meta); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, buf2.Bytes()) {
		t.Error("Write is not deterministic under input order")
	}
}

// TestWriteGolden pins the exact bytes of a small file.
func TestWriteGolden(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, []Tensor{
		{"w", []int{2}, []float32{1, -2}},
		{"b", nil, []float32{0.5}},
	}, map[string]string{"format": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	header := `{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`
	header += strings.Repeat(" ", (8-len(header)%8)%8)
	want := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	want = append(want, header...)
	for _, v := range []float32{0.5, 1, -2} {
		want = binary.LittleEndian.AppendUint32(want, math.Float32bits(v))
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("got\n%q\nwant\n%q", buf.Bytes(), want)
	}
	// No metadata: no __metadata__ entry at all.
	buf.Reset()
	if err := Write(&buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := buf.String()[8:]; got != "{}      " {
		t.Errorf("empty file header = %q", got)
	}
}

func TestWriteErrors(t *testing.T) {
	cases := []struct {
		name string
		ts   []Tensor
		meta map[string]string
		want string
	}{
		{"empty name", []Tensor{{"", []int{1}, []float32{1}}}, nil, "empty name"},
		{"reserved", []Tensor{{"__metadata__", []int{1}, []float32{1}}}, nil, "reserved"},
		{"twice", []Tensor{{"a", []int{1}, []float32{1}}, {"a", []int{1}, []float32{2}}}, nil, `"a" appears twice`},
		{"utf8", []Tensor{{"a\xff", []int{1}, []float32{1}}}, nil, "UTF-8"},
		{"negative", []Tensor{{"a", []int{-1, -1}, []float32{1}}}, nil, "negative dimension"},
		{"mismatch", []Tensor{{"a", []int{2, 3}, []float32{1}}}, nil, `"a": shape [2 3] holds 6 values but Data has 1`},
		{"overflow", []Tensor{{"a", []int{1 << 40, 1 << 40}, nil}}, nil, "too many elements"},
		{"meta utf8", nil, map[string]string{"k": "\xfe"}, "UTF-8"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		err := Write(&buf, c.ts, c.meta)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes despite the error", c.name, buf.Len())
		}
	}
}

// file builds a safetensors file from a header string and a data buffer,
// without any validation.
func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestReadErrors(t *testing.T) {
	f32 := func(name string, shape string, b, e int) string {
		return `"` + name + `":{"dtype":"F32","shape":` + shape + `,"data_offsets":[` + strconv.Itoa(b) + `,` + strconv.Itoa(e) + `]}`
	}
	ok := `{` + f32("a", "[2]", 0, 8) + `}`
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short for the 8-byte header length"},
		{"short prefix", []byte{1, 2, 3}, "too short"},
		{"header past end", file(ok, make([]byte, 8))[:20], "header length"},
		{"header too big", binary.LittleEndian.AppendUint64(nil, 1<<40), "exceeds the limit"},
		{"not an object", file(`["a"]`, nil), "does not start with '{'"},
		{"bad json", file(`{"a":{"dtype":"F32",`, nil), "header"},
		{"not utf8", file("{\"a\xff\":1}", nil), "UTF-8"},
		{"trailing json", file(ok+`{}`, make([]byte, 8)), "content after its JSON object"},
		{"duplicate", file(`{`+f32("a", "[1]", 0, 4)+`,`+f32("a", "[1]", 4, 8)+`}`, make([]byte, 8)), `names "a" twice`},
		{"empty name", file(`{`+f32("", "[2]", 0, 8)+`}`, make([]byte, 8)), "empty name"},
		{"entry not object", file(`{"a":3}`, nil), `tensor "a": malformed entry`},
		{"no dtype", file(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": no dtype`},
		{"no shape", file(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": no shape`},
		{"no offsets", file(`{"a":{"dtype":"F32","shape":[1]}}`, make([]byte, 4)), `data_offsets must be`},
		{"three offsets", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, make([]byte, 4)), `data_offsets must be`},
		{"unknown dtype", file(`{"a":{"dtype":"F7","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": unknown dtype "F7"`},
		{"negative dim", file(`{`+f32("a", "[-1,-4]", 0, 16)+`}`, make([]byte, 16)), "negative dimension"},
		{"fractional dim", file(`{`+f32("a", "[1.5]", 0, 4)+`}`, make([]byte, 4)), "malformed entry"},
		{"huge dims", file(`{`+f32("a", "[4294967296,4294967296,4294967296]", 0, 4)+`}`, make([]byte, 4)), "too many elements"},
		{"dim overflows int64", file(`{`+f32("a", "[99999999999999999999]", 0, 4)+`}`, make([]byte, 4)), "malformed entry"},
		{"size mismatch", file(`{`+f32("a", "[3]", 0, 8)+`}`, make([]byte, 8)), `hold 8 bytes but shape [3] of F32 needs 12`},
		{"negative offset", file(`{`+f32("a", "[1]", -4, 0)+`}`, nil), "invalid data_offsets"},
		{"reversed offsets", file(`{`+f32("a", "[0]", 8, 4)+`}`, nil), "invalid data_offsets"},
		{"overlap", file(`{`+f32("a", "[2]", 0, 8)+`,`+f32("b", "[2]", 4, 12)+`}`, make([]byte, 12)), "overlaps"},
		{"gap", file(`{`+f32("a", "[1]", 0, 4)+`,`+f32("b", "[1]", 8, 12)+`}`, make([]byte, 12)), "gap in the data buffer"},
		{"hole at start", file(`{`+f32("a", "[1]", 4, 8)+`}`, make([]byte, 8)), "gap in the data buffer"},
		{"truncated data", file(ok, make([]byte, 5)), ""},
		{"trailing data", file(ok, make([]byte, 9)), ""},
		{"unsupported dtype", file(`{"ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)), `tensor "ids" has dtype I64`},
		{"metadata not strings", file(`{"__metadata__":{"k":1}}`, nil), "__metadata__ must map strings to strings"},
		{"metadata array", file(`{"__metadata__":["x"]}`, nil), "__metadata__"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := readAll(t, c.file)
			if err == nil {
				t.Fatalf("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Errorf("err = %v, want the package prefix", err)
			}
		})
	}
}

// TestReadClaimsMoreThanPresent: a header promising a gigabyte of data on a
// short stream fails cleanly instead of allocating the promise.
func TestReadClaimsMoreThanPresent(t *testing.T) {
	b := file(`{"a":{"dtype":"F32","shape":[250000000],"data_offsets":[0,1000000000]}}`, make([]byte, 64))
	_, _, err := Read(onlyReader{bytes.NewReader(b)})
	if err == nil || !strings.Contains(err.Error(), `tensor "a": data ends early`) {
		t.Fatalf("err = %v", err)
	}
	_, _, err = Read(bytes.NewReader(b))
	if err == nil || !strings.Contains(err.Error(), "data buffer is 64 bytes but the header describes 1000000000") {
		t.Fatalf("err = %v", err)
	}
}

func TestReadFileMissing(t *testing.T) {
	_, _, err := ReadFile(filepath.Join(t.TempDir(), "nope.safetensors"))
	if err == nil || !strings.Contains(err.Error(), "nope.safetensors") {
		t.Fatalf("err = %v", err)
	}
}

// TestReadHeaderAnyDtype: ReadHeader lists files whose tensors Read cannot
// convert.
func TestReadHeaderAnyDtype(t *testing.T) {
	b := file(`{"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"m":{"dtype":"BOOL","shape":[3],"data_offsets":[16,19]}}`, make([]byte, 19))
	h, err := ReadHeader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Tensors) != 2 || h.Tensors[0].Name != "ids" || h.Tensors[1].DType != BOOL || h.DataSize != 19 {
		t.Errorf("header = %+v", h)
	}
}
