package trainer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sproutml/sprout/grow"
)

func wantLocked(t *testing.T, what string, err error) {
	t.Helper()
	var le *LockError
	if !errors.As(err, &le) || le.PID != os.Getpid() || le.Host != hostname() || !strings.Contains(err.Error(), "is in use by sprout process") {
		t.Errorf("%s: err = %v, want a *LockError naming this process", what, err)
	}
}

// TestLockDir: a directory's lock is held once; the holder is named; it is
// free again after Unlock, and its file is gone.
func TestLockDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub", "run")
	l, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockDir(dir + "/")
	wantLocked(t, "second lock", err)
	if pid, host := readHolder(lockPath(dir)); pid != os.Getpid() || host != hostname() {
		t.Errorf("lock file names %d on %q", pid, host)
	}
	l.Unlock()
	l.Unlock()
	if _, err := os.Stat(lockPath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file left after Unlock: %v", err)
	}
	l, err = LockDir(dir)
	if err != nil {
		t.Fatalf("lock after Unlock: %v", err)
	}
	l.Unlock()
}

// TestLockedOutRefused: a run, a resume and an offline expansion refuse a
// directory another run holds, before any step, and write nothing there.
func TestLockedOutRefused(t *testing.T) {
	tmp := t.TempDir()
	cfg := tinyConfig(t)
	cfg.Steps, cfg.Grow = 4, nil
	cfg.Out = filepath.Join(tmp, "done")
	mustRun(t, cfg, nil)

	busy := filepath.Join(tmp, "busy")
	l, err := LockDir(busy)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	cfg.Out = busy
	rec := &recorder{}
	_, err = Run(context.Background(), cfg, rec)
	wantLocked(t, "run", err)
	if len(rec.events) != 0 {
		t.Errorf("a refused run emitted %d events", len(rec.events))
	}
	if _, err := os.Stat(busy); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused run wrote %s", busy)
	}
	_, err = Resume(context.Background(), filepath.Join(tmp, "done"), nil, func(c *Config) error { c.Out = busy; return nil })
	wantLocked(t, "resume to a held directory", err)
	err = GrowCheckpoint(filepath.Join(tmp, "done"), busy, 3, grow.Random, grow.FreshNew, 1, false)
	wantLocked(t, "grow", err)

	l2, err := LockDir(filepath.Join(tmp, "done"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Resume(context.Background(), filepath.Join(tmp, "done"), nil, nil)
	wantLocked(t, "resume of a held directory", err)
	l2.Unlock()
	if _, err := Resume(context.Background(), filepath.Join(tmp, "done"), nil, nil); err != nil {
		t.Errorf("resume once released: %v", err)
	}
}

// TestCheckSpace: a run whose checkpoints cannot fit refuses before its
// first step, with the numbers.
func TestCheckSpace(t *testing.T) {
	defer func(f func(string) int64) { freeSpace = f }(freeSpace)
	freeSpace = func(string) int64 { return 1000 }
	cfg := tinyConfig(t)
	cfg.Out = filepath.Join(t.TempDir(), "run")
	rec := &recorder{}
	_, err := Run(context.Background(), cfg, rec)
	if err == nil || !strings.Contains(err.Error(), "has 0.0 MB free, but a checkpoint of this run takes about") || len(rec.events) != 0 {
		t.Fatalf("run on a full disk: err = %v after %d events", err, len(rec.events))
	}
	cfg.Defaults()
	freeSpace = func(string) int64 { return 2 * cfg.CheckpointBytes() }
	mustRun(t, cfg, nil)
}

// TestRescueFailedFinalSave: when the final save fails, the trained state
// is saved to the system's temporary directory and the error says where.
func TestRescueFailedFinalSave(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	defer func() { checkpointHook = nil }()
	failed := false
	checkpointHook = func(stage string) error {
		if stage == "temp synced" && !failed {
			failed = true
			return errors.New("no space left on device")
		}
		return nil
	}
	cfg := tinyConfig(t)
	cfg.Grow = nil
	cfg.Out = filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), "was saved instead to "+os.Getenv("TMPDIR")) {
		t.Fatalf("err = %v", err)
	}
	if res.Checkpoint == "" || !strings.Contains(err.Error(), res.Checkpoint) {
		t.Fatalf("rescued checkpoint %q not named in %v", res.Checkpoint, err)
	}
	if _, man, err := LoadModel(res.Checkpoint); err != nil || man.Step != 20 {
		t.Errorf("rescued checkpoint: %v", err)
	}
}

// TestStaleLock: the lock file a killed holder left (kill -9 runs no
// clean-up) does not lock anything: the kernel released its flock.
func TestStaleLock(t *testing.T) {
	if !systemLocks {
		t.Skip("no flock here: a stale lock file is removed by hand")
	}
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.WriteFile(lockPath(dir), []byte("99999999 gone-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := LockDir(dir)
	if err != nil {
		t.Fatalf("lock over a dead holder's file: %v", err)
	}
	defer l.Unlock()
	if pid, _ := readHolder(lockPath(dir)); pid != os.Getpid() {
		t.Errorf("lock file names pid %d, want this process", pid)
	}
}
