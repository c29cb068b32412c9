package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sproutml/sprout/gguf"
	"github.com/sproutml/sprout/interop"
	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/trainer"
)

// sproutRun runs one command in-process and returns its exit code and
// output.
func sproutRun(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// hfModel writes a random model as a Hugging Face directory.
func hfModel(t *testing.T, cfg nn.Config) (string, *nn.Model) {
	t.Helper()
	m, err := nn.NewModel(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Params() {
		for j := range p.Data {
			p.Data[j] += float32(math.Sin(float64(i*1000+j))) * 0.01
		}
	}
	dir := filepath.Join(t.TempDir(), "hf")
	if err := interop.WriteHF(dir, m, interop.BF16, false); err != nil {
		t.Fatal(err)
	}
	back, _, err := interop.ReadHF(dir) // the values as bf16 stores them
	if err != nil {
		t.Fatal(err)
	}
	return dir, back
}

func sameParams(t *testing.T, what string, a, b *nn.Model) {
	t.Helper()
	if a.Config != b.Config || len(a.Params()) != len(b.Params()) {
		t.Fatalf("%s: config %+v vs %+v", what, a.Config, b.Config)
	}
	for i, p := range a.Params() {
		q := b.Params()[i]
		for j := range p.Data {
			if p.Name != q.Name || math.Float32bits(p.Data[j]) != math.Float32bits(q.Data[j]) {
				t.Fatalf("%s: %s[%d] differs", what, p.Name, j)
			}
		}
	}
}

func interopCorpus(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(path, trainer.GenerateCorpus(3, 20000), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestImportTrainGrowExport: a Hugging Face model imports into a checkpoint
// with its exact weights; train --resume trains it, grow deepens it and the
// deeper one trains too; both export back to Hugging Face and GGUF.
func TestImportTrainGrowExport(t *testing.T) {
	corpus := interopCorpus(t)
	for _, cfg := range []nn.Config{
		{Arch: nn.ArchGPT2, Vocab: 256, Ctx: 16, Dim: 16, Heads: 2, Layers: 1},
		{Arch: nn.ArchLlama, Vocab: 256, Ctx: 16, Dim: 16, Heads: 4, KVHeads: 2, Layers: 1, FFNHidden: 32},
	} {
		hf, want := hfModel(t, cfg)
		dir := t.TempDir()
		ckpt := filepath.Join(dir, "ckpt")
		code, out, errOut := sproutRun("import", "--hf", hf, "--out", ckpt, "--data", corpus, "--steps", "4", "--batch", "2")
		if code != 0 {
			t.Fatalf("%s import: exit %d\n%s%s", cfg.Arch, code, out, errOut)
		}
		if !strings.Contains(out, "imported "+hf+" ("+cfg.Arch+", BF16)") || !strings.Contains(out, "sprout train --resume "+ckpt) {
			t.Errorf("import output:\n%s", out)
		}
		got, man, err := trainer.LoadModel(ckpt)
		if err != nil {
			t.Fatal(err)
		}
		sameParams(t, cfg.Arch+" import", want, got)
		if man.Step != 0 || len(man.Run) == 0 {
			t.Fatalf("manifest step %d, run %s", man.Step, man.Run)
		}

		grown := filepath.Join(dir, "grown")
		if code, out, errOut := sproutRun("grow", "--ckpt", ckpt, "--layers", "2", "--init", "copy", "--out", grown); code != 0 {
			t.Fatalf("grow: exit %d\n%s%s", code, out, errOut)
		}
		for _, c := range []string{ckpt, grown} {
			if code, out, errOut := sproutRun("train", "--resume", c, "--sample-tokens", "0"); code != 0 {
				t.Fatalf("train --resume %s: exit %d\n%s%s", c, code, out, errOut)
			}
			if _, man, err := trainer.LoadModel(c); err != nil || man.Step != 4 {
				t.Fatalf("%s after training: %v, step %d", c, err, man.Step)
			}
		}

		trained, _, err := trainer.LoadModel(grown)
		if err != nil {
			t.Fatal(err)
		}
		if trained.Layers != 2 {
			t.Fatalf("grown model has %d blocks", trained.Layers)
		}
		hfOut := filepath.Join(dir, "export-hf")
		if code, out, errOut := sproutRun("export", "--ckpt", grown, "--format", "hf", "--out", hfOut); code != 0 {
			t.Fatalf("export hf: exit %d\n%s%s", code, out, errOut)
		}
		back, _, err := interop.ReadHF(hfOut)
		if err != nil {
			t.Fatal(err)
		}
		sameParams(t, cfg.Arch+" export", trained, back)

		g := filepath.Join(dir, "m.gguf")
		code, out, errOut = sproutRun("export", "--ckpt", grown, "--format", "gguf", "--dtype", "f16", "--out", g)
		if code != 0 || !strings.Contains(out, "as gguf f16") {
			t.Fatalf("export gguf: exit %d\n%s%s", code, out, errOut)
		}
		f, err := gguf.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		if a, _ := f.Value("general.architecture"); a != cfg.Arch {
			t.Errorf("gguf arch %v", a)
		}
		if n, _ := f.Value("general.name"); n != "grown" {
			t.Errorf("gguf name %v", n)
		}
		if code, _, errOut := sproutRun("export", "--ckpt", grown, "--format", "gguf", "--out", g); code != 1 || !strings.Contains(errOut, "exists") {
			t.Errorf("export over an existing file: exit %d, %s", code, errOut)
		}
		if code, _, errOut := sproutRun("export", "--ckpt", grown, "--format", "gguf", "--out", g, "--force"); code != 0 {
			t.Errorf("export --force: exit %d, %s", code, errOut)
		}
		// Never into the checkpoint being exported.
		manifest := filepath.Join(grown, trainer.ManifestFile)
		before, _ := os.ReadFile(manifest)
		link := filepath.Join(dir, "link")
		if err := os.Symlink(grown, link); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ format, out, want string }{
			{"gguf", manifest, "is inside the checkpoint"},
			{"gguf", filepath.Join(link, "m.gguf"), "is inside the checkpoint"},
			{"hf", filepath.Join(grown, "hf"), "is inside the checkpoint"},
			{"hf", grown, "is the checkpoint --ckpt " + grown + " itself"},
		} {
			code, _, errOut := sproutRun("export", "--ckpt", grown, "--format", c.format, "--out", c.out, "--force")
			if code != 1 || !strings.Contains(errOut, c.want) {
				t.Errorf("export --out %s: exit %d, %q; want %q", c.out, code, errOut, c.want)
			}
		}
		if after, _ := os.ReadFile(manifest); !bytes.Equal(before, after) {
			t.Error("export changed the checkpoint it read")
		}
		if _, _, err := trainer.LoadModel(grown); err != nil {
			t.Errorf("the exported checkpoint no longer loads: %v", err)
		}
	}
}

// TestImportWeightsOnly: a weights-only checkpoint loads, grows and exports,
// and train --resume says why it cannot continue it; --ctx cuts a GPT-2's
// positions.
func TestImportWeightsOnly(t *testing.T) {
	hf, want := hfModel(t, nn.Config{Arch: nn.ArchGPT2, Vocab: 300, Ctx: 16, Dim: 16, Heads: 2, Layers: 1})
	ckpt := filepath.Join(t.TempDir(), "w")
	if code, out, errOut := sproutRun("import", "--hf", hf, "--out", ckpt, "--weights-only", "--ctx", "8"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	m, _, err := trainer.LoadModel(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if m.Ctx != 8 {
		t.Fatalf("ctx %d", m.Ctx)
	}
	for _, p := range m.Params() {
		w := want.Param(p.Name).Data
		for j, v := range p.Data {
			if v != w[j] {
				t.Fatalf("%s[%d] differs", p.Name, j)
			}
		}
	}
	code, _, errOut := sproutRun("train", "--resume", ckpt, "--sample-tokens", "0")
	if code != 1 || !strings.Contains(errOut, "records no run configuration") {
		t.Errorf("resume of weights: exit %d, %s", code, errOut)
	}
	if code, _, errOut := sproutRun("grow", "--ckpt", ckpt, "--layers", "3", "--out", ckpt+"-g"); code != 0 {
		t.Errorf("grow weights: exit %d, %s", code, errOut)
	}
}

func TestImportExportErrors(t *testing.T) {
	hf, _ := hfModel(t, nn.Config{Arch: nn.ArchGPT2, Vocab: 256, Ctx: 8, Dim: 8, Heads: 2, Layers: 0})
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "keep.txt"), []byte("x"), 0o644)
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "config.json"), []byte(`{"model_type": "gpt2", "n_head": 2}`), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import", "--hf", hf}, 2, "--hf DIR and --out CKPT are required"},
		{[]string{"import", "--hf", hf, "--out", full}, 1, "exists and is not empty"},
		{[]string{"import", "--hf", hf, "--out", full, "--force"}, 1, "exists and is not empty"},
		{[]string{"import", "--hf", bad, "--out", filepath.Join(full, "x")}, 1, "missing n_embd"},
		{[]string{"import", "--hf", hf, "--out", filepath.Join(full, "y"), "--ctx", "9"}, 1, "cannot grow to 9"},
		{[]string{"import", "--hf", hf, "--out", filepath.Join(full, "z"), "--steps", "0"}, 2, "--steps"},
		{[]string{"export", "--ckpt", full, "--out", "x"}, 2, "are required"},
		{[]string{"export", "--ckpt", full, "--format", "onnx", "--out", "x"}, 2, "hf or gguf"},
		{[]string{"export", "--ckpt", full, "--format", "hf", "--dtype", "f8", "--out", "x"}, 2, "dtype"},
		{[]string{"export", "--ckpt", full, "--format", "hf", "--out", filepath.Join(full, "o")}, 1, "not a sprout checkpoint"},
	} {
		code, _, errOut := sproutRun(c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
	if entries, _ := os.ReadDir(full); len(entries) != 1 {
		t.Errorf("failed commands left files: %v", entries)
	}
}

// TestImportCheckpointsAtEvaluations: the run an import starts checkpoints
// at every evaluation when resumed, as train's default does.
func TestImportCheckpointsAtEvaluations(t *testing.T) {
	hf, _ := hfModel(t, nn.Config{Vocab: 256, Ctx: 16, Dim: 16, Heads: 2, Layers: 1})
	out := filepath.Join(t.TempDir(), "ckpt")
	if code, _, stderr := sproutRun("import", "--hf", hf, "--out", out, "--data", interopCorpus(t)); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	_, man, err := trainer.LoadModel(out)
	if err != nil {
		t.Fatal(err)
	}
	var cfg trainer.Config
	if err := json.Unmarshal(man.Run, &cfg); err != nil || cfg.CheckpointEvery != trainer.CheckpointAtEval {
		t.Errorf("imported run: checkpoint_every %d (%v), want %d", cfg.CheckpointEvery, err, trainer.CheckpointAtEval)
	}
}
