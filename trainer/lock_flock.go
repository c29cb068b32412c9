//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package trainer

import (
	"errors"
	"os"
	"syscall"
)

// systemLocks: the kernel releases a flock when its holder dies.
const systemLocks = true

// lockFile opens path and takes an exclusive flock on it without waiting.
func lockFile(path string) (*os.File, error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case errors.Is(err, syscall.EWOULDBLOCK):
			f.Close()
			return nil, errLocked
		case errors.Is(err, syscall.ENOLCK), errors.Is(err, syscall.EOPNOTSUPP):
			// A file system without locks: run unlocked, as before.
		case err != nil:
			f.Close()
			return nil, err
		}
		// The previous holder removes the file before releasing it: a lock
		// taken on a file no longer at path protects nothing, so try again.
		st, err1 := f.Stat()
		cur, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(st, cur) {
			f.Truncate(0)
			f.WriteAt(holderLine(), 0)
			return f, nil
		}
		f.Close()
	}
}

// unlockFile removes path while still holding its lock (see lockFile), then
// releases it.
func unlockFile(f *os.File, path string) {
	os.Remove(path)
	f.Close()
}
