package diagnose

import (
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// requestOnlyKeys are condition keys a real request carries (or may carry)
// whose values the tool cannot read from the account: they come from the
// network, the session or the organization at request time. Unless the user
// passes them with --context, a policy conditioned on one of them may decide
// either way. (aws:CurrentTime and aws:EpochTime are known: the time of the
// diagnosis, or --at. The organization keys are known once the organization
// is read: evidence.RequestContext fills them, or evidence.AbsentKeys says
// they are absent; only then are they no longer listed here in effect.)
var requestOnlyKeys = []string{
	"aws:SourceIp", "aws:VpcSourceIp", "aws:SourceVpc", "aws:SourceVpce",
	"aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:ResourceOrgID", "aws:ResourceOrgPaths",
	"aws:TokenIssueTime",
	"aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge",
	"aws:userid", "aws:UserAgent", "aws:Referer", "aws:SourceIdentity",
	"aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast",
}

// alwaysSent are the request-only keys AWS puts in every request made
// directly with credentials ("AWS global condition context keys":
// "This key is always included in the request context"): for them "absent"
// is not a possible request, only their values are unknown.
var alwaysSent = map[string]bool{"aws:sourceip": true, "aws:useragent": true, "aws:userid": true}

// requestOnlyPrefixes are families of such keys (the function's tags are
// not read either).
var requestOnlyPrefixes = []string{"aws:ResourceTag/", "lambda:ResourceTag/"}

// sourceKeys exist only when an AWS service calls on behalf of a resource.
var sourceKeys = map[string]bool{"aws:sourcearn": true, "aws:sourceaccount": true, "aws:sourceorgid": true, "aws:sourceorgpaths": true}

// requestKey is a condition key the policies use that the request context
// lacks, with the values and operators the policies compare it with.
type requestKey struct {
	name      string
	values    []string
	operators []string
}

// dependentKeys lists the request-time keys the policies condition on that
// the request context lacks, by name. absent are keys the evidence proves
// absent (the organization keys of an account in no organization): known,
// though not in the context.
func dependentKeys(in *policy.Input, absent []string) map[string]*requestKey {
	unknown := func(key string) bool {
		if _, ok := in.Request.Context.Lookup(key); ok {
			return false
		}
		if slices.ContainsFunc(absent, func(k string) bool { return strings.EqualFold(k, key) }) {
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
	out := map[string]*requestKey{}
	visit := func(np *policy.Named) {
		if np == nil || np.Policy == nil {
			return
		}
		for _, st := range np.Policy.Statements {
			for _, c := range st.Conditions {
				if !unknown(c.Key) {
					continue
				}
				name, k := lookupFold(out, c.Key)
				if k == nil {
					name, k = c.Key, &requestKey{name: c.Key}
					out[name] = k
				}
				k.values = append(k.values, c.Values...)
				k.operators = append(k.operators, c.Operator)
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

// lookupFold finds key in m, compared case-insensitively (condition keys
// are).
func lookupFold[V any](m map[string]V, key string) (string, V) {
	if v, ok := m[key]; ok {
		return key, v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return k, v
		}
	}
	var zero V
	return "", zero
}

// maxProbes bounds the values tried per key, and maxProbedKeys the keys
// tried one at a time.
const (
	maxProbes     = 8
	maxProbedKeys = 32
)

// probeValues turns the values a policy compares a key with into request
// values on each side of every comparison: an address inside each range
// (the address itself for a /32 or /128) and one outside all; a number or a
// date just below, at and just above each bound; each literal (its
// wildcards filled in); and a value that meets none.
func probeValues(k *requestKey) []string {
	var out []string
	add := func(v string) {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for _, v := range k.values {
		if strings.Contains(v, "${") {
			continue
		}
		if p, err := netip.ParsePrefix(v); err == nil {
			a := p.Masked().Addr()
			if p.Bits() < a.BitLen() {
				a = a.Next()
			}
			add(a.String())
			continue
		}
		if a, err := netip.ParseAddr(v); err == nil {
			add(a.String())
			continue
		}
		// The value itself first: keys that decide only together are tried
		// at their i-th values at once, so the i-th are each key's literal.
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			add(v)
			add(t.Add(-time.Second).UTC().Format(time.RFC3339))
			add(t.Add(time.Second).UTC().Format(time.RFC3339))
			continue
		}
		if n, ok := new(big.Float).SetString(v); ok && len(v) <= 40 {
			one := big.NewFloat(1)
			add(v)
			add(new(big.Float).Sub(n, one).Text('f', -1))
			add(new(big.Float).Add(n, one).Text('f', -1))
			continue
		}
		add(strings.NewReplacer("*", "x", "?", "x").Replace(v))
	}
	add("why-denied-other-value")
	add("198.51.100.7")
	if len(out) > maxProbes {
		out = append(out[:maxProbes-2], out[len(out)-2:]...)
	}
	return out
}

// keysSettlement is what trying the request-time keys found.
type keysSettlement struct {
	// deciding are the keys the outcome turns on (empty: it turns on none).
	deciding []string
	// outcomes says, in words, what each value tried gave.
	outcomes []string
}

// settleKeys tries values for every request-time key the tool does not know
// and the policies condition on. The outcome is definite when every possible
// request agrees with the decision; otherwise the keys that change it are
// named. A key AWS always sends (aws:SourceIp) is tried only with values; a
// key that may be absent is also judged absent, as the request holds it.
func (d *diagnosis) settleKeys(in *policy.Input, decision policy.Decision) keysSettlement {
	keys := dependentKeys(in, evidence.AbsentKeys(d.ev))
	if len(keys) == 0 {
		return keysSettlement{}
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var s keysSettlement
	differs := func(r policy.Decision) bool {
		// A deny of another kind is still a deny: the call is denied either
		// way, and the verdict names what it could read.
		return r != decision && (r == policy.Allowed || decision == policy.Allowed || r == DecisionUnknown)
	}
	for i, k := range names {
		if i == maxProbedKeys {
			// Beyond that many keys, they are tried together only (below):
			// the work stays bounded whatever the policies hold.
			break
		}
		flips := false
		for _, val := range probeValues(keys[k]) {
			r, _, _ := d.decide(withContext(in, map[string]string{k: val}))
			if differs(r) {
				flips = true
				s.outcomes = append(s.outcomes, fmt.Sprintf("%s with %s = %s", r, k, val))
			}
		}
		if flips {
			s.deciding = append(s.deciding, k)
		}
	}
	if len(s.deciding) == 0 {
		// Keys may decide only together (SourceArn and SourceAccount of one
		// statement): set them all at once, to their i-th probe values.
		for i := 0; i < maxProbes && len(s.deciding) == 0; i++ {
			extra := map[string]string{}
			var set []string
			for _, k := range names {
				vals := probeValues(keys[k])
				extra[k] = vals[min(i, len(vals)-1)]
				set = append(set, k+" = "+extra[k])
			}
			if r, _, _ := d.decide(withContext(in, extra)); differs(r) {
				s.deciding = names
				s.outcomes = append(s.outcomes, fmt.Sprintf("%s with %s", r, strings.Join(set, " and ")))
			}
		}
	}
	if len(s.deciding) > 0 {
		return s
	}
	// Every value agrees. For a key AWS always sends, the decision the
	// request was judged by (the key absent) is not a possible request:
	// it stands only if the values agree with it, which they do here.
	return keysSettlement{}
}

// alwaysSentKey reports whether AWS sends key in every direct request.
func alwaysSentKey(key string) bool { return alwaysSent[strings.ToLower(key)] }
