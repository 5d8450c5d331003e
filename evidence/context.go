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
	ctx := policy.Context{}
	req := policy.Request{Principal: ev.Request.Caller}
	kind := req.Kind()
	set := func(k string, v ...string) { ctx[k] = v }

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
			merge(ctx, "aws:PrincipalTag/"+k, []string{ev.Caller.Tags[k]})
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
	user := policy.Context{}
	for _, k := range slices.Sorted(maps.Keys(ev.Request.Context)) {
		merge(user, k, ev.Request.Context[k])
	}
	for k, v := range user {
		for dk := range ctx {
			if strings.EqualFold(dk, k) {
				delete(ctx, dk)
			}
		}
		ctx[k] = v
	}
	return ctx
}

// Moment is the moment the evidence's call is diagnosed for: request.at
// when the evidence names one (--at), else now.
func (ev *Evidence) Moment(now time.Time) time.Time {
	if ev.Request.At != nil {
		return *ev.Request.At
	}
	return now
}

// merge adds values to the spelling of key ctx already holds, if any
// (condition keys are case-insensitive), keeping each value once.
func merge(ctx policy.Context, key string, values []string) {
	for k, old := range ctx {
		if strings.EqualFold(k, key) {
			for _, v := range values {
				if !slices.Contains(old, v) {
					old = append(old, v)
				}
			}
			ctx[k] = old
			return
		}
	}
	ctx[key] = slices.Clone(values)
}
