package main

import (
	"net"
	"testing"

	"github.com/why-denied/why-denied/internal/awstest"
)

// TestUnreachableEndpoint: what a user reads when --endpoint-url points at
// nothing is one line naming the endpoint and what to check, exit 3.
func TestUnreachableEndpoint(t *testing.T) {
	awstest.FakeCredentials(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	l.Close()
	r := runLive(t, "--endpoint-url", endpoint, "--region", awstest.Region, "RequestFunction", "ProcessorFunction")
	wantExit(t, r, exitIncomplete)
	want := "why-denied: cannot reach " + endpoint + ": connection refused; check --endpoint-url, the network or the proxy\n"
	if r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
}
