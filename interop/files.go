package interop

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// writeDir fills a fresh temporary directory beside dir with fill and renames
// it to dir. dir must not exist or be empty, or, with replace, hold the file
// marker (it is then swapped out and deleted once the new one is in place).
func writeDir(dir string, replace bool, marker string, fill func(tmp string) error) error {
	dir = filepath.Clean(dir)
	old := false
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return fmt.Errorf("interop: %s exists and is not a directory", dir)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("interop: %w", err)
		}
		if len(entries) > 0 {
			if _, err := os.Stat(filepath.Join(dir, marker)); err != nil || !replace {
				return fmt.Errorf("interop: %s exists and is not empty; remove it or choose another output", dir)
			}
			old = true
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("interop: %w", err)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("interop: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("interop: %w", err)
	}
	if err := fill(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("interop: %w", err)
	}
	aside := ""
	if old {
		aside = tmp + ".old"
		if err := os.Rename(dir, aside); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("interop: %w", err)
		}
	} else {
		os.Remove(dir) // an empty directory is replaced
	}
	if err := os.Rename(tmp, dir); err != nil {
		if aside != "" {
			os.Rename(aside, dir)
		}
		os.RemoveAll(tmp)
		return fmt.Errorf("interop: %w", err)
	}
	if aside != "" {
		os.RemoveAll(aside)
	}
	return nil
}

// writeFile creates path (which must not exist), writes it through a
// buffer with write, and syncs it.
func writeFile(path string, write func(f *os.File) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("interop: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("interop: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("interop: syncing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("interop: %w", err)
	}
	return nil
}

// writeFileAtomic writes path through a temporary file beside it that is
// renamed into place; an existing path is replaced only when replace is set.
func writeFileAtomic(path string, replace bool, write func(w *bufio.Writer) error) error {
	if _, err := os.Lstat(path); err == nil && !replace {
		return fmt.Errorf("interop: %s exists; remove it or choose another output", path)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("interop: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("interop: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return fail(fmt.Errorf("interop: writing %s: %w", path, err))
	}
	if err := bw.Flush(); err != nil {
		return fail(fmt.Errorf("interop: writing %s: %w", path, err))
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(fmt.Errorf("interop: %w", err))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("interop: syncing %s: %w", path, err))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("interop: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("interop: %w", err)
	}
	return nil
}
