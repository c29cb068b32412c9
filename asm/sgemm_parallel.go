package asm

import (
	"runtime"
	"sync"
	"sync/atomic"
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
	job   *gemmJob
	tid   int
	epoch uint32
}

// A helper is a goroutine with a one-task mailbox. After each task it polls
// the mailbox for a while (products come in bursts, and a helper that is
// still awake joins the next call at once instead of after a wake-up that
// costs as much as a small product), then sleeps. Callers give tasks to
// polling helpers first, then to sleeping ones (waking them), then queue
// them behind busy ones: a helper finishing the previous call of the same
// caller is usually free within microseconds.
type helper struct {
	box      atomic.Int32 // boxEmpty, boxWriting or boxFull
	task     helperTask   // written by the caller that moved box to boxWriting
	idle     atomic.Bool  // polling or sleeping; a hint for callers
	sleeping atomic.Bool
	wake     chan struct{} // one send per sleep
}

const (
	boxEmpty = iota
	boxWriting
	boxFull
)

// helperPolls is how many times an idle helper polls its mailbox (yielding
// in between, some tens of microseconds in all) before it sleeps.
const helperPolls = 256

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
			h := &helper{wake: make(chan struct{}, 1)}
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
		got := false
		for i := 0; i < helperPolls && !got; i++ {
			runtime.Gosched()
			got = h.box.Load() == boxFull
		}
		if !got {
			h.sleeping.Store(true)
			// A task that came before the flag was seen wakes nobody: take
			// it, unless its caller has already claimed the wake-up.
			if !(h.box.Load() == boxFull && h.sleeping.CompareAndSwap(true, false)) {
				<-h.wake
			}
		}
		t := h.task
		h.task = helperTask{}
		h.idle.Store(false)
		h.box.Store(boxEmpty)
		if t.job.join(t.epoch) {
			t.job.work(t.tid)
			t.job.leave()
		}
	}
}

// postHelpers offers threads 1..nth-1 of job j's call to the helpers (see
// helper for the order). Threads no mailbox is free for never join: the
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
			if !h.box.CompareAndSwap(boxEmpty, boxWriting) {
				continue
			}
			h.task = helperTask{j, tid, epoch}
			h.box.Store(boxFull)
			if h.sleeping.CompareAndSwap(true, false) {
				h.wake <- struct{}{}
			}
			tid++
		}
	}
}
