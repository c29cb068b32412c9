package safetensors

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestF32ToF16 checks the rounding of float32 to half precision against the
// exact half values: every half converts back to itself, the midpoint of two
// neighbours goes to the even one, and anything off the midpoint goes to the
// nearer one.
func TestF32ToF16(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := f16ToF32(uint16(h))
		if got := f32ToF16(f); got != uint16(h) { // NaNs included
			t.Fatalf("half %#04x (%g) -> %#04x", h, f, got)
		}
	}
	// Neighbours a < b among the positive finite halves (the step to
	// infinity is checked below).
	for h := uint16(0); h < 0x7bff; h++ {
		a, b := f16ToF32(h), f16ToF32(h+1)
		mid := float32((float64(a) + float64(b)) / 2) // exact: one more bit than a half
		even := h
		if h&1 == 1 {
			even = h + 1
		}
		for _, s := range []float32{1, -1} {
			sign := uint16(0)
			if s < 0 {
				sign = 0x8000
			}
			if got := f32ToF16(s * mid); got != sign|even {
				t.Fatalf("midpoint of %#04x and %#04x (%g): got %#04x, want %#04x", h, h+1, mid, got, sign|even)
			}
			below := math.Nextafter32(mid, 0)
			above := math.Nextafter32(mid, float32(math.Inf(1)))
			if got := f32ToF16(s * below); got != sign|h {
				t.Fatalf("just below the midpoint of %#04x and %#04x: got %#04x", h, h+1, got)
			}
			if got := f32ToF16(s * above); got != sign|(h+1) {
				t.Fatalf("just above the midpoint of %#04x and %#04x: got %#04x", h, h+1, got)
			}
		}
	}
	for _, c := range []struct {
		f    float32
		want uint16
	}{
		{65504, 0x7bff}, {65519.996, 0x7bff}, {65520, 0x7c00}, {1e10, 0x7c00}, {-1e10, 0xfc00},
		{float32(math.Inf(1)), 0x7c00}, {float32(math.Inf(-1)), 0xfc00},
		{0x1p-25, 0}, {math.Nextafter32(0x1p-25, 1), 1}, {1e-30, 0}, {-1e-30, 0x8000},
		{float32(math.Copysign(0, -1)), 0x8000},
	} {
		if got := f32ToF16(c.f); got != c.want {
			t.Errorf("f32ToF16(%g) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}

func TestF32ToBF16(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		if got := f32ToBF16(bf16ToF32(uint16(h))); got != uint16(h) { // NaNs included
			t.Fatalf("bf16 %#04x -> %#04x", h, got)
		}
	}
	for h := uint16(0); h < 0x7f80; h += 7 {
		a, b := bf16ToF32(h), bf16ToF32(h+1)
		mid := float32((float64(a) + float64(b)) / 2)
		even := h
		if h&1 == 1 {
			even = h + 1
		}
		if got := f32ToBF16(mid); got != even {
			t.Fatalf("midpoint of %#04x and %#04x: got %#04x, want %#04x", h, h+1, got, even)
		}
		if got := f32ToBF16(math.Nextafter32(mid, 0)); got != h {
			t.Fatalf("below the midpoint of %#04x: got %#04x", h, got)
		}
		if got := f32ToBF16(math.Nextafter32(mid, float32(math.Inf(1)))); got != h+1 {
			t.Fatalf("above the midpoint of %#04x: got %#04x", h, got)
		}
	}
	// A float32 NaN whose payload lies below bfloat16's bits stays a NaN.
	if got := f32ToBF16(math.Float32frombits(0x7f800001)); got != 0x7fc0 {
		t.Errorf("NaN 0x7f800001 -> %#04x, want 0x7fc0", got)
	}
	if got := f32ToF16(math.Float32frombits(0xff800001)); got != 0xfe00 {
		t.Errorf("NaN 0xff800001 -> %#04x, want 0xfe00", got)
	}
	if got := f32ToBF16(math.MaxFloat32); got != 0x7f80 {
		t.Errorf("MaxFloat32 -> %#04x, want +Inf", got)
	}
}

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
					want = f16ToF32(f32ToF16(want))
				case BF16:
					want = bf16ToF32(f32ToBF16(want))
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
