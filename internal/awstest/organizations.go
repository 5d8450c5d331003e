package awstest

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// FullAWSAccess is the ID of the SCP AWS attaches to the root, every OU and
// every account when SCPs are enabled.
const FullAWSAccess = "p-FullAWSAccess"

// Org builds an organization whose management account is the builder's.
type Org struct {
	b *Builder
	// ID is o-..., Root the root's ID.
	ID, Root string
}

// Organization creates an organization (all features) managed by b's
// account.
func (b *Builder) Organization() Org {
	b.t.Helper()
	ctx := context.Background()
	out, err := b.Organizations.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll})
	b.check(err, "creating an organization")
	roots, err := b.Organizations.ListRoots(ctx, &organizations.ListRootsInput{})
	b.check(err, "listing the roots")
	return Org{b: b, ID: aws.ToString(out.Organization.Id), Root: aws.ToString(roots.Roots[0].Id)}
}

// OU creates an organizational unit under parent and returns its ID.
func (o Org) OU(parent, name string) string {
	o.b.t.Helper()
	out, err := o.b.Organizations.CreateOrganizationalUnit(context.Background(), &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parent), Name: aws.String(name)})
	o.b.check(err, "creating OU %s", name)
	return aws.ToString(out.OrganizationalUnit.Id)
}

// Account creates a member account under the root and returns its ID.
func (o Org) Account(name string) string {
	o.b.t.Helper()
	out, err := o.b.Organizations.CreateAccount(context.Background(), &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
	o.b.check(err, "creating account %s", name)
	return aws.ToString(out.CreateAccountStatus.AccountId)
}

// Move moves an account from one parent to another.
func (o Org) Move(account, from, to string) {
	o.b.t.Helper()
	_, err := o.b.Organizations.MoveAccount(context.Background(), &organizations.MoveAccountInput{AccountId: aws.String(account), SourceParentId: aws.String(from), DestinationParentId: aws.String(to)})
	o.b.check(err, "moving account %s to %s", account, to)
}

// SCP creates a service control policy and attaches it to each target,
// returning its ID and ARN.
func (o Org) SCP(name, document string, targets ...string) (id, arn string) {
	o.b.t.Helper()
	out, err := o.b.Organizations.CreatePolicy(context.Background(), &organizations.CreatePolicyInput{
		Name: aws.String(name), Description: aws.String(name), Content: aws.String(document), Type: orgtypes.PolicyTypeServiceControlPolicy,
	})
	o.b.check(err, "creating SCP %s", name)
	id, arn = aws.ToString(out.Policy.PolicySummary.Id), aws.ToString(out.Policy.PolicySummary.Arn)
	for _, t := range targets {
		o.Attach(id, t)
	}
	return id, arn
}

// Attach attaches a policy to a target (root, OU or account).
func (o Org) Attach(policyID, target string) {
	o.b.t.Helper()
	_, err := o.b.Organizations.AttachPolicy(context.Background(), &organizations.AttachPolicyInput{PolicyId: aws.String(policyID), TargetId: aws.String(target)})
	o.b.check(err, "attaching %s to %s", policyID, target)
}

// Detach detaches a policy from a target. AWS refuses to detach the last
// SCP of a target (attach another first); moto does not check.
func (o Org) Detach(policyID, target string) {
	o.b.t.Helper()
	_, err := o.b.Organizations.DetachPolicy(context.Background(), &organizations.DetachPolicyInput{PolicyId: aws.String(policyID), TargetId: aws.String(target)})
	o.b.check(err, "detaching %s from %s", policyID, target)
}

// Path is aws:PrincipalOrgPaths for an account under the given OUs, the
// root's child first.
func (o Org) Path(ous ...string) string {
	p := fmt.Sprintf("%s/%s/", o.ID, o.Root)
	for _, ou := range ous {
		p += ou + "/"
	}
	return p
}
