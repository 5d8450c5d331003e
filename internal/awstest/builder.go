package awstest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Builder creates scenarios in moto through the AWS API. Its clients are
// plain SDK clients without the read-only guard, and they are not recorded:
// setting up a scenario is not the code under test.
type Builder struct {
	t      testing.TB
	IAM    *iam.Client
	Lambda *lambda.Client
	STS    *sts.Client
	// Organizations builds organizations (see Organization).
	Organizations *organizations.Client
	Account       string
	Region        string
	// Credentials are the keys the builder uses; a test can write them into
	// a profile to read this account.
	Credentials aws.Credentials
}

// NewBuilder returns a builder for moto's default account.
func NewBuilder(t testing.TB, endpoint string) *Builder {
	t.Helper()
	return newBuilder(t, endpoint, aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}, Account)
}

func newBuilder(t testing.TB, endpoint string, creds aws.Credentials, account string) *Builder {
	cfg := aws.Config{
		Region:       Region,
		Credentials:  credentials.StaticCredentialsProvider{Value: creds},
		BaseEndpoint: aws.String(endpoint),
	}
	return &Builder{
		t:             t,
		IAM:           iam.NewFromConfig(cfg),
		Lambda:        lambda.NewFromConfig(cfg),
		STS:           sts.NewFromConfig(cfg),
		Organizations: organizations.NewFromConfig(cfg),
		Account:       account,
		Region:        Region,
		Credentials:   creds,
	}
}

// InAccount returns a builder for another account. Moto maps the keys
// sts:AssumeRole returns to the account of the role's ARN (the role need
// not exist), which gives tests a second account without configuration.
func (b *Builder) InAccount(account string) *Builder {
	b.t.Helper()
	out, err := b.STS.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn:         aws.String("arn:aws:iam::" + account + ":role/OrganizationAccountAccessRole"),
		RoleSessionName: aws.String("awstest"),
	})
	b.check(err, "assuming a role in account %s", account)
	c := out.Credentials
	creds := aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}
	endpoint := aws.ToString(b.IAM.Options().BaseEndpoint)
	return newBuilder(b.t, endpoint, creds, account)
}

// Allow returns a policy document with one Allow statement.
func Allow(action, resource string) string {
	return Document(Statement{Effect: "Allow", Action: action, Resource: resource})
}

// Statement is one policy statement, for Document.
type Statement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal any            `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// Document returns a policy document holding the statements.
func Document(statements ...Statement) string {
	doc, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	if err != nil {
		panic(err) // only static values are marshalled
	}
	return string(doc)
}

// lambdaTrust lets Lambda assume a role, as for every execution role.
var lambdaTrust = Document(Statement{Effect: "Allow", Principal: map[string]string{"Service": "lambda.amazonaws.com"}, Action: "sts:AssumeRole"})

// Role creates an execution role with the given path and returns its ARN.
func (b *Builder) Role(name, path string) string {
	b.t.Helper()
	out, err := b.IAM.CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName: &name, Path: &path, AssumeRolePolicyDocument: &lambdaTrust,
	})
	b.check(err, "creating role %s", name)
	return *out.Role.Arn
}

// RolePolicy puts an inline policy on a role.
func (b *Builder) RolePolicy(role, name, document string) {
	b.t.Helper()
	_, err := b.IAM.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: &role, PolicyName: &name, PolicyDocument: &document})
	b.check(err, "putting policy %s on role %s", name, role)
}

// ManagedPolicy creates a customer managed policy and returns its ARN.
func (b *Builder) ManagedPolicy(name, document string) string {
	b.t.Helper()
	out, err := b.IAM.CreatePolicy(context.Background(), &iam.CreatePolicyInput{PolicyName: &name, PolicyDocument: &document})
	b.check(err, "creating managed policy %s", name)
	return *out.Policy.Arn
}

// AttachRolePolicy attaches a managed policy to a role.
func (b *Builder) AttachRolePolicy(role, policyARN string) {
	b.t.Helper()
	_, err := b.IAM.AttachRolePolicy(context.Background(), &iam.AttachRolePolicyInput{RoleName: &role, PolicyArn: &policyARN})
	b.check(err, "attaching %s to role %s", policyARN, role)
}

// RoleBoundary sets a role's permissions boundary.
func (b *Builder) RoleBoundary(role, policyARN string) {
	b.t.Helper()
	_, err := b.IAM.PutRolePermissionsBoundary(context.Background(), &iam.PutRolePermissionsBoundaryInput{RoleName: &role, PermissionsBoundary: &policyARN})
	b.check(err, "setting the boundary of role %s", role)
}

// TagRole tags a role.
func (b *Builder) TagRole(role, key, value string) {
	b.t.Helper()
	_, err := b.IAM.TagRole(context.Background(), &iam.TagRoleInput{RoleName: &role, Tags: []iamtypes.Tag{{Key: &key, Value: &value}}})
	b.check(err, "tagging role %s", role)
}

// User creates a user with the given path and returns its ARN.
func (b *Builder) User(name, path string) string {
	b.t.Helper()
	out, err := b.IAM.CreateUser(context.Background(), &iam.CreateUserInput{UserName: &name, Path: &path})
	b.check(err, "creating user %s", name)
	return *out.User.Arn
}

// UserPolicy puts an inline policy on a user.
func (b *Builder) UserPolicy(user, name, document string) {
	b.t.Helper()
	_, err := b.IAM.PutUserPolicy(context.Background(), &iam.PutUserPolicyInput{UserName: &user, PolicyName: &name, PolicyDocument: &document})
	b.check(err, "putting policy %s on user %s", name, user)
}

// AttachUserPolicy attaches a managed policy to a user.
func (b *Builder) AttachUserPolicy(user, policyARN string) {
	b.t.Helper()
	_, err := b.IAM.AttachUserPolicy(context.Background(), &iam.AttachUserPolicyInput{UserName: &user, PolicyArn: &policyARN})
	b.check(err, "attaching %s to user %s", policyARN, user)
}

// Group creates a group and adds the users to it.
func (b *Builder) Group(name string, users ...string) {
	b.t.Helper()
	_, err := b.IAM.CreateGroup(context.Background(), &iam.CreateGroupInput{GroupName: &name})
	b.check(err, "creating group %s", name)
	for _, u := range users {
		_, err := b.IAM.AddUserToGroup(context.Background(), &iam.AddUserToGroupInput{GroupName: &name, UserName: &u})
		b.check(err, "adding user %s to group %s", u, name)
	}
}

// GroupPolicy puts an inline policy on a group.
func (b *Builder) GroupPolicy(group, name, document string) {
	b.t.Helper()
	_, err := b.IAM.PutGroupPolicy(context.Background(), &iam.PutGroupPolicyInput{GroupName: &group, PolicyName: &name, PolicyDocument: &document})
	b.check(err, "putting policy %s on group %s", name, group)
}

// AttachGroupPolicy attaches a managed policy to a group.
func (b *Builder) AttachGroupPolicy(group, policyARN string) {
	b.t.Helper()
	_, err := b.IAM.AttachGroupPolicy(context.Background(), &iam.AttachGroupPolicyInput{GroupName: &group, PolicyArn: &policyARN})
	b.check(err, "attaching %s to group %s", policyARN, group)
}

// Function creates a Python function running as roleARN and returns its
// unqualified ARN.
func (b *Builder) Function(name, roleARN string) string {
	b.t.Helper()
	out, err := b.Lambda.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: &name,
		Role:         &roleARN,
		Runtime:      lambdatypes.RuntimePython312,
		Handler:      aws.String("index.handler"),
		Code:         &lambdatypes.FunctionCode{ZipFile: handlerZip(b.t)},
	})
	b.check(err, "creating function %s", name)
	return *out.FunctionArn
}

// PublishVersion publishes the function's current code and returns the
// version number.
func (b *Builder) PublishVersion(function string) string {
	b.t.Helper()
	out, err := b.Lambda.PublishVersion(context.Background(), &lambda.PublishVersionInput{FunctionName: &function})
	b.check(err, "publishing a version of %s", function)
	return *out.Version
}

// Alias creates an alias pointing at version and returns its ARN.
func (b *Builder) Alias(function, alias, version string) string {
	b.t.Helper()
	out, err := b.Lambda.CreateAlias(context.Background(), &lambda.CreateAliasInput{FunctionName: &function, Name: &alias, FunctionVersion: &version})
	b.check(err, "creating alias %s of %s", alias, function)
	return *out.AliasArn
}

// AddPermission adds a statement to a function's resource policy.
func (b *Builder) AddPermission(in *lambda.AddPermissionInput) {
	b.t.Helper()
	if in.Action == nil {
		in.Action = aws.String("lambda:InvokeFunction")
	}
	_, err := b.Lambda.AddPermission(context.Background(), in)
	b.check(err, "adding permission %s to %s", aws.ToString(in.StatementId), aws.ToString(in.FunctionName))
}

// FunctionURL gives a function a URL with the given auth type (AWS_IAM or
// NONE).
func (b *Builder) FunctionURL(function string, auth lambdatypes.FunctionUrlAuthType) {
	b.t.Helper()
	_, err := b.Lambda.CreateFunctionUrlConfig(context.Background(), &lambda.CreateFunctionUrlConfigInput{FunctionName: &function, AuthType: auth})
	b.check(err, "creating a URL for %s", function)
}

// TagFunction tags a function, as CloudFormation and SAM tag the functions
// of a stack.
func (b *Builder) TagFunction(function string, tags map[string]string) {
	b.t.Helper()
	_, err := b.Lambda.TagResource(context.Background(), &lambda.TagResourceInput{Resource: aws.String(b.FunctionARN(function)), Tags: tags})
	b.check(err, "tagging function %s", function)
}

// FunctionARN returns the unqualified ARN a function of that name has (or
// would have) in this builder's account and region.
func (b *Builder) FunctionARN(name string) string {
	return "arn:aws:lambda:" + b.Region + ":" + b.Account + ":function:" + name
}

func (b *Builder) check(err error, format string, args ...any) {
	b.t.Helper()
	if err != nil {
		b.t.Fatalf("scenario setup: "+format+": %v", append(args, err)...)
	}
}

// handlerZip is a deployment package with a trivial handler; moto stores it
// and never runs it unless the function is invoked.
func handlerZip(t testing.TB) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("index.py")
	if err == nil {
		_, err = w.Write([]byte("def handler(event, context):\n    return {}\n"))
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatalf("building the function zip: %v", err)
	}
	return buf.Bytes()
}
