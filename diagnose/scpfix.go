package diagnose

import (
	"fmt"
	"strings"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/fixtext"
	"github.com/why-denied/why-denied/policy"
)

// An SCP is a guardrail of the whole organization, owned by its management
// account: a fix never removes or detaches it. It proposes the narrowest
// exception for this one caller (AWS Organizations User Guide, "SCP
// examples": exempt a role with a condition on aws:PrincipalArn), says who
// owns the change, and is verified like every other fix.

// scpException exempts the caller from a matching SCP Deny statement with
// ArnNotLike aws:PrincipalArn (joining an exemption list the statement
// already has).
func (f *fixer) scpException(st policy.StatementTrace) (candidate, bool) {
	who := f.d.ev.Caller.ARN
	if who == "" || f.in.Request.Kind() == policy.KindService {
		return candidate{}, false
	}
	cond := map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": who}}
	change := evidence.Change{Layer: policy.LayerSCP, Kind: evidence.AddCondition, Policy: st.Policy, Level: st.Level, Index: st.PolicyIndex,
		Statement: st.Statement, Guardrail: true, Document: compact(cond)}
	where, id := f.scpPlace(st.Level, st.PolicyIndex, st.Policy)
	return candidate{
		ids:    []string{fmt.Sprintf("deny:scp:%d:%d:%d", st.Level, st.PolicyIndex, st.Statement)},
		widens: true,
		descriptions: []string{fmt.Sprintf("a change to the organization's guardrails, owned by %s: only if its owners agree that %s should be exempt, add the condition ArnNotLike aws:PrincipalArn %s to statement %s of the SCP %s (the narrowest exception: this role alone; the SCP stays attached)",
			f.d.managementWords(), who, who, StatementReport{Statement: st.Statement, Sid: st.Sid}.Label(), where)},
		caveats: []string{"exempting the caller from this Deny statement exempts it from everything the statement covers, not only this call"},
		cli:     []string{f.updatePolicyCommand(id)},
		changes: []evidence.Change{change},
		finding: f.findingFor(policy.LayerSCP),
	}, true
}

// scpAllow lets the call through every level that has no Allow for it: a
// statement added to the first SCP of each such level, allowing the
// actions on the resource for this caller alone. An SCP Allow grants
// nothing by itself; the identity side must still allow.
func (f *fixer) scpAllow(actions []string) (candidate, bool) {
	who := f.d.ev.Caller.ARN
	if who == "" {
		return candidate{}, false
	}
	lr := f.base.legFor(policy.LayerSCP).res.Layer(policy.LayerSCP)
	if lr == nil || !lr.Applies {
		return candidate{}, false
	}
	missing := levelsWithoutAllow(lr, len(f.in.SCPs))
	if len(missing) == 0 {
		return candidate{}, false
	}
	st := stmt{Sid: "WhyDeniedAllowCaller", Effect: "Allow", Action: oneOrMany(actions), Resource: f.in.Request.Resource,
		Condition: map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": who}}}
	c := candidate{finding: f.findingFor(policy.LayerSCP)}
	var wheres []string
	for _, level := range missing {
		if level >= len(f.in.SCPs) || len(f.in.SCPs[level]) == 0 {
			// AWS keeps at least one SCP attached to every level; evidence
			// without one has nowhere to add the statement.
			return candidate{}, false
		}
		where, id := f.scpPlace(level, 0, f.in.SCPs[level][0].Name)
		wheres = append(wheres, where)
		c.ids = append(c.ids, fmt.Sprintf("scp-allow:%d", level))
		c.cli = append(c.cli, f.updatePolicyCommand(id))
		c.changes = append(c.changes, evidence.Change{Layer: policy.LayerSCP, Kind: evidence.AddStatement, Policy: f.in.SCPs[level][0].Name, Level: level, Index: 0, Guardrail: true, Document: compact(st)})
	}
	c.descriptions = []string{fmt.Sprintf("a change to the organization's guardrails, owned by %s: add a statement allowing %s on %s for %s alone to the SCP %s (every level must allow the call; the SCPs stay as they are for everyone else, and an SCP Allow grants nothing by itself)",
		f.d.managementWords(), strings.Join(actions, " and "), f.in.Request.Resource, who, strings.Join(wheres, " and to the SCP "))}
	return c, true
}

// scpPlace names an SCP and where it is attached, and returns its ID (a
// placeholder when the evidence does not name it).
func (f *fixer) scpPlace(level, index int, name string) (where, id string) {
	org := f.d.ev.Organization
	id = "SCP_POLICY_ID"
	where = fmt.Sprintf("%q", name)
	if p, ok := org.SCP(level, index); ok && p.ID != "" {
		id = p.ID
		where += " (" + p.ID + ")"
	}
	return where + " attached to " + org.Level(level), id
}

// updatePolicyCommand reads the SCP, and writes it back with the change,
// from the account that owns it.
func (f *fixer) updatePolicyCommand(id string) string {
	file := fixtext.Quote(id + ".json")
	owner := "the management account"
	if org := f.d.ev.Organization; org != nil && org.ManagementAccountID != "" {
		owner += " " + org.ManagementAccountID
	}
	return fmt.Sprintf("# in %s (or a delegated admin):\n"+
		"aws organizations describe-policy --policy-id %s --query Policy.Content --output text > %s\n"+
		"# make the change above in %s, then\n"+
		"aws organizations update-policy --policy-id %s --content %s",
		owner, fixtext.Quote(id), file, file, fixtext.Quote(id), fixtext.Quote("file://"+id+".json"))
}
