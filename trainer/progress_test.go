package trainer

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestProgress(tty bool, total int64) (*Progress, *bytes.Buffer, *fakeClock) {
	var buf bytes.Buffer
	c := &fakeClock{time.Unix(1000, 0)}
	p := NewProgress(&buf, total)
	p.Terminal, p.Now = tty, c.now
	return p, &buf, c
}

func TestProgressPlain(t *testing.T) {
	p, buf, clock := newTestProgress(false, 100)
	for s := int64(1); s <= 100; s++ {
		e := StepEvent{Step: s, Loss: 3 - float64(s)/100, Layers: 1, TokensPerS: 41234}
		if s == 50 {
			v := 2.6
			e.ValLoss = &v
		}
		if s == 80 {
			p.Emit(GrowEvent{Step: 80, From: 1, To: 6, Init: "copy"})
		}
		if s >= 80 {
			e.Layers = 6
		}
		p.Emit(e)
		clock.t = clock.t.Add(time.Second) // 10 steps per Interval
	}
	p.Emit(SummaryEvent{})
	out := buf.String()
	if strings.ContainsAny(out, "\r\x1b") {
		t.Errorf("plain output holds control characters: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// Step 1, then every 10 s (11, 21, 31, 41), step 50 (evaluated), 10 s
	// on from there (60, 70, 80, 90, 100) and the growth notice.
	if len(lines) != 12 {
		t.Errorf("%d lines:\n%s", len(lines), out)
	}
	if lines[0] != "step 1/100  loss 2.9900  depth 1  41.2k tok/s  ETA --" {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.Contains(out, "step 50/100  loss 2.5000  val 2.6000  depth 1") {
		t.Errorf("evaluated step missing:\n%s", out)
	}
	if !strings.Contains(out, "step 80: grew from 1 to 6 blocks (copy)\n") {
		t.Errorf("growth notice missing:\n%s", out)
	}
	if last := lines[len(lines)-1]; last != "step 100/100  loss 2.0000  val 2.6000  depth 6  41.2k tok/s  ETA 0s" {
		t.Errorf("last line %q", last)
	}
	// ETA: at step 21, 20 steps took 20 s, 79 remain.
	if !strings.Contains(out, "step 21/100  loss 2.7900  depth 1  41.2k tok/s  ETA 1m19s") {
		t.Errorf("ETA wrong:\n%s", out)
	}
}

func TestProgressTerminal(t *testing.T) {
	p, buf, clock := newTestProgress(true, 10)
	p.Emit(StepEvent{Step: 1, Loss: 5, Layers: 1, TokensPerS: 1500})
	p.Emit(StepEvent{Step: 2, Loss: 4, Layers: 1}) // within Redraw: skipped
	clock.t = clock.t.Add(time.Second)
	p.Emit(StepEvent{Step: 3, Loss: 3.5, Layers: 1, TokensPerS: 1e6})
	p.Emit(CheckpointEvent{Step: 3, Path: "out/ck"})
	p.Emit(EvalEvent{Step: 4, ValLoss: 3.25})
	clock.t = clock.t.Add(time.Second)
	p.Emit(StepEvent{Step: 10, Loss: 3, Layers: 1})
	p.Emit(SummaryEvent{})
	out := buf.String()
	// The line is redrawn in place; notices take a line of their own,
	// blanking the rest of the progress line, which is then redrawn; the
	// ETA is 2 steps per second with 7 to go; a shorter line pads out a
	// longer one.
	want := "\rstep 1/10  loss 5.0000  depth 1  1.5k tok/s  ETA --" +
		"\rstep 3/10  loss 3.5000  depth 1  1.0M tok/s  ETA 4s" +
		"\rstep 3: checkpoint written to out/ck" + strings.Repeat(" ", 15) + "\n" +
		"\rstep 3/10  loss 3.5000  depth 1  1.0M tok/s  ETA 4s" +
		"\rstep 4: val loss 3.2500" + strings.Repeat(" ", 28) + "\n" +
		"\rstep 3/10  loss 3.5000  val 3.2500  depth 1  1.0M tok/s  ETA 4s" +
		"\rstep 10/10  loss 3.0000  val 3.2500  depth 1  0 tok/s  ETA 0s  " +
		"\n"
	if out != want {
		t.Errorf("got\n%q\nwant\n%q", out, want)
	}
}

func TestIsTerminal(t *testing.T) {
	var buf bytes.Buffer
	if IsTerminal(&buf) {
		t.Error("a buffer is not a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is not a terminal")
	}
	if NewProgress(f, 1).Terminal {
		t.Error("progress to a file in terminal mode")
	}
}

func TestFormatSummary(t *testing.T) {
	g, v := int64(800), 1.4321
	s := SummaryEvent{Steps: 1000, Tokens: 4096000, FLOPs: 2e15, FixedFLOPs: 8e15, FinalTrainLoss: 1.2345, FinalValLoss: &v,
		WallS: 178, TokensPerS: 23011, LayersStart: 1, LayersEnd: 12, GrowStep: &g, Kernel: "avx2", Workers: 2}
	want := "trained 1000 steps, 4.1M tokens in 2m58s (23.0k tok/s, 2 workers, kernel avx2)\n" +
		"final loss: train 1.2345, validation 1.4321\n" +
		"depth: 1 block, grown to 12 at step 800\n" +
		"compute: 2e+15 FLOPs, 75.0% less than 8e+15 at fixed depth\n"
	if got := FormatSummary(s); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	s.GrowStep, s.FixedFLOPs, s.FinalValLoss = nil, s.FLOPs, nil
	if got := FormatSummary(s); strings.Contains(got, "less than") || strings.Contains(got, "validation") || !strings.Contains(got, "depth: 12 blocks\n") {
		t.Errorf("fixed-depth summary:\n%s", got)
	}
	if fmtDuration(3*time.Hour+125*time.Second) != "3h02m" || fmtDuration(59*time.Second) != "59s" {
		t.Error("durations")
	}
}

// With the run's total FLOPs known, the ETA follows the FLOP rate, so it
// accounts for the dearer steps after an expansion.
func TestProgressETAFollowsFLOPs(t *testing.T) {
	p, buf, clock := newTestProgress(false, 100)
	p.Interval = 0
	// 80 steps of 1 FLOP each, then 20 of 10: 280 in all, 1 s per FLOP.
	p.SetTotalFLOPs(280)
	flops := 0.0
	for s := int64(1); s <= 40; s++ {
		flops++
		p.Emit(StepEvent{Step: s, FLOPs: flops, Layers: 1})
		clock.t = clock.t.Add(time.Second)
	}
	// At step 40: 39 FLOPs in 39 s since the first event, 240 left.
	if !strings.Contains(buf.String(), "step 40/100  loss 0.0000  depth 1  0 tok/s  ETA 4m00s") {
		t.Errorf("ETA by FLOPs wrong:\n%s", buf.String())
	}
}

// After an expansion the ETA follows the grown model's rate, not the average
// that the cheap shallow steps flatter.
func TestProgressETARebasesAtGrowth(t *testing.T) {
	p, buf, clock := newTestProgress(false, 100)
	p.Interval = 0
	// 80 steps of 1 FLOP at 10 FLOP/s, then 20 steps of 10 FLOPs at 1 FLOP/s.
	p.SetTotalFLOPs(280)
	flops := 0.0
	for s := int64(1); s <= 80; s++ {
		flops++
		p.Emit(StepEvent{Step: s, FLOPs: flops, Layers: 1})
		clock.t = clock.t.Add(100 * time.Millisecond)
	}
	p.Emit(GrowEvent{Step: 80, From: 1, To: 6, Init: "random"})
	for s := int64(81); s <= 85; s++ {
		flops += 10
		p.Emit(StepEvent{Step: s, FLOPs: flops, Layers: 6})
		clock.t = clock.t.Add(10 * time.Second)
	}
	// At step 85: 40 FLOPs in 40 s since step 81, 150 left.
	if !strings.Contains(buf.String(), "step 85/100  loss 0.0000  depth 6  0 tok/s  ETA 2m30s") {
		t.Errorf("ETA after growth wrong:\n%s", buf.String())
	}
}
