package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// DecisionUnknown is the verdict when the policies the tool could read do
// not settle the request: an unreadable policy could still allow or deny it.
const DecisionUnknown policy.Decision = "unknown"

// unknownLayers are the layers with an unreadable policy that the simulator
// did not answer for: it sees every identity policy and the boundary even
// when the tool cannot read them.
func unknownLayers(ev *evidence.Evidence) []policy.Layer {
	var out []policy.Layer
	for _, u := range ev.Unreadable {
		if ev.Simulation != nil && (u.Layer == policy.LayerIdentity || u.Layer == policy.LayerPermissionsBoundary) {
			continue
		}
		if !slices.Contains(out, u.Layer) {
			out = append(out, u.Layer)
		}
	}
	return out
}

var (
	allowAll = policy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`)
	denyAll  = policy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`)
)

// boundWith evaluates the request as if every unknown layer held p.
func boundWith(ev *evidence.Evidence, in *policy.Input, unknown []policy.Layer, p *policy.Policy) *policy.Result {
	c := cloneInput(in)
	n := policy.Named{Name: "unreadable policy", Policy: p}
	for _, l := range unknown {
		switch l {
		case policy.LayerIdentity:
			c.Identity = append(c.Identity, n)
		case policy.LayerResource:
			c.Resource = &n
		case policy.LayerPermissionsBoundary:
			c.PermissionsBoundary = &n
		case policy.LayerSessionPolicy:
			c.SessionPolicies = append(c.SessionPolicies, n)
		}
	}
	return evaluateWithSimulation(ev, c)
}

// settleUnknown decides what the readable layers settle. An explicit Deny
// found is a Deny whatever the rest says; otherwise, if the request would be
// allowed when the unreadable policies allow everything but denied when they
// deny everything, nothing is settled: the decision is unknown.
func settleUnknown(ev *evidence.Evidence, in *policy.Input, v *Verdict) {
	unknown := unknownLayers(ev)
	if len(unknown) == 0 || v.Decision == policy.ExplicitDeny {
		return
	}
	best := boundWith(ev, in, unknown, allowAll)
	worst := boundWith(ev, in, unknown, denyAll)
	if best.Decision == worst.Decision {
		return
	}
	what, actions := unreadableWords(ev, unknown)
	known := v.Decision
	v.Decision = DecisionUnknown
	v.UnknownLayers = unknown
	if known == policy.Allowed {
		v.Summary = fmt.Sprintf("UNKNOWN: the policies read allow the call, unless %s has a Deny; the tool could not read it (it needs %s)", what, actions)
	} else {
		v.Summary = fmt.Sprintf("UNKNOWN: the policies read deny the call (%s), unless it is allowed by %s; the tool could not read it (it needs %s)", known, what, actions)
	}
	for i := range v.Layers {
		if slices.Contains(unknown, v.Layers[i].Layer) {
			v.Layers[i].Result = "unknown"
			v.Layers[i].Blocks = false
			v.Layers[i].Note = "could not be read: the tool needs " + actionsOf(ev, v.Layers[i].Layer)
		}
	}
	// A layer that could not be read is not known to block.
	v.Findings = slices.DeleteFunc(v.Findings, func(f Finding) bool {
		return f.Severity == SeverityBlocking && slices.Contains(unknown, f.Layer)
	})
	var blocked []policy.Layer
	for _, l := range v.BlockedBy {
		if !slices.Contains(unknown, l) {
			blocked = append(blocked, l)
		}
	}
	v.BlockedBy = nonNilLayers(blocked)
}

// unreadableFindings name each unreadable policy and the permission the
// tool needs for it.
func unreadableFindings(ev *evidence.Evidence) []Finding {
	var out []Finding
	for _, u := range ev.Unreadable {
		msg := fmt.Sprintf("could not read %s: the tool needs %s", u.What, u.Action)
		if ev.Simulation != nil && (u.Layer == policy.LayerIdentity || u.Layer == policy.LayerPermissionsBoundary) {
			msg += " (AWS's policy simulator answered for this layer, so the verdict does not depend on it)"
		}
		out = append(out, Finding{Kind: "unreadable", Severity: SeverityWarning, Layer: u.Layer, Message: msg})
	}
	return out
}

func unreadableWords(ev *evidence.Evidence, layers []policy.Layer) (what, actions string) {
	var names, acts []string
	for _, u := range ev.Unreadable {
		if slices.Contains(layers, u.Layer) {
			names = append(names, u.What)
			if !slices.Contains(acts, u.Action) {
				acts = append(acts, u.Action)
			}
		}
	}
	return strings.Join(names, " or "), strings.Join(acts, ", ")
}

func actionsOf(ev *evidence.Evidence, l policy.Layer) string {
	_, a := unreadableWords(ev, []policy.Layer{l})
	return a
}

func nonNilLayers(ls []policy.Layer) []policy.Layer {
	if ls == nil {
		return []policy.Layer{}
	}
	return ls
}

// cloneInput copies an input deeply enough to add policies to its layers.
func cloneInput(in *policy.Input) *policy.Input {
	c := *in
	c.Identity = slices.Clone(in.Identity)
	c.SessionPolicies = slices.Clone(in.SessionPolicies)
	return &c
}
