package template

import (
	"os"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/policy"
)

func stackOf(t *testing.T, path string, s Settings) *Stack {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if s.Account == "" {
		s = Settings{Account: "123456789012", Region: "us-east-1", StackName: "st", Params: s.Params, Imports: s.Imports}
	}
	st, err := tpl.Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func decide(t *testing.T, st *Stack, p Pair) *diagnose.Verdict {
	t.Helper()
	action := p.Action
	if action == "" {
		action = "lambda:InvokeFunction"
	}
	ev, err := st.Evidence(p, action, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := diagnose.Diagnose(ev, diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Verdicts on corpus templates, each resting on a rule of SAM or AWS.
func TestVerdicts(t *testing.T) {
	for _, tc := range []struct {
		file string
		pair Pair
		want policy.Decision
	}{
		// Seed: the unqualified ARN covers only unqualified calls.
		{"01-seed.yaml", Pair{Caller: "RequestFunction", Target: "ProcessorFunction"}, policy.Allowed},
		{"01-seed.yaml", Pair{Caller: "RequestFunction", Target: "ProcessorFunction", Qualifier: "live"}, policy.ImplicitDeny},
		// LambdaInvokePolicy writes function:NAME*: aliases are covered.
		{"04-policy-templates.yaml", Pair{Caller: "A", Target: "B", Qualifier: "live"}, policy.Allowed},
		// Role given: SAM drops Policies (AWSLambdaRole would allow);
		// MyRole's own inline policy allows B unqualified.
		{"05-role-given.yaml", Pair{Caller: "A", Target: "B"}, policy.Allowed},
		// The boundary allows only logs:*: AWSLambdaRole's Allow is cut.
		{"06-boundary.yaml", Pair{Caller: "A", Target: "A"}, policy.ImplicitDeny},
		// S3 permissions are scoped by SourceAccount only.
		{"08-s3-event.yaml", Pair{Caller: "s3.amazonaws.com", Target: "A", Context: map[string][]string{"aws:SourceAccount": {"123456789012"}}}, policy.Allowed},
		{"08-s3-event.yaml", Pair{Caller: "s3.amazonaws.com", Target: "A", Context: map[string][]string{"aws:SourceAccount": {"999999999999"}}}, policy.ImplicitDeny},
		// With AutoPublishAlias the event's permission is on the alias.
		{"07-auto-publish-alias.yaml", Pair{Caller: "s3.amazonaws.com", Target: "A", Context: map[string][]string{"aws:SourceAccount": {"123456789012"}}}, policy.ImplicitDeny},
		{"07-auto-publish-alias.yaml", Pair{Caller: "s3.amazonaws.com", Target: "A", Qualifier: "live", Context: map[string][]string{"aws:SourceAccount": {"123456789012"}}}, policy.Allowed},
		// A public URL: anyone, through the URL only.
		{"16-url-none.yaml", Pair{Caller: "anonymous", Target: "A", Action: "lambda:InvokeFunctionUrl"}, policy.Allowed},
		{"17-url-iam.yaml", Pair{Caller: "anonymous", Target: "A", Action: "lambda:InvokeFunctionUrl"}, policy.ImplicitDeny},
		// A ScheduleV2 schedule's role may invoke its function.
		{"14-schedulev2.yaml", Pair{Caller: "ATickRole", Target: "A"}, policy.Allowed},
		// AWSLambda_FullAccess allows; the Deny on B:* wins for the alias.
		{"36-deny-and-allow.yaml", Pair{Caller: "A", Target: "B"}, policy.Allowed},
		{"36-deny-and-allow.yaml", Pair{Caller: "A", Target: "B", Qualifier: "live"}, policy.ExplicitDeny},
		// A literal name never equals the generated one.
		{"30-literal-name.yaml", Pair{Caller: "A", Target: "B"}, policy.ImplicitDeny},
		// Condition IsProd is false by default: A and its policy are gone.
		{"24-conditions.yaml", Pair{Caller: "B", Target: "B"}, policy.ImplicitDeny},
		// A parameter without a value: only its statement is unknown.
		{"34-parameters.yaml", Pair{Caller: "A", Target: "A"}, diagnose.DecisionUnknown},
	} {
		st := stackOf(t, "testdata/sam/"+tc.file, Settings{})
		if v := decide(t, st, tc.pair); v.Decision != tc.want {
			t.Errorf("%s %+v: %s, want %s (%s)", tc.file, tc.pair, v.Decision, tc.want, v.Summary)
		}
	}
}

// An unresolved Deny decides only when the rest allows; an unresolved
// Allow only when the rest denies.
func TestUnresolvedDecidesOnlyWhereItMatters(t *testing.T) {
	dir := t.TempDir()
	src := `Transform: AWS::Serverless-2016-10-31
Globals: {Function: {Runtime: python3.12, Handler: a.h, CodeUri: s3://b/c.zip}}
Resources:
  A:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - {Effect: Deny, Action: lambda:InvokeFunction, Resource: !ImportValue Blocked}
            - {Effect: Allow, Action: lambda:InvokeFunction, Resource: !GetAtt B.Arn}
  B:
    Type: AWS::Serverless::Function
  C:
    Type: AWS::Serverless::Function
`
	path := dir + "/t.yaml"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	st := stackOf(t, path, Settings{})
	if v := decide(t, st, Pair{Caller: "A", Target: "B"}); v.Decision != diagnose.DecisionUnknown || !strings.Contains(v.Summary, "pass --import Blocked=VALUE") {
		t.Errorf("A -> B: %s (%s), want unknown naming --import Blocked", v.Decision, v.Summary)
	}
	if v := decide(t, st, Pair{Caller: "A", Target: "C"}); v.Decision != policy.ImplicitDeny {
		t.Errorf("A -> C: %s (%s), want implicitDeny: the unresolved Deny cannot make it allowed", v.Decision, v.Summary)
	}
	st = stackOf(t, path, Settings{Imports: map[string]string{"Blocked": "arn:aws:lambda:us-east-1:123456789012:function:other"}})
	if v := decide(t, st, Pair{Caller: "A", Target: "B"}); v.Decision != policy.Allowed {
		t.Errorf("A -> B with the import: %s, want allowed", v.Decision)
	}
}

// The calls a template is built to make, found without being named.
func TestPairs(t *testing.T) {
	for file, want := range map[string][]string{
		"01-seed.yaml":                    {"RequestFunction>ProcessorFunction", "RequestFunction>ProcessorFunction:live"},
		"14-schedulev2.yaml":              {"ATickRole>A"},
		"16-url-none.yaml":                {"anonymous>A"},
		"20-connector-resource.yaml":      {"A>B", "A>B:live"},
		"22-globals-merge.yaml":           {"A>B", "A>B:local"},
		"40-connector-bucket-events.yaml": {"s3.amazonaws.com>A", "events.amazonaws.com>A"},
	} {
		st := stackOf(t, "testdata/sam/"+file, Settings{})
		var got []string
		for _, p := range st.Pairs() {
			s := p.Caller + ">" + p.Target
			if p.Qualifier != "" {
				s += ":" + p.Qualifier
			}
			got = append(got, s)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: pairs %v, want %v", file, got, want)
		}
	}
}
