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
	// AsSessionOf is the role ARN when CALLER named a role: real calls come
	// from sessions, so Principal is a session of it named SessionName.
	AsSessionOf string
}

// SessionName is the session name of the session diagnosed when CALLER
// names a role: arn:aws:sts::ACCT:assumed-role/NAME/why-denied. A role
// never calls anything itself; its sessions do, and a resource policy or a
// NotPrincipal naming the session's ARN treats it differently from the
// role's ARN.
const SessionName = "why-denied"

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
	t, _, err := c.newFetcher().functionConfig(ctx, c.target, ref)
	return t, c.timedOut(err)
}

// resolveCaller resolves ref and, with withPolicies, reads the entity's
// policies in the same pass, so that GetRole serves both purposes. When ref
// names an account, sts:GetCallerIdentity runs alongside to check that the
// caller-side credentials read that account: otherwise GetRole would find
// nothing, or worse, a same-named role in the wrong account.
func (f *fetcher) resolveCaller(ctx context.Context, ref callerRef, withPolicies bool) (Caller, identity, error) {
	switch ref.kind {
	case ServiceCaller:
		f.early.announceNone("a service principal caller has no IAM role or user to simulate")
		return Caller{Kind: ServiceCaller, Principal: ref.name, Name: ref.name}, identity{}, nil
	case AnonymousCaller:
		f.early.announceNone("an anonymous caller has no IAM role or user to simulate")
		return Caller{Kind: AnonymousCaller, Principal: Anonymous, Name: Anonymous}, identity{}, nil
	case FederatedCaller:
		// Nothing to read: the IAM user who called GetFederationToken is
		// not recorded in IAM, nor is the session policy it passed.
		f.early.announceNone("the IAM user behind a federated user session cannot be read from the account")
		return Caller{Kind: FederatedCaller, Principal: strings.TrimSpace(ref.input), Name: ref.name, Account: ref.account}, identity{}, nil
	}
	var (
		c      Caller
		id     identity
		credAc string
		g      group
	)
	if ref.account != "" {
		g.Go(func() error {
			out, err := do(ctx, f.lim, leaf, func() (*sts.GetCallerIdentityOutput, error) {
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

// announceAccount publishes the caller's account, once known.
func (f *fetcher) announceAccount(account string) {
	if f.callerAccount != nil && account != "" {
		f.callerAccount.set(account)
	}
}

func (f *fetcher) resolveEntity(ctx context.Context, ref callerRef, withPolicies bool) (Caller, identity, error) {
	switch ref.kind {
	case FunctionCaller:
		out, err := f.getFunction(ctx, f.caller, ref.fn, "caller")
		if err != nil {
			return Caller{}, identity{}, err
		}
		roleARN := aws.ToString(out.Role)
		a, ok := parseARN(roleARN)
		f.announceAccount(a.Account)
		_, roleName, isRole := parseEntityPath(a.Resource)
		if !ok || !isRole {
			return Caller{}, identity{}, &CallError{Action: "lambda:GetFunctionConfiguration", Resource: "function " + ref.fn.display(),
				Err: fmt.Errorf("execution role %q is not a role ARN", roleARN)}
		}
		fnName := aws.ToString(out.FunctionName)
		if fnName == "" || strings.HasPrefix(fnName, "arn:") {
			fnName = ref.fn.name
		}
		// A function runs as its execution role's session, named after the
		// function (Lambda developer guide, "execution role").
		principal := "arn:" + a.Partition + ":sts::" + a.Account + ":assumed-role/" + roleName + "/" + fnName
		id, err := f.fetchRole(ctx, roleName, withPolicies, func(id identity) { f.early.announce(principal, id) })
		if nf, ok := errors.AsType[*NotFoundError](err); ok && nf.Kind == "role" {
			// The user named the function, not the role: say what is wrong
			// with the function.
			return Caller{}, identity{}, &NotFoundError{Arg: "caller", Kind: "role", Name: roleName, ExecutionRoleOf: fnName, Err: nf.Err}
		}
		if err != nil {
			return Caller{}, identity{}, err
		}
		return Caller{
			Kind:      FunctionCaller,
			Principal: principal,
			ARN:       cmp.Or(id.arn, roleARN),
			Name:      roleName,
			Account:   a.Account,
			Function:  aws.ToString(out.FunctionArn),
		}, id, nil
	case RoleCaller, SessionCaller:
		// For a role, the session is named SessionName; its account is the
		// role's, known from the ARN given or from GetRole.
		sessionOf := func(roleARN string) string {
			if ref.kind == SessionCaller {
				return strings.TrimSpace(ref.input)
			}
			a, _ := parseARN(roleARN)
			return "arn:" + a.Partition + ":sts::" + a.Account + ":assumed-role/" + ref.name + "/" + SessionName
		}
		id, err := f.fetchRole(ctx, ref.name, withPolicies, func(id identity) {
			f.announceAccount(accountOf(id.arn))
			f.early.announce(sessionOf(id.arn), id)
		})
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
			id.arn = ref.entityARN("role")
		}
		c := Caller{Kind: ref.kind, Principal: sessionOf(id.arn), ARN: id.arn, Name: ref.name, Account: accountOf(id.arn)}
		if ref.kind == RoleCaller {
			c.AsSessionOf = id.arn
		}
		return c, id, nil
	case UserCaller:
		id, err := f.fetchUser(ctx, ref.name, withPolicies, func(id identity) {
			f.announceAccount(accountOf(id.arn))
			f.early.announce(id.arn, id)
		})
		if err != nil {
			return Caller{}, identity{}, err
		}
		if id.arn == "" {
			// GetUser was refused: as for a role, the ARN given names it.
			if ref.account == "" {
				return Caller{}, identity{}, &CallError{Action: "iam:GetUser", Resource: "user " + ref.name,
					Err: errors.New("AccessDenied: the user's account cannot be known without it; pass the user ARN")}
			}
			id.arn = ref.entityARN("user")
		}
		return Caller{Kind: UserCaller, Principal: id.arn, ARN: id.arn, Name: ref.name, Account: accountOf(id.arn)}, id, nil
	}
	return Caller{}, identity{}, &InputError{Arg: "caller", Value: ref.input, Reason: "unsupported caller form"}
}

// entityARN is the role or user ARN a caller given by ARN names: the ARN
// itself (with its path) for a role or user ARN, the role ARN without path
// for a session, which AWS does not need to match it by ARN.
func (ref callerRef) entityARN(kind string) string {
	if ref.kind != SessionCaller {
		return strings.TrimSpace(ref.input)
	}
	return "arn:" + cmp.Or(ref.partition, "aws") + ":iam::" + ref.account + ":" + kind + "/" + ref.name
}

// getFunction reads a function's configuration on one side. A function ARN
// naming another region is read in that region: Lambda only answers for its
// own region.
func (f *fetcher) getFunction(ctx context.Context, side Side, ref functionRef, arg string) (*lambda.GetFunctionConfigurationOutput, error) {
	in := &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(ref.apiName(side.Region))}
	if ref.qualifier != "" {
		in.Qualifier = aws.String(ref.qualifier)
	}
	out, err := do(ctx, f.lim, unlocks, func() (*lambda.GetFunctionConfigurationOutput, error) {
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

// functionConfig resolves the target function reference into a Target,
// and returns the function's execution role ARN.
func (f *fetcher) functionConfig(ctx context.Context, side Side, ref functionRef) (Target, string, error) {
	out, err := f.getFunction(ctx, side, ref, "target")
	if err != nil {
		return Target{}, "", f.missingTarget(ctx, side, ref, err)
	}
	// Strip any qualifier: with an alias, Lambda (and moto) may answer with
	// the ARN of the version the alias points to.
	arn := aws.ToString(out.FunctionArn)
	a, ok := parseARN(arn)
	rest, isFn := strings.CutPrefix(a.Resource, "function:")
	if !ok || !isFn {
		return Target{}, "", &CallError{Action: "lambda:GetFunctionConfiguration", Resource: "function " + ref.display(),
			Err: fmt.Errorf("unexpected function ARN %q", arn)}
	}
	name, _, _ := strings.Cut(rest, ":")
	return Target{
		FunctionARN: "arn:" + a.Partition + ":lambda:" + a.Region + ":" + a.Account + ":function:" + name,
		Name:        name,
		Qualifier:   ref.qualifier,
		Account:     a.Account,
		Region:      a.Region,
	}, aws.ToString(out.Role), nil
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
	a, _ := parseARN(arn)
	return a.Account
}
