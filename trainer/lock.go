package trainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// A checkpoint directory is written by one process at a time: a run holds
// an advisory lock on its output directory from before its first step to
// its end, and every save takes it for its duration unless this process
// already holds it. The lock is the hidden file ".NAME.sprout-lock" beside
// the directory (the directory itself is renamed by each save), holding the
// holder's pid and host for the error the next comer gets. Where the
// operating system has flock, the kernel releases the lock when its holder
// dies, so a crash never leaves a stale one.

// LockError reports a directory that another run is writing.
type LockError struct {
	Dir  string // the directory asked for
	PID  int    // the holder's process id; 0 when unknown
	Host string // the holder's host name; "" when unknown
	File string // the lock file
	// Stale is set where the lock cannot be released by the system (no
	// flock): the file stays if its holder dies, and the user removes it.
	Stale bool
}

func (e *LockError) Error() string {
	holder := "another sprout process"
	if e.PID != 0 {
		holder = fmt.Sprintf("sprout process %d on %s", e.PID, e.Host)
	}
	msg := fmt.Sprintf("trainer: %s is in use by %s (lock %s); wait for it to finish or choose another output directory", e.Dir, holder, e.File)
	if e.Stale {
		msg += "; if that process is gone, remove the lock file"
	}
	return msg
}

// Lock is a held lock on a directory; Unlock releases it.
type Lock struct {
	dir, path string
	f         *os.File
	once      sync.Once
}

// held are the lock files this process holds, by absolute path: flock
// locks are per open file, so a second lock from this process would not
// conflict at the system level without it.
var held = struct {
	sync.Mutex
	paths map[string]bool
}{paths: map[string]bool{}}

// lockPath is dir's lock file.
func lockPath(dir string) string {
	p := beside(filepath.Clean(dir), ".sprout-lock")
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// LockDir takes the lock on dir (which need not exist; its parent is
// created) or returns a *LockError naming its holder.
func LockDir(dir string) (*Lock, error) {
	dir = filepath.Clean(dir)
	if err := checkName(dir); err != nil {
		return nil, err
	}
	path := lockPath(dir)
	held.Lock()
	defer held.Unlock()
	if held.paths[path] {
		return nil, &LockError{Dir: dir, PID: os.Getpid(), Host: hostname(), File: path}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("checkpoint: cannot create the parent of %s: %w", dir, err)
	}
	f, err := lockFile(path)
	if errors.Is(err, errLocked) {
		e := &LockError{Dir: dir, File: path, Stale: !systemLocks}
		e.PID, e.Host = readHolder(path)
		return nil, e
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: cannot write %s: locking it: %w", dir, err)
	}
	held.paths[path] = true
	return &Lock{dir: dir, path: path, f: f}, nil
}

// Unlock releases the lock and removes its file. It may be called more
// than once.
func (l *Lock) Unlock() {
	if l == nil {
		return
	}
	l.once.Do(func() {
		held.Lock()
		defer held.Unlock()
		unlockFile(l.f, l.path)
		delete(held.paths, l.path)
	})
}

// lockedHere reports whether this process holds dir's lock.
func lockedHere(dir string) bool {
	held.Lock()
	defer held.Unlock()
	return held.paths[lockPath(dir)]
}

var errLocked = errors.New("locked")

// holderLine is what a lock file holds: "pid host".
func holderLine() []byte { return []byte(fmt.Sprintf("%d %s\n", os.Getpid(), hostname())) }

// readHolder reads the pid and host from a lock file (0, "" if unreadable:
// the holder may not have written them yet).
func readHolder(path string) (int, string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, ""
	}
	pid, host, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	n, err := strconv.Atoi(pid)
	if err != nil {
		return 0, ""
	}
	return n, host
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "an unknown host"
	}
	return h
}

// lockToRead is LockDir for a directory that is read before it may be
// written (Resume): it creates nothing, and where dir cannot be locked (a
// missing or read-only parent, a name like ".") it returns no lock and no
// error, leaving the reading to report what is wrong; only another holder
// is an error.
func lockToRead(dir string) (*Lock, error) {
	dir = filepath.Clean(dir)
	if checkName(dir) != nil {
		return nil, nil
	}
	if st, err := os.Stat(filepath.Dir(dir)); err != nil || !st.IsDir() {
		return nil, nil
	}
	l, err := LockDir(dir)
	var le *LockError
	if err != nil && !errors.As(err, &le) {
		return nil, nil // resuming from a read-only place to another Out
	}
	return l, err
}
