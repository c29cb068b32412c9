package asm_test

import (
	"fmt"

	"github.com/sproutml/sprout/asm"
)

// A linear layer's forward pass, y = x W^T: x holds 2 tokens of 3 features,
// W maps 3 features to 2 outputs and is stored out x in, as weights usually
// are, so B is transposed.
func ExampleSgemm() {
	x := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	w := []float32{
		1, 0, 1, // output 0 sums features 0 and 2
		0, 1, 0, // output 1 copies feature 1
	}
	y := make([]float32, 2*2)
	asm.Sgemm(false, true, 2, 2, 3, 1, x, 3, w, 3, 0, y, 2)
	fmt.Println(y)
	// Output: [4 2 10 5]
}
