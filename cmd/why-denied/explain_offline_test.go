package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/accessdenied"
	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/internal/awstest"
)

// executeWith runs the command tree with captured streams and the given
// dependencies, as execute does with a fake source.
func executeWith(t *testing.T, d deps, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	io := streams{In: strings.NewReader(""), Out: &out, Err: &errOut}
	code = runTree(context.Background(), newRootCmd(io, d), args, io)
	return code, out.String(), errOut.String()
}

// optionsRecorder is a source factory that records the options it was
// given, then fails with err or serves src.
type optionsRecorder struct {
	got   *awsclient.Options
	src   *fakeSource
	err   error
	calls int
}

func (r *optionsRecorder) deps() deps {
	return deps{newSource: func(_ context.Context, opts awsclient.Options) (evidenceSource, error) {
		r.calls++
		r.got = &opts
		if r.err != nil {
			return nil, r.err
		}
		return r.src, nil
	}}
}

// The message names the function's region: explain reads it there when
// --region is not given, instead of failing for want of a configured one.
func TestExplainTakesTheRegionFromTheMessage(t *testing.T) {
	rec := &optionsRecorder{src: &fakeSource{ev: fixture(t, "sam-qualified-invoke.json")}}
	code, _, errOut := executeWith(t, rec.deps(), "explain", samMessage)
	if code != exitDenied {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if rec.got == nil || rec.got.Region != "us-east-1" {
		t.Errorf("options %+v, want the region of the message's resource, us-east-1", rec.got)
	}

	rec = &optionsRecorder{src: &fakeSource{ev: fixture(t, "sam-qualified-invoke.json")}}
	executeWith(t, rec.deps(), "explain", "--region", "eu-west-1", samMessage)
	if rec.got == nil || rec.got.Region != "eu-west-1" {
		t.Errorf("options %+v, want --region eu-west-1 as given", rec.got)
	}
}

// README: "Without credentials ... it prints what the message means ...
// and exits 3". On a machine with neither credentials nor a region
// configured, that is what happens.
func TestExplainWithoutRegionOrCredentialsExplains(t *testing.T) {
	awstest.NoCredentials(t)
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	code, out, errOut := executeWith(t, defaultDeps(), "explain", "--timeout", "5s", samMessage)
	if code != exitIncomplete {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitIncomplete, errOut)
	}
	if !strings.Contains(out, "Look at:") || !strings.Contains(out, "aws iam list-role-policies --role-name RequestRole") {
		t.Errorf("output lacks the message's meaning:\n%s", out)
	}
	if strings.Contains(errOut, "region") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("stderr %q, want one line about the credentials", errOut)
	}
}

// A profile or region the SDK cannot use keeps explain from reading the
// account, as missing credentials do: the message is still explained.
// Other bad input (an endpoint URL that is not one) is still exit 2.
func TestExplainFallsBackWhenTheAccountCannotBeRead(t *testing.T) {
	for _, c := range []struct {
		err  *awsclient.InputError
		code int
	}{
		{&awsclient.InputError{Arg: "profile", Value: "prod", Reason: "no such profile in the shared config or credentials file"}, exitIncomplete},
		{&awsclient.InputError{Arg: "region", Reason: "no region configured for the caller side: pass --region or set AWS_REGION"}, exitIncomplete},
		{&awsclient.InputError{Arg: "endpoint-url", Value: "localhost", Reason: "expected an http:// or https:// URL"}, exitBadInput},
	} {
		t.Run(c.err.Arg, func(t *testing.T) {
			rec := &optionsRecorder{err: c.err}
			code, out, errOut := executeWith(t, rec.deps(), "explain", "-o", "json", samMessage)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, c.code, errOut)
			}
			if !strings.Contains(errOut, c.err.Reason) {
				t.Errorf("stderr %q should say %q", errOut, c.err.Reason)
			}
			if c.code != exitIncomplete {
				return
			}
			var m accessdenied.Meaning
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if m.Diagnosed || !strings.Contains(m.Reason, c.err.Arg) || len(m.NextSteps) == 0 {
				t.Errorf("meaning %+v", m)
			}
		})
	}
}

// wantMeaningOnly runs explain on msg and checks that it explains the
// message without reading the account, for the reason given.
func wantMeaningOnly(t *testing.T, msg, reason string) {
	t.Helper()
	src := &fakeSource{ev: fixture(t, "sam-qualified-invoke.json")}
	code, out, errOut := execute(t, src, "explain", "-o", "json", msg)
	if code != exitIncomplete {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitIncomplete, errOut)
	}
	if src.got.Caller != "" {
		t.Errorf("the account was read for %+v", src.got)
	}
	var m accessdenied.Meaning
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if m.Diagnosed || m.Reason != reason {
		t.Errorf("reason %q, want %q", m.Reason, reason)
	}
	if !strings.Contains(errOut, reason) {
		t.Errorf("stderr %q should say %q", errOut, reason)
	}
}

// A terminal wraps a long message; pasted, the resource ARN breaks at the
// wrap. A break inside a field is joined back and the call diagnosed; a
// break whose continuation is lost names no function: diagnosing it would
// read a function that does not exist.
func TestExplainWrappedResource(t *testing.T) {
	wrapped := strings.Replace(samMessage, "us-east-1:111111111111:function", "us-east\n-1:111111111111:function", 1)
	src := &fakeSource{ev: fixture(t, "sam-qualified-invoke.json")}
	code, _, errOut := execute(t, src, "explain", "-o", "json", wrapped)
	if code != exitDenied {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitDenied, errOut)
	}
	if src.got.Target != "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live" {
		t.Errorf("diagnosed %q, want the ARN joined back", src.got.Target)
	}

	lost := strings.Replace(samMessage, "function:ProcessorFunction:live", "function:\n", 1)
	wantMeaningOnly(t, lost, "the resource ARN looks cut off (a wrapped paste?)")
}

// "User: anonymous" is an unsigned request, not a principal to look up.
func TestExplainAnonymousCallerIsNotDiagnosed(t *testing.T) {
	msg := "User: anonymous is not authorized to perform: lambda:InvokeFunctionUrl on resource: arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction because no resource-based policy allows the lambda:InvokeFunctionUrl action"
	wantMeaningOnly(t, msg, "the caller is anonymous")
}
