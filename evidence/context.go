package evidence

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/policy"
)

// RequestContext builds the condition keys AWS would put in the request
// context ("AWS global condition context keys"), then lays the user's own
// --context values over them. Keys AWS would not send are left out:
// aws:SourceArn and aws:SourceAccount exist only when a service calls on
// behalf of a resource, so they come only from the user.
//
// aws:CurrentTime and aws:EpochTime are in every request: they are at, the
// moment the request is diagnosed for (see Moment).
func RequestContext(ev *Evidence, at time.Time) policy.Context {
	b := newContextBuilder()
	req := policy.Request{Principal: ev.Request.Caller}
	kind := req.Kind()
	set := func(k string, v ...string) { b.set(k, v) }

	switch kind {
	case policy.KindService:
		set("aws:PrincipalIsAWSService", "true")
		set("aws:PrincipalServiceName", ev.Request.Caller)
	case policy.KindSession, policy.KindUser, policy.KindRole, policy.KindFederatedUser:
		set("aws:PrincipalIsAWSService", "false")
		// A call made directly with the principal's credentials, not by a
		// service on its behalf.
		set("aws:ViaAWSService", "false")
		set("aws:PrincipalAccount", req.PrincipalAccount())
		// For a role session, aws:PrincipalArn is the role's ARN (with its
		// path), not the session's.
		if ev.Caller.ARN != "" {
			set("aws:PrincipalArn", ev.Caller.ARN)
		} else {
			set("aws:PrincipalArn", ev.Request.Caller)
		}
		switch kind {
		case policy.KindSession:
			set("aws:PrincipalType", "AssumedRole")
		case policy.KindUser:
			set("aws:PrincipalType", "User")
			if i := strings.LastIndexByte(ev.Request.Caller, '/'); i >= 0 {
				set("aws:username", ev.Request.Caller[i+1:])
			}
		case policy.KindFederatedUser:
			set("aws:PrincipalType", "FederatedUser")
		}
		// Tag keys are case-insensitive in condition keys: two tags whose
		// keys differ only in case are one multivalued key.
		for _, k := range slices.Sorted(maps.Keys(ev.Caller.Tags)) {
			b.merge("aws:PrincipalTag/"+k, []string{ev.Caller.Tags[k]})
		}
	}
	if kind != policy.KindService && kind != policy.KindAnonymous {
		// The organization of the principal's account, as
		// DescribeOrganization and ListParents read it ("aws:PrincipalOrgID",
		// "aws:PrincipalOrgPaths": present when the principal's account is
		// a member of an organization).
		if org := ev.Organization; org != nil && org.ID != "" && !org.None {
			set("aws:PrincipalOrgID", org.ID)
			if p := org.OrgPath(); p != "" {
				set("aws:PrincipalOrgPaths", p)
			}
		}
	}
	if ev.Target.OrgID != "" && !ev.Target.NoOrganization {
		// "aws:ResourceOrgID": the organization of the account that owns
		// the resource.
		set("aws:ResourceOrgID", ev.Target.OrgID)
		if ev.Target.OrgPath != "" {
			set("aws:ResourceOrgPaths", ev.Target.OrgPath)
		}
	}
	if src, ok := sourceAccount(ev); ok && src == ev.Target.Account && ev.Target.OrgID != "" && !ev.Target.NoOrganization {
		// "aws:SourceOrgID": the organization of the account the source
		// resource belongs to; a source in the function's own account
		// (--source-account) is in the function's organization.
		set("aws:SourceOrgID", ev.Target.OrgID)
		if ev.Target.OrgPath != "" {
			set("aws:SourceOrgPaths", ev.Target.OrgPath)
		}
	}
	if a, ok := arn.Parse(ev.Request.Resource); ok {
		set("aws:ResourceAccount", a.Account)
		set("aws:RequestedRegion", a.Region)
	}
	set("aws:SecureTransport", "true")
	set("aws:CurrentTime", at.UTC().Format(time.RFC3339))
	set("aws:EpochTime", strconv.FormatInt(at.Unix(), 10))
	if strings.EqualFold(ev.Request.Action, "lambda:InvokeFunctionUrl") && ev.Target.FunctionURLAuthType != "" {
		// Function URL calls carry the URL's auth type
		// (add-permission --function-url-auth-type).
		set("lambda:FunctionUrlAuthType", ev.Target.FunctionURLAuthType)
	}
	// The user's value replaces a derived one, whatever its case; two
	// spellings of one key given by the user are one key with the values
	// of both, the same on every run.
	user := newContextBuilder()
	for _, k := range slices.Sorted(maps.Keys(ev.Request.Context)) {
		user.merge(k, ev.Request.Context[k])
	}
	for k, v := range user.ctx {
		b.set(k, v)
	}
	return b.ctx
}

// sourceAccount is the aws:SourceAccount the user gave, if one.
func sourceAccount(ev *Evidence) (string, bool) {
	for k, v := range ev.Request.Context {
		if strings.EqualFold(k, "aws:SourceAccount") && len(v) == 1 {
			return v[0], true
		}
	}
	return "", false
}

// AbsentKeys are the organization keys the evidence proves absent from the
// request: DescribeOrganization answered that the account is in no
// organization, so AWS sends no aws:PrincipalOrgID (or ResourceOrgID, or
// SourceOrgID for a source in that account). A policy that conditions on
// them then has a definite answer.
func AbsentKeys(ev *Evidence) []string {
	var out []string
	req := policy.Request{Principal: ev.Request.Caller}
	if kind := req.Kind(); kind != policy.KindService && kind != policy.KindAnonymous && ev.Organization != nil && ev.Organization.None {
		out = append(out, "aws:PrincipalOrgID", "aws:PrincipalOrgPaths")
	}
	if ev.Target.NoOrganization {
		out = append(out, "aws:ResourceOrgID", "aws:ResourceOrgPaths")
		if src, ok := sourceAccount(ev); ok && src == ev.Target.Account {
			out = append(out, "aws:SourceOrgID", "aws:SourceOrgPaths")
		}
	}
	return out
}

// Moment is the moment the evidence's call is diagnosed for: request.at
// when the evidence names one (--at), else now.
func (ev *Evidence) Moment(now time.Time) time.Time {
	if ev.Request.At != nil {
		return *ev.Request.At
	}
	return now
}

// contextBuilder builds a request context keeping one spelling per key:
// condition keys are case-insensitive.
type contextBuilder struct {
	ctx      policy.Context
	spelling map[string]string // lower-case key -> the spelling in ctx
}

func newContextBuilder() *contextBuilder {
	return &contextBuilder{ctx: policy.Context{}, spelling: map[string]string{}}
}

// set gives key its values, replacing any spelling of it.
func (b *contextBuilder) set(key string, values []string) {
	lk := strings.ToLower(key)
	if old, ok := b.spelling[lk]; ok {
		delete(b.ctx, old)
	}
	b.spelling[lk] = key
	b.ctx[key] = values
}

// merge adds values to the spelling of key the context already holds, if
// any, keeping each value once.
func (b *contextBuilder) merge(key string, values []string) {
	old, ok := b.spelling[strings.ToLower(key)]
	if !ok {
		b.set(key, slices.Clone(values))
		return
	}
	have := b.ctx[old]
	seen := make(map[string]bool, len(have)+len(values))
	for _, v := range have {
		seen[v] = true
	}
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			have = append(have, v)
		}
	}
	b.ctx[old] = have
}
