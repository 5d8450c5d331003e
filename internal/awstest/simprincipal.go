package awstest

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/policy"
)

// sourcePolicy is one policy that applies to the simulated principal, with
// the names AWS's simulator reports it under.
type sourcePolicy struct {
	// id is the SourcePolicyId: the policy's name, for inline and managed
	// policies alike.
	id string
	// kind is the SourcePolicyType: user, group, role, user-managed,
	// aws-managed, resource or none.
	kind   string
	policy *policy.Policy
}

// principalPolicies is what the simulator reads of a PolicySourceArn.
type principalPolicies struct {
	identity []sourcePolicy
	// boundary is nil when the principal has no permissions boundary.
	boundary *sourcePolicy
	// serviceLinked: the role's path is /aws-service-role/, which SCPs do
	// not restrict.
	serviceLinked bool
}

// accessKeyID finds the access key in a SigV4 Authorization header.
var accessKeyID = regexp.MustCompile(`Credential=([^/]+)/`)

// principalReader reads a principal's policies from moto with the
// credentials of the request being answered: moto maps access keys to
// accounts (those of sts:AssumeRole to the role's account), so the
// simulator reads the account the caller of the simulator is in, as AWS
// does. Moto checks no signatures, so the secret is not needed.
func principalReader(backend, authorization, token string) *iam.Client {
	key := "testing"
	if m := accessKeyID.FindStringSubmatch(authorization); m != nil {
		key = m[1]
	}
	return iam.NewFromConfig(aws.Config{
		Region:       Region,
		Credentials:  credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: key, SecretAccessKey: "testing", SessionToken: token}},
		BaseEndpoint: aws.String(backend),
	})
}

// readPrincipal reads the policies of a role or user ARN through the IAM
// API: inline and attached managed policies (at their default version),
// for a user also those of its groups, and the permissions boundary.
func readPrincipal(ctx context.Context, c *iam.Client, source string) (*principalPolicies, error) {
	a, ok := arn.Parse(source)
	if !ok || a.Service != "iam" {
		return nil, &simInputError{fmt.Sprintf("PolicySourceArn %s is not an IAM role or user ARN", source)}
	}
	name := a.Resource[strings.LastIndex(a.Resource, "/")+1:]
	switch {
	case strings.HasPrefix(a.Resource, "role/"):
		return readRole(ctx, c, name)
	case strings.HasPrefix(a.Resource, "user/"):
		return readUser(ctx, c, name)
	}
	return nil, &simInputError{fmt.Sprintf("PolicySourceArn %s: the stand-in simulates roles and users only", source)}
}

func readRole(ctx context.Context, c *iam.Client, name string) (*principalPolicies, error) {
	role, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if err != nil {
		return nil, fmt.Errorf("reading role %s: %w", name, err)
	}
	out := &principalPolicies{serviceLinked: strings.HasPrefix(aws.ToString(role.Role.Path), "/aws-service-role/")}
	if pb := role.Role.PermissionsBoundary; pb != nil {
		if out.boundary, err = readManaged(ctx, c, aws.ToString(pb.PermissionsBoundaryArn)); err != nil {
			return nil, err
		}
	}
	names := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: &name})
	for names.HasMorePages() {
		page, err := names.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the inline policies of role %s: %w", name, err)
		}
		for _, pn := range page.PolicyNames {
			got, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &name, PolicyName: &pn})
			if err != nil {
				return nil, fmt.Errorf("reading policy %s of role %s: %w", pn, name, err)
			}
			sp, err := parseSource(pn, "role", aws.ToString(got.PolicyDocument))
			if err != nil {
				return nil, err
			}
			out.identity = append(out.identity, sp)
		}
	}
	attached := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: &name})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the managed policies of role %s: %w", name, err)
		}
		for _, ap := range page.AttachedPolicies {
			sp, err := readManaged(ctx, c, aws.ToString(ap.PolicyArn))
			if err != nil {
				return nil, err
			}
			out.identity = append(out.identity, *sp)
		}
	}
	return out, nil
}

func readUser(ctx context.Context, c *iam.Client, name string) (*principalPolicies, error) {
	user, err := c.GetUser(ctx, &iam.GetUserInput{UserName: &name})
	if err != nil {
		return nil, fmt.Errorf("reading user %s: %w", name, err)
	}
	out := &principalPolicies{}
	if pb := user.User.PermissionsBoundary; pb != nil {
		if out.boundary, err = readManaged(ctx, c, aws.ToString(pb.PermissionsBoundaryArn)); err != nil {
			return nil, err
		}
	}
	names := iam.NewListUserPoliciesPaginator(c, &iam.ListUserPoliciesInput{UserName: &name})
	for names.HasMorePages() {
		page, err := names.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the inline policies of user %s: %w", name, err)
		}
		for _, pn := range page.PolicyNames {
			got, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: &name, PolicyName: &pn})
			if err != nil {
				return nil, fmt.Errorf("reading policy %s of user %s: %w", pn, name, err)
			}
			sp, err := parseSource(pn, "user", aws.ToString(got.PolicyDocument))
			if err != nil {
				return nil, err
			}
			out.identity = append(out.identity, sp)
		}
	}
	attached := iam.NewListAttachedUserPoliciesPaginator(c, &iam.ListAttachedUserPoliciesInput{UserName: &name})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the managed policies of user %s: %w", name, err)
		}
		for _, ap := range page.AttachedPolicies {
			sp, err := readManaged(ctx, c, aws.ToString(ap.PolicyArn))
			if err != nil {
				return nil, err
			}
			out.identity = append(out.identity, *sp)
		}
	}
	groups := iam.NewListGroupsForUserPaginator(c, &iam.ListGroupsForUserInput{UserName: &name})
	for groups.HasMorePages() {
		page, err := groups.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the groups of user %s: %w", name, err)
		}
		for _, g := range page.Groups {
			sps, err := readGroup(ctx, c, aws.ToString(g.GroupName))
			if err != nil {
				return nil, err
			}
			out.identity = append(out.identity, sps...)
		}
	}
	return out, nil
}

func readGroup(ctx context.Context, c *iam.Client, name string) ([]sourcePolicy, error) {
	var out []sourcePolicy
	names := iam.NewListGroupPoliciesPaginator(c, &iam.ListGroupPoliciesInput{GroupName: &name})
	for names.HasMorePages() {
		page, err := names.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the inline policies of group %s: %w", name, err)
		}
		for _, pn := range page.PolicyNames {
			got, err := c.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: &name, PolicyName: &pn})
			if err != nil {
				return nil, fmt.Errorf("reading policy %s of group %s: %w", pn, name, err)
			}
			sp, err := parseSource(pn, "group", aws.ToString(got.PolicyDocument))
			if err != nil {
				return nil, err
			}
			out = append(out, sp)
		}
	}
	attached := iam.NewListAttachedGroupPoliciesPaginator(c, &iam.ListAttachedGroupPoliciesInput{GroupName: &name})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the managed policies of group %s: %w", name, err)
		}
		for _, ap := range page.AttachedPolicies {
			sp, err := readManaged(ctx, c, aws.ToString(ap.PolicyArn))
			if err != nil {
				return nil, err
			}
			out = append(out, *sp)
		}
	}
	return out, nil
}

// readManaged reads a managed policy at its default version.
func readManaged(ctx context.Context, c *iam.Client, arn string) (*sourcePolicy, error) {
	p, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &arn})
	if err != nil {
		return nil, fmt.Errorf("reading managed policy %s: %w", arn, err)
	}
	v, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &arn, VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		return nil, fmt.Errorf("reading version %s of managed policy %s: %w", aws.ToString(p.Policy.DefaultVersionId), arn, err)
	}
	kind := "user-managed"
	if strings.HasPrefix(arn, "arn:aws:iam::aws:policy/") {
		kind = "aws-managed"
	}
	sp, err := parseSource(aws.ToString(p.Policy.PolicyName), kind, aws.ToString(v.PolicyVersion.Document))
	return &sp, err
}

func parseSource(id, kind, document string) (sourcePolicy, error) {
	doc, err := decodeDocument(document)
	if err != nil {
		return sourcePolicy{}, fmt.Errorf("policy %s: %w", id, err)
	}
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		return sourcePolicy{}, fmt.Errorf("policy %s: %w", id, err)
	}
	return sourcePolicy{id: id, kind: kind, policy: p}, nil
}

// decodeDocument returns a policy document as JSON. AWS URL-encodes the
// documents of GetRolePolicy, GetUserPolicy, GetGroupPolicy and
// GetPolicyVersion (RFC 3986); moto returns some of them as plain JSON.
// A JSON document starts with "{", an encoded one with "%7B".
func decodeDocument(doc string) (string, error) {
	trimmed := strings.TrimSpace(doc)
	if strings.HasPrefix(trimmed, "{") {
		return trimmed, nil
	}
	plain, err := url.QueryUnescape(trimmed)
	if err != nil {
		return "", fmt.Errorf("decoding the URL-encoded document: %w", err)
	}
	return plain, nil
}

// simInputError is a request the simulator rejects as invalid (HTTP 400
// InvalidInput).
type simInputError struct{ msg string }

func (e *simInputError) Error() string { return e.msg }
