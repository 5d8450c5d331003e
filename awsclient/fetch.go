package awsclient

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
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
	// At is the moment the call is diagnosed for (--at): it becomes
	// request.at, and aws:CurrentTime and aws:EpochTime for the simulator.
	// Nil means the time of the diagnosis.
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
		target, err = f.targetEvidence(ctx, tref, targetReads{
			url: strings.EqualFold(action, "lambda:InvokeFunctionUrl"),
			// The execution role is read alongside the resource policy, in
			// the round that follows GetFunctionConfiguration: free unless
			// that round would otherwise not happen (a full target ARN and a
			// caller with no IAM reads).
			role: tref.region == "" || !slices.Contains([]CallerKind{ServiceCaller, AnonymousCaller, FederatedCaller}, cref.kind),
		})
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
			AsSessionOf:         caller.AsSessionOf,
		},
		Target: evidence.Target{
			ARN:                  target.fn.FunctionARN,
			Account:              target.fn.Account,
			ResourcePolicy:       target.policy,
			FunctionURLAuthType:  target.urlAuthType,
			NoFunctionURL:        target.noURL,
			MissingExecutionRole: target.missingRole,
		},
	}
	ev.Unreadable = f.unreadable
	switch caller.Kind {
	case RoleCaller:
		ev.Notes = append(ev.Notes, "diagnosed as a session of "+caller.AsSessionOf+" named "+SessionName+
			" without a session policy: a role calls nothing itself, its sessions do")
	case FederatedCaller:
		// GetFederationToken's caller and its session policy are recorded
		// nowhere IAM can read: the session's permissions (the user's
		// policies intersected with the session policy) are not known.
		ev.Caller.SessionPoliciesUnknown = true
		ev.Unreadable = append(ev.Unreadable, evidence.Unreadable{
			Layer: policy.LayerIdentity,
			What:  "the IAM user behind federated user " + caller.Name + " (who called sts:GetFederationToken) and its policies",
		}, evidence.Unreadable{
			Layer: policy.LayerPermissionsBoundary,
			What:  "the permissions boundary of the IAM user behind federated user " + caller.Name,
		})
		ev.Notes = append(ev.Notes, "the IAM user behind "+caller.Principal+" is recorded only in CloudTrail (the sts:GetFederationToken event): IAM cannot name it")
	}
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
	if caller.Kind == SessionCaller || caller.Kind == FederatedCaller {
		// Session policies are passed to sts:AssumeRole or
		// GetFederationToken and stored nowhere IAM can read them back.
		ev.Notes = append(ev.Notes, "session policies of "+caller.Principal+" cannot be read from the account")
		ev.Caller.SessionPoliciesUnknown = true
	}
	return ev, nil
}

// targetEvidence is what the target side reads.
type targetEvidence struct {
	fn          Target
	policy      *evidence.NamedPolicy
	urlAuthType string
	// noURL: GetFunctionUrlConfig answered ResourceNotFound.
	noURL bool
	// missingRole is the execution role's ARN when GetRole answered
	// NoSuchEntity.
	missingRole string
}

// targetReads are the optional reads of the target side.
type targetReads struct {
	// url reads the function URL's configuration.
	url bool
	// role reads the execution role, to tell a function that cannot run.
	role bool
}

// targetEvidence reads the function configuration and, concurrently, the
// resource policy for the requested qualifier (and the function URL config
// when the action is lambda:InvokeFunctionUrl). Lambda keeps a separate
// policy per version and alias, so the qualifier goes to GetPolicy too.
func (f *fetcher) targetEvidence(ctx context.Context, ref functionRef, reads targetReads) (targetEvidence, error) {
	side := f.target
	name := aws.String(ref.apiName(side.Region))
	var qualifier *string
	if ref.qualifier != "" {
		qualifier = aws.String(ref.qualifier)
	}
	var (
		te targetEvidence
		g  group
		// full is GetResourcePolicy's answer; refused is GetPolicy's
		// refusal, which matters only when there is no full answer.
		full    *evidence.NamedPolicy
		refused error
	)
	g.Go(func() error {
		var role string
		var err error
		te.fn, role, err = f.functionConfig(ctx, side, ref)
		if err != nil {
			return err
		}
		f.early.announceTarget(te.fn)
		var sub group
		sub.Go(func() error {
			full = f.fullResourcePolicy(ctx, side, ref, te.fn.ResourceARN())
			return nil
		})
		if reads.role {
			sub.Go(func() error {
				te.missingRole = f.missingRole(ctx, side, role)
				return nil
			})
		}
		return sub.Wait()
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
			refused = callError("lambda:GetPolicy", "resource policy of function "+ref.display(), err)
			return nil
		}
		doc, err := decodeDocument(aws.ToString(out.Policy))
		if err != nil {
			return &CallError{Action: "lambda:GetPolicy", Resource: "resource policy of function " + ref.display(), Err: err}
		}
		te.policy = &evidence.NamedPolicy{Name: ref.display(), Document: doc}
		return nil
	})
	if reads.url {
		g.Go(func() error {
			out, err := do(ctx, f.lim, func() (*lambda.GetFunctionUrlConfigOutput, error) {
				return side.Lambda.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: name, Qualifier: qualifier}, inRegion(side, ref))
			})
			if isNotFound(err) {
				// No URL for this qualifier (a missing function is
				// reported by GetFunctionConfiguration).
				te.noURL = true
				return nil
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
		// evaluates, and a refused GetPolicy leaves nothing unread.
		te.policy = full
	} else if err := f.tolerate(refused, policy.LayerResource, "the resource policy of function "+ref.display()); err != nil {
		return targetEvidence{}, err
	}
	return te, nil
}

// missingRole reads the target function's execution role and returns its
// ARN when IAM answers that it does not exist: the function cannot run.
// Any other answer, a refusal included, says nothing about the call and
// leaves it "".
func (f *fetcher) missingRole(ctx context.Context, side Side, roleARN string) string {
	a, ok := parseARN(roleARN)
	_, name, isRole := parseEntityPath(a.Resource)
	if !ok || !isRole {
		return ""
	}
	_, err := do(ctx, f.lim, func() (*iam.GetRoleOutput, error) {
		return side.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	})
	if isNotFound(err) {
		return roleARN
	}
	return ""
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
	return cmp.Or(strings.TrimSpace(action), DefaultAction)
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
