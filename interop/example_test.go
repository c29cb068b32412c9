package interop_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/sproutml/sprout/gguf"
	"github.com/sproutml/sprout/interop"
	"github.com/sproutml/sprout/nn"
)

// A sprout model goes to a Hugging Face directory and back, and to GGUF.
func Example() {
	m, err := nn.NewModel(nn.Config{Arch: nn.ArchLlama, Vocab: 256, Ctx: 64, Dim: 32, Heads: 4, KVHeads: 2, Layers: 2}, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "interop-example")
	defer os.RemoveAll(dir)

	if err := interop.WriteHF(filepath.Join(dir, "hf"), m, interop.F32, false); err != nil {
		fmt.Println(err)
		return
	}
	back, src, err := interop.ReadHF(filepath.Join(dir, "hf"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(src.ModelType, back.Layers, "blocks,", back.NumParams() == m.NumParams())

	path := filepath.Join(dir, "m.gguf")
	if err := interop.WriteGGUF(path, m, interop.GGUFOptions{DType: interop.F16}, false); err != nil {
		fmt.Println(err)
		return
	}
	f, err := gguf.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	arch, _ := f.Value("general.architecture")
	q := f.Tensor("blk.0.attn_q.weight")
	fmt.Println(arch, len(f.Tensors), "tensors;", q.Name, q.Type, q.Shape)
	// Output:
	// llama 2 blocks, true
	// llama 21 tensors; blk.0.attn_q.weight F16 [32 32]
}
