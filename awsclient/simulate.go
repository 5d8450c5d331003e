package awsclient

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// Simulate asks iam:SimulatePrincipalPolicy for AWS's answer to the request
// in ev: PolicySourceArn is the caller's role or user, the resource is the
// qualified function ARN, and every context value the local engine uses
// (evidence.RequestContext: principal tags, aws:PrincipalArn,
// aws:PrincipalAccount, aws:ResourceAccount, aws:RequestedRegion,
// aws:SecureTransport, aws:CurrentTime and aws:EpochTime, the user's
// --context) becomes a ContextEntry of its type. The simulator evaluates
// only the entries it is given and lists the others as missing, so an entry
// the engine fills and the simulator lacks would make the two answer
// different questions.
// The simulator evaluates a resource policy only for IAM user callers
// (CallerArn must be a user), so the function's resource policy is passed
// only then.
//
// Any failure is a *SimulatorError: the simulator is optional evidence and
// the caller goes on with the local evaluation. For the same reason it gets
// fewer attempts than the evidence reads (simulatorAttempts), and no answer
// by the deadline is a *SimulatorError too.
func (c *Client) Simulate(ctx context.Context, ev *evidence.Evidence) (*evidence.Simulation, error) {
	if ev.Caller.ARN == "" {
		return nil, &SimulatorError{Reason: nothingToSimulate(ev.Request.Caller)}
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()

	in := &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(ev.Caller.ARN),
		ActionNames:     []string{ev.Request.Action},
		ResourceArns:    []string{ev.Request.Resource},
		ContextEntries:  contextEntries(evidence.RequestContext(ev, ev.Moment(time.Now()))),
	}
	isUser := strings.Contains(ev.Caller.ARN, ":user/")
	if isUser {
		in.CallerArn = aws.String(ev.Caller.ARN)
		if ev.Target.ResourcePolicy != nil {
			in.ResourcePolicy = aws.String(string(ev.Target.ResourcePolicy.Document))
		}
	}
	out, err := c.caller.IAM.SimulatePrincipalPolicy(ctx, in, func(o *iam.Options) { o.RetryMaxAttempts = simulatorAttempts })
	if err != nil {
		var ro *ReadOnlyError
		if errors.As(err, &ro) {
			return nil, err
		}
		refused, reason := simulatorFailure(err, ev.Caller.ARN)
		return nil, &SimulatorError{Refused: refused, Reason: reason, Err: err}
	}
	sim := simulation(out.EvaluationResults, ev.Request.Resource)
	if sim == nil {
		return nil, &SimulatorError{Reason: "iam:SimulatePrincipalPolicy returned no evaluation result"}
	}
	sim.IncludedResourcePolicy = in.ResourcePolicy != nil
	return sim, nil
}

// nothingToSimulate says why a caller without an IAM entity is not
// simulated.
func nothingToSimulate(caller string) string {
	switch policy.PrincipalKindOf(caller) {
	case policy.KindService:
		return "a service principal caller has no IAM role or user to simulate"
	case policy.KindFederatedUser:
		return "the IAM user behind a federated user session cannot be read from the account"
	}
	if caller == Anonymous {
		return "an anonymous caller has no IAM role or user to simulate"
	}
	return "the caller has no IAM role or user to simulate"
}

// simulatorOperation names the call in the reasons of a *SimulatorError.
const simulatorOperation = "iam:SimulatePrincipalPolicy"

// simulatorFailure says in a few words why the simulator gave no answer,
// for the verdict's note, where a person reads it: the SDK's error (the
// operation, the attempts, the status, the request ID and the parser's
// complaint, 300 characters and more) stays in SimulatorError.Err.
func simulatorFailure(err error, principal string) (refused bool, reason string) {
	code := apiErrorCode(err)
	if strings.HasPrefix(code, "AccessDenied") {
		return true, code + ": the credentials lack " + simulatorOperation + " on " + principal
	}
	var timeout interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &timeout) && timeout.Timeout()) {
		return false, "no answer in time from " + simulatorOperation
	}
	var status interface{ HTTPStatusCode() int }
	var send *smithyhttp.RequestSendError
	switch {
	case errors.As(err, &send):
		reason = "no connection to " + simulatorOperation
	case errors.As(err, &status) && status.HTTPStatusCode() >= 300 && code != "":
		reason = fmt.Sprintf("%s (HTTP %d) from %s", code, status.HTTPStatusCode(), simulatorOperation)
	case errors.As(err, &status) && status.HTTPStatusCode() >= 300:
		reason = fmt.Sprintf("HTTP %d from %s", status.HTTPStatusCode(), simulatorOperation)
	case errors.As(err, &status) && status.HTTPStatusCode() > 0:
		reason = "an unreadable answer from " + simulatorOperation
	case code != "":
		reason = code + " from " + simulatorOperation
	default:
		reason = simulatorOperation + " failed"
	}
	var attempts *retry.MaxAttemptsError
	if errors.As(err, &attempts) {
		reason += fmt.Sprintf(", after %d attempts", attempts.Attempt)
	}
	return false, reason
}

// simulation maps the one evaluation result for our action. With
// ResourceArns given, AWS reports missing context values (and may report
// the matched statements) under ResourceSpecificResults, so those of our
// resource are merged in.
func simulation(results []iamtypes.EvaluationResult, resource string) *evidence.Simulation {
	if len(results) == 0 {
		return nil
	}
	r := results[0]
	sim := &evidence.Simulation{
		Decision:             string(r.EvalDecision),
		MatchedStatements:    []evidence.MatchedStatement{},
		MissingContextValues: slices.Clone(r.MissingContextValues),
	}
	statements := r.MatchedStatements
	for _, rs := range r.ResourceSpecificResults {
		if aws.ToString(rs.EvalResourceName) != resource {
			continue
		}
		if len(statements) == 0 {
			statements = rs.MatchedStatements
		}
		for _, k := range rs.MissingContextValues {
			if !slices.Contains(sim.MissingContextValues, k) {
				sim.MissingContextValues = append(sim.MissingContextValues, k)
			}
		}
	}
	if sim.MissingContextValues == nil {
		sim.MissingContextValues = []string{}
	}
	for _, s := range statements {
		sim.MatchedStatements = append(sim.MatchedStatements, evidence.MatchedStatement{
			SourcePolicyID:   aws.ToString(s.SourcePolicyId),
			SourcePolicyType: string(s.SourcePolicyType),
		})
	}
	if d := r.OrganizationsDecisionDetail; d != nil {
		sim.AllowedByOrganizations = aws.Bool(d.AllowedByOrganizations)
	}
	if d := r.PermissionsBoundaryDecisionDetail; d != nil {
		sim.AllowedByPermissionsBoundary = aws.Bool(d.AllowedByPermissionsBoundary)
	}
	return sim
}

// simulatorTypes declare each key type in ContextEntries. The simulator
// compares values by the declared type, so an IP address declared as a
// string would never match an IpAddress condition.
var simulatorTypes = map[evidence.KeyType]iamtypes.ContextKeyTypeEnum{
	evidence.KeyString:  iamtypes.ContextKeyTypeEnumString,
	evidence.KeyDate:    iamtypes.ContextKeyTypeEnumDate,
	evidence.KeyNumeric: iamtypes.ContextKeyTypeEnumNumeric,
	evidence.KeyBoolean: iamtypes.ContextKeyTypeEnumBoolean,
	evidence.KeyIP:      iamtypes.ContextKeyTypeEnumIp,
}

// contextEntries turns the request context into ContextEntries, sorted by
// key so that the request is deterministic. A key with several values is
// sent with the list form of its type.
func contextEntries(ctx map[string][]string) []iamtypes.ContextEntry {
	var entries []iamtypes.ContextEntry
	for _, key := range slices.Sorted(maps.Keys(ctx)) {
		values := ctx[key]
		typ := simulatorTypes[evidence.TypeOf(key)]
		if len(values) != 1 {
			typ += "List"
		}
		entries = append(entries, iamtypes.ContextEntry{
			ContextKeyName:   aws.String(key),
			ContextKeyType:   typ,
			ContextKeyValues: slices.Clone(values),
		})
	}
	return entries
}
