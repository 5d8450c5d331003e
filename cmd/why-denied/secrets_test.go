package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/diagnose"
)

// Distinctive fake credentials: none of them may ever reach an output, an
// error message or an evidence file.
const (
	secretAccessKeyID    = "AKIAWHYDENIEDLEAKTEST"
	secretAccessKey      = "wJalrXUtnFEMI/K7MDENG+whyDeniedSecretKeyLeakTest"
	secretSessionToken   = "FwoGZXIvYXdzEXAMPLEwhyDeniedSessionTokenLeakTest//////////"
	secretTokenSignature = "whyDeniedSessionTokenLeakTest" // a part of the token, in case it is cut
)

var secretValues = []string{secretAccessKeyID, secretAccessKey, secretSessionToken, secretTokenSignature}

// withFakeCredentials puts the fake credentials where the AWS SDK looks
// first, and keeps any real configuration of the machine out of the way.
func withFakeCredentials(t *testing.T) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           secretAccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       secretAccessKey,
		"AWS_SESSION_TOKEN":           secretSessionToken,
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_REGION":                  "us-east-1",
		"AWS_MAX_ATTEMPTS":            "1",
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
}

// assertNoSecrets fails when a secret appears in any of the texts.
func assertNoSecrets(t *testing.T, what string, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for _, s := range secretValues {
			if strings.Contains(text, s) {
				t.Errorf("%s contains the credential %q:\n%s", what, s, text)
			}
		}
	}
}

func readFileIfAny(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(data)
}

// TestNoCredentialsInOutputs runs every command path that needs no AWS
// emulator, with credentials in the environment, and looks for them in
// standard output, standard error and every evidence file written.
func TestNoCredentialsInOutputs(t *testing.T) {
	withFakeCredentials(t)
	dir := t.TempDir()
	snap := filepath.Join(dir, "evidence.json")
	redacted := filepath.Join(dir, "redacted.json")
	sam := "../../fixtures/sam-qualified-invoke.json"
	live := func() *fakeSource { return &fakeSource{ev: fixture(t, "sam-qualified-invoke.json")} }
	cases := []struct {
		name string
		src  *fakeSource
		args []string
		code int
	}{
		{"table", live(), []string{"RequestFunction", "ProcessorFunction:live"}, exitDenied},
		{"json", live(), []string{"-o", "json", "RequestFunction", "ProcessorFunction:live"}, exitDenied},
		{"no simulate", live(), []string{"--no-simulate", "RequestFunction", "ProcessorFunction:live"}, exitDenied},
		{"snapshot", live(), []string{"--snapshot", snap, "RequestFunction", "ProcessorFunction:live"}, exitDenied},
		{"redacted snapshot", live(), []string{"--snapshot", redacted, "--redact", "-o", "json", "RequestFunction", "ProcessorFunction:live"}, exitDenied},
		{"from snapshot", nil, []string{"--from-snapshot", snap}, exitDenied},
		{"from redacted snapshot", nil, []string{"-o", "json", "--from-snapshot", redacted}, exitDenied},
		{"explain", live(), []string{"explain", samMessage}, exitDenied},
		{"explain json", live(), []string{"explain", "-o", "json", samMessage}, exitDenied},
		{"explain offline", nil, []string{"explain", "--from-snapshot", sam, samMessage}, exitDenied},
		{"explain without credentials", &fakeSource{fetchErr: &awsclient.CredentialsError{Side: "caller", Err: errors.New("no EC2 IMDS role found")}},
			[]string{"explain", samMessage}, exitIncomplete},
		{"explain unparseable", nil, []string{"explain", "not an AccessDenied message"}, exitBadInput},
		{"simulator refused", &fakeSource{ev: fixture(t, "sam-qualified-invoke.json"),
			simErr: &awsclient.SimulatorError{Refused: true, Reason: "AccessDenied on iam:SimulatePrincipalPolicy"}},
			[]string{"RequestFunction", "ProcessorFunction:live"}, exitDenied},
		{"credentials error", &fakeSource{fetchErr: &awsclient.CredentialsError{Side: "caller", Err: errors.New("the security token included in the request is expired")}},
			[]string{"RequestFunction", "ProcessorFunction"}, exitIncomplete},
		{"not found", &fakeSource{fetchErr: &awsclient.NotFoundError{Kind: "function", Name: "nope", Region: "us-east-1"}},
			[]string{"RequestFunction", "nope"}, exitBadInput},
		{"redact without snapshot", nil, []string{"--redact", "RequestFunction", "ProcessorFunction"}, exitBadInput},
		{"bad flag", nil, []string{"--nope", "a", "b"}, exitBadInput},
		{"missing evidence file", nil, []string{"--from-snapshot", filepath.Join(dir, "none.json")}, exitBadInput},
		{"version", nil, []string{"version"}, exitAllowed},
		{"help", nil, []string{"--help"}, exitAllowed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := execute(t, c.src, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr %q", code, c.code, errOut)
			}
			assertNoSecrets(t, "stdout", out)
			assertNoSecrets(t, "stderr", errOut)
		})
	}
	for _, p := range []string{snap, redacted} {
		content := readFileIfAny(t, p)
		if content == "" {
			t.Errorf("%s was not written", p)
		}
		assertNoSecrets(t, p, content)
	}
}

// awsRecorder is an AWS endpoint that refuses every call and keeps the
// headers it was sent, to prove the credentials were really used.
type awsRecorder struct {
	mu      sync.Mutex
	headers []http.Header
}

func (a *awsRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.headers = append(a.headers, r.Header.Clone())
	a.mu.Unlock()
	msg := "User: arn:aws:iam::111111111111:user/someone is not authorized to perform this action"
	if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" { // IAM and STS: the query protocol
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>` + msg + `</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write([]byte(`{"Message":"` + msg + `"}`))
}

func (a *awsRecorder) sawCredentials() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, h := range a.headers {
		if strings.Contains(h.Get("Authorization"), secretAccessKeyID) && h.Get("X-Amz-Security-Token") == secretSessionToken {
			return true
		}
	}
	return false
}

// TestNoCredentialsInAWSErrors runs the real AWS client, signing with the
// fake credentials, against an endpoint that refuses everything: the error
// paths a user meets with bad permissions must not print the credentials.
func TestNoCredentialsInAWSErrors(t *testing.T) {
	withFakeCredentials(t)
	rec := &awsRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	snap := filepath.Join(t.TempDir(), "evidence.json")
	for name, args := range map[string][]string{
		"function caller":   {"RequestFunction", "ProcessorFunction:live"},
		"role caller, json": {"-o", "json", "role/RequestRole", "ProcessorFunction"},
		"redacted snapshot": {"--snapshot", snap, "--redact", "arn:aws:iam::111111111111:user/someone", "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction"},
		"service caller":    {"s3.amazonaws.com", "ProcessorFunction", "--source-arn", "arn:aws:s3:::uploads"},
		"explain":           {"explain", samMessage},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			io := streams{In: strings.NewReader(""), Out: &out, Err: &errOut}
			code := runTree(context.Background(), newRootCmd(io, defaultDeps()), append([]string{"--endpoint-url", srv.URL, "--region", "us-east-1", "--timeout", "10s"}, args...), io)
			if code != exitIncomplete && code != exitBadInput {
				t.Errorf("exit %d against an endpoint that refuses everything; stdout %q stderr %q", code, out.String(), errOut.String())
			}
			t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
			assertNoSecrets(t, "stdout", out.String())
			assertNoSecrets(t, "stderr", errOut.String())
			assertNoSecrets(t, "snapshot", readFileIfAny(t, snap))
		})
	}
	if !rec.sawCredentials() {
		t.Fatal("no request was signed with the fake credentials: the test did not exercise them")
	}
}

// The snapshot --redact writes has no account ID or name of the original
// and diagnoses the same; the verdict printed is the normal one.
func TestRedactedSnapshot(t *testing.T) {
	ev := fixture(t, "sam-qualified-invoke.json")
	dir := t.TempDir()
	plain, redacted := filepath.Join(dir, "plain.json"), filepath.Join(dir, "redacted.json")
	code1, out1, _ := execute(t, &fakeSource{ev: ev}, "--snapshot", plain, "RequestFunction", "ProcessorFunction:live")
	code2, out2, errOut := execute(t, &fakeSource{ev: ev}, "--snapshot", redacted, "--redact", "RequestFunction", "ProcessorFunction:live")
	if code1 != exitDenied || code2 != exitDenied || out1 != out2 {
		t.Fatalf("exit %d and %d (stderr %q); the printed verdict must not depend on --redact:\n%s\n---\n%s", code1, code2, errOut, out1, out2)
	}
	content := readFileIfAny(t, redacted)
	for _, name := range []string{"111111111111", "RequestRole", "RequestFunction", "ProcessorFunction", "RequestFunctionRolePolicy0", "ProcessorFunctionPermission"} {
		if strings.Contains(content, name) {
			t.Errorf("%s is in the redacted snapshot", name)
		}
	}
	if !strings.Contains(content, `"redacted": true`) {
		t.Error(`the snapshot is not marked "redacted": true`)
	}
	info, err := os.Stat(redacted)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("snapshot mode %v, %v", info, err)
	}
	// Offline, the redacted evidence reaches the same verdict in other names.
	code3, out3, _ := execute(t, nil, "-o", "json", "--from-snapshot", redacted)
	code4, out4, _ := execute(t, nil, "-o", "json", "--from-snapshot", plain)
	v3, v4 := decodeVerdict(t, out3), decodeVerdict(t, out4)
	if code3 != code4 || v3.Decision != v4.Decision || !slices.Equal(v3.BlockedBy, v4.BlockedBy) {
		t.Errorf("redacted: exit %d %s %v; original: exit %d %s %v", code3, v3.Decision, v3.BlockedBy, code4, v4.Decision, v4.BlockedBy)
	}
}

func TestRedactNeedsSnapshot(t *testing.T) {
	for _, args := range [][]string{
		{"--redact", "RequestFunction", "ProcessorFunction"},
		{"--redact", "--from-snapshot", "../../fixtures/sam-qualified-invoke.json"},
	} {
		code, out, errOut := execute(t, nil, args...)
		if code != exitBadInput || out != "" || !strings.Contains(errOut, "--snapshot") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, code, out, errOut)
		}
	}
}

func decodeVerdict(t *testing.T, out string) diagnose.Verdict {
	t.Helper()
	var v diagnose.Verdict
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not a verdict: %v\n%s", err, out)
	}
	return v
}
