package awsclient

import (
	"context"
	"strings"
	"sync"

	"github.com/why-denied/why-denied/evidence"
)

// early lets the simulator start as soon as its inputs are known, while the
// rest of the evidence is still being read: the role or user ARN (known
// after the first round for a function caller) and the qualified resource
// ARN. A diagnosis from a function caller then takes no more sequential
// round trips with the simulator than without it.
type early struct {
	entityOnce sync.Once
	entity     chan string
	targetOnce sync.Once
	target     chan Target
}

func newEarly() *early {
	return &early{entity: make(chan string, 1), target: make(chan Target, 1)}
}

// announceEntity publishes the ARN of the role or user whose policies
// apply; "" means there is none (a service principal).
func (e *early) announceEntity(arn string) {
	if e == nil {
		return
	}
	e.entityOnce.Do(func() { e.entity <- arn })
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

// simulateEarly waits for the entity and target ARNs and runs the
// simulator. fetched is closed when the fetch has ended, in case it ended
// before announcing them (an error, or a service principal). Users are
// simulated with their function's resource policy, which is read last: for
// them the simulation waits for the whole fetch.
func (c *Client) simulateEarly(ctx context.Context, e *early, req Request, fetched <-chan struct{}, full func() *evidence.Evidence) simOutcome {
	// afterFetch simulates from the finished evidence: the inputs were
	// never announced (GetRole refused, say) or the caller is a user.
	afterFetch := func() simOutcome {
		<-fetched
		ev := full()
		if ev == nil {
			return simOutcome{err: &SimulatorError{Reason: "the evidence could not be read"}}
		}
		sim, err := c.Simulate(ctx, ev)
		return simOutcome{sim, err}
	}
	var entity string
	select {
	case entity = <-e.entity:
	case <-fetched:
		return afterFetch()
	}
	if entity == "" {
		return simOutcome{err: &SimulatorError{Reason: "a service principal caller has no IAM role or user to simulate"}}
	}
	if strings.Contains(entity, ":user/") {
		return afterFetch()
	}
	var t Target
	select {
	case t = <-e.target:
	case <-fetched:
		return afterFetch()
	}
	ev := &evidence.Evidence{
		Request: evidence.Request{Action: actionOrDefault(req.Action), Resource: t.ResourceARN(), Context: req.Context},
		Caller:  evidence.Caller{ARN: entity},
	}
	sim, err := c.Simulate(ctx, ev)
	return simOutcome{sim, err}
}
