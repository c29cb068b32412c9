package interop

// transpose returns the [cols, rows] transpose of a row-major [rows, cols]
// matrix.
func transpose(x []float32, rows, cols int) []float32 {
	out := make([]float32, len(x))
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols]
		for j, v := range row {
			out[j*rows+i] = v
		}
	}
	return out
}

// ropeInterleave permutes the rows of a [heads*hd, cols] q or k weight (the
// [out, in] layout) from the rotate-half order of each head, where RoPE
// rotates the pairs (i, i+hd/2), to the interleaved order, where it rotates
// (2i, 2i+1): row 2i+s of a head takes row s*hd/2+i. This is the permutation
// llama.cpp's convert_hf_to_gguf.py applies to LLaMA's q_proj and k_proj.
func ropeInterleave(x []float32, heads, cols int) []float32 {
	rows := len(x) / cols
	hd := rows / heads
	out := make([]float32, len(x))
	for h := 0; h < heads; h++ {
		for i := 0; i < hd/2; i++ {
			for s := 0; s < 2; s++ {
				src := h*hd + s*hd/2 + i
				dst := h*hd + 2*i + s
				copy(out[dst*cols:(dst+1)*cols], x[src*cols:(src+1)*cols])
			}
		}
	}
	return out
}
