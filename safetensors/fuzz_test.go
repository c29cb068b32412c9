package safetensors

import (
	"bytes"
	"math"
	"os"
	"sort"
	"testing"

	"github.com/sproutml/sprout/internal/half"
)

// FuzzRead: no input makes the readers panic, the two read paths agree,
// and whatever reads successfully survives a write/read round trip bit for
// bit (and a round trip through F16 and BF16 as their rounding). Seeds live
// in testdata/fuzz/FuzzRead.
func FuzzRead(f *testing.F) {
	if b, err := os.ReadFile("testdata/reference.safetensors"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ReadHeader(bytes.NewReader(b))
		ts, meta, err := Read(bytes.NewReader(b))
		ts2, _, err2 := Read(onlyReader{bytes.NewReader(b)})
		if (err == nil) != (err2 == nil) {
			t.Fatalf("read paths disagree: %v vs %v", err, err2)
		}
		if err != nil {
			return
		}
		if !sameTensors(ts, ts2) {
			t.Fatal("read paths return different tensors")
		}
		var buf bytes.Buffer
		if err := Write(&buf, ts, meta); err != nil {
			t.Fatalf("cannot write what was read: %v", err)
		}
		back, meta2, err := Read(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("cannot read what was written: %v", err)
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
		if !sameTensors(ts, back) {
			t.Fatal("round trip changed the tensors")
		}
		if len(meta) != len(meta2) {
			t.Fatalf("round trip changed the metadata: %v vs %v", meta, meta2)
		}
		for k, v := range meta {
			if meta2[k] != v {
				t.Fatalf("round trip changed metadata %q", k)
			}
		}
		// Half precisions: what WriteAs stores reads back as the rounding.
		for _, d := range []DType{F16, BF16} {
			buf.Reset()
			if err := WriteAs(&buf, ts, meta, d); err != nil {
				t.Fatalf("cannot write %s: %v", d, err)
			}
			back, _, err := Read(bytes.NewReader(buf.Bytes()))
			if err != nil || len(back) != len(ts) {
				t.Fatalf("cannot read what was written as %s: %v", d, err)
			}
			for i, x := range ts {
				for j, v := range x.Data {
					want := half.F16ToF32(half.F32ToF16(v))
					if d == BF16 {
						want = half.BF16ToF32(half.F32ToBF16(v))
					}
					if math.Float32bits(back[i].Data[j]) != math.Float32bits(want) {
						t.Fatalf("%s round trip of %s[%d]: %v, want %v", d, x.Name, j, back[i].Data[j], want)
					}
				}
			}
		}
	})
}
