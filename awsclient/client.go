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
	"github.com/aws/aws-sdk-go-v2/service/sts"
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
	// Region overrides the profile's region for both sides. A function ARN
	// naming another region is read in that region.
	Region string
	// EndpointURL sends every call to one endpoint (a local emulator, a VPC
	// endpoint), as the AWS CLI's --endpoint-url does. It becomes each
	// client's BaseEndpoint.
	EndpointURL string
	// Timeout bounds each of ResolveCaller, ResolveTarget, FetchEvidence and
	// Simulate, retries included. Zero means no limit beyond ctx.
	Timeout time.Duration
	// Recorder, when set, is told about every operation sent (tests).
	Recorder OperationRecorder
}

// Side holds the clients that read one side of the request: the caller's
// account or the target function's account. Region is where Lambda calls
// go unless an ARN names another region; Profile is only for messages.
type Side struct {
	Lambda  LambdaAPI
	IAM     IAMAPI
	STS     STSAPI
	Region  string
	Profile string
}

// Client resolves arguments, fetches evidence and runs the simulator. It is
// safe for concurrent use.
type Client struct {
	caller  Side
	target  Side
	timeout time.Duration
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
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	callerProfile := cmp.Or(opts.CallerProfile, opts.Profile)
	targetProfile := cmp.Or(opts.TargetProfile, opts.Profile)

	callerCfg, err := loadConfig(ctx, "caller", callerProfile, opts)
	if err != nil {
		return nil, err
	}
	caller := NewSide(callerCfg, opts.Recorder)
	caller.Profile = callerProfile
	target := caller
	if targetProfile != callerProfile {
		targetCfg, err := loadConfig(ctx, "target", targetProfile, opts)
		if err != nil {
			return nil, err
		}
		target = NewSide(targetCfg, opts.Recorder)
		target.Profile = targetProfile
	}
	return NewFromSides(caller, target, opts.Timeout), nil
}

// NewFromSides builds a client over given clients, for callers that bring
// their own (fakes in tests, or configs built elsewhere).
func NewFromSides(caller, target Side, timeout time.Duration) *Client {
	return &Client{caller: caller, target: target, timeout: timeout}
}

// NewSide builds guarded Lambda, IAM and STS clients from cfg. Every client
// gets the ReadOnly middleware, recording into rec when it is not nil.
func NewSide(cfg aws.Config, rec OperationRecorder) Side {
	guard := ReadOnly(rec)
	// Clip before appending so that clients never share (and overwrite) the
	// spare capacity of cfg.APIOptions.
	withGuard := func(opts []func(*middleware.Stack) error) []func(*middleware.Stack) error {
		return append(slices.Clip(opts), guard)
	}
	return Side{
		Lambda: lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.APIOptions = withGuard(o.APIOptions) }),
		IAM:    iam.NewFromConfig(cfg, func(o *iam.Options) { o.APIOptions = withGuard(o.APIOptions) }),
		STS:    sts.NewFromConfig(cfg, func(o *sts.Options) { o.APIOptions = withGuard(o.APIOptions) }),
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
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
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
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, &CredentialsError{Side: side, Profile: profile, Err: err}
	}
	return cfg, nil
}

func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout > 0 {
		return context.WithTimeout(ctx, c.timeout)
	}
	return context.WithCancel(ctx)
}
