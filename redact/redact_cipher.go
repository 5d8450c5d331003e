package redact

// Names are replaced character by character, not name by name, because the
// engine compares them with wildcards, sometimes ignoring case: a one-to-one
// substitution that keeps case and keeps digits digits answers those
// comparisons on the copy as on the original (see Redact). What text
// replaced is remembered, so that free text names the same parties and the
// collision check can see every replacement.

import (
	"regexp"
	"strings"
)

// text replaces every ASCII letter and digit of s, keeping policy variables
// (but replacing their default values) and $LATEST.
func (r *redactor) text(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$LATEST"), strings.HasPrefix(s[i:], "${$}LATEST"):
			// The version qualifier, also spelled with ${$} for its dollar.
			n := strings.Index(s[i:], "LATEST") + len("LATEST")
			b.WriteString(s[i : i+n])
			i += n
		case strings.HasPrefix(s[i:], "${") && strings.IndexByte(s[i:], '}') > 0:
			j := i + strings.IndexByte(s[i:], '}') + 1
			b.WriteString(r.variable(s[i:j]))
			i = j
		default:
			b.WriteByte(r.char(s[i]))
			i++
		}
	}
	out := b.String()
	r.learn(s, out)
	return out
}

// variable keeps a policy variable's key and replaces its default value
// ("${aws:username, 'anonymous'}"): the default takes the place of a name.
func (r *redactor) variable(v string) string {
	inner := v[2 : len(v)-1]
	comma := strings.IndexByte(inner, ',')
	if comma < 0 {
		return v
	}
	tail := inner[comma+1:]
	d := strings.TrimSpace(tail)
	if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
		return v
	}
	red := "'" + r.text(d[1:len(d)-1]) + "'"
	return "${" + inner[:comma+1] + strings.Replace(tail, d, red, 1) + "}"
}

// char applies the key to one byte. Anything but an ASCII letter or digit
// (separators, wildcards, punctuation) stands for itself.
func (r *redactor) char(c byte) byte {
	switch {
	case 'a' <= c && c <= 'z':
		return r.lower[c-'a']
	case 'A' <= c && c <= 'Z':
		return r.lower[c-'A'] - 'a' + 'A'
	case '0' <= c && c <= '9':
		return r.digit[c-'0']
	}
	return c
}

// nameWord matches the words names are made of (IAM name characters, no
// separators), to remember them for free text and the collision check.
var nameWord = regexp.MustCompile(`[A-Za-z0-9_+=.@-]+`)

// learn records the words of s that text replaced. The replacement keeps
// lengths, so the words of out are at the same places.
func (r *redactor) learn(s, out string) {
	if s == out {
		return
	}
	for _, loc := range nameWord.FindAllStringIndex(s, -1) {
		w, red := s[loc[0]:loc[1]], out[loc[0]:loc[1]]
		if w != red {
			r.words[w] = red
		}
	}
}
