package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// The SAM scenario of the README: RequestFunction's role may invoke
// ProcessorFunction's unqualified ARN, and RequestFunction calls
// ProcessorFunction:live. The role also has an attached customer managed
// policy and a permissions boundary, so that the caller side reads every
// kind of identity policy a role can have, and ProcessorFunction has the
// lambda.amazonaws.com permission that was added "to fix it".
const (
	region            = "us-east-1"
	requestFunction   = "RequestFunction"
	processorFunction = "ProcessorFunction"
	requestRole       = "RequestRole"
	processorRole     = "ProcessorRole"
	inlinePolicy      = "RequestFunctionRolePolicy0"
	managedPolicy     = "RequestFunctionLogs"
	boundaryPolicy    = "RequestBoundary"
	alias             = "live"

	// The large account: a function whose role has many policies, and a
	// user in many groups. None of their policies allows the call, so the
	// verdict is the seed case's (implicitDeny by the identity policy).
	bigFunction   = "BigFunction"
	bigRole       = "BigRole"
	bigUser       = "BigUser"
	bigPolicies   = 10 // inline and managed policies of BigRole
	bigVersions   = 5  // versions of each managed policy; the last is the default
	bigGroups     = 10 // groups of BigUser
	groupManaged  = 3  // managed policies per group, one shared by all
	groupInline   = 2  // inline policies per group
	sharedManaged = "BigGroupsShared"
)

// scenarioCmd builds the scenario in the account behind endpoint (moto),
// with the SDK's default credentials (the script's fake keys).
func scenarioCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("scenario", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "", "moto_server URL")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *endpoint == "" {
		return errors.New("scenario: -endpoint is required")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	b := newBuilder(*endpoint)
	s, err := b.sam(ctx)
	if err != nil {
		return fmt.Errorf("building the scenario: %w", err)
	}
	if _, err := fmt.Fprintf(out, "scenario: %s (role %s: inline, managed %s, boundary %s) -> %s:%s (version %s)\n",
		requestFunction, s.roleARN, managedPolicy, boundaryPolicy, processorFunction, alias, s.version); err != nil {
		return err
	}
	if err := b.bigRole(ctx); err != nil {
		return fmt.Errorf("building the large role: %w", err)
	}
	if err := b.bigUser(ctx); err != nil {
		return fmt.Errorf("building the large user: %w", err)
	}
	_, err = fmt.Fprintf(out, "scenario: %s (role %s: %d inline, %d managed of %d versions); user %s in %d groups (%d managed, one shared, and %d inline each)\n",
		bigFunction, bigRole, bigPolicies, bigPolicies, bigVersions, bigUser, bigGroups, groupManaged, groupInline)
	return err
}

// unrelated is a policy that allows something other than the call.
func unrelated(name string) string {
	return document(statement{Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::" + strings.ToLower(name) + "/*"})
}

// bigRole builds BigFunction, whose role has bigPolicies inline policies
// and bigPolicies managed ones, each with bigVersions versions.
func (b *builder) bigRole(ctx context.Context) error {
	roleARN, err := b.role(ctx, bigRole)
	if err != nil {
		return err
	}
	for i := range bigPolicies {
		name := fmt.Sprintf("BigInline%02d", i)
		if _, err := b.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(bigRole), PolicyName: &name, PolicyDocument: aws.String(unrelated(name))}); err != nil {
			return fmt.Errorf("putting inline policy %s: %w", name, err)
		}
		name = fmt.Sprintf("BigManaged%02d", i)
		arn, err := b.managedPolicy(ctx, name, unrelated(name+"-v1"))
		if err != nil {
			return err
		}
		for v := 2; v <= bigVersions; v++ {
			if _, err := b.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{
				PolicyArn: &arn, PolicyDocument: aws.String(unrelated(fmt.Sprintf("%s-v%d", name, v))), SetAsDefault: true,
			}); err != nil {
				return fmt.Errorf("creating version %d of %s: %w", v, name, err)
			}
		}
		if _, err := b.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(bigRole), PolicyArn: &arn}); err != nil {
			return fmt.Errorf("attaching %s: %w", name, err)
		}
	}
	_, err = b.function(ctx, bigFunction, roleARN)
	return err
}

// bigUser builds BigUser, a member of bigGroups groups, each with
// groupInline inline policies and groupManaged managed ones, one of them
// shared by every group.
func (b *builder) bigUser(ctx context.Context) error {
	if _, err := b.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(bigUser)}); err != nil {
		return fmt.Errorf("creating user %s: %w", bigUser, err)
	}
	shared, err := b.managedPolicy(ctx, sharedManaged, unrelated(sharedManaged))
	if err != nil {
		return err
	}
	for g := range bigGroups {
		group := fmt.Sprintf("BigGroup%02d", g)
		if _, err := b.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: &group}); err != nil {
			return fmt.Errorf("creating group %s: %w", group, err)
		}
		if _, err := b.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: &group, UserName: aws.String(bigUser)}); err != nil {
			return fmt.Errorf("adding %s to %s: %w", bigUser, group, err)
		}
		for i := range groupInline {
			name := fmt.Sprintf("%sInline%d", group, i)
			if _, err := b.iam.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: &group, PolicyName: &name, PolicyDocument: aws.String(unrelated(name))}); err != nil {
				return fmt.Errorf("putting inline policy %s: %w", name, err)
			}
		}
		arns := []string{shared}
		for i := 1; i < groupManaged; i++ {
			name := fmt.Sprintf("%sManaged%d", group, i)
			arn, err := b.managedPolicy(ctx, name, unrelated(name))
			if err != nil {
				return err
			}
			arns = append(arns, arn)
		}
		for _, arn := range arns {
			if _, err := b.iam.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: &group, PolicyArn: &arn}); err != nil {
				return fmt.Errorf("attaching %s to %s: %w", arn, group, err)
			}
		}
	}
	return nil
}

type builder struct {
	iam    *iam.Client
	lambda *lambda.Client
}

func newBuilder(endpoint string) *builder {
	cfg := aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(endpoint),
	}
	return &builder{iam: iam.NewFromConfig(cfg), lambda: lambda.NewFromConfig(cfg)}
}

type sam struct {
	roleARN string
	version string
}

func (b *builder) sam(ctx context.Context) (sam, error) {
	var s sam
	roleARN, err := b.role(ctx, requestRole)
	if err != nil {
		return s, err
	}
	s.roleARN = roleARN
	processorRoleARN, err := b.role(ctx, processorRole)
	if err != nil {
		return s, err
	}
	account := accountOf(roleARN)
	processorARN := "arn:aws:lambda:" + region + ":" + account + ":function:" + processorFunction

	// !GetAtt ProcessorFunction.Arn renders the unqualified ARN.
	if _, err := b.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String(requestRole), PolicyName: aws.String(inlinePolicy),
		PolicyDocument: aws.String(document(statement{Effect: "Allow", Action: "lambda:InvokeFunction", Resource: processorARN})),
	}); err != nil {
		return s, fmt.Errorf("putting inline policy %s: %w", inlinePolicy, err)
	}
	// Moto does not load AWS managed policies by default; this customer
	// managed policy stands in for AWSLambdaBasicExecutionRole.
	logsARN, err := b.managedPolicy(ctx, managedPolicy, document(statement{
		Effect: "Allow", Action: []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}, Resource: "*",
	}))
	if err != nil {
		return s, err
	}
	if _, err := b.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(requestRole), PolicyArn: &logsARN}); err != nil {
		return s, fmt.Errorf("attaching %s: %w", managedPolicy, err)
	}
	boundaryARN, err := b.managedPolicy(ctx, boundaryPolicy, document(statement{
		Effect: "Allow", Action: []string{"lambda:InvokeFunction", "logs:*"}, Resource: "*",
	}))
	if err != nil {
		return s, err
	}
	if _, err := b.iam.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{
		RoleName: aws.String(requestRole), PermissionsBoundary: &boundaryARN,
	}); err != nil {
		return s, fmt.Errorf("setting the boundary of %s: %w", requestRole, err)
	}

	requestARN, err := b.function(ctx, requestFunction, roleARN)
	if err != nil {
		return s, err
	}
	if _, err := b.function(ctx, processorFunction, processorRoleARN); err != nil {
		return s, err
	}
	v, err := b.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(processorFunction)})
	if err != nil {
		return s, fmt.Errorf("publishing a version of %s: %w", processorFunction, err)
	}
	s.version = aws.ToString(v.Version)
	if _, err := b.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{
		FunctionName: aws.String(processorFunction), Name: aws.String(alias), FunctionVersion: v.Version,
	}); err != nil {
		return s, fmt.Errorf("creating alias %s: %w", alias, err)
	}
	if _, err := b.lambda.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName: aws.String(processorFunction),
		StatementId:  aws.String("ProcessorFunctionPermission"),
		Action:       aws.String("lambda:InvokeFunction"),
		Principal:    aws.String("lambda.amazonaws.com"),
		SourceArn:    aws.String(requestARN),
	}); err != nil {
		return s, fmt.Errorf("adding the permission to %s: %w", processorFunction, err)
	}
	return s, nil
}

// role creates an execution role under /service-role/, as SAM does.
func (b *builder) role(ctx context.Context, name string) (string, error) {
	trust := document(statement{Effect: "Allow", Principal: map[string]string{"Service": "lambda.amazonaws.com"}, Action: "sts:AssumeRole"})
	out, err := b.iam.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(name), Path: aws.String("/service-role/"), AssumeRolePolicyDocument: &trust,
	})
	if err != nil {
		return "", fmt.Errorf("creating role %s: %w", name, err)
	}
	return aws.ToString(out.Role.Arn), nil
}

func (b *builder) managedPolicy(ctx context.Context, name, doc string) (string, error) {
	out, err := b.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: &doc})
	if err != nil {
		return "", fmt.Errorf("creating managed policy %s: %w", name, err)
	}
	return aws.ToString(out.Policy.Arn), nil
}

// function creates a Python function; moto stores the code and never runs
// it, since nothing invokes it.
func (b *builder) function(ctx context.Context, name, roleARN string) (string, error) {
	code, err := handlerZip()
	if err != nil {
		return "", err
	}
	out, err := b.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Role:         aws.String(roleARN),
		Runtime:      lambdatypes.RuntimePython312,
		Handler:      aws.String("index.handler"),
		Code:         &lambdatypes.FunctionCode{ZipFile: code},
	})
	if err != nil {
		return "", fmt.Errorf("creating function %s: %w", name, err)
	}
	return aws.ToString(out.FunctionArn), nil
}

func handlerZip() ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("index.py")
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, "def handler(event, context):\n    return event\n"); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type statement struct {
	Effect    string `json:"Effect"`
	Principal any    `json:"Principal,omitempty"`
	Action    any    `json:"Action"`
	Resource  any    `json:"Resource,omitempty"`
}

func document(statements ...statement) string {
	doc, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	if err != nil {
		panic(err) // only static values are marshalled
	}
	return string(doc)
}

// accountOf returns the account field of an ARN.
func accountOf(arn string) string {
	fields := strings.SplitN(arn, ":", 6)
	if len(fields) < 6 {
		return ""
	}
	return fields[4]
}
