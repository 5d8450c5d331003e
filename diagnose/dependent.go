package diagnose

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// requestOnlyKeys are condition keys a real request carries (or may carry)
// whose values the tool cannot read from the account: they come from the
// network, the session or the organization at request time. Unless the user
// passes them with --context, a policy conditioned on one of them may decide
// either way.
var requestOnlyKeys = []string{
	"aws:SourceIp", "aws:VpcSourceIp", "aws:SourceVpc", "aws:SourceVpce",
	"aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:ResourceOrgID", "aws:ResourceOrgPaths",
	"aws:CurrentTime", "aws:EpochTime", "aws:TokenIssueTime",
	"aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge",
	"aws:userid", "aws:UserAgent", "aws:Referer", "aws:SourceIdentity",
	"aws:ViaAWSService", "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast",
}

// requestOnlyPrefixes are families of such keys (the function's tags are
// not read either).
var requestOnlyPrefixes = []string{"aws:ResourceTag/", "lambda:ResourceTag/"}

// dependentKeys lists the request-time keys the policies condition on that
// the request context lacks, with the values the policies compare them to.
func dependentKeys(in *policy.Input) map[string][]string {
	unknown := func(key string) bool {
		if _, ok := in.Request.Context.Lookup(key); ok {
			return false
		}
		for _, k := range requestOnlyKeys {
			if strings.EqualFold(k, key) {
				return true
			}
		}
		// sourceKeys exist only when a service calls on behalf of a
		// resource: unknown for a service caller without --source-arn, and
		// absent (as the tool assumes) for every other caller.
		if in.Request.Kind() == policy.KindService && sourceKeys[strings.ToLower(key)] {
			return true
		}
		for _, p := range requestOnlyPrefixes {
			if len(key) > len(p) && strings.EqualFold(key[:len(p)], p) {
				return true
			}
		}
		return false
	}
	out := map[string][]string{}
	visit := func(np *policy.Named) {
		if np == nil || np.Policy == nil {
			return
		}
		for _, st := range np.Policy.Statements {
			for _, c := range st.Conditions {
				if !unknown(c.Key) {
					continue
				}
				key := canonicalKey(out, c.Key)
				out[key] = append(out[key], c.Values...)
			}
		}
	}
	for i := range in.Identity {
		visit(&in.Identity[i])
	}
	for i := range in.SessionPolicies {
		visit(&in.SessionPolicies[i])
	}
	visit(in.Resource)
	visit(in.PermissionsBoundary)
	for _, levels := range [][][]policy.Named{in.SCPs, in.RCPs} {
		for _, l := range levels {
			for i := range l {
				visit(&l[i])
			}
		}
	}
	return out
}

// canonicalKey keeps one spelling per key (condition keys are
// case-insensitive).
func canonicalKey(m map[string][]string, key string) string {
	for k := range m {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	return key
}

// probeValues turns the values a policy compares a key to into request
// values that meet them, plus one that meets none.
func probeValues(policyValues []string) []string {
	var out []string
	add := func(v string) {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for _, v := range policyValues {
		if strings.Contains(v, "${") {
			continue
		}
		if p, err := netip.ParsePrefix(v); err == nil {
			add(p.Masked().Addr().Next().String())
			continue
		}
		add(strings.NewReplacer("*", "x", "?", "x").Replace(v))
	}
	add("why-denied-other-value")
	add("198.51.100.7")
	if len(out) > 6 {
		out = out[:6]
	}
	return out
}

// settleContext makes the decision unknown when it turns on a request-time
// key the tool does not know: the outcome with the key absent differs from
// the outcome with a value the policies name. It says which key, and the
// flag that supplies it.
func settleContext(ev *evidence.Evidence, in *policy.Input, v *Verdict) {
	if v.Decision == DecisionUnknown {
		return
	}
	keys := dependentKeys(in)
	if len(keys) == 0 {
		return
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var deciding []string
	var outcomes []string
	for _, k := range names {
		flips := false
		for _, val := range probeValues(keys[k]) {
			r := evaluateWithContext(ev, in, map[string]string{k: val})
			if r.Decision != v.Decision {
				flips = true
				outcomes = append(outcomes, fmt.Sprintf("%s with %s = %s", r.Decision, k, val))
			}
		}
		if flips {
			deciding = append(deciding, k)
		}
	}
	if len(deciding) == 0 {
		// Keys may decide only together (SourceArn and SourceAccount of one
		// statement): set them all at once, to their i-th probe values.
		for i := 0; i < 6 && len(deciding) == 0; i++ {
			extra := map[string]string{}
			var set []string
			for _, k := range names {
				vals := probeValues(keys[k])
				extra[k] = vals[min(i, len(vals)-1)]
				set = append(set, k+" = "+extra[k])
			}
			r := evaluateWithContext(ev, in, extra)
			if r.Decision != v.Decision {
				deciding = names
				outcomes = append(outcomes, fmt.Sprintf("%s with %s", r.Decision, strings.Join(set, " and ")))
			}
		}
	}
	if len(deciding) == 0 {
		return
	}
	known := v.Decision
	v.Decision = DecisionUnknown
	v.DependsOn = deciding
	how := "--context KEY=VALUE"
	if in.Request.Kind() == policy.KindService {
		how = "--source-arn and --source-account (or --context KEY=VALUE)"
	}
	v.Summary = fmt.Sprintf("UNKNOWN: the outcome depends on %s, which the request carries but the tool cannot know; pass it with %s. Without it: %s",
		strings.Join(deciding, ", "), how, known)
	if len(outcomes) > 3 {
		outcomes = outcomes[:3]
	}
	v.Findings = append(v.Findings, Finding{Kind: "dependsOnContext", Severity: SeverityWarning,
		Message: fmt.Sprintf("the verdict turns on %s: %s when absent, but %s; pass the real value with %s",
			strings.Join(deciding, ", "), known, strings.Join(outcomes, "; "), how)})
}

// evaluateWithContext evaluates the request with extra context keys set.
func evaluateWithContext(ev *evidence.Evidence, in *policy.Input, extra map[string]string) *policy.Result {
	c := cloneInput(in)
	ctx := make(policy.Context, len(in.Request.Context)+len(extra))
	for k, v := range in.Request.Context {
		ctx[k] = v
	}
	for k, v := range extra {
		ctx[k] = []string{v}
	}
	c.Request.Context = ctx
	return evaluateWithSimulation(ev, c)
}
