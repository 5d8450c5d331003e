package awsclient

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/why-denied/why-denied/arn"
)

// CallerKind says what a CALLER argument named.
type CallerKind string

// The forms of CALLER. Each decides which principal AWS sees at request time
// and whose policies apply.
const (
	// FunctionCaller is a Lambda function: the caller is its execution
	// role's session, arn:aws:sts::ACCT:assumed-role/ROLE/FUNCTION.
	FunctionCaller CallerKind = "function"
	// RoleCaller is an IAM role named directly (role/NAME or a role ARN).
	RoleCaller CallerKind = "role"
	// SessionCaller is an assumed-role session ARN, as AccessDenied messages
	// print it.
	SessionCaller CallerKind = "session"
	// FederatedCaller is a federated user session ARN
	// (arn:aws:sts::ACCT:federated-user/NAME), from sts:GetFederationToken.
	// IAM keeps no record of the user who called GetFederationToken nor of
	// the session policy passed: neither can be read back.
	FederatedCaller CallerKind = "federated"
	// AnonymousCaller is an unauthenticated caller, as a function URL with
	// auth type NONE sees it: no identity, only the resource policy.
	AnonymousCaller CallerKind = "anonymous"
	// UserCaller is an IAM user (user/NAME or a user ARN).
	UserCaller CallerKind = "user"
	// ServiceCaller is a service principal such as s3.amazonaws.com, which
	// invokes on someone's behalf and has no IAM policies of its own.
	ServiceCaller CallerKind = "service"
)

// callerRef is a CALLER argument after parsing, before any AWS call.
type callerRef struct {
	input string
	kind  CallerKind
	// name is the role or user name (no path), or the service principal.
	name string
	// fn is set for function callers.
	fn functionRef
	// account and partition come from an ARN, empty when not given.
	account   string
	partition string
	// session is the session name of a SessionCaller.
	session string
}

// functionRef is a function named by a CALLER or TARGET argument.
type functionRef struct {
	input     string
	name      string
	qualifier string
	// account, region and partition are set when the argument was an ARN
	// (region and partition only for full ARNs).
	account   string
	region    string
	partition string
}

// Service principals: s3.amazonaws.com, events.amazonaws.com,
// states.us-east-1.amazonaws.com, s3.amazonaws.com.cn.
var servicePrincipalPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$`)

// Lambda's FunctionName and Qualifier patterns and IAM's name pattern (API
// references), as a length and a character class: a regexp with a bounded
// repeat costs milliseconds to compile at start-up.
func validFunctionName(s string) bool { return validName(s, 64, "_-") }
func validQualifier(s string) bool    { return validName(s, 128, "$_-") }

// validIAMName checks role, user and session names: [\w+=,.@-]{1,128}.
func validIAMName(s string) bool { return validName(s, 128, "_+=,.@-") }

// validName reports whether s has 1 to max characters, each an ASCII letter
// or digit or one of extra.
func validName(s string, max int, extra string) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || strings.IndexByte(extra, c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// anonymousCallers are the CALLER spellings of an unauthenticated caller:
// "*" is how a resource policy names everyone.
var anonymousCallers = []string{"anonymous", "*"}

// Anonymous is request.caller for an unauthenticated caller.
const Anonymous = "anonymous"

// parseCaller reads a CALLER argument without calling AWS.
func parseCaller(input string) (callerRef, error) {
	s := strings.TrimSpace(input)
	bad := func(reason string) (callerRef, error) {
		return callerRef{}, &InputError{Arg: "caller", Value: input, Reason: reason}
	}
	switch {
	case s == "":
		return bad("empty; expected a function, role/NAME, user/NAME, an ARN, a service principal or anonymous")
	case slices.Contains(anonymousCallers, strings.ToLower(s)):
		return callerRef{input: input, kind: AnonymousCaller, name: Anonymous}, nil
	case strings.HasPrefix(s, "arn:"):
		a, ok := parseARN(s)
		if !ok {
			return bad("malformed ARN: expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE")
		}
		switch a.Service {
		case "lambda":
			fn, err := parseFunction("caller", input)
			if err != nil {
				return callerRef{}, err
			}
			return callerRef{input: input, kind: FunctionCaller, fn: fn, account: fn.account, partition: fn.partition}, nil
		case "iam":
			if !arn.IsAccountID(a.Account) || a.Region != "" {
				return bad("malformed IAM ARN: expected arn:aws:iam::ACCOUNT:role/NAME or arn:aws:iam::ACCOUNT:user/NAME")
			}
			kind, name, ok := parseEntityPath(a.Resource)
			if !ok {
				return bad("an IAM caller ARN must name a role (…:role/NAME) or a user (…:user/NAME)")
			}
			return callerRef{input: input, kind: kind, name: name, account: a.Account, partition: a.Partition}, nil
		case "sts":
			parts := strings.Split(a.Resource, "/")
			switch {
			case arn.IsAccountID(a.Account) && len(parts) == 3 && parts[0] == "assumed-role" && validIAMName(parts[1]) && parts[2] != "":
				return callerRef{input: input, kind: SessionCaller, name: parts[1], session: parts[2], account: a.Account, partition: a.Partition}, nil
			case arn.IsAccountID(a.Account) && len(parts) == 2 && parts[0] == "federated-user" && validIAMName(parts[1]):
				return callerRef{input: input, kind: FederatedCaller, name: parts[1], account: a.Account, partition: a.Partition}, nil
			}
			return bad("an STS caller ARN must be a session: arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION or arn:aws:sts::ACCOUNT:federated-user/NAME")
		default:
			return bad("not a caller: expected a Lambda function, IAM role or user, or assumed-role session ARN")
		}
	case strings.HasPrefix(s, "role/"), strings.HasPrefix(s, "user/"):
		kind, name, ok := parseEntityPath(s)
		if !ok {
			return bad("expected role/NAME or user/NAME (a path may precede NAME)")
		}
		return callerRef{input: input, kind: kind, name: name}, nil
	case strings.Contains(s, ".amazonaws.com"):
		if !servicePrincipalPattern.MatchString(s) {
			return bad("malformed service principal: expected a name such as s3.amazonaws.com")
		}
		return callerRef{input: input, kind: ServiceCaller, name: s}, nil
	default:
		fn, err := parseFunction("caller", input)
		if err != nil {
			return callerRef{}, err
		}
		return callerRef{input: input, kind: FunctionCaller, fn: fn, account: fn.account}, nil
	}
}

// parseEntityPath reads "role/PATH/NAME" or "user/PATH/NAME" (PATH optional).
func parseEntityPath(resource string) (CallerKind, string, bool) {
	kindText, rest, ok := strings.Cut(resource, "/")
	if !ok {
		return "", "", false
	}
	var kind CallerKind
	switch kindText {
	case "role":
		kind = RoleCaller
	case "user":
		kind = UserCaller
	default:
		return "", "", false
	}
	name := rest[strings.LastIndex(rest, "/")+1:]
	if !validIAMName(name) {
		return "", "", false
	}
	return kind, name, true
}

// parseTarget reads a TARGET argument without calling AWS.
func parseTarget(input string) (functionRef, error) {
	return parseFunction("target", input)
}

// parseFunction reads the function forms Lambda's FunctionName accepts:
// NAME, NAME:QUALIFIER, ACCOUNT:function:NAME[:QUALIFIER],
// function:NAME[:QUALIFIER] and the full ARN.
func parseFunction(arg, input string) (functionRef, error) {
	s := strings.TrimSpace(input)
	bad := func(reason string) (functionRef, error) {
		return functionRef{}, &InputError{Arg: arg, Value: input, Reason: reason}
	}
	ref := functionRef{input: input}
	var rest string
	switch {
	case s == "":
		return bad("empty; expected a function name, NAME:QUALIFIER or a function ARN")
	case strings.HasPrefix(s, "arn:"):
		a, ok := parseARN(s)
		if !ok || a.Service != "lambda" {
			return bad("malformed function ARN: expected arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]")
		}
		if a.Region == "" || !arn.IsAccountID(a.Account) {
			return bad("a function ARN needs a region and a 12-digit account: arn:aws:lambda:REGION:ACCOUNT:function:NAME")
		}
		var ok2 bool
		if rest, ok2 = strings.CutPrefix(a.Resource, "function:"); !ok2 {
			return bad("not a function ARN: the resource must be function:NAME[:QUALIFIER]")
		}
		ref.account, ref.region, ref.partition = a.Account, a.Region, a.Partition
	default:
		parts := strings.SplitN(s, ":", 3)
		switch {
		case len(parts) >= 2 && parts[1] == "function" && arn.IsAccountID(parts[0]):
			ref.account = parts[0]
			if len(parts) < 3 {
				return bad("a partial ARN needs a name: ACCOUNT:function:NAME")
			}
			rest = parts[2]
		case parts[0] == "function":
			rest = strings.TrimPrefix(s, "function:")
		default:
			rest = s
		}
	}
	name, qualifier, qualified := strings.Cut(rest, ":")
	if !validFunctionName(name) {
		return bad("invalid function name " + strconv.Quote(name) + ": 1 to 64 letters, digits, hyphens or underscores")
	}
	if qualified && !validQualifier(qualifier) {
		return bad("invalid qualifier " + strconv.Quote(qualifier) + ": expected a version number, an alias or $LATEST")
	}
	ref.name, ref.qualifier = name, qualifier
	return ref, nil
}

// apiName is the FunctionName to send to Lambda. Partial ARNs are completed
// with region, because some endpoints reject them (moto answers 500) and a
// full ARN pins the account being read.
func (f functionRef) apiName(region string) string {
	switch {
	case f.region != "":
		return "arn:" + f.partition + ":lambda:" + f.region + ":" + f.account + ":function:" + f.name
	case f.account != "":
		return "arn:" + arn.PartitionOfRegion(region) + ":lambda:" + region + ":" + f.account + ":function:" + f.name
	default:
		return f.name
	}
}

// arnKnown reports whether the argument names the function's account, so
// that its ARN is known before Lambda is asked (a partial ARN's region is
// the side's).
func (f functionRef) arnKnown() bool { return f.account != "" }

// target is the function the argument names, as far as the argument says:
// complete only when arnKnown.
func (f functionRef) target(region string) Target {
	region = cmp.Or(f.region, region)
	return Target{
		FunctionARN: "arn:" + cmp.Or(f.partition, arn.PartitionOfRegion(region)) + ":lambda:" + region + ":" + f.account + ":function:" + f.name,
		Name:        f.name,
		Qualifier:   f.qualifier,
		Account:     f.account,
		Region:      region,
	}
}

// apiParams are the FunctionName and Qualifier to send to Lambda.
func (f functionRef) apiParams(region string) (name, qualifier *string) {
	name = aws.String(f.apiName(region))
	if f.qualifier != "" {
		qualifier = aws.String(f.qualifier)
	}
	return name, qualifier
}

// display is the function as the user named it, reduced to NAME[:QUALIFIER].
func (f functionRef) display() string {
	if f.qualifier != "" {
		return f.name + ":" + f.qualifier
	}
	return f.name
}

// parseARN is arn.Parse with the fields every ARN has required:
// partition, service and resource.
func parseARN(s string) (arn.ARN, bool) {
	a, ok := arn.Parse(s)
	return a, ok && a.Partition != "" && a.Service != "" && a.Resource != ""
}
