package main

import (
	"bufio"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	out := flag.String("o", "", "output file (required)")
	limit := flag.Int64("bytes", 40_000_000, "stop after the file that passes this many bytes")
	seed := flag.Uint64("seed", 1, "shuffle seed")
	flag.Parse()
	if *out == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: gocorpus -o FILE [-bytes N] [-seed S]")
		os.Exit(2)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gocorpus: go env GOROOT:", err)
		os.Exit(1)
	}
	src := filepath.Join(strings.TrimSpace(string(goroot)), "src")
	if err := run(src, *out, *limit, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gocorpus:", err)
		os.Exit(1)
	}
}

// run writes the corpus of the Go files under root to out.
func run(root, out string, limit int64, seed uint64) error {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() < 200_000 {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no Go source under %s", root)
	}
	slices.Sort(files)
	rand.New(rand.NewPCG(seed, 0)).Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })

	// Write to a temporary file and rename, so a failure leaves no half corpus.
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	var n int64
	used := 0
	for _, f := range files {
		if n >= limit {
			break
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		n += int64(len(b))
		used++
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gocorpus: %d of %d files, %d bytes -> %s\n", used, len(files), n, out)
	return nil
}
