package evidence

import (
	"encoding/json"
	"fmt"
	"slices"
)

// PolicyVersion is a version of a managed policy other than its default
// one. IAM keeps up to five versions of a customer managed policy and
// evaluates only the default (IAM User Guide, "Versioning IAM policies"):
// a grant that is in an older or newer version, and not in the default,
// does not apply, which nothing in the console's policy view makes plain.
// The versions come from iam:ListPolicyVersions and iam:GetPolicyVersion,
// or from an evidence file written by hand or by another tool (awsclient
// does not read them: see the README, "Evidence file").
type PolicyVersion struct {
	VersionID string          `json:"versionId"`
	Document  json.RawMessage `json:"document"`
}

// setDefaultVersion makes version id of the managed policy policyARN its
// default wherever the policy is attached (the caller's own policies, its
// groups', its permissions boundary), as aws iam set-default-policy-version
// does for every entity at once. The previous default becomes one of the
// other versions, without the version ID it had, which the evidence does
// not record.
func (ev *Evidence) setDefaultVersion(policyARN, id string) error {
	found := false
	swap := func(np NamedPolicy) NamedPolicy {
		if np.ARN != policyARN || policyARN == "" {
			return np
		}
		i := slices.IndexFunc(np.OtherVersions, func(v PolicyVersion) bool { return v.VersionID == id })
		if i < 0 {
			return np
		}
		found = true
		others := slices.Delete(slices.Clone(np.OtherVersions), i, i+1)
		np.Document, np.OtherVersions = np.OtherVersions[i].Document, append(others, PolicyVersion{Document: np.Document})
		return np
	}
	for i := range ev.Caller.IdentityPolicies {
		ev.Caller.IdentityPolicies[i] = swap(ev.Caller.IdentityPolicies[i])
	}
	if ev.Caller.PermissionsBoundary != nil {
		np := swap(*ev.Caller.PermissionsBoundary)
		ev.Caller.PermissionsBoundary = &np
	}
	if !found {
		return fmt.Errorf("no version %s of managed policy %s in the evidence", id, policyARN)
	}
	return nil
}
