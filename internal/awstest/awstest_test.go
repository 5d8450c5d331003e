package awstest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// TestMotoQuirks pins the moto behaviour described in the package comment,
// so that a moto upgrade that changes it is noticed here, where the
// description lives, rather than as a puzzling failure elsewhere.
func TestMotoQuirks(t *testing.T) {
	FakeCredentials(t)
	moto := StartMoto(t)
	b := NewBuilder(t, moto.URL)
	ctx := context.Background()
	sam := b.SAM("Quirk")

	id, err := b.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != Account {
		t.Errorf("GetCallerIdentity = %v, %v; want account %s", id, err, Account)
	}

	inline, err := b.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &sam.RequestRole, PolicyName: &sam.RequestPolicy})
	if err != nil || !strings.HasPrefix(aws.ToString(inline.PolicyDocument), "%7B") {
		t.Errorf("GetRolePolicy document = %q, %v; want it URL-encoded", aws.ToString(inline.PolicyDocument), err)
	}
	arn := b.ManagedPolicy("QuirkManaged", Allow("lambda:InvokeFunction", "*"))
	version, err := b.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &arn, VersionId: aws.String("v1")})
	if err != nil || !strings.HasPrefix(aws.ToString(version.PolicyVersion.Document), "{") {
		t.Errorf("GetPolicyVersion document = %v; want plain JSON (AWS would URL-encode it)", err)
	}

	// One policy for every qualifier, even one that does not exist.
	unqualified, err := b.Lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: &sam.ProcessorFunction})
	if err != nil {
		t.Fatalf("GetPolicy: %v", err)
	}
	for _, q := range []string{"live", "$LATEST", sam.ProcessorVersion} {
		got, err := b.Lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: &sam.ProcessorFunction, Qualifier: aws.String(q)})
		if err != nil || aws.ToString(got.Policy) != aws.ToString(unqualified.Policy) {
			t.Errorf("GetPolicy(Qualifier=%s) differs from the unqualified policy (%v): moto now keeps policies per qualifier", q, err)
		}
	}

	alias, err := b.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &sam.ProcessorFunction, Qualifier: aws.String("live")})
	if err != nil || aws.ToString(alias.FunctionArn) != sam.ProcessorFunctionARN+":"+sam.ProcessorVersion {
		t.Errorf("GetFunctionConfiguration(live) ARN = %v, %v; want the version's ARN", alias, err)
	}

	_, err = b.IAM.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: &sam.RequestRoleARN, ActionNames: []string{"lambda:InvokeFunction"},
	}, func(o *iam.Options) { o.RetryMaxAttempts = 1 })
	if err == nil {
		t.Error("moto now implements SimulatePrincipalPolicy; SimulatorProxy may no longer be needed")
	}
}

// TestSimulatorProxy checks that the proxy answers only the simulator, from
// the chosen recording, and forwards the rest.
func TestSimulatorProxy(t *testing.T) {
	FakeCredentials(t)
	moto := StartMoto(t)
	proxy := StartSimulatorProxy(t, moto.URL)
	b := NewBuilder(t, proxy.URL)
	ctx := context.Background()
	roleARN := b.Role("ProxyRole", "/")
	resource := b.FunctionARN("F") + ":live"
	simulate := func() (*iam.SimulatePrincipalPolicyOutput, error) {
		return b.IAM.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: &roleARN, ActionNames: []string{"lambda:InvokeFunction"}, ResourceArns: []string{resource},
		}, func(o *iam.Options) { o.RetryMaxAttempts = 1 })
	}

	var api smithy.APIError
	if _, err := simulate(); !errors.As(err, &api) || api.ErrorCode() != "NotImplemented" {
		t.Errorf("simulate without an answer = %v, want NotImplemented", err)
	}
	proxy.Answer(SimExplicitDeny)
	out, err := simulate()
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	r := out.EvaluationResults[0]
	if r.EvalDecision != "explicitDeny" || aws.ToString(r.EvalResourceName) != resource || aws.ToString(r.EvalActionName) != "lambda:InvokeFunction" {
		t.Errorf("result %s for %s on %s", r.EvalDecision, aws.ToString(r.EvalActionName), aws.ToString(r.EvalResourceName))
	}
	proxy.Answer(SimAccessDenied)
	_, err = simulate()
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		t.Errorf("simulate = %v, want HTTP 403 AccessDenied", err)
	}
	if got := proxy.Simulations(); len(got) != 3 || got[0].Get("PolicySourceArn") != roleARN {
		t.Errorf("recorded %d simulations, want 3 from %s", len(got), roleARN)
	}
	if len(proxy.Forwarded()) == 0 {
		t.Error("CreateRole was not forwarded to moto")
	}
}
