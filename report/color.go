package report

import "strings"

// ANSI SGR sequences: the verdict and the blocking layer stand out on a
// terminal. The command decides whether color is on (a terminal, --color,
// NO_COLOR); JSON never has any.
const (
	sgrRed    = "\x1b[1;31m"
	sgrGreen  = "\x1b[1;32m"
	sgrYellow = "\x1b[1;33m"
	sgrBold   = "\x1b[1m"
	sgrReset  = "\x1b[0m"
)

// paint wraps each line of s in sgr, when color is on: a table cell is
// drawn line by line, and a sequence open across lines would color the
// borders.
func (o Options) paint(sgr, s string) string {
	if !o.Color || s == "" {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = sgr + l + sgrReset
		}
	}
	return strings.Join(lines, "\n")
}

// verdictColor is the color of a summary by its first word: DENIED red,
// ALLOWED green, UNKNOWN yellow.
func verdictColor(summary string) string {
	switch {
	case strings.HasPrefix(summary, "DENIED"):
		return sgrRed
	case strings.HasPrefix(summary, "ALLOWED"):
		return sgrGreen
	case strings.HasPrefix(summary, "UNKNOWN"):
		return sgrYellow
	}
	return sgrBold
}

// verdictLine is the summary folded to the width, its verdict word in
// color. A denial is not folded: its first line names every blocking layer
// ("DENIED (implicitDeny) by the identity-based policy and the permissions
// boundary"), so head -1 gives the whole verdict.
func (o Options) verdictLine(summary string) string {
	text := summary
	if !strings.HasPrefix(summary, "DENIED") {
		text = wrap("", "  ", summary, o.width())
	}
	if !o.Color {
		return text
	}
	n := strings.IndexAny(text, " \n")
	if n < 0 {
		n = len(text)
	}
	return o.paint(verdictColor(summary), text[:n]) + text[n:]
}
