package awsclient

import (
	"context"
	"strings"

	"github.com/why-denied/why-denied/evidence"
)

// RolePolicies is a role read by ARN with every policy that applies to it:
// its inline and attached policies and its permissions boundary. A refused
// read of one of them is in Unreadable, as in FetchEvidence.
type RolePolicies struct {
	ARN        string
	Policies   []evidence.NamedPolicy
	Boundary   *evidence.NamedPolicy
	Unreadable []evidence.Unreadable
}

// ReadManagedPolicy reads the default version of a managed policy, customer
// or AWS managed (iam:GetPolicy, iam:GetPolicyVersion), with the caller
// side's credentials: a template names it by ARN without defining it.
func (c *Client) ReadManagedPolicy(ctx context.Context, policyARN string) (evidence.NamedPolicy, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	p, err := c.newFetcher().managedPolicy(ctx, policyARN)
	if err != nil && isNotFound(err) {
		return evidence.NamedPolicy{}, &NotFoundError{Kind: "managed policy", Name: policyARN, Err: err}
	}
	return p, c.timedOut(err)
}

// ReadRole reads a role given by ARN (a function's Role outside its
// template) with its policies and boundary, with the caller side's
// credentials. IAM looks roles up by name, so a role of another account
// than the credentials' is refused rather than mistaken for a same-named
// one.
func (c *Client) ReadRole(ctx context.Context, roleARN string) (RolePolicies, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	a, ok := parseARN(roleARN)
	rest, isRole := strings.CutPrefix(a.Resource, "role/")
	if !ok || a.Service != "iam" || !isRole {
		return RolePolicies{}, &InputError{Arg: "role", Value: roleARN, Reason: "is not a role ARN"}
	}
	name := rest[strings.LastIndexByte(rest, '/')+1:]
	f := c.newFetcher()
	id, err := f.fetchRole(ctx, name, true, nil)
	if err != nil {
		return RolePolicies{}, c.timedOut(err)
	}
	if got := accountOf(id.arn); got != "" && got != a.Account {
		return RolePolicies{}, &InputError{Arg: "role", Value: roleARN,
			Reason: "is in account " + a.Account + " but the profile reads account " + got}
	}
	return RolePolicies{ARN: id.arn, Policies: id.policies, Boundary: id.boundary, Unreadable: f.unreadable}, nil
}
