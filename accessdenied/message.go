package accessdenied

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/policy"
)

// Denial is what an AccessDenied message says.
//
// AWS prints most denials as "User: CALLER is not authorized to perform:
// ACTION on resource: RESOURCE because CONTEXT", where CONTEXT is "no TYPE
// allows the ACTION action" (implicit deny) or "with an explicit deny in a
// TYPE" (IAM User Guide, "Troubleshoot access denied error messages",
// "Access denied error message examples"). The message names only one of the
// layers that deny; the verdict names all of them.
type Denial struct {
	// evidence.Caller is the principal ARN as printed (it may be redacted, e.g.
	// arn:aws:sts::***:assumed-role/R/S); "" when the message names none.
	Caller string `json:"caller,omitempty"`
	// Action is the action denied, e.g. lambda:InvokeFunction.
	Action string `json:"action"`
	// Resource is the ARN after "on resource:" as printed (IAM prints some
	// resources as words, e.g. "role NAME"); "" when the message has none.
	Resource string `json:"resource,omitempty"`
	// Layer is the layer AWS named; "" when the message names none (older
	// messages, and services that do not use the format).
	Layer policy.Layer `json:"layer,omitempty"`
	// Explicit is true for "with an explicit deny", false for "because no
	// ... allows" and for messages that say neither.
	Explicit bool `json:"explicit"`
	// PolicyARN is the ARN of the denying policy, which AWS appends to
	// explicit denies in same-account and same-organization requests
	// (AWS Security Blog, "Enhanced access denied error messages with
	// policy ARNs").
	PolicyARN string `json:"policyArn,omitempty"`
	// Redacted is true when the caller or resource ARN is masked or mangled
	// (*** from CI log masking, an account such as "xxxx" or one that is not
	// 12 digits): such an ARN cannot be looked up as printed.
	Redacted bool `json:"redacted,omitempty"`
	// Service is the service named by the SDK's wrapper: "Lambda" in Go's
	// "operation error Lambda: Invoke", "AWSLambda" in Java's "(Service:
	// AWSLambda; ...)", "Lambda" in Ruby's Aws::Lambda::Errors::...
	Service string `json:"service,omitempty"`

	// PolicyType is the policy type in AWS's words, e.g. "identity-based
	// policy" or "service control policy".
	PolicyType string `json:"policyType,omitempty"`
	// Via is the layer the denying policy reached the request through:
	// "with an explicit deny in a VPC endpoint policy transitively through a
	// service control policy" is fixed in the SCP (IAM User Guide, "Access
	// is denied when a VPC request fails due to another policy"), so Layer is
	// scp and Via is vpcEndpoint.
	Via policy.Layer `json:"via,omitempty"`
	// Operation is the API operation named by the wrapper, e.g. Invoke.
	Operation string `json:"operation,omitempty"`
	// ErrorCode is the error code, e.g. AccessDeniedException (Lambda) or
	// AccessDenied (IAM, STS, S3).
	ErrorCode string `json:"errorCode,omitempty"`
	// AuthorizationID identifies the denied request to the IAM
	// GetRequestAuthorizationDetails API (IAM User Guide, "Troubleshoot access
	// denied error messages with authorization ID").
	AuthorizationID string `json:"authorizationId,omitempty"`
	// EncodedMessage is the "Encoded authorization failure message" some
	// services (EC2) append; sts:DecodeAuthorizationMessage reads it.
	EncodedMessage string `json:"encodedMessage,omitempty"`
}

// EncodedMessageError is returned for a message whose only details are an
// encoded authorization failure message ("You are not authorized to perform
// this operation. Encoded authorization failure message: ..."): only AWS can
// decode it (STS DecodeAuthorizationMessage, which needs the
// sts:DecodeAuthorizationMessage permission).
type EncodedMessageError struct{ Encoded string }

func (e *EncodedMessageError) Error() string {
	return `the message's details are encoded: decode them with "aws sts decode-authorization-message --encoded-message ENCODED" (needs sts:DecodeAuthorizationMessage) and read the decoded JSON`
}

// As lets errors.As see it as any other bad input (*InputError).
func (e *EncodedMessageError) As(target any) bool {
	if t, ok := target.(**InputError); ok {
		*t = &InputError{Msg: e.Error()}
		return true
	}
	return false
}

// policyType matches AWS's words for a policy type: a few words ending in
// policy or boundary ("identity-based policy", "permissions boundary", "role
// trust policy").
const policyType = `((?:[\w-]+ ){0,3}?(?:policy|policies|boundary|boundaries))`

const expectedDenial = `expected "... is not authorized to perform: ACTION ..." as AWS prints it`

var (
	notAuthorizedRE = regexp.MustCompile(`(?i)\bis not authorized to perform\b:?`)
	actionRE        = regexp.MustCompile(`^[\w-]+:[\w*?-]+$`)
	onResourceRE    = regexp.MustCompile(`(?i)^on resource\b:?`)
	implicitRE      = regexp.MustCompile(`(?i)\bbecause no ` + policyType + ` allow`)
	explicitRE      = regexp.MustCompile(`(?i)\bexplicit deny\b(?: in (?:an?|the) ` + policyType + `\b)?`)
	policyARNRE     = regexp.MustCompile(`^:\s*(arn:[^\s"'<>]+)`)
	transitiveRE    = regexp.MustCompile(`(?i)^ transitively through (?:an?|the) ` + policyType + `\b`)
	authIDRE        = regexp.MustCompile(`(?i)\bauthorization id:\s*([0-9A-Za-z]+)`)
	encodedRE       = regexp.MustCompile(`(?i)\bencoded authorization failure message:\s*([\w+/=-]*)`)
	accessOnlyRE    = regexp.MustCompile(`(?i)\baccess ?denied\b`)
	goSDKRE         = regexp.MustCompile(`\boperation error ([^:,]+): (\w+),`)
	cliRE           = regexp.MustCompile(`An error occurred \(([\w.]+)\) when calling the (\w+) operation`)
	javaRE          = regexp.MustCompile(`\(Service: ([^;,)]+)[;,] Status Code: \d+(?:[;,] Error Code: ([^;,)]+))?`)
	rubyRE          = regexp.MustCompile(`\bAws::(\w+)::Errors::(\w+)`)
	apiErrorRE      = regexp.MustCompile(`\bapi error (\w+):`)
	deniedCodeRE    = regexp.MustCompile(`\b[A-Za-z]*AccessDenied[A-Za-z]*\b`)
	escapedChars    = strings.NewReplacer(`\"`, `"`, `\n`, " ", `\t`, " ", `\r`, " ")
	quoteChars      = "\"'`“”‘’"
	iamBareTypes    = map[string]bool{"role": true, "user": true, "group": true, "policy": true, "instance-profile": true}
	denialLayers    = []struct {
		prefix string
		layer  policy.Layer
	}{
		{"identity", policy.LayerIdentity},
		{"resource-based", policy.LayerResource},
		{"resource based", policy.LayerResource},
		// A role trust policy is the role's resource-based policy.
		{"role trust", policy.LayerResource},
		{"trust", policy.LayerResource},
		{"permissions boundar", policy.LayerPermissionsBoundary},
		{"permission boundar", policy.LayerPermissionsBoundary},
		{"session", policy.LayerSessionPolicy},
		{"service control", policy.LayerSCP},
		{"resource control", policy.LayerRCP},
		{"vpc endpoint", policy.LayerVPCEndpoint},
	}
)

// ParseDenial parses a pasted AccessDenied message; an error says what was
// expected. It accepts the message as AWS prints it and as the CLI and SDKs
// wrap it ("An error occurred (AccessDeniedException) when calling the
// Invoke operation: ...", "operation error Lambda: Invoke, ... api error
// AccessDeniedException: ...", "... (Service: AWSLambda; Status Code: 403;
// ...)"), across line breaks, quotes and JSON escapes. Errors are
// *InputError, or *EncodedMessageError when only an encoded message is there.
func ParseDenial(msg string) (*Denial, error) {
	s := strings.Join(strings.Fields(escapedChars.Replace(msg)), " ")
	if s == "" {
		return nil, &InputError{Msg: "empty message: " + expectedDenial}
	}
	encoded := encodedRE.FindStringSubmatch(s)
	loc := notAuthorizedRE.FindStringIndex(s)
	if loc == nil {
		switch {
		case encoded != nil:
			return nil, &EncodedMessageError{Encoded: encoded[1]}
		case accessOnlyRE.MatchString(s):
			return nil, &InputError{Msg: `the message says only "Access Denied" and names no caller or action: ` + expectedDenial}
		}
		return nil, &InputError{Msg: "not an AccessDenied message: " + expectedDenial}
	}
	d := &Denial{Caller: callerBefore(s[:loc[0]])}
	rest := s[loc[1]:]
	// A pasted log may repeat the message; read the first one.
	if next := notAuthorizedRE.FindStringIndex(rest); next != nil {
		rest = rest[:next[0]]
	}
	d.Action, rest = nextToken(rest)
	if !actionRE.MatchString(d.Action) {
		return nil, &InputError{Msg: `AccessDenied message without an action: expected "is not authorized to perform: SERVICE:ACTION", e.g. lambda:InvokeFunction`}
	}
	rest = strings.TrimLeft(rest, " ")
	if m := onResourceRE.FindStringIndex(rest); m != nil {
		d.Resource, rest = resourceAfter(rest[m[1]:])
	}
	d.readContext(rest)
	d.readWrapper(s)
	d.Redacted = arn.Masked(d.Caller) || arn.Masked(d.Resource)
	if encoded != nil {
		d.EncodedMessage = encoded[1]
	}
	if m := authIDRE.FindStringSubmatch(s); m != nil {
		d.AuthorizationID = m[1]
	}
	return d, nil
}

// callerBefore finds the caller in the text before "is not authorized":
// "User: ARN" as AWS prints it, "User NAME" without the colon, a bare ARN,
// or nothing ("User is not authorized ...", which some services print).
func callerBefore(before string) string {
	f := strings.Fields(before)
	if len(f) == 0 {
		return ""
	}
	last := trimToken(f[len(f)-1])
	switch {
	case last == "User":
		return ""
	case len(f) >= 2 && strings.TrimSuffix(f[len(f)-2], ":") == "User", strings.HasPrefix(last, "arn:"):
		return last
	}
	return ""
}

// resourceAfter reads the resource after "on resource:" and returns the rest.
func resourceAfter(s string) (resource, rest string) {
	resource, rest = nextToken(s)
	switch {
	case resource == "because" || resource == "with":
		return "", s // "on resource:" with nothing after it
	case iamBareTypes[resource]:
		// IAM prints some resources as "role NAME", not as an ARN.
		var name string
		name, rest = nextToken(rest)
		resource = strings.TrimSpace(resource + " " + name)
	}
	return resource, rest
}

// readContext reads the clause after the resource: "because no TYPE allows
// the ACTION action" or "with an explicit deny [in a TYPE[: POLICY-ARN]]",
// whichever comes first.
func (d *Denial) readContext(rest string) {
	exp := explicitRE.FindStringSubmatchIndex(rest)
	imp := implicitRE.FindStringSubmatchIndex(rest)
	if imp != nil && (exp == nil || imp[0] < exp[0]) {
		d.PolicyType = rest[imp[2]:imp[3]]
		d.Layer = layerNamed(d.PolicyType)
		return
	}
	if exp == nil {
		return
	}
	d.Explicit = true
	if exp[2] < 0 {
		return // "with an explicit deny" and no type: older messages
	}
	d.PolicyType = rest[exp[2]:exp[3]]
	d.Layer = layerNamed(d.PolicyType)
	after := rest[exp[1]:]
	if m := policyARNRE.FindStringSubmatch(after); m != nil {
		d.PolicyARN = trimToken(m[1])
	}
	if m := transitiveRE.FindStringSubmatch(after); m != nil {
		d.Via = d.Layer
		d.PolicyType = m[1]
		d.Layer = layerNamed(m[1])
	}
}

// readWrapper reads what the CLI or SDK put around the message.
func (d *Denial) readWrapper(s string) {
	if m := goSDKRE.FindStringSubmatch(s); m != nil {
		d.Service, d.Operation = m[1], m[2]
	}
	if m := cliRE.FindStringSubmatch(s); m != nil {
		d.ErrorCode, d.Operation = m[1], m[2]
	}
	if m := javaRE.FindStringSubmatch(s); m != nil {
		d.Service = strings.TrimSpace(m[1])
		if m[2] != "" {
			d.ErrorCode = strings.TrimSpace(m[2])
		}
	}
	if m := rubyRE.FindStringSubmatch(s); m != nil {
		d.Service, d.ErrorCode = m[1], m[2]
	}
	if m := apiErrorRE.FindStringSubmatch(s); m != nil && d.ErrorCode == "" {
		d.ErrorCode = m[1]
	}
	if d.ErrorCode == "" {
		d.ErrorCode = deniedCodeRE.FindString(s)
	}
}

// layerNamed maps AWS's words for a policy type to a layer; "" for words it
// does not know.
func layerNamed(words string) policy.Layer {
	w := strings.ToLower(words)
	for _, l := range denialLayers {
		if strings.HasPrefix(w, l.prefix) {
			return l.layer
		}
	}
	return ""
}

// nextToken returns the first word of s (or the quoted text it starts with)
// and the rest of s.
func nextToken(s string) (token, rest string) {
	s = strings.TrimLeft(s, " ")
	if s == "" {
		return "", ""
	}
	if r, size := utf8.DecodeRuneInString(s); strings.ContainsRune(quoteChars, r) {
		if end := strings.IndexAny(s[size:], quoteChars); end >= 0 {
			_, closeSize := utf8.DecodeRuneInString(s[size+end:])
			return strings.TrimSpace(s[size : size+end]), s[size+end+closeSize:]
		}
	}
	token, rest, _ = strings.Cut(s, " ")
	return trimToken(token), " " + rest
}

// trimToken strips the quotes and punctuation that surround a word in prose
// and logs: "arn:...". arn:...: arn:...]
func trimToken(t string) string {
	t = strings.Trim(t, quoteChars)
	t = strings.TrimRight(t, ".,;:)]}>")
	return strings.Trim(t, quoteChars)
}

// InputError is text that is not an AccessDenied message the tool can read:
// bad input.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }
