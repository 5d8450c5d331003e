package main

import (
	"strings"
	"testing"

	"github.com/why-denied/why-denied/internal/awstest"
)

// TestFixInTheDeployedForm: a function deployed by SAM carries its stack's
// tags; the live diagnosis reads them (lambda:ListTags) and the first
// screen writes the fix as a SAM snippet naming the logical ID, not as an
// AWS CLI command (issue 15, item 1).
func TestFixInTheDeployedForm(t *testing.T) {
	awstest.FakeCredentials(t)
	moto := awstest.StartMoto(t)
	proxy := awstest.StartSimulatorProxy(t, moto.URL)
	proxy.Evaluate()
	b := awstest.NewBuilder(t, moto.URL)
	sam := b.SAM("")
	b.TagFunction(sam.ProcessorFunction, map[string]string{
		"aws:cloudformation:stack-name": "sam-app",
		"aws:cloudformation:logical-id": "ProcessorFunction",
		"lambda:createdBy":              "SAM",
	})
	r := runLive(t, "--endpoint-url", proxy.URL, "--region", awstest.Region, sam.RequestFunction, sam.ProcessorFunction+":live")
	if r.code != exitDenied {
		t.Fatalf("exit %d, want 1\n%s", r.code, r)
	}
	if !r.sentOp("ListTags") {
		t.Errorf("the target's tags were not read: %v", r.ops)
	}
	if !strings.Contains(r.stdout, "in AWS SAM") || !strings.Contains(r.stdout, "${ProcessorFunction.Arn}") {
		t.Errorf("the first screen does not write the fix for the SAM template:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "$ aws iam put-role-policy") {
		t.Errorf("the first screen shows the CLI form for a SAM-deployed function:\n%s", r.stdout)
	}
}
