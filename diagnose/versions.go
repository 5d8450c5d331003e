package diagnose

import (
	"fmt"
	"slices"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/fixtext"
	"github.com/why-denied/why-denied/policy"
)

// IAM evaluates only the default version of a managed policy (IAM User
// Guide, "Versioning IAM policies"): a grant that sits in another version,
// after a create-policy-version that dropped it or a rollback, does not
// apply. When the evidence holds a managed policy's other versions
// (evidence.NamedPolicy.OtherVersions), the diagnosis tries each one as
// the default, and says so when that alone would allow the call.

// managedVersions is one managed policy of a layer whose other versions
// the evidence holds.
type managedVersions struct {
	layer policy.Layer
	np    evidence.NamedPolicy
}

// versionedPolicies lists the managed policies of layer l with other
// versions, each policy once (a policy attached to the role and to a
// group of the user is one policy with one default).
func (d *diagnosis) versionedPolicies(l policy.Layer) []managedVersions {
	var list []evidence.NamedPolicy
	switch l {
	case policy.LayerIdentity:
		list = d.ev.Caller.IdentityPolicies
	case policy.LayerPermissionsBoundary:
		if d.ev.Caller.PermissionsBoundary != nil {
			list = []evidence.NamedPolicy{*d.ev.Caller.PermissionsBoundary}
		}
	}
	var out []managedVersions
	var seen []string
	for _, np := range list {
		if np.ARN == "" || len(np.OtherVersions) == 0 || slices.Contains(seen, np.ARN) {
			continue
		}
		seen = append(seen, np.ARN)
		out = append(out, managedVersions{layer: l, np: np})
	}
	return out
}

func (m managedVersions) change(v evidence.PolicyVersion) evidence.Change {
	return evidence.Change{Layer: m.layer, Kind: evidence.SetDefaultVersion, Policy: m.np.Name,
		PolicyARN: m.np.ARN, VersionID: v.VersionID, Document: v.Document}
}

// appendVersionFindings adds to findings, for a denied call, one finding
// per managed policy that would allow it if another of its versions were
// the default, that change alone; it notes where each one is, for the fix
// (see versionGrants).
func (d *diagnosis) appendVersionFindings(findings []Finding, v *Verdict) []Finding {
	if v.Decision != policy.ImplicitDeny && v.Decision != policy.ExplicitDeny {
		return findings
	}
	d.versionFinding = map[string]int{}
	for _, l := range []policy.Layer{policy.LayerIdentity, policy.LayerPermissionsBoundary} {
		if !slices.Contains(v.BlockedBy, l) {
			continue
		}
		for _, m := range d.versionedPolicies(l) {
			var allowing []string
			for _, ver := range m.np.OtherVersions {
				if ver.VersionID != "" && d.allowedAfter([]evidence.Change{m.change(ver)}) {
					allowing = append(allowing, ver.VersionID)
				}
			}
			if len(allowing) == 0 {
				continue
			}
			d.versionFinding[m.np.ARN] = len(findings)
			findings = append(findings, Finding{Kind: KindNonDefaultVersion, Severity: SeverityBlocking, Layer: l,
				Message: fmt.Sprintf("only a version of managed policy %s that is not its default (%s) would allow the call: IAM evaluates the default version alone, and it does not allow the call (aws iam list-policy-versions --policy-arn %s lists the versions)",
					m.np.Name, list(allowing), fixtext.Quote(m.np.ARN))})
		}
	}
	return findings
}

// allowedAfter reports whether the request is allowed once the changes are
// made, decided as the request itself was (see fixer.verify, which also
// probes what else the changes open).
func (d *diagnosis) allowedAfter(changes []evidence.Change) bool {
	fixedEv, err := evidence.Apply(d.ev, changes)
	if err != nil {
		return false
	}
	after, err := buildInput(fixedEv, d.now, d.docs)
	if err != nil {
		return false
	}
	check := *d
	check.ev, check.sim = fixedEv, nil
	decision, _, _ := check.decide(after)
	return decision == policy.Allowed
}

// versionGrants are the fixes that make another version of a managed
// policy of layer l its default, one per version, attached to the finding
// that names the policy (or to the layer's blocking finding when the
// change helps only with others). The change reaches every entity the
// policy is attached to, so it widens: the probes say what else it opens.
func (f *fixer) versionGrants(l policy.Layer) []candidate {
	var out []candidate
	for _, m := range f.d.versionedPolicies(l) {
		finding, ok := f.d.versionFinding[m.np.ARN]
		if !ok {
			finding = f.findingFor(l)
		}
		for _, ver := range m.np.OtherVersions {
			if ver.VersionID == "" {
				continue
			}
			out = append(out, candidate{
				ids:          []string{"version:" + m.np.ARN + ":" + ver.VersionID},
				widens:       true,
				descriptions: []string{fmt.Sprintf("make version %s the default version of managed policy %s", ver.VersionID, m.np.Name)},
				caveats:      []string{fmt.Sprintf("the default version of %s changes for every role, user and group it is attached to", m.np.Name)},
				cli:          []string{f.accountNote(f.d.ev.Caller.Account, "caller's") + fixtext.SetDefaultPolicyVersion(m.np.ARN, ver.VersionID)},
				changes:      []evidence.Change{m.change(ver)},
				finding:      finding,
			})
		}
	}
	return out
}
