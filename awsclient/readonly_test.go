package awsclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/internal/awstest"
)

// TestReadOnlyGuard sends writes through clients built by NewSide: the
// guard must refuse them before anything reaches the endpoint, and the
// recorder must not see them.
func TestReadOnlyGuard(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "no request should get here", http.StatusTeapot)
	}))
	defer srv.Close()
	cfg := aws.Config{
		Region:       awstest.Region,
		Credentials:  credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}},
		BaseEndpoint: aws.String(srv.URL),
	}
	var rec awstest.Recorder
	side := awsclient.NewSide(cfg, &rec)

	writes := map[string]func() error{
		"iam:CreateRole": func() error {
			_, err := side.IAM.(*iam.Client).CreateRole(context.Background(), &iam.CreateRoleInput{
				RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String("{}"),
			})
			return err
		},
		"lambda:AddPermission": func() error {
			_, err := side.Lambda.(*lambda.Client).AddPermission(context.Background(), &lambda.AddPermissionInput{
				FunctionName: aws.String("f"), StatementId: aws.String("s"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"),
			})
			return err
		},
		"organizations:DetachPolicy": func() error {
			_, err := side.Organizations.(*organizations.Client).DetachPolicy(context.Background(), &organizations.DetachPolicyInput{
				PolicyId: aws.String("p-FullAWSAccess"), TargetId: aws.String("111111111111"),
			})
			return err
		},
		"organizations:UpdatePolicy": func() error {
			_, err := side.Organizations.(*organizations.Client).UpdatePolicy(context.Background(), &organizations.UpdatePolicyInput{
				PolicyId: aws.String("p-12345678"), Content: aws.String("{}"),
			})
			return err
		},
		"organizations:MoveAccount": func() error {
			_, err := side.Organizations.(*organizations.Client).MoveAccount(context.Background(), &organizations.MoveAccountInput{
				AccountId: aws.String("111111111111"), SourceParentId: aws.String("r-ab12"), DestinationParentId: aws.String("ou-ab12-11111111"),
			})
			return err
		},
		"lambda:Invoke": func() error {
			_, err := side.Lambda.(*lambda.Client).Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("f")})
			return err
		},
	}
	for name, write := range writes {
		t.Run(name, func(t *testing.T) {
			err := write()
			var ro *awsclient.ReadOnlyError
			if !errors.As(err, &ro) {
				t.Fatalf("%s = %v (%T), want *ReadOnlyError", name, err, err)
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d refused requests reached the endpoint", n)
	}
	if ops := rec.Operations(); len(ops) != 0 {
		t.Errorf("the recorder saw refused operations: %v", ops)
	}

	// A read passes the guard and is recorded (the endpoint's error is
	// beside the point).
	_, _ = side.IAM.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("x")})
	_, _ = side.Organizations.DescribePolicy(context.Background(), &organizations.DescribePolicyInput{PolicyId: aws.String("p-12345678")})
	_, _ = side.Organizations.ListParents(context.Background(), &organizations.ListParentsInput{ChildId: aws.String("111111111111")})
	// Read only after a target was not found, to name the function
	// CloudFormation generated from a logical ID.
	_, _ = side.Lambda.ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
	_, _ = side.Lambda.ListTags(context.Background(), &lambda.ListTagsInput{Resource: aws.String("arn:aws:lambda:us-east-1:111111111111:function:f")})
	var got []string
	for _, op := range rec.Operations() {
		got = append(got, op.String())
	}
	want := "IAM.GetRole Organizations.DescribePolicy Organizations.ListParents Lambda.ListFunctions Lambda.ListTags"
	if strings.Join(got, " ") != want {
		t.Errorf("recorded %v, want [%s]", got, want)
	}
}
