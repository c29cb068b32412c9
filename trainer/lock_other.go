//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package trainer

import (
	"errors"
	"io/fs"
	"os"
)

// systemLocks: without flock the lock is the file's existence, which
// outlives a holder that dies; the error says to remove it.
const systemLocks = false

// lockFile creates path exclusively, recording the holder in it.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, errLocked
	}
	if err != nil {
		return nil, err
	}
	f.Write(holderLine())
	return f, nil
}

func unlockFile(f *os.File, path string) {
	f.Close()
	os.Remove(path)
}
