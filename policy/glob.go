package policy

import (
	"strings"
	"unicode/utf8"
)

// pattern is a policy string with IAM wildcards: '*' matches any run of
// characters (also none, also ':' and '/'), '?' matches one character.
// Characters that came from a policy variable's value or from ${*}, ${?} and
// ${$} are literal: literal[i] marks byte i of text as such. A nil literal
// means every '*' and '?' is a wildcard.
type pattern struct {
	text    string
	literal []bool
}

func plain(s string) pattern { return pattern{text: s} }

func (p pattern) wild(i int) bool { return p.literal == nil || !p.literal[i] }

// isStar and isAny report whether byte i is a wildcard '*' or '?'.
func (p pattern) isStar(i int) bool { return p.text[i] == '*' && p.wild(i) }
func (p pattern) isAny(i int) bool  { return p.text[i] == '?' && p.wild(i) }

// match reports whether s matches p. With fold, ASCII letters compare
// case-insensitively (IAM actions); otherwise comparison is exact (ARNs,
// condition values).
//
// Matching never backtracks: the pattern is cut at its stars into chunks;
// the first chunk must match at the start, the last at the end, and each
// chunk between is taken at its leftmost occurrence after the previous one
// (the leftmost occurrence ends earliest, so it never loses a match). Each
// search is strings.Index for a chunk without '?', so a long literal between
// stars against a long value costs linear time, not quadratic.
func (p pattern) match(s string, fold bool) bool {
	if fold {
		p.text, s = asciiLower(p.text), asciiLower(s)
	}
	if !p.hasWildcard() {
		return p.text == s
	}
	first := p.nextStar(0)
	if first < 0 {
		end, ok := p.matchAt(s, 0, len(s))
		return ok && end == len(s)
	}
	pos, ok := p.slice(0, first).matchAt(s, 0, len(s))
	if !ok {
		return false
	}
	last := p.lastStar()
	tailStart, ok := p.slice(last+1, len(p.text)).matchEnd(s)
	if !ok || tailStart < pos {
		return false
	}
	pos, ok = p.slice(first+1, last+1).findChunks(s, pos, tailStart)
	return ok && pos <= tailStart
}

// prefixEnd returns the smallest end such that p matches s[start:end]: the
// earliest point where a pattern followed by a star has matched.
func (p pattern) prefixEnd(s string, start int) (int, bool) {
	first := p.nextStar(0)
	if first < 0 {
		return p.matchAt(s, start, len(s))
	}
	pos, ok := p.slice(0, first).matchAt(s, start, len(s))
	if !ok {
		return 0, false
	}
	return p.slice(first+1, len(p.text)).findChunks(s, pos, len(s))
}

// findChunks finds the star-separated chunks of p one after another in
// s[pos:limit], each at its leftmost occurrence, and returns the end of the
// last one.
func (p pattern) findChunks(s string, pos, limit int) (int, bool) {
	start := 0
	for start <= len(p.text) {
		end := p.nextStar(start)
		if end < 0 {
			end = len(p.text)
		}
		if end > start {
			var ok bool
			if pos, ok = p.slice(start, end).find(s, pos, limit); !ok {
				return 0, false
			}
		}
		start = end + 1
	}
	return pos, true
}

// find returns the end of the leftmost match of chunk p (no stars) in
// s[from:limit].
func (p pattern) find(s string, from, limit int) (int, bool) {
	if !p.hasAny() {
		i := strings.Index(s[from:limit], p.text)
		if i < 0 {
			return 0, false
		}
		return from + i + len(p.text), true
	}
	if (limit-from)*len(p.text) > shiftAndMin {
		return p.findShiftAnd(s, from, limit)
	}
	for i := from; i <= limit; {
		if end, ok := p.matchAt(s, i, limit); ok {
			return end, true
		}
		if i == limit {
			break
		}
		i += runeLen(s, i)
	}
	return 0, false
}

// shiftAndMin is the work (value bytes × chunk bytes) from which find
// leaves trying each offset for shift-and.
const shiftAndMin = 1 << 16

// findShiftAnd is find by shift-and over runes: the set of chunk prefixes
// that end at the current character is a bit vector updated once per
// character, so a chunk such as "a?a?a?...b" against a long run of a's
// costs len(s)·len(p)/64 word operations instead of len(s)·len(p).
func (p pattern) findShiftAnd(s string, from, limit int) (int, bool) {
	var elems []rune // -1 stands for '?'
	for k := 0; k < len(p.text); {
		if p.isAny(k) {
			elems = append(elems, -1)
			k++
			continue
		}
		r, n := utf8.DecodeRuneInString(p.text[k:])
		if r == utf8.RuneError && n == 1 {
			r = -2 // a byte that is not UTF-8 matches no character
		}
		elems = append(elems, r)
		k += n
	}
	m := len(elems)
	words := (m + 63) / 64
	anyMask := make([]uint64, words)
	masks := map[rune][]uint64{}
	for i, r := range elems {
		if r == -1 {
			anyMask[i/64] |= 1 << (i % 64)
		}
	}
	for i, r := range elems {
		if r < 0 {
			continue
		}
		mm := masks[r]
		if mm == nil {
			mm = append([]uint64(nil), anyMask...)
			masks[r] = mm
		}
		mm[i/64] |= 1 << (i % 64)
	}
	var ascii [utf8.RuneSelf][]uint64
	for r, mm := range masks {
		if r < utf8.RuneSelf {
			ascii[r] = mm
		}
	}
	state := make([]uint64, words)
	lw, lb := (m-1)/64, uint((m-1)%64)
	for i := from; i < limit; {
		var mm []uint64
		n := 1
		if c := s[i]; c < utf8.RuneSelf {
			mm = ascii[c]
		} else {
			var r rune
			r, n = utf8.DecodeRuneInString(s[i:limit])
			if !(r == utf8.RuneError && n == 1) {
				mm = masks[r]
			}
		}
		if mm == nil {
			mm = anyMask
		}
		carry := uint64(1)
		for w := range state {
			next := state[w] >> 63
			state[w] = (state[w]<<1 | carry) & mm[w]
			carry = next
		}
		i += n
		if state[lw]>>lb&1 == 1 {
			return i, true
		}
	}
	return 0, false
}

// matchAt matches chunk p (no stars) at s[i:], not beyond limit, and returns
// where the match ends. '?' takes one character (rune).
func (p pattern) matchAt(s string, i, limit int) (int, bool) {
	for k := 0; k < len(p.text); k++ {
		if i >= limit {
			return 0, false
		}
		if p.isAny(k) {
			i += runeLen(s[:limit], i)
			continue
		}
		if s[i] != p.text[k] {
			return 0, false
		}
		i++
	}
	return i, true
}

// matchEnd matches chunk p (no stars) at the end of s and returns where the
// match starts.
func (p pattern) matchEnd(s string) (int, bool) {
	j := len(s)
	for k := len(p.text) - 1; k >= 0; k-- {
		if j == 0 {
			return 0, false
		}
		if p.isAny(k) {
			_, n := utf8.DecodeLastRuneInString(s[:j])
			j -= n
			continue
		}
		// A '?' covers a whole rune: a multi-byte literal is compared
		// byte by byte from its last byte.
		if s[j-1] != p.text[k] {
			return 0, false
		}
		j--
	}
	return j, true
}

func (p pattern) nextStar(from int) int {
	for i := from; i < len(p.text); i++ {
		if p.isStar(i) {
			return i
		}
	}
	return -1
}

func (p pattern) lastStar() int {
	for i := len(p.text) - 1; i >= 0; i-- {
		if p.isStar(i) {
			return i
		}
	}
	return -1
}

func (p pattern) hasAny() bool {
	for i := 0; i < len(p.text); i++ {
		if p.isAny(i) {
			return true
		}
	}
	return false
}

func (p pattern) hasWildcard() bool {
	for i := 0; i < len(p.text); i++ {
		if (p.text[i] == '*' || p.text[i] == '?') && p.wild(i) {
			return true
		}
	}
	return false
}

func runeLen(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return n
}

// asciiLower lower-cases ASCII letters only, keeping every byte offset (and
// so a literal mask) valid.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		b[i] = lowerByte(b[i])
	}
	return string(b)
}

func lowerByte(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + ('a' - 'A')
	}
	return b
}

func containsWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '*' || s[i] == '?' {
			return true
		}
	}
	return false
}

// Like reports whether s matches pattern with IAM's wildcards, as in a
// policy's Resource or a StringLike condition: '*' matches any run of
// characters (colons and slashes too), '?' one character; everything else
// matches itself, case-sensitively.
func Like(pattern, s string) bool { return plain(pattern).match(s, false) }
