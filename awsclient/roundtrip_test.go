package awsclient

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/why-denied/why-denied/evidence"
)

// slowAccount is a fake account in which every call takes latency, so that
// FetchEvidence's duration counts its sequential round trips. Methods it
// does not implement panic through the nil embedded interfaces: a call the
// test did not expect fails it.
type slowAccount struct {
	latency time.Duration
}

// slowLambda and slowIAM are the account's two services (both have a
// GetPolicy method, so one type cannot serve both).
type slowLambda struct {
	LambdaAPI
	*slowAccount
}

type slowIAM struct {
	IAMAPI
	*slowAccount
}

const acct = "111111111111"

func (a *slowAccount) wait(ctx context.Context) error {
	select {
	case <-time.After(a.latency):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func notFound(code string) error { return &smithy.GenericAPIError{Code: code, Message: "not found"} }

func (a slowLambda) GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	if err := a.wait(ctx); err != nil {
		return nil, err
	}
	switch aws.ToString(in.FunctionName) {
	case "RequestFunction":
		return &lambda.GetFunctionConfigurationOutput{
			FunctionName: aws.String("RequestFunction"),
			FunctionArn:  aws.String("arn:aws:lambda:us-east-1:" + acct + ":function:RequestFunction"),
			Role:         aws.String("arn:aws:iam::" + acct + ":role/service-role/RequestRole"),
		}, nil
	case "ProcessorFunction":
		return &lambda.GetFunctionConfigurationOutput{
			FunctionName: aws.String("ProcessorFunction"),
			FunctionArn:  aws.String("arn:aws:lambda:us-east-1:" + acct + ":function:ProcessorFunction:1"),
			Role:         aws.String("arn:aws:iam::" + acct + ":role/ProcessorRole"),
		}, nil
	}
	return nil, notFound("ResourceNotFoundException")
}

func (a slowLambda) GetPolicy(ctx context.Context, in *lambda.GetPolicyInput, _ ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error) {
	if err := a.wait(ctx); err != nil {
		return nil, err
	}
	if aws.ToString(in.FunctionName) == "ProcessorFunction" && aws.ToString(in.Qualifier) == "live" {
		return &lambda.GetPolicyOutput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[]}`)}, nil
	}
	return nil, notFound("ResourceNotFoundException")
}

// GetResourcePolicy answers like an account without the newer API's
// policies: not found.
func (a slowLambda) GetResourcePolicy(ctx context.Context, _ *lambda.GetResourcePolicyInput, _ ...func(*lambda.Options)) (*lambda.GetResourcePolicyOutput, error) {
	if err := a.wait(ctx); err != nil {
		return nil, err
	}
	return nil, notFound("ResourceNotFoundException")
}

// ListTags answers a function without tags.
func (a slowLambda) ListTags(ctx context.Context, _ *lambda.ListTagsInput, _ ...func(*lambda.Options)) (*lambda.ListTagsOutput, error) {
	if err := a.wait(ctx); err != nil {
		return nil, err
	}
	return &lambda.ListTagsOutput{Tags: map[string]string{}}, nil
}

func (a slowIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	if err := a.wait(ctx); err != nil {
		return nil, err
	}
	if aws.ToString(in.RoleName) != "RequestRole" {
		return nil, notFound("NoSuchEntity")
	}
	return &iam.GetRoleOutput{Role: &iamtypes.Role{
		RoleName: in.RoleName,
		Path:     aws.String("/service-role/"),
		Arn:      aws.String("arn:aws:iam::" + acct + ":role/service-role/RequestRole"),
		PermissionsBoundary: &iamtypes.AttachedPermissionsBoundary{
			PermissionsBoundaryArn: aws.String("arn:aws:iam::" + acct + ":policy/Boundary"),
		},
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}},
	}}, nil
}

func (a slowIAM) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	if err := a.wait(ctx); err != nil {
		return nil, err
	}
	return &iam.ListRolePoliciesOutput{PolicyNames: []string{"Inline0", "Inline1"}}, nil
}

func (a slowIAM) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	if err := a.wait(ctx); err != nil {
		return nil, err
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"` + aws.ToString(in.PolicyName) + `","Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}]}`
	return &iam.GetRolePolicyOutput{PolicyDocument: aws.String(url.PathEscape(doc))}, nil
}

func (a slowIAM) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	if err := a.wait(ctx); err != nil {
		return nil, err
	}
	return &iam.ListAttachedRolePoliciesOutput{AttachedPolicies: []iamtypes.AttachedPolicy{
		{PolicyName: aws.String("ManagedA"), PolicyArn: aws.String("arn:aws:iam::" + acct + ":policy/ManagedA")},
		{PolicyName: aws.String("Boundary"), PolicyArn: aws.String("arn:aws:iam::" + acct + ":policy/Boundary")},
	}}, nil
}

// ListPolicies lists the attached policies with their default version,
// as iam:ListPolicies with OnlyAttached does.
func (a slowIAM) ListPolicies(ctx context.Context, in *iam.ListPoliciesInput, _ ...func(*iam.Options)) (*iam.ListPoliciesOutput, error) {
	if err := a.wait(ctx); err != nil {
		return nil, err
	}
	var out iam.ListPoliciesOutput
	for _, name := range []string{"ManagedA", "Boundary"} {
		out.Policies = append(out.Policies, iamtypes.Policy{
			PolicyName: aws.String(name), Arn: aws.String("arn:aws:iam::" + acct + ":policy/" + name), DefaultVersionId: aws.String("v2"),
		})
	}
	return &out, nil
}

func (a slowIAM) GetPolicy(ctx context.Context, in *iam.GetPolicyInput, _ ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	if err := a.wait(ctx); err != nil {
		return nil, err
	}
	arn := aws.ToString(in.PolicyArn)
	name := arn[strings.LastIndex(arn, "/")+1:]
	return &iam.GetPolicyOutput{Policy: &iamtypes.Policy{Arn: in.PolicyArn, PolicyName: &name, DefaultVersionId: aws.String("v2")}}, nil
}

func (a slowIAM) GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, _ ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	if err := a.wait(ctx); err != nil {
		return nil, err
	}
	if aws.ToString(in.VersionId) != "v2" {
		return nil, notFound("NoSuchEntity")
	}
	return &iam.GetPolicyVersionOutput{PolicyVersion: &iamtypes.PolicyVersion{
		Document: aws.String(url.PathEscape(`{"Version":"2012-10-17","Statement":[]}`)),
	}}, nil
}

type fixedIdentity struct{ account string }

func (f fixedIdentity) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{Account: aws.String(f.account)}, nil
}

// TestFetchEvidenceRoundTrips checks that FetchEvidence starts each call as
// soon as its inputs are known: from a function caller the longest chain
// is GetFunctionConfiguration -> ListAttachedRolePolicies (or GetRole) ->
// GetPolicyVersion, the default versions coming from ListPolicies in the
// first round, so with every call taking L the whole fetch takes 3L (2L
// for a role caller), not the ~20L of calling one after the other.
func TestFetchEvidenceRoundTrips(t *testing.T) {
	const latency = 150 * time.Millisecond
	account := &slowAccount{latency: latency}
	side := Side{Lambda: slowLambda{slowAccount: account}, IAM: slowIAM{slowAccount: account}, STS: fixedIdentity{acct}, Region: "us-east-1"}
	client := NewFromSides(side, side, 0)

	tests := []struct {
		caller string
		rounds int
	}{
		{"RequestFunction", 3},
		{"arn:aws:iam::" + acct + ":role/service-role/RequestRole", 2},
	}
	for _, tt := range tests {
		t.Run(tt.caller, func(t *testing.T) {
			// The sleeps make fewer rounds impossible; a loaded machine can
			// make a fetch look longer than it is, so the best of three
			// attempts counts (one more round in the code fails all three).
			var best time.Duration
			for attempt := 0; attempt < 3; attempt++ {
				start := time.Now()
				ev, err := client.FetchEvidence(context.Background(), Request{Caller: tt.caller, Target: "ProcessorFunction:live"})
				elapsed := time.Since(start)
				if err != nil {
					t.Fatalf("FetchEvidence: %v", err)
				}
				checkSlowEvidence(t, ev)
				if attempt == 0 || elapsed < best {
					best = elapsed
				}
				if best < latency*time.Duration(tt.rounds)+latency*3/4 {
					break
				}
			}
			if rounds := float64(best) / float64(latency); rounds < float64(tt.rounds) || rounds >= float64(tt.rounds)+0.75 {
				t.Errorf("FetchEvidence took %s = %.2f round trips of %s, want %d", best, rounds, latency, tt.rounds)
			}
		})
	}
}

func checkSlowEvidence(t *testing.T, ev *evidence.Evidence) {
	t.Helper()
	var names []string
	for _, p := range ev.Caller.IdentityPolicies {
		names = append(names, p.Name)
	}
	if want := []string{"Inline0", "Inline1", "ManagedA", "Boundary"}; !slices.Equal(names, want) {
		t.Errorf("identity policies %v, want %v (IAM's order: inline, then attached)", names, want)
	}
	if ev.Caller.PermissionsBoundary == nil || ev.Caller.PermissionsBoundary.ARN != "arn:aws:iam::"+acct+":policy/Boundary" {
		t.Errorf("boundary = %+v", ev.Caller.PermissionsBoundary)
	}
	if ev.Target.ARN != "arn:aws:lambda:us-east-1:"+acct+":function:ProcessorFunction" {
		t.Errorf("target ARN %s: the version qualifier Lambda answered with must be stripped", ev.Target.ARN)
	}
	if ev.Request.Resource != ev.Target.ARN+":live" {
		t.Errorf("resource %s, want the alias-qualified ARN", ev.Request.Resource)
	}
}
