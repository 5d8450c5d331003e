package awsclient

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// DefaultAction is the action diagnosed when a Request names none.
const DefaultAction = "lambda:InvokeFunction"

// Request is what FetchEvidence reads evidence for: the CALLER and TARGET
// arguments as the user typed them, the action and the request context.
type Request struct {
	Caller string
	Target string
	// Action defaults to DefaultAction.
	Action string
	// Context holds condition keys given by the user (--context,
	// --source-arn, --source-account); it is copied into the evidence as is.
	Context evidence.ContextValues
	// At is the moment the call is diagnosed for (--at), recorded in the
	// evidence; nil means the time of the diagnosis.
	At *time.Time
	// Simulate also asks iam:SimulatePrincipalPolicy, started as soon as its
	// inputs are known. Its answer goes into Evidence.Simulation, or why
	// there is none into Evidence.SimulatorUnavailable: the simulator is
	// optional evidence and its failure is not an error.
	Simulate bool
}

// FetchEvidence resolves the caller and the target and reads every policy
// that applies, returning them as evidence for diagnose. It reads with
// read-only calls and starts each one as soon as its inputs are known: the
// caller side (function, then role, then policy lists, then policy
// versions) and the target side (function configuration and resource
// policy) run concurrently. For a function caller the longest chain is four
// round trips: GetFunctionConfiguration, ListAttachedRolePolicies (or
// GetRole), GetPolicy, GetPolicyVersion.
//
// It does not run the simulator; see Simulate.
func (c *Client) FetchEvidence(ctx context.Context, req Request) (*evidence.Evidence, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	cref, err := parseCaller(req.Caller)
	if err != nil {
		return nil, err
	}
	tref, err := parseTarget(req.Target)
	if err != nil {
		return nil, err
	}
	action := actionOrDefault(req.Action)

	f := c.newFetcher()
	var (
		caller Caller
		id     identity
		target targetEvidence
		g      group
		ev     *evidence.Evidence
	)
	var simDone chan simOutcome
	fetched := make(chan struct{})
	if req.Simulate {
		f.early = newEarly()
		simDone = make(chan simOutcome, 1)
		go func() {
			simDone <- c.simulateEarly(ctx, f.early, req, fetched, func() *evidence.Evidence { return ev })
		}()
	}
	g.Go(func() (err error) {
		caller, id, err = f.resolveCaller(ctx, cref, true)
		return err
	})
	g.Go(func() (err error) {
		target, err = f.targetEvidence(ctx, tref, strings.EqualFold(action, "lambda:InvokeFunctionUrl"))
		return err
	})
	if err := g.Wait(); err != nil {
		close(fetched)
		return nil, c.timedOut(err)
	}

	ev = &evidence.Evidence{
		Version: evidence.Version,
		Request: evidence.Request{
			Caller:   caller.Principal,
			Action:   action,
			Resource: target.fn.ResourceARN(),
			Context:  copyContext(req.Context),
			At:       req.At,
		},
		Caller: evidence.Caller{
			ARN:                 caller.ARN,
			Account:             caller.Account,
			IdentityPolicies:    nonNil(id.policies),
			PermissionsBoundary: id.boundary,
			SessionPolicies:     []evidence.NamedPolicy{},
			Tags:                id.tags,
			ServiceLinkedRole:   strings.HasPrefix(id.path, "/aws-service-role/"),
		},
		Target: evidence.Target{
			ARN:                 target.fn.FunctionARN,
			Account:             target.fn.Account,
			ResourcePolicy:      target.policy,
			FunctionURLAuthType: target.urlAuthType,
		},
	}
	ev.Unreadable = f.unreadable
	close(fetched)
	if simDone != nil {
		out := <-simDone
		var simErr *SimulatorError
		switch {
		case out.err == nil:
			ev.Simulation = out.sim
		case errors.As(out.err, &simErr):
			ev.SimulatorUnavailable = simErr.Error()
		default:
			return nil, out.err
		}
	}
	if caller.Kind == SessionCaller {
		// Session policies are passed to sts:AssumeRole and stored nowhere
		// IAM can read them back.
		ev.Notes = append(ev.Notes, "session policies of "+caller.Principal+" cannot be read from the account; none are assumed")
		ev.Caller.SessionPoliciesUnknown = true
	}
	return ev, nil
}

// targetEvidence is what the target side reads.
type targetEvidence struct {
	fn          Target
	policy      *evidence.NamedPolicy
	urlAuthType string
}

// targetEvidence reads the function configuration and, concurrently, the
// resource policy for the requested qualifier (and the function URL config
// when the action is lambda:InvokeFunctionUrl). Lambda keeps a separate
// policy per version and alias, so the qualifier goes to GetPolicy too.
func (f *fetcher) targetEvidence(ctx context.Context, ref functionRef, wantURL bool) (targetEvidence, error) {
	side := f.target
	name := aws.String(ref.apiName(side.Region))
	var qualifier *string
	if ref.qualifier != "" {
		qualifier = aws.String(ref.qualifier)
	}
	var (
		te targetEvidence
		g  group
	)
	var full *evidence.NamedPolicy
	g.Go(func() (err error) {
		te.fn, err = f.functionConfig(ctx, side, ref)
		if err != nil {
			return err
		}
		f.early.announceTarget(te.fn)
		full = f.fullResourcePolicy(ctx, side, ref, te.fn.ResourceARN())
		return nil
	})
	g.Go(func() error {
		out, err := do(ctx, f.lim, func() (*lambda.GetPolicyOutput, error) {
			return side.Lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: name, Qualifier: qualifier}, inRegion(side, ref))
		})
		if isNotFound(err) {
			// 404 means the function (or qualifier) has no resource policy;
			// a missing function is reported by GetFunctionConfiguration.
			return nil
		}
		if err != nil {
			return f.tolerate(callError("lambda:GetPolicy", "resource policy of function "+ref.display(), err),
				policy.LayerResource, "the resource policy of function "+ref.display())
		}
		doc, err := decodeDocument(aws.ToString(out.Policy))
		if err != nil {
			return &CallError{Action: "lambda:GetPolicy", Resource: "resource policy of function " + ref.display(), Err: err}
		}
		te.policy = &evidence.NamedPolicy{Name: ref.display(), Document: doc}
		return nil
	})
	if wantURL {
		g.Go(func() error {
			out, err := do(ctx, f.lim, func() (*lambda.GetFunctionUrlConfigOutput, error) {
				return side.Lambda.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: name, Qualifier: qualifier}, inRegion(side, ref))
			})
			if isNotFound(err) {
				return nil // no function URL
			}
			if err != nil {
				return callError("lambda:GetFunctionUrlConfig", "function URL of "+ref.display(), err)
			}
			te.urlAuthType = string(out.AuthType)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return targetEvidence{}, err
	}
	if full != nil {
		// GetResourcePolicy returns the whole JSON policy (Deny statements
		// and any condition included), GetPolicy the permissions added with
		// AddPermission: where both answer, the full one is the one AWS
		// evaluates.
		te.policy = full
	}
	return te, nil
}

// fullResourcePolicy reads the function's resource-based policy with the
// newer lambda:GetResourcePolicy, for the qualified ARN called. Accounts and
// endpoints that do not offer it, or refuse it, leave GetPolicy's answer to
// stand: this read never fails the diagnosis.
func (f *fetcher) fullResourcePolicy(ctx context.Context, side Side, ref functionRef, arn string) *evidence.NamedPolicy {
	out, err := do(ctx, f.lim, func() (*lambda.GetResourcePolicyOutput, error) {
		return side.Lambda.GetResourcePolicy(ctx, &lambda.GetResourcePolicyInput{ResourceArn: aws.String(arn)}, inRegion(side, ref))
	})
	if err != nil || aws.ToString(out.Policy) == "" {
		return nil
	}
	doc, err := decodeDocument(aws.ToString(out.Policy))
	if err != nil {
		return nil
	}
	return &evidence.NamedPolicy{Name: ref.display(), Document: doc}
}

// actionOrDefault trims the action and defaults it to DefaultAction.
func actionOrDefault(action string) string {
	if strings.TrimSpace(action) == "" {
		return DefaultAction
	}
	return strings.TrimSpace(action)
}

func copyContext(c evidence.ContextValues) evidence.ContextValues {
	if len(c) == 0 {
		return nil
	}
	out := make(evidence.ContextValues, len(c))
	for k, v := range maps.All(c) {
		out[k] = slices.Clone(v)
	}
	return out
}

func nonNil(p []evidence.NamedPolicy) []evidence.NamedPolicy {
	if p == nil {
		return []evidence.NamedPolicy{}
	}
	return p
}
