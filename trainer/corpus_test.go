package trainer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestCorpusDeterministic(t *testing.T) {
	a, b := GenerateCorpus(5, 50000), GenerateCorpus(5, 50000)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different corpus")
	}
	if bytes.Equal(a, GenerateCorpus(6, 50000)) {
		t.Fatal("different seeds, same corpus")
	}
	if len(a) < 50000 || len(a) > 50000+300 || a[len(a)-1] != '\n' {
		t.Errorf("size %d, last byte %q", len(a), a[len(a)-1])
	}
	if !bytes.HasPrefix(GenerateCorpus(5, 100000), a) {
		t.Error("a longer corpus does not extend a shorter one")
	}
}

// TestDefaultCorpusPinned: the default corpus is part of the format of a
// run; changing it silently would break exact resume of runs on it.
func TestDefaultCorpusPinned(t *testing.T) {
	c := DefaultCorpus()
	sum := sha256.Sum256(c)
	if got := hex.EncodeToString(sum[:8]); got != pinnedCorpus || len(c) < DefaultCorpusSize {
		t.Errorf("default corpus: %d bytes, digest %s; pinned %s", len(c), got, pinnedCorpus)
	}
	d, err := CorpusDataset(DataOptions{Ctx: 256})
	if err != nil {
		t.Fatal(err)
	}
	if d.Vocab != 256 || len(d.Train)+len(d.Val) != len(c) || !strings.Contains(d.Source, "embedded corpus") {
		t.Errorf("dataset: vocab %d, %d tokens, source %q", d.Vocab, len(d.Train)+len(d.Val), d.Source)
	}
}

const pinnedCorpus = "89306edfc22ed0e9"

// TestCorpusContent checks every line of a corpus sample against the
// language's rules: arithmetic is right, brackets match, facts never
// contradict, counting counts, and every sentence parses with agreement.
func TestCorpusContent(t *testing.T) {
	c := GenerateCorpus(11, 400000)
	for i, b := range c {
		if b != '\n' && (b < 0x20 || b > 0x7e) {
			t.Fatalf("byte %#x at %d is not printable ASCII", b, i)
		}
	}
	arith := regexp.MustCompile(`^([0-9()+*\- ]+) = (\d+)\.$`)
	count := regexp.MustCompile(`^count by (\d+) from (\d+):((?: \d+)+)\.$`)
	facts := map[string]string{}
	fact := func(key, val string) {
		if old, ok := facts[key]; ok && old != val {
			t.Errorf("contradiction: %s is %q and %q", key, old, val)
		}
		facts[key] = val
	}
	factRes := []struct {
		re   *regexp.Regexp
		keys []string // attribute per group after the name
	}{
		{regexp.MustCompile(`^(\w+) lives in (\w+)\.$`), []string{"home"}},
		{regexp.MustCompile(`^where does (\w+) live\? in (\w+)\.$`), []string{"home"}},
		{regexp.MustCompile(`^the favourite colour of (\w+) is (\w+)\.$`), []string{"colour"}},
		{regexp.MustCompile(`^what colour does (\w+) like\? (\w+)\.$`), []string{"colour"}},
		{regexp.MustCompile(`^(\w+) is (\d+) years old\.$`), []string{"age"}},
		{regexp.MustCompile(`^how old is (\w+)\? (\d+)\.$`), []string{"age"}},
		{regexp.MustCompile(`^(\w+) works as a (\w+)\.$`), []string{"job"}},
		{regexp.MustCompile(`^the friend of (\w+) is (\w+)\.$`), []string{"friend"}},
		{regexp.MustCompile(`^(\w+), who lives in (\w+), is a (\w+)\.$`), []string{"home", "job"}},
		{regexp.MustCompile(`^(\w+) visits (\w+) in (\w+)\.$`), []string{"friend", "friend's home"}},
	}
	kinds := map[string]int{}
lines:
	for _, line := range strings.Split(strings.TrimSuffix(string(c), "\n"), "\n") {
		if m := arith.FindStringSubmatch(line); m != nil {
			want, _ := strconv.Atoi(m[2])
			if got, err := evalExpr(m[1]); err != nil || got != want {
				t.Errorf("wrong arithmetic %q: %d, %v", line, got, err)
			}
			kinds["arithmetic"]++
			continue
		}
		if m := count.FindStringSubmatch(line); m != nil {
			step, _ := strconv.Atoi(m[1])
			v, _ := strconv.Atoi(m[2])
			for _, f := range strings.Fields(m[3]) {
				if n, _ := strconv.Atoi(f); n != v {
					t.Errorf("wrong count %q", line)
				}
				v += step
			}
			kinds["counting"]++
			continue
		}
		if strings.ContainsAny(line[:1], "([{<") {
			if !balanced(strings.TrimSuffix(line, ".")) {
				t.Errorf("unbalanced %q", line)
			}
			kinds["brackets"]++
			continue
		}
		for _, f := range factRes {
			if m := f.re.FindStringSubmatch(line); m != nil {
				for i, k := range f.keys {
					fact(m[1]+"'s "+k, m[2+i])
				}
				if f.keys[0] == "friend" && len(f.keys) == 2 {
					fact(m[2]+"'s home", m[3])
				}
				kinds["fact"]++
				continue lines
			}
		}
		if err := parseSentence(line); err != nil {
			t.Errorf("%q: %v", line, err)
		}
		kinds["agreement"]++
	}
	for _, k := range []string{"arithmetic", "counting", "brackets", "fact", "agreement"} {
		if kinds[k] < 100 {
			t.Errorf("only %d %s lines", kinds[k], k)
		}
	}
}

// TestCorpusCheckerFails: the checks above can fail.
func TestCorpusCheckerFails(t *testing.T) {
	for _, bad := range []string{
		"the dogs runs.",
		"a dogs run.",
		"a owl sings.",
		"the dog that the cats chases runs.",
		"the dogs that chases the cat run.",
		"the cats that the dog sees is happy.",
		"the dog is.",
	} {
		if parseSentence(bad) == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if parseSentence("the dogs that the cat sees near the river run.") != nil {
		t.Error("a good sentence failed")
	}
	if balanced("( [ ) ]") || !balanced("( [ ] < > )") {
		t.Error("bracket checker is wrong")
	}
	if v, _ := evalExpr("(3 + 4) * 2"); v != 14 {
		t.Error("evaluator is wrong")
	}
}

func balanced(s string) bool {
	var stack []byte
	pair := map[byte]byte{')': '(', ']': '[', '}': '{', '>': '<'}
	for _, f := range strings.Fields(s) {
		b := f[0]
		if len(f) != 1 {
			return false
		}
		if o, ok := pair[b]; ok {
			if len(stack) == 0 || stack[len(stack)-1] != o {
				return false
			}
			stack = stack[:len(stack)-1]
		} else {
			stack = append(stack, b)
		}
	}
	return len(stack) == 0
}

// evalExpr evaluates + - * and parentheses with the usual precedence.
func evalExpr(s string) (int, error) {
	toks := regexp.MustCompile(`\d+|[-+*()]`).FindAllString(s, -1)
	pos := 0
	var expr, term, factor func() (int, error)
	factor = func() (int, error) {
		if pos >= len(toks) {
			return 0, fmt.Errorf("unexpected end")
		}
		tok := toks[pos]
		pos++
		if tok == "(" {
			v, err := expr()
			if pos >= len(toks) || toks[pos] != ")" {
				return 0, fmt.Errorf("missing )")
			}
			pos++
			return v, err
		}
		return strconv.Atoi(tok)
	}
	term = func() (int, error) {
		v, err := factor()
		for err == nil && pos < len(toks) && toks[pos] == "*" {
			pos++
			var w int
			w, err = factor()
			v *= w
		}
		return v, err
	}
	expr = func() (int, error) {
		v, err := term()
		for err == nil && pos < len(toks) && (toks[pos] == "+" || toks[pos] == "-") {
			op := toks[pos]
			pos++
			var w int
			w, err = term()
			if op == "+" {
				v += w
			} else {
				v -= w
			}
		}
		return v, err
	}
	v, err := expr()
	if err == nil && pos != len(toks) {
		err = fmt.Errorf("trailing tokens")
	}
	return v, err
}

// parseSentence parses an agreement sentence with its own grammar and
// reports the first agreement error:
//
//	S  = NP VP [conj NP VP] "."     (VP agrees with the NP's head)
//	NP = det [adj] noun ["that" (VP | NP tverb)] [prep "the" place]
//	VP = iverb | tverb NP | copula adj
func parseSentence(line string) error {
	if !strings.HasSuffix(line, ".") {
		return fmt.Errorf("no full stop")
	}
	w := strings.Fields(strings.TrimSuffix(line, "."))
	pos := 0
	numOf := func(pairs [][2]string, word string) int {
		for _, p := range pairs {
			for n, f := range p {
				if f == word {
					return n
				}
			}
		}
		return -1
	}
	in := func(set []string, word string) bool {
		for _, s := range set {
			if s == word {
				return true
			}
		}
		return false
	}
	next := func() string {
		if pos < len(w) {
			pos++
			return w[pos-1]
		}
		return ""
	}
	peek := func() string {
		if pos < len(w) {
			return w[pos]
		}
		return ""
	}
	var np func() (int, error)
	var vp func(num int) error
	np = func() (int, error) {
		at := pos
		det := next()
		detNum := -1
		switch {
		case in(detSingular, det) || det == "an":
			detNum = 0
		case in(detPlural, det):
			detNum = 1
		}
		if det == "the" {
			detNum = -1 // either
		} else if detNum < 0 {
			return 0, fmt.Errorf("word %d %q is not a determiner", pos, det)
		}
		if in(adjectives, peek()) {
			next()
		}
		noun := next()
		num := numOf(nouns, noun)
		if num < 0 {
			return 0, fmt.Errorf("word %d %q is not a noun", pos, noun)
		}
		if detNum >= 0 && detNum != num {
			return 0, fmt.Errorf("determiner %q does not agree with %q", det, noun)
		}
		if vowel := strings.ContainsAny(w[at+1][:1], "aeiou"); det == "a" && vowel || det == "an" && !vowel {
			return 0, fmt.Errorf("wrong article %q before %q", det, w[at+1])
		}
		if peek() == "that" {
			next()
			if numOf(transitive, peek()) >= 0 || numOf(intransitive, peek()) >= 0 || in([]string{"is", "was", "are", "were"}, peek()) {
				if err := vp(num); err != nil {
					return 0, err
				}
			} else {
				inner, err := np()
				if err != nil {
					return 0, err
				}
				v := next()
				if numOf(transitive, v) != inner {
					return 0, fmt.Errorf("relative-clause verb %q does not agree with its subject", v)
				}
			}
		}
		if in(prepositions, peek()) {
			next()
			if next() != "the" || numOf(landmarks, next()) < 0 {
				return 0, fmt.Errorf("bad prepositional phrase at word %d", pos)
			}
		}
		return num, nil
	}
	vp = func(num int) error {
		v := next()
		switch {
		case numOf(intransitive, v) >= 0:
			if numOf(intransitive, v) != num {
				return fmt.Errorf("verb %q does not agree with its subject", v)
			}
		case numOf(transitive, v) >= 0:
			if numOf(transitive, v) != num {
				return fmt.Errorf("verb %q does not agree with its subject", v)
			}
			_, err := np()
			return err
		case v == "is" || v == "was" || v == "are" || v == "were":
			if (v == "are" || v == "were") != (num == 1) {
				return fmt.Errorf("copula %q does not agree with its subject", v)
			}
			if !in(adjectives, next()) {
				return fmt.Errorf("copula without adjective")
			}
		default:
			return fmt.Errorf("word %d %q is not a verb", pos, v)
		}
		return nil
	}
	clause := func() error {
		num, err := np()
		if err != nil {
			return err
		}
		return vp(num)
	}
	if err := clause(); err != nil {
		return err
	}
	if in([]string{"because", "and", "while"}, peek()) {
		next()
		if err := clause(); err != nil {
			return err
		}
	}
	if pos != len(w) {
		return fmt.Errorf("unparsed words from %d: %v", pos, w[pos:])
	}
	return nil
}

func BenchmarkDefaultCorpus(b *testing.B) {
	for b.Loop() {
		DefaultCorpus()
	}
	b.SetBytes(DefaultCorpusSize)
}
