package awsclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
)

// Options configure how the client reaches AWS. The zero value uses the
// SDK's default chain (environment, shared config, IMDS) for both sides.
type Options struct {
	// Profile is the shared config profile for both sides of the request
	// unless CallerProfile or TargetProfile overrides it.
	Profile string
	// CallerProfile reads the caller's account (its function, role, user and
	// policies, and the simulator). Cross-account diagnoses need it when the
	// caller lives in another account than the target function.
	CallerProfile string
	// TargetProfile reads the target function and its resource policy.
	TargetProfile string
	// OrgProfile reads the organization's tree and SCPs
	// (organizations:ListParents, ListPoliciesForTarget, DescribePolicy):
	// the management account or a delegated administrator. By default the
	// caller's credentials try; DescribeOrganization always uses them (any
	// member account may call it).
	OrgProfile string
	// Region overrides the profile's region for both sides. A function ARN
	// naming another region is read in that region.
	Region string
	// EndpointURL sends every call to one endpoint (a local emulator, a VPC
	// endpoint), as the AWS CLI's --endpoint-url does. It becomes each
	// client's BaseEndpoint.
	EndpointURL string
	// Timeout bounds all the work of the client, counted from New: loading
	// the configuration and credentials, then every read and the simulator,
	// retries included. The command builds one client per diagnosis, so it
	// bounds the diagnosis. When it runs out, the reads still waiting fail
	// with a *TimeoutError naming them; the simulator, which is optional,
	// with a *SimulatorError. It also sizes the retries (see
	// retryPolicyFor). Zero means no limit beyond ctx.
	Timeout time.Duration
	// Recorder, when set, is told about every operation sent (tests).
	Recorder OperationRecorder
	// Debug, when set, is told of every call as it completes (--debug).
	Debug *CallLog
}

// Side holds the clients that read one side of the request: the caller's
// account or the target function's account. Region is where Lambda calls
// go unless an ARN names another region; Profile is only for messages.
type Side struct {
	Lambda LambdaAPI
	IAM    IAMAPI
	STS    STSAPI
	// Organizations is nil for sides built without it (NewFromSides with
	// fakes): the organization is then not read.
	Organizations OrganizationsAPI
	Region        string
	Profile       string
}

// Client resolves arguments, fetches evidence and runs the simulator. It is
// safe for concurrent use.
type Client struct {
	caller, target Side
	// org reads the organization's policies (Options.OrgProfile).
	org Side
	// shared: both sides read with the same clients (one account), so a
	// read of either side serves both.
	shared bool
	// timeout is Options.Timeout, for messages; deadline is when it runs
	// out, zero for no limit.
	timeout  time.Duration
	deadline time.Time
}

// New loads the AWS configuration for both sides, checks that credentials
// can be obtained (so that a missing login fails once, clearly, instead of
// in every concurrent call), and builds guarded clients.
func New(ctx context.Context, opts Options) (*Client, error) {
	if opts.EndpointURL != "" {
		u, err := url.Parse(opts.EndpointURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &InputError{Arg: "endpoint-url", Value: opts.EndpointURL, Reason: "expected an http:// or https:// URL"}
		}
	}
	c := &Client{timeout: opts.Timeout}
	if opts.Timeout > 0 {
		c.deadline = time.Now().Add(opts.Timeout)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	policy := retryPolicyFor(opts.Timeout)
	callerProfile := cmp.Or(opts.CallerProfile, opts.Profile)
	targetProfile := cmp.Or(opts.TargetProfile, opts.Profile)

	callerCfg, err := loadConfig(ctx, "caller", callerProfile, opts)
	if err != nil {
		return nil, err
	}
	c.caller = newSide(callerCfg, opts.Recorder, policy)
	c.caller.Profile = callerProfile
	c.target, c.shared = c.caller, true
	if targetProfile != callerProfile {
		c.shared = false
		targetCfg, err := loadConfig(ctx, "target", targetProfile, opts)
		if err != nil {
			return nil, err
		}
		c.target = newSide(targetCfg, opts.Recorder, policy)
		c.target.Profile = targetProfile
	}
	c.org = c.caller
	if opts.OrgProfile != "" && opts.OrgProfile != callerProfile {
		orgCfg, err := loadConfig(ctx, "organization", opts.OrgProfile, opts)
		if err != nil {
			return nil, err
		}
		c.org = newSide(orgCfg, opts.Recorder, policy)
		c.org.Profile = opts.OrgProfile
	}
	return c, nil
}

// NewFromSides builds a client over given clients, for callers that bring
// their own (fakes in tests, or configs built elsewhere). timeout bounds
// all its work from now on, as Options.Timeout does.
func NewFromSides(caller, target Side, timeout time.Duration) *Client {
	c := &Client{caller: caller, target: target, org: caller, timeout: timeout, shared: sameIAM(caller.IAM, target.IAM)}
	if timeout > 0 {
		c.deadline = time.Now().Add(timeout)
	}
	return c
}

// sameIAM reports whether two sides read IAM with the same client. Clients
// of a type that cannot be compared count as different.
func sameIAM(a, b IAMAPI) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// NewSide builds guarded Lambda, IAM and STS clients from cfg. Every client
// gets the ReadOnly middleware, recording into rec when it is not nil, and
// the standard retryer with this package's attempts (see retryPolicy),
// with attempts not bounded by time.
func NewSide(cfg aws.Config, rec OperationRecorder) Side {
	return newSide(cfg, rec, retryPolicyFor(0))
}

func newSide(cfg aws.Config, rec OperationRecorder, p retryPolicy) Side {
	guard := ReadOnly(rec)
	// Clip before appending so that clients never share (and overwrite) the
	// spare capacity of cfg.APIOptions.
	withGuard := func(opts []func(*middleware.Stack) error) []func(*middleware.Stack) error {
		return append(slices.Clip(opts), guard)
	}
	// Each client gets its own retryer: the standard retryer's token bucket
	// is per retryer, and one side's throttling should not starve the other.
	// The SDK's log goes nowhere: it writes warnings (a response body cut
	// short, say) straight to standard error, where the command promises
	// one line per error, and every failure reaches the user as an error.
	return Side{
		Lambda: lambda.NewFromConfig(cfg, func(o *lambda.Options) {
			o.APIOptions = withGuard(o.APIOptions)
			o.Retryer, o.HTTPClient, o.Logger = p.retryer(), p.httpClient(o.HTTPClient), logging.Nop{}
		}),
		IAM: iam.NewFromConfig(cfg, func(o *iam.Options) {
			o.APIOptions = withGuard(o.APIOptions)
			o.Retryer, o.HTTPClient, o.Logger = p.retryer(), p.httpClient(o.HTTPClient), logging.Nop{}
		}),
		STS: sts.NewFromConfig(cfg, func(o *sts.Options) {
			o.APIOptions = withGuard(o.APIOptions)
			o.Retryer, o.HTTPClient, o.Logger = p.retryer(), p.httpClient(o.HTTPClient), logging.Nop{}
		}),
		Organizations: organizations.NewFromConfig(cfg, func(o *organizations.Options) {
			o.APIOptions = withGuard(o.APIOptions)
			o.Retryer, o.HTTPClient, o.Logger = p.retryer(), p.httpClient(o.HTTPClient), logging.Nop{}
		}),
		Region: cfg.Region,
	}
}

// loadConfig loads one side's aws.Config and retrieves its credentials once.
func loadConfig(ctx context.Context, side, profile string, opts Options) (aws.Config, error) {
	var load []func(*config.LoadOptions) error
	if profile != "" {
		load = append(load, config.WithSharedConfigProfile(profile))
	}
	if opts.Region != "" {
		load = append(load, config.WithRegion(opts.Region))
	}
	if opts.EndpointURL != "" {
		load = append(load, config.WithBaseEndpoint(opts.EndpointURL))
	}
	// The SDK's own logger writes to standard error, where the command
	// promises one line per error: without credentials, the IMDS client's
	// "falling back to IMDSv1" warning came before it. Every failure
	// reaches the user as an error instead.
	load = append(load, config.WithLogger(logging.Nop{}))
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return aws.Config{}, deadlinePassed(opts.Timeout, "the AWS configuration of the "+side+" side was loaded", err)
		}
		var missing config.SharedConfigProfileNotExistError
		if errors.As(err, &missing) {
			return aws.Config{}, &InputError{Arg: "profile", Value: profile, Reason: "no such profile in the shared config or credentials file"}
		}
		return aws.Config{}, &CredentialsError{Side: side, Profile: profile, Err: fmt.Errorf("loading the AWS configuration: %w", err)}
	}
	if cfg.Region == "" {
		return aws.Config{}, &InputError{Arg: "region", Reason: "no region configured for the " + side + " side: pass --region or set AWS_REGION"}
	}
	if cfg.Credentials == nil {
		return aws.Config{}, &CredentialsError{Side: side, Profile: profile, Err: errors.New("no credential provider configured")}
	}
	effective, sso := credentialSource(cfg)
	start := time.Now()
	_, err = cfg.Credentials.Retrieve(ctx)
	if opts.Debug != nil {
		opts.Debug.credentials(side, cmp.Or(profile, effective), time.Since(start), err)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			// Not a missing login: the time ran out while the SDK was
			// still asking for credentials (IMDS, SSO, a role to assume).
			return aws.Config{}, deadlinePassed(opts.Timeout, "the AWS credentials of the "+side+" side were obtained", err)
		}
		return aws.Config{}, &CredentialsError{Side: side, Profile: cmp.Or(profile, effective), SSOProfile: sso, Err: err}
	}
	// Options every client of this side gets, and the clients the
	// credential providers built while loading do not: rejected
	// credentials named with their profile, and the --debug log.
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), markRejectedCredentials(cmp.Or(profile, effective), sso))
	if opts.Debug != nil {
		cfg.APIOptions = append(cfg.APIOptions, opts.Debug.apiOption)
	}
	return cfg, nil
}

// deadlinePassed is the error for work the deadline cut short before any
// read was sent: it names the time allowed, not the SDK's words.
func deadlinePassed(timeout time.Duration, before string, err error) error {
	msg := "the deadline passed before " + before
	if timeout > 0 {
		msg = fmt.Sprintf("the deadline of --timeout %s passed before %s (raise --timeout)", timeout, before)
	}
	return &loadTimeoutError{msg: msg, err: err}
}

// loadTimeoutError: the deadline passed while the configuration or the
// credentials were loading. It unwraps to context.DeadlineExceeded.
type loadTimeoutError struct {
	msg string
	err error
}

func (e *loadTimeoutError) Error() string { return e.msg }
func (e *loadTimeoutError) Unwrap() error { return e.err }

// withTimeout bounds ctx by the client's deadline.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if !c.deadline.IsZero() {
		return context.WithDeadline(ctx, c.deadline)
	}
	return context.WithCancel(ctx)
}

// timedOut completes a *TimeoutError with the time allowed, and turns a
// bare deadline error (a call stopped while waiting for its turn) into one.
func (c *Client) timedOut(err error) error {
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	te, ok := errors.AsType[*TimeoutError](err)
	if !ok {
		te = &TimeoutError{Err: err}
	}
	if !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
		te.After = c.timeout
	}
	return te
}
