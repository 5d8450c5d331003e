package diagnose

import (
	"strings"
	"testing"
)

// TestNearMissNamesEveryField: a grant that differs from the call in more
// than one ARN field is explained field by field, so that the user fixes
// all of them at once instead of finding the next one after a redeploy.
func TestNearMissNamesEveryField(t *testing.T) {
	euproc := "arn:aws:lambda:eu-west-1:111111111111:function:euproc"
	cases := []struct {
		name, grant, resource string
		says                  []string
	}{
		{"region and name",
			"arn:aws:lambda:us-east-1:111111111111:function:proc", euproc,
			[]string{`region "us-east-1"`, `function name "proc"`, `region "eu-west-1"`, `function name "euproc"`}},
		{"account and region",
			"arn:aws:lambda:us-east-1:333333333333:function:euproc", euproc,
			[]string{`region "us-east-1"`, `account "333333333333"`, `account "111111111111"`}},
		{"account, region and name",
			"arn:aws:lambda:us-east-1:333333333333:function:proc", euproc,
			[]string{`region "us-east-1"`, `account "333333333333"`, `function name "proc"`}},
		{"the closest of several grants is the one explained",
			"", euproc,
			[]string{`"function:proc"`, `"function:euproc"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			grant := allow("lambda:InvokeFunction", c.grant)
			if c.grant == "" {
				grant = `{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":["arn:aws:lambda:us-east-1:333333333333:function:other","arn:aws:lambda:eu-west-1:111111111111:function:proc"]}`
			}
			ev := scenario(c.resource, doc(grant))
			ev.Target.ARN = c.resource
			v, err := Diagnose(ev, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			text := verdictText(v)
			for _, phrase := range c.says {
				if !strings.Contains(text, phrase) {
					t.Errorf("the verdict does not say %q:\n%s", phrase, text)
				}
			}
		})
	}
}
