package awsclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/internal/awstest"
)

// sent records every operation that any client under test sends during the
// whole test run; TestMain fails the run if one is not a read.
var sent awstest.Recorder

func TestMain(m *testing.M) {
	code := m.Run()
	if bad := sent.NotReadOnly(); len(bad) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: awsclient sent operations outside the read-only allowlist (Get*, List*, Describe*, Simulate*): %v\n", bad)
		code = 1
	}
	if missing, err := notInReadmePolicy(sent.Operations()); err != nil || len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the README's minimal policy (\"The permissions the tool needs\") lacks operations awsclient sent: %v %v\n", missing, err)
		code = 1
	}
	os.Exit(code)
}

// notInReadmePolicy returns the operations sent that the README's minimal
// policy does not grant: a user who copies it must be able to run the tool
// (sts:GetCallerIdentity needs no permission).
func notInReadmePolicy(ops []awstest.Operation) ([]string, error) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		return nil, err
	}
	text := string(readme)
	start := strings.Index(text, "```json\n{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"WhyDeniedReadOnly\"")
	if start < 0 {
		return nil, errors.New("no WhyDeniedReadOnly policy block")
	}
	block := text[start+len("```json\n"):]
	block = block[:strings.Index(block, "```")]
	var doc struct{ Statement []struct{ Action []string } }
	if err := json.Unmarshal([]byte(block), &doc); err != nil {
		return nil, err
	}
	// The organization's reads are a statement of their own, for the
	// account that reads the organization.
	var granted []string
	for _, st := range doc.Statement {
		granted = append(granted, st.Action...)
	}
	var missing []string
	for _, op := range ops {
		action := strings.ToLower(op.Service) + ":" + op.Name
		if action != "sts:GetCallerIdentity" && !slices.Contains(granted, action) && !slices.Contains(missing, action) {
			missing = append(missing, action)
		}
	}
	return missing, nil
}

// tee records into the package-wide recorder and a test's own.
type tee struct{ local *awstest.Recorder }

func (t tee) RecordOperation(service, operation string) {
	sent.RecordOperation(service, operation)
	if t.local != nil {
		t.local.RecordOperation(service, operation)
	}
}

// newClient builds the client under test the way the command will: through
// New, with the endpoint URL; every operation is recorded.
func newClient(t *testing.T, endpoint string, opts awsclient.Options, local *awstest.Recorder) *awsclient.Client {
	t.Helper()
	opts.EndpointURL = endpoint
	opts.Recorder = tee{local}
	opts.Timeout = 30 * time.Second
	c, err := awsclient.New(context.Background(), opts)
	if err != nil {
		t.Fatalf("awsclient.New: %v", err)
	}
	return c
}

// world is one moto with every scenario in it: starting moto takes about a
// second, building a scenario a few milliseconds.
type world struct {
	proxy  *awstest.SimulatorProxy
	b      *awstest.Builder
	sam    awstest.SAM
	s3     awstest.S3Trigger
	user   userScenario
	client *awsclient.Client
}

type userScenario struct {
	Name, ARN, SharedPolicy string
}

func TestEndToEnd(t *testing.T) {
	awstest.FakeCredentials(t)
	moto := awstest.StartMoto(t)
	w := &world{proxy: awstest.StartSimulatorProxy(t, moto.URL), b: awstest.NewBuilder(t, moto.URL)}
	w.sam = w.b.SAM("")
	w.s3 = w.b.S3Trigger("")
	w.user = buildUser(w.b, w.sam)
	w.client = newClient(t, w.proxy.URL, awsclient.Options{}, nil)

	t.Run("SAM case, unqualified target", w.testSAMUnqualified)
	t.Run("SAM case, alias target", w.testSAMAlias)
	t.Run("resolve caller forms", w.testResolveCaller)
	t.Run("resolve target forms", w.testResolveTarget)
	t.Run("S3 service principal", w.testS3)
	t.Run("user caller with groups", w.testUser)
	t.Run("role with boundary and tags, no resource policy", w.testBoundedRole)
	t.Run("function URL", w.testFunctionURL)
	t.Run("not found", w.testNotFound)
	t.Run("bad input", w.testBadInput)
	t.Run("simulator answers for a role", w.testSimulateRole)
	t.Run("simulator refused", w.testSimulatorRefused)
	t.Run("simulator unavailable", func(t *testing.T) { w.testSimulatorUnavailable(t, moto) })
	t.Run("cross account with two profiles", w.testCrossAccount)
}

// buildUser creates a user with an inline policy, a managed policy, and
// two groups that share one managed policy. (Moto cannot give users a
// permissions boundary; the role scenario has one.)
func buildUser(b *awstest.Builder, sam awstest.SAM) userScenario {
	u := userScenario{Name: "dev-alice"}
	u.ARN = b.User(u.Name, "/developers/")
	b.UserPolicy(u.Name, "SelfService", awstest.Allow("lambda:GetFunction", "*"))
	readLogs := b.ManagedPolicy("ReadLogs", awstest.Allow("logs:GetLogEvents", "*"))
	b.AttachUserPolicy(u.Name, readLogs)
	b.Group("developers", u.Name)
	b.GroupPolicy("developers", "InvokeDev", awstest.Allow("lambda:InvokeFunction", sam.ProcessorFunctionARN+":*"))
	u.SharedPolicy = b.ManagedPolicy("LambdaInvoke", awstest.Allow("lambda:InvokeFunction", "*"))
	b.AttachGroupPolicy("developers", u.SharedPolicy)
	b.Group("oncall", u.Name)
	b.AttachGroupPolicy("oncall", u.SharedPolicy)
	return u
}

func (w *world) fetch(t *testing.T, caller, target string) *evidence.Evidence {
	t.Helper()
	ev, err := w.client.FetchEvidence(context.Background(), awsclient.Request{Caller: caller, Target: target})
	if err != nil {
		t.Fatalf("FetchEvidence(%s, %s): %v", caller, target, err)
	}
	return roundTrip(t, ev)
}

// roundTrip writes the evidence as an evidence file and reads it back, as
// --snapshot and --from-snapshot will: what awsclient fills must be a valid
// file.
func roundTrip(t *testing.T, ev *evidence.Evidence) *evidence.Evidence {
	t.Helper()
	var buf bytes.Buffer
	if err := evidence.Write(&buf, ev); err != nil {
		t.Fatalf("WriteEvidence: %v", err)
	}
	back, err := evidence.Read(&buf)
	if err != nil {
		t.Fatalf("ReadEvidence of what FetchEvidence returned: %v\n%s", err, buf.String())
	}
	return back
}

func (w *world) testSAMUnqualified(t *testing.T) {
	sam := w.sam
	ev := w.fetch(t, sam.RequestFunction, sam.ProcessorFunction)

	if want := "arn:aws:sts::" + awstest.Account + ":assumed-role/RequestRole/RequestFunction"; ev.Request.Caller != want {
		t.Errorf("request caller %s, want the function's role session %s", ev.Request.Caller, want)
	}
	if ev.Request.Action != "lambda:InvokeFunction" || ev.Request.Resource != sam.ProcessorFunctionARN {
		t.Errorf("request %s on %s, want lambda:InvokeFunction on %s", ev.Request.Action, ev.Request.Resource, sam.ProcessorFunctionARN)
	}
	if ev.Caller.ARN != sam.RequestRoleARN || !strings.Contains(ev.Caller.ARN, ":role/service-role/") || ev.Caller.Account != awstest.Account {
		t.Errorf("caller entity %s in %s, want %s", ev.Caller.ARN, ev.Caller.Account, sam.RequestRoleARN)
	}
	if len(ev.Caller.IdentityPolicies) != 1 {
		t.Fatalf("identity policies %+v, want the one inline policy", ev.Caller.IdentityPolicies)
	}
	p := ev.Caller.IdentityPolicies[0]
	if p.Name != sam.RequestPolicy || p.ARN != "" {
		t.Errorf("identity policy %s (%s), want inline %s", p.Name, p.ARN, sam.RequestPolicy)
	}
	assertSameJSON(t, p.Document, sam.RequestPolicyDoc)
	if ev.Caller.PermissionsBoundary != nil || len(ev.Caller.SessionPolicies) != 0 || ev.Caller.ServiceLinkedRole {
		t.Errorf("caller has unexpected boundary/session policies/service-linked flag: %+v", ev.Caller)
	}
	if ev.Target.ARN != sam.ProcessorFunctionARN || ev.Target.Account != awstest.Account {
		t.Errorf("target %s in %s, want %s", ev.Target.ARN, ev.Target.Account, sam.ProcessorFunctionARN)
	}
	if ev.Target.ResourcePolicy == nil {
		t.Fatal("target has no resource policy; the SAM permission is missing")
	}
	st := findStatement(t, ev.Target.ResourcePolicy.Document, "RequestFunctionInvoke")
	if got := fmt.Sprint(st["Principal"]); got != "map[Service:lambda.amazonaws.com]" {
		t.Errorf("permission principal %s, want the lambda.amazonaws.com service principal", got)
	}
	if !strings.Contains(mustJSON(t, st["Condition"]), sam.RequestFunctionARN) {
		t.Errorf("permission condition %v does not name RequestFunction's ARN", st["Condition"])
	}
	if ev.Simulation != nil {
		t.Errorf("FetchEvidence without Simulate must leave simulation to others: %+v", ev.Simulation)
	}
	// moto's default account is in no organization: DescribeOrganization
	// says so, and the function's account (the same) is in none either.
	if o := ev.Organization; o == nil || !o.None || o.SCPs != nil || !ev.Target.NoOrganization {
		t.Errorf("organization = %+v, target %+v; want none", o, ev.Target)
	}
}

func (w *world) testSAMAlias(t *testing.T) {
	sam := w.sam
	before := len(w.proxy.Forwarded())
	ev := w.fetch(t, sam.RequestFunction, sam.ProcessorFunction+":live")

	if ev.Request.Resource != sam.ProcessorAliasARN {
		t.Errorf("resource %s, want the alias ARN %s: the qualifier is part of the evaluated resource", ev.Request.Resource, sam.ProcessorAliasARN)
	}
	if ev.Target.ARN != sam.ProcessorFunctionARN {
		t.Errorf("target ARN %s, want the unqualified %s", ev.Target.ARN, sam.ProcessorFunctionARN)
	}
	// Lambda keeps one resource policy per qualifier, so GetPolicy must ask
	// for the alias's. (Moto ignores the qualifier and returns one policy
	// for all; the evidence keeps whatever the API returned.)
	sentReqs := strings.Join(w.proxy.Forwarded()[before:], "\n")
	for _, want := range []string{"/functions/" + sam.ProcessorFunction + "/policy?Qualifier=live", "/functions/" + sam.ProcessorFunction + "/configuration?Qualifier=live"} {
		if !strings.Contains(sentReqs, want) {
			t.Errorf("no request for %s among:\n%s", want, sentReqs)
		}
	}
	out, err := w.b.Lambda.GetPolicy(context.Background(), &lambda.GetPolicyInput{FunctionName: &sam.ProcessorFunction, Qualifier: aws.String("live")})
	if err != nil {
		t.Fatalf("reading the alias policy directly: %v", err)
	}
	if ev.Target.ResourcePolicy == nil {
		t.Fatal("no resource policy for the alias, but GetPolicy returns one")
	}
	assertSameJSON(t, ev.Target.ResourcePolicy.Document, *out.Policy)
}

func (w *world) testResolveCaller(t *testing.T) {
	sam, u := w.sam, w.user
	session := "arn:aws:sts::" + awstest.Account + ":assumed-role/RequestRole/RequestFunction"
	roleSession := "arn:aws:sts::" + awstest.Account + ":assumed-role/RequestRole/" + awsclient.SessionName
	tests := []struct {
		in   string
		want awsclient.Caller
	}{
		{sam.RequestFunction, awsclient.Caller{Kind: awsclient.FunctionCaller, Principal: session, ARN: sam.RequestRoleARN, Name: "RequestRole", Account: awstest.Account, Function: sam.RequestFunctionARN}},
		{sam.RequestFunctionARN, awsclient.Caller{Kind: awsclient.FunctionCaller, Principal: session, ARN: sam.RequestRoleARN, Name: "RequestRole", Account: awstest.Account, Function: sam.RequestFunctionARN}},
		{"role/RequestRole", awsclient.Caller{Kind: awsclient.RoleCaller, Principal: roleSession, ARN: sam.RequestRoleARN, Name: "RequestRole", Account: awstest.Account, AsSessionOf: sam.RequestRoleARN}},
		{sam.RequestRoleARN, awsclient.Caller{Kind: awsclient.RoleCaller, Principal: roleSession, ARN: sam.RequestRoleARN, Name: "RequestRole", Account: awstest.Account, AsSessionOf: sam.RequestRoleARN}},
		{session, awsclient.Caller{Kind: awsclient.SessionCaller, Principal: session, ARN: sam.RequestRoleARN, Name: "RequestRole", Account: awstest.Account}},
		{"user/" + u.Name, awsclient.Caller{Kind: awsclient.UserCaller, Principal: u.ARN, ARN: u.ARN, Name: u.Name, Account: awstest.Account}},
		{u.ARN, awsclient.Caller{Kind: awsclient.UserCaller, Principal: u.ARN, ARN: u.ARN, Name: u.Name, Account: awstest.Account}},
		{"s3.amazonaws.com", awsclient.Caller{Kind: awsclient.ServiceCaller, Principal: "s3.amazonaws.com", Name: "s3.amazonaws.com"}},
		{"arn:aws:sts::" + awstest.Account + ":federated-user/bob", awsclient.Caller{Kind: awsclient.FederatedCaller, Principal: "arn:aws:sts::" + awstest.Account + ":federated-user/bob", Name: "bob", Account: awstest.Account}},
		{"anonymous", awsclient.Caller{Kind: awsclient.AnonymousCaller, Principal: "anonymous", Name: "anonymous"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := w.client.ResolveCaller(context.Background(), tt.in)
			if err != nil {
				t.Fatalf("ResolveCaller: %v", err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func (w *world) testResolveTarget(t *testing.T) {
	sam := w.sam
	name := sam.ProcessorFunction
	tests := []struct{ in, qualifier string }{
		{name, ""},
		{name + ":live", "live"},
		{name + ":" + sam.ProcessorVersion, sam.ProcessorVersion},
		{name + ":$LATEST", "$LATEST"},
		{"function:" + name, ""},
		{awstest.Account + ":function:" + name + ":live", "live"},
		{sam.ProcessorFunctionARN, ""},
		{sam.ProcessorAliasARN, "live"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := w.client.ResolveTarget(context.Background(), tt.in)
			if err != nil {
				t.Fatalf("ResolveTarget: %v", err)
			}
			want := awsclient.Target{FunctionARN: sam.ProcessorFunctionARN, Name: name, Qualifier: tt.qualifier, Account: awstest.Account, Region: awstest.Region}
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			wantResource := sam.ProcessorFunctionARN
			if tt.qualifier != "" {
				wantResource += ":" + tt.qualifier
			}
			if got.ResourceARN() != wantResource {
				t.Errorf("ResourceARN() = %s, want %s", got.ResourceARN(), wantResource)
			}
		})
	}
}

func (w *world) testS3(t *testing.T) {
	s3 := w.s3
	ctxValues := evidence.ContextValues{"aws:SourceArn": {s3.BucketARN}, "aws:SourceAccount": {awstest.Account}}
	ev, err := w.client.FetchEvidence(context.Background(), awsclient.Request{Caller: "s3.amazonaws.com", Target: s3.Function, Context: ctxValues})
	if err != nil {
		t.Fatalf("FetchEvidence: %v", err)
	}
	ev = roundTrip(t, ev)
	if ev.Request.Caller != "s3.amazonaws.com" || ev.Caller.ARN != "" || ev.Caller.Account != "" || len(ev.Caller.IdentityPolicies) != 0 {
		t.Errorf("a service principal has no IAM entity: request caller %q, caller %+v", ev.Request.Caller, ev.Caller)
	}
	if !reflect.DeepEqual(ev.Request.Context, ctxValues) {
		t.Errorf("context %v, want %v as given", ev.Request.Context, ctxValues)
	}
	if ev.Request.Resource != s3.FunctionARN || ev.Target.ResourcePolicy == nil {
		t.Fatalf("resource %s, policy %v", ev.Request.Resource, ev.Target.ResourcePolicy)
	}
	st := findStatement(t, ev.Target.ResourcePolicy.Document, "S3Invoke")
	cond := mustJSON(t, st["Condition"])
	if !strings.Contains(cond, s3.BucketARN) || !strings.Contains(cond, awstest.Account) {
		t.Errorf("S3 permission condition %s lacks SourceArn or SourceAccount", cond)
	}

	before := len(w.proxy.Simulations())
	_, err = w.client.Simulate(context.Background(), ev)
	var se *awsclient.SimulatorError
	if !errors.As(err, &se) || se.Refused {
		t.Fatalf("Simulate for a service principal = %v, want an unavailable *SimulatorError", err)
	}
	if len(w.proxy.Simulations()) != before {
		t.Error("Simulate called the simulator for a service principal, which has no policies to simulate")
	}
}

func (w *world) testUser(t *testing.T) {
	u, sam := w.user, w.sam
	var ops awstest.Recorder
	client := newClient(t, w.proxy.URL, awsclient.Options{}, &ops)
	ev, err := client.FetchEvidence(context.Background(), awsclient.Request{
		Caller: "user/" + u.Name, Target: sam.ProcessorFunction + ":live",
		Context: evidence.ContextValues{"aws:PrincipalTag/team": {"a", "b"}},
	})
	if err != nil {
		t.Fatalf("FetchEvidence: %v", err)
	}
	ev = roundTrip(t, ev)
	if ev.Request.Caller != u.ARN || ev.Caller.ARN != u.ARN || !strings.Contains(u.ARN, ":user/developers/") {
		t.Errorf("caller %s / %s, want the user ARN with its path %s", ev.Request.Caller, ev.Caller.ARN, u.ARN)
	}
	var got []string
	for _, p := range ev.Caller.IdentityPolicies {
		got = append(got, p.Name+" "+p.ARN)
	}
	slices.Sort(got) // IAM's listing order is not moto's to promise
	want := []string{
		"ReadLogs arn:aws:iam::" + awstest.Account + ":policy/ReadLogs",
		"SelfService ",
		"group/developers/InvokeDev ",
		"group/developers/LambdaInvoke " + u.SharedPolicy,
		"group/oncall/LambdaInvoke " + u.SharedPolicy,
	}
	if !slices.Equal(got, want) {
		t.Errorf("identity policies:\n got %q\nwant %q", got, want)
	}
	if ev.Caller.PermissionsBoundary != nil {
		t.Errorf("boundary %+v, want none", ev.Caller.PermissionsBoundary)
	}
	// A managed policy attached to two groups is read once, at the default
	// version iam:ListPolicies named.
	counts := map[string]int{}
	for _, op := range ops.Operations() {
		counts[op.String()]++
	}
	if counts["IAM.GetPolicyVersion"] != 2 || counts["IAM.GetPolicy"] != 0 || counts["IAM.ListPolicies"] != 1 {
		t.Errorf("iam:ListPolicies×%d, iam:GetPolicy×%d, iam:GetPolicyVersion×%d; want 1, 0, 2 (ReadLogs, LambdaInvoke)",
			counts["IAM.ListPolicies"], counts["IAM.GetPolicy"], counts["IAM.GetPolicyVersion"])
	}

	// The simulator gets the user as both source and caller, and the
	// function's resource policy: only for IAM users can it include one.
	w.proxy.Answer(awstest.SimAllowed)
	sim, err := client.Simulate(context.Background(), ev)
	if err != nil {
		t.Fatalf("Simulate: %v", err)
	}
	if sim.Decision != "allowed" || !sim.IncludedResourcePolicy {
		t.Errorf("simulation %+v, want allowed with the resource policy included", sim)
	}
	form := lastSimulation(t, w.proxy)
	for key, want := range map[string]string{
		"PolicySourceArn":       u.ARN,
		"CallerArn":             u.ARN,
		"ActionNames.member.1":  "lambda:InvokeFunction",
		"ResourceArns.member.1": sam.ProcessorAliasARN,
	} {
		if got := form.Get(key); got != want {
			t.Errorf("simulator request %s = %q, want %q", key, got, want)
		}
	}
	if e := simulatorContext(form)["aws:PrincipalTag/team"]; e.typ != "stringList" || !slices.Equal(e.values, []string{"a", "b"}) {
		t.Errorf("simulator context aws:PrincipalTag/team = %+v, want the stringList [a b] of --context", e)
	}
	assertSameJSON(t, json.RawMessage(form.Get("ResourcePolicy")), string(ev.Target.ResourcePolicy.Document))
}

// testBoundedRole reads a role with a boundary, tags and a managed policy,
// calling a function that has no resource policy.
func (w *world) testBoundedRole(t *testing.T) {
	b := w.b
	roleARN := b.Role("BoundedRole", "/")
	boundary := b.ManagedPolicy("DeveloperBoundary", awstest.Allow("lambda:*", "*"))
	b.RoleBoundary("BoundedRole", boundary)
	b.AttachRolePolicy("BoundedRole", w.user.SharedPolicy)
	b.TagRole("BoundedRole", "team", "payments")

	ev := w.fetch(t, "role/BoundedRole", w.sam.RequestFunction)
	if session := "arn:aws:sts::" + awstest.Account + ":assumed-role/BoundedRole/why-denied"; ev.Request.Caller != session || ev.Caller.ARN != roleARN {
		t.Errorf("request caller %s, entity %s; want a session of the role %s", ev.Request.Caller, ev.Caller.ARN, roleARN)
	}
	if bp := ev.Caller.PermissionsBoundary; bp == nil || bp.ARN != boundary || bp.Name != "DeveloperBoundary" {
		t.Errorf("boundary %+v, want %s", bp, boundary)
	} else {
		assertSameJSON(t, bp.Document, awstest.Allow("lambda:*", "*"))
	}
	if len(ev.Caller.IdentityPolicies) != 1 || ev.Caller.IdentityPolicies[0].ARN != w.user.SharedPolicy {
		t.Errorf("identity policies %+v, want the attached %s", ev.Caller.IdentityPolicies, w.user.SharedPolicy)
	}
	if !reflect.DeepEqual(ev.Caller.Tags, map[string]string{"team": "payments"}) {
		t.Errorf("tags %v, want team=payments", ev.Caller.Tags)
	}
	if ev.Target.ResourcePolicy != nil {
		t.Errorf("resource policy %s, want none: RequestFunction has no permissions (GetPolicy answers 404)", ev.Target.ResourcePolicy.Document)
	}
}

// testFunctionURL: the URL's auth type is read only for
// lambda:InvokeFunctionUrl, the one action it matters to.
func (w *world) testFunctionURL(t *testing.T) {
	fn := w.s3.Function
	w.b.FunctionURL(fn, lambdatypes.FunctionUrlAuthTypeAwsIam)
	var ops awstest.Recorder
	client := newClient(t, w.proxy.URL, awsclient.Options{}, &ops)
	for _, tt := range []struct{ action, auth string }{
		{"lambda:InvokeFunctionUrl", "AWS_IAM"},
		{"lambda:InvokeFunction", ""},
	} {
		ev, err := client.FetchEvidence(context.Background(), awsclient.Request{Caller: "role/RequestRole", Target: fn, Action: tt.action})
		if err != nil {
			t.Fatalf("FetchEvidence(%s): %v", tt.action, err)
		}
		if ev.Request.Action != tt.action || ev.Target.FunctionURLAuthType != tt.auth {
			t.Errorf("%s: action %s, URL auth type %q; want %q", tt.action, ev.Request.Action, ev.Target.FunctionURLAuthType, tt.auth)
		}
	}
	n := 0
	for _, op := range ops.Operations() {
		if op.Name == "GetFunctionUrlConfig" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("GetFunctionUrlConfig sent %d times, want once (for InvokeFunctionUrl only)", n)
	}
}

func (w *world) testNotFound(t *testing.T) {
	tests := []struct{ caller, target, kind, name string }{
		{w.sam.RequestFunction, "NoSuchFunction", "function", "NoSuchFunction"},
		{w.sam.RequestFunction, w.sam.ProcessorFunction + ":nope", "function", w.sam.ProcessorFunction + ":nope"},
		{"NoSuchCaller", w.sam.ProcessorFunction, "function", "NoSuchCaller"},
		{"role/NoSuchRole", w.sam.ProcessorFunction, "role", "NoSuchRole"},
		{"arn:aws:sts::" + awstest.Account + ":assumed-role/NoSuchRole/s", w.sam.ProcessorFunction, "role", "NoSuchRole"},
		{"user/nobody", w.sam.ProcessorFunction, "user", "nobody"},
	}
	for _, tt := range tests {
		t.Run(tt.caller+" "+tt.target, func(t *testing.T) {
			_, err := w.client.FetchEvidence(context.Background(), awsclient.Request{Caller: tt.caller, Target: tt.target})
			var nf *awsclient.NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("FetchEvidence = %v (%T), want *NotFoundError", err, err)
			}
			if nf.Kind != tt.kind || nf.Name != tt.name {
				t.Errorf("not found: %s %s, want %s %s (%v)", nf.Kind, nf.Name, tt.kind, tt.name, err)
			}
		})
	}
}

func (w *world) testBadInput(t *testing.T) {
	tests := []struct{ caller, target, arg, mention string }{
		{"arn:aws:s3:::bucket", w.sam.ProcessorFunction, "caller", "not a caller"},
		{w.sam.RequestFunction, "arn:aws:lambda:us-east-1:" + awstest.Account + ":layer:x", "target", "function"},
		{w.sam.RequestFunction, "bad name!", "target", "invalid function name"},
		// The caller's account differs from the credentials' account: GetRole
		// would read another account's role of the same name.
		{"arn:aws:iam::222222222222:role/service-role/RequestRole", w.sam.ProcessorFunction, "caller", "222222222222"},
	}
	for _, tt := range tests {
		t.Run(tt.caller+" "+tt.target, func(t *testing.T) {
			_, err := w.client.FetchEvidence(context.Background(), awsclient.Request{Caller: tt.caller, Target: tt.target})
			var ie *awsclient.InputError
			if !errors.As(err, &ie) || ie.Arg != tt.arg || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("FetchEvidence = %v (%T), want *InputError for %s mentioning %q", err, err, tt.arg, tt.mention)
			}
		})
	}
}

func (w *world) testSimulateRole(t *testing.T) {
	ev := w.fetch(t, w.sam.RequestFunction, w.sam.ProcessorFunction+":live")
	ev.Request.Context = evidence.ContextValues{"aws:SourceIp": {"203.0.113.7"}}
	tests := []struct {
		fixture awstest.Fixture
		want    evidence.Simulation
	}{
		{awstest.SimAllowed, evidence.Simulation{
			Decision:                     "allowed",
			MatchedStatements:            []evidence.MatchedStatement{{SourcePolicyID: "RequestFunctionRolePolicy0", SourcePolicyType: "role"}},
			AllowedByOrganizations:       aws.Bool(true),
			AllowedByPermissionsBoundary: aws.Bool(true),
			MissingContextValues:         []string{},
		}},
		{awstest.SimImplicitDeny, evidence.Simulation{
			Decision:               "implicitDeny",
			MatchedStatements:      []evidence.MatchedStatement{},
			AllowedByOrganizations: aws.Bool(true),
			// With ResourceArns given, AWS reports missing keys per resource.
			MissingContextValues: []string{"aws:SourceIp"},
		}},
		{awstest.SimExplicitDeny, evidence.Simulation{
			Decision:                     "explicitDeny",
			MatchedStatements:            []evidence.MatchedStatement{{SourcePolicyID: "DenyProductionInvoke", SourcePolicyType: "user-managed"}},
			AllowedByOrganizations:       aws.Bool(true),
			AllowedByPermissionsBoundary: aws.Bool(false),
			MissingContextValues:         []string{},
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.fixture), func(t *testing.T) {
			w.proxy.Answer(tt.fixture)
			sim, err := w.client.Simulate(context.Background(), ev)
			if err != nil {
				t.Fatalf("Simulate: %v", err)
			}
			if !reflect.DeepEqual(*sim, tt.want) {
				t.Errorf("simulation\n got %s\nwant %s", mustJSON(t, sim), mustJSON(t, tt.want))
			}
			form := lastSimulation(t, w.proxy)
			if form.Get("PolicySourceArn") != w.sam.RequestRoleARN || form.Get("ResourceArns.member.1") != w.sam.ProcessorAliasARN {
				t.Errorf("simulated %s on %s, want the role on the alias", form.Get("PolicySourceArn"), form.Get("ResourceArns.member.1"))
			}
			// CallerArn must be a user, and the resource policy is only
			// simulated with one: neither is sent for a role.
			if form.Has("CallerArn") || form.Has("ResourcePolicy") {
				t.Errorf("role simulation sent CallerArn=%q ResourcePolicy=%q", form.Get("CallerArn"), form.Get("ResourcePolicy"))
			}
			if e := simulatorContext(form)["aws:SourceIp"]; e.typ != "ip" {
				t.Errorf("aws:SourceIp sent as %q, want type ip", e.typ)
			}
		})
	}
}

func (w *world) testSimulatorRefused(t *testing.T) {
	ev := w.fetch(t, w.sam.RequestFunction, w.sam.ProcessorFunction)
	w.proxy.Answer(awstest.SimAccessDenied)
	_, err := w.client.Simulate(context.Background(), ev)
	var se *awsclient.SimulatorError
	if !errors.As(err, &se) || !se.Refused {
		t.Fatalf("Simulate = %v (%T), want a refused *SimulatorError", err, err)
	}
	if !strings.HasPrefix(err.Error(), "simulator refused: AccessDenied") {
		t.Errorf("message %q should start with \"simulator refused: AccessDenied\"", err)
	}
}

// testSimulatorUnavailable talks to moto directly, which does not implement
// the simulator (HTTP 500): an unavailable, not refused, simulator, reported
// after its few quick retries (a server error backs off from 50ms).
func (w *world) testSimulatorUnavailable(t *testing.T, moto *awstest.Moto) {
	client := newClient(t, moto.URL, awsclient.Options{}, nil)
	ev := w.fetch(t, w.sam.RequestFunction, w.sam.ProcessorFunction)
	start := time.Now()
	_, err := client.Simulate(context.Background(), ev)
	var se *awsclient.SimulatorError
	if !errors.As(err, &se) || se.Refused || !strings.HasPrefix(err.Error(), "simulator unavailable:") {
		t.Fatalf("Simulate = %v (%T), want an unavailable *SimulatorError", err, err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Simulate took %s: the optional simulator must not hold up the verdict", elapsed)
	}
}

// testCrossAccount reads the caller in one account and the target in
// another, each with its own profile.
func (w *world) testCrossAccount(t *testing.T) {
	const prodAccount = "222222222222"
	prod := w.b.InAccount(prodAccount)
	role := prod.Role("ProdProcessorRole", "/")
	fnARN := prod.Function("ProdProcessor", role)
	prod.AddPermission(&lambda.AddPermissionInput{
		FunctionName: aws.String("ProdProcessor"),
		StatementId:  aws.String("DevInvoke"),
		Principal:    aws.String(w.sam.RequestRoleARN),
	})
	awstest.Profiles(t, map[string]aws.Credentials{"dev": w.b.Credentials, "prod": prod.Credentials})

	client := newClient(t, w.proxy.URL, awsclient.Options{CallerProfile: "dev", TargetProfile: "prod"}, nil)
	ev, err := client.FetchEvidence(context.Background(), awsclient.Request{Caller: w.sam.RequestFunctionARN, Target: fnARN})
	if err != nil {
		t.Fatalf("FetchEvidence: %v", err)
	}
	if ev.Caller.Account != awstest.Account || ev.Caller.ARN != w.sam.RequestRoleARN {
		t.Errorf("caller %s in %s, want %s in %s", ev.Caller.ARN, ev.Caller.Account, w.sam.RequestRoleARN, awstest.Account)
	}
	if ev.Target.Account != prodAccount || ev.Target.ARN != fnARN || ev.Target.ResourcePolicy == nil {
		t.Errorf("target %s in %s with policy %v, want %s in %s with the DevInvoke permission", ev.Target.ARN, ev.Target.Account, ev.Target.ResourcePolicy, fnARN, prodAccount)
	}

	// Read with the prod profile alone, the dev caller's ARN names another
	// account than the one the credentials read.
	prodOnly := newClient(t, w.proxy.URL, awsclient.Options{Profile: "prod"}, nil)
	_, err = prodOnly.FetchEvidence(context.Background(), awsclient.Request{Caller: w.sam.RequestFunctionARN, Target: fnARN})
	var ie *awsclient.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "--caller-profile") {
		t.Errorf("FetchEvidence with the wrong account's profile = %v, want an *InputError suggesting --caller-profile", err)
	}

	// A role_arn profile: the SDK calls sts:AssumeRole (not a read) while
	// loading credentials, through its own client, which the guard must not
	// block; and it must go to the endpoint URL too.
	awstest.RoleProfile(t, "prod-admin", "arn:aws:iam::"+prodAccount+":role/OrganizationAccountAccessRole", "dev")
	viaRole := newClient(t, w.proxy.URL, awsclient.Options{CallerProfile: "dev", TargetProfile: "prod-admin"}, nil)
	if got, err := viaRole.ResolveTarget(context.Background(), fnARN); err != nil || got.Account != prodAccount {
		t.Errorf("ResolveTarget through a role_arn profile = %+v, %v; want the function in %s", got, err, prodAccount)
	}

	_, err = awsclient.New(context.Background(), awsclient.Options{Profile: "staging", EndpointURL: w.proxy.URL})
	if !errors.As(err, &ie) || ie.Arg != "profile" {
		t.Errorf("New with an unknown profile = %v, want an *InputError for the profile", err)
	}
}

// TestNoCredentials: with nothing logged in, New fails at once with a
// *CredentialsError instead of every call failing later (or the SDK
// waiting for an instance metadata service).
func TestNoCredentials(t *testing.T) {
	awstest.NoCredentials(t)
	start := time.Now()
	_, err := awsclient.New(context.Background(), awsclient.Options{EndpointURL: "http://127.0.0.1:9", Recorder: tee{}})
	var ce *awsclient.CredentialsError
	if !errors.As(err, &ce) || ce.Side != "caller" {
		t.Fatalf("New without credentials = %v (%T), want *CredentialsError for the caller side", err, err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("New took %s to notice there are no credentials", elapsed)
	}
}

func TestNoRegion(t *testing.T) {
	awstest.FakeCredentials(t)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	_, err := awsclient.New(context.Background(), awsclient.Options{EndpointURL: "http://127.0.0.1:9"})
	var ie *awsclient.InputError
	if !errors.As(err, &ie) || ie.Arg != "region" {
		t.Fatalf("New without a region = %v, want an *InputError for the region", err)
	}
}

func lastSimulation(t *testing.T, p *awstest.SimulatorProxy) url.Values {
	t.Helper()
	sims := p.Simulations()
	if len(sims) == 0 {
		t.Fatal("the simulator was not called")
	}
	return sims[len(sims)-1]
}

func findStatement(t *testing.T, doc json.RawMessage, sid string) map[string]any {
	t.Helper()
	var policy struct {
		Statement []map[string]any
	}
	if err := json.Unmarshal(doc, &policy); err != nil {
		t.Fatalf("resource policy is not a policy: %v\n%s", err, doc)
	}
	for _, st := range policy.Statement {
		if st["Sid"] == sid {
			return st
		}
	}
	t.Fatalf("no statement %s in %s", sid, doc)
	return nil
}

func assertSameJSON(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("document is not JSON (URL-encoded left as is?): %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("document\n got %s\nwant %s", got, want)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
