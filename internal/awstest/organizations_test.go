package awstest

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"
)

// TestMotoOrganizationsQuirks pins what moto 5.2.1's Organizations API does
// and does not do (see the package comment), so that the tests that build
// organizations in it rest on what is checked here.
func TestMotoOrganizationsQuirks(t *testing.T) {
	FakeCredentials(t)
	moto := StartMoto(t)
	b := NewBuilder(t, moto.URL)
	ctx := context.Background()
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		if err != nil {
			return err.Error()
		}
		return "no error"
	}

	// An account in no organization: AWSOrganizationsNotInUseException, like AWS.
	_, err := b.Organizations.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if _, ok := errors.AsType[*orgtypes.AWSOrganizationsNotInUseException](err); !ok {
		t.Errorf("DescribeOrganization outside an organization = %v, want AWSOrganizationsNotInUseException", err)
	}

	org := b.Organization()
	ou := org.OU(org.Root, "Workloads")
	member := org.Account("member")
	org.Move(member, org.Root, ou)

	// FullAWSAccess is attached to the root, each new OU and each new
	// account, as AWS does.
	for _, target := range []string{org.Root, ou, member} {
		out, err := b.Organizations.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(target), Filter: orgtypes.PolicyTypeServiceControlPolicy})
		if err != nil || len(out.Policies) != 1 || aws.ToString(out.Policies[0].Id) != FullAWSAccess {
			t.Errorf("SCPs of %s = %v, %v; want FullAWSAccess alone", target, out, err)
		}
	}
	parents, err := b.Organizations.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(ou)})
	if err != nil || len(parents.Parents) != 1 || parents.Parents[0].Type != orgtypes.ParentTypeRoot {
		t.Errorf("ListParents(OU) = %v, %v; want the root", parents, err)
	}

	// Unlike AWS, moto detaches an entity's last SCP (AWS answers
	// ConstraintViolationException) and accepts a document that is not
	// JSON (AWS answers MalformedPolicyDocumentException).
	probe := org.OU(org.Root, "Probe")
	if _, err := b.Organizations.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(FullAWSAccess), TargetId: aws.String(probe)}); err != nil {
		t.Errorf("DetachPolicy of the last SCP = %v: moto now refuses it, as AWS does", err)
	}
	if _, err := b.Organizations.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("NotJSON"), Description: aws.String("x"),
		Content: aws.String("not json"), Type: orgtypes.PolicyTypeServiceControlPolicy}); err != nil {
		t.Errorf("CreatePolicy with a document that is not JSON = %v: moto now validates it, as AWS does", err)
	}

	// A member account may call DescribeOrganization, as in AWS. Its reads
	// of the tree and the policies do not answer AccessDeniedException as
	// AWS does for a member that is not a delegated administrator: moto
	// looks in the member's own (empty) organization and answers "not
	// found", an empty list, or (ListRoots) the organization's root. Tests
	// of a member without access inject AWS's refusal (FaultProxy).
	m := b.InAccount(member)
	if out, err := m.Organizations.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil || aws.ToString(out.Organization.Id) != org.ID {
		t.Errorf("DescribeOrganization from a member = %v, %v", out, err)
	}
	_, err = m.Organizations.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(member)})
	if got := code(err); got != "AccountNotFoundException" {
		t.Errorf("ListParents from a member = %s; moto answered AccountNotFoundException (AWS: AccessDeniedException)", got)
	}
	_, err = m.Organizations.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(FullAWSAccess)})
	if got := code(err); got != "PolicyNotFoundException" {
		t.Errorf("DescribePolicy from a member = %s; moto answered PolicyNotFoundException (AWS: AccessDeniedException)", got)
	}
	if out, err := m.Organizations.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: orgtypes.PolicyTypeServiceControlPolicy}); err != nil || len(out.Policies) != 0 {
		t.Errorf("ListPolicies from a member = %v, %v; moto answered an empty list (AWS: AccessDeniedException)", out, err)
	}
	if _, err := m.Organizations.ListRoots(ctx, &organizations.ListRootsInput{}); err != nil {
		t.Errorf("ListRoots from a member = %v; moto answered the root (AWS: AccessDeniedException)", err)
	}
}
