package policy

import (
	"sort"
	"strings"

	"github.com/why-denied/why-denied/arn"
)

// Request is one API call as AWS authorizes it.
type Request struct {
	// Principal is the caller as AWS sees it at request time: an
	// assumed-role session ARN (arn:aws:sts::ACCT:assumed-role/ROLE/SESSION),
	// an IAM user ARN, a role ARN, a federated user ARN, or a service
	// principal such as "s3.amazonaws.com".
	Principal string
	// PrincipalARN is the IAM entity behind a session, with its path
	// (arn:aws:iam::ACCT:role/service-role/ROLE): resource policies name roles
	// by this ARN, which the session ARN does not carry. Empty means derive it
	// from Principal (roles without a path).
	PrincipalARN string
	// Action is service:Action, e.g. "lambda:InvokeFunction".
	Action string
	// Resource is the ARN the action is on, with any qualifier
	// (arn:aws:lambda:REGION:ACCT:function:NAME:live).
	Resource string
	// ResourceAccount is the account owning Resource. Empty means the account
	// field of Resource.
	ResourceAccount string
	// Context holds the request's condition keys (aws:SourceArn,
	// aws:PrincipalTag/team ...). Only keys present here exist in the request.
	Context Context
}

// Context maps condition keys to their values in the request. Keys are
// case-insensitive, as AWS compares them ("Condition key names are not
// case-sensitive", IAM User Guide, "IAM JSON policy elements: Condition"); a
// key with several values is a multivalued key (ForAnyValue/ForAllValues).
//
// Keys that differ only in letter case (aws:sourceip and AWS:SOURCEIP, or
// aws:PrincipalTag/Team and aws:PrincipalTag/team) are one key: their
// values are merged into one multivalued key, the union of the values taken
// in sorted key order, duplicates dropped. Lookup, Normalize and Evaluate
// all read a Context this way, so the answer never depends on map order.
type Context map[string][]string

// Lookup returns the values of key, compared case-insensitively, merged
// over every spelling of key in c (see Context). It scans c: to look up
// many keys, Normalize once and look up in the result.
func (c Context) Lookup(key string) ([]string, bool) {
	var spellings []string
	for k := range c {
		if k == key || strings.EqualFold(k, key) {
			spellings = append(spellings, k)
		}
	}
	switch len(spellings) {
	case 0:
		return nil, false
	case 1:
		return c[spellings[0]], true
	}
	sort.Strings(spellings)
	return c.merge(spellings), true
}

// Normalize returns c with every set of keys that differ only in letter
// case merged into one key: spelled as the first of them in sorted order,
// holding the union of their values in sorted key order (duplicates
// dropped). A Context without such keys is returned as is.
func (c Context) Normalize() Context {
	groups := c.spellings()
	if len(groups) == len(c) {
		return c
	}
	out := make(Context, len(groups))
	for _, keys := range groups {
		out[keys[0]] = c.merge(keys)
	}
	return out
}

// CaseCollisions lists the sets of keys of c that differ only in letter
// case, each sorted, in sorted order: what Normalize merges.
func (c Context) CaseCollisions() [][]string {
	var out [][]string
	for _, keys := range c.spellings() {
		if len(keys) > 1 {
			out = append(out, keys)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// spellings groups the keys of c by folded key, each group sorted.
func (c Context) spellings() map[string][]string {
	groups := make(map[string][]string, len(c))
	for k := range c {
		f := foldKey(k)
		groups[f] = append(groups[f], k)
	}
	for _, keys := range groups {
		if len(keys) > 1 {
			sort.Strings(keys)
		}
	}
	return groups
}

// merge is the union of the values of keys, in the order given.
func (c Context) merge(keys []string) []string {
	if len(keys) == 1 {
		return c[keys[0]]
	}
	out := []string{}
	seen := map[string]bool{}
	for _, k := range keys {
		for _, v := range c[k] {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// keyIndex is a Context indexed by folded key: built once per evaluation,
// so each condition costs one map lookup however many keys the request has.
type keyIndex map[string][]string

func (c Context) index() keyIndex {
	idx := make(keyIndex, len(c))
	var collided map[string]bool
	for k, v := range c {
		f := foldKey(k)
		if _, dup := idx[f]; dup {
			if collided == nil {
				collided = map[string]bool{}
			}
			collided[f] = true
			continue
		}
		idx[f] = v
	}
	if collided != nil {
		for f, keys := range c.spellings() {
			if collided[f] {
				idx[f] = c.merge(keys)
			}
		}
	}
	return idx
}

func (x keyIndex) lookup(key string) ([]string, bool) {
	v, ok := x[foldKey(key)]
	return v, ok
}

// foldKey is the form keys are compared in.
func foldKey(k string) string { return strings.ToLower(k) }

// PrincipalKind classifies Request.Principal.
type PrincipalKind string

const (
	KindSession       PrincipalKind = "session"       // arn:aws:sts::A:assumed-role/R/S
	KindUser          PrincipalKind = "user"          // arn:aws:iam::A:user/U
	KindRole          PrincipalKind = "role"          // arn:aws:iam::A:role/R
	KindFederatedUser PrincipalKind = "federatedUser" // arn:aws:sts::A:federated-user/U
	KindAccount       PrincipalKind = "account"       // arn:aws:iam::A:root
	KindService       PrincipalKind = "service"       // s3.amazonaws.com
	KindAnonymous     PrincipalKind = "anonymous"     // an unsigned request
	KindUnknown       PrincipalKind = "unknown"
)

// PrincipalKindOf says what kind of principal p is (session ARN, user ARN,
// service principal ...).
func PrincipalKindOf(p string) PrincipalKind { return principalKind(p) }

// Kind says what kind of principal the request's caller is.
func (r Request) Kind() PrincipalKind { return principalKind(r.Principal) }

// Anonymous is the principal of an unsigned request, as AWS prints it in
// AccessDenied messages ("User: anonymous"): a function URL with auth type
// NONE is called this way.
const Anonymous = "anonymous"

func principalKind(p string) PrincipalKind {
	if p == Anonymous {
		return KindAnonymous
	}
	a, ok := arn.Parse(p)
	if !ok {
		if strings.HasSuffix(p, ".amazonaws.com") || strings.HasSuffix(p, ".amazonaws.com.cn") {
			return KindService
		}
		return KindUnknown
	}
	switch {
	case a.Service == "sts" && strings.HasPrefix(a.Resource, "assumed-role/"):
		return KindSession
	case a.Service == "sts" && strings.HasPrefix(a.Resource, "federated-user/"):
		return KindFederatedUser
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "user/"):
		return KindUser
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "role/"):
		return KindRole
	case a.Service == "iam" && a.Resource == "root":
		return KindAccount
	}
	return KindUnknown
}

// PrincipalAccount is the caller's account, or "" for a service principal.
func (r Request) PrincipalAccount() string {
	if a, ok := arn.Parse(r.Principal); ok {
		return a.Account
	}
	return ""
}

// resourceAccount is the account owning the resource.
func (r Request) resourceAccount() string {
	if r.ResourceAccount != "" {
		return r.ResourceAccount
	}
	if a, ok := arn.Parse(r.Resource); ok {
		return a.Account
	}
	return ""
}

// roleARN is the IAM role or user ARN behind the caller ("" for services and
// accounts).
func (r Request) entityARN() string {
	if r.PrincipalARN != "" {
		return r.PrincipalARN
	}
	a, ok := arn.Parse(r.Principal)
	if !ok {
		return ""
	}
	switch r.Kind() {
	case KindSession:
		// assumed-role/ROLE/SESSION -> role/ROLE (path unknown: none).
		parts := strings.SplitN(strings.TrimPrefix(a.Resource, "assumed-role/"), "/", 2)
		return "arn:" + a.Partition + ":iam::" + a.Account + ":role/" + parts[0]
	case KindUser, KindRole:
		return r.Principal
	}
	return ""
}
