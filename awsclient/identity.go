package awsclient

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// maxCallsInFlight bounds concurrent AWS calls per FetchEvidence. A round
// must fit under it, or the fetch takes more rounds than its dependencies
// need: the widest round of a user in 10 groups with 3 managed policies and
// 2 inline ones each is 41 leaf reads. IAM publishes no read rate; it
// throttles bursts, and the standard retryer absorbs that within its retry
// quota: a retry costs 5 of its 500 tokens, returned when the retry
// succeeds. A call holds its slot through its retries, so at most 48 × 5 =
// 240 tokens are out at once and every call in flight can be throttled and
// retried; only calls throttled again and again drain the quota (5 tokens
// each), until the retryer gives up rather than feed a retry storm.
// TestThrottledAtFullConcurrency throttles every call of the two widest
// rounds of that user and gets the same evidence.
const maxCallsInFlight = 48

// listPageSize is the largest page IAM's List* calls allow, so that the
// usual entity needs a single page (one round trip) per list.
const listPageSize = 1000

// fetcher reads the evidence of one request. It holds the limiter and the
// reads made once whoever asks: managed policies (a user and its groups
// often share them) and roles (the caller's role is often the target's
// execution role).
type fetcher struct {
	caller, target Side
	// org reads the organization's policies: --org-profile, by default the
	// caller's side.
	org Side
	// shared: the two sides read one account with one set of clients.
	shared bool
	lim    *limiter

	mu         sync.Mutex
	managed    map[string]*once[evidence.NamedPolicy]
	roles      map[string]*once[*iam.GetRoleOutput]
	unreadable []evidence.Unreadable
	notes      []string
	// versions, when set, lists the default version of the account's
	// attached managed policies (iam:ListPolicies), read in the first round.
	versions *once[map[string]iamtypes.Policy]
	// early, when set, is told the inputs of the simulator as soon as
	// they are known.
	early *early
	// callerAccount, when set, is told the caller's account as soon as it
	// is known, for the walk up the organization.
	callerAccount *future[string]
}

// note records how a piece of evidence was read, or why it is missing.
func (f *fetcher) note(n string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notes = append(f.notes, n)
}

func (c *Client) newFetcher() *fetcher {
	return &fetcher{
		caller: c.caller, target: c.target, org: c.org, shared: c.shared, lim: newLimiter(maxCallsInFlight),
		managed: map[string]*once[evidence.NamedPolicy]{}, roles: map[string]*once[*iam.GetRoleOutput]{},
	}
}

// once is a read made once per fetch: the first to ask makes it, the others
// wait for its answer.
type once[T any] struct {
	done chan struct{}
	v    T
	err  error
}

// onceFor returns the entry of key in m and whether the caller must make
// the read (then it closes done when finished).
func onceFor[T any](mu *sync.Mutex, m map[string]*once[T], key string) (*once[T], bool) {
	mu.Lock()
	defer mu.Unlock()
	if e, ok := m[key]; ok {
		return e, false
	}
	e := &once[T]{done: make(chan struct{})}
	m[key] = e
	return e, true
}

// wait returns the read's answer once made.
func (e *once[T]) wait(ctx context.Context) (T, error) {
	select {
	case <-e.done:
		return e.v, e.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// getRole reads a role once per fetch and account. target says which
// side's clients read it.
func (f *fetcher) getRole(ctx context.Context, target bool, name string, p priority) (*iam.GetRoleOutput, error) {
	side, key := f.caller, "caller/"+name
	if target {
		side = f.target
		if !f.shared {
			key = "target/" + name
		}
	}
	e, first := onceFor(&f.mu, f.roles, key)
	if !first {
		return e.wait(ctx)
	}
	defer close(e.done)
	e.v, e.err = do(ctx, f.lim, p, func() (*iam.GetRoleOutput, error) {
		return side.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	})
	return e.v, e.err
}

// identity is what IAM says about the role or user whose policies apply.
type identity struct {
	arn      string
	path     string
	policies []evidence.NamedPolicy
	boundary *evidence.NamedPolicy
	tags     map[string]string
}

// fetchRole reads a role and, when withPolicies is set, its inline and
// attached policies and permissions boundary. The three first calls only
// need the role name, so they start together: GetRole, ListRolePolicies and
// ListAttachedRolePolicies; their follow-ups start as soon as each answers.
// onRole, when set, is told the role as soon as GetRole answers: the
// simulator needs its ARN and tags, not its policies.
func (f *fetcher) fetchRole(ctx context.Context, name string, withPolicies bool, onRole func(identity)) (identity, error) {
	var (
		id              identity
		inline, managed []evidence.NamedPolicy
		g               group
	)
	g.Go(func() error {
		out, err := f.getRole(ctx, false, name, unlocks)
		if err != nil {
			err = entityError("role", name, "iam:GetRole", err)
			if withPolicies {
				// Without GetRole the role's path, tags and boundary are
				// unknown; its policies may still be listed.
				return f.tolerate(err, policy.LayerPermissionsBoundary, "role "+name+" (its permissions boundary, path and tags)")
			}
			return err
		}
		id.arn, id.path, id.tags = aws.ToString(out.Role.Arn), aws.ToString(out.Role.Path), tagMap(out.Role.Tags)
		if onRole != nil {
			onRole(id)
		}
		if withPolicies {
			id.boundary, err = f.boundary(ctx, out.Role.PermissionsBoundary, "role "+name)
		}
		return err
	})
	if withPolicies {
		g.Go(func() error {
			names, err := allPages(ctx, f.lim, iam.NewListRolePoliciesPaginator(f.caller.IAM, &iam.ListRolePoliciesInput{RoleName: &name, MaxItems: aws.Int32(listPageSize)}),
				func(o *iam.ListRolePoliciesOutput) []string { return o.PolicyNames })
			if err == nil {
				inline, err = f.inlinePolicies(ctx, names, "", "iam:GetRolePolicy", "role "+name, func(pol string) (*string, error) {
					out, err := f.caller.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &name, PolicyName: &pol})
					if err != nil {
						return nil, entityError("role", name, "iam:GetRolePolicy", err)
					}
					return out.PolicyDocument, nil
				})
			} else {
				err = entityError("role", name, "iam:ListRolePolicies", err)
			}
			return f.tolerate(err, policy.LayerIdentity, "the inline policies of role "+name)
		})
		g.Go(func() error {
			attached, err := allPages(ctx, f.lim, iam.NewListAttachedRolePoliciesPaginator(f.caller.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: &name, MaxItems: aws.Int32(listPageSize)}),
				func(o *iam.ListAttachedRolePoliciesOutput) []iamtypes.AttachedPolicy { return o.AttachedPolicies })
			if err == nil {
				managed, err = f.attachedPolicies(ctx, "role "+name, "", attached)
			} else {
				err = entityError("role", name, "iam:ListAttachedRolePolicies", err)
			}
			return f.tolerate(err, policy.LayerIdentity, "the managed policies attached to role "+name)
		})
	}
	if err := g.Wait(); err != nil {
		return identity{}, err
	}
	id.policies = readPolicies(append(inline, managed...))
	return id, nil
}

// fetchUser reads a user and, when withPolicies is set, its inline and
// attached policies, its boundary, and the inline and attached policies of
// every group it belongs to (group policies apply to their members). A
// refused read becomes unreadable evidence, as for a role.
func (f *fetcher) fetchUser(ctx context.Context, name string, withPolicies bool, onUser func(identity)) (identity, error) {
	var (
		id                          identity
		inline, managed, fromGroups []evidence.NamedPolicy
		g                           group
	)
	g.Go(func() error {
		out, err := do(ctx, f.lim, unlocks, func() (*iam.GetUserOutput, error) {
			return f.caller.IAM.GetUser(ctx, &iam.GetUserInput{UserName: &name})
		})
		if err != nil {
			err = entityError("user", name, "iam:GetUser", err)
			if withPolicies {
				return f.tolerate(err, policy.LayerPermissionsBoundary, "user "+name+" (its permissions boundary, path and tags)")
			}
			return err
		}
		id.arn, id.path, id.tags = aws.ToString(out.User.Arn), aws.ToString(out.User.Path), tagMap(out.User.Tags)
		if onUser != nil {
			onUser(id)
		}
		if withPolicies {
			id.boundary, err = f.boundary(ctx, out.User.PermissionsBoundary, "user "+name)
		}
		return err
	})
	if withPolicies {
		g.Go(func() error {
			names, err := allPages(ctx, f.lim, iam.NewListUserPoliciesPaginator(f.caller.IAM, &iam.ListUserPoliciesInput{UserName: &name, MaxItems: aws.Int32(listPageSize)}),
				func(o *iam.ListUserPoliciesOutput) []string { return o.PolicyNames })
			if err == nil {
				inline, err = f.inlinePolicies(ctx, names, "", "iam:GetUserPolicy", "user "+name, func(pol string) (*string, error) {
					out, err := f.caller.IAM.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: &name, PolicyName: &pol})
					if err != nil {
						return nil, entityError("user", name, "iam:GetUserPolicy", err)
					}
					return out.PolicyDocument, nil
				})
			} else {
				err = entityError("user", name, "iam:ListUserPolicies", err)
			}
			return f.tolerate(err, policy.LayerIdentity, "the inline policies of user "+name)
		})
		g.Go(func() error {
			attached, err := allPages(ctx, f.lim, iam.NewListAttachedUserPoliciesPaginator(f.caller.IAM, &iam.ListAttachedUserPoliciesInput{UserName: &name, MaxItems: aws.Int32(listPageSize)}),
				func(o *iam.ListAttachedUserPoliciesOutput) []iamtypes.AttachedPolicy { return o.AttachedPolicies })
			if err == nil {
				managed, err = f.attachedPolicies(ctx, "user "+name, "", attached)
			} else {
				err = entityError("user", name, "iam:ListAttachedUserPolicies", err)
			}
			return f.tolerate(err, policy.LayerIdentity, "the managed policies attached to user "+name)
		})
		g.Go(func() (err error) {
			fromGroups, err = f.userGroupPolicies(ctx, name)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return identity{}, err
	}
	id.policies = readPolicies(append(append(inline, managed...), fromGroups...))
	return id, nil
}

// userGroupPolicies reads the policies of each of the user's groups,
// labelled "group/NAME/POLICY", in the order IAM lists the groups.
func (f *fetcher) userGroupPolicies(ctx context.Context, user string) ([]evidence.NamedPolicy, error) {
	groups, err := allPages(ctx, f.lim, iam.NewListGroupsForUserPaginator(f.caller.IAM, &iam.ListGroupsForUserInput{UserName: &user, MaxItems: aws.Int32(listPageSize)}),
		func(o *iam.ListGroupsForUserOutput) []iamtypes.Group { return o.Groups })
	if err != nil {
		return nil, f.tolerate(entityError("user", user, "iam:ListGroupsForUser", err), policy.LayerIdentity, "the groups of user "+user+" (their policies)")
	}
	perGroup := make([][]evidence.NamedPolicy, len(groups))
	var g group
	for i, gr := range groups {
		name := aws.ToString(gr.GroupName)
		label := "group/" + name + "/"
		var inline, managed []evidence.NamedPolicy
		var sub group
		sub.Go(func() error {
			names, err := allPages(ctx, f.lim, iam.NewListGroupPoliciesPaginator(f.caller.IAM, &iam.ListGroupPoliciesInput{GroupName: &name, MaxItems: aws.Int32(listPageSize)}),
				func(o *iam.ListGroupPoliciesOutput) []string { return o.PolicyNames })
			if err == nil {
				inline, err = f.inlinePolicies(ctx, names, label, "iam:GetGroupPolicy", "group "+name, func(pol string) (*string, error) {
					out, err := f.caller.IAM.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: &name, PolicyName: &pol})
					if err != nil {
						return nil, entityError("group", name, "iam:GetGroupPolicy", err)
					}
					return out.PolicyDocument, nil
				})
			} else {
				err = entityError("group", name, "iam:ListGroupPolicies", err)
			}
			return f.tolerate(err, policy.LayerIdentity, "the inline policies of group "+name)
		})
		sub.Go(func() error {
			attached, err := allPages(ctx, f.lim, iam.NewListAttachedGroupPoliciesPaginator(f.caller.IAM, &iam.ListAttachedGroupPoliciesInput{GroupName: &name, MaxItems: aws.Int32(listPageSize)}),
				func(o *iam.ListAttachedGroupPoliciesOutput) []iamtypes.AttachedPolicy { return o.AttachedPolicies })
			if err == nil {
				managed, err = f.attachedPolicies(ctx, "group "+name, label, attached)
			} else {
				err = entityError("group", name, "iam:ListAttachedGroupPolicies", err)
			}
			return f.tolerate(err, policy.LayerIdentity, "the managed policies attached to group "+name)
		})
		g.Go(func() error {
			if err := sub.Wait(); err != nil {
				return err
			}
			perGroup[i] = append(inline, managed...)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(perGroup...), nil
}

// pager is what the SDK's IAM paginators have in common.
type pager[O any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*iam.Options)) (O, error)
}

// allPages collects the items of every page, each page one call under the
// limiter.
func allPages[O, T any](ctx context.Context, lim *limiter, p pager[O], items func(O) []T) ([]T, error) {
	var all []T
	for p.HasMorePages() {
		out, err := do(ctx, lim, unlocks, func() (O, error) { return p.NextPage(ctx) })
		if err != nil {
			return nil, err
		}
		all = append(all, items(out)...)
	}
	return all, nil
}

// inlinePolicies reads the named inline policies concurrently, keeping the
// order IAM listed them in. label prefixes each name ("group/NAME/").
func (f *fetcher) inlinePolicies(ctx context.Context, names []string, label, action, owner string, get func(name string) (*string, error)) ([]evidence.NamedPolicy, error) {
	out := make([]evidence.NamedPolicy, len(names))
	var g group
	for i, name := range names {
		g.Go(func() error {
			raw, err := do(ctx, f.lim, leaf, func() (*string, error) { return get(name) })
			if err != nil {
				return f.tolerate(err, policy.LayerIdentity, fmt.Sprintf("inline policy %s of %s", name, owner))
			}
			doc, err := decodeDocument(aws.ToString(raw))
			if err != nil {
				return &CallError{Action: action, Resource: fmt.Sprintf("inline policy %s of %s", name, owner), Err: err}
			}
			out[i] = evidence.NamedPolicy{Name: label + name, Document: doc}
			return nil
		})
	}
	return out, g.Wait()
}

// attachedPolicies reads each attached managed policy's default version,
// keeping the listed order.
func (f *fetcher) attachedPolicies(ctx context.Context, owner, label string, attached []iamtypes.AttachedPolicy) ([]evidence.NamedPolicy, error) {
	out := make([]evidence.NamedPolicy, len(attached))
	var g group
	for i, a := range attached {
		g.Go(func() error {
			p, err := f.managedPolicy(ctx, aws.ToString(a.PolicyArn))
			if err != nil {
				return f.tolerate(err, policy.LayerIdentity, fmt.Sprintf("managed policy %s attached to %s", aws.ToString(a.PolicyArn), owner))
			}
			p.Name = label + p.Name
			out[i] = p
			return nil
		})
	}
	return out, g.Wait()
}

// boundary reads the permissions boundary policy, nil when there is none.
func (f *fetcher) boundary(ctx context.Context, b *iamtypes.AttachedPermissionsBoundary, owner string) (*evidence.NamedPolicy, error) {
	if b == nil || aws.ToString(b.PermissionsBoundaryArn) == "" {
		return nil, nil
	}
	p, err := f.managedPolicy(ctx, *b.PermissionsBoundaryArn)
	if err != nil {
		err = fmt.Errorf("permissions boundary of %s: %w", owner, err)
		return nil, f.tolerate(err, policy.LayerPermissionsBoundary, fmt.Sprintf("the permissions boundary %s of %s", aws.ToString(b.PermissionsBoundaryArn), owner))
	}
	return &p, nil
}

// entityError turns IAM's NoSuchEntity into a NotFoundError for the
// caller's entity, and anything else into a CallError.
func entityError(kind, name, action string, err error) error {
	if isNotFound(err) {
		return &NotFoundError{Arg: "caller", Kind: kind, Name: name, Err: err}
	}
	return callError(action, kind+" "+name, err)
}

func tagMap(tags []iamtypes.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
