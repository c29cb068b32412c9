package trainer

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/sproutml/sprout/tokenizer"
)

// Corpus defaults.
const (
	DefaultCorpusSeed = 1
	DefaultCorpusSize = 3 << 20 // bytes
)

// DefaultCorpus returns the default embedded corpus, generated afresh.
func DefaultCorpus() []byte {
	return GenerateCorpus(DefaultCorpusSeed, DefaultCorpusSize)
}

// CorpusDataset is the default corpus as a byte-level dataset.
func CorpusDataset(opt DataOptions) (*Dataset, error) {
	opt.Format, opt.Vocab = FormatText, 0
	src := fmt.Sprintf("embedded corpus (seed %d, %d bytes)", DefaultCorpusSeed, DefaultCorpusSize)
	if tok := opt.Tokenizer; !isBytes(tok) {
		// An imported model's tokenizer encodes the corpus like any text.
		toks, err := encodeText(DefaultCorpus(), tok, src)
		if err != nil {
			return nil, err
		}
		opt.Vocab = tok.VocabSize()
		d, err := NewDataset(toks, src, opt)
		if err != nil {
			return nil, err
		}
		d.Tokenizer, d.TokenizerName, d.Tok = tokenizer.Digest(tok), tok.Name(), tok
		return d, nil
	}
	return NewDataset(EncodeBytes(DefaultCorpus()), src, opt)
}

// GenerateCorpus returns at least size bytes (whole lines) of a small
// synthetic language, the same bytes for the same seed and size. It is the
// embedded default corpus of runs with no data of their own. No third-party text is involved. It is lower-case ASCII,
// one statement per line, mixing five kinds of statement:
//
//   - Agreement: "the dogs that the farmer sees near the old river run."
//     Nouns are singular or plural; determiners and verbs agree with their
//     noun, and the main verb agrees with the subject's head noun across
//     relative clauses nested up to three deep, whose own verbs agree with
//     their own subjects.
//   - Facts about a fixed world of invented people and places: each person
//     has one home, colour, age, job and friend, stated the same way every
//     time ("zorvi lives in kelmora.", "how old is zorvi? 34."), so
//     memorisation pays.
//   - Arithmetic: "17 + 25 = 42.", "63 - 28 = 35.", "7 * 8 = 56.",
//     "(3 + 4) * 2 = 14.", all correct.
//   - Brackets: "( [ { } ] < > )." with four bracket kinds, nested up to
//     six deep and always matched.
//   - Counting: "count by 3 from 4: 4 7 10 13 16."
//
// Local statistics (spelling, word order) are learnt by a shallow model;
// long-range agreement, matching the right closing bracket, carrying digits
// and recalling facts need composition across positions and layers, so a
// deeper model reaches a visibly lower loss.
func GenerateCorpus(seed uint64, size int) []byte {
	g := &corpusGen{pcg: newPCG(seed, streamCorpus)}
	g.makeWorld()
	var sb strings.Builder
	sb.Grow(size + 256)
	for sb.Len() < size {
		switch r := g.n(100); {
		case r < 40:
			g.agreement(&sb)
		case r < 62:
			g.fact(&sb)
		case r < 80:
			g.arithmetic(&sb)
		case r < 92:
			g.brackets(&sb)
		default:
			g.counting(&sb)
		}
		sb.WriteByte('\n')
	}
	return []byte(sb.String())
}

type corpusGen struct {
	pcg    *rand.PCG
	people []person
	places []string
}

type person struct {
	name, home, colour, job string
	age, friend             int
}

// n returns a uniform int in [0, k).
func (g *corpusGen) n(k int) int { return int(bounded(g.pcg, uint64(k))) }

func (g *corpusGen) pick(words []string) string { return words[g.n(len(words))] }

func (g *corpusGen) pair(words [][2]string) [2]string { return words[g.n(len(words))] }

// noun pairs: singular, plural.
var (
	nouns = [][2]string{
		{"dog", "dogs"}, {"cat", "cats"}, {"bird", "birds"}, {"fox", "foxes"},
		{"child", "children"}, {"farmer", "farmers"}, {"robot", "robots"},
		{"teacher", "teachers"}, {"wolf", "wolves"}, {"mouse", "mice"},
		{"king", "kings"}, {"queen", "queens"}, {"sailor", "sailors"},
		{"horse", "horses"}, {"baker", "bakers"}, {"owl", "owls"},
	}
	landmarks = [][2]string{
		{"river", "rivers"}, {"tower", "towers"}, {"garden", "gardens"},
		{"bridge", "bridges"}, {"forest", "forests"}, {"house", "houses"},
	}
	// verbs: third person singular, plural.
	transitive = [][2]string{
		{"sees", "see"}, {"chases", "chase"}, {"likes", "like"}, {"helps", "help"},
		{"follows", "follow"}, {"finds", "find"}, {"watches", "watch"},
		{"knows", "know"}, {"feeds", "feed"}, {"calls", "call"},
	}
	intransitive = [][2]string{
		{"runs", "run"}, {"sleeps", "sleep"}, {"sings", "sing"}, {"waits", "wait"},
		{"jumps", "jump"}, {"laughs", "laugh"}, {"hides", "hide"}, {"swims", "swim"},
	}
	adjectives   = []string{"small", "red", "old", "quiet", "happy", "clever", "tall", "green", "brave", "tired"}
	detSingular  = []string{"the", "a", "every", "this", "one"}
	detPlural    = []string{"the", "some", "many", "these", "two", "three"}
	prepositions = []string{"near", "behind", "under", "beside"}
	colours      = []string{"red", "blue", "green", "yellow", "purple", "orange", "white", "black", "grey", "pink", "brown", "gold"}
	jobs         = []string{"baker", "sailor", "farmer", "teacher", "painter", "doctor", "miner", "singer", "weaver", "builder"}
	syllables    = []string{"ka", "lo", "mi", "zor", "vi", "ten", "ra", "bel", "dun", "shi", "qua", "ne", "po", "tal", "gri", "su", "mer", "ox", "fa", "lin"}
)

// makeWorld invents the people and places that facts talk about.
func (g *corpusGen) makeWorld() {
	used := map[string]bool{}
	name := func(minSyl, maxSyl int) string {
		for {
			var sb strings.Builder
			for k := minSyl + g.n(maxSyl-minSyl+1); k > 0; k-- {
				sb.WriteString(g.pick(syllables))
			}
			if s := sb.String(); !used[s] {
				used[s] = true
				return s
			}
		}
	}
	for range 40 {
		g.places = append(g.places, name(3, 3))
	}
	g.people = make([]person, 300)
	for i := range g.people {
		g.people[i] = person{
			name:   name(2, 2),
			home:   g.pick(g.places),
			colour: g.pick(colours),
			job:    g.pick(jobs),
			age:    2 + g.n(98),
			friend: (i + 1 + g.n(len(g.people)-1)) % len(g.people), // never i
		}
	}
}

// nounPhrase writes a noun phrase whose head is singular or plural, with up
// to depth levels of relative clauses, and returns the head's number.
func (g *corpusGen) nounPhrase(sb *strings.Builder, depth int) (plural bool) {
	plural = g.n(2) == 0
	det := g.pick(detSingular)
	if plural {
		det = g.pick(detPlural)
	}
	adj := ""
	if g.n(3) == 0 {
		adj = g.pick(adjectives) + " "
	}
	noun := g.pair(nouns)[number(plural)]
	if det == "a" && strings.ContainsRune("aeiou", rune((adj + noun)[0])) {
		det = "an"
	}
	sb.WriteString(det)
	sb.WriteByte(' ')
	sb.WriteString(adj)
	sb.WriteString(noun)
	if depth > 0 && g.n(2) == 0 {
		sb.WriteString(" that ")
		if g.n(2) == 0 {
			// Subject relative: the clause's verb agrees with this head.
			g.verbPhrase(sb, plural, depth-1)
		} else {
			// Object relative: the clause has a subject of its own.
			inner := g.nounPhrase(sb, depth-1)
			sb.WriteByte(' ')
			sb.WriteString(g.pair(transitive)[number(inner)])
		}
	}
	if g.n(4) == 0 {
		p := g.pair(landmarks)
		sb.WriteByte(' ')
		sb.WriteString(g.pick(prepositions))
		sb.WriteString(" the ")
		sb.WriteString(p[g.n(2)])
	}
	return plural
}

func number(plural bool) int {
	if plural {
		return 1
	}
	return 0
}

// verbPhrase writes a verb phrase agreeing with a singular or plural subject.
func (g *corpusGen) verbPhrase(sb *strings.Builder, plural bool, depth int) {
	switch g.n(3) {
	case 0:
		sb.WriteString(g.pair(intransitive)[number(plural)])
	case 1:
		sb.WriteString(g.pair(transitive)[number(plural)])
		sb.WriteByte(' ')
		g.nounPhrase(sb, depth)
	default:
		if plural {
			sb.WriteString(g.pick([]string{"are", "were"}))
		} else {
			sb.WriteString(g.pick([]string{"is", "was"}))
		}
		sb.WriteByte(' ')
		sb.WriteString(g.pick(adjectives))
	}
}

func (g *corpusGen) agreement(sb *strings.Builder) {
	depth := []int{0, 1, 1, 2, 2, 3}[g.n(6)]
	plural := g.nounPhrase(sb, depth)
	sb.WriteByte(' ')
	g.verbPhrase(sb, plural, max(0, depth-1))
	if g.n(5) == 0 {
		sb.WriteString(g.pick([]string{" because ", " and ", " while "}))
		plural = g.nounPhrase(sb, 1)
		sb.WriteByte(' ')
		g.verbPhrase(sb, plural, 0)
	}
	sb.WriteByte('.')
}

func (g *corpusGen) fact(sb *strings.Builder) {
	p := g.people[g.n(len(g.people))]
	switch g.n(10) {
	case 0:
		fmt.Fprintf(sb, "%s lives in %s.", p.name, p.home)
	case 1:
		fmt.Fprintf(sb, "where does %s live? in %s.", p.name, p.home)
	case 2:
		fmt.Fprintf(sb, "the favourite colour of %s is %s.", p.name, p.colour)
	case 3:
		fmt.Fprintf(sb, "what colour does %s like? %s.", p.name, p.colour)
	case 4:
		fmt.Fprintf(sb, "%s is %d years old.", p.name, p.age)
	case 5:
		fmt.Fprintf(sb, "how old is %s? %d.", p.name, p.age)
	case 6:
		fmt.Fprintf(sb, "%s works as a %s.", p.name, p.job)
	case 7:
		fmt.Fprintf(sb, "the friend of %s is %s.", p.name, g.people[p.friend].name)
	case 8:
		fmt.Fprintf(sb, "%s, who lives in %s, is a %s.", p.name, p.home, p.job)
	default:
		f := g.people[p.friend]
		fmt.Fprintf(sb, "%s visits %s in %s.", p.name, f.name, f.home)
	}
}

func (g *corpusGen) arithmetic(sb *strings.Builder) {
	switch g.n(4) {
	case 0:
		a, b := g.n(100), g.n(100)
		fmt.Fprintf(sb, "%d + %d = %d.", a, b, a+b)
	case 1:
		a, b := g.n(100), g.n(100)
		if a < b {
			a, b = b, a
		}
		fmt.Fprintf(sb, "%d - %d = %d.", a, b, a-b)
	case 2:
		a, b := 1+g.n(12), 1+g.n(12)
		fmt.Fprintf(sb, "%d * %d = %d.", a, b, a*b)
	default:
		a, b, c := g.n(20), g.n(20), 1+g.n(9)
		if g.n(2) == 0 {
			fmt.Fprintf(sb, "(%d + %d) * %d = %d.", a, b, c, (a+b)*c)
		} else {
			fmt.Fprintf(sb, "%d + %d * %d = %d.", a, b, c, a+b*c)
		}
	}
}

func (g *corpusGen) brackets(sb *strings.Builder) {
	const opens, closes = "([{<", ")]}>"
	var stack []byte
	n := 4 + g.n(12) // pairs to emit
	for emitted := 0; emitted < n || len(stack) > 0; {
		if emitted < n && len(stack) < 6 && (len(stack) == 0 || g.n(2) == 0) {
			k := g.n(len(opens))
			sb.WriteByte(opens[k])
			stack = append(stack, closes[k])
			emitted++
		} else {
			sb.WriteByte(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
		}
		if emitted < n || len(stack) > 0 {
			sb.WriteByte(' ')
		}
	}
	sb.WriteByte('.')
}

func (g *corpusGen) counting(sb *strings.Builder) {
	step, start := 1+g.n(9), g.n(50)
	sb.WriteString("count by ")
	sb.WriteString(strconv.Itoa(step))
	sb.WriteString(" from ")
	sb.WriteString(strconv.Itoa(start))
	sb.WriteByte(':')
	for i := range 4 + g.n(5) {
		sb.WriteByte(' ')
		sb.WriteString(strconv.Itoa(start + i*step))
	}
	sb.WriteByte('.')
}
