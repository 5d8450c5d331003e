package diagnose

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// InputError is a problem with the evidence itself (a broken policy
// document, a malformed ARN): bad input, not an AWS failure.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// documents holds the policy documents parsed so far in one diagnosis, by
// their text: a fix changes one document of many, and checking it must not
// parse the others again.
type documents map[string]*policy.Policy

func (c documents) parse(doc json.RawMessage) (*policy.Policy, error) {
	if p, ok := c[string(doc)]; ok {
		return p, nil
	}
	p, err := policy.Parse(doc)
	if err != nil {
		return nil, err
	}
	c[string(doc)] = p
	return p, nil
}

// buildInput parses every policy document of the evidence into the
// engine's input, with the request context AWS would build at now.
func buildInput(ev *evidence.Evidence, now time.Time, docs documents) (*policy.Input, error) {
	in := &policy.Input{
		Request: policy.Request{
			Principal:       ev.Request.Caller,
			PrincipalARN:    ev.Caller.ARN,
			Action:          ev.Request.Action,
			Resource:        ev.Request.Resource,
			ResourceAccount: ev.Target.Account,
			Context:         evidence.RequestContext(ev, now),
		},
		ServiceLinkedRole: ev.Caller.ServiceLinkedRole,
	}
	if _, ok := arn.Parse(ev.Request.Resource); !ok {
		return nil, &InputError{Msg: fmt.Sprintf("request resource %q is not an ARN", ev.Request.Resource)}
	}
	if k := in.Request.Kind(); k == policy.KindUnknown {
		return nil, &InputError{Msg: fmt.Sprintf("request caller %q is neither an IAM principal ARN, a service principal, nor anonymous", ev.Request.Caller)}
	}
	parse := func(what string, np evidence.NamedPolicy) (policy.Named, error) {
		p, err := docs.parse(np.Document)
		if err != nil {
			return policy.Named{}, &InputError{Msg: fmt.Sprintf("%s %q: %v", what, np.Name, err)}
		}
		return policy.Named{Name: np.Name, Policy: p}, nil
	}
	for _, np := range ev.Caller.IdentityPolicies {
		n, err := parse("identity policy", np)
		if err != nil {
			return nil, err
		}
		in.Identity = append(in.Identity, n)
	}
	if np := ev.Caller.PermissionsBoundary; np != nil {
		n, err := parse("permissions boundary", *np)
		if err != nil {
			return nil, err
		}
		in.PermissionsBoundary = &n
	}
	for _, np := range ev.Caller.SessionPolicies {
		n, err := parse("session policy", np)
		if err != nil {
			return nil, err
		}
		in.SessionPolicies = append(in.SessionPolicies, n)
	}
	if np := ev.Target.ResourcePolicy; np != nil {
		n, err := parse("resource policy", *np)
		if err != nil {
			return nil, err
		}
		in.Resource = &n
	}
	if org := ev.Organization; org != nil {
		// "SCPs don't affect users or roles in the management account":
		// known by the flag, or by the account the organization names.
		in.ManagementAccount = org.ManagementAccount || (org.ManagementAccountID != "" && org.ManagementAccountID == in.Request.PrincipalAccount())
		var err error
		if in.SCPs, err = parseLevels("SCP", org.SCPs, docs, org); err != nil {
			return nil, err
		}
		if in.RCPs, err = parseLevels("RCP", org.RCPs, docs, nil); err != nil {
			return nil, err
		}
		if !rcpApplies(ev.Request.Action) {
			in.RCPs = nil
		}
	}
	// Counts beyond AWS's own quotas are not a request AWS would see.
	if err := policy.CheckLimits(in); err != nil {
		return nil, err
	}
	return in, nil
}

// parseLevels parses one list of documents per organization level; an SCP
// is named as Organizations names it when the evidence says (org.Levels).
func parseLevels(kind string, levels [][]json.RawMessage, docs documents, org *evidence.Organization) ([][]policy.Named, error) {
	if levels == nil {
		return nil, nil
	}
	out := make([][]policy.Named, len(levels))
	for l, level := range levels {
		out[l] = []policy.Named{}
		for i, d := range level {
			p, err := docs.parse(d)
			if err != nil {
				return nil, &InputError{Msg: fmt.Sprintf("%s %d at organization level %d: %v", kind, i, l, err)}
			}
			name := fmt.Sprintf("%s level %d policy %d", kind, l, i)
			if named, ok := org.SCP(l, i); ok && named.Name != "" {
				name = named.Name
			} else if p.ID != "" {
				name = p.ID
			}
			out[l] = append(out[l], policy.Named{Name: name, Policy: p})
		}
	}
	return out, nil
}

// withContext is in with extra context keys set (replacing any spelling of
// the same key: condition keys are case-insensitive).
func withContext(in *policy.Input, extra map[string]string) *policy.Input {
	c := *in
	ctx := make(policy.Context, len(in.Request.Context)+len(extra))
	for k, v := range in.Request.Context {
		ctx[k] = v
	}
	for k, v := range extra {
		for old := range ctx {
			if strings.EqualFold(old, k) {
				delete(ctx, old)
			}
		}
		ctx[k] = []string{v}
	}
	c.Request.Context = ctx
	return &c
}

// withPolicy is in with p added to (or put in place of) each layer in
// layers: what an unreadable policy of that layer could hold.
func withPolicy(in *policy.Input, layers []policy.Layer, p *policy.Policy) *policy.Input {
	c := *in
	c.Identity = append([]policy.Named(nil), in.Identity...)
	c.SessionPolicies = append([]policy.Named(nil), in.SessionPolicies...)
	n := policy.Named{Name: "unreadable policy", Policy: p}
	for _, l := range layers {
		switch l {
		case policy.LayerIdentity:
			c.Identity = append(c.Identity, n)
		case policy.LayerResource:
			c.Resource = &n
		case policy.LayerPermissionsBoundary:
			c.PermissionsBoundary = &n
		case policy.LayerSessionPolicy:
			c.SessionPolicies = append(c.SessionPolicies, n)
		case policy.LayerSCP:
			// SCPs that could not be read: one level holding what they
			// could say.
			c.SCPs = [][]policy.Named{{n}}
		}
	}
	return &c
}
