package policy

import (
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
// case-insensitive, as AWS compares them; a key with several values is a
// multivalued key (ForAnyValue/ForAllValues).
type Context map[string][]string

// Lookup returns the values of key, compared case-insensitively.
func (c Context) Lookup(key string) ([]string, bool) {
	if v, ok := c[key]; ok {
		return v, true
	}
	for k, v := range c {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

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
