package main

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/why-denied/why-denied/accessdenied"
)

// sample is one text of accessdenied/testdata/messages.json.
type sample struct {
	Name    string          `json:"name"`
	Group   string          `json:"group"`
	Message string          `json:"message"`
	Error   string          `json:"error"`
	Want    json.RawMessage `json:"want"`
}

func loadSamples(t *testing.T) []sample {
	t.Helper()
	b, err := os.ReadFile("../../accessdenied/testdata/messages.json")
	if err != nil {
		t.Fatal(err)
	}
	var s []sample
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// No real denial text is bad input: every sample outside the not-a-denial
// group ends with a diagnosis (0 or 1) or with what the text means and what
// is missing (3), never exit 2 (issue 11).
func TestExplainNoRealDenialTextIsBadInput(t *testing.T) {
	codes := map[string][]int{}
	for _, c := range loadSamples(t) {
		if c.Group == "not-a-denial" || c.Error != "" {
			continue
		}
		src := &fakeSource{ev: fixture(t, "sam-qualified-invoke.json")}
		code, out, errOut := execute(t, src, "explain", "--timeout", "5s", c.Message)
		codes[c.Group] = append(codes[c.Group], code)
		switch {
		case code == exitBadInput:
			t.Errorf("%s (%s): exit 2, stderr %q", c.Name, c.Group, errOut)
		case code == exitIncomplete && (!strings.Contains(out, "Look at:") || !strings.Contains(errOut, "no diagnosis: ")):
			t.Errorf("%s: exit 3 without the meaning and the reason:\n%s\nstderr %q", c.Name, out, errOut)
		}
	}
	for g, cs := range codes {
		slices.Sort(cs)
		t.Logf("%s: exit codes %v", g, slices.Compact(cs))
	}
}

// A CloudTrail record is a message too: its request context and time reach
// the request explain diagnoses, so that fewer --context flags are needed.
func TestExplainCloudTrailRecordGivesTheContext(t *testing.T) {
	var record string
	for _, c := range loadSamples(t) {
		if c.Name == "ct-invoke-record" {
			record = c.Message
		}
	}
	src := &fakeSource{ev: fixture(t, "sam-qualified-invoke.json")}
	code, _, errOut := execute(t, src, "explain", "-o", "json", record)
	if code != exitDenied {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	got := src.got
	if got.Caller != "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction" || got.Action != "lambda:InvokeFunction" ||
		got.Target != "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live" {
		t.Errorf("diagnosed %+v", got)
	}
	for k, v := range map[string]string{"aws:SourceIp": "10.0.1.25", "aws:SourceVpce": "vpce-0a1b2c3d4e5f67890", "aws:MultiFactorAuthPresent": "false"} {
		if !slices.Equal(got.Context[k], []string{v}) {
			t.Errorf("context %s = %v, want %s", k, got.Context[k], v)
		}
	}
	if want := time.Date(2026, 11, 30, 8, 5, 0, 0, time.UTC); got.At == nil || !got.At.Equal(want) {
		t.Errorf("at %v, want the record's eventTime %v", got.At, want)
	}
}

// The other denial texts are explained with exit 3 and the reason.
func TestExplainOtherDenialTexts(t *testing.T) {
	for msg, reason := range map[string]string{
		`{"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}`: "a function URL's 403 body names no caller or function",
		"An error occurred (AccessDeniedException) when calling the Invoke operation: ":                                                                    "the message names no caller, action or resource",
		"User: arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction is not authorized to perform":                                            "the message is cut off: it names no action (paste the whole message)",
	} {
		wantMeaningOnly(t, msg, reason)
	}
	m := explainMeaning(t, "User: arn:aws:sts::111111111111:assumed-role/app/app is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab because no resource-based policy allows the kms:Decrypt action")
	if !strings.Contains(m.LookAt, "key policy") || !strings.Contains(m.Reason, "not a Lambda function") {
		t.Errorf("look at %q, reason %q", m.LookAt, m.Reason)
	}
}

// explainMeaning runs explain -o json on a message it cannot diagnose.
func explainMeaning(t *testing.T, msg string) accessdenied.Meaning {
	t.Helper()
	code, out, errOut := execute(t, &fakeSource{ev: fixture(t, "sam-qualified-invoke.json")}, "explain", "-o", "json", msg)
	if code != exitIncomplete {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var m accessdenied.Meaning
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
