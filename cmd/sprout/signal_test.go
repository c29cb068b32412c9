package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sproutml/sprout/trainer"
)

// started is a sprout process whose stdout is read line by line.
type started struct {
	cmd    *exec.Cmd
	out    io.Reader
	lines  *bufio.Scanner
	stderr *syncBuffer
}

// syncBuffer is a bytes.Buffer that the test may read while the process
// writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSprout starts the built binary with args, or, when args[0] is
// "sh", that command line as it is.
func startSprout(t *testing.T, args ...string) *started {
	t.Helper()
	cmd := sproutCommand(args...)
	if args[0] == "sh" {
		cmd = exec.Command(args[0], args[1:]...)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &started{cmd: cmd, out: out, lines: bufio.NewScanner(out), stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

// waitLine reads stdout until a line contains s.
func (p *started) waitLine(t *testing.T, s string) {
	t.Helper()
	for p.lines.Scan() {
		if strings.Contains(p.lines.Text(), s) {
			return
		}
	}
	t.Fatalf("stdout ended without %q; stderr:\n%s", s, p.stderr.String())
}

// waitStderr polls stderr until it contains s.
func (p *started) waitStderr(t *testing.T, s string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if strings.Contains(p.stderr.String(), s) {
			return
		}
	}
	t.Fatalf("stderr never said %q:\n%s", s, p.stderr.String())
}

// wait drains stdout and waits for the exit within limit: its code, or -1
// and the signal that ended the process.
func (p *started) wait(t *testing.T, limit time.Duration) (int, syscall.Signal) {
	t.Helper()
	go io.Copy(io.Discard, p.out)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		t.Fatalf("sprout did not exit within %v; stderr:\n%s", limit, p.stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		if err != nil {
			t.Fatal(err)
		}
		return 0, 0
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal()
	}
	return ee.ExitCode(), 0
}

// TestCLISignalsCheckpoint: SIGTERM and SIGHUP stop train as Ctrl-C does,
// with a checkpoint, and exit with 128+signal.
func TestCLISignalsCheckpoint(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 143}, {syscall.SIGHUP, 129}} {
		if tc.sig == syscall.SIGHUP && signal.Ignored(syscall.SIGHUP) {
			// Started under nohup: sprout inherits the ignored SIGHUP and
			// rightly keeps it (signal.go).
			t.Log("SIGHUP is ignored in this process (nohup), as it will be in sprout: skipping its case")
			continue
		}
		ckpt := filepath.Join(t.TempDir(), "run")
		p := startSprout(t, tinyTrain(ckpt, "--steps", "2000", "--grow-from", "off", "--eval-every", "1000", "--json")...)
		p.waitLine(t, `"step":3,`)
		p.cmd.Process.Signal(tc.sig)
		code, _ := p.wait(t, 30*time.Second)
		if code != tc.code || !strings.Contains(lastLine(p.stderr.String()), "interrupted after step") {
			t.Errorf("%v: exit %d, want %d; stderr:\n%s", tc.sig, code, tc.code, p.stderr.String())
		}
		if _, err := trainer.LoadCheckpoint(ckpt); err != nil {
			t.Errorf("%v: no checkpoint: %v", tc.sig, err)
		}
	}
}

// TestCLISecondSignal: a second signal while the first one's checkpoint is
// being written ends the process at once with 128+signal, and the directory
// still holds a loadable checkpoint (the last good one or the new one). It
// does so also where the process began with SIGINT ignored, as a shell
// starts a background job (the inherited "ignore" used to swallow it).
func TestCLISecondSignal(t *testing.T) {
	for i, delay := range []time.Duration{0, 5 * time.Millisecond, 0} {
		ckpt := filepath.Join(t.TempDir(), "run")
		args := []string{"train", "--data", cliCorpus, "--layers", "2", "--dim", "64", "--heads", "2", "--ctx", "16",
			"--batch", "2", "--steps", "100000", "--grow-from", "off", "--eval-every", "2", "--eval-windows", "1",
			"--workers", "1", "--sample-tokens", "0", "--json", "--out", ckpt}
		second, want := syscall.SIGTERM, 143
		if i == 2 {
			args = append([]string{"sh", "-c", `trap "" INT; exec "$@"`, "sh"}, append(append([]string(nil), sproutExec...), args...)...)
			second, want = syscall.SIGINT, 130
		}
		p := startSprout(t, args...)
		p.waitLine(t, `"event":"checkpoint"`)
		p.cmd.Process.Signal(syscall.SIGINT)
		p.waitStderr(t, "again to quit at once")
		time.Sleep(delay)
		p.cmd.Process.Signal(second)
		code, sig := p.wait(t, 30*time.Second)
		quit := strings.Contains(p.stderr.String(), "quitting at once")
		if !(code == want && quit || code == 130 && !quit) {
			t.Errorf("run %d: exit %d (signal %v), want %d after quitting at once, or 130 for a save that finished first; stderr:\n%s", i, code, sig, want, p.stderr.String())
		}
		if _, err := trainer.LoadCheckpoint(ckpt); err != nil {
			t.Errorf("run %d: the second signal left no checkpoint: %v", i, err)
		}
	}
}

// TestCLISignalAfterTraining: once training is over, the signal handler is
// gone: Ctrl-C during the closing sample ends the process at once instead
// of being announced as a checkpoint and ignored.
func TestCLISignalAfterTraining(t *testing.T) {
	ckpt := filepath.Join(t.TempDir(), "run")
	p := startSprout(t, tinyTrain(ckpt, "--steps", "2", "--grow-from", "off", "--sample-tokens", "3000000")...)
	p.waitLine(t, "checkpoint: ")
	p.cmd.Process.Signal(syscall.SIGINT)
	code, sig := p.wait(t, 10*time.Second)
	if code != -1 || sig != syscall.SIGINT || strings.Contains(p.stderr.String(), "writing a checkpoint") {
		t.Errorf("Ctrl-C during the sample: exit %d (signal %v), want killed by SIGINT; stderr:\n%s", code, sig, p.stderr.String())
	}
}

// TestCLICompareAndBenchSignals: compare and bench train stop cleanly on
// SIGTERM (compare reports its finished runs) and exit 143.
func TestCLICompareAndBenchSignals(t *testing.T) {
	p := startSprout(t, "compare", "--data", cliCorpus, "--layers", "2", "--dim", "16", "--heads", "2", "--ctx", "16",
		"--batch", "2", "--steps", "100000", "--variants", "fixed,1-random", "--eval-windows", "1", "--workers", "1", "--json")
	p.waitStderr(t, "step")
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code, sig := p.wait(t, 30*time.Second); code != 143 || !strings.Contains(p.stderr.String(), "interrupted") {
		t.Errorf("compare on SIGTERM: exit %d (signal %v), want 143; stderr:\n%s", code, sig, p.stderr.String())
	}

	p = startSprout(t, "bench", "train", "--layers", "1", "--dim", "16", "--heads", "2", "--ctx", "16", "--batch", "2",
		"--steps", "10000000", "--workers", "1", "--data", cliCorpus)
	time.Sleep(500 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code, sig := p.wait(t, 30*time.Second); code != 143 || !strings.Contains(p.stderr.String(), "interrupted") {
		t.Errorf("bench train on SIGTERM: exit %d (signal %v), want 143; stderr:\n%s", code, sig, p.stderr.String())
	}
}

// TestCLIOneRunPerDirectory: a second run on a running run's --out (even
// with --force) refuses in one line naming the holder, and the running
// run's checkpoint stays its own; resume, grow, import and export refuse a
// directory another process holds.
func TestCLIOneRunPerDirectory(t *testing.T) {
	tmp := t.TempDir()
	out := filepath.Join(tmp, "cc")
	a := startSprout(t, tinyTrain(out, "--steps", "100000", "--grow-from", "off", "--eval-every", "2", "--json", "--force", "--seed", "1")...)
	a.waitLine(t, `"event":"checkpoint"`)
	want := fmt.Sprintf("is in use by sprout process %d on ", a.cmd.Process.Pid)
	for _, args := range [][]string{
		tinyTrain(out, "--steps", "5", "--grow-from", "off", "--force", "--seed", "2"),
		{"train", "--resume", out, "--steps", "200000"},
	} {
		code, stdout, stderr := sprout(t, args...)
		if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
			t.Errorf("%v beside a running run: exit %d, stdout %q, stderr %q; want one line with %q", args, code, stdout, stderr, want)
		}
	}
	a.cmd.Process.Signal(syscall.SIGINT)
	if code, _ := a.wait(t, 30*time.Second); code != 130 {
		t.Fatalf("first run: exit %d; stderr:\n%s", code, a.stderr.String())
	}
	c, err := trainer.LoadCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	if c.Manifest.Seed != 1 || c.Manifest.Step < 2 {
		t.Errorf("the running run's checkpoint was replaced: seed %d, step %d", c.Manifest.Seed, c.Manifest.Step)
	}

	// This test process holds the lock of busy: other processes refuse it.
	busy := filepath.Join(tmp, "busy")
	l, err := trainer.LockDir(busy)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	want = fmt.Sprintf("is in use by sprout process %d on ", os.Getpid())
	hf := filepath.Join(tmp, "hf")
	if code, _, stderr := sprout(t, "export", "--ckpt", out, "--format", "hf", "--out", hf); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	for _, args := range [][]string{
		{"grow", "--ckpt", out, "--layers", "3", "--out", busy},
		{"import", "--hf", hf, "--out", busy},
		{"export", "--ckpt", out, "--format", "gguf", "--out", busy},
		{"export", "--ckpt", out, "--format", "hf", "--out", busy},
		tinyTrain(busy, "--steps", "2", "--grow-from", "off"),
	} {
		code, stdout, stderr := sprout(t, args...)
		if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want one line with %q", args, code, stdout, stderr, want)
		}
	}
	if _, err := os.Stat(busy); err == nil {
		t.Errorf("a refused command wrote %s", busy)
	}
}
