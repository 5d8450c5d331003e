package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/why-denied/why-denied/accessdenied"
	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/report"
)

const explainExamples = `  # Paste the message as one argument (quote it)
  why-denied explain 'User: arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live because no identity-based policy allows the lambda:InvokeFunction action'

  # Or pipe it in, e.g. from a log
  grep AccessDenied app.log | tail -1 | why-denied explain -

  # A CloudTrail record or trail file: its request context (source IP, VPC endpoint, MFA) is used too.
  # Invoke is a data event: it is only in trails that log data events, not in lookup-events.
  aws s3 cp s3://TRAIL_BUCKET/AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/30/FILE.json.gz - | gunzip | why-denied explain -

  # Against saved evidence, offline
  why-denied explain --from-snapshot evidence.json "$MESSAGE"`

// maxMessage bounds what explain reads from standard input: an
// AccessDenied message is a line or a log record, far smaller.
const maxMessage = 1 << 20

// explainOptions: the message and the options of the main command.
type explainOptions struct {
	diagnoseOptions
	Message string
}

func newExplainCmd(s streams, d deps, runF func(*explainOptions) error) *cobra.Command {
	opts := &explainOptions{diagnoseOptions: diagnoseOptions{IO: s, Deps: d, Action: awsclient.DefaultAction}}
	cmd := &cobra.Command{
		Use:   "explain MESSAGE|-",
		Short: "Explain a pasted AccessDenied message and diagnose the call it is about",
		Long: `explain parses an AccessDenied message (as printed by the AWS CLI, the SDKs, IaC
tools or a log, or a CloudTrail record; "-" reads it from standard input) into the caller,
action, resource and the policy layer AWS named, then diagnoses that call against the
account, or against --from-snapshot. A CloudTrail record also gives the request's context
(aws:SourceIp, aws:SourceVpce, MFA) and time. For other resources than Lambda functions,
and for Lambda's, S3's and API Gateway's other denial texts, it says which policy governs
the call and how to read it.
AWS names only one blocking layer; the diagnosis names all of them and says when it
found more than the message. Without credentials it prints what the message means, which
policy to look at, and the commands to run next.`,
		Example: explainExamples,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("expected one MESSAGE argument (quote it), or - to read it from standard input")
			}
			return nil
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			msg := args[0]
			if msg == "-" {
				// One byte more than the limit tells a long input from one
				// of exactly 1 MiB: a cut message would be misread.
				b, err := io.ReadAll(io.LimitReader(opts.IO.In, maxMessage+1))
				if err != nil {
					return fmt.Errorf("reading the message from standard input: %w", err)
				}
				if len(b) > maxMessage {
					return usagef("the message is larger than 1 MiB; paste the AccessDenied line itself")
				}
				msg = string(b)
			}
			opts.Message = msg
			var err error
			if opts.format, err = report.ParseFormat(opts.Output); err != nil {
				return &usageError{err.Error()}
			}
			if opts.Timeout <= 0 {
				return usagef("--timeout must be positive, got %s", opts.Timeout)
			}
			if runF != nil {
				return runF(opts)
			}
			return explainRun(cmd.Context(), opts)
		},
	}
	addAccessFlags(cmd, &opts.diagnoseOptions)
	cmd.Flags().Lookup("region").Usage = "AWS region (default: the region in the message's resource ARN)"
	return cmd
}

func explainRun(ctx context.Context, o *explainOptions) error {
	d, err := accessdenied.ParseDenial(o.Message)
	if err != nil {
		return err
	}
	// A CloudTrail record's time is the moment its request was made: the
	// diagnosis is of that request, not of one made now, whether the
	// account is read or an evidence file is (whose call the message's
	// context and time then complete: see diagnose.Options.Message).
	if d.EventTime != "" && o.at == nil {
		if at, err := time.Parse(time.RFC3339, d.EventTime); err == nil {
			o.at = &at
		}
	}
	var ev *evidence.Evidence
	if o.FromSnapshot != "" {
		if ev, err = readSnapshot(o.FromSnapshot); err != nil {
			return err
		}
	} else {
		if why := d.CannotDiagnose(); why != "" {
			return o.meaningOnly(d, why, nil)
		}
		o.Caller, o.Target, o.Action = d.Caller, d.Resource, d.Action
		o.messageSCP = d.PolicyARN
		// A CloudTrail record shows the request's context: read with it.
		o.ctx = evidence.ContextValues{}
		for k, v := range d.Context {
			o.ctx[k] = v
		}
		if a, ok := arn.Parse(d.Resource); ok && o.Region == "" {
			// The message names the function's region: read it there,
			// rather than require one configured.
			o.Region = a.Region
		}
		if ev, err = o.evidence(ctx); err != nil {
			return o.accountUnreadable(d, err)
		}
	}
	opts := o.options()
	opts.Message = d
	v, err := diagnose.Diagnose(ev, opts)
	if err != nil {
		return err
	}
	for _, f := range v.Findings {
		if f.Kind == diagnose.KindMessageMismatch {
			// The warning quotes the message's caller and resource.
			fmt.Fprintf(o.IO.Err, "why-denied: warning: %s\n", report.Escape(f.Message))
		}
	}
	if err := report.Render(o.IO.Out, o.format, v, o.Display.view(o.IO.Out).Table); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return decisionError(v)
}

// accountUnreadable handles a failed read of the account. A message that
// names nothing AWS knows is bad input (exit 2); anything else, including
// a profile or region this machine cannot use, leaves the message to
// explain without a diagnosis (exit 3), as missing credentials do.
func (o *explainOptions) accountUnreadable(d *accessdenied.Denial, err error) error {
	reason := "the account could not be read: " + oneLine(err.Error())
	var input *awsclient.InputError
	var notFound *awsclient.NotFoundError
	switch {
	case errors.As(err, &input) && (input.Arg == "region" || input.Arg == "profile"):
		return o.meaningOnly(d, reason, nil) // not the cause: it would make exit 2
	case errors.As(err, &input), errors.As(err, &notFound):
		return err
	}
	return o.meaningOnly(d, reason, err)
}

// meaningOnly prints what the message means when no diagnosis can be made,
// and ends with exit code 3: the diagnosis is incomplete.
func (o *explainOptions) meaningOnly(d *accessdenied.Denial, reason string, cause error) error {
	m := accessdenied.Explain(d)
	m.Reason = reason
	if err := report.Render(o.IO.Out, o.format, m, o.Display.view(o.IO.Out).Meaning); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if cause != nil {
		return fmt.Errorf("no diagnosis: %w", cause)
	}
	return &incompleteError{msg: "no diagnosis: " + reason}
}
