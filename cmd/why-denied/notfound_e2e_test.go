package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/why-denied/why-denied/internal/awstest"
)

// TestTargetNotFoundNamesGenerated: AWS answers AccessDenied, not
// ResourceNotFound, to a caller that may not invoke a function that does
// not exist, so users paste a logical ID. The command says that no
// function of that name exists and names the function CloudFormation
// generated from that logical ID, confirmed by its tag; exit 2.
func TestTargetNotFoundNamesGenerated(t *testing.T) {
	awstest.FakeCredentials(t)
	moto := awstest.StartMoto(t)
	b := awstest.NewBuilder(t, moto.URL)
	role := b.Role("RequestRole", "/")
	b.Function("RequestFunction", role)
	tag := func(fn string, tags map[string]string) {
		t.Helper()
		arn := b.Function(fn, role)
		if _, err := b.Lambda.TagResource(context.Background(), &lambda.TagResourceInput{Resource: &arn, Tags: tags}); err != nil {
			t.Fatalf("tagging %s: %v", fn, err)
		}
	}
	tag("sam-app-ProcessorFunction-AbC123", map[string]string{"aws:cloudformation:logical-id": "ProcessorFunction", "aws:cloudformation:stack-name": "sam-app"})
	// Named like one, but its tag says another logical ID made it.
	tag("other-ProcessorFunction-ZZZ999", map[string]string{"aws:cloudformation:logical-id": "Other", "aws:cloudformation:stack-name": "other"})
	b.Function("ProcessorFunctionLegacy", role)

	cli := func(args ...string) result {
		return runLive(t, append([]string{"--endpoint-url", moto.URL, "--region", awstest.Region, "--no-simulate"}, args...)...)
	}
	wantCandidate := func(t *testing.T, r result) {
		t.Helper()
		wantExit(t, r, exitBadInput)
		wantOneErrorLine(t, r, "ProcessorFunction", "no function of that name exists", "sam-app-ProcessorFunction-AbC123", "sam-app")
		if strings.Contains(r.stderr, "other-ProcessorFunction-ZZZ999") || strings.Contains(r.stderr, "ProcessorFunctionLegacy") {
			t.Errorf("the message names a function another logical ID made, or one CloudFormation did not name: %s", r.stderr)
		}
		if !r.sentOp("ListFunctions") {
			t.Errorf("the candidates were not listed: %v", r.ops)
		}
	}

	t.Run("live", func(t *testing.T) {
		wantCandidate(t, cli("RequestFunction", "ProcessorFunction"))
	})
	t.Run("live, qualified", func(t *testing.T) {
		wantCandidate(t, cli("RequestFunction", "ProcessorFunction:live"))
	})
	t.Run("explain", func(t *testing.T) {
		msg := "User: arn:aws:sts::" + awstest.Account + ":assumed-role/RequestRole/RequestFunction is not authorized to perform: " +
			"lambda:InvokeFunction on resource: " + b.FunctionARN("ProcessorFunction") + " because no identity-based policy allows the lambda:InvokeFunction action"
		wantCandidate(t, cli("explain", msg))
	})
	t.Run("no candidate", func(t *testing.T) {
		r := cli("RequestFunction", "NoSuchFunction")
		wantExit(t, r, exitBadInput)
		wantOneErrorLine(t, r, "NoSuchFunction", "no function of that name exists")
	})
	t.Run("an alias that does not exist", func(t *testing.T) {
		// The function exists: only its qualifier is wrong.
		r := cli("RequestFunction", "ProcessorFunctionLegacy:live")
		wantExit(t, r, exitBadInput)
		if strings.Contains(r.stderr, "no function of that name exists") {
			t.Errorf("the function exists, but the message says it does not: %s", r.stderr)
		}
	})
	t.Run("the function exists: nothing more is read", func(t *testing.T) {
		r := cli("RequestFunction", "sam-app-ProcessorFunction-AbC123")
		if r.code == exitBadInput {
			t.Fatalf("exit 2 for an existing function\n%s", r)
		}
		// The target's own tags are read on every path (they choose the
		// form a fix is shown in); listing functions is for a not-found.
		tags := 0
		for _, op := range r.ops {
			if op.Name == "ListTags" {
				tags++
			}
		}
		if r.sentOp("ListFunctions") || tags > 1 {
			t.Errorf("the normal path listed functions or read more tags than the target's: %v", r.ops)
		}
	})
}
