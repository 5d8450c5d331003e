package awsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// scpType is the policy type of service control policies.
const scpType = orgtypes.PolicyTypeServiceControlPolicy

// maxOrgLevels bounds the walk up the tree: an organization nests OUs at
// most five deep under the root (AWS Organizations quotas), so a longer
// chain means an answer that makes no sense.
const maxOrgLevels = 7

// maxPrefetchedSCPs is how many of the organization's SCPs are read ahead,
// in the round after ListPolicies answers, before the walk up the tree
// says which of them govern the account: for an organization with this
// many or fewer, DescribePolicy never waits for the walk, and the walk
// alone sets the depth.
const maxPrefetchedSCPs = 10

// orgReads says what readOrganization reads.
type orgReads struct {
	// account is the caller's account, published once known (the
	// argument's ARN, GetFunctionConfiguration, GetRole or GetUser); it
	// is never set for a service or anonymous caller.
	account *future[string]
	// resolved is closed when the caller is resolved, so that a caller
	// without an account stops the walk.
	resolved <-chan struct{}
	// chain: walk the caller's account up to the root and read its SCPs
	// (false for a service principal or an anonymous caller, whom SCPs
	// do not govern).
	chain bool
	// messageSCP is a policy ID from a pasted message, read directly
	// when the chain cannot be.
	messageSCP string
}

// orgReader reads the organization that governs the caller's account: its
// ID and management account with organizations:DescribeOrganization (which
// any member account may call, with the caller-side credentials), then,
// with the credentials that may read policies (--org-profile, by default
// the caller's), ListParents from the account up to the root,
// ListPoliciesForTarget (SERVICE_CONTROL_POLICY) at every level, and
// DescribePolicy for each document. Every read starts as soon as its input
// is known: the root with ListRoots and the organization's SCPs with
// ListPolicies in the first round, each level's policies as soon as the
// walk names the level.
type orgReader struct {
	f       *fetcher
	member  OrganizationsAPI
	reader  OrganizationsAPI
	profile string

	mu       sync.Mutex
	policies map[string]*once[evidence.OrgPolicy]
	parents  map[string]*once[orgtypes.Parent]
	tree     tree
}

// tree is where the organization's SCPs are attached, when it has few
// (ListPolicies, then ListTargetsForPolicy for each, in the round after):
// every level's SCPs are then known without ListPoliciesForTarget, and so
// is every OU (AWS keeps at least one SCP attached to each), whose parents
// are asked all at once, in the next round. The walk up from the account
// then finds each parent already asked: its depth no longer grows with the
// nesting of OUs. A long list (more SCPs than maxPrefetchedSCPs, or a
// policy attached to more targets than one page holds, as FullAWSAccess is
// in a large organization) leaves the walk to ask level by level.
type tree struct {
	done chan struct{}
	// ok: attached and names are complete.
	ok       bool
	attached map[string][]string // target ID -> SCP IDs
	names    map[string]string   // OU ID -> name
}

// maxPrefetchedOUs bounds the OUs whose parents are asked ahead of the
// walk.
const maxPrefetchedOUs = 20

// organizationEvidence is what readOrganization found.
type organizationEvidence struct {
	org *evidence.Organization
	// account is the caller's account, when known.
	account string
}

func (f *fetcher) readOrganization(ctx context.Context, reads orgReads) (organizationEvidence, error) {
	if f.caller.Organizations == nil {
		return organizationEvidence{}, nil
	}
	r := &orgReader{f: f, member: f.caller.Organizations, reader: f.org.Organizations, profile: f.org.Profile,
		policies: map[string]*once[evidence.OrgPolicy]{}, parents: map[string]*once[orgtypes.Parent]{}, tree: tree{done: make(chan struct{})}}
	if r.reader == nil {
		r.reader = r.member
	}
	var (
		g       group
		desc    *orgtypes.Organization
		descErr error
		root    = newFuture[string]()
	)
	described := make(chan struct{})
	g.Go(func() error {
		defer close(described)
		out, err := do(ctx, f.lim, unlocks, func() (*organizations.DescribeOrganizationOutput, error) {
			return r.member.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		})
		if err == nil {
			desc = out.Organization
		}
		descErr = err
		return nil
	})
	if !reads.chain {
		_ = g.Wait()
		return r.settle(ctx, desc, descErr, nil, nil, "", reads)
	}
	g.Go(func() error {
		defer root.set("")
		out, err := do(ctx, f.lim, unlocks, func() (*organizations.ListRootsOutput, error) {
			return r.reader.ListRoots(ctx, &organizations.ListRootsInput{})
		})
		// A refused ListRoots only costs the head start on the root's
		// policies: the walk reaches the root anyway.
		if err != nil {
			return nil
		}
		if len(out.Roots) > 0 {
			root.set(aws.ToString(out.Roots[0].Id))
		}
		return nil
	})
	g.Go(func() error {
		r.prefetch(ctx)
		return nil
	})
	var (
		account string
		levels  []evidence.OrgLevel
		walkErr error
	)
	g.Go(func() error {
		acct, ok := reads.account.wait(reads.resolved)
		if !ok || acct == "" {
			return nil
		}
		account = acct
		// The walk waits for DescribeOrganization: an account in no
		// organization (or credentials refused even that) has no tree to
		// climb. It has answered by the time a caller given by name has
		// an account (both take the first round); only a caller given by
		// ARN waits for it.
		<-described
		if descErr != nil {
			return nil
		}
		levels, walkErr = r.walk(ctx, acct, root)
		return nil
	})
	_ = g.Wait()
	return r.settle(ctx, desc, descErr, levels, walkErr, account, reads)
}

// settle turns the answers into evidence: an account in no organization,
// an organization whose policies were read, or one whose policies could
// not be (then the verdict falls back on the simulator and says which
// permission, in which account, would read them).
func (r *orgReader) settle(ctx context.Context, desc *orgtypes.Organization, descErr error, levels []evidence.OrgLevel, walkErr error, account string, reads orgReads) (organizationEvidence, error) {
	out := organizationEvidence{account: account}
	if _, ok := errors.AsType[*orgtypes.AWSOrganizationsNotInUseException](descErr); ok {
		// "Your account is not a member of an organization": no SCP
		// governs it, and its requests carry no organization keys.
		out.org = &evidence.Organization{None: true}
		return out, nil
	}
	if descErr != nil {
		ce := callError("organizations:DescribeOrganization", "the organization of the caller's account", descErr)
		if err := r.f.tolerate(ce, policy.LayerSCP, "the organization of the caller's account and its SCPs"); err != nil {
			return out, err
		}
		return out, nil
	}
	org := &evidence.Organization{ID: aws.ToString(desc.Id), ManagementAccountID: aws.ToString(desc.MasterAccountId)}
	org.ManagementAccount = account != "" && account == org.ManagementAccountID
	out.org = org
	if !reads.chain {
		return out, nil
	}
	if walkErr == nil && levels != nil {
		org.Levels = levels
		org.SCPs = make([][]json.RawMessage, len(levels))
		for i, l := range levels {
			org.SCPs[i] = make([]json.RawMessage, 0, len(l.SCPs))
			for j := range l.SCPs {
				org.SCPs[i] = append(org.SCPs[i], l.SCPs[j].Document)
				l.SCPs[j].Document = nil
			}
		}
		return out, nil
	}
	if walkErr == nil {
		return out, nil
	}
	var ce *CallError
	if !errors.As(walkErr, &ce) || !(ce.AccessDenied() || ce.notInOrganization()) {
		return out, walkErr
	}
	who := "the management account " + org.ManagementAccountID
	if org.ManagementAccountID == "" {
		who = "the management account"
	}
	what := fmt.Sprintf("the SCPs that govern account %s in organization %s (readable from %s or a delegated administrator for AWS Organizations: pass its profile with --org-profile)",
		account, org.ID, who)
	r.f.mu.Lock()
	r.f.unreadable = append(r.f.unreadable, evidence.Unreadable{Layer: policy.LayerSCP, What: what, Action: ce.Action, Error: apiErrorCode(ce.Err)})
	r.f.mu.Unlock()
	if reads.messageSCP != "" {
		p, err := r.describe(ctx, reads.messageSCP)
		if err == nil {
			org.MessageSCP = &p
		} else {
			r.f.note(fmt.Sprintf("the SCP %s named by the message could not be read (%s); from %s: aws organizations describe-policy --policy-id %s",
				reads.messageSCP, apiErrorCode(err), who, reads.messageSCP))
		}
	}
	return out, nil
}

// walk reads the chain from the account up to the root, each level's SCPs
// as soon as the level is known, and returns the levels root first.
func (r *orgReader) walk(ctx context.Context, account string, root *future[string]) ([]evidence.OrgLevel, error) {
	type found struct {
		level evidence.OrgLevel
		err   error
		done  chan struct{}
	}
	var chain []*found
	start := func(id string, typ orgtypes.TargetType) *found {
		fd := &found{level: evidence.OrgLevel{ID: id, Type: string(typ)}, done: make(chan struct{})}
		go func() {
			defer close(fd.done)
			var g group
			g.Go(func() error {
				ps, err := r.levelPolicies(ctx, id)
				fd.level.SCPs = ps
				return err
			})
			if name, ok := r.treeName(ctx, id); ok {
				fd.level.Name = name
			} else if typ == orgtypes.TargetTypeOrganizationalUnit {
				g.Go(func() error {
					out, err := do(ctx, r.f.lim, leaf, func() (*organizations.DescribeOrganizationalUnitOutput, error) {
						return r.reader.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(id)})
					})
					if err == nil && out.OrganizationalUnit != nil {
						fd.level.Name = aws.ToString(out.OrganizationalUnit.Name)
					}
					// The name is for the reader only: without it the
					// level is named by its ID.
					return nil
				})
			}
			fd.err = g.Wait()
		}()
		return fd
	}
	// The root's policies start as soon as ListRoots names it, while the
	// walk climbs towards it.
	early := make(chan *found, 1)
	go func() {
		id, _ := root.wait(ctx.Done())
		if id == "" {
			early <- nil
			return
		}
		early <- start(id, orgtypes.TargetTypeRoot)
	}()
	var rootFound *found
	chain = append(chain, start(account, orgtypes.TargetTypeAccount))
	child := account
	var walkErr error
	for range maxOrgLevels {
		p, err := r.parentOf(ctx, child)
		if err != nil {
			walkErr = err
			break
		}
		id := aws.ToString(p.Id)
		if p.Type == orgtypes.ParentTypeRoot {
			if rootFound = <-early; rootFound == nil || rootFound.level.ID != id {
				rootFound = start(id, orgtypes.TargetTypeRoot)
			}
			break
		}
		chain = append(chain, start(id, orgtypes.TargetTypeOrganizationalUnit))
		child = id
	}
	if walkErr == nil && rootFound == nil {
		walkErr = &CallError{Action: "organizations:ListParents", Resource: "the parents of " + account, Err: fmt.Errorf("no root within %d levels", maxOrgLevels)}
	}
	if rootFound != nil {
		chain = append(chain, rootFound)
	}
	levels := make([]evidence.OrgLevel, len(chain))
	for i, fd := range chain {
		<-fd.done
		if fd.err != nil && walkErr == nil {
			walkErr = fd.err
		}
		levels[len(chain)-1-i] = fd.level
	}
	if walkErr != nil {
		return nil, walkErr
	}
	return levels, nil
}

// levelPolicies lists the SCPs attached at one level and reads each.
func (r *orgReader) levelPolicies(ctx context.Context, target string) ([]evidence.OrgPolicy, error) {
	ids, ok := r.treeAttached(ctx, target)
	if !ok {
		var err error
		if ids, err = r.listPoliciesFor(ctx, target); err != nil {
			return nil, err
		}
	}
	out := make([]evidence.OrgPolicy, len(ids))
	var g group
	for i, id := range ids {
		g.Go(func() (err error) {
			out[i], err = r.describe(ctx, id)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// listPoliciesFor lists the SCPs attached to a target with
// ListPoliciesForTarget.
func (r *orgReader) listPoliciesFor(ctx context.Context, target string) ([]string, error) {
	var ids []string
	pages := organizations.NewListPoliciesForTargetPaginator(limited{r}, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(target), Filter: scpType})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, callError("organizations:ListPoliciesForTarget", "the SCPs attached to "+target, err)
		}
		for _, p := range page.Policies {
			ids = append(ids, aws.ToString(p.Id))
		}
	}
	return ids, nil
}

// parentOf reads a child's parent once per fetch: the walk and the tree's
// read ahead ask the same question.
func (r *orgReader) parentOf(ctx context.Context, child string) (orgtypes.Parent, error) {
	e, mine := onceFor(&r.mu, r.parents, child)
	if !mine {
		return e.wait(ctx)
	}
	defer close(e.done)
	out, err := do(ctx, r.f.lim, unlocks, func() (*organizations.ListParentsOutput, error) {
		return r.reader.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(child)})
	})
	switch {
	case err != nil:
		e.err = callError("organizations:ListParents", "the parents of "+child, err)
	case len(out.Parents) != 1:
		e.err = &CallError{Action: "organizations:ListParents", Resource: "the parents of " + child, Err: fmt.Errorf("expected one parent, got %d", len(out.Parents))}
	default:
		e.v = out.Parents[0]
	}
	return e.v, e.err
}

// treeAttached is the SCPs attached to a target as the tree says, once it
// is read; false when it could not be.
func (r *orgReader) treeAttached(ctx context.Context, target string) ([]string, bool) {
	select {
	case <-r.tree.done:
	case <-ctx.Done():
		return nil, false
	}
	if !r.tree.ok {
		return nil, false
	}
	return r.tree.attached[target], true
}

// treeName is an OU's name as the tree says (ListTargetsForPolicy names
// its targets); false when the tree could not be read.
func (r *orgReader) treeName(ctx context.Context, id string) (string, bool) {
	if _, ok := r.treeAttached(ctx, id); !ok {
		return "", false
	}
	name, ok := r.tree.names[id]
	return name, ok
}

// limited sends ListPoliciesForTarget through the fetch's limiter.
type limited struct{ r *orgReader }

func (l limited) ListPoliciesForTarget(ctx context.Context, in *organizations.ListPoliciesForTargetInput, optFns ...func(*organizations.Options)) (*organizations.ListPoliciesForTargetOutput, error) {
	return do(ctx, l.r.f.lim, unlocks, func() (*organizations.ListPoliciesForTargetOutput, error) {
		return l.r.reader.ListPoliciesForTarget(ctx, in, optFns...)
	})
}

// prefetch lists the organization's SCPs and, when there are few, reads
// them all at once and where each is attached (see tree), then asks every
// OU's parent. A refusal or a long list leaves each level to read its own.
func (r *orgReader) prefetch(ctx context.Context) {
	t := &r.tree
	closed := false
	finish := func(ok bool) {
		if !closed {
			t.ok, closed = ok, true
			close(t.done)
		}
	}
	defer finish(false)
	out, err := do(ctx, r.f.lim, unlocks, func() (*organizations.ListPoliciesOutput, error) {
		return r.reader.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: scpType, MaxResults: aws.Int32(maxPrefetchedSCPs)})
	})
	if err != nil || out.NextToken != nil || len(out.Policies) > maxPrefetchedSCPs {
		return
	}
	targets := make([][]orgtypes.PolicyTargetSummary, len(out.Policies))
	complete := true
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, p := range out.Policies {
		id := aws.ToString(p.Id)
		wg.Go(func() { _, _ = r.describe(ctx, id) })
		wg.Go(func() {
			page, err := do(ctx, r.f.lim, unlocks, func() (*organizations.ListTargetsForPolicyOutput, error) {
				return r.reader.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(id)})
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil || page.NextToken != nil {
				complete = false
				return
			}
			targets[i] = page.Targets
		})
	}
	wg.Wait()
	if !complete {
		return
	}
	t.attached, t.names = map[string][]string{}, map[string]string{}
	var ous []string
	for i, p := range out.Policies {
		for _, tg := range targets[i] {
			id := aws.ToString(tg.TargetId)
			t.attached[id] = append(t.attached[id], aws.ToString(p.Id))
			if tg.Type == orgtypes.TargetTypeOrganizationalUnit {
				if _, seen := t.names[id]; !seen {
					ous = append(ous, id)
				}
				t.names[id] = aws.ToString(tg.Name)
			}
		}
	}
	finish(true)
	if len(ous) > maxPrefetchedOUs {
		return
	}
	var parents sync.WaitGroup
	for _, ou := range ous {
		parents.Go(func() { _, _ = r.parentOf(ctx, ou) })
	}
	parents.Wait()
}

// describe reads one SCP once per fetch.
func (r *orgReader) describe(ctx context.Context, id string) (evidence.OrgPolicy, error) {
	e, mine := onceFor(&r.mu, r.policies, id)
	if !mine {
		return e.wait(ctx)
	}
	defer close(e.done)
	out, err := do(ctx, r.f.lim, leaf, func() (*organizations.DescribePolicyOutput, error) {
		return r.reader.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
	})
	if err != nil {
		e.err = callError("organizations:DescribePolicy", "SCP "+id, err)
		return e.v, e.err
	}
	if out.Policy == nil || out.Policy.PolicySummary == nil {
		e.err = &CallError{Action: "organizations:DescribePolicy", Resource: "SCP " + id, Err: errors.New("the answer holds no policy")}
		return e.v, e.err
	}
	doc, err := decodeDocument(aws.ToString(out.Policy.Content))
	if err != nil {
		e.err = &CallError{Action: "organizations:DescribePolicy", Resource: "SCP " + id, Err: err}
		return e.v, e.err
	}
	s := out.Policy.PolicySummary
	e.v = evidence.OrgPolicy{Name: aws.ToString(s.Name), ID: aws.ToString(s.Id), ARN: aws.ToString(s.Arn), Document: doc}
	return e.v, nil
}

// describeTargetOrganization asks the function's side which organization
// its account is in: nil when it cannot say (refused, failed).
func (f *fetcher) describeTargetOrganization(ctx context.Context) *evidence.Organization {
	out, err := do(ctx, f.lim, leaf, func() (*organizations.DescribeOrganizationOutput, error) {
		return f.target.Organizations.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	})
	if _, ok := errors.AsType[*orgtypes.AWSOrganizationsNotInUseException](err); ok {
		return &evidence.Organization{None: true}
	}
	if err != nil || out.Organization == nil {
		return nil
	}
	return &evidence.Organization{ID: aws.ToString(out.Organization.Id)}
}

// notInOrganization reports an answer that says the account read is not in
// the organization these credentials read (AccountNotFoundException,
// TargetNotFoundException, ChildNotFoundException): the --org-profile
// belongs to another organization, or to a member account.
func (e *CallError) notInOrganization() bool {
	code := apiErrorCode(e.Err)
	return code == "AccountNotFoundException" || code == "TargetNotFoundException" || code == "ChildNotFoundException" ||
		strings.HasPrefix(code, "AWSOrganizationsNotInUse")
}
