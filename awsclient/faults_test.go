package awsclient_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/internal/awstest"
)

// faultTimeout is the Options.Timeout of the clients under fault: short,
// to keep the tests fast, and the retry policy is sized from it (attempts
// abandoned after 500ms, backoffs capped at 100ms), as --timeout sizes it
// for users.
const faultTimeout = 1500 * time.Millisecond

// faultWorld is one moto behind the simulator proxy; each test puts its own
// fault proxy in front, so that the tests can run in parallel on one moto.
type faultWorld struct {
	sim  *awstest.SimulatorProxy
	role string
	fn   string
	arn  string
}

func newFaultWorld(t *testing.T) *faultWorld {
	awstest.FakeCredentials(t)
	moto := awstest.StartMoto(t)
	b := awstest.NewBuilder(t, moto.URL)
	w := &faultWorld{sim: awstest.StartSimulatorProxy(t, moto.URL), role: "FaultRole", fn: "FaultTarget"}
	w.sim.Answer(awstest.SimAllowed)
	w.arn = b.Role(w.role, "/")
	b.RolePolicy(w.role, "Invoke", awstest.Allow("lambda:InvokeFunction", b.FunctionARN(w.fn)))
	b.AttachRolePolicy(w.role, b.ManagedPolicy("FaultManaged", awstest.Allow("lambda:GetFunction", "*")))
	b.Function(w.fn, b.Role("FaultTargetRole", "/"))
	return w
}

// client returns a client that reads through a new fault proxy.
func (w *faultWorld) client(t *testing.T) (*awsclient.Client, *awstest.FaultProxy) {
	t.Helper()
	faults := awstest.StartFaultProxy(t, w.sim.URL)
	c, err := awsclient.New(context.Background(), awsclient.Options{EndpointURL: faults.URL, Timeout: faultTimeout, Recorder: tee{}})
	if err != nil {
		t.Fatalf("awsclient.New: %v", err)
	}
	return c, faults
}

// transientKinds are the faults a retry can get past: all but AccessDenied.
var transientKinds = []awstest.FaultKind{
	awstest.Throttle, awstest.TooManyRequests, awstest.InternalError, awstest.Unavailable,
	awstest.ConnectionReset, awstest.TruncatedBody, awstest.Slow,
}

// TestFaults injects faults between the client and moto, with the fault
// proxy.
func TestFaults(t *testing.T) {
	w := newFaultWorld(t)
	w.testRetries(t)
	w.testSimulatorFaults(t)
	t.Run("timeout counts from New", w.testTimeoutBoundsTheClient)
	t.Run("access denied", w.testAccessDenied)
}

// testRetries injects each fault into one IAM and one Lambda read: a few
// faults are retried away; a fault on every attempt fails with an error
// naming the read, after 5 attempts or at the deadline.
func (w *faultWorld) testRetries(t *testing.T) {
	reads := []struct {
		op   string
		read func(*awsclient.Client) error
	}{
		{"iam:GetRole", func(c *awsclient.Client) error {
			_, err := c.ResolveCaller(context.Background(), "role/"+w.role)
			return err
		}},
		{"lambda:GetFunctionConfiguration", func(c *awsclient.Client) error {
			_, err := c.ResolveTarget(context.Background(), w.fn)
			return err
		}},
	}
	for _, kind := range transientKinds {
		for _, r := range reads {
			t.Run(fmt.Sprintf("%s %s transient", kind, r.op), func(t *testing.T) {
				t.Parallel()
				times := 2
				if kind == awstest.Slow {
					times = 1 // each costs a third of the timeout
				}
				c, faults := w.client(t)
				faults.Inject(r.op, awstest.Fault{Kind: kind, Times: times})
				if err := r.read(c); err != nil {
					t.Fatalf("%d faults then success: %v", times, err)
				}
				if got := faults.Requests(r.op); got != times+1 {
					t.Errorf("%d requests of %s, want %d faulted and 1 answered", got, r.op, times)
				}
			})
			t.Run(fmt.Sprintf("%s %s persistent", kind, r.op), func(t *testing.T) {
				t.Parallel()
				c, faults := w.client(t)
				faults.Inject(r.op, awstest.Fault{Kind: kind})
				start := time.Now()
				err := r.read(c)
				elapsed := time.Since(start)
				if elapsed > faultTimeout+500*time.Millisecond {
					t.Errorf("took %s, beyond the timeout of %s", elapsed, faultTimeout)
				}
				if kind == awstest.Slow {
					var te *awsclient.TimeoutError
					if !errors.As(err, &te) || te.After != faultTimeout || !strings.Contains(err.Error(), r.op) {
						t.Fatalf("err = %v (%T), want a *TimeoutError after %s naming %s", err, err, faultTimeout, r.op)
					}
					return
				}
				var ce *awsclient.CallError
				if !errors.As(err, &ce) || ce.Action != r.op || ce.AccessDenied() {
					t.Fatalf("err = %v (%T), want a *CallError for %s", err, err, r.op)
				}
				if got := faults.Requests(r.op); got != 5 {
					t.Errorf("%d requests of %s, want 5 attempts", got, r.op)
				}
			})
		}
	}
}

// testSimulatorFaults: the simulator is optional. A fault that persists
// ends in an unavailable *SimulatorError, after fewer attempts than a read
// gets (3), or at the deadline; a passing fault is retried away.
func (w *faultWorld) testSimulatorFaults(t *testing.T) {
	ev := &evidence.Evidence{
		Request: evidence.Request{Action: "lambda:InvokeFunction", Resource: "arn:aws:lambda:" + awstest.Region + ":" + awstest.Account + ":function:" + w.fn},
		Caller:  evidence.Caller{ARN: w.arn},
	}
	const op = "iam:SimulatePrincipalPolicy"
	for _, kind := range transientKinds {
		t.Run("simulator "+string(kind)+" once", func(t *testing.T) {
			t.Parallel()
			c, faults := w.client(t)
			faults.Inject(op, awstest.Fault{Kind: kind, Times: 1})
			sim, err := c.Simulate(context.Background(), ev)
			if err != nil || sim.Decision != "allowed" {
				t.Fatalf("Simulate after one fault = %+v, %v; want the simulator's answer", sim, err)
			}
		})
		t.Run("simulator "+string(kind)+" always", func(t *testing.T) {
			t.Parallel()
			c, faults := w.client(t)
			faults.Inject(op, awstest.Fault{Kind: kind})
			start := time.Now()
			_, err := c.Simulate(context.Background(), ev)
			if elapsed := time.Since(start); elapsed > faultTimeout+500*time.Millisecond {
				t.Errorf("took %s, beyond the timeout of %s", elapsed, faultTimeout)
			}
			var se *awsclient.SimulatorError
			if !errors.As(err, &se) || se.Refused || !strings.HasPrefix(err.Error(), "simulator unavailable: ") || !strings.Contains(err.Error(), op) {
				t.Fatalf("Simulate = %v (%T), want an unavailable *SimulatorError naming %s", err, err, op)
			}
			if got := faults.Requests(op); kind != awstest.Slow && got != 3 {
				t.Errorf("%d simulator requests, want 3 attempts", got)
			}
		})
	}
}

// testTimeoutBoundsTheClient: the timeout counts from New, so the reads and
// the simulator of one diagnosis share it; past it, a read fails at once
// with a *TimeoutError.
func (w *faultWorld) testTimeoutBoundsTheClient(t *testing.T) {
	t.Parallel()
	c, faults := w.client(t)
	if _, err := c.FetchEvidence(context.Background(), awsclient.Request{Caller: "role/" + w.role, Target: w.fn}); err != nil {
		t.Fatalf("FetchEvidence: %v", err)
	}
	time.Sleep(faultTimeout)
	before := faults.Requests("lambda:GetFunctionConfiguration")
	start := time.Now()
	_, err := c.ResolveTarget(context.Background(), w.fn)
	var te *awsclient.TimeoutError
	if !errors.As(err, &te) || te.After != faultTimeout {
		t.Fatalf("ResolveTarget past the timeout = %v (%T), want a *TimeoutError after %s", err, err, faultTimeout)
	}
	if time.Since(start) > 100*time.Millisecond || faults.Requests("lambda:GetFunctionConfiguration") != before {
		t.Error("a read past the timeout was sent")
	}
}

// testAccessDenied: the proxy's AccessDenied is what AWS sends, in each
// protocol: the client sees the code and HTTP 403, names the action, and
// does not retry.
func (w *faultWorld) testAccessDenied(t *testing.T) {
	for _, op := range []string{"iam:GetRole", "lambda:GetFunctionConfiguration"} {
		t.Run(op, func(t *testing.T) {
			c, faults := w.client(t)
			faults.Inject(op, awstest.Fault{Kind: awstest.AccessDenied})
			var err error
			if strings.HasPrefix(op, "iam:") {
				_, err = c.ResolveCaller(context.Background(), "role/"+w.role)
			} else {
				_, err = c.ResolveTarget(context.Background(), w.fn)
			}
			var ce *awsclient.CallError
			if !errors.As(err, &ce) || !ce.AccessDenied() || !strings.Contains(err.Error(), "the credentials need "+op) {
				t.Fatalf("err = %v, want an AccessDenied *CallError saying the credentials need %s", err, op)
			}
			var status interface{ HTTPStatusCode() int }
			if !errors.As(err, &status) || status.HTTPStatusCode() != 403 {
				t.Errorf("err = %v, want HTTP 403", err)
			}
			if got := faults.Requests(op); got != 1 {
				t.Errorf("%d requests, want 1: AccessDenied is not retried", got)
			}
		})
	}
}

// TestThrottledAtFullConcurrency: the two widest rounds of a large user
// (10 groups, 3 managed policies one of them shared and 2 inline ones each:
// 20 group lists, then 20 group documents and 21 policy versions at once,
// under the cap of calls in flight) are throttled, every call, as IAM
// throttles a burst. The standard retryer recovers and the evidence is the
// same as unthrottled.
func TestThrottledAtFullConcurrency(t *testing.T) {
	awstest.FakeCredentials(t)
	moto := awstest.StartMoto(t)
	b := awstest.NewBuilder(t, moto.URL)
	sim := awstest.StartSimulatorProxy(t, moto.URL)
	b.User("burst", "/")
	fn := b.Function("BurstTarget", b.Role("BurstTargetRole", "/"))
	shared := b.ManagedPolicy("BurstShared", awstest.Allow("s3:GetObject", "*"))
	for g := range 10 {
		group := fmt.Sprintf("burst%02d", g)
		b.Group(group, "burst")
		b.AttachGroupPolicy(group, shared)
		for i := range 2 {
			b.GroupPolicy(group, fmt.Sprintf("Inline%d", i), awstest.Allow("s3:GetObject", fmt.Sprintf("arn:aws:s3:::%s-%d/*", group, i)))
			b.AttachGroupPolicy(group, b.ManagedPolicy(fmt.Sprintf("%sManaged%d", group, i), awstest.Allow("s3:GetObject", "*")))
		}
	}
	fetch := func(faults *awstest.FaultProxy) *evidence.Evidence {
		t.Helper()
		c, err := awsclient.New(context.Background(), awsclient.Options{EndpointURL: faults.URL, Timeout: 30 * time.Second, Recorder: tee{}})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := c.FetchEvidence(context.Background(), awsclient.Request{Caller: "user/burst", Target: fn})
		if err != nil {
			t.Fatalf("FetchEvidence: %v", err)
		}
		return ev
	}
	want := fetch(awstest.StartFaultProxy(t, sim.URL))
	if len(want.Caller.IdentityPolicies) != 50 {
		t.Fatalf("%d identity policies, want 50", len(want.Caller.IdentityPolicies))
	}

	faults := awstest.StartFaultProxy(t, sim.URL)
	burst := map[string]int{"iam:GetGroupPolicy": 20, "iam:GetPolicyVersion": 21, "iam:ListGroupPolicies": 10, "iam:ListAttachedGroupPolicies": 10}
	for op, n := range burst {
		faults.Inject(op, awstest.Fault{Kind: awstest.Throttle, Times: n})
	}
	got := fetch(faults)
	for op, n := range burst {
		if faults.Injected(op) != n || faults.Requests(op) != 2*n {
			t.Errorf("%s: %d throttled of %d requests, want %d of %d (each call throttled, then answered)", op, faults.Injected(op), faults.Requests(op), n, 2*n)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("throttled evidence differs from the unthrottled:\n got %s\nwant %s", mustJSON(t, got), mustJSON(t, want))
	}
}
