package awstest

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// SAM is the case in the design document: RequestFunction's role allows
// lambda:InvokeFunction on ProcessorFunction's unqualified ARN (as
// !GetAtt ProcessorFunction.Arn renders it), and ProcessorFunction, which
// has an alias "live", grants lambda.amazonaws.com with SourceArn =
// RequestFunction's ARN (the permission that "fixed" it).
type SAM struct {
	RequestFunction      string // name
	RequestFunctionARN   string
	RequestRole          string // name
	RequestRoleARN       string // with path /service-role/
	RequestPolicy        string // the inline policy's name
	RequestPolicyDoc     string
	ProcessorFunction    string // name
	ProcessorFunctionARN string // unqualified
	ProcessorVersion     string
	ProcessorAliasARN    string // …:live
}

// SAM builds the SAM scenario. prefix keeps names apart when one moto
// serves several scenarios.
func (b *Builder) SAM(prefix string) SAM {
	b.t.Helper()
	s := SAM{
		RequestFunction:   prefix + "RequestFunction",
		RequestRole:       prefix + "RequestRole",
		RequestPolicy:     "RequestFunctionRolePolicy0",
		ProcessorFunction: prefix + "ProcessorFunction",
	}
	s.ProcessorFunctionARN = b.FunctionARN(s.ProcessorFunction)
	s.RequestPolicyDoc = Allow("lambda:InvokeFunction", s.ProcessorFunctionARN)

	s.RequestRoleARN = b.Role(s.RequestRole, "/service-role/")
	b.RolePolicy(s.RequestRole, s.RequestPolicy, s.RequestPolicyDoc)
	processorRole := b.Role(prefix+"ProcessorRole", "/service-role/")

	s.RequestFunctionARN = b.Function(s.RequestFunction, s.RequestRoleARN)
	if got := b.Function(s.ProcessorFunction, processorRole); got != s.ProcessorFunctionARN {
		b.t.Fatalf("scenario setup: ProcessorFunction ARN %s, want %s", got, s.ProcessorFunctionARN)
	}
	s.ProcessorVersion = b.PublishVersion(s.ProcessorFunction)
	s.ProcessorAliasARN = b.Alias(s.ProcessorFunction, "live", s.ProcessorVersion)
	b.AddPermission(&lambda.AddPermissionInput{
		FunctionName: aws.String(s.ProcessorFunction),
		StatementId:  aws.String("RequestFunctionInvoke"),
		Principal:    aws.String("lambda.amazonaws.com"),
		SourceArn:    aws.String(s.RequestFunctionARN),
	})
	return s
}

// S3Trigger is a function invoked by S3 event notifications: its resource
// policy grants s3.amazonaws.com with SourceArn (the bucket) and
// SourceAccount (the bucket owner), as the S3 console adds it.
type S3Trigger struct {
	Function    string
	FunctionARN string
	BucketARN   string
}

// S3Trigger builds the S3 scenario.
func (b *Builder) S3Trigger(prefix string) S3Trigger {
	b.t.Helper()
	s := S3Trigger{Function: prefix + "Thumbnailer", BucketARN: "arn:aws:s3:::" + strings.ToLower(prefix) + "uploads"}
	role := b.Role(prefix+"ThumbnailerRole", "/")
	s.FunctionARN = b.Function(s.Function, role)
	b.AddPermission(&lambda.AddPermissionInput{
		FunctionName:  aws.String(s.Function),
		StatementId:   aws.String("S3Invoke"),
		Principal:     aws.String("s3.amazonaws.com"),
		SourceArn:     aws.String(s.BucketARN),
		SourceAccount: aws.String(b.Account),
	})
	return s
}
