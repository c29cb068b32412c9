package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// llama and moe through the CLI: train (growing 1 -> 2 blocks), report
// expert loads, resume, sample, inspect and grow the checkpoint offline.
func TestCLITrainLlamaAndMoE(t *testing.T) {
	for _, arch := range [][]string{
		{"--arch", "llama", "--kv-heads", "1", "--ffn-hidden", "32", "--rope-base", "500", "--tied-head"},
		{"--arch", "moe", "--kv-heads", "1", "--ffn-hidden", "16", "--experts", "3", "--top-k", "2", "--gate", "sigmoid",
			"--shared-experts", "1", "--balance", "bias", "--bias-rate", "0.01"},
		{"--arch", "moe", "--experts", "4", "--top-k", "1", "--balance", "aux", "--aux-coef", "0.05"},
	} {
		name := strings.Join(arch, " ")
		tmp := t.TempDir()
		ckpt := filepath.Join(tmp, "run")
		code, stdout, stderr := sprout(t, tinyTrain(ckpt, append([]string{"--json", "--grow-init", "copy"}, arch...)...)...)
		if code != 0 {
			t.Fatalf("%s: train: exit %d\n%s", name, code, stderr)
		}
		if !strings.Contains(stderr, "training "+arch[1]) {
			t.Errorf("%s: stderr does not name the arch:\n%s", name, stderr)
		}
		events := jsonLines(t, stdout)
		sum := events[len(events)-1]
		if sum["event"] != "summary" || sum["layers_end"] != 2.0 || sum["steps"] != 20.0 {
			t.Fatalf("%s: summary %v", name, sum)
		}
		for _, e := range events {
			if e["event"] != "step" {
				continue
			}
			loads, ok := e["expert_tokens"].([]any)
			if (arch[1] == "moe") != ok {
				t.Fatalf("%s: step event expert_tokens %v", name, e["expert_tokens"])
			}
			if ok && len(loads) != int(e["layers"].(float64)) {
				t.Fatalf("%s: expert_tokens for %d blocks at depth %v", name, len(loads), e["layers"])
			}
		}
		code, stdout, stderr = sprout(t, "train", "--resume", ckpt, "--steps", "24", "--json", "--sample-tokens", "10")
		if events := jsonLines(t, stdout); code != 0 || events[len(events)-1]["steps"] != 24.0 {
			t.Fatalf("%s: resume: exit %d: %s", name, code, stderr)
		}
		if code, stdout, stderr = sprout(t, "sample", "--ckpt", ckpt, "--prompt", "a", "--tokens", "12"); code != 0 || len(stdout) != 1+12+1 {
			t.Errorf("%s: sample: exit %d %q %s", name, code, stdout, stderr)
		}
		if code, stdout, _ = sprout(t, "inspect", "--ckpt", ckpt); code != 0 || !strings.Contains(stdout, arch[1]+",") {
			t.Errorf("%s: inspect: exit %d\n%s", name, code, stdout)
		}
		grown := filepath.Join(tmp, "grown")
		if code, stdout, stderr = sprout(t, "grow", "--ckpt", ckpt, "--layers", "3", "--init", "copy", "--out", grown); code != 0 {
			t.Fatalf("%s: grow: exit %d: %s%s", name, code, stdout, stderr)
		}
		if code, _, stderr = sprout(t, "train", "--resume", grown, "--steps", "26", "--sample-tokens", "0"); code != 0 {
			t.Fatalf("%s: training the grown checkpoint: exit %d: %s", name, code, stderr)
		}
	}
}

func TestCLIArchErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--arch", "bert"}, `unknown arch "bert"`},
		{[]string{"train", "--experts", "4"}, "experts applies to moe only"},
		{[]string{"train", "--kv-heads", "2"}, "kv_heads applies to llama and moe only"},
		{[]string{"train", "--arch", "llama", "--heads", "6", "--kv-heads", "4"}, "kv_heads (4) must divide heads (6)"},
		{[]string{"train", "--arch", "moe", "--experts", "4", "--top-k", "5"}, "top_k must be between 1 and the number of experts (4)"},
		{[]string{"train", "--arch", "moe", "--gate", "tanh"}, `unknown gate "tanh"`},
		{[]string{"train", "--arch", "moe", "--balance", "bias", "--aux-coef", "0.1"}, `aux_coef applies to balance "aux" only`},
		// non-finite values fail up front, not as a diverged run or an
		// unencodable checkpoint at the end
		{[]string{"train", "--arch", "llama", "--rope-base", "Inf"}, "rope_base must be > 1 and finite, got +Inf"},
		{[]string{"train", "--arch", "llama", "--rope-base", "NaN"}, "rope_base must be > 1 and finite, got NaN"},
		{[]string{"train", "--arch", "moe", "--aux-coef", "Inf"}, "aux_coef must be >= 0 and finite, got +Inf"},
		{[]string{"train", "--arch", "moe", "--balance", "bias", "--bias-rate", "Inf"}, "bias_rate must be >= 0 and finite, got +Inf"},
	} {
		code, stdout, stderr := sprout(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("sprout %v: exit %d, stderr %q; want exit 2 mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}
