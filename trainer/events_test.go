package trainer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

func keys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

func TestStepEventJSON(t *testing.T) {
	e := StepEvent{Step: 10, Tokens: 40960, FLOPs: 1.5e12, LR: 3e-4, Loss: 2.5, Layers: 1, WallS: 1.25, TokensPerS: 32768}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"step","step":10,"tokens":40960,"flops":1500000000000,"lr":0.0003,"loss":2.5,"layers":1,"wall_s":1.25,"tokens_per_s":32768}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	v := 2.75
	e.ValLoss = &v
	b, _ = json.Marshal(e)
	if !strings.Contains(string(b), `"loss":2.5,"val_loss":2.75,"layers":1`) {
		t.Errorf("with val loss: %s", b)
	}
	// A diverged loss is null, not an encoding failure.
	e.Loss, e.ValLoss = math.NaN(), nil
	b, err = json.Marshal(e)
	if err != nil || !strings.Contains(string(b), `"loss":null`) {
		t.Errorf("NaN loss: %s, %v", b, err)
	}
}

func TestSummaryEventJSON(t *testing.T) {
	s := SummaryEvent{Steps: 100, Tokens: 409600, FLOPs: 2e12, FixedFLOPs: 8e12, FinalTrainLoss: 1.5,
		WallS: 12, TokensPerS: 34133.3, LayersStart: 1, LayersEnd: 6, Kernel: "avx2", Workers: 2}
	b, _ := json.Marshal(s)
	want := []string{"event", "final_train_loss", "final_val_loss", "fixed_flops", "flops", "flops_saved_frac", "grow_step",
		"kernel", "layers_end", "layers_start", "steps", "tokens", "tokens_per_s", "wall_s", "workers"}
	if got := keys(t, b); !reflect.DeepEqual(got, want) {
		t.Errorf("fields %v\nwant   %v", got, want)
	}
	if !strings.Contains(string(b), `"final_val_loss":null`) || !strings.Contains(string(b), `"grow_step":null`) ||
		!strings.Contains(string(b), `"flops_saved_frac":0.75`) || !strings.HasPrefix(string(b), `{"event":"summary"`) {
		t.Errorf("summary = %s", b)
	}
	g, v := int64(80), 1.6
	s.GrowStep, s.FinalValLoss = &g, &v
	b, _ = json.Marshal(s)
	if !strings.Contains(string(b), `"final_val_loss":1.6`) || !strings.Contains(string(b), `"grow_step":80`) {
		t.Errorf("summary = %s", b)
	}
	if (SummaryEvent{FLOPs: 5}).SavedFrac() != 0 {
		t.Error("saved fraction without fixed FLOPs")
	}
}

func TestOtherEventsJSON(t *testing.T) {
	for _, c := range []struct {
		e    Event
		want string
	}{
		{EvalEvent{Step: 5, Tokens: 100, ValLoss: 3, WallS: 1}, `{"event":"eval","step":5,"tokens":100,"val_loss":3,"wall_s":1}`},
		{GrowEvent{Step: 8, From: 1, To: 6, Init: "copy", WallS: 2}, `{"event":"grow","step":8,"from":1,"to":6,"init":"copy","wall_s":2}`},
		{CheckpointEvent{Step: 9, Path: "out/ckpt", WallS: 3}, `{"event":"checkpoint","step":9,"path":"out/ckpt","wall_s":3}`},
	} {
		b, err := json.Marshal(c.e)
		if err != nil || string(b) != c.want {
			t.Errorf("got %s (%v), want %s", b, err, c.want)
		}
	}
}

// writeLog records each Write call separately.
type writeLog struct {
	mu     sync.Mutex
	writes []string
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func TestJSONLWriterWholeLines(t *testing.T) {
	var log writeLog
	j := NewJSONLWriter(&log)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				j.Emit(StepEvent{Step: int64(g*1000 + i), Loss: 1})
			}
		}()
	}
	wg.Wait()
	if err := j.Emit(SummaryEvent{Steps: 1}); err != nil {
		t.Fatal(err)
	}
	if len(log.writes) != 401 {
		t.Fatalf("%d writes, want 401 (one per event)", len(log.writes))
	}
	for _, w := range log.writes {
		if !strings.HasSuffix(w, "}\n") || strings.Count(w, "\n") != 1 {
			t.Fatalf("write is not one whole line: %q", w)
		}
		keys(t, []byte(w))
	}
	if err := j.Close(); err != nil {
		t.Error(err)
	}
}

func TestMetricsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	j, err := CreateMetricsFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	sinks := Sinks{j, nil}
	sinks.Emit(StepEvent{Step: 1})
	sinks.Emit(SummaryEvent{Steps: 1})
	// The summary is on disk before Close.
	b, _ := os.ReadFile(path)
	if strings.Count(string(b), "\n") != 2 {
		t.Errorf("file holds %q", b)
	}
	j.Close()
	j2, _ := CreateMetricsFile(path, true) // a resumed run appends
	j2.Emit(StepEvent{Step: 2})
	j2.Close()
	f, _ := os.Open(path)
	defer f.Close()
	var events []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		events = append(events, m["event"].(string))
	}
	if strings.Join(events, ",") != "step,summary,step" {
		t.Errorf("events = %v", events)
	}
	// A new run truncates, but only at its first event: a run that never
	// started leaves the log as it was.
	before, _ := os.ReadFile(path)
	j3, _ := CreateMetricsFile(path, false)
	j3.Close()
	if b, _ := os.ReadFile(path); string(b) != string(before) {
		t.Errorf("a writer that saw no event changed the file to %q", b)
	}
	if err := j3.Emit(StepEvent{Step: 1}); err == nil {
		t.Error("Emit after Close succeeded")
	}
	j4, _ := CreateMetricsFile(path, false)
	if b, _ := os.ReadFile(path); string(b) != string(before) {
		t.Errorf("creating the writer changed the file to %q", b)
	}
	j4.Emit(StepEvent{Step: 1})
	j4.Close()
	if b, _ := os.ReadFile(path); strings.Count(string(b), "\n") != 1 {
		t.Errorf("a new run's log holds %q, want its one event", b)
	}
	// Nothing is created for a run that never started.
	fresh := filepath.Join(t.TempDir(), "new.jsonl")
	j5, err := CreateMetricsFile(fresh, false)
	if err != nil {
		t.Fatal(err)
	}
	j5.Close()
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a writer that saw no event created %s (%v)", fresh, err)
	}
	if _, err := CreateMetricsFile(filepath.Dir(fresh), false); err == nil || !strings.HasPrefix(err.Error(), "metrics: ") {
		t.Errorf("a directory as the metrics file: err = %v", err)
	}
	if _, err := CreateMetricsFile(filepath.Join(path, "sub", "m.jsonl"), false); err == nil || !strings.HasPrefix(err.Error(), "metrics: ") {
		t.Errorf("err = %v", err)
	}
}

type failSink struct{}

func (failSink) Emit(Event) error { return os.ErrClosed }

func TestSinks(t *testing.T) {
	var a, b bytes.Buffer
	s := Sinks{NewJSONLWriter(&a), failSink{}, NewJSONLWriter(&b)}
	err := s.Emit(EvalEvent{Step: 1})
	if err == nil || a.Len() == 0 || a.String() != b.String() {
		t.Errorf("fan-out: err %v, a %q, b %q", err, a.String(), b.String())
	}
}
