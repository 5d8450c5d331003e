package diagnose

import (
	"fmt"
	"strings"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// simulatedLayer reports whether iam:SimulatePrincipalPolicy answers for a
// layer. It evaluates identity policies, permissions boundaries and SCPs
// (OrganizationsDecisionDetail); it does not simulate RCPs, session policies
// or, for role callers, resource policies.
func simulatedLayer(l policy.Layer) bool {
	return l == policy.LayerIdentity || l == policy.LayerPermissionsBoundary || l == policy.LayerSCP
}

// simulationSettles reports whether the simulator's recorded answer can be
// laid over the local evaluation, and if not, why. The simulator evaluates
// only the context entries it is given and lists the others in
// MissingContextValues: an answer given without a key the tool knows (it
// would have evaluated differently), or without a request-time key the
// outcome may turn on (the tool tries its values), settles nothing.
func simulationSettles(sim *evidence.Simulation, in *policy.Input, absent, prefixes []string) (bool, string) {
	var stale []string
	probed := dependentKeys(in, absent, prefixes)
	for _, k := range sim.MissingContextValues {
		_, known := in.Request.Context.Lookup(k)
		_, key := lookupFold(probed, k)
		tried := key != nil
		if known || tried {
			stale = append(stale, k)
		}
	}
	if len(stale) == 0 {
		return true, ""
	}
	return false, fmt.Sprintf("it answered %s without a value for %s, which the outcome may turn on, so its answer settles nothing here; the local engine answered every layer",
		sim.Decision, strings.Join(stale, ", "))
}

// overlaySimulation lays the simulator's answer over the engine's outcomes
// of the layers it covers: AWS's simulator is the authority on the identity
// side where it answers (it sees policies the tool may not have read).
func (d *diagnosis) overlaySimulation(l *leg) {
	sim := d.sim
	at := func(layer policy.Layer) *policy.Outcome {
		for i := range l.outcomes {
			if l.outcomes[i].Layer == layer {
				return &l.outcomes[i]
			}
		}
		l.outcomes = append(l.outcomes, policy.Outcome{Layer: layer})
		return &l.outcomes[len(l.outcomes)-1]
	}
	identity, boundary, scp, resource := at(policy.LayerIdentity), at(policy.LayerPermissionsBoundary), at(policy.LayerSCP), at(policy.LayerResource)
	l.sources[policy.LayerIdentity] = SourceSimulator
	if sim.IncludedResourcePolicy {
		l.sources[policy.LayerResource] = SourceSimulator
	}

	orgBlocks := sim.AllowedByOrganizations != nil && !*sim.AllowedByOrganizations
	pbBlocks := sim.AllowedByPermissionsBoundary != nil && !*sim.AllowedByPermissionsBoundary
	if sim.AllowedByOrganizations != nil {
		// The simulator read the SCPs that govern the caller, whether the
		// tool did or not.
		scp.Applies, scp.Allows = true, *sim.AllowedByOrganizations
		if scp.Allows {
			scp.Denies = false
		}
		l.sources[policy.LayerSCP] = SourceSimulator
	}
	if sim.AllowedByPermissionsBoundary != nil {
		// A boundary detail means the caller has a boundary, even one the
		// tool could not read.
		boundary.Applies, boundary.Allows = true, *sim.AllowedByPermissionsBoundary
		if boundary.Allows {
			boundary.Denies = false
		}
		l.sources[policy.LayerPermissionsBoundary] = SourceSimulator
	} else if boundary.Applies {
		l.sources[policy.LayerPermissionsBoundary] = SourceSimulator
	}

	switch sim.Decision {
	case string(policy.Allowed):
		// For an IAM user the simulator may have allowed through the
		// resource policy alone; then it says nothing of the identity side.
		viaResource := sim.IncludedResourcePolicy && !l.res.CrossAccount && resource.Grant != policy.MatchNone
		if !viaResource {
			identity.Applies, identity.Allows, identity.Denies = true, true, false
			if boundary.Applies {
				boundary.Allows, boundary.Denies = true, false
			}
		}
		if scp.Applies {
			scp.Allows, scp.Denies = true, false
		}
	case string(policy.ImplicitDeny):
		identity.Denies = false
		if !orgBlocks && !pbBlocks {
			switch {
			case !sim.IncludedResourcePolicy:
				identity.Allows = false
			case !l.res.CrossAccount:
				// In one account either side would have allowed.
				identity.Allows = false
				resource.Allows, resource.Grant = false, policy.MatchNone
			}
		}
	case string(policy.ExplicitDeny):
		for _, m := range sim.MatchedStatements {
			switch strings.ToLower(m.SourcePolicyType) {
			case "resource":
				resource.Applies, resource.Denies = true, true
			case "none", "":
				// An SCP or boundary statement: named by the details below.
			default:
				identity.Applies, identity.Denies = true, true
			}
		}
		switch {
		case identity.Denies || resource.Denies:
		case orgBlocks:
			scp.Denies = true
		case pbBlocks:
			boundary.Denies = true
		default:
			identity.Applies, identity.Denies = true, true
		}
	}
}

// simulatorAgrees compares the simulator's decision with the local engine's
// for the same layers: identity policies, the boundary, SCPs (with the
// simulator's own answer on them when the tool did not read them) and, for
// an IAM user, the resource policy. Session policies and RCPs, which the
// simulator does not evaluate, are left out.
func simulatorAgrees(res *policy.Result, sim *evidence.Simulation) bool {
	var outs []policy.Outcome
	for _, o := range res.Outcomes() {
		switch o.Layer {
		case policy.LayerSessionPolicy, policy.LayerRCP:
			continue
		case policy.LayerResource:
			if !sim.IncludedResourcePolicy {
				continue
			}
		case policy.LayerSCP:
			if !o.Applies && sim.AllowedByOrganizations != nil {
				o.Applies, o.Allows = true, *sim.AllowedByOrganizations
			}
		}
		outs = append(outs, o)
	}
	// Without the resource policy the simulator judges the identity side
	// alone, as in one account.
	decision, _ := policy.Decide(res.Kind, res.CrossAccount && sim.IncludedResourcePolicy, outs)
	return string(decision) == sim.Decision
}

// simulatorInfo says how the simulator took part.
func (d *diagnosis) simulatorInfo(base *outcome) SimulatorInfo {
	sim := d.ev.Simulation
	if sim == nil {
		unavailable := d.ev.SimulatorUnavailable
		if unavailable == "" {
			unavailable = "no simulation recorded in the evidence"
		}
		return SimulatorInfo{Note: "not used (" + unavailable + "); the local engine answered every layer"}
	}
	if d.sim == nil {
		return SimulatorInfo{Decision: sim.Decision, Note: "not used: " + d.simNote}
	}
	info := SimulatorInfo{Used: true, Decision: sim.Decision,
		Note: "answered for identity policies, permissions boundary and SCPs; resource policy, session policies and RCPs were evaluated locally"}
	if sim.IncludedResourcePolicy {
		info.Note = "answered for identity policies, permissions boundary, SCPs and the resource policy (IAM user caller); session policies and RCPs were evaluated locally"
	}
	agrees := simulatorAgrees(base.legs[0].res, sim)
	info.AgreesWithLocal = &agrees
	return info
}
