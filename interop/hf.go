package interop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/sproutml/sprout/nn"
	"github.com/sproutml/sprout/safetensors"
	"github.com/sproutml/sprout/tokenizer"
)

// Files of a Hugging Face model directory.
const (
	HFConfigFile  = "config.json"
	HFWeightsFile = "model.safetensors"
	HFIndexFile   = "model.safetensors.index.json" // sharded weights
)

// hfBuffers reports whether a Hugging Face tensor is a buffer that the
// architecture recomputes and sprout therefore skips: GPT-2's causal mask
// and masked-bias constant, LLaMA's rotary inverse frequencies.
func hfBuffers(arch, name string) bool {
	switch arch {
	case nn.ArchGPT2:
		return strings.HasSuffix(name, ".attn.bias") || strings.HasSuffix(name, ".attn.masked_bias")
	case nn.ArchLlama:
		return strings.HasSuffix(name, ".rotary_emb.inv_freq")
	}
	return false
}

// canonicalHF strips the "transformer." prefix of GPT2LMHeadModel's names,
// so that both spellings (the published gpt2 checkpoint has none) map alike.
func canonicalHF(arch, name string) string {
	if arch == nn.ArchGPT2 {
		if s, ok := strings.CutPrefix(name, "transformer."); ok {
			return s
		}
	}
	return name
}

// FromHF builds a sprout model from a Hugging Face config.json and the
// model's tensors (in any order, already converted to float32). GPT-2
// (model_type "gpt2": GPT2LMHeadModel, names with or without the
// "transformer." prefix, Conv1D weights [in, out]) and LLaMA (model_type
// "llama": LlamaForCausalLM, nn.Linear weights [out, in]) are read. Buffers
// (GPT-2's attn.bias and attn.masked_bias, LLaMA's rotary_emb.inv_freq) are
// skipped; a tied lm_head.weight must equal the embedding. A config field
// sprout cannot honour, an unknown or missing tensor, a repeated one or a
// wrong shape is an error naming it.
func FromHF(config []byte, tensors []safetensors.Tensor) (*nn.Model, error) {
	hc, arch, cfg, err := readHFConfig(config)
	if err != nil {
		return nil, err
	}
	// Check the size before allocating: a config.json that describes a far
	// bigger model than the tensors hold is wrong (or hostile). Smaller
	// discrepancies get their precise error below.
	var have float64
	for _, t := range tensors {
		have += float64(len(t.Data))
	}
	if want := approxParams(cfg); want > 2*have+1e6 {
		return nil, fmt.Errorf("interop: config.json describes a model of about %.4g parameters but the tensors hold only %.4g values", want, have)
	}
	m, err := nn.NewModel(cfg, 0)
	if err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	type target struct {
		p *nn.Param
		m mapping
	}
	byHF := map[string]target{}
	for _, p := range m.Params() {
		mp, err := hfMapping(arch, p.Name)
		if err != nil {
			return nil, err
		}
		byHF[mp.name] = target{p, mp}
	}
	// The head: GPT-2's is always the embedding; LLaMA's when tied.
	embed, tiedHead := "", ""
	switch {
	case arch == nn.ArchGPT2:
		embed, tiedHead = "wte.weight", "lm_head.weight"
	case cfg.TiedHead:
		embed, tiedHead = "model.embed_tokens.weight", "lm_head.weight"
	}
	seen := map[string]string{} // canonical name -> name as given
	var head *safetensors.Tensor
	for i := range tensors {
		t := &tensors[i]
		name := canonicalHF(arch, t.Name)
		if prev, ok := seen[name]; ok {
			return nil, fmt.Errorf("interop: tensor %q appears twice (also as %q)", t.Name, prev)
		}
		seen[name] = t.Name
		if hfBuffers(arch, name) {
			continue
		}
		// A NaN or infinite weight makes every later loss NaN and every
		// sample garbage: refuse it here, where it can be named.
		if i := firstNonFinite(t.Data); i >= 0 {
			return nil, fmt.Errorf("interop: tensor %q holds %v at index %d of %d; sprout imports finite weights only", t.Name, t.Data[i], i, len(t.Data))
		}
		if name == tiedHead && tiedHead != "" {
			head = t
			continue
		}
		tg, ok := byHF[name]
		if !ok {
			return nil, fmt.Errorf("interop: unknown tensor %q: a %s model with this config.json has no such parameter", t.Name, arch)
		}
		want := tg.p.Shape
		if tg.m.transpose {
			want = []int{tg.p.Cols(), tg.p.Rows()}
		}
		if !slices.Equal(t.Shape, want) {
			return nil, fmt.Errorf("interop: tensor %q has shape %v, but config.json makes it %v", t.Name, t.Shape, want)
		}
		if tg.m.transpose {
			copy(tg.p.Data, transpose(t.Data, want[0], want[1]))
		} else {
			copy(tg.p.Data, t.Data)
		}
	}
	var missing []string
	for n := range byHF {
		if _, ok := seen[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("interop: tensor %q is missing (%d missing in all)", missing[0], len(missing))
	}
	if arch == nn.ArchGPT2 && head == nil && !hc.boolean("tie_word_embeddings", true) {
		return nil, errors.New("interop: config.json sets tie_word_embeddings false but there is no lm_head.weight (sprout's GPT-2 ties its head to wte)")
	}
	if head != nil {
		e := byHF[embed].p
		if !slices.Equal(head.Shape, e.Shape) {
			return nil, fmt.Errorf("interop: tensor %q has shape %v, but config.json makes it %v", head.Name, head.Shape, e.Shape)
		}
		for i, v := range head.Data {
			if math.Float32bits(v) != math.Float32bits(e.Data[i]) {
				return nil, fmt.Errorf("interop: %s differs from %s, but sprout's %s ties its head to the embedding (%s)", head.Name, embed, arch, untiedHint(arch))
			}
		}
	}
	return m, nil
}

// firstNonFinite returns the index of the first NaN or infinity in x, or -1.
func firstNonFinite(x []float32) int {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i
		}
	}
	return -1
}

// readHFConfig parses and checks a config.json.
func readHFConfig(b []byte) (*hfConfig, string, nn.Config, error) {
	hc, err := parseHFConfig(b)
	if err != nil {
		return nil, "", nn.Config{}, err
	}
	arch, err := hc.modelType()
	if err != nil {
		return nil, "", nn.Config{}, err
	}
	var cfg nn.Config
	if arch == nn.ArchGPT2 {
		cfg, err = hc.gpt2Config()
	} else {
		cfg, err = hc.llamaConfig()
	}
	if err != nil {
		return nil, "", nn.Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, "", nn.Config{}, fmt.Errorf("interop: config.json describes a model sprout cannot build: %w", err)
	}
	return hc, arch, cfg, nil
}

// approxParams is the parameter count of cfg in float64, which cannot
// overflow whatever the config says.
func approxParams(c nn.Config) float64 {
	d, V, L := float64(c.Dim), float64(c.Vocab), float64(c.Layers)
	if c.Arch == nn.ArchGPT2 {
		return V*d + float64(c.Ctx)*d + 2*d + L*(12*d*d+13*d)
	}
	kv := float64(c.KVHeads)
	if kv == 0 {
		kv = float64(c.Heads)
	}
	hd := d / float64(c.Heads)
	n := V*d + d + L*(2*d+2*d*d+2*d*kv*hd+3*d*float64(c.FFNHidden))
	if !c.TiedHead {
		n += V * d
	}
	return n
}

func untiedHint(arch string) string {
	if arch == nn.ArchGPT2 {
		return "an untied GPT-2 head is not supported"
	}
	return "set tie_word_embeddings false for an untied head"
}

// HFSource describes what ReadHF read.
type HFSource struct {
	ModelType string   // "gpt2" or "llama"
	Files     []string // the safetensors files read
	DTypes    []string // the dtypes of the tensors read, sorted
	Skipped   []string // buffers that were not read
}

// ReadHF reads a Hugging Face model directory: config.json and
// model.safetensors, or the shards model.safetensors.index.json lists. F32,
// F16 and BF16 tensors are converted to float32; see FromHF for the rest.
func ReadHF(dir string) (*nn.Model, *HFSource, error) {
	cb, err := os.ReadFile(filepath.Join(dir, HFConfigFile))
	if err != nil {
		return nil, nil, fmt.Errorf("interop: %w", err)
	}
	_, arch, _, err := readHFConfig(cb) // config errors before reading any weights
	if err != nil {
		return nil, nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	files, err := weightFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	src := &HFSource{ModelType: arch}
	dtypes := map[string]bool{}
	var tensors []safetensors.Tensor
	for _, f := range files {
		path := filepath.Join(dir, f)
		keep := func(i safetensors.Info) bool {
			if hfBuffers(arch, canonicalHF(arch, i.Name)) {
				src.Skipped = append(src.Skipped, i.Name)
				return false
			}
			dtypes[string(i.DType)] = true
			return true
		}
		ts, _, err := safetensors.ReadFileFunc(path, keep)
		if err != nil {
			return nil, nil, fmt.Errorf("interop: %w", err)
		}
		tensors = append(tensors, ts...)
		src.Files = append(src.Files, f)
	}
	for d := range dtypes {
		src.DTypes = append(src.DTypes, d)
	}
	sort.Strings(src.DTypes)
	m, err := FromHF(cb, tensors)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	return m, src, nil
}

// weightFiles lists the safetensors files of a model directory.
func weightFiles(dir string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(dir, HFWeightsFile)); err == nil {
		return []string{HFWeightsFile}, nil
	}
	ib, err := os.ReadFile(filepath.Join(dir, HFIndexFile))
	if errors.Is(err, fs.ErrNotExist) {
		for _, other := range []string{"pytorch_model.bin", "model.bin", "tf_model.h5", "flax_model.msgpack"} {
			if _, err := os.Stat(filepath.Join(dir, other)); err == nil {
				return nil, fmt.Errorf("interop: %s has %s but no %s: only safetensors weights can be read (save with safe_serialization=True)", dir, other, HFWeightsFile)
			}
		}
		return nil, fmt.Errorf("interop: %s has neither %s nor %s", dir, HFWeightsFile, HFIndexFile)
	}
	if err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(ib, &idx); err != nil || len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("interop: %s: no weight_map", filepath.Join(dir, HFIndexFile))
	}
	set := map[string]bool{}
	for _, f := range idx.WeightMap {
		if f == "" || filepath.Base(f) != f || f == "." || f == ".." {
			return nil, fmt.Errorf("interop: %s names %q, which is not a file of the directory", HFIndexFile, f)
		}
		set[f] = true
	}
	files := make([]string, 0, len(set))
	for f := range set {
		files = append(files, f)
	}
	sort.Strings(files)
	return files, nil
}

// DType names a tensor precision for export.
type DType string

// Export precisions.
const (
	F32  DType = "f32"
	F16  DType = "f16"
	BF16 DType = "bf16"
)

// ParseDType reads "f32", "f16" or "bf16".
func ParseDType(s string) (DType, error) {
	switch d := DType(strings.ToLower(s)); d {
	case F32, F16, BF16:
		return d, nil
	}
	return "", fmt.Errorf("interop: unknown dtype %q (want f32, f16 or bf16)", s)
}

func (d DType) safetensors() safetensors.DType {
	switch d {
	case F16:
		return safetensors.F16
	case BF16:
		return safetensors.BF16
	}
	return safetensors.F32
}

func (d DType) torch() string {
	switch d {
	case F16:
		return "float16"
	case BF16:
		return "bfloat16"
	}
	return "float32"
}

// ToHF returns m in Hugging Face layout: the config.json and the tensors
// (as float32; WriteHF stores them in the chosen precision). GPT-2 tensors
// are named as GPT2LMHeadModel saves them ("transformer.h.0.attn.c_attn.weight";
// the tied lm_head is left out, as save_pretrained leaves it out), LLaMA's as
// LlamaForCausalLM's. A muP model is first made plain (see plain), so the
// exported model computes what m computes.
func ToHF(m *nn.Model, dtype DType) ([]byte, []safetensors.Tensor, error) {
	if _, err := ParseDType(string(dtype)); err != nil {
		return nil, nil, err
	}
	m = plain(m)
	cfg, err := hfConfigJSON(m.Config, dtype.torch())
	if err != nil {
		return nil, nil, err
	}
	ts := make([]safetensors.Tensor, 0, len(m.Params()))
	for _, p := range m.Params() {
		mp, err := hfMapping(m.Arch, p.Name)
		if err != nil {
			return nil, nil, err
		}
		t := safetensors.Tensor{Name: mp.name, Shape: append([]int(nil), p.Shape...), Data: p.Data}
		if mp.transpose {
			t.Shape = []int{p.Cols(), p.Rows()}
			t.Data = transpose(p.Data, p.Rows(), p.Cols())
		}
		if m.Arch == nn.ArchGPT2 {
			t.Name = "transformer." + t.Name
		}
		ts = append(ts, t)
	}
	return cfg, ts, nil
}

// WriteHF writes m as a Hugging Face model directory (config.json and
// model.safetensors with metadata {"format": "pt"}) that transformers'
// from_pretrained loads. dir must not exist or be empty, or, with replace,
// be a model directory (holding config.json) that is then replaced. The
// files are written to a temporary directory beside it that is renamed into
// place, so a failure leaves dir as it was.
func WriteHF(dir string, m *nn.Model, dtype DType, replace bool) error {
	return WriteHFTokenizer(dir, m, nil, dtype, replace)
}

// WriteHFTokenizer is WriteHF that also writes tok (nil: none, as for a
// byte-level model) as tokenizer.json, vocab.json and merges.txt, which
// transformers' GPT-2 tokenizers read.
func WriteHFTokenizer(dir string, m *nn.Model, tok *tokenizer.BPE, dtype DType, replace bool) error {
	cfg, ts, err := ToHF(m, dtype)
	if err != nil {
		return err
	}
	var tokJSON, vocab, merges bytes.Buffer
	if tok != nil {
		if tok.VocabSize() > m.Vocab {
			return fmt.Errorf("interop: tokenizer %s has %d tokens but the model %d", tok.Name(), tok.VocabSize(), m.Vocab)
		}
		if err := tokenizer.WriteHFJSON(&tokJSON, tok); err != nil {
			return fmt.Errorf("interop: %w", err)
		}
		if err := tokenizer.WriteVocabMerges(&vocab, &merges, tok); err != nil {
			return fmt.Errorf("interop: %w", err)
		}
	}
	return writeDir(dir, replace, HFConfigFile, func(tmp string) error {
		for name, b := range map[string]*bytes.Buffer{"tokenizer.json": &tokJSON, "vocab.json": &vocab, "merges.txt": &merges} {
			if b.Len() == 0 {
				continue
			}
			if err := writeFile(filepath.Join(tmp, name), func(f *os.File) error {
				_, err := f.Write(b.Bytes())
				return err
			}); err != nil {
				return err
			}
		}
		if err := writeFile(filepath.Join(tmp, HFConfigFile), func(f *os.File) error {
			_, err := f.Write(cfg)
			return err
		}); err != nil {
			return err
		}
		return writeFile(filepath.Join(tmp, HFWeightsFile), func(f *os.File) error {
			return safetensors.WriteAs(f, ts, map[string]string{"format": "pt"}, dtype.safetensors())
		})
	})
}
