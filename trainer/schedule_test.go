package trainer

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

func TestWSDDefaults(t *testing.T) {
	s, err := NewSchedule(ScheduleWSD, 100, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if s.WarmupSteps() != 2 || s.DecayStart() != 90 {
		t.Fatalf("warmup %d, decay start %d; want 2 and 90", s.WarmupSteps(), s.DecayStart())
	}
	want := map[int]float64{
		-5: 0.005, 0: 0.005, 1: 0.01, 2: 0.01, 50: 0.01, 89: 0.01,
		90: 0.009, 91: 0.008, 95: 0.004, 98: 0.001, 99: 0, 150: 0,
	}
	for step, w := range want {
		if got := s.LR(step); !near(got, w) {
			t.Errorf("LR(%d) = %v, want %v", step, got, w)
		}
	}
}

func TestWSDShapes(t *testing.T) {
	// 10 steps, no warmup, decay over the last 4: progress 1/4, 2/4, 3/4, 1.
	base := Schedule{Kind: ScheduleWSD, Steps: 10, Peak: 2, Decay: 0.4, MinRatio: 0.5}
	cases := map[string][4]float64{
		DecayLinear: {1 - 0.25, 1 - 0.5, 1 - 0.75, 0},
		DecayCosine: {0.5 * (1 + math.Cos(math.Pi/4)), 0.5, 0.5 * (1 + math.Cos(3*math.Pi/4)), 0},
		DecaySqrt:   {0.5, 1 - math.Sqrt(0.5), 1 - math.Sqrt(0.75), 0},
	}
	for shape, f := range cases {
		s := base
		s.DecayShape = shape
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		if s.DecayStart() != 6 || s.LR(5) != 2 {
			t.Errorf("%s: decay start %d, LR(5) %v", shape, s.DecayStart(), s.LR(5))
		}
		for i, fi := range f {
			want := 2 * (0.5 + 0.5*fi)
			if got := s.LR(6 + i); !near(got, want) {
				t.Errorf("%s: LR(%d) = %v, want %v", shape, 6+i, got, want)
			}
		}
	}
}

func TestCosineAndConstant(t *testing.T) {
	s, err := NewSchedule(ScheduleCosine, 50, 1)
	if err != nil {
		t.Fatal(err)
	}
	// warmup 1 step (2% of 50); cosine over steps 1..49 (49 steps) to 0.1.
	if s.LR(0) != 1 || s.DecayStart() != 1 {
		t.Errorf("LR(0) = %v, decay start %d", s.LR(0), s.DecayStart())
	}
	for _, step := range []int{1, 10, 25, 49} {
		p := float64(step) / 49
		want := 0.1 + 0.9*0.5*(1+math.Cos(math.Pi*p))
		if got := s.LR(step); !near(got, want) {
			t.Errorf("cosine LR(%d) = %v, want %v", step, got, want)
		}
	}
	if !near(s.LR(49), 0.1) {
		t.Errorf("cosine ends at %v, want 0.1", s.LR(49))
	}
	c := Schedule{Kind: ScheduleConstant, Steps: 10, Peak: 3, Warmup: 0.3}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for step, w := range []float64{1, 2, 3, 3, 3, 3, 3, 3, 3, 3} {
		if got := c.LR(step); !near(got, w) {
			t.Errorf("constant LR(%d) = %v, want %v", step, got, w)
		}
	}
	if c.DecayStart() != 10 {
		t.Errorf("constant decay start %d, want 10", c.DecayStart())
	}
}

func TestScheduleValidate(t *testing.T) {
	ok := Schedule{Kind: ScheduleWSD, Steps: 100, Peak: 1, Warmup: 0.02, Decay: 0.1, DecayShape: DecayLinear}
	cases := []struct {
		edit func(*Schedule)
		want string
	}{
		{func(s *Schedule) { s.Kind = "step" }, `unknown kind "step"`},
		{func(s *Schedule) { s.Steps = 0 }, "steps must be positive"},
		{func(s *Schedule) { s.Peak = -1 }, "learning rate must be positive"},
		{func(s *Schedule) { s.Peak = math.NaN() }, "learning rate must be positive"},
		{func(s *Schedule) { s.Warmup = 1.5 }, "warmup fraction"},
		{func(s *Schedule) { s.Decay = -0.1 }, "decay fraction"},
		{func(s *Schedule) { s.DecayShape = "exp" }, `unknown decay shape "exp"`},
		{func(s *Schedule) { s.MinRatio = 2 }, "min ratio"},
		{func(s *Schedule) { s.Warmup, s.Decay = 0.6, 0.5 }, "runs into the decay phase"},
		{func(s *Schedule) { s.Kind = ScheduleCosine }, "apply to wsd only"},
	}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		s := ok
		c.edit(&s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
	if _, err := NewSchedule("nope", 10, 1); err == nil {
		t.Error("NewSchedule accepted an unknown kind")
	}
}

func TestScheduleJSON(t *testing.T) {
	s, _ := NewSchedule(ScheduleWSD, 1000, 3e-3)
	s.DecayShape = DecaySqrt
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Schedule
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != s {
		t.Errorf("round trip: %+v != %+v", back, s)
	}
	if !strings.Contains(string(b), `"decay_shape":"1-sqrt"`) {
		t.Errorf("json = %s", b)
	}
}
