package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/why-denied/why-denied/internal/awstest"
)

// outsideTemplate names, by ARN, a customer managed policy, an AWS managed
// policy outside the tool's table and a role, none of which it defines.
const outsideTemplate = `Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Handler: index.handler
    InlineCode: "def handler(e, c): pass"
Resources:
  Processor:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: processor
  CustomerManaged:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - arn:aws:iam::123456789012:policy/InvokeProcessor
  Dynamo:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - AmazonDynamoDBFullAccess
  ExistingRole:
    Type: AWS::Serverless::Function
    Properties:
      Role: arn:aws:iam::123456789012:role/existing/InvokerRole
`

// TestTemplateProfileReadsOutside: what the template names but does not
// define is unknown without --profile (the verdict says --profile reads
// it), and read from the account with it, so that the call is decided.
func TestTemplateProfileReadsOutside(t *testing.T) {
	awstest.FakeCredentials(t)
	// moto serves AWS managed policies (AmazonDynamoDBFullAccess) only when
	// asked to: this test's own server is.
	t.Setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
	moto := awstest.StartMoto(t)
	b := awstest.NewBuilder(t, moto.URL)
	invoke := awstest.Allow("lambda:InvokeFunction", b.FunctionARN("processor"))
	b.ManagedPolicy("InvokeProcessor", invoke)
	b.Role("InvokerRole", "/existing/")
	b.RolePolicy("InvokerRole", "Invoke", invoke)
	awstest.Profiles(t, map[string]aws.Credentials{"moto": b.Credentials})

	tpl := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(tpl, []byte(outsideTemplate), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		caller      string
		without     string // what the unknown verdict names without --profile
		withProfile int
		op          string // the read --profile makes
	}{
		{"CustomerManaged", "arn:aws:iam::123456789012:policy/InvokeProcessor", exitAllowed, "GetPolicyVersion"},
		{"Dynamo", "AmazonDynamoDBFullAccess", exitDenied, "GetPolicyVersion"},
		{"ExistingRole", "arn:aws:iam::123456789012:role/existing/InvokerRole", exitAllowed, "GetRolePolicy"},
	} {
		t.Run(tc.caller, func(t *testing.T) {
			r := runLive(t, "template", "-t", tpl, "--account", awstest.Account, "-o", "json", tc.caller, "Processor")
			wantExit(t, r, exitIncomplete)
			if len(r.ops) != 0 {
				t.Errorf("without --profile the template command sent %v", r.ops)
			}
			summary := templateSummary(t, r)
			if !strings.Contains(r.stdout, tc.without) || !strings.Contains(r.stdout, "--profile") {
				t.Errorf("the unknown verdict (%q) does not name %s and --profile:\n%s", summary, tc.without, r.stdout)
			}

			r = runLive(t, "template", "-t", tpl, "--account", awstest.Account, "--profile", "moto", "--endpoint-url", moto.URL,
				"-o", "json", tc.caller, "Processor")
			wantExit(t, r, tc.withProfile)
			if !r.sentOp(tc.op) {
				t.Errorf("--profile did not read the account with %s: %v", tc.op, r.ops)
			}
			if strings.Contains(r.stdout, "--profile") {
				t.Errorf("with --profile the verdict still asks for it:\n%s", r.stdout)
			}
		})
	}
}

// templateSummary is the verdict's summary of a template -o json run.
func templateSummary(t *testing.T, r result) string {
	t.Helper()
	var v struct {
		Verdict struct {
			Summary string `json:"summary"`
		} `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r)
	}
	return v.Verdict.Summary
}
