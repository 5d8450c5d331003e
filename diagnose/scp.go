package diagnose

import (
	"fmt"
	"strings"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// scpFinding says why the SCPs the tool read block the call, naming what a
// user needs to take it to the organization's administrators: the level,
// the policy (name, ID, ARN), the statement, and the near miss. SCPs are
// evaluated as AWS documents them ("SCP evaluation", AWS Organizations User
// Guide): an explicit Deny at any level wins, and every level from the root
// to the account must allow the action (an SCP that does not allow it
// filters it out, and SCPs never grant anything by themselves).
func (d *diagnosis) scpFinding(f Finding, rep LayerReport, in *policy.Input) Finding {
	st := rep.Statements[0]
	action := in.Request.Action
	if rep.Action != "" {
		action = rep.Action
	}
	owner := ". SCPs are owned by " + d.managementWords() + ": a change there changes the organization's guardrails for every account they govern"
	if rep.Result == ResultDenies {
		f.Kind = KindExplicitDeny
		f.Message = fmt.Sprintf("an explicit Deny in the SCP %s, statement %s, matches %s, and a Deny wins over every Allow",
			d.scpName(st), st.Label(), action)
		if len(st.Reasons) > 0 {
			f.Message += ": " + strings.Join(st.Reasons, "; ")
		}
		if len(rep.Statements) > 1 {
			f.Message += fmt.Sprintf(" (%d Deny statements match)", len(rep.Statements))
		}
		f.Message += owner
		return f
	}
	// No Allow at some level: name the first such level, and what its SCPs
	// hold.
	lr := d.scpTrace(in)
	level := st.Level
	if lr != nil {
		if missing := levelsWithoutAllow(lr, len(in.SCPs)); len(missing) > 0 {
			level = missing[0]
		}
	}
	org := d.ev.Organization
	var names []string
	if level < len(in.SCPs) {
		for i, p := range in.SCPs[level] {
			n := p.Name
			if op, ok := org.SCP(level, i); ok && op.ID != "" {
				n += " (" + op.ID + ")"
			}
			names = append(names, n)
		}
	}
	f.Message = fmt.Sprintf("no SCP attached to %s allows %s on %s: every level of the organization, from the root to the account, must allow it, and the SCPs of this level (%s) do not",
		org.Level(level), action, in.Request.Resource, strings.Join(names, ", "))
	if !hasFullAWSAccess(org, level) {
		f.Message += "; FullAWSAccess, which AWS attaches to every level, is not attached here"
	}
	if st.Status == StatusClosest && st.Level == level && len(st.Reasons) > 0 {
		f.Message += fmt.Sprintf(". Closest: SCP %s statement %s: %s", d.scpName(st), st.Label(), st.Reasons[0])
	}
	f.Message += owner
	return f
}

// scpName names an SCP statement's policy as Organizations does, with the
// level it is attached to.
func (d *diagnosis) scpName(st StatementReport) string {
	name := fmt.Sprintf("%q", st.Policy)
	switch {
	case st.PolicyID != "" && st.PolicyARN != "":
		name += fmt.Sprintf(" (%s, %s)", st.PolicyID, st.PolicyARN)
	case st.PolicyID != "":
		name += " (" + st.PolicyID + ")"
	}
	if st.LevelName != "" {
		name += " attached to " + st.LevelName
	} else {
		name += fmt.Sprintf(" at organization level %d", st.Level)
	}
	return name
}

// scpTrace is the engine's trace of the SCP layer for the request.
func (d *diagnosis) scpTrace(in *policy.Input) *policy.LayerResult {
	return policy.Evaluate(in).Layer(policy.LayerSCP)
}

// hasFullAWSAccess reports whether the AWS managed FullAWSAccess SCP is
// attached at a level; true when the levels are not named (nothing to
// say).
func hasFullAWSAccess(org *evidence.Organization, level int) bool {
	if org == nil || level >= len(org.Levels) {
		return true
	}
	for _, p := range org.Levels[level].SCPs {
		if p.ID == "p-FullAWSAccess" || p.Name == "FullAWSAccess" {
			return true
		}
	}
	return false
}

// managementWords names the account that owns the SCPs.
func (d *diagnosis) managementWords() string {
	if org := d.ev.Organization; org != nil && org.ManagementAccountID != "" {
		return "the organization's management account " + org.ManagementAccountID
	}
	return "the organization's management account"
}

// scpUnreadableWords says why the tool could not read the SCPs, when it
// tried.
func (d *diagnosis) scpUnreadableWords() string {
	for _, u := range d.ev.Unreadable {
		if u.Layer == policy.LayerSCP {
			return fmt.Sprintf("; the tool could not read them itself (it needs %s): %s", u.Action, u.What)
		}
	}
	return ""
}

// messageSCPWords names the statement of the SCP a pasted message ends
// with, when the tool could read that SCP (DescribePolicy), or the command
// that reads it.
func (d *diagnosis) messageSCPWords(in *policy.Input) string {
	org := d.ev.Organization
	if org != nil && org.None {
		return " (organizations:DescribeOrganization answered that the caller's account is in no organization, yet AWS names an SCP: the account may have joined one since, or the credentials read another account)"
	}
	if org != nil && org.MessageSCP != nil {
		p := org.MessageSCP
		doc, err := d.docs.parse(p.Document)
		if err != nil {
			return ""
		}
		scp := *in
		scp.SCPs = [][]policy.Named{{{Name: p.Name, Policy: doc}}}
		scp.ManagementAccount, scp.ServiceLinkedRole = false, false
		lr := policy.Evaluate(&scp).Layer(policy.LayerSCP)
		for _, st := range lr.Statements {
			if st.Matched && st.Effect == policy.Deny {
				reasons := whyMatched(statementOf(&scp, st), st, &in.Request, false)
				msg := fmt.Sprintf(": the message names the SCP %q (%s, %s), whose statement %s denies %s", p.Name, p.ID, p.ARN,
					StatementReport{Statement: st.Statement, Sid: st.Sid}.Label(), in.Request.Action)
				if len(reasons) > 0 {
					msg += ": " + strings.Join(reasons, "; ")
				}
				return msg + " (where it is attached in the organization could not be read)"
			}
		}
		return fmt.Sprintf(": the message names the SCP %q (%s, %s); no Deny statement of it matches this request, so the denial comes from a level without an Allow", p.Name, p.ID, p.ARN)
	}
	if d.message != nil && d.message.PolicyARN != "" {
		id := d.message.PolicyARN[strings.LastIndexByte(d.message.PolicyARN, '/')+1:]
		return fmt.Sprintf(": the message names the SCP %s, which the tool could not read; with the credentials of %s run: aws organizations describe-policy --policy-id %s",
			d.message.PolicyARN, d.managementWords(), id)
	}
	return ""
}

// scpSimulatorFinding compares the SCPs read from the organization with
// the simulator's AllowedByOrganizations: a disagreement means one of them
// saw something the other did not (an SCP attached since, a policy the
// tool could not read, a condition key the simulator was not given).
func (d *diagnosis) scpSimulatorFinding(base *outcome) *Finding {
	sim := d.ev.Simulation
	if sim == nil || sim.AllowedByOrganizations == nil || d.sim == nil {
		return nil
	}
	lr := base.legs[0].res.Layer(policy.LayerSCP)
	if lr == nil || !lr.Applies {
		return nil
	}
	local := lr.Allows && !lr.Denies
	if local == *sim.AllowedByOrganizations {
		return nil
	}
	say := map[bool]string{true: "allow", false: "do not allow"}
	return &Finding{Kind: KindSCPSimulatorDisagrees, Severity: SeverityWarning, Layer: policy.LayerSCP,
		Message: fmt.Sprintf("the SCPs read from the organization %s the call, but AWS's policy simulator reports that they %s it (AllowedByOrganizations); the verdict follows the simulator. An SCP may have changed since, or apply through a level the tool did not read",
			say[local], say[*sim.AllowedByOrganizations])}
}
