package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/why-denied/why-denied/internal/awstest"
)

// debugCall is one call line of --debug: the operation as
// service:Operation, the names read, what AWS answered, how long, retries.
var debugCall = regexp.MustCompile(`^why-denied: debug: ([a-z]+):([A-Za-z]+)((?: [A-Za-z]+="[^"]*")*): (HTTP [0-9]{3}(?: [A-Za-z]+)?|no answer \([a-z ]+\)) in [0-9.]+(?:µs|ms|s), ([0-9]+) retr(?:y|ies)$`)

var debugTotal = regexp.MustCompile(`^why-denied: debug: total: ([0-9]+) AWS calls? \(([0-9]+) with an error, ([0-9]+) retr(?:y|ies)\) in `)

// TestDebug runs the command with --debug against moto: each operation the
// run sent is on standard error once, as it completed, with its HTTP
// status and retries, then the total; standard output is the same verdict
// as without --debug; and no credential or policy text is printed.
func TestDebug(t *testing.T) {
	awstest.FakeCredentials(t)
	awstest.Profiles(t, map[string]aws.Credentials{"debugger": {AccessKeyID: secretAccessKeyID, SecretAccessKey: secretAccessKey, SessionToken: secretSessionToken}})
	moto := awstest.StartMoto(t)
	sim := awstest.StartSimulatorProxy(t, moto.URL)
	sim.Answer(awstest.SimImplicitDeny)
	faults := awstest.StartFaultProxy(t, sim.URL)
	sam := awstest.NewBuilder(t, moto.URL).SAM("Debug")
	base := []string{"--endpoint-url", faults.URL, "--region", awstest.Region, "--profile", "debugger"}

	t.Run("every call once, with its status", func(t *testing.T) {
		// The first two GetRole requests fail: the lines say they were retried.
		faults.Inject("iam:GetRole", awstest.Fault{Kind: awstest.InternalError, Times: 2})
		defer faults.Clear()
		r := runLive(t, append(base, "--debug", "-o", "json", sam.RequestFunction, sam.ProcessorFunction+":live")...)
		wantExit(t, r, exitDenied)
		if v := decode(t, r); v.Decision != "implicitDeny" {
			t.Errorf("decision %s, want implicitDeny: --debug must not change the verdict", v.Decision)
		}
		logged := checkDebugLog(t, r)
		sent := map[string]int{}
		for _, op := range r.ops {
			sent[strings.ToLower(op.Service)+":"+op.Name]++
		}
		for op, n := range sent {
			if len(logged[op]) != n {
				t.Errorf("%s sent %d times, logged %d times", op, n, len(logged[op]))
			}
		}
		for op := range logged {
			if sent[op] == 0 {
				t.Errorf("%s logged but never sent", op)
			}
		}
		retried := 0
		for _, line := range logged["iam:GetRole"] {
			if !strings.Contains(line, ": HTTP 200 in ") {
				t.Errorf("%q, want HTTP 200 once retried", line)
			}
			n, _ := strconv.Atoi(debugCall.FindStringSubmatch(line)[5])
			retried += n
		}
		if retried != 2 {
			t.Errorf("iam:GetRole logged as %q, want 2 retries in all (the two failures injected)", logged["iam:GetRole"])
		}
		got := strings.Join(logged["lambda:GetFunctionConfiguration"], "\n")
		for _, read := range []string{`FunctionName="` + sam.RequestFunction + `"`, `FunctionName="` + sam.ProcessorFunction + `" Qualifier="live"`} {
			if !strings.Contains(got, read) {
				t.Errorf("lambda:GetFunctionConfiguration logged as %q, want the function it read, %s", got, read)
			}
		}
	})

	t.Run("explain", func(t *testing.T) {
		session := "arn:aws:sts::" + awstest.Account + ":assumed-role/" + sam.RequestRole + "/" + sam.RequestFunction
		msg := "User: " + session + " is not authorized to perform: lambda:InvokeFunction on resource: " + sam.ProcessorAliasARN +
			" because no identity-based policy allows the lambda:InvokeFunction action"
		r := runLive(t, append([]string{"explain"}, append(base, "--debug", msg)...)...)
		wantExit(t, r, exitDenied)
		if logged := checkDebugLog(t, r); len(logged) == 0 {
			t.Errorf("explain --debug logged no call:\n%s", r.stderr)
		}
	})

	t.Run("nothing without --debug", func(t *testing.T) {
		r := runLive(t, append(base, "-o", "json", sam.RequestFunction, sam.ProcessorFunction+":live")...)
		wantExit(t, r, exitDenied)
		if r.stderr != "" {
			t.Errorf("stderr %q without --debug, want nothing", r.stderr)
		}
	})
}

// checkDebugLog checks the form of a run's --debug lines and returns the
// call lines by operation. The total comes last and counts them.
func checkDebugLog(t *testing.T, r result) map[string][]string {
	t.Helper()
	assertNoSecrets(t, "--debug output", r.stderr)
	for _, doc := range []string{"Statement", "2012-10-17", "Effect", "Allow", "PolicyDocument"} {
		if strings.Contains(r.stderr, doc) {
			t.Errorf("--debug output holds policy text %q:\n%s", doc, r.stderr)
		}
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	logged := map[string][]string{}
	calls, retries, failed := 0, 0, 0
	for i, line := range lines {
		if m := debugTotal.FindStringSubmatch(line); m != nil {
			if i != len(lines)-1 {
				t.Errorf("the total %q is not the last line", line)
			}
			n, _ := strconv.Atoi(m[1])
			f, _ := strconv.Atoi(m[2])
			rt, _ := strconv.Atoi(m[3])
			if n != calls || f != failed || rt != retries {
				t.Errorf("total %q, want %d calls, %d with an error, %d retries as the lines say", line, calls, failed, retries)
			}
			continue
		}
		if strings.HasPrefix(line, "why-denied: debug: credentials for the caller side (profile \"debugger\"): obtained in ") {
			continue
		}
		m := debugCall.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("--debug line %q is not of the form 'service:Operation NAMES: HTTP STATUS in TIME, N retries'", line)
			continue
		}
		op := m[1] + ":" + m[2]
		logged[op] = append(logged[op], line)
		calls++
		n, _ := strconv.Atoi(m[5])
		retries += n
		if !strings.HasPrefix(m[4], "HTTP 2") {
			failed++
		}
	}
	if !debugTotal.MatchString(lines[len(lines)-1]) {
		t.Errorf("--debug output does not end with the total:\n%s", r.stderr)
	}
	return logged
}
