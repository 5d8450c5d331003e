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

// explain --from-snapshot diagnoses the call in the evidence file, whatever
// the message says: when the two are about different calls, it says so on
// standard error and in the verdict, and still prints the verdict.
func TestExplainWarnsWhenTheEvidenceIsAboutAnotherCall(t *testing.T) {
	const snapshot = "../../fixtures/sam-qualified-invoke.json"
	redacted := redactedSnapshot(t, snapshot)
	for _, c := range []struct {
		name     string
		snapshot string
		message  string
		mentions []string // in the warning; none: no warning
	}{
		{"same call", snapshot, samMessage, nil},
		{"another session of the role", snapshot,
			strings.Replace(samMessage, "RequestRole/RequestFunction", "RequestRole/botocore-session-1", 1), nil},
		{"redacted caller", snapshot,
			strings.Replace(samMessage, "arn:aws:sts::111111111111:", "arn:aws:sts::***:", 1), nil},
		{"redacted evidence", redacted, samMessage, nil},
		{"another qualifier", snapshot, strings.Replace(samMessage, ":live because", " because", 1),
			[]string{"arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction,", "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live"}},
		{"another action", snapshot, strings.Replace(samMessage, "lambda:InvokeFunction", "lambda:GetFunction", 2),
			[]string{"lambda:GetFunction", "lambda:InvokeFunction"}},
		{"another role", snapshot, strings.Replace(samMessage, "RequestRole/RequestFunction", "DeployRole/ci", 1),
			[]string{"arn:aws:sts::111111111111:assumed-role/DeployRole/ci", "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := execute(t, nil, "explain", "-o", "json", "--from-snapshot", c.snapshot, c.message)
			if code != exitDenied {
				t.Fatalf("exit %d, want the evidence's verdict (denied); stderr %q", code, errOut)
			}
			var v diagnose.Verdict
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var mismatch *diagnose.Finding
			var kinds []string
			for i, f := range v.Findings {
				kinds = append(kinds, string(f.Kind))
				if f.Kind == "messageMismatch" {
					mismatch = &v.Findings[i]
				}
			}
			if c.mentions == nil {
				if errOut != "" || mismatch != nil {
					t.Errorf("a mismatch was reported for the same call: stderr %q, finding %+v", errOut, mismatch)
				}
				return
			}
			if !strings.HasPrefix(errOut, "why-denied: warning: the message is about ") || !strings.Contains(errOut, ", the evidence file about ") ||
				strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("stderr %q, want one warning line: the message is about X, the evidence file about Y", errOut)
			}
			if mismatch == nil || mismatch.Severity != diagnose.SeverityWarning {
				t.Fatalf("no messageMismatch warning among the findings %v", kinds)
			}
			for _, s := range c.mentions {
				if !strings.Contains(errOut, s) || !strings.Contains(mismatch.Message, strings.TrimSuffix(s, ",")) {
					t.Errorf("warning %q / finding %q should name %s", errOut, mismatch.Message, s)
				}
			}
		})
	}
}

// redactedSnapshot writes a redacted copy of the evidence file.
func redactedSnapshot(t *testing.T, path string) string {
	t.Helper()
	ev, err := readSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	red, err := redact.Evidence(ev, diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "redacted.json")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := evidence.Write(f, red); err != nil {
		t.Fatal(err)
	}
	return out
}
