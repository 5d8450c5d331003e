package redact

// A policy's structure says which of its strings are names: this file walks
// policy documents, ARNs and condition values element by element and keeps
// what is the policy language or AWS's own words, since the engine must read
// the copy as it read the original, and replaces what names a party. evidence.Request
// context values take the rule of the condition key they answer, so that
// both sides of a comparison change alike.

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/policy"
)

// document redacts a policy document, knowing what each element holds, and
// keeps the order of its elements.
func (r *redactor) document(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return raw, nil
	}
	n, err := parseNode(raw)
	if err != nil {
		return nil, err
	}
	if n.kind != '{' {
		r.strings(n)
	} else {
		for i, k := range n.keys {
			v := n.vals[i]
			switch k {
			case "Version":
			case "Id":
				// evidence.Organization policies are known by their Id.
				v.eachString(r.policyName)
			case "Statement":
				// A list of statements, or a single one standing alone.
				if v.kind != '[' {
					r.statement(v)
				} else {
					for _, st := range v.items {
						r.statement(st)
					}
				}
			default:
				r.strings(v)
			}
		}
	}
	var b bytes.Buffer
	n.encode(&b)
	return b.Bytes(), nil
}

func (r *redactor) statement(n *node) {
	if n.kind != '{' {
		r.strings(n)
		return
	}
	for i, k := range n.keys {
		v := n.vals[i]
		switch k {
		case "Effect", "Action", "NotAction":
		case "Resource", "NotResource":
			// "*" needs no exception: the substitution leaves wildcards be.
			v.eachString(r.arnOrText)
		case "Principal", "NotPrincipal":
			r.principalElement(v)
		case "Condition":
			r.condition(v)
		default: // Sid and anything else
			r.strings(v)
		}
	}
}

func (r *redactor) principalElement(n *node) {
	if n.kind != '{' {
		r.strings(n)
		return
	}
	for i, k := range n.keys {
		v := n.vals[i]
		switch k {
		case "Service":
		case "AWS", "Federated", "CanonicalUser":
			v.eachString(r.principal)
		default:
			r.strings(v)
		}
	}
}

func (r *redactor) condition(n *node) {
	if n.kind != '{' {
		r.strings(n)
		return
	}
	for _, keys := range n.vals {
		if keys.kind != '{' {
			r.strings(keys)
			continue
		}
		for i, key := range keys.keys {
			redactValues(keys.vals[i], func(v string) string { return r.value(key, v) })
		}
	}
}

// redactValues applies f to a condition's values: strings, numbers (kept as
// numbers when f keeps them) and lists of them. Booleans are kept.
func redactValues(n *node, f func(string) string) {
	switch n.kind {
	case '"':
		n.str = f(n.str)
	case '0':
		if red := f(n.str); red != n.str {
			n.kind, n.str = '"', red
		}
	case '[':
		for _, it := range n.items {
			redactValues(it, f)
		}
	case '{':
		for _, v := range n.vals {
			redactValues(v, f)
		}
	}
}

// strings redacts every string of an element whose meaning the engine does
// not read as structure (Sid, Id, unknown elements).
func (r *redactor) strings(n *node) {
	redactValues(n, func(s string) string {
		if isLiteral(s) && !arn.IsAccountID(s) {
			return s
		}
		return r.arnOrText(s)
	})
}

// policyName redacts a policy's name or label: an inline or managed policy
// name, "group/GROUP/POLICY", or "resource policy of FUNCTION[:QUALIFIER]"
// (labels awsclient writes).
func (r *redactor) policyName(name string) string {
	if rest, ok := strings.CutPrefix(name, "resource policy of "); ok {
		return "resource policy of " + r.arnOrText(rest)
	}
	if rest, ok := strings.CutPrefix(name, "group/"); ok {
		group, pol, found := strings.Cut(rest, "/")
		if found {
			return "group/" + r.text(group) + "/" + r.policyName(pol)
		}
	}
	if r.managed[name] {
		return name
	}
	return r.text(name)
}

// principal redacts a principal: an ARN, an account ID or unique ID, or a
// service principal (kept).
func (r *redactor) principal(p string) string {
	// A service principal and the anonymous caller name no one.
	if isServicePrincipal(p) || p == policy.Anonymous {
		return p
	}
	if red, ok := r.uniqueID(p); ok {
		return red
	}
	return r.arnOrText(p)
}

func (r *redactor) arnOrText(s string) string {
	if strings.HasPrefix(s, "arn:") {
		return r.arn(s)
	}
	return r.text(s)
}

// arn redacts the account field and the names in the resource field of an
// ARN or ARN pattern; partition, service and region are kept. ARNs owned by
// AWS (account "aws", as in managed policies) are public and kept.
func (r *redactor) arn(s string) string {
	f := strings.SplitN(s, ":", 6)
	switch {
	case len(f) < 5:
		// Not an ARN, which matches nothing: keep only what can be told.
		if len(f) < 4 {
			return s[:min(len(s), len("arn:"))] + r.text(s[min(len(s), len("arn:")):])
		}
		return strings.Join(f[:3], ":") + ":" + r.text(f[3])
	case f[4] == "aws":
		return s
	}
	f[4] = r.text(f[4])
	if len(f) == 6 {
		f[5] = r.resource(f[2], f[5])
	}
	return strings.Join(f, ":")
}

// resourceTypes are the resource types that start the resource field of an
// ARN ("function:NAME", "role/PATH/NAME"); they are kept, and everything
// after them is a name, a path or a qualifier.
var resourceTypes = map[string]bool{
	// Lambda
	"function": true, "layer": true, "event-source-mapping": true, "code-signing-config": true,
	// IAM and STS
	"role": true, "user": true, "group": true, "policy": true, "root": true, "instance-profile": true,
	"oidc-provider": true, "saml-provider": true, "server-certificate": true, "mfa": true,
	"assumed-role": true, "federated-user": true,
	// Services that commonly call or are named in Lambda policies
	"rule": true, "event-bus": true, "log-group": true, "table": true, "stream": true,
	"key": true, "alias": true, "secret": true, "stateMachine": true, "execution": true,
}

// untypedServices name resources without a type: the resource field is the
// name itself (arn:aws:s3:::bucket/key, arn:aws:sqs:REGION:ACCT:queue).
var untypedServices = map[string]bool{"s3": true, "sqs": true, "sns": true}

func (r *redactor) resource(service, res string) string {
	if untypedServices[service] {
		return r.text(res)
	}
	head, rest := res, ""
	if i := separatorIndex(res); i >= 0 {
		head, rest = res[:i], res[i:]
	}
	if resourceTypes[head] {
		return head + r.text(rest)
	}
	// A wildcard in the type itself ("func*", "rol?/dev-*"): keep the
	// literal start when it begins a type, so that it still meets the type.
	if w := strings.IndexAny(head, "*?"); w >= 0 && startsType(head[:w]) {
		return head[:w] + r.text(res[w:])
	}
	return r.text(res)
}

// separatorIndex finds the first ':' or '/' outside policy variables.
func separatorIndex(s string) int {
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "${"):
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				// Not a variable: the rest is literal text.
				if k := strings.IndexAny(s[i:], ":/"); k >= 0 {
					return i + k
				}
				return -1
			}
			i += j
		case s[i] == ':' || s[i] == '/':
			return i
		}
	}
	return -1
}

func startsType(prefix string) bool {
	for t := range resourceTypes {
		if strings.HasPrefix(t, prefix) {
			return true
		}
	}
	return false
}

// keptValueKeys are condition keys whose values are AWS's own words, not
// names: the engine derives some of them (aws:PrincipalType "AssumedRole",
// aws:RequestedRegion from the resource ARN) and policies must still match.
var keptValueKeys = map[string]bool{
	"aws:principaltype": true, "aws:requestedregion": true,
	"aws:principalservicename": true, "aws:principalservicenameslist": true,
	"aws:calledvia": true, "aws:calledviafirst": true, "aws:calledvialast": true,
	"aws:tagkeys": true, "lambda:functionurlauthtype": true,
	"aws:securetransport": true, "aws:principalisawsservice": true, "aws:viaawsservice": true,
	"aws:multifactorauthpresent": true, "aws:multifactorauthage": true,
	"aws:sourceip": true, "aws:epochtime": true, "aws:currenttime": true, "aws:tokenissuetime": true,
}

// value redacts a condition value or a request context value by its key and
// its shape; policy values and request values of a key go through the same
// rule, so they compare as before.
func (r *redactor) value(key, v string) string {
	k := strings.ToLower(key)
	switch {
	case k == "aws:username":
		// Derived from the user ARN's name, which is always replaced.
		return r.text(v)
	case keptValueKeys[k]:
		return v
	case strings.HasPrefix(v, "arn:"):
		return r.arn(v)
	case arn.IsAccountID(v):
		return r.text(v)
	case isServicePrincipal(v), isLiteral(v):
		return v
	}
	if red, ok := r.uniqueID(v); ok {
		return red
	}
	return r.text(v)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isServicePrincipal(s string) bool {
	return strings.HasSuffix(s, ".amazonaws.com") || strings.HasSuffix(s, ".amazonaws.com.cn")
}

var number = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

// isLiteral reports values that are not names: booleans, numbers, dates and
// IP addresses or CIDR blocks, as the Bool, Numeric, Date and IpAddress
// operators read them.
func isLiteral(v string) bool {
	t := strings.TrimSpace(v)
	if strings.EqualFold(t, "true") || strings.EqualFold(t, "false") || number.MatchString(t) {
		return true
	}
	if _, err := netip.ParseAddr(t); err == nil {
		return true
	}
	if _, err := netip.ParsePrefix(t); err == nil {
		return true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00",
		"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02", "2006-01"} {
		if _, err := time.Parse(layout, t); err == nil {
			return true
		}
	}
	return false
}
