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

// The advice for a resource-side denial names the policy that governs that
// resource and the command that reads it, not the function's resource
// policy (issue 11, part 4).
func TestAdviceFitsTheResource(t *testing.T) {
	const caller = "User: arn:aws:sts::111111111111:assumed-role/app-role/app is not authorized to perform: "
	for _, c := range []struct {
		name, msg, lookAt, step string
	}{
		{"layer", caller + "lambda:GetLayerVersion on resource: arn:aws:lambda:us-east-1:222222222222:layer:shared-utils:7 because no resource-based policy allows the lambda:GetLayerVersion action",
			"layer version policy", "aws lambda get-layer-version-policy --layer-name arn:aws:lambda:us-east-1:222222222222:layer:shared-utils --version-number 7 --region us-east-1"},
		{"kms key", caller + "kms:Decrypt on resource: arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab because no resource-based policy allows the kms:Decrypt action",
			"key policy", "aws kms get-key-policy --key-id arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab --policy-name default"},
		{"kms alias", caller + "kms:Encrypt on resource: arn:aws:kms:us-east-1:111111111111:alias/app with an explicit deny in a resource-based policy",
			"key policy", "aws kms describe-key --key-id arn:aws:kms:us-east-1:111111111111:alias/app --query KeyMetadata.Arn"},
		{"s3 object", caller + "s3:GetObject on resource: arn:aws:s3:::reports/q3.csv because no resource-based policy allows the s3:GetObject action",
			"bucket policy of reports", "aws s3api get-bucket-policy --bucket reports"},
		{"s3 access point", caller + "s3:GetObject on resource: arn:aws:s3:us-east-1:111111111111:accesspoint/ap1/object/q3.csv because no resource-based policy allows the s3:GetObject action",
			"access point policy of ap1", "aws s3control get-access-point-policy --account-id 111111111111 --name ap1 --region us-east-1"},
		{"trust policy", caller + "sts:AssumeRole on resource: arn:aws:iam::222222222222:role/deploy because no role trust policy allows the sts:AssumeRole action",
			"trust policy (AssumeRolePolicyDocument) of role deploy", "aws iam get-role --role-name deploy --query Role.AssumeRolePolicyDocument"},
		{"api gateway", `{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:111111111111:a1b2c3d4e5/prod/GET/orders with an explicit deny"}`,
			"API Gateway resource policy of REST API a1b2c3d4e5", "aws apigateway get-rest-api --rest-api-id a1b2c3d4e5 --region us-east-1 --query policy"},
		{"function", caller + "lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:F:live because no resource-based policy allows the lambda:InvokeFunction action",
			"the function's resource-based policy", "aws lambda get-policy --function-name arn:aws:lambda:us-east-1:111111111111:function:F --qualifier live"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := mustParse(t, c.msg)
			m := Explain(d)
			if !strings.Contains(m.LookAt, c.lookAt) {
				t.Errorf("look at %q, want it to name %q", m.LookAt, c.lookAt)
			}
			if stepIndex(m.NextSteps, c.step) < 0 {
				t.Errorf("want %q among:\n%s", c.step, strings.Join(m.NextSteps, "\n"))
			}
			if c.name == "function" {
				return
			}
			if strings.Contains(m.LookAt, "function's") {
				t.Errorf("look at %q points at a function's policy", m.LookAt)
			}
			if !strings.Contains(m.Summary, "why-denied diagnoses calls to Lambda functions") {
				t.Errorf("summary %q should say the full diagnosis is for Lambda functions", m.Summary)
			}
			if why := d.CannotDiagnose(); !strings.Contains(why, "not a Lambda function") {
				t.Errorf("CannotDiagnose %q", why)
			}
		})
	}
}

// The old wording names no layer: the advice lists every layer, with the
// resource's own policy, not Lambda's, for sts:AssumeRole.
func TestOldWordingListsTheResourcesOwnLayers(t *testing.T) {
	d := mustParse(t, "An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:iam::111111111111:user/dev is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/deploy")
	m := Explain(d)
	if strings.Contains(m.LookAt, "function") || !strings.Contains(m.LookAt, "trust policy") {
		t.Errorf("look at %q, want the role's trust policy and no function", m.LookAt)
	}
	if stepIndex(m.NextSteps, "aws iam get-role --role-name deploy --query Role.AssumeRolePolicyDocument") < 0 {
		t.Errorf("no trust policy read among:\n%s", strings.Join(m.NextSteps, "\n"))
	}
	if stepIndex(m.NextSteps, "aws lambda") >= 0 {
		t.Errorf("a Lambda command for sts:AssumeRole:\n%s", strings.Join(m.NextSteps, "\n"))
	}
}

// RCPs are the resource's account's: the advice names that account, or
// says the ARN does not name it (S3).
func TestRCPAdviceNamesTheResourcesAccount(t *testing.T) {
	for msg, want := range map[string]string{
		"User: arn:aws:sts::111111111111:assumed-role/R/S is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:222222222222:function:F with an explicit deny in a resource control policy": "resource's account (222222222222)",
		"User: arn:aws:iam::111111111111:user/analyst is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::reports/q3.csv with an explicit deny in a resource control policy":                                   "the account that owns S3 bucket reports; its ARN does not name it",
	} {
		if m := Explain(mustParse(t, msg)); !strings.Contains(m.LookAt, want) {
			t.Errorf("look at %q, want %q", m.LookAt, want)
		}
	}
}

// The summary names caller, action and resource, in the old wording too
// (issue 11, part 5).
func TestSummaryNamesTheCall(t *testing.T) {
	for _, msg := range []string{
		"User: arn:aws:sts::111111111111:assumed-role/R/S is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:F",
		"User: arn:aws:sts::111111111111:assumed-role/R/S is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:F with an explicit deny",
		"User: arn:aws:sts::111111111111:assumed-role/R/S is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:F because no identity-based policy allows the lambda:InvokeFunction action",
	} {
		s := Explain(mustParse(t, msg)).Summary
		for _, want := range []string{"arn:aws:sts::111111111111:assumed-role/R/S", "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:111111111111:function:F"} {
			if !strings.Contains(s, want) {
				t.Errorf("summary %q does not name %s", s, want)
			}
		}
	}
}

// A pasted message is text anyone could write: every value from it in a
// printed command is shell-quoted.
func TestNextStepsQuoteEveryValue(t *testing.T) {
	d := mustParse(t, "User: arn:aws:sts::111111111111:assumed-role/R$(id)/S is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:F;reboot because no identity-based policy allows the lambda:InvokeFunction action")
	steps := Explain(d).NextSteps
	if stepIndex(steps, "--role-name 'R$(id)'") < 0 || stepIndex(steps, "'arn:aws:lambda:us-east-1:111111111111:function:F;reboot'") < 0 {
		t.Errorf("values not quoted:\n%s", strings.Join(steps, "\n"))
	}
	for _, s := range steps {
		if strings.Contains(s, " R$(id)") || strings.Contains(s, " arn:aws:lambda:us-east-1:111111111111:function:F;reboot") {
			t.Errorf("unquoted value in %q", s)
		}
	}
}

// The other denial texts are explained on their own terms, with what to
// check next (issue 11, part 2).
func TestOtherFormsAreExplained(t *testing.T) {
	for _, c := range []struct{ msg, summary, step string }{
		{`{"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}`,
			"both lambda:InvokeFunctionUrl and lambda:InvokeFunction", "aws lambda get-function-url-config"},
		{"Not authorized to invoke function [arn:aws:lambda:us-west-2:111111111111:function:Loader]",
			"s3.amazonaws.com", "aws lambda get-policy --function-name arn:aws:lambda:us-west-2:111111111111:function:Loader"},
		{"Lambda invocation failed with status: 403. Lambda request id: 1a2b",
			"apigateway.amazonaws.com", "why-denied apigateway.amazonaws.com"},
		{`{"Message":"User is not authorized to access this resource with an explicit deny"}`,
			"authorizer denied", "aws apigateway get-authorizers"},
		{"An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: 4GIOHlTk",
			"encoded", "aws sts decode-authorization-message --encoded-message 4GIOHlTk"},
		{"AccessDeniedException:", "names no caller, action or resource", "aws cloudtrail lookup-events"},
		{"Lambda was unable to decrypt the environment variables because KMS access was denied. Please check the function's KMS key settings.",
			"kms:Decrypt", "aws kms get-key-policy --key-id KEY_ARN"},
	} {
		d := mustParse(t, c.msg)
		m := Explain(d)
		if !strings.Contains(m.Summary, c.summary) {
			t.Errorf("%s: summary %q, want %q", d.Form, m.Summary, c.summary)
		}
		if stepIndex(m.NextSteps, c.step) < 0 {
			t.Errorf("%s: want %q among:\n%s", d.Form, c.step, strings.Join(m.NextSteps, "\n"))
		}
		if d.CannotDiagnose() == "" {
			t.Errorf("%s: no reason it cannot be diagnosed", d.Form)
		}
	}
}

// The main command suggested for a CloudTrail record carries the request
// context and time the record showed.
func TestNextStepsCarryTheRecordsContext(t *testing.T) {
	d := mustParse(t, `{"eventTime":"2026-11-30T08:05:00Z","eventSource":"lambda.amazonaws.com","eventName":"Invoke","awsRegion":"us-east-1","sourceIPAddress":"10.0.1.25","vpcEndpointId":"vpce-0a1b","errorCode":"AccessDenied","errorMessage":"Access Denied","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111111111111:assumed-role/R/S"},"requestParameters":{"functionName":"arn:aws:lambda:us-east-1:111111111111:function:F"}}`)
	steps := Explain(d).NextSteps
	want := "why-denied --action lambda:InvokeFunction --context aws:RequestedRegion=us-east-1 --context aws:SourceIp=10.0.1.25 --context aws:SourceVpce=vpce-0a1b --at 2026-11-30T08:05:00Z arn:aws:sts::111111111111:assumed-role/R/S arn:aws:lambda:us-east-1:111111111111:function:F"
	if stepIndex(steps, want) < 0 {
		t.Errorf("want %q among:\n%s", want, strings.Join(steps, "\n"))
	}
}
