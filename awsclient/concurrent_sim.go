package awsclient

import (
	"context"
	"strings"
	"sync"

	"github.com/why-denied/why-denied/evidence"
)

// early lets the simulator start as soon as its inputs are known, while the
// rest of the evidence is still being read:
//
//   - the caller as IAM describes it (ARN with path and tags, from GetRole
//     or GetUser): the simulator is sent the principal's tags as
//     aws:PrincipalTag/* entries, so it never starts without them;
//   - the qualified resource ARN (from the argument when it is an ARN, else
//     from GetFunctionConfiguration);
//   - for lambda:InvokeFunctionUrl, the URL's auth type
//     (lambda:FunctionUrlAuthType);
//   - for an IAM user, the resource policy, which the simulator includes
//     only for users.
//
// The simulator then adds no round trip to a role or function caller's
// diagnosis, and starts in the second round for a user.
type early struct {
	caller *future[simCaller]
	target *future[Target]
	url    *future[string]
	policy *future[*evidence.NamedPolicy]
}

// simCaller is what the simulator needs of the caller.
type simCaller struct {
	// principal is request.caller; arn the role or user simulated.
	principal, arn string
	tags           map[string]string
	// none, when set, says why there is nothing to simulate.
	none string
}

func newEarly() *early {
	return &early{caller: newFuture[simCaller](), target: newFuture[Target](), url: newFuture[string](), policy: newFuture[*evidence.NamedPolicy]()}
}

// announce publishes the caller once GetRole or GetUser has answered.
func (e *early) announce(principal string, id identity) {
	if e != nil {
		e.caller.set(simCaller{principal: principal, arn: id.arn, tags: id.tags})
	}
}

// announceNone says that the caller has no IAM role or user to simulate.
func (e *early) announceNone(reason string) {
	if e != nil {
		e.caller.set(simCaller{none: reason})
	}
}

func (e *early) announceTarget(t Target) {
	if e != nil {
		e.target.set(t)
	}
}

// announceURL publishes the function URL's auth type, "" for none.
func (e *early) announceURL(auth string) {
	if e != nil {
		e.url.set(auth)
	}
}

// announcePolicy publishes the resource policy for the qualifier, once
// settled (nil for none).
func (e *early) announcePolicy(p *evidence.NamedPolicy) {
	if e != nil {
		e.policy.set(p)
	}
}

// future is a value published once.
type future[T any] struct {
	once sync.Once
	done chan struct{}
	v    T
}

func newFuture[T any]() *future[T] { return &future[T]{done: make(chan struct{})} }

func (f *future[T]) set(v T) {
	f.once.Do(func() {
		f.v = v
		close(f.done)
	})
}

// wait returns the value, or false when stop is closed first.
func (f *future[T]) wait(stop <-chan struct{}) (T, bool) {
	select {
	case <-f.done:
		return f.v, true
	case <-stop:
		// Both may be ready: the value wins.
		select {
		case <-f.done:
			return f.v, true
		default:
		}
		var zero T
		return zero, false
	}
}

// simOutcome is what the early simulation produced.
type simOutcome struct {
	sim *evidence.Simulation
	err error
}

// simulateEarly waits for the simulator's inputs and runs it. fetched is
// closed when the fetch has ended, in case it ended before announcing them
// (an error, or GetRole refused): the simulator then works from the
// finished evidence.
func (c *Client) simulateEarly(ctx context.Context, e *early, req Request, fetched <-chan struct{}, full func() *evidence.Evidence) simOutcome {
	afterFetch := func() simOutcome {
		<-fetched
		ev := full()
		if ev == nil {
			return simOutcome{err: &SimulatorError{Reason: "the evidence could not be read"}}
		}
		sim, err := c.Simulate(ctx, ev)
		return simOutcome{sim, err}
	}
	sc, ok := e.caller.wait(fetched)
	if !ok {
		return afterFetch()
	}
	if sc.none != "" {
		return simOutcome{err: &SimulatorError{Reason: sc.none}}
	}
	t, ok := e.target.wait(fetched)
	if !ok {
		return afterFetch()
	}
	action := actionOrDefault(req.Action)
	ev := &evidence.Evidence{
		Request: evidence.Request{Caller: sc.principal, Action: action, Resource: t.ResourceARN(), Context: req.Context, At: req.At},
		Caller:  evidence.Caller{ARN: sc.arn, Tags: sc.tags},
	}
	if strings.EqualFold(action, "lambda:InvokeFunctionUrl") {
		if ev.Target.FunctionURLAuthType, ok = e.url.wait(fetched); !ok {
			return afterFetch()
		}
	}
	if strings.Contains(sc.arn, ":user/") {
		if ev.Target.ResourcePolicy, ok = e.policy.wait(fetched); !ok {
			return afterFetch()
		}
	}
	sim, err := c.Simulate(ctx, ev)
	return simOutcome{sim, err}
}
