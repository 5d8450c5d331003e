package diagnose

import (
	"fmt"
	"slices"

	"github.com/why-denied/why-denied/policy"
)

// layerReports says what each layer said of the call: its result, whether
// it blocks (as the verdict decided), where the answer came from, and the
// statements that decided it or came closest. A layer is reported from the
// check it blocks, for a call that needs several.
func (d *diagnosis) layerReports(base, settled *outcome, v *Verdict) []LayerReport {
	var out []LayerReport
	for _, layer := range policy.ReportOrder {
		if layer == policy.LayerVPCEndpoint && d.messageLayer != layer {
			continue
		}
		l := base.legFor(layer)
		if slices.Contains(v.BlockedBy, layer) && !slices.Contains(l.blockedBy, layer) {
			l = settled.legFor(layer)
		}
		rep := d.layerReport(l, layer, v, len(base.legs) > 1)
		if layer == policy.LayerResource && rep.Result == ResultNoAllow && !rep.Blocks && rep.Note == "" && len(rep.Statements) == 0 {
			rep.Note = "no statement allows this caller; not needed in one account, where the identity side decides"
		}
		out = append(out, rep)
	}
	return out
}

func (d *diagnosis) layerReport(l *leg, layer policy.Layer, v *Verdict, severalLegs bool) LayerReport {
	o := l.outcome(layer)
	rep := LayerReport{Layer: layer, Blocks: slices.Contains(v.BlockedBy, layer), Source: l.sources[layer], Statements: []StatementReport{}}
	if rep.Source == "" {
		rep.Source = SourceLocal
	}
	if severalLegs {
		rep.Action = l.action
	}
	trace := l.res.Layer(layer)
	if trace != nil {
		rep.Note = trace.Reason
	}
	if org := d.ev.Organization; layer == policy.LayerSCP && org != nil && org.None {
		rep.Note = "the caller's account is in no organization (organizations:DescribeOrganization): no SCP applies"
	}
	switch {
	case slices.Contains(d.unknown, layer):
		what, actions := d.unreadableWords([]policy.Layer{layer})
		rep.Result, rep.Blocks = ResultUnknown, false
		rep.Note = "could not be read (" + what + "): " + needs(actions)
		if v.Decision != DecisionUnknown {
			rep.Note += "; the verdict holds whatever it says"
		}
		return rep
	case o.Applies && o.Denies:
		rep.Result = ResultDenies
	case !o.Applies && rep.Blocks:
		// A layer without policies that must allow (the identity side of a
		// caller with no identity policies) blocks: nothing allows.
		rep.Result = ResultNoAllow
	case !o.Applies:
		rep.Result = ResultNotApplicable
		if note, ok := d.notRead[layer]; ok && rep.Source == SourceLocal {
			rep.Result, rep.Note = ResultNotRead, note
		}
		if layer == policy.LayerRCP && !rcpApplies(d.ev.Request.Action) {
			rep.Note = "RCPs do not apply to " + serviceOf(d.ev.Request.Action)
		}
		return rep
	case o.Allows:
		rep.Result = ResultAllows
	default:
		rep.Result = ResultNoAllow
	}
	switch rep.Source {
	case SourceMessage:
		rep.Note = "the AccessDenied message names this layer, which the tool cannot read: AWS's word is the answer"
	case SourceSimulator:
		if trace == nil || !trace.Applies {
			switch layer {
			case policy.LayerSCP:
				rep.Note = "the simulator reports that the organization's SCPs do not allow the call (their documents were not read)"
				if o.Allows {
					rep.Note = "the simulator reports that the organization's SCPs allow the call"
				}
			case policy.LayerPermissionsBoundary:
				rep.Note = "the simulator reports a permissions boundary that does not allow the call (the tool could not read it)"
				if o.Allows {
					rep.Note = "the simulator reports a permissions boundary that allows the call"
				}
			}
		}
	}
	if severalLegs && l.action != l.in.Request.Action {
		rep.Note = joinNote(rep.Note, "for "+l.action)
	}
	if trace == nil || !trace.Applies {
		return rep
	}
	want := policy.Allow
	if o.Denies {
		want = policy.Deny
	}
	req := &l.in.Request
	var matched []policy.StatementTrace
	for _, st := range trace.Statements {
		if st.Matched && st.Effect == want {
			matched = append(matched, st)
		}
	}
	if (layer == policy.LayerSCP || layer == policy.LayerRCP) && !o.Allows && !o.Denies {
		// A level without an Allow blocks: the Allows that matched at the
		// other levels are not why; the near misses of that level are.
		matched = nil
	}
	if len(matched) > 0 && !o.Allows && !o.Denies {
		// The engine found an Allow the simulator's answer overrules: the
		// evidence may be stale; the row must not say it allows.
		st := statementReport(matched[0], StatusMatched, req)
		rep.Note = joinNote(rep.Note, fmt.Sprintf("the simulator answered that nothing allows this call, though the evidence's %q statement %s does: the evidence may be older than the account's policies", st.Policy, st.Label()))
		return rep
	}
	if len(matched) == 0 && o.Denies {
		// Only the simulator saw this Deny (in a policy the tool could not
		// read): there is no statement of the tool's to show, and the
		// closest Allows are not why it is denied.
		return rep
	}
	if len(matched) > 0 {
		if len(matched) > maxListed {
			rep.MoreStatements = len(matched) - maxListed
			matched = matched[:maxListed]
		}
		for _, st := range matched {
			r := statementReport(st, StatusMatched, req)
			if st.Effect == policy.Deny {
				r.Reasons = whyMatched(statementOf(l.in, st), st, req, l.in.PermissionsBoundary != nil)
			}
			rep.Statements = append(rep.Statements, d.nameOrgStatement(r, st))
		}
		return rep
	}
	// Near misses matter where the call is denied: in the blocking layers,
	// and in the resource policy, where users often look first.
	if v.Decision == policy.Allowed || (!rep.Blocks && layer != policy.LayerResource) {
		return rep
	}
	candidates := trace.Statements
	if layer == policy.LayerSCP || layer == policy.LayerRCP {
		// Every level must allow: the near misses that matter are those of
		// the levels without an Allow.
		candidates = statementsOfLevels(trace.Statements, levelsWithoutAllow(trace, orgLevels(l.in, layer)))
	}
	for _, st := range closest(candidates, 3) {
		rep.Statements = append(rep.Statements, d.nameOrgStatement(statementReport(st, StatusClosest, req), st))
	}
	return rep
}

// nameOrgStatement adds to an SCP statement its level and the policy's ID
// and ARN, as read from the organization.
func (d *diagnosis) nameOrgStatement(r StatementReport, st policy.StatementTrace) StatementReport {
	org := d.ev.Organization
	if st.Layer != policy.LayerSCP || org == nil || len(org.Levels) == 0 {
		return r
	}
	r.LevelName = org.Level(st.Level)
	if p, ok := org.SCP(st.Level, st.PolicyIndex); ok {
		r.PolicyID, r.PolicyARN = p.ID, p.ARN
	}
	return r
}

// levelsWithoutAllow lists the n organization levels of an SCP or RCP
// layer where no Allow statement matches: "every level must allow".
func levelsWithoutAllow(lr *policy.LayerResult, n int) []int {
	allowed := map[int]bool{}
	for _, st := range lr.Statements {
		if st.Matched && st.Effect == policy.Allow {
			allowed[st.Level] = true
		}
	}
	var out []int
	for l := range n {
		if !allowed[l] {
			out = append(out, l)
		}
	}
	return out
}

// orgLevels is the number of organization levels of an SCP or RCP layer.
func orgLevels(in *policy.Input, layer policy.Layer) int {
	if layer == policy.LayerRCP {
		return len(in.RCPs)
	}
	return len(in.SCPs)
}

func statementsOfLevels(sts []policy.StatementTrace, levels []int) []policy.StatementTrace {
	var out []policy.StatementTrace
	for _, st := range sts {
		if slices.Contains(levels, st.Level) {
			out = append(out, st)
		}
	}
	return out
}

// maxListed is how many matching statements a layer lists.
const maxListed = 10

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
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
	// A statement about the call's action comes first, then one about its
	// resource: a grant of exactly this function that fails on a condition
	// (an expired time window) is closer than a grant of another function.
	score := func(st policy.StatementTrace) int {
		s := len(st.Failures) * 10
		for _, f := range st.Failures {
			switch f.Element {
			case policy.ElemAction, policy.ElemNotAction:
				s += 100
			case policy.ElemResource, policy.ElemNotResource, policy.ElemPrincipal, policy.ElemNotPrincipal:
				s += 20
			}
		}
		return s
	}
	// A stable sort by score keeps document order among equals.
	slices.SortStableFunc(cands, func(a, b policy.StatementTrace) int { return score(a) - score(b) })
	if len(cands) > n {
		cands = cands[:n]
	}
	return cands
}

func statementReport(st policy.StatementTrace, status StatementStatus, req *policy.Request) StatementReport {
	r := StatementReport{Policy: st.Policy, Statement: st.Statement, Sid: st.Sid, Effect: st.Effect, Status: status, Level: st.Level}
	if status != StatusMatched {
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
