package gguf_test

import (
	"bytes"
	"fmt"

	"github.com/sproutml/sprout/gguf"
)

func Example() {
	var buf bytes.Buffer // usually an *os.File
	err := gguf.Write(&buf, []gguf.KV{
		{Key: "general.architecture", Value: "llama"},
		{Key: "llama.block_count", Value: uint32(1)},
	}, []gguf.Tensor{
		// A [2, 3] row-major matrix: the file records ne = (3, 2).
		{Name: "blk.0.attn_q.weight", Shape: []int{2, 3}, Type: gguf.F16, Data: []float32{1, 2, 3, 4, 5, 6.001}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := gguf.Decode(buf.Bytes())
	if err != nil {
		fmt.Println(err)
		return
	}
	arch, _ := f.Value("general.architecture")
	fmt.Println("arch:", arch, "alignment:", f.Alignment)
	for _, t := range f.Tensors {
		fmt.Println(t.Name, t.Shape, t.Type, t.Data)
	}
	// Output:
	// arch: llama alignment: 32
	// blk.0.attn_q.weight [2 3] F16 [1 2 3 4 5 6]
}
