package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
	"github.com/why-denied/why-denied/redact"
	"github.com/why-denied/why-denied/report"
)

// evidenceSource reads evidence from an account, with the simulator's
// answer when asked: awsclient.Client, or a fake in tests.
type evidenceSource interface {
	FetchEvidence(ctx context.Context, req awsclient.Request) (*evidence.Evidence, error)
}

// accountReader reads what a template names by ARN without defining it:
// awsclient.Client, or a fake in tests.
type accountReader interface {
	ReadManagedPolicy(ctx context.Context, arn string) (evidence.NamedPolicy, error)
	ReadRole(ctx context.Context, arn string) (awsclient.RolePolicies, error)
}

// deps are what the commands need from outside.
type deps struct {
	newSource func(ctx context.Context, opts awsclient.Options) (evidenceSource, error)
	// newReader serves why-denied template --profile.
	newReader func(ctx context.Context, opts awsclient.Options) (accountReader, error)
}

func defaultDeps() deps {
	return deps{
		newSource: func(ctx context.Context, opts awsclient.Options) (evidenceSource, error) {
			return awsclient.New(ctx, opts)
		},
		newReader: func(ctx context.Context, opts awsclient.Options) (accountReader, error) {
			return awsclient.New(ctx, opts)
		},
	}
}

// diagnoseOptions holds the flags and arguments of the main command.
type diagnoseOptions struct {
	IO   streams
	Deps deps

	Caller, Target string
	Action         string
	Context        []string
	SourceArn      string
	SourceAccount  string
	Output         string

	Profile, CallerProfile, TargetProfile string
	// OrgProfile reads the organization's SCPs: the management account or
	// a delegated administrator.
	OrgProfile          string
	Region, EndpointURL string
	Timeout             time.Duration
	Debug               bool

	Display displayOptions

	NoSimulate   bool
	Snapshot     string
	Redact       bool
	FromSnapshot string
	At           string

	format report.Format
	ctx    evidence.ContextValues
	// at is --at parsed; nil without it.
	at *time.Time
	// messageSCP is the SCP ARN a pasted message ends with (explain).
	messageSCP string
}

const diagnoseExamples = `  # Why can function RequestFunction not invoke ProcessorFunction's alias "live"?
  why-denied RequestFunction ProcessorFunction:live

  # A role, a user, or a session ARN pasted from an error message as the caller
  why-denied role/deploy-role my-function
  why-denied arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction

  # An S3 bucket notification: a service principal with its source
  why-denied s3.amazonaws.com thumbnailer --source-arn arn:aws:s3:::uploads --source-account 111111111111

  # Cross-account: read each side with its own profile
  why-denied --caller-profile dev --target-profile prod arn:aws:iam::222222222222:role/OrderService billing-fn

  # Will it still be allowed after a policy's date condition? Ask about another moment
  why-denied --at 2027-01-01T00:00:00Z RequestFunction ProcessorFunction

  # A function URL with auth type NONE: the caller is anonymous
  why-denied --action lambda:InvokeFunctionUrl anonymous public-fn

  # JSON for scripts; exit code 0 allowed, 1 denied, 2 bad input, 3 incomplete
  why-denied -o json RequestFunction ProcessorFunction | jq .blockedBy

  # Save the evidence, then diagnose it offline (no credentials needed)
  why-denied --snapshot evidence.json RequestFunction ProcessorFunction
  why-denied --from-snapshot evidence.json`

func newDiagnoseCmd(io streams, d deps, runF func(*diagnoseOptions) error) *cobra.Command {
	opts := &diagnoseOptions{IO: io, Deps: d}
	cmd := &cobra.Command{
		Use:   "why-denied CALLER TARGET",
		Short: "Tell why a call to a Lambda function is denied, and what to change",
		Long: `why-denied reads the caller's identity policies (inline, managed, permissions
boundary) and the target function's resource policy, read-only; asks AWS's policy
simulator where it can answer; evaluates locally what it cannot; and prints which
layer blocks the call, which statement came closest, and what to change.

CALLER is a Lambda function name or ARN (its execution role's session calls),
role/NAME or a role ARN (diagnosed as a session of the role, as real calls are),
user/NAME or a user ARN, an assumed-role or federated-user session ARN, a service
principal such as s3.amazonaws.com, or anonymous (also *) for a function URL with
auth type NONE.
TARGET is a function name, NAME:QUALIFIER, or a full or partial function ARN.`,
		Example: diagnoseExamples,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.FromSnapshot != "" {
				if len(args) != 0 {
					return usagef("with --from-snapshot, CALLER and TARGET come from the evidence file; omit them")
				}
				return nil
			}
			if len(args) != 2 {
				return usagef("expected CALLER and TARGET, got %d argument(s) (see why-denied --help)", len(args))
			}
			for i, a := range args {
				if strings.TrimSpace(a) == "" {
					return usagef("%s is empty", []string{"CALLER", "TARGET"}[i])
				}
			}
			return nil
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				opts.Caller, opts.Target = args[0], args[1]
			}
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return diagnoseRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Action, "action", awsclient.DefaultAction, "the action to diagnose")
	f.StringArrayVar(&opts.Context, "context", nil, "a request condition key, `KEY=VALUE` (repeat for more keys or values)")
	f.StringVar(&opts.SourceArn, "source-arn", "", "aws:SourceArn of a service-principal call (e.g. the S3 bucket ARN)")
	f.StringVar(&opts.SourceAccount, "source-account", "", "aws:SourceAccount of a service-principal call")
	f.StringVar(&opts.Snapshot, "snapshot", "", "save the evidence read from AWS to `FILE`")
	f.StringVar(&opts.At, "at", "", "diagnose the call as made at `TIME` (RFC 3339, e.g. 2027-01-01T00:00:00Z): aws:CurrentTime and aws:EpochTime (default: now)")
	f.BoolVar(&opts.Redact, "redact", false, "with --snapshot: blur account IDs, names and unique IDs in the saved evidence, each always the same way, so that it still diagnoses the same; blurred, not encrypted: lengths, letter case and repeated letters remain")
	addAccessFlags(cmd, opts)
	for _, name := range []string{"action", "context", "source-arn", "source-account", "at"} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.NoFileCompletions)
	}
	return cmd
}

// addAccessFlags adds the flags that say how to read the account and how
// to print, shared by the main command and explain.
func addAccessFlags(cmd *cobra.Command, opts *diagnoseOptions) {
	f := cmd.Flags()
	f.StringVarP(&opts.Output, "output", "o", "table", "output format: table or json")
	f.StringVar(&opts.Profile, "profile", "", "AWS profile for both sides (default: the SDK's default chain)")
	f.StringVar(&opts.CallerProfile, "caller-profile", "", "AWS profile that reads the caller's account (default: --profile)")
	f.StringVar(&opts.TargetProfile, "target-profile", "", "AWS profile that reads the target function's account (default: --profile)")
	f.StringVar(&opts.OrgProfile, "org-profile", "", "AWS profile that reads the organization's SCPs: the management account or a delegated administrator (default: the caller's)")
	f.StringVar(&opts.Region, "region", "", "AWS region (default: the profile's)")
	f.StringVar(&opts.EndpointURL, "endpoint-url", "", "send every AWS call to this URL (e.g. a local emulator)")
	f.DurationVar(&opts.Timeout, "timeout", 30*time.Second, "total time allowed for AWS calls, retries included")
	f.BoolVar(&opts.Debug, "debug", false, "print each AWS call to standard error as it completes (operation, names read, HTTP status, time, retries) and the total; never credentials or policy documents")
	f.BoolVar(&opts.NoSimulate, "no-simulate", false, "do not call iam:SimulatePrincipalPolicy; evaluate every layer locally")
	f.StringVar(&opts.FromSnapshot, "from-snapshot", "", "diagnose offline from an evidence `FILE` (no credentials needed)")
	addDisplayFlags(cmd, &opts.Display)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(report.Formats, cobra.ShellCompDirectiveNoFileComp))
	for _, name := range []string{"profile", "caller-profile", "target-profile", "org-profile", "region", "endpoint-url"} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.NoFileCompletions)
	}
}

// validate checks the flags and turns them into typed values.
func (o *diagnoseOptions) validate() error {
	var err error
	if o.format, err = report.ParseFormat(o.Output); err != nil {
		return &usageError{err.Error()}
	}
	if o.Timeout <= 0 {
		return usagef("--timeout must be positive, got %s", o.Timeout)
	}
	if o.Action == "" || !strings.Contains(o.Action, ":") {
		return usagef("--action %q is not of the form service:Action (e.g. lambda:InvokeFunction)", o.Action)
	}
	if !strings.HasPrefix(strings.ToLower(o.Action), "lambda:") {
		return usagef("--action %q is not a Lambda action: why-denied diagnoses calls to Lambda functions (lambda:InvokeFunction, lambda:InvokeFunctionUrl, ...)", o.Action)
	}
	if o.FromSnapshot != "" && o.Snapshot != "" {
		return usagef("--snapshot and --from-snapshot cannot be used together")
	}
	if o.Redact && o.Snapshot == "" {
		return usagef("--redact redacts the evidence file --snapshot writes; give --snapshot FILE too")
	}
	if o.At != "" {
		t, err := time.Parse(time.RFC3339, o.At)
		if err != nil {
			return usagef("--at %q is not an RFC 3339 time (e.g. 2027-01-01T00:00:00Z)", o.At)
		}
		o.at = &t
	}
	var err2 error
	if o.ctx, err2 = contextValues(o.Context, o.SourceArn, o.SourceAccount); err2 != nil {
		return err2
	}
	if o.FromSnapshot != "" && (len(o.ctx) > 0 || o.Action != awsclient.DefaultAction) {
		return usagef("with --from-snapshot the request comes from the evidence file; --action, --context, --source-arn and --source-account do not apply")
	}
	return nil
}

// contextValues gathers the request's condition keys from --context,
// --source-arn and --source-account. Condition keys are case-insensitive:
// every spelling of a key is the one key (a repeated key has several
// values), and two spellings given different values are an error rather
// than a result that depends on which one wins.
func contextValues(pairs []string, sourceArn, sourceAccount string) (evidence.ContextValues, error) {
	ctx := evidence.ContextValues{}
	spelling := map[string]string{} // lower-case key -> the first spelling given
	from := map[string]string{}     // lower-case key -> the flag that gave it
	add := func(flag, k, v string) error {
		if t := evidence.TypeOf(k); !t.ValidValue(v) {
			// A request carries an address, a boolean, a number or a date
			// there: anything else is no request AWS sees.
			return usagef("%s %s=%s: %s holds a value of type %s in a request, and %q is not one", flag, k, v, k, t, v)
		}
		lk := strings.ToLower(k)
		first, seen := spelling[lk]
		switch {
		case !seen:
			spelling[lk], from[lk] = k, flag
			ctx[k] = []string{v}
		case first == k && flag == "--context" && from[lk] == "--context":
			ctx[k] = append(ctx[k], v)
		case slices.Equal(ctx[first], []string{v}):
		default:
			return usagef("condition key %s is given twice with different values (%s %s and %s %s): condition keys are case-insensitive, so they are one key", k, from[lk], strings.Join(ctx[first], ","), flag, v)
		}
		return nil
	}
	for _, kv := range pairs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usagef("--context %q is not KEY=VALUE", kv)
		}
		if err := add("--context", k, v); err != nil {
			return nil, err
		}
	}
	if sourceArn != "" {
		if _, ok := arn.Parse(sourceArn); !ok {
			return nil, usagef("--source-arn %q is not an ARN", sourceArn)
		}
		if err := add("--source-arn", "aws:SourceArn", sourceArn); err != nil {
			return nil, err
		}
	}
	if sourceAccount != "" {
		if !arn.IsAccountID(sourceAccount) {
			return nil, usagef("--source-account %q is not a 12-digit account ID", sourceAccount)
		}
		if err := add("--source-account", "aws:SourceAccount", sourceAccount); err != nil {
			return nil, err
		}
	}
	return ctx, nil
}

// options are the diagnosis's options: the moment asked about.
func (o *diagnoseOptions) options() diagnose.Options {
	if o.at != nil {
		return diagnose.Options{Now: *o.at}
	}
	return diagnose.Options{}
}

func diagnoseRun(ctx context.Context, o *diagnoseOptions) error {
	if o.Snapshot != "" {
		// Before reading AWS: a path found wrong only at the end would cost
		// the verdict.
		if err := checkWritable(o.Snapshot); err != nil {
			return err
		}
	}
	ev, err := o.evidence(ctx)
	if err != nil {
		return err
	}
	opts := o.options()
	if opts.Now.IsZero() {
		// One moment for the redaction's check and the verdict.
		opts.Now = ev.Moment(time.Now())
	}
	if o.Snapshot != "" {
		saved := ev
		if o.Redact {
			if saved, err = redact.Evidence(ev, opts); err != nil {
				return fmt.Errorf("not writing %s: %w", o.Snapshot, err)
			}
		}
		if err := writeSnapshot(o.Snapshot, saved, o.IO.Err); err != nil {
			return err
		}
	}
	v, err := diagnose.Diagnose(ev, opts)
	if err != nil {
		return err
	}
	if err := report.Render(o.IO.Out, o.format, v, o.Display.view(o.IO.Out).Table); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return decisionError(v)
}

// decisionError turns the verdict into the exit code of the contract: 0
// allowed, 1 denied, 3 when the readable policies do not settle it.
func decisionError(v *diagnose.Verdict) error {
	switch v.Decision {
	case policy.Allowed:
		return nil
	case diagnose.DecisionUnknown:
		return &incompleteError{msg: "no decision: " + v.Summary}
	}
	return deniedError{}
}

// evidence reads the evidence file, or the account.
func (o *diagnoseOptions) evidence(ctx context.Context) (*evidence.Evidence, error) {
	if o.FromSnapshot != "" {
		return readSnapshot(o.FromSnapshot)
	}
	var calls *awsclient.CallLog
	if o.Debug {
		calls = awsclient.NewCallLog(o.IO.Err)
		defer calls.WriteTotal()
	}
	src, err := o.Deps.newSource(ctx, awsclient.Options{
		Profile:       o.Profile,
		CallerProfile: o.CallerProfile,
		TargetProfile: o.TargetProfile,
		OrgProfile:    o.OrgProfile,
		Region:        o.Region,
		EndpointURL:   o.EndpointURL,
		Timeout:       o.Timeout,
		Debug:         calls,
	})
	if err != nil {
		return nil, err
	}
	ev, err := src.FetchEvidence(ctx, awsclient.Request{Caller: o.Caller, Target: o.Target, Action: o.Action, Context: o.ctx, At: o.at, Simulate: !o.NoSimulate, MessageSCP: o.messageSCP})
	if err != nil {
		return nil, err
	}
	return ev, nil
}

func readSnapshot(path string) (*evidence.Evidence, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &usageError{fmt.Sprintf("reading evidence file: %v", err)}
	}
	defer f.Close()
	ev, err := evidence.Read(f)
	var evErr *evidence.FileError
	switch {
	case errors.As(err, &evErr):
		return nil, fmt.Errorf("%s: %w", path, err)
	case err != nil:
		msg := err.Error()
		if inner := errors.Unwrap(err); inner != nil {
			msg = inner.Error()
		}
		return nil, &usageError{fmt.Sprintf("reading evidence file %s: %s", path, msg)}
	}
	return ev, nil
}

// checkWritable checks that the evidence file can be written, leaving no
// trace: the file is written as a new file beside it and renamed over it
// (writeSnapshot), so what must be writable is its folder. A symbolic link
// is refused: writing through it would replace a file elsewhere.
func checkWritable(path string) error {
	if err := refuseNonRegular(path); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return &usageError{fmt.Sprintf("writing evidence file %s: %v", path, err)}
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("removing %s after checking that %s can be written: %w", f.Name(), path, err)
	}
	return nil
}

// refuseNonRegular fails for a path that exists and is not a regular file.
func refuseNonRegular(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return &usageError{fmt.Sprintf("writing evidence file: %v", err)}
	case fi.Mode()&fs.ModeSymlink != 0:
		return usagef("writing evidence file %s: it is a symbolic link; give the path of the file itself", path)
	case !fi.Mode().IsRegular():
		return usagef("writing evidence file %s: not a regular file", path)
	}
	return nil
}

// writeSnapshot writes the evidence to a new file in path's folder, mode
// 0600 (evidence names the account's roles and policies), syncs it and
// renames it over path: a reader never sees half a file, a failed write
// leaves the old one, and an old file's wider mode is not kept. It says
// when it replaced a file.
func writeSnapshot(path string, ev *evidence.Evidence, errOut io.Writer) error {
	if err := refuseNonRegular(path); err != nil {
		return err
	}
	_, statErr := os.Lstat(path)
	replaced := statErr == nil
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return &usageError{fmt.Sprintf("writing evidence file %s: %v", path, err)}
	}
	tmp := f.Name()
	err = evidence.Write(f, ev)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing evidence file %s: %w", path, err)
	}
	if replaced {
		fmt.Fprintf(errOut, "why-denied: replaced %s\n", report.Escape(path))
	}
	return nil
}
