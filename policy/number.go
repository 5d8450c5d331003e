package policy

import "strings"

// decimal is a number read from its decimal notation: the value is
// 0.digits × 10^exp, negative when neg, with digits free of leading and
// trailing zeros (empty for zero). Comparing two of them costs the length
// of their digits, whatever their exponents.
type decimal struct {
	neg    bool
	digits string
	exp    int64
}

// maxExponent bounds the written exponent: beyond it the notation is not a
// number any AWS service reads, and the arithmetic below could overflow.
const maxExponent = 1_000_000_000

// parseDecimal reads [+-]digits[.digits][(e|E)[+-]digits], surrounding
// spaces allowed. It accepts nothing else: no hexadecimal, octal or binary
// prefixes, fractions, digit separators, Inf or NaN.
func parseDecimal(s string) (decimal, bool) {
	s = strings.TrimSpace(s)
	var d decimal
	if s != "" && (s[0] == '+' || s[0] == '-') {
		d.neg = s[0] == '-'
		s = s[1:]
	}
	intEnd := digitRun(s, 0)
	if intEnd == 0 {
		return decimal{}, false
	}
	intPart, frac := s[:intEnd], ""
	rest := s[intEnd:]
	if rest != "" && rest[0] == '.' {
		fe := digitRun(rest, 1)
		if fe == 1 {
			return decimal{}, false
		}
		frac, rest = rest[1:fe], rest[fe:]
	}
	var exp int64
	if rest != "" && (rest[0] == 'e' || rest[0] == 'E') {
		rest = rest[1:]
		neg := false
		if rest != "" && (rest[0] == '+' || rest[0] == '-') {
			neg = rest[0] == '-'
			rest = rest[1:]
		}
		ee := digitRun(rest, 0)
		if ee == 0 {
			return decimal{}, false
		}
		for _, c := range rest[:ee] {
			exp = exp*10 + int64(c-'0')
			if exp > maxExponent {
				return decimal{}, false
			}
		}
		if neg {
			exp = -exp
		}
		rest = rest[ee:]
	}
	if rest != "" {
		return decimal{}, false
	}
	all := intPart + frac
	lead := 0
	for lead < len(all) && all[lead] == '0' {
		lead++
	}
	all = strings.TrimRight(all[lead:], "0")
	if all == "" {
		return decimal{}, true // zero, of either sign
	}
	d.digits = all
	d.exp = exp + int64(len(intPart)) - int64(lead)
	return d, true
}

func digitRun(s string, from int) int {
	i := from
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// cmp returns -1, 0 or +1 as d is less than, equal to or greater than e.
func (d decimal) cmp(e decimal) int {
	dz, ez := d.digits == "", e.digits == ""
	switch {
	case dz && ez:
		return 0
	case dz:
		if e.neg {
			return 1
		}
		return -1
	case ez:
		if d.neg {
			return -1
		}
		return 1
	case d.neg != e.neg:
		if d.neg {
			return -1
		}
		return 1
	}
	mag := 0
	switch {
	case d.exp != e.exp:
		mag = 1
		if d.exp < e.exp {
			mag = -1
		}
	default:
		mag = strings.Compare(d.digits, e.digits)
	}
	if d.neg {
		return -mag
	}
	return mag
}
