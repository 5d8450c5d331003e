package diagnose

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

const (
	acct      = "111111111111"
	other     = "222222222222"
	roleARN   = "arn:aws:iam::111111111111:role/service-role/RequestRole"
	session   = "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction"
	targetARN = "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction"
)

func doc(statements ...string) json.RawMessage {
	return json.RawMessage(`{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`)
}

func allow(action, resource string) string {
	return fmt.Sprintf(`{"Effect":"Allow","Action":%q,"Resource":%q}`, action, resource)
}

// scenario builds evidence for a role session calling the target.
func scenario(resource string, identity ...json.RawMessage) *evidence.Evidence {
	ev := &evidence.Evidence{
		Version: 1,
		Request: evidence.Request{Caller: session, Action: "lambda:InvokeFunction", Resource: resource},
		Caller:  evidence.Caller{ARN: roleARN, Account: acct},
		Target:  evidence.Target{ARN: targetARN, Account: acct},
	}
	for i, d := range identity {
		ev.Caller.IdentityPolicies = append(ev.Caller.IdentityPolicies, evidence.NamedPolicy{Name: fmt.Sprintf("Inline%d", i), Document: d})
	}
	return ev
}

func withResourcePolicy(ev *evidence.Evidence, statements ...string) *evidence.Evidence {
	ev.Target.ResourcePolicy = &evidence.NamedPolicy{Name: "ProcessorFunction", Document: doc(statements...)}
	return ev
}

// TestNearMissesAndVerifiedFixes covers each kind of near miss: the verdict
// must say in words what failed, and every fix it shows must make the
// request allowed when applied to the evidence, while a call to another
// function or another action stays as it was.
func TestNearMissesAndVerifiedFixes(t *testing.T) {
	cases := []struct {
		name    string
		ev      *evidence.Evidence
		blocked []policy.Layer
		says    []string // phrases the findings or reasons must contain
		noFix   bool     // nothing the user's account controls can fix it
	}{
		{"SCP reported by the simulator",
			func() *evidence.Evidence {
				ev := scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN)))
				no := false
				ev.Simulation = &evidence.Simulation{Decision: "implicitDeny", AllowedByOrganizations: &no}
				return ev
			}(),
			[]policy.Layer{policy.LayerSCP}, []string{"management account", "account 111111111111"}, true},
		{"boundary reported by the simulator",
			func() *evidence.Evidence {
				ev := scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN)))
				ev.Caller.PermissionsBoundary = &evidence.NamedPolicy{Name: "Boundary", ARN: "arn:aws:iam::111111111111:policy/Boundary", Document: doc(allow("logs:*", "*"))}
				no := false
				ev.Simulation = &evidence.Simulation{Decision: "implicitDeny", AllowedByPermissionsBoundary: &no}
				return ev
			}(),
			[]policy.Layer{policy.LayerPermissionsBoundary}, []string{"aws iam get-role --role-name RequestRole", "platform or security team"}, false},
		{"alias call, unqualified grant",
			scenario(targetARN+":live", doc(allow("lambda:InvokeFunction", targetARN))),
			[]policy.Layer{policy.LayerIdentity}, []string{"unqualified function ARN", "not the qualified call to :live"}, false},
		{"version call, unqualified grant",
			scenario(targetARN+":3", doc(allow("lambda:InvokeFunction", targetARN))),
			[]policy.Layer{policy.LayerIdentity}, []string{"qualified call to :3"}, false},
		{"$LATEST call, unqualified grant",
			scenario(targetARN+":$LATEST", doc(allow("lambda:InvokeFunction", targetARN))),
			[]policy.Layer{policy.LayerIdentity}, []string{"qualified call to :$LATEST"}, false},
		{"unqualified call, :* grant",
			scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN+":*"))),
			[]policy.Layer{policy.LayerIdentity}, []string{"covers only qualified calls"}, false},
		{"wrong region",
			scenario(targetARN, doc(allow("lambda:InvokeFunction", "arn:aws:lambda:us-west-2:111111111111:function:ProcessorFunction"))),
			[]policy.Layer{policy.LayerIdentity}, []string{`names region "us-west-2"`}, false},
		{"wrong account",
			scenario(targetARN, doc(allow("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:333333333333:function:ProcessorFunction"))),
			[]policy.Layer{policy.LayerIdentity}, []string{`names account "333333333333"`}, false},
		{"wrong partition",
			scenario(targetARN, doc(allow("lambda:InvokeFunction", "arn:aws-cn:lambda:us-east-1:111111111111:function:ProcessorFunction"))),
			[]policy.Layer{policy.LayerIdentity}, []string{`names partition "aws-cn"`}, false},
		{"near spelling of the name",
			scenario(targetARN, doc(allow("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:111111111111:function:ProcesorFunction"))),
			[]policy.Layer{policy.LayerIdentity}, []string{`"function:ProcesorFunction"`}, false},
		{"name differs in case",
			scenario(targetARN, doc(allow("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:111111111111:function:processorfunction"))),
			[]policy.Layer{policy.LayerIdentity}, []string{"only in letter case"}, false},
		{"misspelled action",
			scenario(targetARN, doc(allow("lambda:InvokeFunctions", targetARN))),
			[]policy.Layer{policy.LayerIdentity}, []string{"did you mean lambda:InvokeFunction"}, false},
		{"InvokeAsync for a synchronous invoke",
			scenario(targetARN, doc(allow("lambda:InvokeAsync", targetARN))),
			[]policy.Layer{policy.LayerIdentity}, []string{"lambda:InvokeAsync"}, false},
		{"function URL without InvokeFunction",
			func() *evidence.Evidence {
				ev := scenario(targetARN, doc(allow("lambda:InvokeFunctionUrl", targetARN)))
				ev.Request.Action = "lambda:InvokeFunctionUrl"
				return ev
			}(),
			[]policy.Layer{policy.LayerIdentity}, []string{"needs lambda:InvokeFunction as well as lambda:InvokeFunctionUrl"}, false},
		{"service principal grant for a role session",
			withResourcePolicy(scenario(targetARN+":live", doc(allow("lambda:InvokeFunction", targetARN))),
				`{"Sid":"p","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"`+targetARN+`","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:lambda:us-east-1:111111111111:function:RequestFunction"}}}`),
			[]policy.Layer{policy.LayerIdentity}, []string{"a service principal never matches", "which is absent from this request", "a resource-based policy is needed only for other accounts", "never in an SDK call"}, false},
		{"condition value mismatch",
			func() *evidence.Evidence {
				ev := scenario(targetARN, doc(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"`+targetARN+`","Condition":{"StringEquals":{"aws:PrincipalTag/team":"payments"}}}`))
				ev.Caller.Tags = map[string]string{"team": "checkout"}
				return ev
			}(),
			// A grant without the tag condition would drop the guardrail the
			// user did not ask about: the verdict names the condition, and
			// no fix is proposed.
			[]policy.Layer{policy.LayerIdentity}, []string{"wants payments, the request has checkout"}, true},
		{"boundary blocks an identity allow",
			func() *evidence.Evidence {
				ev := scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN)))
				ev.Caller.PermissionsBoundary = &evidence.NamedPolicy{Name: "Boundary", ARN: "arn:aws:iam::111111111111:policy/Boundary", Document: doc(allow("logs:*", "*"))}
				return ev
			}(),
			[]policy.Layer{policy.LayerPermissionsBoundary}, []string{"no permissions boundary allows"}, false},
		{"resource grant to the role ARN is limited by the boundary",
			func() *evidence.Evidence {
				ev := withResourcePolicy(scenario(targetARN), `{"Effect":"Allow","Principal":{"AWS":"`+roleARN+`"},"Action":"lambda:InvokeFunction","Resource":"`+targetARN+`"}`)
				ev.Caller.PermissionsBoundary = &evidence.NamedPolicy{Name: "Boundary", Document: doc(allow("logs:*", "*"))}
				return ev
			}(),
			[]policy.Layer{policy.LayerPermissionsBoundary}, []string{"names the role ARN", "the session ARN would not be"}, false},
		{"account root in the resource policy, no identity allow",
			withResourcePolicy(scenario(targetARN), `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"lambda:InvokeFunction","Resource":"`+targetARN+`"}`),
			[]policy.Layer{policy.LayerIdentity}, []string{"names the account", "delegates"}, false},
		{"recreated role: the policy kept its unique ID",
			withResourcePolicy(scenario(targetARN), `{"Effect":"Allow","Principal":{"AWS":"AROAEXAMPLEUNIQUEID1"},"Action":"lambda:InvokeFunction","Resource":"`+targetARN+`"}`),
			[]policy.Layer{policy.LayerIdentity}, []string{"is a unique ID", "was deleted"}, false},
		{"cross account, only the identity side allows",
			func() *evidence.Evidence {
				ev := scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN)))
				ev.Request.Caller = "arn:aws:sts::222222222222:assumed-role/RequestRole/RequestFunction"
				ev.Caller.ARN, ev.Caller.Account = "arn:aws:iam::222222222222:role/RequestRole", other
				return ev
			}(),
			[]policy.Layer{policy.LayerResource}, []string{"crosses accounts"}, false},
		{"cross account, only the resource side allows",
			func() *evidence.Evidence {
				ev := withResourcePolicy(scenario(targetARN), `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/RequestRole"},"Action":"lambda:InvokeFunction","Resource":"`+targetARN+`"}`)
				ev.Request.Caller = "arn:aws:sts::222222222222:assumed-role/RequestRole/RequestFunction"
				ev.Caller.ARN, ev.Caller.Account = "arn:aws:iam::222222222222:role/RequestRole", other
				return ev
			}(),
			[]policy.Layer{policy.LayerIdentity}, []string{"both sides must allow"}, false},
		{"explicit deny",
			scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN)), doc(`{"Sid":"NoInvoke","Effect":"Deny","Action":"lambda:Invoke*","Resource":"*"}`)),
			[]policy.Layer{policy.LayerIdentity}, []string{"explicit Deny", "Action lambda:Invoke* covers lambda:InvokeFunction", "looks deliberate"}, false},
		{"service principal with a wrong source ARN",
			func() *evidence.Evidence {
				ev := withResourcePolicy(scenario(targetARN), `{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"`+targetARN+`","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::uploads-staging"}}}`)
				ev.Request.Caller = "s3.amazonaws.com"
				ev.Request.Context = evidence.ContextValues{"aws:SourceArn": {"arn:aws:s3:::uploads-prod"}, "aws:SourceAccount": {acct}}
				ev.Caller = evidence.Caller{}
				return ev
			}(),
			[]policy.Layer{policy.LayerResource}, []string{"wants arn:aws:s3:::uploads-staging, the request has arn:aws:s3:::uploads-prod"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Diagnose(c.ev, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			if v.Decision == policy.Allowed {
				t.Fatalf("allowed: %s", v.Summary)
			}
			for _, l := range c.blocked {
				if !contains(v.BlockedBy, l) {
					t.Errorf("blockedBy %v, want %s among them", v.BlockedBy, l)
				}
			}
			text := verdictText(v)
			for _, phrase := range c.says {
				if !strings.Contains(text, phrase) {
					t.Errorf("the verdict does not say %q:\n%s", phrase, text)
				}
			}
			fixes := 0
			for _, f := range v.Findings {
				for _, fix := range f.Fixes {
					fixes++
					checkFix(t, c.ev, fix)
				}
			}
			if fixes == 0 && !c.noFix {
				t.Errorf("no fix proposed")
			}
			if fixes > 0 && c.noFix {
				t.Errorf("a fix proposed where none can work")
			}
		})
	}
}

// checkFix applies a fix to the evidence and diagnoses again: the request
// must be allowed; another function and another action must be as they
// were before the fix (a Deny exemption may widen, and must say so).
func checkFix(t *testing.T, ev *evidence.Evidence, fix Fix) {
	t.Helper()
	if !fix.Verified || len(fix.Changes) == 0 || fix.Statement == "" {
		t.Errorf("fix %q: verified=%v changes=%d", fix.Description, fix.Verified, len(fix.Changes))
		return
	}
	fixed, err := evidence.Apply(ev, fix.Changes)
	if err != nil {
		t.Fatalf("fix %q does not apply: %v", fix.Description, err)
	}
	if v, err := Diagnose(fixed, testOptions); err != nil || v.Decision != policy.Allowed {
		t.Errorf("fix %q leaves the request %v (%v)", fix.Description, v.Decision, err)
	}
	for _, probe := range []func(*evidence.Evidence){
		func(e *evidence.Evidence) {
			e.Request.Resource = strings.Replace(e.Request.Resource, "ProcessorFunction", "BillingFunction", 1)
		},
		func(e *evidence.Evidence) { e.Request.Action = "lambda:DeleteFunction" },
	} {
		before, after := *ev, *fixed
		probe(&before)
		probe(&after)
		vb, _ := Diagnose(&before, testOptions)
		va, _ := Diagnose(&after, testOptions)
		if vb.Decision != policy.Allowed && va.Decision == policy.Allowed && fix.Caveat == "" {
			t.Errorf("fix %q also allows %s on %s", fix.Description, after.Request.Action, after.Request.Resource)
		}
	}
	for _, c := range fix.Changes {
		for _, bad := range []string{`"Resource":"*"`, `"lambda:*"`, `"Principal":"*"`} {
			if strings.Contains(string(c.Document), bad) {
				t.Errorf("fix %q proposes %s", fix.Description, bad)
			}
		}
	}
}

func contains(ls []policy.Layer, l policy.Layer) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

// verdictText gathers every sentence the verdict shows.
func verdictText(v *Verdict) string {
	var b strings.Builder
	b.WriteString(v.Summary + "\n")
	for _, l := range v.Layers {
		for _, st := range l.Statements {
			for _, r := range st.Reasons {
				b.WriteString(r + "\n")
			}
		}
	}
	for _, f := range v.Findings {
		b.WriteString(f.Message + "\n")
		for _, fix := range f.Fixes {
			b.WriteString(fix.Description + "\n")
		}
	}
	return b.String()
}

// A function URL call needs lambda:InvokeFunctionUrl with the URL's auth
// type, and lambda:InvokeFunction marked as via the URL: a resource policy
// made by add-permission with --function-url-auth-type and
// --invoked-via-function-url allows a cross-account URL call.
func TestFunctionURLPermissions(t *testing.T) {
	ev := scenario(targetARN, doc(`{"Effect":"Allow","Action":["lambda:InvokeFunctionUrl","lambda:InvokeFunction"],"Resource":"`+targetARN+`"}`))
	ev.Request.Action = "lambda:InvokeFunctionUrl"
	ev.Request.Caller = "arn:aws:sts::222222222222:assumed-role/RequestRole/RequestFunction"
	ev.Caller.ARN, ev.Caller.Account = "arn:aws:iam::222222222222:role/RequestRole", other
	ev.Target.FunctionURLAuthType = "AWS_IAM"
	urlOnly := `{"Sid":"url","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/RequestRole"},"Action":"lambda:InvokeFunctionUrl","Resource":"` + targetARN + `","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}}`
	viaURL := `{"Sid":"via","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/RequestRole"},"Action":"lambda:InvokeFunction","Resource":"` + targetARN + `","Condition":{"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}}`

	v, err := Diagnose(withResourcePolicy(ev, urlOnly, viaURL), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if v.Decision != policy.Allowed {
		t.Fatalf("both URL permissions present: %s (%v): %s", v.Decision, v.BlockedBy, v.Summary)
	}

	v, err = Diagnose(withResourcePolicy(ev, urlOnly), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if v.Decision != policy.ImplicitDeny || !contains(v.BlockedBy, policy.LayerResource) {
		t.Fatalf("InvokeFunction permission missing: %s (%v)", v.Decision, v.BlockedBy)
	}
	for _, l := range v.Layers {
		if l.Layer == policy.LayerResource && !l.Blocks {
			t.Errorf("the resource layer blocks (blockedBy) but its row says it does not")
		}
	}
	found := false
	for _, f := range v.Findings {
		if f.Kind == "qualifiedCallsDenied" {
			t.Errorf("an allowed-call warning under a denial: %s", f.Message)
		}
		for _, fix := range f.Fixes {
			found = true
			if !strings.Contains(fix.CLI, "--invoked-via-function-url") {
				t.Errorf("fix does not limit InvokeFunction to URL calls: %s", fix.CLI)
			}
			checkFix(t, withResourcePolicy(ev, urlOnly), fix)
		}
	}
	if !found {
		t.Error("no fix proposed")
	}
}
