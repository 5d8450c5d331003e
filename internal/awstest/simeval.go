package awstest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/policy"
)

// simulation is what the evaluating stand-in knows for one request: the
// principal's policies, the organization's SCPs, and the request.
type simulation struct {
	req       *simRequest
	principal *principalPolicies
	// scps holds one list per organization level, root first; nil when the
	// test set none (then no OrganizationsDecisionDetail is reported).
	scps [][]policy.Named
	// resourcePolicy is the given ResourcePolicy, evaluated only for an IAM
	// user caller; nil otherwise.
	resourcePolicy *policy.Named
	// caller is the principal the request is evaluated for: the user of
	// CallerArn (or of PolicySourceArn), or the role of PolicySourceArn.
	caller string
}

// newSimulation checks the request against the rules of the API reference
// and parses what it carries.
//
// "CallerArn: The ARN of the IAM user that you want to specify as the
// simulated caller of the API operations. If you do not specify a
// CallerArn, it defaults to the ARN of the user that you specify in
// PolicySourceArn, if you specified a user. ... You can specify only the
// ARN of an IAM user. ... CallerArn is required if you include a
// ResourcePolicy and the PolicySourceArn is not the ARN for an IAM user."
// (IAM API Reference, SimulatePrincipalPolicy)
func newSimulation(req *simRequest, principal *principalPolicies, scps [][]string) (*simulation, error) {
	s := &simulation{req: req, principal: principal, caller: req.source}
	if req.caller != "" {
		if policy.PrincipalKindOf(req.caller) != policy.KindUser {
			return nil, &simInputError{fmt.Sprintf("CallerArn %s is not the ARN of an IAM user", req.caller)}
		}
		s.caller = req.caller
	}
	if req.resourcePolicy != "" {
		if policy.PrincipalKindOf(s.caller) != policy.KindUser {
			return nil, &simInputError{"CallerArn is required with a ResourcePolicy when PolicySourceArn is not an IAM user"}
		}
		doc, err := policy.Parse([]byte(req.resourcePolicy))
		if err != nil {
			return nil, &simInputError{fmt.Sprintf("ResourcePolicy: %v", err)}
		}
		s.resourcePolicy = &policy.Named{Name: "ResourcePolicy", Policy: doc}
	}
	for i, doc := range req.policyInputs {
		p, err := policy.Parse([]byte(doc))
		if err != nil {
			return nil, &simInputError{fmt.Sprintf("PolicyInputList.member.%d: %v", i+1, err)}
		}
		principal.identity = append(principal.identity, sourcePolicy{id: fmt.Sprintf("PolicyInputList.%d", i+1), kind: "none", policy: p})
	}
	if len(req.boundaryInputs) > 0 {
		// One boundary per entity; the API takes a list of one.
		p, err := policy.Parse([]byte(req.boundaryInputs[0]))
		if err != nil {
			return nil, &simInputError{fmt.Sprintf("PermissionsBoundaryPolicyInputList.member.1: %v", err)}
		}
		principal.boundary = &sourcePolicy{id: "PermissionsBoundaryPolicyInputList.1", kind: "none", policy: p}
	}
	for l, level := range scps {
		var named []policy.Named
		for i, doc := range level {
			p, err := policy.Parse([]byte(doc))
			if err != nil {
				return nil, fmt.Errorf("the test's SCP %d of level %d: %w", i, l, err)
			}
			named = append(named, policy.Named{Name: fmt.Sprintf("SCP-%d-%d", l, i), Policy: p})
		}
		s.scps = append(s.scps, named)
	}
	return s, nil
}

// resourceResult is the simulator's answer for one action on one resource.
type resourceResult struct {
	resource string
	decision policy.Decision
	matched  []matchedStatement
	missing  []string
	boundary *bool // AllowedByPermissionsBoundary; nil without a boundary
	orgs     *bool // AllowedByOrganizations; nil without SCPs
}

type matchedStatement struct {
	id, kind string
}

// evaluate answers one action on one resource with the project's engine,
// from the context entries of the request alone: AWS's simulator fills in
// no key (no principal tags, no aws:PrincipalArn, no region, no time) that
// was not sent.
func (s *simulation) evaluate(action, resource string) resourceResult {
	in := &policy.Input{
		Request: policy.Request{
			Principal:    s.caller,
			PrincipalARN: s.caller,
			Action:       action,
			Resource:     resource,
			Context:      s.req.context,
		},
		SCPs:              s.scps,
		ServiceLinkedRole: s.principal.serviceLinked,
	}
	for _, sp := range s.principal.identity {
		in.Identity = append(in.Identity, policy.Named{Name: sp.id, Policy: sp.policy})
	}
	if b := s.principal.boundary; b != nil {
		in.PermissionsBoundary = &policy.Named{Name: b.id, Policy: b.policy}
	}
	switch {
	case s.resourcePolicy != nil:
		in.Resource = s.resourcePolicy
		in.Request.ResourceAccount = s.req.resourceOwner
	default:
		// Without a resource policy the simulator judges the identity side
		// alone, whatever account the resource ARN names (or "*").
		in.Request.ResourceAccount = in.Request.PrincipalAccount()
	}
	res := policy.Evaluate(in)

	out := resourceResult{resource: resource, decision: res.Decision, missing: []string{}}
	if lr := res.Layer(policy.LayerPermissionsBoundary); in.PermissionsBoundary != nil && lr != nil {
		// "A value of true means the permissions boundary does not deny the
		// action. This means that the policy includes an Allow statement
		// that matches the request." (PermissionsBoundaryDecisionDetail)
		allowed := lr.Allows && !lr.Denies
		out.boundary = &allowed
	}
	if lr := res.Layer(policy.LayerSCP); s.scps != nil && lr != nil {
		allowed := !lr.Applies || (lr.Allows && !lr.Denies)
		out.orgs = &allowed
	}
	out.matched = matchedStatements(res, s.principal.identity)
	var evaluated []policy.StatementTrace
	for _, lr := range res.Layers {
		if lr.Applies || lr.Layer == policy.LayerIdentity {
			evaluated = append(evaluated, lr.Statements...)
		}
	}
	out.missing = missingContext(evaluated)
	return out
}

// matchedStatements are "the statements in the input policies that
// determine the result ... if any statement denies that operation, then
// the explicit deny overrides any allow. In addition, the deny statement is
// the only entry included in the result." (EvaluationResult). Identity and
// resource statements are listed; boundaries and SCPs are reported by
// their own decision details.
func matchedStatements(res *policy.Result, identity []sourcePolicy) []matchedStatement {
	want := policy.Allow
	switch res.Decision {
	case policy.ImplicitDeny:
		return nil
	case policy.ExplicitDeny:
		want = policy.Deny
	}
	var out []matchedStatement
	for _, l := range []policy.Layer{policy.LayerIdentity, policy.LayerResource} {
		lr := res.Layer(l)
		if lr == nil {
			continue
		}
		for _, st := range lr.Statements {
			if !st.Matched || st.Effect != want {
				continue
			}
			m := matchedStatement{id: st.Policy, kind: "resource"}
			if l == policy.LayerIdentity && st.PolicyIndex < len(identity) {
				m.kind = identity[st.PolicyIndex].kind
			}
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// missingContext lists the condition keys (and policy variables in
// conditions) that statements relevant to the action and resource use and
// the request did not give: "A list of context keys that are required by
// the included input policies but that were not provided by one of the
// input parameters." (EvaluationResult, MissingContextValues). Each key is
// listed once, as the first policy spells it.
func missingContext(traces []policy.StatementTrace) []string {
	out := []string{}
	add := func(key string) {
		if !containsFold(out, key) {
			out = append(out, key)
		}
	}
	for _, st := range traces {
		if !relevant(st) {
			continue
		}
		for _, c := range st.Conditions {
			if !c.KeyPresent {
				add(c.Key)
			}
			for _, v := range c.Unresolved {
				add(v)
			}
		}
	}
	return out
}

// containsFold reports whether keys holds key, compared as AWS compares
// condition keys: case-insensitively.
func containsFold(keys []string, key string) bool {
	return slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, key) })
}

// relevant reports whether a statement applies to the request's action,
// resource and principal, whatever its conditions say.
func relevant(st policy.StatementTrace) bool {
	for _, f := range st.Failures {
		if f.Element != policy.ElemCondition {
			return false
		}
	}
	return true
}
