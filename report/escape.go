package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape makes s safe to print on a terminal: names, Sids and ARNs come
// from an account or a pasted message that someone else may have written,
// and control characters in them (ESC and CSI/OSC sequences, C1 controls,
// CR, BS, BEL, NUL, a newline that would forge a table row) or bidi
// overrides (U+202E) must not act on the terminal. Each is shown escaped,
// as \x1b or \u202e; invalid UTF-8 bytes as \xNN. Tabs become spaces.
// JSON output needs none of this: the encoder escapes what JSON must.
func Escape(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0, unsafeFormat(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

// EscapeLines is Escape for text whose newlines are meant: each line is
// escaped on its own.
func EscapeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = Escape(lines[i])
	}
	return strings.Join(lines, "\n")
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n <= 1) || (r >= 0x80 && r < 0xa0) || unsafeFormat(r) {
			return true
		}
		i += n
	}
	return false
}

// unsafeFormat reports format characters that change how a terminal
// shows text: bidi embeddings, overrides and isolates, zero-width and
// line/paragraph separators.
func unsafeFormat(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return unicode.Is(unicode.Cf, r) && r != 0x200d
}
