package asm_test

import (
	"fmt"
	"math"

	"github.com/sproutml/sprout/asm"
)

// Softmax turns a row of logits into probabilities in place; the large
// logits do not overflow because the row's maximum is subtracted first.
func ExampleSoftmax() {
	logits := []float32{1002, 1001, 1000.1, float32(math.Inf(-1))} // last one masked
	asm.Softmax(logits)
	fmt.Printf("%.4f\n", logits)
	// Output: [0.6590 0.2424 0.0986 0.0000]
}

// ExpSum gives the log-sum-exp of a row, the core of cross-entropy:
// loss = logsumexp(logits) - logits[target].
func ExampleExpSum() {
	logits := []float32{2, 1, 0.1}
	target := 0
	m := asm.Max(logits)
	tmp := make([]float32, len(logits))
	lse := m + float32(math.Log(float64(asm.ExpSum(tmp, logits, m))))
	fmt.Printf("loss %.4f\n", lse-logits[target])
	// Output: loss 0.4170
}

// Dot and Axpy are the BLAS level-1 pair: here one step of gradient
// descent on a linear model's weights.
func ExampleAxpy() {
	w := []float32{0.5, -0.25, 1}
	x := []float32{1, 2, 3}
	pred := asm.Dot(w, x) // 0.5 - 0.5 + 3
	grad := []float32{1, 2, 3}
	asm.Axpy(-0.1, grad, w) // w -= 0.1*grad
	fmt.Println(pred, w)
	// Output: 3 [0.4 -0.45 0.7]
}

// GELU and GELUBackward are an MLP activation's forward and backward.
func ExampleGELU() {
	x := []float32{-2, -0.5, 0, 1, 3}
	y := make([]float32, len(x))
	asm.GELU(y, x)
	dy := []float32{1, 1, 1, 1, 1}
	dx := make([]float32, len(x))
	asm.GELUBackward(dx, x, dy) // dx = dy * gelu'(x)
	fmt.Printf("%.4f\n%.4f\n", y, dx)
	// Output:
	// [-0.0454 -0.1543 0.0000 0.8412 2.9964]
	// [-0.0861 0.1326 0.5000 1.0830 1.0116]
}

// LayerNorm normalises a row and returns the statistics its backward needs.
func ExampleLayerNorm() {
	x := []float32{1, 2, 3, 4}
	w := []float32{1, 1, 1, 1}
	b := []float32{0, 0, 0, 0.5}
	y := make([]float32, len(x))
	mean, rstd := asm.LayerNorm(y, x, w, b, 0)
	fmt.Printf("mean %.2f rstd %.4f y %.4f\n", mean, rstd, y)
	// Gradients of sum(y): the shift gets all of it, the input none.
	dy := []float32{1, 1, 1, 1}
	dx, dw, db := make([]float32, 4), make([]float32, 4), make([]float32, 4)
	asm.LayerNormBackward(dx, dw, db, x, dy, w, mean, rstd)
	fmt.Printf("dx %.4f db %.0f\n", dx, db)
	// Output:
	// mean 2.50 rstd 0.8944 y [-1.3416 -0.4472 0.4472 1.8416]
	// dx [0.0000 0.0000 0.0000 0.0000] db [1 1 1 1]
}

// AdamWStep is one optimizer update; the caller folds the bias corrections
// (here for step t = 1) into the scalars.
func ExampleAdamWStep() {
	w := []float32{1, -1}
	g := []float32{0.5, -0.25}
	m, v := make([]float32, 2), make([]float32, 2)
	const lr, b1, b2, wd = 0.1, 0.9, 0.999, 0.01
	step := float32(lr / (1 - b1))
	vscale := float32(1 / math.Sqrt(1-b2))
	asm.AdamWStep(w, g, m, v, b1, b2, 1-lr*wd, step, vscale, 1e-8)
	fmt.Printf("%.4f\n", w) // the first step moves each weight by about lr
	// Output: [0.8990 -0.8990]
}
