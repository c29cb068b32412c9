package trainer

import (
	"cmp"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/safetensors"
)

// SGDMomentum is the (Nesterov) momentum of the "sgd" optimizer.
const SGDMomentum = 0.9

// optimizerHyper is what a checkpoint records about the optimizer's
// settings (its state is in OptimFile).
type optimHyper struct {
	WeightDecay float64 `json:"weight_decay"`
	GradClip    float64 `json:"grad_clip"`
	Beta1       float64 `json:"beta1,omitempty"`
	Beta2       float64 `json:"beta2,omitempty"`
	Momentum    float64 `json:"momentum,omitempty"`
	Nesterov    bool    `json:"nesterov,omitempty"`
	Scale       string  `json:"scale,omitempty"`      // muon
	NonMatrix   string  `json:"non_matrix,omitempty"` // muon
	Embeddings  bool    `json:"embeddings,omitempty"` // muon: embeddings and head on Muon
}

// newOptimizer builds the optimizer cfg names and the hyper-parameters a
// manifest records for it.
func newOptimizer(cfg *Config) (nn.Optimizer, *OptimizerInfo, error) {
	wd := float32(max(cfg.WeightDecay, 0))
	h := optimHyper{WeightDecay: max(cfg.WeightDecay, 0), GradClip: max(cfg.GradClip, 0)}
	var opt nn.Optimizer
	switch cfg.Optimizer {
	case OptAdamW:
		opt = nn.NewAdamW(nn.AdamWConfig{WeightDecay: wd})
		h.Beta1, h.Beta2 = 0.9, 0.95
	case OptMuon:
		m, err := nn.NewMuon(nn.MuonConfig{WeightDecay: wd, Scale: cfg.MuonScale, Embeddings: cfg.MuonEmbed})
		if err != nil {
			return nil, nil, err
		}
		opt = m
		h.Momentum, h.Nesterov, h.Scale, h.NonMatrix, h.Embeddings = 0.95, true, cmp.Or(cfg.MuonScale, "rms"), "nsgd", cfg.MuonEmbed
	case OptSGD:
		opt = nn.NewSGD(nn.SGDConfig{Momentum: SGDMomentum, Nesterov: true, WeightDecay: wd})
		h.Momentum, h.Nesterov = SGDMomentum, true
	default:
		return nil, nil, fmt.Errorf("trainer: optimizer %q is unknown (want adamw, muon or sgd)", cfg.Optimizer)
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, nil, err
	}
	return opt, &OptimizerInfo{Name: opt.Name(), Hyper: b}, nil
}

// Metadata keys of OptimFile.
const (
	optimMetaName  = "optimizer"
	optimMetaSteps = "steps"
)

// optimTensors returns the optimizer's state as "<param>.<key>" tensors
// (in parameter order, keys sorted) and its scalar state as metadata.
func optimTensors(opt nn.Optimizer, params []*nn.Param) ([]safetensors.Tensor, map[string]string) {
	var ts []safetensors.Tensor
	for _, p := range params {
		st := opt.State(p)
		keys := make([]string, 0, len(st))
		for k := range st {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			buf := st[k]
			shape := []int{len(buf)}
			if len(buf) == p.Len() {
				shape = p.Shape
			}
			ts = append(ts, safetensors.Tensor{Name: p.Name + "." + k, Shape: append([]int(nil), shape...), Data: buf})
		}
	}
	if ts == nil {
		ts = []safetensors.Tensor{} // the file is written even when no parameter has state yet
	}
	return ts, map[string]string{optimMetaName: opt.Name(), optimMetaSteps: strconv.Itoa(opt.Steps())}
}

// restoreOptim loads optimizer state saved by optimTensors into opt for the
// model's parameters, checking every name and size.
func restoreOptim(opt nn.Optimizer, m *nn.Model, ts []safetensors.Tensor, meta map[string]string) error {
	if name := meta[optimMetaName]; name != opt.Name() {
		return fmt.Errorf("checkpoint: %s holds %q optimizer state, but the run uses %s", OptimFile, name, opt.Name())
	}
	steps, err := strconv.Atoi(meta[optimMetaSteps])
	if err != nil || steps < 0 {
		return fmt.Errorf("checkpoint: %s: bad optimizer step count %q", OptimFile, meta[optimMetaSteps])
	}
	byParam := map[*nn.Param]map[string][]float32{}
	for _, t := range ts {
		i := strings.LastIndexByte(t.Name, '.')
		var p *nn.Param
		if i > 0 {
			p = m.Param(t.Name[:i])
		}
		if p == nil {
			return fmt.Errorf("checkpoint: %s: tensor %q names no parameter of the model", OptimFile, t.Name)
		}
		if byParam[p] == nil {
			byParam[p] = map[string][]float32{}
		}
		byParam[p][t.Name[i+1:]] = t.Data
	}
	for _, p := range m.Params() {
		opt.ResetState(p)
		if st, ok := byParam[p]; ok {
			if err := opt.SetState(p, st); err != nil {
				return fmt.Errorf("checkpoint: %s: %w", OptimFile, err)
			}
		}
	}
	opt.SetSteps(steps)
	return nil
}
