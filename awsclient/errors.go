package awsclient

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/smithy-go"
)

// InputError reports an argument or setting that cannot name anything AWS
// could look up: a malformed ARN, an ARN of another service, an invalid
// function name, an unknown profile, a missing region. The command layer
// maps it to exit code 2 (bad usage or bad input).
type InputError struct {
	// Arg names what was wrong: "caller", "target", "profile", "region".
	Arg string
	// Value is the text as the user gave it.
	Value string
	// Reason says what was expected.
	Reason string
}

func (e *InputError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Arg, e.Reason)
	}
	return fmt.Sprintf("%s %q: %s", e.Arg, e.Value, e.Reason)
}

// NotFoundError reports that the function (or its version or alias), role or
// user named by an argument does not exist in the account and region that
// was read. Lambda and IAM answer 404/NoSuchEntity for these. The command
// layer maps it to exit code 2: the input names nothing.
type NotFoundError struct {
	// Arg is "caller" or "target" when known: which argument named it.
	Arg string
	// Kind is "function", "role", "user" or "group".
	Kind string
	// Name is what was looked up: a name, name:qualifier or an ARN.
	Name string
	// Region is set for functions, which are regional.
	Region string
	// ExecutionRoleOf names the function whose execution role Name is:
	// the user named the function, and the role it runs as is gone.
	ExecutionRoleOf string
	// NoFunction: Lambda lists no function of that name in the region, so
	// the name itself is wrong, not only its qualifier (target functions
	// only, after the listing).
	NoFunction bool
	// Generated are the functions CloudFormation named after Name taken as
	// a logical ID, when NoFunction.
	Generated []GeneratedFunction
	// Err is the SDK error AWS answered with.
	Err error
}

func (e *NotFoundError) Error() string {
	if e.NoFunction {
		return e.noFunction()
	}
	if e.ExecutionRoleOf != "" {
		// Lambda keeps a function's role ARN after the role is deleted;
		// every invocation then fails to assume it.
		return fmt.Sprintf("function %s's execution role %s no longer exists, so the function cannot run or call anything "+
			"(recreate the role, or give the function an existing one: aws lambda update-function-configuration --function-name %s --role ROLE_ARN)",
			e.ExecutionRoleOf, e.Name, e.ExecutionRoleOf)
	}
	where := ""
	if e.Region != "" {
		where = " in " + e.Region
	}
	hint := "check the name and the profile's account"
	if e.Kind == "function" {
		hint = "check the name, qualifier, --region and the profile's account"
	}
	what := e.Kind
	if e.Arg != "" {
		what = e.Arg + " " + e.Kind
	}
	return fmt.Sprintf("%s %s not found%s (%s)", what, e.Name, where, hint)
}

// noFunction says that no function of the name exists, and names the
// functions CloudFormation generated from it as a logical ID.
func (e *NotFoundError) noFunction() string {
	name, qualifier, _ := strings.Cut(e.Name, ":")
	if i := strings.Index(e.Name, ":function:"); i >= 0 {
		name, qualifier, _ = strings.Cut(e.Name[i+len(":function:"):], ":")
	}
	msg := fmt.Sprintf("%s function %s not found in %s: no function of that name exists "+
		"(AWS answers AccessDenied, not ResourceNotFound, to a caller that may not invoke a function that does not exist)", e.Arg, e.Name, e.Region)
	if len(e.Generated) == 0 {
		return msg + "; check the name, --region and the profile's account"
	}
	var named []string
	for _, g := range e.Generated {
		n := g.Name
		if qualifier != "" {
			n += ":" + qualifier
		}
		switch {
		case g.Confirmed && g.Stack != "":
			n += " (stack " + g.Stack + ")"
		case !g.Confirmed:
			n += " (by its name; its tags could not be read)"
		}
		named = append(named, n)
	}
	if len(named) == 1 {
		return msg + "; the function CloudFormation generated from logical ID " + name + " is " + named[0] + ": give that name"
	}
	return msg + "; the functions CloudFormation generated from logical ID " + name + " are " + strings.Join(named, ", ") + ": give one of those names"
}

func (e *NotFoundError) Unwrap() error { return e.Err }

// CredentialsError reports that the SDK found no usable credentials for one
// side of the request. The command layer maps it to exit code 3.
type CredentialsError struct {
	// Side is "caller" or "target": cross-account diagnoses read each side
	// with its own profile.
	Side string
	// Profile is the profile that was used, empty for the default chain.
	Profile string
	// SSOProfile is the profile to log in with when the credentials come
	// from IAM Identity Center (an sso_session or sso_start_url profile,
	// or the source_profile of a role profile): without a cached token,
	// or with an expired one, `aws sso login` is the fix.
	SSOProfile string
	Err        error
}

func (e *CredentialsError) Error() string {
	profile := "the default credential chain"
	if e.Profile != "" {
		profile = "profile " + e.Profile
	}
	if e.SSOProfile != "" {
		if _, _, ok := unreachable(e.Err); !ok {
			return fmt.Sprintf("no usable AWS credentials for the %s side (%s): the SSO session has expired or was never started; run: aws sso login --profile %s",
				e.Side, profile, e.SSOProfile)
		}
	}
	if endpoint, cause, ok := unreachable(e.Err); ok {
		return fmt.Sprintf("no usable AWS credentials for the %s side (%s): cannot reach %s: %s; check the network or the proxy", e.Side, profile, endpoint, cause)
	}
	if e.Profile == "" && strings.Contains(e.Err.Error(), "no EC2 IMDS role found") {
		// The default chain's last link failed: the SDK names only it.
		return fmt.Sprintf("no usable AWS credentials for the %s side (the default credential chain): none in the environment, the shared config and credentials files, or an instance role; run aws configure or aws sso login, or pass --profile", e.Side)
	}
	return fmt.Sprintf("no usable AWS credentials for the %s side (%s): %v", e.Side, profile, e.Err)
}

func (e *CredentialsError) Unwrap() error { return e.Err }

// CallError reports an AWS read that failed for a reason other than "not
// found": access denied, expired credentials, or throttling, server and
// network errors that lasted through every retry (a read still unanswered
// at the deadline is a *TimeoutError instead).
// It names the IAM action the credentials need, because the usual fix is to
// grant that action to whoever runs the tool. The command layer maps it to
// exit code 3 (the diagnosis could not be completed).
type CallError struct {
	// Action is the IAM action of the failed call, such as "iam:GetRole".
	Action string
	// Resource is what was being read, such as "role RequestRole".
	Resource string
	Err      error
}

func (e *CallError) Error() string {
	if endpoint, cause, ok := unreachable(e.Err); ok {
		// The SDK's text for this is a few hundred characters of retry and
		// transport detail around the two facts that matter.
		return fmt.Sprintf("cannot reach %s: %s; check %s", endpoint, cause, unreachableHint(cause))
	}
	msg := fmt.Sprintf("reading %s with %s: %v", e.Resource, e.Action, e.Err)
	switch {
	case e.AccessDenied():
		msg += fmt.Sprintf(" (the credentials need %s)", e.Action)
	case e.credentialsProblem():
		msg = fmt.Sprintf("reading %s with %s: AWS rejected the credentials (%s)", e.Resource, e.Action, apiErrorCode(e.Err))
		rc, ok := errors.AsType[*rejectedCredentials](e.Err)
		switch {
		case ok && rc.ssoProfile != "":
			msg += fmt.Sprintf(" of %s: the SSO session has expired; run: aws sso login --profile %s", rc.who(), rc.ssoProfile)
		case ok:
			msg += fmt.Sprintf(" of %s: refresh them, or pick another --profile", rc.who())
		default:
			msg += ": refresh them, or pick another --profile"
		}
	}
	return msg
}

func (e *CallError) Unwrap() error { return e.Err }

// AccessDenied reports whether AWS refused the call for lack of permission.
func (e *CallError) AccessDenied() bool {
	code := apiErrorCode(e.Err)
	return strings.HasPrefix(code, "AccessDenied") || code == "UnauthorizedOperation"
}

func (e *CallError) credentialsProblem() bool {
	switch apiErrorCode(e.Err) {
	case "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
		"UnrecognizedClientException", "SignatureDoesNotMatch", "InvalidSignatureException":
		return true
	}
	return false
}

// TimeoutError reports that the time allowed (Options.Timeout, the
// --timeout flag) ran out before the reads were done, retries included. It
// names the reads that were still waiting for an answer: those are what the
// diagnosis lacks. The command layer maps it to exit code 3.
type TimeoutError struct {
	// After is the time allowed; zero when the deadline came from the
	// caller's context instead.
	After time.Duration
	// Calls are the reads in flight, each "ACTION (WHAT)", such as
	// "iam:GetRole (role RequestRole)".
	Calls []string
	Err   error
}

func (e *TimeoutError) Error() string {
	after := ""
	if e.After > 0 {
		after = " after " + e.After.String()
	}
	waiting := "AWS"
	if len(e.Calls) > 0 {
		waiting = strings.Join(e.Calls, ", ")
	}
	return fmt.Sprintf("timed out%s waiting for %s: AWS answered too slowly, retries included (try again, or raise --timeout)", after, waiting)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// merge adds the calls of other to e's, each once.
func (e *TimeoutError) merge(other *TimeoutError) {
	for _, c := range other.Calls {
		if !slices.Contains(e.Calls, c) {
			e.Calls = append(e.Calls, c)
		}
	}
}

// ReadOnlyError reports an operation the read-only guard stopped before it
// was sent. It means a bug in this package, never a user mistake.
type ReadOnlyError struct {
	Service   string
	Operation string
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("refusing %s:%s: why-denied only sends read operations (Get*, List*, Describe*, Simulate*)", e.Service, e.Operation)
}

// SimulatorError reports that iam:SimulatePrincipalPolicy gave no answer.
// The simulator is optional evidence: the command notes the error (its text
// starts with "simulator refused" or "simulator unavailable") and carries on
// with the local evaluation.
type SimulatorError struct {
	// Refused is true when AWS denied the call (AccessDenied), false when the
	// simulator could not be used at all (service principal caller, network,
	// an endpoint that does not implement it).
	Refused bool
	Reason  string
	Err     error
}

func (e *SimulatorError) Error() string {
	if e.Refused {
		return "simulator refused: " + e.Reason
	}
	return "simulator unavailable: " + e.Reason
}

func (e *SimulatorError) Unwrap() error { return e.Err }

// apiErrorCode returns the AWS error code in err, or "".
func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isNotFound reports whether AWS answered that the looked-up entity does not
// exist (Lambda: 404 ResourceNotFoundException; IAM: NoSuchEntity).
func isNotFound(err error) bool {
	switch apiErrorCode(err) {
	case "ResourceNotFoundException", "NoSuchEntity", "NoSuchEntityException":
		return true
	}
	return false
}

// callError wraps a failed read. A guard refusal is not made a CallError,
// which would blame the user's permissions for a bug in this package; a
// read cut short by the deadline becomes a *TimeoutError naming it.
func callError(action, resource string, err error) error {
	var ro *ReadOnlyError
	if errors.As(err, &ro) {
		return fmt.Errorf("reading %s: %w", resource, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &TimeoutError{Calls: []string{action + " (" + resource + ")"}, Err: err}
	}
	return &CallError{Action: action, Resource: resource, Err: err}
}
