package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sproutml/sprout/trainer"
)

// The CLI tests run the real binary, built once.
var (
	sproutBin  string   // path of the built binary
	sproutExec []string // what runs it: the binary, or an emulator and the binary
	cliCorpus  string   // a small text corpus
)

// sproutCommand returns a command that runs the built binary with args.
func sproutCommand(args ...string) *exec.Cmd {
	argv := append(append([]string(nil), sproutExec...), args...)
	return exec.Command(argv[0], argv[1:]...)
}

// emulator returns the user-mode emulator that runs binaries of this test's
// GOARCH when it differs from the host's (the arm64 suite runs under
// qemu-aarch64-static, which does not follow execve into the binaries a test
// starts), or nil when the binary runs natively.
func emulator(goCmd string) ([]string, error) {
	out, err := exec.Command(goCmd, "env", "GOHOSTARCH").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOHOSTARCH: %v", err)
	}
	if host := strings.TrimSpace(string(out)); host == runtime.GOARCH {
		return nil, nil
	}
	arch := map[string]string{"arm64": "aarch64", "amd64": "x86_64"}[runtime.GOARCH]
	for _, name := range []string{"qemu-" + arch + "-static", "qemu-" + arch} {
		if path, err := exec.LookPath(name); err == nil {
			return []string{path}, nil
		}
	}
	return nil, fmt.Errorf("no qemu-%s-static on PATH to run %s binaries", arch, runtime.GOARCH)
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sprout-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sproutBin = filepath.Join(dir, "sprout")
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		goCmd = "go"
	}
	build := exec.Command(goCmd, "build", "-o", sproutBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building sprout: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	emu, err := emulator(goCmd)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sprout CLI tests: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	sproutExec = append(emu, sproutBin)
	cliCorpus = filepath.Join(dir, "corpus.txt")
	if err := os.WriteFile(cliCorpus, trainer.GenerateCorpus(11, 40000), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sprout runs the binary and returns its exit code, stdout and stderr.
func sprout(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return sproutEnv(t, nil, args...)
}

// sproutEnv is sprout with extra environment variables ("KEY=value").
func sproutEnv(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := sproutCommand(args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running sprout %v: %v", args, err)
	}
	return code, stdout.String(), stderr.String()
}

// tinyTrain is a progressive run small enough for a unit test: 1 block
// grown to 2 at step 10 of 20.
func tinyTrain(out string, extra ...string) []string {
	args := []string{"train", "--data", cliCorpus, "--layers", "2", "--dim", "16", "--heads", "2", "--ctx", "16",
		"--batch", "4", "--steps", "20", "--grow-from", "1", "--grow-at", "10", "--eval-every", "5", "--eval-windows", "4",
		"--grow-init", "random", "--workers", "2", "--sample-tokens", "20", "--out", out}
	return append(args, extra...)
}

// jsonLines parses s as JSON Lines.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		out = append(out, obj)
	}
	return out
}

func TestCLITrainAndTools(t *testing.T) {
	tmp := t.TempDir()
	ckpt := filepath.Join(tmp, "run")
	metrics := filepath.Join(tmp, "metrics.jsonl")
	code, stdout, stderr := sprout(t, tinyTrain(ckpt, "--json", "--metrics", metrics)...)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	events := jsonLines(t, stdout)
	if len(events) < 20 {
		t.Fatalf("train --json printed %d events", len(events))
	}
	sum := events[len(events)-1]
	if sum["event"] != "summary" {
		t.Fatalf("last event %v, want the summary", sum)
	}
	for _, k := range []string{"steps", "tokens", "flops", "fixed_flops", "flops_saved_frac", "final_train_loss", "final_val_loss",
		"wall_s", "tokens_per_s", "layers_start", "layers_end", "grow_step", "kernel", "workers"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary lacks %q", k)
		}
	}
	if sum["steps"] != 20.0 || sum["layers_start"] != 1.0 || sum["layers_end"] != 2.0 || sum["grow_step"] != 10.0 || sum["tokens"] != float64(20*4*16) {
		t.Errorf("summary %v", sum)
	}
	steps := 0
	for _, e := range events {
		if e["event"] == "step" {
			steps++
			for _, k := range []string{"step", "tokens", "flops", "lr", "loss", "layers", "wall_s", "tokens_per_s"} {
				if _, ok := e[k]; !ok {
					t.Errorf("step event lacks %q: %v", k, e)
				}
			}
		}
	}
	if steps != 20 {
		t.Errorf("%d step events, want 20", steps)
	}
	// The mixing check: at the evaluations after the expansion at step 10
	// (15, 20) and in the summary, of block 1, the gap unknown.
	var checked []float64
	for _, e := range events { // the summary last
		mix, ok := e["mixing"].(map[string]any)
		if !ok || e["event"] == "step" {
			continue
		}
		checked = append(checked, mix["step"].(float64))
		if nb, _ := mix["new_blocks"].([]any); len(nb) != 1 || nb[0] != 1.0 || mix["gap_basis"] != "no calibration" || mix["est_gap"] != nil ||
			(mix["state"] != "in use" && mix["state"] != "idle") || mix["windows"] != float64(trainer.DefaultMixWindows) {
			t.Errorf("%s event's mixing check: %v", e["event"], mix)
		}
	}
	if !slices.Equal(checked, []float64{15, 20, 20}) {
		t.Errorf("mixing checks of the eval events and the summary at steps %v, want 15, 20 and 20", checked)
	}
	if b, err := os.ReadFile(metrics); err != nil || string(b) != stdout {
		t.Errorf("metrics file differs from stdout (err %v)", err)
	}
	for _, want := range []string{"grew from 1 to 2 blocks", "final loss", "sample (20 bytes", "depth 2  new blocks ", "mixing check at step 20 (16 windows): new blocks 1 "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	// The checkpoint serves the other commands.
	code, stdout, stderr = sprout(t, "sample", "--ckpt", ckpt, "--prompt", "the ", "--tokens", "30", "--seed", "3")
	if code != 0 || !strings.HasPrefix(stdout, "the ") || len(stdout) != len("the ")+30+1 {
		t.Errorf("sample: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	code, stdout, stderr = sprout(t, "eval", "--ckpt", ckpt, "--data", cliCorpus, "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatalf("eval --json: %v: %q", err, stdout)
	}
	if l, b := ev["loss"].(float64), ev["bits_per_token"].(float64); !(l > 0 && l < 6) || b != l/0.6931471805599453 {
		t.Errorf("eval: %v", ev)
	}
	code, stdout, _ = sprout(t, "eval", "--ckpt", ckpt)
	if code != 0 || !strings.Contains(stdout, "bits/byte") {
		t.Errorf("eval (data from the checkpoint): exit %d, %q", code, stdout)
	}
	code, stdout, stderr = sprout(t, "eval", "--ckpt", ckpt, "--ablate", "--json")
	var ab struct {
		Loss     float64   `json:"loss"`
		Ablation []float64 `json:"ablation"`
	}
	if err := json.Unmarshal([]byte(stdout), &ab); code != 0 || err != nil || ab.Loss != ev["loss"].(float64) || len(ab.Ablation) != 2 {
		t.Errorf("eval --ablate: exit %d, %v, %q %s", code, err, stdout, stderr)
	}
	if code, stdout, _ = sprout(t, "eval", "--ckpt", ckpt, "--ablate"); code != 0 || !strings.Contains(stdout, "without block 1: loss ") ||
		!strings.Contains(stdout, "without the new blocks 1 together: loss ") {
		t.Errorf("eval --ablate: exit %d, %q", code, stdout)
	}
	code, stdout, stderr = sprout(t, "inspect", "--ckpt", ckpt)
	for _, want := range []string{"2 blocks", "step 20,", "step 10: 1 -> 2 blocks (random)", "model.safetensors", "verified"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("inspect: exit %d, output lacks %q:\n%s%s", code, want, stdout, stderr)
		}
	}
	grown := filepath.Join(tmp, "grown")
	code, stdout, stderr = sprout(t, "grow", "--ckpt", ckpt, "--layers", "4", "--init", "copy", "--out", grown)
	if code != 0 || !strings.Contains(stdout, "from 2 to 4 blocks") {
		t.Fatalf("grow: exit %d: %s%s", code, stdout, stderr)
	}
	// The grown checkpoint trains on at its new depth.
	code, stdout, stderr = sprout(t, "train", "--resume", grown, "--steps", "24", "--json", "--sample-tokens", "0", "--mix-windows", "4")
	if code != 0 {
		t.Fatalf("train --resume (grown): exit %d: %s", code, stderr)
	}
	events = jsonLines(t, stdout)
	if s := events[len(events)-1]; s["steps"] != 24.0 || s["layers_end"] != 4.0 {
		t.Errorf("resumed grown run: %v", s)
	}
	// Its check follows the offline expansion: blocks 2 and 3 are copies.
	if mix, _ := events[len(events)-1]["mixing"].(map[string]any); mix == nil || fmt.Sprint(mix["new_blocks"]) != "[2 3]" || mix["windows"] != 4.0 {
		t.Errorf("resumed grown run's mixing check: %v", mix)
	}
}

func TestCLIInterruptAndResume(t *testing.T) {
	tmp := t.TempDir()
	ckpt := filepath.Join(tmp, "run")
	args := tinyTrain(ckpt, "--steps", "2000", "--grow-from", "off", "--eval-every", "1000", "--json")
	cmd := sproutCommand(args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"step":3,`) {
			cmd.Process.Signal(syscall.SIGINT)
			break
		}
	}
	io.Copy(io.Discard, stdout)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("train did not stop after SIGINT")
	}
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 {
		t.Fatalf("interrupted train: %v, want exit 130\n%s", err, stderr.String())
	}
	last := lastLine(stderr.String())
	if !strings.Contains(last, "interrupted after step") || !strings.Contains(last, "sprout train --resume "+ckpt) {
		t.Errorf("last stderr line %q", last)
	}
	c, err := trainer.LoadCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	at := c.Manifest.Step
	if at < 3 || at >= 2000 {
		t.Fatalf("checkpoint at step %d", at)
	}
	code, out, errOut := sprout(t, "train", "--resume", ckpt, "--steps", fmt.Sprint(at+3), "--json", "--sample-tokens", "0")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errOut)
	}
	events := jsonLines(t, out)
	first, sum := events[0], events[len(events)-1]
	if first["step"] != float64(at+1) || sum["steps"] != float64(at+3) {
		t.Errorf("resumed run went from %v to %v, want %d to %d", first["step"], sum["steps"], at+1, at+3)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestCLIErrors(t *testing.T) {
	tmp := t.TempDir()
	ckpt := filepath.Join(tmp, "run")
	if code, _, stderr := sprout(t, tinyTrain(ckpt, "--steps", "2", "--grow-from", "off", "--sample-tokens", "0")...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	corrupt := filepath.Join(tmp, "corrupt")
	copyCheckpoint(t, ckpt, corrupt)
	path := filepath.Join(corrupt, trainer.ModelFile)
	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 1
	os.WriteFile(path, b, 0o644)

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"nosuch"}, 2, "unknown command"},
		{[]string{"train", "--bogus"}, 2, "bogus"},
		{[]string{"train", "--steps", "0"}, 2, "steps"},
		{[]string{"train", "--dim", "30", "--heads", "4"}, 2, "heads (4) must divide dim (30)"},
		{[]string{"train", "--lr", "-1"}, 2, "--lr"},
		{[]string{"train", "--grow-from", "6", "--layers", "6"}, 2, "not deeper"},
		{[]string{"train", "--grow-at", "0.95"}, 2, "decay"},
		{[]string{"train", "--grow-from", "two"}, 2, "--grow-from"},
		{[]string{"train", "--batch", "6", "--shard", "4"}, 2, "must divide batch"},
		{[]string{"train", "--data", filepath.Join(tmp, "missing.txt")}, 1, "no such file"},
		{[]string{"train", "--data", cliCorpus, "--ctx", "100000", "--steps", "1", "--grow-from", "off", "--out", ""}, 1, "too short"},
		{[]string{"train", "--resume", ckpt, "--dim", "64"}, 2, "cannot change when resuming"},
		{[]string{"train", "--resume", filepath.Join(tmp, "nothing")}, 1, "no such file"},
		{[]string{"sample"}, 2, "--ckpt"},
		{[]string{"sample", "--ckpt", ckpt, "--temperature", "-1"}, 2, "temperature"},
		{[]string{"sample", "--ckpt", filepath.Join(tmp, "nothing")}, 1, "no such file"},
		{[]string{"eval", "--ckpt", corrupt}, 1, "corrupted"},
		{[]string{"eval", "--ckpt", ckpt, "--data", filepath.Join(tmp, "missing.txt")}, 1, "no such file"},
		{[]string{"inspect", "--ckpt", corrupt}, 1, "corrupted"},
		{[]string{"inspect", "--ckpt", ckpt, "extra"}, 2, "unexpected argument"},
		{[]string{"grow", "--ckpt", ckpt, "--layers", "2", "--out", filepath.Join(tmp, "g")}, 1, "must be deeper"},
		{[]string{"grow", "--ckpt", ckpt, "--layers", "4", "--init", "sideways", "--out", filepath.Join(tmp, "g")}, 2, "unknown strategy"},
		{[]string{"grow", "--ckpt", ckpt, "--layers", "4"}, 2, "--out"},
	} {
		code, stdout, stderr := sprout(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("sprout %v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr, tc.code, tc.want)
			continue
		}
		if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "sprout: ") {
			t.Errorf("sprout %v: stderr is not one line: %q", tc.args, stderr)
		}
		if stdout != "" {
			t.Errorf("sprout %v: printed %q on stdout", tc.args, stdout)
		}
	}
	// Nothing was lost: the good checkpoint still loads.
	if _, err := trainer.LoadCheckpoint(ckpt); err != nil {
		t.Errorf("checkpoint damaged by the failed commands: %v", err)
	}
}

// TestCLIOutputGuard: train and grow replace a checkpoint at --out only
// when it is the run being resumed or --force says so (the default --out
// excepted), and refuse outputs that cannot work before any training.
func TestCLIOutputGuard(t *testing.T) {
	tmp := t.TempDir()
	ckpt := filepath.Join(tmp, "run")
	small := func(out string, extra ...string) []string {
		return tinyTrain(out, append([]string{"--steps", "2", "--grow-from", "off", "--sample-tokens", "0"}, extra...)...)
	}
	ok := func(args ...string) {
		t.Helper()
		if code, _, stderr := sprout(t, args...); code != 0 {
			t.Fatalf("sprout %v: exit %d: %s", args, code, stderr)
		}
	}
	refused := func(want string, args ...string) {
		t.Helper()
		code, stdout, stderr := sprout(t, args...)
		if code != 1 || !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("sprout %v: exit %d, stdout %q, stderr %q; want exit 1 and one line with %q", args, code, stdout, stderr, want)
		}
	}
	ok(small(ckpt)...)
	before, _ := os.ReadFile(filepath.Join(ckpt, trainer.ManifestFile))
	refused("--out "+ckpt+" already holds a checkpoint (step 2 of another run): --resume "+ckpt+" to continue it, --force to replace it, or choose another --out",
		small(ckpt, "--seed", "2")...)
	if after, _ := os.ReadFile(filepath.Join(ckpt, trainer.ManifestFile)); !bytes.Equal(before, after) {
		t.Error("the refused run changed the checkpoint")
	}
	ok(small(ckpt, "--seed", "2", "--force")...)
	ok("train", "--resume", ckpt, "--steps", "3", "--sample-tokens", "0")

	other := filepath.Join(tmp, "other")
	copyCheckpoint(t, ckpt, other)
	refused("--out "+other+" already holds a checkpoint (step 3 of another run)", "train", "--resume", ckpt, "--steps", "4", "--out", other, "--sample-tokens", "0")
	ok("train", "--resume", ckpt, "--steps", "4", "--out", other, "--force", "--sample-tokens", "0")

	// The pre-grow directories of --out count too (tinyTrain grows at 10).
	grows := filepath.Join(tmp, "grows")
	copyCheckpoint(t, ckpt, grows+".pre-grow-10")
	refused("--out "+grows+": "+grows+".pre-grow-10 already holds a checkpoint (step 3 of another run): --force to replace it", tinyTrain(grows)...)

	grown := filepath.Join(tmp, "grown")
	ok("grow", "--ckpt", ckpt, "--layers", "3", "--out", grown)
	refused("grow: --out "+grown+" already holds a checkpoint (step 3 of another run): --force to replace it, or choose another --out",
		"grow", "--ckpt", ckpt, "--layers", "3", "--out", grown)
	ok("grow", "--ckpt", ckpt, "--layers", "3", "--out", grown, "--force")
	refused("is inside the checkpoint", "grow", "--ckpt", ckpt, "--layers", "3", "--out", filepath.Join(ckpt, "g"), "--force")

	// Outputs that cannot work fail before training.
	file := filepath.Join(tmp, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	refused("cannot create the parent", small(filepath.Join(file, "run"))...)
	refused("needs a directory of its own", small(".")...)

	// The default --out, runs/latest, is replaced without --force.
	work := t.TempDir()
	args := tinyTrain("")
	args = args[:len(args)-2] // no --out
	for range 2 {
		cmd := sproutCommand(append(args, "--steps", "2", "--grow-from", "off", "--sample-tokens", "0")...)
		cmd.Dir = work
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("train with the default --out: %v\n%s", err, out)
		}
	}
	if _, err := trainer.LoadCheckpoint(filepath.Join(work, "runs", "latest")); err != nil {
		t.Error(err)
	}
}

func TestCLIHelp(t *testing.T) {
	code, stdout, _ := sprout(t, "train", "-h")
	for _, f := range []string{"-data", "-arch", "-layers", "-dim", "-heads", "-ctx", "-batch", "-steps", "-grow-from", "-grow-at", "-grow-init",
		"-optimizer", "-lr", "-schedule", "-warmup", "-decay", "-workers", "-seed", "-eval-every", "-out", "-resume", "-metrics", "-json"} {
		if code != 0 || !strings.Contains(stdout, "  "+f+" ") && !strings.Contains(stdout, "  "+f+"\n") {
			t.Errorf("train -h lacks %s", f)
		}
	}
	if !strings.Contains(stdout, `(default "runs/latest")`) {
		t.Errorf("train -h does not show the default output directory")
	}
}

func TestCLIUsageAndKernelEnv(t *testing.T) {
	if code, stdout, stderr := sprout(t); code != 2 || stdout != "" || !strings.Contains(stderr, "Usage: sprout COMMAND") {
		t.Errorf("bare sprout: exit %d, stdout %q, stderr %q; want exit 2 and the usage on stderr", code, stdout, stderr)
	}
	if code, stdout, _ := sprout(t, "help"); code != 0 || !strings.Contains(stdout, "Commands:") {
		t.Errorf("sprout help: exit %d, stdout %q", code, stdout)
	}
	if code, stdout, _ := sprout(t, "version", "-h"); code != 0 || strings.Contains(stdout, "Flags:") {
		t.Errorf("version -h: exit %d, stdout %q; want no empty flag list", code, stdout)
	}
	code, stdout, stderr := sproutEnv(t, []string{"SPROUT_KERNEL=bogus"}, "version")
	if code != 2 || stdout != "" || !strings.Contains(stderr, "SPROUT_KERNEL=bogus cannot run here") {
		t.Errorf("SPROUT_KERNEL=bogus: exit %d, stdout %q, stderr %q; want exit 2 naming the variable", code, stdout, stderr)
	}
	code, stdout, stderr = sproutEnv(t, []string{"SPROUT_KERNEL=generic"}, "version")
	if code != 0 || !strings.Contains(stdout, "kernel:   generic") {
		t.Errorf("SPROUT_KERNEL=generic: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// copyCheckpoint copies a checkpoint directory.
func copyCheckpoint(t *testing.T, src, dst string) {
	t.Helper()
	os.MkdirAll(dst, 0o755)
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644)
	}
}

// TestCLICheckpointAtEvaluations: a default run checkpoints at evaluations
// (steps/10), so a run killed with kill -9 resumes from one; --checkpoint-
// every 0 saves only at the end. (In a run this small, saving takes more
// time than training, so after the first evaluation's checkpoint the cap on
// their cost skips most of the others.)
func TestCLICheckpointAtEvaluations(t *testing.T) {
	tmp := t.TempDir()
	ckpt := filepath.Join(tmp, "run")
	args := []string{"train", "--data", cliCorpus, "--layers", "1", "--dim", "16", "--heads", "2", "--ctx", "16",
		"--batch", "4", "--steps", "20", "--grow-from", "off", "--eval-windows", "4", "--workers", "1", "--sample-tokens", "0", "--json"}
	crashed := filepath.Join(tmp, "crashed")
	cmd := sproutCommand(append(args, "--out", ckpt)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var saved []float64
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var e map[string]any
		if json.Unmarshal(sc.Bytes(), &e) == nil && e["event"] == "checkpoint" {
			saved = append(saved, e["step"].(float64))
			if len(saved) == 1 {
				copyCheckpoint(t, ckpt, crashed) // what a kill -9 after it leaves
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("train: %v", err)
	}
	if len(saved) < 2 || saved[0] != 2 || saved[len(saved)-1] != 20 {
		t.Fatalf("default run checkpointed at steps %v, want the first evaluation's (2) and the end", saved)
	}
	for _, s := range saved {
		if int(s)%2 != 0 {
			t.Fatalf("default run checkpointed at steps %v, not all at evaluations (every 2 steps)", saved)
		}
	}
	code, out, errOut := sprout(t, "train", "--resume", crashed, "--json", "--sample-tokens", "0")
	if code != 0 {
		t.Fatalf("resume from the evaluation checkpoint: exit %d: %s", code, errOut)
	}
	if ev := jsonLines(t, out); ev[0]["step"] != float64(3) {
		t.Errorf("resumed run began at step %v, want 3", ev[0]["step"])
	}

	code, out, errOut = sprout(t, append(args, "--out", filepath.Join(tmp, "end"), "--checkpoint-every", "0")...)
	n := strings.Count(out, `"event":"checkpoint"`)
	if code != 0 || n != 1 {
		t.Errorf("--checkpoint-every 0: exit %d, %d checkpoints, want 1: %s", code, n, errOut)
	}
	for _, bad := range [][]string{{"--eval-every", "-5"}, {"--checkpoint-every", "-2"}} {
		code, _, errOut = sprout(t, append(args, bad...)...)
		if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, bad[0]) {
			t.Errorf("%v: exit %d: %q", bad, code, errOut)
		}
	}
}
