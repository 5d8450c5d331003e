package policy

import (
	"fmt"
	"maps"
	"slices"
)

// LimitError says an input exceeds a limit AWS itself sets (or, for JSON
// nesting, what an AWS document can hold): no real account produces it, and
// evaluating it would only cost time. Callers treat it as bad input.
type LimitError struct {
	// Limit names what is limited, e.g. "policy size (non-whitespace
	// characters)" or "condition keys in the request".
	Limit string
	Max   int
	Got   int
	// Where locates the excess, e.g. "identity policy \"Inline0\"" or a
	// JSON path; empty when it is the input as a whole.
	Where string
}

func (e *LimitError) Error() string {
	s := fmt.Sprintf("%s is %d, more than the limit of %d", e.Limit, e.Got, e.Max)
	if e.Where != "" {
		s = e.Where + ": " + s
	}
	return s
}

// The limits below follow the IAM User Guide, "IAM and AWS STS quotas",
// taking the most generous where AWS's limits differ by kind of policy. IAM
// does not count white space in a policy's size.
const (
	// MaxPolicyChars is the largest policy of any kind the engine reads, in
	// non-whitespace characters: a Lambda function's resource-based policy
	// may hold 20 KB (Lambda Developer Guide, "Lambda quotas"), more than a
	// managed policy (6,144), a role's inline policies together (10,240),
	// an SCP or RCP (5,120) or a session policy (2,048).
	MaxPolicyChars = 20 * 1024
	// MaxPoliciesPerLayer bounds the policies of one layer (or of one
	// organization level): a role has at most 20 managed policies, a user
	// 20 plus those of up to 10 groups with 10 each and any number of small
	// inline policies within 2,048 characters; an organization level holds
	// at most 5 SCPs.
	MaxPoliciesPerLayer = 500
	// MaxOrgLevels: the root, up to five levels of OUs, and the account.
	MaxOrgLevels = 7
	// MaxContextKeys bounds the condition keys of one request. AWS sends a
	// few dozen global keys, and at most 50 tags each of the principal, the
	// session, the request and the resource ("Tags per role: 50", "Session
	// tags: 50").
	MaxContextKeys = 1000
	// MaxContextValues bounds the values of one multivalued key: the
	// largest AWS builds are tag key lists of at most 50 tags.
	MaxContextValues = 1000
	// MaxContextValueLength bounds one context value: the longest values
	// AWS sends are ARNs (at most 2,048 characters) and session policies'
	// text; 64 KiB is far beyond either.
	MaxContextValueLength = 64 * 1024
	// MaxARNLength bounds the request's principal and resource ARNs ("ARN
	// ... Maximum length of 2048" throughout the IAM API Reference).
	MaxARNLength = 2048
)

// CheckLimits reports, as a *LimitError, the first count in in that exceeds
// what AWS allows. Evaluate stays fast on such input too; the check is for
// callers that want to refuse it (as bad input) instead of answering it.
func CheckLimits(in *Input) error {
	req := in.Request
	for _, f := range []struct{ name, v string }{{"request principal", req.Principal}, {"request principal ARN", req.PrincipalARN}, {"request resource", req.Resource}} {
		if len(f.v) > MaxARNLength {
			return &LimitError{Limit: "ARN length", Max: MaxARNLength, Got: len(f.v), Where: f.name}
		}
	}
	if len(req.Context) > MaxContextKeys {
		return &LimitError{Limit: "condition keys in the request", Max: MaxContextKeys, Got: len(req.Context)}
	}
	for _, k := range slices.Sorted(maps.Keys(req.Context)) {
		vals := req.Context[k]
		if len(vals) > MaxContextValues {
			return &LimitError{Limit: "values of one condition key", Max: MaxContextValues, Got: len(vals), Where: "context key " + fmt.Sprintf("%q", k)}
		}
		for _, v := range vals {
			if len(v) > MaxContextValueLength {
				return &LimitError{Limit: "length of a condition value", Max: MaxContextValueLength, Got: len(v), Where: "context key " + fmt.Sprintf("%q", k)}
			}
		}
	}
	layers := []struct {
		name     string
		policies []Named
	}{{"identity", in.Identity}, {"session", in.SessionPolicies}}
	if in.Resource != nil {
		layers = append(layers, struct {
			name     string
			policies []Named
		}{"resource", []Named{*in.Resource}})
	}
	if in.PermissionsBoundary != nil {
		layers = append(layers, struct {
			name     string
			policies []Named
		}{"permissions boundary", []Named{*in.PermissionsBoundary}})
	}
	for _, org := range []struct {
		name   string
		levels [][]Named
	}{{"SCP", in.SCPs}, {"RCP", in.RCPs}} {
		if len(org.levels) > MaxOrgLevels {
			return &LimitError{Limit: "organization levels", Max: MaxOrgLevels, Got: len(org.levels), Where: org.name + "s"}
		}
		for i, level := range org.levels {
			layers = append(layers, struct {
				name     string
				policies []Named
			}{fmt.Sprintf("%s level %d", org.name, i), level})
		}
	}
	for _, l := range layers {
		if len(l.policies) > MaxPoliciesPerLayer {
			return &LimitError{Limit: "policies", Max: MaxPoliciesPerLayer, Got: len(l.policies), Where: l.name}
		}
	}
	return nil
}

// policyChars counts the characters of a JSON document that are not white
// space outside strings, the size IAM limits.
func policyChars(data []byte) int {
	n, inString, escaped := 0, false, false
	for _, b := range data {
		if b >= 0x80 && b < 0xC0 {
			continue // a UTF-8 continuation byte: counted with its rune
		}
		switch {
		case inString:
			n++
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
		case b == ' ' || b == '\t' || b == '\n' || b == '\r':
		default:
			n++
			if b == '"' {
				inString = true
			}
		}
	}
	return n
}
