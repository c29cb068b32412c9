package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sproutml/sprout/compare"
	"github.com/sproutml/sprout/trainer"
)

// compareCorpus writes a small generated text corpus for CLI runs.
func compareCorpus(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(path, trainer.GenerateCorpus(3, 40000), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runSprout runs one sprout invocation in-process.
func runSprout(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

var tinyModelFlags = []string{"--layers", "2", "--dim", "16", "--heads", "2", "--ctx", "16", "--batch", "4", "--workers", "1"}

func TestCompareCommand(t *testing.T) {
	data := compareCorpus(t)
	out := filepath.Join(t.TempDir(), "cmp")
	args := append([]string{"compare", "--data", data, "--steps", "20", "--eval-every", "5", "--eval-windows", "4",
		"--variants", "fixed,1-copy,0-random", "--out", out, "--json"}, tinyModelFlags...)
	code, stdout, stderr := runSprout(args...)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "[2/3] 1-copy: 1 -> 2 blocks (copy) at step 16") {
		t.Errorf("stderr lacks the progress header:\n%s", stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	var names []string
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("stdout line is not JSON: %v\n%s", err, sc.Text())
		}
		for _, k := range []string{"name", "final_val_loss", "flops", "fixed_flops", "flops_saved_frac", "wall_s", "tokens", "layers_start", "layers_end", "grow_step", "flops_ratio", "wall_ratio"} {
			if _, ok := obj[k]; !ok {
				t.Errorf("%v lacks %q", obj["name"], k)
			}
		}
		if obj["tokens"] != float64(20*4*16) {
			t.Errorf("%v trained on %v tokens, want %d", obj["name"], obj["tokens"], 20*4*16)
		}
		names = append(names, obj["name"].(string))
	}
	if strings.Join(names, ",") != "fixed,1-copy,0-random" {
		t.Errorf("runs %v", names)
	}
	for _, f := range []string{"compare.png", "compare.txt", "compare.md", "compare.jsonl"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	fh, err := os.Open(filepath.Join(out, "compare.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if _, err := png.Decode(fh); err != nil {
		t.Errorf("compare.png does not decode: %v", err)
	}
	table, _ := os.ReadFile(filepath.Join(out, "compare.txt"))
	if !strings.HasPrefix(string(table), "run ") || !strings.Contains(string(table), "FLOPs ratio") || strings.Count(string(table), "\n") != 5 ||
		!strings.HasSuffix(string(table), "\nrecipe: muon, lr 0.008, weight decay 0.1, grad clip 1, batch 4, warmup 0.02, decay 0.1 (linear), validation 0.1 of the data in at most 4 windows\n") {
		t.Errorf("compare.txt:\n%s", table)
	}
	if jl, _ := os.ReadFile(filepath.Join(out, "compare.jsonl")); string(jl) != stdout {
		t.Errorf("compare.jsonl differs from stdout")
	}

	// --replot redraws from the JSON Lines without training.
	out2 := filepath.Join(t.TempDir(), "again")
	code, replotted, stderr := runSprout("compare", "--replot", filepath.Join(out, "compare.jsonl"), "--out", out2)
	if code != 0 || replotted != string(table) {
		t.Errorf("--replot: exit %d, %s\ntable:\n%s\nwant:\n%s", code, stderr, replotted, table)
	}
	if _, err := os.Stat(filepath.Join(out2, "compare.png")); err != nil {
		t.Errorf("--replot wrote no chart: %v", err)
	}
	if code, _, stderr := runSprout("compare", "--replot", filepath.Join(out, "compare.png")); code != 1 || !strings.Contains(stderr, "compare.png") {
		t.Errorf("--replot of a PNG: exit %d, %s", code, stderr)
	}

	// A variant run in another process joins the comparison through --replot.
	out3 := filepath.Join(t.TempDir(), "part")
	args = append([]string{"compare", "--data", data, "--steps", "20", "--eval-every", "5", "--eval-windows", "4",
		"--variants", "1-random", "--no-baseline", "--out", out3}, tinyModelFlags...)
	if code, part, stderr := runSprout(args...); code != 0 || !strings.Contains(part, "1-random ") {
		t.Fatalf("--no-baseline: exit %d\n%s\n%s", code, part, stderr)
	}
	code, merged, stderr := runSprout("compare", "--replot", filepath.Join(out, "compare.jsonl")+","+filepath.Join(out3, "compare.jsonl"))
	if rows := strings.Split(strings.TrimSpace(merged), "\n"); code != 0 || len(rows) != 6 || !strings.HasPrefix(rows[4], "1-random") || strings.Contains(rows[4], " - ") {
		t.Errorf("--replot of two parts: exit %d, %s\n%s", code, stderr, merged)
	}
	// A part trained at another learning rate does not join it.
	out4 := filepath.Join(t.TempDir(), "lr")
	args = append([]string{"compare", "--data", data, "--steps", "20", "--eval-every", "5", "--eval-windows", "4",
		"--variants", "1-random", "--no-baseline", "--lr", "0.004", "--out", out4}, tinyModelFlags...)
	if code, part, stderr := runSprout(args...); code != 0 || !strings.Contains(part, "\nrecipe: muon, lr 0.004,") {
		t.Fatalf("--lr 0.004: exit %d\n%s\n%s", code, part, stderr)
	}
	code, _, stderr = runSprout("compare", "--replot", filepath.Join(out, "compare.jsonl")+","+filepath.Join(out4, "compare.jsonl"))
	if code != 1 || !strings.Contains(stderr, `runs "fixed" (seed 1) and "1-random" (seed 1) were trained with different lr (0.008 and 0.004)`) {
		t.Errorf("--replot of parts of two learning rates: exit %d, %s", code, stderr)
	}
	// The redrawn chart is titled by the runs' model, not the flags' defaults.
	jl, err := os.Open(filepath.Join(out, "compare.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer jl.Close()
	if rep, err := compare.ReadJSONL(jl, 0, 1); err != nil || replotTitle(rep) != "depth 2, d=16" {
		t.Errorf("replot title: %v", err)
	}
	code, _, stderr = runSprout("compare", "--replot", filepath.Join(out, "compare.jsonl")+","+filepath.Join(out, "compare.jsonl"))
	if code != 1 || !strings.Contains(stderr, "appears twice") || strings.Count(stderr, "compare:") != 1 {
		t.Errorf("--replot of one part twice: exit %d, %s", code, stderr)
	}
}

// --seeds runs every variant per seed and adds the table over seeds;
// --replot gives files without recorded seeds the --seed.
func TestCompareSeeds(t *testing.T) {
	data := compareCorpus(t)
	out := filepath.Join(t.TempDir(), "cmp")
	args := append([]string{"compare", "--data", data, "--steps", "20", "--eval-every", "5", "--eval-windows", "4",
		"--variants", "fixed,0-random,fixed=0-random", "--seeds", "3,4", "--out", out}, tinyModelFlags...)
	code, stdout, stderr := runSprout(args...)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr)
	}
	for _, want := range []string{"fixed s3", "0-random s4", "over seeds", "3 4", "fixed=0-random s4", "none, 10 steps"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "[5/6] 0-random: 0 -> 2 blocks (random) at step 16, wsd schedule, 20 steps x 4 x 16 tokens, seed 4") {
		t.Errorf("progress:\n%s", stderr)
	}
	jl, err := os.ReadFile(filepath.Join(out, "compare.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "[6/6] fixed=0-random: fixed depth 2, wsd schedule, 10 steps x 4 x 16 tokens, seed 4") {
		t.Errorf("progress of the fixed run on 0-random's compute:\n%s", stderr)
	}
	if n := strings.Count(string(jl), `"seed":3,`); n != 3 {
		t.Errorf("%d runs of seed 3 in the JSON Lines, want 3", n)
	}
	// A file from before seeds were recorded: its runs take --seed.
	old := filepath.Join(t.TempDir(), "old.jsonl")
	stripped := strings.NewReplacer(`"seed":3,`, "", `"seed":4,`, "").Replace(string(jl))
	first := strings.SplitAfter(stripped, "\n")[0] // seed 3's fixed run
	if err := os.WriteFile(old, []byte(first), 0o644); err != nil {
		t.Fatal(err)
	}
	code, replotted, stderr := runSprout("compare", "--replot", old, "--seed", "7", "--json")
	if code != 0 || !strings.Contains(replotted, `"seed":7,`) {
		t.Errorf("--replot --seed 7 of a file without seeds: exit %d, %s\n%s", code, stderr, replotted)
	}
}

func TestCompareUsageErrors(t *testing.T) {
	data := compareCorpus(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"compare", "--variants", "0-copy"}, 2, "0-block source"},
		{[]string{"compare", "--variants", "1-copy"}, 2, "baseline"},
		{[]string{"compare", "--grow-at", "0.95"}, 2, "decay phase"},
		{[]string{"compare", "--tau-sweep", "0.8,2"}, 2, "tau \"2\""},
		{[]string{"compare", "--dim", "16", "--heads", "3"}, 2, "heads"},
		{[]string{"compare", "--layers", "1", "--variants", "fixed,1-copy"}, 2, "not below the target depth"},
		{[]string{"compare", "--weight-decay", "-1"}, 2, "weight-decay"},
		{[]string{"compare", "--tolerance", "NaN"}, 2, "--tolerance must be a finite number >= 0"},
		{[]string{"compare", "--rope-base", "Inf", "--arch", "llama"}, 2, "rope_base must be > 1 and finite"},
		{[]string{"compare", "--seeds", "1,x"}, 2, `--seeds: seed "x"`},
		{[]string{"compare", "--seeds", ","}, 2, "no seeds"},
		{[]string{"compare", "--seed", "2", "--seeds", "1,2"}, 2, "not both"},
		{[]string{"compare", "--seeds", "1,2,1"}, 2, "seed 1 is listed twice"},
		{[]string{"compare", "--seeds", "1,2", "--tau-sweep", "0.5"}, 2, "tau sweep runs on one seed"},
		{[]string{"compare", "--bogus"}, 2, "bogus"},
		{[]string{"compare", "extra"}, 2, "unexpected argument"},
		{[]string{"compare", "--data", filepath.Join(t.TempDir(), "missing.txt")}, 1, "missing.txt"},
		{[]string{"compare", "--data", data, "--ctx", "100000", "--steps", "2", "--variants", "fixed"}, 1, "too short"},
	}
	for _, c := range cases {
		code, stdout, stderr := runSprout(c.args...)
		lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
		last := lines[len(lines)-1]
		// (A flag the flag package rejects also prints the usage, which
		// main.go's newFlagSet sends to stdout.)
		if code != c.code || !strings.HasPrefix(last, "sprout: ") || !strings.Contains(last, c.want) || (stdout != "" && c.want != "bogus") {
			t.Errorf("%v: exit %d, stdout %q, last stderr line %q; want exit %d and a line mentioning %q", c.args, code, stdout, last, c.code, c.want)
		}
	}
	if code, stdout, _ := runSprout("compare", "-h"); code != 0 || !strings.Contains(stdout, "-tau-sweep") {
		t.Errorf("compare -h: exit %d\n%s", code, stdout)
	}
}

func TestBenchTrainCommand(t *testing.T) {
	data := compareCorpus(t)
	args := append([]string{"bench", "train", "--data", data, "--steps", "3", "--warmup-steps", "1", "--json"}, tinyModelFlags...)
	code, stdout, stderr := runSprout(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r benchTrainResult
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	// 6N + 12LTd with N the non-positional parameters: d=16, V=256, L=2.
	d, L, T := 16, 2, 16
	nonPos := 256*d + 2*d + L*(12*d*d+13*d)
	if r.ParamsNoPos != nonPos || r.FLOPsPerToken != float64(6*nonPos+12*L*T*d) {
		t.Errorf("params_nonpos %d, flops/token %v; want %d, %d", r.ParamsNoPos, r.FLOPsPerToken, nonPos, 6*nonPos+12*L*T*d)
	}
	if r.Steps != 3 || r.WarmupSteps != 1 || r.Workers != 1 || r.Kernel == "" {
		t.Errorf("steps %d warm %d workers %d kernel %q", r.Steps, r.WarmupSteps, r.Workers, r.Kernel)
	}
	if !(r.TokensPerS > 0) || !(r.MFU > 0 && r.MFU < 1) || !(r.MFUExact > 0 && r.MFUExact < 1) || !(r.PeakGFLOPS > 0) {
		t.Errorf("tokens/s %v, MFU %v / %v, peak %v", r.TokensPerS, r.MFU, r.MFUExact, r.PeakGFLOPS)
	}
	if got := r.GFLOPS * 1e9 / r.TokensPerS; got < 0.999*r.FLOPsPerToken || got > 1.001*r.FLOPsPerToken {
		t.Errorf("GFLOP/s %v inconsistent with tokens/s %v and FLOPs/token %v", r.GFLOPS, r.TokensPerS, r.FLOPsPerToken)
	}

	code, stdout, stderr = runSprout(append([]string{"bench", "train", "--data", data, "--steps", "2", "--warmup-steps", "0"}, tinyModelFlags...)...)
	if code != 0 || !strings.Contains(stdout, "tokens/s") || !strings.Contains(stdout, "MFU") {
		t.Errorf("table output: exit %d\n%s%s", code, stdout, stderr)
	}

	// --cpuprofile writes a pprof profile (gzip) of the timed steps, with or
	// without warm-up steps; a path that cannot be created is a one-line
	// error before any training.
	for _, warm := range []string{"0", "1"} {
		prof := filepath.Join(t.TempDir(), "cpu.pprof")
		code, _, stderr = runSprout(append([]string{"bench", "train", "--data", data, "--steps", "3", "--warmup-steps", warm, "--cpuprofile", prof}, tinyModelFlags...)...)
		b, err := os.ReadFile(prof)
		if code != 0 || err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("--cpuprofile with %s warm-up steps: exit %d, %d bytes (%v): %s", warm, code, len(b), err, stderr)
		}
	}
	code, _, stderr = runSprout(append([]string{"bench", "train", "--data", data, "--steps", "2", "--cpuprofile", filepath.Join(t.TempDir(), "no", "such", "dir", "p")}, tinyModelFlags...)...)
	if code == 0 || !strings.Contains(stderr, "--cpuprofile") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("--cpuprofile in a missing directory: exit %d, stderr %q", code, stderr)
	}

	// moe: 6N counts the parameters a token goes through (its top-k
	// experts, the shared one, the router), and there are no positions.
	args = append([]string{"bench", "train", "--data", data, "--steps", "2", "--warmup-steps", "0", "--json",
		"--arch", "moe", "--experts", "4", "--top-k", "1", "--shared-experts", "1", "--ffn-hidden", "32"}, tinyModelFlags...)
	code, stdout, stderr = runSprout(args...)
	if code != 0 {
		t.Fatalf("moe: exit %d: %s", code, stderr)
	}
	r = benchTrainResult{}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("moe: not JSON: %v\n%s", err, stdout)
	}
	// Embedding and head V*d each, final RMSNorm d; per block two RMSNorm
	// gains, attention 4d^2, router 4d, and 2 of the 5 experts at 3*d*F.
	F := 32
	active := 2*256*d + d + L*(2*d+4*d*d+4*d+2*3*d*F)
	if r.Arch != "moe" || r.ParamsNoPos != active || r.Params != active+L*3*3*d*F {
		t.Errorf("moe: arch %q, params %d, active %d; want %d active", r.Arch, r.Params, r.ParamsNoPos, active)
	}
}

func TestBenchGEMMCommand(t *testing.T) {
	code, stdout, stderr := runSprout("bench", "gemm", "--shapes", "48x40x33NT", "--threads", "1", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if g, _ := r["sprout_gflops"].(float64); !(g > 0) {
		t.Errorf("sprout_gflops %v", r["sprout_gflops"])
	}
}

func TestBenchUsageErrors(t *testing.T) {
	cases := [][]string{
		{"bench"},
		{"bench", "nope"},
		{"bench", "--json"},
		{"bench", "train", "--steps", "1"},
		{"bench", "train", "--dim", "10", "--heads", "3"},
		{"bench", "train", "extra"},
		{"bench", "gemm", "--shapes", "0x2"},
		{"bench", "gemm", "--threads", "-1"},
	}
	for _, args := range cases {
		code, stdout, stderr := runSprout(args...)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "sprout: bench") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line", args, code, stdout, stderr)
		}
	}
	for _, args := range [][]string{{"bench", "-h"}, {"help", "bench"}, {"bench", "train", "-h"}, {"bench", "gemm", "-h"}} {
		if code, stdout, _ := runSprout(args...); code != 0 || !strings.Contains(stdout, "Usage: sprout bench") {
			t.Errorf("%v: exit %d\n%s", args, code, stdout)
		}
	}
}

// --weight-decay reaches the runs: the same tiny comparison without weight
// decay ends at another loss than with a strong one.
func TestCompareWeightDecay(t *testing.T) {
	data := compareCorpus(t)
	loss := func(wd string) float64 {
		args := append([]string{"compare", "--data", data, "--steps", "8", "--eval-every", "8", "--eval-windows", "4",
			"--variants", "fixed", "--weight-decay", wd, "--json"}, tinyModelFlags...)
		code, stdout, stderr := runSprout(args...)
		if code != 0 {
			t.Fatalf("--weight-decay %s: exit %d\n%s", wd, code, stderr)
		}
		var r struct {
			FinalValLoss float64 `json:"final_val_loss"`
		}
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, stdout)
		}
		return r.FinalValLoss
	}
	none, strong, again := loss("0"), loss("5"), loss("0")
	if none != again {
		t.Fatalf("two runs with --weight-decay 0 differ: %v, %v", none, again)
	}
	if none == strong {
		t.Errorf("--weight-decay 0 and 5 give the same final loss %v: the flag does not reach the runs", none)
	}
}

// A chart that cannot be drawn (here: no evaluation points) still leaves
// the runs' data and tables written.
func TestCompareOutputsDataBeforeChart(t *testing.T) {
	dir := t.TempDir()
	rep := &compare.Report{Runs: []compare.Run{{Name: "fixed"}}, Baseline: 0}
	err := writeCompareOutputs(dir, rep, "t")
	if err == nil || !strings.Contains(err.Error(), "compare.png") {
		t.Fatalf("err = %v, want a chart error", err)
	}
	for _, name := range []string{"compare.jsonl", "compare.txt", "compare.md"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s not written: %v", name, err)
		}
	}
}
