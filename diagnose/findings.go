package diagnose

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/fixtext"
	"github.com/why-denied/why-denied/policy"
)

var layerWords = map[policy.Layer]string{
	policy.LayerVPCEndpoint:         "VPC endpoint policy",
	policy.LayerSCP:                 "service control policy (SCP)",
	policy.LayerRCP:                 "resource control policy (RCP)",
	policy.LayerResource:            "resource-based policy of the function",
	policy.LayerIdentity:            "identity-based policy",
	policy.LayerPermissionsBoundary: "permissions boundary",
	policy.LayerSessionPolicy:       "session policy",
}

// findings lists what the user should know: why each blocking layer
// blocks, and the traps around Lambda invokes (qualifiers, service
// principal grants, policies that are not needed, a missing URL or role).
// Every finding agrees with the verdict: blocking ones only under a
// definite deny.
func (d *diagnosis) findings(in *policy.Input, base *outcome, v *Verdict, known policy.Decision, keys keysSettlement) []Finding {
	ev := d.ev
	res := base.legs[0].res
	var out []Finding
	if isURLCall(ev.Request.Action) && ev.Target.NoFunctionURL {
		out = append(out, Finding{Kind: KindNoFunctionURL, Severity: SeverityWarning,
			Message: fmt.Sprintf("function %s has no function URL for this qualifier: a URL call cannot reach it, whatever the policies say (aws lambda create-function-url-config creates one)", ev.Target.ARN)})
	}
	if r := ev.Target.MissingExecutionRole; r != "" {
		out = append(out, Finding{Kind: KindExecutionRoleMissing, Severity: SeverityWarning,
			Message: fmt.Sprintf("the function's execution role %s no longer exists: the function cannot run, whatever the policies say; give it an existing role (aws lambda update-function-configuration --role)", r)})
	}
	if r := ev.Caller.AsSessionOf; r != "" {
		out = append(out, Finding{Kind: KindDiagnosedAsSession, Severity: SeverityInfo,
			Message: fmt.Sprintf("the caller was given as the role %s; calls come from sessions of a role, so the verdict is for its session %s (a resource policy statement naming one particular session would be judged for that session alone)", r, ev.Request.Caller)})
	}
	if v.Decision == policy.ImplicitDeny || v.Decision == policy.ExplicitDeny {
		for _, rep := range v.Layers {
			if rep.Blocks {
				out = append(out, d.blockingFinding(rep, in, v))
			}
		}
	}
	out = append(out, servicePrincipalGrants(res, &in.Request)...)
	out = append(out, grantKindFindings(res, v)...)
	out = append(out, unscopedServiceGrants(res)...)
	if f := d.qualifiedCallWarning(in, base, v); f != nil {
		out = append(out, *f)
	}
	if f := notNeeded(base, v); f != nil {
		out = append(out, *f)
	}
	if f := d.scpSimulatorFinding(base); f != nil {
		out = append(out, *f)
	}
	if v.Simulator.AgreesWithLocal != nil && !*v.Simulator.AgreesWithLocal {
		out = append(out, Finding{Kind: KindSimulatorDisagrees, Severity: SeverityWarning, Layer: policy.LayerIdentity,
			Message: fmt.Sprintf("AWS's policy simulator decided %s for the identity side, the local engine did not; the verdict follows the simulator. Check for policies the tool could not read, or report the case.", ev.Simulation.Decision)})
	}
	if sim := ev.Simulation; sim != nil && len(sim.MissingContextValues) > 0 {
		msg := fmt.Sprintf("the simulator evaluated without values for %s; pass them with --context KEY=VALUE for an exact answer", strings.Join(sim.MissingContextValues, ", "))
		if d.sim == nil {
			msg = "the simulator's answer was not used: " + d.simNote
		}
		out = append(out, Finding{Kind: KindMissingContext, Severity: SeverityInfo, Message: msg})
	}
	if strings.EqualFold(ev.Request.Action, "lambda:InvokeAsync") {
		out = append(out, Finding{Kind: KindInvokeAsyncDeprecated, Severity: SeverityInfo,
			Message: "InvokeAsync is a deprecated API; an asynchronous call is Invoke with InvocationType Event, authorized as lambda:InvokeFunction"})
	}
	if ev.Organization != nil && len(ev.Organization.RCPs) > 0 && !rcpApplies(ev.Request.Action) {
		out = append(out, Finding{Kind: KindRCPNotApplicable, Severity: SeverityInfo, Layer: policy.LayerRCP,
			Message: fmt.Sprintf("the organization's RCPs were not evaluated: RCPs apply only to a subset of AWS services, and %s is not among them", serviceOf(ev.Request.Action))})
	}
	out = append(out, d.unreadableFindings()...)
	if len(keys.deciding) > 0 {
		out = append(out, d.keysFinding(in, known, keys))
	}
	out = append(out, d.messageFindings(v)...)
	if out == nil {
		return []Finding{}
	}
	return out
}

// keysFinding says which request-time keys the verdict turns on.
func (d *diagnosis) keysFinding(in *policy.Input, known policy.Decision, keys keysSettlement) Finding {
	outcomes := keys.outcomes
	if len(outcomes) > 3 {
		outcomes = outcomes[:3]
	}
	msg := fmt.Sprintf("the verdict turns on %s, which the tool cannot know: %s; pass the real value with %s",
		keyList(keys.deciding), strings.Join(outcomes, "; "), d.keysFlag(in))
	if !slices.ContainsFunc(keys.deciding, alwaysSentKey) {
		msg = fmt.Sprintf("the verdict turns on %s: %s when absent, but %s; pass the real value with %s",
			keyList(keys.deciding), known, strings.Join(outcomes, "; "), d.keysFlag(in))
	}
	return Finding{Kind: KindDependsOnContext, Severity: SeverityWarning, Message: msg}
}

// keysFlag says how to give the tool a request-time key: explain takes
// none (the message names the call), the main command takes --context.
func (d *diagnosis) keysFlag(in *policy.Input) string {
	how := "--context KEY=VALUE"
	if in.Request.Kind() == policy.KindService {
		how = "--source-arn and --source-account (or --context KEY=VALUE)"
	}
	if d.message != nil {
		how = "the main command's " + how + " (why-denied CALLER TARGET " + how + ")"
	}
	return how
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

// blockingFinding says why one blocking layer blocks, from its report.
func (d *diagnosis) blockingFinding(rep LayerReport, in *policy.Input, v *Verdict) Finding {
	f := Finding{Kind: KindBlocked, Severity: SeverityBlocking, Layer: rep.Layer}
	name := layerWords[rep.Layer]
	action := cmp.Or(rep.Action, in.Request.Action)
	if rep.Source == SourceMessage {
		f.Kind = KindMessageLayerNotRead
		f.Message = fmt.Sprintf("the message says the %s denied the call; the tool cannot read it, so AWS's message is the authority here: fix it there", name)
		if rep.Layer == policy.LayerSCP {
			f.Message += d.messageSCPWords(in)
			f.Message += ". SCPs are owned by " + d.managementWords() + ": ask its administrators which SCP applies to account " + v.Caller.Account
		}
		if rep.Layer == policy.LayerVPCEndpoint {
			f.Message += ": check the policy of the VPC endpoint the call went through (aws ec2 describe-vpc-endpoints)"
		}
		return f
	}
	if rep.Layer == policy.LayerSCP && rep.Source == SourceLocal && len(rep.Statements) > 0 {
		return d.scpFinding(f, rep, in)
	}
	if rep.Result == ResultDenies {
		f.Kind = KindExplicitDeny
		if len(rep.Statements) == 0 {
			// Only AWS's simulator saw this Deny: in a policy the tool could
			// not read, or in an SCP, whose documents it does not read.
			f.Message = fmt.Sprintf("AWS's policy simulator reports an explicit Deny in the %s for this call%s; the tool could not read the statement itself", name, d.simulatorSources())
			if d.simDenyInReadPolicy() {
				f.Message = fmt.Sprintf("AWS's policy simulator reports an explicit Deny in the %s for this call%s, which the evidence's copy of that policy does not hold: the evidence may be older than the account's policies, or a condition was judged on a value the evidence lacks", name, d.simulatorSources())
			}
			if rep.Layer == policy.LayerSCP {
				f.Message += ". SCPs are owned by " + d.managementWords() + ": ask its administrators which SCP applies to account " + v.Caller.Account + d.scpUnreadableWords()
			}
			return f
		}
		st := rep.Statements[0]
		f.Message = fmt.Sprintf("an explicit Deny in the %s %q, statement %s, matches %s, and a Deny wins over every Allow", name, st.Policy, st.Label(), action)
		if len(st.Reasons) > 0 {
			f.Message += ": " + strings.Join(st.Reasons, "; ")
		}
		if len(rep.Statements) > 1 {
			f.Message += fmt.Sprintf(" (%d Deny statements match)", len(rep.Statements))
		}
		if rep.Layer == policy.LayerSCP || rep.Layer == policy.LayerRCP {
			f.Message += ". Organization policies are owned by the management account: ask its administrators"
		}
		return f
	}
	switch {
	case rep.Layer == policy.LayerResource && d.unsignedToIAMURL():
		f.Message = "the function URL's auth type is AWS_IAM: it accepts only requests signed with AWS credentials (SigV4), so an anonymous request is refused whatever the resource-based policy says; sign the request with credentials the policies allow, or, if the URL is meant to be public, set its auth type to NONE (aws lambda update-function-url-config --auth-type NONE) and grant Principal \"*\""
	case rep.Layer == policy.LayerResource && v.Caller.Kind == policy.KindAnonymous:
		f.Message = fmt.Sprintf("no statement of the %s allows an anonymous caller (Principal \"*\") to call %s", name, action)
	case rep.Layer == policy.LayerResource && v.CrossAccount:
		f.Kind = KindCrossAccount
		f.Message = fmt.Sprintf("the call crosses accounts (%s -> %s), so the function's resource-based policy must also allow it, and no statement allows %s to call %s", v.Caller.Account, v.Target.Account, v.Caller.Principal, action)
	case rep.Layer == policy.LayerResource:
		f.Message = fmt.Sprintf("no statement of the %s allows %s to call %s", name, v.Caller.Principal, action)
	case rep.Layer == policy.LayerSessionPolicy && v.Caller.Kind == policy.KindFederatedUser && len(in.SessionPolicies) == 0:
		f.Message = "the federated user session was created without a session policy, so it has no permissions (GetFederationToken: \"If you do not pass a policy to this operation, the resulting temporary credentials have no effective permissions\"), except where a resource-based policy names the session itself"
	case rep.Source == SourceSimulator && len(rep.Statements) == 0:
		f.Message = fmt.Sprintf("AWS's policy simulator reports that no %s allows %s on %s", name, action, in.Request.Resource)
	default:
		f.Message = fmt.Sprintf("no %s allows %s on %s", name, action, in.Request.Resource)
	}
	if action != in.Request.Action && strings.EqualFold(action, actionInvoke) {
		f.Message += " (a function URL call needs lambda:InvokeFunction as well as lambda:InvokeFunctionUrl, since October 2025)"
	}
	if rep.Layer == policy.LayerIdentity && v.CrossAccount {
		f.Message += fmt.Sprintf("; the call crosses accounts (%s -> %s), so both sides must allow: the caller's identity policy as well as the function's resource policy", v.Caller.Account, v.Target.Account)
	}
	if rep.Layer == policy.LayerIdentity && len(in.Identity) == 0 {
		f.Message += " (the caller has no identity-based policies)"
	}
	if rep.Layer == policy.LayerPermissionsBoundary {
		if kind, entity, ok := arn.Entity(v.Caller.Entity); ok {
			f.Message += fmt.Sprintf("; the boundary is set on the %s (aws iam get-%s --%s-name %s shows it) and is usually managed by a platform or security team", kind, kind, kind, fixtext.Quote(entity))
		}
	}
	if rep.Layer == policy.LayerSCP && rep.Source == SourceSimulator && len(rep.Statements) == 0 {
		f.Message += "; SCPs are owned by " + d.managementWords() + ": ask its administrators which SCP applies to account " + v.Caller.Account + d.scpUnreadableWords()
	}
	if len(rep.Statements) > 0 {
		st := rep.Statements[0]
		if st.Status == StatusClosest && len(st.Reasons) > 0 {
			// The first reason only: the layer's statements carry them all.
			f.Message += fmt.Sprintf(". Closest: %q statement %s: %s", st.Policy, st.Label(), st.Reasons[0])
		}
	}
	return f
}

// Label names a statement of a policy by its index and Sid: "0 (AllowInvoke)".
func (st StatementReport) Label() string {
	if st.Sid != "" {
		return fmt.Sprintf("%d (%s)", st.Statement, st.Sid)
	}
	return fmt.Sprint(st.Statement)
}

// traceName names a statement of the engine's trace by its Sid, or its
// index.
func traceName(st policy.StatementTrace) string {
	if st.Sid != "" {
		return st.Sid
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
			out = append(out, Finding{Kind: KindServicePrincipalGrant, Severity: SeverityInfo, Layer: policy.LayerResource,
				Message: fmt.Sprintf("resource policy statement %s grants %s, a service principal: it does not apply to %s (%s)", traceName(st), strings.TrimPrefix(list(f.Values), "Service:"), article(res.Kind), req.Principal)})
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

// probeQualifiers stand for the qualified calls an alias or a version makes:
// a version number and an alias name no policy is likely to name.
var probeQualifiers = []string{"1", "why-denied-alias"}

// qualifiedCallWarning: an allowed unqualified call whose grant does not
// cover qualified calls (aliases, versions) is a deploy away from denial,
// e.g. when AutoPublishAlias is turned on.
func (d *diagnosis) qualifiedCallWarning(in *policy.Input, base *outcome, v *Verdict) *Finding {
	res := base.legs[0].res
	// Only where the identity policy is what allows: a function's resource
	// policy is per qualifier, and its fix is another add-permission.
	if v.Decision != policy.Allowed || !res.Layer(policy.LayerIdentity).Allows || res.Layer(policy.LayerResource).Grant != policy.MatchNone {
		return nil
	}
	unq, qual, ok := arn.Function(in.Request.Resource)
	if !ok || qual != "" {
		return nil
	}
	// The simulator was asked about this call only: where identity
	// policies are unreadable, a qualified call cannot be judged here.
	if slices.ContainsFunc(d.ev.Unreadable, func(u evidence.Unreadable) bool { return u.Layer == policy.LayerIdentity }) {
		return nil
	}
	for _, q := range probeQualifiers {
		alt := *in
		alt.Request.Resource = unq + ":" + q
		if r, blocked, _ := d.decide(&alt); r != policy.Allowed && r != DecisionUnknown {
			return &Finding{Kind: KindQualifiedCallsDenied, Severity: SeverityWarning, Layer: firstOr(blocked, policy.LayerIdentity),
				Message: fmt.Sprintf("this unqualified call is allowed, but a call to an alias or a version of the function (as with SAM's AutoPublishAlias) would be denied (%s): the identity policy's Resource does not cover qualified calls; %s:* covers every alias and version", r, unq)}
		}
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
// Allow suffices, no resource policy is needed. Only where it is true of
// the whole call: not under an explicit deny, and for a function URL call
// not unless every check is allowed by the identity side.
func notNeeded(base *outcome, v *Verdict) *Finding {
	res := base.legs[0].res
	if res.Kind == policy.KindService || res.Kind == policy.KindAnonymous || res.CrossAccount {
		return nil
	}
	identityAllowsAll := true
	for _, l := range base.legs {
		id, resource := l.outcome(policy.LayerIdentity), l.outcome(policy.LayerResource)
		identityAllowsAll = identityAllowsAll && id.Allows && !id.Denies && resource.Grant == policy.MatchNone
	}
	switch {
	case v.Decision == policy.Allowed && identityAllowsAll:
		return &Finding{Kind: KindResourcePolicyNotNeeded, Severity: SeverityInfo, Layer: policy.LayerResource,
			Message: "caller and function are in the same account, and an identity-based policy allows the call: no resource-based policy (lambda add-permission) is needed"}
	case v.Decision == policy.ImplicitDeny && slices.Contains(v.BlockedBy, policy.LayerIdentity):
		return &Finding{Kind: KindResourcePolicyNotNeeded, Severity: SeverityInfo, Layer: policy.LayerIdentity,
			Message: "caller and function are in the same account: an Allow in the caller's identity-based policy is enough; a resource-based policy is needed only for other accounts or AWS services"}
	}
	return nil
}

// grantKindFindings explain resource policy grants whose principal form
// decides the outcome: a grant to the role ARN is limited by the boundary
// and session policies where one to the session ARN is not; a grant to the
// account delegates to the account's identity policies.
func grantKindFindings(res *policy.Result, v *Verdict) []Finding {
	resource := res.Layer(policy.LayerResource)
	if resource == nil || !resource.Applies || res.Kind == policy.KindService {
		return nil
	}
	var out []Finding
	switch resource.Grant {
	case policy.MatchRole:
		for _, l := range []policy.Layer{policy.LayerPermissionsBoundary, policy.LayerSessionPolicy} {
			if slices.Contains(v.BlockedBy, l) {
				out = append(out, Finding{Kind: KindRoleGrantLimited, Severity: SeverityInfo, Layer: policy.LayerResource,
					Message: fmt.Sprintf("the resource policy names the role ARN, so its grant is limited by the %s; a grant that names the session ARN would not be (a session ARN names one session: for a Lambda function's role, the session is named after the function)", layerWords[l])})
			}
		}
	case policy.MatchAccount:
		if !res.CrossAccount && slices.Contains(v.BlockedBy, policy.LayerIdentity) {
			out = append(out, Finding{Kind: KindAccountGrant, Severity: SeverityInfo, Layer: policy.LayerResource,
				Message: "the resource policy names the account (its root or ID), not the caller: that delegates the decision to the account's identity policies and grants nothing by itself, so the caller's identity policy must allow the call"})
		}
	}
	return out
}

// simulatorSources names the policies the simulator reported as deciding.
func (d *diagnosis) simulatorSources() string {
	if d.sim == nil || len(d.sim.MatchedStatements) == 0 {
		return ""
	}
	var ids []string
	for _, m := range d.sim.MatchedStatements {
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
					if a, ok := arn.Parse(v); ok && a.Service == "s3" && a.Account == "" {
						s3Arn = true
					}
				}
			case "aws:sourceaccount", "aws:sourceowner":
				hasAccount = true
			}
		}
		switch {
		case !hasArn && !hasAccount:
			out = append(out, Finding{Kind: KindUnscopedServiceGrant, Severity: SeverityWarning, Layer: policy.LayerResource,
				Message: fmt.Sprintf("resource policy statement %s lets the service call the function on behalf of any resource in any account: add aws:SourceArn and aws:SourceAccount conditions (add-permission --source-arn --source-account)", traceName(st))})
		case s3Arn && !hasAccount:
			out = append(out, Finding{Kind: KindUnscopedServiceGrant, Severity: SeverityWarning, Layer: policy.LayerResource,
				Message: fmt.Sprintf("resource policy statement %s names the bucket but not its account: a bucket ARN carries no account, so add an aws:SourceAccount condition (add-permission --source-account)", traceName(st))})
		}
	}
	return out
}

// simDenyInReadPolicy reports whether a policy the simulator names as
// deciding is one the evidence holds whole.
func (d *diagnosis) simDenyInReadPolicy() bool {
	if d.sim == nil {
		return false
	}
	for _, m := range d.sim.MatchedStatements {
		for _, np := range d.ev.Caller.IdentityPolicies {
			if np.Name == m.SourcePolicyID || (np.ARN != "" && np.ARN == m.SourcePolicyID) {
				return true
			}
		}
	}
	return false
}
