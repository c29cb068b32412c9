package asm

import (
	"sync/atomic"
	"time"
)

// A split product is only as fast as its slowest thread. On a machine busy
// with other processes (two training runs side by side, unpinned), a helper
// woken for a product may wait a whole OS time slice for a core, and a
// caller may wait as long for a task a descheduled helper has claimed; the
// threads then mostly take turns, and every split costs wake-ups, spinning
// and cache traffic that the other processes pay for. So when a helper that
// was idle takes its task late, calls run on one thread for a while
// (soloMin, doubling up to soloMax while the machine stays crowded), then
// try helpers again. (A caller's wait for claimed work is no such sign: a
// large product's tasks take longer than lateWake.)
const (
	lateWake = 300 * time.Microsecond // far beyond a wake-up on an idle core
	soloMin  = 10 * time.Millisecond
	soloMax  = time.Second
)

// noFallback switches the fallback off, for tests that need split calls
// however slowly their helpers arrive.
var noFallback atomic.Bool

var (
	soloUntil  atomic.Int64 // clock() before which calls run on one thread
	soloFor    atomic.Int64 // the next fallback's length; 0 means soloMin
	splitCalls atomic.Int64 // calls large enough to split (see Crowding)
	soloCalls  atomic.Int64 // those of them kept on one thread
)

// Crowding reports how many Sgemm calls so far were large enough to split
// across threads, and how many of those ran on one thread because helpers
// had been arriving late: a benchmark that kept many on one thread ran on a
// machine busy with other work.
func Crowding() (split, solo int64) { return splitCalls.Load(), soloCalls.Load() }

var clockBase = time.Now()

// clock is a monotonic time in nanoseconds.
func clock() time.Duration { return time.Since(clockBase) }

// crowded starts (or extends) the one-thread fallback.
func crowded() {
	if noFallback.Load() {
		return
	}
	d := max(time.Duration(soloFor.Load()), soloMin)
	soloFor.Store(int64(min(2*d, soloMax)))
	soloUntil.Store(int64(clock() + d))
}

// solo reports whether calls should run on one thread now. A call after a
// fallback has ended tries helpers again; the fallback shrinks back to
// soloMin once that has gone well for a fallback's length.
func solo() bool {
	if noFallback.Load() {
		return false
	}
	until := time.Duration(soloUntil.Load())
	if until == 0 {
		return false
	}
	now := clock()
	if now < until {
		soloCalls.Add(1)
		return true
	}
	if now > until+time.Duration(soloFor.Load()) {
		soloFor.Store(0)
		soloUntil.Store(0)
	}
	return false
}
