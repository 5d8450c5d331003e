package accessdenied

import (
	"slices"
	"strings"
	"testing"
)

func mustParse(t *testing.T, msg string) *Denial {
	t.Helper()
	d, err := ParseDenial(msg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// stepIndex returns the index of the first step containing s, or -1.
func stepIndex(steps []string, s string) int {
	return slices.IndexFunc(steps, func(step string) bool { return strings.Contains(step, s) })
}

// A session ARN does not carry its role's path, so the role ARN guessed
// from it (arn:aws:iam::A:role/NAME) is wrong for a role under
// /service-role/: the steps look the ARN up first and use it.
func TestNextStepsLookUpTheRoleARNOfASession(t *testing.T) {
	d := mustParse(t, "User: arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction because no identity-based policy allows the lambda:InvokeFunction action")
	steps := Explain(d).NextSteps
	getRole := stepIndex(steps, "aws iam get-role --role-name RequestRole --query Role.Arn")
	simulate := stepIndex(steps, "aws iam simulate-principal-policy")
	if getRole < 0 || simulate < 0 || getRole+1 != simulate {
		t.Fatalf("want get-role --query Role.Arn right before simulate-principal-policy:\n%s", strings.Join(steps, "\n"))
	}
	if !strings.Contains(steps[simulate], "--policy-source-arn ROLE_ARN ") {
		t.Errorf("simulate step %q should use the ROLE_ARN looked up, not a guessed ARN", steps[simulate])
	}
	if stepIndex(steps, "arn:aws:iam::111111111111:role/RequestRole") >= 0 {
		t.Errorf("a step still guesses the role ARN without its path:\n%s", strings.Join(steps, "\n"))
	}
}

// A role ARN in the message has its path: it is used as is.
func TestNextStepsUseARoleARNAsPrinted(t *testing.T) {
	d := mustParse(t, "User: arn:aws:iam::111111111111:role/service-role/RequestRole is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction because no identity-based policy allows the lambda:InvokeFunction action")
	steps := Explain(d).NextSteps
	if stepIndex(steps, "--policy-source-arn arn:aws:iam::111111111111:role/service-role/RequestRole ") < 0 {
		t.Errorf("want the printed role ARN in simulate-principal-policy:\n%s", strings.Join(steps, "\n"))
	}
}

// SCPs and RCPs attached to the OUs above the account and to the root
// apply too; list-policies-for-target on the account shows only its own.
func TestNextStepsWalkTheOrganization(t *testing.T) {
	for _, c := range []struct{ msg, account, filter string }{
		{"User: arn:aws:sts::111111111111:assumed-role/RequestRole/S is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:222222222222:function:F with an explicit deny in a service control policy",
			"111111111111", "SERVICE_CONTROL_POLICY"},
		{"User: arn:aws:sts::111111111111:assumed-role/RequestRole/S is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:222222222222:function:F with an explicit deny in a resource control policy",
			"222222222222", "RESOURCE_CONTROL_POLICY"},
	} {
		steps := Explain(mustParse(t, c.msg)).NextSteps
		own := stepIndex(steps, "aws organizations list-policies-for-target --target-id "+c.account+" --filter "+c.filter)
		parents := stepIndex(steps, "aws organizations list-parents --child-id "+c.account)
		if own < 0 || parents < 0 {
			t.Errorf("%s: want list-policies-for-target and list-parents for %s:\n%s", c.filter, c.account, strings.Join(steps, "\n"))
			continue
		}
		if !strings.Contains(steps[parents], "root") || !strings.Contains(steps[parents], "OU") {
			t.Errorf("list-parents step %q should say to repeat up to the root", steps[parents])
		}
	}
}

// "User: anonymous" is an unsigned request: there is no principal to look
// up or to diagnose.
func TestNextStepsForAnAnonymousCaller(t *testing.T) {
	d := mustParse(t, "User: anonymous is not authorized to perform: lambda:InvokeFunctionUrl on resource: arn:aws:lambda:us-east-1:111111111111:function:F because no resource-based policy allows the lambda:InvokeFunctionUrl action")
	if d.Caller != "anonymous" {
		t.Fatalf("caller %q", d.Caller)
	}
	m := Explain(d)
	if i := stepIndex(m.NextSteps, "why-denied"); i >= 0 {
		t.Errorf("step %q diagnoses the anonymous caller as a principal", m.NextSteps[i])
	}
	if stepIndex(m.NextSteps, "aws lambda get-policy --function-name arn:aws:lambda:us-east-1:111111111111:function:F") < 0 {
		t.Errorf("want the function's resource policy:\n%s", strings.Join(m.NextSteps, "\n"))
	}
	if !strings.Contains(m.Summary, "unsigned") {
		t.Errorf("summary %q should say the request was unsigned", m.Summary)
	}
}

// The denying policy's ARN names an IAM policy or an Organizations policy;
// each is read with its own command.
func TestNextStepsReadTheDenyingPolicy(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::111111111111:policy/DenyInvoke":                                         "aws iam get-policy --policy-arn arn:aws:iam::111111111111:policy/DenyInvoke",
		"arn:aws:organizations::999999999999:policy/o-abc123/service_control_policy/p-1a2b3c": "aws organizations describe-policy --policy-id p-1a2b3c",
	} {
		d := mustParse(t, "User: arn:aws:sts::111111111111:assumed-role/RequestRole/S is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:F with an explicit deny in a service control policy: "+arn)
		steps := Explain(d).NextSteps
		if stepIndex(steps, want) < 0 {
			t.Errorf("%s: want %q among:\n%s", arn, want, strings.Join(steps, "\n"))
		}
		if strings.Contains(arn, ":organizations:") && stepIndex(steps, "aws iam get-policy") >= 0 {
			t.Errorf("%s: an Organizations policy is not read with aws iam get-policy:\n%s", arn, strings.Join(steps, "\n"))
		}
	}
}
