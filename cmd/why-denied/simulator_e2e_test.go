package main

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/why-denied/why-denied/internal/awstest"
)

// simWorld is one moto_server behind the evaluating simulator stand-in,
// behind a fault proxy for refused reads:
//
//	why-denied -> FaultProxy -> SimulatorProxy (evaluating) -> moto
//
// Each scenario starts from an empty moto (Reset) and a proxy without
// faults, SCPs or chosen resource policies.
type simWorld struct {
	moto   *awstest.Moto
	sim    *awstest.SimulatorProxy
	faults *awstest.FaultProxy
	b      *awstest.Builder
	// chosen are the ARNs given a GetResourcePolicy answer, to forget.
	chosen []string
}

// TestSimulatorEndToEnd runs the command against moto through a simulator
// that answers as AWS documents it (issue 9): it evaluates only the context
// entries it is sent and lists the others in MissingContextValues, and it
// reports the permissions boundary and the organization on their own.
func TestSimulatorEndToEnd(t *testing.T) {
	awstest.FakeCredentials(t)
	moto := awstest.StartMoto(t)
	sim := awstest.StartSimulatorProxy(t, moto.URL)
	w := &simWorld{moto: moto, sim: sim, faults: awstest.StartFaultProxy(t, sim.URL), b: awstest.NewBuilder(t, moto.URL)}

	t.Run("item 1: the simulator gets the context the engine uses", w.testContextSent)
	t.Run("item 2: an unreadable boundary that does not allow", w.testUnreadableBoundary)
	t.Run("item 3: role/NAME is diagnosed as a session", w.testRoleAsSession)
	t.Run("item 6: function URLs", w.testFunctionURLs)
	t.Run("item 7: the function's execution role was deleted", w.testOrphanFunction)
	t.Run("item 8: findings agree with the verdict", w.testFindingsAgree)
	t.Run("item 9: request-time keys AWS always sends", w.testRequestTimeKeys)
}

// scenario empties moto and the proxies, and returns the builder.
func (w *simWorld) scenario(t *testing.T) *awstest.Builder {
	t.Helper()
	w.moto.Reset(t)
	w.faults.Clear()
	w.sim.Evaluate()
	w.sim.SCPs(nil)
	for _, arn := range w.chosen {
		w.sim.ResourcePolicy(arn, "")
	}
	w.chosen = nil
	return w.b
}

// fullPolicy gives a function a whole resource-based policy, as
// lambda:GetResourcePolicy returns it (Deny and NotPrincipal included).
func (w *simWorld) fullPolicy(arn, document string) {
	w.sim.ResourcePolicy(arn, document)
	w.chosen = append(w.chosen, arn)
}

// cli runs the command through the proxies.
func (w *simWorld) cli(t *testing.T, args ...string) result {
	t.Helper()
	return runLive(t, append([]string{"--endpoint-url", w.faults.URL, "--region", awstest.Region}, args...)...)
}

// refuse makes the account refuse the operations to the tool (the
// simulator stand-in reads moto directly, as AWS's simulator reads IAM).
func (w *simWorld) refuse(ops ...string) {
	for _, op := range ops {
		w.faults.Inject(op, awstest.Fault{Kind: awstest.AccessDenied})
	}
}

// simVerdict is the part of -o json this file asserts on, decoded
// independently of the Go types that produce it.
type simVerdict struct {
	Decision      string   `json:"decision"`
	BlockedBy     []string `json:"blockedBy"`
	UnknownLayers []string `json:"unknownLayers"`
	DependsOn     []string `json:"dependsOn"`
	Summary       string   `json:"summary"`
	Request       struct {
		Caller  string                     `json:"caller"`
		Action  string                     `json:"action"`
		Context map[string]json.RawMessage `json:"context"`
	} `json:"request"`
	Caller struct {
		Principal string `json:"principal"`
		Kind      string `json:"kind"`
		Entity    string `json:"entity"`
	} `json:"caller"`
	Layers []struct {
		Layer      string `json:"layer"`
		Result     string `json:"result"`
		Blocks     bool   `json:"blocks"`
		Note       string `json:"note"`
		Statements []struct {
			Reasons []string `json:"reasons"`
		} `json:"statements"`
	} `json:"layers"`
	Findings []simFinding `json:"findings"`

	// raw holds the top-level fields as sent, to tell [] from null.
	raw map[string]json.RawMessage
}

type simFinding struct {
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	Layer    string `json:"layer"`
	Message  string `json:"message"`
	Fixes    []struct {
		Description    string `json:"description"`
		Statement      string `json:"statement"`
		CLI            string `json:"cli"`
		CloudFormation string `json:"cloudFormation"`
	} `json:"fixes"`
}

func decodeSim(t *testing.T, r result) simVerdict {
	t.Helper()
	var v simVerdict
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("-o json output is not one JSON object: %v\n%s", err, r)
	}
	if err := json.Unmarshal([]byte(r.stdout), &v.raw); err != nil {
		t.Fatalf("-o json output: %v", err)
	}
	return v
}

// verdict is what a test expects a user to read.
type verdict struct {
	code     int
	decision string
	// first is how the verdict's first line starts (ALLOWED, DENIED,
	// UNKNOWN); layer is a phrase it must hold ("permissions boundary").
	first, layer string
	// blockedBy: nil is not checked; an empty list must be sent as [].
	blockedBy []string
}

// run runs the command with -o json and checks the verdict.
func (w *simWorld) run(t *testing.T, want verdict, args ...string) simVerdict {
	t.Helper()
	r := w.cli(t, append([]string{"-o", "json"}, args...)...)
	if r.code != want.code {
		t.Errorf("exit %d, want %d\n%s", r.code, want.code, r)
	}
	if r.stdout == "" {
		t.Fatalf("no verdict printed\n%s", r)
	}
	v := decodeSim(t, r)
	if v.Decision != want.decision {
		t.Errorf("decision %q, want %q (summary %q)", v.Decision, want.decision, v.Summary)
	}
	if !strings.HasPrefix(v.Summary, want.first) || !strings.Contains(v.Summary, want.layer) {
		t.Errorf("first line %q, want it to start with %q and name %q", v.Summary, want.first, want.layer)
	}
	if want.blockedBy != nil {
		if !slices.Equal(v.BlockedBy, want.blockedBy) {
			t.Errorf("blockedBy %v, want %v", v.BlockedBy, want.blockedBy)
		}
		if len(want.blockedBy) == 0 && string(v.raw["blockedBy"]) != "[]" {
			t.Errorf("blockedBy is %s in the JSON, want []", v.raw["blockedBy"])
		}
	}
	return v
}

// table runs the command with the table output and returns what it printed.
func (w *simWorld) table(t *testing.T, args ...string) result {
	t.Helper()
	return w.cli(t, args...)
}

// noBlockingFinding: only a definite deny has blocking findings.
func noBlockingFinding(t *testing.T, v simVerdict) {
	t.Helper()
	for _, f := range v.Findings {
		if f.Severity == "blocking" {
			t.Errorf("finding %s has severity blocking under decision %s: %s", f.Kind, v.Decision, f.Message)
		}
	}
}

// fixesKeep fails when a fix grants the call without the condition key:
// a fix must never drop a condition the user did not ask about.
func fixesKeep(t *testing.T, v simVerdict, key string) {
	t.Helper()
	for _, f := range v.Findings {
		for _, fix := range f.Fixes {
			text := fix.Statement + fix.CLI + fix.CloudFormation
			if strings.Contains(text, "Allow") && !strings.Contains(text, key) {
				t.Errorf("fix %q (finding %s) grants the call without the %s condition:\n%s", fix.Description, f.Kind, key, text)
			}
		}
	}
}

// noResourcePolicyNeeded fails on the finding that says an identity
// policy allows the call, which contradicts a denial.
func noResourcePolicyNeeded(t *testing.T, v simVerdict) {
	t.Helper()
	for _, f := range v.Findings {
		if strings.Contains(f.Message, "no resource-based policy is needed") {
			t.Errorf("decision %s, but finding %s says %q", v.Decision, f.Kind, f.Message)
		}
	}
}

// neverAbsent fails when a message calls one of the keys AWS always sends
// "absent".
func neverAbsent(t *testing.T, v simVerdict, keys ...string) {
	t.Helper()
	texts := []string{v.Summary}
	for _, f := range v.Findings {
		texts = append(texts, f.Message)
	}
	for _, l := range v.Layers {
		texts = append(texts, l.Note)
		for _, s := range l.Statements {
			texts = append(texts, s.Reasons...)
		}
	}
	for _, text := range texts {
		lower := strings.ToLower(text)
		for _, k := range keys {
			if strings.Contains(lower, strings.ToLower(k)) && strings.Contains(lower, "absent") {
				t.Errorf("%q: %s is in every request AWS receives, never absent", text, k)
			}
		}
	}
}

// target creates the function every scenario calls and returns its ARN.
func target(b *awstest.Builder) string {
	return b.Function("orders", b.Role("orders-exec", "/"))
}

// callerRole creates role "caller" with inline policies and returns its
// ARN.
func callerRole(b *awstest.Builder, policies map[string]string) string {
	arn := b.Role("caller", "/")
	for name, doc := range policies {
		b.RolePolicy("caller", name, doc)
	}
	return arn
}

func invoke(resource string, condition map[string]any) awstest.Statement {
	return awstest.Statement{Effect: "Allow", Action: "lambda:InvokeFunction", Resource: resource, Condition: condition}
}

func denyInvoke(resource string, condition map[string]any) awstest.Statement {
	return awstest.Statement{Effect: "Deny", Action: "lambda:InvokeFunction", Resource: resource, Condition: condition}
}

// testContextSent: the engine fills principal tags, the region and the
// like itself; the simulator knows only what it is sent, and an answer
// whose MissingContextValues names a key the outcome turns on settles
// nothing.
func (w *simWorld) testContextSent(t *testing.T) {
	t.Run("ABAC on aws:PrincipalTag/team, the role tagged", func(t *testing.T) {
		b := w.scenario(t)
		fn := target(b)
		callerRole(b, map[string]string{"AbacInvoke": awstest.Document(invoke(fn, map[string]any{
			"StringEquals": map[string]string{"aws:PrincipalTag/team": "blue"}}))})
		b.TagRole("caller", "team", "blue")
		w.run(t, verdict{code: exitAllowed, decision: "allowed", first: "ALLOWED", blockedBy: []string{}}, "role/caller", "orders")
	})
	t.Run("region guardrail on aws:RequestedRegion", func(t *testing.T) {
		b := w.scenario(t)
		fn := target(b)
		callerRole(b, map[string]string{"RegionInvoke": awstest.Document(invoke(fn, map[string]any{
			"StringEquals": map[string]string{"aws:RequestedRegion": awstest.Region}}))})
		w.run(t, verdict{code: exitAllowed, decision: "allowed", first: "ALLOWED", blockedBy: []string{}}, "role/caller", "orders")
	})
	t.Run("an Allow only from aws:SourceIp 10.0.0.0/8", func(t *testing.T) {
		b := w.scenario(t)
		fn := target(b)
		callerRole(b, map[string]string{"OfficeInvoke": awstest.Document(invoke(fn, map[string]any{
			"IpAddress": map[string]string{"aws:SourceIp": "10.0.0.0/8"}}))})
		v := w.run(t, verdict{code: exitIncomplete, decision: "unknown", first: "UNKNOWN", layer: "aws:SourceIp", blockedBy: []string{}}, "role/caller", "orders")
		if !slices.Equal(v.DependsOn, []string{"aws:SourceIp"}) {
			t.Errorf("dependsOn %v, want [aws:SourceIp]", v.DependsOn)
		}
		noBlockingFinding(t, v)
		fixesKeep(t, v, "aws:SourceIp")
		neverAbsent(t, v, "aws:SourceIp")
	})
}

// testUnreadableBoundary: the tool may not read the role (iam:GetRole
// refused), so it does not know the boundary; the simulator does, and says
// the boundary does not allow.
func (w *simWorld) testUnreadableBoundary(t *testing.T) {
	b := w.scenario(t)
	fn := target(b)
	role := b.Role("bounded-exec", "/")
	b.RolePolicy("bounded-exec", "InvokeOrders", awstest.Allow("lambda:InvokeFunction", fn))
	b.RoleBoundary("bounded-exec", b.ManagedPolicy("LogsOnly", awstest.Allow("logs:*", "*")))
	b.Function("bounded", role)
	w.refuse("iam:GetRole")
	want := verdict{code: exitDenied, decision: "implicitDeny", first: "DENIED", layer: "permissions boundary"}

	check := func(t *testing.T, v simVerdict) {
		t.Helper()
		if !slices.Contains(v.BlockedBy, "permissionsBoundary") {
			t.Errorf("blockedBy %v, want permissionsBoundary among them", v.BlockedBy)
		}
		for _, l := range v.Layers {
			if l.Layer == "permissionsBoundary" && strings.Contains(l.Note, "no permissions boundary") {
				t.Errorf("boundary row says %q: the role has one, the tool could not read it", l.Note)
			}
		}
	}
	t.Run("diagnosed", func(t *testing.T) {
		before := len(w.sim.Simulations())
		check(t, w.run(t, want, "bounded", "orders"))
		if len(w.sim.Simulations()) == before {
			t.Error("the simulator was not asked: the case does not test what it says")
		}
		r := w.table(t, "bounded", "orders")
		if strings.HasPrefix(r.stdout, "ALLOWED") || strings.Contains(r.stdout, "the caller has no permissions boundary") {
			t.Errorf("table output:\n%s\nwant no ALLOWED and no \"the caller has no permissions boundary\"", r.stdout)
		}
	})
	t.Run("explain AWS's own message", func(t *testing.T) {
		msg := "An error occurred (AccessDeniedException) when calling the Invoke operation: User: arn:aws:sts::" + awstest.Account +
			":assumed-role/bounded-exec/bounded is not authorized to perform: lambda:InvokeFunction on resource: " + fn +
			" because no permissions boundary allows the lambda:InvokeFunction action"
		check(t, w.run(t, want, "explain", msg))
	})
}

// testRoleAsSession: real calls come from sessions, so role/NAME is
// diagnosed as a session of the role. The IAM User Guide ("AWS JSON policy
// elements: NotPrincipal") says of NotPrincipal with Deny: "If an
// assumed-role user (someone who is using a role) is being evaluated, AWS
// might validate the account first, then the role, and then the
// assumed-role user. The assumed-role user is identified by the role
// session name that is specified when they assumed the role." Its example
// for a role lists "the ARN of the assumed-role user
// (cross-account-audit-app), the role (cross-account-read-only-role), and
// the AWS account that the role belongs to": a NotPrincipal that names the
// role and the account but not the session does not exempt the session.
func (w *simWorld) testRoleAsSession(t *testing.T) {
	b := w.scenario(t)
	fn := target(b)
	roleARN := callerRole(b, map[string]string{"InvokeOrders": awstest.Allow("lambda:InvokeFunction", fn)})
	// A Deny to everyone but the role and its account, as AWS returns it.
	w.fullPolicy(fn, `{"Version":"2012-10-17","Statement":[{"Sid":"OnlyTheCallerRole","Effect":"Deny",`+
		`"NotPrincipal":{"AWS":["`+roleARN+`","arn:aws:iam::`+awstest.Account+`:root"]},`+
		`"Action":"lambda:InvokeFunction","Resource":"`+fn+`"}]}`)

	v := w.run(t, verdict{code: exitDenied, decision: "explicitDeny", first: "DENIED", layer: "resource-based policy"}, "role/caller", "orders")
	if want := "arn:aws:sts::" + awstest.Account + ":assumed-role/caller/why-denied"; v.Caller.Principal != want {
		t.Errorf("caller.principal %q, want the session %q", v.Caller.Principal, want)
	}
	if !slices.Contains(v.BlockedBy, "resource") {
		t.Errorf("blockedBy %v, want resource among them", v.BlockedBy)
	}
	i := slices.IndexFunc(v.Findings, func(f simFinding) bool { return f.Kind == "diagnosedAsSession" })
	if i < 0 {
		t.Errorf("findings %v, want diagnosedAsSession saying the role was diagnosed as a session of it", kinds(v))
	} else if v.Findings[i].Severity != "info" {
		t.Errorf("diagnosedAsSession has severity %s, want info", v.Findings[i].Severity)
	}
	noResourcePolicyNeeded(t, v)
}

func kinds(v simVerdict) []string {
	var out []string
	for _, f := range v.Findings {
		out = append(out, f.Kind)
	}
	return out
}

// invokeFunctionAction matches lambda:InvokeFunction, not
// lambda:InvokeFunctionUrl.
var invokeFunctionAction = regexp.MustCompile(`lambda:InvokeFunction([^U]|$)`)

// testFunctionURLs: a function URL call needs lambda:InvokeFunctionUrl and
// lambda:InvokeFunction (with lambda:InvokedViaFunctionUrl); with auth type
// NONE the caller is anonymous and only the resource policy decides.
func (w *simWorld) testFunctionURLs(t *testing.T) {
	const url = "lambda:InvokeFunctionUrl"
	t.Run("auth NONE, only the InvokeFunctionUrl statement", func(t *testing.T) {
		b := w.scenario(t)
		b.Function("public", b.Role("public-exec", "/"))
		b.FunctionURL("public", lambdatypes.FunctionUrlAuthTypeNone)
		// The statement as AWS writes it for a URL with auth type NONE
		// (moto stores FunctionUrlAuthType as an element of its own, which
		// AWS never returns: see internal/awstest/doc.go).
		w.fullPolicy(b.FunctionARN("public"), `{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"FunctionURLAllowPublicAccess","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"`+b.FunctionARN("public")+`","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}}]}`)
		for _, caller := range []string{"anonymous", "*"} {
			t.Run("CALLER "+caller, func(t *testing.T) {
				v := w.run(t, verdict{code: exitDenied, decision: "implicitDeny", first: "DENIED", layer: "resource-based policy", blockedBy: []string{"resource"}},
					"--action", url, caller, "public")
				var add bool
				for _, f := range v.Findings {
					for _, fix := range f.Fixes {
						if strings.Contains(fix.CLI, "aws lambda add-permission") && invokeFunctionAction.MatchString(fix.CLI) &&
							strings.Contains(fix.CLI, "--action lambda:InvokeFunction") && strings.Contains(fix.CLI, "--invoked-via-function-url") {
							add = true
						}
						if strings.Contains(fix.CLI, "aws iam ") || f.Layer == "identity" {
							t.Errorf("identity fix %q for an anonymous caller: only the resource policy decides", fix.Description)
						}
					}
				}
				if !add {
					t.Errorf("no fix `aws lambda add-permission ... --action lambda:InvokeFunction ... --invoked-via-function-url` among %+v", v.Findings)
				}
				noResourcePolicyNeeded(t, v)
			})
		}
	})
	t.Run("auth AWS_IAM, identity allows only InvokeFunctionUrl", func(t *testing.T) {
		w.urlOnlyScenario(t)
		v := w.run(t, verdict{code: exitDenied, decision: "implicitDeny", first: "DENIED", layer: "identity-based policy"}, "--action", url, "role/caller", "private")
		if !slices.Contains(v.BlockedBy, "identity") {
			t.Errorf("blockedBy %v, want identity among them", v.BlockedBy)
		}
		var names bool
		for _, f := range v.Findings {
			if f.Severity == "blocking" && f.Layer == "identity" {
				names = names || invokeFunctionAction.MatchString(f.Message)
				if !invokeFunctionAction.MatchString(f.Message) {
					t.Errorf("blocking line %q names the action that is allowed, not lambda:InvokeFunction", f.Message)
				}
			}
		}
		if !names {
			t.Errorf("no blocking identity finding names lambda:InvokeFunction: %+v", v.Findings)
		}
		for _, l := range v.Layers {
			if l.Layer == "identity" && l.Result == "allows" && l.Blocks {
				t.Error("identity layer reads allows and blocks at once")
			}
		}
		r := w.table(t, "--action", url, "role/caller", "private")
		if regexp.MustCompile(`identity\s*│\s*allows\s*│\s*YES`).MatchString(r.stdout) {
			t.Errorf("the identity row reads \"allows | YES\":\n%s", r.stdout)
		}
	})
	t.Run("an explicit Deny on the InvokeFunction leg", func(t *testing.T) {
		b := w.scenario(t)
		fn := b.Function("private", b.Role("private-exec", "/"))
		b.FunctionURL("private", lambdatypes.FunctionUrlAuthTypeAwsIam)
		callerRole(b, map[string]string{"UrlInvoke": awstest.Document(
			awstest.Statement{Effect: "Allow", Action: []string{url, "lambda:InvokeFunction"}, Resource: fn},
			denyInvoke(fn, nil),
		)})
		v := w.run(t, verdict{code: exitDenied, decision: "explicitDeny", first: "DENIED"}, "--action", url, "role/caller", "private")
		for _, f := range v.Findings {
			if strings.Contains(f.Message, "no identity-based policy allows") {
				t.Errorf("finding %s says %q beside an explicit deny", f.Kind, f.Message)
			}
		}
		noResourcePolicyNeeded(t, v)
	})
	t.Run("a function without a URL", func(t *testing.T) {
		b := w.scenario(t)
		fn := b.Function("nourl", b.Role("nourl-exec", "/"))
		callerRole(b, map[string]string{"UrlInvoke": awstest.Document(
			awstest.Statement{Effect: "Allow", Action: []string{url, "lambda:InvokeFunction"}, Resource: fn})})
		r := w.cli(t, "-o", "json", "--action", url, "role/caller", "nourl")
		if r.stdout == "" {
			t.Fatalf("no verdict\n%s", r)
		}
		v := decodeSim(t, r)
		if len(v.Findings) == 0 || !strings.Contains(strings.ToLower(v.Findings[0].Message), "no function url") {
			t.Errorf("findings %+v, want the first to say that function nourl has no function URL", v.Findings)
		}
	})
}

// urlOnlyScenario: function "private" has a URL with auth type AWS_IAM and
// no resource policy; role "caller" may call lambda:InvokeFunctionUrl only.
func (w *simWorld) urlOnlyScenario(t *testing.T) {
	t.Helper()
	b := w.scenario(t)
	fn := b.Function("private", b.Role("private-exec", "/"))
	b.FunctionURL("private", lambdatypes.FunctionUrlAuthTypeAwsIam)
	callerRole(b, map[string]string{"UrlOnly": awstest.Allow("lambda:InvokeFunctionUrl", fn)})
}

// testOrphanFunction: the caller is a function whose execution role was
// deleted. The user typed "orphan", not the role's name.
func (w *simWorld) testOrphanFunction(t *testing.T) {
	b := w.scenario(t)
	target(b)
	b.Function("orphan", b.Role("orphan-exec", "/"))
	if _, err := b.IAM.DeleteRole(context.Background(), &iam.DeleteRoleInput{RoleName: aws.String("orphan-exec")}); err != nil {
		t.Fatalf("scenario setup: deleting role orphan-exec: %v", err)
	}
	r := w.cli(t, "orphan", "orders")
	wantExit(t, r, exitBadInput)
	wantOneErrorLine(t, r, "orphan", "execution role", "no longer exists", "cannot run")
	if regexp.MustCompile(`caller role .*not found`).MatchString(r.stderr) {
		t.Errorf("stderr %q speaks of a caller role the user never named", r.stderr)
	}
}

// testFindingsAgree: summary, blockedBy and findings tell one story.
func (w *simWorld) testFindingsAgree(t *testing.T) {
	// The identity policy allows; a Deny elsewhere decides.
	t.Run("explicit deny by a region guardrail", func(t *testing.T) {
		b := w.scenario(t)
		fn := target(b)
		callerRole(b, map[string]string{"InvokeOutsideEU": awstest.Document(invoke(fn, nil), denyInvoke(fn, map[string]any{
			"StringNotEquals": map[string]string{"aws:RequestedRegion": "eu-west-1"}}))})
		v := w.run(t, verdict{code: exitDenied, decision: "explicitDeny", first: "DENIED", layer: "identity-based policy"}, "role/caller", "orders")
		noResourcePolicyNeeded(t, v)
	})
	t.Run("explain an SCP's explicit deny", func(t *testing.T) {
		b := w.scenario(t)
		fn := target(b)
		callerRole(b, map[string]string{"InvokeOrders": awstest.Allow("lambda:InvokeFunction", fn)})
		msg := "An error occurred (AccessDeniedException) when calling the Invoke operation: User: arn:aws:sts::" + awstest.Account +
			":assumed-role/caller/why-denied is not authorized to perform: lambda:InvokeFunction on resource: " + fn +
			" with an explicit deny in a service control policy"
		v := w.run(t, verdict{code: exitDenied, decision: "explicitDeny", first: "DENIED", layer: "service control policy"}, "explain", msg)
		noResourcePolicyNeeded(t, v)
	})
	t.Run("explicit deny in the resource policy", func(t *testing.T) {
		b := w.scenario(t)
		fn := target(b)
		callerRole(b, map[string]string{"InvokeOrders": awstest.Allow("lambda:InvokeFunction", fn)})
		w.fullPolicy(fn, awstest.Document(awstest.Statement{Sid: "NoInvoke", Effect: "Deny", Principal: "*", Action: "lambda:InvokeFunction", Resource: fn}))
		v := w.run(t, verdict{code: exitDenied, decision: "explicitDeny", first: "DENIED", layer: "resource-based policy"}, "role/caller", "orders")
		noResourcePolicyNeeded(t, v)
	})
	t.Run("explicit deny in an SCP", func(t *testing.T) {
		b := w.scenario(t)
		fn := target(b)
		callerRole(b, map[string]string{"InvokeOrders": awstest.Allow("lambda:InvokeFunction", fn)})
		w.sim.SCPs([][]string{{awstest.Allow("*", "*"), awstest.Document(denyInvoke("*", nil))}})
		v := w.run(t, verdict{code: exitDenied, decision: "explicitDeny", first: "DENIED", layer: "service control policy"}, "role/caller", "orders")
		noResourcePolicyNeeded(t, v)
	})
	t.Run("denied function URL call", func(t *testing.T) {
		w.urlOnlyScenario(t)
		v := w.run(t, verdict{code: exitDenied, decision: "implicitDeny", first: "DENIED"}, "--action", "lambda:InvokeFunctionUrl", "role/caller", "private")
		noResourcePolicyNeeded(t, v)
	})
	t.Run("unknown: the resource policy unreadable", func(t *testing.T) {
		b := w.scenario(t)
		fn := target(b)
		callerRole(b, map[string]string{"InvokeOther": awstest.Allow("lambda:InvokeFunction", fn+"-other")})
		b.AddPermission(&lambda.AddPermissionInput{FunctionName: aws.String("orders"), StatementId: aws.String("Caller"),
			Principal: aws.String("arn:aws:iam::" + awstest.Account + ":role/caller")})
		w.refuse("lambda:GetPolicy")
		v := w.run(t, verdict{code: exitIncomplete, decision: "unknown", first: "UNKNOWN", blockedBy: []string{}}, "role/caller", "orders")
		if !slices.Contains(v.UnknownLayers, "resource") {
			t.Errorf("unknownLayers %v, want resource among them", v.UnknownLayers)
		}
		noBlockingFinding(t, v)
	})
}

// testRequestTimeKeys: aws:CurrentTime and aws:EpochTime are in every
// request (the time of the diagnosis, or --at); aws:SourceIp is too, but
// the tool cannot know it, so an outcome that turns on it is unknown.
func (w *simWorld) testRequestTimeKeys(t *testing.T) {
	const now = "aws:CurrentTime"
	t.Run("Deny after 2020-01-01, and an Allow", func(t *testing.T) {
		b := w.scenario(t)
		fn := target(b)
		callerRole(b, map[string]string{"InvokeUntil2020": awstest.Document(invoke(fn, nil), denyInvoke(fn, map[string]any{
			"DateGreaterThan": map[string]string{now: "2020-01-01T00:00:00Z"}}))})
		v := w.run(t, verdict{code: exitDenied, decision: "explicitDeny", first: "DENIED", layer: "identity-based policy"}, "role/caller", "orders")
		neverAbsent(t, v, now)
	})
	t.Run("Allow until 2030-01-01", func(t *testing.T) {
		b := w.scenario(t)
		fn := target(b)
		callerRole(b, map[string]string{"InvokeUntil2030": awstest.Document(invoke(fn, map[string]any{
			"DateLessThan": map[string]string{now: "2030-01-01T00:00:00Z"}}))})
		v := w.run(t, verdict{code: exitAllowed, decision: "allowed", first: "ALLOWED", blockedBy: []string{}}, "role/caller", "orders")
		neverAbsent(t, v, now)

		t.Run("--at 2031-01-01", func(t *testing.T) {
			const at = "2031-01-01T00:00:00Z"
			v := w.run(t, verdict{code: exitDenied, decision: "implicitDeny", first: "DENIED", layer: "identity-based policy"}, "--at", at, "role/caller", "orders")
			var got any
			if raw, ok := v.Request.Context[now]; !ok {
				t.Errorf("request.context %v has no %s", v.Request.Context, now)
			} else if err := json.Unmarshal(raw, &got); err != nil || (got != at && !slices.Equal(anyStrings(got), []string{at})) {
				t.Errorf("request.context[%s] = %s, want %q", now, raw, at)
			}
			neverAbsent(t, v, now)
		})
	})
	t.Run("Deny unless from the office /32", func(t *testing.T) {
		b := w.scenario(t)
		fn := target(b)
		callerRole(b, map[string]string{"InvokeFromOffice": awstest.Document(invoke(fn, nil), denyInvoke(fn, map[string]any{
			"NotIpAddress": map[string]string{"aws:SourceIp": "203.0.113.7/32"}}))})
		v := w.run(t, verdict{code: exitIncomplete, decision: "unknown", first: "UNKNOWN", layer: "aws:SourceIp", blockedBy: []string{}}, "role/caller", "orders")
		if !slices.Equal(v.DependsOn, []string{"aws:SourceIp"}) {
			t.Errorf("dependsOn %v, want [aws:SourceIp]", v.DependsOn)
		}
		for _, f := range v.Findings {
			for _, fix := range f.Fixes {
				if strings.Contains(strings.ToLower(fix.Description), "exempt") {
					t.Errorf("exemption fix %q: whether the Deny applies depends on the caller's address", fix.Description)
				}
			}
		}
		noBlockingFinding(t, v)
		neverAbsent(t, v, "aws:SourceIp")
	})
}

// anyStrings returns a decoded JSON list of strings, or nil.
func anyStrings(v any) []string {
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	var out []string
	for _, e := range list {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}
