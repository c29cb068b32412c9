package gguf

import (
	"bytes"
	"math"
	"testing"
)

// FuzzGGUF: no input makes Decode panic, and whatever decodes is written
// back by Write to a file that decodes to the same tensors and that Write
// then reproduces byte for byte.
func FuzzGGUF(f *testing.F) {
	var buf bytes.Buffer
	Write(&buf, allValues(), []Tensor{
		{Name: "a", Shape: []int{2, 3}, Type: F16, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Name: "b", Shape: []int{3}, Type: BF16, Data: []float32{1, -2, 0.5}},
		{Name: "c", Shape: []int{1}, Type: F32, Data: []float32{7}},
	})
	f.Add(buf.Bytes())
	buf.Reset()
	Write(&buf, []KV{{AlignmentKey, uint32(4)}, {"x", []string{"a", "b"}}}, []Tensor{{Name: "t", Shape: []int{5}, Type: F32, Data: make([]float32, 5)}})
	f.Add(buf.Bytes())
	f.Add([]byte("GGUF\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := Decode(b)
		if err != nil {
			return
		}
		var y bytes.Buffer
		if err := Write(&y, g.KV, g.Tensors); err != nil {
			t.Fatalf("cannot write what was decoded: %v", err)
		}
		g2, err := Decode(y.Bytes())
		if err != nil {
			t.Fatalf("cannot decode what was written: %v", err)
		}
		if len(g2.KV) != len(g.KV) || len(g2.Tensors) != len(g.Tensors) || g2.Alignment != g.Alignment {
			t.Fatal("round trip changed the file's structure")
		}
		for i, a := range g.Tensors {
			c := g2.Tensors[i]
			if a.Name != c.Name || a.Type != c.Type || len(a.Shape) != len(c.Shape) || len(a.Data) != len(c.Data) {
				t.Fatalf("round trip changed tensor %q", a.Name)
			}
			for j := range a.Data {
				if math.Float32bits(a.Data[j]) != math.Float32bits(c.Data[j]) {
					t.Fatalf("round trip changed %s[%d]", a.Name, j)
				}
			}
		}
		var z bytes.Buffer
		if err := Write(&z, g2.KV, g2.Tensors); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(y.Bytes(), z.Bytes()) {
			t.Fatal("writing the decoded file again gives different bytes")
		}
	})
}
