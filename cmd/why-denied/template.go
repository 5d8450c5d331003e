package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
	"github.com/why-denied/why-denied/report"
	"github.com/why-denied/why-denied/template"
)

const templateExamples = `  # Every call the stack is built to make, one line each, before deploy
  why-denied template -t template.yaml

  # Can RequestFunction invoke ProcessorFunction's alias "live"?
  why-denied template RequestFunction ProcessorFunction:live

  # Parameters, exports of other stacks, and where it will be deployed
  why-denied template --param Stage=prod --import SharedTopicArn=arn:aws:sns:us-east-1:111111111111:t \
    --account 111111111111 --region eu-west-1 --stack-name orders RequestFunction ProcessorFunction

  # Read the managed policies and roles the template names by ARN but does not define
  why-denied template --profile dev --account 111111111111 RequestFunction ProcessorFunction

  # Save the evidence built from the template, to diagnose it again with --from-snapshot
  why-denied template --snapshot evidence.json RequestFunction ProcessorFunction`

// templateOptions holds the flags and arguments of why-denied template.
type templateOptions struct {
	IO   streams
	Deps deps

	File               string
	Caller, Target     string
	Params             []string
	ParameterOverrides string
	Imports            []string
	Account, Region    string
	StackName          string
	Action             string
	Context            []string
	Output             string
	Snapshot           string
	Display            displayOptions
	// Profile, when set, reads from the account (read-only) the managed
	// policies and roles the template names by ARN without defining them.
	Profile     string
	EndpointURL string

	format report.Format
	ctx    evidence.ContextValues
	// actionSet: --action was given, and applies to every call found.
	actionSet bool
}

func newTemplateCmd(io streams, d deps, runF func(*templateOptions) error) *cobra.Command {
	opts := &templateOptions{IO: io, Deps: d}
	cmd := &cobra.Command{
		Use:   "template [-t template.yaml] [CALLER [TARGET[:QUALIFIER]]]",
		Short: "Before deploy: will the calls between a SAM/CloudFormation stack's functions be allowed?",
		Long: `template reads a SAM or CloudFormation template, applies the part of the SAM transform
that decides permissions (execution roles, Policies, policy templates, Connectors,
AutoPublishAlias, Events, FunctionUrlConfig), resolves intrinsic functions for the
account, region, stack name and parameters given, and diagnoses the call as the live
command would once the stack is deployed, with fixes written for the template.

CALLER is a function's logical ID, a service principal (s3.amazonaws.com), or anonymous.
TARGET is a function's logical ID, with :QUALIFIER for an alias or version.
Without CALLER and TARGET it finds the calls the stack is built to make and prints one
line per call; the exit code is the worst of them.

Generated names (STACK-LogicalId-SUFFIX) and deploy-time IDs stay opaque; what the
template does not determine (Fn::ImportValue without --import, a parameter without a
value, SSM-typed parameters) makes only the statement holding it unknown, and the
verdict says what to pass. A managed policy or a Role given by ARN and not defined in
the template is unknown too, unless --profile reads it from the account (read-only:
iam:GetPolicy, iam:GetPolicyVersion, iam:GetRole and the role's policies).`,
		Example: templateExamples,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 2 {
				return usagef("expected at most CALLER and TARGET, got %d arguments (see why-denied template --help)", len(args))
			}
			return nil
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				opts.Caller = args[0]
			}
			if len(args) > 1 {
				opts.Target = args[1]
			}
			if err := opts.validate(); err != nil {
				return err
			}
			opts.actionSet = cmd.Flags().Changed("action")
			if runF != nil {
				return runF(opts)
			}
			return templateRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.File, "template-file", "t", "template.yaml", "the SAM or CloudFormation template, YAML or JSON")
	f.StringArrayVar(&opts.Params, "param", nil, "a parameter value, `KEY=VALUE` (repeatable)")
	f.StringVar(&opts.ParameterOverrides, "parameter-overrides", "", "parameter values from `FILE`: KEY=VALUE lines, or CloudFormation's JSON [{\"ParameterKey\":...,\"ParameterValue\":...}]")
	f.StringArrayVar(&opts.Imports, "import", nil, "the value of an export another stack makes, for Fn::ImportValue, `NAME=VALUE` (repeatable)")
	f.StringVar(&opts.Account, "account", "123456789012", "the account ID the stack is deployed to (AWS::AccountId)")
	f.StringVar(&opts.Region, "region", "us-east-1", "the region the stack is deployed to (AWS::Region)")
	f.StringVar(&opts.StackName, "stack-name", "STACK", "the stack's name (AWS::StackName, and the start of generated names)")
	f.StringVar(&opts.Action, "action", awsclient.DefaultAction, "the action to diagnose")
	f.StringArrayVar(&opts.Context, "context", nil, "a request condition key, `KEY=VALUE` (repeat for more keys or values)")
	f.StringVarP(&opts.Output, "output", "o", "table", "output format: table or json")
	addDisplayFlags(cmd, &opts.Display)
	f.StringVar(&opts.Snapshot, "snapshot", "", "save the evidence built from the template to `FILE` (one call only)")
	f.StringVar(&opts.Profile, "profile", "", "AWS profile that reads, read-only, the managed policies and roles the template names by ARN without defining them (default: they are unknown)")
	f.StringVar(&opts.EndpointURL, "endpoint-url", "", "with --profile: send every AWS call to this URL (e.g. a local emulator)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(report.Formats, cobra.ShellCompDirectiveNoFileComp))
	for _, name := range []string{"param", "import", "account", "region", "stack-name", "action", "context", "profile", "endpoint-url"} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.NoFileCompletions)
	}
	return cmd
}

func (o *templateOptions) validate() error {
	var err error
	if o.format, err = report.ParseFormat(o.Output); err != nil {
		return &usageError{err.Error()}
	}
	if !arn.IsAccountID(o.Account) {
		return usagef("--account %q is not a 12-digit account ID", o.Account)
	}
	if o.Region == "" || strings.ContainsAny(o.Region, " :/") {
		return usagef("--region %q is not a region name (e.g. us-east-1)", o.Region)
	}
	if o.StackName == "" {
		return usagef("--stack-name is empty")
	}
	if !strings.HasPrefix(strings.ToLower(o.Action), "lambda:") {
		return usagef("--action %q is not a Lambda action (lambda:InvokeFunction, lambda:InvokeFunctionUrl, ...)", o.Action)
	}
	if o.EndpointURL != "" && o.Profile == "" {
		return usagef("--endpoint-url is where --profile reads the account: give --profile too")
	}
	if o.Snapshot != "" && o.Target == "" {
		return usagef("--snapshot writes the evidence of one call: give CALLER and TARGET")
	}
	if o.ctx, err = contextValues(o.Context, "", ""); err != nil {
		return err
	}
	return nil
}

// settings are the deployment the template is resolved for.
func (o *templateOptions) settings() (template.Settings, error) {
	s := template.Settings{Account: o.Account, Region: o.Region, StackName: o.StackName, Params: map[string]string{}, Imports: map[string]string{}}
	if o.ParameterOverrides != "" {
		data, err := os.ReadFile(o.ParameterOverrides)
		if err != nil {
			return s, &usageError{fmt.Sprintf("reading --parameter-overrides: %v", err)}
		}
		if err := parameterOverrides(data, s.Params); err != nil {
			return s, &usageError{fmt.Sprintf("%s: %v", o.ParameterOverrides, err)}
		}
	}
	for _, kv := range o.Params {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return s, usagef("--param %q is not KEY=VALUE", kv)
		}
		s.Params[k] = v
	}
	for _, kv := range o.Imports {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return s, usagef("--import %q is not NAME=VALUE", kv)
		}
		s.Imports[k] = v
	}
	return s, nil
}

// parameterOverrides reads KEY=VALUE lines, or CloudFormation's JSON
// parameter file ([{"ParameterKey": K, "ParameterValue": V}]).
func parameterOverrides(data []byte, into map[string]string) error {
	if t := strings.TrimSpace(string(data)); strings.HasPrefix(t, "[") {
		var list []struct{ ParameterKey, ParameterValue string }
		if err := json.Unmarshal(data, &list); err != nil {
			return fmt.Errorf("not a CloudFormation parameter file: %v", err)
		}
		for _, p := range list {
			into[p.ParameterKey] = p.ParameterValue
		}
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			return fmt.Errorf("line %d is not KEY=VALUE", n)
		}
		into[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return nil
}

// readOutside reads, with --profile, the managed policies and roles the
// template names by ARN without defining them. A read that fails leaves
// that policy or role unknown, with the reason in the verdict; only a
// profile that cannot be used at all ends the command.
func (o *templateOptions) readOutside(ctx context.Context, st *template.Stack) (template.Outside, error) {
	out := template.Outside{Policies: map[string]evidence.NamedPolicy{}, Roles: map[string]template.OutsideRole{}, Failed: map[string]string{}}
	policies, roles := st.OutsideARNs()
	if len(policies) == 0 && len(roles) == 0 {
		return out, nil
	}
	r, err := o.Deps.newReader(ctx, awsclient.Options{Profile: o.Profile, Region: o.Region, EndpointURL: o.EndpointURL, Timeout: 30 * time.Second})
	if err != nil {
		return out, err
	}
	for _, a := range policies {
		np, err := r.ReadManagedPolicy(ctx, a)
		if err != nil {
			out.Failed[a] = oneLine(err.Error())
			continue
		}
		out.Policies[a] = np
	}
	for _, a := range roles {
		rp, err := r.ReadRole(ctx, a)
		if err != nil {
			out.Failed[a] = oneLine(err.Error())
			continue
		}
		out.Roles[a] = template.OutsideRole{ARN: rp.ARN, Identity: rp.Policies, Boundary: rp.Boundary, Unreadable: rp.Unreadable}
	}
	return out, nil
}

func templateRun(ctx context.Context, o *templateOptions) error {
	src, err := os.ReadFile(o.File)
	if err != nil {
		return &usageError{fmt.Sprintf("reading the template: %v", err)}
	}
	t, err := template.Parse(src)
	var pe *template.ParseError
	var ie *template.InputError
	switch {
	case errors.As(err, &pe):
		return &usageError{o.File + ": " + pe.Error()}
	case errors.As(err, &ie):
		return &usageError{o.File + ": " + ie.Msg}
	case err != nil:
		return err
	}
	s, err := o.settings()
	if err != nil {
		return err
	}
	for k := range s.Params {
		if _, ok := t.Parameters[k]; !ok {
			return usagef("the template has no parameter %q (CloudFormation rejects it)", k)
		}
	}
	st, err := t.Resolve(s)
	if err != nil {
		return err
	}
	if o.Profile != "" {
		if s.Outside, err = o.readOutside(ctx, st); err != nil {
			return err
		}
		if st, err = t.Resolve(s); err != nil {
			return err
		}
	}
	var pairs []template.Pair
	if o.Target != "" {
		target, qual, _ := strings.Cut(o.Target, ":")
		if strings.HasPrefix(o.Target, "arn:") {
			target, qual = o.Target, ""
		}
		pairs = []template.Pair{{Caller: o.Caller, Target: target, Qualifier: qual}}
		for _, p := range st.Pairs() {
			if p.Caller == o.Caller && p.Target == target && p.Qualifier == qual {
				pairs[0].Context = p.Context
			}
		}
	} else {
		found := st.Pairs()
		// A call some allowed deployment makes is a call of the stack.
		for _, d := range t.Deployments(s) {
			if dst, err := t.Resolve(withParams(s, d)); err == nil {
				for _, p := range dst.Pairs() {
					if !slices.ContainsFunc(found, func(q template.Pair) bool {
						return q.Caller == p.Caller && q.Target == p.Target && q.Qualifier == p.Qualifier && q.Action == p.Action
					}) {
						found = append(found, p)
					}
				}
			}
		}
		for _, p := range found {
			if o.Caller == "" || p.Caller == o.Caller {
				pairs = append(pairs, p)
			}
		}
		if len(pairs) == 0 {
			fmt.Fprintln(o.IO.Out, "no calls between the template's functions were found (give CALLER and TARGET to diagnose one)")
			return nil
		}
	}
	var results []report.TemplateCall
	for _, p := range pairs {
		action := o.Action
		if p.Action != "" && !o.actionSet {
			action = p.Action
		}
		ev, err := st.Evidence(p, action, o.ctx)
		var ie *template.InputError
		if errors.As(err, &ie) {
			return &usageError{ie.Msg}
		} else if err != nil {
			return err
		}
		if o.Snapshot != "" {
			if err := writeSnapshot(o.Snapshot, ev, o.IO.Err); err != nil {
				return err
			}
		}
		v, err := diagnose.Diagnose(ev, diagnose.Options{Now: time.Now()})
		if err != nil {
			return err
		}
		var fixes []template.FixChange
		for _, f := range v.Findings {
			for _, fx := range f.Fixes {
				fixes = append(fixes, template.FixChange{Changes: fx.Changes, Verified: fx.Verified})
			}
		}
		denied := v.Decision == policy.ImplicitDeny || v.Decision == policy.ExplicitDeny
		r := report.TemplateCall{Pair: p, Verdict: v, Template: st.Findings(p, ev, denied, fixes)}
		if v.Decision == diagnose.DecisionUnknown {
			r = o.everyDeployment(t, s, p, action, r)
		}
		results = append(results, r)
	}
	if o.Target != "" {
		if err := renderOne(o, results[0]); err != nil {
			return err
		}
		return decisionError(results[0].Verdict)
	}
	if err := renderPairs(o, results); err != nil {
		return err
	}
	return worst(results)
}

func renderOne(o *templateOptions, r report.TemplateCall) error {
	if o.format == report.FormatJSON {
		return writing(report.JSON(o.IO.Out, r))
	}
	if err := report.Render(o.IO.Out, o.format, r.Verdict, o.Display.view(o.IO.Out).Table); err != nil {
		return writing(err)
	}
	return writing(report.TemplateFindings(o.IO.Out, r.Template))
}

func renderPairs(o *templateOptions, rs []report.TemplateCall) error {
	if o.format == report.FormatJSON {
		return writing(report.JSON(o.IO.Out, struct {
			Calls []report.TemplateCall `json:"calls"`
		}{rs}))
	}
	return writing(report.TemplateCalls(o.IO.Out, rs))
}

// writing says a failed write is the output's.
func writing(err error) error {
	if err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// worst is the exit of the worst verdict: incomplete, then denied.
func worst(rs []report.TemplateCall) error {
	var out error
	for _, r := range rs {
		err := decisionError(r.Verdict)
		switch {
		case err == nil:
		case exitCode(err) == exitIncomplete:
			return err
		default:
			out = err
		}
	}
	return out
}

// everyDeployment settles an unknown verdict that turns on parameters the
// template restricts (AllowedValues): each allowed combination is one
// deployment, diagnosed on its own. When all give one decision, that is
// the verdict (shown for the first), said as such; otherwise the verdict
// stays unknown and says which value gives what.
func (o *templateOptions) everyDeployment(t *template.Template, s template.Settings, p template.Pair, action string, r report.TemplateCall) report.TemplateCall {
	deployments := t.Deployments(s)
	if len(deployments) == 0 {
		return r
	}
	var first *diagnose.Verdict
	var firstFindings []template.Finding
	var words []string
	same := true
	for _, d := range deployments {
		st, err := t.Resolve(withParams(s, d))
		if err != nil {
			return r
		}
		ev, err := st.Evidence(p, action, o.ctx)
		if err != nil {
			return r
		}
		v, err := diagnose.Diagnose(ev, diagnose.Options{Now: time.Now()})
		if err != nil {
			return r
		}
		words = append(words, fmt.Sprintf("%s: %s", deploymentWords(d), v.Decision))
		if first == nil {
			first = v
			var fixes []template.FixChange
			for _, f := range v.Findings {
				for _, fx := range f.Fixes {
					fixes = append(fixes, template.FixChange{Changes: fx.Changes, Verified: fx.Verified})
				}
			}
			firstFindings = st.Findings(p, ev, v.Decision == policy.ImplicitDeny || v.Decision == policy.ExplicitDeny, fixes)
		} else if v.Decision != first.Decision {
			same = false
		}
	}
	if !same || first.Decision == diagnose.DecisionUnknown {
		r.Template = append(r.Template, template.Finding{Kind: template.KindEveryDeployment, Resource: p.Caller,
			Message: "the verdict depends on the parameters: " + strings.Join(words, "; ") + "; pass --param NAME=VALUE for the deployment you mean"})
		return r
	}
	r.Verdict, r.Template = first, firstFindings
	r.Template = append(r.Template, template.Finding{Kind: template.KindEveryDeployment, Resource: p.Caller,
		Message: fmt.Sprintf("every deployment the template allows gives %s (%s): shown for the first", first.Decision, strings.Join(words, "; "))})
	return r
}

func deploymentWords(d map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(d)) {
		parts = append(parts, k+"="+d[k])
	}
	return strings.Join(parts, " ")
}

// withParams is s with one deployment's parameter values added.
func withParams(s template.Settings, d map[string]string) template.Settings {
	s.Params = maps.Clone(s.Params)
	if s.Params == nil {
		s.Params = map[string]string{}
	}
	maps.Copy(s.Params, d)
	return s
}
