package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const seedTemplate = "../../fixtures/sam-seed-template.yaml"

// The seed case before deploy: the alias call is denied by the identity
// policy, the Lambda permission for lambda.amazonaws.com is named as not
// helping, and the fix is written for the template.
func TestTemplateSeedAliasDenied(t *testing.T) {
	code, out, _ := execute(t, nil, "template", "-t", seedTemplate, "RequestFunction", "ProcessorFunction:live")
	if code != exitDenied {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		"DENIED (implicitDeny) by the identity-based policy",
		"RequestFunction (line 21): RequestFunctionRolePolicy0 grants only ProcessorFunction's unqualified ARN, but ProcessorFunction has AutoPublishAlias live",
		"ProcessorFunctionPermission (line 32): ProcessorFunctionPermission grants the service principal lambda.amazonaws.com, which a call from RequestFunction never matches",
		`- !Sub "${ProcessorFunction.Arn}:live"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
}

func TestTemplateSeedUnqualifiedAllowed(t *testing.T) {
	code, out := summaryOf(t, "template", "-t", seedTemplate, "RequestFunction", "ProcessorFunction")
	if code != exitAllowed || !strings.HasPrefix(out, "ALLOWED: arn:aws:sts::123456789012:assumed-role/STACK-RequestFunctionRole-<generated>/STACK-RequestFunction-<generated> may call lambda:InvokeFunction") {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
}

// Without CALLER and TARGET: one line per call found, the worst exit.
func TestTemplatePairsWorstExit(t *testing.T) {
	code, out, _ := execute(t, nil, "template", "-t", seedTemplate)
	if code != exitDenied {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "RequestFunction -> ProcessorFunction  allowed  ALLOWED") {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.Contains(out, "RequestFunction -> ProcessorFunction:live  implicitDeny  DENIED (implicitDeny) by the identity-based policy") {
		t.Errorf("no line for the alias call\n%s", out)
	}
}

// Malformed templates: one line naming the line and column, exit 2.
func TestTemplateMalformed(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ src, want string }{
		"bad-indent.yaml": {"Resources:\n  A:\n    Type: AWS::Lambda::Function\n   Properties: {}\n", "line 4, column"},
		"bad-tag.yaml":    {"Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Bogus x\n", "line 5, column 18: unknown tag !Bogus"},
		"bad.json":        {"{\"Resources\": {\"A\": }", "line 1, column"},
		"no-type.yaml":    {"Resources:\n  A:\n    Properties: {}\n", "line 2, column 3: resource A has no Type"},
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(tc.src), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := execute(t, nil, "template", "-t", path, "A", "A")
		if code != exitBadInput || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and one line with %q", name, code, errOut, tc.want)
		}
	}
}

// An Fn::ImportValue without --import makes only its statement unknown:
// the call the other statement allows is allowed; the one it alone could
// allow is unknown, naming what to pass; with --import it is decided.
func TestTemplateUnresolvedOnlyWhereItDecides(t *testing.T) {
	tpl := "testdata/template/unresolved.yaml"
	if code, out, _ := execute(t, nil, "template", "-t", tpl, "A", "C"); code != exitAllowed {
		t.Errorf("A -> C: exit %d, want 0\n%s", code, out)
	}
	code, out, _ := execute(t, nil, "template", "-t", tpl, "-o", "json", "A", "B")
	var r struct {
		Verdict struct {
			Decision string `json:"decision"`
			Summary  string `json:"summary"`
		} `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if code != exitIncomplete || r.Verdict.Decision != "unknown" || !strings.Contains(r.Verdict.Summary, "pass --import TargetArn=VALUE") {
		t.Errorf("A -> B: exit %d, decision %q, summary %q", code, r.Verdict.Decision, r.Verdict.Summary)
	}
	arn := "arn:aws:lambda:us-east-1:123456789012:function:elsewhere"
	if code, out, _ := execute(t, nil, "template", "-t", tpl, "--import", "TargetArn="+arn, "A", "B"); code != exitDenied {
		t.Errorf("A -> B with --import: exit %d, want 1\n%s", code, out)
	}
}

// A literal function name never equals the generated one, and
// LambdaInvokePolicy given an ARN matches nothing: both are said, with
// the line.
func TestTemplateLiteralNameAndInvokePolicyARN(t *testing.T) {
	code, out, _ := execute(t, nil, "template", "-t", "testdata/template/literal-name.yaml", "A", "B")
	if code != exitDenied {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		`names the function "B" literally, but CloudFormation will name B "STACK-B-<generated>"`,
		"A (line 13): LambdaInvokePolicy is given an ARN",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
}

func TestTemplateSnapshotReplays(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "ev.json")
	if code, _, errOut := execute(t, nil, "template", "-t", seedTemplate, "--snapshot", snap, "RequestFunction", "ProcessorFunction:live"); code != exitDenied {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, out, _ := execute(t, nil, "--from-snapshot", snap); code != exitDenied || !strings.HasPrefix(out, "DENIED (implicitDeny) by the identity-based policy") {
		t.Errorf("replay: exit %d\n%s", code, out)
	}
}

func TestTemplateBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"template", "-t", seedTemplate, "Nope", "ProcessorFunction"},
		{"template", "-t", seedTemplate, "RequestFunction", "Nope"},
		{"template", "-t", "does-not-exist.yaml"},
		{"template", "-t", seedTemplate, "--account", "12", "RequestFunction", "ProcessorFunction"},
		{"template", "-t", seedTemplate, "--param", "novalue", "RequestFunction", "ProcessorFunction"},
	} {
		if code, _, errOut := execute(t, nil, args...); code != exitBadInput || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line", args, code, errOut)
		}
	}
}

// The README's "Before you deploy" shows what the command prints.
func TestReadmeBeforeYouDeploy(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, out, _ := execute(t, nil, "template", "-t", seedTemplate)
	if !strings.Contains(string(readme), "$ why-denied template -t fixtures/sam-seed-template.yaml\n"+out+"```") {
		t.Errorf("README's pairs example differs from the output:\n%s", out)
	}
	_, out, _ = execute(t, nil, "template", "-t", seedTemplate, "RequestFunction", "ProcessorFunction:live")
	if i := strings.Index(out, "In the template:"); i < 0 || !strings.Contains(string(readme), out[i:]) {
		t.Errorf("README's template findings differ from the output")
	}
}

// Role given: SAM drops Policies, and the output says so with the line.
func TestTemplateRoleGivenPoliciesDropped(t *testing.T) {
	code, out, _ := execute(t, nil, "template", "-t", "../../template/testdata/sam/05-role-given.yaml", "A", "B")
	if code != exitAllowed {
		t.Fatalf("exit %d, want 0 (MyRole's own policy allows B)\n%s", code, out)
	}
	for _, want := range []string{
		"A (line 12): A has Role given, so SAM ignores its Policies: the role !GetAtt MyRole.Arn is what the function runs as",
		"A (line 13): A has Role given, so SAM ignores its PermissionsBoundary",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
}

// A target outside the stack, by ARN: its resource policy is not in the
// template, and may allow or deny: the verdict is unknown, naming it,
// whether the identity policies allow (AWSLambdaRole) or not.
func TestTemplateTargetOutsideStack(t *testing.T) {
	arn := "arn:aws:lambda:us-east-1:123456789012:function:elsewhere"
	for _, tc := range []struct{ tpl, caller string }{
		{"../../template/testdata/sam/36-deny-and-allow.yaml", "B"},
		{seedTemplate, "ProcessorFunction"},
	} {
		code, out := summaryOf(t, "template", "-t", tc.tpl, tc.caller, arn)
		if code != exitIncomplete || !strings.Contains(out, "the resource policy of "+arn+" (a function outside the template)") {
			t.Errorf("%s -> %s: exit %d, want 3 naming the resource policy outside the template\n%s", tc.caller, arn, code, out)
		}
	}
}

// --param names a parameter the template must have.
func TestTemplateUnknownParam(t *testing.T) {
	code, _, errOut := execute(t, nil, "template", "-t", seedTemplate, "--param", "Nope=1", "RequestFunction", "ProcessorFunction")
	if code != exitBadInput || !strings.Contains(errOut, `the template has no parameter "Nope"`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// Flags reach the options as given.
func TestTemplateFlagsParsed(t *testing.T) {
	var got *templateOptions
	cmd := newTemplateCmd(streams{In: strings.NewReader(""), Out: &strings.Builder{}, Err: &strings.Builder{}}, deps{}, func(o *templateOptions) error {
		got = o
		return nil
	})
	cmd.SetArgs([]string{"-t", "t.json", "--param", "A=1", "--param", "B=x=y", "--import", "E=v", "--account", "111111111111",
		"--region", "eu-west-1", "--stack-name", "orders", "--context", "aws:SourceIp=10.0.0.1", "-o", "json", "Caller", "Target:live"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	s, err := got.settings()
	if err != nil {
		t.Fatal(err)
	}
	if got.File != "t.json" || got.Caller != "Caller" || got.Target != "Target:live" || s.Params["B"] != "x=y" || s.Imports["E"] != "v" ||
		s.Account != "111111111111" || s.Region != "eu-west-1" || s.StackName != "orders" || got.ctx["aws:SourceIp"][0] != "10.0.0.1" || got.format != "json" {
		t.Errorf("options %+v, settings %+v", got, s)
	}
}

func TestParameterOverridesFile(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"p.json": `[{"ParameterKey":"Stage","ParameterValue":"prod"}]`,
		"p.env":  "# comment\nStage=prod\n",
	} {
		path := filepath.Join(dir, name)
		_ = os.WriteFile(path, []byte(src), 0o600)
		s, err := (&templateOptions{ParameterOverrides: path}).settings()
		if err != nil || s.Params["Stage"] != "prod" {
			t.Errorf("%s: %v %v", name, s.Params, err)
		}
	}
}

// summaryOf is the verdict's one-line summary, from the JSON output (the
// table folds it to the terminal's width).
func summaryOf(t *testing.T, args ...string) (int, string) {
	t.Helper()
	code, out, _ := execute(t, nil, append([]string{"-o", "json"}, args...)...)
	var v struct {
		Summary string `json:"summary"`
		Verdict struct {
			Summary string `json:"summary"`
		} `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return code, v.Summary + v.Verdict.Summary
}
