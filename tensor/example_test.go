package tensor_test

import (
	"fmt"

	"github.com/sproutml/sprout/tensor"
)

// A batch of two 2x3 matrices times one shared 3x2 weight, then a view.
func Example() {
	x, _ := tensor.FromData([]float32{
		1, 2, 3,
		4, 5, 6,

		1, 0, 0,
		0, 1, 0,
	}, 2, 2, 3)
	w, _ := tensor.FromData([]float32{
		1, 0,
		0, 1,
		1, 1,
	}, 3, 2)
	y, err := tensor.MatMul(x, w, false, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	flat, _ := y.Reshape(-1, 2)
	fmt.Println(y, y.Data)
	fmt.Println(flat, flat.At(3, 1))
	// Output:
	// Tensor[2x2x2] [4 5 10 11 1 0 0 1]
	// Tensor[4x2] 1
}
