package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRunPicksSourceFiles(t *testing.T) {
	root := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"<a>", "<b>", "<c>", "<d>"}
	write("a/a.go", "<a>")
	write("a/b.go", "<b>")
	write("c/c.go", "<c>")
	write("c/d/d.go", "<d>")
	write("a/a_test.go", "<test>")
	write("a/testdata/x.go", "<testdata>")
	write("a/notes.txt", "<txt>")
	write("big/big.go", strings.Repeat("x", 200_000))

	out := filepath.Join(t.TempDir(), "corpus.txt")
	if err := run(root, out, 1<<30, 1); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.SplitAfter(string(b), ">")
	got = got[:len(got)-1] // the empty tail after the last '>'
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	if !slices.Equal(sorted, want) {
		t.Fatalf("corpus has %q, want the four source files %q", got, want)
	}

	// The same seed gives the same order; the limit stops after the file that passes it.
	out2 := filepath.Join(t.TempDir(), "corpus.txt")
	if err := run(root, out2, 4, 1); err != nil {
		t.Fatal(err)
	}
	b2, _ := os.ReadFile(out2)
	if string(b2) != strings.Join(got[:2], "") {
		t.Errorf("limit 4: %q, want the first two files of %q", b2, got)
	}
}

func TestRunErrors(t *testing.T) {
	if err := run(t.TempDir(), filepath.Join(t.TempDir(), "c.txt"), 100, 1); err == nil || !strings.Contains(err.Error(), "no Go source") {
		t.Errorf("empty root: %v", err)
	}
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.go"), []byte("package a"), 0o644)
	dir := t.TempDir()
	if err := run(root, filepath.Join(dir, "missing", "c.txt"), 100, 1); err == nil {
		t.Error("an output in a missing directory: no error")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("a failed run left %v", ents)
	}
}
