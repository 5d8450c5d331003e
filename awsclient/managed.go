package awsclient

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/why-denied/why-denied/evidence"
)

// A managed policy's document is read with iam:GetPolicyVersion, which
// needs the default version's ID. iam:GetPolicy names it, but asking it for
// each policy costs a round trip before the document's. Instead the fetch
// lists, in its first round and alongside everything else, the default
// version of every managed policy attached in the caller's account
// (iam:ListPolicies with OnlyAttached; it needs no role or user name), so
// that each document is read as soon as its ARN is known. A policy the list
// lacks (one used only as a permissions boundary, which OnlyAttached does not
// count; or every policy when ListPolicies is refused) is read with GetPolicy
// and, alongside it, GetPolicyVersion of v1, the default of a policy never
// updated: one round when that guess holds, two otherwise.
//
// Guessing for every policy instead (GetPolicy alongside GetPolicyVersion
// v1, no listing) was measured against listing with bench/live.sh at 100 ms
// per request: the same where policies are few and at v1, but one round
// more for the role with 10 managed policies of 5 versions (depth 4, 49
// calls, instead of 3 and 30) and for the user in 10 groups (depth 4, 91
// calls, instead of 3 and 71: GetPolicy doubles the widest round past the
// cap of calls in flight).

// guessedVersion is the version ID a managed policy has until it is
// updated.
const guessedVersion = "v1"

// listVersions starts listing the default versions of the attached managed
// policies of the caller's account. It never fails the fetch: a refused or
// failed list leaves each policy to GetPolicy.
func (f *fetcher) listVersions(ctx context.Context) {
	f.versions = &once[map[string]iamtypes.Policy]{done: make(chan struct{})}
	go func() {
		defer close(f.versions.done)
		policies, err := allPages(ctx, f.lim, iam.NewListPoliciesPaginator(f.caller.IAM, &iam.ListPoliciesInput{OnlyAttached: true, MaxItems: aws.Int32(listPageSize)}),
			func(o *iam.ListPoliciesOutput) []iamtypes.Policy { return o.Policies })
		if err != nil {
			f.versions.err = callError("iam:ListPolicies", "the attached managed policies", err)
			return
		}
		m := make(map[string]iamtypes.Policy, len(policies))
		for _, p := range policies {
			m[aws.ToString(p.Arn)] = p
		}
		f.versions.v = m
	}()
}

// listedVersion returns what the list says of a policy, waiting for the
// list if it is still being read.
func (f *fetcher) listedVersion(ctx context.Context, arn string) (iamtypes.Policy, bool) {
	if f.versions == nil {
		return iamtypes.Policy{}, false
	}
	m, err := f.versions.wait(ctx)
	if err != nil {
		return iamtypes.Policy{}, false
	}
	p, ok := m[arn]
	return p, ok && aws.ToString(p.DefaultVersionId) != ""
}

// versionsNote says how the listing went, for the evidence's notes, when it
// changed how policies were read.
func (f *fetcher) versionsNote() string {
	if f.versions == nil {
		return ""
	}
	select {
	case <-f.versions.done:
	default:
		return ""
	}
	if ce, ok := errors.AsType[*CallError](f.versions.err); ok && ce.AccessDenied() {
		return "iam:ListPolicies was refused: each managed policy's default version was read with iam:GetPolicy first, a round trip more (grant iam:ListPolicies for a faster diagnosis)"
	}
	return ""
}

// managedPolicy reads a managed policy's default version once per fetch,
// however many entities attach it.
func (f *fetcher) managedPolicy(ctx context.Context, arn string) (evidence.NamedPolicy, error) {
	e, first := onceFor(&f.mu, f.managed, arn)
	if !first {
		return e.wait(ctx)
	}
	defer close(e.done)
	e.v, e.err = f.readManagedPolicy(ctx, arn)
	return e.v, e.err
}

func (f *fetcher) readManagedPolicy(ctx context.Context, arn string) (evidence.NamedPolicy, error) {
	name := arn[strings.LastIndex(arn, "/")+1:]
	if p, ok := f.listedVersion(ctx, arn); ok {
		doc, err := f.policyVersion(ctx, arn, aws.ToString(p.DefaultVersionId))
		return evidence.NamedPolicy{Name: cmp.Or(aws.ToString(p.PolicyName), name), ARN: arn, Document: doc}, err
	}
	var (
		pol          *iam.GetPolicyOutput
		polErr       error
		guess        json.RawMessage
		guessErr     error
		g            group
		guessVersion = guessedVersion
	)
	g.Go(func() error {
		pol, polErr = do(ctx, f.lim, unlocks, func() (*iam.GetPolicyOutput, error) {
			return f.caller.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &arn})
		})
		return nil
	})
	g.Go(func() error {
		guess, guessErr = f.policyVersion(ctx, arn, guessVersion)
		return nil
	})
	_ = g.Wait()
	if polErr != nil {
		return evidence.NamedPolicy{}, callError("iam:GetPolicy", "managed policy "+arn, polErr)
	}
	name = cmp.Or(aws.ToString(pol.Policy.PolicyName), name)
	version := aws.ToString(pol.Policy.DefaultVersionId)
	if version == guessVersion && guessErr == nil {
		return evidence.NamedPolicy{Name: name, ARN: arn, Document: guess}, nil
	}
	doc, err := f.policyVersion(ctx, arn, version)
	return evidence.NamedPolicy{Name: name, ARN: arn, Document: doc}, err
}

// policyVersion reads one version of a managed policy.
func (f *fetcher) policyVersion(ctx context.Context, arn, version string) (json.RawMessage, error) {
	what := fmt.Sprintf("managed policy %s version %s", arn, version)
	ver, err := do(ctx, f.lim, leaf, func() (*iam.GetPolicyVersionOutput, error) {
		return f.caller.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &arn, VersionId: &version})
	})
	if err != nil {
		return nil, callError("iam:GetPolicyVersion", what, err)
	}
	doc, err := decodeDocument(aws.ToString(ver.PolicyVersion.Document))
	if err != nil {
		return nil, &CallError{Action: "iam:GetPolicyVersion", Resource: what, Err: err}
	}
	return doc, nil
}
