package asm

import (
	"fmt"
	"testing"
)

// TestJobStateModel checks every interleaving of a job's state word
// (openState, joinState, lastOut, the close bit) between two calls that
// reuse one pooled job, each posted to helpers that may arrive at any
// moment, the first call's helpers even during the second call. Each
// atomic operation of open, join, close and leave is one step. It checks
// that a helper only works inside the call it was posted for, that a job
// goes back to the pool exactly once per call and only when nobody is
// inside, and that every interleaving ends with everyone done.
func TestJobStateModel(t *testing.T) {
	// Actors 0 and 1 are callers (call 1, then call 2 on the same job once
	// it is back in the pool); actors 2 and 3 are helpers posted by call 1,
	// actor 4 by call 2.
	const callers, actors = 2, 5
	owner := [actors]int{0, 1, 0, 0, 1}
	type world struct {
		s       uint64
		inPool  bool
		puts    [callers]int
		pc      [actors]int
		local   [actors]uint64 // a loaded state word
		epoch   [callers]uint32
		posted  [callers]bool
		inside  [actors]bool
		stepErr string
	}
	const done = 99
	// step advances actor a by one atomic operation; ok is false when a
	// cannot move now.
	step := func(w world, a int) (world, bool) {
		fail := func(format string, args ...any) {
			if w.stepErr == "" {
				w.stepErr = fmt.Sprintf(format, args...)
			}
		}
		leave := func() {
			w.s--
			w.inside[a] = false
			if lastOut(w.s) {
				c := owner[a]
				for b := range actors {
					if w.inside[b] {
						fail("call %d pooled with actor %d inside", c+1, b)
					}
				}
				if w.inPool {
					fail("call %d pooled a job already in the pool", c+1)
				}
				w.inPool = true
				w.puts[c]++
			}
		}
		if a < callers {
			switch w.pc[a] {
			case 0: // take the job from the pool
				if !w.inPool || (a == 1 && w.puts[0] == 0) {
					return w, false
				}
				w.inPool = false
				w.local[a] = w.s
			case 1: // open's store
				w.s = openState(w.local[a])
				w.epoch[a] = uint32(w.s >> 32)
				w.inside[a] = true
			case 2: // post the helpers
				w.posted[a] = true
			case 3: // close
				w.s |= stateClosed
			case 4:
				leave()
				w.pc[a] = done
				return w, true
			default:
				return w, false
			}
			w.pc[a]++
			return w, true
		}
		c := owner[a]
		switch w.pc[a] {
		case 0: // wait for the task
			if !w.posted[c] {
				return w, false
			}
			w.pc[a] = 1
		case 1: // join's load
			w.local[a] = w.s
			if _, ok := joinState(w.s, w.epoch[c]); !ok {
				w.pc[a] = done
			} else {
				w.pc[a] = 2
			}
		case 2: // join's CAS
			next, _ := joinState(w.local[a], w.epoch[c])
			if w.s != w.local[a] {
				w.pc[a] = 1
				return w, true
			}
			w.s = next
			if w.inPool || uint32(w.s>>32) != w.epoch[c] {
				fail("helper %d of call %d joined a job in the pool or another call", a, c+1)
			}
			w.inside[a] = true
			w.pc[a] = 3
		case 3:
			leave()
			w.pc[a] = done
		default:
			return w, false
		}
		return w, true
	}
	start := world{s: stateClosed, inPool: true} // a fresh job: epoch 0, closed
	seen := map[world]bool{}
	var ends int
	var walk func(w world)
	walk = func(w world) {
		if seen[w] {
			return
		}
		seen[w] = true
		if w.stepErr != "" {
			t.Fatalf("%s (state %+v)", w.stepErr, w)
		}
		moved := false
		for a := range actors {
			if next, ok := step(w, a); ok {
				moved = true
				walk(next)
			}
		}
		if moved {
			return
		}
		ends++
		for a := range actors {
			if w.pc[a] != done {
				t.Fatalf("stuck: actor %d at step %d (state %+v)", a, w.pc[a], w)
			}
		}
		if w.puts != [callers]int{1, 1} || !w.inPool {
			t.Fatalf("pooled %v times per call, in pool %v (state %+v)", w.puts, w.inPool, w)
		}
	}
	walk(start)
	t.Logf("%d states, %d final states", len(seen), ends)
	if ends == 0 {
		t.Fatal("no interleaving finished")
	}
}
