//go:build race

package trainer

// raceEnabled skips the long sweeps, which take minutes under -race.
const raceEnabled = true
