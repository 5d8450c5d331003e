package awsclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Caller is a resolved CALLER argument.
type Caller struct {
	Kind CallerKind
	// Principal is the principal as AWS sees it at request time: the
	// session ARN for a function or session, the role or user ARN, or the
	// service principal.
	Principal string
	// ARN is the role or user whose policies apply, with its path; empty for
	// a service principal.
	ARN string
	// Name is the role or user name (without path), or the service principal.
	Name string
	// Account is the account of ARN; empty for a service principal.
	Account string
	// Function is the caller function's ARN as Lambda reported it, for
	// function callers.
	Function string
}

// Target is a resolved TARGET argument.
type Target struct {
	// FunctionARN is the unqualified function ARN.
	FunctionARN string
	Name        string
	// Qualifier is the version or alias the call names, empty when
	// unqualified. It is part of the evaluated resource: a policy on the
	// unqualified ARN does not cover name:alias.
	Qualifier string
	Account   string
	Region    string
}

// ResourceARN is the resource the call is evaluated against: the function
// ARN with the qualifier, when there is one.
func (t Target) ResourceARN() string {
	if t.Qualifier == "" {
		return t.FunctionARN
	}
	return t.FunctionARN + ":" + t.Qualifier
}

// ResolveCaller turns a CALLER argument into the principal AWS sees and the
// IAM entity whose policies apply. A function is read with
// GetFunctionConfiguration to learn its execution role; a role, session or
// user is read with GetRole or GetUser to learn its path (session ARNs and
// role/NAME carry none) and to prove it exists.
func (c *Client) ResolveCaller(ctx context.Context, caller string) (Caller, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	ref, err := parseCaller(caller)
	if err != nil {
		return Caller{}, err
	}
	resolved, _, err := c.newFetcher().resolveCaller(ctx, ref, false)
	return resolved, c.timedOut(err)
}

// ResolveTarget turns a TARGET argument into the function and qualifier the
// call is evaluated against, reading it with GetFunctionConfiguration
// (which also proves the version or alias exists).
func (c *Client) ResolveTarget(ctx context.Context, target string) (Target, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	ref, err := parseTarget(target)
	if err != nil {
		return Target{}, err
	}
	t, err := c.newFetcher().functionConfig(ctx, c.target, ref)
	return t, c.timedOut(err)
}

// resolveCaller resolves ref and, with withPolicies, reads the entity's
// policies in the same pass, so that GetRole serves both purposes. When ref
// names an account, sts:GetCallerIdentity runs alongside to check that the
// caller-side credentials read that account: otherwise GetRole would find
// nothing, or worse, a same-named role in the wrong account.
func (f *fetcher) resolveCaller(ctx context.Context, ref callerRef, withPolicies bool) (Caller, identity, error) {
	if ref.kind == ServiceCaller {
		f.early.announceEntity("")
		return Caller{Kind: ServiceCaller, Principal: ref.name, Name: ref.name}, identity{}, nil
	}
	var (
		c      Caller
		id     identity
		credAc string
		g      group
	)
	if ref.account != "" {
		g.Go(func() error {
			out, err := do(ctx, f.lim, func() (*sts.GetCallerIdentityOutput, error) {
				return f.caller.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			})
			if err != nil {
				return callError("sts:GetCallerIdentity", "the caller-side credentials", err)
			}
			credAc = aws.ToString(out.Account)
			return nil
		})
	}
	g.Go(func() (err error) {
		c, id, err = f.resolveEntity(ctx, ref, withPolicies)
		return err
	})
	err := g.Wait()
	if credAc != "" && credAc != ref.account {
		// Explains any not-found error above, so it takes precedence.
		profile := "the caller-side credentials belong to"
		if f.caller.Profile != "" {
			profile = "profile " + f.caller.Profile + " reads"
		}
		return Caller{}, identity{}, &InputError{Arg: "caller", Value: ref.input,
			Reason: "is in account " + ref.account + " but " + profile + " account " + credAc +
				": pass a profile for account " + ref.account + " (--profile, or --caller-profile for cross-account)"}
	}
	if err != nil {
		return Caller{}, identity{}, err
	}
	return c, id, nil
}

func (f *fetcher) resolveEntity(ctx context.Context, ref callerRef, withPolicies bool) (Caller, identity, error) {
	switch ref.kind {
	case FunctionCaller:
		out, err := f.getFunction(ctx, f.caller, ref.fn, "caller")
		if err != nil {
			return Caller{}, identity{}, err
		}
		roleARN := aws.ToString(out.Role)
		a, ok := splitARN(roleARN)
		_, roleName, isRole := parseEntityPath(a.resource)
		if !ok || !isRole {
			return Caller{}, identity{}, &CallError{Action: "lambda:GetFunctionConfiguration", Resource: "function " + ref.fn.display(),
				Err: fmt.Errorf("execution role %q is not a role ARN", roleARN)}
		}
		f.early.announceEntity(roleARN)
		fnName := aws.ToString(out.FunctionName)
		if fnName == "" || strings.HasPrefix(fnName, "arn:") {
			fnName = ref.fn.name
		}
		id, err := f.fetchRole(ctx, roleName, withPolicies)
		if err != nil {
			return Caller{}, identity{}, err
		}
		return Caller{
			Kind: FunctionCaller,
			// A function runs as its execution role's session, named after
			// the function (Lambda developer guide, "execution role").
			Principal: "arn:" + a.partition + ":sts::" + a.account + ":assumed-role/" + roleName + "/" + fnName,
			ARN:       cmp.Or(id.arn, roleARN),
			Name:      roleName,
			Account:   a.account,
			Function:  aws.ToString(out.FunctionArn),
		}, id, nil
	case RoleCaller, SessionCaller:
		id, err := f.fetchRole(ctx, ref.name, withPolicies)
		if err != nil {
			return Caller{}, identity{}, err
		}
		if id.arn == "" {
			// GetRole was refused: the ARN given names the role (without
			// its path, which AWS does not need to match it by ARN).
			if ref.account == "" {
				return Caller{}, identity{}, &CallError{Action: "iam:GetRole", Resource: "role " + ref.name,
					Err: errors.New("AccessDenied: the role's account cannot be known without it; pass the role ARN")}
			}
			id.arn = "arn:" + cmp.Or(ref.partition, "aws") + ":iam::" + ref.account + ":role/" + ref.name
		}
		principal := id.arn
		if ref.kind == SessionCaller {
			principal = strings.TrimSpace(ref.input)
		}
		return Caller{Kind: ref.kind, Principal: principal, ARN: id.arn, Name: ref.name, Account: accountOf(id.arn)}, id, nil
	case UserCaller:
		id, err := f.fetchUser(ctx, ref.name, withPolicies)
		if err != nil {
			return Caller{}, identity{}, err
		}
		return Caller{Kind: UserCaller, Principal: id.arn, ARN: id.arn, Name: ref.name, Account: accountOf(id.arn)}, id, nil
	}
	return Caller{}, identity{}, &InputError{Arg: "caller", Value: ref.input, Reason: "unsupported caller form"}
}

// getFunction reads a function's configuration on one side. A function ARN
// naming another region is read in that region: Lambda only answers for its
// own region.
func (f *fetcher) getFunction(ctx context.Context, side Side, ref functionRef, arg string) (*lambda.GetFunctionConfigurationOutput, error) {
	in := &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(ref.apiName(side.Region))}
	if ref.qualifier != "" {
		in.Qualifier = aws.String(ref.qualifier)
	}
	out, err := do(ctx, f.lim, func() (*lambda.GetFunctionConfigurationOutput, error) {
		return side.Lambda.GetFunctionConfiguration(ctx, in, inRegion(side, ref))
	})
	if err != nil {
		if isNotFound(err) {
			return nil, &NotFoundError{Arg: arg, Kind: "function", Name: ref.display(), Region: cmp.Or(ref.region, side.Region), Err: err}
		}
		return nil, callError("lambda:GetFunctionConfiguration", "function "+ref.display(), err)
	}
	return out, nil
}

// functionConfig resolves the target function reference into a Target.
func (f *fetcher) functionConfig(ctx context.Context, side Side, ref functionRef) (Target, error) {
	out, err := f.getFunction(ctx, side, ref, "target")
	if err != nil {
		return Target{}, err
	}
	// Strip any qualifier: with an alias, Lambda (and moto) may answer with
	// the ARN of the version the alias points to.
	arn := aws.ToString(out.FunctionArn)
	a, ok := splitARN(arn)
	rest, isFn := strings.CutPrefix(a.resource, "function:")
	if !ok || !isFn {
		return Target{}, &CallError{Action: "lambda:GetFunctionConfiguration", Resource: "function " + ref.display(),
			Err: fmt.Errorf("unexpected function ARN %q", arn)}
	}
	name, _, _ := strings.Cut(rest, ":")
	return Target{
		FunctionARN: "arn:" + a.partition + ":lambda:" + a.region + ":" + a.account + ":function:" + name,
		Name:        name,
		Qualifier:   ref.qualifier,
		Account:     a.account,
		Region:      a.region,
	}, nil
}

// inRegion points one Lambda call at the region an ARN names.
func inRegion(side Side, ref functionRef) func(*lambda.Options) {
	return func(o *lambda.Options) {
		if ref.region != "" && ref.region != side.Region {
			o.Region = ref.region
		}
	}
}

func accountOf(arn string) string {
	a, _ := splitARN(arn)
	return a.account
}
