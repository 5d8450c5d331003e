package accessdenied

import (
	"regexp"
	"strings"

	"github.com/why-denied/why-denied/arn"
)

// spaceMark stands for a space inside a redaction placeholder such as
// "[account id]" or "<arn here>" while the message is split into words, so
// that the placeholder stays one word; it is a space again in every field.
const spaceMark = "\ue000"

var (
	// Escapes of JSON strings and of logs that print them: a CloudWatch
	// Logs line holding a Step Functions cause holds a JSON string twice.
	jsonEscapes = strings.NewReplacer(`\"`, `"`, `\n`, "\n", `\t`, " ", `\r`, "", `\/`, "/", `\\`, `\`)
	// Terraform draws its diagnostics in a box: "╷", "│ Error: ...", "╵".
	boxPrefix = regexp.MustCompile(`^\s*[│╷╵┃|]\s?`)
	// A placeholder with spaces in it: [account id], {Account ID}, <arn here>.
	spacedPlaceholderRE = regexp.MustCompile(`<[A-Za-z][\w .-]{0,40}>|\[[A-Za-z][\w .-]{0,40}\]|\{[A-Za-z][\w .-]{0,40}\}`)
	// Words that follow an ARN in AWS's sentences: a line starting with
	// one of them does not continue an ARN wrapped at the line before.
	afterARNWords = map[string]bool{"because": true, "with": true, "is": true, "on": true, "for": true, "and": true,
		"or": true, "Go": true, "(Service:": true, "status": true, "(RequestToken:": true}
)

// normalize turns a pasted message into one line of words: JSON escapes
// undone, Terraform's box removed, an ARN that a terminal wrapped over two
// lines joined back, spaces inside placeholders marked, whitespace folded.
func normalize(msg string) string {
	msg = strings.ReplaceAll(msg, spaceMark, "")
	for range 3 {
		next := jsonEscapes.Replace(msg)
		if next == msg {
			break
		}
		msg = next
	}
	lines := strings.Split(strings.ReplaceAll(msg, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = boxPrefix.ReplaceAllString(l, "")
	}
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			if joinsWrappedARN(lines[i-1], l) {
				b.WriteString(strings.TrimLeft(l, " \t"))
				continue
			}
			b.WriteByte(' ')
		}
		b.WriteString(l)
	}
	s := spacedPlaceholderRE.ReplaceAllStringFunc(b.String(), func(p string) string {
		return strings.Join(strings.Fields(p), spaceMark)
	})
	return strings.Join(strings.Fields(s), " ")
}

// joinsWrappedARN reports whether line next continues an ARN that line
// prev ends with: the ARN is incomplete as it stands (too few fields, or
// ending in "-", ":" or "/" mid-field) and next starts with a word that is
// not AWS's prose after an ARN.
func joinsWrappedARN(prev, next string) bool {
	if strings.HasSuffix(prev, " ") || strings.HasSuffix(prev, "\t") {
		return false // a break between words, not inside one
	}
	f := strings.Fields(prev)
	if len(f) == 0 || strings.HasPrefix(next, " ") && len(strings.TrimLeft(next, " ")) == 0 {
		return false
	}
	last := strings.TrimLeft(f[len(f)-1], quoteChars+"([{")
	if !arn.CutOff(last) {
		return false
	}
	first, _, _ := strings.Cut(strings.TrimLeft(next, " \t"), " ")
	return first != "" && !afterARNWords[first] && !strings.HasPrefix(first, "arn:")
}

// unmark puts back the spaces of placeholders.
func unmark(s string) string { return strings.ReplaceAll(s, spaceMark, " ") }
