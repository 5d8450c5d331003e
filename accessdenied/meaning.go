package accessdenied

import (
	"fmt"
	"strings"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/fixtext"
	"github.com/why-denied/why-denied/policy"
)

// Meaning is what an AccessDenied message says, in words, without access to
// the account: the layer to look at and the commands that show it.
type Meaning struct {
	Message *Denial `json:"message"`
	// Summary explains the message in a sentence or two.
	Summary string `json:"summary"`
	// LookAt names the policy to read first.
	LookAt string `json:"lookAt"`
	// NextSteps are commands to run next, most useful first.
	NextSteps []string `json:"nextSteps"`
	// Diagnosed is false when the account could not be read; Reason says why.
	Diagnosed bool   `json:"diagnosed"`
	Reason    string `json:"reason,omitempty"`
}

var layerLookAt = map[policy.Layer]string{
	policy.LayerIdentity:            "the identity-based policies (inline and managed) of the caller's role or user",
	policy.LayerResource:            "the function's resource-based policy (for the qualifier called)",
	policy.LayerPermissionsBoundary: "the permissions boundary of the caller's role or user",
	policy.LayerSessionPolicy:       "the session policy passed when the caller's session was created (AssumeRole, GetFederationToken)",
	policy.LayerSCP:                 "the service control policies of the caller's account, its OUs and the organization root",
	policy.LayerRCP:                 "the resource control policies of the function's account, its OUs and the organization root",
	policy.LayerVPCEndpoint:         "the policy of the VPC endpoint the call went through",
}

// Explain says what a parsed AccessDenied message means and what to run
// next, for when the account cannot be read.
func Explain(d *Denial) *Meaning {
	m := &Meaning{Message: d}
	kind := "an implicit deny (nothing allows the call)"
	if d.Explicit {
		kind = "an explicit deny (a Deny statement matches the call; it wins over every Allow)"
	}
	caller := orWord(d.Caller, "the caller")
	if isAnonymous(d.Caller) {
		// AWS prints "User: anonymous" for an unsigned request: only a
		// resource-based policy that grants Principal "*" can allow it.
		caller = "an anonymous caller (an unsigned request, which only a resource-based policy granting Principal \"*\" can allow)"
	}
	layer := d.Layer
	if layer == "" {
		m.Summary = fmt.Sprintf("AWS denied %s to %s with %s, without naming the policy type (older message format).", orWord(d.Action, "the action"), caller, kind)
		m.LookAt = "every layer: identity policies, permissions boundary, the function's resource policy, SCPs"
	} else {
		m.Summary = fmt.Sprintf("AWS denied %s to %s on %s with %s in the %s.", orWord(d.Action, "the action"), caller, orWord(d.Resource, "the resource"), kind, d.PolicyType)
		m.LookAt = layerLookAt[layer]
	}
	if d.PolicyARN != "" {
		m.Summary += " The denying policy is " + d.PolicyARN + "."
	}
	m.Summary += " AWS names only one blocking layer; others may block too."
	if d.Redacted {
		m.Summary += " The message has redacted ARNs: fill in the real ones to run the commands below."
	}
	m.NextSteps = nextSteps(d)
	return m
}

// isAnonymous reports whether the message's caller is "anonymous", AWS's
// word for an unsigned request: no principal to look up or to diagnose.
func isAnonymous(caller string) bool {
	return strings.EqualFold(caller, "anonymous")
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// nextSteps lists the commands that show the layer the message names, then
// the full diagnosis. Every value taken from the message goes through
// fixtext.Quote: whoever wrote the message (or named the role in it) chose
// those characters, and the user pastes these lines into a shell.
func nextSteps(d *Denial) []string {
	role, user := "", ""
	if a, ok := arn.Parse(d.Caller); ok {
		switch {
		case strings.HasPrefix(a.Resource, "assumed-role/"):
			role = strings.SplitN(strings.TrimPrefix(a.Resource, "assumed-role/"), "/", 2)[0]
		case strings.HasPrefix(a.Resource, "role/"):
			role = a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]
		case strings.HasPrefix(a.Resource, "user/"):
			user = a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]
		}
	}
	fn, qual := "", ""
	if unq, q, ok := arn.Function(d.Resource); ok {
		fn, qual = unq, q
	}
	q := fixtext.Quote
	var steps []string
	identity := func() {
		switch {
		case role != "":
			steps = append(steps,
				"aws iam list-role-policies --role-name "+q(role),
				"aws iam list-attached-role-policies --role-name "+q(role),
				"aws iam get-role-policy --role-name "+q(role)+" --policy-name POLICY_NAME")
		case user != "":
			steps = append(steps,
				"aws iam list-user-policies --user-name "+q(user),
				"aws iam list-attached-user-policies --user-name "+q(user),
				"aws iam list-groups-for-user --user-name "+q(user))
		}
	}
	switch d.Layer {
	case policy.LayerIdentity, "":
		identity()
	case policy.LayerResource:
		if fn != "" {
			s := "aws lambda get-policy --function-name " + q(fn)
			if qual != "" {
				s += " --qualifier " + q(qual)
			}
			steps = append(steps, s)
		}
	case policy.LayerPermissionsBoundary:
		if role != "" {
			steps = append(steps, "aws iam get-role --role-name "+q(role)+" --query Role.PermissionsBoundary")
		}
		if user != "" {
			steps = append(steps, "aws iam get-user --user-name "+q(user)+" --query User.PermissionsBoundary")
		}
	case policy.LayerSCP, policy.LayerRCP:
		// SCPs apply to the caller's account, RCPs to the resource's. Both
		// are inherited: those of every OU above the account and of the
		// root apply too, and list-policies-for-target shows only the
		// policies attached to the target itself.
		governed, filter := d.Caller, "SERVICE_CONTROL_POLICY"
		if d.Layer == policy.LayerRCP {
			governed, filter = d.Resource, "RESOURCE_CONTROL_POLICY"
		}
		if a, ok := arn.Parse(governed); ok && a.Account != "" {
			steps = append(steps,
				"aws organizations list-policies-for-target --target-id "+q(a.Account)+" --filter "+filter+"   # from the management account",
				"aws organizations list-parents --child-id "+q(a.Account)+"   # then list-policies-for-target --filter "+filter+" for each parent OU, and list-parents again up to the root (r-...), whose policies apply too")
		}
	case policy.LayerSessionPolicy:
		steps = append(steps, "check the Policy and PolicyArns parameters of the AssumeRole (or GetFederationToken) call that created the session")
	}
	switch a, _ := arn.Parse(d.PolicyARN); {
	case a.Service == "organizations" && strings.Contains(a.Resource, "/p-"):
		// An SCP or RCP: arn:aws:organizations::MGMT:policy/o-ORG/TYPE/p-ID.
		steps = append(steps, "aws organizations describe-policy --policy-id "+q(a.Resource[strings.LastIndexByte(a.Resource, '/')+1:])+"   # from the management account")
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "policy/"):
		steps = append(steps, "aws iam get-policy --policy-arn "+q(d.PolicyARN)+"   # then get-policy-version with its DefaultVersionId")
	}
	// The simulator needs the role's ARN with its path, which a session ARN
	// (arn:aws:sts::A:assumed-role/NAME/SESSION) does not carry: look it up.
	// Role and user ARNs carry it.
	entity, lookUp := "", ""
	switch {
	case role != "" && strings.Contains(d.Caller, ":assumed-role/"):
		entity = "ROLE_ARN"
		lookUp = "aws iam get-role --role-name " + q(role) + " --query Role.Arn   # the role ARN with its path, for the next command"
	case role != "", user != "":
		entity = q(d.Caller)
	}
	if entity != "" && d.Action != "" && d.Resource != "" {
		if lookUp != "" {
			steps = append(steps, lookUp)
		}
		steps = append(steps, fmt.Sprintf("aws iam simulate-principal-policy --policy-source-arn %s --action-names %s --resource-arns %s", entity, q(d.Action), q(d.Resource)))
	}
	if d.Caller != "" && !isAnonymous(d.Caller) && fn != "" {
		target := fn
		if qual != "" {
			target += ":" + qual
		}
		steps = append(steps, fmt.Sprintf("why-denied --action %s %s %s   # with credentials that can read the account", q(d.Action), q(d.Caller), q(target)))
	}
	return steps
}

// CannotDiagnose says why the message alone does not name a call the tool
// can look up, or "" when it does.
func (d *Denial) CannotDiagnose() string {
	switch {
	case d.Caller == "":
		return "the message does not name the caller"
	case isAnonymous(d.Caller):
		// AWS's word for an unsigned request: no principal to look up.
		return "the caller is anonymous"
	case d.Redacted:
		return "the message's ARNs are redacted"
	case d.Resource == "":
		return "the message does not name the resource"
	case arn.CutOff(d.Resource):
		return "the resource ARN looks cut off (a wrapped paste?)"
	case !strings.HasPrefix(d.Resource, "arn:") || !strings.Contains(d.Resource, ":lambda:"):
		return "the resource is not a Lambda function, which is all why-denied diagnoses"
	}
	return ""
}
