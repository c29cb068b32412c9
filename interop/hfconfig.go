package interop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/sproutml/sprout/nn"
)

// hfConfig is a parsed config.json, read field by field so that every
// problem names its field.
type hfConfig struct {
	fields map[string]json.RawMessage
	errs   []error
}

func parseHFConfig(b []byte) (*hfConfig, error) {
	c := &hfConfig{}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&c.fields); err != nil {
		return nil, fmt.Errorf("interop: config.json is not a JSON object: %v", err)
	}
	if c.fields == nil {
		return nil, errors.New("interop: config.json is not a JSON object")
	}
	return c, nil
}

func (c *hfConfig) bad(format string, a ...any) {
	c.errs = append(c.errs, fmt.Errorf("interop: config.json: "+format, a...))
}

func (c *hfConfig) err() error { return errors.Join(c.errs...) }

// has reports whether the field is present and not null.
func (c *hfConfig) has(name string) bool {
	r, ok := c.fields[name]
	return ok && string(r) != "null"
}

// integer reads a positive (or, with zeroOK, non-negative) integer field;
// a missing field is an error when def < 0 and def otherwise.
func (c *hfConfig) integer(name string, def int, zeroOK bool) int {
	if !c.has(name) {
		if def < 0 {
			c.bad("missing %s", name)
		}
		return def
	}
	var n json.Number
	if err := json.Unmarshal(c.fields[name], &n); err != nil {
		c.bad("%s must be a number, got %s", name, c.fields[name])
		return 0
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || v < 0 || v > math.MaxInt32 || v == 0 && !zeroOK {
		what := "a positive integer"
		if zeroOK {
			what = "a non-negative integer"
		}
		c.bad("%s must be %s, got %s", name, what, n)
		return 0
	}
	return int(v)
}

// number reads a finite float field, def when missing.
func (c *hfConfig) number(name string, def float64) float64 {
	if !c.has(name) {
		return def
	}
	var v float64
	if err := json.Unmarshal(c.fields[name], &v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		c.bad("%s must be a number, got %s", name, c.fields[name])
		return def
	}
	return v
}

// str reads a string field, def when missing.
func (c *hfConfig) str(name, def string) string {
	if !c.has(name) {
		return def
	}
	var s string
	if err := json.Unmarshal(c.fields[name], &s); err != nil {
		c.bad("%s must be a string, got %s", name, c.fields[name])
	}
	return s
}

// boolean reads a bool field, def when missing.
func (c *hfConfig) boolean(name string, def bool) bool {
	if !c.has(name) {
		return def
	}
	var v bool
	if err := json.Unmarshal(c.fields[name], &v); err != nil {
		c.bad("%s must be true or false, got %s", name, c.fields[name])
	}
	return v
}

// modelType returns "gpt2" or "llama" from model_type, or from the first
// architecture when model_type is absent.
func (c *hfConfig) modelType() (string, error) {
	mt := c.str("model_type", "")
	if mt == "" && c.has("architectures") {
		var archs []string
		if json.Unmarshal(c.fields["architectures"], &archs) == nil && len(archs) > 0 {
			switch archs[0] {
			case "GPT2LMHeadModel", "GPT2Model":
				mt = "gpt2"
			case "LlamaForCausalLM", "LlamaModel":
				mt = "llama"
			default:
				return "", fmt.Errorf("interop: config.json: architecture %q is not supported (GPT2LMHeadModel and LlamaForCausalLM are)", archs[0])
			}
		}
	}
	if err := c.err(); err != nil {
		return "", err
	}
	switch mt {
	case "gpt2":
		return nn.ArchGPT2, nil
	case "llama":
		return nn.ArchLlama, nil
	case "":
		return "", errors.New("interop: config.json: missing model_type (and no architectures to tell it from)")
	}
	return "", fmt.Errorf("interop: config.json: model_type %q is not supported (gpt2 and llama are)", mt)
}

// float32Eps converts a norm epsilon, which sprout keeps as float32.
func (c *hfConfig) float32Eps(name string, def float64) float32 {
	v := c.number(name, def)
	if v <= 0 || v > 1 {
		c.bad("%s must be in (0, 1], got %v", name, v)
	}
	return float32(v)
}

// gpt2Config reads a GPT2Config. Everything sprout's GPT-2 cannot express
// is an error naming the field.
func (c *hfConfig) gpt2Config() (nn.Config, error) {
	cfg := nn.Config{Arch: nn.ArchGPT2}
	cfg.Dim = c.integer("n_embd", -1, false)
	cfg.Heads = c.integer("n_head", -1, false)
	cfg.Layers = c.integer("n_layer", -1, true)
	cfg.Vocab = c.integer("vocab_size", -1, false)
	if c.has("n_positions") {
		cfg.Ctx = c.integer("n_positions", -1, false)
	} else if c.has("n_ctx") {
		cfg.Ctx = c.integer("n_ctx", -1, false)
	} else {
		c.bad("missing n_positions (or n_ctx)")
	}
	cfg.NormEps = c.float32Eps("layer_norm_epsilon", 1e-5)
	cfg.InitStd = float32(c.number("initializer_range", 0.02))
	if c.has("n_inner") && cfg.Dim > 0 {
		if n := c.integer("n_inner", 0, false); n != 0 && n != 4*cfg.Dim {
			c.bad("n_inner %d is not 4*n_embd = %d: sprout's GPT-2 MLP is 4x wide", n, 4*cfg.Dim)
		}
	}
	switch act := c.str("activation_function", "gelu_new"); act {
	case "gelu_new", "gelu_pytorch_tanh", "gelu_fast":
		// all three are the tanh approximation sprout's GELU computes
	default:
		c.bad("activation_function %q is not supported (sprout's GPT-2 uses the tanh GELU: gelu_new)", act)
	}
	if !c.boolean("scale_attn_weights", true) {
		c.bad("scale_attn_weights false is not supported (sprout scales attention by 1/sqrt(head_dim))")
	}
	if c.boolean("scale_attn_by_inverse_layer_idx", false) {
		c.bad("scale_attn_by_inverse_layer_idx is not supported")
	}
	if c.boolean("add_cross_attention", false) {
		c.bad("add_cross_attention is not supported")
	}
	return cfg, c.err()
}

// llamaConfig reads a LlamaConfig and whether its head is tied.
func (c *hfConfig) llamaConfig() (nn.Config, error) {
	cfg := nn.Config{Arch: nn.ArchLlama}
	cfg.Dim = c.integer("hidden_size", -1, false)
	cfg.FFNHidden = c.integer("intermediate_size", -1, false)
	cfg.Heads = c.integer("num_attention_heads", -1, false)
	cfg.KVHeads = c.integer("num_key_value_heads", cfg.Heads, false)
	cfg.Layers = c.integer("num_hidden_layers", -1, true)
	cfg.Vocab = c.integer("vocab_size", -1, false)
	cfg.Ctx = c.integer("max_position_embeddings", -1, false)
	cfg.NormEps = c.float32Eps("rms_norm_eps", 1e-6)
	cfg.RopeBase = c.number("rope_theta", nn.DefaultRopeBase)
	cfg.InitStd = float32(c.number("initializer_range", 0.02))
	cfg.TiedHead = c.boolean("tie_word_embeddings", false)
	if c.has("head_dim") && cfg.Heads > 0 && cfg.Dim > 0 {
		if hd := c.integer("head_dim", 0, false); hd != cfg.Dim/cfg.Heads {
			c.bad("head_dim %d is not hidden_size/num_attention_heads = %d, which sprout requires", hd, cfg.Dim/cfg.Heads)
		}
	}
	if act := c.str("hidden_act", "silu"); act != "silu" {
		c.bad("hidden_act %q is not supported (sprout's SwiGLU uses silu)", act)
	}
	if c.boolean("attention_bias", false) {
		c.bad("attention_bias is not supported (sprout's LLaMA has no biases)")
	}
	if c.boolean("mlp_bias", false) {
		c.bad("mlp_bias is not supported (sprout's LLaMA has no biases)")
	}
	if c.has("rope_scaling") {
		c.bad("rope_scaling %s is not supported (sprout's RoPE is unscaled)", c.fields["rope_scaling"])
	}
	return cfg, c.err()
}

// fmt32 spells a float32 the shortest way that reads back as the same
// float32 (1e-05, not 9.999999747378752e-06).
func fmt32(x float32) json.Number {
	return json.Number(strconv.FormatFloat(float64(x), 'g', -1, 32))
}

// gpt2ConfigOut is the config.json of an exported GPT-2, in the field order
// transformers writes.
type gpt2ConfigOut struct {
	ActivationFunction         string      `json:"activation_function"`
	Architectures              []string    `json:"architectures"`
	AttnPdrop                  float64     `json:"attn_pdrop"`
	BosTokenID                 *int        `json:"bos_token_id"`
	EmbdPdrop                  float64     `json:"embd_pdrop"`
	EosTokenID                 *int        `json:"eos_token_id"`
	InitializerRange           json.Number `json:"initializer_range"`
	LayerNormEpsilon           json.Number `json:"layer_norm_epsilon"`
	ModelType                  string      `json:"model_type"`
	NCtx                       int         `json:"n_ctx"`
	NEmbd                      int         `json:"n_embd"`
	NHead                      int         `json:"n_head"`
	NInner                     *int        `json:"n_inner"`
	NLayer                     int         `json:"n_layer"`
	NPositions                 int         `json:"n_positions"`
	ReorderAndUpcastAttn       bool        `json:"reorder_and_upcast_attn"`
	ResidPdrop                 float64     `json:"resid_pdrop"`
	ScaleAttnByInverseLayerIdx bool        `json:"scale_attn_by_inverse_layer_idx"`
	ScaleAttnWeights           bool        `json:"scale_attn_weights"`
	SummaryActivation          *string     `json:"summary_activation"`
	SummaryFirstDropout        float64     `json:"summary_first_dropout"`
	SummaryProjToLabels        bool        `json:"summary_proj_to_labels"`
	SummaryType                string      `json:"summary_type"`
	SummaryUseProj             bool        `json:"summary_use_proj"`
	TieWordEmbeddings          bool        `json:"tie_word_embeddings"`
	TorchDtype                 string      `json:"torch_dtype"`
	UseCache                   bool        `json:"use_cache"`
	VocabSize                  int         `json:"vocab_size"`
}

// llamaConfigOut is the config.json of an exported LLaMA.
type llamaConfigOut struct {
	Architectures         []string    `json:"architectures"`
	AttentionBias         bool        `json:"attention_bias"`
	AttentionDropout      float64     `json:"attention_dropout"`
	BosTokenID            *int        `json:"bos_token_id"`
	EosTokenID            *int        `json:"eos_token_id"`
	HeadDim               int         `json:"head_dim"`
	HiddenAct             string      `json:"hidden_act"`
	HiddenSize            int         `json:"hidden_size"`
	InitializerRange      json.Number `json:"initializer_range"`
	IntermediateSize      int         `json:"intermediate_size"`
	MaxPositionEmbeddings int         `json:"max_position_embeddings"`
	MLPBias               bool        `json:"mlp_bias"`
	ModelType             string      `json:"model_type"`
	NumAttentionHeads     int         `json:"num_attention_heads"`
	NumHiddenLayers       int         `json:"num_hidden_layers"`
	NumKeyValueHeads      int         `json:"num_key_value_heads"`
	PretrainingTP         int         `json:"pretraining_tp"`
	RMSNormEps            json.Number `json:"rms_norm_eps"`
	RopeScaling           *struct{}   `json:"rope_scaling"`
	RopeTheta             float64     `json:"rope_theta"`
	TieWordEmbeddings     bool        `json:"tie_word_embeddings"`
	TorchDtype            string      `json:"torch_dtype"`
	UseCache              bool        `json:"use_cache"`
	VocabSize             int         `json:"vocab_size"`
}

// gpt2EndOfText is GPT-2's <|endoftext|> token, which a model with GPT-2's
// vocabulary (an imported one) keeps as its bos and eos.
const gpt2EndOfText = 50256

// hfConfigJSON returns the config.json of a model (muP already folded).
func hfConfigJSON(c nn.Config, dtype string) ([]byte, error) {
	var v any
	switch c.Arch {
	case nn.ArchGPT2:
		o := gpt2ConfigOut{
			ActivationFunction: "gelu_new", Architectures: []string{"GPT2LMHeadModel"},
			InitializerRange: fmt32(c.InitStd), LayerNormEpsilon: fmt32(c.NormEps), ModelType: "gpt2",
			NCtx: c.Ctx, NEmbd: c.Dim, NHead: c.Heads, NLayer: c.Layers, NPositions: c.Ctx,
			ScaleAttnWeights: true, SummaryFirstDropout: 0.1, SummaryProjToLabels: true, SummaryType: "cls_index", SummaryUseProj: true,
			TieWordEmbeddings: true, TorchDtype: dtype, UseCache: true, VocabSize: c.Vocab,
		}
		if c.Vocab > gpt2EndOfText {
			id := gpt2EndOfText
			o.BosTokenID, o.EosTokenID = &id, &id
		}
		v = o
	case nn.ArchLlama:
		v = llamaConfigOut{
			Architectures: []string{"LlamaForCausalLM"}, HeadDim: c.HeadDim(), HiddenAct: "silu", HiddenSize: c.Dim,
			InitializerRange: fmt32(c.InitStd), IntermediateSize: c.FFNHidden, MaxPositionEmbeddings: c.Ctx,
			ModelType: "llama", NumAttentionHeads: c.Heads, NumHiddenLayers: c.Layers, NumKeyValueHeads: c.KVHeads,
			PretrainingTP: 1, RMSNormEps: fmt32(c.NormEps), RopeTheta: c.RopeBase, TieWordEmbeddings: c.TiedHead,
			TorchDtype: dtype, UseCache: true, VocabSize: c.Vocab,
		}
	default:
		return nil, fmt.Errorf("interop: arch %q has no Hugging Face layout (gpt2 and llama do)", c.Arch)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
