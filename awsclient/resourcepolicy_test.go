package awsclient

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// fullPolicyLambda answers GetPolicy with the permissions added by
// AddPermission and GetResourcePolicy with a policy that also has a Deny.
type fullPolicyLambda struct {
	slowLambda
	full string
}

func (l fullPolicyLambda) GetResourcePolicy(_ context.Context, in *lambda.GetResourcePolicyInput, _ ...func(*lambda.Options)) (*lambda.GetResourcePolicyOutput, error) {
	if !strings.HasSuffix(aws.ToString(in.ResourceArn), ":function:ProcessorFunction:live") {
		return nil, notFound("ResourceNotFoundException")
	}
	return &lambda.GetResourcePolicyOutput{Policy: aws.String(l.full)}, nil
}

// TestFullResourcePolicyWins: where lambda:GetResourcePolicy answers, its
// document is the one evaluated (it may hold Deny statements GetPolicy's
// view lacks); where it does not, GetPolicy's stands.
func TestFullResourcePolicyWins(t *testing.T) {
	full := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*"}]}`
	account := &slowAccount{}
	side := Side{Lambda: fullPolicyLambda{slowLambda{nil, account}, full}, IAM: slowIAM{nil, account}, Region: "us-east-1"}
	c := NewFromSides(side, side, 0)
	for target, want := range map[string]string{
		"ProcessorFunction:live": "Deny",
		"ProcessorFunction":      "",
	} {
		ev, err := c.FetchEvidence(context.Background(), Request{Caller: "s3.amazonaws.com", Target: target})
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		got := ""
		if ev.Target.ResourcePolicy != nil && strings.Contains(string(ev.Target.ResourcePolicy.Document), "Deny") {
			got = "Deny"
		}
		if got != want {
			t.Errorf("%s: resource policy %+v, want the full policy: %v", target, ev.Target.ResourcePolicy, want != "")
		}
	}
}

// refusingLambda refuses lambda:GetPolicy, as credentials allowed only the
// newer lambda:GetResourcePolicy do.
type refusingLambda struct{ fullPolicyLambda }

func (refusingLambda) GetPolicy(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: lambda:GetPolicy"}
}

// TestRefusedGetPolicyWithFullPolicy: when GetPolicy is refused but
// GetResourcePolicy answers, the policy was read: it is not listed as
// unreadable, which would make the verdict unknown on a policy the tool
// has (issue 8, item 5). Where GetResourcePolicy has nothing, the refusal
// stands.
func TestRefusedGetPolicyWithFullPolicy(t *testing.T) {
	full := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*"}]}`
	account := &slowAccount{}
	side := Side{Lambda: refusingLambda{fullPolicyLambda{slowLambda{nil, account}, full}}, IAM: slowIAM{nil, account}, Region: "us-east-1"}
	c := NewFromSides(side, side, 0)
	for target, wantUnreadable := range map[string]bool{"ProcessorFunction:live": false, "ProcessorFunction": true} {
		ev, err := c.FetchEvidence(context.Background(), Request{Caller: "s3.amazonaws.com", Target: target})
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		unreadable := slices.ContainsFunc(ev.Unreadable, func(u evidence.Unreadable) bool { return u.Layer == policy.LayerResource })
		if unreadable != wantUnreadable {
			t.Errorf("%s: resource policy %v, unreadable %+v; want unreadable %v", target, ev.Target.ResourcePolicy, ev.Unreadable, wantUnreadable)
		}
		if !wantUnreadable && (ev.Target.ResourcePolicy == nil || !strings.Contains(string(ev.Target.ResourcePolicy.Document), "Deny")) {
			t.Errorf("%s: resource policy %+v, want GetResourcePolicy's", target, ev.Target.ResourcePolicy)
		}
	}
}
