package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
	"github.com/why-denied/why-denied/report"
)

const explainExamples = `  # Paste the message as one argument (quote it)
  why-denied explain 'User: arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live because no identity-based policy allows the lambda:InvokeFunction action'

  # Or pipe it in, e.g. from a log
  grep AccessDenied app.log | tail -1 | why-denied explain -

  # Against saved evidence, offline
  why-denied explain --from-snapshot evidence.json "$MESSAGE"`

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
		Long: `explain parses an AccessDenied message (as printed by the AWS CLI, the SDKs or a
log; "-" reads it from standard input) into the caller, action, resource and the policy
layer AWS named, then diagnoses that call against the account, or against --from-snapshot.
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
				b, err := io.ReadAll(io.LimitReader(opts.IO.In, 1<<20))
				if err != nil {
					return fmt.Errorf("reading the message from standard input: %w", err)
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
	d, err := diagnose.ParseDenial(o.Message)
	if err != nil {
		return err
	}
	var ev *evidence.Evidence
	mismatch := ""
	if o.FromSnapshot != "" {
		if ev, err = readSnapshot(o.FromSnapshot); err != nil {
			return err
		}
		mismatch = messageMismatch(d, ev)
	} else {
		if why := cannotDiagnose(d); why != "" {
			return o.meaningOnly(d, why, nil)
		}
		o.Caller, o.Target, o.Action = d.Caller, d.Resource, d.Action
		o.ctx = evidence.ContextValues{}
		if a, ok := policy.ParseARN(d.Resource); ok && o.Region == "" {
			// The message names the function's region: read it there,
			// rather than require one configured.
			o.Region = a.Region
		}
		if ev, err = o.evidence(ctx); err != nil {
			return o.accountUnreadable(d, err)
		}
	}
	v, err := diagnose.Diagnose(ev)
	if err != nil {
		return err
	}
	v.CompareWithMessage(d)
	if mismatch != "" {
		fmt.Fprintf(o.IO.Err, "why-denied: warning: %s\n", mismatch)
		v.Findings = append(v.Findings, diagnose.Finding{Kind: "messageMismatch", Severity: diagnose.SeverityWarning,
			Message: mismatch + ": the verdict is about the evidence file's call, not the message's"})
	}
	if err := report.Render(o.IO.Out, o.format, v, report.Table); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return decisionError(v)
}

// accountUnreadable handles a failed read of the account. A message that
// names nothing AWS knows is bad input (exit 2); anything else, including
// a profile or region this machine cannot use, leaves the message to
// explain without a diagnosis (exit 3), as missing credentials do.
func (o *explainOptions) accountUnreadable(d *diagnose.Denial, err error) error {
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

// cannotDiagnose says why the message alone does not name a call the tool
// can look up, or "".
func cannotDiagnose(d *diagnose.Denial) string {
	switch {
	case d.Caller == "":
		return "the message does not name the caller"
	case strings.EqualFold(d.Caller, "anonymous"):
		// AWS's word for an unsigned request: no principal to look up.
		return "the caller is anonymous"
	case d.Redacted:
		return "the message's ARNs are redacted"
	case d.Resource == "":
		return "the message does not name the resource"
	case looksCutOff(d.Resource):
		return "the resource ARN looks cut off (a wrapped paste?)"
	case !strings.HasPrefix(d.Resource, "arn:") || !strings.Contains(d.Resource, ":lambda:"):
		return "the resource is not a Lambda function, which is all why-denied diagnoses"
	}
	return ""
}

// looksCutOff reports whether an ARN ends before its last field, as when a
// terminal wrapped the message and the paste kept the break: any ARN has at
// least six fields, a Lambda ARN seven (arn:aws:lambda:REGION:ACCOUNT:
// function:NAME).
func looksCutOff(arn string) bool {
	if !strings.HasPrefix(arn, "arn:") {
		return false
	}
	fields := strings.Split(arn, ":")
	return len(fields) < 6 || (fields[2] == "lambda" && len(fields) < 7) || strings.HasSuffix(arn, ":")
}

// messageMismatch says how the call a message is about differs from the
// call in an evidence file, or "" when they agree as far as the message
// tells. ARNs masked in the message, and all ARNs when the evidence file
// is redacted (its names were replaced), are not compared.
func messageMismatch(d *diagnose.Denial, ev *evidence.Evidence) string {
	var inMessage, inEvidence []string
	differs := func(what, message, evidence string) {
		inMessage = append(inMessage, what+" "+message)
		inEvidence = append(inEvidence, what+" "+evidence)
	}
	if d.Caller != "" && !ev.Redacted && !masked(d.Caller) && !sameCaller(d.Caller, ev) {
		differs("caller", d.Caller, ev.Request.Caller)
	}
	// Action names are case-insensitive (IAM User Guide, "IAM JSON policy
	// elements: Action").
	if !strings.EqualFold(d.Action, ev.Request.Action) {
		differs("action", d.Action, ev.Request.Action)
	}
	cutOff := looksCutOff(d.Resource) && strings.HasPrefix(ev.Request.Resource, d.Resource)
	if d.Resource != "" && !ev.Redacted && !masked(d.Resource) && d.Resource != ev.Request.Resource && !cutOff {
		differs("resource", d.Resource, ev.Request.Resource)
	}
	if len(inMessage) == 0 {
		return ""
	}
	return fmt.Sprintf("the message is about %s, the evidence file about %s", strings.Join(inMessage, " and "), strings.Join(inEvidence, " and "))
}

// sameCaller reports whether the message's caller is the evidence's: the
// principal AWS saw, the role or user whose policies apply, or another
// session of that role (arn:aws:sts::A:assumed-role/R/S is a session of
// arn:aws:iam::A:role/PATH/R, whose ARN the session's omits the path of).
func sameCaller(caller string, ev *evidence.Evidence) bool {
	if caller == ev.Request.Caller || (ev.Caller.ARN != "" && caller == ev.Caller.ARN) {
		return true
	}
	session, ok := policy.ParseARN(caller)
	role, roleOK := policy.ParseARN(ev.Caller.ARN)
	if !ok || !roleOK || session.Service != "sts" || role.Service != "iam" || session.Account != role.Account ||
		!strings.HasPrefix(session.Resource, "assumed-role/") || !strings.HasPrefix(role.Resource, "role/") {
		return false
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(session.Resource, "assumed-role/"), "/")
	return name == role.Resource[strings.LastIndexByte(role.Resource, '/')+1:]
}

// masked reports whether an ARN as printed in a message hides its account
// (*** from CI log masking, or an account that is not 12 digits): it cannot
// be compared with the evidence.
func masked(arn string) bool {
	if strings.Contains(arn, "***") {
		return true
	}
	a, ok := policy.ParseARN(arn)
	if !ok {
		return false
	}
	switch {
	case a.Account == "", a.Account == "aws", a.Account == "*":
		return false
	case len(a.Account) == 12 && strings.Trim(a.Account, "0123456789") == "":
		return false
	}
	return true
}

// meaningOnly prints what the message means when no diagnosis can be made,
// and ends with exit code 3: the diagnosis is incomplete.
func (o *explainOptions) meaningOnly(d *diagnose.Denial, reason string, cause error) error {
	m := diagnose.Explain(d)
	m.Reason = reason
	if err := report.Render(o.IO.Out, o.format, m, report.Meaning); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if cause != nil {
		return fmt.Errorf("no diagnosis: %w", cause)
	}
	return &incompleteError{msg: "no diagnosis: " + reason}
}

// incompleteError: the diagnosis could not be completed (exit 3).
type incompleteError struct{ msg string }

func (e *incompleteError) Error() string { return e.msg }
