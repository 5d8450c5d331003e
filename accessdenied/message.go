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
	// Redacted is true when the caller or resource is masked or mangled
	// (*** from CI log masking, an account such as "xxxx", "<id>" or one
	// that is not 12 digits, "..." for a part left out, a placeholder such
	// as "<arn here>" for the whole ARN): it cannot be looked up as printed.
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

	// Form is the kind of denial text when it is not AWS's "... is not
	// authorized to perform: ..." sentence (see the Form constants); "" for
	// that sentence.
	Form Form `json:"form,omitempty"`
	// CutOff is true when the text ends before what it names is complete:
	// cut after "is not authorized to perform", or an ARN that ends mid-field
	// (a wrapped paste whose continuation is lost).
	CutOff bool `json:"cutOff,omitempty"`

	// CloudTrail is true when the message came from a CloudTrail record;
	// then Role, EventTime and Context are what the record adds.
	CloudTrail bool `json:"cloudTrail,omitempty"`
	// Role is the IAM role ARN, with its path, of an assumed-role session
	// caller, from the record's userIdentity.sessionContext.sessionIssuer.
	Role string `json:"role,omitempty"`
	// EventTime is the record's eventTime (RFC 3339): when the call was made.
	EventTime string `json:"eventTime,omitempty"`
	// Context holds the request's condition keys the record shows
	// (aws:SourceIp, aws:SourceVpce, aws:MultiFactorAuthPresent, ...), for
	// the diagnosis of the call.
	Context map[string][]string `json:"context,omitempty"`
}

// policyType matches AWS's words for a policy type: a few words ending in
// policy or boundary ("identity-based policy", "permissions boundary", "role
// trust policy").
const policyType = `((?:[\w-]+ ){0,3}?(?:policy|policies|boundary|boundaries))`

const expectedDenial = `expected "... is not authorized to perform: ACTION ..." as AWS prints it`

var (
	notAuthorizedRE = regexp.MustCompile(`(?i)\bis not authorized to perform\b:?`)
	actionRE        = regexp.MustCompile(`^[\w-]+:[\w*?-]+$`)
	// IAM and CloudWatch Logs sometimes print the operation without its
	// service: "User with accountId: A is not authorized to perform
	// CreateLogGroup with Tags".
	bareActionRE = regexp.MustCompile(`^[A-Z][A-Za-z0-9]+$`)
	onResourceRE = regexp.MustCompile(`(?i)^on resource\b:?`)
	implicitRE   = regexp.MustCompile(`(?i)\bbecause no ` + policyType + ` allow`)
	explicitRE   = regexp.MustCompile(`(?i)\bexplicit deny\b(?: in (?:an?|the) ` + policyType + `\b)?`)
	policyARNRE  = regexp.MustCompile(`^:\s*(arn:[^\s"']+)`)
	transitiveRE = regexp.MustCompile(`(?i)^ transitively through (?:an?|the) ` + policyType + `\b`)
	authIDRE     = regexp.MustCompile(`(?i)\bauthorization id:\s*([0-9A-Za-z]+(?:-[0-9A-Za-z]+)*)`)
	encodedRE    = regexp.MustCompile(`(?i)\bencoded authorization failure message:\s*([\w+/=-]*)`)
	goSDKRE      = regexp.MustCompile(`\boperation error ([^:,]+): (\w+),`)
	cliRE        = regexp.MustCompile(`An error occurred \(([\w.]+)\) when calling the (\w+) operation`)
	javaRE       = regexp.MustCompile(`\(Service: ([^;,)]+)[;,] Status Code: \d+(?:[;,] Error Code: ([^;,)]+))?`)
	rubyRE       = regexp.MustCompile(`\bAws::(\w+)::Errors::(\w+)`)
	// .NET: Amazon.Lambda.AmazonLambdaException, Amazon.S3.AmazonS3Exception.
	dotnetRE     = regexp.MustCompile(`\bAmazon\.(\w+)\.(?:Model\.)?Amazon\w*Exception\b`)
	apiErrorRE   = regexp.MustCompile(`\bapi error (\w+):`)
	deniedCodeRE = regexp.MustCompile(`\b[A-Za-z]*AccessDenied[A-Za-z]*\b`)
	quoteChars   = "\"'`“”‘’"
	iamBareTypes = map[string]bool{"role": true, "user": true, "group": true, "policy": true, "instance-profile": true}
	// Words before the caller: "User: ARN", "Resource: ARN" (a CloudWatch
	// alarm publishing to SNS), "User with accountId: ID".
	callerLabels = map[string]bool{"User:": true, "User": true, "Resource:": true, "Principal:": true, "accountId:": true}
	denialLayers = []struct {
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
// expected. It accepts the message as AWS prints it and as the CLI, SDKs,
// IaC tools and logs wrap it ("An error occurred (AccessDeniedException) when
// calling the Invoke operation: ...", "operation error Lambda: Invoke, ... api
// error AccessDeniedException: ...", "... (Service: AWSLambda; Status Code:
// 403; ...)", Terraform's box, CloudFormation's "Resource handler returned
// message"), across line breaks, quotes and JSON escapes; the other denial
// texts of Lambda, S3 and API Gateway (see Form); and a CloudTrail record
// whose errorCode is AccessDenied*. Errors are *InputError.
func ParseDenial(msg string) (*Denial, error) {
	if t := strings.TrimSpace(msg); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		if d, err, ok := parseCloudTrail(t); ok {
			return d, err
		}
	}
	return parseText(msg)
}

func parseText(msg string) (*Denial, error) {
	s := normalize(msg)
	if s == "" {
		return nil, &InputError{Msg: "empty message: " + expectedDenial}
	}
	loc := notAuthorizedRE.FindStringIndex(s)
	var d *Denial
	if loc == nil {
		if d = otherForm(s); d == nil {
			return nil, &InputError{Msg: "not an AccessDenied message: " + expectedDenial}
		}
	} else {
		d = parseSentence(s, loc)
		// Lambda relays KMS's denial when it cannot decrypt the function's
		// environment variables; the sentence inside is KMS's.
		if kmsEnvRE.MatchString(s) {
			d.Form = FormKMSEnvironment
		}
	}
	d.readWrapper(s)
	if d.Form == FormKMSEnvironment && (d.ErrorCode == "" || strings.HasPrefix(d.ErrorCode, "AccessDeniedException")) {
		// Lambda's error code for this failure (Lambda API Reference,
		// Invoke, Errors); its text runs "AccessDeniedException" into "KMS
		// Message".
		d.ErrorCode = "KMSAccessDeniedException"
	}
	if m := encodedRE.FindStringSubmatch(s); m != nil {
		d.EncodedMessage = m[1]
	}
	if m := authIDRE.FindStringSubmatch(s); m != nil {
		d.AuthorizationID = m[1]
	}
	d.Redacted = d.Redacted || redacted(d.Caller) || redacted(d.Resource)
	return d, nil
}

// parseSentence reads "CALLER is not authorized to perform: ACTION on
// resource: RESOURCE because ...", keeping what is there when the paste is
// cut short.
func parseSentence(s string, loc []int) *Denial {
	d := &Denial{Caller: callerBefore(s[:loc[0]])}
	rest := s[loc[1]:]
	// A pasted log may repeat the message; read the first one.
	if next := notAuthorizedRE.FindStringIndex(rest); next != nil {
		rest = rest[:next[0]]
	}
	var action string
	action, rest = nextToken(rest)
	switch {
	case actionRE.MatchString(action), bareActionRE.MatchString(action):
		d.Action = action
	case strings.TrimSpace(rest) == "" && (action == "" || strings.HasSuffix(action, ":") || !strings.Contains(action, ":")):
		// Cut after "perform:" or in the middle of the action.
		d.CutOff = true
		rest = ""
	default:
		// Something other than an action: a damaged paste.
		d.CutOff = true
		rest = " " + action + rest
	}
	rest = strings.TrimLeft(rest, " ")
	if m := onResourceRE.FindStringIndex(rest); m != nil {
		d.Resource, rest = resourceAfter(rest[m[1]:])
		if d.Resource == "" && strings.TrimSpace(rest) == "" {
			d.CutOff = true // cut after "on resource:"
		}
	}
	if arn.CutOff(d.Resource) ||
		arn.CutOff(d.Caller) {
		d.CutOff = true
	}
	d.readContext(rest)
	return d
}

// callerBefore finds the caller in the text before "is not authorized":
// "User: ARN" as AWS prints it, "User NAME" without the colon, "Resource:
// ARN", a bare ARN, "anonymous", a service principal, a service's name
// ("CloudWatch Alarms is not authorized ..."), or nothing ("User is not
// authorized ...", which some services print).
func callerBefore(before string) string {
	f := strings.Fields(before)
	if len(f) == 0 {
		return ""
	}
	raw := f[len(f)-1]
	last := unmark(trimToken(raw))
	switch {
	case last == "User" || last == "":
		return ""
	case len(f) >= 2 && callerLabels[strings.TrimLeft(f[len(f)-2], quoteChars)], strings.HasPrefix(last, "arn:"), isPlaceholder(raw),
		strings.EqualFold(last, "anonymous"), strings.HasSuffix(last, ".amazonaws.com"), strings.Contains(last, "/"):
		return last
	}
	// A service named in words, after the wrapper's prose: the capitalized
	// words just before "is not authorized".
	var words []string
	for i := len(f) - 1; i >= 0 && len(words) < 4; i-- {
		w := f[i]
		if w == "" || w[0] < 'A' || w[0] > 'Z' || strings.ContainsAny(w, ":.()[]{}\"'") {
			break
		}
		words = append([]string{w}, words...)
	}
	return strings.Join(words, " ")
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
	return unmark(resource), rest
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
		d.PolicyARN = unmark(trimToken(m[1]))
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
	if m := dotnetRE.FindStringSubmatch(s); m != nil && d.Service == "" {
		d.Service = m[1]
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
		if end := strings.IndexAny(s[size:], quoteChars); end >= 0 && !strings.Contains(s[size:size+end], " ") {
			_, closeSize := utf8.DecodeRuneInString(s[size+end:])
			return trimToken(s[size : size+end]), s[size+end+closeSize:]
		}
	}
	token, rest, _ = strings.Cut(s, " ")
	return trimToken(token), " " + rest
}

// trimToken strips the quotes and punctuation that surround a word in prose
// and logs ("arn:...". arn:..., arn:...]) but keeps what belongs to it: a
// closing bracket that closes one inside (function:<name>, [$LATEST]), the
// final colon of an ARN ending in ":log-stream:", the "..." of a part left
// out.
func trimToken(t string) string {
	// Brackets are counted once, then kept up to date as closers are cut:
	// a pasted token may be long.
	open := map[byte]int{}
	shut := map[byte]int{}
	pairs := map[byte]byte{')': '(', ']': '[', '}': '{', '>': '<'}
	for i := 0; i < len(t); i++ {
		switch c := t[i]; c {
		case '(', '[', '{', '<':
			open[c]++
		case ')', ']', '}', '>':
			shut[c]++
		}
	}
	for {
		t = strings.Trim(t, quoteChars)
		if t == "" || strings.HasSuffix(t, "...") {
			return t
		}
		c := t[len(t)-1]
		switch {
		case c == '.' || c == ',' || c == ';':
		case c == ':' && !strings.HasSuffix(t, ":log-stream:"):
			// Prose ("User:", "function:NAME: ClientError"), except the
			// final colon of a log group's ARN without a stream name.
		case pairs[c] != 0 && open[pairs[c]] < shut[c]:
			shut[c]--
		default:
			return t
		}
		t = t[:len(t)-1]
	}
}

// InputError is text that is not an AccessDenied message the tool can read:
// bad input.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }
