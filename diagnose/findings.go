package diagnose

import (
	"fmt"
	"strings"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

var layerWords = map[policy.Layer]string{
	LayerVPCEndpoint:                "VPC endpoint policy",
	policy.LayerSCP:                 "service control policy (SCP)",
	policy.LayerRCP:                 "resource control policy (RCP)",
	policy.LayerResource:            "resource-based policy of the function",
	policy.LayerIdentity:            "identity-based policy",
	policy.LayerPermissionsBoundary: "permissions boundary",
	policy.LayerSessionPolicy:       "session policy",
}

// findings lists what the user should know: why each blocking layer blocks,
// and the traps around Lambda invokes (qualifiers, service principal grants,
// policies that are not needed).
func findings(ev *evidence.Evidence, in *policy.Input, res *policy.Result, v *Verdict) []Finding {
	var out []Finding
	for _, rep := range v.Layers {
		if !rep.Blocks {
			continue
		}
		out = append(out, blockingFinding(rep, in, v))
	}
	out = append(out, servicePrincipalGrants(res, &in.Request)...)
	out = append(out, grantKindFindings(res)...)
	out = append(out, unscopedServiceGrants(res)...)
	if f := qualifiedCallWarning(in, res, v); f != nil {
		out = append(out, *f)
	}
	if f := notNeeded(res, v); f != nil {
		out = append(out, *f)
	}
	if v.Simulator.AgreesWithLocal != nil && !*v.Simulator.AgreesWithLocal {
		out = append(out, Finding{Kind: "simulatorDisagrees", Severity: SeverityWarning, Layer: policy.LayerIdentity,
			Message: fmt.Sprintf("AWS's policy simulator decided %s for the identity side, the local engine did not; the verdict follows the simulator. Check for policies the tool could not read, or report the case.", ev.Simulation.Decision)})
	}
	if ev.Simulation != nil && len(ev.Simulation.MissingContextValues) > 0 {
		out = append(out, Finding{Kind: "missingContext", Severity: SeverityInfo,
			Message: fmt.Sprintf("the simulator evaluated without values for %s; pass them with --context KEY=VALUE for an exact answer", strings.Join(ev.Simulation.MissingContextValues, ", "))})
	}
	if strings.EqualFold(ev.Request.Action, "lambda:InvokeAsync") {
		out = append(out, Finding{Kind: "invokeAsyncDeprecated", Severity: SeverityInfo,
			Message: "InvokeAsync is a deprecated API; an asynchronous call is Invoke with InvocationType Event, authorized as lambda:InvokeFunction"})
	}
	if ev.Organization != nil && len(ev.Organization.RCPs) > 0 && !rcpApplies(ev.Request.Action) {
		out = append(out, Finding{Kind: "rcpNotApplicable", Severity: SeverityInfo, Layer: policy.LayerRCP,
			Message: fmt.Sprintf("the organization's RCPs were not evaluated: RCPs apply only to a subset of AWS services, and %s is not among them", serviceOf(ev.Request.Action))})
	}
	if len(out) == 0 {
		return []Finding{}
	}
	return out
}

// rcpServices are the services whose resources RCPs restrict (AWS
// Organizations User Guide, "Resource control policies": "List of AWS
// services that support RCPs"). Lambda is not one of them.
var rcpServices = map[string]bool{
	"s3": true, "sts": true, "kms": true, "sqs": true, "secretsmanager": true,
	"cognito-identity": true, "logs": true, "dynamodb": true, "ecr": true, "aoss": true,
}

func rcpApplies(action string) bool { return rcpServices[serviceOf(action)] }

func serviceOf(action string) string {
	s, _, _ := strings.Cut(strings.ToLower(action), ":")
	return s
}

func blockingFinding(rep LayerReport, in *policy.Input, v *Verdict) Finding {
	f := Finding{Kind: "blocked", Severity: SeverityBlocking, Layer: rep.Layer}
	name := layerWords[rep.Layer]
	switch rep.Result {
	case "denies":
		f.Kind = "explicitDeny"
		if len(rep.Statements) == 0 {
			// Only AWS's simulator saw this Deny: in a policy the tool could
			// not read, or in an SCP, whose documents it does not read.
			f.Message = fmt.Sprintf("AWS's policy simulator reports an explicit Deny in the %s for this call%s; the tool could not read the statement itself", name, simulatorSources(v))
			if rep.Layer == policy.LayerSCP {
				f.Message += ". SCPs are owned by the organization's management account: ask its administrators which SCP applies to account " + v.Caller.Account
			}
			return f
		}
		st := rep.Statements[0]
		f.Message = fmt.Sprintf("an explicit Deny in the %s %q, statement %s, matches this call, and a Deny wins over every Allow", name, st.Policy, statementName(st))
		if len(st.Reasons) > 0 {
			f.Message += ": " + strings.Join(st.Reasons, "; ")
		}
		if len(rep.Statements) > 1 {
			f.Message += fmt.Sprintf(" (%d Deny statements match)", len(rep.Statements))
		}
		if rep.Layer == policy.LayerSCP || rep.Layer == policy.LayerRCP {
			f.Message += ". evidence.Organization policies are owned by the management account: ask its administrators"
		}
		return f
	}
	switch {
	case rep.Layer == policy.LayerResource && v.CrossAccount:
		f.Kind = "crossAccount"
		f.Message = fmt.Sprintf("the call crosses accounts (%s -> %s), so the function's resource-based policy must also allow it, and no statement allows %s", v.Caller.Account, v.Target.Account, v.Caller.Principal)
	case rep.Layer == policy.LayerResource:
		f.Message = fmt.Sprintf("no statement of the %s allows %s", name, v.Caller.Principal)
	case rep.Source == SourceSimulator && len(rep.Statements) == 0:
		f.Message = fmt.Sprintf("AWS's policy simulator reports that no %s allows %s on %s", name, in.Request.Action, in.Request.Resource)
	default:
		f.Message = fmt.Sprintf("no %s allows %s on %s", name, in.Request.Action, in.Request.Resource)
	}
	if rep.Layer == policy.LayerIdentity && v.CrossAccount {
		f.Message += fmt.Sprintf("; the call crosses accounts (%s -> %s), so both sides must allow: the caller's identity policy as well as the function's resource policy", v.Caller.Account, v.Target.Account)
	}
	if rep.Layer == policy.LayerIdentity && len(in.Identity) == 0 {
		f.Message += " (the caller has no identity-based policies)"
	}
	if rep.Layer == policy.LayerPermissionsBoundary {
		kind, name := entityName(v.Caller.Entity)
		f.Message += fmt.Sprintf("; the boundary is set on the %s (aws iam get-%s --%s-name %s shows it) and is usually managed by a platform or security team", kind, kind, kind, name)
	}
	if rep.Layer == policy.LayerSCP && rep.Source == SourceSimulator && len(rep.Statements) == 0 {
		f.Message += "; SCPs are owned by the organization's management account: ask its administrators which SCP applies to account " + v.Caller.Account
	}
	if len(rep.Statements) > 0 {
		st := rep.Statements[0]
		if st.Status == "closest" && len(st.Reasons) > 0 {
			// The first reason only: the layer's statements carry them all.
			f.Message += fmt.Sprintf(". Closest: %q statement %s: %s", st.Policy, statementName(st), st.Reasons[0])
		}
	}
	return f
}

func statementName(st StatementReport) string {
	if st.Sid != "" {
		return fmt.Sprintf("%d (%s)", st.Statement, st.Sid)
	}
	return fmt.Sprint(st.Statement)
}

// servicePrincipalGrants points out resource policy statements that grant a
// service principal when the caller is not that service: the classic
// `AWS::Lambda::Permission` with `Principal: lambda.amazonaws.com`, which
// never applies to a function's role session.
func servicePrincipalGrants(res *policy.Result, req *policy.Request) []Finding {
	if res.Kind == policy.KindService {
		return nil
	}
	lr := res.Layer(policy.LayerResource)
	if lr == nil || !lr.Applies {
		return nil
	}
	var out []Finding
	for _, st := range lr.Statements {
		if st.Effect != policy.Allow {
			continue
		}
		for _, f := range st.Failures {
			if f.Element != policy.ElemPrincipal || f.Reason != "" || !allServices(f.Values) {
				continue
			}
			name := fmt.Sprint(st.Statement)
			if st.Sid != "" {
				name = st.Sid
			}
			out = append(out, Finding{Kind: "servicePrincipalGrant", Severity: SeverityInfo, Layer: policy.LayerResource,
				Message: fmt.Sprintf("resource policy statement %s grants %s, a service principal: it does not apply to %s (%s)", name, strings.TrimPrefix(list(f.Values), "Service:"), article(res.Kind), req.Principal)})
		}
	}
	return out
}

func allServices(values []string) bool {
	for _, v := range values {
		if !strings.HasPrefix(v, "Service:") {
			return false
		}
	}
	return len(values) > 0
}

// qualifiedCallWarning: an allowed unqualified call whose grant does not
// cover qualified calls (aliases, versions) is a deploy away from denial,
// e.g. when AutoPublishAlias is turned on.
func qualifiedCallWarning(in *policy.Input, res *policy.Result, v *Verdict) *Finding {
	// Only where the identity policy is what allows: a function's resource
	// policy is per qualifier, and its fix is another add-permission.
	if v.Decision != policy.Allowed || !res.Layer(policy.LayerIdentity).Allows || res.Layer(policy.LayerResource).Grant != policy.MatchNone {
		return nil
	}
	unq, qual, ok := functionParts(in.Request.Resource)
	if !ok || qual != "" {
		return nil
	}
	alt := *in
	alt.Request.Resource = unq + ":live"
	if r := policy.Evaluate(&alt); r.Decision != policy.Allowed {
		return &Finding{Kind: "qualifiedCallsDenied", Severity: SeverityWarning, Layer: firstOr(r.BlockedBy, policy.LayerIdentity),
			Message: fmt.Sprintf("this unqualified call is allowed, but a call to an alias or a version of the function (as with SAM's AutoPublishAlias) would be denied (%s): the identity policy's Resource names only the unqualified ARN; %s:* covers qualified calls", r.Decision, unq)}
	}
	return nil
}

func firstOr(ls []policy.Layer, def policy.Layer) policy.Layer {
	if len(ls) > 0 {
		return ls[0]
	}
	return def
}

// notNeeded says what the user need not add: in one account an identity
// Allow suffices, no resource policy is needed.
func notNeeded(res *policy.Result, v *Verdict) *Finding {
	if res.Kind == policy.KindService || res.CrossAccount {
		return nil
	}
	id := res.Layer(policy.LayerIdentity)
	resource := res.Layer(policy.LayerResource)
	if id.Allows && resource.Grant == policy.MatchNone {
		return &Finding{Kind: "resourcePolicyNotNeeded", Severity: SeverityInfo, Layer: policy.LayerResource,
			Message: "caller and function are in the same account, and an identity-based policy allows the call: no resource-based policy (lambda add-permission) is needed"}
	}
	if !id.Allows && v.Decision != policy.Allowed && res.Blocks(policy.LayerIdentity) {
		return &Finding{Kind: "resourcePolicyNotNeeded", Severity: SeverityInfo, Layer: policy.LayerIdentity,
			Message: "caller and function are in the same account: an Allow in the caller's identity-based policy is enough; a resource-based policy is needed only for other accounts or AWS services"}
	}
	return nil
}

// functionURLCheck: since October 2025, invoking a function URL needs
// lambda:InvokeFunction as well as lambda:InvokeFunctionUrl.
func functionURLCheck(in *policy.Input) *Finding {
	if !strings.EqualFold(in.Request.Action, "lambda:InvokeFunctionUrl") {
		return nil
	}
	alt := *in
	alt.Request.Action = "lambda:InvokeFunction"
	// The InvokeFunction check of a URL call carries
	// lambda:InvokedViaFunctionUrl (add-permission --invoked-via-function-url).
	ctx := policy.Context{"lambda:InvokedViaFunctionUrl": {"true"}}
	for k, vals := range in.Request.Context {
		ctx[k] = vals
	}
	alt.Request.Context = ctx
	r := policy.Evaluate(&alt)
	if r.Decision == policy.Allowed {
		return nil
	}
	return &Finding{Kind: "functionUrlNeedsInvokeFunction", Severity: SeverityBlocking, Layer: firstOr(r.BlockedBy, policy.LayerIdentity),
		Message: fmt.Sprintf("function URLs also require lambda:InvokeFunction (since October 2025), and it is not allowed (%s by %s)", r.Decision, joinLayers(r.BlockedBy))}
}

func joinLayers(ls []policy.Layer) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = string(l)
	}
	return strings.Join(s, ", ")
}

// summarize is the verdict in one sentence.
func summarize(v *Verdict) string {
	switch v.Decision {
	case policy.Allowed:
		for _, rep := range v.Layers {
			if rep.Result == "allows" && (rep.Layer == policy.LayerIdentity || rep.Layer == policy.LayerResource) && len(rep.Statements) > 0 {
				st := rep.Statements[0]
				return fmt.Sprintf("ALLOWED: %s may call %s on %s (%s %q, statement %s)", v.Caller.Principal, v.Request.Action, v.Request.Resource, layerWords[rep.Layer], st.Policy, statementName(st))
			}
		}
		return fmt.Sprintf("ALLOWED: %s may call %s on %s", v.Caller.Principal, v.Request.Action, v.Request.Resource)
	}
	words := make([]string, len(v.BlockedBy))
	for i, l := range v.BlockedBy {
		words[i] = layerWords[l]
	}
	return fmt.Sprintf("DENIED (%s) by the %s", v.Decision, strings.Join(words, " and the "))
}

// grantKindFindings explain resource policy grants whose principal form
// decides the outcome: a grant to the role ARN is limited by the boundary
// and session policies where one to the session ARN is not; a grant to the
// account delegates to the account's identity policies.
func grantKindFindings(res *policy.Result) []Finding {
	resource := res.Layer(policy.LayerResource)
	if resource == nil || !resource.Applies || res.Kind == policy.KindService {
		return nil
	}
	var out []Finding
	switch resource.Grant {
	case policy.MatchRole:
		for _, l := range []policy.Layer{policy.LayerPermissionsBoundary, policy.LayerSessionPolicy} {
			if res.Blocks(l) {
				out = append(out, Finding{Kind: "roleGrantLimited", Severity: SeverityInfo, Layer: policy.LayerResource,
					Message: fmt.Sprintf("the resource policy names the role ARN, so its grant is limited by the %s; a grant that names the session ARN would not be (a session ARN names one session: for a Lambda function's role, the session is named after the function)", layerWords[l])})
			}
		}
	case policy.MatchAccount:
		if !res.CrossAccount && res.Blocks(policy.LayerIdentity) {
			out = append(out, Finding{Kind: "accountGrant", Severity: SeverityInfo, Layer: policy.LayerResource,
				Message: "the resource policy names the account (its root or ID), not the caller: that delegates the decision to the account's identity policies and grants nothing by itself, so the caller's identity policy must allow the call"})
		}
	}
	return out
}

// simulatorSources names the policies the simulator reported as deciding.
func simulatorSources(v *Verdict) string {
	if v.simulation == nil || len(v.simulation.MatchedStatements) == 0 {
		return ""
	}
	var ids []string
	for _, m := range v.simulation.MatchedStatements {
		ids = append(ids, m.SourcePolicyID)
	}
	return " (in " + strings.Join(ids, ", ") + ")"
}

// unscopedServiceGrants warns about a grant to an AWS service that does not
// pin the source account: "If you specify a service, use SourceArn or
// SourceAccount to limit who can invoke the function through that service"
// (Lambda API reference, AddPermission). An S3 bucket ARN carries no
// account, so a SourceArn alone still lets a bucket of that name in another
// account call the function.
func unscopedServiceGrants(res *policy.Result) []Finding {
	if res.Kind != policy.KindService {
		return nil
	}
	lr := res.Layer(policy.LayerResource)
	if lr == nil {
		return nil
	}
	var out []Finding
	for _, st := range lr.Statements {
		if !st.Matched || st.Effect != policy.Allow || st.Principal != policy.MatchService {
			continue
		}
		var hasArn, hasAccount, s3Arn bool
		for _, c := range st.Conditions {
			switch strings.ToLower(c.Key) {
			case "aws:sourcearn":
				hasArn = true
				for _, v := range c.Values {
					s3Arn = s3Arn || strings.HasPrefix(v, "arn:aws:s3:::")
				}
			case "aws:sourceaccount", "aws:sourceowner":
				hasAccount = true
			}
		}
		name := fmt.Sprint(st.Statement)
		if st.Sid != "" {
			name = st.Sid
		}
		switch {
		case !hasArn && !hasAccount:
			out = append(out, Finding{Kind: "unscopedServiceGrant", Severity: SeverityWarning, Layer: policy.LayerResource,
				Message: fmt.Sprintf("resource policy statement %s lets the service call the function on behalf of any resource in any account: add aws:SourceArn and aws:SourceAccount conditions (add-permission --source-arn --source-account)", name)})
		case s3Arn && !hasAccount:
			out = append(out, Finding{Kind: "unscopedServiceGrant", Severity: SeverityWarning, Layer: policy.LayerResource,
				Message: fmt.Sprintf("resource policy statement %s names the bucket but not its account: a bucket ARN carries no account, so add an aws:SourceAccount condition (add-permission --source-account)", name)})
		}
	}
	return out
}
