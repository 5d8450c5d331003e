package awsclient

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// DefaultAction is the action diagnosed when a Request names none.
const DefaultAction = "lambda:InvokeFunction"

// Request is what FetchEvidence reads evidence for: the CALLER and TARGET
// arguments as the user typed them, the action and the request context.
type Request struct {
	Caller string
	Target string
	// Action defaults to DefaultAction.
	Action string
	// Context holds condition keys given by the user (--context,
	// --source-arn, --source-account); it is copied into the evidence as is.
	Context evidence.ContextValues
	// At is the moment the call is diagnosed for (--at): it becomes
	// request.at, and aws:CurrentTime and aws:EpochTime for the simulator.
	// Nil means the time of the diagnosis.
	At *time.Time
	// Simulate also asks iam:SimulatePrincipalPolicy, started as soon as its
	// inputs are known. Its answer goes into Evidence.Simulation, or why
	// there is none into Evidence.SimulatorUnavailable: the simulator is
	// optional evidence and its failure is not an error.
	Simulate bool
	// MessageSCP is the SCP ARN (or ID) a pasted AccessDenied message ends
	// with: read with organizations:DescribePolicy when the chain of SCPs
	// cannot be, so that the verdict can name its statement.
	MessageSCP string
}

// FetchEvidence resolves the caller and the target and reads every policy
// that applies, returning them as evidence for diagnose. It reads with
// read-only calls and starts each one as soon as its inputs are known, so
// that the diagnosis takes the fewest sequential round trips its
// dependencies allow, whatever the number of policies and groups:
//
//   - function caller, 3: GetFunctionConfiguration; GetRole and the role's
//     policy lists; the policy documents and the simulator (which needs the
//     role's tags).
//   - role caller, 2: GetRole and its lists; the documents and the
//     simulator.
//   - user caller, 3: GetUser, its lists and ListGroupsForUser; the user's
//     documents, the group lists and the simulator (which needs the
//     resource policy); the group documents.
//
// The default versions of managed policies come from one iam:ListPolicies
// in the first round (see managedPolicy). The target side runs alongside:
// GetFunctionConfiguration with GetPolicy (or, for a target given as an
// ARN, GetResourcePolicy, after which GetPolicy is needed only if it did
// not answer), then GetResourcePolicy and the execution role.
//
// The organization runs alongside too (see readOrganization):
// DescribeOrganization, ListRoots and ListPolicies in the first round, the
// walk up from the caller's account once the account is known; in an
// organization of up to ten SCPs it adds no round at any nesting.
//
// With req.Simulate it runs the simulator too, as soon as its inputs are
// known; see Simulate.
func (c *Client) FetchEvidence(ctx context.Context, req Request) (*evidence.Evidence, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	cref, err := parseCaller(req.Caller)
	if err != nil {
		return nil, err
	}
	tref, err := parseTarget(req.Target)
	if err != nil {
		return nil, err
	}
	action := actionOrDefault(req.Action)

	f := c.newFetcher()
	f.callerAccount = newFuture[string]()
	if cref.account != "" {
		f.callerAccount.set(cref.account)
	}
	if slices.Contains([]CallerKind{FunctionCaller, RoleCaller, SessionCaller, UserCaller}, cref.kind) {
		f.listVersions(ctx)
	}
	var (
		caller Caller
		id     identity
		target targetEvidence
		g      group
		ev     *evidence.Evidence
	)
	var simDone chan simOutcome
	fetched := make(chan struct{})
	if req.Simulate {
		f.early = newEarly()
		if tref.arnKnown() {
			// The resource ARN is in the argument: the simulator need not
			// wait for GetFunctionConfiguration (which still proves the
			// function exists; the fetch fails if it does not).
			f.early.announceTarget(tref.target(c.target.Region))
		}
		simDone = make(chan simOutcome, 1)
		go func() {
			simDone <- c.simulateEarly(ctx, f.early, req, fetched, func() *evidence.Evidence { return ev })
		}()
	}
	resolved := make(chan struct{})
	g.Go(func() (err error) {
		caller, id, err = f.resolveCaller(ctx, cref, true)
		f.announceAccount(caller.Account)
		close(resolved)
		return err
	})
	// The organization: its ID and management account at once, the walk up
	// from the caller's account as soon as the account is known. SCPs do
	// not govern service principals or anonymous callers, whose requests
	// still carry the function's organization (aws:ResourceOrgID).
	var org organizationEvidence
	g.Go(func() (err error) {
		org, err = f.readOrganization(ctx, orgReads{
			account: f.callerAccount, resolved: resolved,
			chain:      !slices.Contains([]CallerKind{ServiceCaller, AnonymousCaller}, cref.kind),
			messageSCP: policyID(req.MessageSCP),
		})
		return err
	})
	g.Go(func() (err error) {
		target, err = f.targetEvidence(ctx, tref, targetReads{
			url: strings.EqualFold(action, "lambda:InvokeFunctionUrl"),
			// The execution role is read alongside the resource policy, in
			// the round that follows GetFunctionConfiguration: free unless
			// that round would otherwise not happen (a full target ARN and a
			// caller with no IAM reads).
			role: !tref.arnKnown() || !slices.Contains([]CallerKind{ServiceCaller, AnonymousCaller, FederatedCaller}, cref.kind),
		})
		return err
	})
	// A function read with other credentials (--target-profile) may be in
	// another organization: DescribeOrganization there names it
	// (aws:ResourceOrgID), in the first round.
	var targetOrg *evidence.Organization
	if !c.shared && c.target.Organizations != nil {
		g.Go(func() error {
			targetOrg = f.describeTargetOrganization(ctx)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		close(fetched)
		return nil, c.timedOut(err)
	}

	ev = &evidence.Evidence{
		Version: evidence.Version,
		Request: evidence.Request{
			Caller:   caller.Principal,
			Action:   action,
			Resource: target.fn.ResourceARN(),
			Context:  copyContext(req.Context),
			At:       req.At,
		},
		Caller: evidence.Caller{
			ARN:                 caller.ARN,
			Account:             caller.Account,
			IdentityPolicies:    nonNil(id.policies),
			PermissionsBoundary: id.boundary,
			SessionPolicies:     []evidence.NamedPolicy{},
			Tags:                id.tags,
			ServiceLinkedRole:   strings.HasPrefix(id.path, "/aws-service-role/"),
			AsSessionOf:         caller.AsSessionOf,
		},
		Target: evidence.Target{
			ARN:                  target.fn.FunctionARN,
			Account:              target.fn.Account,
			ResourcePolicy:       target.policy,
			FunctionURLAuthType:  target.urlAuthType,
			NoFunctionURL:        target.noURL,
			MissingExecutionRole: target.missingRole,
			Tags:                 target.tags,
		},
	}
	ev.Organization = org.org
	setTargetOrganization(ev, org, c.shared || caller.Account == target.fn.Account)
	if t := targetOrg; t != nil && ev.Target.OrgID == "" && !ev.Target.NoOrganization {
		ev.Target.OrgID, ev.Target.NoOrganization = t.ID, t.None
	}
	ev.Unreadable = f.unreadable
	ev.Notes = append(ev.Notes, f.notes...)
	if n := f.versionsNote(); n != "" {
		ev.Notes = append(ev.Notes, n)
	}
	switch caller.Kind {
	case RoleCaller:
		ev.Notes = append(ev.Notes, "diagnosed as a session of "+caller.AsSessionOf+" named "+SessionName+
			" without a session policy: a role calls nothing itself, its sessions do")
	case FederatedCaller:
		// GetFederationToken's caller and its session policy are recorded
		// nowhere IAM can read: the session's permissions (the user's
		// policies intersected with the session policy) are not known.
		ev.Caller.SessionPoliciesUnknown = true
		ev.Unreadable = append(ev.Unreadable, evidence.Unreadable{
			Layer: policy.LayerIdentity,
			What:  "the IAM user behind federated user " + caller.Name + " (who called sts:GetFederationToken) and its policies",
		}, evidence.Unreadable{
			Layer: policy.LayerPermissionsBoundary,
			What:  "the permissions boundary of the IAM user behind federated user " + caller.Name,
		})
		ev.Notes = append(ev.Notes, "the IAM user behind "+caller.Principal+" is recorded only in CloudTrail (the sts:GetFederationToken event): IAM cannot name it")
	}
	close(fetched)
	if !req.Simulate {
		ev.SimulatorUnavailable = "--no-simulate was given"
	}
	if simDone != nil {
		out := <-simDone
		var simErr *SimulatorError
		switch {
		case out.err == nil:
			ev.Simulation = out.sim
		case errors.As(out.err, &simErr):
			ev.SimulatorUnavailable = simErr.Error()
		default:
			return nil, out.err
		}
	}
	if caller.Kind == SessionCaller || caller.Kind == FederatedCaller {
		// Session policies are passed to sts:AssumeRole or
		// GetFederationToken and stored nowhere IAM can read them back.
		ev.Notes = append(ev.Notes, "session policies of "+caller.Principal+" cannot be read from the account")
		ev.Caller.SessionPoliciesUnknown = true
	}
	return ev, nil
}

// setTargetOrganization gives the function's account its organization
// (aws:ResourceOrgID, aws:ResourceOrgPaths) when it is the caller's
// account: the one organization that was read. A function in another
// account keeps its organization keys unknown.
func setTargetOrganization(ev *evidence.Evidence, org organizationEvidence, sameAccount bool) {
	o := org.org
	if o == nil || !sameAccount || (org.account != "" && org.account != ev.Target.Account) {
		return
	}
	if o.None {
		ev.Target.NoOrganization = true
		return
	}
	ev.Target.OrgID = o.ID
	ev.Target.OrgPath = o.OrgPath()
}

// policyID is the policy ID at the end of an SCP ARN
// (arn:aws:organizations::ACCOUNT:policy/o-xxxx/service_control_policy/p-xxxx),
// or the ID itself; "" for anything else.
func policyID(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		if !strings.Contains(s, "service_control_policy/") {
			return ""
		}
		s = s[i+1:]
	}
	if !strings.HasPrefix(s, "p-") {
		return ""
	}
	return s
}

// targetEvidence is what the target side reads.
type targetEvidence struct {
	fn          Target
	policy      *evidence.NamedPolicy
	urlAuthType string
	// noURL: GetFunctionUrlConfig answered ResourceNotFound.
	noURL bool
	// missingRole is the execution role's ARN when GetRole answered
	// NoSuchEntity.
	missingRole string
	// tags are the function's tags (lambda:ListTags), nil when not read.
	tags map[string]string
}

// targetReads are the optional reads of the target side.
type targetReads struct {
	// url reads the function URL's configuration.
	url bool
	// role reads the execution role, to tell a function that cannot run.
	role bool
}

// targetEvidence reads the function configuration and, concurrently, the
// resource policy for the requested qualifier (and the function URL config
// when reads.url). Lambda keeps a separate policy per version and alias,
// so the qualifier goes to GetPolicy too.
//
// The full policy (lambda:GetResourcePolicy) needs the qualified ARN: for
// a target given as an ARN it is read in the first round, and GetPolicy
// only when it did not answer; for a target given by name it is read once
// GetFunctionConfiguration has named the ARN, and GetPolicy in the first
// round, so that its answer is at hand whichever of the two answers.
func (f *fetcher) targetEvidence(ctx context.Context, ref functionRef, reads targetReads) (targetEvidence, error) {
	side := f.target
	var (
		te targetEvidence
		g  group
		// full is GetResourcePolicy's answer; permissions GetPolicy's, and
		// refused its refusal, which matters only when there is no full
		// answer.
		full, permissions *evidence.NamedPolicy
		refused           error
		policyReads       sync.WaitGroup
	)
	getPolicy := func() error {
		var err error
		permissions, refused, err = f.functionPolicy(ctx, side, ref)
		return err
	}
	policyReads.Add(1)
	if ref.arnKnown() {
		g.Go(func() error {
			defer policyReads.Done()
			if full = f.fullResourcePolicy(ctx, side, ref, ref.target(side.Region).ResourceARN()); full != nil {
				return nil
			}
			return getPolicy()
		})
	} else {
		policyReads.Add(1)
		g.Go(func() error {
			defer policyReads.Done()
			return getPolicy()
		})
	}
	g.Go(func() error {
		fullRead := false
		defer func() {
			if !fullRead && !ref.arnKnown() {
				policyReads.Done()
			}
		}()
		var role string
		var err error
		te.fn, role, err = f.functionConfig(ctx, side, ref)
		if err != nil {
			return err
		}
		f.early.announceTarget(te.fn)
		var sub group
		if !ref.arnKnown() {
			fullRead = true
			sub.Go(func() error {
				defer policyReads.Done()
				full = f.fullResourcePolicy(ctx, side, ref, te.fn.ResourceARN())
				return nil
			})
		}
		if reads.role {
			sub.Go(func() error {
				te.missingRole = f.missingRole(ctx, role)
				return nil
			})
		}
		// The tags decide nothing; they say how the function was deployed
		// (aws:cloudformation:logical-id, SAM's lambda:createdBy), so that
		// a fix is shown in that form. In the same round as the reads
		// above: no deeper. A refused read leaves them out.
		sub.Go(func() error {
			te.tags = f.functionTags(ctx, side, ref, te.fn.FunctionARN)
			return nil
		})
		return sub.Wait()
	})
	// The resource policy is settled when its reads are: GetResourcePolicy
	// wins where it answered (it returns the whole JSON policy, Deny
	// statements and any condition included; GetPolicy the permissions
	// added with AddPermission), and a refused GetPolicy leaves nothing
	// unread then.
	var settleErr error
	g.Go(func() error {
		policyReads.Wait()
		te.policy = cmp.Or(full, permissions)
		if full == nil {
			settleErr = f.tolerate(refused, policy.LayerResource, "the resource policy of function "+ref.display())
		}
		f.early.announcePolicy(te.policy)
		return settleErr
	})
	if reads.url {
		g.Go(func() error {
			name, qualifier := ref.apiParams(side.Region)
			out, err := do(ctx, f.lim, leaf, func() (*lambda.GetFunctionUrlConfigOutput, error) {
				return side.Lambda.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: name, Qualifier: qualifier}, inRegion(side, ref))
			})
			if isNotFound(err) {
				// No URL for this qualifier (a missing function is
				// reported by GetFunctionConfiguration).
				te.noURL = true
				f.early.announceURL("")
				return nil
			}
			if err != nil {
				return callError("lambda:GetFunctionUrlConfig", "function URL of "+ref.display(), err)
			}
			te.urlAuthType = string(out.AuthType)
			f.early.announceURL(te.urlAuthType)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return targetEvidence{}, err
	}
	return te, nil
}

// functionPolicy reads the permissions of the function's resource policy
// with lambda:GetPolicy: nil when there are none (404), and the refusal
// apart, since GetResourcePolicy may have answered instead.
func (f *fetcher) functionPolicy(ctx context.Context, side Side, ref functionRef) (*evidence.NamedPolicy, error, error) {
	name, qualifier := ref.apiParams(side.Region)
	out, err := do(ctx, f.lim, leaf, func() (*lambda.GetPolicyOutput, error) {
		return side.Lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: name, Qualifier: qualifier}, inRegion(side, ref))
	})
	if isNotFound(err) {
		// 404 means the function (or qualifier) has no resource policy;
		// a missing function is reported by GetFunctionConfiguration.
		return nil, nil, nil
	}
	if err != nil {
		return nil, callError("lambda:GetPolicy", "resource policy of function "+ref.display(), err), nil
	}
	doc, err := decodeDocument(aws.ToString(out.Policy))
	if err != nil {
		return nil, nil, &CallError{Action: "lambda:GetPolicy", Resource: "resource policy of function " + ref.display(), Err: err}
	}
	return &evidence.NamedPolicy{Name: ref.display(), Document: doc}, nil, nil
}

// missingRole reads the target function's execution role and returns its
// ARN when IAM answers that it does not exist: the function cannot run.
// Any other answer, a refusal included, says nothing about the call and
// leaves it "".
func (f *fetcher) missingRole(ctx context.Context, roleARN string) string {
	a, ok := parseARN(roleARN)
	_, name, isRole := parseEntityPath(a.Resource)
	if !ok || !isRole {
		return ""
	}
	_, err := f.getRole(ctx, true, name, leaf)
	if isNotFound(err) {
		return roleARN
	}
	return ""
}

// fullResourcePolicy reads the function's resource-based policy with the
// newer lambda:GetResourcePolicy, for the qualified ARN called. Accounts and
// endpoints that do not offer it, or refuse it, leave GetPolicy's answer to
// stand: this read never fails the diagnosis.
func (f *fetcher) fullResourcePolicy(ctx context.Context, side Side, ref functionRef, arn string) *evidence.NamedPolicy {
	out, err := do(ctx, f.lim, unlocks, func() (*lambda.GetResourcePolicyOutput, error) {
		return side.Lambda.GetResourcePolicy(ctx, &lambda.GetResourcePolicyInput{ResourceArn: aws.String(arn)}, inRegion(side, ref))
	})
	if err != nil || aws.ToString(out.Policy) == "" {
		return nil
	}
	doc, err := decodeDocument(aws.ToString(out.Policy))
	if err != nil {
		return nil
	}
	return &evidence.NamedPolicy{Name: ref.display(), Document: doc}
}

// actionOrDefault trims the action and defaults it to DefaultAction.
func actionOrDefault(action string) string {
	return cmp.Or(strings.TrimSpace(action), DefaultAction)
}

func copyContext(c evidence.ContextValues) evidence.ContextValues {
	if len(c) == 0 {
		return nil
	}
	out := make(evidence.ContextValues, len(c))
	for k, v := range maps.All(c) {
		out[k] = slices.Clone(v)
	}
	return out
}

func nonNil(p []evidence.NamedPolicy) []evidence.NamedPolicy {
	if p == nil {
		return []evidence.NamedPolicy{}
	}
	return p
}

// functionTags reads a function's tags with lambda:ListTags, or nil when
// it cannot: they only choose the form a fix is shown in.
func (f *fetcher) functionTags(ctx context.Context, side Side, ref functionRef, functionARN string) map[string]string {
	out, err := do(ctx, f.lim, leaf, func() (*lambda.ListTagsOutput, error) {
		return side.Lambda.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String(functionARN)}, inRegion(side, ref))
	})
	if err != nil || len(out.Tags) == 0 {
		return nil
	}
	return out.Tags
}
