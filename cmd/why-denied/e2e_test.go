package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/why-denied/why-denied/internal/awstest"
)

// world is one moto_server, behind the simulator proxy, holding every
// scenario: starting moto takes about a second, a scenario milliseconds.
type world struct {
	moto  *awstest.Moto
	proxy *awstest.SimulatorProxy
	b     *awstest.Builder
	sam   awstest.SAM
	s3    awstest.S3Trigger
	plain plainScenario
}

// plainScenario is a role whose inline policy allows invoking a function
// that has no resource policy at all, in the same account.
type plainScenario struct {
	Role, RoleARN, Function string
}

// TestEndToEnd runs the why-denied command against moto_server through
// the simulator proxy, as a user would run it against AWS.
func TestEndToEnd(t *testing.T) {
	awstest.FakeCredentials(t)
	moto := awstest.StartMoto(t)
	w := &world{moto: moto, proxy: awstest.StartSimulatorProxy(t, moto.URL), b: awstest.NewBuilder(t, moto.URL)}
	w.sam = w.b.SAM("")
	w.s3 = w.b.S3Trigger("")
	w.plain = buildPlain(w.b)

	t.Run("SAM case, unqualified target", w.testSAMUnqualified)
	t.Run("SAM case, alias target", w.testSAMAlias)
	t.Run("S3 service principal", w.testS3)
	t.Run("user allowed by a group policy", w.testUserGroup)
	t.Run("no resource policy, same account", w.testNoResourcePolicy)
	t.Run("unknown function", w.testUnknownFunction)
	t.Run("no credentials", w.testNoCredentials)
	t.Run("simulator refused", w.testSimulatorRefused)
	t.Run("snapshot then offline", w.testSnapshot)
	t.Run("no-simulate", w.testNoSimulate)
	t.Run("explain a pasted message", w.testExplain)
}

// testExplain pastes the AccessDenied message AWS gives for the SAM case's
// alias call: explain diagnoses the call the message is about, against the
// account, with read-only calls only (TestMain checks them).
func (w *world) testExplain(t *testing.T) {
	w.proxy.Answer(awstest.SimImplicitDeny)
	session := "arn:aws:sts::" + awstest.Account + ":assumed-role/" + w.sam.RequestRole + "/" + w.sam.RequestFunction
	msg := "An error occurred (AccessDeniedException) when calling the Invoke operation: User: " + session +
		" is not authorized to perform: lambda:InvokeFunction on resource: " + w.sam.ProcessorAliasARN +
		" because no identity-based policy allows the lambda:InvokeFunction action"
	r := runLive(t, "explain", "--endpoint-url", w.proxy.URL, "--region", awstest.Region, "-o", "json", msg)
	wantExit(t, r, exitDenied)
	v := decode(t, r)
	if v.Decision != "implicitDeny" || !slices.Equal(v.BlockedBy, []string{"identity"}) {
		t.Errorf("decision %s blocked by %v, want implicitDeny blocked by [identity]", v.Decision, v.BlockedBy)
	}
	if !strings.Contains(r.stdout, `"layer": "identity"`) || !strings.Contains(r.stdout, `"message"`) {
		t.Errorf("the verdict does not carry the parsed message:\n%s", r.stdout)
	}
	if !r.sentOp("GetFunctionConfiguration") {
		t.Errorf("explain did not read the account: %v", r.ops)
	}
}

func buildPlain(b *awstest.Builder) plainScenario {
	p := plainScenario{Role: "PlainCallerRole", Function: "PlainFunction"}
	p.RoleARN = b.Role(p.Role, "/")
	b.RolePolicy(p.Role, "InvokePlain", awstest.Allow("lambda:InvokeFunction", b.FunctionARN(p.Function)))
	b.Function(p.Function, b.Role("PlainFunctionRole", "/"))
	return p
}

// cli runs the command against the proxy, with --endpoint-url and
// --region as a user of an emulator would pass them.
func (w *world) cli(t *testing.T, args ...string) result {
	t.Helper()
	return runLive(t, append([]string{"--endpoint-url", w.proxy.URL, "--region", awstest.Region}, args...)...)
}

// simulations counts the simulator requests the proxy has received.
func (w *world) simulations() int { return len(w.proxy.Simulations()) }

func (w *world) testSAMUnqualified(t *testing.T) {
	w.proxy.Answer(awstest.SimAllowed)
	before := w.simulations()
	r := w.cli(t, "-o", "json", w.sam.RequestFunction, w.sam.ProcessorFunction)
	wantExit(t, r, exitAllowed)
	v := decode(t, r)

	if v.Decision != "allowed" || len(v.BlockedBy) != 0 {
		t.Errorf("decision %s blocked by %v, want allowed by nothing blocked", v.Decision, v.BlockedBy)
	}
	if want := "arn:aws:sts::" + awstest.Account + ":assumed-role/" + w.sam.RequestRole + "/" + w.sam.RequestFunction; v.Request.Caller != want {
		t.Errorf("caller %s, want the function's role session %s", v.Request.Caller, want)
	}
	if v.Request.Resource != w.sam.ProcessorFunctionARN {
		t.Errorf("resource %s, want the unqualified %s", v.Request.Resource, w.sam.ProcessorFunctionARN)
	}
	if !slices.Contains(v.findingKinds(), "qualifiedCallsDenied") {
		t.Errorf("findings %v, want the qualifiedCallsDenied warning: a qualified call would be denied", v.findingKinds())
	}
	for _, f := range v.Findings {
		if f.Kind == "qualifiedCallsDenied" && f.Severity != "warning" {
			t.Errorf("qualifiedCallsDenied has severity %s, want warning", f.Severity)
		}
	}

	// The simulator's answer came from the proxy, and the verdict says so.
	sims := w.proxy.Simulations()
	if len(sims) != before+1 {
		t.Fatalf("%d simulator requests, want 1", len(sims)-before)
	}
	if got := sims[len(sims)-1].Get("PolicySourceArn"); got != w.sam.RequestRoleARN {
		t.Errorf("simulated %s, want the execution role %s", got, w.sam.RequestRoleARN)
	}
	if !v.Simulator.Used || v.Simulator.Decision != "allowed" {
		t.Errorf("simulator %+v, want used with decision allowed", v.Simulator)
	}
	if v.Simulator.AgreesWithLocal == nil || !*v.Simulator.AgreesWithLocal {
		t.Errorf("simulator agreesWithLocal %v, want true: the role's inline policy allows the unqualified ARN", v.Simulator.AgreesWithLocal)
	}
	if res, src := v.layer(t, "identity"); res != "allows" || src != "simulator" {
		t.Errorf("identity layer %s from %s, want allows from the simulator", res, src)
	}
	if !r.sentOp("SimulatePrincipalPolicy") || !r.sentOp("GetFunctionConfiguration") || !r.sentOp("GetRolePolicy") {
		t.Errorf("operations %v, want the function, the role's policies and the simulator read", r.ops)
	}
}

func (w *world) testSAMAlias(t *testing.T) {
	w.proxy.Answer(awstest.SimImplicitDeny)
	target := w.sam.ProcessorFunction + ":live"

	r := w.cli(t, "-o", "json", w.sam.RequestFunction, target)
	wantExit(t, r, exitDenied)
	v := decode(t, r)
	if v.Decision != "implicitDeny" || !slices.Equal(v.BlockedBy, []string{"identity"}) {
		t.Errorf("decision %s blocked by %v, want implicitDeny blocked by [identity]", v.Decision, v.BlockedBy)
	}
	if v.Request.Resource != w.sam.ProcessorAliasARN {
		t.Errorf("resource %s, want the alias ARN %s", v.Request.Resource, w.sam.ProcessorAliasARN)
	}
	var grant, verified bool
	for _, f := range v.Findings {
		if f.Kind == "servicePrincipalGrant" && strings.Contains(f.Message, "lambda.amazonaws.com") && strings.Contains(f.Message, "does not apply") {
			grant = true
		}
		for _, fix := range f.Fixes {
			verified = verified || fix.Verified
		}
	}
	if !grant {
		t.Errorf("findings %v, want servicePrincipalGrant naming lambda.amazonaws.com: the permission does not apply to a role session", v.findingKinds())
	}
	if !verified {
		t.Errorf("no verified fix among the findings %+v", v.Findings)
	}
	if res, _ := v.layer(t, "resource"); res == "allows" {
		t.Errorf("resource layer %s: the lambda.amazonaws.com permission must not apply to the role session", res)
	}

	// The table says the same in words.
	r = w.cli(t, w.sam.RequestFunction, target)
	wantExit(t, r, exitDenied)
	for _, phrase := range []string{
		"DENIED (implicitDeny) by the identity-based policy",
		"lambda.amazonaws.com",
		"a service principal",
		"unqualified",
		":live",
		w.sam.RequestPolicy,
	} {
		if !strings.Contains(r.stdout, phrase) {
			t.Errorf("table output lacks %q:\n%s", phrase, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("stderr %q on a denial, want nothing", r.stderr)
	}
}

func (w *world) testS3(t *testing.T) {
	// Any answer would do: the simulator must not be asked at all.
	w.proxy.Answer(awstest.SimAllowed)
	before := w.simulations()
	t.Cleanup(func() {
		if n := w.simulations() - before; n != 0 {
			t.Errorf("%d simulator requests for a service principal, which has no IAM policies to simulate", n)
		}
	})
	s3 := w.s3

	t.Run("matching source", func(t *testing.T) {
		r := w.cli(t, "-o", "json", "s3.amazonaws.com", s3.Function,
			"--source-arn", s3.BucketARN, "--source-account", awstest.Account)
		wantExit(t, r, exitAllowed)
		v := decode(t, r)
		if v.Decision != "allowed" {
			t.Errorf("decision %s, want allowed", v.Decision)
		}
		if res, src := v.layer(t, "resource"); res != "allows" || src != "local" {
			t.Errorf("resource layer %s from %s, want allows from the local engine", res, src)
		}
		if v.Simulator.Used {
			t.Errorf("simulator %+v, want not used for a service principal", v.Simulator)
		}
		if r.sentOp("SimulatePrincipalPolicy") {
			t.Errorf("operations %v include the simulator", r.ops)
		}
	})
	t.Run("other bucket", func(t *testing.T) {
		r := w.cli(t, "-o", "json", "s3.amazonaws.com", s3.Function,
			"--source-arn", "arn:aws:s3:::someone-elses-bucket", "--source-account", awstest.Account)
		wantExit(t, r, exitDenied)
		v := decode(t, r)
		if v.Decision != "implicitDeny" || !slices.Equal(v.BlockedBy, []string{"resource"}) {
			t.Errorf("decision %s blocked by %v, want implicitDeny blocked by [resource]", v.Decision, v.BlockedBy)
		}
		if r.sentOp("SimulatePrincipalPolicy") {
			t.Errorf("operations %v include the simulator", r.ops)
		}
	})
	t.Run("other bucket, table", func(t *testing.T) {
		r := w.cli(t, "s3.amazonaws.com", s3.Function, "--source-arn", "arn:aws:s3:::someone-elses-bucket")
		wantExit(t, r, exitDenied)
		for _, phrase := range []string{"DENIED", "resource", s3.BucketARN, "someone-elses-bucket"} {
			if !strings.Contains(r.stdout, phrase) {
				t.Errorf("table output lacks %q:\n%s", phrase, r.stdout)
			}
		}
	})
}

// testUserGroup: a user whose only permission is an inline policy of one
// of its groups.
func (w *world) testUserGroup(t *testing.T) {
	b := w.b
	const user, group, policy = "dev-carol", "invokers", "InvokeWorker"
	b.User(user, "/")
	worker := b.Function("Worker", b.Role("WorkerRole", "/"))
	b.Function("OtherWorker", b.Role("OtherWorkerRole", "/"))
	b.Group(group, user)
	b.GroupPolicy(group, policy, awstest.Allow("lambda:InvokeFunction", worker))

	// The simulator's recorded answer stands in for AWS's; the local engine,
	// working from what was read, must reach the same answer, which it can
	// only do if the group's policy was read.
	check := func(t *testing.T, answer awstest.Fixture, target string, code int, decision string) jsonVerdict {
		t.Helper()
		w.proxy.Answer(answer)
		r := w.cli(t, "-o", "json", "user/"+user, target)
		wantExit(t, r, code)
		v := decode(t, r)
		if v.Decision != decision {
			t.Errorf("decision %s, want %s", v.Decision, decision)
		}
		if v.Simulator.AgreesWithLocal == nil || !*v.Simulator.AgreesWithLocal {
			t.Errorf("simulator %+v: the local evaluation of the policies read disagrees with AWS's answer", v.Simulator)
		}
		if !r.sentOp("ListGroupsForUser") || !r.sentOp("ListGroupPolicies") {
			t.Errorf("operations %v, want the user's groups and their policies listed", r.ops)
		}
		return v
	}

	t.Run("allowed", func(t *testing.T) {
		v := check(t, awstest.SimAllowed, "Worker", exitAllowed, "allowed")
		if want := "arn:aws:iam::" + awstest.Account + ":user/" + user; v.Request.Caller != want {
			t.Errorf("caller %s, want %s", v.Request.Caller, want)
		}
		if res, _ := v.layer(t, "identity"); res != "allows" {
			t.Errorf("identity layer %s, want allows", res)
		}
		if !slices.Contains(v.matched("identity"), "group/"+group+"/"+policy) {
			t.Errorf("identity statements matched %v, want the group's inline policy group/%s/%s", v.matched("identity"), group, policy)
		}
	})
	t.Run("another function", func(t *testing.T) {
		v := check(t, awstest.SimImplicitDeny, "OtherWorker", exitDenied, "implicitDeny")
		if !slices.Equal(v.BlockedBy, []string{"identity"}) {
			t.Errorf("blocked by %v, want [identity]", v.BlockedBy)
		}
	})
	t.Run("group policy removed", func(t *testing.T) {
		_, err := b.IAM.DeleteGroupPolicy(context.Background(), &iam.DeleteGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String(policy)})
		if err != nil {
			t.Fatalf("scenario setup: deleting the group policy: %v", err)
		}
		v := check(t, awstest.SimImplicitDeny, "Worker", exitDenied, "implicitDeny")
		if !slices.Equal(v.BlockedBy, []string{"identity"}) {
			t.Errorf("blocked by %v, want [identity]", v.BlockedBy)
		}
		// Without the simulator, the local engine alone says the same.
		r := w.cli(t, "-o", "json", "--no-simulate", "user/"+user, "Worker")
		wantExit(t, r, exitDenied)
		if v := decode(t, r); !slices.Equal(v.BlockedBy, []string{"identity"}) {
			t.Errorf("without the simulator: blocked by %v, want [identity]", v.BlockedBy)
		}
	})
}

// testNoResourcePolicy uses AWS_ENDPOINT_URL instead of --endpoint-url.
func (w *world) testNoResourcePolicy(t *testing.T) {
	p := w.plain
	w.proxy.Answer(awstest.SimAllowed)
	t.Setenv("AWS_ENDPOINT_URL", w.proxy.URL)
	forwarded := len(w.proxy.Forwarded())

	r := runLive(t, "-o", "json", "--region", awstest.Region, "role/"+p.Role, p.Function)
	wantExit(t, r, exitAllowed)
	v := decode(t, r)
	// A role given as the caller is diagnosed as a session of it, as real
	// calls are made.
	session := "arn:aws:sts::" + awstest.Account + ":assumed-role/" + p.Role + "/why-denied"
	if v.Decision != "allowed" || v.Request.Caller != session {
		t.Errorf("decision %s for caller %s, want allowed for %s", v.Decision, v.Request.Caller, session)
	}
	if res, _ := v.layer(t, "identity"); res != "allows" {
		t.Errorf("identity layer %s, want allows: the role's inline policy decides", res)
	}
	if res, _ := v.layer(t, "resource"); res == "allows" {
		t.Errorf("resource layer %s, but the function has no resource policy", res)
	}
	if !slices.Contains(v.findingKinds(), "resourcePolicyNotNeeded") {
		t.Errorf("findings %v, want resourcePolicyNotNeeded", v.findingKinds())
	}
	if !r.sentOp("GetPolicy") {
		t.Errorf("operations %v, want the function's resource policy looked up", r.ops)
	}
	if len(w.proxy.Forwarded()) == forwarded {
		t.Error("no request reached the proxy: AWS_ENDPOINT_URL was not used")
	}
}

func (w *world) testUnknownFunction(t *testing.T) {
	r := w.cli(t, w.sam.RequestFunction, "NoSuchFunction")
	wantExit(t, r, exitBadInput)
	wantOneErrorLine(t, r, "NoSuchFunction", "not found")
}

func (w *world) testNoCredentials(t *testing.T) {
	awstest.NoCredentials(t)
	r := w.cli(t, w.sam.RequestFunction, w.sam.ProcessorFunction)
	wantExit(t, r, exitIncomplete)
	wantOneErrorLine(t, r, "credentials")
	if len(r.ops) != 0 {
		t.Errorf("operations %v sent without credentials", r.ops)
	}
}

func (w *world) testSimulatorRefused(t *testing.T) {
	w.proxy.Answer(awstest.SimAccessDenied)
	before := w.simulations()
	r := w.cli(t, "-o", "json", w.sam.RequestFunction, w.sam.ProcessorFunction+":live")
	wantExit(t, r, exitDenied)
	v := decode(t, r)
	if w.simulations() != before+1 {
		t.Errorf("%d simulator requests, want 1 (refused)", w.simulations()-before)
	}
	if v.Decision != "implicitDeny" || !slices.Equal(v.BlockedBy, []string{"identity"}) {
		t.Errorf("decision %s blocked by %v, want implicitDeny blocked by [identity] from the local engine", v.Decision, v.BlockedBy)
	}
	if v.Simulator.Used || !strings.Contains(v.Simulator.Note, "simulator refused") {
		t.Errorf("simulator %+v, want not used with a note saying it refused", v.Simulator)
	}
	for _, l := range v.Layers {
		if l.Source != "local" {
			t.Errorf("layer %s answered by %q, want local: the simulator refused", l.Layer, l.Source)
		}
	}
	if r.stderr != "" {
		t.Errorf("stderr %q: a refused simulator is noted in the verdict, not an error", r.stderr)
	}
}

// testSnapshot: the evidence saved from a live run gives the same output
// and exit code offline, without credentials.
func (w *world) testSnapshot(t *testing.T) {
	w.proxy.Answer(awstest.SimImplicitDeny)
	dir := t.TempDir()
	for _, tt := range []struct {
		name   string
		args   []string
		output []string
		code   int
	}{
		{"denied table", []string{w.sam.RequestFunction, w.sam.ProcessorFunction + ":live"}, nil, exitDenied},
		{"denied json", []string{w.sam.RequestFunction, w.sam.ProcessorFunction + ":live"}, []string{"-o", "json"}, exitDenied},
		{"allowed service principal", []string{"s3.amazonaws.com", w.s3.Function, "--source-arn", w.s3.BucketARN, "--source-account", awstest.Account}, nil, exitAllowed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".json")
			live := w.cli(t, append(append([]string{"--snapshot", path}, tt.output...), tt.args...)...)
			wantExit(t, live, tt.code)
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("no evidence file written: %v", err)
			}

			awstest.NoCredentials(t)
			offline := runOffline(t, append([]string{"--from-snapshot", path}, tt.output...)...)
			if offline.code != live.code || offline.stdout != live.stdout || offline.stderr != live.stderr {
				t.Errorf("offline run differs from the live run\nlive: %s\noffline: %s", live, offline)
			}
		})
	}
}

func (w *world) testNoSimulate(t *testing.T) {
	w.proxy.Answer(awstest.SimAllowed)
	before := w.simulations()
	r := w.cli(t, "-o", "json", "--no-simulate", w.sam.RequestFunction, w.sam.ProcessorFunction)
	wantExit(t, r, exitAllowed)
	v := decode(t, r)
	if n := w.simulations() - before; n != 0 {
		t.Errorf("%d simulator requests with --no-simulate", n)
	}
	if r.sentOp("SimulatePrincipalPolicy") {
		t.Errorf("operations %v include the simulator", r.ops)
	}
	if v.Simulator.Used || !strings.Contains(v.Simulator.Note, "--no-simulate") {
		t.Errorf("simulator %+v, want not used, saying --no-simulate", v.Simulator)
	}
	if res, src := v.layer(t, "identity"); res != "allows" || src != "local" {
		t.Errorf("identity layer %s from %s, want allows from the local engine", res, src)
	}
}
