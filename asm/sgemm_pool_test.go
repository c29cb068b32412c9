package asm

import (
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestMain keeps the one-thread fallback off, so that tests of split calls
// split however busy the machine running them is (CI runs packages side by
// side); TestCrowdedFallback switches it on.
func TestMain(m *testing.M) {
	noFallback.Store(true)
	os.Exit(m.Run())
}

// TestPoolContention delays every step of the hand-off between callers and
// helpers in turn (the caller descheduled between posting a task and waking
// its helper, a helper between deciding to sleep and sleeping, and so on),
// with several goroutines calling Sgemm at once, and checks every result
// against the same call made on one thread. A scheduler only opens these
// windows for nanoseconds; the delays hold them open for up to 200 us.
func TestPoolContention(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(27, 27))
	const callers = 4
	cases := make([]*gemmCase, callers)
	want := make([][]float32, callers)
	SetThreads(1)
	for i := range cases {
		tr := transposes[i%4]
		// Large enough for 3-4 threads (m*n*k >= 3*workPerThread).
		cases[i] = newCase(rng, tr[0], tr[1], 96+8*i, 120-8*i, 200, 1, 0.5, 1, false)
		c := cases[i].c.clone()
		Sgemm(tr[0], tr[1], cases[i].m, cases[i].n, cases[i].k, 1, cases[i].a.data, cases[i].a.ld, cases[i].b.data, cases[i].b.ld, 0.5, c.data, c.ld)
		want[i] = c.data
	}
	SetThreads(0)
	calls := 150
	if testing.Short() || sgemmRaceBuild || runtime.GOARCH != "amd64" {
		calls = 40
	}
	// One step delayed at a time, then all of them at random.
	for step := handoffStep(0); step <= numHandoffSteps; step++ {
		t.Run(step.String(), func(t *testing.T) {
			var mu sync.Mutex
			drng := rand.New(rand.NewPCG(uint64(step), 1))
			hook := func(s handoffStep) {
				if s != step && step != numHandoffSteps {
					return
				}
				mu.Lock()
				d := time.Duration(drng.IntN(200)) * time.Microsecond
				mu.Unlock()
				time.Sleep(d)
			}
			handoffHook.Store(&hook)
			defer handoffHook.Store(nil)
			for _, err := range callConcurrently(cases, want, calls) {
				t.Error(err)
			}
		})
	}
}

func (s handoffStep) String() string {
	return [...]string{"post", "posted", "sleep", "received", "join", "close", "all"}[s]
}

// TestCrowdedFallback checks that a helper arriving late sends calls to one
// thread, that the fallback doubles while reports go on, ends, and shrinks
// back once helpers arrive in time again.
func TestCrowdedFallback(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer SetThreads(0)
	SetThreads(2)
	noFallback.Store(false)
	defer noFallback.Store(true)
	reset := func() { soloUntil.Store(0); soloFor.Store(0) }
	reset()
	K := activeKernel()
	const big = 512
	if n := threadsFor(Threads(), big, big, big, K); n != 2 {
		t.Fatalf("threadsFor(%d^3) = %d before any crowding, want 2", big, n)
	}
	// A helper held up between receiving its task and joining, as the OS
	// holds up a thread that has no core. It reports after it wakes, maybe
	// after the call has ended, so keep calling until it has. (The report is
	// read from soloUntil between calls: on a slow machine, emulated say, a
	// call can outlast the fallback, and the next call's check ends it.)
	hook := func(s handoffStep) {
		if s == stepReceived {
			time.Sleep(2 * lateWake)
		}
	}
	handoffHook.Store(&hook)
	rng := rand.New(rand.NewPCG(3, 4))
	tc := newCase(rng, false, false, big, big, 64, 1, 0, 0, false)
	deadline := time.Now().Add(10 * time.Second)
	for soloUntil.Load() == 0 && time.Now().Before(deadline) {
		tc.run()
		time.Sleep(time.Millisecond)
	}
	handoffHook.Store(nil)
	if soloUntil.Load() == 0 {
		t.Fatal("no fallback to one thread after late helpers")
	}
	if err := tc.check(); err != nil {
		t.Error(err)
	}

	// From here on the reports are made by hand, so the timing is the test's.
	reset()
	now := clock()
	crowded()
	if until := time.Duration(soloUntil.Load()); until < now+soloMin || until > clock()+soloMin {
		t.Errorf("a report ends the fallback %v from now, want %v", until-now, soloMin)
	}
	if got := time.Duration(soloFor.Load()); got != 2*soloMin {
		t.Errorf("next fallback %v after one report, want %v", got, 2*soloMin)
	}
	crowded()
	if got := time.Duration(soloFor.Load()); got != 4*soloMin {
		t.Errorf("next fallback %v after two reports, want %v", got, 4*soloMin)
	}
	for range 20 {
		crowded()
	}
	if got := time.Duration(soloFor.Load()); got != soloMax {
		t.Errorf("next fallback %v after many reports, want the cap %v", got, soloMax)
	}
	// During a fallback (made long here, so that a slow machine stays in
	// it), calls run on one thread and are counted.
	soloUntil.Store(int64(clock() + time.Hour))
	if n := threadsFor(Threads(), big, big, big, K); n != 1 {
		t.Errorf("threadsFor = %d during a fallback, want 1", n)
	}
	split0, solo0 := Crowding()
	tc.run()
	if split1, solo1 := Crowding(); split1 != split0+1 || solo1 != solo0+1 {
		t.Errorf("Crowding() went from (%d, %d) to (%d, %d) over one call kept on one thread", split0, solo0, split1, solo1)
	}
	// Past the fallback, calls split again; past one more fallback's
	// length without a report, the fallback is back to its shortest.
	soloUntil.Store(int64(clock() - time.Duration(soloFor.Load()) - time.Millisecond))
	if n := threadsFor(Threads(), big, big, big, K); n != 2 {
		t.Errorf("threadsFor = %d after the fallback, want 2", n)
	}
	if soloFor.Load() != 0 || soloUntil.Load() != 0 {
		t.Errorf("fallback not reset after a quiet period: for %v, until %v", soloFor.Load(), soloUntil.Load())
	}
	noFallback.Store(true)
	crowded()
	if solo() {
		t.Errorf("solo with the fallback switched off")
	}
}

// TestBound checks that a caller's own bound overrides the process-wide one,
// both ways, with results bit-identical to an unbounded call.
func TestBound(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer SetThreads(0)
	SetThreads(3)
	for _, c := range []struct {
		b    Bound
		want int
	}{{0, 3}, {-2, 3}, {1, 1}, {4, 4}} {
		if got := c.b.Threads(); got != c.want {
			t.Errorf("Bound(%d).Threads() = %d with SetThreads(3), want %d", c.b, got, c.want)
		}
	}
	K := activeKernel()
	if n := threadsFor(Bound(1).Threads(), 512, 512, 512, K); n != 1 {
		t.Errorf("a bound of 1 gives %d threads", n)
	}
	if n := threadsFor(Bound(4).Threads(), 512, 512, 512, K); n != 4 {
		t.Errorf("a bound of 4 under SetThreads(3) gives %d threads", n)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	tc := newCase(rng, true, false, 200, 170, 150, 1, 0.5, 3, false)
	want := tc.c.clone()
	Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, tc.a.data, tc.a.ld, tc.b.data, tc.b.ld, 0.5, want.data, want.ld)
	for _, b := range []Bound{1, 2, 4} {
		c := tc.c.clone()
		b.Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, tc.a.data, tc.a.ld, tc.b.data, tc.b.ld, 0.5, c.data, c.ld)
		if !sameBits(c.data, want.data) {
			t.Errorf("Bound(%d).Sgemm differs from Sgemm", b)
		}
	}
	if Threads() != 3 {
		t.Errorf("a bounded call changed the process-wide bound to %d", Threads())
	}
}
