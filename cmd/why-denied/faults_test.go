package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/why-denied/why-denied/internal/awstest"
)

// faultTimeout is the --timeout of the runs under fault: short, to keep the
// tests fast, with room for a loaded 2-core machine. The retries are sized
// from it as for any user (attempts abandoned after 2s, backoffs capped at
// 400ms).
const faultTimeout = 6 * time.Second

// faultSlack is how long a run may take beyond --timeout: starting the
// command, and the verdict after the last read.
const faultSlack = 3 * time.Second

// faultWorld is one moto holding the scenarios. Each run gets a simulator
// proxy and a fault proxy of its own in front of it, so that runs can go in
// parallel:
//
//	why-denied -> FaultProxy -> SimulatorProxy -> moto
type faultWorld struct {
	moto *awstest.Moto
	sam  awstest.SAM
	// managedRole's only grant is an attached managed policy; denyRole
	// also has an inline explicit Deny. Both call plainFunction, which has
	// no resource policy.
	managedRole, denyRole, plainFunction string
}

// TestFaults runs the command with AWS failing under it: throttling, server
// errors, broken connections, slow answers, and refused reads.
func TestFaults(t *testing.T) {
	awstest.FakeCredentials(t)
	moto := awstest.StartMoto(t)
	b := awstest.NewBuilder(t, moto.URL)
	w := &faultWorld{moto: moto, sam: b.SAM("Faults"),
		managedRole: "FaultsManagedRole", denyRole: "FaultsDenyRole", plainFunction: "FaultsPlainFunction"}
	fn := b.Function(w.plainFunction, b.Role("FaultsPlainFunctionRole", "/"))
	invoke := b.ManagedPolicy("FaultsManagedInvoke", awstest.Allow("lambda:InvokeFunction", fn))
	for _, role := range []string{w.managedRole, w.denyRole} {
		b.Role(role, "/")
		b.AttachRolePolicy(role, invoke)
	}
	b.RolePolicy(w.denyRole, "DenyInvoke", awstest.Document(awstest.Statement{Effect: "Deny", Action: "lambda:InvokeFunction", Resource: fn}))

	w.testTransientAndPersistent(t)
	w.testSimulatorFaults(t)
	w.testPartialAccess(t)
}

// faultRun is one run of the command under fault.
type faultRun struct {
	result
	elapsed time.Duration
	faults  *awstest.FaultProxy
}

// cli runs the command through new proxies: the simulator proxy answers
// with answer, the fault proxy injects faults (by operation). args follow
// the endpoint, region and timeout flags.
func (w *faultWorld) cli(t *testing.T, answer awstest.Fixture, faults map[string]awstest.Fault, args ...string) faultRun {
	t.Helper()
	sim := awstest.StartSimulatorProxy(t, w.moto.URL)
	sim.Answer(answer)
	fp := awstest.StartFaultProxy(t, sim.URL)
	for op, f := range faults {
		fp.Inject(op, f)
	}
	start := time.Now()
	r := runLive(t, append([]string{"--endpoint-url", fp.URL, "--region", awstest.Region, "--timeout", faultTimeout.String()}, args...)...)
	return faultRun{result: r, elapsed: time.Since(start), faults: fp}
}

// partialVerdict adds the fields of a verdict on partial evidence to what
// the end-to-end tests decode.
type partialVerdict struct {
	jsonVerdict
	UnknownLayers []string `json:"unknownLayers"`
}

func decodePartial(t *testing.T, r result) partialVerdict {
	t.Helper()
	var v partialVerdict
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("-o json output is not one JSON object: %v\n%s", err, r)
	}
	return v
}

// outcome is what a script sees of a verdict.
type outcome struct {
	code      int
	decision  string
	blockedBy []string
}

func (o outcome) String() string {
	return fmt.Sprintf("exit %d, %s blocked by %v", o.code, o.decision, o.blockedBy)
}

func outcomeOf(t *testing.T, r result) outcome {
	t.Helper()
	v := decode(t, r)
	return outcome{r.code, v.Decision, v.BlockedBy}
}

// sameOutcome compares got with want; a nil want.blockedBy is not compared
// (what the readable layers block, with the decision unknown).
func sameOutcome(got, want outcome) bool {
	return got.code == want.code && got.decision == want.decision && (want.blockedBy == nil || slices.Equal(got.blockedBy, want.blockedBy))
}

// retriedKinds are the faults a retry can get past: all but AccessDenied.
var retriedKinds = []awstest.FaultKind{
	awstest.Throttle, awstest.TooManyRequests, awstest.InternalError, awstest.Unavailable,
	awstest.ConnectionReset, awstest.TruncatedBody, awstest.Slow,
}

// transientTimes is how many of an operation's requests fail in the
// transient case: two, but one slow answer, which costs a third of the
// timeout before the client gives up on it.
func transientTimes(k awstest.FaultKind) int {
	if k == awstest.Slow {
		return 1
	}
	return 2
}

// testTransientAndPersistent injects each fault into reads of the SAM case
// (the alias target is denied by the identity policy), each kind into an
// IAM read and a Lambda read, and throttling into STS too. A fault on the
// first requests of an operation gives the same verdict as no fault; a
// fault on every request ends in exit 3 naming the operation, within the
// timeout, never in a verdict.
func (w *faultWorld) testTransientAndPersistent(t *testing.T) {
	target := w.sam.ProcessorFunction + ":live"
	byFunction := []string{"-o", "json", w.sam.RequestFunction, target}
	// A caller ARN names an account, which sts:GetCallerIdentity checks.
	byARN := []string{"-o", "json", w.sam.RequestRoleARN, target}
	want := outcome{exitDenied, "implicitDeny", []string{"identity"}}
	base := map[string]outcome{}
	for name, args := range map[string][]string{"function": byFunction, "arn": byARN} {
		r := w.cli(t, awstest.SimImplicitDeny, nil, args...)
		if got := outcomeOf(t, r.result); !sameOutcome(got, want) {
			t.Fatalf("without faults, caller %s: %s, want %s\n%s", name, got, want, r)
		}
		base[name] = want
	}

	ops := map[awstest.FaultKind][]string{
		awstest.Throttle:        {"iam:GetRolePolicy", "lambda:GetPolicy", "sts:GetCallerIdentity"},
		awstest.TooManyRequests: {"iam:ListRolePolicies", "lambda:GetFunctionConfiguration"},
		awstest.InternalError:   {"iam:GetRole", "lambda:GetPolicy"},
		awstest.Unavailable:     {"iam:ListAttachedRolePolicies", "lambda:GetFunctionConfiguration"},
		awstest.ConnectionReset: {"iam:GetRolePolicy", "lambda:GetPolicy"},
		awstest.TruncatedBody:   {"iam:GetRolePolicy", "lambda:GetFunctionConfiguration"},
		awstest.Slow:            {"iam:GetRole", "lambda:GetPolicy"},
	}
	for _, kind := range retriedKinds {
		for _, op := range ops[kind] {
			caller, args := "function", byFunction
			if strings.HasPrefix(op, "sts:") {
				caller, args = "arn", byARN
			}
			t.Run(fmt.Sprintf("%s on %s, transient", kind, op), func(t *testing.T) {
				t.Parallel()
				n := transientTimes(kind)
				r := w.cli(t, awstest.SimImplicitDeny, map[string]awstest.Fault{op: {Kind: kind, Times: n}}, args...)
				if got := outcomeOf(t, r.result); !sameOutcome(got, base[caller]) {
					t.Errorf("%s, want %s as without faults\n%s", got, base[caller], r)
				}
				if got := r.faults.Injected(op); got != n {
					t.Errorf("%d of %d faults injected into %s: the scenario does not send it", got, n, op)
				}
				if r.elapsed > faultTimeout {
					t.Errorf("took %s, beyond --timeout %s", r.elapsed, faultTimeout)
				}
			})
			t.Run(fmt.Sprintf("%s on %s, persistent", kind, op), func(t *testing.T) {
				t.Parallel()
				r := w.cli(t, awstest.SimImplicitDeny, map[string]awstest.Fault{op: {Kind: kind}}, args...)
				wantExit(t, r.result, exitIncomplete)
				wantOneErrorLine(t, r.result, op)
				if kind == awstest.Slow {
					wantOneErrorLine(t, r.result, "timed out after "+faultTimeout.String())
				}
				if r.elapsed > faultTimeout+faultSlack {
					t.Errorf("took %s, beyond --timeout %s", r.elapsed, faultTimeout)
				}
			})
		}
	}
}

// testSimulatorFaults: the simulator is optional evidence. A fault that
// persists ends in "simulator unavailable" and the local verdict, which
// here is the simulator's too, within the timeout; a passing fault is
// retried away and the simulator answers.
func (w *faultWorld) testSimulatorFaults(t *testing.T) {
	const op = "iam:SimulatePrincipalPolicy"
	args := []string{"-o", "json", w.sam.RequestFunction, w.sam.ProcessorFunction + ":live"}
	want := outcome{exitDenied, "implicitDeny", []string{"identity"}}
	for _, kind := range retriedKinds {
		t.Run(fmt.Sprintf("%s on the simulator, transient", kind), func(t *testing.T) {
			t.Parallel()
			r := w.cli(t, awstest.SimImplicitDeny, map[string]awstest.Fault{op: {Kind: kind, Times: 1}}, args...)
			if got := outcomeOf(t, r.result); !sameOutcome(got, want) {
				t.Errorf("%s, want %s\n%s", got, want, r)
			}
			if v := decode(t, r.result); !v.Simulator.Used {
				t.Errorf("simulator %+v, want used: one fault is retried", v.Simulator)
			}
		})
		t.Run(fmt.Sprintf("%s on the simulator, persistent", kind), func(t *testing.T) {
			t.Parallel()
			r := w.cli(t, awstest.SimImplicitDeny, map[string]awstest.Fault{op: {Kind: kind}}, args...)
			if got := outcomeOf(t, r.result); !sameOutcome(got, want) {
				t.Errorf("%s, want the local verdict %s\n%s", got, want, r)
			}
			v := decode(t, r.result)
			if v.Simulator.Used || !strings.Contains(v.Simulator.Note, "simulator unavailable:") || !strings.Contains(v.Simulator.Note, op) {
				t.Errorf("simulator %+v, want not used, with a note saying it was unavailable", v.Simulator)
			}
			if r.stderr != "" {
				t.Errorf("stderr %q: an unavailable simulator is noted in the verdict, not an error", r.stderr)
			}
			if r.elapsed > faultTimeout+faultSlack {
				t.Errorf("took %s, beyond --timeout %s", r.elapsed, faultTimeout)
			}
		})
	}
}

// testPartialAccess refuses one read (AccessDenied) at a time, and some
// pairs. The verdict decides what the readable policies and the simulator
// settle, marks the rest unknown (exit 3 exactly then), and names the IAM
// action the tool lacks.
func (w *faultWorld) testPartialAccess(t *testing.T) {
	sam := []string{w.sam.RequestFunction, w.sam.ProcessorFunction + ":live"}
	managed := []string{"role/" + w.managedRole, w.plainFunction}
	withDeny := []string{"role/" + w.denyRole, w.plainFunction}
	noSim := func(args []string) []string { return append([]string{"--no-simulate"}, args...) }
	denied := awstest.Fault{Kind: awstest.AccessDenied}
	tests := []struct {
		name    string
		refused []string
		answer  awstest.Fixture
		args    []string
		want    outcome
		unknown []string // want these among unknownLayers
	}{
		{"resource policy unreadable: unknown, the identity policy does not allow",
			[]string{"lambda:GetPolicy"}, awstest.SimImplicitDeny, sam,
			outcome{exitIncomplete, "unknown", nil}, []string{"resource"}},
		{"inline policy unreadable, the simulator answered for identity",
			[]string{"iam:GetRolePolicy"}, awstest.SimImplicitDeny, sam,
			outcome{exitDenied, "implicitDeny", []string{"identity"}}, nil},
		{"inline policy unreadable, no simulator",
			[]string{"iam:GetRolePolicy"}, awstest.SimImplicitDeny, noSim(sam),
			outcome{exitIncomplete, "unknown", nil}, []string{"identity"}},
		{"inline policy unreadable, simulator refused",
			[]string{"iam:GetRolePolicy", "iam:SimulatePrincipalPolicy"}, awstest.SimImplicitDeny, sam,
			outcome{exitIncomplete, "unknown", nil}, []string{"identity"}},
		{"managed policy unreadable, an explicit Deny was read",
			[]string{"iam:GetPolicyVersion"}, awstest.SimImplicitDeny, noSim(withDeny),
			outcome{exitDenied, "explicitDeny", []string{"identity"}}, nil},
		{"managed policy unreadable, the only grant",
			[]string{"iam:GetPolicyVersion"}, awstest.SimImplicitDeny, noSim(managed),
			outcome{exitIncomplete, "unknown", nil}, []string{"identity"}},
		{"attached policies unlisted, no simulator",
			[]string{"iam:ListAttachedRolePolicies"}, awstest.SimAllowed, noSim(managed),
			outcome{exitIncomplete, "unknown", nil}, []string{"identity"}},
		{"attached policies unlisted, the simulator answered for identity",
			[]string{"iam:ListAttachedRolePolicies"}, awstest.SimAllowed, managed,
			outcome{exitAllowed, "allowed", []string{}}, nil},
		{"role unreadable, the simulator answered for the boundary",
			[]string{"iam:GetRole"}, awstest.SimImplicitDeny, sam,
			outcome{exitDenied, "implicitDeny", []string{"identity"}}, nil},
		{"simulator refused, every policy read",
			[]string{"iam:SimulatePrincipalPolicy"}, awstest.SimImplicitDeny, sam,
			outcome{exitDenied, "implicitDeny", []string{"identity"}}, nil},
	}
	for _, tt := range tests {
		t.Run("AccessDenied: "+tt.name, func(t *testing.T) {
			t.Parallel()
			faults := map[string]awstest.Fault{}
			for _, op := range tt.refused {
				faults[op] = denied
			}
			r := w.cli(t, tt.answer, faults, append([]string{"-o", "json"}, tt.args...)...)
			v := decodePartial(t, r.result)
			got := outcome{r.code, v.Decision, v.BlockedBy}
			if !sameOutcome(got, tt.want) {
				t.Errorf("%s, want %s\n%s", got, tt.want, r)
			}
			if (r.code == exitIncomplete) != (v.Decision == "unknown") || (len(v.UnknownLayers) > 0) != (v.Decision == "unknown") {
				t.Errorf("exit %d, decision %s, unknownLayers %v: exit 3 and unknown layers go with the decision unknown, and only with it", r.code, v.Decision, v.UnknownLayers)
			}
			for _, l := range tt.unknown {
				if !slices.Contains(v.UnknownLayers, l) {
					t.Errorf("unknownLayers %v, want %s among them", v.UnknownLayers, l)
				}
				if res, _ := v.layer(t, l); res != "unknown" {
					t.Errorf("layer %s is %q, want unknown", l, res)
				}
			}
			if v.Decision == "unknown" {
				wantOneErrorLineWithOutput(t, r.result, "no decision")
			} else if r.stderr != "" {
				t.Errorf("stderr %q, want nothing with a decision", r.stderr)
			}
			for _, op := range tt.refused {
				if r.faults.Injected(op) == 0 {
					t.Errorf("%s was never sent: the case does not test what it says", op)
				}
				if !namesAction(v, op) {
					t.Errorf("the verdict does not name %s, the permission the tool lacks\nfindings %+v\nsimulator %+v", op, v.Findings, v.Simulator)
				}
			}
		})
	}

	// Without the role's account (role/NAME), a refused iam:GetRole leaves
	// nothing to diagnose: the error says what the credentials need.
	t.Run("AccessDenied: role name without account, role unreadable", func(t *testing.T) {
		t.Parallel()
		r := w.cli(t, awstest.SimImplicitDeny, map[string]awstest.Fault{"iam:GetRole": denied}, "role/"+w.managedRole, w.plainFunction)
		wantExit(t, r.result, exitIncomplete)
		wantOneErrorLine(t, r.result, "iam:GetRole", "role ARN")
	})
}

// namesAction reports whether the verdict names op where a user looks for
// it: an "unreadable" finding, or the simulator's note for the simulator.
func namesAction(v partialVerdict, op string) bool {
	if op == "iam:SimulatePrincipalPolicy" {
		return strings.Contains(v.Simulator.Note, "simulator refused: AccessDenied") && strings.Contains(v.Simulator.Note, op)
	}
	for _, f := range v.Findings {
		if f.Kind == "unreadable" && strings.Contains(f.Message, "needs "+op) {
			return true
		}
	}
	return false
}

// wantOneErrorLineWithOutput is wantOneErrorLine for a run that printed a
// verdict too (exit 3 with the decision unknown).
func wantOneErrorLineWithOutput(t *testing.T, r result, mentions ...string) {
	t.Helper()
	r.stdout = ""
	wantOneErrorLine(t, r, mentions...)
}
