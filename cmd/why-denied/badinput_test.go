package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/why-denied/why-denied/awsclient"
)

// TestBadInput: each malformed input gets one line naming the problem and
// exit code 2, without a single call to AWS, and nothing panics.
func TestBadInput(t *testing.T) {
	// Any request reaching this server is a failure: bad input must be
	// caught before AWS is asked anything.
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "unexpected call", http.StatusInternalServerError)
	}))
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDBADINPUTTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "bad-input-test-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	live := func(args ...string) []string {
		return append([]string{"--endpoint-url", srv.URL, "--region", "us-east-1", "--timeout", "5s"}, args...)
	}

	dir := t.TempDir()
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, err := os.ReadFile("../../fixtures/sam-qualified-invoke.json")
	if err != nil {
		t.Fatal(err)
	}
	// withPolicy puts doc in place of the caller's first identity policy.
	withPolicy := func(name, doc string) string {
		var ev map[string]any
		_ = json.Unmarshal(good, &ev)
		caller := ev["caller"].(map[string]any)
		pols := caller["identityPolicies"].([]any)
		pols[0].(map[string]any)["document"] = json.RawMessage(doc)
		b, err := json.Marshal(ev)
		if err != nil {
			// Invalid JSON cannot be embedded through Marshal: splice it.
			b = bytes.Replace(good, []byte(`"Statement": [`), []byte(`"Statement": `+doc+`, "X": [`), 1)
		}
		return file(name, b)
	}
	replace := func(name, old, new string) string {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("fixture has no %q", old)
		}
		return file(name, bytes.Replace(good, []byte(old), []byte(new), 1))
	}
	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	huge := append([]byte(`{"version": 1, "notes": ["`), bytes.Repeat([]byte("x"), 50<<20)...)
	huge = append(huge, []byte(`"]}`)...)

	cases := []struct {
		name string
		args []string
		msg  string // the line must contain this
	}{
		// Arguments.
		{"no arguments", nil, "expected CALLER and TARGET"},
		{"three arguments", []string{"a", "b", "c"}, "expected CALLER and TARGET"},
		{"empty caller", []string{"", "fn"}, "CALLER is empty"},
		{"blank target", []string{"fn", "  "}, "TARGET is empty"},
		{"unknown flag", []string{"--bogus", "a", "b"}, "unknown flag: --bogus"},
		{"unknown shorthand", []string{"-z", "a", "b"}, "unknown shorthand flag"},
		{"flag without value", []string{"a", "b", "--region"}, "flag needs an argument"},
		{"bad output format", []string{"-o", "xml", "a", "b"}, `unknown output format "xml"`},
		{"bad timeout", []string{"--timeout", "soon", "a", "b"}, "invalid argument"},
		{"negative timeout", []string{"--timeout", "-1s", "a", "b"}, "--timeout must be positive"},
		{"bad action", []string{"--action", "InvokeFunction", "a", "b"}, "not of the form service:Action"},
		{"action of another service", []string{"--action", "s3:GetObject", "a", "b"}, "is not a Lambda action"},
		{"context without =", []string{"--context", "aws:SourceArn", "a", "b"}, "is not KEY=VALUE"},
		{"context with empty key", []string{"--context", "=x", "a", "b"}, "is not KEY=VALUE"},
		{"source account too short", []string{"--source-account", "1234", "a", "b"}, "12-digit"},
		{"source arn not an ARN", []string{"--source-arn", "my-bucket", "a", "b"}, "not an ARN"},
		{"redundant snapshot flags", []string{"--snapshot", "a.json", "--from-snapshot", "b.json"}, "cannot be used together"},
		{"malformed target ARN", live("fn", "arn:aws:lambda:us-east-1"), "target"},
		{"an IP key given no address", live("--context", "aws:SourceIp=not-an-ip", "fn", "target"), "aws:SourceIp"},
		{"a boolean key given neither true nor false", live("--context", "aws:MultiFactorAuthPresent=yes", "fn", "target"), "aws:MultiFactorAuthPresent"},
		{"a date key given no date", live("--context", "aws:TokenIssueTime=yesterday", "fn", "target"), "aws:TokenIssueTime"},
		{"wrong-service target ARN", live("fn", "arn:aws:s3:::bucket"), "target"},
		{"target name with invalid characters", live("fn", "my function!"), "target"},
		{"target with two qualifiers", live("fn", "fn:a:b"), "target"},
		{"malformed caller ARN", live("arn:aws:iam::role/x", "fn"), "caller"},
		{"wrong-service caller ARN", live("arn:aws:s3:::bucket", "fn"), "caller"},
		{"caller name with invalid characters", live("role/bad name", "fn"), "caller"},
		{"caller that is no principal", live("example.com", "fn"), "caller"},
		// Evidence files.
		{"missing evidence file", []string{"--from-snapshot", filepath.Join(dir, "absent.json")}, "reading evidence file"},
		{"evidence file is a directory", []string{"--from-snapshot", dir}, "evidence"},
		{"empty evidence file", []string{"--from-snapshot", file("empty.json", nil)}, "empty file"},
		{"truncated evidence", []string{"--from-snapshot", file("trunc.json", good[:len(good)/2])}, "evidence file"},
		{"evidence is a list", []string{"--from-snapshot", file("list.json", []byte(`[1, 2]`))}, "expected a JSON object"},
		{"wrong version", []string{"--from-snapshot", replace("v2.json", `"version": 1`, `"version": 7`)}, "version 7 is not supported"},
		{"version as a string", []string{"--from-snapshot", replace("vs.json", `"version": 1`, `"version": "1"`)}, "version"},
		{"missing version", []string{"--from-snapshot", replace("nov.json", `"version": 1,`, ``)}, `missing "version"`},
		{"unknown top-level field", []string{"--from-snapshot", replace("uf.json", `"version": 1,`, `"version": 1, "verison": 1,`)}, `unknown field "verison"`},
		{"unknown nested field", []string{"--from-snapshot", replace("unf.json", `"account": "111111111111",`, `"account": "111111111111", "acount": "x",`)}, `unknown field "acount"`},
		{"wrong type", []string{"--from-snapshot", replace("wt.json", `"sessionPolicies": []`, `"sessionPolicies": "none"`)}, "sessionPolicies"},
		{"duplicate keys", []string{"--from-snapshot", replace("dup.json", `"version": 1,`, `"version": 1, "version": 1,`)}, `duplicate key "version"`},
		{"UTF-16 evidence", []string{"--from-snapshot", file("utf16.json", append([]byte{0xff, 0xfe}, bytes.Join(bytes.SplitAfter(good, nil), []byte{0})...))}, "the file is UTF-16 (it starts with a byte-order mark): save it as UTF-8"},
		{"fields differing in case", []string{"--from-snapshot", replace("case.json", `"identityPolicies": [`, `"IdentityPolicies": [], "identityPolicies": [`)}, "differ only in letter case"},
		{"invalid UTF-8", []string{"--from-snapshot", replace("utf.json", `RequestRole`, "Request\xffRole")}, "not valid UTF-8"},
		{"deeply nested", []string{"--from-snapshot", file("deep.json", []byte(deep))}, "evidence file"},
		{"50 MB evidence", []string{"--from-snapshot", file("huge.json", huge)}, "larger than 16 MiB"},
		{"trailing data", []string{"--from-snapshot", file("trail.json", append(append([]byte{}, good...), []byte(`{}`)...))}, "evidence file"},
		{"empty request caller", []string{"--from-snapshot", replace("ec.json", `"caller": "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction"`, `"caller": ""`)}, `"request.caller" is empty`},
		{"request resource not an ARN", []string{"--from-snapshot", replace("rr.json", `"resource": "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live"`, `"resource": "ProcessorFunction"`)}, "is not an ARN"},
		// Policy documents inside the evidence.
		{"policy: invalid JSON", []string{"--from-snapshot", withPolicy("p1.json", `{"Statement": [}`)}, "evidence file"},
		{"policy: unknown Effect", []string{"--from-snapshot", withPolicy("p2.json", `{"Statement": {"Effect": "Permit", "Action": "*", "Resource": "*"}}`)}, "Effect"},
		{"policy: no Action", []string{"--from-snapshot", withPolicy("p3.json", `{"Statement": {"Effect": "Allow", "Resource": "*"}}`)}, "missing Action or NotAction"},
		{"policy: Action and NotAction", []string{"--from-snapshot", withPolicy("p4.json", `{"Statement": {"Effect": "Allow", "Action": "*", "NotAction": "s3:*", "Resource": "*"}}`)}, "both Action and NotAction"},
		{"policy: unknown element", []string{"--from-snapshot", withPolicy("p5.json", `{"Statement": {"Effect": "Allow", "Actions": "*", "Resource": "*"}}`)}, `Actions: unknown element`},
		{"policy: unknown version", []string{"--from-snapshot", withPolicy("p6.json", `{"Version": "2020-01-01", "Statement": []}`)}, `unknown version "2020-01-01"`},
		{"policy: Condition value an object", []string{"--from-snapshot", withPolicy("p7.json", `{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"k": {"a": 1}}}}}`)}, "Condition.StringEquals.k"},
		{"policy: principal string other than *", []string{"--from-snapshot", withPolicy("p8.json", `{"Statement": {"Effect": "Allow", "Principal": "alice", "Action": "*", "Resource": "*"}}`)}, `must be "*"`},
		{"policy: duplicate Effect", []string{"--from-snapshot", withPolicy("p9.json", `{"Statement": {"Effect": "Allow", "Effect": "Deny", "Action": "*", "Resource": "*"}}`)}, `duplicate key "Effect"`},
		{"policy: Statement a number", []string{"--from-snapshot", withPolicy("p10.json", `{"Statement": 5}`)}, "Statement"},
		{"policy: still URL-encoded", []string{"--from-snapshot", withPolicy("p11.json", `"%7B%22Version%22%3A%222012-10-17%22%7D"`)}, "URL-encoded"},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := calls.Load()
			var out, errOut bytes.Buffer
			io := streams{In: strings.NewReader(""), Out: &out, Err: &errOut}
			root := newRootCmd(io, deps{newSource: func(ctx context.Context, o awsclient.Options) (evidenceSource, error) {
				return awsclient.New(ctx, o)
			}})
			done := make(chan int, 1)
			go func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("panic: %v", r)
						done <- -1
					}
				}()
				done <- runTree(context.Background(), root, c.args, io)
			}()
			var code int
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("no answer in 30 s")
			}
			if code != exitBadInput {
				t.Errorf("exit %d, want 2 (stderr %q)", code, errOut.String())
			}
			line := strings.TrimSpace(errOut.String())
			if strings.Contains(line, "\n") || !strings.Contains(line, c.msg) || len(line) > 400 {
				t.Errorf("stderr %q: want one line containing %q", line, c.msg)
			}
			if calls.Load() != before {
				t.Errorf("bad input reached AWS (%d calls)", calls.Load()-before)
			}
		})
	}
}
