package trainer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// manifestOf returns dir's manifest file, to tell whether it changed.
func manifestOf(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// manifestStep returns the step of the checkpoint in dir.
func manifestStep(t *testing.T, dir string) int64 {
	t.Helper()
	c, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c.Manifest.Step
}

// wantExists fails unless err is a *CheckpointExistsError for dir.
func wantExists(t *testing.T, what string, err error, dir string, step int64) {
	t.Helper()
	var exists *CheckpointExistsError
	if !errors.As(err, &exists) || exists.Dir != filepath.Clean(dir) || step >= 0 && exists.Step != step {
		t.Errorf("%s: err = %v, want a checkpoint of step %d at %s reported", what, err, step, dir)
	}
}

// TestRunKeepsAnotherRunsCheckpoint: a new run, or a run resumed into
// another directory, does not replace a checkpoint at Out or at a pre-grow
// directory of Out unless Config.Replace is set; it stops before training.
// A run resumed from Out replaces its own checkpoint.
func TestRunKeepsAnotherRunsCheckpoint(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	first := tinyConfig(t)
	first.Grow, first.Steps = nil, 2
	first.Out = filepath.Join(tmp, "run")
	mustRun(t, first, nil)
	before := manifestOf(t, first.Out)

	second := first
	second.Seed = 8
	rec := &recorder{}
	res, err := Run(ctx, second, rec)
	wantExists(t, "new run", err, first.Out, 2)
	if res != nil || len(rec.steps()) != 0 {
		t.Error("the refused run trained")
	}
	if manifestOf(t, first.Out) != before {
		t.Error("another run's checkpoint changed")
	}
	// An interrupted swap's backup is the checkpoint at Out.
	if err := os.Rename(first.Out, backupPath(first.Out)); err != nil {
		t.Fatal(err)
	}
	_, err = Run(ctx, second, nil)
	wantExists(t, "new run over an interrupted swap", err, first.Out, 2)

	// Resumed from Out itself, a run replaces its own checkpoint.
	if _, err := Resume(ctx, first.Out, nil, func(c *Config) error { c.Steps = 3; return nil }); err != nil {
		t.Fatalf("resume in place: %v", err)
	}
	other := filepath.Join(tmp, "other")
	copyDir(t, first.Out, other)
	into := func(replace bool) func(*Config) error {
		return func(c *Config) error { c.Out, c.Steps, c.Replace = other, 4, replace; return nil }
	}
	_, err = Resume(ctx, first.Out, nil, into(false))
	wantExists(t, "resume into another run's directory", err, other, 3)
	if _, err := Resume(ctx, first.Out, nil, into(true)); err != nil || manifestStep(t, other) != 4 {
		t.Errorf("resume into another directory with Replace: %v", err)
	}
	second.Replace = true
	if _, err := Run(ctx, second, nil); err != nil {
		t.Errorf("new run with Replace: %v", err)
	}

	// A pre-grow directory of Out counts too.
	grown := tinyConfig(t) // expands at step 10
	grown.Out = filepath.Join(tmp, "grown")
	copyDir(t, first.Out, PreGrowDir(grown.Out, 10))
	_, err = Run(ctx, grown, nil)
	wantExists(t, "pre-grow directory", err, PreGrowDir(grown.Out, 10), 2)
	grown.Replace = true
	if _, err := Run(ctx, grown, nil); err != nil {
		t.Errorf("pre-grow directory with Replace: %v", err)
	}
}

// TestResumeAfterCrashInExpansion: a run that died between an expansion's
// two checkpoints (the pre-grow one written, Out still before it) resumes
// from Out and writes its pre-grow checkpoint again: it is its own.
func TestResumeAfterCrashInExpansion(t *testing.T) {
	tmp := t.TempDir()
	cfg := tinyConfig(t) // expands at step 10
	cfg.Out, cfg.CheckpointEvery = filepath.Join(tmp, "full"), 5
	died := filepath.Join(tmp, "died")
	mustRun(t, cfg, &recorder{on: func(e Event) {
		if c, ok := e.(CheckpointEvent); ok && c.Step == 5 {
			copyDir(t, c.Path, died)
		}
	}})
	copyDir(t, PreGrowDir(cfg.Out, 10), PreGrowDir(died, 10))
	res, err := Resume(context.Background(), died, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Steps != 20 || manifestStep(t, PreGrowDir(died, 10)) != 10 {
		t.Errorf("resumed run: %+v", res.Summary)
	}
}

// TestRunChecksOutputFirst: every problem that would make a checkpoint fail
// is found before the first step, Replace or not, and leaves what is there
// untouched.
func TestRunChecksOutputFirst(t *testing.T) {
	tmp := t.TempDir()
	precious := func(path string) { writeFile(t, path, []byte("precious")) }
	notes := func(dir string) { precious(filepath.Join(dir, "notes.txt")) }
	preGrow := func(out string) string { return PreGrowDir(out, 10) }
	cases := []struct {
		name  string
		setup func(out string) // makes the problem at out (made unique per case)
		want  string
	}{
		{"parent is a file", func(out string) { precious(filepath.Dir(out)) }, "cannot create the parent"},
		{"out is a file", precious, "not a directory"},
		{"out not a checkpoint", notes, "refusing to replace"},
		{"backup not a checkpoint", func(out string) { notes(backupPath(out)) }, "is not a checkpoint"},
		{"pre-grow is a file", func(out string) { precious(preGrow(out)) }, "not a directory"},
		{"pre-grow not a checkpoint", func(out string) { notes(preGrow(out)) }, "refusing to replace"},
		{"pre-grow backup not a checkpoint", func(out string) { notes(backupPath(preGrow(out))) }, "is not a checkpoint"},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		cases = append(cases, struct {
			name  string
			setup func(out string)
			want  string
		}{"read-only parent", func(out string) { os.MkdirAll(filepath.Dir(out), 0o555) }, "cannot write"})
	}
	for i, c := range cases {
		out := filepath.Join(tmp, string(rune('a'+i)), "sub", "run")
		c.setup(out)
		checkRefused(t, c.name, out, c.want)
		filepath.Walk(filepath.Join(tmp, string(rune('a'+i))), func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Mode().IsRegular() {
				if b, _ := os.ReadFile(p); string(b) != "precious" {
					t.Errorf("%s: %s was changed", c.name, p)
				}
			}
			return nil
		})
	}
	for _, out := range []string{".", "..", "/", "sub/..", "../."} {
		checkRefused(t, out, out, "needs a directory of its own")
	}
}

// checkRefused runs a progressive tiny run with Replace to out and checks
// that it fails with want before any step.
func checkRefused(t *testing.T, name, out, want string) {
	t.Helper()
	cfg := tinyConfig(t)
	cfg.Out, cfg.Replace = out, true
	rec := &recorder{}
	res, err := Run(context.Background(), cfg, rec)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: err = %v, want it to mention %q", name, err, want)
	}
	if res != nil || len(rec.steps()) != 0 {
		t.Errorf("%s: the run trained before failing", name)
	}
}
