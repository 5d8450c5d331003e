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
	_, err = fmt.Fprintf(out, "scenario: %s (role %s: inline, managed %s, boundary %s) -> %s:%s (version %s)\n",
		requestFunction, s.roleARN, managedPolicy, boundaryPolicy, processorFunction, alias, s.version)
	return err
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
