package accessdenied

import (
	"strings"
	"testing"
)

// The next steps are commands a user pastes into a shell; the message's
// caller, resource and policy ARN are whatever its writer chose. Each
// value is one single-quoted word, never shell syntax.
func TestNextStepsQuoteTheMessagesValues(t *testing.T) {
	const v = "a;touch${IFS}x;#"
	for name, msg := range map[string]string{
		"role":      "User: arn:aws:sts::111111111111:assumed-role/" + v + "/s is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:F because no identity-based policy allows the lambda:InvokeFunction action",
		"user":      "User: arn:aws:iam::111111111111:user/" + v + " is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:F because no permissions boundary allows the lambda:InvokeFunction action",
		"qualifier": "User: arn:aws:iam::111111111111:user/u is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:F:" + v + " because no resource-based policy allows the lambda:InvokeFunction action",
		"policy":    "User: arn:aws:iam::111111111111:user/u is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:F with an explicit deny in an identity-based policy: arn:aws:iam::111111111111:policy/" + v,
	} {
		t.Run(name, func(t *testing.T) {
			d, err := ParseDenial(msg)
			if err != nil {
				t.Fatal(err)
			}
			carried := false
			for _, s := range Explain(d).NextSteps {
				if !strings.Contains(s, v) {
					continue
				}
				carried = true
				// Outside single quotes the value's ; would end the command.
				if unquotedContains(s, ";") {
					t.Errorf("next step %q has the value outside single quotes", s)
				}
			}
			if !carried {
				t.Errorf("no next step names %q: %q", v, Explain(d).NextSteps)
			}
		})
	}
}

// unquotedContains reports whether sub occurs in s outside single quotes,
// before a comment.
func unquotedContains(s, sub string) bool {
	parts := strings.Split(s, "'")
	for i := 0; i < len(parts); i += 2 {
		p, _, _ := strings.Cut(parts[i], "#")
		if strings.Contains(p, sub) {
			return true
		}
		if strings.Contains(parts[i], "#") {
			return false
		}
	}
	return false
}
