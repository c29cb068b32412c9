package trainer

import (
	"encoding/json"
	"errors"
	"math"
)

// Event is something a run reports: a step, an evaluation, a growth, a
// checkpoint or the closing summary. Consumers (the JSON Lines writer, the
// terminal progress line) receive the same events through Sink.
//
// An evaluated step is reported as a StepEvent carrying ValLoss followed by
// an EvalEvent of the same step (the progress line then shows it once).
//
// Each event marshals to JSON as one object whose "event" field names its
// kind; non-finite numbers (a diverged loss) become null rather than making
// the encoding fail.
type Event interface {
	EventName() string
}

// Sink consumes events.
type Sink interface {
	Emit(Event) error
}

// Sinks sends each event to every sink in order, and returns their errors
// joined.
type Sinks []Sink

// Emit implements Sink.
func (s Sinks) Emit(e Event) error {
	var errs []error
	for _, k := range s {
		if k != nil {
			errs = append(errs, k.Emit(e))
		}
	}
	return errors.Join(errs...)
}

// StepEvent reports a logged training step. Step counts completed steps.
type StepEvent struct {
	Step       int64
	Tokens     int64   // tokens trained on so far
	FLOPs      float64 // training FLOPs so far
	LR         float64
	Loss       float64  // training loss of this step
	ValLoss    *float64 // validation loss, when this step was evaluated
	Layers     int      // current depth in blocks
	WallS      float64  // seconds since the run began
	TokensPerS float64
	// ExpertTokens[l][e] is the number of this step's tokens routed to
	// expert e of moe block l (a token counts once per selected expert);
	// nil for other archs.
	ExpertTokens [][]int64
	// Mixing is the mixing check of an evaluated step after an expansion
	// (the EvalEvent that follows carries it too); nil otherwise.
	Mixing *MixCheck
}

// EvalEvent reports an evaluation on the fixed validation windows.
type EvalEvent struct {
	Step    int64
	Tokens  int64
	ValLoss float64
	WallS   float64
	// Mixing is the mixing check, at evaluations after an expansion (nil
	// before it, at fixed depth, or with the check off).
	Mixing *MixCheck
}

// GrowEvent reports an expansion of the model from From to To blocks.
type GrowEvent struct {
	Step     int64
	From, To int
	Init     string // how the new blocks began (random, copy, ...)
	WallS    float64
}

// CheckpointEvent reports a checkpoint written to Path.
type CheckpointEvent struct {
	Step  int64
	Path  string
	WallS float64
}

// SummaryEvent closes a run.
type SummaryEvent struct {
	Steps          int64
	Tokens         int64
	FLOPs          float64 // training FLOPs spent
	FixedFLOPs     float64 // what the run would cost at its final depth throughout
	FinalTrainLoss float64
	FinalValLoss   *float64 // nil when the run never evaluated
	WallS          float64
	TokensPerS     float64
	LayersStart    int
	LayersEnd      int
	GrowStep       *int64 // nil when the run did not grow
	Kernel         string // the asm kernel path used
	Workers        int
	// Mixing is this session's last mixing check (nil when none ran).
	Mixing *MixCheck
}

// SavedFrac is the share of FixedFLOPs the run did not spend: 0 for a
// fixed-depth run, 0 when FixedFLOPs is unknown.
func (s SummaryEvent) SavedFrac() float64 {
	if s.FixedFLOPs <= 0 {
		return 0
	}
	return 1 - s.FLOPs/s.FixedFLOPs
}

func (StepEvent) EventName() string       { return "step" }
func (EvalEvent) EventName() string       { return "eval" }
func (GrowEvent) EventName() string       { return "grow" }
func (CheckpointEvent) EventName() string { return "checkpoint" }
func (SummaryEvent) EventName() string    { return "summary" }

// num is a float64 that encodes as null when it is not finite.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

func optNum(p *float64) *num {
	if p == nil {
		return nil
	}
	n := num(*p)
	return &n
}

// MarshalJSON gives the step's JSON Lines form.
func (e StepEvent) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Event        string    `json:"event"`
		Step         int64     `json:"step"`
		Tokens       int64     `json:"tokens"`
		FLOPs        num       `json:"flops"`
		LR           num       `json:"lr"`
		Loss         num       `json:"loss"`
		ValLoss      *num      `json:"val_loss,omitempty"`
		Layers       int       `json:"layers"`
		WallS        num       `json:"wall_s"`
		TokensPerS   num       `json:"tokens_per_s"`
		ExpertTokens [][]int64 `json:"expert_tokens,omitempty"`
		Mixing       *MixCheck `json:"mixing,omitempty"`
	}{e.EventName(), e.Step, e.Tokens, num(e.FLOPs), num(e.LR), num(e.Loss), optNum(e.ValLoss), e.Layers, num(e.WallS), num(e.TokensPerS), e.ExpertTokens, e.Mixing})
}

// MarshalJSON gives the evaluation's JSON Lines form.
func (e EvalEvent) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Event   string    `json:"event"`
		Step    int64     `json:"step"`
		Tokens  int64     `json:"tokens"`
		ValLoss num       `json:"val_loss"`
		WallS   num       `json:"wall_s"`
		Mixing  *MixCheck `json:"mixing,omitempty"`
	}{e.EventName(), e.Step, e.Tokens, num(e.ValLoss), num(e.WallS), e.Mixing})
}

// MarshalJSON gives the growth's JSON Lines form.
func (e GrowEvent) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Event string `json:"event"`
		Step  int64  `json:"step"`
		From  int    `json:"from"`
		To    int    `json:"to"`
		Init  string `json:"init"`
		WallS num    `json:"wall_s"`
	}{e.EventName(), e.Step, e.From, e.To, e.Init, num(e.WallS)})
}

// MarshalJSON gives the checkpoint's JSON Lines form.
func (e CheckpointEvent) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Event string `json:"event"`
		Step  int64  `json:"step"`
		Path  string `json:"path"`
		WallS num    `json:"wall_s"`
	}{e.EventName(), e.Step, e.Path, num(e.WallS)})
}

// MarshalJSON gives the summary's JSON Lines form. final_val_loss and
// grow_step are null when absent; mixing is absent when no check ran.
func (e SummaryEvent) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Event          string    `json:"event"`
		Steps          int64     `json:"steps"`
		Tokens         int64     `json:"tokens"`
		FLOPs          num       `json:"flops"`
		FixedFLOPs     num       `json:"fixed_flops"`
		FLOPsSavedFrac num       `json:"flops_saved_frac"`
		FinalTrainLoss num       `json:"final_train_loss"`
		FinalValLoss   *num      `json:"final_val_loss"`
		WallS          num       `json:"wall_s"`
		TokensPerS     num       `json:"tokens_per_s"`
		LayersStart    int       `json:"layers_start"`
		LayersEnd      int       `json:"layers_end"`
		GrowStep       *int64    `json:"grow_step"`
		Kernel         string    `json:"kernel"`
		Workers        int       `json:"workers"`
		Mixing         *MixCheck `json:"mixing,omitempty"`
	}{e.EventName(), e.Steps, e.Tokens, num(e.FLOPs), num(e.FixedFLOPs), num(e.SavedFrac()),
		num(e.FinalTrainLoss), optNum(e.FinalValLoss), num(e.WallS), num(e.TokensPerS),
		e.LayersStart, e.LayersEnd, e.GrowStep, e.Kernel, e.Workers, e.Mixing})
}
