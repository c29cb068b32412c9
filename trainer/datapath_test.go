package trainer

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// savedData returns the data path the checkpoint in dir records.
func savedData(t *testing.T, dir string) string {
	t.Helper()
	c, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	var cfg Config
	if err := json.Unmarshal(c.Manifest.Run, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.Data
}

// A run trained on a relative data path records it absolute, and resumes
// from another working directory.
func TestRelativeDataPath(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "d.txt")
	if err := os.WriteFile(data, GenerateCorpus(5, 40000), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	cfg := tinyConfig(t)
	cfg.Data, cfg.Out, cfg.Steps, cfg.Grow = "d.txt", "run", 4, nil
	mustRun(t, cfg, nil)
	ckpt := filepath.Join(dir, "run")
	if got := savedData(t, ckpt); got != data {
		t.Errorf("the checkpoint records data %q, want %q", got, data)
	}
	if c, _ := LoadCheckpoint(ckpt); c.Manifest.Data.Source != data {
		t.Errorf("the manifest's data source is %q, want %q", c.Manifest.Data.Source, data)
	}

	t.Chdir(t.TempDir())
	res, err := Resume(context.Background(), ckpt, nil, func(c *Config) error { c.Steps = 6; return nil })
	if err != nil {
		t.Fatalf("resuming from another directory: %v", err)
	}
	if res.Summary.Steps != 6 {
		t.Errorf("resumed to step %d, want 6", res.Summary.Steps)
	}
}

// A checkpoint that recorded a relative data path (before paths were made
// absolute) resumes from the directory its run started in, and records the
// absolute path from then on.
func TestRelativeDataPathOldCheckpoint(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "d.txt")
	if err := os.WriteFile(data, GenerateCorpus(5, 40000), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig(t)
	cfg.Data, cfg.Out, cfg.Steps, cfg.Grow = data, filepath.Join(dir, "run"), 4, nil
	mustRun(t, cfg, nil)
	c, err := LoadCheckpoint(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	var run Config
	json.Unmarshal(c.Manifest.Run, &run)
	run.Data = "d.txt"
	c.Manifest.Run, _ = json.Marshal(run)
	old := filepath.Join(dir, "old")
	if err := SaveCheckpoint(old, c); err != nil {
		t.Fatal(err)
	}

	t.Chdir(dir)
	if _, err := Resume(context.Background(), old, nil, func(c *Config) error { c.Steps = 5; return nil }); err != nil {
		t.Fatalf("resuming an old checkpoint from its directory: %v", err)
	}
	if got := savedData(t, old); got != data {
		t.Errorf("the resumed checkpoint records data %q, want %q", got, data)
	}
}
