package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/redact"
)

// Cases of `template` and of evidence files with an organization
// block. Each test writes the input a user would give and asserts what the
// user reads: the exit code, the line printed or the JSON field.

func templateCase(name string) string { return filepath.Join("testdata", "cases_template", name) }

// writeTemplate writes src to a temporary template file and returns its path.
func writeTemplate(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// templateDecision runs `template -o json CALLER TARGET` and returns the
// exit code and verdict.decision.
func templateDecision(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	code, out, _ := execute(t, nil, append([]string{"-o", "json"}, args...)...)
	var v struct {
		Verdict struct {
			Decision string `json:"decision"`
			Summary  string `json:"summary"`
		} `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return code, v.Verdict.Decision, v.Verdict.Summary
}

const templateCaseGlobals = `Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Handler: a.h
    CodeUri: s3://b/k.zip
`

// SAM's Globals section supports a fixed list of Function properties;
// Policies and Role are not among them (SAM developer guide, "Globals
// section of the AWS SAM template", supported resources and properties).
// aws-sam-translator 1.110 fails the transform with "'Policies' is not a
// supported property of 'Function'": the stack never deploys, so no call is
// "allowed". The tool applies the Globals policy and answers ALLOWED, exit 0.
func TestCaseTemplateGlobalsPoliciesIsNotSAM(t *testing.T) {
	for name, extra := range map[string]string{
		"Policies": "    Policies:\n      - LambdaInvokePolicy:\n          FunctionName: !Ref B\n",
		"Role":     "    Role: !GetAtt R.Arn\n",
	} {
		src := templateCaseGlobals + extra + `Resources:
  A:
    Type: AWS::Serverless::Function
  B:
    Type: AWS::Serverless::Function
  R:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Action: lambda:InvokeFunction, Resource: !GetAtt B.Arn}
`
		code, out, errOut := execute(t, nil, "template", "-t", writeTemplate(t, src))
		if code != exitBadInput {
			t.Errorf("Globals.Function.%s: exit %d, want 2 (SAM rejects the template: %q is not a supported Globals property)\n%s%s", name, code, name, out, errOut)
		}
	}
}

// The call list misses grants the template makes for a call: a statement on
// an alias only (the fix the tool itself proposes), and a LambdaInvokePolicy
// given an ARN (which SAM turns into function:arn:...* and so matches
// nothing: the stack is broken, yet the list exits 0).
func TestCaseTemplatePairsMissAliasGrantAndInvokePolicyArn(t *testing.T) {
	src := templateCaseGlobals + `Resources:
  A:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: lambda:InvokeFunction
              Resource: !Sub "${B.Arn}:live"
  B:
    Type: AWS::Serverless::Function
    Properties:
      AutoPublishAlias: live
  C:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - LambdaInvokePolicy:
            FunctionName: !GetAtt B.Arn
`
	code, out, _ := execute(t, nil, "template", "-t", writeTemplate(t, src))
	if !strings.Contains(out, "A -> B:live  allowed") {
		t.Errorf("no line for A -> B:live (A's policy grants exactly B's alias live)\n%s", out)
	}
	if !strings.Contains(out, "C -> B") || code != exitDenied {
		t.Errorf("exit %d, no denied line for C -> B: C's LambdaInvokePolicy names B by ARN, which the tool itself says matches nothing\n%s", code, out)
	}
}

// A Ref, GetAtt or Fn::If naming a resource or condition the template does
// not define: CloudFormation refuses the template ("Unresolved resource
// dependencies [Missing] in the Resources block of the template"; "Template
// error: unresolved condition dependency NoSuchCond in Fn::If"). Bad input is
// exit 2 with one line; the tool says "no calls ... were found", exit 0.
func TestCaseTemplateUndefinedReferenceIsBadInput(t *testing.T) {
	for name, res := range map[string]string{
		"Ref":    "!Ref Missing",
		"GetAtt": "!GetAtt Missing.Arn",
		"If":     `!If [NoSuchCond, "*", "x"]`,
	} {
		src := templateCaseGlobals + `Resources:
  A:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: lambda:InvokeFunction
              Resource: ` + res + "\n"
		code, out, errOut := execute(t, nil, "template", "-t", writeTemplate(t, src))
		if code != exitBadInput {
			t.Errorf("%s to an undefined name: exit %d, want 2\n%s%s", name, code, out, errOut)
		}
	}
}

// README: "no fix drops a condition the policies set: when the closest
// statement fails only on its conditions (an IP range, a tag), the verdict
// names the condition and proposes no grant without it." A cross-account
// caller from another organization than the aws:PrincipalOrgID the function's
// policy requires is offered `aws lambda add-permission --principal ROLE`,
// an unconditioned grant that opens the function outside the organization.
func TestCaseTemplateResourceFixKeepsPrincipalOrgIDCondition(t *testing.T) {
	r := runOffline(t, "--from-snapshot", templateCase("orgid-condition-other-org.json"), "-o", "json")
	v := decode(t, r)
	if v.Decision != "implicitDeny" {
		t.Fatalf("decision %q, want implicitDeny", v.Decision)
	}
	for _, f := range v.Findings {
		for _, fx := range f.Fixes {
			if strings.Contains(fx.CLI, "add-permission") && !strings.Contains(fx.CLI, "--principal-org-id") {
				t.Errorf("fix %q grants the caller without the aws:PrincipalOrgID condition of statement OrgOnly:\n%s", fx.Description, fx.CLI)
			}
		}
	}
}

// SCPs "don't affect users or roles in the management account" (AWS
// Organizations user guide, "Service control policies (SCPs)"). An evidence
// file whose managementAccountId is the caller's account, without
// managementAccount: true, is diagnosed as an explicit Deny by an SCP "owned
// by the organization's management account 111111111111" for a caller in
// 111111111111: the file contradicts itself and the verdict takes the wrong side.
func TestCaseTemplateManagementAccountByID(t *testing.T) {
	r := runOffline(t, "--from-snapshot", templateCase("management-account-by-id.json"), "-o", "json")
	v := decode(t, r)
	if r.code == exitDenied && v.Decision == "explicitDeny" {
		t.Errorf("exit 1, explicitDeny by %v: the caller's account is the organization's management account, which SCPs do not affect (want allowed, or exit 2 for a contradictory file)", v.BlockedBy)
	}
}

// An allowed call in an organization whose levels carry AWS's FullAWSAccess
// (every organization has it): redaction keeps the AWS managed SCP's name,
// but the check that the copy diagnoses the same expects it renamed, so every
// attempt fails with "redaction would change the diagnosis" and
// `--snapshot --redact` of such a call cannot be written.
func TestCaseTemplateRedactAllowedWithFullAWSAccess(t *testing.T) {
	f, err := os.Open(templateCase("scp-fullaccess-allowed.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ev, err := evidence.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := redact.Evidence(ev, diagnose.Options{})
	if err != nil {
		t.Fatalf("redacting an allowed call under FullAWSAccess: %v", err)
	}
	if out.Organization == nil || len(out.Organization.Levels) == 0 || out.Organization.Levels[0].SCPs[0].Name != "FullAWSAccess" {
		t.Errorf("the AWS managed SCP FullAWSAccess is public and should be kept by name")
	}
}

// Resource: !If [IsProd, B.Arn, C.Arn] with Env unknown: either branch is
// known, and neither names D. AWS denies A -> D after any deploy; the tool
// answers UNKNOWN (exit 3) and its reason names no parameter to pass.
func TestCaseTemplateIfBothBranchesKnown(t *testing.T) {
	src := `Transform: AWS::Serverless-2016-10-31
Parameters:
  Env:
    Type: String
    AllowedValues: [dev, prod]
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Globals:
  Function:
    Runtime: python3.12
    Handler: a.h
    CodeUri: s3://b/k.zip
Resources:
  A:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: lambda:InvokeFunction
              Resource: !If [IsProd, !GetAtt B.Arn, !GetAtt C.Arn]
  B:
    Type: AWS::Serverless::Function
  C:
    Type: AWS::Serverless::Function
  D:
    Type: AWS::Serverless::Function
`
	p := writeTemplate(t, src)
	code, dec, sum := templateDecision(t, "template", "-t", p, "A", "D")
	if code != exitDenied || dec != "implicitDeny" {
		t.Errorf("A -> D: exit %d, decision %q, want implicitDeny: neither branch of the Fn::If grants D\n%s", code, dec, sum)
	}
	code, dec, sum = templateDecision(t, "template", "-t", p, "A", "B")
	if dec == "unknown" && !strings.Contains(sum, "--param Env=") {
		t.Errorf("A -> B is unknown on the condition IsProd, but the summary does not say to pass --param Env=...: %s", sum)
	}
	// The call list: A plainly calls B or C; "no calls found", exit 0,
	// says the stack has nothing to check.
	code, out, _ := execute(t, nil, "template", "-t", p)
	if code == exitAllowed && strings.Contains(out, "no calls between the template's functions were found") {
		t.Errorf("exit 0 with %q; A's policy invokes B or C", strings.TrimSpace(out))
	}
}
