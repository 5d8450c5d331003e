package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
)

// fakeSource serves evidence from a fixture and fails where told to.
type fakeSource struct {
	ev       *evidence.Evidence
	fetchErr error
	simErr   error
	got      awsclient.Request
}

// FetchEvidence returns the fixture, with its recorded simulation when the
// request asks for one, as awsclient does.
func (f *fakeSource) FetchEvidence(_ context.Context, req awsclient.Request) (*evidence.Evidence, error) {
	f.got = req
	if f.fetchErr != nil {
		return nil, f.fetchErr
	}
	ev := *f.ev
	switch {
	case !req.Simulate:
		ev.Simulation = nil
	case f.simErr != nil:
		ev.Simulation = nil
		ev.SimulatorUnavailable = f.simErr.Error()
	}
	return &ev, nil
}

func fixture(t *testing.T, name string) *evidence.Evidence {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ev, err := evidence.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// execute runs the command tree with captured streams.
func execute(t *testing.T, src *fakeSource, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	io := streams{In: strings.NewReader(""), Out: &out, Err: &errOut}
	d := deps{newSource: func(context.Context, awsclient.Options) (evidenceSource, error) {
		if src == nil {
			t.Fatal("the command tried to reach AWS")
		}
		return src, nil
	}}
	code = runTree(context.Background(), newRootCmd(io, d), args, io)
	return code, out.String(), errOut.String()
}

func TestFromSnapshotExitCodes(t *testing.T) {
	for fixture, want := range map[string]int{
		"sam-unqualified-invoke.json":       exitAllowed,
		"sam-qualified-invoke.json":         exitDenied,
		"s3-service-principal.json":         exitDenied,
		"s3-service-principal-allowed.json": exitAllowed,
		"cross-account-one-side.json":       exitDenied,
		"explicit-deny.json":                exitDenied,
		"boundary-blocks.json":              exitDenied,
	} {
		t.Run(fixture, func(t *testing.T) {
			code, out, errOut := execute(t, nil, "-v", "--from-snapshot", filepath.Join("..", "..", "fixtures", fixture))
			if code != want {
				t.Fatalf("exit %d, want %d; stderr %q", code, want, errOut)
			}
			if errOut != "" {
				t.Errorf("stderr %q", errOut)
			}
			// Not a terminal: 80 columns, where the layers are a list.
			if !strings.Contains(out, "Layers, in the order AWS evaluates them:") || !strings.Contains(out, "  identity: ") {
				t.Errorf("no layers in the --verbose output:\n%s", out)
			}
		})
	}
}

func TestJSONOutputDecodes(t *testing.T) {
	code, out, _ := execute(t, nil, "-o", "json", "--from-snapshot", "../../fixtures/sam-qualified-invoke.json")
	if code != exitDenied {
		t.Fatalf("exit %d", code)
	}
	var v struct {
		Decision  string   `json:"decision"`
		BlockedBy []string `json:"blockedBy"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if v.Decision != "implicitDeny" || len(v.BlockedBy) != 1 || v.BlockedBy[0] != "identity" {
		t.Errorf("got %+v", v)
	}
}

func TestLiveDiagnosis(t *testing.T) {
	src := &fakeSource{ev: fixture(t, "sam-qualified-invoke.json")}
	code, out, errOut := execute(t, src, "RequestFunction", "ProcessorFunction:live",
		"--context", "aws:PrincipalTag/team=a", "--context", "aws:PrincipalTag/team=b", "--source-arn", "arn:aws:s3:::bucket")
	if code != exitDenied {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if src.got.Caller != "RequestFunction" || src.got.Target != "ProcessorFunction:live" || src.got.Action != "lambda:InvokeFunction" {
		t.Errorf("request %+v", src.got)
	}
	if got := src.got.Context["aws:PrincipalTag/team"]; len(got) != 2 || got[1] != "b" {
		t.Errorf("context %v", src.got.Context)
	}
	if got := src.got.Context["aws:SourceArn"]; len(got) != 1 || got[0] != "arn:aws:s3:::bucket" {
		t.Errorf("source arn %v", src.got.Context)
	}
	if !strings.Contains(out, "DENIED") {
		t.Errorf("output:\n%s", out)
	}
}

func TestSimulatorRefusedIsNoted(t *testing.T) {
	src := &fakeSource{ev: fixture(t, "sam-qualified-invoke.json"),
		simErr: &awsclient.SimulatorError{Refused: true, Reason: "AccessDenied on iam:SimulatePrincipalPolicy"}}
	code, out, _ := execute(t, src, "-o", "json", "RequestFunction", "ProcessorFunction:live")
	if code != exitDenied {
		t.Fatalf("exit %d", code)
	}
	var v diagnose.Verdict
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v.Simulator.Used || !strings.Contains(v.Simulator.Note, "simulator refused") {
		t.Errorf("simulator %+v", v.Simulator)
	}
	for _, l := range v.Layers {
		if l.Source != diagnose.SourceLocal {
			t.Errorf("layer %s answered by %s without a simulator", l.Layer, l.Source)
		}
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	src := &fakeSource{ev: fixture(t, "sam-unqualified-invoke.json")}
	path := filepath.Join(t.TempDir(), "ev.json")
	code1, out1, _ := execute(t, src, "--snapshot", path, "RequestFunction", "ProcessorFunction")
	code2, out2, _ := execute(t, nil, "--from-snapshot", path)
	if code1 != exitAllowed || code2 != exitAllowed || out1 != out2 {
		t.Fatalf("live exit %d, offline exit %d; outputs differ:\n%s\n---\n%s", code1, code2, out1, out2)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("snapshot mode %v, %v", info.Mode(), err)
	}
}

func TestErrorsMapToExitCodes(t *testing.T) {
	ev := fixture(t, "sam-unqualified-invoke.json")
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name string
		src  *fakeSource
		args []string
		code int
		msg  string
	}{
		{"no arguments", nil, nil, exitBadInput, "expected CALLER and TARGET"},
		{"one argument", nil, []string{"fn"}, exitBadInput, "expected CALLER and TARGET"},
		{"empty caller", nil, []string{"", "fn"}, exitBadInput, "CALLER is empty"},
		{"unknown flag", nil, []string{"--nope", "a", "b"}, exitBadInput, "unknown flag"},
		{"bad output", nil, []string{"-o", "yaml", "a", "b"}, exitBadInput, "unknown output format"},
		{"bad context", nil, []string{"--context", "novalue", "a", "b"}, exitBadInput, "not KEY=VALUE"},
		{"bad source account", nil, []string{"--source-account", "12", "a", "b"}, exitBadInput, "12-digit"},
		{"bad source arn", nil, []string{"--source-arn", "bucket", "a", "b"}, exitBadInput, "not an ARN"},
		{"snapshot with args", nil, []string{"--from-snapshot", "x.json", "a", "b"}, exitBadInput, "omit them"},
		{"missing snapshot", nil, []string{"--from-snapshot", filepath.Join(dir, "none.json")}, exitBadInput, "reading evidence file"},
		{"wrong version", nil, []string{"--from-snapshot", write("v2.json", `{"version": 2}`)}, exitBadInput, "version 2 is not supported"},
		{"unknown field", nil, []string{"--from-snapshot", write("uf.json", `{"version": 1, "extra": true}`)}, exitBadInput, `unknown field "extra"`},
		{"truncated", nil, []string{"--from-snapshot", write("tr.json", `{"version": 1, "request": {`)}, exitBadInput, "evidence file"},
		{"not found", &fakeSource{ev: ev, fetchErr: &awsclient.NotFoundError{Kind: "function", Name: "nope", Region: "us-east-1"}}, []string{"a", "nope"}, exitBadInput, "function nope not found"},
		{"bad arn", &fakeSource{ev: ev, fetchErr: &awsclient.InputError{Arg: "target", Value: "arn:aws:s3:::b", Reason: "not a Lambda function ARN"}}, []string{"a", "arn:aws:s3:::b"}, exitBadInput, "not a Lambda function ARN"},
		{"no credentials", &fakeSource{ev: ev, fetchErr: &awsclient.CredentialsError{Side: "caller", Err: errors.New("no EC2 IMDS role found")}}, []string{"a", "b"}, exitIncomplete, "no usable AWS credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := execute(t, c.src, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.code, errOut)
			}
			if !strings.Contains(errOut, c.msg) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("stderr %q, want one line containing %q", errOut, c.msg)
			}
		})
	}
}

func TestBrokenPolicyInEvidenceIsBadInput(t *testing.T) {
	ev := fixture(t, "sam-unqualified-invoke.json")
	ev.Caller.IdentityPolicies[0].Document = json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`)
	path := filepath.Join(t.TempDir(), "broken.json")
	f, _ := os.Create(path)
	_ = evidence.Write(f, ev)
	f.Close()
	code, _, errOut := execute(t, nil, "--from-snapshot", path)
	if code != exitBadInput || !strings.Contains(errOut, "RequestFunctionRolePolicy0") || !strings.Contains(errOut, "Effect") {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
}

func TestHelpHasExamples(t *testing.T) {
	code, out, _ := execute(t, nil, "--help")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--from-snapshot") {
		t.Errorf("exit %d help:\n%s", code, out)
	}
}
