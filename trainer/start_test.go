package trainer

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
)

// TestStartCheckpoint: a step-0 checkpoint of a model initialised as Run
// would initialise it resumes into exactly Run's run, for a fixed-depth and
// a progressive plan; grow accepts it; and a mismatched plan is refused.
func TestStartCheckpoint(t *testing.T) {
	for _, progressive := range []bool{false, true} {
		cfg := tinyConfig(t)
		cfg.Model.Vocab = ByteVocab
		if !progressive {
			cfg.Grow = nil
		}
		var want recorder
		ref := mustRun(t, cfg, &want)

		mc := cfg.Model
		if progressive {
			mc.Layers = cfg.Grow.From
		}
		m, err := nn.NewModel(mc, cfg.Seed)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "start")
		if err := StartCheckpoint(dir, cfg, m); err != nil {
			t.Fatal(err)
		}
		loaded, man, err := LoadModel(dir)
		if err != nil {
			t.Fatal(err)
		}
		if man.Step != 0 || len(man.Run) == 0 || man.Sampler == nil || man.Data == nil {
			t.Fatalf("manifest: step %d, run %d bytes, sampler %v, data %v", man.Step, len(man.Run), man.Sampler, man.Data)
		}
		sameWeights(t, "loaded", m, loaded)
		if !progressive {
			if err := GrowCheckpoint(dir, dir+"-grown", 3, grow.Copy, grow.FreshNew, 1, false); err != nil {
				t.Fatalf("grow: %v", err)
			}
		}
		var got recorder
		res, err := Resume(context.Background(), dir, &got, nil)
		if err != nil {
			t.Fatalf("Resume: %v", err)
		}
		sameLosses(t, "resumed", want.losses(), got.losses(), 1)
		sameWeights(t, "resumed", ref.Model, res.Model)
	}

	cfg := tinyConfig(t)
	m, err := nn.NewModel(nn.Config{Vocab: ByteVocab, Ctx: 16, Dim: 32, Heads: 2, Layers: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := StartCheckpoint(filepath.Join(t.TempDir(), "x"), cfg, m); err == nil || !strings.Contains(err.Error(), "starts at 1 blocks but the model has 2") {
		t.Errorf("mismatched plan: %v", err)
	}
}
