package awsclient_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/internal/awstest"
	"github.com/why-denied/why-denied/policy"
)

// callerWorld is one moto behind the simulator proxy and a fault proxy,
// for the caller forms and the reads that may be refused.
type callerWorld struct {
	b      *awstest.Builder
	sim    *awstest.SimulatorProxy
	faults *awstest.FaultProxy
	sam    awstest.SAM
	// tagged is a role with a path and a tag; taggedFn runs as it.
	tagged, taggedARN, taggedFn string
	user                        userScenario
}

// TestCallerForms covers the CALLER forms whose evidence is more than a
// role's or a user's policies (issue 9) and reads refused on the way
// (issue 8).
func TestCallerForms(t *testing.T) {
	awstest.FakeCredentials(t)
	moto := awstest.StartMoto(t)
	w := &callerWorld{b: awstest.NewBuilder(t, moto.URL)}
	w.sim = awstest.StartSimulatorProxy(t, moto.URL)
	w.sim.Answer(awstest.SimImplicitDeny)
	w.faults = awstest.StartFaultProxy(t, w.sim.URL)
	w.sam = w.b.SAM("")
	w.tagged, w.taggedFn = "TeamRole", "TeamFunction"
	w.taggedARN = w.b.Role(w.tagged, "/team/")
	w.b.RolePolicy(w.tagged, "ABAC", awstest.Allow("lambda:InvokeFunction", "*"))
	w.b.TagRole(w.tagged, "team", "payments")
	w.b.Function(w.taggedFn, w.taggedARN)
	w.user = buildUser(w.b, w.sam)
	_, err := w.b.IAM.TagUser(context.Background(), &iam.TagUserInput{UserName: &w.user.Name, Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("web")}}})
	if err != nil {
		t.Fatalf("tagging the user: %v", err)
	}

	t.Run("simulator gets the engine's context", w.testSimulatorContext)
	t.Run("role is diagnosed as a session", w.testRoleSession)
	t.Run("federated user session", w.testFederated)
	t.Run("anonymous caller", w.testAnonymous)
	t.Run("deleted execution role", w.testOrphan)
	t.Run("user reads refused", w.testUserReadsRefused)
}

// client reads through the fault proxy; every operation is recorded.
func (w *callerWorld) client(t *testing.T, ops *awstest.Recorder) *awsclient.Client {
	t.Helper()
	w.faults.Clear()
	return newClient(t, w.faults.URL, awsclient.Options{}, ops)
}

// contextEntry is one ContextEntries member of a simulator request.
type contextEntry struct {
	typ    string
	values []string
}

// simulatorContext reads ContextEntries.member.N from a simulator request.
func simulatorContext(form url.Values) map[string]contextEntry {
	out := map[string]contextEntry{}
	for i := 1; ; i++ {
		p := "ContextEntries.member." + strconv.Itoa(i) + "."
		name := form.Get(p + "ContextKeyName")
		if name == "" {
			return out
		}
		e := contextEntry{typ: form.Get(p + "ContextKeyType")}
		for j := 1; form.Has(p + "ContextKeyValues.member." + strconv.Itoa(j)); j++ {
			e.values = append(e.values, form.Get(p+"ContextKeyValues.member."+strconv.Itoa(j)))
		}
		out[name] = e
	}
}

// testSimulatorContext: the simulator evaluates only the context entries
// it is sent; the engine fills the principal's tags and the keys AWS always
// sends. Both must answer the same question (issue 9, item 1).
func (w *callerWorld) testSimulatorContext(t *testing.T) {
	at := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	target := w.sam.ProcessorFunction + ":live"
	userCtx := evidence.ContextValues{"aws:SourceIp": {"203.0.113.7"}}
	for _, tt := range []struct {
		caller, principalARN, tag string
		at                        *time.Time
	}{
		{w.taggedFn, w.taggedARN, "payments", nil},
		{"role/" + w.tagged, w.taggedARN, "payments", &at},
		{"user/" + w.user.Name, w.user.ARN, "web", nil},
	} {
		t.Run(tt.caller, func(t *testing.T) {
			before := len(w.sim.Simulations())
			start := time.Now()
			ev, err := w.client(t, nil).FetchEvidence(context.Background(), awsclient.Request{
				Caller: tt.caller, Target: target, Context: userCtx, At: tt.at, Simulate: true,
			})
			if err != nil {
				t.Fatalf("FetchEvidence: %v", err)
			}
			if ev.Simulation == nil {
				t.Fatalf("no simulation: %s", ev.SimulatorUnavailable)
			}
			sims := w.sim.Simulations()[before:]
			if len(sims) != 1 {
				t.Fatalf("%d simulator requests, want 1", len(sims))
			}
			got := simulatorContext(sims[0])
			want := map[string]contextEntry{
				"aws:PrincipalTag/team": {"string", []string{tt.tag}},
				"aws:PrincipalArn":      {"string", []string{tt.principalARN}},
				"aws:PrincipalAccount":  {"string", []string{awstest.Account}},
				"aws:ResourceAccount":   {"string", []string{awstest.Account}},
				"aws:RequestedRegion":   {"string", []string{awstest.Region}},
				"aws:SecureTransport":   {"boolean", []string{"true"}},
				"aws:SourceIp":          {"ip", []string{"203.0.113.7"}},
			}
			for k, e := range want {
				if g, ok := got[k]; !ok || g.typ != e.typ || !slices.Equal(g.values, e.values) {
					t.Errorf("simulator context %s = %+v (present %v), want %+v", k, g, ok, e)
				}
			}
			// The simulator must see what the engine sees, key for key.
			for k, v := range evidence.RequestContext(ev, ev.Moment(time.Now())) {
				if k == "aws:CurrentTime" || k == "aws:EpochTime" {
					continue
				}
				if g, ok := got[k]; !ok || !slices.Equal(g.values, v) {
					t.Errorf("the engine uses %s=%v, the simulator was sent %+v (present %v)", k, v, g, ok)
				}
			}
			when, err := time.Parse(time.RFC3339, firstValue(got["aws:CurrentTime"]))
			if err != nil || got["aws:CurrentTime"].typ != "date" {
				t.Fatalf("aws:CurrentTime %+v: want a date: %v", got["aws:CurrentTime"], err)
			}
			if tt.at != nil && !when.Equal(*tt.at) {
				t.Errorf("aws:CurrentTime %s, want --at %s", when, tt.at)
			}
			if tt.at == nil && (when.Before(start.Add(-time.Second)) || when.After(time.Now().Add(time.Second))) {
				t.Errorf("aws:CurrentTime %s, want the time of the diagnosis %s", when, start)
			}
			if e := got["aws:EpochTime"]; e.typ != "numeric" || firstValue(e) != strconv.FormatInt(when.Unix(), 10) {
				t.Errorf("aws:EpochTime %+v, want numeric %d", e, when.Unix())
			}
			if tt.at != nil && (ev.Request.At == nil || !ev.Request.At.Equal(at)) {
				t.Errorf("request.at %v, want %s", ev.Request.At, at)
			}
		})
	}
}

func firstValue(e contextEntry) string {
	if len(e.values) == 0 {
		return ""
	}
	return e.values[0]
}

// testRoleSession: real calls come from sessions of a role, and a resource
// policy naming the session's ARN treats it otherwise than one naming the
// role (issue 9, item 3).
func (w *callerWorld) testRoleSession(t *testing.T) {
	session := "arn:aws:sts::" + awstest.Account + ":assumed-role/" + w.tagged + "/why-denied"
	for _, caller := range []string{"role/" + w.tagged, w.taggedARN} {
		t.Run(caller, func(t *testing.T) {
			before := len(w.sim.Simulations())
			ev, err := w.client(t, nil).FetchEvidence(context.Background(), awsclient.Request{Caller: caller, Target: w.sam.ProcessorFunction, Simulate: true})
			if err != nil {
				t.Fatalf("FetchEvidence: %v", err)
			}
			ev = roundTrip(t, ev)
			if ev.Request.Caller != session {
				t.Errorf("request.caller %s, want the session %s", ev.Request.Caller, session)
			}
			if ev.Caller.ARN != w.taggedARN || ev.Caller.AsSessionOf != w.taggedARN {
				t.Errorf("caller.arn %q, caller.asSessionOf %q; want the role ARN with its path %s in both", ev.Caller.ARN, ev.Caller.AsSessionOf, w.taggedARN)
			}
			if ev.Caller.SessionPoliciesUnknown {
				t.Error("the session diagnosed for a role has no session policy: sessionPoliciesUnknown must not be set")
			}
			if sims := w.sim.Simulations()[before:]; len(sims) != 1 || sims[0].Get("PolicySourceArn") != w.taggedARN {
				t.Errorf("simulated %v, want the role %s", sims, w.taggedARN)
			}
		})
	}
}

// testFederated: the IAM user behind a federated user session cannot be
// read back, nor its session policy: the evidence says so instead of
// leaving an empty identity that would read as "no permissions" or "no
// limits" (issue 9, item 4).
func (w *callerWorld) testFederated(t *testing.T) {
	caller := "arn:aws:sts::" + awstest.Account + ":federated-user/bob"
	var ops awstest.Recorder
	ev, err := w.client(t, &ops).FetchEvidence(context.Background(), awsclient.Request{Caller: caller, Target: w.sam.ProcessorFunction, Simulate: true})
	if err != nil {
		t.Fatalf("FetchEvidence: %v", err)
	}
	ev = roundTrip(t, ev)
	if ev.Request.Caller != caller || ev.Caller.ARN != "" || ev.Caller.Account != awstest.Account {
		t.Errorf("request.caller %s, caller.arn %q, account %q; want the session, no ARN, account %s", ev.Request.Caller, ev.Caller.ARN, ev.Caller.Account, awstest.Account)
	}
	if !ev.Caller.SessionPoliciesUnknown {
		t.Error("caller.sessionPoliciesUnknown not set: a federated session's session policy cannot be read back")
	}
	i := slices.IndexFunc(ev.Unreadable, func(u evidence.Unreadable) bool { return u.Layer == policy.LayerIdentity })
	if i < 0 || !strings.Contains(ev.Unreadable[i].What, "IAM user behind federated user bob") {
		t.Errorf("unreadable %+v, want the identity layer: the IAM user behind federated user bob", ev.Unreadable)
	}
	if ev.Simulation != nil || !strings.Contains(ev.SimulatorUnavailable, "federated") {
		t.Errorf("simulation %+v (%q), want none: there is no IAM entity to simulate", ev.Simulation, ev.SimulatorUnavailable)
	}
	for _, op := range ops.Operations() {
		// GetRole reads the target's execution role.
		if op.Service == "IAM" && op.Name != "GetRole" || op.Service == "STS" {
			t.Errorf("sent %s: nothing of a federated caller can be read", op)
		}
	}
}

// testAnonymous: a function URL with auth type NONE is called by anyone;
// only the resource policy decides (issue 9, item 6).
func (w *callerWorld) testAnonymous(t *testing.T) {
	open := "OpenFunction"
	w.b.Function(open, w.b.Role("OpenRole", "/"))
	w.b.FunctionURL(open, lambdatypes.FunctionUrlAuthTypeNone)
	for _, tt := range []struct {
		caller, target string
		auth           string
		noURL          bool
	}{
		{"anonymous", open, "NONE", false},
		{"*", open, "NONE", false},
		{"anonymous", w.sam.ProcessorFunction, "", true},
	} {
		t.Run(tt.caller+" "+tt.target, func(t *testing.T) {
			var ops awstest.Recorder
			ev, err := w.client(t, &ops).FetchEvidence(context.Background(), awsclient.Request{
				Caller: tt.caller, Target: tt.target, Action: "lambda:InvokeFunctionUrl", Simulate: true,
			})
			if err != nil {
				t.Fatalf("FetchEvidence: %v", err)
			}
			ev = roundTrip(t, ev)
			if ev.Request.Caller != "anonymous" || ev.Caller.ARN != "" || len(ev.Caller.IdentityPolicies) != 0 {
				t.Errorf("request.caller %q, caller %+v; want anonymous with no identity", ev.Request.Caller, ev.Caller)
			}
			if ev.Target.FunctionURLAuthType != tt.auth || ev.Target.NoFunctionURL != tt.noURL {
				t.Errorf("function URL auth %q, noFunctionUrl %v; want %q, %v", ev.Target.FunctionURLAuthType, ev.Target.NoFunctionURL, tt.auth, tt.noURL)
			}
			for _, op := range ops.Operations() {
				if op.Service == "IAM" && op.Name != "GetRole" || op.Service == "STS" {
					t.Errorf("sent %s: an anonymous caller has no identity to read", op)
				}
			}
		})
	}
	// NoFunctionURL is about URL calls only.
	ev, err := w.client(t, nil).FetchEvidence(context.Background(), awsclient.Request{Caller: "anonymous", Target: w.sam.ProcessorFunction})
	if err != nil || ev.Target.NoFunctionURL {
		t.Errorf("lambda:InvokeFunction: noFunctionUrl %v, %v; want false", ev != nil && ev.Target.NoFunctionURL, err)
	}
}

// testOrphan: the function's execution role was deleted. As CALLER, the
// message is about the function the user named; as TARGET, the evidence
// says the function cannot run (issue 9, item 7).
func (w *callerWorld) testOrphan(t *testing.T) {
	roleARN := w.b.Role("orphan-exec", "/service-role/")
	w.b.Function("orphan", roleARN)
	if _, err := w.b.IAM.DeleteRole(context.Background(), &iam.DeleteRoleInput{RoleName: aws.String("orphan-exec")}); err != nil {
		t.Fatalf("deleting the role: %v", err)
	}
	_, err := w.client(t, nil).FetchEvidence(context.Background(), awsclient.Request{Caller: "orphan", Target: w.sam.ProcessorFunction})
	var nf *awsclient.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("FetchEvidence = %v (%T), want a *NotFoundError (exit 2)", err, err)
	}
	const want = "function orphan's execution role orphan-exec no longer exists, so the function cannot run or call anything"
	if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "caller role") {
		t.Errorf("error %q, want it to start %q", err, want)
	}

	ev, err := w.client(t, nil).FetchEvidence(context.Background(), awsclient.Request{Caller: "role/" + w.tagged, Target: "orphan"})
	if err != nil {
		t.Fatalf("FetchEvidence with the orphan as target: %v", err)
	}
	if ev = roundTrip(t, ev); ev.Target.MissingExecutionRole != roleARN {
		t.Errorf("target.missingExecutionRole %q, want %s", ev.Target.MissingExecutionRole, roleARN)
	}
	ev, err = w.client(t, nil).FetchEvidence(context.Background(), awsclient.Request{Caller: "role/" + w.tagged, Target: w.sam.ProcessorFunction})
	if err != nil || ev.Target.MissingExecutionRole != "" {
		t.Errorf("a target whose role exists: missingExecutionRole %q, %v", ev.Target.MissingExecutionRole, err)
	}
}

// testUserReadsRefused: a refused list of a user's policies or groups is an
// unreadable layer, as the same refusal on a role's lists is, not a failed
// diagnosis (issue 8, item 7).
func (w *callerWorld) testUserReadsRefused(t *testing.T) {
	for _, op := range []string{"iam:ListUserPolicies", "iam:ListAttachedUserPolicies", "iam:ListGroupsForUser", "iam:GetUser"} {
		t.Run(op, func(t *testing.T) {
			c := w.client(t, nil)
			w.faults.Inject(op, awstest.Fault{Kind: awstest.AccessDenied})
			ev, err := c.FetchEvidence(context.Background(), awsclient.Request{Caller: w.user.ARN, Target: w.sam.ProcessorFunction})
			if err != nil {
				t.Fatalf("FetchEvidence with %s refused = %v, want unreadable evidence", op, err)
			}
			ev = roundTrip(t, ev)
			i := slices.IndexFunc(ev.Unreadable, func(u evidence.Unreadable) bool { return u.Action == op })
			if i < 0 {
				t.Fatalf("unreadable %+v, want an entry needing %s", ev.Unreadable, op)
			}
			if u := ev.Unreadable[i]; !strings.Contains(u.What, w.user.Name) || u.Error != "AccessDenied" {
				t.Errorf("unreadable %+v: want it to name user %s and AWS's AccessDenied", u, w.user.Name)
			}
			if len(ev.Caller.IdentityPolicies) == 0 || ev.Request.Caller != w.user.ARN {
				t.Errorf("caller %s with policies %v: what could be read must still be there", ev.Request.Caller, ev.Caller.IdentityPolicies)
			}
		})
	}
}
