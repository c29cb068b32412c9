package safetensors

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sproutml/sprout/internal/half"
)

func TestWriteAs(t *testing.T) {
	ts := []Tensor{
		{"a", []int{2, 2}, []float32{1, -2, 0.1, 70000}},
		{"b", []int{3}, []float32{0.5, float32(math.Inf(-1)), 3}},
	}
	for _, d := range []DType{F32, F16, BF16} {
		var buf bytes.Buffer
		if err := WriteAs(&buf, ts, map[string]string{"format": "pt"}, d); err != nil {
			t.Fatal(err)
		}
		h, err := ReadHeader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range h.Tensors {
			if i.DType != d {
				t.Errorf("%s: tensor %s written as %s", d, i.Name, i.DType)
			}
		}
		back, meta, err := readAll(t, buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if meta["format"] != "pt" {
			t.Errorf("%s: metadata lost: %v", d, meta)
		}
		for i, tt := range back {
			for j, v := range tt.Data {
				want := ts[i].Data[j]
				switch d {
				case F16:
					want = half.F16ToF32(half.F32ToF16(want))
				case BF16:
					want = half.BF16ToF32(half.F32ToBF16(want))
				}
				if math.Float32bits(v) != math.Float32bits(want) {
					t.Errorf("%s: %s[%d] = %g, want %g", d, tt.Name, j, v, want)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := WriteAs(&buf, ts, nil, I8); err == nil || !strings.Contains(err.Error(), "I8") || buf.Len() != 0 {
		t.Errorf("WriteAs I8: err %v, %d bytes written", err, buf.Len())
	}
}

// TestReadFileFunc reads a file holding a tensor of a dtype that cannot be
// converted, by skipping it.
func TestReadFileFunc(t *testing.T) {
	data := []byte{1, 0, 0xff}                           // "mask": 3 x I8
	data = append(data, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40) // "w": F32 1, 2
	data = append(data, 0x40, 0x40)                      // "z": BF16 3
	h := `{"mask":{"dtype":"I8","shape":[3],"data_offsets":[0,3]},"w":{"dtype":"F32","shape":[2],"data_offsets":[3,11]},"z":{"dtype":"BF16","shape":[],"data_offsets":[11,13]}}`
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := os.WriteFile(path, file(h, data), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), `"mask" has dtype I8`) {
		t.Fatalf("ReadFile: %v", err)
	}
	ts, _, err := ReadFileFunc(path, func(i Info) bool { return i.Name != "mask" })
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].Name != "w" || ts[0].Data[1] != 2 || ts[1].Name != "z" || ts[1].Data[0] != 3 {
		t.Fatalf("got %+v", ts)
	}
	// Truncated inside a skipped tensor: still an error.
	if err := os.WriteFile(path, file(h, data[:2]), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadFileFunc(path, func(i Info) bool { return i.Name != "mask" }); err == nil {
		t.Fatal("truncated file read without error")
	}
}
