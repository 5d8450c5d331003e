package template

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/evidence"
)

// Pair is one call between the stack's resources: a caller (a function's
// logical ID, a service principal, or anonymous) and a target function
// with its qualifier.
type Pair struct {
	Caller    string `json:"caller"`
	Target    string `json:"target"`
	Qualifier string `json:"qualifier,omitempty"`
	// Via is the Lambda permission a service call was found from.
	Via string `json:"via,omitempty"`
	// Why says how the pair was found.
	Why string `json:"why,omitempty"`
	// Action is the action called; empty means lambda:InvokeFunction.
	Action string `json:"action,omitempty"`
	// Context are the request's condition keys (a service source's
	// aws:SourceArn and aws:SourceAccount).
	Context evidence.ContextValues `json:"context,omitempty"`
}

// InputError is a caller or target the template does not have.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Evidence builds the evidence of one call: the caller's role with every
// policy that applies to it, and the target's resource policy for the
// qualifier, as the stack will have them once deployed.
func (st *Stack) Evidence(p Pair, action string, ctx evidence.ContextValues) (*evidence.Evidence, error) {
	target := st.Functions[p.Target]
	if target == nil && strings.HasPrefix(p.Target, "arn:") {
		return st.outsideEvidence(p, action, ctx)
	}
	if target == nil {
		return nil, &InputError{Msg: fmt.Sprintf("TARGET %q is not a function of the template (functions: %s)", p.Target, strings.Join(slices.Sorted(maps.Keys(st.Functions)), ", "))}
	}
	resource := target.ARN
	if p.Qualifier != "" {
		resource += ":" + p.Qualifier
	}
	merged := evidence.ContextValues{}
	for k, v := range p.Context {
		merged[k] = v
	}
	for k, v := range ctx {
		merged[k] = v
	}
	ev := &evidence.Evidence{
		Version: evidence.Version,
		Request: evidence.Request{Action: action, Resource: resource, Context: merged},
		Target: evidence.Target{ARN: target.ARN, Account: st.Settings.Account,
			ResourcePolicy: st.ResourcePolicy(target, p.Qualifier)},
		SimulatorUnavailable: "before deploy: every layer is evaluated locally from the template",
		Notes:                []string{fmt.Sprintf("built from the template for account %s, region %s, stack %s", st.Settings.Account, st.Settings.Region, st.Settings.StackName)},
	}
	if len(merged) == 0 {
		ev.Request.Context = nil
	}
	if auth, ok := target.URLAuth[p.Qualifier]; ok {
		ev.Target.FunctionURLAuthType = auth
	} else {
		ev.Target.NoFunctionURL = true
	}
	if target.Unresolved != nil {
		ev.Notes = append(ev.Notes, fmt.Sprintf("the name of %s is not known before deploy: %s", target.ID, target.Unresolved))
	}
	if err := st.setCaller(ev, p); err != nil {
		return nil, err
	}
	return ev, nil
}

// setCaller fills the caller side: a function's execution role session,
// a role's session, a service principal or anonymous.
func (st *Stack) setCaller(ev *evidence.Evidence, p Pair) error {
	caller := st.Functions[p.Caller]
	role := st.Roles[p.Caller]
	switch {
	case caller == nil && role != nil:
		// A role of the stack assumed by a service (a ScheduleV2
		// schedule's role): the session name is the service's choice.
		ev.Caller.Account, ev.Caller.ARN = st.Settings.Account, role.ARN
		ev.Request.Caller = fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/<session>", st.r.partition(), st.Settings.Account, role.Name)
		ev.Caller.IdentityPolicies = append([]evidence.NamedPolicy{}, role.Identity...)
		ev.Caller.PermissionsBoundary = role.Boundary
		ev.Caller.SessionPolicies = []evidence.NamedPolicy{}
		ev.Unreadable = append(ev.Unreadable, role.Unreadable...)
	case caller != nil:
		ev.Caller.Account = st.Settings.Account
		ev.Caller.ARN = caller.RoleARN
		roleName := caller.RoleARN[strings.LastIndexByte(caller.RoleARN, '/')+1:]
		// A function calls with a session of its execution role named
		// after the function (Lambda: "execution role").
		ev.Request.Caller = fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", st.r.partition(), st.Settings.Account, roleName, caller.Name)
		if role := st.Roles[caller.RoleID]; role != nil {
			ev.Caller.IdentityPolicies = append([]evidence.NamedPolicy{}, role.Identity...)
			ev.Caller.PermissionsBoundary = role.Boundary
			ev.Unreadable = append(ev.Unreadable, role.Unreadable...)
		} else if caller.RoleUnresolved != nil {
			ev.Unreadable = append(ev.Unreadable, evidence.Unreadable{Layer: "identity",
				What: fmt.Sprintf("the policies of %s's role, given as %s", caller.ID, caller.RoleUnresolved), Action: "the role's value"})
		} else if out, ok := st.Settings.Outside.Roles[caller.RoleARN]; ok {
			// Read from the account (--profile): the role as IAM has it.
			if out.ARN != "" {
				ev.Caller.ARN = out.ARN
			}
			ev.Caller.IdentityPolicies = append([]evidence.NamedPolicy{}, out.Identity...)
			ev.Caller.PermissionsBoundary = out.Boundary
			ev.Unreadable = append(ev.Unreadable, out.Unreadable...)
		} else {
			why := "not in the template; --profile reads it from the account"
			if failed, ok := st.Settings.Outside.Failed[caller.RoleARN]; ok {
				why = "not in the template, and reading it failed: " + failed
			}
			ev.Unreadable = append(ev.Unreadable, evidence.Unreadable{Layer: "identity",
				What: fmt.Sprintf("the policies of role %s (given as %s's Role, %s)", caller.RoleARN, caller.ID, why), Action: "iam:GetRole"})
		}
		ev.Caller.SessionPolicies = []evidence.NamedPolicy{}
		if ev.Caller.IdentityPolicies == nil {
			ev.Caller.IdentityPolicies = []evidence.NamedPolicy{}
		}
		if caller.RoleARN == "" {
			return &InputError{Msg: fmt.Sprintf("the role of %s is not known before deploy", caller.ID)}
		}
	case p.Caller == "anonymous" || p.Caller == "*":
		ev.Request.Caller = "anonymous"
		ev.Caller.IdentityPolicies, ev.Caller.SessionPolicies = []evidence.NamedPolicy{}, []evidence.NamedPolicy{}
	case strings.HasSuffix(p.Caller, ".amazonaws.com"):
		ev.Request.Caller = p.Caller
		ev.Caller.IdentityPolicies, ev.Caller.SessionPolicies = []evidence.NamedPolicy{}, []evidence.NamedPolicy{}
	default:
		return &InputError{Msg: fmt.Sprintf("CALLER %q is not a function or role of the template, a service principal or anonymous (functions: %s)", p.Caller, strings.Join(slices.Sorted(maps.Keys(st.Functions)), ", "))}
	}
	return nil
}

// outsideEvidence is a call to a function outside the stack, by ARN: its
// resource policy is not in the template, so that layer is unknown (in
// one account the caller's identity Allow settles the call anyway).
func (st *Stack) outsideEvidence(p Pair, action string, ctx evidence.ContextValues) (*evidence.Evidence, error) {
	fn := strings.TrimPrefix(p.Target, "")
	base := fn
	if i := strings.Index(fn, ":function:"); i >= 0 {
		rest := fn[i+len(":function:"):]
		if name, _, ok := strings.Cut(rest, ":"); ok {
			base = fn[:i+len(":function:")] + name
		}
	} else {
		return nil, &InputError{Msg: fmt.Sprintf("TARGET %q is not a Lambda function ARN", p.Target)}
	}
	account := strings.Split(fn, ":")[4]
	ev := &evidence.Evidence{
		Version:              evidence.Version,
		Request:              evidence.Request{Action: action, Resource: fn, Context: ctx},
		Target:               evidence.Target{ARN: base, Account: account},
		SimulatorUnavailable: "before deploy: every layer is evaluated locally from the template",
		Unreadable:           []evidence.Unreadable{{Layer: "resource", What: "the resource policy of " + base + " (a function outside the template)", Action: "lambda:GetPolicy"}},
	}
	if len(ctx) == 0 {
		ev.Request.Context = nil
	}
	if err := st.setCaller(ev, p); err != nil {
		return nil, err
	}
	return ev, nil
}
