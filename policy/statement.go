package policy

import (
	"slices"
	"strings"

	"github.com/why-denied/why-denied/arn"
)

// Element names a statement element in a trace.
type Element string

const (
	ElemAction       Element = "Action"
	ElemNotAction    Element = "NotAction"
	ElemResource     Element = "Resource"
	ElemNotResource  Element = "NotResource"
	ElemPrincipal    Element = "Principal"
	ElemNotPrincipal Element = "NotPrincipal"
	ElemCondition    Element = "Condition"
)

// Mismatch says why one element of a statement did not match the request.
type Mismatch struct {
	Element Element `json:"element"`
	// Values are the statement's values for the element (after policy
	// variables, for resources).
	Values []string `json:"values,omitempty"`
	// Got is the request's value the element was compared with (the action,
	// the resource ARN or the caller).
	Got string `json:"got,omitempty"`
	// Reason is a short explanation for cases the values alone do not tell,
	// e.g. "statement has no Principal".
	Reason string `json:"reason,omitempty"`
	// Condition is set for Element == Condition.
	Condition *ConditionTrace `json:"condition,omitempty"`
}

// PrincipalMatch says how a resource policy statement's Principal matched
// the caller. AWS treats a grant differently depending on which identity
// it names (see Evaluate).
type PrincipalMatch string

const (
	MatchNone PrincipalMatch = ""
	// MatchSession: the exact session or federated user ARN, or "*".
	MatchSession PrincipalMatch = "session"
	// MatchUser: the IAM user's ARN.
	MatchUser PrincipalMatch = "user"
	// MatchRole: the role's ARN (covers all its sessions), or the IAM user
	// behind a federated user session: limited by boundary and session
	// policies.
	MatchRole PrincipalMatch = "role"
	// MatchAccount: the caller's account (root ARN or bare account ID).
	MatchAccount PrincipalMatch = "account"
	// MatchService: the service principal making the call.
	MatchService PrincipalMatch = "service"
)

// strength orders grants: a grant naming the caller directly is not limited
// by boundaries or session policies; one naming the account grants nothing
// by itself in the same account.
func (m PrincipalMatch) strength() int {
	switch m {
	case MatchSession, MatchService:
		return 4
	case MatchUser:
		return 3
	case MatchRole:
		return 2
	case MatchAccount:
		return 1
	}
	return 0
}

// StatementTrace is how one statement fared against the request.
type StatementTrace struct {
	Layer Layer `json:"layer"`
	// Policy is the policy's name; PolicyIndex its index in the layer's list
	// (for SCPs and RCPs: in its level); Level the organization level
	// (0 = root) for SCPs and RCPs.
	Policy      string `json:"policy"`
	PolicyIndex int    `json:"policyIndex"`
	Level       int    `json:"level,omitempty"`
	Statement   int    `json:"statement"`
	Sid         string `json:"sid,omitempty"`
	Effect      Effect `json:"effect"`
	Matched     bool   `json:"matched"`
	// Failures lists every element that did not match, in the order Action,
	// Resource, Principal, Condition; the first is the deciding one.
	Failures []Mismatch `json:"failures,omitempty"`
	// Conditions traces every condition of the statement.
	Conditions []ConditionTrace `json:"conditions,omitempty"`
	// Principal says how the Principal element matched (resource policies).
	Principal PrincipalMatch `json:"principalMatch,omitempty"`
	// Undecidable is set when every element the engine can read matches
	// and the rest are conditions it cannot evaluate (an unknown operator,
	// a value it cannot read): it says which key and why. Matched is then
	// false, or true under Input.AssumeUndecidableMatch.
	Undecidable string `json:"undecidable,omitempty"`
}

// FirstFailure is the element that decided the statement did not match.
func (t StatementTrace) FirstFailure() *Mismatch {
	if len(t.Failures) == 0 {
		return nil
	}
	return &t.Failures[0]
}

// evalStatement matches one statement against the request, recording every
// element that fails.
func evalStatement(st *Statement, version string, ev *evaluation, layer Layer, a *arena) StatementTrace {
	req, chain := ev.req, ev.chain
	tr := StatementTrace{Layer: layer, Statement: st.Index, Sid: st.Sid, Effect: st.Effect}
	tr.Failures = a.mismatches(3 + len(st.Conditions))
	tr.Conditions = a.conditions(len(st.Conditions))
	vars := usesVariables(version)

	if m := matchAny(st.Actions, req.Action); m == st.NotAction {
		el := ElemAction
		if st.NotAction {
			el = ElemNotAction
		}
		tr.Failures = append(tr.Failures, Mismatch{Element: el, Values: st.Actions, Got: req.Action})
	}

	if mm, failed := matchResource(st, layer, req, ev.ctx, vars); failed {
		tr.Failures = append(tr.Failures, mm)
	}

	if layer == LayerResource {
		pm, mm := matchPrincipal(st, chain)
		tr.Principal = pm
		if mm != nil {
			mm.Got = req.Principal
			tr.Failures = append(tr.Failures, *mm)
		}
	}

	undecidable := ""
	for _, c := range st.Conditions {
		ct := evalCondition(c, ev.ctx, vars)
		tr.Conditions = append(tr.Conditions, ct)
		if !ct.Matched {
			tr.Failures = append(tr.Failures, Mismatch{Element: ElemCondition, Condition: &tr.Conditions[len(tr.Conditions)-1]})
			if ct.Undecidable != "" && undecidable == "" {
				undecidable = ct.Key + ": " + ct.Undecidable
			}
		}
	}
	// A statement is undecidable when everything the engine can read
	// matches and only conditions it cannot evaluate stand in the way: then
	// no one can say whether it applies. One failure it can read settles it.
	if undecidable != "" {
		for _, f := range tr.Failures {
			if f.Condition == nil || f.Condition.Undecidable == "" {
				undecidable = ""
				break
			}
		}
	}
	tr.Undecidable = undecidable
	tr.Matched = len(tr.Failures) == 0 || (undecidable != "" && ev.assumeUndecidable)
	if tr.Matched {
		tr.Failures = nil
	}
	if len(tr.Conditions) == 0 {
		tr.Conditions = nil
	}
	return tr
}

// arena hands out trace slices from a few large allocations: evaluating a
// thousand statements should not cost thousands of small allocations.
type arena struct {
	mism  []Mismatch
	conds []ConditionTrace
}

func newArena(policies []Named) *arena {
	nm, nc := 0, 0
	for _, p := range policies {
		if p.Policy == nil {
			continue
		}
		for i := range p.Policy.Statements {
			c := len(p.Policy.Statements[i].Conditions)
			nm += 3 + c
			nc += c
		}
	}
	return &arena{mism: make([]Mismatch, nm), conds: make([]ConditionTrace, nc)}
}

func (a *arena) mismatches(n int) []Mismatch {
	s := a.mism[:0:n]
	a.mism = a.mism[n:]
	return s
}

func (a *arena) conditions(n int) []ConditionTrace {
	s := a.conds[:0:n]
	a.conds = a.conds[n:]
	return s
}

// matchAny reports whether action matches one of the patterns. Actions are
// case-insensitive ("IAM JSON policy elements: Action").
func matchAny(patterns []string, action string) bool {
	for _, p := range patterns {
		if p == "*" || plain(p).match(action, true) {
			return true
		}
	}
	return false
}

func matchResource(st *Statement, layer Layer, req *Request, ctx keyIndex, vars bool) (Mismatch, bool) {
	if !st.HasResource {
		// Resource-based policies may leave the resource implied (it is the
		// resource the policy is attached to); other policies must name it.
		if layer == LayerResource {
			return Mismatch{}, false
		}
		return Mismatch{Element: ElemResource, Got: req.Resource, Reason: "statement has no Resource or NotResource"}, true
	}
	matched := false
	substituted := false
	for _, r := range st.Resources {
		p := plain(r)
		if vars && strings.Contains(r, "${") {
			var ok bool
			substituted = true
			// "The resource that includes a policy variable with no value
			// will not match any resource" (Policy variables with no value).
			if p, ok, _ = substituteResource(r, ctx); !ok {
				continue
			}
		}
		if resourceMatches(p, req) {
			matched = true
			break
		}
	}
	if matched != st.NotResource {
		return Mismatch{}, false
	}
	el := ElemResource
	if st.NotResource {
		el = ElemNotResource
	}
	shown := st.Resources
	if substituted {
		// Show the values as they were compared.
		shown = make([]string, 0, len(st.Resources))
		for _, r := range st.Resources {
			if p, ok, _ := substituteResource(r, ctx); ok {
				shown = append(shown, p.text)
			} else {
				shown = append(shown, r)
			}
		}
	}
	return Mismatch{Element: el, Values: shown, Got: req.Resource}, true
}

// resourceMatches compares a Resource pattern with an ARN. The first five
// fields are matched one by one; the resource field (everything after the
// fifth colon) is matched as a whole, so "function:name*" covers
// "function:name:live" while "function:name" does not. ARNs are
// case-sensitive.
func resourceMatches(p pattern, req *Request) bool {
	if p.text == "*" && p.wild(0) {
		return true
	}
	if !strings.HasPrefix(p.text, "arn:") {
		return p.match(req.Resource, false)
	}
	return segmentsMatch(p, req.Resource)
}

// segmentsMatch compares a Resource ARN pattern with an ARN colon-separated
// segment by segment: wildcards stay inside their segment, except that "if
// the * wildcard is the last character of a resource ARN segment, it can
// expand to match beyond the colon boundaries" (IAM User Guide, "IAM JSON
// policy elements: Resource"). So "function:name*" covers
// "function:name:live", "function:name" does not, and "function:name:*"
// covers qualified calls only.
//
// It walks the pattern's segments once, keeping the set of value segments
// each may start at (a memo over (pattern segment, value segment)): a
// pattern of many segment-ending stars against an ARN of many colons costs
// their product, not an exponential number of tries.
func segmentsMatch(p pattern, value string) bool {
	if !p.hasWildcard() {
		return p.text == value
	}
	// starts[j] is where value segment j begins; the value has m segments.
	// Buffers on the stack cover ordinary ARNs without allocating.
	var startsBuf [16]int
	var reachBuf, nextBuf [17]bool
	starts := startsBuf[:1]
	for i := 0; i < len(value); i++ {
		if value[i] == ':' {
			starts = append(starts, i+1)
		}
	}
	m := len(starts)
	segEnd := func(j int) int {
		if j+1 < m {
			return starts[j+1] - 1
		}
		return len(value)
	}
	reach, next := reachBuf[:0], nextBuf[:0] // reach[j]: the next pattern segment starts at value segment j
	if m+1 > len(reachBuf) {
		reach, next = make([]bool, m+1), make([]bool, m+1)
	} else {
		reach, next = reachBuf[:m+1], nextBuf[:m+1]
	}
	reach[0] = true
	for start := 0; start <= len(p.text); {
		end := strings.IndexByte(p.text[start:], ':')
		if end < 0 {
			end = len(p.text)
		} else {
			end += start
		}
		seg := p.slice(start, end)
		spans := end > start && seg.isStar(end-start-1)
		clear(next)
		any := false
		for j := 0; j < m; j++ {
			if !reach[j] {
				continue
			}
			if spans {
				// The segment's text before its final star matches from
				// segment j, wildcards crossing colons; the star then runs
				// to the end of any later segment. Later starting points
				// end no earlier, so the first one decides.
				e, ok := seg.slice(0, end-start-1).prefixEnd(value, starts[j])
				if !ok {
					continue
				}
				for k := j; k < m; k++ {
					if segEnd(k) >= e {
						next[k+1] = true
						any = true
					}
				}
				break
			}
			if seg.match(value[starts[j]:segEnd(j)], false) {
				next[j+1] = true
				any = true
			}
		}
		if !any {
			return false
		}
		reach, next = next, reach
		start = end + 1
	}
	return reach[m]
}

// principalChain is the set of identities a caller is known by, from the
// most specific to the account ("AWS JSON policy elements: Principal").
type principalChain struct {
	kind    PrincipalKind
	direct  string // session, user, role or federated user ARN as called
	entity  string // role or user ARN with path ("" when not an IAM entity)
	account string // 12-digit account ID
	service string // service principal name
	// hasBoundary: the caller has a permissions boundary (NotPrincipal
	// with Deny then always applies to it).
	hasBoundary bool
}

func chainOf(req *Request) principalChain {
	c := principalChain{kind: req.Kind()}
	switch c.kind {
	case KindService:
		c.service = req.Principal
	case KindUnknown:
		c.direct = req.Principal
	default:
		c.direct = req.Principal
		c.entity = req.entityARN()
		c.account = req.PrincipalAccount()
	}
	return c
}

// matchPrincipal evaluates the Principal or NotPrincipal element of a
// resource policy statement.
func matchPrincipal(st *Statement, chain principalChain) (PrincipalMatch, *Mismatch) {
	p := st.Principal
	if p == nil {
		return MatchNone, &Mismatch{Element: ElemPrincipal, Reason: "statement has no Principal"}
	}
	if !st.NotPrincipal {
		m := chain.bestMatch(p)
		if m == MatchNone {
			return MatchNone, &Mismatch{Element: ElemPrincipal, Values: p.values()}
		}
		return m, nil
	}
	// NotPrincipal: the statement applies unless every identity of the
	// caller is listed. AWS: to exclude a role session, list the account,
	// the role and the session ARN ("AWS JSON policy elements:
	// NotPrincipal"). And "using NotPrincipal with Deny ... will always deny
	// any IAM principal that has a permissions boundary", listed or not.
	if chain.hasBoundary && st.Effect == Deny {
		return MatchSession, nil
	}
	if chain.kind == KindAnonymous {
		if !p.Wildcard && !slices.Contains(p.AWS, "*") {
			return MatchSession, nil
		}
		return MatchNone, &Mismatch{Element: ElemNotPrincipal, Values: p.values(), Reason: "the caller is listed in NotPrincipal"}
	}
	for _, id := range chain.identities() {
		if !p.lists(id, chain) {
			return MatchSession, nil
		}
	}
	return MatchNone, &Mismatch{Element: ElemNotPrincipal, Values: p.values(), Reason: "the caller is listed in NotPrincipal"}
}

type identity struct {
	value string
	kind  PrincipalMatch
}

// identities lists what NotPrincipal must name to exclude the caller.
func (c principalChain) identities() []identity {
	if c.kind == KindService {
		return []identity{{c.service, MatchService}}
	}
	var ids []identity
	if c.account != "" {
		ids = append(ids, identity{c.account, MatchAccount})
	}
	switch c.kind {
	case KindSession:
		ids = append(ids, identity{c.entity, MatchRole}, identity{c.direct, MatchSession})
	case KindUser:
		ids = append(ids, identity{c.direct, MatchUser})
	case KindRole:
		ids = append(ids, identity{c.direct, MatchRole})
	case KindFederatedUser:
		// A grant to the IAM user who federated is limited by boundary and
		// session policy, like a grant to a role ARN ("Policy evaluation
		// logic": "if a resource-based policy grants permission to the ARN
		// of the IAM user who federated, then requests made by the federated
		// user during the session are limited by an implicit deny in a
		// permission boundary or session policy").
		if c.entity != "" {
			ids = append(ids, identity{c.entity, MatchRole})
		}
		ids = append(ids, identity{c.direct, MatchSession})
	case KindUnknown:
		ids = append(ids, identity{c.direct, MatchSession})
	case KindAnonymous:
		// An anonymous caller has no name a policy can list: only the
		// wildcard names it ("For anonymous users, the following elements
		// are equivalent: "Principal": "*" and "Principal" : { "AWS" : "*" }",
		// "AWS JSON policy elements: Principal").
	}
	return ids
}

// bestMatch returns the strongest way p names the caller.
func (c principalChain) bestMatch(p *Principal) PrincipalMatch {
	if p.Wildcard {
		if c.kind == KindService {
			return MatchService
		}
		return MatchSession
	}
	best := MatchNone
	for _, id := range c.identities() {
		if p.lists(id, c) && id.kind.strength() > best.strength() {
			best = id.kind
		}
	}
	// "Principal": {"AWS": "*"} is documented as the same wildcard as
	// "Principal": "*", with no exception for service principals.
	for _, v := range p.AWS {
		if v == "*" {
			if c.kind == KindService {
				return MatchService
			}
			return MatchSession
		}
	}
	return best
}

// lists reports whether p names id.
func (p *Principal) lists(id identity, c principalChain) bool {
	if p.Wildcard {
		return true
	}
	if id.kind == MatchService {
		for _, s := range p.Service {
			if strings.EqualFold(s, id.value) {
				return true
			}
		}
		return slices.Contains(p.AWS, "*")
	}
	for _, v := range p.AWS {
		switch {
		case v == "*":
			return true
		case id.kind == MatchAccount:
			if v == id.value || v == "arn:"+arn.Partition(c.direct)+":iam::"+id.value+":root" {
				return true
			}
		case v == id.value:
			return true
		}
	}
	return false
}

func (p *Principal) values() []string {
	if p.Wildcard {
		return []string{"*"}
	}
	var out []string
	for _, v := range p.AWS {
		out = append(out, "AWS:"+v)
	}
	for _, v := range p.Service {
		out = append(out, "Service:"+v)
	}
	for _, v := range p.Federated {
		out = append(out, "Federated:"+v)
	}
	for _, v := range p.CanonicalUser {
		out = append(out, "CanonicalUser:"+v)
	}
	return out
}
