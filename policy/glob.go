package policy

import "unicode/utf8"

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

// match reports whether s matches p. With fold, ASCII letters compare
// case-insensitively (IAM actions); otherwise comparison is exact (ARNs,
// condition values).
func (p pattern) match(s string, fold bool) bool {
	if p.literal == nil && !fold {
		// Fast path for the common case without wildcards.
		if !containsWildcard(p.text) {
			return p.text == s
		}
	}
	// Iterative glob matching with single-star backtracking: linear in
	// practice, no allocation. Bytes are compared directly; only '?' and
	// non-ASCII text need rune decoding.
	pt, st := p.text, s
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(st) {
		if pi < len(pt) {
			c := pt[pi]
			switch {
			case c == '*' && p.wild(pi):
				starP, starS = pi, si
				pi++
				continue
			case c == '?' && p.wild(pi):
				pi++
				si += runeLen(st, si)
				continue
			case c < utf8.RuneSelf:
				b := st[si]
				if c == b || (fold && lowerByte(c) == lowerByte(b)) {
					pi++
					si++
					continue
				}
			default:
				pr, pn := utf8.DecodeRuneInString(pt[pi:])
				sr, sn := utf8.DecodeRuneInString(st[si:])
				if pr == sr {
					pi += pn
					si += sn
					continue
				}
			}
		}
		if starP >= 0 {
			pi = starP + 1
			starS += runeLen(st, starS)
			si = starS
			continue
		}
		return false
	}
	for pi < len(pt) && pt[pi] == '*' && p.wild(pi) {
		pi++
	}
	return pi == len(pt)
}

func runeLen(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return n
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
