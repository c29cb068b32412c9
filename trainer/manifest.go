package trainer

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/minio/sha256-simd"
)

// ManifestVersion is the manifest format this build writes and reads.
const ManifestVersion = 1

// Manifest describes a checkpoint: what was trained, how far, with which
// data, schedule and optimizer, and the SHA-256 of every other file of the
// checkpoint. Digest covers the manifest itself (see ParseManifest), so a
// changed byte anywhere is detected, not just in the tensor files.
type Manifest struct {
	Format int `json:"format"`
	// Config is the model configuration, as the nn package encodes it.
	Config json.RawMessage `json:"config"`

	// Progress: completed steps and what they consumed.
	Step        int64   `json:"step"`
	Tokens      int64   `json:"tokens"`
	FLOPs       float64 `json:"flops"`
	FixedFLOPs  float64 `json:"fixed_flops"`
	WallSeconds float64 `json:"wall_s"`

	Seed    uint64        `json:"seed"`
	Sampler *SamplerState `json:"sampler,omitempty"` // the data position
	// RNG holds other generator states by purpose (EncodePCG text).
	RNG  map[string]string `json:"rng,omitempty"`
	Data *DataState        `json:"data,omitempty"`
	// Tokenizer names the tokenizer of the data; absent is byte-level.
	// Its tokenizer.json, when the checkpoint holds one, is in Files.
	Tokenizer *TokenizerInfo `json:"tokenizer,omitempty"`
	Schedule  *Schedule      `json:"schedule,omitempty"`
	Growth    Growth         `json:"growth"`
	// Optimizer names the optimizer whose state is in OptimFile.
	Optimizer *OptimizerInfo `json:"optimizer,omitempty"`

	// Run is the trainer's whole Config (defaults filled in), so that a run
	// resumes from its checkpoint alone.
	Run json.RawMessage `json:"run,omitempty"`
	// TrainLoss and ValLoss are the last training and validation losses
	// (absent before the first step or evaluation).
	TrainLoss *float64 `json:"train_loss,omitempty"`
	ValLoss   *float64 `json:"val_loss,omitempty"`

	// Files maps each file of the checkpoint but the manifest to its size
	// and digest.
	Files map[string]FileDigest `json:"files"`
	// Digest is the SHA-256 of the manifest's compact JSON encoding with
	// Digest empty.
	Digest string `json:"manifest_sha256"`
}

// Growth is a run's growth plan and what has happened so far.
type Growth struct {
	Plan    json.RawMessage `json:"plan,omitempty"` // as the grow package encodes it
	History []GrowthRecord  `json:"history"`
}

// GrowthRecord is one expansion.
type GrowthRecord struct {
	Step int64  `json:"step"`
	From int    `json:"from"` // blocks before
	To   int    `json:"to"`   // blocks after
	Init string `json:"init"` // how the new blocks began
}

// OptimizerInfo names the optimizer and its hyper-parameters.
type OptimizerInfo struct {
	Name  string          `json:"name"`
	Hyper json.RawMessage `json:"hyper,omitempty"`
}

// FileDigest is a file's size and SHA-256 (lower-case hex).
type FileDigest struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// canonical is the compact encoding the manifest digest covers.
func (m *Manifest) canonical() ([]byte, error) {
	c := *m
	c.Digest = ""
	return json.Marshal(&c)
}

// encodeManifest stamps m's digest and returns its file form (indented).
func encodeManifest(m *Manifest) ([]byte, error) {
	c, err := m.canonical()
	if err != nil {
		return nil, fmt.Errorf("manifest: %v", err)
	}
	sum := sha256.Sum256(c)
	m.Digest = hex.EncodeToString(sum[:])
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("manifest: %v", err)
	}
	return append(b, '\n'), nil
}

// ParseManifest decodes and validates a manifest: its format version, its
// own digest, and the sanity of every field.
func ParseManifest(b []byte) (*Manifest, error) {
	// Read the version first so a newer format gets a version error, not a
	// confusing field error.
	var v struct {
		Format *int `json:"format"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("manifest: not valid JSON: %v", err)
	}
	switch {
	case v.Format == nil:
		return nil, errors.New("manifest: no format field; not a sprout checkpoint manifest")
	case *v.Format != ManifestVersion:
		return nil, fmt.Errorf("manifest: format %d is not supported (this build reads format %d)", *v.Format, ManifestVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	m := new(Manifest)
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("manifest: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("manifest: content after the JSON object")
	}
	c, err := m.canonical()
	if err != nil {
		return nil, fmt.Errorf("manifest: %v", err)
	}
	sum := sha256.Sum256(c)
	if got := hex.EncodeToString(sum[:]); got != m.Digest {
		return nil, fmt.Errorf("manifest: contents do not match manifest_sha256 (computed %s, recorded %q): the manifest was corrupted or edited", got, m.Digest)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("manifest: %v", err)
	}
	// Hand raw JSON on compact, as it was before indentation.
	for _, r := range []*json.RawMessage{&m.Config, &m.Growth.Plan, optimizerHyper(m), &m.Run} {
		if r != nil && len(*r) > 0 {
			var buf bytes.Buffer
			if json.Compact(&buf, *r) == nil {
				*r = buf.Bytes()
			}
		}
	}
	return m, nil
}

func optimizerHyper(m *Manifest) *json.RawMessage {
	if m.Optimizer == nil {
		return nil
	}
	return &m.Optimizer.Hyper
}

func (m *Manifest) validate() error {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) && x >= 0 }
	switch {
	case len(m.Config) == 0 || string(m.Config) == "null":
		return errors.New("no model config")
	case m.Step < 0 || m.Tokens < 0:
		return fmt.Errorf("negative step (%d) or token count (%d)", m.Step, m.Tokens)
	case !finite(m.FLOPs) || !finite(m.FixedFLOPs) || !finite(m.WallSeconds):
		return errors.New("negative FLOP count or wall time")
	}
	if _, ok := m.Files[ModelFile]; !ok {
		return fmt.Errorf("files does not list %s", ModelFile)
	}
	names := make([]string, 0, len(m.Files))
	for n := range m.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := m.Files[n]
		if n == "" || n == "." || n == ".." || n == ManifestFile || strings.ContainsAny(n, `/\`) || filepath.Base(n) != n {
			return fmt.Errorf("files lists %q, which is not a plain file name of the checkpoint", n)
		}
		if f.Size < 0 {
			return fmt.Errorf("file %s has negative size %d", n, f.Size)
		}
		if len(f.SHA256) != 64 || strings.ToLower(f.SHA256) != f.SHA256 {
			return fmt.Errorf("file %s: digest %q is not 64 lower-case hex digits", n, f.SHA256)
		}
		if _, err := hex.DecodeString(f.SHA256); err != nil {
			return fmt.Errorf("file %s: digest %q is not hex", n, f.SHA256)
		}
	}
	if m.Schedule != nil {
		if err := m.Schedule.Validate(); err != nil {
			return err
		}
	}
	if m.Sampler != nil {
		if _, err := DecodePCG(m.Sampler.PCG); err != nil {
			return fmt.Errorf("sampler: %v", err)
		}
		if m.Sampler.Tokens <= 0 || m.Sampler.Ctx <= 0 {
			return fmt.Errorf("sampler: invalid tokens %d or context %d", m.Sampler.Tokens, m.Sampler.Ctx)
		}
	}
	for name, s := range m.RNG {
		if _, err := DecodePCG(s); err != nil {
			return fmt.Errorf("rng %q: %v", name, err)
		}
	}
	last := int64(0)
	for i, g := range m.Growth.History {
		if g.Step < last || g.Step > m.Step || g.From < 0 || g.To < 0 {
			return fmt.Errorf("growth history entry %d (step %d, %d -> %d blocks) is out of order or out of range", i, g.Step, g.From, g.To)
		}
		last = g.Step
	}
	for _, l := range []*float64{m.TrainLoss, m.ValLoss} {
		if l != nil && (math.IsNaN(*l) || math.IsInf(*l, 0)) {
			return errors.New("recorded loss is not finite")
		}
	}
	if t := m.Tokenizer; t != nil {
		if t.Digest == "" || t.Vocab < 0 {
			return fmt.Errorf("tokenizer %q has no digest or a negative vocabulary", t.Name)
		}
	}
	if _, ok := m.Files[TokenizerFile]; ok && m.Tokenizer == nil {
		return fmt.Errorf("files lists %s but no tokenizer is named", TokenizerFile)
	}
	if m.Optimizer != nil {
		switch m.Optimizer.Name {
		case OptAdamW, OptMuon, OptSGD:
		case "":
			return errors.New("optimizer has no name")
		default:
			return fmt.Errorf("optimizer %q is unknown (want adamw, muon or sgd)", m.Optimizer.Name)
		}
	}
	return nil
}
