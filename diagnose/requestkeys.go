package diagnose

import (
	"fmt"
	"maps"
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
func dependentKeys(in *policy.Input, absent, unknownPrefixes []string) map[string]*requestKey {
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
		for _, p := range append(requestOnlyPrefixes, unknownPrefixes...) {
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
// values on each side of every comparison, of the key's type: an address
// inside each range (the address itself for a /32 or /128) and addresses
// outside; true and false; a number or a date at, just below and just
// above each bound; each literal (its wildcards filled in) and a string
// that meets none. A policy variable in a value (${aws:PrincipalTag/team})
// is read from the request context, as AWS substitutes it.
func probeValues(k *requestKey, ctx policy.Context) []string {
	var out []string
	add := func(v string) {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	typ := evidence.TypeOf(k.name)
	if typ == evidence.KeyBoolean {
		return []string{"true", "false"}
	}
	for _, v := range k.values {
		v, ok := substitute(v, ctx)
		if !ok {
			continue
		}
		switch typ {
		case evidence.KeyIP:
			if p, err := netip.ParsePrefix(v); err == nil {
				a := p.Masked().Addr()
				if p.Bits() < a.BitLen() {
					a = a.Next()
				}
				add(a.String())
			} else if a, err := netip.ParseAddr(v); err == nil {
				add(a.String())
			}
			continue
		case evidence.KeyDate:
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				add(v)
				add(t.Add(-time.Second).UTC().Format(time.RFC3339))
				add(t.Add(time.Second).UTC().Format(time.RFC3339))
			}
			continue
		case evidence.KeyNumeric:
			if n, ok := new(big.Float).SetString(v); ok && len(v) <= 40 {
				one := big.NewFloat(1)
				add(v)
				add(new(big.Float).Sub(n, one).Text('f', -1))
				add(new(big.Float).Add(n, one).Text('f', -1))
			}
			continue
		}
		// The value itself first: keys that decide only together are tried
		// at their i-th values at once, so the i-th are each key's literal.
		add(strings.NewReplacer("*", "x", "?", "x").Replace(v))
	}
	switch typ {
	case evidence.KeyIP:
		add("198.51.100.7")
		add("2001:db8::7")
	case evidence.KeyString:
		add("why-denied-other-value")
	}
	if len(out) > maxProbes {
		out = append(out[:maxProbes-2], out[len(out)-2:]...)
	}
	return out
}

// substitute replaces the policy variables in v with their values in the
// request; false when one has none (or several).
func substitute(v string, ctx policy.Context) (string, bool) {
	for strings.Contains(v, "${") {
		i := strings.Index(v, "${")
		j := strings.IndexByte(v[i:], '}')
		if j < 0 {
			return "", false
		}
		key := v[i+2 : i+j]
		vals, ok := ctx.Lookup(key)
		if !ok || len(vals) != 1 {
			return "", false
		}
		v = v[:i] + vals[0] + v[i+j+1:]
	}
	return v, true
}

// keysSettlement is what trying the request-time keys found.
type keysSettlement struct {
	// deciding are the keys the outcome turns on (empty: it turns on none).
	deciding []string
	// outcomes says, in words, what each value tried gave.
	outcomes []string
	// unknownSeen: some value tried left the decision unknown (an
	// unreadable layer decides then).
	unknownSeen bool
	// settledAt holds, for keys AWS sends in every request whose every
	// value gives one decision other than the one judged without the key,
	// a value standing for all of them: the request is decided with it;
	// settledNote says what the other values give, where they differ.
	settledAt, settledNote map[string]string
}

func (s *keysSettlement) settle(key, value, note string) {
	if s.settledAt == nil {
		s.settledAt, s.settledNote = map[string]string{}, map[string]string{}
	}
	s.settledAt[key], s.settledNote[key] = value, note
}

// settleKeys tries values for every request-time key the tool does not know
// and the policies condition on. The outcome is definite when every possible
// request agrees with the decision; otherwise the keys that change it are
// named. A key AWS always sends (aws:SourceIp) is tried only with values; a
// key that may be absent is also judged absent, as the request holds it.
func (d *diagnosis) settleKeys(in *policy.Input, decision policy.Decision) keysSettlement {
	keys := dependentKeys(in, evidence.AbsentKeys(d.ev), unknownPrefixes(d.ev))
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
		var seen []policy.Decision
		var outcomes []string
		weakest := ""
		vals := probeValues(keys[k], in.Request.Context)
		for _, val := range vals {
			r, _, _ := d.decide(withContext(in, map[string]string{k: val}))
			if !slices.Contains(seen, r) {
				seen = append(seen, r)
			}
			if r == policy.ImplicitDeny && weakest == "" {
				weakest = val
			}
			s.unknownSeen = s.unknownSeen || r == DecisionUnknown
			if differs(r) {
				flips = true
				outcomes = append(outcomes, fmt.Sprintf("%s with %s = %s", r, k, val))
			}
		}
		onlyDenies := !slices.Contains(seen, policy.Allowed) && !slices.Contains(seen, DecisionUnknown)
		switch {
		case alwaysSentKey(k) && len(seen) == 1 && seen[0] != decision && onlyDenies || alwaysSentKey(k) && len(seen) == 1 && seen[0] == policy.Allowed && decision != policy.Allowed:
			// AWS sends the key in every request, and every value of it
			// gives the same decision: absent, as judged so far, is no
			// request AWS sees.
			s.settle(k, vals[0], "")
			continue
		case alwaysSentKey(k) && onlyDenies && len(seen) > 1 && weakest != "":
			// Denied whatever the value, explicitly for some: shown for a
			// value where nothing but a missing Allow denies, which the
			// narrowest fix lifts; the others are said.
			s.settle(k, weakest, fmt.Sprintf("; from other values an explicit Deny applies too (%s)", strings.Join(outcomes, "; ")))
			continue
		}
		if flips {
			s.deciding = append(s.deciding, k)
			s.outcomes = append(s.outcomes, outcomes...)
		}
	}
	if len(s.settledAt) > 0 {
		return s
	}
	if len(s.deciding) == 0 {
		// Keys may decide only together (SourceArn and SourceAccount of one
		// statement): set them all at once, to their i-th probe values.
		for i := 0; i < maxProbes && len(s.deciding) == 0; i++ {
			extra := map[string]string{}
			var set []string
			for _, k := range names {
				vals := probeValues(keys[k], in.Request.Context)
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

// assumedFindings say which request-time keys the verdict was decided with
// a stand-in value for, and why that is exact.
func assumedFindings(assumed, notes map[string]string, decision policy.Decision) []Finding {
	var out []Finding
	for _, k := range slices.Sorted(maps.Keys(assumed)) {
		msg := fmt.Sprintf("%s is in every request, and every value of it gives %s: the verdict is shown for %s = %s", k, decision, k, assumed[k])
		if notes[k] != "" {
			msg = fmt.Sprintf("%s is in every request, and every value of it is denied: the verdict is shown for %s = %s, where only a missing Allow denies%s", k, k, assumed[k], notes[k])
		}
		out = append(out, Finding{Kind: KindDependsOnContext, Severity: SeverityInfo, Message: msg})
	}
	return out
}

// unknownPrefixes are key families the evidence cannot know for its
// caller: a session pasted as an ARN may carry session tags ("Pass session
// tags in AWS STS": principal tags come from session tags, incoming
// transitive session tags and IAM tags), which the account does not keep.
func unknownPrefixes(ev *evidence.Evidence) []string {
	if ev.Caller.SessionPoliciesUnknown && policy.PrincipalKindOf(ev.Request.Caller) == policy.KindSession {
		return []string{"aws:PrincipalTag/"}
	}
	return nil
}
