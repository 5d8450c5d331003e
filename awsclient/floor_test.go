package awsclient

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// fakeAccount is an account of any size in which every call takes latency.
// It records each call's operation, parameters and interval, so that a test
// can read how many sequential rounds a fetch took (the longest chain of
// calls each starting after the previous one ended), how many calls were
// in flight at once, and whether a call was made twice. A read of something
// the account does not hold answers NoSuchEntity or ResourceNotFound.
type fakeAccount struct {
	latency time.Duration
	// fullPolicy, when set, is what GetResourcePolicy answers for every
	// function; otherwise it answers ResourceNotFound, as moto does.
	fullPolicy string

	roles     map[string]fakeEntity // by name
	users     map[string]fakeEntity
	groups    map[string]fakeEntity
	functions map[string]string // name -> execution role name
	managed   map[string]int    // policy name -> versions (the last is the default)
	boundary  map[string]string // role or user name -> boundary policy name

	mu       sync.Mutex
	calls    []fakeCall
	inFlight int
	peak     int
}

type fakeEntity struct {
	inline  []string
	managed []string
	groups  []string // for users
	tags    map[string]string
}

type fakeCall struct {
	op, key    string
	start, end time.Time
}

func (a *fakeAccount) arn(kind, name string) string {
	return "arn:aws:iam::" + acct + ":" + kind + "/" + name
}

// call records one call around the latency.
func (a *fakeAccount) call(ctx context.Context, op string, key ...string) error {
	a.mu.Lock()
	c := fakeCall{op: op, key: strings.Join(key, " "), start: time.Now()}
	a.inFlight++
	a.peak = max(a.peak, a.inFlight)
	a.mu.Unlock()
	var err error
	select {
	case <-time.After(a.latency):
	case <-ctx.Done():
		err = ctx.Err()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight--
	c.end = time.Now()
	a.calls = append(a.calls, c)
	return err
}

// reset forgets the calls recorded.
func (a *fakeAccount) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls, a.peak = nil, 0
}

// depth is the longest chain of calls in which each starts after the
// previous one ended: the sequential rounds.
func (a *fakeAccount) depth() (int, []string) {
	a.mu.Lock()
	calls := slices.Clone(a.calls)
	a.mu.Unlock()
	slices.SortFunc(calls, func(x, y fakeCall) int { return x.start.Compare(y.start) })
	length, prev := make([]int, len(calls)), make([]int, len(calls))
	best := -1
	for i, c := range calls {
		length[i], prev[i] = 1, -1
		for j := range i {
			if !calls[j].end.After(c.start) && length[j]+1 > length[i] {
				length[i], prev[i] = length[j]+1, j
			}
		}
		if best < 0 || length[i] > length[best] {
			best = i
		}
	}
	var chain []string
	for i := best; i >= 0; i = prev[i] {
		chain = append([]string{calls[i].op}, chain...)
	}
	return len(chain), chain
}

// repeated lists the calls made more than once with the same parameters.
func (a *fakeAccount) repeated() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	seen := map[string]int{}
	for _, c := range a.calls {
		seen[c.op+" "+c.key]++
	}
	var again []string
	for k, n := range seen {
		if n > 1 {
			again = append(again, fmt.Sprintf("%s ×%d", k, n))
		}
	}
	slices.Sort(again)
	return again
}

func (a *fakeAccount) count(op string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, c := range a.calls {
		if c.op == op {
			n++
		}
	}
	return n
}

func fakeDoc(name string) *string {
	return aws.String(url.PathEscape(`{"Version":"2012-10-17","Statement":[{"Sid":"` + name + `","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`))
}

type fakeLambda struct {
	LambdaAPI
	*fakeAccount
}

type fakeIAM struct {
	IAMAPI
	*fakeAccount
}

func (a fakeLambda) GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	name := aws.ToString(in.FunctionName)
	if err := a.call(ctx, "GetFunctionConfiguration", name, aws.ToString(in.Qualifier)); err != nil {
		return nil, err
	}
	name = name[strings.LastIndex(name, ":")+1:]
	role, ok := a.functions[name]
	if !ok {
		return nil, notFound("ResourceNotFoundException")
	}
	return &lambda.GetFunctionConfigurationOutput{
		FunctionName: &name,
		FunctionArn:  aws.String("arn:aws:lambda:us-east-1:" + acct + ":function:" + name),
		Role:         aws.String(a.arn("role/service-role", role)),
	}, nil
}

func (a fakeLambda) GetPolicy(ctx context.Context, in *lambda.GetPolicyInput, _ ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error) {
	if err := a.call(ctx, "lambda:GetPolicy", aws.ToString(in.FunctionName), aws.ToString(in.Qualifier)); err != nil {
		return nil, err
	}
	return &lambda.GetPolicyOutput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[]}`)}, nil
}

func (a fakeLambda) GetResourcePolicy(ctx context.Context, in *lambda.GetResourcePolicyInput, _ ...func(*lambda.Options)) (*lambda.GetResourcePolicyOutput, error) {
	if err := a.call(ctx, "GetResourcePolicy", aws.ToString(in.ResourceArn)); err != nil {
		return nil, err
	}
	if a.fullPolicy == "" {
		return nil, notFound("ResourceNotFoundException")
	}
	return &lambda.GetResourcePolicyOutput{Policy: aws.String(a.fullPolicy)}, nil
}

func (a fakeLambda) ListTags(ctx context.Context, in *lambda.ListTagsInput, _ ...func(*lambda.Options)) (*lambda.ListTagsOutput, error) {
	if err := a.call(ctx, "lambda:ListTags", aws.ToString(in.Resource)); err != nil {
		return nil, err
	}
	return &lambda.ListTagsOutput{Tags: map[string]string{}}, nil
}

func (a fakeIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	name := aws.ToString(in.RoleName)
	if err := a.call(ctx, "GetRole", name); err != nil {
		return nil, err
	}
	r, ok := a.roles[name]
	if !ok {
		return nil, notFound("NoSuchEntity")
	}
	out := &iamtypes.Role{RoleName: &name, Path: aws.String("/service-role/"), Arn: aws.String(a.arn("role/service-role", name))}
	for k, v := range r.tags {
		out.Tags = append(out.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if b := a.boundary[name]; b != "" {
		out.PermissionsBoundary = &iamtypes.AttachedPermissionsBoundary{PermissionsBoundaryArn: aws.String(a.arn("policy", b))}
	}
	return &iam.GetRoleOutput{Role: out}, nil
}

func (a fakeIAM) GetUser(ctx context.Context, in *iam.GetUserInput, _ ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	name := aws.ToString(in.UserName)
	if err := a.call(ctx, "GetUser", name); err != nil {
		return nil, err
	}
	u, ok := a.users[name]
	if !ok {
		return nil, notFound("NoSuchEntity")
	}
	out := &iamtypes.User{UserName: &name, Path: aws.String("/"), Arn: aws.String(a.arn("user", name))}
	for k, v := range u.tags {
		out.Tags = append(out.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return &iam.GetUserOutput{User: out}, nil
}

func (a fakeIAM) entity(kind, name string) (fakeEntity, bool) {
	m := map[string]map[string]fakeEntity{"role": a.roles, "user": a.users, "group": a.groups}[kind]
	e, ok := m[name]
	return e, ok
}

func (a fakeIAM) inline(ctx context.Context, op, kind, name string) ([]string, error) {
	if err := a.call(ctx, op, name); err != nil {
		return nil, err
	}
	e, ok := a.entity(kind, name)
	if !ok {
		return nil, notFound("NoSuchEntity")
	}
	return e.inline, nil
}

func (a fakeIAM) attached(ctx context.Context, op, kind, name string) ([]iamtypes.AttachedPolicy, error) {
	if err := a.call(ctx, op, name); err != nil {
		return nil, err
	}
	e, ok := a.entity(kind, name)
	if !ok {
		return nil, notFound("NoSuchEntity")
	}
	var out []iamtypes.AttachedPolicy
	for _, p := range e.managed {
		out = append(out, iamtypes.AttachedPolicy{PolicyName: aws.String(p), PolicyArn: aws.String(a.arn("policy", p))})
	}
	return out, nil
}

func (a fakeIAM) document(ctx context.Context, op, owner, policy string) (*string, error) {
	if err := a.call(ctx, op, owner, policy); err != nil {
		return nil, err
	}
	return fakeDoc(owner + policy), nil
}

func (a fakeIAM) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	names, err := a.inline(ctx, "ListRolePolicies", "role", aws.ToString(in.RoleName))
	return &iam.ListRolePoliciesOutput{PolicyNames: names}, err
}

func (a fakeIAM) ListUserPolicies(ctx context.Context, in *iam.ListUserPoliciesInput, _ ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error) {
	names, err := a.inline(ctx, "ListUserPolicies", "user", aws.ToString(in.UserName))
	return &iam.ListUserPoliciesOutput{PolicyNames: names}, err
}

func (a fakeIAM) ListGroupPolicies(ctx context.Context, in *iam.ListGroupPoliciesInput, _ ...func(*iam.Options)) (*iam.ListGroupPoliciesOutput, error) {
	names, err := a.inline(ctx, "ListGroupPolicies", "group", aws.ToString(in.GroupName))
	return &iam.ListGroupPoliciesOutput{PolicyNames: names}, err
}

func (a fakeIAM) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	p, err := a.attached(ctx, "ListAttachedRolePolicies", "role", aws.ToString(in.RoleName))
	return &iam.ListAttachedRolePoliciesOutput{AttachedPolicies: p}, err
}

func (a fakeIAM) ListAttachedUserPolicies(ctx context.Context, in *iam.ListAttachedUserPoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error) {
	p, err := a.attached(ctx, "ListAttachedUserPolicies", "user", aws.ToString(in.UserName))
	return &iam.ListAttachedUserPoliciesOutput{AttachedPolicies: p}, err
}

func (a fakeIAM) ListAttachedGroupPolicies(ctx context.Context, in *iam.ListAttachedGroupPoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error) {
	p, err := a.attached(ctx, "ListAttachedGroupPolicies", "group", aws.ToString(in.GroupName))
	return &iam.ListAttachedGroupPoliciesOutput{AttachedPolicies: p}, err
}

func (a fakeIAM) ListGroupsForUser(ctx context.Context, in *iam.ListGroupsForUserInput, _ ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error) {
	name := aws.ToString(in.UserName)
	if err := a.call(ctx, "ListGroupsForUser", name); err != nil {
		return nil, err
	}
	var out iam.ListGroupsForUserOutput
	for _, g := range a.users[name].groups {
		out.Groups = append(out.Groups, iamtypes.Group{GroupName: aws.String(g)})
	}
	return &out, nil
}

func (a fakeIAM) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	doc, err := a.document(ctx, "GetRolePolicy", aws.ToString(in.RoleName), aws.ToString(in.PolicyName))
	return &iam.GetRolePolicyOutput{PolicyDocument: doc}, err
}

func (a fakeIAM) GetUserPolicy(ctx context.Context, in *iam.GetUserPolicyInput, _ ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error) {
	doc, err := a.document(ctx, "GetUserPolicy", aws.ToString(in.UserName), aws.ToString(in.PolicyName))
	return &iam.GetUserPolicyOutput{PolicyDocument: doc}, err
}

func (a fakeIAM) GetGroupPolicy(ctx context.Context, in *iam.GetGroupPolicyInput, _ ...func(*iam.Options)) (*iam.GetGroupPolicyOutput, error) {
	doc, err := a.document(ctx, "GetGroupPolicy", aws.ToString(in.GroupName), aws.ToString(in.PolicyName))
	return &iam.GetGroupPolicyOutput{PolicyDocument: doc}, err
}

// ListPolicies with OnlyAttached lists the policies attached to a role,
// user or group, not those used only as a permissions boundary.
func (a fakeIAM) ListPolicies(ctx context.Context, in *iam.ListPoliciesInput, _ ...func(*iam.Options)) (*iam.ListPoliciesOutput, error) {
	if err := a.call(ctx, "ListPolicies", fmt.Sprint(in.OnlyAttached), aws.ToString(in.Marker)); err != nil {
		return nil, err
	}
	attached := map[string]bool{}
	for _, m := range []map[string]fakeEntity{a.roles, a.users, a.groups} {
		for _, e := range m {
			for _, p := range e.managed {
				attached[p] = true
			}
		}
	}
	var out iam.ListPoliciesOutput
	for _, name := range slices.Sorted(maps.Keys(a.managed)) {
		if attached[name] || !in.OnlyAttached {
			out.Policies = append(out.Policies, iamtypes.Policy{PolicyName: aws.String(name), Arn: aws.String(a.arn("policy", name)),
				DefaultVersionId: aws.String(fmt.Sprintf("v%d", a.managed[name]))})
		}
	}
	return &out, nil
}

func (a fakeIAM) GetPolicy(ctx context.Context, in *iam.GetPolicyInput, _ ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	arn := aws.ToString(in.PolicyArn)
	if err := a.call(ctx, "iam:GetPolicy", arn); err != nil {
		return nil, err
	}
	name := arn[strings.LastIndex(arn, "/")+1:]
	n, ok := a.managed[name]
	if !ok {
		return nil, notFound("NoSuchEntity")
	}
	return &iam.GetPolicyOutput{Policy: &iamtypes.Policy{Arn: in.PolicyArn, PolicyName: &name, DefaultVersionId: aws.String(fmt.Sprintf("v%d", n))}}, nil
}

func (a fakeIAM) GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, _ ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	arn, v := aws.ToString(in.PolicyArn), aws.ToString(in.VersionId)
	if err := a.call(ctx, "GetPolicyVersion", arn, v); err != nil {
		return nil, err
	}
	name := arn[strings.LastIndex(arn, "/")+1:]
	if n, ok := a.managed[name]; !ok || v < "v1" || v > fmt.Sprintf("v%d", n) {
		return nil, notFound("NoSuchEntity")
	}
	return &iam.GetPolicyVersionOutput{PolicyVersion: &iamtypes.PolicyVersion{Document: fakeDoc(name + v), VersionId: &v}}, nil
}

func (a fakeIAM) SimulatePrincipalPolicy(ctx context.Context, in *iam.SimulatePrincipalPolicyInput, _ ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error) {
	if err := a.call(ctx, "SimulatePrincipalPolicy", aws.ToString(in.PolicySourceArn)); err != nil {
		return nil, err
	}
	return &iam.SimulatePrincipalPolicyOutput{EvaluationResults: []iamtypes.EvaluationResult{{
		EvalActionName: aws.String(in.ActionNames[0]), EvalResourceName: aws.String(in.ResourceArns[0]), EvalDecision: iamtypes.PolicyEvaluationDecisionTypeImplicitDeny,
	}}}, nil
}

func (a *fakeAccount) GetCallerIdentity(ctx context.Context, _ *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	if err := a.call(ctx, "GetCallerIdentity"); err != nil {
		return nil, err
	}
	return &sts.GetCallerIdentityOutput{Account: aws.String(acct)}, nil
}

// names returns prefix00 ... prefix(n-1).
func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// scaleAccount holds the accounts of issue 14: the seed case (a role with
// one inline policy, one managed policy and a boundary used only as such),
// a role with 10 managed policies of 5 versions and 10 inline ones, and a
// user in 10 groups, each with 3 managed policies (one shared by all) and 2
// inline ones.
func scaleAccount(latency time.Duration) *fakeAccount {
	a := &fakeAccount{
		latency:   latency,
		roles:     map[string]fakeEntity{},
		users:     map[string]fakeEntity{},
		groups:    map[string]fakeEntity{},
		functions: map[string]string{"RequestFunction": "RequestRole", "BigFunction": "BigRole", "ProcessorFunction": "ProcessorRole"},
		managed:   map[string]int{"Logs": 1, "Boundary": 1, "Shared": 1},
		boundary:  map[string]string{"RequestRole": "Boundary"},
	}
	a.roles["RequestRole"] = fakeEntity{inline: []string{"Inline0"}, managed: []string{"Logs"}, tags: map[string]string{"team": "a"}}
	a.roles["ProcessorRole"] = fakeEntity{}
	big := fakeEntity{inline: names("Inline", 10), managed: names("BigManaged", 10)}
	for _, p := range big.managed {
		a.managed[p] = 5
	}
	a.roles["BigRole"] = big
	user := fakeEntity{tags: map[string]string{"team": "b"}}
	for _, g := range names("Group", 10) {
		e := fakeEntity{inline: names(g+"Inline", 2), managed: append(names(g+"Managed", 2), "Shared")}
		for _, p := range e.managed {
			a.managed[p] = max(a.managed[p], 1)
		}
		a.groups[g] = e
		user.groups = append(user.groups, g)
	}
	a.users["BigUser"] = user
	return a
}

// TestDependencyFloor: the live diagnosis takes the fewest sequential rounds
// its dependencies allow, the simulator included, whatever the number of
// policies and groups (function caller 3, role caller 2, user caller 3),
// and never asks the same question twice (issue 14).
func TestDependencyFloor(t *testing.T) {
	const latency = 40 * time.Millisecond
	a := scaleAccount(latency)
	side := Side{Lambda: fakeLambda{fakeAccount: a}, IAM: fakeIAM{fakeAccount: a}, STS: a, Region: "us-east-1"}
	client := NewFromSides(side, side, 0)
	const fnARN = "arn:aws:lambda:us-east-1:" + acct + ":function:ProcessorFunction"
	for _, tt := range []struct {
		caller, target string
		floor          int
		policies       int
	}{
		{"RequestFunction", "ProcessorFunction:live", 3, 2},
		{"BigFunction", "ProcessorFunction:live", 3, 20},
		{"role/RequestRole", "ProcessorFunction:live", 2, 2},
		{"role/BigRole", fnARN + ":live", 2, 20},
		{"user/BigUser", "ProcessorFunction:live", 3, 10 * 5},
		{"user/BigUser", fnARN, 3, 50},
	} {
		t.Run(tt.caller+" "+tt.target, func(t *testing.T) {
			// A loaded machine can delay a goroutine past a round; the
			// best of three attempts counts.
			var depth int
			var chain []string
			for range 3 {
				a.reset()
				ev, err := client.FetchEvidence(context.Background(), Request{Caller: tt.caller, Target: tt.target, Simulate: true})
				if err != nil {
					t.Fatalf("FetchEvidence: %v", err)
				}
				if ev.Simulation == nil {
					t.Fatalf("no simulation: %s", ev.SimulatorUnavailable)
				}
				if len(ev.Caller.IdentityPolicies) != tt.policies {
					t.Errorf("%d identity policies, want %d", len(ev.Caller.IdentityPolicies), tt.policies)
				}
				if again := a.repeated(); len(again) > 0 {
					t.Errorf("calls made twice: %v", again)
				}
				if depth, chain = a.depth(); depth <= tt.floor {
					break
				}
			}
			if depth != tt.floor {
				t.Errorf("depth %d, want the floor %d: %s", depth, tt.floor, strings.Join(chain, " -> "))
			}
			if a.peak > maxCallsInFlight {
				t.Errorf("%d calls in flight, above the cap of %d", a.peak, maxCallsInFlight)
			}
		})
	}
}

// TestFullPolicyByARN: for a target given as an ARN, GetResourcePolicy is
// read in the first round, and where it answers GetPolicy is not sent.
func TestFullPolicyByARN(t *testing.T) {
	a := scaleAccount(time.Millisecond)
	a.fullPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*"}]}`
	side := Side{Lambda: fakeLambda{fakeAccount: a}, IAM: fakeIAM{fakeAccount: a}, STS: a, Region: "us-east-1"}
	client := NewFromSides(side, side, 0)
	ev, err := client.FetchEvidence(context.Background(), Request{Caller: "role/RequestRole", Target: "arn:aws:lambda:us-east-1:" + acct + ":function:ProcessorFunction:live"})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Target.ResourcePolicy == nil || !strings.Contains(string(ev.Target.ResourcePolicy.Document), "Deny") {
		t.Errorf("resource policy %+v, want GetResourcePolicy's", ev.Target.ResourcePolicy)
	}
	if n := a.count("lambda:GetPolicy"); n != 0 {
		t.Errorf("lambda:GetPolicy sent %d times although GetResourcePolicy answered", n)
	}
}

// TestPriorityLimiter: a freed slot goes to the oldest waiting call of the
// highest priority.
func TestPriorityLimiter(t *testing.T) {
	l := newLimiter(1)
	ctx := context.Background()
	if err := l.acquire(ctx, leaf); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	// Queue: leaf A, unlocks B, leaf C, unlocks D.
	for _, w := range []struct {
		name string
		p    priority
	}{{"A", leaf}, {"B", unlocks}, {"C", leaf}, {"D", unlocks}} {
		before := queued(&l.mu, l)
		wg.Go(func() {
			if err := l.acquire(ctx, w.p); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, w.name)
			mu.Unlock()
			l.release()
		})
		for queued(&l.mu, l) == before {
			time.Sleep(time.Millisecond)
		}
	}
	l.release()
	wg.Wait()
	if want := []string{"B", "D", "A", "C"}; !slices.Equal(order, want) {
		t.Errorf("slots granted in order %v, want %v", order, want)
	}

	// A waiter that gives up leaves the queue and loses no slot.
	l = newLimiter(1)
	_ = l.acquire(ctx, unlocks)
	gone, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- l.acquire(gone, leaf) }()
	for queued(&l.mu, l) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil {
		t.Error("a canceled acquire succeeded")
	}
	l.release()
	if l.free != 1 || queued(&l.mu, l) != 0 {
		t.Errorf("free %d, queued %d after the last release; want 1, 0", l.free, queued(&l.mu, l))
	}
}

func queued(mu *sync.Mutex, l *limiter) int {
	mu.Lock()
	defer mu.Unlock()
	return len(l.queue[leaf]) + len(l.queue[unlocks])
}
