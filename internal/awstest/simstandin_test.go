package awstest

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
)

// TestSimulatorStandIn checks that the evaluating stand-in answers the way
// AWS documents the simulator's interface: only the context it is given,
// missing keys listed, boundary and organization details reported.
func TestSimulatorStandIn(t *testing.T) {
	FakeCredentials(t)
	moto := StartMoto(t)
	proxy := StartSimulatorProxy(t, moto.URL)
	proxy.Evaluate()
	b := NewBuilder(t, proxy.URL)
	fn := b.FunctionARN("StandInTarget")

	simulate := func(t *testing.T, in *iam.SimulatePrincipalPolicyInput) iamtypes.EvaluationResult {
		t.Helper()
		if in.ActionNames == nil {
			in.ActionNames = []string{"lambda:InvokeFunction"}
		}
		if in.ResourceArns == nil {
			in.ResourceArns = []string{fn}
		}
		out, err := b.IAM.SimulatePrincipalPolicy(context.Background(), in, func(o *iam.Options) { o.RetryMaxAttempts = 1 })
		if err != nil {
			t.Fatalf("simulate: %v", err)
		}
		if len(out.EvaluationResults) != 1 {
			t.Fatalf("%d evaluation results, want one per action", len(out.EvaluationResults))
		}
		return out.EvaluationResults[0]
	}
	// resourceResult is the one ResourceSpecificResult, for fn.
	resourceResult := func(t *testing.T, r iamtypes.EvaluationResult) iamtypes.ResourceSpecificResult {
		t.Helper()
		if len(r.ResourceSpecificResults) != 1 || aws.ToString(r.ResourceSpecificResults[0].EvalResourceName) != fn {
			t.Fatalf("resource-specific results %+v, want one for %s", r.ResourceSpecificResults, fn)
		}
		return r.ResourceSpecificResults[0]
	}

	t.Run("ABAC on a principal tag", func(t *testing.T) {
		const role = "StandInAbacRole"
		roleARN := b.Role(role, "/")
		b.TagRole(role, "team", "blue")
		b.RolePolicy(role, "AbacInvoke", Document(Statement{Effect: "Allow", Action: "lambda:InvokeFunction", Resource: fn,
			Condition: map[string]any{"StringEquals": map[string]string{"aws:PrincipalTag/team": "blue"}}}))

		// The role is tagged, but the simulator fills in nothing it was not sent.
		r := simulate(t, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: &roleARN})
		if r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeImplicitDeny {
			t.Errorf("without the tag: decision %s, want implicitDeny", r.EvalDecision)
		}
		want := []string{"aws:PrincipalTag/team"}
		if !slices.Equal(r.MissingContextValues, want) {
			t.Errorf("without the tag: MissingContextValues %v, want %v", r.MissingContextValues, want)
		}
		if rr := resourceResult(t, r); !slices.Equal(rr.MissingContextValues, want) || rr.EvalResourceDecision != iamtypes.PolicyEvaluationDecisionTypeImplicitDeny {
			t.Errorf("without the tag: resource result %s missing %v, want implicitDeny missing %v", rr.EvalResourceDecision, rr.MissingContextValues, want)
		}
		if len(r.MatchedStatements) != 0 || r.PermissionsBoundaryDecisionDetail != nil || r.OrganizationsDecisionDetail != nil {
			t.Errorf("without the tag: matched %v, boundary %v, organizations %v; want none of them", r.MatchedStatements, r.PermissionsBoundaryDecisionDetail, r.OrganizationsDecisionDetail)
		}

		r = simulate(t, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: &roleARN, ContextEntries: []iamtypes.ContextEntry{{
			ContextKeyName: aws.String("aws:PrincipalTag/team"), ContextKeyType: iamtypes.ContextKeyTypeEnumString, ContextKeyValues: []string{"blue"},
		}}})
		if r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeAllowed || len(r.MissingContextValues) != 0 {
			t.Errorf("with the tag: decision %s missing %v, want allowed missing nothing", r.EvalDecision, r.MissingContextValues)
		}
		if len(r.MatchedStatements) != 1 || aws.ToString(r.MatchedStatements[0].SourcePolicyId) != "AbacInvoke" || r.MatchedStatements[0].SourcePolicyType != iamtypes.PolicySourceTypeRole {
			t.Errorf("with the tag: matched %+v, want the role's inline policy AbacInvoke", r.MatchedStatements)
		}

		// A list type carries several values of one key.
		r = simulate(t, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: &roleARN, ContextEntries: []iamtypes.ContextEntry{{
			ContextKeyName: aws.String("aws:PrincipalTag/team"), ContextKeyType: iamtypes.ContextKeyTypeEnumStringList, ContextKeyValues: []string{"red", "green"},
		}}})
		if r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeImplicitDeny || len(r.MissingContextValues) != 0 {
			t.Errorf("another team: decision %s missing %v, want implicitDeny missing nothing", r.EvalDecision, r.MissingContextValues)
		}
	})

	t.Run("permissions boundary", func(t *testing.T) {
		const role = "StandInBoundedRole"
		roleARN := b.Role(role, "/")
		b.RolePolicy(role, "Invoke", Allow("lambda:InvokeFunction", fn))
		b.RoleBoundary(role, b.ManagedPolicy("StandInS3Only", Allow("s3:GetObject", "*")))

		r := simulate(t, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: &roleARN})
		if r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeImplicitDeny {
			t.Errorf("decision %s, want implicitDeny: the boundary does not allow", r.EvalDecision)
		}
		if d := r.PermissionsBoundaryDecisionDetail; d == nil || d.AllowedByPermissionsBoundary {
			t.Errorf("PermissionsBoundaryDecisionDetail %+v, want AllowedByPermissionsBoundary=false", d)
		}
		if d := resourceResult(t, r).PermissionsBoundaryDecisionDetail; d == nil || d.AllowedByPermissionsBoundary {
			t.Errorf("resource result's PermissionsBoundaryDecisionDetail %+v, want AllowedByPermissionsBoundary=false", d)
		}

		b.RoleBoundary(role, b.ManagedPolicy("StandInLambdaBoundary", Allow("lambda:*", "*")))
		r = simulate(t, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: &roleARN})
		if d := r.PermissionsBoundaryDecisionDetail; r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeAllowed || d == nil || !d.AllowedByPermissionsBoundary {
			t.Errorf("decision %s boundary %+v, want allowed with AllowedByPermissionsBoundary=true", r.EvalDecision, d)
		}
	})

	t.Run("SCPs", func(t *testing.T) {
		const role = "StandInOrgRole"
		roleARN := b.Role(role, "/")
		b.RolePolicy(role, "Invoke", Allow("lambda:InvokeFunction", fn))
		t.Cleanup(func() { proxy.SCPs(nil) })

		allowAll := Allow("*", "*")
		proxy.SCPs([][]string{{allowAll}, {Allow("s3:*", "*")}, {allowAll}})
		r := simulate(t, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: &roleARN})
		if d := r.OrganizationsDecisionDetail; r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeImplicitDeny || d == nil || d.AllowedByOrganizations {
			t.Errorf("a level without Allow: decision %s organizations %+v, want implicitDeny with AllowedByOrganizations=false", r.EvalDecision, d)
		}

		proxy.SCPs([][]string{{allowAll}, {allowAll}})
		r = simulate(t, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: &roleARN})
		if d := r.OrganizationsDecisionDetail; r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeAllowed || d == nil || !d.AllowedByOrganizations {
			t.Errorf("every level allows: decision %s organizations %+v, want allowed with AllowedByOrganizations=true", r.EvalDecision, d)
		}

		proxy.SCPs([][]string{{allowAll, Document(Statement{Effect: "Deny", Action: "lambda:*", Resource: "*"})}})
		r = simulate(t, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: &roleARN})
		if d := r.OrganizationsDecisionDetail; r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeExplicitDeny || d == nil || d.AllowedByOrganizations {
			t.Errorf("an SCP Deny: decision %s organizations %+v, want explicitDeny with AllowedByOrganizations=false", r.EvalDecision, d)
		}
	})

	t.Run("explicit deny in a managed policy", func(t *testing.T) {
		const role = "StandInDeniedRole"
		roleARN := b.Role(role, "/")
		b.RolePolicy(role, "Invoke", Allow("lambda:InvokeFunction", fn))
		b.AttachRolePolicy(role, b.ManagedPolicy("StandInDenyInvoke", Document(Statement{Effect: "Deny", Action: "lambda:*", Resource: "*"})))
		r := simulate(t, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: &roleARN})
		want := []iamtypes.Statement{{SourcePolicyId: aws.String("StandInDenyInvoke"), SourcePolicyType: iamtypes.PolicySourceTypeUserManaged}}
		if r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeExplicitDeny || !sameStatements(r.MatchedStatements, want) {
			t.Errorf("decision %s matched %+v, want explicitDeny with only the Deny statement's policy", r.EvalDecision, r.MatchedStatements)
		}
	})

	t.Run("user, groups and a resource policy", func(t *testing.T) {
		const user = "standin-dana"
		userARN := b.User(user, "/")
		b.Group("standin-invokers", user)
		b.GroupPolicy("standin-invokers", "GroupInvoke", Allow("lambda:InvokeFunction", fn))
		b.Group("standin-readers", user)
		b.AttachGroupPolicy("standin-readers", b.ManagedPolicy("StandInGetFunction", Allow("lambda:GetFunction", fn)))

		out, err := b.IAM.SimulatePrincipalPolicy(context.Background(), &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: &userARN, ActionNames: []string{"lambda:InvokeFunction", "lambda:GetFunction", "lambda:DeleteFunction"}, ResourceArns: []string{fn},
		})
		if err != nil {
			t.Fatalf("simulate: %v", err)
		}
		var got []string
		for _, r := range out.EvaluationResults {
			got = append(got, aws.ToString(r.EvalActionName)+"="+string(r.EvalDecision))
		}
		want := []string{"lambda:InvokeFunction=allowed", "lambda:GetFunction=allowed", "lambda:DeleteFunction=implicitDeny"}
		if !slices.Equal(got, want) {
			t.Errorf("results %v, want %v (the groups' inline and managed policies)", got, want)
		}

		// A resource policy naming the user allows what no identity policy
		// does, for a user caller.
		resourcePolicy := Document(Statement{Effect: "Allow", Principal: map[string]string{"AWS": userARN}, Action: "lambda:DeleteFunction", Resource: fn})
		r := simulate(t, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: &userARN, ActionNames: []string{"lambda:DeleteFunction"}, ResourcePolicy: &resourcePolicy})
		if r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeAllowed || len(r.MatchedStatements) != 1 || r.MatchedStatements[0].SourcePolicyType != iamtypes.PolicySourceTypeResource {
			t.Errorf("with a resource policy: decision %s matched %+v, want allowed by the resource policy", r.EvalDecision, r.MatchedStatements)
		}
	})

	t.Run("a resource policy needs a user caller", func(t *testing.T) {
		roleARN := b.Role("StandInResourceRole", "/")
		doc := Document(Statement{Effect: "Allow", Principal: map[string]string{"AWS": roleARN}, Action: "lambda:InvokeFunction", Resource: fn})
		_, err := b.IAM.SimulatePrincipalPolicy(context.Background(), &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: &roleARN, ActionNames: []string{"lambda:InvokeFunction"}, ResourceArns: []string{fn}, ResourcePolicy: &doc,
		}, func(o *iam.Options) { o.RetryMaxAttempts = 1 })
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "InvalidInput" {
			t.Errorf("simulate = %v, want InvalidInput: CallerArn is required with a ResourcePolicy for a role", err)
		}
	})

	t.Run("unknown principal", func(t *testing.T) {
		arn := "arn:aws:iam::" + Account + ":role/NoSuchRole"
		_, err := b.IAM.SimulatePrincipalPolicy(context.Background(), &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: &arn, ActionNames: []string{"lambda:InvokeFunction"},
		}, func(o *iam.Options) { o.RetryMaxAttempts = 1 })
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "NoSuchEntity" {
			t.Errorf("simulate = %v, want NoSuchEntity", err)
		}
	})

	t.Run("refused on request", func(t *testing.T) {
		roleARN := b.Role("StandInRefusedRole", "/")
		proxy.Answer(SimAccessDenied)
		defer proxy.Evaluate()
		_, err := b.IAM.SimulatePrincipalPolicy(context.Background(), &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: &roleARN, ActionNames: []string{"lambda:InvokeFunction"},
		}, func(o *iam.Options) { o.RetryMaxAttempts = 1 })
		var api smithy.APIError
		var re interface{ HTTPStatusCode() int }
		if !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
			t.Errorf("simulate = %v, want HTTP 403 AccessDenied", err)
		}
	})
}

// TestResourcePolicyAnswer: the proxy answers lambda:GetResourcePolicy for
// the ARNs a test chose, and only for them.
func TestResourcePolicyAnswer(t *testing.T) {
	FakeCredentials(t)
	moto := StartMoto(t)
	proxy := StartSimulatorProxy(t, moto.URL)
	b := NewBuilder(t, proxy.URL)
	fn := b.Function("FullPolicyTarget", b.Role("FullPolicyTargetRole", "/"))
	doc := Document(Statement{Effect: "Deny", Principal: "*", Action: "lambda:InvokeFunction", Resource: fn})
	proxy.ResourcePolicy(fn, doc)
	get := func(arn string) (string, error) {
		out, err := b.Lambda.GetResourcePolicy(context.Background(), &lambda.GetResourcePolicyInput{ResourceArn: &arn}, func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Policy), nil
	}
	if got, err := get(fn); err != nil || got != doc {
		t.Errorf("GetResourcePolicy(%s) = %q, %v; want the chosen document", fn, got, err)
	}
	if got, err := get(fn + ":live"); err == nil {
		t.Errorf("GetResourcePolicy of another ARN = %q, want moto's error (it does not implement the operation)", got)
	}
	proxy.ResourcePolicy(fn, "")
	if got, err := get(fn); err == nil {
		t.Errorf("GetResourcePolicy after removing the answer = %q, want moto's error", got)
	}
}

func sameStatements(got, want []iamtypes.Statement) bool {
	return slices.EqualFunc(got, want, func(a, b iamtypes.Statement) bool {
		return aws.ToString(a.SourcePolicyId) == aws.ToString(b.SourcePolicyId) && a.SourcePolicyType == b.SourcePolicyType
	})
}

// TestDecodeDocument: AWS URL-encodes policy documents; moto sometimes
// does not.
func TestDecodeDocument(t *testing.T) {
	const doc = `{"Version": "2012-10-17", "Statement": []}`
	for _, in := range []string{doc, "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%5D%7D", "%7B%22Version%22%3A+%222012-10-17%22%2C+%22Statement%22%3A+%5B%5D%7D"} {
		got, err := decodeDocument(in)
		if err != nil || got != doc {
			t.Errorf("decodeDocument(%q) = %q, %v; want %q", in, got, err, doc)
		}
	}
}
