package accessdenied

import (
	"strings"
	"testing"
	"time"
)

// Hostile shapes of pasted text end within a second each: a token of
// closing brackets, many wrapped lines, many words before the sentence,
// many CloudTrail records, escapes, placeholders.
func TestParseDenialHostileInputIsFast(t *testing.T) {
	for name, msg := range map[string]string{
		"parens":   "User: x is not authorized to perform: a:b on resource: arn:" + strings.Repeat(")", 1<<19),
		"colons":   "User: x is not authorized to perform: a:b on resource: arn:" + strings.Repeat(":", 1<<19),
		"lines":    strings.Repeat("arn:aws\n", 1<<16) + " is not authorized to perform",
		"callers":  strings.Repeat("A ", 1<<18) + "is not authorized to perform: a:b",
		"json":     "{\"Records\":[" + strings.Repeat("{\"eventName\":\"x\",\"eventSource\":\"y\"},", 1<<14) + "{}]}",
		"escapes":  strings.Repeat(`\\\\\\\\"`, 1<<16),
		"brackets": "User: " + strings.Repeat("[a b]", 1<<16) + " is not authorized to perform: a:b",
	} {
		start := time.Now()
		d, err := ParseDenial(msg)
		if err == nil {
			Explain(d)
		}
		if el := time.Since(start); el > time.Second {
			t.Errorf("%s: %v, want under a second", name, el)
		}
	}
}
