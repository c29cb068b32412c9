package asm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Threads for Sgemm. Helpers are long-lived goroutines: a call hands one
// task to each idle helper it may use and starts on its own share at once.
// A call never waits for a helper to arrive, only for work a helper has
// already claimed, so a helper that is busy elsewhere or slow to wake only
// means the caller does more of the work itself, and calls from many
// goroutines at once cannot deadlock.

var threads atomic.Int32 // 0: GOMAXPROCS

// SetThreads bounds the number of goroutines one Sgemm call uses, the caller
// included; n < 1 means GOMAXPROCS (the default). The thread count never
// changes results: they are bit-identical for every n.
func SetThreads(n int) {
	if n < 1 {
		n = 0
	}
	threads.Store(int32(n))
}

// Threads reports the bound set by SetThreads (GOMAXPROCS by default).
func Threads() int {
	if n := int(threads.Load()); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

type helperTask struct {
	job    *gemmJob
	tid    int
	epoch  uint32
	posted time.Duration // clock() when posted to an idle helper, else 0
}

// A helper is a goroutine whose mailbox is a channel with room for one
// task. The channel is the whole hand-off: a caller posts with a send that
// never blocks, and a helper takes a task only by receiving it, so a helper
// never wakes without a task in hand and no two callers can fill one
// mailbox. (An earlier design signalled a separate wake-up after filling the
// mailbox; a caller descheduled between the two could wake a helper that had
// already run the task, which then read an empty mailbox.)
//
// After each task a helper polls its mailbox for a short while (products
// come in bursts, and a helper that is still awake joins the next call at
// once instead of after a wake-up that costs as much as a small product),
// then sleeps in the receive. idle and sleeping are hints for callers, who
// give tasks to polling helpers first, then to sleeping ones, then queue
// them behind busy ones: a helper finishing the previous call of the same
// caller is usually free within microseconds. A queued task whose call has
// ended by the time the helper takes it fails to join (see gemmJob.join).
type helper struct {
	tasks    chan helperTask // capacity 1
	idle     atomic.Bool     // polling or sleeping
	sleeping atomic.Bool
}

// A helper polls for at most helperSpin after a task, and stops at once when
// one yield took longer than spinDescheduled: then other goroutines needed
// its P, or the OS gave its core to another process, and spinning on would
// only take time from them.
const (
	helperSpin      = 50 * time.Microsecond
	spinDescheduled = 20 * time.Microsecond
)

var (
	helperMu   sync.Mutex
	helperList atomic.Pointer[[]*helper]
)

// helpers returns the helper set, started up to at least n helpers.
func helpers(n int) []*helper {
	if hs := helperList.Load(); hs != nil && len(*hs) >= n {
		return *hs
	}
	helperMu.Lock()
	defer helperMu.Unlock()
	var hs []*helper
	if p := helperList.Load(); p != nil {
		hs = *p
	}
	if len(hs) < n {
		hs = append(hs[:len(hs):len(hs)], make([]*helper, 0, n-len(hs))...)
		for len(hs) < n {
			h := &helper{tasks: make(chan helperTask, 1)}
			go h.loop()
			hs = append(hs, h)
		}
		helperList.Store(&hs)
	}
	return hs
}

func (h *helper) loop() {
	for {
		h.idle.Store(true)
		t := h.next()
		h.idle.Store(false)
		handoff(stepReceived)
		if t.posted != 0 && clock()-t.posted > lateWake {
			crowded()
		}
		if t.job.join(t.epoch) {
			t.job.work(t.tid)
			t.job.leave()
		}
	}
}

// next returns the helper's next task: polled for while spinning pays, then
// waited for asleep.
func (h *helper) next() helperTask {
	var t helperTask
	if spin(func() bool {
		select {
		case t = <-h.tasks:
			return true
		default:
			return false
		}
	}) {
		return t
	}
	h.sleeping.Store(true)
	handoff(stepSleep)
	t = <-h.tasks
	h.sleeping.Store(false)
	return t
}

// spin calls ready, yielding in between, until it reports true (spin then
// does too) or until spinning stops paying: after helperSpin, or sooner
// when a yield shows that the core is wanted elsewhere.
func spin(ready func() bool) bool {
	start := time.Now()
	last := start
	for {
		if ready() {
			return true
		}
		runtime.Gosched()
		now := time.Now()
		if now.Sub(start) > helperSpin || now.Sub(last) > spinDescheduled {
			return false
		}
		last = now
	}
}

// postHelpers offers threads 1..nth-1 of job j's call to the helpers (see
// helper for the order). Threads no mailbox has room for never join: the
// call runs on fewer threads.
func postHelpers(j *gemmJob, nth int, epoch uint32) {
	hs := helpers(nth - 1)
	tid := 1
	for pass := 0; pass < 3; pass++ {
		for _, h := range hs {
			if tid >= nth {
				return
			}
			switch idle, sleeping := h.idle.Load(), h.sleeping.Load(); {
			case pass == 0 && (!idle || sleeping), pass == 1 && !sleeping:
				continue
			}
			handoff(stepPost)
			// A helper that was idle should take the task at once; one that
			// is busy takes it when done, which says nothing about the
			// machine.
			var posted time.Duration
			if pass < 2 {
				posted = clock()
			}
			select {
			case h.tasks <- helperTask{j, tid, epoch, posted}:
				tid++
				handoff(stepPosted)
			default:
			}
		}
	}
}

// handoffStep names the points of the hand-off where a test may delay the
// goroutine that reaches them (see handoffHook).
type handoffStep int

const (
	stepPost     handoffStep = iota // caller, before posting a task
	stepPosted                      // caller, after posting, before the next
	stepSleep                       // helper, about to sleep in the receive
	stepReceived                    // helper, holding a task, before joining
	stepJoin                        // helper, inside join, before its CAS
	stepClose                       // caller, done with its share, before closing
	numHandoffSteps
)

// handoffHook, set only by tests, is called at every handoffStep.
var handoffHook atomic.Pointer[func(handoffStep)]

func handoff(s handoffStep) {
	if f := handoffHook.Load(); f != nil {
		(*f)(s)
	}
}
