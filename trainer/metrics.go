package trainer

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
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
}

// NewJSONLWriter writes events to w (for example os.Stdout).
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	return &JSONLWriter{w: w}
}

// CreateMetricsFile opens path for a run's metrics: truncated for a new run,
// appended to when appending (a resumed run continues its log).
func CreateMetricsFile(path string, appending bool) (*JSONLWriter, error) {
	flags := os.O_WRONLY | os.O_CREATE
	if appending {
		flags |= os.O_APPEND
	} else {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &JSONLWriter{w: f, file: f}, nil
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
