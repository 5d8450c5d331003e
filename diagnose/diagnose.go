// Package diagnose turns evidence (the request and every policy that applies
// to it) into a verdict: the decision, every blocking layer, what each layer
// said and why, and what to change. It combines the answer of AWS's policy
// simulator, where there is one, with the local policy engine, which answers
// what the simulator cannot (resource policies for role callers, session
// policies, RCPs). It knows no SDK and no terminal.
package diagnose

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// InputError is a problem with the evidence itself (a broken policy
// document, a malformed ARN): bad input, not an AWS failure.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Diagnose evaluates the evidence and explains the outcome.
func Diagnose(ev *evidence.Evidence) (*Verdict, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	in, err := buildInput(ev)
	if err != nil {
		return nil, err
	}
	res := policy.Evaluate(in)
	local := snapshotOutcomes(res)
	sim := applySimulation(res, ev.Simulation, ev.SimulatorUnavailable)
	if ev.Simulation != nil {
		agrees := simulatorAgrees(local, res, ev.Simulation)
		sim.AgreesWithLocal = &agrees
	}
	v := &Verdict{
		Decision:     res.Decision,
		BlockedBy:    res.BlockedBy,
		Request:      ev.Request,
		Caller:       callerInfo(ev, res),
		Target:       targetInfo(ev),
		CrossAccount: res.CrossAccount,
		Simulator:    sim,
		Problems:     res.Problems,
		Findings:     []Finding{},
		simulation:   ev.Simulation,
	}
	v.Request.Context = evidence.ContextValues(in.Request.Context)
	for _, lr := range res.Layers {
		rep := layerReport(res, lr, ev.Simulation, in)
		notRead(ev, &rep)
		if rep.Layer == policy.LayerResource && rep.Result == "noAllow" && !rep.Blocks && rep.Note == "" && len(rep.Statements) == 0 {
			rep.Note = "no statement allows this caller; not needed in one account, where the identity side decides"
		}
		v.Layers = append(v.Layers, rep)
	}
	urlFinding := functionURLCheck(in)
	if urlFinding != nil {
		// The URL call also needs lambda:InvokeFunction: a layer that does
		// not allow that blocks the call.
		if v.Decision == policy.Allowed {
			v.Decision = policy.ImplicitDeny
		}
		if !slices.Contains(v.BlockedBy, urlFinding.Layer) {
			v.BlockedBy = append(v.BlockedBy, urlFinding.Layer)
		}
		for i := range v.Layers {
			if v.Layers[i].Layer == urlFinding.Layer {
				v.Layers[i].Blocks = true
				v.Layers[i].Note = "does not allow lambda:InvokeFunction, which function URL calls also need"
			}
		}
	}
	v.Findings = findings(ev, in, res, v)
	if urlFinding != nil {
		v.Findings = append(v.Findings, *urlFinding)
	}
	v.Findings = append(v.Findings, unreadableFindings(ev)...)
	v.Summary = summarize(v)
	settleUnknown(ev, in, v)
	settleContext(ev, in, v)
	if v.Decision != DecisionUnknown {
		proposeFixes(ev, in, res, v)
	}
	return v, nil
}

// buildInput parses every policy document of the evidence.
func buildInput(ev *evidence.Evidence) (*policy.Input, error) {
	in := &policy.Input{
		Request: policy.Request{
			Principal:       ev.Request.Caller,
			PrincipalARN:    ev.Caller.ARN,
			Action:          ev.Request.Action,
			Resource:        ev.Request.Resource,
			ResourceAccount: ev.Target.Account,
			Context:         evidence.RequestContext(ev, time.Now()),
		},
		ServiceLinkedRole: ev.Caller.ServiceLinkedRole,
	}
	if _, ok := policy.ParseARN(ev.Request.Resource); !ok {
		return nil, &InputError{Msg: fmt.Sprintf("request resource %q is not an ARN", ev.Request.Resource)}
	}
	if k := in.Request.Kind(); k == policy.KindUnknown {
		return nil, &InputError{Msg: fmt.Sprintf("request caller %q is neither an IAM principal ARN nor a service principal", ev.Request.Caller)}
	}
	parse := func(what string, np evidence.NamedPolicy) (policy.Named, error) {
		p, err := policy.Parse(np.Document)
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
		in.ManagementAccount = org.ManagementAccount
		var err error
		if in.SCPs, err = parseLevels("SCP", org.SCPs); err != nil {
			return nil, err
		}
		if in.RCPs, err = parseLevels("RCP", org.RCPs); err != nil {
			return nil, err
		}
		if !rcpApplies(ev.Request.Action) {
			in.RCPs = nil
		}
	}
	return in, nil
}

func parseLevels(kind string, levels [][]json.RawMessage) ([][]policy.Named, error) {
	if levels == nil {
		return nil, nil
	}
	out := make([][]policy.Named, len(levels))
	for l, docs := range levels {
		out[l] = []policy.Named{}
		for i, d := range docs {
			p, err := policy.Parse(d)
			if err != nil {
				return nil, &InputError{Msg: fmt.Sprintf("%s %d at organization level %d: %v", kind, i, l, err)}
			}
			name := fmt.Sprintf("%s level %d policy %d", kind, l, i)
			if p.ID != "" {
				name = p.ID
			}
			out[l] = append(out[l], policy.Named{Name: name, Policy: p})
		}
	}
	return out, nil
}

func callerInfo(ev *evidence.Evidence, res *policy.Result) CallerInfo {
	req := policy.Request{Principal: ev.Request.Caller}
	return CallerInfo{
		Principal: ev.Request.Caller,
		Kind:      res.Kind,
		Entity:    ev.Caller.ARN,
		Account:   req.PrincipalAccount(),
	}
}

func targetInfo(ev *evidence.Evidence) TargetInfo {
	t := TargetInfo{Function: ev.Target.ARN, Account: ev.Target.Account}
	if q, ok := strings.CutPrefix(ev.Request.Resource, ev.Target.ARN+":"); ok {
		t.Qualifier = q
	}
	return t
}

// layerReport lists, for one layer, the statements that decided it: the
// matching Deny statements, the matching Allow statements, or when nothing
// allows, the Allow statements that came closest.
func layerReport(res *policy.Result, lr policy.LayerResult, sim *evidence.Simulation, in *policy.Input) LayerReport {
	req := &in.Request
	rep := LayerReport{Layer: lr.Layer, Blocks: res.Blocks(lr.Layer), Source: SourceLocal, Note: lr.Reason, Statements: []StatementReport{}}
	if sim != nil && simulatedLayer(lr.Layer) && (lr.Layer != policy.LayerSCP || sim.AllowedByOrganizations != nil) {
		rep.Source = SourceSimulator
	}
	switch {
	case !lr.Applies && !rep.Blocks:
		rep.Result = "notApplicable"
	case !lr.Applies:
		// A layer without policies that must allow (the identity side of a
		// caller with no identity policies) blocks: nothing allows.
		rep.Result = "noAllow"
	case lr.Denies:
		rep.Result = "denies"
	case lr.Allows:
		rep.Result = "allows"
	default:
		rep.Result = "noAllow"
	}
	if !lr.Applies && !rep.Blocks {
		return rep
	}
	want := policy.Allow
	if lr.Denies {
		want = policy.Deny
	}
	var matched []policy.StatementTrace
	for _, st := range lr.Statements {
		if st.Matched && st.Effect == want {
			matched = append(matched, st)
		}
	}
	if len(matched) > 0 {
		for _, st := range matched {
			r := statementReport(st, "matched", req)
			if st.Effect == policy.Deny {
				r.Reasons = whyMatched(statementOf(in, st), st, req)
			}
			rep.Statements = append(rep.Statements, r)
		}
		return rep
	}
	// Near misses matter where the call is denied: in the blocking layers,
	// and in the resource policy, where users often look first.
	if res.Decision == policy.Allowed || (!rep.Blocks && lr.Layer != policy.LayerResource) {
		return rep
	}
	for _, st := range closest(lr.Statements, 3) {
		rep.Statements = append(rep.Statements, statementReport(st, "closest", req))
	}
	return rep
}

// closest returns up to n Allow statements with the fewest failing
// elements; a statement whose action matches comes before one whose does
// not, since it is about the call at hand.
func closest(sts []policy.StatementTrace, n int) []policy.StatementTrace {
	var cands []policy.StatementTrace
	for _, st := range sts {
		if st.Effect == policy.Allow && !st.Matched {
			cands = append(cands, st)
		}
	}
	score := func(st policy.StatementTrace) int {
		s := len(st.Failures) * 10
		for _, f := range st.Failures {
			if f.Element == policy.ElemAction || f.Element == policy.ElemNotAction {
				s += 100
			}
		}
		return s
	}
	// Stable selection by score keeps document order among equals.
	for i := 1; i < len(cands); i++ {
		for j := i; j > 0 && score(cands[j]) < score(cands[j-1]); j-- {
			cands[j], cands[j-1] = cands[j-1], cands[j]
		}
	}
	if len(cands) > n {
		cands = cands[:n]
	}
	return cands
}

func statementReport(st policy.StatementTrace, status string, req *policy.Request) StatementReport {
	r := StatementReport{Policy: st.Policy, Statement: st.Statement, Sid: st.Sid, Effect: st.Effect, Status: status, Level: st.Level}
	if status != "matched" {
		r.Failures = st.Failures
		for _, f := range st.Failures {
			r.Reasons = append(r.Reasons, describeMismatch(f, req))
		}
	}
	return r
}

// statementOf finds the parsed statement a trace is about.
func statementOf(in *policy.Input, st policy.StatementTrace) *policy.Statement {
	var np *policy.Named
	switch st.Layer {
	case policy.LayerIdentity:
		if st.PolicyIndex < len(in.Identity) {
			np = &in.Identity[st.PolicyIndex]
		}
	case policy.LayerResource:
		np = in.Resource
	case policy.LayerPermissionsBoundary:
		np = in.PermissionsBoundary
	case policy.LayerSessionPolicy:
		if st.PolicyIndex < len(in.SessionPolicies) {
			np = &in.SessionPolicies[st.PolicyIndex]
		}
	case policy.LayerSCP, policy.LayerRCP:
		levels := in.SCPs
		if st.Layer == policy.LayerRCP {
			levels = in.RCPs
		}
		if st.Level < len(levels) && st.PolicyIndex < len(levels[st.Level]) {
			np = &levels[st.Level][st.PolicyIndex]
		}
	}
	if np == nil || np.Policy == nil || st.Statement >= len(np.Policy.Statements) {
		return nil
	}
	return &np.Policy.Statements[st.Statement]
}

// notRead marks the layers the tool cannot read at all, rather than showing
// them as not applying: SCPs (their documents need
// organizations:DescribePolicy, outside the tool's read-only calls) when the
// simulator did not answer for them, session policies of a pasted session,
// and RCPs, which do not apply to Lambda.
func notRead(ev *evidence.Evidence, rep *LayerReport) {
	if rep.Result != "notApplicable" {
		return
	}
	switch rep.Layer {
	case policy.LayerSCP:
		if ev.Organization == nil && (ev.Simulation == nil || ev.Simulation.AllowedByOrganizations == nil) && policy.PrincipalKindOf(ev.Request.Caller) != policy.KindService {
			rep.Result = "notRead"
			rep.Note = "not read: the verdict assumes the organization's SCPs allow the call (AWS's simulator checks them when it answers)"
		}
	case policy.LayerSessionPolicy:
		if ev.Caller.SessionPoliciesUnknown {
			rep.Result = "notRead"
			rep.Note = "not read: session policies cannot be read back from the account; the verdict assumes the session has none"
		}
	case policy.LayerRCP:
		if !rcpApplies(ev.Request.Action) {
			rep.Note = "RCPs do not apply to " + serviceOf(ev.Request.Action)
		}
	}
}
