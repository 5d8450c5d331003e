package report

import (
	"strings"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// DefaultWidth is the width assumed when the output is not a terminal.
const DefaultWidth = 80

// minWidth keeps the layout sane in a terminal narrower than any ARN.
const minWidth = 40

// maxCell bounds what one table cell shows, in columns: a 100 KB policy
// name would otherwise pad every row of the table to its width. The full
// value is in the JSON output.
const maxCell = 200

// maxWord bounds one word of prose (a name inside a reason): AWS's own
// names and ARNs are far shorter (a role ARN is at most 2,048 characters
// with its path, a function ARN 140), so only hostile input is clipped.
const maxWord = 512

// width is the display width of s, in terminal columns (wide characters
// count two; ANSI color sequences none).
func width(s string) int { return twwidth.Width(s) }

// clip shortens s to at most max columns, ending it with an ellipsis.
func clip(s string, max int) string {
	if width(s) <= max {
		return s
	}
	return twwidth.Truncate(s, max-1) + "…"
}

// wrap folds s at spaces so that no line is wider than width columns: the
// first line starts with first, the others with rest. A word longer than a
// line is broken, after a ':' or '/' where there is one (ARNs break at their
// separators), and a word longer than maxWord is clipped.
func wrap(first, rest, s string, cols int) string {
	var b strings.Builder
	b.WriteString(first)
	col, lineStart := width(first), true
	avail := func() int { return cols - width(rest) }
	for _, word := range strings.Fields(s) {
		word = clip(word, maxWord)
		w := width(word)
		switch {
		case lineStart:
		case col+1+w <= cols:
			b.WriteByte(' ')
			col++
		default:
			b.WriteString("\n" + rest)
			col = width(rest)
		}
		lineStart = false
		// Break a word that does not fit on a line of its own.
		for col+w > cols && avail() > 10 {
			head, tail := breakWord(word, cols-col)
			if head == "" {
				b.WriteString("\n" + rest)
				col = width(rest)
				head, tail = breakWord(word, cols-col)
			}
			b.WriteString(head + "\n" + rest)
			col = width(rest)
			word, w = tail, width(tail)
		}
		b.WriteString(word)
		col += w
	}
	return b.String()
}

// breakWord splits word so that head fits in n columns, preferring to end
// head just after a ':' or '/' in its second half.
func breakWord(word string, n int) (head, tail string) {
	if n <= 0 {
		return "", word
	}
	cut, cols := 0, 0
	for i, r := range word {
		rw := width(string(r))
		if cols+rw > n {
			break
		}
		cols += rw
		cut = i + len(string(r))
	}
	if i := strings.LastIndexAny(word[:cut], ":/"); i >= 0 && i+1 > cut/2 && i+1 < len(word) {
		cut = i + 1
	}
	return word[:cut], word[cut:]
}

// wrapCell folds a table cell to cols columns, each of its lines on its
// own, after clipping it to maxCell columns.
func wrapCell(s string, cols int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = wrap("", "", clip(l, maxCell), cols)
	}
	return strings.Join(lines, "\n")
}

func indent(prefix, s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}
