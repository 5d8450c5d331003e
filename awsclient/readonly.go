package awsclient

import (
	"context"
	"strings"
	"unicode"

	"github.com/aws/smithy-go/middleware"
)

// OperationRecorder receives the service ID and operation name of every
// operation a client built by this package is about to send (after the
// read-only guard let it through). Tests use it to prove, across a whole
// test run, that nothing but reads reached the endpoint.
type OperationRecorder interface {
	RecordOperation(service, operation string)
}

// readOnlyPrefixes are the operation name prefixes the guard lets through.
// Every call this package needs is one of them (sts:GetCallerIdentity
// included, and the Organizations reads DescribeOrganization,
// DescribeOrganizationalUnit and DescribePolicy); anything else (Create*,
// Put*, Add*, Update*, Delete*, Attach*, Detach*, Move*, Invoke,
// Publish*, Tag*) changes an account and is refused.
var readOnlyPrefixes = []string{"Get", "List", "Describe", "Simulate"}

// IsReadOperation reports whether the guard lets an operation name through:
// it starts with Get, List, Describe or Simulate followed by an upper-case
// letter.
func IsReadOperation(operation string) bool {
	for _, p := range readOnlyPrefixes {
		rest, ok := strings.CutPrefix(operation, p)
		if ok && rest != "" && unicode.IsUpper(rune(rest[0])) {
			return true
		}
	}
	return false
}

// ReadOnly returns an SDK API option that installs the read-only guard in
// an operation's middleware stack, and, when rec is not nil, a recorder
// behind it. The guard runs in the Initialize step, before serialization,
// signing and retries, so a refused operation never leaves the process.
//
// It is added to each service client's options (not to aws.Config's
// APIOptions): the credential providers build their own STS clients from
// the aws.Config, and sts:AssumeRole for a role_arn profile must still work.
func ReadOnly(rec OperationRecorder) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		guard := middleware.InitializeMiddlewareFunc("WhyDeniedReadOnlyGuard",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
				middleware.InitializeOutput, middleware.Metadata, error,
			) {
				op := middleware.GetOperationName(ctx)
				if !IsReadOperation(op) {
					return middleware.InitializeOutput{}, middleware.Metadata{},
						&ReadOnlyError{Service: middleware.GetServiceID(ctx), Operation: op}
				}
				return next.HandleInitialize(ctx, in)
			})
		if err := stack.Initialize.Add(guard, middleware.Before); err != nil {
			return err
		}
		if rec == nil {
			return nil
		}
		record := middleware.InitializeMiddlewareFunc("WhyDeniedRecordOperation",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
				middleware.InitializeOutput, middleware.Metadata, error,
			) {
				rec.RecordOperation(middleware.GetServiceID(ctx), middleware.GetOperationName(ctx))
				return next.HandleInitialize(ctx, in)
			})
		return stack.Initialize.Insert(record, guard.ID(), middleware.After)
	}
}
