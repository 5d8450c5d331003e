package diagnose

import (
	"slices"
	"strings"

	"github.com/why-denied/why-denied/policy"
)

// leg is one authorization check the call needs. Most calls need one; a
// function URL call needs two: lambda:InvokeFunctionUrl, and (since October
// 2025) lambda:InvokeFunction with lambda:InvokedViaFunctionUrl (Lambda
// Developer Guide, "Control access to function URLs").
type leg struct {
	action string
	in     *policy.Input
	// res is the engine's evaluation, with its per-statement trace.
	res *policy.Result
	// outcomes are the layers' outcomes the decision rests on: the engine's,
	// with the simulator's answer and a pasted message laid over them.
	outcomes  []policy.Outcome
	sources   map[policy.Layer]Source
	decision  policy.Decision
	blockedBy []policy.Layer
}

func (l *leg) outcome(layer policy.Layer) policy.Outcome {
	for _, o := range l.outcomes {
		if o.Layer == layer {
			return o
		}
	}
	return policy.Outcome{Layer: layer}
}

// outcome is the evaluation of one variant of the call: every leg, and
// their combined decision.
type outcome struct {
	decision  policy.Decision
	blockedBy []policy.Layer
	legs      []leg
}

func (o *outcome) blocks(l policy.Layer) bool { return slices.Contains(o.blockedBy, l) }

// legFor is the leg a layer is reported from: the first in which it
// denies explicitly, else the first that it blocks, else the first.
func (o *outcome) legFor(l policy.Layer) *leg {
	for i := range o.legs {
		if lo := o.legs[i].outcome(l); lo.Applies && lo.Denies {
			return &o.legs[i]
		}
	}
	for i := range o.legs {
		if slices.Contains(o.legs[i].blockedBy, l) {
			return &o.legs[i]
		}
	}
	return &o.legs[0]
}

const (
	actionInvoke    = "lambda:InvokeFunction"
	actionInvokeURL = "lambda:InvokeFunctionUrl"
)

func isURLCall(action string) bool { return strings.EqualFold(action, actionInvokeURL) }

// legsOf lists the checks the request needs, each as the engine's input.
func legsOf(in *policy.Input) []*policy.Input {
	if !isURLCall(in.Request.Action) {
		return []*policy.Input{in}
	}
	invoke := *withContext(in, map[string]string{"lambda:InvokedViaFunctionUrl": "true"})
	invoke.Request.Action = actionInvoke
	return []*policy.Input{in, &invoke}
}

// evaluate decides one variant of the call: each leg by the engine, with
// what the simulator and a pasted message say laid over the layers they
// speak for, then combined. The simulator's recorded answer is about the
// request's own action and resource: it is laid over a variant only where
// those are the same. Every evaluation of the diagnosis goes through
// here: the request itself, unreadable layers filled in, request-time keys
// tried, fixes checked.
func (d *diagnosis) evaluate(in *policy.Input) outcome {
	var out outcome
	blocked := map[policy.Layer]bool{}
	for i, lin := range legsOf(in) {
		res := policy.Evaluate(lin)
		l := leg{action: lin.Request.Action, in: lin, res: res, outcomes: res.Outcomes(), sources: map[policy.Layer]Source{}}
		for _, o := range l.outcomes {
			l.sources[o.Layer] = SourceLocal
		}
		if d.sim != nil && strings.EqualFold(lin.Request.Action, d.ev.Request.Action) && lin.Request.Resource == d.ev.Request.Resource {
			d.overlaySimulation(&l)
		}
		if d.messageLayer != "" && d.messageLeg(i, lin.Request.Action) {
			d.overlayMessage(&l)
		}
		if d.unsignedToIAMURL() {
			// "AWS_IAM: Lambda uses IAM to authenticate and authorize
			// requests" (Lambda Developer Guide, "Control access to Lambda
			// function URLs"): an unsigned request is refused before any
			// policy could grant it, a Principal "*" statement included.
			for j := range l.outcomes {
				if l.outcomes[j].Layer == policy.LayerResource {
					l.outcomes[j].Applies, l.outcomes[j].Allows, l.outcomes[j].Grant = true, false, policy.MatchNone
				}
			}
		}
		l.decision, l.blockedBy = policy.Decide(res.Kind, res.CrossAccount, l.outcomes)
		for _, b := range l.blockedBy {
			blocked[b] = true
		}
		out.legs = append(out.legs, l)
	}
	out.decision = policy.Allowed
	for _, l := range out.legs {
		out.decision = worse(out.decision, l.decision)
	}
	out.blockedBy = []policy.Layer{}
	for _, l := range policy.ReportOrder {
		if blocked[l] {
			out.blockedBy = append(out.blockedBy, l)
		}
	}
	return out
}

// worse is the stronger of two decisions: an explicit deny over an implicit
// one over an allow.
func worse(a, b policy.Decision) policy.Decision {
	rank := map[policy.Decision]int{policy.Allowed: 0, policy.ImplicitDeny: 1, policy.ExplicitDeny: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// messageLeg reports whether leg i, for action, is the check a pasted
// message is about: the leg of the message's action, or the first.
func (d *diagnosis) messageLeg(i int, action string) bool {
	if d.message.Action != "" && isURLCall(d.ev.Request.Action) {
		return strings.EqualFold(d.message.Action, action)
	}
	return i == 0
}

// overlayMessage: for a layer the tool cannot read, a pasted AccessDenied
// message that names it is the authority: it does not allow the call, and
// denies it explicitly when the message says "with an explicit deny".
func (d *diagnosis) overlayMessage(l *leg) {
	o := policy.Outcome{Layer: d.messageLayer, Applies: true, Denies: d.message.Explicit}
	if i := slices.IndexFunc(l.outcomes, func(x policy.Outcome) bool { return x.Layer == d.messageLayer }); i >= 0 {
		l.outcomes[i] = o
	} else {
		l.outcomes = append(l.outcomes, o)
	}
	l.sources[d.messageLayer] = SourceMessage
}

// unsignedToIAMURL reports an anonymous call to a function URL whose auth
// type is AWS_IAM: it accepts only requests signed with AWS credentials.
func (d *diagnosis) unsignedToIAMURL() bool {
	return policy.PrincipalKindOf(d.ev.Request.Caller) == policy.KindAnonymous && isURLCall(d.ev.Request.Action) &&
		strings.EqualFold(d.ev.Target.FunctionURLAuthType, "AWS_IAM")
}
