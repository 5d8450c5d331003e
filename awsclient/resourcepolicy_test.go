package awsclient

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
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
