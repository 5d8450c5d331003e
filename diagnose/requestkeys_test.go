package diagnose

import (
	"slices"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// TestRequestTimeKeys: when the outcome turns on a key the real request
// carries but the tool cannot know (the caller's IP, its organization, the
// source of a service call), the decision is unknown and says which key to
// pass; with the key given, the verdict is definite again.
func TestRequestTimeKeys(t *testing.T) {
	s3Grant := `{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + targetARN + `","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::uploads"},"StringEquals":{"AWS:SourceAccount":"111111111111"}}}`
	service := func(ctx evidence.ContextValues) *evidence.Evidence {
		ev := withResourcePolicy(scenario(targetARN), s3Grant)
		ev.Request.Caller, ev.Caller = "s3.amazonaws.com", evidence.Caller{}
		ev.Request.Context = ctx
		return ev
	}
	ipDeny := doc(allow("lambda:InvokeFunction", targetARN), `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}`)
	orgGrant := func(ctx evidence.ContextValues) *evidence.Evidence {
		ev := withResourcePolicy(scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN))),
			`{"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"`+targetARN+`","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}`)
		ev.Request.Caller = "arn:aws:sts::222222222222:assumed-role/RequestRole/RequestFunction"
		ev.Caller.ARN, ev.Caller.Account = "arn:aws:iam::222222222222:role/RequestRole", other
		ev.Request.Context = ctx
		return ev
	}
	cases := []struct {
		name      string
		ev        *evidence.Evidence
		decision  policy.Decision
		dependsOn []string
	}{
		{"service call without its source", service(nil), DecisionUnknown, []string{"AWS:SourceAccount", "AWS:SourceArn"}},
		{"service call with its source", service(evidence.ContextValues{"aws:SourceArn": {"arn:aws:s3:::uploads"}, "aws:SourceAccount": {acct}}), policy.Allowed, nil},
		{"IP-conditioned Deny, IP unknown", scenario(targetARN, ipDeny), DecisionUnknown, []string{"aws:SourceIp"}},
		{"IP-conditioned Deny, IP inside", func() *evidence.Evidence {
			ev := scenario(targetARN, ipDeny)
			ev.Request.Context = evidence.ContextValues{"aws:SourceIp": {"203.0.113.9"}}
			return ev
		}(), policy.Allowed, nil},
		{"IP-conditioned Deny, IP outside", func() *evidence.Evidence {
			ev := scenario(targetARN, ipDeny)
			ev.Request.Context = evidence.ContextValues{"aws:SourceIp": {"192.0.2.1"}}
			return ev
		}(), policy.ExplicitDeny, nil},
		{"organization grant, organization unknown", orgGrant(nil), DecisionUnknown, []string{"aws:PrincipalOrgID"}},
		{"organization grant, organization given", orgGrant(evidence.ContextValues{"aws:PrincipalOrgID": {"o-abc123"}}), policy.Allowed, nil},
		{"a role session has no source: no doubt", withResourcePolicy(scenario(targetARN), strings.Replace(s3Grant, `{"Service":"s3.amazonaws.com"}`, `"*"`, 1)), policy.ImplicitDeny, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Diagnose(c.ev, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			if v.Decision != c.decision || !slices.Equal(v.DependsOn, c.dependsOn) {
				t.Fatalf("decision %s depending on %v, want %s depending on %v: %s", v.Decision, v.DependsOn, c.decision, c.dependsOn, v.Summary)
			}
			if c.decision == DecisionUnknown {
				if !strings.Contains(v.Summary, "pass it with") {
					t.Errorf("summary does not say how to pass the key: %s", v.Summary)
				}
				for _, f := range v.Findings {
					if len(f.Fixes) > 0 {
						t.Errorf("a fix proposed without a decision: %+v", f.Fixes)
					}
				}
			}
		})
	}
}

// A grant to S3 naming only the bucket is allowed but warned about: bucket
// ARNs carry no account.
func TestUnscopedServiceGrant(t *testing.T) {
	ev := withResourcePolicy(scenario(targetARN), `{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"`+targetARN+`","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::uploads"}}}`)
	ev.Request.Caller, ev.Caller = "s3.amazonaws.com", evidence.Caller{}
	ev.Request.Context = evidence.ContextValues{"aws:SourceArn": {"arn:aws:s3:::uploads"}, "aws:SourceAccount": {acct}}
	v, err := Diagnose(ev, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if v.Decision != policy.Allowed || !slices.ContainsFunc(v.Findings, func(f Finding) bool { return f.Kind == "unscopedServiceGrant" }) {
		t.Errorf("decision %s, findings %+v", v.Decision, v.Findings)
	}
}
