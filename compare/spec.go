package compare

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sproutml/sprout/grow"
	"github.com/sproutml/sprout/trainer"
)

// Fixed is Spec.From for a fixed-depth run.
const Fixed = -1

// Spec names one run of a comparison.
//
// Its text form (ParseSpec, Name) is "fixed" or FROM-STRATEGY (e.g.
// "0-random", "1-copy", "1-copy-interleave"), optionally followed by a
// schedule suffix ("-cosine", "-wsd", "-constant") and an expansion point
// ("@0.7"): "1-copy-cosine", "1-random@0.6". "fixed=SPEC" is the
// fixed-depth model on the compute of the progressive run SPEC
// ("fixed=0-random@0.6"): fewer steps, the same schedule shape.
type Spec struct {
	From     int           // source depth, or Fixed
	Strategy grow.Strategy // how the new blocks begin (progressive runs only)
	Schedule string        // learning-rate schedule kind; "" keeps the base config's
	At       float64       // expansion point as a fraction of the run; 0 takes the experiment's

	// Match, for a fixed-depth run, is the progressive run whose training
	// FLOPs it gets: its steps are cut to spend no more than Match does, so
	// it answers whether growing beats training the target model for
	// less. Such a run is never the baseline.
	Match *Spec
}

// DefaultSpecs is the default set of runs: the fixed-depth baseline, 0->L
// and 1->L with random blocks, 1->L by copying, and 1->L by copying under a
// cosine schedule (the paper's claim is that mixing needs WSD's stable phase).
const DefaultSpecs = "fixed,0-random,1-random,1-copy,1-copy-cosine"

var scheduleSuffixes = []string{trainer.ScheduleCosine, trainer.ScheduleWSD, trainer.ScheduleConstant}

// Progressive reports whether the spec grows the model.
func (s Spec) Progressive() bool { return s.From != Fixed }

// fullFixed reports whether the spec is a fixed-depth run of the whole
// length, the kind that can be a baseline.
func (s Spec) fullFixed() bool { return !s.Progressive() && s.Match == nil }

// Name is the spec's canonical text form.
func (s Spec) Name() string {
	if s.Match != nil {
		return "fixed=" + s.Match.Name()
	}
	var sb strings.Builder
	if s.Progressive() {
		fmt.Fprintf(&sb, "%d-%s", s.From, s.Strategy)
	} else {
		sb.WriteString("fixed")
	}
	if s.Schedule != "" {
		sb.WriteString("-" + s.Schedule)
	}
	if s.At != 0 {
		sb.WriteString("@" + strconv.FormatFloat(s.At, 'g', -1, 64))
	}
	return sb.String()
}

// ParseSpec reads a spec's text form; see Spec.
func ParseSpec(text string) (Spec, error) {
	in := strings.TrimSpace(text)
	if m, ok := strings.CutPrefix(in, "fixed="); ok {
		match, err := ParseSpec(m)
		if err != nil {
			return Spec{}, fmt.Errorf("compare: variant %q: %s", in, strings.TrimPrefix(err.Error(), "compare: "))
		}
		if !match.Progressive() {
			return Spec{}, fmt.Errorf("compare: variant %q: the run to match must be progressive (such as fixed=0-random@0.6)", in)
		}
		return Spec{From: Fixed, Match: &match}, nil
	}
	body := in
	var s Spec
	if i := strings.LastIndexByte(body, '@'); i >= 0 {
		at, err := strconv.ParseFloat(body[i+1:], 64)
		if err != nil || !(at > 0 && at < 1) {
			return Spec{}, fmt.Errorf("compare: variant %q: expansion point %q is not a fraction in (0, 1)", in, body[i+1:])
		}
		s.At, body = at, body[:i]
	}
	for _, k := range scheduleSuffixes {
		if strings.HasSuffix(body, "-"+k) {
			s.Schedule, body = k, strings.TrimSuffix(body, "-"+k)
			break
		}
	}
	if body == "fixed" {
		if s.At != 0 {
			return Spec{}, fmt.Errorf("compare: variant %q: a fixed-depth run has no expansion point", in)
		}
		s.From = Fixed
		return s, nil
	}
	from, strat, ok := strings.Cut(body, "-")
	n, err := strconv.Atoi(from)
	if !ok || err != nil || n < 0 {
		return Spec{}, fmt.Errorf("compare: variant %q: want \"fixed\" or FROM-STRATEGY such as 1-copy (FROM a depth, STRATEGY one of %s), optionally with -cosine and @TAU", in, strategyNames())
	}
	st, err := grow.ParseStrategy(strat)
	if err != nil {
		return Spec{}, fmt.Errorf("compare: variant %q: unknown strategy %q (want %s)", in, strat, strategyNames())
	}
	if n == 0 && st != grow.Random && st != grow.Zero {
		return Spec{}, fmt.Errorf("compare: variant %q: strategy %q copies trained blocks, but a 0-block source has none (use 0-random)", in, st)
	}
	s.From, s.Strategy = n, st
	return s, nil
}

// ParseSpecs reads a comma-separated list of specs ("" gives DefaultSpecs).
func ParseSpecs(list string) ([]Spec, error) {
	if strings.TrimSpace(list) == "" {
		list = DefaultSpecs
	}
	var specs []Spec
	var errs []error
	for _, item := range strings.Split(list, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		s, err := ParseSpec(item)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		specs = append(specs, s)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return specs, nil
}

// ParseTaus reads a comma-separated list of expansion points, each in (0, 1).
func ParseTaus(list string) ([]float64, error) {
	var taus []float64
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		t, err := strconv.ParseFloat(item, 64)
		if err != nil || !(t > 0 && t < 1) || math.IsNaN(t) {
			return nil, fmt.Errorf("compare: tau %q is not a fraction in (0, 1)", item)
		}
		taus = append(taus, t)
	}
	return taus, nil
}

func strategyNames() string {
	names := make([]string, len(grow.Strategies))
	for i, s := range grow.Strategies {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}
