package awsclient

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// fakeOrg is an organization in which every call takes the account's
// latency: a root, OUs nested under it, the account at the bottom, and
// FullAWSAccess attached everywhere, as AWS attaches it.
type fakeOrg struct {
	*fakeAccount
	parents  map[string]string   // child -> parent
	attached map[string][]string // target -> policy IDs
	// manyTargets: every ListTargetsForPolicy answer has another page.
	manyTargets bool
}

func newFakeOrg(a *fakeAccount, ous int) fakeOrg {
	o := fakeOrg{fakeAccount: a, parents: map[string]string{}, attached: map[string][]string{"r-ab12": {"p-FullAWSAccess"}}}
	parent := "r-ab12"
	for i := range ous {
		ou := "ou-ab12-" + strings.Repeat(string(rune('1'+i)), 8)
		o.parents[ou] = parent
		o.attached[ou] = []string{"p-FullAWSAccess"}
		parent = ou
	}
	o.parents[acct] = parent
	o.attached[acct] = []string{"p-FullAWSAccess", "p-denylambda"}
	return o
}

func (o fakeOrg) DescribeOrganization(ctx context.Context, _ *organizations.DescribeOrganizationInput, _ ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error) {
	if err := o.call(ctx, "DescribeOrganization"); err != nil {
		return nil, err
	}
	return &organizations.DescribeOrganizationOutput{Organization: &orgtypes.Organization{Id: aws.String("o-a1b2c3d4e5"), MasterAccountId: aws.String("999999999999")}}, nil
}

func (o fakeOrg) DescribeOrganizationalUnit(ctx context.Context, in *organizations.DescribeOrganizationalUnitInput, _ ...func(*organizations.Options)) (*organizations.DescribeOrganizationalUnitOutput, error) {
	if err := o.call(ctx, "DescribeOrganizationalUnit", *in.OrganizationalUnitId); err != nil {
		return nil, err
	}
	return &organizations.DescribeOrganizationalUnitOutput{OrganizationalUnit: &orgtypes.OrganizationalUnit{Id: in.OrganizationalUnitId, Name: aws.String("OU " + *in.OrganizationalUnitId)}}, nil
}

func (o fakeOrg) DescribePolicy(ctx context.Context, in *organizations.DescribePolicyInput, _ ...func(*organizations.Options)) (*organizations.DescribePolicyOutput, error) {
	if err := o.call(ctx, "DescribePolicy", *in.PolicyId); err != nil {
		return nil, err
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	if *in.PolicyId == "p-denylambda" {
		doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:*","Resource":"*"}]}`
	}
	return &organizations.DescribePolicyOutput{Policy: &orgtypes.Policy{Content: aws.String(doc),
		PolicySummary: &orgtypes.PolicySummary{Id: in.PolicyId, Name: aws.String(strings.TrimPrefix(*in.PolicyId, "p-"))}}}, nil
}

func (o fakeOrg) ListRoots(ctx context.Context, _ *organizations.ListRootsInput, _ ...func(*organizations.Options)) (*organizations.ListRootsOutput, error) {
	if err := o.call(ctx, "ListRoots"); err != nil {
		return nil, err
	}
	return &organizations.ListRootsOutput{Roots: []orgtypes.Root{{Id: aws.String("r-ab12")}}}, nil
}

func (o fakeOrg) ListParents(ctx context.Context, in *organizations.ListParentsInput, _ ...func(*organizations.Options)) (*organizations.ListParentsOutput, error) {
	if err := o.call(ctx, "ListParents", *in.ChildId); err != nil {
		return nil, err
	}
	p := o.parents[*in.ChildId]
	typ := orgtypes.ParentTypeOrganizationalUnit
	if strings.HasPrefix(p, "r-") {
		typ = orgtypes.ParentTypeRoot
	}
	return &organizations.ListParentsOutput{Parents: []orgtypes.Parent{{Id: aws.String(p), Type: typ}}}, nil
}

func (o fakeOrg) ListPolicies(ctx context.Context, _ *organizations.ListPoliciesInput, _ ...func(*organizations.Options)) (*organizations.ListPoliciesOutput, error) {
	if err := o.call(ctx, "ListPolicies"); err != nil {
		return nil, err
	}
	return &organizations.ListPoliciesOutput{Policies: []orgtypes.PolicySummary{{Id: aws.String("p-FullAWSAccess")}, {Id: aws.String("p-denylambda")}}}, nil
}

func (o fakeOrg) ListPoliciesForTarget(ctx context.Context, in *organizations.ListPoliciesForTargetInput, _ ...func(*organizations.Options)) (*organizations.ListPoliciesForTargetOutput, error) {
	if err := o.call(ctx, "ListPoliciesForTarget", *in.TargetId); err != nil {
		return nil, err
	}
	var out []orgtypes.PolicySummary
	for _, id := range o.attached[*in.TargetId] {
		out = append(out, orgtypes.PolicySummary{Id: aws.String(id)})
	}
	return &organizations.ListPoliciesForTargetOutput{Policies: out}, nil
}

func (o fakeOrg) ListTargetsForPolicy(ctx context.Context, in *organizations.ListTargetsForPolicyInput, _ ...func(*organizations.Options)) (*organizations.ListTargetsForPolicyOutput, error) {
	if err := o.call(ctx, "ListTargetsForPolicy", *in.PolicyId); err != nil {
		return nil, err
	}
	var out []orgtypes.PolicyTargetSummary
	for target, ids := range o.attached {
		if !slices.Contains(ids, *in.PolicyId) {
			continue
		}
		typ := orgtypes.TargetTypeAccount
		switch {
		case strings.HasPrefix(target, "r-"):
			typ = orgtypes.TargetTypeRoot
		case strings.HasPrefix(target, "ou-"):
			typ = orgtypes.TargetTypeOrganizationalUnit
		}
		out = append(out, orgtypes.PolicyTargetSummary{TargetId: aws.String(target), Type: typ, Name: aws.String("OU " + target)})
	}
	if o.manyTargets {
		// A large organization: FullAWSAccess on more targets than a page.
		return &organizations.ListTargetsForPolicyOutput{Targets: out, NextToken: aws.String("more")}, nil
	}
	return &organizations.ListTargetsForPolicyOutput{Targets: out}, nil
}

// TestOrganizationFloor: reading the organization adds no round to the
// diagnosis in a small organization, whatever the nesting of its OUs: the
// SCPs are listed in the first round, read and their attachments listed in
// the second, every OU's parent asked in the third, where the walk up from
// the account (known after the first round) finds its answers. In a large
// organization (an SCP attached to more targets than a page holds) the walk
// asks level by level: one round per level above the account, which cannot
// be shortened. Every question is asked once.
func TestOrganizationFloor(t *testing.T) {
	const latency = 40 * time.Millisecond
	for _, tt := range []struct {
		caller string
		ous    int
		large  bool
		floor  int
	}{
		{"RequestFunction", 1, false, 3},
		{"RequestFunction", 2, false, 3},
		{"RequestFunction", 4, false, 3},
		{"role/RequestRole", 2, false, 3},
		{"arn:aws:iam::" + acct + ":role/RequestRole", 2, false, 3},
		{"RequestFunction", 1, true, 3},
		{"RequestFunction", 2, true, 4},
	} {
		t.Run(fmt.Sprintf("%s %d OUs large=%v", tt.caller, tt.ous, tt.large), func(t *testing.T) {
			a := scaleAccount(latency)
			org := newFakeOrg(a, tt.ous)
			org.manyTargets = tt.large
			side := Side{Lambda: fakeLambda{fakeAccount: a}, IAM: fakeIAM{fakeAccount: a}, STS: a, Organizations: org, Region: "us-east-1"}
			client := NewFromSides(side, side, 0)
			var depth int
			var chain []string
			for range 3 {
				a.reset()
				ev, err := client.FetchEvidence(context.Background(), Request{Caller: tt.caller, Target: "ProcessorFunction:live", Simulate: true})
				if err != nil {
					t.Fatalf("FetchEvidence: %v", err)
				}
				o := ev.Organization
				if o == nil || len(o.SCPs) != tt.ous+2 || len(o.Levels) != tt.ous+2 {
					t.Fatalf("organization = %+v, want %d levels", o, tt.ous+2)
				}
				if o.Levels[0].Type != "ROOT" || o.Levels[len(o.Levels)-1].ID != acct {
					t.Errorf("levels %+v: want the root first, the account last", o.Levels)
				}
				if last := o.Levels[len(o.Levels)-1].SCPs; len(last) != 2 || last[1].Name != "denylambda" {
					t.Errorf("account's SCPs = %+v", last)
				}
				if ev.Target.OrgID != "o-a1b2c3d4e5" || !strings.HasPrefix(ev.Target.OrgPath, "o-a1b2c3d4e5/r-ab12/ou-ab12-") {
					t.Errorf("target org %q %q", ev.Target.OrgID, ev.Target.OrgPath)
				}
				if again := a.repeated(); len(again) > 0 {
					t.Errorf("calls made twice: %v", again)
				}
				if depth, chain = a.depth(); depth <= tt.floor {
					break
				}
			}
			if depth != tt.floor {
				t.Errorf("depth %d, want %d: %s", depth, tt.floor, strings.Join(chain, " -> "))
			}
			if n := slices.IndexFunc(a.calls, func(c fakeCall) bool { return c.op == "DescribePolicy" }); n < 0 {
				t.Errorf("no DescribePolicy sent")
			}
		})
	}
}
