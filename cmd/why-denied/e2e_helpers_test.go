package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/internal/awstest"
)

// sent records every operation any command run by the end-to-end tests
// sent to AWS; TestMain fails the package if one of them is not a read.
var sent awstest.Recorder

func TestMain(m *testing.M) {
	code := m.Run()
	if bad := sent.NotReadOnly(); len(bad) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: why-denied sent operations outside the read-only allowlist (Get*, List*, Describe*, Simulate*, GetCallerIdentity): %v\n", bad)
		code = 1
	}
	os.Exit(code)
}

// tee records into the package-wide recorder and into one run's own.
type tee struct{ run *awstest.Recorder }

func (t tee) RecordOperation(service, operation string) {
	sent.RecordOperation(service, operation)
	t.run.RecordOperation(service, operation)
}

// result is what a user sees of one run of the command.
type result struct {
	code           int
	stdout, stderr string
	// ops are the AWS operations this run sent.
	ops []awstest.Operation
}

// sentOp reports whether the run sent the named operation.
func (r result) sentOp(name string) bool {
	return slices.ContainsFunc(r.ops, func(op awstest.Operation) bool { return op.Name == name })
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// runLive runs the real command tree with captured streams, exactly as
// main does, reading AWS through a real awsclient.Client whose every
// operation is recorded. args are passed as given: the caller adds
// --endpoint-url or sets AWS_ENDPOINT_URL.
func runLive(t *testing.T, args ...string) result {
	t.Helper()
	var rec awstest.Recorder
	newClient := func(ctx context.Context, opts awsclient.Options) (*awsclient.Client, error) {
		opts.Recorder = tee{&rec}
		return awsclient.New(ctx, opts)
	}
	d := deps{
		newSource: func(ctx context.Context, opts awsclient.Options) (evidenceSource, error) {
			c, err := newClient(ctx, opts)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		newReader: func(ctx context.Context, opts awsclient.Options) (accountReader, error) {
			c, err := newClient(ctx, opts)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	}
	r := runWith(t, d, args)
	r.ops = rec.Operations()
	return r
}

// runOffline runs the command tree with no way to reach AWS: a run that
// tries fails the test.
func runOffline(t *testing.T, args ...string) result {
	t.Helper()
	d := deps{newSource: func(context.Context, awsclient.Options) (evidenceSource, error) {
		t.Error("the command tried to reach AWS")
		return nil, errors.New("offline")
	}}
	return runWith(t, d, args)
}

// runWith mirrors run in root.go, with injected dependencies.
func runWith(t *testing.T, d deps, args []string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	io := streams{In: strings.NewReader(""), Out: &out, Err: &errOut}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := runTree(ctx, newRootCmd(io, d), args, io)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// jsonVerdict is the part of the -o json output that scripts rely on
// (README, "JSON output"), decoded independently of the Go types that
// produce it.
type jsonVerdict struct {
	Decision  string   `json:"decision"`
	BlockedBy []string `json:"blockedBy"`
	Summary   string   `json:"summary"`
	Request   struct {
		Caller   string `json:"caller"`
		Action   string `json:"action"`
		Resource string `json:"resource"`
	} `json:"request"`
	Layers []struct {
		Layer      string `json:"layer"`
		Result     string `json:"result"`
		Blocks     bool   `json:"blocks"`
		Source     string `json:"source"`
		Note       string `json:"note"`
		Statements []struct {
			Policy  string   `json:"policy"`
			Sid     string   `json:"sid"`
			Status  string   `json:"status"`
			Reasons []string `json:"reasons"`
		} `json:"statements"`
	} `json:"layers"`
	Simulator struct {
		Used            bool   `json:"used"`
		Note            string `json:"note"`
		Decision        string `json:"decision"`
		AgreesWithLocal *bool  `json:"agreesWithLocal"`
	} `json:"simulator"`
	Findings []struct {
		Kind     string `json:"kind"`
		Severity string `json:"severity"`
		Layer    string `json:"layer"`
		Message  string `json:"message"`
		Fixes    []struct {
			Description string `json:"description"`
			CLI         string `json:"cli"`
			Verified    bool   `json:"verified"`
		} `json:"fixes"`
	} `json:"findings"`
}

// decode reads the JSON output of a run; anything else on stdout fails.
func decode(t *testing.T, r result) jsonVerdict {
	t.Helper()
	var v jsonVerdict
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("-o json output is not a JSON object: %v\n%s", err, r)
	}
	if dec.More() {
		t.Fatalf("-o json output holds more than one JSON value:\n%s", r.stdout)
	}
	return v
}

// layer returns the named layer's report, failing the test without one.
func (v jsonVerdict) layer(t *testing.T, name string) (result, source string) {
	t.Helper()
	for _, l := range v.Layers {
		if l.Layer == name {
			return l.Result, l.Source
		}
	}
	t.Fatalf("no layer %q in the verdict (layers %+v)", name, v.Layers)
	return "", ""
}

// matched lists the policies of a layer's matching statements.
func (v jsonVerdict) matched(layer string) []string {
	var names []string
	for _, l := range v.Layers {
		for _, s := range l.Statements {
			if l.Layer == layer && s.Status == "matched" {
				names = append(names, s.Policy)
			}
		}
	}
	return names
}

// findingKinds lists the kinds of the verdict's findings.
func (v jsonVerdict) findingKinds() []string {
	var kinds []string
	for _, f := range v.Findings {
		kinds = append(kinds, f.Kind)
	}
	return kinds
}

// wantExit fails the test unless the run exited with code.
func wantExit(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\n%s", r.code, code, r)
	}
}

// wantOneErrorLine fails the test unless stderr is one line mentioning
// every word in mentions, and stdout is empty.
func wantOneErrorLine(t *testing.T, r result, mentions ...string) {
	t.Helper()
	line := strings.TrimSuffix(r.stderr, "\n")
	if line == "" || strings.Contains(line, "\n") || !strings.HasPrefix(line, "why-denied: ") {
		t.Errorf("stderr %q, want one line starting with \"why-denied: \"", r.stderr)
	}
	for _, m := range mentions {
		if !strings.Contains(line, m) {
			t.Errorf("stderr %q does not mention %q", line, m)
		}
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing on an error", r.stdout)
	}
}
