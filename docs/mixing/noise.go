//go:build ignore

// Noise of the mixing check: the delta of a checkpoint's new blocks on 32
// disjoint groups of N validation windows of the embedded corpus, against
// the delta on up to 2048 windows.
//
//	go run docs/mixing/noise.go CHECKPOINT N
package main

import (
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/sproutml/sprout/trainer"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go run docs/mixing/noise.go CHECKPOINT N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 1 {
		fmt.Fprintf(os.Stderr, "noise: N must be a number of windows, got %q\n", os.Args[2])
		os.Exit(2)
	}
	m, man, err := trainer.LoadModel(os.Args[1])
	check(err)
	nb, err := man.NewBlocks()
	check(err)
	if nb == nil {
		check(fmt.Errorf("%s never grew", os.Args[1]))
	}
	ds, err := trainer.CorpusDataset(trainer.DataOptions{Ctx: m.Ctx, Vocab: m.Vocab, ValFraction: trainer.DefaultValFraction})
	check(err)
	all := trainer.EvalWindows(ds.Val, m.Ctx, 1<<20)
	const groups = 32
	if len(all) < groups*n {
		check(fmt.Errorf("%d validation windows, fewer than %d groups of %d", len(all), groups, n))
	}
	var sum, sum2, lo, hi float64
	lo, hi = math.Inf(1), math.Inf(-1)
	for g := range groups {
		var w [][]uint16
		for i := range n {
			w = append(w, all[i*groups+g]) // interleaved, so each group spans the split
		}
		c, err := trainer.CheckMixing(m, nb, w, 8)
		check(err)
		sum, sum2 = sum+c.Delta, sum2+c.Delta*c.Delta
		lo, hi = math.Min(lo, c.Delta), math.Max(hi, c.Delta)
	}
	mean := sum / groups
	sd := math.Sqrt((sum2 - groups*mean*mean) / (groups - 1))
	ref, err := trainer.CheckMixing(m, nb, all[:min(len(all), 2048)], 8)
	check(err)
	fmt.Printf("%s, new blocks %s: %d groups of %d windows: mean %.4f, sd %.4f, range %.4f..%.4f; %d windows: %.4f\n",
		os.Args[1], ref.BlockList(), groups, n, mean, sd, lo, hi, ref.Windows, ref.Delta)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "noise:", err)
		os.Exit(1)
	}
}
