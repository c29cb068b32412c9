package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/sproutml/sprout/shard"
	"github.com/sproutml/sprout/tokenizer"
)

func init() {
	commands["tokenize"] = command{"turn text into a token shard (.bin) with a tokenizer (gpt2, a trained one)", runTokenize}
	commands["tokenizer"] = command{"train a byte-level BPE vocabulary (tokenizer train)", runTokenizer}
}

// textFiles lists the regular files a --data path stands for, in the order
// training reads them: the file, or every file below the directory in
// lexical path order (symbolic links not followed).
func textFiles(path string) ([]string, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if !st.IsDir() {
		return []string{path}, st.Size(), nil
	}
	var files []string
	var total int64
	err = filepath.WalkDir(path, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			info, err := e.Info()
			if err != nil {
				return err
			}
			files = append(files, p)
			total += info.Size()
		}
		return nil
	})
	return files, total, err
}

// multiReader reads files one after another, opening each when needed.
type multiReader struct {
	files []string
	cur   *os.File
}

func (m *multiReader) Read(p []byte) (int, error) {
	for {
		if m.cur == nil {
			if len(m.files) == 0 {
				return 0, io.EOF
			}
			f, err := os.Open(m.files[0])
			if err != nil {
				return 0, err
			}
			m.cur, m.files = f, m.files[1:]
		}
		n, err := m.cur.Read(p)
		if err == io.EOF {
			m.cur.Close()
			m.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (m *multiReader) Close() error {
	if m.cur != nil {
		return m.cur.Close()
	}
	return nil
}

// progress prints a line on stderr at most once a second, overwriting
// itself on a terminal-like stream.
type progress struct {
	w    io.Writer
	last time.Time
}

func (p *progress) print(force bool, format string, args ...any) {
	if !force && time.Since(p.last) < time.Second {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, format+"\n", args...)
}

func runTokenize(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tokenize", "tokenize --tokenizer DIR|gpt2 --data PATH --out FILE.bin [flags]", stdout)
	tok := fs.String("tokenizer", "gpt2", "tokenizer: gpt2, bytes, a directory with tokenizer.json (or vocab.json and merges.txt), or a tokenizer.json")
	data := fs.String("data", "", "text: a file, or a directory whose files are read in path order")
	out := fs.String("out", "", "token shard to write (llm.c layout: uint16 while the vocabulary fits, uint32 beyond)")
	special := fs.Bool("special", false, "encode special tokens' texts (<|endoftext|>) as their ids; by default they are plain text")
	workers := fs.Int("workers", 0, "encoding goroutines (0: one per core)")
	block := fs.Int("block-mb", 16, "text read and encoded at a time, in MB")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *data == "":
		return usagef("tokenize: --data is required")
	case *out == "":
		return usagef("tokenize: --out is required")
	case *workers < 0:
		return usagef("tokenize: --workers must be >= 0, got %d", *workers)
	case *block <= 0:
		return usagef("tokenize: --block-mb must be positive, got %d", *block)
	}
	t, err := tokenizer.Load(*tok)
	if err != nil {
		return err
	}
	files, total, err := textFiles(*data)
	if err != nil {
		return fmt.Errorf("tokenize: %v", err)
	}
	if total == 0 {
		return fmt.Errorf("tokenize: %s is empty", *data)
	}
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("tokenize: %v", err)
	}
	defer f.Close()
	digest := tokenizer.Digest(t)
	w, err := shard.NewWriter(f, shard.Header{Width: shard.WidthFor(t.VocabSize()), Name: t.Name(), Digest: digest})
	if err != nil {
		return err
	}
	r := &multiReader{files: files}
	defer r.Close()
	nw := *workers
	if nw == 0 {
		nw = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	pr := progress{w: stderr}
	buf := make([]byte, 0, *block<<20)
	var done int64
	for eof := false; !eof; {
		// Fill the block, encode up to the last safe cut, keep the rest.
		for len(buf) < cap(buf) {
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				eof = true
				break
			}
			if err != nil {
				return fmt.Errorf("tokenize: %v", err)
			}
		}
		k := len(buf)
		if !eof {
			k = tokenizer.LastCut(buf)
		}
		ids := tokenizer.EncodeParallel(t, buf[:k], nw, *special)
		if err := w.Write(ids); err != nil {
			return fmt.Errorf("tokenize: %s: %v", *out, err)
		}
		done += int64(k)
		rest := copy(buf, buf[k:])
		buf = buf[:rest]
		if !eof && rest == cap(buf) {
			buf = append(buf, 0)[:rest] // a block with no cut: grow it
		}
		s := time.Since(start).Seconds()
		pr.print(eof, "tokenize: %.1f/%.1f MB, %d tokens, %.1f MB/s", float64(done)/1e6, float64(total)/1e6, w.Tokens(), float64(done)/1e6/s)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("tokenize: %s: %v", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tokenize: %s: %v", *out, err)
	}
	s := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "wrote %s: %d tokens (uint%d) from %d bytes, %.2f bytes/token, tokenizer %s %s, %.1f MB/s on %d workers\n",
		*out, w.Tokens(), 8*shard.WidthFor(t.VocabSize()), done, float64(done)/float64(max(w.Tokens(), 1)), t.Name(), digest, float64(done)/1e6/s, nw)
	return nil
}

func runTokenizer(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprintln(stdout, "Usage: sprout tokenizer train --data PATH --vocab N --out DIR [flags]")
			return flag.ErrHelp
		}
		return usagef("tokenizer: want a sub-command: train (see 'sprout tokenizer train -h')")
	}
	if args[0] != "train" {
		return usagef("tokenizer: unknown sub-command %q (want train)", args[0])
	}
	fs := newFlagSet("tokenizer train", "tokenizer train --data PATH --vocab N --out DIR [flags]", stdout)
	data := fs.String("data", "", "text: a file, or a directory whose files are read in path order")
	vocab := fs.Int("vocab", 4096, "vocabulary size: 256 bytes, the merges and the special tokens")
	out := fs.String("out", "", "directory to write tokenizer.json to (made if missing)")
	special := fs.String("special", tokenizer.EndOfText, "comma-separated special tokens, given the last ids")
	pattern := fs.String("pattern", "gpt2", "pre-tokenization: gpt2 or llama3")
	workers := fs.Int("workers", 0, "counting goroutines (0: one per core)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	pat := map[string]string{"gpt2": tokenizer.PatternGPT2, "llama3": tokenizer.PatternLlama3}[*pattern]
	switch {
	case *data == "":
		return usagef("tokenizer train: --data is required")
	case *out == "":
		return usagef("tokenizer train: --out is required")
	case pat == "":
		return usagef("tokenizer train: --pattern %q, want gpt2 or llama3", *pattern)
	case *workers < 0:
		return usagef("tokenizer train: --workers must be >= 0, got %d", *workers)
	}
	var specials []string
	if *special != "" {
		specials = strings.Split(*special, ",")
	} else {
		specials = []string{}
	}
	files, _, err := textFiles(*data)
	if err != nil {
		return fmt.Errorf("tokenizer train: %v", err)
	}
	r := &multiReader{files: files}
	text, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return fmt.Errorf("tokenizer train: %v", err)
	}
	start := time.Now()
	pr := progress{w: stderr}
	t, err := tokenizer.Train(text, tokenizer.TrainOptions{Vocab: *vocab, Special: specials, Pattern: pat, Workers: *workers,
		Progress: func(done, want int) {
			pr.print(done == want, "tokenizer train: %d/%d merges, %.1fs", done, want, time.Since(start).Seconds())
		}})
	if err != nil {
		return usageOrRun(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("tokenizer train: %v", err)
	}
	path := filepath.Join(*out, "tokenizer.json")
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("tokenizer train: %v", err)
	}
	if err := tokenizer.WriteHFJSON(f, t); err != nil {
		f.Close()
		return fmt.Errorf("tokenizer train: %v", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tokenizer train: %v", err)
	}
	ids := tokenizer.EncodeParallel(t, text, *workers, false)
	fmt.Fprintf(stdout, "wrote %s: %d tokens (%d merges) from %.1f MB in %.1fs, %.2f bytes/token on the training text, %s\n",
		path, t.VocabSize(), t.VocabSize()-256-len(specials), float64(len(text))/1e6, time.Since(start).Seconds(),
		float64(len(text))/float64(max(len(ids), 1)), tokenizer.Digest(t))
	return nil
}

// usageOrRun makes a bad --vocab a usage error and keeps others as they are.
func usageOrRun(err error) error {
	if strings.Contains(err.Error(), "--vocab") {
		return usagef("%v", err)
	}
	return err
}
