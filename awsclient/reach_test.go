package awsclient_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/internal/awstest"
)

// closedPort returns a loopback URL on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// TestUnreachableEndpointIsOneLine: an endpoint that refuses connections
// is said in one line that names it and what to check, not in the SDK's
// few hundred characters of retry and transport detail.
func TestUnreachableEndpointIsOneLine(t *testing.T) {
	awstest.FakeCredentials(t)
	endpoint := closedPort(t)
	c, err := awsclient.New(context.Background(), awsclient.Options{EndpointURL: endpoint, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchEvidence(context.Background(), awsclient.Request{Caller: "role/RequestRole", Target: "ProcessorFunction"})
	want := "cannot reach " + endpoint + ": connection refused; check --endpoint-url, the network or the proxy"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if _, ok := errors.AsType[*awsclient.CallError](err); !ok {
		t.Errorf("error %T, want a *CallError (exit code 3)", err)
	}
}

// TestUnknownHostSaysCheckTheRegion: a host name that does not resolve is
// as often a mistyped region as a mistyped endpoint.
func TestUnknownHostSaysCheckTheRegion(t *testing.T) {
	awstest.FakeCredentials(t)
	c, err := awsclient.New(context.Background(), awsclient.Options{EndpointURL: "http://why-denied-test.invalid", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchEvidence(context.Background(), awsclient.Request{Caller: "role/RequestRole", Target: "ProcessorFunction"})
	want := "cannot reach http://why-denied-test.invalid: no such host; check --endpoint-url, --region, the network or the proxy"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// expiredTokenServer answers every request as AWS answers expired
// session credentials: IAM and STS in the query protocol's XML, Lambda in
// JSON with its error-type header.
func expiredTokenServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", "ExpiredTokenException")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"The security token included in the request is expired"}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRejectedCredentialsNameTheProfile: credentials that AWS refuses
// (expired keys, typically) are named by the profile they came from.
func TestRejectedCredentialsNameTheProfile(t *testing.T) {
	awstest.FakeCredentials(t)
	awstest.Profiles(t, map[string]aws.Credentials{"stale": {AccessKeyID: "AKIAEXAMPLESTALE", SecretAccessKey: "stale-secret", SessionToken: "stale-token"}})
	c, err := awsclient.New(context.Background(), awsclient.Options{Profile: "stale", EndpointURL: expiredTokenServer(t), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchEvidence(context.Background(), awsclient.Request{Caller: "role/RequestRole", Target: "ProcessorFunction"})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"AWS rejected the credentials", "ExpiredToken", "of profile stale", "refresh them, or pick another --profile"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	for _, secret := range []string{"AKIAEXAMPLESTALE", "stale-secret", "stale-token"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q holds the credential %q", msg, secret)
		}
	}
}

// TestSSOProfileWithoutTokenSaysLogin: a profile that gets its credentials
// from IAM Identity Center, on a machine with no cached SSO token (never
// logged in, or the token expired), is answered with the command that
// fixes it, naming the profile to log in with.
func TestSSOProfileWithoutTokenSaysLogin(t *testing.T) {
	const config = `[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Developer
region = us-east-1

[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = Developer
region = us-east-1

[profile admin]
role_arn = arn:aws:iam::111111111111:role/Admin
source_profile = dev
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
`
	cases := []struct {
		name, profile, env, login string
	}{
		{"sso_session profile", "dev", "", "aws sso login --profile dev"},
		{"legacy sso_start_url profile", "legacy", "", "aws sso login --profile legacy"},
		{"role profile whose source is SSO", "admin", "", "aws sso login --profile dev"},
		{"profile from AWS_PROFILE", "", "dev", "aws sso login --profile dev"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			awstest.NoCredentials(t)
			dir := t.TempDir()
			path := filepath.Join(dir, "config")
			if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("AWS_CONFIG_FILE", path)
			t.Setenv("HOME", dir) // the SSO token cache, ~/.aws/sso/cache, is empty
			if c.env != "" {
				t.Setenv("AWS_PROFILE", c.env)
			}
			_, err := awsclient.New(context.Background(), awsclient.Options{Profile: c.profile, EndpointURL: closedPort(t), Timeout: 10 * time.Second})
			if _, ok := errors.AsType[*awsclient.CredentialsError](err); !ok {
				t.Fatalf("error %v (%T), want a *CredentialsError", err, err)
			}
			msg := err.Error()
			named := "profile " + c.profile + c.env
			for _, want := range []string{named, "the SSO session has expired or was never started", c.login} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if len(msg) > 200 {
				t.Errorf("error is %d characters, want one short line: %q", len(msg), msg)
			}
		})
	}
}
