package trainer

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/minio/sha256-simd"

	"github.com/sproutml/sprout/safetensors"
)

// The files of a checkpoint directory.
const (
	ModelFile    = "model.safetensors" // weights, F32, named as the model names them
	OptimFile    = "optim.safetensors" // optimizer state: "<param>.<key>" tensors, scalars in metadata
	ManifestFile = "manifest.json"
)

// Checkpoint is everything a checkpoint directory holds.
type Checkpoint struct {
	Manifest  Manifest
	Model     []safetensors.Tensor
	ModelMeta map[string]string
	// Optim holds the optimizer's per-parameter state, named
	// "<parameter name>.<state key>" (for example "blocks.0.mlp.fc.weight.m").
	// OptimMeta holds its scalar state (for example "step"). OptimFile is
	// written when either is non-nil.
	Optim     []safetensors.Tensor
	OptimMeta map[string]string
	// Tokenizer is the tokenizer.json of Manifest.Tokenizer (TokenizerFile),
	// nil for byte-level checkpoints.
	Tokenizer []byte
}

// checkpointHook, when set by tests, is called at each stage of a save; an
// error aborts the save as a failure would, and a panic stops it dead, as a
// kill would (no clean-up runs: clean-up is never deferred).
var checkpointHook func(stage string) error

func hook(stage string) error {
	if checkpointHook != nil {
		return checkpointHook(stage)
	}
	return nil
}

// backupPath is where the previous checkpoint waits during a swap. The
// name is hidden and sprout's own, so that it never meets a directory of the
// user's (a user's "dir.old" is theirs, never deleted or loaded).
func backupPath(dir string) string { return beside(dir, ".sprout-old") }

// trashPath is where a backup is renamed to be deleted.
func trashPath(dir string) string { return beside(dir, ".sprout-trash") }

// tempPrefix names the scratch directories of saves to dir; os.MkdirTemp
// appends digits.
func tempPrefix(dir string) string { return "." + filepath.Base(dir) + ".sprout-tmp-" }

// beside is the hidden name "."+base(dir)+suffix in dir's parent.
func beside(dir, suffix string) string {
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+suffix)
}

// SaveCheckpoint writes c to the directory dir atomically: a kill or power
// loss at any moment leaves either the previous checkpoint or the new one
// loadable by LoadCheckpoint, never a mixture.
//
// The protocol: finish or undo any interrupted earlier swap (see
// LoadCheckpoint); write every file into a fresh temporary directory beside
// dir, fsync each file and then the directory; move the old dir aside to
// the backup ".NAME.sprout-old" beside it; rename the temporary directory to
// dir; fsync the parent after each rename; finally move the backup out of
// the way and delete it. So dir, when it exists, is always complete; when
// it does not, the backup is.
//
// It fills in c.Manifest's Format, Files and Digest. An existing dir that
// is neither empty nor a checkpoint is left alone and reported as an error;
// an existing checkpoint is replaced (callers that must not replace one
// check first). The save holds dir's lock (see LockDir), taking it for its
// duration unless this process holds it already, so a save never meets
// another process's save to the same dir.
func SaveCheckpoint(dir string, c *Checkpoint) error {
	dir = filepath.Clean(dir)
	if err := checkName(dir); err != nil {
		return err
	}
	if !lockedHere(dir) {
		l, err := LockDir(dir)
		if err != nil {
			return err
		}
		defer l.Unlock()
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := recoverSwap(dir); err != nil {
		return err
	}
	if err := replaceable(dir); err != nil {
		return err
	}
	removeTemps(dir)
	tmp, err := os.MkdirTemp(parent, tempPrefix(dir))
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := writeCheckpointFiles(tmp, c); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := swapIn(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return nil
}

// writeCheckpointFiles writes and fsyncs the files of c into tmp.
func writeCheckpointFiles(tmp string, c *Checkpoint) error {
	m := &c.Manifest
	m.Format = ManifestVersion
	m.Files = map[string]FileDigest{}
	meta := map[string]string{"format": "pt"} // what Hugging Face loaders expect
	for k, v := range c.ModelMeta {
		meta[k] = v
	}
	d, err := writeSynced(tmp, ModelFile, func(w io.Writer) error {
		return safetensors.Write(w, c.Model, meta)
	})
	if err != nil {
		return err
	}
	m.Files[ModelFile] = d
	if c.Optim != nil || c.OptimMeta != nil {
		d, err := writeSynced(tmp, OptimFile, func(w io.Writer) error {
			return safetensors.Write(w, c.Optim, c.OptimMeta)
		})
		if err != nil {
			return err
		}
		m.Files[OptimFile] = d
	}
	if c.Tokenizer != nil {
		d, err := writeSynced(tmp, TokenizerFile, func(w io.Writer) error {
			_, err := w.Write(c.Tokenizer)
			return err
		})
		if err != nil {
			return err
		}
		m.Files[TokenizerFile] = d
	}
	mb, err := encodeManifest(m)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if _, err := writeSynced(tmp, ManifestFile, func(w io.Writer) error {
		_, err := w.Write(mb)
		return err
	}); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp made it private
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	return hook("temp synced")
}

// writeSynced creates dir/name with write's output, fsyncs it, and returns
// its size and digest.
func writeSynced(dir, name string, write func(io.Writer) error) (FileDigest, error) {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return FileDigest{}, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close() // closing is all a kill would do too
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(f, h)}
	if err := write(cw); err != nil {
		return FileDigest{}, fmt.Errorf("checkpoint: writing %s: %w", name, err)
	}
	if err := hook("wrote " + name); err != nil {
		return FileDigest{}, err
	}
	if err := f.Sync(); err != nil {
		return FileDigest{}, fmt.Errorf("checkpoint: syncing %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return FileDigest{}, fmt.Errorf("checkpoint: closing %s: %w", name, err)
	}
	return FileDigest{Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// swapIn moves the complete directory tmp to dir, keeping the old dir as a
// backup until the new one is in place.
func swapIn(tmp, dir string) error {
	parent, old := filepath.Dir(dir), backupPath(dir)
	hadOld := false
	if _, err := os.Lstat(dir); err == nil {
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("checkpoint: moving the previous checkpoint aside: %w", err)
		}
		hadOld = true
		if err := syncDir(parent); err != nil {
			return err
		}
		if err := hook("old moved aside"); err != nil {
			os.Rename(old, dir) // undo: the old checkpoint stays current
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if hadOld {
			os.Rename(old, dir)
		}
		return fmt.Errorf("checkpoint: moving the new checkpoint into place: %w", err)
	}
	if err := syncDir(parent); err != nil {
		return err
	}
	if err := hook("new in place"); err != nil {
		return err
	}
	if hadOld {
		return discard(dir)
	}
	return nil
}

// discard deletes dir's backup, which the protocol no longer needs, by first
// renaming it to a scratch name, so that an interrupted delete never leaves a
// half-deleted directory under a name that means something.
func discard(dir string) error {
	path, trash := backupPath(dir), trashPath(dir)
	os.RemoveAll(trash)
	if err := os.Rename(path, trash); err != nil {
		return fmt.Errorf("checkpoint: removing %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return err
	}
	if err := hook("old renamed for deletion"); err != nil {
		return err
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// recoverSwap finishes a swap that a crash interrupted: with dir missing,
// the backup is the last good checkpoint and goes back in place; with both
// present, the backup is stale. Only a checkpoint is ever restored or
// deleted.
func recoverSwap(dir string) error {
	old := backupPath(dir)
	if _, err := os.Lstat(old); err != nil {
		return nil
	}
	if err := checkBackup(dir); err != nil {
		return err
	}
	if _, err := os.Lstat(dir); err == nil {
		return discard(dir)
	}
	if err := os.Rename(old, dir); err != nil {
		return fmt.Errorf("checkpoint: restoring %s from %s: %w", dir, old, err)
	}
	return syncDir(filepath.Dir(dir))
}

// replaceable reports an error unless dir is absent, an empty directory or a
// checkpoint.
func replaceable(dir string) error {
	st, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("checkpoint: %w", err)
	case !st.IsDir():
		return fmt.Errorf("checkpoint: %s exists and is not a directory", dir)
	case isCheckpointDir(dir):
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("checkpoint: refusing to replace %s: it is not empty and holds no %s", dir, ManifestFile)
	}
	return nil
}

// CheckpointExistsError reports a checkpoint found where a new run (or
// GrowCheckpoint) would write, which it may not replace unless asked to
// (Config.Replace).
type CheckpointExistsError struct {
	Dir  string // the directory the caller would write
	Step int64  // the step of the checkpoint there; -1 when unreadable
}

func (e *CheckpointExistsError) Error() string {
	return fmt.Sprintf("trainer: %s already holds a checkpoint (%s): resume it, set Replace to replace it, or choose another output directory", e.Dir, e.Detail())
}

// Detail describes the checkpoint found, e.g. "step 20 of another run".
func (e *CheckpointExistsError) Detail() string {
	if e.Step < 0 {
		return "of another run"
	}
	return fmt.Sprintf("step %d of another run", e.Step)
}

// checkTarget reports, before any work is done, what would make a later
// SaveCheckpoint(dir) fail or replace what it must not: a name that cannot
// be renamed, a parent that cannot be created or written, a non-checkpoint
// at dir or at its backup path, and a checkpoint there (unless replace). A
// checkpoint at the backup path with dir missing (an interrupted swap)
// counts as a checkpoint at dir.
func checkTarget(dir string, replace bool) error {
	dir = filepath.Clean(dir)
	if err := checkName(dir); err != nil {
		return err
	}
	if err := probeParent(dir); err != nil {
		return err
	}
	if err := replaceable(dir); err != nil {
		return err
	}
	if err := checkBackup(dir); err != nil {
		return err
	}
	if held := heldCheckpoint(dir); held != "" && !replace {
		return &CheckpointExistsError{Dir: dir, Step: checkpointStep(held)}
	}
	return nil
}

// heldCheckpoint returns the directory holding dir's current checkpoint:
// dir, its backup when an interrupted swap left dir missing, or "" for none.
func heldCheckpoint(dir string) string {
	if isCheckpointDir(dir) {
		return dir
	}
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) && isCheckpointDir(backupPath(dir)) {
		return backupPath(dir)
	}
	return ""
}

// checkpointStep reads the step from dir's manifest, or -1.
func checkpointStep(dir string) int64 {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return -1
	}
	m, err := ParseManifest(b)
	if err != nil {
		return -1
	}
	return m.Step
}

// probeParent creates dir's parent and a scratch directory in it, where a
// save will create its own, and removes the scratch again.
func probeParent(dir string) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("checkpoint: cannot create the parent of %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, tempPrefix(dir))
	if err != nil {
		return fmt.Errorf("checkpoint: cannot write %s: %w", dir, err)
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// checkBackup reports an error when something other than a checkpoint sits
// at dir's backup path: it is nobody's backup, so it is neither deleted nor
// loaded.
func checkBackup(dir string) error {
	old := backupPath(dir)
	if _, err := os.Lstat(old); err != nil || isCheckpointDir(old) {
		return nil
	}
	return fmt.Errorf("checkpoint: %s exists but is not a checkpoint; move it away to save to %s", old, dir)
}

// isCheckpointDir reports whether dir is a directory (not a link to one)
// holding a manifest.
func isCheckpointDir(dir string) bool {
	if st, err := os.Lstat(dir); err != nil || !st.IsDir() {
		return false
	}
	st, err := os.Lstat(filepath.Join(dir, ManifestFile))
	return err == nil && st.Mode().IsRegular()
}

// checkName rejects a dir (cleaned) that a swap cannot rename: ".", ".."
// and the root.
func checkName(dir string) error {
	switch filepath.Base(dir) {
	case ".", "..", string(filepath.Separator):
		return fmt.Errorf("checkpoint: cannot write a checkpoint to %q: a checkpoint is swapped in by renaming, so it needs a directory of its own (for example %s)",
			dir, filepath.Join(dir, "run"))
	}
	return nil
}

// removeTemps deletes scratch directories that killed saves to dir left,
// and a backup whose deletion was interrupted. It runs under dir's lock, so
// no live save of another process owns one of them. A temporary directory's name
// is the prefix and MkdirTemp's digits, nothing else, so that the scratch of
// a directory named like "NAME.sprout-tmp-x" is not mistaken for NAME's.
func removeTemps(dir string) {
	parent, prefix := filepath.Dir(dir), tempPrefix(dir)
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		digits, ok := strings.CutPrefix(e.Name(), prefix)
		if ok && e.IsDir() && allDigits(digits) {
			os.RemoveAll(filepath.Join(parent, e.Name()))
		}
	}
	os.RemoveAll(trashPath(dir))
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// syncDir fsyncs a directory so that renames and creations in it are
// durable.
func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) { // some file systems cannot sync directories
		return fmt.Errorf("checkpoint: syncing %s: %w", path, err)
	}
	return nil
}

// LoadCheckpoint reads the checkpoint in dir, verifying the manifest, the
// size and SHA-256 of every file it lists, and the safetensors files.
//
// Recovery rule: if dir does not exist but its backup ".NAME.sprout-old"
// beside it is a checkpoint, a save was interrupted after moving the
// previous checkpoint aside, and the backup is loaded instead (the next
// SaveCheckpoint puts it back). Any other problem is an error naming the
// file.
func LoadCheckpoint(dir string) (*Checkpoint, error) {
	dir = filepath.Clean(dir)
	path := dir
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) && isCheckpointDir(backupPath(dir)) {
		path = backupPath(dir)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("checkpoint: %s is not a directory", path)
	}
	mb, err := os.ReadFile(filepath.Join(path, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("checkpoint: %s has no %s; it is not a sprout checkpoint", path, ManifestFile)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	m, err := ParseManifest(mb)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %s: %w", path, ManifestFile, err)
	}
	files := map[string][]byte{}
	names := make([]string, 0, len(m.Files))
	for n := range m.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := readVerified(path, n, m.Files[n])
		if err != nil {
			return nil, err
		}
		files[n] = b
	}
	c := &Checkpoint{Manifest: *m}
	c.Model, c.ModelMeta, err = safetensors.Read(bytes.NewReader(files[ModelFile]))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %s: %w", path, ModelFile, err)
	}
	if b, ok := files[OptimFile]; ok {
		c.Optim, c.OptimMeta, err = safetensors.Read(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %s: %w", path, OptimFile, err)
		}
	}
	// Digests prove the files are what was written, not that it was sane:
	// a NaN written by a diverged run or a tool would otherwise flow into
	// evaluations, exports and resumed runs.
	c.Tokenizer = files[TokenizerFile]
	if err := checkFinite(ModelFile, c.Model); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := checkFinite(OptimFile, c.Optim); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return c, nil
}

// checkFinite reports the first tensor of file holding NaN or an infinity.
func checkFinite(file string, ts []safetensors.Tensor) error {
	for _, t := range ts {
		for i, v := range t.Data {
			if v-v != 0 { // NaN or ±Inf
				return fmt.Errorf("%s: tensor %q holds %v at index %d of %d: the checkpoint is not finite (written by a run that diverged, or altered), so it cannot be used", file, t.Name, v, i, len(t.Data))
			}
		}
	}
	return nil
}

// readVerified reads dir/name and checks it against its manifest entry.
func readVerified(dir, name string, want FileDigest) ([]byte, error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if int64(len(b)) != want.Size {
		return nil, fmt.Errorf("checkpoint: %s is %d bytes but the manifest records %d (truncated or replaced)", path, len(b), want.Size)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != want.SHA256 {
		return nil, fmt.Errorf("checkpoint: %s is corrupted: its SHA-256 is %s but the manifest records %s", path, got, want.SHA256)
	}
	return b, nil
}

// CheckTensors compares tensors read from a checkpoint with the shapes the
// caller's model expects, by name; what names the set in messages (e.g.
// "model"). It reports the first missing, unexpected or mis-shaped tensor in
// name order.
func CheckTensors(what string, got []safetensors.Tensor, want map[string][]int) error {
	have := make(map[string][]int, len(got))
	for _, t := range got {
		have[t.Name] = t.Shape
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s, ok := have[n]
		if !ok {
			return fmt.Errorf("checkpoint: %s tensor %q is missing", what, n)
		}
		if !slices.Equal(s, want[n]) {
			return fmt.Errorf("checkpoint: %s tensor %q has shape %v but %v is expected", what, n, s, want[n])
		}
	}
	extra := []string{}
	for n := range have {
		if _, ok := want[n]; !ok {
			extra = append(extra, n)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("checkpoint: unexpected %s tensor %q (%d in all that the model does not have)", what, extra[0], len(extra))
	}
	return nil
}
