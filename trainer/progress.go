package trainer

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"
)

// Progress is the human consumer of events: a live line on stderr with step
// and total, loss, last validation loss, depth, tokens/s and ETA.
//
// On a terminal the line is redrawn in place with a carriage return (at most
// every Redraw), and growth and checkpoint notices are printed above it.
// Anywhere else (a pipe, a file) it prints whole plain lines, one every
// Interval and one per evaluation, so a log holds no control characters and
// nothing is garbled. Set the exported fields before the first event.
type Progress struct {
	Terminal bool             // redraw in place; set by NewProgress from w
	Interval time.Duration    // plain mode: least time between step lines
	Redraw   time.Duration    // terminal mode: least time between redraws
	Now      func() time.Time // the clock, replaceable for tests

	mu     sync.Mutex
	w      io.Writer
	total  int64
	last   StepEvent
	val    *float64
	mix    *MixCheck // the last mixing check seen
	have   bool      // a step has been seen
	drawn  bool      // terminal: a progress line is on screen
	shown  time.Time // when a line was last written
	t0     time.Time // first step seen since the start or the last expansion, for the ETA
	step0  int64
	flops0 float64
	rebase bool // an expansion happened: the next step restarts the ETA's rate
	// totalFLOPs, when known, makes the ETA follow the FLOP rate rather
	// than the step rate, so it stays right when the model grows.
	totalFLOPs float64
	lastLen    int
}

// NewProgress reports progress of a run of totalSteps steps to w, in
// terminal mode when w is a terminal.
func NewProgress(w io.Writer, totalSteps int64) *Progress {
	return &Progress{
		Terminal: IsTerminal(w),
		Interval: 10 * time.Second,
		Redraw:   100 * time.Millisecond,
		Now:      time.Now,
		w:        w,
		total:    totalSteps,
	}
}

// SetTotal changes the number of steps the run will take (a resumed run
// learns it from its checkpoint).
func (p *Progress) SetTotal(totalSteps int64) {
	p.mu.Lock()
	p.total = totalSteps
	p.mu.Unlock()
}

// SetTotalFLOPs tells the ETA how many training FLOPs the whole run takes
// (see Config.PlannedFLOPs); a growing run's steps get dearer, and the ETA
// then follows the FLOP rate instead of the step rate.
func (p *Progress) SetTotalFLOPs(flops float64) {
	p.mu.Lock()
	p.totalFLOPs = flops
	p.mu.Unlock()
}

// IsTerminal reports whether w is a character device such as a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Emit implements Sink.
func (p *Progress) Emit(e Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.Now()
	switch e := e.(type) {
	case StepEvent:
		if !p.have || p.rebase {
			p.t0, p.step0, p.flops0, p.have, p.rebase = now, e.Step, e.FLOPs, true, false
		}
		p.last = e
		if e.ValLoss != nil {
			v := *e.ValLoss
			p.val = &v
		}
		if e.Mixing != nil {
			c := *e.Mixing
			p.mix = &c
		}
		final := e.Step >= p.total
		if p.Terminal {
			if final || e.ValLoss != nil || !p.drawn || now.Sub(p.shown) >= p.Redraw {
				return p.draw(now)
			}
		} else if final || e.ValLoss != nil || p.shown.IsZero() || now.Sub(p.shown) >= p.Interval {
			return p.plain(now)
		}
	case EvalEvent:
		v := e.ValLoss
		p.val = &v
		if e.Mixing != nil {
			c := *e.Mixing
			p.mix = &c
		}
		if p.have && e.Step == p.last.Step {
			return nil // shown with its step
		}
		msg := fmt.Sprintf("step %d: val loss %s", e.Step, fmtLoss(e.ValLoss))
		if e.Mixing != nil {
			msg += "; " + e.Mixing.Short()
		}
		return p.notice(now, msg)
	case GrowEvent:
		// A shallow model's FLOP rate says little about the grown one's
		// (small GEMMs, overheads), so the ETA measures the rate afresh;
		// an earlier expansion's check no longer applies.
		p.rebase, p.mix = true, nil
		return p.notice(now, fmt.Sprintf("step %d: grew from %d to %d blocks (%s)", e.Step, e.From, e.To, e.Init))
	case CheckpointEvent:
		return p.notice(now, fmt.Sprintf("step %d: checkpoint written to %s", e.Step, e.Path))
	case SummaryEvent:
		if p.Terminal && p.drawn {
			p.drawn = false
			_, err := io.WriteString(p.w, "\n")
			return err
		}
	}
	return nil
}

// line is the progress text.
func (p *Progress) line(now time.Time) string {
	e := p.last
	var sb strings.Builder
	fmt.Fprintf(&sb, "step %d/%d  loss %s", e.Step, p.total, fmtLoss(e.Loss))
	if p.val != nil {
		fmt.Fprintf(&sb, "  val %s", fmtLoss(*p.val))
	}
	fmt.Fprintf(&sb, "  depth %d", e.Layers)
	if p.mix != nil {
		fmt.Fprintf(&sb, "  %s", p.mix.Short())
	}
	fmt.Fprintf(&sb, "  %s tok/s  ETA %s", fmtCount(e.TokensPerS), p.eta(now))
	return sb.String()
}

// eta extrapolates the FLOP rate (when the run's total FLOPs are known) or
// the step rate seen by this process since its start or the last expansion.
func (p *Progress) eta(now time.Time) string {
	done := p.last.Step - p.step0
	el := now.Sub(p.t0)
	if p.last.Step >= p.total {
		return "0s"
	}
	if done <= 0 || el <= 0 {
		return "--"
	}
	if f := p.last.FLOPs - p.flops0; p.totalFLOPs > p.last.FLOPs && f > 0 {
		return fmtDuration(time.Duration(float64(el) * (p.totalFLOPs - p.last.FLOPs) / f))
	}
	left := time.Duration(float64(el) * float64(p.total-p.last.Step) / float64(done))
	return fmtDuration(left)
}

func (p *Progress) draw(now time.Time) error {
	l := p.line(now)
	pad := ""
	if n := p.lastLen - len(l); n > 0 {
		pad = strings.Repeat(" ", n) // blank what a longer line left
	}
	p.lastLen = len(l)
	p.drawn, p.shown = true, now
	_, err := io.WriteString(p.w, "\r"+l+pad)
	return err
}

func (p *Progress) plain(now time.Time) error {
	p.shown = now
	_, err := io.WriteString(p.w, p.line(now)+"\n")
	return err
}

// notice prints a message on a line of its own; on a terminal above the
// progress line, which is then redrawn.
func (p *Progress) notice(now time.Time, msg string) error {
	if !p.Terminal {
		_, err := io.WriteString(p.w, msg+"\n")
		return err
	}
	s := msg
	if p.drawn {
		s = "\r" + msg
		if n := p.lastLen - len(msg); n > 0 {
			s += strings.Repeat(" ", n)
		}
	}
	if _, err := io.WriteString(p.w, s+"\n"); err != nil {
		return err
	}
	if p.drawn {
		p.lastLen = 0
		return p.draw(now)
	}
	return nil
}

// blocks is "1 block" or "N blocks".
func blocks(n int) string {
	if n == 1 {
		return "1 block"
	}
	return fmt.Sprintf("%d blocks", n)
}

// FormatSummary renders a summary for people, in a few lines.
func FormatSummary(s SummaryEvent) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "trained %d steps, %s tokens in %s (%s tok/s, %d workers, kernel %s)\n",
		s.Steps, fmtCount(float64(s.Tokens)), fmtDuration(time.Duration(s.WallS*float64(time.Second))), fmtCount(s.TokensPerS), s.Workers, s.Kernel)
	fmt.Fprintf(&sb, "final loss: train %s", fmtLoss(s.FinalTrainLoss))
	if s.FinalValLoss != nil {
		fmt.Fprintf(&sb, ", validation %s", fmtLoss(*s.FinalValLoss))
	}
	sb.WriteString("\n")
	if s.GrowStep != nil {
		fmt.Fprintf(&sb, "depth: %s, grown to %d at step %d\n", blocks(s.LayersStart), s.LayersEnd, *s.GrowStep)
	} else {
		fmt.Fprintf(&sb, "depth: %s\n", blocks(s.LayersEnd))
	}
	if s.Mixing != nil {
		fmt.Fprintf(&sb, "mixing check at step %d (%d windows): %s\n", s.Mixing.Step, s.Mixing.Windows, s.Mixing)
	}
	fmt.Fprintf(&sb, "compute: %.3g FLOPs", s.FLOPs)
	if s.FixedFLOPs > 0 && s.FixedFLOPs != s.FLOPs {
		fmt.Fprintf(&sb, ", %.1f%% less than %.3g at fixed depth", 100*s.SavedFrac(), s.FixedFLOPs)
	}
	sb.WriteString("\n")
	return sb.String()
}

func fmtLoss(l float64) string {
	if math.IsNaN(l) || math.IsInf(l, 0) {
		return fmt.Sprint(l)
	}
	return fmt.Sprintf("%.4f", l)
}

// fmtCount writes 41234 as 41.2k.
func fmtCount(x float64) string {
	switch a := math.Abs(x); {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return fmt.Sprint(x)
	case a >= 1e9:
		return fmt.Sprintf("%.1fG", x/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.1fM", x/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprintf("%.0f", x)
}

// fmtDuration writes 192s as 3m12s and long spans as 1h02m.
func fmtDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}
