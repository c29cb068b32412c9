//go:build race

package nn

// raceEnabled: the race detector makes sync.Pool drop items at random (asm
// pools its GEMM jobs), so allocation counts mean nothing under -race.
const raceEnabled = true
