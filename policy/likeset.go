package policy

// likeSet answers "does v match any of these patterns" for many request
// values against many StringLike patterns without trying every pair:
// patterns without wildcards go in a hash set, and every other pattern is
// tried only on values that contain its longest run of literal text, found
// for all patterns at once in one pass over the value (Aho-Corasick).
// 100,000 values against 1,000 patterns cost one scan of each value, not
// 100 million matches.
type likeSet struct {
	exact  map[string]bool
	always []int // patterns without a literal run: tried on every value
	pats   []pattern
	// The automaton over the patterns' literal runs.
	next    []map[byte]int32
	fail    []int32
	out     [][]int32 // patterns whose run ends at this state
	outLink []int32   // nearest state on the fail chain with output, or -1
	seen    []int     // per pattern: the value it was last tried on, plus one
	stamp   int
}

// likeSetMin is the number of comparisons (values × patterns) from which
// building a likeSet pays.
const likeSetMin = 4096

func newLikeSet(given []pattern) *likeSet {
	pats := make([]pattern, len(given)) // the caller's slice may live on its stack
	copy(pats, given)
	s := &likeSet{exact: map[string]bool{}, pats: pats, next: []map[byte]int32{{}}, fail: []int32{0}, out: [][]int32{nil}}
	for i, p := range pats {
		if !p.hasWildcard() {
			s.exact[p.text] = true
			continue
		}
		run := p.longestRun()
		if run == "" {
			s.always = append(s.always, i)
			continue
		}
		st := int32(0)
		for k := 0; k < len(run); k++ {
			c := run[k]
			n, ok := s.next[st][c]
			if !ok {
				n = int32(len(s.next))
				s.next = append(s.next, map[byte]int32{})
				s.fail = append(s.fail, 0)
				s.out = append(s.out, nil)
				s.next[st][c] = n
			}
			st = n
		}
		s.out[st] = append(s.out[st], int32(i))
	}
	// Breadth-first: fail links and output links.
	s.outLink = make([]int32, len(s.next))
	s.outLink[0] = -1
	queue := make([]int32, 0, len(s.next))
	for _, n := range s.next[0] {
		queue = append(queue, n)
		s.outLink[n] = -1
	}
	for len(queue) > 0 {
		st := queue[0]
		queue = queue[1:]
		for c, n := range s.next[st] {
			f := s.fail[st]
			for {
				if m, ok := s.next[f][c]; ok && m != n {
					s.fail[n] = m
					break
				}
				if f == 0 {
					s.fail[n] = 0
					break
				}
				f = s.fail[f]
			}
			if fl := s.fail[n]; len(s.out[fl]) > 0 {
				s.outLink[n] = fl
			} else {
				s.outLink[n] = s.outLink[fl]
			}
			queue = append(queue, n)
		}
	}
	s.seen = make([]int, len(pats))
	return s
}

// any reports whether v matches at least one pattern.
func (s *likeSet) any(v string) bool {
	if s.exact[v] {
		return true
	}
	for _, i := range s.always {
		if s.pats[i].match(v, false) {
			return true
		}
	}
	if len(s.next) == 1 {
		return false
	}
	s.stamp++
	st := int32(0)
	for k := 0; k < len(v); k++ {
		c := v[k]
		for {
			if n, ok := s.next[st][c]; ok {
				st = n
				break
			}
			if st == 0 {
				break
			}
			st = s.fail[st]
		}
		for o := st; o > 0; o = s.outLink[o] {
			for _, i := range s.out[o] {
				if s.seen[i] == s.stamp {
					continue
				}
				s.seen[i] = s.stamp
				if s.pats[i].match(v, false) {
					return true
				}
			}
			if s.outLink[o] < 0 {
				break
			}
		}
	}
	return false
}

// longestRun is the longest run of p's literal text between wildcards: a
// value must contain it to match.
func (p pattern) longestRun() string {
	best, start := "", 0
	for i := 0; i <= len(p.text); i++ {
		if i == len(p.text) || p.isStar(i) || p.isAny(i) {
			if i-start > len(best) {
				best = p.text[start:i]
			}
			start = i + 1
		}
	}
	return best
}
