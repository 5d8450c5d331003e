package awsclient

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// GeneratedFunction is a function CloudFormation created from a logical ID:
// its physical name is STACK-LogicalId-SUFFIX.
type GeneratedFunction struct {
	Name string
	// Stack is its aws:cloudformation:stack-name tag.
	Stack string
	// Confirmed: its aws:cloudformation:logical-id tag names the logical ID.
	// False when the tags could not be read (lambda:ListTags refused): then
	// only its name says so.
	Confirmed bool
}

// Tags CloudFormation puts on every resource it creates that supports tags.
const (
	logicalIDTag = "aws:cloudformation:logical-id"
	stackNameTag = "aws:cloudformation:stack-name"
)

// explainMissingTarget runs after Lambda answered that the target does not
// exist, and only then, so that the depth of a diagnosis of a function that
// exists does not change. A user who pastes a name from a template gets
// AccessDenied from AWS, not ResourceNotFound: Lambda checks the caller's
// permission on the ARN asked for before it looks the function up. So the
// name is often a logical ID, and the function CloudFormation made from it
// is STACK-LogicalId-SUFFIX. One lambda:ListFunctions pagination says
// whether a function of that name exists at all (else only the qualifier
// is wrong) and finds the names of that shape; lambda:ListTags on those
// alone confirms them by aws:cloudformation:logical-id. Every failure of
// these reads leaves the original error as it was.
func (f *fetcher) explainMissingTarget(ctx context.Context, side Side, ref functionRef, nf *NotFoundError) error {
	var fns []lambdatypes.FunctionConfiguration
	p := lambda.NewListFunctionsPaginator(side.Lambda, &lambda.ListFunctionsInput{MaxItems: aws.Int32(50)})
	for p.HasMorePages() {
		out, err := do(ctx, f.lim, unlocks, func() (*lambda.ListFunctionsOutput, error) {
			return p.NextPage(ctx, inRegion(side, ref))
		})
		if err != nil {
			return nf
		}
		fns = append(fns, out.Functions...)
	}
	var candidates []lambdatypes.FunctionConfiguration
	for _, fn := range fns {
		name := aws.ToString(fn.FunctionName)
		if name == ref.name {
			return nf // the function exists: its version or alias does not
		}
		if ref.account != "" && accountOf(aws.ToString(fn.FunctionArn)) != ref.account {
			// The ARN names another account than the one listed: nothing
			// can be said of it.
			return nf
		}
		if generatedFrom(name, ref.name) {
			candidates = append(candidates, fn)
		}
	}
	out := *nf
	out.NoFunction = true
	found := make([]*GeneratedFunction, len(candidates))
	var g group
	for i, fn := range candidates {
		g.Go(func() error {
			tags, err := do(ctx, f.lim, leaf, func() (*lambda.ListTagsOutput, error) {
				return side.Lambda.ListTags(ctx, &lambda.ListTagsInput{Resource: fn.FunctionArn}, inRegion(side, ref))
			})
			name := aws.ToString(fn.FunctionName)
			switch {
			case err != nil:
				found[i] = &GeneratedFunction{Name: name}
			case tags.Tags[logicalIDTag] == ref.name:
				found[i] = &GeneratedFunction{Name: name, Stack: tags.Tags[stackNameTag], Confirmed: true}
			}
			return nil
		})
	}
	_ = g.Wait()
	for _, c := range found {
		if c != nil {
			out.Generated = append(out.Generated, *c)
		}
	}
	return &out
}

// generatedFrom reports whether name has the shape of a name CloudFormation
// generates for logicalID: STACK-LogicalId-SUFFIX, the suffix letters and
// digits. A logical ID holds only letters and digits; a name given with
// other characters is no logical ID. (A stack name and logical ID too long
// for Lambda's 64 characters are cut short; such names are not found.)
func generatedFrom(name, logicalID string) bool {
	if logicalID == "" || strings.ContainsFunc(logicalID, func(r rune) bool { return !isAlnum(r) }) {
		return false
	}
	i := strings.LastIndexByte(name, '-')
	if i < 0 || i == len(name)-1 || strings.ContainsFunc(name[i+1:], func(r rune) bool { return !isAlnum(r) }) {
		return false
	}
	stack, ok := strings.CutSuffix(name[:i], "-"+logicalID)
	return ok && stack != ""
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// missingTarget explains a target Lambda did not find (see
// explainMissingTarget); other errors pass unchanged.
func (f *fetcher) missingTarget(ctx context.Context, side Side, ref functionRef, err error) error {
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Kind != "function" {
		return err
	}
	return f.explainMissingTarget(ctx, side, ref, nf)
}
