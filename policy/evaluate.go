package policy

import (
	"fmt"
	"slices"

	"github.com/why-denied/why-denied/arn"
)

// Decision is the outcome of an evaluation, in AWS's own words.
type Decision string

const (
	Allowed      Decision = "allowed"
	ImplicitDeny Decision = "implicitDeny"
	ExplicitDeny Decision = "explicitDeny"
)

// Layer names a kind of policy that takes part in authorization.
type Layer string

const (
	LayerSCP                 Layer = "scp"
	LayerRCP                 Layer = "rcp"
	LayerResource            Layer = "resource"
	LayerIdentity            Layer = "identity"
	LayerPermissionsBoundary Layer = "permissionsBoundary"
	LayerSessionPolicy       Layer = "sessionPolicy"
	// LayerVPCEndpoint is the policy of the VPC endpoint a request went
	// through. No evidence holds it and the engine does not evaluate it,
	// but AWS names it in AccessDenied messages ("... with an explicit deny
	// in a VPC endpoint policy"), so a parsed message can point at it.
	LayerVPCEndpoint Layer = "vpcEndpoint"
)

// layerOrder is the order the engine evaluates and reports its layers in.
var layerOrder = []Layer{LayerSCP, LayerRCP, LayerResource, LayerIdentity, LayerPermissionsBoundary, LayerSessionPolicy}

// ReportOrder is the order blocking layers are listed in (BlockedBy): the
// engine's layers, with the VPC endpoint policy, which only a pasted
// message names, after the organization's.
var ReportOrder = []Layer{LayerSCP, LayerRCP, LayerVPCEndpoint, LayerResource, LayerIdentity, LayerPermissionsBoundary, LayerSessionPolicy}

// Named is a policy with a name to show in traces.
type Named struct {
	Name   string
	Policy *Policy
}

// Input is a request and every policy that may apply to it.
type Input struct {
	Request Request
	// Identity holds the caller's identity-based policies (inline and
	// managed, the user's groups' included).
	Identity []Named
	// Resource is the target's resource-based policy; nil means none.
	Resource *Named
	// PermissionsBoundary is nil when the caller has none.
	PermissionsBoundary *Named
	// SessionPolicies are the policies passed when the session was created;
	// empty means none.
	SessionPolicies []Named
	// SCPs and RCPs hold one list of policies per organization level, root
	// first. nil means the account is not governed by any.
	SCPs [][]Named
	RCPs [][]Named
	// ManagementAccount: SCPs do not apply to the management account's
	// principals, RCPs not to its resources.
	ManagementAccount bool
	// ServiceLinkedRole: SCPs and RCPs do not restrict service-linked roles.
	ServiceLinkedRole bool
	// AssumeUndecidableMatch evaluates every undecidable statement (see
	// StatementTrace.Undecidable) as matching instead of not matching.
	// Evaluating the same input both ways tells whether the statements the
	// engine cannot read decide the outcome: if the two decisions differ,
	// the honest answer is unknown.
	AssumeUndecidableMatch bool
}

// LayerResult is the outcome of one layer.
type LayerResult struct {
	Layer Layer `json:"layer"`
	// Applies is false when the layer takes no part in this request (no such
	// policy, or AWS exempts the caller); Reason says why.
	Applies bool   `json:"applies"`
	Reason  string `json:"reason,omitempty"`
	// Allows: a matching Allow (at every level, for SCPs and RCPs).
	Allows bool `json:"allows"`
	// Denies: a matching explicit Deny.
	Denies bool `json:"denies"`
	// Statements traces every statement of every policy of the layer.
	Statements []StatementTrace `json:"statements"`
	// Grant is the strongest principal match among the resource policy's
	// matching Allow statements.
	Grant PrincipalMatch `json:"grant,omitempty"`
}

// Result is the outcome of Evaluate.
type Result struct {
	Decision Decision `json:"decision"`
	// BlockedBy lists every layer that blocks the request, not only the one
	// AWS would name in an error message.
	BlockedBy []Layer `json:"blockedBy"`
	// Kind is the kind of caller; CrossAccount is true when the caller's
	// account differs from the resource's.
	Kind         PrincipalKind `json:"principalKind"`
	CrossAccount bool          `json:"crossAccount"`
	Layers       []LayerResult `json:"layers"`
	// Problems lists what the engine could not evaluate, such as unknown
	// condition operators or values it cannot read, and how it treated the
	// statements affected (see Input.AssumeUndecidableMatch).
	Problems []string `json:"problems,omitempty"`
}

// UndecidableStatements returns the traces of every statement the engine
// could not decide, in layer order.
func (r *Result) UndecidableStatements() []StatementTrace {
	var out []StatementTrace
	for _, lr := range r.Layers {
		for _, st := range lr.Statements {
			if st.Undecidable != "" {
				out = append(out, st)
			}
		}
	}
	return out
}

// evaluation is what every statement of one evaluation shares.
type evaluation struct {
	req   *Request
	chain principalChain
	// ctx is req.Context indexed by folded key, built once.
	ctx               keyIndex
	assumeUndecidable bool
}

// Layer returns the result of layer l.
func (r *Result) Layer(l Layer) *LayerResult {
	for i := range r.Layers {
		if r.Layers[i].Layer == l {
			return &r.Layers[i]
		}
	}
	return nil
}

// Blocks reports whether layer l is among those blocking the request.
func (r *Result) Blocks(l Layer) bool { return slices.Contains(r.BlockedBy, l) }

// Evaluate decides the request as AWS would, following "Policy evaluation
// logic" and "Cross-account policy evaluation logic" in the IAM User Guide:
//
//  1. An explicit Deny in any applicable policy wins.
//  2. RCPs and SCPs must allow at every level of the organization (SCPs
//     not for the management account, service-linked roles or service
//     principals; RCPs not for the management account or service-linked
//     roles).
//  3. A service principal is judged by the resource policy alone.
//  4. In one account, the identity side (identity policy, or a resource
//     policy naming the role, within the permissions boundary and session
//     policies) or a resource policy naming the session or user directly
//     suffices. A resource policy naming the session ARN is not limited by
//     boundaries or session policies; one naming the user ARN is not
//     limited by the boundary; one naming the account grants nothing alone.
//  5. Across accounts, both the identity side and the resource policy must
//     allow.
func Evaluate(in *Input) *Result {
	req := &in.Request
	chain := chainOf(req)
	chain.hasBoundary = in.PermissionsBoundary != nil
	ev := &evaluation{req: req, chain: chain, ctx: req.Context.index(), assumeUndecidable: in.AssumeUndecidableMatch}
	kind := chain.kind
	service := kind == KindService
	// An anonymous caller, like a service, is judged by the resource policy
	// alone: it has no identity and belongs to no account.
	resourceOnly := service || kind == KindAnonymous
	res := &Result{Kind: kind, CrossAccount: !resourceOnly && req.PrincipalAccount() != req.resourceAccount(), Layers: make([]LayerResult, 0, len(layerOrder))}

	// "SCPs do not affect service-linked roles": AWS creates them under
	// /aws-service-role/, so the role's path says it even without the flag.
	serviceLinked := in.ServiceLinkedRole || arn.ServiceLinkedRole(req.entityARN())

	// Organization policies.
	scp := evalOrgLayer(LayerSCP, in.SCPs, ev)
	switch {
	case in.SCPs == nil:
		scp.Applies, scp.Reason = false, "no SCPs known for the caller's account"
	case service:
		scp.Applies, scp.Reason = false, "SCPs do not apply to service principals"
	case kind == KindAnonymous:
		scp.Applies, scp.Reason = false, "an anonymous caller belongs to no account, so no SCP governs it"
	case in.ManagementAccount:
		scp.Applies, scp.Reason = false, "SCPs do not apply to the management account"
	case serviceLinked:
		scp.Applies, scp.Reason = false, "SCPs do not apply to service-linked roles"
	}
	rcp := evalOrgLayer(LayerRCP, in.RCPs, ev)
	switch {
	case in.RCPs == nil:
		rcp.Applies, rcp.Reason = false, "no RCPs known for the resource's account"
	case in.ManagementAccount:
		rcp.Applies, rcp.Reason = false, "RCPs do not apply to the management account"
	case serviceLinked:
		rcp.Applies, rcp.Reason = false, "RCPs do not apply to service-linked roles"
	}

	// The resource policy.
	var resource LayerResult
	if in.Resource != nil {
		resource = evalLayer(LayerResource, []Named{*in.Resource}, ev)
	} else {
		resource = LayerResult{Layer: LayerResource, Reason: "the resource has no resource-based policy"}
	}

	// The identity side.
	identity := evalLayer(LayerIdentity, in.Identity, ev)
	var boundary LayerResult
	if in.PermissionsBoundary != nil {
		boundary = evalLayer(LayerPermissionsBoundary, []Named{*in.PermissionsBoundary}, ev)
	} else {
		boundary = LayerResult{Layer: LayerPermissionsBoundary, Reason: "the caller has no permissions boundary"}
	}
	session := evalLayer(LayerSessionPolicy, in.SessionPolicies, ev)
	switch {
	case len(in.SessionPolicies) > 0:
	case kind == KindFederatedUser:
		// "If you do not pass a policy to this operation, the resulting
		// temporary credentials have no effective permissions"
		// (GetFederationToken): the session layer allows nothing. A
		// resource policy naming the federated user session still allows
		// (MatchSession, in Decide).
		session.Applies, session.Reason = true, "a federated user session created without a session policy has no permissions"
	default:
		session.Applies, session.Reason = false, "no session policy"
	}
	if resourceOnly {
		why := "a service principal is judged by the resource policy alone"
		if kind == KindAnonymous {
			why = "an anonymous caller is judged by the resource policy alone"
		}
		identity.Applies, identity.Reason = false, why
		boundary.Applies, boundary.Reason = false, why
		session.Applies, session.Reason = false, why
	} else if kind == KindAccount {
		// "All requests are implicitly denied with the exception of the AWS
		// account root user, which has full access" (Policy evaluation
		// logic). SCPs and explicit Denies still apply.
		identity.Applies, identity.Allows = true, true
		identity.Reason = "the account root user has full access to its account"
	} else if len(in.Identity) == 0 {
		identity.Reason = "the caller has no identity-based policies"
	}

	for _, lr := range []LayerResult{scp, rcp, resource, identity, boundary, session} {
		res.Layers = append(res.Layers, lr)
		for _, st := range lr.Statements {
			if st.Undecidable == "" {
				// An operator the engine does not know is worth a word even
				// where another element already settles the statement.
				for _, c := range st.Conditions {
					if c.UnknownOperator {
						res.Problems = append(res.Problems, fmt.Sprintf("%s policy %q statement %d: unknown condition operator %q; it does not decide the statement, which does not match for other reasons",
							lr.Layer, st.Policy, st.Statement, c.Operator))
					}
				}
				continue
			}
			treated := "not matching"
			if in.AssumeUndecidableMatch {
				treated = "matching"
			}
			res.Problems = append(res.Problems, fmt.Sprintf("%s policy %q statement %d (%s): the engine cannot evaluate condition %s; the statement is treated as %s, and the decision holds only if it does not depend on this statement",
				lr.Layer, st.Policy, st.Statement, st.Effect, st.Undecidable, treated))
		}
	}

	res.Decision, res.BlockedBy = Decide(res.Kind, res.CrossAccount, res.Outcomes())
	return res
}

// Outcome is what one layer contributes to a decision.
type Outcome struct {
	Layer Layer
	// Applies is false when the layer takes no part in the request.
	Applies bool
	// Allows: a matching Allow (at every level, for SCPs and RCPs).
	Allows bool
	// Denies: a matching explicit Deny.
	Denies bool
	// Grant is the strongest principal match among the resource policy's
	// matching Allow statements.
	Grant PrincipalMatch
}

// Outcome is the layer's contribution to the decision.
func (lr *LayerResult) Outcome() Outcome {
	return Outcome{Layer: lr.Layer, Applies: lr.Applies, Allows: lr.Allows, Denies: lr.Denies, Grant: lr.Grant}
}

// Outcomes lists every layer's contribution, in report order.
func (r *Result) Outcomes() []Outcome {
	out := make([]Outcome, len(r.Layers))
	for i := range r.Layers {
		out[i] = r.Layers[i].Outcome()
	}
	return out
}

// Decide combines the layers' outcomes into AWS's decision and every layer
// that blocks, in report order ("Policy evaluation logic", "Cross-account
// policy evaluation logic"). It is the one place the combination is made:
// Evaluate uses it for the engine's own outcomes, and a caller that learned
// a layer's outcome elsewhere (AWS's policy simulator, an AccessDenied
// message) calls it with that outcome in place of the engine's.
func Decide(kind PrincipalKind, crossAccount bool, layers []Outcome) (Decision, []Layer) {
	layer := func(l Layer) Outcome {
		for _, o := range layers {
			if o.Layer == l {
				return o
			}
		}
		return Outcome{Layer: l}
	}
	blocked := map[Layer]bool{}
	explicit := false
	for _, o := range layers {
		if o.Applies && o.Denies {
			blocked[o.Layer] = true
			explicit = true
		}
	}
	for _, l := range []Layer{LayerSCP, LayerRCP, LayerVPCEndpoint} {
		if o := layer(l); o.Applies && !o.Allows {
			blocked[l] = true
		}
	}

	grant := layer(LayerResource).Grant
	idAllows := layer(LayerIdentity).Allows
	b, s := layer(LayerPermissionsBoundary), layer(LayerSessionPolicy)
	bAllows := !b.Applies || b.Allows
	sAllows := !s.Applies || s.Allows

	switch {
	case kind == KindService || kind == KindAnonymous:
		if grant == MatchNone {
			blocked[LayerResource] = true
		}
	case crossAccount:
		if grant == MatchNone {
			blocked[LayerResource] = true
		}
		if !idAllows {
			blocked[LayerIdentity] = true
		}
		if !bAllows {
			blocked[LayerPermissionsBoundary] = true
		}
		if !sAllows {
			blocked[LayerSessionPolicy] = true
		}
	default:
		direct := grant == MatchSession
		viaUser := grant == MatchUser && sAllows
		viaIdentity := (idAllows || grant == MatchRole) && bAllows && sAllows
		if !(direct || viaUser || viaIdentity) {
			if grant == MatchUser {
				blocked[LayerSessionPolicy] = true
			} else {
				if !idAllows && grant != MatchRole {
					blocked[LayerIdentity] = true
				}
				if !bAllows {
					blocked[LayerPermissionsBoundary] = true
				}
				if !sAllows {
					blocked[LayerSessionPolicy] = true
				}
			}
		}
	}

	blockedBy := []Layer{}
	for _, l := range ReportOrder {
		if blocked[l] {
			blockedBy = append(blockedBy, l)
		}
	}
	switch {
	case explicit:
		return ExplicitDeny, blockedBy
	case len(blockedBy) > 0:
		return ImplicitDeny, blockedBy
	}
	return Allowed, blockedBy
}

// evalLayer evaluates every statement of the layer's policies.
func evalLayer(layer Layer, policies []Named, ev *evaluation) LayerResult {
	lr := LayerResult{Layer: layer, Applies: len(policies) > 0}
	n := 0
	for _, np := range policies {
		if np.Policy != nil {
			n += len(np.Policy.Statements)
		}
	}
	lr.Statements = make([]StatementTrace, 0, n)
	a := newArena(policies)
	for pi, np := range policies {
		if np.Policy == nil {
			continue
		}
		for si := range np.Policy.Statements {
			st := &np.Policy.Statements[si]
			tr := evalStatement(st, np.Policy.Version, ev, layer, a)
			tr.Policy, tr.PolicyIndex = np.Name, pi
			if tr.Matched {
				if st.Effect == Deny {
					lr.Denies = true
				} else {
					lr.Allows = true
					if tr.Principal.strength() > lr.Grant.strength() {
						lr.Grant = tr.Principal
					}
				}
			}
			lr.Statements = append(lr.Statements, tr)
		}
	}
	return lr
}

// evalOrgLayer evaluates SCPs or RCPs: each level of the organization must
// have a matching Allow ("each level must allow"); a Deny at any level wins.
func evalOrgLayer(layer Layer, levels [][]Named, ev *evaluation) LayerResult {
	lr := LayerResult{Layer: layer, Applies: levels != nil, Allows: true}
	for level, policies := range levels {
		// Principal is not a condition on SCPs and RCPs: they are
		// evaluated like identity policies.
		l := evalLayer(layer, policies, ev)
		for i := range l.Statements {
			l.Statements[i].Level = level
		}
		lr.Statements = append(lr.Statements, l.Statements...)
		lr.Denies = lr.Denies || l.Denies
		lr.Allows = lr.Allows && l.Allows
	}
	if levels == nil {
		lr.Allows = false
	}
	return lr
}
