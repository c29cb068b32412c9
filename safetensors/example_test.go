package safetensors_test

import (
	"bytes"
	"fmt"

	"github.com/sproutml/sprout/safetensors"
)

func Example() {
	weights := []safetensors.Tensor{
		{Name: "head.weight", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Name: "head.bias", Shape: []int{2}, Data: []float32{0.5, -0.5}},
	}
	var buf bytes.Buffer // usually an *os.File
	if err := safetensors.Write(&buf, weights, map[string]string{"format": "pt"}); err != nil {
		fmt.Println(err)
		return
	}

	tensors, meta, err := safetensors.Read(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range tensors {
		fmt.Println(t.Name, t.Shape, t.Data)
	}
	fmt.Println("format:", meta["format"])
	// Output:
	// head.bias [2] [0.5 -0.5]
	// head.weight [2 3] [1 2 3 4 5 6]
	// format: pt
}

// ReadHeader lists a file's tensors, whatever their dtype, without reading
// their data.
func ExampleReadHeader() {
	var buf bytes.Buffer
	safetensors.Write(&buf, []safetensors.Tensor{{Name: "x", Shape: []int{4}, Data: make([]float32, 4)}}, nil)
	h, err := safetensors.ReadHeader(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range h.Tensors {
		fmt.Println(t.Name, t.DType, t.Shape, t.Begin, t.End)
	}
	// Output:
	// x F32 [4] 0 16
}
