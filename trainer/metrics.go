package trainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// JSONLWriter is the machine-readable consumer of events: one JSON object
// per line (JSON Lines), for --metrics FILE and --json on stdout.
//
// Each line goes out in a single Write, so lines are never interleaved or
// split by buffering, and a reader sees only whole lines (a kill can at
// worst cut the last one). A metrics file is fsynced when the summary is
// written and on Close.
type JSONLWriter struct {
	mu   sync.Mutex
	w    io.Writer
	file *os.File // set when the writer owns a file

	// A metrics file not yet opened: its path and how to open it.
	path      string
	appending bool
}

// NewJSONLWriter writes events to w (for example os.Stdout).
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	return &JSONLWriter{w: w}
}

// CreateMetricsFile returns a writer of a run's metrics to path: truncated
// for a new run, appended to when appending (a resumed run continues its
// log). The file is opened at the first event, once the run has started,
// so that a run that fails on its config or data leaves an existing log as
// it was; whether it can be opened is checked now, without changing it.
func CreateMetricsFile(path string, appending bool) (*JSONLWriter, error) {
	if err := checkWritable(path); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &JSONLWriter{path: path, appending: appending}, nil
}

// checkWritable reports why path cannot be opened for writing, leaving it as
// it is: an existing file is opened without truncation and closed, and a new
// one needs an existing directory.
func checkWritable(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

// open opens the metrics file on the first event (j.mu held).
func (j *JSONLWriter) open() error {
	flags := os.O_WRONLY | os.O_CREATE
	if j.appending {
		flags |= os.O_APPEND
	} else {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(j.path, flags, 0o644)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	j.w, j.file, j.path = f, f, ""
	return nil
}

// Emit implements Sink.
func (j *JSONLWriter) Emit(e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("metrics: encoding %s event: %w", e.EventName(), err)
	}
	b = append(b, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.path != "" {
		if err := j.open(); err != nil {
			return err
		}
	}
	if j.w == nil {
		return errors.New("metrics: the writer is closed")
	}
	if _, err := j.w.Write(b); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if _, ok := e.(SummaryEvent); ok && j.file != nil {
		if err := j.file.Sync(); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	return nil
}

// Close syncs and closes the file the writer owns; for a writer made by
// NewJSONLWriter it does nothing.
func (j *JSONLWriter) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.path = "" // never opened: the file stays as it was
	if j.file == nil {
		return nil
	}
	f := j.file
	j.file = nil
	serr := f.Sync()
	if err := f.Close(); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("metrics: %w", serr)
	}
	return nil
}
