package diagnose

import (
	"strings"
	"testing"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

func unreadable(ev *evidence.Evidence, l policy.Layer, what, action string) *evidence.Evidence {
	ev.Unreadable = append(ev.Unreadable, evidence.Unreadable{Layer: l, What: what, Action: action, Error: "AccessDeniedException"})
	return ev
}

// TestPartialEvidence: when the tool cannot read a policy, the verdict
// decides only what the readable layers settle, names the permission it
// needs, and never guesses.
func TestPartialEvidence(t *testing.T) {
	yes := true
	cases := []struct {
		name     string
		ev       *evidence.Evidence
		decision policy.Decision
		says     []string
	}{
		{"identity allows, resource policy unreadable, one account",
			unreadable(scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN))), policy.LayerResource, "the resource policy of ProcessorFunction", "lambda:GetPolicy"),
			DecisionUnknown, []string{"allow the call, unless the resource policy of ProcessorFunction has a Deny", "lambda:GetPolicy"}},
		{"explicit deny found, resource policy unreadable",
			unreadable(scenario(targetARN, doc(`{"Effect":"Deny","Action":"lambda:*","Resource":"*"}`)), policy.LayerResource, "the resource policy of ProcessorFunction", "lambda:GetPolicy"),
			policy.ExplicitDeny, []string{"explicit Deny", "lambda:GetPolicy"}},
		{"no identity allow, resource policy unreadable, one account",
			unreadable(scenario(targetARN, doc(allow("s3:GetObject", "*"))), policy.LayerResource, "the resource policy of ProcessorFunction", "lambda:GetPolicy"),
			DecisionUnknown, []string{"deny the call", "unless it is allowed by the resource policy of ProcessorFunction"}},
		{"identity policy unreadable, the simulator answered",
			func() *evidence.Evidence {
				ev := unreadable(scenario(targetARN), policy.LayerIdentity, "inline policy Inline0 of role RequestRole", "iam:GetRolePolicy")
				ev.Simulation = &evidence.Simulation{Decision: "allowed", AllowedByPermissionsBoundary: &yes}
				return ev
			}(),
			policy.Allowed, []string{"iam:GetRolePolicy", "simulator answered for this layer"}},
		{"identity policy unreadable, no simulator, resource grants the session",
			unreadable(withResourcePolicy(scenario(targetARN), `{"Effect":"Allow","Principal":{"AWS":"`+session+`"},"Action":"lambda:InvokeFunction","Resource":"`+targetARN+`"}`),
				policy.LayerIdentity, "inline policy Inline0 of role RequestRole", "iam:GetRolePolicy"),
			DecisionUnknown, []string{"unless inline policy Inline0 of role RequestRole has a Deny"}},
		{"cross account, the other account's resource policy unreadable",
			func() *evidence.Evidence {
				ev := scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN)))
				ev.Request.Caller = "arn:aws:sts::222222222222:assumed-role/RequestRole/RequestFunction"
				ev.Caller.ARN, ev.Caller.Account = "arn:aws:iam::222222222222:role/RequestRole", other
				return unreadable(ev, policy.LayerResource, "the resource policy of ProcessorFunction", "lambda:GetPolicy")
			}(),
			DecisionUnknown, []string{"unless it is allowed by the resource policy of ProcessorFunction"}},
		{"boundary unreadable",
			func() *evidence.Evidence {
				ev := scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN)))
				return unreadable(ev, policy.LayerPermissionsBoundary, "the permissions boundary Boundary", "iam:GetPolicyVersion")
			}(),
			DecisionUnknown, []string{"iam:GetPolicyVersion"}},
		{"session policy unreadable",
			unreadable(scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN))), policy.LayerSessionPolicy, "the session policy", "sts:AssumeRole (session policies cannot be read)"),
			DecisionUnknown, []string{"session policy"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Diagnose(c.ev, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			if v.Decision != c.decision {
				t.Fatalf("decision %s, want %s: %s", v.Decision, c.decision, v.Summary)
			}
			text := verdictText(v)
			for _, phrase := range c.says {
				if !strings.Contains(text, phrase) {
					t.Errorf("the verdict does not say %q:\n%s", phrase, text)
				}
			}
			if v.Decision == DecisionUnknown {
				if len(v.UnknownLayers) == 0 {
					t.Error("no unknown layers named")
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

// The simulator can see a Deny the tool cannot (an unreadable policy, an
// SCP): the verdict is an explicit Deny naming what the simulator saw, and
// nothing crashes on the missing statement.
func TestSimulatorOnlyExplicitDeny(t *testing.T) {
	no := false
	for name, ev := range map[string]*evidence.Evidence{
		"identity policy unreadable": func() *evidence.Evidence {
			ev := unreadable(scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN))), policy.LayerIdentity, "managed policy DenyProd attached to role RequestRole", "iam:GetPolicyVersion")
			ev.Simulation = &evidence.Simulation{Decision: "explicitDeny", MatchedStatements: []evidence.MatchedStatement{{SourcePolicyID: "DenyProd", SourcePolicyType: "user-managed"}}}
			return ev
		}(),
		"SCP": func() *evidence.Evidence {
			ev := scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN)))
			ev.Simulation = &evidence.Simulation{Decision: "explicitDeny", AllowedByOrganizations: &no}
			return ev
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			v, err := Diagnose(ev, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			if v.Decision != policy.ExplicitDeny {
				t.Errorf("decision %s blocked by %v", v.Decision, v.BlockedBy)
			}
			if !strings.Contains(verdictText(v), "simulator reports an explicit Deny") {
				t.Errorf("the verdict does not say the simulator saw the Deny:\n%s", verdictText(v))
			}
		})
	}
}
