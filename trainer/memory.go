package trainer

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/sproutml/sprout/nn"
)

// MemoryNeed is a lower bound on the memory a run takes: what it certainly
// allocates and keeps at its final depth, in bytes. Real use is higher
// (tapes keep several activations per layer and token, plus the data, the
// evaluation and Go's runtime), so a run that needs more than a machine has
// cannot fit, and one that needs less may still not.
type MemoryNeed struct {
	Params      int64   // trained parameters at the final depth (saturating)
	Model       float64 // weights, their gradients and the optimizer's state
	Shards      float64 // the parameter gradients each batch shard's tape keeps
	Activations float64 // a floor on what the shards' tapes keep per token
}

// Total is the whole lower bound in bytes.
func (m MemoryNeed) Total() float64 { return m.Model + m.Shards + m.Activations }

// MinMemory returns a lower bound on the memory the run c takes (call it
// after Defaults). A vocabulary the data will set counts at its least: 256
// for text, 1 for a token file.
func (c *Config) MinMemory() MemoryNeed {
	mc := c.Model
	mc.Vocab = c.vocabFloor()
	params := nn.ParamCount64(mc)
	p := float64(params)
	shards := float64(max(1, c.Batch/max(1, c.Shard)))
	tokens := float64(c.Batch) * float64(mc.Ctx)
	// Per token, every block's output stays on its shard's tape for the
	// backward pass, as do the logits; the shard's inputs and targets are
	// int32s.
	perToken := 4*(float64(mc.Layers)*float64(mc.Dim)+float64(mc.Vocab)) + 8
	return MemoryNeed{
		Params:      params,
		Model:       4 * p * float64(2+optimizerSlots(c.Optimizer)),
		Shards:      4 * p * shards,
		Activations: tokens * perToken,
	}
}

// optimizerSlots is the least number of state values the optimizer keeps
// per parameter: AdamW two moments, Muon a momentum (and AdamW's moments for
// non-matrices), SGD a momentum.
func optimizerSlots(optimizer string) int {
	if optimizer == OptAdamW {
		return 2
	}
	return 1
}

// vocabFloor is the model's vocabulary, or the least the data can set it to.
func (c *Config) vocabFloor() int {
	switch {
	case c.Model.Vocab > 0:
		return c.Model.Vocab
	case c.DataFormat == FormatTokens || c.DataFormat == "bin",
		c.DataFormat == FormatAuto && strings.EqualFold(filepath.Ext(c.Data), ".bin"):
		return 1
	}
	return ByteVocab
}

// checkMemory refuses a run whose lower bound exceeds total bytes (0: the
// machine's memory is unknown, no check): it would die of an out-of-memory
// crash instead.
func (c *Config) checkMemory(total float64) error {
	need := c.MinMemory()
	if total <= 0 || need.Total() <= total {
		return nil
	}
	return fmt.Errorf("config: the run needs at least %s of memory (%s parameters: %s for weights, gradients and %s state, %s for the gradients of %d batch shards, %s for activations), more than this machine's %s; use %s",
		gib(need.Total()), fmtCount(float64(need.Params)), gib(need.Model), c.Optimizer, gib(need.Shards), max(1, c.Batch/max(1, c.Shard)),
		gib(need.Activations), gib(total), c.memoryHint(need, total))
}

// checkGrowMemory refuses an offline expansion of a model with config mc
// to layers blocks whose weights and gradients alone exceed total bytes (0:
// unknown, no check).
func checkGrowMemory(mc nn.Config, layers int, total float64) error {
	mc.Layers = layers
	if err := mc.Validate(); err != nil {
		return fmt.Errorf("trainer: grow: %w", err)
	}
	params := nn.ParamCount64(mc)
	if need := 4 * 2 * float64(params); total > 0 && need > total {
		return fmt.Errorf("trainer: grow: %d blocks need at least %s of memory (%s parameters: weights and gradients), more than this machine's %s; grow to fewer layers",
			layers, gib(need), fmtCount(float64(params)), gib(total))
	}
	return nil
}

// memoryHint says what to shrink for a run that needs more than total.
func (c *Config) memoryHint(need MemoryNeed, total float64) string {
	switch {
	case need.Model > total: // no batch makes the model itself fit
		switch c.Model.Arch {
		case nn.ArchLlama:
			return "a smaller dim, layers or ffn_hidden"
		case nn.ArchMoE:
			return "a smaller dim, layers, ffn_hidden or experts"
		}
		return "a smaller dim or layers"
	case need.Shards >= need.Activations:
		return "a smaller batch or a larger shard"
	}
	return "a smaller batch or ctx"
}

// gib formats bytes in GiB (MiB below one GiB, exponents for absurd sizes).
func gib(b float64) string {
	switch g := b / (1 << 30); {
	case g < 1:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case g >= 1e6:
		return fmt.Sprintf("%.3g GiB", g)
	default:
		return fmt.Sprintf("%.1f GiB", g)
	}
}

// machineMemory is the machine's total memory in bytes: MemTotal of
// /proc/meminfo on Linux; 0 (unknown) elsewhere or when it cannot be read.
func machineMemory() float64 {
	if runtime.GOOS != "linux" {
		return 0
	}
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return memTotal(b)
}

// memTotal parses MemTotal (in kB) out of /proc/meminfo's text; 0 if absent.
func memTotal(meminfo []byte) float64 {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}
