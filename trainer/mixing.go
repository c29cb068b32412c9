package trainer

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sproutml/sprout/asm"
	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
)

// DefaultMixWindows is the number of validation windows the mixing check
// evaluates twice (with and without the new blocks) at each evaluation
// after an expansion; docs/experiments.md has its noise and cost.
const DefaultMixWindows = 16

// MixIdleNats is where the mixing check calls the new blocks idle: leaving
// them all out raises the validation loss by less than this many nats.
// docs/experiments.md has the measurements it rests on.
const MixIdleNats = 0.02

// NoCalibration is MixCheck.GapBasis when the gap to the fixed-depth run is
// unknown: nothing has measured a fixed-depth run's curve for this run.
const NoCalibration = "no calibration"

// MixCheck is the mixing check of a progressive run at an evaluation after
// its last expansion: how much the blocks that expansion added contribute,
// and the gap to the fixed-depth run where something can estimate it.
//
// Blocks in use do not mean the run caught up with the fixed-depth run
// (docs/experiments.md has runs of both kinds), so the check reports "in
// use" or "idle", never that the run mixed.
type MixCheck struct {
	Step      int64
	NewBlocks []int   // the blocks the last expansion added, fresh or copied (indices now)
	Delta     float64 // validation loss without the new blocks minus with them, nats
	Windows   int     // validation windows of the check
	// EstGap is the estimated relative gap of the validation loss to a
	// fixed-depth run's at this step (0.012: 1.2% above it), nil when
	// unknown; GapBasis says what it rests on (NoCalibration when unknown).
	EstGap   *float64
	GapBasis string
	Seconds  float64 // the check's wall time
}

// State is "in use", or "idle" when the new blocks together lower the loss
// by less than MixIdleNats, or "unknown" when the delta is NaN.
func (c MixCheck) State() string {
	switch {
	case math.IsNaN(c.Delta):
		return "unknown"
	case c.Delta < MixIdleNats:
		return "idle"
	}
	return "in use"
}

// gapText is the gap part of the check's text.
func (c MixCheck) gapText(short bool) string {
	if c.EstGap != nil {
		return fmt.Sprintf("est. %+.1f%% vs fixed depth (%s)", 100**c.EstGap, c.GapBasis)
	}
	if short {
		return "gap unknown"
	}
	basis := c.GapBasis
	if basis == "" {
		basis = NoCalibration
	}
	return fmt.Sprintf("gap to fixed depth unknown (%s)", basis)
}

// Use is the delta and the state: "+0.412 in use".
func (c MixCheck) Use() string { return fmtDelta(c.Delta) + " " + c.State() }

// Short is the check for the progress line.
func (c MixCheck) Short() string {
	return fmt.Sprintf("new blocks %s, %s", c.Use(), c.gapText(true))
}

// String is the check for the end-of-run summary, with what to do about
// idle blocks.
func (c MixCheck) String() string {
	state := c.State()
	if state == "idle" {
		state = "idle: expand earlier or train longer"
	}
	return fmt.Sprintf("new blocks %s %s nats, %s; %s", c.BlockList(), fmtDelta(c.Delta), state, c.gapText(false))
}

func fmtDelta(d float64) string {
	if !finite(d) {
		return fmt.Sprint(d)
	}
	return fmt.Sprintf("%+.3f", d)
}

// BlockList writes the new blocks as 1-5 or 0,1,4,5.
func (c MixCheck) BlockList() string { return fmtBlockList(c.NewBlocks) }

// fmtBlockList writes [1 2 3 5 6] as 1-3,5,6.
func fmtBlockList(b []int) string {
	var parts []string
	for i := 0; i < len(b); {
		j := i
		for j+1 < len(b) && b[j+1] == b[j]+1 {
			j++
		}
		if j >= i+2 {
			parts = append(parts, fmt.Sprintf("%d-%d", b[i], b[j]))
			i = j + 1
			continue
		}
		parts = append(parts, fmt.Sprint(b[i]))
		i++
	}
	return strings.Join(parts, ",")
}

// MarshalJSON gives the check's JSON form, inside the eval, step and
// summary events: est_gap is absent while the gap is unknown.
func (c MixCheck) MarshalJSON() ([]byte, error) {
	var gap *num
	if c.EstGap != nil {
		gap = optNum(c.EstGap)
	}
	basis := c.GapBasis
	if basis == "" && c.EstGap == nil {
		basis = NoCalibration
	}
	return json.Marshal(struct {
		Step      int64  `json:"step"`
		NewBlocks []int  `json:"new_blocks"`
		Delta     num    `json:"delta_nats"`
		State     string `json:"state"`
		IdleBelow num    `json:"idle_below_nats"`
		Windows   int    `json:"windows"`
		EstGap    *num   `json:"est_gap,omitempty"`
		GapBasis  string `json:"gap_basis"`
		Seconds   num    `json:"check_s"`
	}{c.Step, append([]int{}, c.NewBlocks...), num(c.Delta), c.State(), MixIdleNats, c.Windows, gap, basis, num(c.Seconds)})
}

// UnmarshalJSON reads the form MarshalJSON writes (a metrics file read
// back); the state is derived from the delta, not read.
func (c *MixCheck) UnmarshalJSON(b []byte) error {
	var o struct {
		Step      int64    `json:"step"`
		NewBlocks []int    `json:"new_blocks"`
		Delta     *float64 `json:"delta_nats"`
		Windows   int      `json:"windows"`
		EstGap    *float64 `json:"est_gap"`
		GapBasis  string   `json:"gap_basis"`
		Seconds   *float64 `json:"check_s"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	nan := func(p *float64) float64 {
		if p == nil {
			return math.NaN() // written as null: not finite
		}
		return *p
	}
	*c = MixCheck{Step: o.Step, NewBlocks: o.NewBlocks, Delta: nan(o.Delta), Windows: o.Windows, EstGap: o.EstGap, GapBasis: o.GapBasis, Seconds: nan(o.Seconds)}
	return nil
}

// CheckMixing measures on windows how much the blocks newBlocks of m
// contribute together (see MixCheck); m is not changed.
func CheckMixing(m *nn.Model, newBlocks []int, windows [][]uint16, batch int) (MixCheck, error) {
	return checkMixing(m, newBlocks, windows, batch, asm.Threads())
}

func checkMixing(m *nn.Model, newBlocks []int, windows [][]uint16, batch, gemm int) (MixCheck, error) {
	t0 := time.Now()
	base, without, err := ablateGroup(m, windows, batch, newBlocks, gemm)
	if err != nil {
		return MixCheck{}, fmt.Errorf("trainer: mixing check: %w", err)
	}
	return MixCheck{NewBlocks: append([]int(nil), newBlocks...), Delta: without - base, Windows: len(windows),
		GapBasis: NoCalibration, Seconds: time.Since(t0).Seconds()}, nil
}

// NewBlocks lists the blocks the last expansion of history added (fresh
// blocks and copies, as grow.Result.New counts them) under the run's plan
// (nil for a checkpoint grown offline by GrowCheckpoint, which expands with
// the default placement); nil when the run never grew.
func NewBlocks(history []GrowthRecord, plan *grow.Plan) ([]int, error) {
	if len(history) == 0 {
		return nil, nil
	}
	g := history[len(history)-1]
	s := grow.Strategy(g.Init)
	var place grow.Place
	if plan != nil {
		place = plan.Options(grow.Stage{Layers: g.To, Strategy: s}, 0).Place
	}
	lay, err := grow.Layout(g.From, g.To, s, place)
	if err != nil {
		return nil, fmt.Errorf("trainer: the expansion at step %d (%d -> %d blocks, %s): %w", g.Step, g.From, g.To, g.Init, err)
	}
	return lay.New(), nil
}

// NewBlocks lists the blocks the checkpoint's last expansion added (see
// NewBlocks); nil when it never grew.
func (m *Manifest) NewBlocks() ([]int, error) {
	var plan *grow.Plan
	if len(m.Growth.Plan) > 0 && string(m.Growth.Plan) != "null" {
		plan = new(grow.Plan)
		if err := json.Unmarshal(m.Growth.Plan, plan); err != nil {
			return nil, fmt.Errorf("manifest: growth plan: %w", err)
		}
	}
	return NewBlocks(m.Growth.History, plan)
}

// mixCheck runs the mixing check after an evaluation: nil before the
// first expansion or with the check off (Config.MixWindows < 0).
func (r *run) mixCheck() (*MixCheck, error) {
	if len(r.history) == 0 || len(r.mixWin) == 0 {
		return nil, nil
	}
	nb, err := NewBlocks(r.history, r.cfg.Grow)
	if err != nil {
		return nil, err
	}
	if last := r.history[len(r.history)-1]; last.To != len(r.m.Blocks) {
		return nil, fmt.Errorf("trainer: mixing check: the last expansion grew to %d blocks, the model has %d", last.To, len(r.m.Blocks))
	}
	c, err := checkMixing(r.m, nb, r.mixWin, r.evalBatch, r.st.gemm)
	if err != nil {
		return nil, err
	}
	c.Step = int64(r.step)
	r.lastMix = &c
	return &c, nil
}
