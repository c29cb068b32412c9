package trainer

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sproutml/sprout/safetensors"
)

// testCheckpoint builds a small checkpoint whose values depend on step.
func testCheckpoint(step int64) *Checkpoint {
	sched, _ := NewSchedule(ScheduleWSD, 1000, 1e-3)
	s, _ := NewSampler(seqTokens(5000), 64, 9)
	for range step {
		s.Next()
	}
	st := s.State()
	v := float32(step)
	return &Checkpoint{
		Manifest: Manifest{
			Config:    json.RawMessage(`{"arch": "gpt2", "layers": 1, "dim": 64}`),
			Step:      step,
			Tokens:    step * 4 * 64,
			FLOPs:     1.5e12 * float64(step),
			Seed:      9,
			Sampler:   &st,
			RNG:       map[string]string{"init": EncodePCG(newPCG(1, 2))},
			Data:      &DataState{Source: "corpus", Tokens: 5000, Vocab: 256, ValFraction: 0.1, Digest: strings.Repeat("ab", 32)},
			Schedule:  &sched,
			Growth:    Growth{Plan: json.RawMessage(`{"from":1,"to":6,"at":0.8}`)},
			Optimizer: &OptimizerInfo{Name: "adamw", Hyper: json.RawMessage(`{"beta1":0.9,"beta2":0.95}`)},
		},
		Model: []safetensors.Tensor{
			{Name: "wte.weight", Shape: []int{4, 3}, Data: []float32{v, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
			{Name: "blocks.0.attn.qkv.weight", Shape: []int{3, 9}, Data: make([]float32, 27)},
		},
		ModelMeta: map[string]string{"sprout": "test"},
		Optim: []safetensors.Tensor{
			{Name: "wte.weight.m", Shape: []int{4, 3}, Data: make([]float32, 12)},
			{Name: "wte.weight.v", Shape: []int{4, 3}, Data: []float32{v, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
		},
		OptimMeta: map[string]string{"step": "7"},
	}
}

// stepOf loads dir and returns the step it holds, failing on any error.
func stepOf(t *testing.T, dir string) int64 {
	t.Helper()
	c, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if c.Model[1].Name != "wte.weight" || c.Model[1].Data[0] != float32(c.Manifest.Step) || c.Optim[1].Data[0] != float32(c.Manifest.Step) {
		t.Fatalf("checkpoint of step %d holds mismatched tensors", c.Manifest.Step)
	}
	return c.Manifest.Step
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run", "ckpt")
	in := testCheckpoint(12)
	if err := SaveCheckpoint(dir, in); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Manifest
	if m.Format != ManifestVersion || m.Step != 12 || m.Tokens != 12*256 || m.Sampler.Draws != 12 || m.Schedule.Steps != 1000 {
		t.Errorf("manifest = %+v", m)
	}
	got, _ := m.canonical()
	sent, _ := in.Manifest.canonical()
	if string(got) != string(sent) || m.Digest != in.Manifest.Digest {
		t.Errorf("manifest changed on the way:\n%s\n%s", got, sent)
	}
	if string(m.Config) != `{"arch":"gpt2","layers":1,"dim":64}` {
		t.Errorf("config = %s", m.Config)
	}
	if len(m.Files) != 2 || m.Files[ModelFile].Size == 0 || len(m.Files[OptimFile].SHA256) != 64 {
		t.Errorf("files = %+v", m.Files)
	}
	if c.ModelMeta["format"] != "pt" || c.ModelMeta["sprout"] != "test" || c.OptimMeta["step"] != "7" {
		t.Errorf("metadata: %v %v", c.ModelMeta, c.OptimMeta)
	}
	if stepOf(t, dir) != 12 {
		t.Error("wrong step")
	}
	// The sampler resumes from the manifest.
	s, err := RestoreSampler(seqTokens(5000), 64, *m.Sampler)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := NewSampler(seqTokens(5000), 64, 9)
	for range 12 {
		ref.Next()
	}
	if s.Next()[0] != ref.Next()[0] {
		t.Error("sampler from the checkpoint diverges")
	}
	// Saving again replaces it and leaves nothing else behind.
	if err := SaveCheckpoint(dir, testCheckpoint(13)); err != nil {
		t.Fatal(err)
	}
	if stepOf(t, dir) != 13 {
		t.Error("not replaced")
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("parent holds %v", entries)
	}
	// No optimizer state: no optim file.
	c2 := testCheckpoint(1)
	c2.Optim, c2.OptimMeta = nil, nil
	dir2 := filepath.Join(t.TempDir(), "c2")
	if err := SaveCheckpoint(dir2, c2); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir2, OptimFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("optim file written without optimizer state")
	}
	if c, err := LoadCheckpoint(dir2); err != nil || c.Optim != nil {
		t.Errorf("load without optim: %v", err)
	}
}

// TestCheckpointCorruption: every kind of damage to every file gives an
// error naming the problem, never a panic or wrong data.
func TestCheckpointCorruption(t *testing.T) {
	base := filepath.Join(t.TempDir(), "good")
	if err := SaveCheckpoint(base, testCheckpoint(5)); err != nil {
		t.Fatal(err)
	}
	copyDir := func() string {
		dst := filepath.Join(t.TempDir(), "ckpt")
		os.Mkdir(dst, 0o755)
		for _, f := range []string{ModelFile, OptimFile, ManifestFile} {
			b, _ := os.ReadFile(filepath.Join(base, f))
			os.WriteFile(filepath.Join(dst, f), b, 0o644)
		}
		return dst
	}
	for _, f := range []string{ModelFile, OptimFile, ManifestFile} {
		size := int(testFileSize(t, filepath.Join(base, f)))
		for _, at := range []int{0, 3, 8, 20, size / 2, size - 2} {
			dir := copyDir()
			p := filepath.Join(dir, f)
			b, _ := os.ReadFile(p)
			if b[at] == ' ' || b[at] == '\n' {
				continue // whitespace in the manifest carries no meaning
			}
			b[at] ^= 0x04
			os.WriteFile(p, b, 0o644)
			_, err := LoadCheckpoint(dir)
			if err == nil {
				t.Errorf("%s: flipped byte %d (%q) not detected", f, at, b[at])
			} else if !strings.Contains(err.Error(), f) || f != ManifestFile && !strings.Contains(err.Error(), f+" is corrupted: its SHA-256 is") {
				t.Errorf("%s byte %d: err = %v", f, at, err)
			}
		}
		dir := copyDir()
		p := filepath.Join(dir, f)
		os.Truncate(p, int64(size-5))
		_, err := LoadCheckpoint(dir)
		if err == nil || (f != ManifestFile && !strings.Contains(err.Error(), "bytes but the manifest records")) {
			t.Errorf("%s truncated: err = %v", f, err)
		}
		dir = copyDir()
		os.Remove(filepath.Join(dir, f))
		_, err = LoadCheckpoint(dir)
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("%s missing: err = %v", f, err)
		}
	}
	// A manifest whose digest was recomputed after an edit is accepted only
	// if its files still match: change the recorded model digest.
	c, _ := LoadCheckpoint(base)
	fd := c.Manifest.Files[ModelFile]
	fd.SHA256 = strings.Repeat("0", 64)
	c.Manifest.Files[ModelFile] = fd
	mb, _ := encodeManifest(&c.Manifest)
	dir := copyDir()
	os.WriteFile(filepath.Join(dir, ManifestFile), mb, 0o644)
	if _, err := LoadCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "manifest records 0000") {
		t.Errorf("wrong digest: err = %v", err)
	}
	if _, err := LoadCheckpoint(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing dir: err = %v", err)
	}
	if _, err := LoadCheckpoint(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a sprout checkpoint") {
		t.Errorf("empty dir: err = %v", err)
	}
}

func testFileSize(t *testing.T, p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func TestManifestErrors(t *testing.T) {
	good := testCheckpoint(3).Manifest
	good.Files = map[string]FileDigest{ModelFile: {Size: 10, SHA256: strings.Repeat("a", 64)}}
	enc := func(edit func(*Manifest)) []byte {
		m := good
		m.Files = map[string]FileDigest{ModelFile: good.Files[ModelFile]}
		m.Format = ManifestVersion
		edit(&m)
		b, err := encodeManifest(&m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, err := ParseManifest(enc(func(*Manifest) {})); err != nil {
		t.Fatalf("good manifest: %v", err)
	}
	cases := []struct {
		b    []byte
		want string
	}{
		{[]byte(`{"format": 2}`), "format 2 is not supported (this build reads format 1)"},
		{[]byte(`{"step": 2}`), "no format field"},
		{[]byte(`[1]`), "not valid JSON"},
		{[]byte(``), "not valid JSON"},
		{enc(func(m *Manifest) { m.Format = 7 }), "format 7 is not supported"},
		{enc(func(m *Manifest) { m.Step = -1 }), "negative step"},
		{enc(func(m *Manifest) { m.Config = nil }), "no model config"},
		{enc(func(m *Manifest) { m.Files = map[string]FileDigest{} }), "does not list model.safetensors"},
		{enc(func(m *Manifest) { m.Files["../etc/passwd"] = FileDigest{SHA256: strings.Repeat("a", 64)} }), "not a plain file name"},
		{enc(func(m *Manifest) { m.Files[ModelFile] = FileDigest{SHA256: "abc"} }), "not 64 lower-case hex"},
		{enc(func(m *Manifest) { m.Files[ModelFile] = FileDigest{SHA256: strings.Repeat("g", 64)} }), "not hex"},
		{enc(func(m *Manifest) { m.Schedule = &Schedule{Kind: "wsd"} }), "steps must be positive"},
		{enc(func(m *Manifest) { m.Sampler = &SamplerState{PCG: "00", Tokens: 1, Ctx: 1} }), "sampler"},
		{enc(func(m *Manifest) { m.RNG = map[string]string{"init": "xyz"} }), `rng "init"`},
		{enc(func(m *Manifest) { m.Growth.History = []GrowthRecord{{Step: 9, From: 1, To: 6}} }), "growth history entry 0"},
		{enc(func(m *Manifest) { m.Optimizer = &OptimizerInfo{} }), "optimizer has no name"},
		{enc(func(m *Manifest) { m.Optimizer = &OptimizerInfo{Name: "lion"} }), `optimizer "lion" is unknown`},
		{append(enc(func(*Manifest) {}), `{}`...), "not valid JSON"},
		{[]byte(strings.Replace(string(enc(func(*Manifest) {})), `"step": 3`, `"step": 4`, 1)), "do not match manifest_sha256"},
		{[]byte(strings.Replace(string(enc(func(*Manifest) {})), `"step": 3`, `"step": 3, "extra": 1`, 1)), `unknown field "extra"`},
	}
	for i, c := range cases {
		_, err := ParseManifest(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: err = %v, want %q", i, err, c.want)
		}
	}
}

func TestCheckTensors(t *testing.T) {
	got := testCheckpoint(1).Model
	want := map[string][]int{"wte.weight": {4, 3}, "blocks.0.attn.qkv.weight": {3, 9}}
	if err := CheckTensors("model", got, want); err != nil {
		t.Fatal(err)
	}
	want["wte.weight"] = []int{3, 4}
	if err := CheckTensors("model", got, want); err == nil || !strings.Contains(err.Error(), `model tensor "wte.weight" has shape [4 3] but [3 4] is expected`) {
		t.Errorf("err = %v", err)
	}
	want["wte.weight"] = []int{4, 3}
	want["head.weight"] = []int{3, 4}
	if err := CheckTensors("model", got, want); err == nil || !strings.Contains(err.Error(), `"head.weight" is missing`) {
		t.Errorf("err = %v", err)
	}
	delete(want, "head.weight")
	delete(want, "wte.weight")
	if err := CheckTensors("model", got, want); err == nil || !strings.Contains(err.Error(), `unexpected model tensor "wte.weight"`) {
		t.Errorf("err = %v", err)
	}
}

// crash is the panic value the hook uses to stop a save dead.
type crash struct{ stage string }

// saveWithHook runs SaveCheckpoint with a hook acting at stage: crashing
// (a panic, as a kill) or failing (an error). It reports whether the stage
// was reached.
func saveWithHook(t *testing.T, dir string, c *Checkpoint, stage string, kill bool) (reached bool, err error) {
	t.Helper()
	checkpointHook = func(s string) error {
		if s != stage {
			return nil
		}
		reached = true
		if strings.HasPrefix(s, "wrote ") {
			// Leave the file half written, as a kill mid-write would.
			p := filepath.Join(tempDirOf(t, dir), strings.TrimPrefix(s, "wrote "))
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()/2)
		}
		if kill {
			panic(crash{s})
		}
		return errors.New("injected failure at " + s)
	}
	defer func() {
		checkpointHook = nil
		if r := recover(); r != nil {
			if _, ok := r.(crash); !ok {
				panic(r)
			}
		}
	}()
	err = SaveCheckpoint(dir, c)
	return reached, err
}

func tempDirOf(t *testing.T, dir string) string {
	m, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), tempPrefix(dir)+"*"))
	if len(m) != 1 {
		t.Fatalf("temp dirs: %v", m)
	}
	return m[0]
}

// TestCheckpointAtomic interrupts a save at every stage, by a kill and by an
// error, and checks that the last good checkpoint (or, once the new one is
// in place, the new one) loads intact, and that the next save succeeds and
// cleans up.
func TestCheckpointAtomic(t *testing.T) {
	stages := []string{"wrote " + ModelFile, "wrote " + OptimFile, "wrote " + ManifestFile, "temp synced", "old moved aside", "new in place", "old renamed for deletion"}
	for _, kill := range []bool{true, false} {
		for i, stage := range stages {
			dir := filepath.Join(t.TempDir(), "ckpt")
			if err := SaveCheckpoint(dir, testCheckpoint(100)); err != nil {
				t.Fatal(err)
			}
			reached, err := saveWithHook(t, dir, testCheckpoint(200), stage, kill)
			if !reached {
				t.Fatalf("stage %q never reached", stage)
			}
			if !kill && err == nil {
				t.Errorf("%s: injected error not returned", stage)
			}
			want := int64(100)
			if i >= 5 { // from "new in place" on, the new checkpoint is current
				want = 200
			}
			if got := stepOf(t, dir); got != want {
				t.Errorf("kill=%v at %q: loaded step %d, want %d", kill, stage, got, want)
			}
			if err := SaveCheckpoint(dir, testCheckpoint(300)); err != nil {
				t.Fatalf("kill=%v at %q: next save: %v", kill, stage, err)
			}
			if got := stepOf(t, dir); got != 300 {
				t.Errorf("next save gave step %d", got)
			}
			entries, _ := os.ReadDir(filepath.Dir(dir))
			if len(entries) != 1 {
				names := []string{}
				for _, e := range entries {
					names = append(names, e.Name())
				}
				sort.Strings(names)
				t.Errorf("kill=%v at %q: left behind %v", kill, stage, names)
			}
		}
	}
	// A first save that dies leaves nothing loadable and nothing in the way.
	dir := filepath.Join(t.TempDir(), "fresh")
	saveWithHook(t, dir, testCheckpoint(1), "temp synced", true)
	if _, err := LoadCheckpoint(dir); err == nil {
		t.Error("loaded a checkpoint that was never completed")
	}
	if err := SaveCheckpoint(dir, testCheckpoint(2)); err != nil || stepOf(t, dir) != 2 {
		t.Errorf("save after a failed first save: %v", err)
	}
}

// TestCheckpointRecoveryRule: with the target missing and the backup
// present, Load uses the backup and the next save restores it first.
func TestCheckpointRecoveryRule(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := SaveCheckpoint(dir, testCheckpoint(100)); err != nil {
		t.Fatal(err)
	}
	saveWithHook(t, dir, testCheckpoint(200), "old moved aside", true)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the crash should have left the target missing")
	}
	if stepOf(t, dir) != 100 {
		t.Error("backup not loaded")
	}
	// A failing next save still leaves the backup's content in place.
	saveWithHook(t, dir, testCheckpoint(300), "wrote "+ModelFile, false)
	if stepOf(t, dir) != 100 {
		t.Error("lost the last good checkpoint")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Error("recovery did not put the backup back in place")
	}
}

// TestCheckpointUserOldDir: a user's own directory named like a backup
// ("X.old", here a run moved aside) is never deleted by saves to X, nor
// loaded in X's place; an interrupted swap beside it still recovers.
func TestCheckpointUserOldDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "run")
	if err := SaveCheckpoint(dir, testCheckpoint(1)); err != nil {
		t.Fatal(err)
	}
	mine := dir + ".old"
	if err := os.Rename(dir, mine); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(dir); err == nil {
		t.Error("loaded the user's run.old for a missing run")
	}
	for _, step := range []int64{2, 3} { // the second save swaps
		if err := SaveCheckpoint(dir, testCheckpoint(step)); err != nil {
			t.Fatal(err)
		}
	}
	saveWithHook(t, dir, testCheckpoint(4), "old moved aside", true)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the crash should have left the target missing")
	}
	if got := stepOf(t, dir); got != 3 {
		t.Errorf("interrupted swap: loaded step %d, want the backup's 3", got)
	}
	if err := SaveCheckpoint(dir, testCheckpoint(5)); err != nil || stepOf(t, dir) != 5 {
		t.Errorf("save after the interrupted swap: %v", err)
	}
	if got := stepOf(t, mine); got != 1 {
		t.Errorf("the user's run.old holds step %d, want 1", got)
	}
}

func TestCheckpointRefusesToClobber(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "mydir")
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte("precious"))
	if err := SaveCheckpoint(dir, testCheckpoint(1)); err == nil || !strings.Contains(err.Error(), "refusing to replace") {
		t.Errorf("err = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "precious" {
		t.Error("user file damaged")
	}
	file := filepath.Join(parent, "afile")
	writeFile(t, file, []byte("x"))
	if err := SaveCheckpoint(file, testCheckpoint(1)); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("err = %v", err)
	}
	ck := filepath.Join(parent, "ck")
	writeFile(t, filepath.Join(backupPath(ck), "notes.txt"), []byte("precious"))
	if err := SaveCheckpoint(ck, testCheckpoint(1)); err == nil || !strings.Contains(err.Error(), "is not a checkpoint") {
		t.Errorf("err = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(backupPath(ck), "notes.txt")); string(b) != "precious" {
		t.Error("user file at the backup path damaged")
	}
	for _, bad := range []string{".", "..", "/", "x/..", "../."} {
		if err := SaveCheckpoint(bad, testCheckpoint(1)); err == nil || !strings.Contains(err.Error(), "needs a directory of its own") {
			t.Errorf("SaveCheckpoint(%q): err = %v", bad, err)
		}
	}
	// An empty directory is fine to fill.
	empty := filepath.Join(parent, "empty")
	os.Mkdir(empty, 0o755)
	if err := SaveCheckpoint(empty, testCheckpoint(4)); err != nil || stepOf(t, empty) != 4 {
		t.Errorf("empty dir: %v", err)
	}
	// Bad tensors are refused before anything is touched.
	bad := testCheckpoint(5)
	bad.Model[0].Shape = []int{5, 5}
	if err := SaveCheckpoint(empty, bad); err == nil || !strings.Contains(err.Error(), "wte.weight") {
		t.Errorf("err = %v", err)
	}
	if stepOf(t, empty) != 4 {
		t.Error("failed save damaged the checkpoint")
	}
}

// FuzzManifest: the manifest reader never panics, and what it accepts
// re-encodes to a manifest it reads back equal.
func FuzzManifest(f *testing.F) {
	m := testCheckpoint(3).Manifest
	m.Files = map[string]FileDigest{ModelFile: {Size: 10, SHA256: strings.Repeat("a", 64)}}
	b, _ := encodeManifest(&m)
	f.Add(b)
	f.Add([]byte(`{"format":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Most mutations break the self-digest; re-stamp a loosely decoded
		// copy too, so that field validation sees arbitrary values.
		var loose Manifest
		if json.Unmarshal(b, &loose) == nil {
			if enc, err := encodeManifest(&loose); err == nil {
				ParseManifest(enc)
			}
		}
		m, err := ParseManifest(b)
		if err != nil {
			return
		}
		out, err := encodeManifest(m)
		if err != nil {
			t.Fatalf("cannot re-encode an accepted manifest: %v", err)
		}
		back, err := ParseManifest(out)
		if err != nil {
			t.Fatalf("cannot read a re-encoded manifest: %v", err)
		}
		c1, _ := m.canonical()
		c2, _ := back.canonical()
		if string(c1) != string(c2) {
			t.Fatal("re-encoding changed the manifest")
		}
	})
}
