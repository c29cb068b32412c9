package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/sproutml/sprout/tokenizer"
	"github.com/sproutml/sprout/trainer"
)

// benchTokenizeResult is one `sprout bench tokenize` measurement.
type benchTokenizeResult struct {
	Tokenizer string  `json:"tokenizer"`
	Source    string  `json:"source"`
	Bytes     int     `json:"bytes"`
	Tokens    int     `json:"tokens"`
	Cores     int     `json:"cores"`
	OneCoreMB float64 `json:"one_core_mb_s"` // best of the runs, one goroutine
	AllCoreMB float64 `json:"all_cores_mb_s"`
	Speedup   float64 `json:"speedup"` // all cores over one
}

func runBenchTokenize(args []string, stdout io.Writer) error {
	fs := newFlagSet("bench tokenize", "bench tokenize [flags]", stdout)
	tok := fs.String("tokenizer", "gpt2", "tokenizer: gpt2, or a directory or tokenizer.json")
	data := fs.String("data", "", "text to encode (default: up to --mb of Go source from GOROOT, else the embedded corpus)")
	mb := fs.Float64("mb", 3, "MB of Go source to take when --data is not given")
	runs := fs.Int("runs", 3, "timed runs of each; the best counts")
	jsonOut := fs.Bool("json", false, "print the result as one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *runs < 1 || *mb <= 0 {
		return usagef("bench tokenize: --runs and --mb must be positive")
	}
	t, err := tokenizer.Load(*tok)
	if err != nil {
		return err
	}
	text, src, err := benchText(*data, int(*mb*1e6))
	if err != nil {
		return err
	}
	r := benchTokenizeResult{Tokenizer: t.Name(), Source: src, Bytes: len(text), Cores: runtime.GOMAXPROCS(0)}
	best := func(f func() int) float64 {
		b := 0.0
		for range *runs {
			start := time.Now()
			r.Tokens = f()
			b = max(b, float64(len(text))/1e6/time.Since(start).Seconds())
		}
		return b
	}
	f1 := func() int { return len(t.Encode(nil, text)) }
	fN := func() int { return len(tokenizer.EncodeParallel(t, text, 0, false)) }
	f1() // warm up: build GPT-2's tables, fault in the text
	r.OneCoreMB = best(f1)
	r.AllCoreMB = best(fN)
	r.Speedup = r.AllCoreMB / r.OneCoreMB
	if *jsonOut {
		return json.NewEncoder(stdout).Encode(r)
	}
	fmt.Fprintf(stdout, "%s on %s: %.2f MB, %d tokens (%.2f bytes/token)\n", r.Tokenizer, r.Source, float64(r.Bytes)/1e6, r.Tokens, float64(r.Bytes)/float64(max(r.Tokens, 1)))
	fmt.Fprintf(stdout, "  1 core:   %7.2f MB/s\n  %d cores: %7.2f MB/s (%.2fx)\n", r.OneCoreMB, r.Cores, r.AllCoreMB, r.Speedup)
	return nil
}

// benchText reads path, or takes n bytes of Go source from GOROOT in path
// order, or the embedded corpus when there is no GOROOT.
func benchText(path string, n int) ([]byte, string, error) {
	if path != "" {
		files, _, err := textFiles(path)
		if err != nil {
			return nil, "", fmt.Errorf("bench tokenize: %v", err)
		}
		r := &multiReader{files: files}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, "", fmt.Errorf("bench tokenize: %v", err)
		}
		if len(b) == 0 {
			return nil, "", fmt.Errorf("bench tokenize: %s is empty", path)
		}
		return b, path, nil
	}
	var paths []string
	root := filepath.Join(runtime.GOROOT(), "src")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".go" {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	var b []byte
	for _, p := range paths {
		if len(b) >= n {
			break
		}
		if data, err := os.ReadFile(p); err == nil {
			b = append(b, data...)
		}
	}
	if len(b) > 0 {
		return b, fmt.Sprintf("Go source (%s)", root), nil
	}
	return trainer.DefaultCorpus(), "the embedded corpus", nil
}
