package trainer

import (
	"math"
	"strings"
	"testing"

	"github.com/sproutml/sprout/nn"
)

// A model whose weights are not finite makes Generate fail with the cause,
// instead of drawing arbitrary tokens from NaN logits.
func TestGenerateNonFinite(t *testing.T) {
	m, err := nn.NewModel(nn.Config{Vocab: 256, Ctx: 16, Dim: 32, Heads: 2, Layers: 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	m.Param("lnf.weight").Data[0] = float32(math.NaN())
	out, err := Generate(m, EncodeBytes([]byte("\n")), SampleOptions{Tokens: 5, Temperature: 0.8, Seed: 1})
	if err == nil || !strings.Contains(err.Error(), "is NaN after 0 generated tokens: its weights are not finite") {
		t.Errorf("Generate = %v, %v; want an error naming NaN logits", out, err)
	}
}
