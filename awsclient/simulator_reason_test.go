package awsclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/internal/awstest"
)

// iamError is an IAM Query-protocol error body.
func iamError(code, message string) string {
	return `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>` + code +
		`</Code><Message>` + message + `</Message></Error><RequestId>4a5b6c</RequestId></ErrorResponse>`
}

// TestSimulatorErrorIsShort: the simulator's failure ends up in the
// verdict's note, where a person reads it. It says what happened in a few
// words, not the SDK's chain of wrapped errors; the SDK's error stays
// available through Unwrap for whoever debugs.
func TestSimulatorErrorIsShort(t *testing.T) {
	const roleARN = "arn:aws:iam::111111111111:role/service-role/RequestRole"
	cases := []struct {
		name    string
		handler http.HandlerFunc
		refused bool
		want    string
		raw     string // in the unwrapped SDK error
	}{
		{"server error with an unreadable body", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("<html>Internal error <b"))
		}, false, "simulator unavailable: HTTP 500 from iam:SimulatePrincipalPolicy", "XML syntax error"},
		{"access denied", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(iamError("AccessDenied", "User: arn:aws:iam::111111111111:user/ci is not authorized to perform: iam:SimulatePrincipalPolicy on resource: role RequestRole because no identity-based policy allows the iam:SimulatePrincipalPolicy action")))
		}, true, "simulator refused: AccessDenied: the credentials lack iam:SimulatePrincipalPolicy on " + roleARN, "user/ci is not authorized"},
		{"throttled", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(iamError("Throttling", "Rate exceeded")))
		}, false, "simulator unavailable: Throttling (HTTP 400) from iam:SimulatePrincipalPolicy", "Rate exceeded"},
		{"connection closed", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, false, "simulator unavailable: no connection to iam:SimulatePrincipalPolicy", "request send failed"},
		{"no answer", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(time.Second):
			}
		}, false, "simulator unavailable: no answer in time from iam:SimulatePrincipalPolicy", "deadline exceeded"},
	}
	awstest.FakeCredentials(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			client, err := awsclient.New(context.Background(), awsclient.Options{EndpointURL: srv.URL, Timeout: 900 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ev := &evidence.Evidence{
				Request: evidence.Request{Action: "lambda:InvokeFunction", Resource: "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction"},
				Caller:  evidence.Caller{ARN: roleARN},
			}
			_, err = client.Simulate(context.Background(), ev)
			var se *awsclient.SimulatorError
			if !errors.As(err, &se) || se.Refused != c.refused {
				t.Fatalf("Simulate = %v (%T), want a *SimulatorError with Refused %v", err, err, c.refused)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, c.want) {
				t.Errorf("message %q should start with %q", msg, c.want)
			}
			if len(msg) > 160 || strings.Contains(msg, "operation error") || strings.Contains(msg, "RequestID") {
				t.Errorf("message %q (%d characters) is the SDK's error, not a short reason", msg, len(msg))
			}
			if inner := errors.Unwrap(err); inner == nil || !strings.Contains(inner.Error(), c.raw) {
				t.Errorf("Unwrap = %v, want the SDK's error, mentioning %q", inner, c.raw)
			}
		})
	}
}
