package template

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Templates built to be slow end quickly with one clear error.
func TestHostileTemplates(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := range 8 {
		name := string(rune('b' + i))
		laughs += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	deep := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	for name, src := range map[string]string{
		"alias expansion": laughs + "Resources: {A: {Type: AWS::SNS::Topic}}\n",
		"deep nesting":    "Resources: {A: {Type: AWS::SNS::Topic, Properties: {X: " + deep + "}}}\n",
	} {
		start := time.Now()
		_, err := Parse([]byte(src))
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line == 0 {
			t.Errorf("%s: got %v, want a ParseError naming a line", name, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %s", name, d)
		}
	}
}
