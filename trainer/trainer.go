package trainer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/sproutml/sprout/asm"
	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/safetensors"
	"github.com/sproutml/sprout/tokenizer"
)

// ErrInterrupted is wrapped by the error Run and Resume return when their
// context is cancelled (Ctrl-C): the run stopped after a whole step and, when
// it has an Out directory, checkpointed there.
var ErrInterrupted = errors.New("trainer: interrupted")

// Result is what a run produced: its summary (also for an interrupted or
// failed run, up to the last whole step), the trained model, the config with
// its defaults filled in, and the last checkpoint written ("" if none).
type Result struct {
	Summary    SummaryEvent
	Model      *nn.Model
	Config     Config
	Checkpoint string
	// Tokenizer is the data's tokenizer (byte-level when unknown).
	Tokenizer tokenizer.Tokenizer
}

// PreGrowDir is where a run checkpointing to out saves its state just
// before the expansion at step (the checkpoint after it goes to out).
// Resuming from it replays the expansion, possibly with another plan.
func PreGrowDir(out string, step int) string {
	return fmt.Sprintf("%s.pre-grow-%d", filepath.Clean(out), step)
}

// Run trains per cfg and emits events (StepEvent, EvalEvent, GrowEvent,
// CheckpointEvent, SummaryEvent) to sink (may be nil).
//
// Cancelling ctx (Ctrl-C) stops after the current step, writes a checkpoint
// when cfg.Out is set, and returns the partial Result with an error wrapping
// ErrInterrupted. A loss, gradient or weight that becomes NaN or infinite
// stops the run with an error naming the step, and the last checkpoint
// written before it is left as it was.
func Run(ctx context.Context, cfg Config, sink Sink) (*Result, error) {
	cfg.Defaults()
	if err := cfg.absData(); err != nil {
		return nil, err
	}
	r, err := prepare(cfg, sink, 0, "", nil)
	if err != nil {
		return nil, err
	}
	defer r.lock.Unlock()
	mc := r.cfg.Model
	mc.Layers = r.cfg.startDepth()
	r.m, err = nn.NewModel(mc, r.cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	r.sampler, err = NewSampler(r.data.Train, mc.Ctx, r.cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	r.layersStart = mc.Layers
	r.depth = mc.Layers
	return r.loop(ctx)
}

// run is the state of one training session.
type run struct {
	cfg  Config
	sink Sink
	data *Dataset
	// tokInfo and tokJSON are the checkpoints' tokenizer entry and file,
	// made once (tokMade).
	tokInfo *TokenizerInfo
	tokJSON []byte
	tokMade bool
	evalWin [][]uint16
	sched   Schedule
	stages  []grow.Stage

	m       *nn.Model
	opt     nn.Optimizer
	optInfo *OptimizerInfo
	sampler *Sampler
	st      *stepper
	batch   [][]uint16

	step    int
	tokens  int64
	history []GrowthRecord

	// FLOPs: flopsDone covers the steps before segStart, which were run at
	// the depths of earlier segments; the steps since run at depth.
	flopsDone   float64
	segStart    int
	depth       int
	layersStart int

	lastLoss *float64
	lastVal  *float64
	mixWin   [][]uint16 // the mixing check's windows (nil: off)
	lastMix  *MixCheck  // the last mixing check of this session

	wall0     float64 // wall seconds of earlier sessions
	start     time.Time
	trainDur  time.Duration // this session's time in training steps
	sessToks  int64         // this session's tokens
	lastCkpt  string        // written by this session
	lastGood  string        // the last checkpoint of the run, also from before this session
	sinkErr   error
	evalBatch int
	resumed   bool // the session began from a checkpoint at step resumedAt
	resumedAt int
	lock      *Lock // on cfg.Out, held for the session

	// The last save of this session: when it ended and how long it took
	// (see checkpointDue).
	savedAt, saveDur time.Duration
}

// prepare validates cfg (defaults filled in), takes the lock on cfg.Out
// (the run's lock field; pre, may be nil, is one the caller took already and
// is released unless it is Out's), loads the data and builds everything but
// the model, its optimizer state and the sampler. It checks, before any
// training, every directory the run will save to from step on (see
// checkOut); resumed is the directory the run resumes from, "" for a new
// run. On error the lock is released.
func prepare(cfg Config, sink Sink, step int, resumed string, pre *Lock) (r *run, err error) {
	lock := pre
	defer func() {
		if err != nil {
			lock.Unlock()
		}
	}()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if pre != nil && (cfg.Out == "" || !sameDir(pre.dir, cfg.Out)) {
		pre.Unlock()
		lock = nil
	}
	if cfg.Out != "" && lock == nil {
		if lock, err = LockDir(cfg.Out); err != nil {
			return nil, err
		}
	}
	data, err := loadData(&cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Model.Vocab == 0 {
		cfg.Model.Vocab = data.Vocab
	} else if cfg.Model.Vocab < data.Vocab {
		return nil, fmt.Errorf("config: model vocab %d is smaller than the data's vocabulary %d", cfg.Model.Vocab, data.Vocab)
	}
	if data.Tok != nil && cfg.Model.Vocab < data.Tok.VocabSize() {
		return nil, fmt.Errorf("config: model vocab %d is smaller than tokenizer %s's %d", cfg.Model.Vocab, data.Tok.Name(), data.Tok.VocabSize())
	}
	if err := checkSpace(cfg); err != nil {
		return nil, err
	}
	sched, err := cfg.schedule()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	stages, err := cfg.stages(sched)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := checkOut(&cfg, stages, step, resumed); err != nil {
		return nil, err
	}
	r = &run{cfg: cfg, sink: sink, data: data, sched: sched, stages: stages, evalBatch: cfg.Shard, lock: lock}
	r.evalWin = EvalWindows(data.Val, cfg.Model.Ctx, cfg.EvalWindows)
	if cfg.MixWindows > 0 {
		r.mixWin = EvalWindows(data.Val, cfg.Model.Ctx, cfg.MixWindows)
	}
	r.opt, r.optInfo, err = newOptimizer(&r.cfg)
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	return r, nil
}

// checkOut finds out now, not when a checkpoint is due after hours of
// training, that one cannot be written: it checks Out and the pre-grow
// directories of the expansions still ahead of step (a resumed run does not
// save the one at its own step again). A checkpoint found there is replaced
// only when the run resumes from Out itself or cfg.Replace is set; the
// pre-grow directories go with Out, so that a run that died between an
// expansion's two checkpoints resumes.
func checkOut(cfg *Config, stages []grow.Stage, step int, resumed string) error {
	if cfg.Out == "" {
		return nil
	}
	out := filepath.Clean(cfg.Out)
	replace := cfg.Replace || resumed != "" && sameDir(resumed, out)
	dirs := []string{out}
	for _, s := range stages {
		if s.At > step || s.At == step && resumed == "" {
			dirs = append(dirs, PreGrowDir(out, s.At))
		}
	}
	for _, d := range dirs {
		if err := checkTarget(d, replace); err != nil {
			return err
		}
	}
	return nil
}

// sameDir reports whether a and b name the same directory, absolute or not.
func sameDir(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA != nil || errB != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return absA == absB
}

// loadData reads the run's dataset (the embedded corpus when cfg.Data is "").
func loadData(cfg *Config) (*Dataset, error) {
	opt := DataOptions{Ctx: cfg.Model.Ctx, ValFraction: cfg.ValFraction, Vocab: cfg.Model.Vocab}
	tok, err := resolveTokenizer(cfg.Tokenizer)
	if err != nil {
		return nil, err
	}
	opt.Tokenizer = tok
	if cfg.Data == "" {
		return CorpusDataset(opt)
	}
	opt.Format = cfg.DataFormat
	if opt.Format == "bin" {
		opt.Format = FormatTokens
	}
	return LoadDataset(cfg.Data, opt)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// stepFLOPs is the FLOPs of one training step at depth layers.
func (r *run) stepFLOPs(layers int) float64 {
	return grow.StepFLOPs(r.cfg.Model, layers, r.cfg.Batch, r.cfg.Model.Ctx)
}

// flops returns the training FLOPs spent so far. For a run from scratch it
// is computed exactly as grow.RunFLOPs computes its total.
func (r *run) flops() float64 {
	return r.flopsDone + float64(r.step-r.segStart)*r.stepFLOPs(r.depth)
}

// fixedFLOPs is what the steps so far would have cost at the final depth.
func (r *run) fixedFLOPs() float64 {
	return float64(r.step) * r.stepFLOPs(r.cfg.Model.Layers)
}

func (r *run) wall() float64 { return r.wall0 + time.Since(r.start).Seconds() }

// tokensPerS is this session's training throughput (time in steps only);
// a session that took no step reports the run's tokens over its wall time.
func (r *run) tokensPerS() float64 {
	if r.trainDur <= 0 {
		if w := r.wall(); w > 0 {
			return float64(r.tokens) / w
		}
		return 0
	}
	return float64(r.sessToks) / r.trainDur.Seconds()
}

// emit sends e to the sink, remembering the first failure (the loop stops on
// it, after checkpointing).
func (r *run) emit(e Event) {
	if r.sink == nil {
		return
	}
	if err := r.sink.Emit(e); err != nil && r.sinkErr == nil {
		r.sinkErr = fmt.Errorf("trainer: reporting %s event: %w", e.EventName(), err)
	}
}

// loop trains from r.step to the end of the run.
func (r *run) loop(ctx context.Context) (*Result, error) {
	cfg := &r.cfg
	T := cfg.Model.Ctx
	r.st = newStepper(r.m, cfg.Batch, cfg.Shard, T, cfg.Workers)
	r.batch = make([][]uint16, cfg.Batch)
	if o, ok := r.opt.(interface{ SetGemmThreads(int) }); ok {
		o.SetGemmThreads(r.st.gemm)
	}
	r.start = time.Now()

	for r.step < cfg.Steps {
		if ctx.Err() != nil {
			return r.interrupted()
		}
		if err := r.growIfDue(); err != nil {
			return r.result(), err
		}
		t0 := time.Now()
		lr := r.lr(r.step)
		loss, err := r.st.step(r.sampler.Batch(r.batch))
		if err != nil {
			return r.result(), fmt.Errorf("trainer: step %d: %w", r.step+1, err)
		}
		if !finite(loss) {
			return r.result(), r.diverged(fmt.Sprintf("training loss is %v at step %d", loss, r.step+1))
		}
		params := r.m.Params()
		gn := nn.ClipGradNorm(params, float32(max(cfg.GradClip, 0)))
		if !finite(float64(gn)) {
			return r.result(), r.diverged(fmt.Sprintf("gradient norm is %v at step %d", gn, r.step+1))
		}
		r.opt.Step(params, float32(lr))
		// moe with balance "bias": move the selection biases from this
		// step's reduced expert counts (state saved with the weights).
		if err := r.m.UpdateBalanceBias(r.st.load); err != nil {
			return r.result(), fmt.Errorf("trainer: step %d: %w", r.step+1, err)
		}
		r.trainDur += time.Since(t0)
		r.step++
		n := int64(cfg.Batch * T)
		r.tokens += n
		r.sessToks += n
		r.lastLoss = &loss

		var val *float64
		if cfg.EvalEvery > 0 && (r.step%cfg.EvalEvery == 0 || r.step == cfg.Steps) {
			v, err := evaluate(r.m, r.evalWin, r.evalBatch, r.st.gemm)
			if err != nil {
				return r.result(), err
			}
			if !finite(v) {
				return r.result(), r.diverged(fmt.Sprintf("validation loss is %v after step %d", v, r.step))
			}
			val, r.lastVal = &v, &v
		}
		var mix *MixCheck
		if val != nil {
			if mix, err = r.mixCheck(); err != nil {
				return r.result(), err
			}
		}
		if r.step%cfg.LogEvery == 0 || val != nil || r.step == cfg.Steps {
			r.emit(StepEvent{Step: int64(r.step), Tokens: r.tokens, FLOPs: r.flops(), LR: lr, Loss: loss, ValLoss: val,
				Layers: r.depth, WallS: r.wall(), TokensPerS: r.tokensPerS(), ExpertTokens: r.expertTokens(), Mixing: mix})
		}
		if val != nil {
			r.emit(EvalEvent{Step: int64(r.step), Tokens: r.tokens, ValLoss: *val, WallS: r.wall(), Mixing: mix})
		}
		if cfg.Out != "" && r.checkpointDue(val != nil) && r.step < cfg.Steps {
			if err := r.save(cfg.Out); err != nil {
				err = r.rescue(err) // before the result, which names the rescue
				return r.result(), err
			}
		}
		if r.sinkErr != nil {
			return r.stopOnSinkError()
		}
	}
	switch {
	case r.resumed && r.step == r.resumedAt && filepath.Clean(cfg.Out) == r.lastGood:
		r.lastCkpt = r.lastGood // nothing new to save: the run had already finished
	case cfg.Out != "":
		if err := r.save(cfg.Out); err != nil {
			err = r.rescue(err) // before the result, which names the rescue
			return r.result(), err
		}
	}
	res := r.result()
	r.emit(res.Summary)
	if r.sinkErr != nil {
		return res, r.sinkErr
	}
	return res, nil
}

// checkpointDue reports whether the step just taken (evaluated or not)
// ends with a periodic checkpoint. CheckpointAtEval skips an evaluation's
// checkpoint while the last save took more than saveShare of the time since
// it ended: saves then cost at most about that share of the run, however
// large the model or slow the disk.
func (r *run) checkpointDue(evaluated bool) bool {
	switch every := r.cfg.CheckpointEvery; {
	case every > 0:
		return r.step%every == 0
	case every == CheckpointAtEval:
		due := evaluated
		if r.cfg.EvalEvery <= 0 {
			due = r.step%max(1, r.cfg.Steps/10) == 0
		}
		return due && (r.saveDur == 0 || float64(r.saveDur) <= saveShare*float64(time.Since(r.start)-r.savedAt))
	}
	return false
}

// saveShare is the most of a run's time that CheckpointAtEval's saves take
// (a variable for tests, whose tiny runs are mostly saving).
var saveShare = 0.01

// expertTokens returns this step's tokens per expert of each moe block (a
// copy), or nil for other archs.
func (r *run) expertTokens() [][]int64 {
	load := r.st.load
	if len(load) == 0 || r.m.Experts == 0 {
		return nil
	}
	E := r.m.Experts
	out := make([][]int64, len(load)/E)
	for l := range out {
		out[l] = append([]int64(nil), load[l*E:(l+1)*E]...)
	}
	return out
}

// growIfDue applies the plan's expansions due at the start of this step,
// checkpointing just before (PreGrowDir) and just after (Out) each one.
func (r *run) growIfDue() error {
	for len(r.history) < len(r.stages) && r.stages[len(r.history)].At == r.step {
		i := len(r.history)
		s := r.stages[i]
		if r.cfg.Out != "" && !(r.resumed && r.step == r.resumedAt) { // a resumed run's start is already saved
			if err := r.save(PreGrowDir(r.cfg.Out, r.step)); err != nil {
				return err
			}
		}
		from := len(r.m.Blocks)
		if _, err := grow.ExpandWith(r.m, r.opt, s.Layers, r.cfg.Grow.Options(s, growSeed(r.cfg.Seed, i))); err != nil {
			return fmt.Errorf("trainer: expansion at step %d: %w", r.step, err)
		}
		r.flopsDone += float64(r.step-r.segStart) * r.stepFLOPs(r.depth)
		r.segStart, r.depth = r.step, s.Layers
		r.history = append(r.history, GrowthRecord{Step: int64(r.step), From: from, To: s.Layers, Init: string(s.Strategy)})
		r.emit(GrowEvent{Step: int64(r.step), From: from, To: s.Layers, Init: string(s.Strategy), WallS: r.wall()})
		if r.cfg.Out != "" {
			if err := r.save(r.cfg.Out); err != nil {
				return err
			}
		}
	}
	return nil
}

// lr is the learning rate of step: the schedule's, times the plan's
// re-warmup factor after the last expansion.
func (r *run) lr(step int) float64 {
	lr := r.sched.LR(step)
	if r.cfg.Grow != nil && len(r.history) > 0 {
		lr *= r.cfg.Grow.RewarmupFactor(step, int(r.history[len(r.history)-1].Step), r.cfg.Steps)
	}
	return lr
}

// growSeed derives the seed of expansion stage i from the run's seed
// (SplitMix64 of the pair), so every stage initialises differently and
// reproducibly.
func growSeed(seed uint64, stage int) uint64 {
	z := seed + uint64(stage+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// interrupted checkpoints (when Out is set) and reports the interruption.
func (r *run) interrupted() (*Result, error) {
	if r.cfg.Out != "" {
		if err := r.save(r.cfg.Out); err != nil {
			err = r.rescue(err)
			return r.result(), fmt.Errorf("%w after step %d, and the checkpoint failed: %w", ErrInterrupted, r.step, err)
		}
		return r.result(), fmt.Errorf("%w after step %d; checkpoint written to %s", ErrInterrupted, r.step, r.cfg.Out)
	}
	return r.result(), fmt.Errorf("%w after step %d (no checkpoint: no output directory)", ErrInterrupted, r.step)
}

// stopOnSinkError checkpoints and returns the sink's error.
func (r *run) stopOnSinkError() (*Result, error) {
	if r.cfg.Out != "" {
		if err := r.save(r.cfg.Out); err != nil {
			return r.result(), errors.Join(r.sinkErr, err)
		}
		return r.result(), fmt.Errorf("%w (stopped after step %d; checkpoint written to %s)", r.sinkErr, r.step, r.cfg.Out)
	}
	return r.result(), fmt.Errorf("%w (stopped after step %d)", r.sinkErr, r.step)
}

// diverged is the error for a run whose numbers stopped being finite. No
// checkpoint is written, so the last good one stays.
func (r *run) diverged(what string) error {
	kept := "no checkpoint was written"
	if r.lastGood != "" {
		kept = fmt.Sprintf("the last good checkpoint (%s) is kept", r.lastGood)
	}
	return fmt.Errorf("trainer: the run diverged: %s; stopped, %s (try a lower learning rate)", what, kept)
}

// result is the run's Result as of now.
func (r *run) result() *Result {
	s := SummaryEvent{
		Steps:       int64(r.step),
		Tokens:      r.tokens,
		FLOPs:       r.flops(),
		FixedFLOPs:  r.fixedFLOPs(),
		WallS:       r.wall(),
		TokensPerS:  r.tokensPerS(),
		LayersStart: r.layersStart,
		LayersEnd:   r.depth,
		Kernel:      asm.Kernel(),
		FinalValLoss: func() *float64 {
			if r.lastVal == nil {
				return nil
			}
			v := *r.lastVal
			return &v
		}(),
	}
	if r.st != nil {
		s.Workers = r.st.workers
	}
	if r.lastLoss != nil {
		s.FinalTrainLoss = *r.lastLoss
	} else {
		s.FinalTrainLoss = math.NaN()
	}
	if n := len(r.history); n > 0 {
		g := r.history[n-1].Step
		s.GrowStep = &g
	}
	if r.lastMix != nil {
		c := *r.lastMix
		s.Mixing = &c
	}
	var tok tokenizer.Tokenizer = tokenizer.Bytes{}
	if r.data.Tok != nil {
		tok = r.data.Tok
	}
	return &Result{Summary: s, Model: r.m, Config: r.cfg, Checkpoint: r.lastCkpt, Tokenizer: tok}
}

// save writes the run's state as a checkpoint in dir. It refuses to save
// weights that are not finite.
func (r *run) save(dir string) error {
	params := r.m.Params()
	for _, p := range params {
		for _, v := range p.Data {
			if !finite(float64(v)) {
				return r.diverged(fmt.Sprintf("parameter %s is not finite after step %d", p.Name, r.step))
			}
		}
	}
	t0 := time.Since(r.start)
	c, err := r.checkpoint()
	if err != nil {
		return err
	}
	if err := SaveCheckpoint(dir, c); err != nil {
		return &saveError{fmt.Errorf("trainer: saving step %d: %w", r.step, err)}
	}
	r.savedAt = time.Since(r.start)
	r.saveDur = r.savedAt - t0
	r.lastCkpt, r.lastGood = dir, dir
	r.emit(CheckpointEvent{Step: int64(r.step), Path: dir, WallS: r.wall()})
	return nil
}

// saveError is a save that failed to write (a full disk, say), as opposed
// to one refused because the weights are not finite.
type saveError struct{ err error }

func (e *saveError) Error() string { return e.err.Error() }
func (e *saveError) Unwrap() error { return e.err }

// rescue follows a failed save at the end of a session: the trained state
// would be lost with the process, so it is saved once more to a new
// directory in the system's temporary directory (often another file
// system), and the error says where. A refusal to save (non-finite
// weights) is returned as it is.
func (r *run) rescue(err error) error {
	var se *saveError
	if !errors.As(err, &se) {
		return err
	}
	tmp, terr := os.MkdirTemp("", "sprout-rescue-")
	if terr == nil {
		dir := filepath.Join(tmp, filepath.Base(filepath.Clean(r.cfg.Out)))
		if terr = r.save(dir); terr == nil {
			return fmt.Errorf("%w; the trained state (step %d) was saved instead to %s: resume from there, or move it", err, r.step, dir)
		}
		os.RemoveAll(tmp)
	}
	return fmt.Errorf("%w; saving it to the temporary directory failed too: %w", err, terr)
}

// checkpoint gathers the run's state. Tensors share the model's and the
// optimizer's memory; write them before the next step.
func (r *run) checkpoint() (*Checkpoint, error) {
	mcfg, err := json.Marshal(r.m.Config)
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	runCfg, err := json.Marshal(r.cfg)
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	var plan json.RawMessage
	if r.cfg.Grow != nil {
		if plan, err = json.Marshal(r.cfg.Grow); err != nil {
			return nil, fmt.Errorf("trainer: %w", err)
		}
	}
	sst := r.sampler.State()
	dst := r.data.State()
	sched := r.sched
	man := Manifest{
		Config:      mcfg,
		Step:        int64(r.step),
		Tokens:      r.tokens,
		FLOPs:       r.flops(),
		FixedFLOPs:  r.fixedFLOPs(),
		WallSeconds: r.wall(),
		Seed:        r.cfg.Seed,
		Sampler:     &sst,
		Data:        &dst,
		Schedule:    &sched,
		Growth:      Growth{Plan: plan, History: append([]GrowthRecord{}, r.history...)},
		Optimizer:   r.optInfo,
		Run:         runCfg,
		TrainLoss:   r.lastLoss,
		ValLoss:     r.lastVal,
	}
	var tokJSON []byte
	if man.Tokenizer, tokJSON, err = r.tokenizerFiles(); err != nil {
		return nil, err
	}
	optim, optimMeta := optimTensors(r.opt, r.m.Params())
	return &Checkpoint{Manifest: man, Model: modelTensors(r.m), Optim: optim, OptimMeta: optimMeta, Tokenizer: tokJSON}, nil
}

// modelTensors lists m's parameters as tensors (sharing their memory).
func modelTensors(m *nn.Model) []safetensors.Tensor {
	ps := m.Params()
	ts := make([]safetensors.Tensor, len(ps))
	for i, p := range ps {
		ts[i] = safetensors.Tensor{Name: p.Name, Shape: append([]int(nil), p.Shape...), Data: p.Data}
	}
	return ts
}
