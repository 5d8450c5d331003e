package diagnose

import (
	"fmt"

	"github.com/why-denied/why-denied/policy"
)

// settleUndecidable finds the statements the engine cannot evaluate (an
// operator AWS added after the engine was written, a condition value it
// cannot read) that decide the outcome: the call decided with them read as
// matching differs from the call decided with them read as not matching.
// IAM refuses to store a policy with an operator it does not know
// ("IAM policy validation check reference": "Invalid condition
// operator"), so such a statement is newer than the engine, and guessing
// either way could turn a Deny into a silent allow.
func (d *diagnosis) settleUndecidable(in *policy.Input, base *outcome, decision policy.Decision) []policy.StatementTrace {
	if decision == DecisionUnknown {
		return nil
	}
	var found []policy.StatementTrace
	for _, l := range base.legs {
		found = append(found, l.res.UndecidableStatements()...)
	}
	if len(found) == 0 {
		return nil
	}
	alt := *in
	alt.AssumeUndecidableMatch = true
	if other, _, _ := d.decide(&alt); (other == policy.Allowed) == (decision == policy.Allowed) && other != DecisionUnknown {
		return nil
	}
	return found
}

// undecidableFindings name each statement the engine could not evaluate
// that decides the outcome.
func undecidableFindings(sts []policy.StatementTrace, known policy.Decision, v *Verdict) []Finding {
	var out []Finding
	for _, st := range sts {
		out = append(out, Finding{Kind: KindUndecidable, Severity: SeverityWarning, Layer: st.Layer,
			Message: fmt.Sprintf("%s policy %q statement %s cannot be evaluated by the tool (%s), and the outcome turns on it: %s if it does not match, otherwise not. Check the statement by hand, or with aws iam simulate-principal-policy",
				st.Layer, st.Policy, traceName(st), st.Undecidable, known)})
	}
	return out
}
