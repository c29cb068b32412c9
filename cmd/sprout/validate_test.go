package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sproutml/sprout/interop"
	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/safetensors"
	"github.com/sproutml/sprout/trainer"
)

// checkOneLine fails unless the command exited with code and printed one
// error line mentioning want, and nothing on stdout.
func checkOneLine(t *testing.T, args []string, code int, want string) {
	t.Helper()
	got, stdout, stderr := sprout(t, args...)
	if got != code || !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
		t.Errorf("sprout %v: exit %d, stdout %q, stderr %q; want exit %d and one line mentioning %q", args, got, stdout, stderr, code, want)
	}
}

// Sizes that cannot fit in memory get an error line, not an out-of-memory
// crash, and nothing is written.
func TestCLIRefusesWhatCannotFit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the memory check reads /proc/meminfo")
	}
	out := filepath.Join(t.TempDir(), "run")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--dim", "65536", "--heads", "8"}, "use a smaller dim or layers"},
		{[]string{"train", "--layers", "10000000"}, "use a smaller dim or layers"},
		{[]string{"train", "--layers", "100000000"}, "layers must be at most 16777216"},
		{[]string{"train", "--batch", "100000000"}, "use a smaller batch or a larger shard"},
		{[]string{"train", "--arch", "moe", "--experts", "100000"}, "use a smaller dim, layers, ffn_hidden or experts"},
		{[]string{"train", "--arch", "llama", "--ffn-hidden", "10000000"}, "use a smaller dim, layers or ffn_hidden"},
		{[]string{"train", "--arch", "llama", "--ffn-hidden", "100000000"}, "ffn_hidden must be at most 16777216"},
	} {
		checkOneLine(t, append(tc.args, "--out", out), 2, tc.want)
	}
	checkOneLine(t, []string{"train", "--dim", "65536", "--heads", "8", "--out", out}, 2, "the run needs at least 21893.2 GiB of memory (309.3G parameters: ")
	checkOneLine(t, []string{"bench", "train", "--dim", "65536"}, 2, "the run needs at least")
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused run created %s (%v)", out, err)
	}
}

// A run that fails before it starts leaves an existing --metrics log as it
// was; one that starts replaces it.
func TestCLIMetricsKeptOnFailedStart(t *testing.T) {
	tmp := t.TempDir()
	metrics := filepath.Join(tmp, "metrics.jsonl")
	const old = "{\"event\":\"step\",\"step\":1}\n"
	short := filepath.Join(tmp, "short.txt")
	os.WriteFile(short, []byte("far too short for a context of 16"), 0o644)
	for _, args := range [][]string{
		{"train", "--data", short, "--ctx", "16", "--metrics", metrics, "--out", ""},
		{"train", "--data", filepath.Join(tmp, "missing.txt"), "--metrics", metrics, "--out", ""},
		{"train", "--data", cliCorpus, "--ctx", "5000", "--metrics", metrics, "--out", ""},
	} {
		if err := os.WriteFile(metrics, []byte(old), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, _ := sprout(t, args...); code == 0 {
			t.Errorf("sprout %v succeeded", args)
		}
		if b, _ := os.ReadFile(metrics); string(b) != old {
			t.Errorf("sprout %v changed the metrics log to %q", args, b)
		}
	}
	args := tinyTrain(filepath.Join(tmp, "run"), "--steps", "3", "--grow-from", "off", "--sample-tokens", "0", "--metrics", metrics)
	if code, _, stderr := sprout(t, args...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(metrics); strings.Contains(string(b), old) || !strings.Contains(string(b), `"event":"summary"`) {
		t.Errorf("the run's log holds %q", b)
	}
}

// sproutIn runs the binary in the working directory dir.
func sproutIn(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	cmd := sproutCommand(args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatalf("running sprout %v: %v", args, err)
	}
	return 0, string(out)
}

// A run trained on a relative --data path resumes and evaluates from
// another working directory, where --data may name the same file.
func TestCLIRelativeDataPath(t *testing.T) {
	tmp := t.TempDir()
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	os.Mkdir(a, 0o755)
	os.Mkdir(b, 0o755)
	corpus, _ := os.ReadFile(cliCorpus)
	os.WriteFile(filepath.Join(a, "d.txt"), corpus, 0o644)
	train := []string{"train", "--data", "d.txt", "--layers", "1", "--dim", "32", "--heads", "2", "--ctx", "16", "--batch", "2",
		"--steps", "5", "--grow-from", "off", "--sample-tokens", "0", "--out", "run"}
	if code, out := sproutIn(t, a, train...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, out)
	}
	for _, args := range [][]string{
		{"train", "--resume", "../a/run", "--steps", "6", "--sample-tokens", "0"},
		{"train", "--resume", "../a/run", "--steps", "7", "--data", "../a/d.txt", "--sample-tokens", "0"},
		{"eval", "--ckpt", "../a/run"},
	} {
		if code, out := sproutIn(t, b, args...); code != 0 {
			t.Errorf("sprout %v from another directory: exit %d: %s", args, code, out)
		}
	}
	code, out := sproutIn(t, b, "train", "--resume", "../a/run", "--steps", "8", "--data", "d.txt")
	if code != 2 || !strings.Contains(out, "--data cannot change when resuming (the checkpoint trained on "+filepath.Join(a, "d.txt")+")") {
		t.Errorf("another --data: exit %d: %s", code, out)
	}
}

// NaN weights are refused on import, naming the tensor; a checkpoint that
// holds them anyway makes sample fail instead of printing nothing.
func TestCLINonFiniteWeights(t *testing.T) {
	cfg := nn.Config{Arch: nn.ArchLlama, Vocab: 256, Ctx: 16, Dim: 16, Heads: 2, Layers: 1}
	m, err := nn.NewModel(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	m.Param("blocks.0.attn.q.weight").Data[5] = float32(math.NaN())
	hf := filepath.Join(t.TempDir(), "hf")
	if err := interop.WriteHF(hf, m, interop.F32, false); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := sproutRun("import", "--hf", hf, "--out", filepath.Join(t.TempDir(), "ckpt"))
	if code != 1 || !strings.Contains(stderr, `tensor "model.layers.0.self_attn.q_proj.weight" holds NaN at index `) {
		t.Errorf("import of NaN weights: exit %d: %s", code, stderr)
	}

	m.Param("blocks.0.attn.q.weight").Data[5] = 0
	ckpt := filepath.Join(t.TempDir(), "ckpt")
	if err := saveWeights(ckpt, m, nil); err != nil {
		t.Fatal(err)
	}
	c, err := trainer.LoadCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	c.Model[0].Data[0] = float32(math.Inf(1))
	bad := filepath.Join(t.TempDir(), "bad")
	if err := trainer.SaveCheckpoint(bad, c); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := sproutRun("sample", "--ckpt", bad, "--tokens", "5")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "the checkpoint is not finite") {
		t.Errorf("sample of infinite weights: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// Sampling settings are checked before anything trains or loads.
func TestCLISamplingFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	for _, temp := range []string{"NaN", "-1", "Inf"} {
		checkOneLine(t, tinyTrain(out, "--temperature", temp), 2, "train: --temperature must be a finite number >= 0, got ")
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused run wrote %s (%v)", out, err)
	}
	missing := filepath.Join(t.TempDir(), "nothing") // checked before the checkpoint
	for _, args := range [][]string{
		{"sample", "--ckpt", missing, "--temperature", "NaN"},
		{"sample", "--ckpt", missing, "--temperature", "Inf"},
		{"sample", "--ckpt", missing, "--top-p", "NaN"},
		{"sample", "--ckpt", missing, "--top-p", "Inf"},
	} {
		checkOneLine(t, args, 2, "sample: --"+strings.TrimPrefix(args[3], "--"))
	}
}

// A token file's vocabulary may not hold '\n' (token 10): the closing sample
// and sample without --prompt start from token 0 instead.
func TestCLISampleSmallVocab(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "tokens.bin")
	var b []byte
	for i := 0; i < 4000; i++ {
		b = append(b, byte(i*7%5), 0) // little-endian uint16 tokens 0..4
	}
	os.WriteFile(data, b, 0o644)
	ckpt := filepath.Join(tmp, "run")
	code, stdout, stderr := sprout(t, "train", "--data", data, "--layers", "1", "--dim", "32", "--heads", "2", "--ctx", "16",
		"--batch", "2", "--steps", "5", "--grow-from", "off", "--sample-tokens", "5", "--out", ckpt)
	if code != 0 || !strings.Contains(stdout, "sample (5 bytes") {
		t.Fatalf("train on a vocabulary of 5: exit %d: %s%s", code, stdout, stderr)
	}
	if code, stdout, stderr = sprout(t, "sample", "--ckpt", ckpt, "--tokens", "5"); code != 0 || len(stdout) != 6 {
		t.Errorf("sample: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// A zero that the help does not document as "default" is refused, not
// silently replaced (--batch 0 trained batches of 16 after announcing 0).
func TestCLIZeroCounts(t *testing.T) {
	checkOneLine(t, []string{"import", "--hf", "x", "--out", "y", "--batch", "0"}, 2, "import: --batch must be at least 1, got 0")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--batch", "0"}, "train: --batch must be at least 1, got 0"},
		{[]string{"train", "--shard", "0"}, "train: --shard must be at least 1, got 0"},
		{[]string{"train", "--eval-windows", "0"}, "train: --eval-windows must be at least 1, got 0"},
		{[]string{"train", "--log-every", "0"}, "train: --log-every must be at least 1, got 0"},
		{[]string{"train", "--mix-windows", "-1"}, "train: --mix-windows must be a number of windows, or 0 (off), got -1"},
		{[]string{"train", "--val-fraction", "0"}, "train: --val-fraction must be a fraction in (0, 1), got 0"},
		{[]string{"compare", "--batch", "0"}, "compare: --batch must be at least 1, got 0"},
	} {
		// (tiny, so that a run the check lets through ends at once)
		args := append(tc.args, "--layers", "1", "--dim", "16", "--heads", "2", "--ctx", "16", "--steps", "2")
		switch tc.args[0] {
		case "train":
			args = append(args, "--grow-from", "off", "--sample-tokens", "0", "--out", "")
		case "compare":
			args = append(args, "--variants", "fixed")
		}
		checkOneLine(t, args, 2, tc.want)
	}
}

// The start line shows what trains, defaults filled in.
func TestDescribeDefaults(t *testing.T) {
	var sb strings.Builder
	describe(&sb, trainer.Config{Model: nn.Config{Layers: 1, Dim: 32, Heads: 2, Ctx: 16}, Steps: 5})
	if want := "training gpt2 d=32 heads=2 ctx=16, 1 block, on the embedded corpus: 5 steps of 16 sequences\n"; sb.String() != want {
		t.Errorf("describe printed %q, want %q", sb.String(), want)
	}

	// Without --grow-at the expansion point follows the model's size.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--layers", "12", "--dim", "64", "--heads", "2", "--grow-from", "0"}, "0 -> 12 blocks (random) at 60% of the steps (the default for 12 or more blocks of width 128 or less; --grow-at 0.8 for the paper's)"},
		{[]string{"--layers", "12", "--dim", "256", "--heads", "2", "--grow-from", "0"}, "0 -> 12 blocks (random) at 80% of the steps"},
		{[]string{"--layers", "6", "--dim", "64", "--heads", "2"}, "1 -> 6 blocks (copy) at 80% of the steps,"},
		{[]string{"--layers", "6", "--dim", "64", "--heads", "2", "--decay", "0.2"}, "1 -> 6 blocks (copy) at 79% of the steps (the default: 1% of the steps before the decay),"},
		{[]string{"--layers", "12", "--dim", "64", "--heads", "2", "--grow-from", "0", "--decay", "0.2"}, "0 -> 12 blocks (random) at 60% of the steps (the default for 12 or more blocks"},
		{[]string{"--layers", "12", "--dim", "64", "--heads", "2", "--grow-at", "0.8"}, "1 -> 12 blocks (copy) at 80% of the steps,"},
		{[]string{"--layers", "12", "--dim", "64", "--heads", "2", "--grow-at", "0.6"}, "1 -> 12 blocks (copy) at 60% of the steps,"},
	} {
		f := newTrainFlags(io.Discard)
		if err := f.fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		cfg, err := f.config()
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		sb.Reset()
		describe(&sb, cfg)
		if !strings.Contains(sb.String(), c.want) {
			t.Errorf("%v: describe printed %q, want %q in it", c.args, sb.String(), c.want)
		}
	}
}

// TestCLINonFiniteCheckpoint: every command refuses a checkpoint whose
// digests are valid but whose weights or optimizer state are not finite,
// naming the tensor; eval never reports a NaN loss with exit 0.
func TestCLINonFiniteCheckpoint(t *testing.T) {
	tmp := t.TempDir()
	good := filepath.Join(tmp, "good")
	if code, _, stderr := sprout(t, tinyTrain(good, "--steps", "4", "--grow-from", "off", "--sample-tokens", "0")...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	c, err := trainer.LoadCheckpoint(good)
	if err != nil {
		t.Fatal(err)
	}
	poison := func(name string, ts []safetensors.Tensor, v float32) string {
		dir := filepath.Join(tmp, name)
		old := ts[1].Data[3]
		ts[1].Data[3] = v
		defer func() { ts[1].Data[3] = old }()
		if err := trainer.SaveCheckpoint(dir, c); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	nanModel := poison("nan-model", c.Model, float32(math.NaN()))
	infOptim := poison("inf-optim", c.Optim, float32(math.Inf(1)))
	for _, ck := range []struct{ dir, want string }{
		{nanModel, fmt.Sprintf("model.safetensors: tensor %q holds NaN at index 3", c.Model[1].Name)},
		{infOptim, fmt.Sprintf("optim.safetensors: tensor %q holds +Inf at index 3", c.Optim[1].Name)},
	} {
		for _, args := range [][]string{
			{"inspect", "--ckpt", ck.dir},
			{"eval", "--ckpt", ck.dir, "--windows", "2"},
			{"sample", "--ckpt", ck.dir, "--tokens", "4"},
			{"export", "--ckpt", ck.dir, "--format", "gguf", "--out", filepath.Join(tmp, "x.gguf")},
			{"export", "--ckpt", ck.dir, "--format", "hf", "--out", filepath.Join(tmp, "hf")},
			{"grow", "--ckpt", ck.dir, "--layers", "3", "--out", filepath.Join(tmp, "grown")},
			{"train", "--resume", ck.dir, "--steps", "6", "--sample-tokens", "0"},
		} {
			code, stdout, stderr := sprout(t, args...)
			if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, ck.want) || strings.Contains(stderr, "learning rate") {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and one line with %q", args, code, stdout, stderr, ck.want)
			}
		}
	}

	// Finite weights that overflow: the loss is NaN, and eval fails.
	for i := range c.Model {
		for j := range c.Model[i].Data {
			c.Model[i].Data[j] = 3e38
		}
	}
	huge := filepath.Join(tmp, "huge")
	if err := trainer.SaveCheckpoint(huge, c); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := sprout(t, "eval", "--ckpt", huge, "--windows", "2")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "the model overflows") {
		t.Errorf("eval of overflowing weights: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestCLIEvalWholeFile: eval --val-fraction 1 evaluates every token of a
// file too short to split, and a file too short for one window is refused
// without a fraction the user never gave.
func TestCLIEvalWholeFile(t *testing.T) {
	tmp := t.TempDir()
	ckpt := filepath.Join(tmp, "run")
	if code, _, stderr := sprout(t, tinyTrain(ckpt, "--steps", "2", "--grow-from", "off", "--sample-tokens", "0")...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	short := filepath.Join(tmp, "short.txt")
	os.WriteFile(short, []byte("thirty bytes of text, no more"), 0o644) // 29 tokens: one window of 17, not two
	code, stdout, stderr := sprout(t, "eval", "--ckpt", ckpt, "--data", short, "--val-fraction", "1")
	if code != 0 || !strings.Contains(stdout, "1 windows of 16 tokens") {
		t.Errorf("eval --val-fraction 1 of 29 tokens: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	os.WriteFile(short, []byte("too short"), 0o644)
	code, _, stderr = sprout(t, "eval", "--ckpt", ckpt, "--data", short, "--val-fraction", "1")
	if code != 1 || strings.Contains(stderr, "fraction") || !strings.Contains(stderr, "too short: 9 tokens") {
		t.Errorf("eval --val-fraction 1 of 9 tokens: exit %d, stderr %q", code, stderr)
	}
}
