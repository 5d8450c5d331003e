package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/accessdenied"
	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/diagnose"
)

const samMessage = `An error occurred (AccessDeniedException) when calling the Invoke operation: User: arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live because no identity-based policy allows the lambda:InvokeFunction action`

func TestExplainFromSnapshot(t *testing.T) {
	code, out, errOut := execute(t, nil, "explain", "-o", "json", "--from-snapshot", "../../fixtures/sam-qualified-invoke.json", samMessage)
	if code != exitDenied {
		t.Fatalf("exit %d stderr %q", code, errOut)
	}
	var v diagnose.Verdict
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v.Message == nil || v.Message.Layer != "identity" || v.Message.Action != "lambda:InvokeFunction" {
		t.Errorf("message %+v", v.Message)
	}
	if len(v.BlockedBy) != 1 || v.BlockedBy[0] != "identity" {
		t.Errorf("blockedBy %v", v.BlockedBy)
	}
}

// The message names the identity layer; the evidence also has a boundary
// that blocks: the verdict must say it found more than the message.
func TestExplainSaysWhenMoreLayersBlock(t *testing.T) {
	msg := strings.Replace(samMessage, ":live", "", 1)
	ev := fixture(t, "boundary-blocks.json")
	ev.Caller.IdentityPolicies = ev.Caller.IdentityPolicies[1:] // drop the identity Allow too
	ev.Simulation = nil
	src := &fakeSource{ev: ev}
	code, out, errOut := execute(t, src, "explain", "-o", "json", "--no-simulate", msg)
	if code != exitDenied {
		t.Fatalf("exit %d stderr %q", code, errOut)
	}
	if src.got.Caller != "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction" || src.got.Action != "lambda:InvokeFunction" {
		t.Errorf("diagnosed %+v", src.got)
	}
	var v diagnose.Verdict
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range v.Findings {
		if f.Kind == "moreThanMessage" && strings.Contains(f.Message, "permissions boundary also blocks") {
			found = true
		}
	}
	if !found || len(v.BlockedBy) != 2 {
		t.Errorf("blockedBy %v; findings do not say the boundary blocks too: %+v", v.BlockedBy, v.Findings)
	}
}

func TestExplainFromStdin(t *testing.T) {
	var outBuf, errBuf strings.Builder
	s := streams{In: strings.NewReader(samMessage + "\n"), Out: &outBuf, Err: &errBuf}
	root := newRootCmd(s, deps{})
	root.SetArgs([]string{"explain", "--from-snapshot", "../../fixtures/sam-qualified-invoke.json", "-"})
	err := root.Execute()
	if exitCode(err) != exitDenied || !strings.Contains(outBuf.String(), "DENIED") {
		t.Errorf("exit %d (%v) output:\n%s", exitCode(err), err, outBuf.String())
	}
}

func TestExplainWithoutCredentialsPrintsMeaning(t *testing.T) {
	src := &fakeSource{fetchErr: &awsclient.CredentialsError{Side: "caller", Err: errors.New("no EC2 IMDS role found")}}
	code, out, errOut := execute(t, src, "explain", samMessage)
	if code != exitIncomplete {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"identity-based policy", "aws iam list-role-policies --role-name RequestRole", "aws iam simulate-principal-policy", "Look at:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "credentials") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("stderr %q", errOut)
	}
}

func TestExplainRedactedMessageNeedsNoAccount(t *testing.T) {
	msg := strings.Replace(samMessage, "arn:aws:sts::111111111111:", "arn:aws:sts::***:", 1)
	code, out, _ := execute(t, nil, "explain", "-o", "json", msg)
	if code != exitIncomplete {
		t.Fatalf("exit %d", code)
	}
	var m accessdenied.Meaning
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if m.Diagnosed || !strings.Contains(m.Reason, "redacted") || m.Message == nil || !m.Message.Redacted {
		t.Errorf("meaning %+v", m)
	}
}

func TestExplainUnparseable(t *testing.T) {
	code, _, errOut := execute(t, nil, "explain", "something went wrong")
	if code != exitBadInput || !strings.Contains(errOut, "not authorized to perform") {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
	code, _, errOut = execute(t, nil, "explain")
	if code != exitBadInput || !strings.Contains(errOut, "expected one MESSAGE") {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
}
