package evidence

import (
	"strconv"
	"strings"
	"time"

	"github.com/why-denied/why-denied/policy"
)

// RequestContext builds the condition keys AWS would put in the request
// context ("AWS global condition context keys"), then lays the user's own
// --context values over them. Keys AWS would not send are left out:
// aws:SourceArn and aws:SourceAccount exist only when a service calls on
// behalf of a resource, so they come only from the user.
//
// aws:CurrentTime and aws:EpochTime are in every request: they are the
// moment the request is diagnosed for, request.at when the evidence names
// one (--at), else now.
func RequestContext(ev *Evidence, now time.Time) policy.Context {
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
		for k, v := range ev.Caller.Tags {
			set("aws:PrincipalTag/"+k, v)
		}
	}
	if a, ok := policy.ParseARN(ev.Request.Resource); ok {
		set("aws:ResourceAccount", a.Account)
		set("aws:RequestedRegion", a.Region)
	}
	set("aws:SecureTransport", "true")
	at := now
	if ev.Request.At != nil {
		at = *ev.Request.At
	}
	set("aws:CurrentTime", at.UTC().Format(time.RFC3339))
	set("aws:EpochTime", strconv.FormatInt(at.Unix(), 10))
	if strings.EqualFold(ev.Request.Action, "lambda:InvokeFunctionUrl") && ev.Target.FunctionURLAuthType != "" {
		// Function URL calls carry the URL's auth type
		// (add-permission --function-url-auth-type).
		set("lambda:FunctionUrlAuthType", ev.Target.FunctionURLAuthType)
	}
	for k, v := range ev.Request.Context {
		// The user's value replaces a derived one, whatever its case.
		for dk := range ctx {
			if strings.EqualFold(dk, k) {
				delete(ctx, dk)
			}
		}
		ctx[k] = v
	}
	return ctx
}
