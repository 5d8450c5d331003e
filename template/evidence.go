package template

import (
	"fmt"
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
	if target == nil {
		return nil, &InputError{Msg: fmt.Sprintf("TARGET %q is not a function of the template (functions: %s)", p.Target, strings.Join(sortedKeys(st.Functions), ", "))}
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
	caller := st.Functions[p.Caller]
	switch {
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
		} else {
			ev.Unreadable = append(ev.Unreadable, evidence.Unreadable{Layer: "identity",
				What: fmt.Sprintf("the policies of role %s (given as %s's Role, not in the template)", caller.RoleARN, caller.ID), Action: "iam:GetRole"})
		}
		ev.Caller.SessionPolicies = []evidence.NamedPolicy{}
		if ev.Caller.IdentityPolicies == nil {
			ev.Caller.IdentityPolicies = []evidence.NamedPolicy{}
		}
		if caller.RoleARN == "" {
			return nil, &InputError{Msg: fmt.Sprintf("the role of %s is not known before deploy", caller.ID)}
		}
	case p.Caller == "anonymous" || p.Caller == "*":
		ev.Request.Caller = "anonymous"
		ev.Caller.IdentityPolicies, ev.Caller.SessionPolicies = []evidence.NamedPolicy{}, []evidence.NamedPolicy{}
	case strings.HasSuffix(p.Caller, ".amazonaws.com"):
		ev.Request.Caller = p.Caller
		ev.Caller.IdentityPolicies, ev.Caller.SessionPolicies = []evidence.NamedPolicy{}, []evidence.NamedPolicy{}
	default:
		return nil, &InputError{Msg: fmt.Sprintf("CALLER %q is not a function of the template nor a service principal (functions: %s)", p.Caller, strings.Join(sortedKeys(st.Functions), ", "))}
	}
	return ev, nil
}
