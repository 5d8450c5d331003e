package policy

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the parser and evaluates whatever
// parses: no input may panic. Seeds: testdata/fuzz/FuzzParse and every
// policy of the corpus.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/*.json")
	for _, file := range files {
		c, err := loadCase(file)
		if err != nil {
			continue
		}
		for _, raw := range c.Policies.Identity {
			f.Add([]byte(raw))
		}
		if !isNull(c.Policies.Resource) {
			f.Add([]byte(c.Policies.Resource))
		}
	}
	if data, err := os.ReadFile("testdata/corpus/README.md"); err == nil {
		f.Add(data)
	}
	req := Request{
		Principal:    "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction",
		PrincipalARN: "arn:aws:iam::111111111111:role/service-role/RequestRole",
		Action:       "lambda:InvokeFunction",
		Resource:     "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live",
		Context: Context{
			"aws:SourceArn":         {"arn:aws:s3:::bucket"},
			"aws:PrincipalTag/team": {"a", "b"},
			"aws:username":          {"alice"},
		},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		n := Named{Name: "fuzz", Policy: p}
		res := Evaluate(&Input{Request: req, Identity: []Named{n}, Resource: &n, PermissionsBoundary: &n, SessionPolicies: []Named{n}, SCPs: [][]Named{{n}}, RCPs: [][]Named{{n}}})
		switch res.Decision {
		case Allowed, ImplicitDeny, ExplicitDeny:
		default:
			t.Fatalf("decision %q", res.Decision)
		}
	})
}
