package awsclient

import (
	"context"
	"strings"
	"sync"

	"github.com/why-denied/why-denied/evidence"
)

// early lets the simulator start as soon as its inputs are known, while the
// rest of the evidence is still being read: the caller as IAM describes it
// (ARN with path and tags, from GetRole or GetUser: the simulator is sent
// the principal's tags as aws:PrincipalTag/* entries, so it never starts
// without them) and the qualified resource ARN. A diagnosis from a function
// caller then takes no more sequential round trips with the simulator than
// without it.
type early struct {
	callerOnce sync.Once
	caller     chan simCaller
	targetOnce sync.Once
	target     chan Target
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
	return &early{caller: make(chan simCaller, 1), target: make(chan Target, 1)}
}

// announce publishes the caller once GetRole or GetUser has answered.
func (e *early) announce(principal string, id identity) {
	if e == nil {
		return
	}
	e.callerOnce.Do(func() { e.caller <- simCaller{principal: principal, arn: id.arn, tags: id.tags} })
}

// announceNone says that the caller has no IAM role or user to simulate.
func (e *early) announceNone(reason string) {
	if e == nil {
		return
	}
	e.callerOnce.Do(func() { e.caller <- simCaller{none: reason} })
}

func (e *early) announceTarget(t Target) {
	if e == nil {
		return
	}
	e.targetOnce.Do(func() { e.target <- t })
}

// simOutcome is what the early simulation produced.
type simOutcome struct {
	sim *evidence.Simulation
	err error
}

// simulateEarly waits for the caller and the target and runs the
// simulator. fetched is closed when the fetch has ended, in case it ended
// before announcing them (an error, or GetRole refused). Users are
// simulated with their function's resource policy, and function URL calls
// with the URL's auth type: for them the simulation waits for the whole
// fetch.
func (c *Client) simulateEarly(ctx context.Context, e *early, req Request, fetched <-chan struct{}, full func() *evidence.Evidence) simOutcome {
	// afterFetch simulates from the finished evidence.
	afterFetch := func() simOutcome {
		<-fetched
		ev := full()
		if ev == nil {
			return simOutcome{err: &SimulatorError{Reason: "the evidence could not be read"}}
		}
		sim, err := c.Simulate(ctx, ev)
		return simOutcome{sim, err}
	}
	var sc simCaller
	select {
	case sc = <-e.caller:
	case <-fetched:
		return afterFetch()
	}
	if sc.none != "" {
		return simOutcome{err: &SimulatorError{Reason: sc.none}}
	}
	action := actionOrDefault(req.Action)
	if strings.Contains(sc.arn, ":user/") || strings.EqualFold(action, "lambda:InvokeFunctionUrl") {
		return afterFetch()
	}
	var t Target
	select {
	case t = <-e.target:
	case <-fetched:
		return afterFetch()
	}
	ev := &evidence.Evidence{
		Request: evidence.Request{Caller: sc.principal, Action: action, Resource: t.ResourceARN(), Context: req.Context, At: req.At},
		Caller:  evidence.Caller{ARN: sc.arn, Tags: sc.tags},
	}
	sim, err := c.Simulate(ctx, ev)
	return simOutcome{sim, err}
}
