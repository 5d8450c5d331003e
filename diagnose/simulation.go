package diagnose

import (
	"strings"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// outcome is one layer's answer, kept to compare the simulator with the
// local engine.
type outcome struct {
	applies, allows, denies bool
}

func snapshotOutcomes(res *policy.Result) map[policy.Layer]outcome {
	m := map[policy.Layer]outcome{}
	for _, lr := range res.Layers {
		m[lr.Layer] = outcome{lr.Applies, lr.Allows, lr.Denies}
	}
	return m
}

// simulatedLayer reports whether iam:SimulatePrincipalPolicy answers for a
// layer. It evaluates identity policies, permissions boundaries and SCPs
// (OrganizationsDecisionDetail); it does not simulate RCPs, session policies
// or, for role callers, resource policies.
func simulatedLayer(l policy.Layer) bool {
	return l == policy.LayerIdentity || l == policy.LayerPermissionsBoundary || l == policy.LayerSCP
}

// applySimulation lays the simulator's answer over the local result for the
// layers it covers, and recombines. AWS's simulator is the authority on the
// identity side: where it answers, its answer decides.
func applySimulation(res *policy.Result, sim *evidence.Simulation, unavailable string) SimulatorInfo {
	if sim == nil {
		if unavailable == "" {
			unavailable = "no simulation recorded in the evidence"
		}
		return SimulatorInfo{Note: "not used (" + unavailable + "); the local engine answered every layer"}
	}
	info := SimulatorInfo{Used: true, Decision: sim.Decision,
		Note: "answered for identity policies, permissions boundary and SCPs; resource policy, session policies and RCPs were evaluated locally"}
	if sim.IncludedResourcePolicy {
		info.Note = "answered for identity policies, permissions boundary, SCPs and the resource policy (IAM user caller); session policies and RCPs were evaluated locally"
	}
	identity := res.Layer(policy.LayerIdentity)
	boundary := res.Layer(policy.LayerPermissionsBoundary)
	scp := res.Layer(policy.LayerSCP)

	orgBlocks := sim.AllowedByOrganizations != nil && !*sim.AllowedByOrganizations
	pbBlocks := sim.AllowedByPermissionsBoundary != nil && !*sim.AllowedByPermissionsBoundary
	if orgBlocks {
		if !scp.Applies {
			scp.Applies = true
			scp.Reason = "the simulator reports that SCPs of the organization do not allow the call (their documents were not read)"
		}
		scp.Allows = false
	} else if sim.AllowedByOrganizations != nil && scp.Applies {
		scp.Allows = true
	}
	if pbBlocks && boundary.Applies {
		boundary.Allows = false
	} else if sim.AllowedByPermissionsBoundary != nil && *sim.AllowedByPermissionsBoundary && boundary.Applies {
		boundary.Allows, boundary.Denies = true, false
	}

	switch sim.Decision {
	case string(policy.Allowed):
		// For an IAM user the simulator may have allowed through the
		// resource policy alone; then it says nothing of the identity side.
		viaResource := sim.IncludedResourcePolicy && !res.CrossAccount && res.Layer(policy.LayerResource).Grant != policy.MatchNone
		if !viaResource {
			identity.Allows, identity.Denies = true, false
			if boundary.Applies {
				boundary.Allows, boundary.Denies = true, false
			}
		}
		if scp.Applies {
			scp.Allows, scp.Denies = true, false
		}
	case string(policy.ImplicitDeny):
		identity.Denies = false
		if !orgBlocks && !pbBlocks && !sim.IncludedResourcePolicy {
			identity.Allows = false
		}
	case string(policy.ExplicitDeny):
		for _, m := range sim.MatchedStatements {
			switch strings.ToLower(m.SourcePolicyType) {
			case "resource":
				res.Layer(policy.LayerResource).Denies = true
			case "none", "":
				// An SCP or boundary statement: named by the details below.
			default:
				identity.Denies = true
			}
		}
		switch {
		case identity.Denies || res.Layer(policy.LayerResource).Denies:
		case orgBlocks:
			scp.Denies = true
		case pbBlocks:
			boundary.Denies = true
		default:
			identity.Applies, identity.Denies = true, true
		}
	}
	res.Recombine()
	return info
}

// simulatorAgrees compares the simulator's decision with what the local
// engine decided for the same layers before the simulator's answer was laid
// over it. SCPs whose documents were not read are left out: the local engine
// could not speak for them.
func simulatorAgrees(local map[policy.Layer]outcome, res *policy.Result, sim *evidence.Simulation) bool {
	layers := []policy.Layer{policy.LayerIdentity, policy.LayerPermissionsBoundary}
	if local[policy.LayerSCP].applies {
		layers = append(layers, policy.LayerSCP)
	}
	if sim.IncludedResourcePolicy {
		layers = append(layers, policy.LayerResource)
	}
	decision := policy.Allowed
	denied := false
	allows := true
	for _, l := range layers {
		o := local[l]
		if o.applies && o.denies {
			denied = true
		}
		switch l {
		case policy.LayerIdentity:
			allows = allows && o.allows
		case policy.LayerResource:
			// A user caller is allowed by either side in one account.
			if o.allows && !res.CrossAccount {
				allows = true
			}
		default:
			allows = allows && (!o.applies || o.allows)
		}
	}
	switch {
	case denied:
		decision = policy.ExplicitDeny
	case !allows:
		decision = policy.ImplicitDeny
	}
	if sim.AllowedByOrganizations != nil && !*sim.AllowedByOrganizations && !local[policy.LayerSCP].applies {
		// The simulator knows SCPs the local engine did not read.
		return sim.Decision != string(policy.Allowed)
	}
	return string(decision) == sim.Decision
}

// evaluateWithSimulation evaluates a variant of the request (a fix, an
// unreadable layer filled in, a context value tried) with the simulator's
// answer laid over it, as Diagnose does for the request itself.
func evaluateWithSimulation(ev *evidence.Evidence, in *policy.Input) *policy.Result {
	r := policy.Evaluate(in)
	applySimulation(r, ev.Simulation, ev.SimulatorUnavailable)
	return r
}
