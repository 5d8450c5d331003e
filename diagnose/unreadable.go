package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/policy"
)

var (
	allowAll = policy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`)
	denyAll  = policy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`)
)

// unknownLayers are the layers with a policy the tool could not read and
// nothing else speaks for: the simulator sees every identity policy and the
// boundary even when the tool cannot read them; a pasted message is the
// authority on the layer it names; a resource policy or boundary that was
// read whole (GetResourcePolicy answered where GetPolicy was refused) is
// known. A federated user session whose session policies cannot be read
// back has an unknown session layer: without one it has no permissions.
func (d *diagnosis) unknownLayers() []policy.Layer {
	var out []policy.Layer
	add := func(l policy.Layer) {
		if !slices.Contains(out, l) && l != d.messageLayer {
			out = append(out, l)
		}
	}
	for _, u := range d.ev.Unreadable {
		switch {
		case d.simCoversIdentity() && (u.Layer == policy.LayerIdentity || u.Layer == policy.LayerPermissionsBoundary):
		case u.Layer == policy.LayerSCP && d.sim != nil && d.sim.AllowedByOrganizations != nil:
			// The simulator read the SCPs the tool could not: its
			// OrganizationsDecisionDetail is the answer.
		case u.Layer == policy.LayerResource && d.ev.Target.ResourcePolicy != nil:
		case u.Layer == policy.LayerPermissionsBoundary && d.ev.Caller.PermissionsBoundary != nil:
		default:
			add(u.Layer)
		}
	}
	if d.ev.Caller.SessionPoliciesUnknown && policy.PrincipalKindOf(d.ev.Request.Caller) == policy.KindFederatedUser {
		add(policy.LayerSessionPolicy)
	}
	return out
}

// simCoversIdentity reports whether the simulator's answer stands for the
// identity side of every check of the call: it was asked about the
// request's action only, so not for the lambda:InvokeFunction check of a
// function URL call.
func (d *diagnosis) simCoversIdentity() bool {
	return d.sim != nil && !isURLCall(d.ev.Request.Action)
}

// decide is the decision on a variant of the call, with the unreadable
// layers settled: evaluated as if each held a policy that allows everything
// and as if it held one that denies everything. When both allow, or both
// deny, that is the decision (a deny as far as the readable layers block);
// otherwise it is unknown. Without unreadable layers it is the evaluation.
func (d *diagnosis) decide(in *policy.Input) (policy.Decision, []policy.Layer, outcome) {
	if len(d.unknown) == 0 {
		o := d.evaluate(in)
		return o.decision, o.blockedBy, o
	}
	best := d.evaluate(withPolicy(in, d.unknown, allowAll))
	worst := d.evaluate(withPolicy(in, d.unknown, denyAll))
	switch {
	case best.decision == policy.Allowed && worst.decision == policy.Allowed:
		return policy.Allowed, []policy.Layer{}, best
	case best.decision != policy.Allowed && worst.decision != policy.Allowed:
		// Denied whatever the unreadable policies say: the readable layers
		// that block even when those allow everything.
		return best.decision, best.blockedBy, best
	}
	return DecisionUnknown, []policy.Layer{}, best
}

// unreadableFindings name each unreadable policy and the permission the
// tool needs for it.
func (d *diagnosis) unreadableFindings() []Finding {
	var out []Finding
	for _, u := range d.ev.Unreadable {
		msg := fmt.Sprintf("could not read %s: %s", u.What, needs(u.Action))
		switch {
		case d.simCoversIdentity() && (u.Layer == policy.LayerIdentity || u.Layer == policy.LayerPermissionsBoundary):
			msg += " (AWS's policy simulator answered for this layer, so the verdict does not depend on it)"
		case u.Layer == policy.LayerSCP && d.sim != nil && d.sim.AllowedByOrganizations != nil:
			msg += " (AWS's policy simulator answered for the SCPs as a whole, so the verdict follows it, but it names no policy or statement)"
		case !slices.Contains(d.unknown, u.Layer) && u.Layer != d.messageLayer:
			msg += " (the policy was read another way, so the verdict does not depend on it)"
		}
		out = append(out, Finding{Kind: KindUnreadable, Severity: SeverityWarning, Layer: u.Layer, Message: msg})
	}
	return out
}

// needs says what the tool needs to read a policy: an IAM permission, or
// nothing it could be given (the IAM user behind a federated user session
// is recorded nowhere the account can be read).
func needs(actions string) string {
	if actions == "" {
		return "no permission lets the tool read it from the account"
	}
	return "the tool needs " + actions
}

// unreadableWords names the unreadable policies of layers, and the actions
// the tool needs to read them.
func (d *diagnosis) unreadableWords(layers []policy.Layer) (what, actions string) {
	var names, acts []string
	for _, u := range d.ev.Unreadable {
		if slices.Contains(layers, u.Layer) {
			names = append(names, u.What)
			if u.Action != "" && !slices.Contains(acts, u.Action) {
				acts = append(acts, u.Action)
			}
		}
	}
	if len(names) == 0 && slices.Contains(layers, policy.LayerSessionPolicy) {
		names = append(names, "the session policy the federated user session was created with")
		acts = append(acts, "the GetFederationToken call's Policy and PolicyArns (not readable from the account)")
	}
	return strings.Join(names, " or "), strings.Join(acts, ", ")
}
