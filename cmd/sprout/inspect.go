package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/sproutml/sprout/trainer"
)

func init() {
	commands["inspect"] = command{"show a checkpoint: config, depth, parameters, step, growth history; verify digests", runInspect}
}

func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("inspect", "inspect --ckpt DIR [--json]", stdout)
	ckpt := fs.String("ckpt", "", "checkpoint directory (required)")
	jsonOut := fs.Bool("json", false, "print the verified manifest with the parameter count as one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *ckpt == "" {
		return usagef("inspect: --ckpt DIR is required")
	}
	// LoadModel verifies the manifest digest, every file's size and SHA-256,
	// and the weights' names and shapes.
	m, man, err := trainer.LoadModel(*ckpt)
	if err != nil {
		return err
	}
	if *jsonOut {
		return json.NewEncoder(stdout).Encode(struct {
			Checkpoint string            `json:"checkpoint"`
			Params     int               `json:"params"`
			Layers     int               `json:"layers"`
			Verified   bool              `json:"verified"`
			Manifest   *trainer.Manifest `json:"manifest"`
		}{*ckpt, m.NumParams(), len(m.Blocks), true, man})
	}
	var sb strings.Builder
	c := m.Config
	fmt.Fprintf(&sb, "checkpoint %s (format %d)\n", *ckpt, man.Format)
	fmt.Fprintf(&sb, "model:     %s, vocab %d, ctx %d, dim %d, heads %d, %s, %d parameters\n", c.Arch, c.Vocab, c.Ctx, c.Dim, c.Heads, blocks(len(m.Blocks)), m.NumParams())
	fmt.Fprintf(&sb, "progress:  step %d, %d tokens, %.3g FLOPs (%.3g at fixed final depth), %.1fs of training\n", man.Step, man.Tokens, man.FLOPs, man.FixedFLOPs, man.WallSeconds)
	if man.TrainLoss != nil {
		fmt.Fprintf(&sb, "loss:      train %.4f", *man.TrainLoss)
		if man.ValLoss != nil {
			fmt.Fprintf(&sb, ", validation %.4f", *man.ValLoss)
		}
		sb.WriteString("\n")
	}
	if man.Data != nil {
		fmt.Fprintf(&sb, "data:      %s, %d tokens (vocab %d, %.0f%% validate), sha256 %s\n", man.Data.Source, man.Data.Tokens, man.Data.Vocab, 100*man.Data.ValFraction, short(man.Data.Digest))
	}
	if s := man.Schedule; s != nil {
		fmt.Fprintf(&sb, "schedule:  %s, %d steps, peak lr %g, warmup %g", s.Kind, s.Steps, s.Peak, s.Warmup)
		if s.Kind == trainer.ScheduleWSD {
			fmt.Fprintf(&sb, ", decay %g (%s) from step %d", s.Decay, s.DecayShape, s.DecayStart())
		}
		sb.WriteString("\n")
	}
	if o := man.Optimizer; o != nil {
		fmt.Fprintf(&sb, "optimizer: %s %s\n", o.Name, o.Hyper)
	}
	fmt.Fprintf(&sb, "seed:      %d\n", man.Seed)
	if len(man.Growth.Plan) > 0 {
		fmt.Fprintf(&sb, "growth:    plan %s\n", man.Growth.Plan)
	}
	if len(man.Growth.History) == 0 {
		sb.WriteString("history:   no expansions\n")
	}
	for _, h := range man.Growth.History {
		fmt.Fprintf(&sb, "history:   step %d: %d -> %d blocks (%s)\n", h.Step, h.From, h.To, h.Init)
	}
	names := make([]string, 0, len(man.Files))
	for n := range man.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := man.Files[n]
		fmt.Fprintf(&sb, "file:      %-18s %10d bytes  sha256 %s  verified\n", n, f.Size, short(f.SHA256))
	}
	fmt.Fprintf(&sb, "manifest:  sha256 %s  verified\n", short(man.Digest))
	_, err = io.WriteString(stdout, sb.String())
	return err
}

// short abbreviates a hex digest.
func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "..."
	}
	return h
}
