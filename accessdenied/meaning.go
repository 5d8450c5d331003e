package accessdenied

import (
	"fmt"
	"maps"
	"slices"
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
	// NextSteps are commands to run next, most useful first. Every value
	// from the message in them is shell-quoted (fixtext.Quote).
	NextSteps []string `json:"nextSteps"`
	// Diagnosed is false when the account could not be read; Reason says why.
	Diagnosed bool   `json:"diagnosed"`
	Reason    string `json:"reason,omitempty"`
}

// Explain says what a parsed AccessDenied message means and what to run
// next, for when the account cannot be read.
func Explain(d *Denial) *Meaning {
	if d.Form != "" && d.Form != FormKMSEnvironment {
		return explainForm(d)
	}
	m := &Meaning{Message: d}
	g := governorOf(d)
	kind := "an implicit deny (nothing allows the call)"
	if d.Explicit {
		kind = "an explicit deny (a Deny statement matches the call; it wins over every Allow)"
	}
	caller := callerWords(d.Caller)
	resource := orWord(d.Resource, "a resource the message does not name")
	if d.Layer == "" {
		m.Summary = fmt.Sprintf("AWS denied %s to %s on %s with %s, without naming the policy type (older message format).", orWord(d.Action, "an action the message does not name"), caller, resource, kind)
	} else {
		m.Summary = fmt.Sprintf("AWS denied %s to %s on %s with %s in the %s.", orWord(d.Action, "an action the message does not name"), caller, resource, kind, d.PolicyType)
	}
	m.LookAt = lookAt(d, g)
	if d.Form == FormKMSEnvironment {
		m.Summary = "Lambda could not decrypt the function's environment variables: KMS denied the function's execution role kms:Decrypt on the key that encrypts them. " + m.Summary
		m.LookAt = "the KMS key that encrypts the function's environment variables: its key policy and grants must let the function's execution role call kms:Decrypt, and the role's identity policies must allow it too. A key that was disabled or deleted, or a role deleted and created again under the same name, also gives this error: updating the function's configuration makes Lambda create its grant again"
	}
	if d.PolicyARN != "" {
		m.Summary += " The denying policy is " + d.PolicyARN + "."
	}
	if d.AuthorizationID != "" {
		m.Summary += " AWS keeps the request's authorization details under authorization ID " + d.AuthorizationID + "."
	}
	m.Summary += " AWS names only one blocking layer; others may block too."
	if d.Redacted {
		m.Summary += " The message has redacted ARNs: fill in the real ones to run the commands below."
	}
	if d.CutOff {
		m.Summary += " The message looks cut off: " + missing(d) + "."
	}
	if d.Resource != "" && !g.function && d.Form == "" {
		m.Summary += " why-denied diagnoses calls to Lambda functions in full; for " + g.what + " it names the policy that governs it and the command that reads it."
	}
	m.NextSteps = nextSteps(d, g)
	return m
}

// callerWords names the caller in a sentence.
func callerWords(c string) string {
	switch {
	case c == "":
		return "a caller the message does not name"
	case isAnonymous(c):
		// AWS prints "User: anonymous" for an unsigned request: only a
		// resource-based policy that grants Principal "*" can allow it.
		return "an anonymous caller (an unsigned request, which only a resource-based policy granting Principal \"*\" can allow)"
	}
	return c
}

// missing says what a cut-off message does not name.
func missing(d *Denial) string {
	var m []string
	if d.Action == "" {
		m = append(m, "the action")
	}
	if d.Resource == "" {
		m = append(m, "the resource")
	} else if arn.CutOff(d.Resource) {
		m = append(m, "the end of the resource ARN")
	}
	if len(m) == 0 {
		return "the text after the resource"
	}
	return "it does not name " + strings.Join(m, " or ")
}

// lookAt names the policy to read first for the layer the message names.
func lookAt(d *Denial, g governor) string {
	callerAcct := accountOf(d.Caller)
	switch d.Layer {
	case policy.LayerIdentity:
		return "the identity-based policies (inline and managed) of the caller's role or user"
	case policy.LayerResource:
		return g.policy
	case policy.LayerPermissionsBoundary:
		return "the permissions boundary of the caller's role or user"
	case policy.LayerSessionPolicy:
		return "the session policy passed when the caller's session was created (AssumeRole, GetFederationToken)"
	case policy.LayerSCP:
		return "the service control policies of the caller's account" + inParens(callerAcct) + ", its OUs and the organization root"
	case policy.LayerRCP:
		// RCPs apply to the resource's account (Organizations User Guide,
		// "Resource control policies").
		owner := " (" + g.account + ")"
		if g.account == "" {
			owner = " (the account that owns " + g.what + "; its ARN does not name it)"
		}
		return "the resource control policies of the resource's account" + owner + ", its OUs and the organization root"
	case policy.LayerVPCEndpoint:
		return "the policy of the VPC endpoint the call went through"
	}
	if isAnonymous(d.Caller) {
		// An unsigned request has no identity policies, boundary or SCPs:
		// only a resource-based policy granting Principal "*" allows it.
		return g.policy + ": only a statement granting Principal \"*\" can allow an anonymous request"
	}
	return "every layer: the caller's identity policies and permissions boundary, " + g.policy + ", and the SCPs of the caller's account" + inParens(callerAcct)
}

func inParens(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// accountOf is the account of an ARN whose account is a real account ID.
func accountOf(s string) string {
	if a, ok := arn.Parse(s); ok && arn.IsAccountID(a.Account) {
		return a.Account
	}
	return ""
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
// the full diagnosis. Every value from the message goes through
// fixtext.Quote: a pasted message is text anyone could have written.
func nextSteps(d *Denial, g governor) []string {
	q := fixtext.Quote
	role, user := "", ""
	if r, ok := arn.SessionRole(d.Caller); ok {
		role = r
	} else if kind, name, ok := arn.Entity(d.Caller); ok {
		if kind == "role" {
			role = name
		} else {
			user = name
		}
	}
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
	if d.Form == FormKMSEnvironment {
		fn := "FUNCTION_NAME"
		if s := sessionName(d.Caller); s != "" && role != "" {
			// A function's execution role session is named after the
			// function.
			fn = s
		}
		steps = append(steps, "aws lambda get-function-configuration --function-name "+q(fn)+" --query '[KMSKeyArn,Role]' --output text")
		key := "KEY_ARN"
		if a, ok := arn.Parse(d.Resource); ok && a.Service == "kms" && !d.Redacted {
			key = d.Resource
		}
		steps = append(steps,
			"aws kms get-key-policy --key-id "+q(key)+" --policy-name default --output text",
			"aws kms list-grants --key-id "+q(key))
		if d.Layer == policy.LayerIdentity {
			identity()
		}
		return steps
	}
	switch d.Layer {
	case policy.LayerIdentity:
		identity()
	case "":
		identity()
		steps = append(steps, g.read...)
	case policy.LayerResource:
		steps = append(steps, g.read...)
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
		account, filter := accountOf(d.Caller), "SERVICE_CONTROL_POLICY"
		if d.Layer == policy.LayerRCP {
			account, filter = g.account, "RESOURCE_CONTROL_POLICY"
			if account == "" {
				account = "ACCOUNT_ID" // S3 ARNs do not name the bucket's account
			}
		}
		if account != "" {
			steps = append(steps,
				"aws organizations list-policies-for-target --target-id "+q(account)+" --filter "+filter+"   # from the management account",
				"aws organizations list-parents --child-id "+q(account)+"   # then list-policies-for-target --filter "+filter+" for each parent OU, and list-parents again up to the root (r-...), whose policies apply too")
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
	if d.AuthorizationID != "" {
		steps = append(steps, "open the console link in the message, or call IAM's GetRequestAuthorizationDetails API with authorization ID "+q(d.AuthorizationID)+", for every policy that took part")
	}
	// The simulator needs the role's ARN with its path, which a session ARN
	// (arn:aws:sts::A:assumed-role/NAME/SESSION) does not carry: look it up,
	// unless a CloudTrail record named it. Role and user ARNs carry it.
	entity, lookUp := "", ""
	switch {
	case d.Role != "":
		entity = q(d.Role)
	case role != "" && strings.Contains(d.Caller, ":assumed-role/"):
		entity = "ROLE_ARN"
		lookUp = "aws iam get-role --role-name " + q(role) + " --query Role.Arn   # the role ARN with its path, for the next command"
	case role != "", user != "":
		entity = q(d.Caller)
	}
	if entity != "" && d.Action != "" && strings.HasPrefix(d.Resource, "arn:") && !d.CutOff {
		if lookUp != "" {
			steps = append(steps, lookUp)
		}
		steps = append(steps, fmt.Sprintf("aws iam simulate-principal-policy --policy-source-arn %s --action-names %s --resource-arns %s", entity, q(d.Action), q(d.Resource)))
	}
	if g.function && d.Caller != "" && !isAnonymous(d.Caller) && d.Action != "" && !d.CutOff {
		unq, qual, _ := arn.Function(d.Resource)
		target := unq
		if qual != "" {
			target += ":" + qual
		}
		// The request context a CloudTrail record showed, so that the
		// diagnosis is of that request.
		var flags string
		for _, k := range slices.Sorted(maps.Keys(d.Context)) {
			for _, v := range d.Context[k] {
				flags += " --context " + q(k+"="+v)
			}
		}
		if d.EventTime != "" {
			flags += " --at " + q(d.EventTime)
		}
		steps = append(steps, fmt.Sprintf("why-denied --action %s%s %s %s   # with credentials that can read the account", q(d.Action), flags, q(d.Caller), q(target)))
	}
	return steps
}

// sessionName is the session name of an assumed-role ARN.
func sessionName(caller string) string {
	a, ok := arn.Parse(caller)
	if !ok || a.Service != "sts" {
		return ""
	}
	f := strings.Split(a.Resource, "/")
	if len(f) != 3 || f[0] != "assumed-role" {
		return ""
	}
	return f[2]
}

// CannotDiagnose says why the message alone does not name a call the tool
// can look up, or "" when it does.
func (d *Denial) CannotDiagnose() string {
	switch {
	case d.Form != "":
		return formReasons[d.Form]
	case d.Action == "":
		return "the message is cut off: it names no action (paste the whole message)"
	case (strings.HasPrefix(d.Resource, "arn:") && !arn.CutOff(d.Resource) || strings.HasPrefix(d.Resource, "role ")) && !governorOf(d).function:
		return "the resource is " + governorOf(d).what + ", not a Lambda function, which is all why-denied diagnoses"
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
	}
	if !governorOf(d).function {
		return "the resource is not a Lambda function, which is all why-denied diagnoses"
	}
	if !strings.HasPrefix(d.Caller, "arn:") && !strings.HasSuffix(d.Caller, ".amazonaws.com") {
		return "the caller " + d.Caller + " is not an ARN or a service principal the tool can look up"
	}
	if !strings.HasPrefix(strings.ToLower(d.Action), "lambda:") {
		return "the action " + d.Action + " is not a Lambda action, which is all why-denied diagnoses"
	}
	return ""
}
